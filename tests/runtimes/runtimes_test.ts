import assert from "node:assert/strict";
import { markerFile } from "../../src/runtimes/_build_once.ts";
import { join } from "node:path";
import {
  DependencyError,
  IntegrityError,
  PermissionError,
  ValidationError,
} from "../../src/errors.ts";
import { sha256 } from "../../src/_hash.ts";
import { execCommand, type ExecResult } from "../../src/exec.ts";
import { BashRuntime } from "../../src/runtimes/bash.ts";
import { DENO_READY_MARKER, denoDirKey, DenoRuntime } from "../../src/runtimes/deno.ts";
import { denoCommand, denoPermissionFlags } from "../../src/sandbox/deno.ts";
import { DENO_RUNTIME_ENV } from "../../src/sandbox/deno_env.ts";
import { scriptCommand } from "../../src/runtimes/types.ts";
import { BubblewrapBackend } from "../../src/sandbox/linux.ts";
import type { SandboxBackend, SandboxPolicy } from "../../src/sandbox/types.ts";
import { type Language, Manifest, ScriptOutput } from "../../src/schema.ts";
import { snapshotTree } from "../helpers/cli.ts";
import { type TmpDir, withTmpDir } from "../helpers/tmp.ts";

const SECRET = "s3cr3t-value-never-seen";
const BASE_ENV = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", LANG: "C.UTF-8" };

function manifest(language: Language, deps: string[]): Manifest {
  return Manifest.parse({
    fingerprint: "fp_" + "0".repeat(32),
    prompt_sha: "p_" + "0".repeat(32),
    context_sha: "c_" + "0".repeat(32),
    prompt: "test",
    language,
    entry: language === "bash" ? "script.sh" : "script.ts",
    runtime: { name: language === "bash" ? "bash" : "deno", version: "0.0" },
    deps,
    needs: { network: [], env: [] },
    allow: {},
    template_version: "1",
    generator: { kind: "manual" },
    created_at: new Date().toISOString(),
    files: {},
  });
}

interface Fixture extends AsyncDisposable {
  tmp: TmpDir;
  /** The project: `in.txt` (granted), `out/` (writable), `.capibara/scripts/fp/` (protected). */
  workdir: string;
  scriptDir: string;
  /** A fake home outside every grant, with `.ssh/id_rsa`. */
  home: string;
  /** The run's private temp dir (context file inside). */
  runTmp: string;
  cacheDir: string;
  contextFile: string;
}

