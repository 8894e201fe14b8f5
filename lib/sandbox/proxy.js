// Generated from src/sandbox/proxy.ts by scripts/build_js.ts (sha256 bffd884a544d62cbfe678ab3716a0d0db862c0323834b25b786cc2f518b42729): do not edit; `deno task build:js` writes it.
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
var latin1Text = (function (bytes) {
    let text = "";
    for (let i = 0; i < bytes.byteLength; i += 8192) {
        text += String.fromCharCode(...bytes.subarray(i, i + 8192));
    }
    return text;
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
var readHead = (async function (buffered) {
    while (true) {
        const view = buffered.view();
        const found = findHeadEnd(view, Math.min(view.byteLength, PROXY_LIMITS.maxHeadBytes));
        if (found) {
            const head = latin1Text(view.subarray(0, found.end)).replace(/\r$/, "");
            return { head, rest: view.slice(found.end + found.skip) };
        }
        if (view.byteLength >= PROXY_LIMITS.maxHeadBytes)
            return "too-large";
        if (!await buffered.fill(view.byteLength + 1))
            return null;
    }
});
var pipe = (async function (from, to, touch, watch) {
    const buffer = new Uint8Array(64 * 1024);
    let first = watch && new Uint8Array(0);
    const tell = ((verdict) => {
        if (first === undefined)
            return;
        watch.told(verdict);
        first = undefined;
    });
    try {
        while (true) {
            const n = await from.read(buffer);
            if (n === null)
                break;
            touch();
            if (first !== undefined) {
                const joined = new Uint8Array(first.byteLength + n);
                joined.set(first);
                joined.set(buffer.subarray(0, n), first.byteLength);
                first = joined;
                const verdict = watch.decide(first);
                if (verdict !== undefined)
                    tell(verdict);
                else if (first.byteLength > MAX_CLIENT_HELLO_BYTES)
                    tell(false);
            }
            await writeAll(to, buffer.subarray(0, n));
            touch();
        }
    }
    catch {
    }
    finally {
        tell(false);
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
var relay = (async function (client, upstream, idleMs, send) {
    const idle = idleWatch(client, upstream, idleMs);
    try {
        const toClient = pipe(upstream, client, idle.touch);
        if (send) {
            send(idle.touch).catch((() => { }));
            await toClient;
        }
        else
            await Promise.all([toClient, pipe(client, upstream, idle.touch)]);
    }
    finally {
        idle.stop();
    }
});
var idleWatch = (function (client, upstream, idleMs) {
    let last = performance.now();
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
    return {
        touch: (() => {
            last = performance.now();
        }),
        stop: (() => clearTimeout(timer)),
    };
});
var withTimeout = (function (promise, ms, message) {
    let timer;
    const timeout = new Promise(((_, reject) => {
        timer = setTimeout((() => reject(new Error(message))), ms);
    }));
    return Promise.race([promise, timeout]).finally((() => clearTimeout(timer)));
});
var hidesName = (function (type) {
    return (type >= 0xfe08 && type <= 0xfe0d) || type === 0xff02 || type === 0xffce;
});
var readClientHello = (function (body) {
    let p = 0;
    const need = ((n) => {
        if (p + n > body.byteLength)
            throw new RangeError("truncated ClientHello");
    });
    const u8 = (() => (need(1), body[p++]));
    const u16 = (() => (need(2), p += 2, (body[p - 2] << 8) | body[p - 1]));
    const skip = ((n) => (need(n), p += n));
    skip(2 + 32);
    skip(u8());
    skip(u16());
    skip(u8());
    let serverName = null;
    let ech = false;
    let earlyData = false;
    if (p === body.byteLength)
        return { serverName, ech, earlyData };
    const end = u16() + p;
    if (end > body.byteLength)
        throw new RangeError("truncated extensions");
    const names = new Set();
    while (p < end) {
        const type = u16();
        const length = u16();
        need(length);
        const data = body.subarray(p, p + length);
        p += length;
        if (names.has(type))
            throw new RangeError("an extension given twice");
        names.add(type);
        if (hidesName(type))
            ech = true;
        if (type === EXT_EARLY_DATA)
            earlyData = true;
        if (type !== EXT_SERVER_NAME)
            continue;
        let q = 2;
        const listEnd = 2 + ((data[0] << 8) | data[1]);
        if (data.byteLength < 2 || listEnd !== data.byteLength)
            throw new RangeError("bad server_name");
        while (q < listEnd) {
            if (q + 3 > listEnd)
                throw new RangeError("bad server_name");
            const kind = data[q];
            const size = (data[q + 1] << 8) | data[q + 2];
            q += 3;
            if (q + size > listEnd)
                throw new RangeError("bad server_name");
            if (kind !== 0 || serverName !== null)
                throw new RangeError("an unknown or second name");
            serverName = latin1Text(data.subarray(q, q + size));
            q += size;
        }
    }
    if (p !== end || end !== body.byteLength)
        throw new RangeError("trailing bytes");
    return { serverName, ech, earlyData };
});
var readHandshake = (async function (buffered, offset, afterRetry) {
    const truncated = { refused: "Truncated TLS" };
    const expected = { refused: "A TLS ClientHello was expected" };
    let handshake = new Uint8Array(0);
    let wanted = 4;
    while (handshake.byteLength < wanted) {
        if (!await buffered.fill(offset + 5))
            return truncated;
        const view = buffered.view();
        const type = view[offset];
        const length = (view[offset + 3] << 8) | view[offset + 4];
        if (offset + 5 + length > MAX_CLIENT_HELLO_BYTES) {
            return { refused: "The TLS ClientHello is too large" };
        }
        if (!await buffered.fill(offset + 5 + length))
            return truncated;
        const payload = buffered.view().subarray(offset + 5, offset + 5 + length);
        offset += 5 + length;
        if (type === TLS_CHANGE_CIPHER_SPEC && afterRetry && handshake.byteLength === 0) {
            if (length !== 1 || payload[0] !== 1)
                return expected;
            continue;
        }
        if (type === TLS_APPLICATION_DATA && afterRetry?.earlyData && handshake.byteLength === 0) {
            continue;
        }
        if (type !== TLS_HANDSHAKE)
            return expected;
        const joined = new Uint8Array(handshake.byteLength + payload.byteLength);
        joined.set(handshake);
        joined.set(payload, handshake.byteLength);
        handshake = joined;
        if (handshake.byteLength >= 4) {
            if (handshake[0] !== TLS_CLIENT_HELLO)
                return expected;
            wanted = 4 + ((handshake[1] << 16) | (handshake[2] << 8) | handshake[3]);
        }
    }
    if (handshake.byteLength !== wanted) {
        return { refused: "A TLS record holds more than the ClientHello" };
    }
    try {
        return { hello: readClientHello(handshake.subarray(4, wanted)), end: offset };
    }
    catch {
        return { refused: "A malformed TLS ClientHello" };
    }
});
var helloRetryIn = (function (first) {
    const handshake = new Uint8Array(38);
    let have = 0;
    let offset = 0;
    while (have < handshake.byteLength) {
        if (first.byteLength < offset + 5)
            return undefined;
        if (first[offset] !== TLS_HANDSHAKE)
            return false;
        const length = (first[offset + 3] << 8) | first[offset + 4];
        const payload = first.subarray(offset + 5, offset + 5 + length);
        const taken = payload.subarray(0, handshake.byteLength - have);
        handshake.set(taken, have);
        have += taken.byteLength;
        if (have < handshake.byteLength && payload.byteLength < length)
            return undefined;
        offset += 5 + length;
    }
    if (handshake[0] !== 2)
        return false;
    return HELLO_RETRY_RANDOM.every(((byte, i) => handshake[6 + i] === byte));
});
var tunnelOpening = (async function (buffered) {
    if (!await buffered.fill(1))
        return { kind: "refused", reason: "The client sent nothing" };
    const first = buffered.view()[0];
    if (first === TLS_HANDSHAKE) {
        const read = await readHandshake(buffered, 0);
        return "refused" in read ? { kind: "refused", reason: read.refused } : { kind: "tls", ...read };
    }
    if (first >= 0x80)
        return { kind: "refused", reason: "An SSLv2-format hello is refused" };
    if (first >= 0x14 && first <= 0x18) {
        return { kind: "refused", reason: "A TLS record other than a ClientHello came first" };
    }
    if ((first >= 0x09 && first <= 0x0d) || (first >= 0x1c && first < 0x7f)) {
        const read = await readHead(buffered);
        if (read === null)
            return { kind: "refused", reason: "Truncated request head" };
        if (read === "too-large")
            return { kind: "refused", reason: "Request head too large" };
        return { kind: "http", head: read.head.replace(/^[\r\n]+/, ""), rest: read.rest };
    }
    return { kind: "other" };
});
var hasControl = (function (line) {
    for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        if ((c < 0x20 && c !== 0x09) || c === 0x7f)
            return true;
    }
    return false;
});
var oneRequest = (function (requestLine, host, headerLines) {
    let bodyBytes;
    const kept = [];
    if ([requestLine, ...headerLines].some(hasControl)) {
        return { refused: "A control character in the request head" };
    }
    if (!ORIGIN_REQUEST_LINE.test(requestLine)) {
        return { refused: "A request line must be METHOD /path HTTP/1.x" };
    }
    for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon <= 0 || !FIELD_NAME.test(line.slice(0, colon))) {
            return { refused: "A malformed header line" };
        }
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === "transfer-encoding") {
            return { refused: "Chunked request bodies are not relayed: send a Content-Length" };
        }
        if (name === "content-length") {
            if (!/^\d{1,15}$/.test(value) || bodyBytes !== undefined) {
                return { refused: "A request needs one valid Content-Length" };
            }
            bodyBytes = Number(value);
            continue;
        }
        if (!dropped(name))
            kept.push(line);
    }
    const head = [
        requestLine,
        `Host: ${host}`,
        "Connection: close",
        ...bodyBytes === undefined ? [] : [`Content-Length: ${bodyBytes}`],
        ...kept,
        "",
        "",
    ].join("\r\n");
    return { head, bodyBytes: bodyBytes ?? 0 };
});
var dropped = (function (name) {
    const dashed = name.toLowerCase().replaceAll("_", "-");
    return HOP_BY_HOP.has(dashed) || /host|forwarded|^x-original/.test(dashed);
});
var sendBody = (async function (client, upstream, rest, bodyBytes, touch) {
    let left = bodyBytes;
    const first = rest.subarray(0, Math.min(left, rest.byteLength));
    if (first.byteLength > 0)
        await writeAll(upstream, first);
    left -= first.byteLength;
    const buffer = new Uint8Array(64 * 1024);
    while (left > 0) {
        const n = await client.read(buffer.subarray(0, Math.min(left, buffer.byteLength)));
        if (n === null)
            return;
        touch();
        await writeAll(upstream, buffer.subarray(0, n));
        left -= n;
    }
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
var latin1 = (function (text) {
    return Uint8Array.from(text, ((c) => c.charCodeAt(0) & 0xff));
});
var namesGranted = (function (raw, granted) {
    const name = raw.toLowerCase().replace(/\.$/, "");
    if (granted.ip === 0)
        return /^[a-z0-9.-]+$/.test(name) && name === granted.host;
    return name === granted.host;
});
var helloRefusal = (function (hello, granted) {
    if (hello.ech)
        return "An encrypted ClientHello (ECH) hides the server's name: refused";
    if (hello.serverName === null) {
        return granted.ip !== 0 ? undefined : "The TLS ClientHello names no server";
    }
    if (!namesGranted(hello.serverName, granted)) {
        return `The TLS ClientHello names "${displayHost(hello.serverName)}", ` +
            `not the host the tunnel was granted for ("${granted.host}")`;
    }
    return undefined;
});
var relayTls = (async function (client, upstream, buffered, first, granted, idleMs, timeoutMs) {
    const { end, earlyData } = first;
    const idle = idleWatch(client, upstream, idleMs);
    try {
        await writeAll(upstream, buffered.view().slice(0, end));
        let told;
        const retry = new Promise(((resolve) => told = resolve));
        const toClient = pipe(upstream, client, idle.touch, { decide: helloRetryIn, told });
        if (await withTimeout(retry, timeoutMs, "No answer to the ClientHello")) {
            const second = await withTimeout(readHandshake(buffered, end, { earlyData }), timeoutMs, "No second ClientHello");
            const refused = "refused" in second ? second.refused : helloRefusal(second.hello, granted);
            if (refused !== undefined)
                return refused;
        }
        const held = buffered.view().slice(end);
        if (held.byteLength > 0)
            await writeAll(upstream, held);
        await Promise.all([toClient, pipe(client, upstream, idle.touch)]);
        return undefined;
    }
    finally {
        idle.stop();
    }
});
var tunnelChecked = (function (opening, granted) {
    if (opening.kind === "refused")
        return { refused: opening.reason };
    if (opening.kind === "other")
        return {};
    if (opening.kind === "tls") {
        const refused = helloRefusal(opening.hello, granted);
        return refused === undefined ? {} : { refused };
    }
    const [requestLine = "", ...headerLines] = opening.head.split(/\r?\n/);
    const hosts = headerLines.filter(((line) => /^host\s*:/i.test(line)));
    const value = hosts.length === 1 ? hosts[0].slice(hosts[0].indexOf(":") + 1).trim() : "";
    const request = oneRequest(requestLine, value, headerLines);
    if ("refused" in request)
        return request;
    const named = splitHostPort(value);
    if (!named || !namesGranted(named.host, granted)) {
        return {
            refused: `A tunnelled request must name the host the tunnel was granted for ` +
                `("${granted.host}") in one Host header`,
        };
    }
    return { request: { ...request, rest: opening.rest } };
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
            const entry = { host, port, allowed: true };
            log.push(entry);
            return { upstream, entry };
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
            const read = await withTimeout(readHead(new Buffered(client, new Uint8Array(0))), timeoutMs, "Request head timed out");
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
                const admitted = await admit(client, split.host, split.port);
                if (!admitted)
                    return;
                upstream = admitted.upstream;
                open.add(upstream);
                await writeAll(client, new TextEncoder().encode(`${version} 200 Connection established\r\n\r\n`));
                const buffered = new Buffered(client, read.rest);
                const opening = await withTimeout(tunnelOpening(buffered), timeoutMs, "Tunnel opening timed out");
                const granted = canonicalHost(split.host);
                const checked = tunnelChecked(opening, granted);
                if ("refused" in checked) {
                    admitted.entry.allowed = false;
                    admitted.entry.reason = checked.refused;
                    if (opening.kind === "http") {
                        await writeAll(client, response(403, "Forbidden", checked.refused));
                    }
                    return;
                }
                if (opening.kind === "tls") {
                    const cut = await relayTls(client, upstream, buffered, { end: opening.end, earlyData: opening.hello.earlyData }, granted, idleTimeoutMs, timeoutMs);
                    if (cut !== undefined) {
                        admitted.entry.allowed = false;
                        admitted.entry.reason = cut;
                    }
                }
                else if (checked.request) {
                    await writeAll(upstream, latin1(checked.request.head));
                    const { bodyBytes, rest } = checked.request;
                    await relay(client, upstream, idleTimeoutMs, ((touch) => sendBody(client, upstream, rest, bodyBytes, touch)));
                }
                else {
                    await writeAll(upstream, buffered.view());
                    await relay(client, upstream, idleTimeoutMs);
                }
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
            const request = oneRequest(`${method} ${url.pathname}${url.search} ${version}`, url.host, headerLines);
            if ("refused" in request) {
                await writeAll(client, response(400, "Bad Request", request.refused));
                return;
            }
            const port = url.port === "" ? 80 : Number(url.port);
            const admitted = await admit(client, url.hostname, port);
            if (!admitted)
                return;
            upstream = admitted.upstream;
            open.add(upstream);
            await writeAll(upstream, latin1(request.head));
            const { bodyBytes } = request;
            await relay(client, upstream, idleTimeoutMs, ((touch) => sendBody(client, upstream, read.rest, bodyBytes, touch)));
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
;
;
const TLS_HANDSHAKE = 0x16;
const TLS_CHANGE_CIPHER_SPEC = 0x14;
const TLS_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_EARLY_DATA = 0x002a;
;
const TLS_APPLICATION_DATA = 0x17;
const MAX_CLIENT_HELLO_BYTES = 64 * 1024;
class Buffered {
    conn;
    bytes;
    length;
    constructor(conn, first) {
        this.conn = conn;
        this.bytes = new Uint8Array(Math.max(4096, first.byteLength));
        this.bytes.set(first);
        this.length = first.byteLength;
    }
    async fill(n) {
        while (this.length < n) {
            if (this.length === this.bytes.byteLength) {
                const grown = new Uint8Array(this.bytes.byteLength * 2);
                grown.set(this.bytes);
                this.bytes = grown;
            }
            const read = await this.conn.read(this.bytes.subarray(this.length));
            if (read === null)
                return false;
            this.length += read;
        }
        return true;
    }
    view() {
        return this.bytes.subarray(0, this.length);
    }
}
;
;
const HELLO_RETRY_RANDOM = Uint8Array.fromHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
;
;
;
const ORIGIN_REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (\/\S*|\*) HTTP\/1\.[01]$/;
;
;
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
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
;
;
;
;
;
