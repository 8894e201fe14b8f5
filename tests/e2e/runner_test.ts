/**
 * `capibara runner`: a resident runner serves `capibara run` with the very results, messages and
 * exit codes the command gives in its own process; it declines what it cannot run the same way,
 * and serves only a process like itself.
 */
import { commandLines } from "../helpers/processes.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import {
  connectionWitness,
  connectRunner,
  lines,
  nonce,
  ownWitness,
  peerMark,
  procText,
  proof,
  readWitness,
  runnerAddress,
  runnerFile,
  runnerFolder,
  runnerKeyFile,
  seal,
  unseal,
} from "../../src/cli/_runner_socket.ts";
import {
  ensureFolder,
  inCi,
  START_LOCK_MS,
  startsOnDemand,
  takeStartLock,
} from "../../src/cli/_runner_start.ts";
import type { Bundle } from "../../src/schema.ts";
import { CLI, cliEnv, OS_SANDBOX, REPO, testCache } from "../helpers/cli.ts";
import { bundleObject, fixedGenerator } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { which } from "../../src/_which.ts";
import {
  ATTACKER,
  capibara,
  CONTEXT,
  ends,
  examplesIn,
  holdName,
  LANDLOCK_NO_NNP,
  MISSING_INPUT_RUN,
  PROMPT,
  runnerStatus,
  testName,
} from "../helpers/runner.ts";

/** One cache for the file: its environments are built once. */
const CACHE = await testCache("capibara_runner_cache_");

Deno.test({
  name: "runner: serves runs as the command would, declines what it cannot, stops",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const cache = CACHE;
    const work = await examplesIn(tmp.path);
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: cache };
    const inProcess = { ...env, CAPIBARA_RUNNER: "0" };
    const status = () => runnerStatus(work, env);

    assert.equal((await status()).running, false);
    const started = await capibara(["runner", "start", "--idle", "120", "--json"], work, env);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(JSON.parse(started.stdout).started, true);
    try {
      // Results: the same through the runner as in the command's own process, Python and TypeScript.
      for (const lang of ["python", "typescript"]) {
        const args = ["run", PROMPT, "--lang", lang, "--context", CONTEXT, "--json"];
        const own = await capibara(args, work, inProcess);
        assert.equal(own.code, 0, own.stderr);
        for (let i = 0; i < 3; i++) {
          const served = await capibara(args, work, env);
          assert.equal(served.code, 0, served.stderr);
          const [a, b] = [JSON.parse(own.stdout), JSON.parse(served.stdout)];
          assert.deepEqual([b.status, b.output, b.artifacts], [a.status, a.output, a.artifacts]);
        }
      }
      // Human output, relative paths (the context file, from the client's folder) and errors.
      await Deno.writeTextFile(join(work, "data", "ctx.json"), CONTEXT);
      const data = join(work, "data");
      for (
        const [cwd, args] of [
          [data, ["run", PROMPT, "--context", "@ctx.json"]],
          [data, ["run", PROMPT, "--context", "@missing.json"]],
          [data, ["run", PROMPT, "--context", CONTEXT, "--timeout", "soon"]],
          [data, ["run", PROMPT, "--context", '{"input": "data/nope.csv"}', "--json"]],
          // A relative --root is the client's folder's; --no-sandbox runs with its warning.
          [work, ["run", PROMPT, "--root", ".", "--context", CONTEXT, "--json"]],
          [work, ["run", PROMPT, "--context", CONTEXT, "--no-sandbox", "--json"]],
        ] as const
      ) {
        const own = await capibara([...args], cwd, inProcess);
        const served = await capibara([...args], cwd, env);
        assert.equal(served.code, own.code, `${args}: ${served.stderr}`);
        const stable = (text: string) =>
          text.replace(/\d+ ms\)/g, "N ms)").replace(/"duration_ms": \d+/g, '"duration_ms": N');
        assert.equal(stable(served.stdout), stable(own.stdout), String(args));
        assert.equal(served.stderr, own.stderr, String(args));
      }
      let report = await status();
      assert.equal(report.running, true);
      assert.ok(report.served >= 11, JSON.stringify(report));
      assert.ok(
        report.prestart.used >= 2,
        `no run used a sandbox set up ahead: ${JSON.stringify(report)}`,
      );

      // A temp dir named where the runner has none: declined, run by the command itself.
      const declined = await capibara(
        ["run", PROMPT, "--context", CONTEXT, "--json"],
        work,
        { ...env, TMPDIR: "/tmp" },
      );
      assert.equal(declined.code, 0, declined.stderr);
      report = await status();
      assert.equal(report.declined, 2);
    } finally {
      const stopped = await capibara(["runner", "stop", "--json"], work, env);
      assert.equal(JSON.parse(stopped.stdout).stopped, true);
    }
    assert.equal((await status()).running, false);
    assert.equal(await Deno.lstat(runnerKeyFile(env)).catch(() => null), null, "the key is left");
  },
});

