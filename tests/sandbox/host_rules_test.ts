/**
 * The host-rule grammar, and one table of cases run through both enforcers: the proxy (real
 * CONNECT requests) and Deno's permission flags (a real `deno run` with the flags that
 * `denoPermissionFlags` builds). Every row must get its expected verdict from both.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { join } from "node:path";
import { PermissionError, ValidationError } from "../../src/errors.ts";
import { denoPermissionFlags } from "../../src/sandbox/deno.ts";
import {
  classifyAddress,
  clientNetwork,
  hostGranted,
  ipVersion,
  matchHost,
  parseHostRule,
  parseHostRules,
  rangeContains,
  SPECIAL_RANGES,
} from "../../src/sandbox/host_rules.ts";
import { type ProxyConnect, startProxy } from "../../src/sandbox/proxy.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";

/** One row: under `rules` (and the private-network opt-in), may a script reach `host:port`? */
interface Case {
  rules: string[];
  /** Private-network rules (`--allow-private-net`). */
  privateNetwork: string[];
  /** The host as a script writes it in a URL (`bücher.example`, `0x7f.1`, `[::1]`). */
  host: string;
  port: number;
  allowed: boolean;
  /** A loopback listener answers at `host:port`: Deno's check is a real fetch. */
  reachable?: boolean;
}

/** The table. `v4` and `v6` are the ports of loopback listeners on 127.0.0.1 and ::1. */
function table(v4: number, v6: number): Case[] {
  const rows: Case[] = [];
  const add = (
    rules: string[] | [string[], string[]],
    probes: [string, number, boolean, boolean?][],
  ) => {
    const [allow, privateNetwork] = typeof rules[0] === "string"
      ? [rules as string[], []]
      : rules as [string[], string[]];
    for (const [host, port, allowed, reachable] of probes) {
      rows.push({ rules: allow, privateNetwork, host, port, allowed, reachable });
    }
  };
  add(["api.example.com"], [
    ["api.example.com", 443, true],
    ["api.example.com", 80, true],
    ["api.example.com", 8080, false],
    ["API.Example.COM", 443, true],
    ["api.example.com.", 443, true],
    ["example.com", 443, false],
    ["www.api.example.com", 443, false],
    ["api.example.com.evil.net", 443, false],
  ]);
  add(["*.example.com"], [
    ["api.example.com", 443, true],
    ["a.b.example.com", 80, true],
    ["example.com", 443, false],
    ["example.com", 80, false],
    ["evil-example.com", 443, false],
    ["api.evil-example.com", 443, false],
    ["example.com.evil.net", 443, false],
    ["api.example.com", 22, false],
    ["127.0.0.1", v4, false, true],
    ["[::1]", 443, false],
  ]);
  add(["*.example.com", "example.com"], [
    ["example.com", 443, true],
    ["api.example.com", 443, true],
  ]);
  add(["bücher.example"], [
    ["bücher.example", 443, true],
    ["BÜCHER.example", 80, true],
    ["xn--bcher-kva.example", 443, true],
    ["bucher.example", 443, false],
    ["shop.bücher.example", 443, false],
  ]);
  add(["xn--bcher-kva.example:8443"], [
    ["bücher.example", 8443, true],
    ["bücher.example", 443, false],
  ]);
  add(["*.bücher.example"], [
    ["shop.bücher.example", 443, true],
    ["bücher.example", 443, false],
  ]);
  add(["db.example.com:5432"], [
    ["db.example.com", 5432, true],
    ["db.example.com", 443, false],
  ]);
  add(["*.example.com:8443"], [
    ["x.example.com", 8443, true],
    ["x.example.com", 443, false],
    ["example.com", 8443, false],
  ]);
  // A special address is reached only through the private-network opt-in, whatever the rule.
  add([`127.0.0.1:${v4}`], [
    ["127.0.0.1", v4, false, true],
    ["0x7f.1", v4, false, true],
    ["127.0.0.1", 443, false],
    ["localhost", v4, false],
  ]);
  add([[`127.0.0.1:${v4}`], [`127.0.0.1:${v4}`]], [
    ["127.0.0.1", v4, true, true],
    ["0x7f.1", v4, true, true],
    ["2130706433", v4, true, true],
    ["127.1", v4, true, true],
    ["127.0.0.1", 443, false],
    ["127.0.0.2", v4, false],
    ["localhost", v4, false],
  ]);
  add([[`0x7f.1:${v4}`], [`127.0.0.1:${v4}`]], [["127.0.0.1", v4, true, true]]);
  add([[`2130706433:${v4}`], [`2130706433:${v4}`]], [["127.0.0.1", v4, true, true]]);
  add([`localhost:${v4}`], [
    ["localhost", v4, false, true],
    ["127.0.0.1", v4, false, true],
  ]);
  add([[`localhost:${v4}`], [`localhost:${v4}`]], [
    ["localhost", v4, true, true],
    ["127.0.0.1", v4, false, true],
  ]);
  // A wildcard beside an exact address changes nothing: the opt-in decides.
  add(["*.example.com", `127.0.0.1:${v4}`], [
    ["127.0.0.1", v4, false, true],
    ["api.example.com", 443, true],
  ]);
  add([["*.example.com", `127.0.0.1:${v4}`], [`127.0.0.1:${v4}`]], [
    ["127.0.0.1", v4, true, true],
    ["api.example.com", 443, true],
  ]);
  // The opt-in alone grants nothing.
  add([[], [`127.0.0.1:${v4}`]], [["127.0.0.1", v4, false, true]]);
  add([`[::1]:${v6}`], [
    ["[::1]", v6, false, true],
    ["[0:0:0:0:0:0:0:1]", v6, false, true],
  ]);
  add([[`[::1]:${v6}`], [`[::1]:${v6}`]], [
    ["[::1]", v6, true, true],
    ["[0:0:0:0:0:0:0:1]", v6, true, true],
    ["[::1]", 443, false],
    ["127.0.0.1", v6, false],
  ]);
  add(["::1"], [
    ["[::1]", 443, false],
    ["[::1]", 80, false],
  ]);
  add([["::1"], ["::1"]], [
    ["[::1]", 443, true],
    ["[::1]", 80, true],
    ["[::2]", 443, false],
  ]);
  add(["10.0.0.5"], [
    ["10.0.0.5", 443, false],
    ["10.0.0.6", 443, false],
  ]);
  add([["10.0.0.5"], ["10.0.0.5"]], [
    ["10.0.0.5", 443, true],
    ["10.0.0.6", 443, false],
    ["10.0.0.5", 8080, false],
  ]);
  add(["169.254.169.254", "100.64.0.1", "[fd00:ec2::254]"], [
    ["169.254.169.254", 80, false],
    ["100.64.0.1", 443, false],
    ["[fd00:ec2::254]", 80, false],
  ]);
  add(["93.184.216.34"], [["93.184.216.34", 443, true]]);
  add(["[2606:4700::1]:8443"], [
    ["[2606:4700:0::1]", 8443, true],
    ["[2606:4700::2]", 8443, false],
  ]);
  return rows;
}

