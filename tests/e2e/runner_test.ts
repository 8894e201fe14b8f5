/**
 * `capibara runner`: a resident runner serves `capibara run` with the very results, messages and
 * exit codes the command gives in its own process; it declines what it cannot run the same way;
 * a client never talks to a socket in a folder that is not the user's alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import {
  connectRunner,
  keyRecord,
  lines,
  listenerHeldBy,
  maskedAddress,
  peerMark,
  procText,
  proof,
  runnerAddress,
  runnerFile,
  runnerFolder,
  runnerKeyFile,
} from "../../src/cli/_runner_socket.ts";
import {
  ensureFolder,
  inCi,
  START_LOCK_MS,
  startsOnDemand,
  takeStartLock,
} from "../../src/cli/_runner_start.ts";
import type { Bundle } from "../../src/schema.ts";
import {
  CLI,
  cliEnv,
  type CliResult,
  OS_SANDBOX,
  REPO,
  runCli,
  testCache,
} from "../helpers/cli.ts";
import { bundleObject, fixedGenerator } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { which } from "../../src/_which.ts";

/** One cache for the file: its environments are built once. */
const CACHE = await testCache("capibara_runner_cache_");
const PROMPT = "Summarise the sales CSV: total revenue, units and revenue per region";
const CONTEXT = '{"input": "data/sales.csv", "output": "out/summary.json"}';

/**
 * An attacker's client: reads the runner's key itself, proves it, names itself with the runner's
 * mark and asks `Deno.args[0]` ("run" of `args[1]` with context `args[2]`, or "stop"); prints
 * the runner's answer.
 */
const ATTACKER = `import * as socket from ${
  JSON.stringify(join(REPO, "src", "cli", "_runner_socket.ts"))
};
const env = Deno.env.toObject();
const encode = (text) => new TextEncoder().encode(text + "\\n");
const key = Deno.readFileSync(socket.runnerKeyFile(env)).slice(0, 32);
const conn = await Deno.connect({ transport: "unix", path: socket.runnerAddress(env) });
const mine = socket.nonce();
await conn.write(encode(JSON.stringify({ v: socket.RUNNER_PROTOCOL, hello: mine })));
const replies = socket.lines(conn, socket.HANDSHAKE_BYTES);
const hello = JSON.parse((await replies.next()).value);
socket.wearMark(await socket.peerMark(key, socket.runnerAddress(env), hello.nonce));
const [kind, prompt, context] = Deno.args;
const ids = { pid: Deno.pid, umask: Deno.umask() };
const send = async (body) => {
  const signed = await socket.proof(key, "client:" + mine + ":" + hello.nonce + ":" + body);
  await conn.write(encode(JSON.stringify({ v: socket.RUNNER_PROTOCOL, proof: signed, body })));
};
const body = JSON.stringify(kind === "run"
  ? { kind, args: ["run", prompt, "--context", context], cwd: Deno.cwd(), env, errIsTerminal: false, ...ids }
  : { kind, ...ids });
// Where the runner asks for it, the memory proof: read from the runner's process, if it can, and
// the request sealed for the runner to open with what it reads of this one's.
if (hello.witness) {
  const record = Deno.readFileSync(socket.runnerKeyFile(env)).subarray(32);
  const runnerPid = Number(new TextDecoder().decode(record).split(" ")[0]);
  const at = await socket.maskedAddress(key, hello.witness, mine, hello.nonce);
  const bytes = socket.readWitness(runnerPid, at);
  const seen = bytes ? await socket.proof(bytes, "client-seen:" + mine + ":" + hello.nonce) : "";
  const own = socket.ownWitness();
  const sealed = await socket.seal(own.bytes, mine + ":" + hello.nonce, body);
  await send(JSON.stringify({ kind: "sealed", ...ids, seen, witness: own.at, sealed }));
} else await send(body);
console.log((await replies.next()).value);
conn.close();
`;

/**
 * Runs `argv[1:]` in a Landlock domain that restricts no file access (every file under `/` may be
 * read), without `no_new_privs`, as a process holding `CAP_SYS_ADMIN` may: /proc shows no sign of
 * it. Exits 125 when the kernel has no Landlock.
 */
const LANDLOCK_NO_NNP = `import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
attr = struct.pack("Q", 1 << 2)
ruleset = libc.syscall(444, ctypes.create_string_buffer(attr), len(attr), 0)
if ruleset < 0: sys.exit(125)
root = os.open("/", os.O_PATH)
rule = ctypes.create_string_buffer(struct.pack("=Qi", 1 << 2, root))
if libc.syscall(445, ruleset, 1, rule, 0) != 0 or libc.syscall(446, ruleset, 0) != 0: sys.exit(125)
os.execvp(sys.argv[1], sys.argv[1:])
`;

