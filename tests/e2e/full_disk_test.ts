/**
 * The project's disk full as a miss stores its new entry: a typed error (not a bug of Capibara's),
 * `.capibara/` as it was (a failed generation changes nothing), and once space is back its
 * `.gitignore` still ignores `.tmp/` (staging and replaced entries). A `.gitignore` written in
 * place would be left empty, and kept so.
 *
 * Needs root (a small tmpfs is mounted as the project); skipped otherwise, saying so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { fakeServerEnv, OS_SANDBOX, runCli, testCache } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const CACHE = await testCache("full_disk_cache_");
const ROOT = Deno.uid() === 0;

async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return out?.code === 0;
}

/** Fills the file system of `dir` with one file, and returns it (remove it to free the space). */
async function fill(dir: string): Promise<string> {
  const path = join(dir, "filler");
  using file = await Deno.open(path, { write: true, create: true });
  try {
    for (;;) await file.write(new Uint8Array(4096));
  } catch (error) {
    if (!(error instanceof Error) || !/No space left/.test(error.message)) throw error;
  }
  return path;
}

Deno.test({
  name: "a full disk as a miss stores its entry: a typed error, .capibara/ untouched, " +
    "and .gitignore right once space is back",
  ignore: !ROOT || !OS_SANDBOX,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const project = join(tmp.path, "project");
    await Deno.mkdir(project);
    if (!await mountTmpfs(project, "128k")) {
      console.warn("SKIPPED: cannot mount a tmpfs here");
      return;
    }
    try {
      const filler = await fill(project);
      await using llm = startFakeLLM({ replies: [bundleReply()] });
      const env = fakeServerEnv(llm.url, CACHE);
      const args = ["run", "Echo the context back", "--json"];

      const full = await runCli(args, { cwd: project, env });
      const error = (full.json as { error?: { type: string; message: string } }).error;
      assert.ok(error, full.stdout + full.stderr);
      const leftover = await Array.fromAsync(Deno.readDir(project), (e) => e.name);
      // Checked after the state is read, so both problems show when the first fails.
      const gitignore = await Deno.readTextFile(join(project, ".capibara", ".gitignore"))
        .catch(() => undefined);

      await Deno.remove(filler);
      const again = await runCli(args, { cwd: project, env });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const after = await Deno.readTextFile(join(project, ".capibara", ".gitignore"));

      assert.notEqual(error.type, "InternalError", `a full disk is no bug: ${error.message}`);
      assert.deepEqual(
        leftover.sort(),
        ["filler"],
        `.capibara/ was changed by the failed generation (.gitignore: ${
          JSON.stringify(gitignore)
        })`,
      );
      assert.match(
        after,
        /^\.tmp\/$/m,
        `.capibara/.gitignore no longer ignores .tmp/: ${JSON.stringify(after)}`,
      );
    } finally {
      await new Deno.Command("umount", { args: [project] }).output();
    }
  },
});