Deno.test({
  name: "runner: Ctrl-C of the command stops the served run, as in its own process",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const cache = CACHE;
    const project = join(tmp.path, "project");
    await Deno.mkdir(project);
    // The script's process names its verified copy, in its run's folder: below the runner's own
    // temp folder, this test's alone, open as /tmp is (a root run's sandbox is another user).
    const runs = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_runs_" }));
    await Deno.chmod(runs, 0o1777);
    await using _runs = { [Symbol.asyncDispose]: () => Deno.remove(runs, { recursive: true }) };
    const marker = new RegExp(`${runs}/capibara-run-[^/ ]*(?=/entry/script\\.py)`);
    const script = `import json, time\ntime.sleep(30)\n` +
      `print(json.dumps({"status": "ok", "artifacts": [], "output": {}, "raw": {}}))\n`;
    const bundle = bundleObject({ script, outputs: {}, readme: "" }) as unknown as Bundle;
    await new Capibara({
      root: project,
      cwd: project,
      cacheDir: cache,
      warn: () => {},
      generator: fixedGenerator(bundle),
    }).run("sleep a while", { dryRun: true });
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: cache, TMPDIR: runs };
    assert.equal((await capibara(["runner", "start"], project, env)).code, 0);
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", CLI, "run", "sleep a while"],
        cwd: project,
        clearEnv: true,
        env: cliEnv({ CAPIBARA_RUNNER: "1", ...env }),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Once the script sleeps, interrupt the command.
      // The run folders of the processes that run the script.
      const runFolders = () =>
        new Set(commandLines().flatMap(({ line }) => marker.exec(line)?.[0] ?? []));
      let running = new Set<string>();
      for (let i = 0; i < 100 && running.size === 0; i++) {
        running = runFolders();
        if (running.size === 0) await new Promise((r) => setTimeout(r, 100));
      }
      if (running.size !== 1) {
        try {
          child.kill("SIGKILL");
        } catch {
          // it ended on its own
        }
        const out = await child.output();
        assert.fail(
          `the script never started: ${[...running]} (exit ${out.code}: ` +
            `${new TextDecoder().decode(out.stderr)})`,
        );
      }
      child.kill("SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
      assert.match(new TextDecoder().decode(out.stderr), /^interrupted: Interrupted by SIGINT/m);
      // The next run's sandbox, set up ahead, may wait in a folder of its own: the interrupted
      // run's processes must all be gone.
      const left = runFolders();
      assert.ok(![...running].some((folder) => left.has(folder)), "the script outlived Ctrl-C");
      const status = await runnerStatus(project, env);
      assert.equal(status.served, 1, "the run was not the runner's");
    } finally {
      await capibara(["runner", "stop"], project, env);
    }
  },
});