/** A runner of the test's own (its key in the user's folder, its name apart from any other). */
function testName(): string {
  return `test-${crypto.randomUUID()}`;
}

/** `capibara <args>` through the installed command's entry, which hands runs to a runner. */
function capibara(args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  return runCli(args, { cwd, env: { CAPIBARA_RUNNER: "1", ...env }, entry: CLI });
}

/** What `capibara runner status --json` says, for the runner of `env`. */
async function runnerStatus(cwd: string, env: Record<string, string>) {
  return JSON.parse((await capibara(["runner", "status", "--json"], cwd, env)).stdout);
}

/**
 * An impostor: the runner's name held by a listener that does not hold the key the client
 * trusts (a fresh one, written where the client reads it). Dispose it to remove both.
 */
function holdName(env: Record<string, string>): Deno.UnixListener & AsyncDisposable {
  ensureFolder(runnerFolder());
  // The impostor runs (this process), so its key names a live process.
  Deno.writeFileSync(runnerKeyFile(env), keyRecord(crypto.getRandomValues(new Uint8Array(32))), {
    mode: 0o600,
  });
  const listener = Deno.listen({ transport: "unix", path: runnerAddress(env) });
  return Object.assign(listener, {
    async [Symbol.asyncDispose]() {
      try {
        listener.close();
      } catch {
        // closed
      }
      await Deno.remove(runnerKeyFile(env)).catch(() => {});
    },
  });
}

