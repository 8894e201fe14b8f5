/**
 * The Deno permissions backend's network: `fetch` goes through Capibara's proxy, which decides on
 * resolved addresses; the flags still check the host first. Real `deno run`, real proxy, a real
 * listener on loopback that counts connections.
 */
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { join } from "node:path";
import { denoPermissionFlags, DenoPermissionsBackend } from "../../src/sandbox/deno.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { isPublicAddress } from "../../src/sandbox/host_rules.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";
import { PermissionError } from "../../src/errors.ts";
import type { CommandSpec } from "../../src/exec.ts";

const PROBE = `
const out = {};
const [target, rawHost, rawPort] = Deno.args;
try {
  const response = await fetch(target);
  out.fetch = response.status + ":" + (response.headers.get("x-capibara-proxy") ?? "") + ":" +
    (await response.text()).trim();
} catch (error) {
  out.fetch = "error:" + error.name;
}
try {
  (await Deno.connect({ hostname: rawHost, port: Number(rawPort) })).close();
  out.connect = "connected";
} catch (error) {
  out.connect = "error:" + error.name;
}
console.log(JSON.stringify(out));
`;

Deno.test("DenoPermissionsBackend.wrap() sends fetch through the proxy, and refuses loopback", async () => {
  let hits = 0;
  const service = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of service) {
      hits++;
      await conn.read(new Uint8Array(4096)).catch(() => null);
      const body = "service says hi";
      await conn.write(
        new TextEncoder().encode(
          `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      ).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  const port = service.addr.port;
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-deno-net-" }));
  const probe = join(dir, "probe.js");
  await Deno.writeTextFile(probe, PROBE);
  const policy = (network: string[], privateNetwork?: string[]): SandboxPolicy => ({
    network,
    privateNetwork,
    read: [probe],
    write: [],
    protect: [],
    workdir: dir,
    tmpDir: dir,
    memoryBytes: 1,
    maxProcesses: 1,
  });
  const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  for (const name of ["HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const run = async (pol: SandboxPolicy, url: string, host: string) => {
    const wrapped = await new DenoPermissionsBackend().wrap({
      program: Deno.execPath(),
      args: ["run", "--quiet", "--no-config", probe, url, host, String(port)],
      env,
      cwd: dir,
    }, pol);
    try {
      const output = await new Deno.Command(wrapped.spec.program, {
        args: wrapped.spec.args,
        env: wrapped.spec.env,
        clearEnv: true,
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, stderr);
      return {
        proxy: wrapped.spec.env.HTTP_PROXY,
        ...JSON.parse(new TextDecoder().decode(output.stdout)) as {
          fetch: string;
          connect: string;
        },
      };
    } finally {
      await wrapped.close();
    }
  };
  try {
    // A granted name: the flags admit it, and fetch asks the proxy, which resolves it (here it
    // cannot: the name does not exist) and answers itself.
    const unknown = await run(policy(["api.example.test"]), "http://api.example.test/", "x");
    assert.match(unknown.fetch, /^502:1:Cannot resolve "api\.example\.test"$/);
    // The proxy was stopped with the run.
    assert.ok(unknown.proxy);
    const { hostname, port: proxyPort } = new URL(unknown.proxy);
    // The port may already serve another test's listener (files run in parallel): what must be
    // gone is this run's proxy, which would answer for the name it granted.
    const answer = await Deno.connect({ hostname, port: Number(proxyPort) }).then(
      async (conn) => {
        try {
          // Another listener on the port may reset the connection: not this run's proxy either.
          const sent = await conn.write(
            new TextEncoder().encode("CONNECT api.example.test:80 HTTP/1.1\r\n\r\n"),
          ).catch(() => 0);
          if (sent === 0) return "";
          const buffer = new Uint8Array(512);
          const timer = setTimeout(() => conn.close(), 2000);
          const n = await conn.read(buffer).catch(() => null);
          clearTimeout(timer);
          return new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        } finally {
          try {
            conn.close();
          } catch {
            // closed by the timer
          }
        }
      },
      () => "",
    );
    assert.doesNotMatch(
      answer,
      /Cannot resolve "api\.example\.test"/,
      "the proxy outlived the run",
    );

    // This machine's own name, when it resolves to a special address only (a loopback or private
    // address in /etc/hosts, as on most machines): refused, by the flags (Deno checks the
    // address a name resolves to against --deny-net before it asks the proxy) or by the proxy
    // (for what the flags cannot express: IPv6 ranges, IPv4-mapped addresses).
    const self = Deno.hostname().toLowerCase();
    const addresses = (await lookup(self, { all: true }).catch(() => [])).map((a) => a.address);
    if (
      self !== "localhost" && addresses.length > 0 && !addresses.some(isPublicAddress)
    ) {
      const refused = await run(policy([`${self}:${port}`]), `http://${self}:${port}/`, self);
      assert.match(refused.fetch, /^(?:error:|403:1:.*--allow-private-net)/);
      assert.match(refused.connect, /^error:/);
    } else {
      console.warn(`SKIPPED: ${self} resolves to ${addresses.join(", ") || "nothing"}`);
    }
    assert.equal(hits, 0);

    // Opted in: reached, through the proxy.
    const granted = [`127.0.0.1:${port}`];
    const reached = await run(policy(granted, granted), `http://127.0.0.1:${port}/`, "127.0.0.1");
    assert.equal(reached.fetch, "200::service says hi");
    assert.equal(hits, 2); // the fetch and the raw connection
  } finally {
    service.close();
    await serving;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoPermissionsBackend.wrap() without an OS sandbox denies the special IPv6 addresses granted names resolve to", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-deno-net-" }));
  const asked: string[] = [];
  const resolve = (name: string) => {
    asked.push(name);
    const answers: Record<string, string[]> = {
      "metadata.example.test": ["fd00:ec2::254", "93.184.216.34"],
      "mapped.example.test": ["::ffff:127.0.0.1"],
      "mapped-opted.example.test": ["::ffff:192.168.1.7"],
      "opted.example.test": ["fd12::5"],
      "public.example.test": ["2001:4860:4860::8888", "10.0.0.5"],
    };
    return Promise.resolve(answers[name] ?? []);
  };
  const network = [
    "metadata.example.test",
    "mapped-opted.example.test:8080",
    "opted.example.test:8080",
    "public.example.test",
    "*.wild.example.test",
  ];
  const wrap = (network: string[]) =>
    new DenoPermissionsBackend({ resolve }).wrap({
      program: Deno.execPath(),
      args: ["run", "--no-config", join(dir, "x.ts")],
      env: {},
      cwd: dir,
    }, {
      network,
      privateNetwork: ["[fd12::5]:8080", "192.168.1.7:8080"],
      read: [],
      write: [],
      protect: [],
      workdir: dir,
      tmpDir: dir,
      memoryBytes: 1,
      maxProcesses: 1,
    });
  try {
    // A name resolving to an IPv4-mapped special address: Deno lets a connection through every
    // --deny-net of it (with or without a port, either spelling), so the run is refused.
    await assert.rejects(wrap(["mapped.example.test"]), (error: unknown) => {
      assert.ok(error instanceof PermissionError, String(error));
      assert.match(error.message, /"mapped\.example\.test" resolves to ::ffff:127\.0\.0\.1/);
      return true;
    });
    asked.length = 0;
    const wrapped = await wrap(network);
    await wrapped.close();
    const deny = wrapped.spec.args.find((a) => a.startsWith("--deny-net="))!.split("=")[1]!
      .split(",");
    // The ULA: denied by address. The opted-in ones (an IPv6 and an IPv4-mapped address) and
    // public addresses: not. IPv4 ones are covered by the ranges already (10.0.0.0/8).
    for (const value of ["[fd00:ec2::254]", "[fd00:ec2::254]:80", "[fd00:ec2::254]:443"]) {
      assert.ok(deny.includes(value), `${value} not in ${deny.join(",")}`);
    }
    assert.ok(!deny.some((d) => d.includes("::ffff")), deny.join(","));
    assert.ok(!deny.some((d) => d.startsWith("[fd12::5")), deny.join(","));
    assert.ok(!deny.some((d) => d.includes("2001:4860")), deny.join(","));
    assert.ok(deny.includes("10.0.0.0/8"));
    // Wildcards cannot be resolved ahead; exact names are.
    assert.deepEqual(asked.sort(), [
      "mapped-opted.example.test",
      "metadata.example.test",
      "opted.example.test",
      "public.example.test",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A run that may use a code cache (no --no-code-cache: a script without packages), wrapped in a
 * folder of its own with a seed in its requirement set's DENO_DIR: its arguments, its own DENO_DIR
 * and whether that DENO_DIR got a copy of the seed.
 */
async function wrapSeeded(
  backend: DenoPermissionsBackend,
  dir: string,
  name: string,
  write: string[],
): Promise<{ args: string[]; own: string; copied: boolean; close: () => Promise<void> }> {
  const cache = join(dir, "cache");
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(join(cache, "v8_code_cache_seed"), "seed");
  const tmp = join(dir, "work", name);
  await Deno.mkdir(tmp, { recursive: true });
  const wrapped = await backend.wrap({
    program: Deno.execPath(),
    args: ["run", "--no-config", join(dir, "script.ts")],
    env: { DENO_DIR: cache },
    cwd: dir,
  }, {
    network: [],
    read: [],
    write,
    protect: [],
    workdir: dir,
    tmpDir: tmp,
    memoryBytes: 1,
    maxProcesses: 1,
  });
  const own = wrapped.spec.env!.DENO_DIR!;
  return {
    args: wrapped.spec.args,
    own,
    copied: await Deno.lstat(join(own, "v8_code_cache_v2")).then(() => true, () => false),
    close: () => wrapped.close(),
  };
}

Deno.test("DenoPermissionsBackend: the run's DENO_DIR is never the script's to write, and holds a code cache only inside an OS sandbox", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-denodir-flags-" }));
  try {
    const run = await wrapSeeded(new DenoPermissionsBackend(), dir, "tmp", [dir]);
    assert.equal(run.own, join(dir, "work", "tmp", ".deno"));
    assert.ok(run.args.includes(`--deny-write=${run.own}`), run.args.join(" "));
    // Deno's flags alone: a script granted the temp dir's parent could rename the temp dir away,
    // change its code cache and rename it back, so there is none to change.
    assert.ok(run.args.includes("--no-code-cache"), run.args.join(" "));
    assert.equal(run.copied, false);
    await run.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoPermissionsBackend: inside an OS sandbox a run starts with the code cache seed, unless a path it may write holds its temp dir", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-denodir-os-" }));
  try {
    // The OS layer as a pass-through: what is checked here is what Deno's own layer asks for.
    const os = {
      name: "pass-through",
      available: () => Promise.resolve({ ok: true }),
      wrap: (spec: CommandSpec) => Promise.resolve({ spec, close: () => Promise.resolve() }),
    };
    const backend = new DenoPermissionsBackend({ os });
    const plain = await wrapSeeded(backend, dir, "plain", []);
    assert.equal(plain.args.includes("--no-code-cache"), false);
    assert.equal(plain.copied, true);
    // A grant above the temp dir: the script could rename a folder on its way and change the
    // cache behind the deny, which names the path.
    const above = await wrapSeeded(backend, dir, "above", [join(dir, "work")]);
    assert.equal(above.args.includes("--no-code-cache"), true);
    assert.equal(above.copied, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoPermissionFlags(): a folder a protected path hangs from cannot be moved aside, its neighbours stay writable", async () => {
  await using tmp = await withTmpDir("capibara-deno-pinned-");
  const root = await Deno.realPath(tmp.path);
  const grant = join(root, "grant");
  const state = join(grant, "cache", "capibara");
  await Deno.mkdir(state, { recursive: true });
  await Deno.mkdir(join(grant, "docs"));
  const script = join(root, "script.js");
  await Deno.writeTextFile(
    script,
    `const tries = {};
for (const [name, act] of [
  ["rename the folder above", () => Deno.renameSync(${JSON.stringify(join(grant, "cache"))}, ${
      JSON.stringify(join(grant, "moved"))
    })],
  ["write in the protected folder", () => Deno.writeTextFileSync(${
      JSON.stringify(join(state, "x"))
    }, "x")],
  ["write beside", () => Deno.writeTextFileSync(${
      JSON.stringify(join(grant, "docs", "ok.txt"))
    }, "ok")],
]) {
  try { act(); tries[name] = "done"; } catch (error) { tries[name] = error.name; }
}
console.log(JSON.stringify(tries));`,
  );
  const flags = denoPermissionFlags({
    network: [],
    read: [script],
    write: [grant],
    protect: [state],
    workdir: root,
    tmpDir: join(root, "tmp"),
    memoryBytes: 1,
    maxProcesses: 1,
  }, []);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    "rename the folder above": "NotCapable",
    "write in the protected folder": "NotCapable",
    "write beside": "done",
  });
  assert.ok(await Deno.stat(state));
});
