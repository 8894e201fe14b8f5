// Generated from src/exec.ts by scripts/build_js.ts (sha256 2c1312cb6953740ba0113c49f9ae9f56ffada8e6afe4f0bd09b31d7423f0f00f): do not edit; `deno task build:js` writes it.
var killGroup = (function (pid) {
    try {
        Deno.kill(-pid, "SIGKILL");
    }
    catch {
        try {
            Deno.kill(pid, "SIGKILL");
        }
        catch {
        }
    }
});
var signed = (function (file) {
    try {
        const bytes = Deno.readFileSync(file);
        return bytes.byteLength === 1 && bytes[0] === GATE_PASSED;
    }
    catch {
        return false;
    }
});
var spawn = (function (spec, stdin) {
    return new Deno.Command(spec.program, {
        args: spec.args,
        cwd: spec.cwd,
        env: spec.env,
        clearEnv: true,
        stdin,
        stdout: "piped",
        stderr: "piped",
        detached: Deno.build.os !== "windows",
    }).spawn();
});
export var execCommand = (async function (spec, options) {
    const child = spawn(spec, "null");
    options.onSpawn?.(child.pid);
    return await supervise(child, options);
});
export var holdCommand = (function (spec, signFile) {
    const child = spawn(spec, "piped");
    child.unref();
    let waiting = true;
    let used = false;
    const ended = child.status.then((() => {
        waiting = false;
    }));
    return {
        pid: child.pid,
        get waiting() {
            return waiting && !used;
        },
        async release(options) {
            if (used)
                throw new Error("a held command is released once");
            used = true;
            child.ref();
            const result = supervise(child, options, signFile ?? true);
            const gate = child.stdin.getWriter();
            await gate.write(new Uint8Array([10])).catch((() => { }));
            await gate.close().catch((() => { }));
            return await result;
        },
        async discard() {
            if (used)
                return;
            used = true;
            child.ref();
            killGroup(child.pid);
            await child.stdin.close().catch((() => { }));
            await Promise.all([child.stdout.cancel(), child.stderr.cancel()]).catch((() => { }));
            await ended;
        },
    };
});
var supervise = (async function (child, options, gated = false) {
    const started = performance.now();
    let gatePassed = false;
    const maxBytes = options.maxOutputBytes ?? Infinity;
    let timedOut = false;
    let outputTruncated = false;
    let cancelled = false;
    let total = 0;
    const kill = (() => killGroup(child.pid));
    const cancelTimer = onTimeout(options.timeoutMs, (() => {
        timedOut = true;
        kill();
    }));
    const onAbort = (() => {
        cancelled = true;
        kill();
    });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted)
        onAbort();
    async function collect(stream, onChunkGiven, gate = false) {
        const onChunk = onChunkGiven &&
            ((chunk) => {
                try {
                    const returned = onChunkGiven(chunk);
                    if (returned instanceof Promise)
                        returned.catch((() => { }));
                }
                catch {
                }
            });
        const chunks = [];
        for await (let chunk of stream) {
            if (gate && !gatePassed) {
                const at = chunk.indexOf(GATE_PASSED);
                if (at >= 0) {
                    gatePassed = true;
                    const rest = new Uint8Array(chunk.byteLength - 1);
                    rest.set(chunk.subarray(0, at));
                    rest.set(chunk.subarray(at + 1), at);
                    chunk = rest;
                }
            }
            if (outputTruncated || chunk.byteLength === 0)
                continue;
            const room = maxBytes - total;
            if (chunk.byteLength > room) {
                chunks.push(chunk.subarray(0, Math.max(0, room)));
                onChunk?.(chunk.subarray(0, Math.max(0, room)));
                total = maxBytes;
                outputTruncated = true;
                kill();
                continue;
            }
            total += chunk.byteLength;
            chunks.push(chunk);
            onChunk?.(chunk);
        }
        return new TextDecoder().decode(concatBytes(chunks));
    }
    try {
        const out = collect(child.stdout);
        const err = collect(child.stderr, options.onStderr, gated === true);
        const status = await child.status;
        if (typeof gated === "string")
            gatePassed = signed(gated);
        killGroup(child.pid);
        const [stdout, stderr] = await Promise.all([out, err]);
        return {
            code: status.code,
            signal: status.signal,
            stdout,
            stderr,
            timedOut,
            outputTruncated,
            cancelled,
            durationMs: performance.now() - started,
            ...gated ? { gatePassed } : {},
        };
    }
    finally {
        cancelTimer();
        options.signal?.removeEventListener("abort", onAbort);
    }
});
import { onTimeout } from "./_timer.js";
import { concatBytes } from "./_body.js";
export const GATE_PASSED = 0x06;
;
;
;
;
;
;