Deno.test({
  name: "runner: started from a shell that leaked a descriptor, the runner does not keep it",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    const started = await new Deno.Command("bash", {
      args: [
        "-c",
        'exec 7</dev/null; exec "$0" run -A --quiet "$1" runner start --json',
        Deno.execPath(),
        CLI,
      ],
      cwd: tmp.path,
      clearEnv: true,
      env: cliEnv({ CAPIBARA_RUNNER: "1", ...env }),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(started.code, 0, new TextDecoder().decode(started.stderr));
    const { pid } = JSON.parse(new TextDecoder().decode(started.stdout));
    try {
      const inherited: number[] = [];
      for (const entry of Deno.readDirSync(`/proc/${pid}/fdinfo`)) {
        const fd = Number(entry.name);
        const text = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd}`);
        const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(text)?.[1] ?? "0", 8);
        if (fd > 2 && (flags & 0o2000000) === 0) inherited.push(fd);
      }
      assert.deepEqual(inherited, [], "the runner holds descriptors it inherited");
    } finally {
      await capibara(["runner", "stop"], tmp.path, env);
    }
  },
});

Deno.test({
  name: "runner: at stop its key goes first and a connection that proved nothing is dropped",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    assert.equal((await capibara(["runner", "start"], tmp.path, env)).code, 0);
    // Held open without a word: once the name is free, such a connection could relay a client's
    // handshake to the runner for whoever took the name.
    const held = await Deno.connect({ transport: "unix", path: runnerAddress(env) });
    try {
      const stopped = await capibara(["runner", "stop", "--json"], tmp.path, env);
      assert.equal(JSON.parse(stopped.stdout).stopped, true, stopped.stderr);
      assert.equal(await Deno.lstat(runnerKeyFile(env)).catch(() => null), null, "the key is left");
      const buffer = new Uint8Array(64);
      const read = await Promise.race([
        held.read(buffer).catch(() => null),
        new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 3000)),
      ]);
      assert.equal(read, null, "the runner kept a connection that proved nothing");
    } finally {
      try {
        held.close();
      } catch {
        // closed by the runner
      }
    }
  },
});

/** Waits until `check()` holds (a runner starting in the background), at most `ms`. */

Deno.test("runner: one start on demand at a time; a lock left by a start that failed expires", async () => {
  await using tmp = await withTmpDir();
  const lock = join(tmp.path, "runner.starting");
  assert.equal(takeStartLock(lock), true);
  assert.equal(takeStartLock(lock), false, "a second start while the first is under way");
  const past = new Date(Date.now() - START_LOCK_MS - 1000);
  await Deno.utime(lock, past, past);
  assert.equal(takeStartLock(lock), true, "a stale lock still held");
  assert.equal(takeStartLock(lock), false);
});

Deno.test({
  name: "runner: serves only a process like itself (not one confined otherwise, not an impostor)",
  ignore: !OS_SANDBOX || Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const work = await examplesIn(tmp.path);
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    const status = () => runnerStatus(work, env);
    /** A hit through the installed command, started by `wrapper` (its decline said on stderr). */
    const hit = async (wrapper: string[], extra: Record<string, string> = {}) => {
      const out = await new Deno.Command(wrapper[0] ?? Deno.execPath(), {
        args: [
          ...wrapper.slice(1),
          ...wrapper.length ? [Deno.execPath()] : [],
          ...["run", "-A", "--quiet", CLI, "run", PROMPT, "--context", CONTEXT, "--json"],
        ],
        cwd: work,
        clearEnv: true,
        env: cliEnv({ CAPIBARA_RUNNER: "1", CAPIBARA_TIMINGS: "1", ...env, ...extra }),
        stdin: "null",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    assert.equal((await capibara(["runner", "start"], work, env)).code, 0);
    try {
      const plain = await hit([]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal((await status()).served, 1, plain.stderr);
      // What differs between a user's own shells, and confines nothing, is served: npm's metadata
      // of a script, another core dump size.
      const legit = await hit(["sh", "-c", 'ulimit -c 1024; exec "$@"', "sh"], {
        npm_config_user_agent: "npm/10 node/v22",
        npm_lifecycle_event: "build",
      });
      assert.equal(legit.code, 0, legit.stderr);
      assert.doesNotMatch(legit.stderr, /runner (declined|not used)/, legit.stderr);
      assert.equal((await status()).served, 2, legit.stderr);
      // A Landlock domain without no_new_privs (root may make one): /proc shows nothing of it, but
      // it cannot read the runner's memory, nor the runner its. The command's own client sees so
      // and runs by itself.
      const landlocked = ["/usr/bin/python3", "-c", LANDLOCK_NO_NNP];
      const landlock = (await new Deno.Command(landlocked[0]!, {
        args: [...landlocked.slice(1), "true"],
      }).output()).code === 0;
      if (landlock) {
        // (Its own run then fails: bubblewrap cannot mount inside a Landlock domain.)
        const inDomain = await hit(landlocked);
        // (Its first look at the runner already fails: a domain denies /proc/<pid>/ns outside it.)
        assert.match(
          inDomain.stderr,
          /runner not used: (this process cannot see the runner's open files|it runs in another)/,
          inDomain.stderr,
        );
        assert.equal((await status()).served, 2, "a client in a Landlock domain was served");
      } else console.warn("runner_test: no Landlock here: the Landlock domain cases are skipped");
      const cases: [string, string[], Record<string, string>, RegExp][] = [
        ...(landlock
          ? [[
            "a Landlock domain without no_new_privs",
            landlocked,
            {},
            /could not see the runner's open files/,
          ] as [string, string[], Record<string, string>, RegExp]]
          : []),
        ["no_new_privs (as a Landlock domain sets)", ["setpriv", "--no-new-privs"], {}, /filters/],
        ["another mount namespace", ["unshare", "--mount"], {}, /mnt namespace/],
        // A read-only view of the host, sharing its network: the PoC of a confined agent.
        [
          "a read-only bubblewrap",
          ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"],
          {},
          /namespace/,
        ],
        ["a proxy of its own", [], { HTTPS_PROXY: "http://127.0.0.1:9" }, /HTTPS_PROXY differs/],
        ["a umask of its own", ["sh", "-c", 'umask 077; exec "$@"', "sh"], {}, /umask/],
        // A CPU-time bound (a grader's, prlimit's): not escaped through the runner.
        ["a CPU-time limit", ["prlimit", "--cpu=600"], {}, /limit of cpu time is lower/],
        // A ptrace jail (its tracer may deny any call): the tracer is not the runner's.
        ...(await which("strace")
          ? [["traced", ["strace", "-f", "-o", "/dev/null"], {}, /filters/] as const]
          : (console.warn("runner_test: strace is not installed: the traced client is skipped"),
            [])) as [string, string[], Record<string, string>, RegExp][],
      ];
      // Each asks as an attacker would: its own client, which reads the key itself (the command's
      // own client would not even trust a runner unlike itself).
      const attack = join(tmp.path, "attack.ts");
      await Deno.writeTextFile(attack, ATTACKER);
      const ask = async (wrapper: string[], kind: string, extra: Record<string, string> = {}) => {
        const out = await new Deno.Command(wrapper[0] ?? Deno.execPath(), {
          args: [
            ...wrapper.slice(1),
            ...wrapper.length ? [Deno.execPath()] : [],
            ...["run", "-A", "--quiet", attack, kind, PROMPT, CONTEXT],
          ],
          cwd: work,
          clearEnv: true,
          env: cliEnv({ CAPIBARA_RUNNER: "1", ...env, ...extra }),
          stdin: "null",
        }).output();
        return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      };
      for (const [what, wrapper, extra, why] of cases) {
        const before = await status();
        const reply = await ask(wrapper, "run", extra);
        assert.match(reply, /"decline"/, `${what}: ${reply}`);
        assert.match(reply, why, what);
        const after = await status();
        assert.equal(after.served, before.served, `${what} was served`);
        assert.equal(after.declined, before.declined + 1, what);
      }
      // Nor does a process unlike it stop it.
      const stopped = await ask(["setpriv", "--no-new-privs"], "stop");
      assert.match(stopped, /"decline".*filters/, stopped);
      assert.equal((await status()).running, true, "a process unlike the runner stopped it");
      // A client that claims to be another process (this test's) without setting its mark.
      const runner = await connectRunner(env);
      assert.ok(runner && "conn" in runner, `no runner to talk to: ${JSON.stringify(runner)}`);
      try {
        await runner.conn.write(
          new TextEncoder().encode(
            await runner.request({
              kind: "run",
              args: ["run", PROMPT, "--context", CONTEXT],
              cwd: work,
              env: cliEnv({ CAPIBARA_RUNNER: "1", ...env }),
              errIsTerminal: false,
              pid: Deno.pid,
              umask: Deno.umask(),
            }),
          ),
        );
        const reply = JSON.parse((await runner.replies.next()).value ?? "{}");
        assert.match(String(reply.decline), /could not show it is the process/);
      } finally {
        runner.conn.close();
      }
    } finally {
      await capibara(["runner", "stop"], work, env);
    }
  },
});

Deno.test("runner: on demand by default outside CI; 1 and 0 decide", () => {
  const can = Deno.build.os === "linux";
  const cases: [Record<string, string>, boolean][] = [
    [{}, true],
    [{ CAPIBARA_RUNNER: "auto" }, true],
    [{ CI: "true" }, false],
    [{ CI: "1" }, false],
    [{ CI: "false" }, true],
    [{ CI: "" }, true],
    [{ GITHUB_ACTIONS: "true" }, false],
    [{ GITLAB_CI: "true" }, false],
    [{ JENKINS_URL: "http://ci:8080/" }, false],
    [{ CAPIBARA_RUNNER: "1" }, true],
    [{ CAPIBARA_RUNNER: "yes", CI: "true" }, true],
    [{ CAPIBARA_RUNNER: "0" }, false],
    [{ CAPIBARA_RUNNER: "off" }, false],
  ];
  for (const [env, expected] of cases) {
    assert.equal(startsOnDemand(env), expected && can, JSON.stringify(env));
  }
  assert.equal(inCi({ CI: "true" }), true);
  assert.equal(inCi({ CI: "no" }), false);
});

Deno.test("runner: the mark a client wears is bound to the runner's key and name", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const other = crypto.getRandomValues(new Uint8Array(32));
  const mark = await peerMark(key, "\0a", "nonce");
  assert.equal(mark.length, 15);
  assert.equal(await peerMark(key, "\0a", "nonce"), mark);
  // Worn for one runner, it is worth nothing to another (a relay of the mark).
  assert.notEqual(await peerMark(other, "\0a", "nonce"), mark);
  assert.notEqual(await peerMark(key, "\0b", "nonce"), mark);
  assert.notEqual(await peerMark(key, "\0a", "other"), mark);
});

Deno.test({
  name:
    "runner: a witness is seen through a process's open files, by a process as free as it, alone",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const own = ownWitness();
    assert.ok(own, "no witness");
    assert.equal(ownWitness(), own, "one witness per process");
    assert.deepEqual(readWitness(Deno.pid), own);
    // A process that shows one dumps no core: its hard limit is 1 byte, for good.
    assert.match(Deno.readTextFileSync("/proc/self/limits"), /^Max core file size\s+1\s+1\s/m);
    // The runner's, one per connection, found by its client's nonce, gone once closed.
    const [mine, theirs] = [nonce(), nonce()];
    const shown = connectionWitness(mine);
    assert.ok(shown);
    assert.notDeepEqual(shown.bytes, own);
    assert.deepEqual(readWitness(Deno.pid, mine), shown.bytes);
    assert.equal(readWitness(Deno.pid, theirs), undefined);
    assert.deepEqual(readWitness(Deno.pid), own, "the process's own is still the one");
    shown.close();
    assert.equal(readWitness(Deno.pid, mine), undefined);
    assert.equal(connectionWitness("not a nonce"), undefined);
    // Only as a nonce is spelled: another spelling of the same bytes would show a second witness
    // under a live client's tag.
    for (const alias of [mine.replace(/=+$/, ""), ` ${mine}`, `${mine} `]) {
      assert.equal(connectionWitness(alias), undefined, JSON.stringify(alias));
    }
    // Where the hard limit is 0 already (hardened hosts), a witness is shown all the same.
    const socketModule = JSON.stringify(join(REPO, "src", "cli", "_runner_socket.ts"));
    const zero = await new Deno.Command("prlimit", {
      args: [
        "--core=0:0",
        Deno.execPath(),
        "eval",
        `import { ownWitness } from ${socketModule};` +
        'console.log(ownWitness() !== null, Deno.readTextFileSync("/proc/self/limits")' +
        ".match(/^Max core file size.*$/m)[0])",
      ],
    }).output();
    assert.match(new TextDecoder().decode(zero.stdout), /^true Max core file size\s+0\s+0\s/);
    // Named by nothing on disk, and by nothing another process can list without ptrace access.
    assert.doesNotMatch(Deno.readTextFileSync(`/proc/${Deno.pid}/maps`), /capibara-witness/);
    // A process that shows none: nothing to see.
    const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      assert.equal(readWitness(child.pid), undefined);
    } finally {
      child.kill();
      await child.status;
    }
    // Sealed for a witness, opened with it alone.
    const other = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await seal(own, "a:b", "the request");
    assert.equal(await unseal(own, "a:b", sealed), "the request");
    assert.equal(await unseal(other, "a:b", sealed), undefined);
    assert.equal(await unseal(own, "a:c", sealed), undefined);
  },
});

Deno.test({
  name: "runner: a FIFO put at the runner's key or marker never blocks a command",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const mkfifo = async (path: string) => {
      await Deno.remove(path).catch(() => {});
      assert.equal(
        (await new Deno.Command("mkfifo", { args: ["-m", "600", path] }).output()).code,
        0,
      );
    };
    // The key swapped for a FIFO between the client's first read and its second (after the
    // runner's proof): the second read must not wait on it.
    const env = { CAPIBARA_RUNNER_NAME: testName() };
    await using listener = holdName(env);
    const key = Deno.readFileSync(runnerKeyFile(env)).slice(0, 32);
    const accepting = (async () => {
      for await (const conn of listener) {
        const incoming = lines(conn);
        const first = await incoming.next();
        if (first.done) continue;
        const hello = JSON.parse(first.value);
        await mkfifo(runnerKeyFile(env));
        const mine = "n".repeat(24);
        const signed = await proof(key, `runner:${hello.hello}:${mine}`);
        await conn.write(
          new TextEncoder().encode(JSON.stringify({ nonce: mine, proof: signed }) + "\n"),
        ).catch(() => {});
        await incoming.next().catch(() => {});
        try {
          conn.close();
        } catch {
          // closed by the client
        }
      }
    })();
    try {
      const result = await ends(
        capibara([...MISSING_INPUT_RUN], tmp.path, env),
        "a command whose runner's key became a FIFO",
      );
      assert.equal(result.code, 2, result.stderr);
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
    // The marker of the last hit a FIFO: a hit that would start a runner does not wait on it.
    const work = await examplesIn(tmp.path);
    const onDemand = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    ensureFolder(runnerFolder());
    await mkfifo(runnerFile(onDemand, "hit"));
    try {
      const hit = await ends(
        capibara(["run", PROMPT, "--context", CONTEXT, "--json"], work, onDemand),
        "a hit whose marker is a FIFO",
      );
      assert.equal(hit.code, 0, hit.stderr);
    } finally {
      await capibara(["runner", "stop"], work, onDemand);
      await Deno.remove(runnerFile(onDemand, "hit")).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "runner: /proc files are read through libc as Deno reads them, and null where they cannot be",
  ignore: Deno.build.os !== "linux",
  async fn() {
    assert.equal(procText("/proc/self/limits"), Deno.readTextFileSync("/proc/self/limits"));
    assert.match(procText(`/proc/${Deno.pid}/stat`) ?? "", new RegExp(`^${Deno.pid} \\(`));
    assert.equal(procText("/proc/no-such-file"), null);
    // A folder opens but cannot be read.
    assert.equal(procText("/proc/self"), null);
    // Longer than the buffer: read whole all the same.
    await using tmp = await withTmpDir();
    const long = "x".repeat(200 * 1024);
    await Deno.writeTextFile(join(tmp.path, "long"), long);
    assert.equal(procText(join(tmp.path, "long")), long);
  },
});

Deno.test({
  name: "runner: a result of over a megabyte comes through whole, as in the command's process",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const project = join(tmp.path, "project");
    await Deno.mkdir(project);
    // Within the script's contract (a last line of at most 1 MiB), printed as more than a MiB.
    const script = `import json\nregions = {"r%d" % i: {"v": i} for i in range(30000)}\n` +
      `print(json.dumps({"status": "ok", "artifacts": [], "output": regions, "raw": {}}))\n`;
    const bundle = bundleObject({ script, outputs: {}, readme: "" }) as unknown as Bundle;
    await new Capibara({
      root: project,
      cwd: project,
      cacheDir: CACHE,
      warn: () => {},
      generator: fixedGenerator(bundle),
    }).run("say a lot", { dryRun: true });
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    assert.equal((await capibara(["runner", "start"], project, env)).code, 0);
    try {
      const own = await capibara(["run", "say a lot", "--json"], project, {
        ...env,
        CAPIBARA_RUNNER: "0",
      });
      assert.equal(own.code, 0, own.stderr + own.stdout.slice(0, 2000));
      const served = await capibara(["run", "say a lot", "--json"], project, env);
      assert.equal(served.code, 0, served.stderr);
      assert.ok(served.stdout.length > 1024 * 1024, String(served.stdout.length));
      assert.equal(Object.keys(JSON.parse(served.stdout).output).length, 30000);
      assert.deepEqual(JSON.parse(served.stdout).output, JSON.parse(own.stdout).output);
      assert.equal((await runnerStatus(project, env)).served, 1);
    } finally {
      await capibara(["runner", "stop"], project, env);
    }
  },
});

Deno.test({
  name: "runner: lines come whole, however their bytes are split, and a line too long ends them",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const address = `\0capibara-test-${crypto.randomUUID()}`;
    const listener = Deno.listen({ transport: "unix", path: address });
    const client = await Deno.connect({ transport: "unix", path: address });
    const server = await listener.accept();
    try {
      const limit = { max: 16 };
      const incoming = lines(server, limit);
      // A character of three bytes split between two writes, and a line a byte at a time.
      const bytes = new TextEncoder().encode("é€x\nabc\n");
      for (const byte of bytes) await client.write(new Uint8Array([byte]));
      assert.equal((await incoming.next()).value, "é€x");
      assert.equal((await incoming.next()).value, "abc");
      // Two lines in one write; then a line over the limit, counted in bytes (a "€" is three).
      await client.write(new TextEncoder().encode("1\n2\n" + "€".repeat(6)));
      client.close();
      assert.equal((await incoming.next()).value, "1");
      assert.equal((await incoming.next()).value, "2");
      await assert.rejects(incoming.next(), /line too long/);
    } finally {
      try {
        client.close();
      } catch {
        // closed above
      }
      server.close();
      listener.close();
    }
  },
});

Deno.test({
  name: "runner: a connection's first line is short and prompt, or the connection is dropped",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName() };
    assert.equal((await capibara(["runner", "start"], tmp.path, env)).code, 0);
    try {
      /** How long the runner keeps a connection that sends `bytes` and then waits. */
      const kept = async (bytes: Uint8Array) => {
        const conn = await Deno.connect({ transport: "unix", path: runnerAddress(env) });
        const started = performance.now();
        try {
          if (bytes.length) await conn.write(bytes);
          const read = await conn.read(new Uint8Array(1)).catch(() => null);
          assert.equal(read, null, "the runner answered");
          return performance.now() - started;
        } finally {
          conn.close();
        }
      };
      // A first line longer than any hello: dropped at once, not after its 5 s.
      assert.ok(await kept(new Uint8Array(8192).fill(120)) < 900);
      // Nothing at all while half the places are taken by silent connections (made after it):
      // dropped after a second, not five (alone, it has the five: a client's checks may be slow).
      const measured = await Deno.connect({ transport: "unix", path: runnerAddress(env) });
      const started = performance.now();
      const crowd = await Promise.all(
        Array.from(
          { length: 40 },
          () => Deno.connect({ transport: "unix", path: runnerAddress(env) }),
        ),
      );
      try {
        const read = await measured.read(new Uint8Array(1)).catch(() => null);
        assert.equal(read, null, "the runner answered");
        const silent = performance.now() - started;
        assert.ok(silent >= 900 && silent < 3000, String(silent));
      } finally {
        measured.close();
        for (const conn of crowd) conn.close();
      }
      // The runner still serves its user.
      assert.equal((await runnerStatus(tmp.path, env)).running, true);
    } finally {
      await capibara(["runner", "stop"], tmp.path, env);
    }
  },
});

Deno.test({
  name:
    "runner: started where the user's commands do not run (another environment), it stops after a few requests it had to decline",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const work = await examplesIn(tmp.path);
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: CACHE };
    const started = await capibara(["runner", "start", "--idle", "120", "--json"], work, env);
    assert.equal(started.code, 0, started.stderr);
    try {
      // The user's shell has another TMPDIR than the runner was started with (a `deno task`
      // or `npx` changes PATH the same way): every request is declined, and run by the command.
      let running = true;
      for (let i = 0; i < 4 && running; i++) {
        const run = await capibara(
          ["run", PROMPT, "--context", CONTEXT, "--json"],
          work,
          { ...env, TMPDIR: "/tmp" },
        );
        assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
        running = (await runnerStatus(work, env)).running;
      }
      assert.equal(running, false, "the runner stays, declining every request");
    } finally {
      await capibara(["runner", "stop", "--json"], work, env);
    }
  },
});
