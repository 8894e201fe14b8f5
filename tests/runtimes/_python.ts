/**
 * Shared fixtures of the PythonRuntime tests (`python*_test.ts`): a wheelhouse built once per
 * file, manifests, an offline pip environment, temp dirs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { execCommand } from "../../src/exec.ts";
import { PythonRuntime } from "../../src/runtimes/python.ts";
import { type PreparedRuntime, scriptCommand } from "../../src/runtimes/types.ts";
import { Manifest } from "../../src/schema.ts";
import { type TmpDir, withTmpDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheel.ts";

export const PY_VERSION = (await new PythonRuntime().describe()).version;
export const FIXTURE = "capibara-fixture";
/** Builds nothing from source and prints nothing: the unconfined path's warning is checked once. */
export const quiet = { warn: () => {} };

/** One wheelhouse for the whole file (fixture 1.0.0 and 2.0.0), removed at exit. */
export const WHEELS = await Deno.makeTempDir({ prefix: "capibara_wheels_" });
globalThis.addEventListener("unload", () => Deno.removeSync(WHEELS, { recursive: true }));
for (const version of ["1.0.0", "2.0.0"]) {
  await buildWheel(WHEELS, {
    name: FIXTURE,
    version,
    module: { "capi_fixture.py": `VALUE = "fixture ${version}"\n` },
  });
}

export function manifest(deps: string[]): Manifest {
  return Manifest.parse({
    fingerprint: "fp_" + "0".repeat(32),
    prompt_sha: "p_" + "0".repeat(32),
    context_sha: "c_" + "0".repeat(32),
    prompt: "test",
    language: "python",
    entry: "script.py",
    runtime: { name: "python", version: PY_VERSION },
    deps,
    needs: { network: [], env: [] },
    allow: {},
    template_version: "1",
    generator: { kind: "manual" },
    created_at: new Date().toISOString(),
    files: {},
  });
}

/** The user's environment without their pip configuration, plus an offline wheelhouse. */
export function offlineEnv(wheels: string): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("PIP_")),
  );
  return {
    ...env,
    PIP_CONFIG_FILE: "/dev/null", // ignore the machine's pip.conf
    PIP_NO_INDEX: "1",
    PIP_FIND_LINKS: wheels,
    PIP_NO_CACHE_DIR: "1",
  };
}

export interface Fixture extends AsyncDisposable {
  tmp: TmpDir;
  cacheDir: string;
  scriptDir: string;
  env: Record<string, string>;
}

/** A temp dir with a cache dir, a script dir, and pip pointed at the wheelhouse only. */
export async function fixture(): Promise<Fixture> {
  const tmp = await withTmpDir();
  const scriptDir = join(tmp.path, "project", ".capibara", "scripts", "fp_x");
  await Deno.mkdir(scriptDir, { recursive: true });
  return {
    tmp,
    cacheDir: join(tmp.path, "cache"),
    scriptDir,
    env: offlineEnv(WHEELS),
    [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
  };
}

/** What a `prepare()` in a process of its own did. */
export interface ChildPrepare {
  /** Its progress messages. */
  progress: string[];
  /** The environment it gave. */
  venv: string;
  /** The build id of that environment's marker. */
  build: string;
}

const WORKER = `import { PythonRuntime } from ${
  JSON.stringify(new URL("../../src/runtimes/python.ts", import.meta.url).href)
};
const [manifest, scriptDir, cacheDir] = JSON.parse(Deno.args[0]);
const progress = [];
const prepared = await new PythonRuntime().prepare(manifest, scriptDir, {
  cacheDir,
  progress: (m) => progress.push(m),
  warn: () => {},
});
const marker = JSON.parse(await Deno.readTextFile(prepared.env.VIRTUAL_ENV + ".capibara-ready"));
console.log(JSON.stringify({ progress, venv: prepared.env.VIRTUAL_ENV, build: marker.build_id }));
`;

/**
 * `PythonRuntime.prepare()` of `deps` in a Deno process of its own (nothing of this process's
 * memory shared), with `env` (default the fixture's) and `cacheDir` (default the fixture's).
 */
export async function prepareInChild(
  fx: Fixture,
  deps: string[],
  { env = fx.env, cacheDir = fx.cacheDir }: { env?: Record<string, string>; cacheDir?: string } =
    {},
): Promise<ChildPrepare> {
  const worker = join(fx.tmp.path, "prepare_worker.ts");
  await Deno.writeTextFile(worker, WORKER);
  const out = await execCommand({
    program: Deno.execPath(),
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      worker,
      JSON.stringify([manifest(deps), fx.scriptDir, cacheDir]),
    ],
    env,
    cwd: fx.tmp.path,
  }, { timeoutMs: 120_000 });
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "") as ChildPrepare;
}

/** Run a script importing the fixture module with a prepared runtime; its stdout. */
export async function runImport(prepared: PreparedRuntime, dir: string): Promise<string> {
  const script = join(dir, "script.py");
  const context = join(dir, "context.json");
  await Deno.writeTextFile(
    script,
    "import sys, capi_fixture\nprint(capi_fixture.VALUE)\nprint(sys.prefix)\n",
  );
  await Deno.writeTextFile(context, "{}");
  const spec = scriptCommand(prepared, script, context, {
    cwd: dir,
    env: { PATH: Deno.env.get("PATH") ?? "" },
  });
  const result = await execCommand(spec, { timeoutMs: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Directories (not lock files) under `<cacheDir>/venvs`. */
export async function venvDirs(cacheDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(cacheDir, "venvs"))) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

export function venvOf(prepared: PreparedRuntime): string {
  return prepared.env.VIRTUAL_ENV ?? assert.fail("no VIRTUAL_ENV");
}

export function building(messages: string[]): string[] {
  return messages.filter((m) => m.startsWith("Installing") || m.startsWith("Creating"));
}