function label(row: Case): string {
  const opted = row.privateNetwork.length ? ` private ${JSON.stringify(row.privateNetwork)}` : "";
  return `${JSON.stringify(row.rules)}${opted} ${row.host}:${row.port}`;
}

function groups(rows: Case[]): Map<string, Case[]> {
  const grouped = new Map<string, Case[]>();
  for (const row of rows) {
    const key = JSON.stringify([row.rules, row.privateNetwork]);
    grouped.set(key, [...(grouped.get(key) ?? []), row]);
  }
  return grouped;
}

/** Loopback listeners on 127.0.0.1 and ::1 answering every HTTP request with 200. */
function loopbackServers() {
  const handler = () => new Response("reached");
  const v4 = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const v6 = Deno.serve({ hostname: "::1", port: 0, onListen() {} }, handler);
  return {
    v4: v4.addr.port,
    v6: v6.addr.port,
    async [Symbol.asyncDispose]() {
      await Promise.all([v4.shutdown(), v6.shutdown()]);
    },
  };
}

/** Sends `CONNECT target` to the proxy and returns the status code of its answer. */
async function connectStatus(proxyPort: number, target: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxyPort });
  try {
    await conn.write(new TextEncoder().encode(`CONNECT ${target} HTTP/1.1\r\n\r\n`));
    let head = "";
    const buffer = new Uint8Array(4096);
    while (!head.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

/**
 * The CONNECT target an HTTP client sends for a URL host: ASCII spellings as written (the proxy
 * reads `0x7f.1`, case and trailing dots itself), international names as punycode, as every
 * client encodes them (a request head is ASCII).
 */
function connectTarget(host: string, port: number): string {
  const ascii = /^[\x21-\x7e]+$/.test(host) ? host : new URL(`http://${host}/`).hostname;
  return `${ascii}:${port}`;
}

Deno.test("startProxy() gives every row of the host-rule table its verdict", async () => {
  await using servers = loopbackServers();
  const rows = table(servers.v4, servers.v6);
  for (const [, cases] of groups(rows)) {
    const asked: string[] = [];
    // Upstreams are faked: an admitted CONNECT reaches a loopback server, whatever its name.
    const connect: ProxyConnect = (host, port) => {
      asked.push(`${host}:${port}`);
      return Deno.connect({ hostname: "127.0.0.1", port: servers.v4 });
    };
    // The proxy resolves names itself: localhost to loopback, the others to a public address.
    const resolve = (host: string) =>
      Promise.resolve(host === "localhost" ? ["127.0.0.1", "::1"] : ["93.184.216.34"]);
    const proxy = startProxy({
      port: 0,
      allow: cases[0]!.rules,
      privateAllow: cases[0]!.privateNetwork,
      connect,
      resolve,
    });
    const proxyPort = (proxy.address as Deno.NetAddr).port;
    try {
      for (const row of cases) {
        const status = await connectStatus(proxyPort, connectTarget(row.host, row.port));
        assert.equal(status, row.allowed ? 200 : 403, label(row));
      }
      assert.equal(asked.length, cases.filter((row) => row.allowed).length);
    } finally {
      await proxy.close();
    }
  }
});

/**
 * Runs in `deno run` under the flags: for each probe, Deno's permission decision for the host
 * as `fetch` names it (a URL's host: punycode, dotted IPv4), and for reachable ones a real fetch.
 */
const DENO_PROBE = `
const out = [];
for (const { host, port, reachable } of JSON.parse(Deno.args[0])) {
  const url = new URL("http://" + host + ":" + port + "/");
  const state = (await Deno.permissions.query({ name: "net", host: url.hostname + ":" + port })).state;
  let fetched;
  if (reachable) {
    try {
      const response = await fetch(url);
      fetched = "ok:" + response.status + ":" + await response.text();
    } catch (error) {
      fetched = error instanceof Deno.errors.NotCapable ? "denied" : "error:" + error;
    }
  }
  out.push({ state, fetched });
}
console.log(JSON.stringify(out));
`;

Deno.test("denoPermissionFlags() gives every row of the host-rule table its verdict", async () => {
  await using servers = loopbackServers();
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-host-rules-" }));
  try {
    const probe = join(dir, "probe.js");
    await Deno.writeTextFile(probe, DENO_PROBE);
    const rows = table(servers.v4, servers.v6);
    const base: SandboxPolicy = {
      network: [],
      read: [],
      write: [],
      protect: [],
      workdir: dir,
      tmpDir: dir,
      memoryBytes: 1,
      maxProcesses: 1,
    };
    const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    for (const name of ["HOME", "DENO_DIR"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    const runs = [...groups(rows).values()].map(async (cases) => {
      const flags = denoPermissionFlags({
        ...base,
        network: cases[0]!.rules,
        privateNetwork: cases[0]!.privateNetwork,
      }, []);
      const probes = cases.map(({ host, port, reachable }) => ({ host, port, reachable }));
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--no-config", ...flags, probe, JSON.stringify(probes)],
        clearEnv: true,
        env,
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(
        output.code,
        0,
        `${JSON.stringify(cases[0]!.rules)}: ${flags.join(" ")}\n${stderr}`,
      );
      const results = JSON.parse(new TextDecoder().decode(output.stdout)) as {
        state: string;
        fetched?: string;
      }[];
      cases.forEach((row, i) => {
        const { state, fetched } = results[i]!;
        const where = `${label(row)} with ${flags.filter((f) => f.includes("-net")).join(" ")}`;
        // Deno decides on a special address when it connects (the permission query does not
        // know where a name resolves): a listener there tells.
        if (row.reachable) {
          if (row.allowed) assert.equal(fetched, "ok:200:reached", where);
          else assert.ok(!fetched?.startsWith("ok:"), `${where}: ${fetched}`);
        } else {
          assert.equal(state === "granted", row.allowed, `${where}: ${state}`);
        }
      });
    });
    await Promise.all(runs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseHostRule() reads each form into its canonical rule", () => {
  const read = (text: string) => {
    const parsed = parseHostRule(text);
    assert.ok(parsed.ok, `${text}: ${parsed.ok ? "" : parsed.reason}`);
    const { kind, host, ports } = parsed.rule;
    return { kind, host, ports: [...ports] };
  };
  assert.deepEqual(read("api.example.com"), {
    kind: "name",
    host: "api.example.com",
    ports: [80, 443],
  });
  assert.deepEqual(read("*.Example.COM.:8080"), {
    kind: "wildcard",
    host: "example.com",
    ports: [8080],
  });
  assert.deepEqual(read("Bücher.Example"), {
    kind: "name",
    host: "xn--bcher-kva.example",
    ports: [80, 443],
  });
  assert.deepEqual(read("[::1]:8080"), { kind: "address", host: "::1", ports: [8080] });
  assert.deepEqual(read("0:0:0:0:0:0:0:1"), { kind: "address", host: "::1", ports: [80, 443] });
  assert.deepEqual(read("0x7f.1"), { kind: "address", host: "127.0.0.1", ports: [80, 443] });
  assert.deepEqual(read("2130706433:5432"), { kind: "address", host: "127.0.0.1", ports: [5432] });
});

Deno.test("parseHostRule() refuses what is not a rule, with a reason", () => {
  const refusals: [string, RegExp][] = [
    ["", /empty/],
    ["*", /bare \*/],
    ["*:443", /bare \*/],
    ["*.10.0.0.1", /wildcard cannot cover an IP address/],
    ["api.*.example.com", /"\*"/],
    ["a b.example.com", /" "/],
    ["x@y.com", /"@"/],
    ["/etc", /"\/"/],
    ["exa%6dple.com", /"%"/],
    ["api.example.com..", /empty label/],
    ["-api.example.com", /label "-api"/],
    ["db.example.com:99999", /port/],
    ["db.example.com:0", /port/],
    ["[::1", /port|IPv6/],
    ["fe80::1%eth0", /IPv6/],
    ["1.2.3.4.5", /host name/],
  ];
  for (const [text, reason] of refusals) {
    const parsed = parseHostRule(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.reason, reason, text);
  }
});

Deno.test("parseHostRules() throws a ValidationError naming the invalid rule", () => {
  assert.equal(parseHostRules(["api.example.com", "*.example.com"]).length, 2);
  assert.throws(
    () => parseHostRules(["api.example.com", "*"]),
    (error: unknown) =>
      error instanceof ValidationError && error.message.includes('"*"') &&
      error.details?.rule === "*",
  );
  assert.throws(() => startProxy({ port: 0, allow: ["a b"] }), ValidationError);
});

Deno.test("hostGranted() covers a need only when every host and port it admits is granted", () => {
  assert.equal(hostGranted("api.example.com", ["api.example.com"]), true);
  assert.equal(hostGranted("api.example.com", ["*.example.com"]), true);
  assert.equal(hostGranted("bücher.example", ["xn--bcher-kva.example"]), true);
  assert.equal(hostGranted("API.example.com.", ["api.example.com"]), true);
  // A need without a port wants 80 and 443.
  assert.equal(hostGranted("api.example.com", ["api.example.com:443"]), false);
  assert.equal(hostGranted("api.example.com:443", ["api.example.com"]), true);
  assert.equal(hostGranted("api.example.com:8443", ["api.example.com"]), false);
  assert.equal(hostGranted("example.com", ["*.example.com"]), false);
  // A wildcard need is covered by a wildcard over the same or a wider domain only.
  assert.equal(hostGranted("*.example.com", ["*.example.com"]), true);
  assert.equal(hostGranted("*.api.example.com", ["*.example.com"]), true);
  assert.equal(hostGranted("*.example.com", ["*.api.example.com"]), false);
  assert.equal(hostGranted("*.example.com", ["api.example.com", "example.com"]), false);
  assert.equal(hostGranted("127.0.0.1:8080", ["0x7f.1:8080"]), true);
  assert.equal(hostGranted("127.0.0.1:8080", ["*.example.com:8080"]), false);
  assert.throws(() => hostGranted("api.example.com", ["x@y.com"]), ValidationError);
  assert.throws(() => hostGranted("*", ["*.example.com"]), ValidationError);
});

Deno.test("classifyAddress() names the special ranges, in IPv4 and IPv6 forms", () => {
  const cases: [string, string | undefined][] = [
    ["8.8.8.8", "public"],
    ["2606:4700::1111", "public"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.1", "public"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    // IPv6 forms of IPv4 addresses take the IPv4 address's class.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::192.168.0.1", "private"],
    ["[::1]", "loopback"],
    ["0x7f.1", "loopback"],
    // IPv4 translated (SIIT), 6to4 (its IPv4 in bits 16-47), local-use NAT64, Teredo.
    ["::ffff:0:7f00:1", "loopback"],
    ["2002:7f00:1::1", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["2002:808:808::1", "public"],
    ["64:ff9b:1::7f00:1", "private"],
    ["2001:0:4136:e378::1", "reserved"],
    // IANA's special-purpose ranges no public service uses (a lab may number its hosts there).
    ["192.0.2.2", "reserved"],
    ["192.0.0.8", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["2001:db8::1", "reserved"],
    ["3fff::1", "reserved"],
    ["5f00::1", "reserved"],
    ["2001:20::1", "reserved"],
    ["100::1", "reserved"],
    ["example.com", undefined],
    ["", undefined],
  ];
  for (const [address, expected] of cases) {
    assert.equal(classifyAddress(address), expected, address);
  }
  // This machine's own addresses outside those ranges are the host's, not public: a service
  // bound to every interface would be reached from the host.
  for (const item of Deno.networkInterfaces()) {
    const address = item.address.replace(/%.*$/, "");
    assert.notEqual(classifyAddress(address), "public", `${item.name} ${address}`);
  }
  const loopback = SPECIAL_RANGES.find((range) => range.cidr === "127.0.0.0/8")!;
  assert.equal(rangeContains(loopback, "::ffff:127.0.0.2"), true);
  assert.equal(rangeContains(loopback, "128.0.0.1"), false);
});

Deno.test("startProxy() refuses wildcard names resolving to any special address", async () => {
  const addresses: Record<string, string[]> = {
    "private.example.test": ["10.0.0.7"],
    "shared.example.test": ["100.64.1.1"],
    "ula.example.test": ["fd00::1"],
    "nat64.example.test": ["64:ff9b::7f00:1"],
    "compat.example.test": ["::127.0.0.1"],
  };
  const proxy = startProxy({
    port: 0,
    allow: ["*.example.test"],
    resolve: (host) => Promise.resolve(addresses[host] ?? []),
  });
  const port = (proxy.address as Deno.NetAddr).port;
  try {
    for (const host of Object.keys(addresses)) {
      assert.equal(await connectStatus(port, `${host}:443`), 403, host);
    }
    assert.deepEqual(
      proxy.log.map((entry) => entry.reason?.split(": ")[0]),
      Object.keys(addresses).map((host) =>
        `Host "${host}" resolves to an address that is not public`
      ),
    );
  } finally {
    await proxy.close();
  }
});

Deno.test("matchHost() trusts an exact rule whatever the order of the rules", () => {
  for (
    const texts of [["*.example.com", "api.example.com"], ["api.example.com", "*.example.com"]]
  ) {
    const rules = parseHostRules(texts);
    assert.deepEqual(matchHost("api.example.com", 443, rules), { allowed: true, exact: true });
    assert.deepEqual(matchHost("www.example.com", 443, rules), { allowed: true, exact: false });
  }
});

Deno.test("denoPermissionFlags() denies the special IPv4 ranges for every rule, less the opt-in", () => {
  const base: SandboxPolicy = {
    network: [],
    read: [],
    write: [],
    protect: [],
    workdir: "/w",
    tmpDir: "/t",
    memoryBytes: 1,
    maxProcesses: 1,
  };
  const net = (network: string[], privateNetwork?: string[]) => {
    const flags = denoPermissionFlags({ ...base, network, privateNetwork }, []);
    const value = (name: string) =>
      flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3).split(",") ?? [];
    return { allow: value("allow-net"), deny: value("deny-net") };
  };
  const special = SPECIAL_RANGES.filter((r) => !r.cidr.includes(":")).map((r) => r.cidr);
  // An exact name: every special IPv4 range, and IPv6 :: and ::1, are denied.
  const exact = net(["api.example.com"]);
  assert.deepEqual(exact.allow, ["api.example.com:80", "api.example.com:443"]);
  for (const cidr of [...special, "[::]", "[::1]"]) assert.ok(exact.deny.includes(cidr), cidr);
  // An exact special address without the opt-in is not even allowed.
  assert.deepEqual(net(["127.0.0.1:8080"]).allow, []);
  assert.deepEqual(net(["[fd00::1]:8080"]).allow, []);
  assert.deepEqual(net(["93.184.216.34"]).allow, ["93.184.216.34:80", "93.184.216.34:443"]);
  // With the opt-in, exactly that address is carved out of its range.
  const opted = net(["127.0.0.1:8080"], ["127.0.0.1:8080"]);
  assert.deepEqual(opted.allow, ["127.0.0.1:8080"]);
  assert.ok(!opted.deny.includes("127.0.0.0/8"));
  assert.ok(opted.deny.includes("127.0.0.2/31") && opted.deny.includes("127.0.0.0/32"));
  assert.ok(opted.deny.includes("10.0.0.0/8") && opted.deny.includes("[::1]"));
  assert.equal(opted.deny.filter((d) => d.startsWith("127.")).length, 24);
  // localhost opts in 127.0.0.1 and ::1; a wildcard opts in nothing; no rule, no deny.
  const local = net(["localhost:8080"], ["localhost:8080"]);
  assert.ok(!local.deny.includes("[::1]") && !local.deny.includes("127.0.0.0/8"));
  assert.ok(net(["*.example.com"], ["*.example.com"]).deny.includes("127.0.0.0/8"));
  assert.deepEqual(net([]), { allow: [], deny: [] });
  // The proxy fetch goes through stays reachable on its port only.
  const proxy = { hostname: "127.0.0.1", port: 40000 };
  const routed = denoPermissionFlags({ ...base, network: ["*.example.com", "x.org:8443"] }, [], {
    proxy,
  }).find((f) => f.startsWith("--deny-net="))!.split("=")[1]!.split(",");
  assert.ok(!routed.includes("127.0.0.0/8") && routed.includes("127.0.0.2/31"));
  for (const port of [80, 443, 8443]) assert.ok(routed.includes(`127.0.0.1:${port}`), `${port}`);
  assert.throws(
    () => denoPermissionFlags({ ...base, network: ["x.org:40000"] }, [], { proxy }),
    PermissionError,
  );
});

Deno.test("ipVersion() reads the address literals node:net's isIP reads, zone ids refused", () => {
  const literals = [
    "1.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.04",
    "1.2.3.4.",
    "0x7f.0.0.1",
    "127.1",
    "2130706433",
    "\u0663.1.1.1",
    "\uff11.2.3.4",
    "::",
    "::1",
    "1::",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    ":::",
    "1:::2",
    ":1::2",
    "1::2:",
    "::0:0:0:0:0:0:0",
    "::0:0:0:0:0:0:0:0",
    "FFFF::",
    "abcd:EF01::",
    "12345::",
    "g::1",
    "::ffff:1.2.3.4",
    "::ffff:1.2.3.04",
    "::ffff:256.1.1.1",
    "::ffff:1.2.3.4.5",
    "::1.2.3.4",
    "::1.2.3.4.",
    "::1.2.3.4:5",
    "1.2.3.4::",
    "1::1.2.3",
    "a::b:1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5::1.2.3.4",
    "a:b:c:d:e:f:1.2.3.4",
    "",
    " ::1",
    "::1 ",
    "[::1]",
    "example.com",
    "localhost",
  ];
  for (const literal of literals) {
    assert.equal(ipVersion(literal), isIP(literal), JSON.stringify(literal));
  }
  assert.equal(isIP("fe80::1%eth0"), 6);
  assert.equal(ipVersion("fe80::1%eth0"), 0, "a zone id is not part of a host rule");
});

Deno.test("clientNetwork() counts an IPv4 client by its address and an IPv6 one by its /64", () => {
  const cases: [string, string][] = [
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002::9", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    ["not an address", "not an address"],
  ];
  for (const [address, network] of cases) assert.equal(clientNetwork(address), network, address);
  assert.notEqual(clientNetwork("2001:db8:1:2::1"), clientNetwork("2001:db8:1:3::1"));
});
