/**
 * A hit in a process of its own starts its sandbox from the plan its command's last hit used
 * (src/run/remembered.ts), held at its gate while the process loads the rest of a run. What is
 * remembered is a guess that never decides what runs: only a plan that is the run's own, made
 * after the entry's integrity check, releases it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeServerEnv, OS_SANDBOX, REPO, runCli, testCache } from "../helpers/cli.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { rememberedFile } from "../../src/run/remembered.ts";
import type { Plan } from "../../src/run/plan.ts";

if (!OS_SANDBOX) {
  console.warn(
    "SKIPPED: remembered plans are for sandboxes that start held: they need bubblewrap " +
      "(apt-get install bubblewrap)",
  );
}

const cache = await testCache("capibara_remembered_cache_");

const ARGS = [
  "run",
  "Summarise the sales CSV: total revenue, units and revenue per region",
  "--context",
  '{"input": "data/sales.csv", "output": "out/summary.json"}',
  "--json",
];

/** The committed Python example in a project of its own. */
async function project(dir: string): Promise<void> {
  const examples = join(REPO, "examples");
  const out = await new Deno.Command("cp", {
    args: ["-r", join(examples, ".capibara"), join(examples, "data"), dir],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

const STARTED_AHEAD = "the sandbox started ahead, released";
const SET_UP = "sandbox set-up";

/** The named steps `CAPIBARA_TIMINGS=1` printed. */
function steps(stderr: string): string[] {
  return stderr.split("\n").flatMap((line) => {
    const match = /^\s+[\d.]+ ms {2}(.+)$/.exec(line);
    return match ? [match[1]!] : [];
  });
}

/** A result without its duration. */
function result(json: unknown): unknown {
  const { duration_ms: _, ...rest } = json as Record<string, unknown>;
  return rest;
}

async function hit(cwd: string) {
  const result = await runCli([...ARGS], {
    cwd,
    env: { CAPIBARA_CACHE_DIR: cache, CAPIBARA_TIMINGS: "1" },
  });
  assert.equal(result.code, 0, result.stderr);
  return { ...result, steps: steps(result.stderr) };
}

Deno.test({
  name: "remembered: a hit of its own starts its sandbox from the command's last plan; " +
    "one that is not the run's own is thrown away, and never runs",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await project(tmp.path);
    const cwd = Deno.realPathSync(tmp.path);
    const file = rememberedFile(ARGS, cwd);
    try {
      const first = await hit(cwd);
      assert.ok(first.steps.includes(SET_UP), first.stderr);
      const remembered = JSON.parse(await Deno.readTextFile(file));
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      const summary = await Deno.readTextFile(join(cwd, "out", "summary.json"));

      // The next hit of the same command takes the sandbox started from that plan.
      const second = await hit(cwd);
      assert.ok(second.steps.includes(STARTED_AHEAD), second.stderr);
      assert.ok(!second.steps.includes(SET_UP), second.stderr);
      assert.deepEqual(result(second.json), result(first.json));

      // A plan that runs another script (the remembered file of an older entry, or one written
      // by someone else): its sandbox is set up, but the run's own plan differs, so it is
      // thrown away unreleased and the run starts cold.
      const evil = join(cwd, "evil.py");
      await Deno.writeTextFile(
        evil,
        "import sys\n" +
          "open('out/summary.json', 'w').write('{\"pwned\": true}')\n" +
          "print('{\"pwned\": true}')\n",
      );
      const script = remembered.plan.command.args.findIndex((arg: string) =>
        arg.endsWith("script.py")
      );
      assert.ok(script >= 0, JSON.stringify(remembered.plan.command));
      remembered.plan.command.args[script] = evil;
      remembered.plan.policy.read.push(evil);
      await Deno.writeTextFile(file, JSON.stringify(remembered));
      const third = await hit(cwd);
      assert.ok(third.steps.includes(SET_UP), third.stderr);
      assert.ok(!third.steps.includes(STARTED_AHEAD), third.stderr);
      assert.deepEqual(result(third.json), result(first.json));
      assert.equal(await Deno.readTextFile(join(cwd, "out", "summary.json")), summary);
      assert.ok(!(await Deno.readTextFile(file)).includes("evil.py"), "the run's plan replaced it");

      // The next hit takes a sandbox started from the run's own plan again.
      const fourth = await hit(cwd);
      assert.ok(fourth.steps.includes(STARTED_AHEAD), fourth.stderr);
      assert.deepEqual(result(fourth.json), result(first.json));
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  },
});

Deno.test({
  name: "remembered: a granted variable's value is never written down; the next hit takes it " +
    "from its own environment",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({
        needs: { env: ["SECRET_TOKEN"] },
        body: 'return {"output": {"seen": __import__("os").environ.get("SECRET_TOKEN", "")}}',
      })],
    });
    const cwd = Deno.realPathSync(tmp.path);
    const args = ["run", "Show the token", "--allow-env", "SECRET_TOKEN", "--json"];
    const file = rememberedFile(args, cwd);
    const run = async (token: string) => {
      const result = await runCli([...args], {
        cwd,
        env: fakeServerEnv(llm.url, cache, { SECRET_TOKEN: token, CAPIBARA_TIMINGS: "1" }),
      });
      assert.equal(result.code, 0, result.stderr);
      return {
        seen: (result.json as { output: { seen: string } }).output.seen,
        steps: steps(result.stderr),
      };
    };
    try {
      const first = `tok-${crypto.randomUUID()}`;
      assert.equal((await run(first)).seen, first);
      const written = await Deno.readTextFile(file);
      assert.ok(written.includes("SECRET_TOKEN"), written);
      assert.ok(!written.includes(first), "the token's value was written down");
      const second = await run(first);
      assert.equal(second.seen, first);
      assert.ok(second.steps.includes(STARTED_AHEAD), second.steps.join(", "));
      // Another value: the sandbox started ahead shows this one, as the run's own plan does.
      const other = `tok-${crypto.randomUUID()}`;
      const third = await run(other);
      assert.equal(third.seen, other);
      assert.ok(third.steps.includes(STARTED_AHEAD), third.steps.join(", "));
      assert.ok(!(await Deno.readTextFile(file)).includes(other));
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  },
});

