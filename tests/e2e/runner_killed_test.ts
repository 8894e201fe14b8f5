/**
 * The resident runner killed (the OOM killer, `kill -9`, a logout) while it serves a
 * `capibara run --json`: the command still prints one JSON error document with its exit code, as
 * every error is reported, and nothing of the script outlives its runner.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import type { Bundle } from "../../src/schema.ts";
import { CLI, cliEnv, OS_SANDBOX, testCache } from "../helpers/cli.ts";
import { bundleObject, fixedGenerator } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { capibara, testName } from "../helpers/runner.ts";
import { commandLines } from "../helpers/processes.ts";

const CACHE = await testCache("runner_killed_cache_");

Deno.test({
  name:
    "a runner killed during a run gives a --json command one JSON error, and the script dies with it",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const project = join(tmp.path, "project");
    await Deno.mkdir(project);
    // The runner's temp folder, this test's alone: the script's command line names it.
    const runs = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "capibara_runner_killed_runs_" }),
    );
    await Deno.chmod(runs, 0o1777);
    await using _runs = { [Symbol.asyncDispose]: () => Deno.remove(runs, { recursive: true }) };
    const script = `import json, time\ntime.sleep(30)\n` +
      `print(json.dumps({"status": "ok", "artifacts": [], "output": {}, "raw": {}}))\n`;
    const bundle = bundleObject({ script, outputs: {}, readme: "" }) as unknown as Bundle;
    await new Capibara({
      root: project,
      cwd: project,
      cacheDir: CACHE,
      warn: () => {},
      generator: fixedGenerator(bundle),
    }).run("sleep a while", { dryRun: true });
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE, TMPDIR: runs };
    const started = await capibara(["runner", "start", "--json"], project, env);
    assert.equal(started.code, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", CLI, "run", "sleep a while", "--json"],
        cwd: project,
        clearEnv: true,
        env: cliEnv({ CAPIBARA_RUNNER: "1", ...env }),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      const scripts = () =>
        commandLines().filter(({ line }) => line.includes(runs) && line.includes("script.py"));
      for (let i = 0; i < 150 && scripts().length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.notDeepEqual(scripts(), [], "the served script never started");
      Deno.kill(pid, "SIGKILL");
      const out = await output;
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      let doc: { error?: { type?: string; exit_code?: number } } | undefined;
      try {
        doc = JSON.parse(stdout);
      } catch {
        doc = undefined;
      }
      assert.ok(
        doc?.error?.type,
        `--json printed no JSON document (exit ${out.code}; stdout ${JSON.stringify(stdout)}; ` +
          `stderr ${JSON.stringify(stderr)})`,
      );
      assert.notEqual(doc.error.type, "InternalError", "the runner's death is no bug of Capibara");
      assert.equal(out.code, doc.error.exit_code);
      // What held: nothing of the script outlives its runner.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(scripts(), [], "the script outlived its runner");
    } finally {
      await capibara(["runner", "stop"], project, env);
    }
  },
});
