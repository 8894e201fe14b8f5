/**
 * An entry replaced in place (`run --refresh`, `accept`, `rekey`) by a writer killed between the
 * two renames of its replacement:
 *
 *     rename(scripts/<fp>, .tmp/<fp>-old-<uuid>)   ← killed here (SIGKILL, OOM, power)
 *     rename(.tmp/<fp>-<staging>, scripts/<fp>)
 *
 * leaves the reviewed entry only under the git-ignored `.capibara/.tmp/`. A later command puts it
 * back (`verify` names and checks it), and the next run of the request is the hit it was, never a
 * miss that would store a new, unreviewed script. The test builds exactly that state.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { fakeServerEnv, OS_SANDBOX, runCli, testCache } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const CACHE = await testCache("replace_interrupted_cache_");

Deno.test({
  name: "an entry left in .tmp by a replacement killed between its renames is put back, " +
    "not generated again",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    // Each generation says which one it is: a second one would be a new, unreviewed script.
    await using llm = startFakeLLM({
      replies: (_body, n) =>
        bundleReply({
          body: `return {"output": {"generation": ${n}}}`,
          outputs: { generation: "int" },
        }),
    });
    const env = fakeServerEnv(llm.url, CACHE);
    const args = ["run", "Say which generation wrote this script", "--json"];
    const first = await runCli(args, { cwd: tmp.path, env });
    assert.equal(first.code, 0, first.stderr);
    const fp = (first.json as { fingerprint: string }).fingerprint;

    // What a writer killed between the renames leaves: the old entry moved aside, the new one
    // (here: a copy, as a revision would be) still in its staging folder.
    const base = join(tmp.path, ".capibara");
    const old = join(base, ".tmp", `${fp}-old-${crypto.randomUUID()}`);
    const staging = join(base, ".tmp", `${fp}-a1b2c3`);
    await Deno.mkdir(join(base, ".tmp"), { recursive: true });
    await new Deno.Command("cp", { args: ["-a", join(base, "scripts", fp), staging] }).output();
    await Deno.rename(join(base, "scripts", fp), old);

    // The CI gate must not call this store healthy while its reviewed entry is lost.
    const verify = await runCli(["verify", "--json"], { cwd: tmp.path, env });
    const said = verify.stdout + verify.stderr;
    assert.ok(
      verify.code !== 0 || said.includes(fp),
      `verify passes and names nothing (exit ${verify.code}): ${verify.stdout}`,
    );

    // Put back, verified.
    assert.equal(verify.code, 0, said);
    assert.ok((await Deno.stat(join(base, "scripts", fp, "manifest.json"))).isFile);
    assert.equal(await Deno.lstat(old).catch(() => null), null);

    const again = await runCli(args, { cwd: tmp.path, env });
    assert.equal(llm.requests, 1, "the model was asked again: the reviewed script was replaced");
    if (again.code === 0) {
      assert.deepEqual((again.json as { output: unknown }).output, { generation: 1 });
    } else {
      assert.match(again.stdout + again.stderr, /\.tmp/, "the refusal does not say where it is");
    }
  },
});
