import assert from "node:assert/strict";
import { join } from "node:path";
import { backendFor, DENO_ONLY_WARNING, runStaged, stage } from "../../src/run/execute.ts";
import { type Plan, planRun } from "../../src/run/plan.ts";
import { mergeGrants } from "../../src/sandbox/policy.ts";
import type { Manifest } from "../../src/schema.ts";
import { IntegrityError } from "../../src/errors.ts";
import { sha256 } from "../../src/_hash.ts";
import { platformBackend } from "../../src/sandbox/mod.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const os = platformBackend();
const OS_SANDBOX = Deno.build.os === "linux" && os !== undefined && (await os.available()).ok;

Deno.test({
  name: "backendFor() wraps TypeScript in bubblewrap on Linux, Deno's flags inside",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const warnings: string[] = [];
    const backend = await backendFor("typescript", {
      sandbox: true,
      cacheDir: tmp.path,
      warn: (m) => warnings.push(m),
    });
    assert.equal(backend.name, "deno-permissions+bubblewrap");
    assert.deepEqual(warnings, []);
  },
});

Deno.test("backendFor() runs TypeScript under Deno's flags alone with --no-sandbox", async () => {
  await using tmp = await withTmpDir();
  const warnings: string[] = [];
  const backend = await backendFor("typescript", {
    sandbox: false,
    cacheDir: tmp.path,
    warn: (m) => warnings.push(m),
  });
  assert.equal(backend.name, "deno-permissions");
  assert.ok((await backend.available()).ok);
  assert.ok(!warnings.includes(DENO_ONLY_WARNING));
});

/**
 * A Python entry in a store folder, planned for a run: `script.py` prints `who`, and the manifest
 * lists its hash as verified.
 */
async function pythonEntry(root: string, who: string): Promise<{ plan: Plan; source: string }> {
  const work = join(root, "work");
  const dir = join(work, ".capibara", "scripts", "fp_" + "0".repeat(32));
  await Deno.mkdir(dir, { recursive: true });
  const script = (name: string) =>
    `print(${JSON.stringify(JSON.stringify({ status: "ok", output: { who: name } }))})\n`;
  const source = join(dir, "script.py");
  await Deno.writeTextFile(source, script(who));
  const manifest = {
    language: "python",
    entry: "script.py",
    needs: { network: [], env: [] },
    runtime: { name: "python", version: "3" },
    files: { "script.py": "sha256:" + await sha256(script(who)) },
  } as unknown as Manifest;
  const plan = await planRun({
    entry: { dir, manifest },
    context: {},
    grants: mergeGrants(),
    config: {
      memoryBytes: 256 * 1024 ** 2,
      maxProcesses: 64,
      env: {},
      cacheDir: join(root, "cache"),
    },
    prepared: { interpreter: PYTHON!, interpreterArgs: ["-I"], readPaths: [], env: {} },
    tmpDir: join(root, "run"),
    workdir: work,
    storeRoot: work,
  });
  return { plan, source };
}

const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

for (const confined of [false, true]) {
  Deno.test({
    name:
      `runStaged() runs the bytes the manifest verified, though the store's file is replaced after staging (${
        confined ? "OS sandbox, held at its gate" : "no sandbox"
      })`,
    ignore: PYTHON === undefined || (confined && !OS_SANDBOX),
    async fn() {
      await using tmp = await withTmpDir();
      const root = await Deno.realPath(tmp.path);
      const { plan, source } = await pythonEntry(root, "verified");
      const backend = confined
        ? os!
        : await backendFor("python", { sandbox: false, cacheDir: root, warn: () => {} });
      const staged = await stage(plan, backend, { held: confined });
      // Whoever may write in the store swaps the script between the check and the run.
      await Deno.writeTextFile(
        source,
        'print(\'{"status": "ok", "output": {"who": "swapped"}}\')\n',
      );
      const { exec } = await runStaged(staged, { timeoutMs: 30_000, maxOutputBytes: 1_000_000 });
      assert.equal(exec.code, 0, exec.stderr);
      assert.match(exec.stdout, /"who":"verified"/);
      assert.doesNotMatch(exec.stdout, /swapped/);
    },
  });
}

Deno.test("stage() refuses a script whose bytes are not those its manifest verified: nothing runs", async () => {
  await using tmp = await withTmpDir();
  const root = await Deno.realPath(tmp.path);
  const { plan, source } = await pythonEntry(root, "verified");
  await Deno.writeTextFile(source, "import os; os.system('touch pwned')\n");
  const backend = await backendFor("python", { sandbox: false, cacheDir: root, warn: () => {} });
  await assert.rejects(stage(plan, backend), (error: unknown) => {
    assert.ok(error instanceof IntegrityError, String(error));
    assert.match(error.message, /script\.py: it changed after it was checked/);
    return true;
  });
  assert.equal(await Deno.lstat(plan.policy.tmpDir).then(() => true, () => false), false);
});