async function fixture(): Promise<Fixture> {
  const tmp = await withTmpDir("capibara_runtimes_");
  const root = await Deno.realPath(tmp.path);
  const workdir = join(root, "work");
  const scriptDir = join(workdir, ".capibara", "scripts", "fp_test");
  const home = join(root, "home");
  const runTmp = join(root, "run");
  const cacheDir = join(root, "cache");
  for (const dir of [scriptDir, join(workdir, "out"), join(home, ".ssh"), runTmp, cacheDir]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  await Deno.writeTextFile(join(workdir, "in.txt"), "granted input");
  await Deno.writeTextFile(join(workdir, "secret.txt"), "not granted");
  await Deno.writeTextFile(join(workdir, ".capibara", "config.json"), "{}\n");
  await Deno.writeTextFile(join(home, ".ssh", "id_rsa"), "PRIVATE KEY");
  return {
    tmp,
    workdir,
    scriptDir,
    home,
    runTmp,
    cacheDir,
    contextFile: join(runTmp, "context.json"),
    [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
  };
}

function policy(fx: Fixture, overrides: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    network: [],
    read: [join(fx.workdir, "in.txt")],
    write: [join(fx.workdir, "out")],
    protect: [join(fx.workdir, ".capibara")],
    workdir: fx.workdir,
    tmpDir: fx.runTmp,
    memoryBytes: 512 * 1024 * 1024,
    maxProcesses: 64,
    ...overrides,
  };
}

/** A TypeScript script that tries each action named in its context and reports what happened. */
const PROBE = `// --- CAPIBARA ---
// deps: none
// --- /CAPIBARA ---
const ctx = JSON.parse(await Deno.readTextFile(Deno.args[1]!.slice(1)));
const output: Record<string, string> = {};
async function attempt(name: string, action: () => unknown): Promise<void> {
  try {
    const value = await action();
    output[name] = "ok:" + (value === undefined ? "" : String(value));
  } catch (error) {
    output[name] = "denied:" + (error as Error).name;
  }
}
const actions: Record<string, () => unknown> = {
  read: () => Deno.readTextFile(ctx.read),
  read_outside: () => Deno.readTextFile(ctx.readOutside),
  read_workdir_secret: () => Deno.readTextFile(ctx.readWorkdirSecret),
  write: () => Deno.writeTextFile(ctx.write, "written"),
  write_outside: () => Deno.writeTextFile(ctx.writeOutside, "escaped"),
  write_protected: () => Deno.writeTextFile(ctx.writeProtected, "tampered"),
  remove_protected: () => Deno.remove(ctx.removeProtected, { recursive: true }),
  rename_protected: () => Deno.rename(ctx.removeProtected, ctx.renameTo),
  remove_workdir: () => Deno.remove(ctx.removeWorkdir, { recursive: true }),
  symlink: () => Deno.symlink(ctx.removeProtected, ctx.renameTo),
  run: async () => (await new Deno.Command("sh", { args: ["-c", "echo ran"] }).output()).code,
  ffi: () => Deno.dlopen(ctx.lib, {}),
  env_secret: () => Deno.env.get("CAPIBARA_TEST_SECRET"),
  env_granted: () => Deno.env.get("CAPIBARA_TEST_GRANTED"),
  fetch: async () => {
    const response = await fetch(ctx.url);
    await response.body?.cancel();
    return response.status;
  },
};
for (const name of ctx.try as string[]) await attempt(name, actions[name]!);
console.log("some log line first");
console.log(JSON.stringify({ status: "ok", artifacts: [], output, raw: {} }));
`;

/** Runs `script` with `denoCommand` under `pol`, the context written to the context file. */
async function runDeno(
  fx: Fixture,
  runtime: DenoRuntime,
  pol: SandboxPolicy,
  context: Record<string, unknown>,
  options: { script?: string; deps?: string[]; env?: Record<string, string>; granted?: string[] } =
    {},
): Promise<{ exec: ExecResult; output: Record<string, string> }> {
  const scriptPath = join(fx.scriptDir, "script.ts");
  await Deno.writeTextFile(scriptPath, options.script ?? PROBE);
  await Deno.writeTextFile(fx.contextFile, JSON.stringify(context));
  const prepared = await runtime.prepare(manifest("typescript", options.deps ?? []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  const env = { ...BASE_ENV, HOME: fx.runTmp, TMPDIR: fx.runTmp, ...options.env };
  const spec = denoCommand(prepared, scriptPath, fx.contextFile, pol, env, {
    grantedEnv: options.granted,
  });
  const exec = await execCommand(spec, { timeoutMs: 60_000, maxOutputBytes: 1_000_000 });
  const last = exec.stdout.trim().split("\n").at(-1) ?? "";
  let parsed: ScriptOutput;
  try {
    parsed = ScriptOutput.parse(JSON.parse(last));
  } catch (error) {
    throw new Error(`No contract line: code ${exec.code}\n${exec.stdout}\n${exec.stderr}`, {
      cause: error,
    });
  }
  return { exec, output: parsed.output as Record<string, string> };
}

/** A loopback HTTP server that counts the requests it answers. */
function loopbackServer(): AsyncDisposable & { url: string; port: number; hits: () => number } {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    hits++;
    return new Response("hello");
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    hits: () => hits,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function flagValues(flags: string[], name: string): string[] {
  const flag = flags.find((f) => f.startsWith(`--${name}=`));
  return flag === undefined ? [] : flag.slice(name.length + 3).split(",");
}

const FORBIDDEN = [
  "-A",
  "--allow-all",
  "--allow-run",
  "--allow-ffi",
  "--allow-sys",
  "--allow-import",
];

function assertNothingWholesale(flags: string[]): void {
  for (const flag of flags) {
    for (const forbidden of FORBIDDEN) {
      assert.ok(
        flag !== forbidden && !flag.startsWith(forbidden + "="),
        `${flag} must not be granted`,
      );
    }
  }
  for (const deny of ["--deny-run", "--deny-ffi", "--deny-sys"]) assert.ok(flags.includes(deny));
}

Deno.test("denoCommand() lets a script read and write only what the policy grants", async () => {
  await using fx = await fixture();
  await using server = loopbackServer();
  const before = { home: await snapshotTree(fx.home), capibara: await snapshotTree(fx.scriptDir) };
  const outside = join(fx.tmp.path, "escaped.txt");
  const { exec, output } = await runDeno(fx, new DenoRuntime(), policy(fx), {
    try: [
      "read",
      "read_outside",
      "read_workdir_secret",
      "write",
      "write_outside",
      "run",
      "ffi",
      "env_secret",
      "env_granted",
      "fetch",
    ],
    read: join(fx.workdir, "in.txt"),
    readOutside: join(fx.home, ".ssh", "id_rsa"),
    readWorkdirSecret: join(fx.workdir, "secret.txt"),
    write: join(fx.workdir, "out", "result.txt"),
    writeOutside: outside,
    lib: Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6",
    url: server.url,
  }, {
    env: { CAPIBARA_TEST_SECRET: SECRET, CAPIBARA_TEST_GRANTED: "visible" },
    granted: ["CAPIBARA_TEST_GRANTED"],
  });

  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(output.read, "ok:granted input");
  assert.equal(output.write, "ok:");
  assert.equal(await Deno.readTextFile(join(fx.workdir, "out", "result.txt")), "written");
  assert.equal(output.read_outside, "denied:NotCapable");
  assert.equal(
    output.read_workdir_secret,
    "denied:NotCapable",
    "a workdir file the context did not name must not be readable",
  );
  assert.equal(output.write_outside, "denied:NotCapable");
  await assert.rejects(Deno.stat(outside), Deno.errors.NotFound);
  assert.equal(output.run, "denied:NotCapable");
  assert.equal(output.ffi, "denied:NotCapable");
  assert.ok(output.env_secret === "ok:" || output.env_secret === "denied:NotCapable");
  assert.equal(output.env_granted, "ok:visible");
  assert.match(output.fetch ?? "", /^denied:/);
  assert.equal(server.hits(), 0);
  assert.ok(!exec.stdout.includes(SECRET) && !exec.stdout.includes("PRIVATE KEY"));
  assert.deepEqual(await snapshotTree(fx.home), before.home);
  assert.deepEqual(await snapshotTree(fx.scriptDir), {
    ...before.capibara,
    "script.ts": PROBE,
  });
});

Deno.test("denoPermissionFlags() grants exactly the granted host", async () => {
  const pol = {
    network: ["api.example.com"],
    read: ["/data/in.csv"],
    write: ["/data/out"],
    protect: [],
    workdir: "/data",
    tmpDir: "/tmp/run",
    memoryBytes: 1,
    maxProcesses: 1,
  };
  const flags = denoPermissionFlags(pol, []);
  assert.deepEqual(flagValues(flags, "allow-net"), ["api.example.com:80", "api.example.com:443"]);
  // An exact name never leads to the host's own services either.
  assert.ok(flagValues(flags, "deny-net").includes("127.0.0.0/8"));
  assert.equal(flags.filter((f) => f.startsWith("--allow-net")).length, 1);
  assert.deepEqual(
    denoPermissionFlags({ ...pol, network: [] }, []).filter((f) => f.startsWith("--allow-net")),
    [],
  );
  assert.deepEqual(
    flagValues(
      denoPermissionFlags({ ...pol, network: ["Api.Example.com.:8443"] }, []),
      "allow-net",
    ),
    ["api.example.com:8443"],
  );

  // A wildcard admits subdomains only, and never the host's own services.
  const wild = denoPermissionFlags({ ...pol, network: ["*.example.com"] }, []);
  assert.deepEqual(flagValues(wild, "allow-net"), ["*.example.com:80", "*.example.com:443"]);
  const denied = flagValues(wild, "deny-net");
  assert.ok(denied.includes("example.com:443") && denied.includes("127.0.0.0/8"), denied.join());
  // Invalid rules grant nothing: they are refused, naming the rule.
  for (const junk of ["*", "a b", "x@y.com", "/etc"]) {
    assert.throws(
      () => denoPermissionFlags({ ...pol, network: [junk] }, []),
      (error: unknown) => error instanceof ValidationError && error.message.includes(`"${junk}"`),
    );
  }

  // End to end: the granted loopback server (opted in) is reachable, nothing else is.
  await using fx = await fixture();
  await using server = loopbackServer();
  await using other = loopbackServer();
  const loopback = [`127.0.0.1:${server.port}`];
  const { output } = await runDeno(
    fx,
    new DenoRuntime(),
    policy(fx, { network: loopback, privateNetwork: loopback }),
    { try: ["fetch"], url: server.url },
  );
  assert.equal(output.fetch, "ok:200");
  const refused = await runDeno(
    fx,
    new DenoRuntime(),
    policy(fx, { network: loopback, privateNetwork: loopback }),
    { try: ["fetch"], url: other.url },
  );
  assert.match(refused.output.fetch ?? "", /^denied:/);
  assert.equal(server.hits(), 1);
  assert.equal(other.hits(), 0);
});

Deno.test("denoPermissionFlags() never grants run, ffi or sys", async () => {
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
  const policies: SandboxPolicy[] = [
    base,
    {
      ...base,
      network: ["*.example.com", "localhost:8080", "[::1]:9000"],
      read: ["/", "/etc"],
      write: ["/w", "/w/out"],
      protect: ["/w/.capibara", "/w/.git"],
    },
  ];
  for (const pol of policies) {
    for (const env of [[], ["HOME", "API_KEY"]]) {
      const flags = denoPermissionFlags(pol, env);
      assertNothingWholesale(flags);
      assert.ok(flags.every((f) => f.startsWith("--")), flags.join(" "));
    }
  }
  assert.throws(
    () => denoPermissionFlags({ ...base, read: ["/data/a,/"] }, []),
    /contains a comma/,
  );
  assert.throws(() => denoPermissionFlags({ ...base, write: ["relative/out"] }, []), /absolute/);
  assert.throws(() => denoPermissionFlags(base, ["A,B"]), /not a plain name/);
  assert.throws(() => denoPermissionFlags(base, ["AWS_*"]), /not a plain name/);
  // What the sandbox tells Deno itself (no WebGPU backend) is never a script's to change.
  for (const name of Object.keys(DENO_RUNTIME_ENV)) {
    assert.throws(
      () => denoPermissionFlags(base, ["HOME", name]),
      (error) => error instanceof PermissionError && error.message.includes(name),
    );
  }
  assert.deepEqual(Object.keys(DENO_RUNTIME_ENV), ["DENO_WEBGPU_BACKEND"]);

  await using fx = await fixture();
  const prepared = await new DenoRuntime().prepare(manifest("typescript", []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  const spec = denoCommand(prepared, "/w/s.ts", "/t/c.json", policies[1]!, { PATH: "/bin" });
  assertNothingWholesale(spec.args);
  const script = spec.args.indexOf("/w/s.ts");
  assert.deepEqual(spec.args.slice(0, 6), [
    "run",
    "--no-prompt",
    "--cached-only",
    "--no-config",
    "--no-lock",
    "--node-modules-dir=none",
  ]);
  assert.ok(spec.args.slice(0, script).some((a) => a.startsWith("--allow-read=")));
  assert.deepEqual(spec.args.slice(script), ["/w/s.ts", "--context", "@/t/c.json"]);
  assert.equal(spec.cwd, "/w");
  assert.equal(spec.env.DENO_DIR, prepared.env.DENO_DIR);
  assert.equal(spec.env.DENO_NO_PROMPT, "1");
  assert.deepEqual(flagValues(spec.args, "allow-env"), ["PATH"]);
});

Deno.test("denoCommand() keeps protected paths inside a write dir read-only", async () => {
  await using fx = await fixture();
  const capibara = join(fx.workdir, ".capibara");
  const before = await snapshotTree(capibara);
  const { exec, output } = await runDeno(
    fx,
    new DenoRuntime(),
    policy(fx, { write: [fx.workdir] }),
    {
      try: [
        "write",
        "write_protected",
        "remove_protected",
        "rename_protected",
        "remove_workdir",
        "symlink",
      ],
      write: join(fx.workdir, "new-at-root.txt"),
      writeProtected: join(fx.workdir, "out", "..", ".capibara", "scripts", "fp_test", "x.ts"),
      removeProtected: capibara,
      renameTo: join(fx.workdir, "moved"),
      removeWorkdir: fx.workdir,
    },
  );
  assert.equal(exec.code, 0, exec.stderr);
  assert.equal(output.write, "ok:", "the write dir stays writable around the protected path");
  for (
    const name of ["write_protected", "remove_protected", "rename_protected", "remove_workdir"]
  ) {
    assert.equal(output[name], "denied:NotCapable", name);
  }
  assert.equal(output.symlink, "denied:NotCapable");
  assert.deepEqual(await snapshotTree(capibara), {
    ...before,
    "scripts/fp_test/script.ts": PROBE,
  });
  await assert.rejects(Deno.stat(join(fx.workdir, "moved")), Deno.errors.NotFound);
});

/** A `deno` that logs its arguments, then runs the real one: counts subprocesses. */
async function countingDeno(
  dir: string,
): Promise<{ path: string; calls: () => Promise<string[]> }> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin, { recursive: true });
  const path = join(bin, "deno");
  const log = join(dir, "deno-calls.log");
  await Deno.writeTextFile(log, "");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\necho "$1" >> '${log}'\nexec '${Deno.execPath()}' "$@"\n`,
  );
  await Deno.chmod(path, 0o755);
  return {
    path,
    calls: async () => (await Deno.readTextFile(log)).split("\n").filter((l) => l),
  };
}

Deno.test("DenoRuntime.prepare() caches npm deps once and the run imports them offline", async () => {
  await using fx = await fixture();
  const deno = await countingDeno(fx.tmp.path);
  const deps = ["is-number==7.0.0"];
  const progress: string[] = [];
  const first = await new DenoRuntime({ deno: deno.path }).prepare(
    manifest("typescript", deps),
    fx.scriptDir,
    { cacheDir: fx.cacheDir, progress: (m) => progress.push(m) },
  );
  assert.deepEqual(await deno.calls(), ["cache"]);
  assert.deepEqual(progress, ["Caching 1 npm package…"]);
  const denoDir = join(fx.cacheDir, "deno", await denoDirKey(deps));
  assert.equal(first.env.DENO_DIR, denoDir);
  // Only the packages are readable, not the rest of the shared cache.
  assert.deepEqual(first.readPaths, [join(denoDir, "npm")]);
  const marker = await Deno.stat(markerFile(denoDir, DENO_READY_MARKER));

  // A fresh runtime: a hit needs no subprocess at all, only the marker.
  const second = await new DenoRuntime({ deno: deno.path }).prepare(
    manifest("typescript", [" is-number == 7.0.0 "]),
    fx.scriptDir,
    { cacheDir: fx.cacheDir, progress: (m) => progress.push(m) },
  );
  assert.deepEqual(second, first);
  assert.deepEqual(await deno.calls(), ["cache"]);
  assert.equal(progress.length, 1);
  assert.equal((await Deno.stat(markerFile(denoDir, DENO_READY_MARKER))).ino, marker.ino);

  const script = `// --- CAPIBARA ---
// deps: is-number==7.0.0
// --- /CAPIBARA ---
import isNumber from "npm:is-number@7.0.0";
console.log(JSON.stringify({
  status: "ok", artifacts: [], output: { five: isNumber(5), word: isNumber("x") }, raw: {},
}));
`;
  const { exec, output } = await runDeno(fx, new DenoRuntime({ deno: deno.path }), policy(fx), {}, {
    script,
    deps,
  });
  assert.equal(exec.code, 0, exec.stderr);
  assert.deepEqual(output, { five: true, word: false });
  // The entry's module graph is checked once (`info`) before it runs.
  assert.deepEqual(await deno.calls(), ["cache", "info", "run"]);

  // An import the set does not hold is not fetched at run time.
  const undeclared = script.replaceAll("is-number@7.0.0", "is-odd@3.0.1");
  await Deno.writeTextFile(join(fx.scriptDir, "script.ts"), undeclared);
  const spec = denoCommand(first, join(fx.scriptDir, "script.ts"), fx.contextFile, policy(fx), {
    ...BASE_ENV,
  });
  const offline = await execCommand(spec, { timeoutMs: 60_000 });
  assert.notEqual(offline.code, 0);
  assert.match(offline.stderr, /cached-only|not found in cache/i);
});

Deno.test("DenoRuntime.prepare() refuses an entry whose module graph holds a local file", async () => {
  await using fx = await fixture();
  const deno = await countingDeno(fx.tmp.path);
  const key = join(fx.home, ".ssh", "id_rsa");
  const ok = `import { join } from "node:path";\nconsole.log(join("a", "b"));\n`;
  const imports = [
    `import key from ${JSON.stringify(key)} with { type: "text" };\nconsole.log(key);\n`,
    `import s from "../../../secret.txt" with { type: "text" };\nconsole.log(s);\n`,
    `const m = await import(${JSON.stringify(key)}, { with: { type: "bytes" } });\n`,
    `import ${JSON.stringify("file://" + key)};\n`,
    `import "data:text/javascript,import '${"file://" + key}';";\n`,
  ];
  const scriptPath = join(fx.scriptDir, "script.ts");
  const prepare = () =>
    new DenoRuntime({ deno: deno.path }).prepare(manifest("typescript", []), fx.scriptDir, {
      cacheDir: fx.cacheDir,
    });
  for (const script of imports) {
    await Deno.writeTextFile(scriptPath, script);
    const error = await prepare().then(() => undefined, (e) => e);
    assert.ok(error instanceof PermissionError, `${script}: ${error}`);
    assert.match(error.message, /imports the local file "file:\/\//, script);
  }
  // Deno's flags alone let the static import read the key: the check is what stops it.
  await Deno.writeTextFile(scriptPath, imports[0]!);
  await Deno.writeTextFile(fx.contextFile, "{}");
  const direct = await execCommand({
    program: Deno.execPath(),
    args: ["run", "--no-prompt", "--no-config", `--allow-read=${fx.scriptDir}`, scriptPath],
    env: { PATH: "/usr/bin:/bin", DENO_DIR: join(fx.tmp.path, "direct-deno-dir") },
    cwd: fx.workdir,
  }, { timeoutMs: 60_000 });
  assert.match(direct.stdout, /PRIVATE KEY/);

  // npm: and node: imports pass; the clean verdict is remembered: no second `deno info`.
  await Deno.writeTextFile(scriptPath, ok);
  const before = (await deno.calls()).length;
  await prepare();
  await prepare();
  // (and the code cache seed, built once)
  assert.deepEqual((await deno.calls()).slice(before).filter((c) => c !== "run"), ["info"]);
});

Deno.test("DenoRuntime.prepare() checks the imports of the bytes the manifest verified, not of a file swapped in", async () => {
  await using fx = await fixture();
  const deno = await countingDeno(fx.tmp.path);
  const clean = `console.log("clean");\n`;
  const verified = {
    ...manifest("typescript", []),
    files: { "script.ts": "sha256:" + await sha256(clean) },
  };
  // The file in the store is not what the manifest verified: an import of a local file, swapped in
  // after the check (whoever may write in the store can).
  const key = join(fx.home, ".ssh", "id_rsa");
  await Deno.writeTextFile(
    join(fx.scriptDir, "script.ts"),
    `import key from ${JSON.stringify(key)} with { type: "text" };\nconsole.log(key);\n`,
  );
  const error = await new DenoRuntime({ deno: deno.path })
    .prepare(verified, fx.scriptDir, { cacheDir: fx.cacheDir })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof IntegrityError, String(error));
  assert.match(error.message, /script\.ts: it changed after it was checked/);
  assert.ok(!(await deno.calls()).includes("info"), "deno info read the swapped file");
  // The verified bytes pass.
  await Deno.writeTextFile(join(fx.scriptDir, "script.ts"), clean);
  await new DenoRuntime({ deno: deno.path }).prepare(verified, fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  assert.ok((await deno.calls()).includes("info"));
});

Deno.test("DenoRuntime.prepare() fills one set once under concurrency, per registry", async () => {
  await using fx = await fixture();
  const deno = await countingDeno(fx.tmp.path);
  const deps = ["is-number==7.0.0"];
  const options = { cacheDir: fx.cacheDir };
  const [a, b] = await Promise.all([
    new DenoRuntime({ deno: deno.path }).prepare(
      manifest("typescript", deps),
      fx.scriptDir,
      options,
    ),
    new DenoRuntime({ deno: deno.path }).prepare(
      manifest("typescript", deps),
      fx.scriptDir,
      options,
    ),
  ]);
  assert.deepEqual(a, b);
  assert.deepEqual(await deno.calls(), ["cache"]);
  assert.equal(a.env.NPM_CONFIG_REGISTRY, undefined);

  // The npm cache is laid out by registry: naming one refills, and every run is told.
  const registry = "https://registry.npmjs.org/";
  const env = { ...Deno.env.toObject(), NPM_CONFIG_REGISTRY: registry };
  const named = await new DenoRuntime({ deno: deno.path, env }).prepare(
    manifest("typescript", deps),
    fx.scriptDir,
    options,
  );
  assert.deepEqual(await deno.calls(), ["cache", "cache"]);
  assert.equal(named.env.NPM_CONFIG_REGISTRY, registry);
  assert.equal(named.env.DENO_DIR, a.env.DENO_DIR);
});

const bwrap = Deno.build.os === "linux" ? new BubblewrapBackend() : undefined;
const OS_SANDBOX = bwrap !== undefined && (await bwrap.available()).ok &&
  (await bwrap.proxyAvailable()).ok;

Deno.test({
  name: "DenoRuntime.prepare() runs deno cache in the sandbox, reaching only the npm registry",
  ignore: !OS_SANDBOX,
  fn: async () => {
    await using fx = await fixture();
    const policies: SandboxPolicy[] = [];
    const recording: SandboxBackend = {
      name: "recording",
      available: () => bwrap!.available(),
      wrap: (spec, pol) => {
        policies.push(pol);
        return bwrap!.wrap(spec, pol);
      },
    };
    const deps = ["is-number==7.0.0"];
    const env = { ...Deno.env.toObject(), HOME: fx.home };
    const prepared = await new DenoRuntime({ env }).prepare(
      manifest("typescript", deps),
      fx.scriptDir,
      { cacheDir: fx.cacheDir, sandbox: recording },
    );
    assert.equal(policies.length, 1);
    const [used] = policies;
    assert.deepEqual(used!.network, ["registry.npmjs.org:443"]);
    assert.deepEqual(used!.write, [prepared.env.DENO_DIR]);
    assert.ok(!used!.read.some((path) => path.startsWith(fx.home)), used!.read.join());
    // What the confined fill cached is what the run needs, offline.
    const script = `import isNumber from "npm:is-number@7.0.0";
console.log(JSON.stringify({ status: "ok", artifacts: [], output: { five: isNumber(5) }, raw: {} }));
`;
    const { exec, output } = await runDeno(fx, new DenoRuntime({ env }), policy(fx), {}, {
      script,
      deps,
    });
    assert.equal(exec.code, 0, exec.stderr);
    assert.deepEqual(output, { five: true });
  },
});

Deno.test("DenoRuntime.prepare() needs no subprocess for a script without deps, once its code cache seed is built", async () => {
  await using fx = await fixture();
  const deno = await countingDeno(fx.tmp.path);
  const runtime = new DenoRuntime({ deno: deno.path });
  const prepared = await runtime.prepare(manifest("typescript", []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  assert.equal(prepared.interpreter, deno.path);
  // The seed, built once for this binary by a run of Capibara's own module.
  assert.deepEqual(await deno.calls(), ["run"]);
  assert.ok(!prepared.interpreterArgs.includes("--no-code-cache"));
  const denoDir = prepared.env.DENO_DIR!;
  const seed = join(denoDir, "v8_code_cache_seed");
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(seed, { readOnly: true });
  const specifiers = db.prepare("SELECT specifier FROM codecache").all().map((row) =>
    String(row.specifier)
  );
  db.close();
  // Deno's own modules only: Node's built-ins, nothing of a file or a package.
  assert.ok(specifiers.some((s) => s.startsWith("ext:deno_node/")), specifiers.join(", "));
  assert.deepEqual(specifiers.filter((s) => !s.startsWith("ext:")), []);
  // One file: no journal beside it that a copy would miss.
  assert.deepEqual(
    [...Deno.readDirSync(denoDir)].map((e) => e.name).filter((n) => n.startsWith("v8_")).sort(),
    ["v8_code_cache_seed", "v8_code_cache_seed.for"],
  );

  const again = await runtime.prepare(manifest("typescript", []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  assert.deepEqual(again, prepared);
  assert.deepEqual(await deno.calls(), ["run"]);

  // Another binary at the same path (an upgrade): a new seed, once.
  const seedIno = Deno.statSync(seed).ino;
  await Deno.writeTextFile(deno.path, (await Deno.readTextFile(deno.path)) + "# upgraded\n");
  await new DenoRuntime({ deno: deno.path }).prepare(manifest("typescript", []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  assert.deepEqual(await deno.calls(), ["run", "run"]);
  assert.notEqual(Deno.statSync(seed).ino, seedIno);

  // A set with packages runs without a code cache: its run would write its packages' whole cache.
  const withDeps = await runtime.prepare(
    manifest("typescript", ["is-number==7.0.0"]),
    fx.scriptDir,
    {
      cacheDir: fx.cacheDir,
    },
  );
  assert.ok(withDeps.interpreterArgs.includes("--no-code-cache"));
});

Deno.test("DenoRuntime.prepare() reports an unknown npm package as a DependencyError", async () => {
  await using fx = await fixture();
  const deps = ["definitely-not-a-real-pkg-xyz==1.0.0"];
  const caught = await new DenoRuntime().prepare(manifest("typescript", deps), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(caught instanceof DependencyError);
  assert.match(caught.message, /^Cannot cache npm packages: /);
  assert.match(caught.message, /definitely-not-a-real-pkg-xyz/);
  assert.ok(String(caught.details?.stderr).length > 0);
  // The half-filled directory is gone; only the lock file stays.
  const left = await Array.fromAsync(Deno.readDir(join(fx.cacheDir, "deno")), (e) => e.name);
  assert.deepEqual(left, [`${await denoDirKey(deps)}.lock`]);

  for (
    const bad of ["is-number@7.0.0", "is-number==^7.0.0", "is-number==7", "https://x/y==1.0.0"]
  ) {
    await assert.rejects(
      new DenoRuntime().prepare(manifest("typescript", [bad]), fx.scriptDir, {
        cacheDir: fx.cacheDir,
      }),
      DependencyError,
      bad,
    );
  }
});

Deno.test("DenoRuntime.describe() reports deno's major.minor", async () => {
  await using tmp = await withTmpDir();
  const own = await new DenoRuntime().describe();
  assert.deepEqual(own, {
    name: "deno",
    version: Deno.version.deno.split(".").slice(0, 2).join("."),
  });
  const deno = await countingDeno(tmp.path);
  assert.deepEqual(await new DenoRuntime({ deno: deno.path }).describe(), own);
  assert.deepEqual(await deno.calls(), ["--version"]);
  await assert.rejects(
    new DenoRuntime({ deno: "/nonexistent/deno" }).describe(),
    DependencyError,
  );
});

Deno.test("BashRuntime runs a script with --context @file", async () => {
  await using fx = await fixture();
  const runtime = new BashRuntime();
  const described = await runtime.describe();
  assert.equal(described.name, "bash");
  assert.match(described.version, /^\d+\.\d+$/);
  const prepared = await runtime.prepare(manifest("bash", []), fx.scriptDir, {
    cacheDir: fx.cacheDir,
  });
  assert.ok(prepared.interpreter.startsWith("/"), prepared.interpreter);
  assert.deepEqual(prepared.interpreterArgs, ["--noprofile", "--norc"]);
  assert.deepEqual(prepared.readPaths, []);

  const scriptPath = join(fx.scriptDir, "script.sh");
  await Deno.writeTextFile(
    scriptPath,
    `#!/usr/bin/env bash
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
set -euo pipefail
context=""
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context="$2"; shift 2 ;;
    *) shift ;;
  esac
done
case "$context" in @*) ctx_json="$(cat "\${context#@}")" ;; *) ctx_json="$context" ;; esac
echo "log line"
printf '{"status":"ok","artifacts":[],"output":{"ctx":%s,"bash":"%s"},"raw":{}}\\n' \\
  "$ctx_json" "\${BASH_VERSINFO[0]}"
`,
  );
  await Deno.writeTextFile(fx.contextFile, JSON.stringify({ input: "in.txt", n: 3 }));
  const spec = scriptCommand(prepared, scriptPath, fx.contextFile, {
    cwd: fx.workdir,
    env: { ...BASE_ENV, HOME: fx.runTmp },
  });
  const exec = await execCommand(spec, { timeoutMs: 30_000 });
  assert.equal(exec.code, 0, exec.stderr);
  const last = exec.stdout.trim().split("\n").at(-1)!;
  const parsed = ScriptOutput.parse(JSON.parse(last));
  assert.deepEqual(parsed.output, {
    ctx: { input: "in.txt", n: 3 },
    bash: described.version.split(".")[0],
  });
});

Deno.test("BashRuntime.prepare() refuses requirements", async () => {
  await using fx = await fixture();
  await assert.rejects(
    new BashRuntime().prepare(manifest("bash", ["jq==1.7.1"]), fx.scriptDir, {
      cacheDir: fx.cacheDir,
    }),
    (error: unknown) =>
      error instanceof DependencyError && /bash scripts have none/.test(error.message),
  );
  await assert.rejects(
    new BashRuntime({ bash: "no-such-bash", env: { PATH: "/nonexistent" } }).prepare(
      manifest("bash", []),
      fx.scriptDir,
      { cacheDir: fx.cacheDir },
    ),
    DependencyError,
  );
});

Deno.test("denoDirKey() keeps its format: environments cached before stay found", async () => {
  // The sha256 of the normalised, sorted requirements, a line each; no requirements: of "".
  assert.equal(await denoDirKey([]), (await sha256("")).slice(0, 16));
  assert.equal(
    await denoDirKey(["zod == 3.23.8", "is-number==7.0.0"]),
    (await sha256("is-number==7.0.0\nzod==3.23.8")).slice(0, 16),
  );
  await assert.rejects(denoDirKey(["zod==latest"]), DependencyError, "zod==latest");
});