Deno.test({
  name: "runner: serves runs as the command would, declines what it cannot, stops",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const cache = CACHE;
    const work = join(tmp.path, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
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
  name: "runner: a client sends nothing to what holds the runner's name without its key",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    // A key the client trusts, and an impostor at the runner's name that does not hold it.
    await using listener = holdName(env);
    const received: string[] = [];
    const accepting = (async () => {
      for await (const conn of listener) {
        for await (const line of lines(conn)) {
          received.push(line);
          // Whatever comes second (a request, with the environment) ends the exchange.
          if (received.length > 1) break;
          await conn.write(new TextEncoder().encode('{"nonce": "x", "proof": "forged"}\n'));
        }
        try {
          conn.close();
        } catch {
          // closed with its stream
        }
      }
    })();
    try {
      const result = await capibara(
        ["run", "Summarise", "--context", '{"input": "missing.csv"}', "--json"],
        tmp.path,
        env,
      );
      // Run by the command itself: its own error for the missing input.
      assert.equal(result.code, 2, result.stderr);
      assert.equal(received.length, 1, "the client said more than hello");
      assert.ok(!received.join("").includes("do-not-send-me"), "the impostor got the environment");
      // A key others may read is not trusted: no connection at all.
      await Deno.chmod(runnerKeyFile(env), 0o644);
      await capibara(["run", "Summarise", "--context", '{"input": "missing.csv"}'], tmp.path, env);
      assert.equal(received.length, 1, "the client used a key others may read");
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
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
    // The script's process names its file, under the project's store.
    const marker = join(project, ".capibara", "scripts");
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
    const env = { CAPIBARA_RUNNER_NAME: testName(), CAPIBARA_CACHE_DIR: cache };
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
      for (let i = 0; i < 100; i++) {
        const found = await new Deno.Command("pgrep", { args: ["-f", marker], stdout: "piped" })
          .output();
        if (new TextDecoder().decode(found.stdout).trim() !== "") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGINT");
      const out = await child.output();
      assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
      assert.match(new TextDecoder().decode(out.stderr), /^interrupted: Interrupted by SIGINT/m);
      // The next run's sandbox, set up ahead, waits (--held): the script itself must be gone.
      const left = await new Deno.Command("pgrep", { args: ["-af", marker], stdout: "piped" })
        .output();
      const running = new TextDecoder().decode(left.stdout).split("\n")
        .filter((line) => line.trim() !== "" && !line.includes("--held="));
      assert.deepEqual(running, [], "the script outlived Ctrl-C");
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
async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A command that must end: a hit that waited for the runner it started would never end. */
async function ends(result: Promise<CliResult>, what: string): Promise<CliResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end`)), 60_000);
  });
  try {
    return await Promise.race([result, hung]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name:
    "runner: a second hit within a minute starts one on demand (not with CAPIBARA_RUNNER=0, nor unset in CI)",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const work = join(tmp.path, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
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
    const work = join(tmp.path, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
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
          /runner not used: (this process cannot read the runner's memory|it runs in another)/,
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
            /could not read the runner's memory/,
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
      // A client of the session proves it read the runner's memory, and is answered.
      const status = await inSession([], ["runner", "status", "--json"]);
      assert.match(status, /"running": true/, status);
      // One in a Landlock domain of the session cannot: declined, whatever else it shows.
      const attack = join(tmp.path, "attack.ts");
      await Deno.writeTextFile(attack, ATTACKER);
      const reply = await inSession(landlocked, ["stop"], attack);
      assert.match(reply, /"decline".*could not read the runner's memory/, reply);
      const after = await inSession([], ["runner", "status", "--json"]);
      assert.match(after, /"running": true/, "a Landlock domain stopped the runner");
    } finally {
      await inSession([], ["runner", "stop"]);
    }
  },
});

Deno.test({
  name: "runner: a client does not wait on what holds the name and never answers",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName() };
    await using listener = holdName(env);
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    try {
      const result = await ends(
        capibara(["run", "Summarise", "--context", '{"input": "missing.csv"}'], tmp.path, env),
        "a command facing a silent runner",
      );
      // Run by the command itself: its own error for the missing input.
      assert.equal(result.code, 2, result.stderr);
      assert.equal(held.length, 1, "the command never tried the runner");
    } finally {
      for (const conn of held) conn.close();
      listener.close();
      await accepting.catch(() => {});
    }
  },
});

Deno.test({
  name:
    "runner: a key left by a runner that is gone, or by a process unlike the client, is never trusted",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName() };
    await using listener = holdName(env);
    // The key now names a process that ran and ended (a runner killed without its clean-up).
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    Deno.writeFileSync(
      runnerKeyFile(env),
      keyRecord(crypto.getRandomValues(new Uint8Array(32)), gone.pid),
      { mode: 0o600 },
    );
    let connections = 0;
    const accepting = (async () => {
      for await (const conn of listener) {
        connections++;
        conn.close();
      }
    })();
    try {
      const result = await capibara(
        ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
        tmp.path,
        env,
      );
      assert.equal(result.code, 2, result.stderr);
      assert.equal(connections, 0, "the client trusted the key of a runner that is gone");
      // A key naming a runner killed but not reaped yet (a zombie keeps its start time, and its
      // name is free for whoever takes it).
      const parent = new Deno.Command("python3", {
        args: [
          "-c",
          "import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\n" +
          "print(pid, flush=True)\ntime.sleep(30)",
        ],
        stdout: "piped",
      }).spawn();
      try {
        const reader = parent.stdout.getReader();
        const zombie = Number(new TextDecoder().decode((await reader.read()).value).trim());
        reader.releaseLock();
        await new Promise((r) => setTimeout(r, 100));
        assert.match(Deno.readTextFileSync(`/proc/${zombie}/stat`), /\) Z /);
        const record = keyRecord(crypto.getRandomValues(new Uint8Array(32)), zombie);
        assert.doesNotMatch(new TextDecoder().decode(record.subarray(32)), /^\d+ \d+\n$/);
        // Written with the start time it had when it ran: still refused.
        const start = Deno.readTextFileSync(`/proc/${zombie}/stat`).split(") ")[1]!.split(" ")[19];
        const forged = new Uint8Array([
          ...record.subarray(0, 32),
          ...new TextEncoder().encode(`${zombie} ${start}\n`),
        ]);
        Deno.writeFileSync(runnerKeyFile(env), forged, { mode: 0o600 });
        await capibara(
          ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
          tmp.path,
          env,
        );
        assert.equal(connections, 0, "the client trusted the key of a runner not reaped yet");
      } finally {
        parent.kill();
        await parent.stdout.cancel().catch(() => {});
        await parent.status;
      }
      // A key naming a live process unlike the client (confined otherwise: no_new_privs), as a
      // process that can write the folder could leave to pose as a runner.
      const confined = new Deno.Command("setpriv", { args: ["--no-new-privs", "sleep", "30"] })
        .spawn();
      try {
        Deno.writeFileSync(
          runnerKeyFile(env),
          keyRecord(crypto.getRandomValues(new Uint8Array(32)), confined.pid),
          { mode: 0o600 },
        );
        await capibara(
          ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
          tmp.path,
          env,
        );
        assert.equal(connections, 0, "the client trusted a key of a process unlike it");
      } finally {
        confined.kill();
        await confined.status;
      }
      // The same key naming a process that runs (this one) is trusted: the check is the process.
      Deno.writeFileSync(
        runnerKeyFile(env),
        keyRecord(crypto.getRandomValues(new Uint8Array(32))),
        {
          mode: 0o600,
        },
      );
      await capibara(["run", "Summarise", "--context", '{"input": "missing.csv"}'], tmp.path, env);
      assert.equal(connections, 1);
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
  },
});

Deno.test({
  name: "runner: a client that finds its runner gone by the time it answers sends it nothing",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    // Whoever read a live runner's key, killed it between a client's reading of the key and its
    // connection, and took its name: it answers with the right proof.
    await using listener = holdName(env);
    const key = Deno.readFileSync(runnerKeyFile(env)).slice(0, 32);
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const received: string[] = [];
    const accepting = (async () => {
      for await (const conn of listener) {
        const incoming = lines(conn);
        const first = await incoming.next();
        if (first.done) continue;
        received.push(first.value);
        const hello = JSON.parse(first.value);
        // The runner the key named is gone now (its record names a process that ended).
        Deno.writeFileSync(runnerKeyFile(env), keyRecord(key, gone.pid), { mode: 0o600 });
        const mine = "n".repeat(24);
        const signed = await proof(key, `runner:${hello.hello}:${mine}`);
        await conn.write(
          new TextEncoder().encode(JSON.stringify({ nonce: mine, proof: signed }) + "\n"),
        );
        const second = await incoming.next();
        if (!second.done) received.push(second.value);
        try {
          conn.close();
        } catch {
          // closed by the client
        }
      }
    })();
    try {
      const result = await capibara(
        ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
        tmp.path,
        env,
      );
      assert.equal(result.code, 2, result.stderr);
      assert.equal(received.length, 1, `the client sent its request: ${received.join("\n")}`);
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
  },
});

/**
 * An impostor in a process of its own: writes a key of its own naming process `Deno.args[0]` (a
 * live process like the client, which is not the impostor; `self`: itself), holds the runner's
 * name, answers each hello with the right proof and a witness of its memory, takes the request with a
 * forged proof of having read the client's, and prints every line it is sent.
 */
const IMPOSTOR = `import * as socket from ${
  JSON.stringify(join(REPO, "src", "cli", "_runner_socket.ts"))
};
const env = Deno.env.toObject();
const key = crypto.getRandomValues(new Uint8Array(32));
const named = Deno.args[0] === "self" ? Deno.pid : Number(Deno.args[0]);
Deno.writeFileSync(socket.runnerKeyFile(env), socket.keyRecord(key, named), { mode: 0o600 });
const listener = Deno.listen({ transport: "unix", path: socket.runnerAddress(env) });
console.log("listening");
for await (const conn of listener) {
  (async () => {
    for await (const line of socket.lines(conn)) {
      console.log("received " + line);
      const { hello, body } = JSON.parse(line);
      if (typeof body === "string" && JSON.parse(body).kind === "sealed") {
        // "silent": never answers it.
        if (Deno.args[1] !== "silent") {
          const forged = JSON.stringify({ run: true, seen: "forged" });
          await conn.write(new TextEncoder().encode(forged + "\\n"));
        }
        continue;
      }
      if (typeof hello !== "string") {
        conn.close();
        break;
      }
      const mine = socket.nonce();
      const signed = await socket.proof(key, "runner:" + hello + ":" + mine);
      const witness = await socket.maskedAddress(key, socket.ownWitness().at, hello, mine);
      await conn.write(new TextEncoder().encode(JSON.stringify({ nonce: mine, proof: signed, witness }) + "\\n"));
    }
  })().catch(() => {});
}
`;

Deno.test({
  name:
    "runner: a client trusts no listener but the process its key names, nor one that cannot read its memory",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    ensureFolder(runnerFolder());
    const script = join(tmp.path, "impostor.ts");
    await Deno.writeTextFile(script, IMPOSTOR);
    /** Runs the impostor (`named`: the pid its key names), started by `wrapper`, around `fn`. */
    const withImpostor = async (
      named: string,
      wrapper: string[],
      fn: (seen: string[]) => Promise<void>,
    ) => {
      const impostor = new Deno.Command(wrapper[0] ?? Deno.execPath(), {
        args: [
          ...wrapper.slice(1),
          ...wrapper.length ? [Deno.execPath()] : [],
          ...["run", "-A", "--quiet", script, ...named.split(" ")],
        ],
        env: { ...env },
        stdin: "null",
        stdout: "piped",
      }).spawn();
      const { seen, done: reading } = printed(impostor);
      try {
        assert.ok(await eventually(() => Promise.resolve(seen.includes("listening")), 10_000));
        await fn(seen);
      } finally {
        impostor.kill();
        await impostor.status;
        await reading.catch(() => {});
        await Deno.remove(runnerKeyFile(env)).catch(() => {});
      }
    };
    const hit = () =>
      capibara(["run", "Summarise", "--context", '{"input": "missing.csv"}'], tmp.path, {
        ...env,
        CAPIBARA_TIMINGS: "1",
      });
    // A process that can write the key's folder (confined by another tool, say) names this test's
    // process, which runs and is like the client, and listens itself.
    await withImpostor(String(Deno.pid), [], async (seen) => {
      const result = await hit();
      // Nor do `runner status` and `stop` talk to it.
      await capibara(["runner", "status"], tmp.path, env);
      await capibara(["runner", "stop"], tmp.path, env);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(seen, ["listening"], `the client sent it: ${seen.join("\n")}`);
      // Run by the command itself (its own error for the missing input), saying why.
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /not the process its key names/, result.stderr);
    });
    // As root, one in a Landlock domain without no_new_privs, naming itself: /proc shows nothing
    // of the domain, and it listens as the key says; but it cannot read the client's memory, so
    // the client sends it no request (its environment, its arguments) and runs by itself.
    const landlocked = ["/usr/bin/python3", "-c", LANDLOCK_NO_NNP];
    const landlock = (await new Deno.Command(landlocked[0]!, {
      args: [...landlocked.slice(1), "true"],
    }).output().catch(() => ({ code: 1 }))).code === 0;
    if (Deno.uid() !== 0 || !landlock) {
      console.warn("runner_test: not root, or no Landlock: the Landlock impostor is skipped");
      return;
    }
    // One that answers the hello, then never the memory proof: the client runs by itself after
    // the handshake's deadline, and sends nothing more.
    await withImpostor("self silent", [], async (seen) => {
      const started = performance.now();
      const result = await ends(hit(), "a client facing a runner that never answers");
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /runner declined: the runner did not answer in time/);
      assert.ok(performance.now() - started < 30_000);
      assert.ok(!seen.join("\n").includes("do-not-send-me"), seen.join("\n"));
    });
    await withImpostor("self", landlocked, async (seen) => {
      const result = await hit();
      await new Promise((r) => setTimeout(r, 200));
      const sent = seen.join("\n");
      assert.ok(!sent.includes("do-not-send-me"), `the client sent its environment: ${sent}`);
      assert.ok(!sent.includes('\\"kind\\":\\"run\\"'), `the client sent its request: ${sent}`);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /could not read this process's memory/, result.stderr);
    });
  },
});

/**
 * An impostor that listens from one process and serves from another, in Python: the parent binds
 * and listens (the kernel records its pid for `SO_PEERCRED`), forks the server, closes its copy of
 * the socket and stays alive, as a process of the user's would that took the pid of a listener
 * that exited. The server writes a key naming the parent, answers hellos with the right proof and
 * prints every line it is sent.
 */
const STALE_LISTENER = `import base64, hashlib, hmac, json, os, socket, sys, time
address, key_file = sys.argv[1], sys.argv[2]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(b"\\0" + address.encode())
listener.listen(8)
parent = os.getpid()
if os.fork() != 0:
    listener.close()
    time.sleep(60)
    sys.exit(0)
key = os.urandom(32)
start = open(f"/proc/{parent}/stat").read().rsplit(")", 1)[1].split()[19]
fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, key + f"{parent} {start}\\n".encode())
os.close(fd)
print("listening", flush=True)
while True:
    conn, _ = listener.accept()
    for line in conn.makefile("r"):
        print("received " + line.strip(), flush=True)
        hello = json.loads(line).get("hello")
        if not isinstance(hello, str):
            break
        mine = base64.b64encode(os.urandom(16)).decode()
        signed = base64.b64encode(hmac.new(key, f"runner:{hello}:{mine}".encode(), hashlib.sha256).digest()).decode()
        conn.sendall((json.dumps({"nonce": mine, "proof": signed}) + "\\n").encode())
    conn.close()
`;

Deno.test({
  name:
    "runner: a client trusts a runner only when the key's process holds the listening socket (not a listener's stale pid)",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    ensureFolder(runnerFolder());
    const script = join(tmp.path, "stale.py");
    await Deno.writeTextFile(script, STALE_LISTENER);
    const impostor = new Deno.Command("/usr/bin/python3", {
      // The abstract name without its leading NUL, which no argument may hold.
      args: [script, runnerAddress(env).slice(1), runnerKeyFile(env)],
      stdin: "null",
      stdout: "piped",
    }).spawn();
    const { seen, done: reading } = printed(impostor);
    try {
      assert.ok(await eventually(() => Promise.resolve(seen.includes("listening")), 10_000));
      const result = await capibara(
        ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
        tmp.path,
        { ...env, CAPIBARA_TIMINGS: "1" },
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(seen, ["listening"], `the client sent it: ${seen.join("\n")}`);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /not the process its key names/, result.stderr);
    } finally {
      // The server (the parent's child) first: it holds the output pipe too.
      await new Deno.Command("pkill", { args: ["-f", script] }).output().catch(() => {});
      await impostor.status;
      await reading.catch(() => {});
      await Deno.remove(runnerKeyFile(env)).catch(() => {});
    }
  },
});

/**
 * An impostor that hands the runner's name over (a fifth review's PoC): it listens with a key of
 * its own naming process `argv[3]` (like the client; it listens at the name later), accepts one
 * client and stops it, closes its listener, and on a line on stdin lets the client go on and
 * answers it with the right proof, printing every line it is sent.
 */
const HANDOVER = `import base64, hashlib, hmac, json, os, signal, socket, struct, sys
address, key_file, named = sys.argv[1], sys.argv[2], int(sys.argv[3])
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(b"\\0" + address.encode())
listener.listen(8)
key = os.urandom(32)
start = open(f"/proc/{named}/stat").read().rsplit(")", 1)[1].split()[19]
fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, key + f"{named} {start}\\n".encode())
os.close(fd)
print("listening", flush=True)
conn, _ = listener.accept()
client = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
os.kill(client, signal.SIGSTOP)
listener.close()
print("stopped", flush=True)
sys.stdin.readline()
os.kill(client, signal.SIGCONT)
for line in conn.makefile("r"):
    print("received " + line.strip(), flush=True)
    hello = json.loads(line).get("hello")
    if not isinstance(hello, str):
        break
    mine = base64.b64encode(os.urandom(16)).decode()
    signed = base64.b64encode(hmac.new(key, f"runner:{hello}:{mine}".encode(), hashlib.sha256).digest()).decode()
    conn.sendall((json.dumps({"nonce": mine, "proof": signed}) + "\\n").encode())
`;

/** The lines a child prints, as they come. */
function printed(child: Deno.ChildProcess): { seen: string[]; done: Promise<void> } {
  const seen: string[] = [];
  const done = (async () => {
    let buffered = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (buffered + text).split("\n");
      buffered = parts.pop()!;
      seen.push(...parts);
    }
  })();
  return { seen, done };
}

Deno.test({
  name:
    "runner: a client trusts only the process it reached, not the one that holds the name when it looks",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    ensureFolder(runnerFolder());
    const address = runnerAddress(env);
    // The process the key names: like the client, it listens at the name once told to.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "const line = Deno.stdin.readable.getReader(); await line.read();" +
        `const l = Deno.listen({ transport: "unix", path: ${JSON.stringify(address)} });` +
        'console.log("up"); for await (const c of l) void c;',
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const script = join(tmp.path, "handover.py");
    await Deno.writeTextFile(script, HANDOVER);
    const impostor = new Deno.Command("/usr/bin/python3", {
      args: [script, address.slice(1), runnerKeyFile(env), String(holder.pid)],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const held = printed(holder);
    const heard = printed(impostor);
    const say = async (child: Deno.ChildProcess) => {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      writer.releaseLock();
    };
    try {
      assert.ok(await eventually(() => Promise.resolve(heard.seen.includes("listening")), 10_000));
      const run = capibara(
        ["run", "Summarise", "--context", '{"input": "missing.csv"}'],
        tmp.path,
        {
          ...env,
          CAPIBARA_TIMINGS: "1",
        },
      );
      assert.ok(await eventually(() => Promise.resolve(heard.seen.includes("stopped")), 10_000));
      // The name handed over: the key's process now holds the socket at the name.
      await say(holder);
      assert.ok(await eventually(() => Promise.resolve(held.seen.includes("up")), 10_000));
      await say(impostor);
      const result = await ends(run, "a client facing a handed-over name");
      await new Promise((r) => setTimeout(r, 200));
      const sent = heard.seen.join("\n");
      assert.ok(!sent.includes("received"), `the client sent it: ${sent}`);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /not the process its key names/, result.stderr);
    } finally {
      for (const child of [impostor, holder]) {
        try {
          child.kill();
        } catch {
          // ended
        }
        await child.status;
        await child.stdin.close().catch(() => {});
      }
      await Promise.allSettled([held.done, heard.done]);
      await Deno.remove(runnerKeyFile(env)).catch(() => {});
    }
  },
});

Deno.test({
  name: "runner: the process holding a listening socket is found by its descriptors",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const address = `\0capibara-test-${crypto.randomUUID()}`;
    assert.equal(listenerHeldBy(address, Deno.pid), false, "nothing listens there yet");
    // Another process listens: it holds the socket, this one does not (even connected to it).
    const other = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const listener = Deno.listen({ transport: "unix", path: ${JSON.stringify(address)} });` +
        'console.log("up"); for await (const conn of listener) void conn;',
      ],
      stdout: "piped",
    }).spawn();
    const reader = other.stdout.getReader();
    try {
      await reader.read();
      const conn = await Deno.connect({ transport: "unix", path: address });
      const own = `${address}-own`;
      const listener = Deno.listen({ transport: "unix", path: own });
      try {
        assert.equal(listenerHeldBy(address, other.pid), true);
        assert.equal(listenerHeldBy(address, Deno.pid), false, "a connection taken for the socket");
        assert.equal(listenerHeldBy(own, Deno.pid), true);
        assert.equal(listenerHeldBy(own, other.pid), false);
        assert.equal(listenerHeldBy(`${address}-none`, other.pid), false);
      } finally {
        conn.close();
        listener.close();
      }
    } finally {
      reader.releaseLock();
      other.kill();
      await other.stdout.cancel().catch(() => {});
      await other.status;
    }
  },
});

