// Generated from src/cli/runner.ts by scripts/build_js.ts (sha256 561c82c26d09a614b03d4409bc6c6e1708d520e1eff357a099c8d876f0d37b78): do not edit; `deno task build:js` writes it.
var codeBase = (function () {
    const root = new URL("../..", import.meta.url);
    return root.protocol === "file:"
        ? decodeURIComponent(root.pathname).replace(/\/$/, "")
        : undefined;
});
var isCodeFile = (function (base, path) {
    return TOP_FILES.some(((name) => path === `${base}/${name}`)) ||
        (path.startsWith(`${base}/src/`) && /\.(ts|py|json)$/.test(path));
});
var codeStamp = (function (base) {
    const parts = [];
    const stamp = ((path) => {
        try {
            const info = Deno.statSync(path);
            parts.push(`${path}:${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`);
        }
        catch {
            parts.push(`${path}:-`);
        }
    });
    const walk = ((dir) => {
        stamp(dir);
        for (const entry of Deno.readDirSync(dir)) {
            const path = `${dir}/${entry.name}`;
            if (entry.isDirectory)
                walk(path);
            else if (isCodeFile(base, path))
                stamp(path);
        }
    });
    parts.push(`${base}:${folderIdentity(base)}`);
    try {
        walk(`${base}/src`);
    }
    catch {
        parts.push("unreadable");
    }
    for (const name of TOP_FILES)
        stamp(`${base}/${name}`);
    return parts.join(",");
});
var foldersUnder = (function (dir) {
    const out = [dir];
    try {
        for (const entry of Deno.readDirSync(dir)) {
            if (entry.isDirectory)
                out.push(...foldersUnder(`${dir}/${entry.name}`));
        }
    }
    catch {
    }
    return out;
});
var foldersStamp = (function (folders) {
    return folders.map(((path) => {
        try {
            const info = Deno.statSync(path);
            return `${info.dev}:${info.ino}:${info.mtime?.getTime()}`;
        }
        catch {
            return "-";
        }
    })).join(",");
});
var folderIdentity = (function (path) {
    try {
        return inodeOf(Deno.statSync(path));
    }
    catch {
        return "-";
    }
});
var codeWatch = (function () {
    const base = codeBase();
    if (base === undefined)
        return { changed: (() => false), restamp() { }, close() { } };
    const stamp = codeStamp(base);
    const src = `${base}/src`;
    const folders = [base, ...foldersUnder(src)];
    const folderStamp = foldersStamp(folders);
    const watchers = [];
    try {
        watchers.push(Deno.watchFs(src, { recursive: true }));
        watchers.push(Deno.watchFs(base, { recursive: false }));
    }
    catch {
        for (const watcher of watchers)
            watcher.close();
        return { changed: (() => codeStamp(base) !== stamp), restamp() { }, close() { } };
    }
    let changed = codeStamp(base) !== stamp;
    const counts = ((path) => path === src || path.startsWith(`${src}/`) || isCodeFile(base, path));
    for (const watcher of watchers) {
        (async () => {
            try {
                for await (const event of watcher) {
                    if (event.kind !== "access" && event.paths.some(counts))
                        changed = true;
                }
            }
            catch {
            }
        })();
    }
    return {
        changed: (() => changed ||= foldersStamp(folders) !== folderStamp),
        restamp() {
            changed ||= codeStamp(base) !== stamp;
        },
        close() {
            for (const watcher of watchers) {
                try {
                    watcher.close();
                }
                catch {
                }
            }
        },
    };
});
var writer = (function (conn) {
    let chain = Promise.resolve();
    return {
        send(reply) {
            const bytes = encoder.encode(JSON.stringify(reply) + "\n");
            chain = chain.then((async () => {
                for (let done = 0; done < bytes.length;)
                    done += await conn.write(bytes.subarray(done));
            })).catch((() => { }));
        },
        flushed: (() => chain),
    };
});
var writeKey = (function (file) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const temp = `${file}.${crypto.randomUUID()}`;
    Deno.writeFileSync(temp, keyRecord(key), { createNew: true, mode: 0o600 });
    Deno.renameSync(temp, file);
    return key;
});
var wellFormed = (function (request) {
    const strings = ((values) => values.every(((v) => typeof v === "string")));
    return Array.isArray(request.args) && strings(request.args) &&
        typeof request.cwd === "string" && request.cwd.startsWith("/") &&
        typeof request.env === "object" && request.env !== null &&
        strings(Object.values(request.env)) && typeof request.errIsTerminal === "boolean";
});
var identified = (function (request) {
    return Number.isSafeInteger(request.pid) && request.pid > 0 &&
        Number.isSafeInteger(request.umask) && request.umask >= 0 &&
        request.umask <= 0o777;
});
export var serveRunner = (async function (options) {
    if (Deno.build.os !== "linux") {
        throw new PermissionError("The runner needs Linux: its socket is an abstract one", {
            hint: "capibara run works without it",
        });
    }
    if (!forbidCoreDumps()) {
        throw new PermissionError("The runner cannot show its witnesses: it needs Deno's FFI permission, and a core size " +
            "limit it may lower", { hint: "Run it with -A, as the installed command does; capibara run works without it" });
    }
    const env = Deno.env.toObject();
    ensureFolder(runnerFolder());
    const address = runnerAddress(env);
    const socket = `@${address.slice(1)}`;
    if (await runnerAnswers(env)) {
        throw new PermissionError(`A runner already listens at ${socket}`, {
            hint: "capibara runner status shows it; capibara runner stop ends it (another user's " +
                "process holding that name keeps a runner from starting: it cannot serve you)",
        });
    }
    let listener;
    try {
        listener = Deno.listen({ transport: "unix", path: address });
    }
    catch (error) {
        throw new PermissionError(`Cannot listen at ${socket}: ${error.message}`, {
            hint: "capibara runner status shows whether a runner already listens",
        });
    }
    const keyFile = runnerKeyFile(env);
    const key = writeKey(keyFile);
    const written = Deno.lstatSync(keyFile);
    const removeKey = (() => {
        try {
            const now = Deno.lstatSync(keyFile);
            if (now.ino === written.ino && now.dev === written.dev)
                Deno.removeSync(keyFile);
        }
        catch {
        }
    });
    const codeChanges = codeWatch();
    prestarts.nextAfterRun = true;
    const started = performance.now();
    const status = { served: 0, declined: 0 };
    let strangers = 0;
    const inFlight = new Set();
    let stopping = false;
    let idle;
    const pending = new Set();
    const keyHolders = new WeakSet();
    const helloNonces = new Set();
    const dropConnection = ((conn) => {
        pending.delete(conn);
        try {
            conn.close();
        }
        catch {
        }
    });
    const stop = (() => {
        if (stopping)
            return;
        stopping = true;
        removeKey();
        try {
            Deno.removeSync(runnerFile(env, "hit"));
        }
        catch {
        }
        try {
            listener.close();
        }
        catch {
        }
        for (const conn of [...pending])
            dropConnection(conn);
    });
    const rearm = (() => {
        clearTimeout(idle);
        idle = setTimeout(stop, options.idleSeconds * 1000);
    });
    rearm();
    try {
        Deno.removeSync(runnerFile(env, "starting"));
    }
    catch {
    }
    const onSignal = (() => stop());
    Deno.addSignalListener("SIGTERM", onSignal);
    Deno.addSignalListener("SIGINT", onSignal);
    options.onListen?.(socket);
    const serve = (async (conn) => {
        const out = writer(conn);
        const limit = { max: HELLO_BYTES };
        const incoming = lines(conn, limit);
        if (pending.size >= MAX_PENDING) {
            const unproved = [...pending].find(((waiting) => !keyHolders.has(waiting)));
            dropConnection(unproved ?? pending.values().next().value);
        }
        pending.add(conn);
        const deadline = setTimeout((() => dropConnection(conn)), 5000);
        const helloDeadline = setTimeout((() => {
            if (pending.size >= MAX_PENDING / 2)
                dropConnection(conn);
        }), HELLO_MS);
        let helloNonce;
        let running = false;
        let witness;
        try {
            const first = await incoming.next();
            if (first.done)
                return;
            let hello;
            try {
                hello = JSON.parse(first.value);
            }
            catch {
                return;
            }
            if (typeof hello !== "object" || hello === null || !("hello" in hello) ||
                hello.v !== RUNNER_PROTOCOL || typeof hello.hello !== "string" ||
                typeof hello.key !== "string" ||
                !sameProof(hello.key, await proof(key, `hello:${hello.hello}`)) ||
                helloNonces.has(hello.hello))
                return;
            clearTimeout(helloDeadline);
            helloNonce = hello.hello;
            helloNonces.add(helloNonce);
            keyHolders.add(conn);
            limit.max = HANDSHAKE_BYTES;
            witness = connectionWitness(hello.hello);
            if (!witness)
                return;
            const mine = nonce();
            out.send({ nonce: mine, proof: await proof(key, `runner:${hello.hello}:${mine}`) });
            const nextSigned = (async () => {
                const line = await incoming.next();
                if (line.done)
                    return undefined;
                const signed = JSON.parse(line.value);
                if (!("body" in signed) || typeof signed.body !== "string" ||
                    typeof signed.proof !== "string" || stopping ||
                    !sameProof(signed.proof, await proof(key, `client:${hello.hello}:${mine}:${signed.body}`))) {
                    return undefined;
                }
                return JSON.parse(signed.body);
            });
            const marking = peerMark(key, address, mine);
            const nonces = `${hello.hello}:${mine}`;
            const expecting = proof(witness.bytes, `client-seen:${nonces}`);
            expecting.catch((() => { }));
            const signed = await nextSigned();
            if (!signed)
                return;
            let request = signed;
            pending.delete(conn);
            clearTimeout(deadline);
            if (!("kind" in request))
                return;
            const decline = ((why) => {
                status.declined++;
                out.send({ decline: why });
            });
            if (!identified(request))
                return;
            const mark = await marking;
            const foreign = foreignPeer(request.pid, { mark, umask: request.umask });
            if (foreign !== undefined)
                return decline(foreign);
            const sawIt = request.kind === "sealed" && typeof request.seen === "string" &&
                sameProof(request.seen, await expecting);
            witness.close();
            if (!sawIt || request.kind !== "sealed") {
                return decline("it could not see the runner's open files (a Landlock domain, or another security " +
                    "module's ptrace rule, may confine it)");
            }
            const theirs = readWitness(request.pid);
            if (!theirs)
                return decline("the runner could not see its open files");
            const proving = proof(theirs, `runner-seen:${nonces}`);
            const opened = await unseal(theirs, nonces, request.sealed);
            let inner;
            try {
                inner = opened === undefined ? undefined : JSON.parse(opened);
            }
            catch {
            }
            if (typeof inner !== "object" || inner === null || !("kind" in inner) ||
                inner.kind === "sealed" || !identified(inner) || inner.pid !== request.pid ||
                inner.umask !== request.umask)
                return decline("a malformed request");
            request = inner;
            const seen = { seen: await proving };
            if (request.kind === "status") {
                const report = {
                    pid: Deno.pid,
                    socket,
                    key: keyFile,
                    uptime: Math.round((performance.now() - started) / 1000),
                    served: status.served,
                    declined: status.declined,
                    prestart: { ...prestarts.stats },
                    idleSeconds: options.idleSeconds,
                };
                out.send({ status: report, ...seen });
                return;
            }
            if (request.kind === "stop") {
                out.send({ ok: true, ...seen });
                stop();
                return;
            }
            if (request.kind !== "run")
                return;
            rearm();
            if (!wellFormed(request))
                return decline("a malformed request");
            const differs = processVariableDiffering(request.env, env);
            if (differs !== undefined) {
                decline(`${differs} differs from the runner's`);
                if (++strangers >= STRANGERS_BEFORE_STOP)
                    stop();
                return;
            }
            strangers = 0;
            const relative = PATH_VARIABLES.find(((name) => {
                const value = request.env[name];
                return value !== undefined && value !== "" && !value.startsWith("/");
            }));
            if (relative !== undefined)
                return decline(`${relative} is a relative path`);
            if (codeChanges.changed()) {
                decline("its code changed since it started");
                stop();
                return;
            }
            const parsed = parseRunArgs(request.args.slice(1));
            if (request.args[0] !== "run" || !parsed)
                return decline("the full parser handles these");
            if (!parsed.options.sandbox)
                return decline("--no-sandbox runs in the command's process");
            status.served++;
            out.send({ run: true, ...seen });
            running = true;
            const io = {
                out: ((line) => out.send({ o: line })),
                err: ((line) => out.send({ e: line })),
                errIsTerminal: request.errIsTerminal,
                env: request.env,
                cwd: request.cwd,
                stdin: (() => Promise.resolve("")),
            };
            const controller = new AbortController();
            let received;
            const interrupt = ((name) => {
                received ??= name;
                controller.abort(new DOMException(`Interrupted by ${name}`, "AbortError"));
            });
            const listening = (async () => {
                try {
                    for await (const line of incoming) {
                        const message = JSON.parse(line);
                        if ("signal" in message && message.signal in SIGNAL_EXIT_CODES) {
                            interrupt(message.signal);
                        }
                    }
                }
                catch {
                }
                interrupt("SIGINT");
            })();
            const interruption = (() => ({
                signal: controller.signal,
                get received() {
                    return received;
                },
                [Symbol.dispose]() { },
            }));
            const code = await runAction(parsed.prompt, parsed.options, io, {
                interruption,
                prestart: true,
            });
            out.send({ x: code });
            await out.flushed();
            conn.closeWrite?.();
            void listening;
            codeChanges.restamp();
        }
        catch (error) {
            if (running) {
                out.send({ e: `error[InternalError]: the runner: ${String(error)}` });
                out.send({ x: 1 });
            }
        }
        finally {
            witness?.close();
            if (helloNonce !== undefined)
                helloNonces.delete(helloNonce);
            pending.delete(conn);
            clearTimeout(deadline);
            clearTimeout(helloDeadline);
            await out.flushed();
            try {
                conn.close();
            }
            catch {
            }
        }
    });
    try {
        for await (const conn of listener) {
            const served = serve(conn).finally((() => inFlight.delete(served)));
            inFlight.add(served);
        }
    }
    catch (error) {
        if (!stopping)
            throw error;
    }
    finally {
        stop();
        codeChanges.close();
        clearTimeout(idle);
        Deno.removeSignalListener("SIGTERM", onSignal);
        Deno.removeSignalListener("SIGINT", onSignal);
        await Promise.all(inFlight);
        await prestarts.dispose();
    }
});
var control = (async function (kind) {
    const runner = await connectRunner(Deno.env.toObject());
    if (!runner)
        return undefined;
    if ("unlike" in runner)
        return { decline: runner.unlike };
    const restoreName = wearMark(runner.mark);
    try {
        if (!restoreName)
            return undefined;
        const answer = await runner.ask({ kind, pid: Deno.pid, umask: Deno.umask() });
        if ("declined" in answer)
            return { decline: answer.declined };
        return "reply" in answer ? answer.reply : undefined;
    }
    catch {
        return undefined;
    }
    finally {
        restoreName?.();
        try {
            runner.conn.close();
        }
        catch {
        }
    }
});
var parseIdle = (function (value) {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 604_800) {
        throw new ValidationError(`Invalid --idle "${value}": expected whole seconds from 1 to 604800`, {
            hint: "See capibara runner --help",
        });
    }
    return n;
});
export var runnerCommand = (function (setExit) {
    const runner = new Command("runner")
        .description("Keep a resident runner for this user: `capibara run` hands it its request, and a cache " +
        "hit then costs little more than the script (no Deno start, sandboxes set up ahead)")
        .addHelpText("after", `
Examples:
  capibara runner start           start it in the background (it exits after 15 idle minutes)
  capibara run "…" --context …    now served by the runner when it can (CAPIBARA_RUNNER=0: never;
                                  a second hit within a minute starts one; in CI only with
                                  CAPIBARA_RUNNER=1)
  capibara runner status --json   its pid, socket, runs served and sandboxes set up ahead
  capibara runner stop`);
    runner.command("start")
        .addHelpText("after", `
Examples:
  capibara runner start         start one now (a second hit within a minute starts one anyway)
  capibara runner start --idle 3600 --json`)
        .description("start the runner in the background, if none runs")
        .option("--idle <seconds>", "exit after this long without a request", String(DEFAULT_IDLE_SECONDS))
        .option("--json", "machine-readable output")
        .action((async (options) => {
        try {
            const idle = parseIdle(options.idle);
            const env = Deno.env.toObject();
            ensureFolder(runnerFolder());
            const socket = `@${runnerAddress(env).slice(1)}`;
            const report = ((started, pid) => {
                if (options.json)
                    printJson({ running: true, started, socket, pid });
                else {
                    console.log(started
                        ? `runner started (pid ${pid}, ${socket})`
                        : `a runner already listens at ${socket}`);
                }
            });
            const already = await control("status");
            if (already && "status" in already)
                return report(false, already.status.pid);
            const child = spawnRunner(idle);
            for (let i = 0; i < 200; i++) {
                const reply = await control("status");
                if (reply && "status" in reply)
                    return report(true, reply.status.pid);
                const ended = await Promise.race([
                    child.status.then((() => true)),
                    new Promise(((resolve) => setTimeout((() => resolve(false)), 50))),
                ]);
                if (ended)
                    break;
            }
            throw new PermissionError("The runner did not start", {
                hint: "Run it in the foreground to see why: capibara runner serve",
            });
        }
        catch (error) {
            setExit(reportError(error, options.json ?? false));
        }
    }));
    runner.command("serve")
        .addHelpText("after", `
Examples:
  capibara runner serve         in the foreground, e.g. under a process supervisor
  capibara runner serve --idle 600`)
        .description("run the runner in the foreground (what start runs in the background)")
        .option("--idle <seconds>", "exit after this long without a request", String(DEFAULT_IDLE_SECONDS))
        .action((async (options) => {
        try {
            await serveRunner({
                idleSeconds: parseIdle(options.idle),
                onListen: ((socket) => console.error(`runner listening at ${socket} (pid ${Deno.pid})`)),
            });
        }
        catch (error) {
            setExit(reportError(error, false));
        }
    }));
    runner.command("status")
        .addHelpText("after", `
Examples:
  capibara runner status        whether one listens, and the runs it served or declined
  capibara runner status --json`)
        .description("whether a runner listens, and what it did")
        .option("--json", "machine-readable output")
        .action((async (options) => {
        const reply = await control("status");
        const status = reply && "status" in reply ? reply.status : undefined;
        const declined = reply && "decline" in reply ? reply.decline : undefined;
        if (options.json) {
            printJson(status
                ? { running: true, ...status }
                : declined
                    ? { running: true, serves: false, why: declined }
                    : { running: false });
            return;
        }
        if (declined) {
            console.log(`a runner listens, but serves no process like this one: ${declined}`);
            return;
        }
        if (!status) {
            console.log("no runner: capibara run runs in its own process (capibara runner start)");
            return;
        }
        console.log(`runner pid ${status.pid}, up ${status.uptime} s, at ${status.socket}`);
        console.log(`runs served ${status.served}, declined ${status.declined} (run by the command itself)`);
        const p = status.prestart;
        console.log(`sandboxes set up ahead: ${p.started}, used ${p.used}, thrown away ${p.discarded}`);
        console.log(`exits after ${status.idleSeconds} s without a request`);
    }));
    runner.command("stop")
        .addHelpText("after", `
Examples:
  capibara runner stop          stop it (the next hits run by themselves)
  capibara runner stop --json`)
        .description("stop the runner (runs under way finish first)")
        .option("--json", "machine-readable output")
        .action((async (options) => {
        const env = Deno.env.toObject();
        for (let i = 0; i < 200 && startUnderWay(env); i++) {
            await new Promise(((resolve) => setTimeout(resolve, 50)));
        }
        const reply = await control("stop");
        const stopped = reply !== undefined && "ok" in reply;
        if (stopped) {
            for (let i = 0; i < 600 && await runnerAnswers(Deno.env.toObject()); i++) {
                await new Promise(((resolve) => setTimeout(resolve, 50)));
            }
        }
        const declined = reply && "decline" in reply ? reply.decline : undefined;
        if (options.json)
            printJson(declined ? { stopped, why: declined } : { stopped });
        else if (declined) {
            console.log(`the runner takes no orders from a process like this one: ${declined}`);
        }
        else
            console.log(stopped ? "runner stopped" : "no runner was running");
    }));
    return runner;
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { inodeOf } from "../_fs.js";
import { PermissionError, ValidationError } from "../errors.js";
import { prestarts } from "../run/prestart.js";
import { parseRunArgs, runAction } from "./_fast_run.js";
import { DEFAULT_IDLE_SECONDS, ensureFolder, spawnRunner, startUnderWay } from "./_runner_start.js";
import { connectionWitness, connectRunner, forbidCoreDumps, foreignPeer, HANDSHAKE_BYTES, keyRecord, lines, nonce, PATH_VARIABLES, peerMark, processVariableDiffering, proof, readWitness, RUNNER_PROTOCOL, runnerAddress, runnerAnswers, runnerFile, runnerFolder, runnerKeyFile, sameProof, unseal, wearMark, } from "./_runner_socket.js";
import { printJson, reportError, SIGNAL_EXIT_CODES, } from "./output.js";
const MAX_PENDING = 64;
const HELLO_BYTES = 4096;
const HELLO_MS = 1000;
const encoder = new TextEncoder();
;
const TOP_FILES = ["main.ts", "cli.ts", "deno.json"];
;
;
;
;
;
;
;
;
;
;
export const STRANGERS_BEFORE_STOP = 3;
;
;
;
;