Deno.test({
  name: "remembered: a plan file that would make or write anything outside its temp dir and " +
    "the command's folder is not staged at all",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using outside = await withTmpDir();
    await project(tmp.path);
    const cwd = Deno.realPathSync(tmp.path);
    const elsewhere = Deno.realPathSync(outside.path);
    const file = rememberedFile(ARGS, cwd);
    const payload = join(elsewhere, "payload");
    await Deno.writeTextFile(payload, "* * * * * root id > /tmp/owned\n");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", await Deno.readFile(payload)),
    ).toHex();
    try {
      await hit(cwd);
      const remembered = JSON.parse(await Deno.readTextFile(file));
      const edits: [string, (plan: Plan) => void, string][] = [
        // The script's copy written to a folder of the attacker's choosing (made for it).
        ["the script's copy", (plan) => {
          plan.script = {
            source: payload,
            sha256: "sha256:" + digest,
            copy: join(elsewhere, "cron.d", "evil"),
          };
        }, join(elsewhere, "cron.d")],
        // An output below another working directory, which staging would make folders for.
        ["an output's folders", (plan) => {
          plan.policy.workdir = join(elsewhere, "made", "sub");
          plan.command.cwd = plan.policy.workdir;
          plan.outputs[0]!.target = elsewhere;
        }, join(elsewhere, "made")],
        // The command started in another folder, the rest unchanged.
        ["the working directory", (plan) => {
          plan.policy.workdir = elsewhere;
          plan.command.cwd = elsewhere;
          plan.outputs[0]!.target = join(elsewhere, "out");
        }, join(elsewhere, "out")],
      ];
      for (const [what, edit, made] of edits) {
        const planted = structuredClone(remembered);
        edit(planted.plan);
        await Deno.writeTextFile(file, JSON.stringify(planted));
        const run = await hit(cwd);
        assert.ok(run.steps.includes(SET_UP), `${what}: ${run.stderr}`);
        assert.equal(
          await Deno.lstat(made).then(() => true, () => false),
          false,
          `${what}: ${made} was made`,
        );
      }
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  },
});