Deno.test("runner: on demand by default outside CI; 1 and 0 decide", () => {
  const can = Deno.build.os === "linux";
  const yama = (() => {
    try {
      return Deno.readTextFileSync("/proc/sys/kernel/yama/ptrace_scope").trim();
    } catch {
      return undefined;
    }
  })();
  const cases: [Record<string, string>, boolean, boolean][] = [
    [{}, false, true],
    [{}, true, yama !== "3"],
    [{ CAPIBARA_RUNNER: "auto" }, false, true],
    [{ CI: "true" }, false, false],
    [{ CI: "1" }, false, false],
    [{ CI: "false" }, false, true],
    [{ CI: "" }, false, true],
    [{ GITHUB_ACTIONS: "true" }, false, false],
    [{ GITLAB_CI: "true" }, false, false],
    [{ JENKINS_URL: "http://ci:8080/" }, false, false],
    [{ CAPIBARA_RUNNER: "1" }, false, true],
    [{ CAPIBARA_RUNNER: "yes", CI: "true" }, false, true],
    [{ CAPIBARA_RUNNER: "0" }, false, false],
    [{ CAPIBARA_RUNNER: "off" }, true, false],
  ];
  for (const [env, admin, expected] of cases) {
    assert.equal(startsOnDemand(env, admin), expected && can, `${JSON.stringify(env)}, ${admin}`);
  }
  assert.equal(inCi({ CI: "true" }), true);
  assert.equal(inCi({ CI: "no" }), false);
});

