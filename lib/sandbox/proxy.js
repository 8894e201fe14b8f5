// Generated from src/sandbox/proxy.ts by scripts/build_js.ts (sha256 21d78e17945d85caa1cabea2b9eb2469057fcce7a35b9325f0a61b4d78b1bba8): do not edit; `deno task build:js` writes it.
export var proxyEnv = (function (url) {
    const env = { NO_PROXY: "", no_proxy: "" };
    for (const name of PROXY_VARIABLES)
        env[name] = url;
    return env;
});
var displayHost = (function (host) {
    return canonicalHost(host)?.host ?? host.toLowerCase();
});
var hostPort = (function (host, port) {
    return `${host.includes(":") ? `[${host}]` : host}:${port}`;
});
var systemResolve = (async function (host) {
    return (await lookup(host, { all: true })).map(((entry) => entry.address));
});
var connectFirst = (async function (addresses, port) {
    let lastError = new Error("no address");
    for (const address of addresses) {
        try {
            return await Deno.connect({ hostname: address, port });
        }
        catch (error) {
            lastError = error;
        }
    }
    throw lastError;
});
var response = (function (status, text, reason) {
    const body = new TextEncoder().encode(reason + "\n");
    const head = `HTTP/1.1 ${status} ${text}\r\n` +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${body.byteLength}\r\n` +
        "X-Capibara-Proxy: 1\r\n" +
        "Connection: close\r\n\r\n";
    const bytes = new Uint8Array(head.length + body.byteLength);
    bytes.set(new TextEncoder().encode(head));
    bytes.set(body, head.length);
    return bytes;
});
var writeAll = (async function (conn, bytes) {
    let offset = 0;
    while (offset < bytes.byteLength)
        offset += await conn.write(bytes.subarray(offset));
});
var findHeadEnd = (function (bytes, length) {
    for (let i = 0; i + 1 < length; i++) {
        if (bytes[i] !== 10)
            continue;
        if (bytes[i + 1] === 10)
            return { end: i, skip: 2 };
        if (bytes[i + 1] === 13 && bytes[i + 2] === 10)
            return { end: i, skip: 3 };
    }
    return null;
});
var readHead = (async function (conn) {
    const buffer = new Uint8Array(PROXY_LIMITS.maxHeadBytes);
    let length = 0;
    while (length < buffer.byteLength) {
        const n = await conn.read(buffer.subarray(length));
        if (n === null)
            return null;
        length += n;
        const found = findHeadEnd(buffer, length);
        if (found) {
            const head = new TextDecoder("latin1").decode(buffer.subarray(0, found.end))
                .replace(/\r$/, "");
            return { head, rest: buffer.slice(found.end + found.skip, length) };
        }
    }
    return "too-large";
});
var pipe = (async function (from, to, touch) {
    const buffer = new Uint8Array(64 * 1024);
    try {
        while (true) {
            const n = await from.read(buffer);
            if (n === null)
                break;
            touch();
            await writeAll(to, buffer.subarray(0, n));
            touch();
        }
    }
    catch {
    }
    try {
        await to.closeWrite();
    }
    catch {
    }
});
var closeQuietly = (function (conn) {
    try {
        conn?.close();
    }
    catch {
    }
});
var relay = (async function (client, upstream, idleMs, untilUpstreamEnds) {
    let last = performance.now();
    const touch = (() => {
        last = performance.now();
    });
    let timer;
    const check = (() => {
        const silent = performance.now() - last;
        if (silent >= idleMs) {
            closeQuietly(client);
            closeQuietly(upstream);
        }
        else {
            timer = setTimeout(check, idleMs - silent);
        }
    });
    timer = setTimeout(check, idleMs);
    try {
        const toClient = pipe(upstream, client, touch);
        const toUpstream = pipe(client, upstream, touch);
        await (untilUpstreamEnds ? toClient : Promise.all([toClient, toUpstream]));
    }
    finally {
        clearTimeout(timer);
    }
});
var withTimeout = (function (promise, ms, message) {
    let timer;
    const timeout = new Promise(((_, reject) => {
        timer = setTimeout((() => reject(new Error(message))), ms);
    }));
    return Promise.race([promise, timeout]).finally((() => clearTimeout(timer)));
});
var specialReason = (function (what, address, grant) {
    const kind = classifyAddress(address);
    const article = /^[aeiou]/.test(kind ?? "") ? "an" : "a";
    return `${what} is ${kind === "host" ? "one of this machine's own addresses" : `${article} ${kind} address`}` +
        `: reaching it needs --allow-private-net ${grant}`;
});
var checkedAddresses = (async function (host, port, privateRules, resolve, timeoutMs) {
    const privateGranted = ((h) => matchHost(h, port, privateRules).allowed);
    if (host.ip !== 0) {
        if (isPublicAddress(host.host) || privateGranted(host.host))
            return [host.host];
        const reason = specialReason(`Address "${host.host}"`, host.host, hostPort(host.host, port));
        return { status: 403, reason };
    }
    if (!resolve)
        return undefined;
    let addresses;
    try {
        addresses = await withTimeout(resolve(host.host), timeoutMs, "timed out");
    }
    catch {
        return { status: 502, reason: `Cannot resolve "${host.host}"` };
    }
    if (addresses.length === 0)
        return { status: 502, reason: `Cannot resolve "${host.host}"` };
    if (privateGranted(host.host))
        return addresses;
    const usable = addresses.filter(((a) => isPublicAddress(a) || privateGranted(a)));
    if (usable.length > 0)
        return usable;
    return {
        status: 403,
        reason: `Host "${host.host}" resolves to an address that is not public: reaching it needs ` +
            `--allow-private-net ${hostPort(host.host, port)}`,
    };
});
export var startProxy = (function (options) {
    const timeoutMs = options.timeoutMs ?? PROXY_LIMITS.timeoutMs;
    const idleTimeoutMs = options.idleTimeoutMs ?? PROXY_LIMITS.idleTimeoutMs;
    const maxConnections = options.maxConnections ?? PROXY_LIMITS.maxConnections;
    const maxTotal = options.maxTotalConnections ?? PROXY_LIMITS.maxTotalConnections;
    const resolve = options.resolve ?? (options.connect ? undefined : systemResolve);
    const rules = parseHostRules(options.allow);
    const privateRules = parseHostRules(options.privateAllow ?? [], "private network rule")
        .filter(((rule) => rule.kind !== "wildcard"));
    const log = [];
    const stats = { open: 0, peakOpen: 0, accepted: 0, refused: 0 };
    const open = new Set();
    const tasks = new Set();
    let listener;
    if (options.socketPath !== undefined) {
        try {
            if (Deno.lstatSync(options.socketPath).isSocket)
                Deno.removeSync(options.socketPath);
        }
        catch {
        }
        listener = Deno.listen({ transport: "unix", path: options.socketPath });
    }
    else {
        listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
    }
    async function deny(client, host, port, denial) {
        log.push({ host, port, allowed: denial.status !== 403, reason: denial.reason });
        await writeAll(client, denial.status === 403
            ? response(403, "Forbidden", denial.reason)
            : response(502, "Bad Gateway", denial.reason));
    }
    async function admit(client, rawHost, port) {
        const host = displayHost(rawHost);
        const verdict = matchHost(rawHost, port, rules);
        const canonical = canonicalHost(rawHost);
        if (!verdict.allowed || !canonical) {
            await deny(client, host, port, { status: 403, reason: verdict.reason ?? "Not granted" });
            return null;
        }
        const addresses = await checkedAddresses(canonical, port, privateRules, resolve, timeoutMs);
        if (addresses !== undefined && !Array.isArray(addresses)) {
            await deny(client, host, port, addresses);
            return null;
        }
        const connecting = options.connect
            ? options.connect(canonical.host, port)
            : connectFirst(addresses ?? [], port);
        try {
            const upstream = await withTimeout(connecting, timeoutMs, `Timed out connecting to ${host}:${port}`);
            log.push({ host, port, allowed: true });
            return upstream;
        }
        catch {
            connecting.then(((late) => late.close()), (() => { }));
            await deny(client, host, port, { status: 502, reason: `Cannot reach ${host}:${port}` });
            return null;
        }
    }
    async function handle(client) {
        let upstream;
        try {
            const read = await withTimeout(readHead(client), timeoutMs, "Request head timed out");
            if (read === null)
                return;
            if (read === "too-large") {
                await writeAll(client, response(431, "Request Header Fields Too Large", "Head too large"));
                return;
            }
            const [requestLine = "", ...headerLines] = read.head.split(/\r?\n/);
            const [method = "", target = "", version = "HTTP/1.1"] = requestLine.split(" ");
            if (method.toUpperCase() === "CONNECT") {
                const split = splitHostPort(target);
                if (!split || split.port === undefined) {
                    await writeAll(client, response(400, "Bad Request", "CONNECT needs host:port"));
                    return;
                }
                const conn = await admit(client, split.host, split.port);
                if (!conn)
                    return;
                upstream = conn;
                open.add(upstream);
                await writeAll(client, new TextEncoder().encode(`${version} 200 Connection established\r\n\r\n`));
                if (read.rest.byteLength > 0)
                    await writeAll(upstream, read.rest);
                await relay(client, upstream, idleTimeoutMs, false);
                return;
            }
            if (!/^http:\/\//i.test(target)) {
                const reason = /^https:\/\//i.test(target)
                    ? "Use CONNECT for https URLs"
                    : "Proxy requests need an absolute http:// URL";
                await writeAll(client, response(400, "Bad Request", reason));
                return;
            }
            let url;
            try {
                url = new URL(target);
            }
            catch {
                await writeAll(client, response(400, "Bad Request", "Invalid URL"));
                return;
            }
            if (url.username || url.password) {
                await writeAll(client, response(400, "Bad Request", "Credentials in proxy URLs are refused"));
                return;
            }
            const port = url.port === "" ? 80 : Number(url.port);
            const conn = await admit(client, url.hostname, port);
            if (!conn)
                return;
            upstream = conn;
            open.add(upstream);
            const headers = headerLines.filter(((line) => {
                const name = line.slice(0, line.indexOf(":")).trim().toLowerCase();
                return line.includes(":") && !HOP_BY_HOP.has(name);
            }));
            const head = [
                `${method} ${url.pathname}${url.search} ${version}`,
                `Host: ${url.host}`,
                ...headers,
                "Connection: close",
                "",
                "",
            ].join("\r\n");
            await writeAll(upstream, Uint8Array.from(head, ((c) => c.charCodeAt(0) & 0xff)));
            if (read.rest.byteLength > 0)
                await writeAll(upstream, read.rest);
            await relay(client, upstream, idleTimeoutMs, true);
        }
        catch {
        }
        finally {
            if (upstream)
                open.delete(upstream);
            open.delete(client);
            closeQuietly(upstream);
            closeQuietly(client);
        }
    }
    const accepting = (async () => {
        try {
            for await (const conn of listener) {
                if (stats.open >= maxConnections || stats.accepted >= maxTotal) {
                    stats.refused++;
                    closeQuietly(conn);
                    continue;
                }
                stats.accepted++;
                stats.open++;
                stats.peakOpen = Math.max(stats.peakOpen, stats.open);
                open.add(conn);
                const task = handle(conn).finally((() => {
                    stats.open--;
                    tasks.delete(task);
                }));
                tasks.add(task);
            }
        }
        catch {
        }
    })();
    let closed;
    return {
        address: listener.addr,
        log,
        stats: (() => ({ ...stats })),
        close() {
            closed ??= (async () => {
                try {
                    listener.close();
                }
                catch {
                }
                for (const conn of open)
                    closeQuietly(conn);
                await accepting;
                await Promise.allSettled([...tasks]);
                if (options.socketPath !== undefined) {
                    await Deno.remove(options.socketPath).catch((() => { }));
                }
            })();
            return closed;
        },
    };
});
import { lookup } from "node:dns/promises";
import { canonicalHost, classifyAddress, isPublicAddress, matchHost, parseHostRules, splitHostPort, } from "./host_rules.js";
export const PROXY_LIMITS = {
    maxConnections: 64,
    maxTotalConnections: 1_000,
    idleTimeoutMs: 60_000,
    timeoutMs: 15_000,
    maxHeadBytes: 32 * 1024,
};
const PROXY_VARIABLES = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "npm_config_proxy",
    "npm_config_https_proxy",
    "PIP_PROXY",
];
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
;
;
;
const HOP_BY_HOP = new Set([
    "proxy-connection",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "host",
    "te",
    "upgrade",
]);
;
;
;
