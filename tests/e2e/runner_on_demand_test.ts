/**
 * `capibara runner` started on demand (a second hit within a minute), in a session under
 * no_new_privs, and stopped when its code changes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runnerFile } from "../../src/cli/_runner_socket.ts";
import {
  CLI,
  cliEnv,
  type CliResult,
  OS_SANDBOX,
  REPO,
  runCli,
  testCache,
} from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import {
  ATTACKER,
  capibara,
  CONTEXT,
  ends,
  eventually,
  examplesIn,
  LANDLOCK_NO_NNP,
  PROMPT,
  runnerStatus,
  testName,
} from "../helpers/runner.ts";

/** One cache for the file: its environments are built once. */
const CACHE = await testCache("capibara_runner_demand_cache_");

Deno.test({
  name:
    "runner: a second hit within a minute starts one on demand (not with CAPIBARA_RUNNER=0, nor unset in CI)",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const work = await examplesIn(tmp.path);
    const args = ["run", PROMPT, "--context", CONTEXT, "--json"];
    const status = (env: Record<string, string>) => runnerStatus(work, env);
    const names: Record<string, string>[] = [];
    /** An environment of its own runner; CAPIBARA_RUNNER "" is unset. */
    const envFor = (extra: Record<string, string>) => {
      const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE, ...extra };
      names.push(env);
      return env;
    };
    try {
      // Not asked for (0; unset in CI): hits in a row start nothing.
      const none: Record<string, string>[] = [
        { CAPIBARA_RUNNER: "0" },
        { CAPIBARA_RUNNER: "", CI: "true" },
      ];
      for (const env of none.map(envFor)) {
        for (let i = 0; i < 2; i++) {
          const hit = await capibara(args, work, env);
          assert.equal(hit.code, 0, hit.stderr);
        }
      }
      await new Promise((r) => setTimeout(r, 1500));
      for (const [i, extra] of none.entries()) {
        const env = names[i]!;
        assert.equal(
          (await status(env)).running,
          false,
          `a runner started with ${JSON.stringify(extra)}`,
        );
      }
      // On demand: the first hit starts nothing, the second (within a minute) starts a runner
      // without waiting for it, and the next hit is served by it with the same result. Unset,
      // outside CI; asked for (1), in CI too.
      for (
        const extra of [
          { CAPIBARA_RUNNER: "" },
          { CAPIBARA_RUNNER: "1", CI: "true" },
        ] as Record<string, string>[]
      ) {
        const env = envFor(extra);
        const first = await capibara(args, work, env);
        assert.equal(first.code, 0, first.stderr);
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal((await status(env)).running, false, "a runner started after one hit");
        const second = await ends(capibara(args, work, env), "the hit that started a runner");
        assert.equal(second.code, 0, second.stderr);
        assert.ok(
          await eventually(async () => (await status(env)).running === true),
          `no runner started on demand with ${JSON.stringify(extra)}`,
        );
        const third = await capibara(args, work, env);
        assert.equal(third.code, 0, third.stderr);
        assert.equal((await status(env)).served, 1, "the third hit was not the runner's");
        const [a, c] = [JSON.parse(first.stdout), JSON.parse(third.stdout)];
        assert.deepEqual([c.status, c.output, c.artifacts], [a.status, a.output, a.artifacts]);
      }
      // A stop right after the hit that starts one waits for it to listen, and stops it.
      const env = envFor({ CAPIBARA_RUNNER: "1" });
      for (let i = 0; i < 2; i++) assert.equal((await capibara(args, work, env)).code, 0);
      const stopped = await capibara(["runner", "stop", "--json"], work, env);
      assert.deepEqual(JSON.parse(stopped.stdout), { stopped: true }, stopped.stderr);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal((await status(env)).running, false, "a runner outlived its stop");
    } finally {
      for (const env of names) await capibara(["runner", "stop"], work, env);
      // A runner's stop removes the marker of the last hit run without it.
      const started = names.at(-1)!;
      assert.equal(await Deno.lstat(runnerFile(started, "hit")).catch(() => null), null);
      for (const env of names) await Deno.remove(runnerFile(env, "hit")).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "runner: in a session under no_new_privs, a Landlock domain (invisible in /proc) is not served",
  ignore: !OS_SANDBOX || Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const landlocked = ["/usr/bin/python3", "-c", LANDLOCK_NO_NNP];
    const session = ["setpriv", "--no-new-privs", "--bounding-set=-all", "--"];
    if (
      (await new Deno.Command(session[0]!, {
        args: [...session.slice(1), ...landlocked, "true"],
      }).output().catch(() => ({ code: 1 }))).code !== 0
    ) {
      console.warn("runner_test: no Landlock or setpriv here: the session case is skipped");
      return;
    }
    // A session as Docker's no-new-privileges or systemd's NoNewPrivileges= make it, without
    // capabilities: the runner, its clients and a Landlock domain in it all show NoNewPrivs: 1.
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    const inSession = async (wrapper: string[], args: string[], entry = CLI) => {
      const out = await new Deno.Command(session[0]!, {
        args: [
          ...session.slice(1),
          ...wrapper,
          Deno.execPath(),
          "run",
          "-A",
          "--quiet",
          entry,
          ...args,
        ],
        cwd: tmp.path,
        clearEnv: true,
        env: cliEnv({ CAPIBARA_RUNNER: "1", ...env }),
        stdin: "null",
      }).output();
      return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    };
    const started = await inSession([], ["runner", "start"]);
    assert.match(started, /runner started/, started);
    try {
      // A client of the session proves it saw the runner's witness, and is answered.
      const status = await inSession([], ["runner", "status", "--json"]);
      assert.match(status, /"running": true/, status);
      // One in a Landlock domain of the session cannot: declined, whatever else it shows.
      const attack = join(tmp.path, "attack.ts");
      await Deno.writeTextFile(attack, ATTACKER);
      const reply = await inSession(landlocked, ["stop"], attack);
      assert.match(reply, /"decline".*could not see the runner's open files/, reply);
      const after = await inSession([], ["runner", "status", "--json"]);
      assert.match(after, /"running": true/, "a Landlock domain stopped the runner");
    } finally {
      await inSession([], ["runner", "stop"]);
    }
  },
});

