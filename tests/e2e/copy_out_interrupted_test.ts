/**
 * Ctrl-C while a run's outputs are moved into the project (each output is copied to
 * `.<name>.capibara-<pid>-<uuid>` beside its destination, then all are renamed):
 *
 * 1. one Ctrl-C during the copy: either the move is abandoned (exit 130, the project's file
 *    untouched) or, once every file is copied, it is finished and the run reported (exit 0);
 *    never a 130 that says the run did not happen while its output changed;
 * 2. Ctrl-C twice (an impatient user) or SIGKILL during the copy: the half-written temp file is
 *    removed by the next move into that folder (its Capibara is gone), and the good file stays.
 *
 * The script writes 96 MiB, so the copy lasts long enough to be caught in the act.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { CLI, cliEnv, fakeServerEnv, OS_SANDBOX, runCli, testCache } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const CACHE = await testCache("copy_out_interrupted_cache_");

/** Writes a 96 MiB output whose first 32 bytes say when: each run's file differs. */
const BODY = `import time
p = ctx["output"]
with open(p, "wb") as fh:
    fh.write(str(time.time()).encode().ljust(32))
    for _ in range(96):
        fh.write(b"x" * (1024 * 1024))
return {"artifacts": [p], "output": {"written": True}}`;

const ARGS = ["run", "Write a large file", "--context", '{"output": "out/big.bin"}', "--json"];

function head(path: string): string {
  const file = Deno.openSync(path);
  try {
    const bytes = new Uint8Array(32);
    file.readSync(bytes);
    return new TextDecoder().decode(bytes);
  } finally {
    file.close();
  }
}

/**
 * Runs ARGS in `cwd` and sends `signals` (the second 5 ms after the first) as soon as the
 * copy-out's temporary file appears in `out/`. Resolves with the exit and stdout.
 */
async function interruptCopyOut(
  cwd: string,
  env: Record<string, string>,
  signals: Deno.Signal[],
): Promise<{ code: number; stdout: string; stderr: string; caught: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...ARGS],
    cwd,
    clearEnv: true,
    env: cliEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let ended = false;
  const output = child.output().finally(() => ended = true);
  let caught = false;
  while (!ended && !caught) {
    caught = [...Deno.readDirSync(join(cwd, "out"))].some((e) => e.name.includes(".capibara-"));
    if (!caught) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  for (const [i, signal] of signals.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      child.kill(signal);
    } catch {
      // ended already
    }
  }
  const out = await output;
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr), caught };
}

Deno.test({
  name: "one Ctrl-C during copy-out: either nothing moved, or the run is reported",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({ body: BODY, outputs: { written: "bool" } })],
    });
    const env = fakeServerEnv(llm.url, CACHE);
    const first = await runCli(ARGS, { cwd: tmp.path, env });
    assert.equal(first.code, 0, first.stderr);
    const file = join(tmp.path, "out", "big.bin");
    // The copy sometimes stops on its own (a read the signal interrupts: EINTR), which leaves the
    // file untouched by chance: up to three tries, each a hit of the same request.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = head(file);
      const run = await interruptCopyOut(tmp.path, env, ["SIGINT"]);
      assert.ok(run.caught, "the copy-out was not caught in the act");
      const replaced = head(file) !== before;
      if (run.code === 130) {
        assert.equal(
          replaced,
          false,
          `exit 130 ("${run.stdout.trim().replaceAll(/\s+/g, " ")}") but the project's ` +
            `output was replaced (try ${attempt})`,
        );
      } else {
        assert.equal(run.code, 0, run.stderr);
        assert.equal(replaced, true, "reported done, yet the output was not moved");
      }
      const names = [...Deno.readDirSync(join(tmp.path, "out"))].map((e) => e.name);
      assert.deepEqual(names, ["big.bin"], "a temp file is left after one Ctrl-C");
    }
  },
});

for (const signals of [["SIGINT", "SIGINT"], ["SIGKILL"]] as Deno.Signal[][]) {
  Deno.test({
    name: `${signals.join("+")} during copy-out leaves no temp file in the project`,
    ignore: !OS_SANDBOX,
    async fn() {
      await using tmp = await withTmpDir();
      await using llm = startFakeLLM({
        replies: [bundleReply({ body: BODY, outputs: { written: "bool" } })],
      });
      const env = fakeServerEnv(llm.url, CACHE);
      const first = await runCli(ARGS, { cwd: tmp.path, env });
      assert.equal(first.code, 0, first.stderr);

      // A first Ctrl-C sometimes stops the copy itself (EINTR) and its temp file is removed
      // before the second arrives: up to five tries for the pair; SIGKILL needs one.
      const tries = signals.length > 1 ? 5 : 1;
      for (let attempt = 1; attempt <= tries; attempt++) {
        const run = await interruptCopyOut(tmp.path, env, signals);
        assert.ok(run.caught, "the copy-out was not caught in the act");
        // A later run of the same request, to completion: still nothing but the output.
        const after = await runCli(ARGS, { cwd: tmp.path, env });
        assert.equal(after.code, 0, after.stderr);
        const names = [...Deno.readDirSync(join(tmp.path, "out"))].map((e) => e.name).sort();
        assert.deepEqual(
          names,
          ["big.bin"],
          `a partial copy-out temp file stays in the project (try ${attempt})`,
        );
      }
    },
  });
}
