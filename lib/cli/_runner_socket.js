// Generated from src/cli/_runner_socket.ts by scripts/build_js.ts (sha256 8eacd6c1a8f374e9d6504cbbbbdb34726f2f212c7cc262ede45d45012fd298bd): do not edit; `deno task build:js` writes it.
export var readByTheProcess = (function (name) {
    return PROCESS_VARIABLES.includes(name) || /_proxy$/i.test(name) ||
        /^(DENO_|SSL_|LD_|LC_|NODE_)/i.test(name) || name.startsWith("NPM_CONFIG_");
});
export var processVariableDiffering = (function (a, b) {
    for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (readByTheProcess(name) && a[name] !== b[name])
            return name;
    }
    return undefined;
});
var runnerName = (function (env) {
    const text = `${RUNNER_PROTOCOL}\0${new URL("../..", import.meta.url).href}\0${runnerFolder()}\0${env.CAPIBARA_RUNNER_NAME ?? ""}`;
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash.toString(16).padStart(8, "0");
});
export var runnerAddress = (function (env) {
    return `\0capibara-runner-${Deno.uid() ?? "user"}-${runnerName(env)}`;
});
export var runnerAnswers = (async function (env) {
    try {
        (await Deno.connect({ transport: "unix", path: runnerAddress(env) })).close();
        return true;
    }
    catch {
        return false;
    }
});
export var runnerFile = (function (env, kind) {
    return `${runnerFolder()}/runner-${runnerName(env)}.${kind}`;
});
export var runnerKeyFile = (function (env) {
    return runnerFile(env, "key");
});
export var runnerSetting = (function (env) {
    const value = (env.CAPIBARA_RUNNER ?? "").trim().toLowerCase();
    if (["0", "false", "off", "no"].includes(value))
        return "off";
    if (["1", "true", "on", "yes"].includes(value))
        return "on";
    return "auto";
});
export var processStart = (function (pid) {
    const stat = procText(`/proc/${pid}/stat`);
    if (stat === null)
        return undefined;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X")
        return undefined;
    return fields[19];
});
export var keyRecord = (function (key, pid = Deno.pid) {
    const trailer = new TextEncoder().encode(`${pid} ${processStart(pid) ?? ""}\n`);
    const record = new Uint8Array(key.length + trailer.length);
    record.set(key);
    record.set(trailer, key.length);
    return record;
});
export var readRunnerKey = (function (env) {
    if (!privateFolder(runnerFolder()))
        return undefined;
    try {
        const record = readKeyFile(runnerKeyFile(env));
        if (!record || record.length <= 32)
            return undefined;
        const match = /^(\d+) (\d+)\n$/.exec(new TextDecoder().decode(record.subarray(32)));
        if (!match)
            return undefined;
        const pid = Number(match[1]);
        const start = match[2];
        if (processStart(pid) !== start)
            return undefined;
        const own = ownState();
        const unlike = foreignPeer(pid, undefined, own);
        if (unlike !== undefined)
            return { unlike };
        return { key: record.slice(0, 32), pid, start, record, own };
    }
    catch {
        return undefined;
    }
});
var sameKey = (function (env, record) {
    const now = readKeyFile(runnerKeyFile(env));
    return now !== undefined && now.length === record.length &&
        now.every(((byte, i) => byte === record[i]));
});
export var proof = (async function (key, text) {
    const signed = await crypto.subtle.sign("HMAC", await hmacKey(key), new TextEncoder().encode(text));
    return new Uint8Array(signed).toBase64();
});
export var hmacKey = (function (key) {
    let imported = HMAC_KEYS.get(key);
    if (!imported) {
        imported = crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        HMAC_KEYS.set(key, imported);
    }
    return imported;
});
export var sameProof = (function (a, b) {
    if (a.length !== b.length)
        return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++)
        diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
});
export var nonce = (function () {
    return crypto.getRandomValues(new Uint8Array(16)).toBase64();
});
export var lines = (async function* (conn, max = 16 * 1024 * 1024) {
    const limit = typeof max === "number" ? { max } : max;
    const decoder = new TextDecoder();
    const chunk = new Uint8Array(64 * 1024);
    let parts = [];
    let size = 0;
    for (;;) {
        const read = await conn.read(chunk);
        if (read === null)
            return;
        let data = chunk.subarray(0, read);
        let newline;
        while ((newline = data.indexOf(10)) >= 0) {
            const tail = data.subarray(0, newline);
            if (size + tail.length > limit.max)
                throw new Error("line too long");
            let line = tail;
            if (parts.length > 0) {
                line = new Uint8Array(size + tail.length);
                let at = 0;
                for (const part of [...parts, tail]) {
                    line.set(part, at);
                    at += part.length;
                }
                parts = [];
                size = 0;
            }
            yield decoder.decode(line);
            data = data.subarray(newline + 1);
        }
        if (data.length > 0) {
            parts.push(data.slice());
            size += data.length;
        }
        if (size > limit.max)
            throw new Error("line too long");
    }
});
export var socketCalls = (function () {
    if (socketCallsMemo !== undefined)
        return socketCallsMemo;
    socketCallsMemo = null;
    const numbers = SYSCALLS[Deno.build.arch];
    if (Deno.build.os !== "linux" || !numbers)
        return null;
    for (const name of ["libc.so.6", `libc.musl-${Deno.build.arch}.so.1`]) {
        let syscall;
        try {
            syscall = Deno.dlopen(name, {
                syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
            }).symbols.syscall;
        }
        catch {
            continue;
        }
        const call = ((number, ...args) => {
            const raw = args.map(((arg) => {
                if (typeof arg === "bigint")
                    return arg;
                void arg.buffer;
                return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(arg)));
            }));
            while (raw.length < 5)
                raw.push(0n);
            const result = Number(syscall(BigInt(number), ...raw));
            kept.args = args;
            return result;
        });
        socketCallsMemo = {
            getsockopt: ((fd, level, option, value, length) => call(numbers.getsockopt, BigInt(fd), BigInt(level), BigInt(option), value, length)),
            getpeername: ((fd, address, length) => call(numbers.getpeername, BigInt(fd), address, length)),
            open: ((path, flags) => call(numbers.openat, AT_FDCWD, path, BigInt(flags))),
            read: ((fd, buffer) => call(numbers.read, BigInt(fd), buffer, BigInt(buffer.length))),
            close: ((fd) => call(numbers.close, BigInt(fd))),
            coreLimit: ((set, old) => call(numbers.prlimit64, 0n, RLIMIT_CORE, set ?? 0n, old ?? 0n)),
            memfd: ((name) => call(numbers.memfd_create, new TextEncoder().encode(`${name}\0`), 1n)),
        };
        break;
    }
    return socketCallsMemo;
});
export var procText = (function (path) {
    const calls = socketCalls();
    const byDeno = (() => {
        try {
            return Deno.readTextFileSync(path);
        }
        catch {
            return null;
        }
    });
    if (!calls)
        return byDeno();
    const fd = calls.open(new TextEncoder().encode(`${path}\0`), OPEN_READ);
    if (fd < 0)
        return null;
    try {
        let buffer = procBuffer ??= new Uint8Array(64 * 1024);
        let length = 0;
        for (;;) {
            const got = calls.read(fd, buffer.subarray(length));
            if (got < 0)
                return null;
            if (got === 0)
                return new TextDecoder().decode(buffer.subarray(0, length));
            length += got;
            if (length === buffer.length) {
                const larger = new Uint8Array(buffer.length * 2);
                larger.set(buffer);
                buffer = larger;
            }
        }
    }
    finally {
        calls.close(fd);
    }
});
var pidfdPid = (function (pidfd) {
    const info = procText(`/proc/self/fdinfo/${pidfd}`);
    const now = Number(/^Pid:\s*(-?\d+)$/m.exec(info ?? "")?.[1] ?? 0);
    return now > 0 ? now : 0;
});
export var connectedListener = (function (address) {
    const calls = socketCalls();
    if (!calls)
        return undefined;
    const wanted = new TextEncoder().encode(address);
    let pid;
    let held;
    const release = (() => {
        if (held !== undefined)
            calls.close(held);
        held = undefined;
    });
    try {
        for (const entry of Deno.readDirSync("/proc/self/fd")) {
            const fd = Number(entry.name);
            const peer = new Uint8Array(2 + 108);
            const peerLength = new Uint32Array([peer.length]);
            if (calls.getpeername(fd, peer, new Uint8Array(peerLength.buffer)) !== 0)
                continue;
            if (new Uint16Array(peer.buffer, 0, 1)[0] !== 1 || peerLength[0] - 2 !== wanted.length ||
                !wanted.every(((byte, i) => peer[2 + i] === byte)))
                continue;
            const pidfd = new Int32Array(1);
            const pidfdLength = new Uint32Array([4]);
            const got = calls.getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, new Uint8Array(pidfd.buffer), new Uint8Array(pidfdLength.buffer));
            if (got !== 0) {
                release();
                return undefined;
            }
            const now = pidfdPid(pidfd[0]);
            if (held === undefined)
                held = pidfd[0];
            else
                calls.close(pidfd[0]);
            if (now === 0 || (pid !== undefined && pid !== now)) {
                release();
                return undefined;
            }
            pid = now;
        }
    }
    catch {
        release();
        return undefined;
    }
    if (pid === undefined || held === undefined)
        return undefined;
    const found = pid;
    return {
        pid: found,
        stillThere: (() => held !== undefined && pidfdPid(held) === found),
        [Symbol.dispose]: release,
    };
});
export var readKeyFile = (function (file) {
    const calls = socketCalls();
    if (!calls)
        return undefined;
    const fd = calls.open(new TextEncoder().encode(`${file}\0`), OPEN_KEY);
    if (fd < 0)
        return undefined;
    try {
        const opened = `/proc/self/fd/${fd}`;
        const info = Deno.statSync(opened);
        if (!info.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0o777) & 0o077) !== 0 ||
            info.size > 4096)
            return undefined;
        return Deno.readFileSync(opened);
    }
    catch {
        return undefined;
    }
    finally {
        calls.close(fd);
    }
});
export var listenerHeldBy = (function (address, pid) {
    const name = address.startsWith("\0") ? `@${address.slice(1)}` : address;
    const inodes = new Set();
    for (const line of (procText("/proc/net/unix") ?? "").split("\n")) {
        const fields = line.trim().split(/\s+/);
        if (fields.length === 8 && fields[7] === name && fields[4] === SOCK_STREAM &&
            (parseInt(fields[3], 16) & ACCEPTING) !== 0) {
            inodes.add(fields[6]);
        }
    }
    if (inodes.size !== 1)
        return false;
    const wanted = `socket:[${[...inodes][0]}]`;
    for (const link of fdLinks(pid))
        if (link === wanted)
            return true;
    return false;
});
var fdLinks = (function* (pid) {
    let entries;
    try {
        entries = [...Deno.readDirSync(`/proc/${pid}/fd`)];
    }
    catch {
        yield null;
        return;
    }
    for (const entry of entries) {
        try {
            yield Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
        }
        catch (error) {
            if (error instanceof Deno.errors.NotFound)
                continue;
            yield null;
            return;
        }
    }
});
var showWitness = (function (tag) {
    const calls = socketCalls();
    if (!calls || !forbidCoreDumps())
        return undefined;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const fd = calls.memfd(`${WITNESS_NAME}${tag}${bytes.toHex()}`);
    return fd < 0 ? undefined : { bytes, fd };
});
export var ownWitness = (function () {
    if (witnessMemo !== undefined)
        return witnessMemo;
    witnessMemo = showWitness("")?.bytes ?? null;
    return witnessMemo;
});
export var connectionWitness = (function (clientNonce) {
    const tag = witnessTag(clientNonce);
    const shown = tag === undefined ? undefined : showWitness(tag);
    if (!shown)
        return undefined;
    let open = true;
    return {
        bytes: shown.bytes,
        close() {
            if (open)
                socketCalls()?.close(shown.fd);
            open = false;
        },
    };
});
var witnessTag = (function (clientNonce) {
    try {
        const bytes = Uint8Array.fromBase64(clientNonce);
        return bytes.length === 16 && bytes.toBase64() === clientNonce
            ? `${bytes.toHex()}-`
            : undefined;
    }
    catch {
        return undefined;
    }
});
export var readWitness = (function (pid, clientNonce) {
    const tag = clientNonce === undefined ? "" : witnessTag(clientNonce);
    if (tag === undefined)
        return undefined;
    const prefix = `/memfd:${WITNESS_NAME}${tag}`;
    let found;
    for (const link of fdLinks(pid)) {
        if (link === null)
            return undefined;
        if (!link.startsWith(prefix) || !link.endsWith(" (deleted)"))
            continue;
        const hex = link.slice(prefix.length, -" (deleted)".length);
        if (!/^[0-9a-f]{64}$/.test(hex))
            continue;
        if (found !== undefined && found !== hex)
            return undefined;
        found = hex;
    }
    return found === undefined ? undefined : Uint8Array.fromHex(found);
});
export var forbidCoreDumps = (function () {
    if (coreMemo !== undefined)
        return coreMemo;
    coreMemo = false;
    const calls = socketCalls();
    if (!calls)
        return false;
    const now = new Uint8Array(new ArrayBuffer(16));
    if (calls.coreLimit(null, now) !== 0)
        return false;
    const hard = new DataView(now.buffer).getBigUint64(8, true);
    const wanted = hard < 1n ? hard : 1n;
    const limit = new Uint8Array(new ArrayBuffer(16));
    new DataView(limit.buffer).setBigUint64(0, wanted, true);
    new DataView(limit.buffer).setBigUint64(8, wanted, true);
    coreMemo = calls.coreLimit(limit, null) === 0;
    return coreMemo;
});
var sealingKey = (async function (witness, nonces, use) {
    const raw = await crypto.subtle.sign("HMAC", await hmacKey(witness), new TextEncoder().encode(`seal:${nonces}`));
    return crypto.subtle.importKey("raw", raw, "AES-GCM", false, [use]);
});
export var seal = (function (witness, nonces, text) {
    return sealer(witness, nonces)(text);
});
export var sealer = (function (witness, nonces) {
    const key = sealingKey(witness, nonces, "encrypt");
    key.catch((() => { }));
    return (async (text) => {
        const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: SEAL_IV }, await key, new TextEncoder().encode(text));
        return new Uint8Array(sealed).toBase64();
    });
});
export var unseal = (async function (witness, nonces, sealed) {
    if (typeof sealed !== "string")
        return undefined;
    try {
        const opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: SEAL_IV }, await sealingKey(witness, nonces, "decrypt"), Uint8Array.fromBase64(sealed));
        return new TextDecoder("utf-8", { fatal: true }).decode(opened);
    }
    catch {
        return undefined;
    }
});
export var connectRunner = (async function (env) {
    const found = readRunnerKey(env);
    if (!found)
        return undefined;
    if ("unlike" in found)
        return found;
    const key = found.key;
    const mine = nonce();
    const helloKey = proof(key, `hello:${mine}`);
    helloKey.catch((() => { }));
    let conn;
    const address = runnerAddress(env);
    try {
        conn = await Deno.connect({ transport: "unix", path: address });
    }
    catch {
        return undefined;
    }
    using reached = connectedListener(address);
    const unlike = !reached
        ? "this process cannot learn which process it reached (no FFI permission, or Linux before 6.5)"
        : reached.pid !== found.pid || processStart(found.pid) !== found.start ||
            !listenerHeldBy(address, found.pid)
            ? "what listens at the runner's name is not the process its key names"
            : foreignPeer(found.pid, undefined, found.own);
    if (unlike !== undefined) {
        conn.close();
        return { unlike };
    }
    let late = false;
    const deadline = (() => onTimeout(HANDSHAKE_DEADLINE_MS, (() => {
        late = true;
        try {
            conn.close();
        }
        catch {
        }
    })));
    const cancel = deadline();
    try {
        await conn.write(new TextEncoder().encode(JSON.stringify({ v: RUNNER_PROTOCOL, hello: mine, key: await helloKey }) + "\n"));
        const limit = { max: HANDSHAKE_BYTES };
        const replies = lines(conn, limit);
        const first = await replies.next();
        cancel();
        if (first.done) {
            conn.close();
            return { unlike: "the runner closed the connection before it answered this process's hello" };
        }
        const hello = JSON.parse(first.value);
        if (typeof hello?.nonce !== "string" || typeof hello.proof !== "string" ||
            !sameProof(hello.proof, await proof(key, `runner:${mine}:${hello.nonce}`))) {
            conn.close();
            return undefined;
        }
        const theirs = hello.nonce;
        const nonces = `${mine}:${theirs}`;
        const marking = peerMark(key, address, theirs);
        const own = ownWitness();
        const theirWitness = own ? readWitness(found.pid, mine) : undefined;
        if (!own || !theirWitness) {
            conn.close();
            return {
                unlike: own
                    ? "this process cannot see the runner's open files (a Landlock domain, or another " +
                        "security module's ptrace rule, may confine it)"
                    : "this process cannot show its own witness (no FFI permission, or its core size " +
                        "limit could not be lowered)",
            };
        }
        const expecting = proof(own, `runner-seen:${nonces}`);
        expecting.catch((() => { }));
        const sealing = sealer(own, nonces);
        const seen = await proof(theirWitness, `client-seen:${nonces}`);
        const request = (async (body) => {
            const text = JSON.stringify({
                kind: "sealed",
                pid: Deno.pid,
                umask: Deno.umask(),
                seen,
                sealed: await sealing(JSON.stringify(body)),
            });
            const signed = await proof(key, `client:${nonces}:${text}`);
            return JSON.stringify({ v: RUNNER_PROTOCOL, proof: signed, body: text }) + "\n";
        });
        const mark = await marking;
        if (!reached?.stillThere() || !sameKey(env, found.record)) {
            conn.close();
            return undefined;
        }
        const ask = (async (body) => {
            const text = await request(body);
            const cancel = deadline();
            let first;
            try {
                await conn.write(new TextEncoder().encode(text));
                first = await replies.next();
            }
            catch {
                first = { done: true, value: undefined };
            }
            finally {
                cancel();
            }
            if (late)
                return { declined: "the runner did not answer in time" };
            if (first.done)
                return { gone: true };
            let reply;
            try {
                reply = JSON.parse(first.value);
            }
            catch {
                return { declined: "the runner's answer is not one" };
            }
            if (typeof reply !== "object" || reply === null) {
                return { declined: "the runner's answer is not one" };
            }
            if ("decline" in reply)
                return { declined: String(reply.decline) };
            if (typeof reply.seen !== "string" || !sameProof(reply.seen, await expecting)) {
                return {
                    declined: "the runner could not see this process's open files (a Landlock domain, or " +
                        "another security module's ptrace rule, may confine it)",
                };
            }
            limit.max = Infinity;
            return { reply };
        });
        return { conn, mark, request, ask, replies };
    }
    catch {
        cancel();
        try {
            conn.close();
        }
        catch {
        }
        return undefined;
    }
});
export var peerMark = (async function (key, address, runnerNonce) {
    return (await proof(key, `mark:${address}:${runnerNonce}`)).slice(0, 15);
});
export var wearMark = (function (mark) {
    let before;
    try {
        before = Deno.readTextFileSync("/proc/self/comm").replace(/\n$/, "");
        Deno.writeTextFileSync("/proc/self/comm", mark);
    }
    catch {
        return undefined;
    }
    return (() => {
        try {
            Deno.writeTextFileSync("/proc/self/comm", before);
        }
        catch {
        }
    });
});
var confiningLimits = (function (text) {
    if (text === null)
        return undefined;
    const limits = new Map();
    const value = ((v) => v === "unlimited" ? Infinity : Number(v));
    for (const line of text.split("\n")) {
        const match = CONFINING_LIMITS.exec(line);
        if (match)
            limits.set(match[1], [value(match[2]), value(match[3])]);
    }
    return limits;
});
export var foreignPeer = (function (pid, proof, own = ownState()) {
    const proved = (() => proof === undefined || procText(`/proc/${pid}/comm`)?.replace(/\n$/, "") === proof.mark);
    if (!proved())
        return "it could not show it is the process it says it is";
    const theirs = processState(String(pid));
    for (const [i, ns] of NAMESPACES.entries()) {
        if (theirs.namespaces[i] === undefined || theirs.namespaces[i] !== own.namespaces[i]) {
            return `it runs in another ${ns} namespace than the runner`;
        }
    }
    if (theirs.root === undefined || theirs.root !== own.root) {
        return "it runs under another root folder";
    }
    if (theirs.status === "" || theirs.status !== own.status) {
        return "it runs with other ids, capabilities or filters than the runner";
    }
    for (const [i, [name]] of SAME_FILES.entries()) {
        if (theirs.files[i] !== own.files[i]) {
            return `its ${name === "attr/current" ? "security label" : name} differs from the runner's`;
        }
    }
    const theirLimits = theirs.limits;
    const ownLimits = own.limits;
    if (!theirLimits || !ownLimits || theirLimits.size !== ownLimits.size) {
        return "its limits could not be read";
    }
    for (const [name, [soft, hard]] of ownLimits) {
        const limit = theirLimits.get(name);
        if (!limit || limit[0] < soft || limit[1] < hard)
            return `its limit of ${name} is lower`;
    }
    if (proof && proof.umask !== Deno.umask())
        return "its umask differs from the runner's";
    if (!proved())
        return "it could not show it is the process it says it is";
    return undefined;
});
export var ownState = (function () {
    return processState("self");
});
var processState = (function (proc) {
    const at = `/proc/${proc}`;
    return {
        namespaces: NAMESPACES.map(((ns) => linkOrUndefined(`${at}/ns/${ns}`))),
        root: linkOrUndefined(`${at}/root`),
        status: statusFields(procText(`${at}/status`)),
        files: SAME_FILES.map((([name, kept]) => keptLines(procText(`${at}/${name}`), kept))),
        limits: confiningLimits(procText(`${at}/limits`)),
    };
});
var linkOrUndefined = (function (path) {
    try {
        return Deno.readLinkSync(path);
    }
    catch {
        return undefined;
    }
});
var statusFields = (function (text) {
    return (text ?? "").split("\n").filter(((line) => STATUS_FIELDS.test(line))).join("\n");
});
var keptLines = (function (text, kept) {
    return text?.split("\n").filter(kept).join("\n");
});
import { privateFolder, runnerFolder } from "../_runner_folder.js";
import { onTimeout } from "../_timer.js";
export { privateFolder, runnerFolder } from "../_runner_folder.js";
export const RUNNER_PROTOCOL = 5;
export const PROCESS_VARIABLES = [
    "TMPDIR",
    "TMP",
    "TEMP",
    "HOME",
    "PATH",
    "CAPIBARA_SANDBOX_UID",
    "LANG",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "TZ",
];
;
;
export const PATH_VARIABLES = [
    "CAPIBARA_CACHE_DIR",
    "XDG_CACHE_HOME",
    "DENO_DIR",
];
;
;
;
;
;
;
export const HANDSHAKE_DEADLINE_MS = 2000;
;
;
;
;
;
const HMAC_KEYS = new WeakMap();
;
;
;
export const HANDSHAKE_BYTES = 1024 * 1024;
;
const SOL_SOCKET = 1;
const SO_PEERPIDFD = 77;
const SYSCALLS = {
    x86_64: {
        read: 0,
        close: 3,
        getpeername: 52,
        getsockopt: 55,
        openat: 257,
        prlimit64: 302,
        memfd_create: 319,
    },
    aarch64: {
        read: 63,
        close: 57,
        openat: 56,
        getpeername: 205,
        getsockopt: 209,
        prlimit64: 261,
        memfd_create: 279,
    },
};
const AT_FDCWD = -100n;
let socketCallsMemo;
const kept = {};
;
const OPEN_READ = 0o2000000;
let procBuffer;
;
;
;
const OPEN_KEY = 0o4000 | 0o2000000 | (Deno.build.arch === "aarch64" ? 0o100000 : 0o400000);
;
const SOCK_STREAM = "0001";
const ACCEPTING = 0x10000;
;
;
const WITNESS_NAME = "capibara-witness-";
;
let witnessMemo;
;
;
;
;
const RLIMIT_CORE = 4n;
let coreMemo;
;
const SEAL_IV = new Uint8Array(12);
;
;
;
;
;
;
;
const NAMESPACES = ["mnt", "net", "user", "pid", "ipc", "uts", "cgroup"];
const STATUS_FIELDS = /^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Seccomp_filters|CapInh|CapPrm|CapEff|CapBnd|CapAmb|TracerPid):/;
const SAME_FILES = [
    ["cgroup", ((line) => !/^\d+:name=[^:]*:/.test(line))],
    ["attr/current", (() => true)],
];
const CONFINING_LIMITS = /^Max (cpu time|file size|data size|processes|address space|locked memory)\s{2,}(\S+)\s+(\S+)/;
;
;
;
;
;
;
;