Deno.test("runner: the mark a client wears is bound to the runner's key and name; addresses are masked", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const other = crypto.getRandomValues(new Uint8Array(32));
  const mark = await peerMark(key, "\0a", "nonce");
  assert.equal(mark.length, 15);
  assert.equal(await peerMark(key, "\0a", "nonce"), mark);
  // Worn for one runner, it is worth nothing to another (a relay of the mark).
  assert.notEqual(await peerMark(other, "\0a", "nonce"), mark);
  assert.notEqual(await peerMark(key, "\0b", "nonce"), mark);
  assert.notEqual(await peerMark(key, "\0a", "other"), mark);
  // The runner's memory address, sent before the client proved the key, is masked by the key.
  const at = "7f3a12345678";
  const masked = await maskedAddress(key, at, "n1", "n2");
  assert.ok(masked !== undefined && masked !== at);
  assert.equal(await maskedAddress(key, masked, "n1", "n2"), at);
  assert.notEqual(await maskedAddress(other, masked, "n1", "n2"), at);
  assert.notEqual(await maskedAddress(key, at, "n1", "n3"), masked);
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
        capibara(["run", "Summarise", "--context", '{"input": "missing.csv"}'], tmp.path, env),
        "a command whose runner's key became a FIFO",
      );
      assert.equal(result.code, 2, result.stderr);
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
    // The marker of the last hit a FIFO: a hit that would start a runner does not wait on it.
    const work = join(tmp.path, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
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
    "runner: once its code changed, it declines and stops (told by file events, not per request)",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    // A checkout of its own, so that its code can change.
    const checkout = join(tmp.path, "checkout");
    await Deno.mkdir(checkout);
    for (const name of ["src", "main.ts", "cli.ts", "deno.json", "deno.lock"]) {
      const copied = await new Deno.Command("cp", { args: ["-r", join(REPO, name), checkout] })
        .output();
      assert.ok(copied.success, name);
    }
    const work = join(tmp.path, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
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

/**
 * A process that is like the client when the client first looks, then confines itself in place
 * (a CPU-time bound: its pid and start time kept, as `unshare` without --fork or a Landlock
 * sandboxer before an exec keep them) and only then listens, with a key naming itself. It runs the client
 * (`argv[3:]`) itself, so that both are traced alike (see the test), confines itself after
 * `argv[2]` seconds, and prints every line it is sent, then the client's exit code.
 */
const TRANSITIONING =
  `import base64, hashlib, hmac, json, os, resource, socket, subprocess, sys, time
address, key_file, after, command = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
key = os.urandom(32)
start = open(f"/proc/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()[19]
fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, key + f"{os.getpid()} {start}\\n".encode())
os.close(fd)
client = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
time.sleep(after)
resource.setrlimit(resource.RLIMIT_CPU, (600, 600))
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(b"\\0" + address.encode())
listener.listen(8)
listener.settimeout(5)
try:
    conn, _ = listener.accept()
    conn.settimeout(5)
    for line in conn.makefile("r"):
        print("received " + line.strip(), flush=True)
        hello = json.loads(line).get("hello")
        if not isinstance(hello, str):
            break
        mine = base64.b64encode(os.urandom(16)).decode()
        signed = base64.b64encode(hmac.new(key, f"runner:{hello}:{mine}".encode(), hashlib.sha256).digest()).decode()
        conn.sendall((json.dumps({"nonce": mine, "proof": signed}) + "\\n").encode())
except (socket.timeout, OSError):
    pass
_, err = client.communicate(timeout=60)
print("client " + str(client.returncode), flush=True)
print(err.decode(), flush=True)
`;

Deno.test({
  name:
    "runner: a client checks what its runner is once connected, not only before (it may confine itself in place)",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const strace = await which("strace");
    if (!strace) {
      console.warn(
        "runner_test: strace is not installed: the in-place confinement case is skipped",
      );
      return;
    }
    await using tmp = await withTmpDir();
    const env = { CAPIBARA_RUNNER_NAME: testName(), SECRET_TOKEN: "do-not-send-me" };
    ensureFolder(runnerFolder());
    const script = join(tmp.path, "transitioning.py");
    await Deno.writeTextFile(script, TRANSITIONING);
    // Both under one tracer (the same TracerPid and filters, so alike), which holds the client's
    // connect() 2 s: the process confines itself and listens after the client's first look, and
    // before its connection.
    const out = await new Deno.Command(strace, {
      args: [
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-o",
        "/dev/null",
        "-e",
        "trace=connect",
        "-e",
        "inject=connect:delay_enter=2000000",
        "/usr/bin/python3",
        script,
        runnerAddress(env).slice(1),
        runnerKeyFile(env),
        "1",
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        CLI,
        "run",
        "Summarise",
        "--context",
        '{"input": "missing.csv"}',
      ],
      cwd: tmp.path,
      clearEnv: true,
      env: cliEnv({ CAPIBARA_RUNNER: "1", CAPIBARA_TIMINGS: "1", ...env }),
      stdin: "null",
    }).output();
    await Deno.remove(runnerKeyFile(env)).catch(() => {});
    const printed = new TextDecoder().decode(out.stdout);
    assert.match(printed, /^client 2$/m, printed + new TextDecoder().decode(out.stderr));
    assert.doesNotMatch(printed, /received/, `the client talked to it: ${printed}`);
    assert.match(printed, /runner not used: its limit of cpu time is lower/);
  },
});
