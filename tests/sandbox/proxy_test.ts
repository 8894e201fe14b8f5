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

Deno.test("startProxy() refuses wildcard-admitted names that resolve to local addresses", async () => {
  const upstream = startUpstream();
  const addresses: Record<string, string[]> = {
    "rebind.example.test": ["127.0.0.1"],
    "metadata.example.test": ["169.254.169.254"],
    "mapped.example.test": ["::ffff:127.0.0.1", "::1"],
  };
  const resolve = (host: string) => Promise.resolve(addresses[host] ?? []);
  const proxy = startProxy({
    port: 0,
    allow: ["*.example.test", `rebind.example.test:${upstream.port}`],
    resolve,
  });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    for (const host of ["rebind.example.test", "metadata.example.test", "mapped.example.test"]) {
      const refused = await rawExchange(port, `CONNECT ${host}:443 HTTP/1.1\r\n\r\n`);
      assert.match(refused, /^HTTP\/1\.1 403/);
      assert.match(refused, /resolves to a local address/);
    }
    // An exact rule is trusted as written, even towards loopback.
    const exact = await rawExchange(
      port,
      `GET http://rebind.example.test:${upstream.port}/exact HTTP/1.1\r\n\r\n`,
    );
    assert.match(exact, /upstream saw \/exact/);
  } finally {
    await proxy.close();
    await upstream.close();
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