Deno.test({
  name:
    "runner: once its code changed, it declines and stops (told by file events, not per request)",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    // A checkout of its own, so that its code can change.
    const checkout = join(tmp.path, "checkout");
    await Deno.mkdir(checkout);
    for (const name of ["src", "lib", "main.ts", "cli.ts", "deno.json", "deno.lock"]) {
      const copied = await new Deno.Command("cp", { args: ["-r", join(REPO, name), checkout] })
        .output();
      assert.ok(copied.success, name);
    }
    const work = await examplesIn(tmp.path);
    const env = {
      CAPIBARA_RUNNER: "1",
      CAPIBARA_RUNNER_NAME: testName(),
      CAPIBARA_CACHE_DIR: CACHE,
      CAPIBARA_TIMINGS: "1",
    };
    const entry = join(checkout, "cli.ts");
    const command = (args: string[]) => runCli(args, { cwd: work, env, entry });
    const status = async () => JSON.parse((await command(["runner", "status", "--json"])).stdout);
    const args = ["run", PROMPT, "--context", CONTEXT, "--json"];
    const src = join(checkout, "src");
    const outside = join(tmp.path, "outside");
    await Deno.mkdir(outside);
    // Each change, and how many runs of stale code it may get at most (none: told at once).
    const changes: [string, () => Promise<void>, number][] = [
      // A file the runner has not loaded yet counts too: it could load it.
      [
        "a file edited",
        () => Deno.writeTextFile(join(src, "errors.ts"), "\n// a\n", { append: true }),
        0,
      ],
      // A folder replaced by a rename (a deploy, `mv new old`): its files send no events.
      ["a folder swapped", async () => {
        await new Deno.Command("cp", { args: ["-r", join(src, "sandbox"), join(tmp.path, "new")] })
          .output();
        await Deno.rename(join(src, "sandbox"), join(outside, `old-${crypto.randomUUID()}`));
        await Deno.rename(join(tmp.path, "new"), join(src, "sandbox"));
      }, 0],
      // The whole src/ replaced: the watch follows the folder it was set on.
      ["src/ swapped", async () => {
        await new Deno.Command("cp", { args: ["-r", src, join(tmp.path, "src-new")] }).output();
        await Deno.rename(src, join(outside, `src-${crypto.randomUUID()}`));
        await Deno.rename(join(tmp.path, "src-new"), src);
      }, 0],
      // Written through a hard link outside its folders: no event reaches the watch, the stamp
      // taken again after the run sees it.
      ["a file edited through a hard link", async () => {
        const link = join(outside, `errors-${crypto.randomUUID()}.ts`);
        await Deno.link(join(src, "errors.ts"), link);
        await Deno.writeTextFile(link, "\n// b\n", { append: true });
      }, 1],
    ];
    for (const [what, change, stale] of changes) {
      const started = await command(["runner", "start", "--idle", "120", "--json"]);
      assert.equal(started.code, 0, started.stderr);
      try {
        const served = await command(args);
        assert.equal(served.code, 0, served.stderr);
        assert.doesNotMatch(served.stderr, /runner (declined|not used)/);
        assert.equal((await status()).served, 1);
        await change();
        let declined: CliResult | undefined;
        for (let run = 0; run <= stale && !declined; run++) {
          const after = await command(args);
          assert.equal(after.code, 0, after.stderr);
          assert.deepEqual(JSON.parse(after.stdout).output, JSON.parse(served.stdout).output);
          if (/runner declined: its code changed since it started/.test(after.stderr)) {
            declined = after;
          }
        }
        assert.ok(declined, `${what}: the runner still serves its old code`);
        // It stopped: the next command finds no runner.
        for (let i = 0; i < 50 && (await status()).running; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal((await status()).running, false, what);
      } finally {
        await command(["runner", "stop", "--json"]);
      }
    }
  },
});
