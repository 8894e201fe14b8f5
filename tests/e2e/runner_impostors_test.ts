/**
 * `capibara runner`'s client against impostors: whatever holds the runner's name, writes a key in
 * its folder or confines itself in place gets nothing of a command's request.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  keyRecord,
  lines,
  listenerHeldBy,
  proof,
  runnerAddress,
  runnerFolder,
  runnerKeyFile,
} from "../../src/cli/_runner_socket.ts";
import { ensureFolder } from "../../src/cli/_runner_start.ts";
import { CLI, cliEnv, REPO } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { which } from "../../src/_which.ts";
import {
  capibara,
  ends,
  eventually,
  holdName,
  LANDLOCK_NO_NNP,
  MISSING_INPUT_RUN,
  printed,
  testName,
} from "../helpers/runner.ts";

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
        [...MISSING_INPUT_RUN, "--json"],
        tmp.path,
        env,
      );
      // Run by the command itself: its own error for the missing input.
      assert.equal(result.code, 2, result.stderr);
      assert.equal(received.length, 1, "the client said more than hello");
      assert.ok(!received.join("").includes("do-not-send-me"), "the impostor got the environment");
      // A key others may read is not trusted: no connection at all.
      await Deno.chmod(runnerKeyFile(env), 0o644);
      await capibara([...MISSING_INPUT_RUN], tmp.path, env);
      assert.equal(received.length, 1, "the client used a key others may read");
    } finally {
      listener.close();
      await accepting.catch(() => {});
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
        capibara([...MISSING_INPUT_RUN], tmp.path, env),
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
        [...MISSING_INPUT_RUN],
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
          [...MISSING_INPUT_RUN],
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
          [...MISSING_INPUT_RUN],
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
      await capibara([...MISSING_INPUT_RUN], tmp.path, env);
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
        [...MISSING_INPUT_RUN],
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
 * name, answers each hello with the right proof, shows a witness (see ownWitness), takes the request with a
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
      // Its witness for this client to see (it is like the client, or in a domain the client is not).
      socket.connectionWitness(hello);
      const signed = await socket.proof(key, "runner:" + hello + ":" + mine);
      await conn.write(new TextEncoder().encode(JSON.stringify({ nonce: mine, proof: signed }) + "\\n"));
    }
  })().catch(() => {});
}
`;

Deno.test({
  name:
    "runner: a client trusts no listener but the process its key names, nor one that cannot see its witness",
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
      capibara([...MISSING_INPUT_RUN], tmp.path, {
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
      assert.match(result.stderr, /could not see this process's open files/, result.stderr);
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
        [...MISSING_INPUT_RUN],
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
        [...MISSING_INPUT_RUN],
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
        // Another user's socket of another type at the same name (the kernel keeps the types
        // apart) does not make the stream listener's holder unknown.
        const squatter = new Deno.Command("setpriv", {
          args: [
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            "import socket, sys, time\n" +
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n" +
            "s.bind(b'\\0' + sys.argv[1].encode()); s.listen(1)\n" +
            "print('up', flush=True); time.sleep(30)",
            address.slice(1),
          ],
          stdout: "piped",
        }).spawn();
        const squatting = squatter.stdout.getReader();
        try {
          if (Deno.uid() === 0) {
            await squatting.read();
            assert.equal(listenerHeldBy(address, other.pid), true, "a squatter of another type");
          }
        } finally {
          squatting.releaseLock();
          squatter.kill();
          await squatter.stdout.cancel().catch(() => {});
          await squatter.status;
        }
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
        ...MISSING_INPUT_RUN,
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

/**
 * A victim's client alone, as the command loads it (the bundle built from `_runner_client.ts`):
 * offers a run to the runner and prints what became of it.
 */
const VICTIM = `import { viaRunner } from ${
  JSON.stringify(join(REPO, "src", "cli", "_runner_client.bundle.js"))
};
const outcome = await viaRunner(${JSON.stringify(MISSING_INPUT_RUN)});
console.log("outcome " + JSON.stringify(outcome));
`;

Deno.test({
  name:
    "runner: a user's client gets nothing from an impostor root confined by Landlock before it became that user",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const landlocked = ["/usr/bin/python3", "-c", LANDLOCK_NO_NNP];
    const drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
    const works = await new Deno.Command(landlocked[0]!, {
      args: [...landlocked.slice(1), ...drop, "true"],
    }).output().catch(() => ({ code: 1 }));
    if (works.code !== 0) {
      console.warn("runner_impostors_test: no Landlock or setpriv here: the case is skipped");
      return;
    }
    await using tmp = await withTmpDir();
    await Deno.chmod(tmp.path, 0o755);
    // The user (65534): its home, Deno's cache and its runner's folder.
    const home = join(tmp.path, "home");
    await Deno.mkdir(home);
    await Deno.chown(home, 65534, 65534);
    const folder = "/tmp/capibara-65534";
    await Deno.mkdir(folder, { mode: 0o700 }).catch(() => {});
    await Deno.chown(folder, 65534, 65534);
    await Deno.chmod(folder, 0o700);
    const before = new Set([...Deno.readDirSync(folder)].map((entry) => entry.name));
    const env = {
      ...cliEnv({ CAPIBARA_RUNNER: "1", CAPIBARA_TIMINGS: "1" }),
      CAPIBARA_RUNNER_NAME: testName(),
      HOME: home,
      DENO_DIR: join(home, "deno"),
      SECRET_TOKEN: "do-not-send-me",
    };
    const impostorScript = join(tmp.path, "impostor.ts");
    const victimScript = join(tmp.path, "victim.ts");
    await Deno.writeTextFile(impostorScript, IMPOSTOR);
    await Deno.writeTextFile(victimScript, VICTIM);
    // Root makes a Landlock domain without no_new_privs, then becomes the user: the impostor
    // shows no_new_privs 0 and no capability, as the victim does, and holds the runner's name.
    const impostor = new Deno.Command(landlocked[0]!, {
      args: [
        ...landlocked.slice(1),
        ...drop,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        impostorScript,
        "self",
      ],
      cwd: tmp.path,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
    }).spawn();
    const { seen, done: reading } = printed(impostor);
    try {
      assert.ok(await eventually(() => Promise.resolve(seen.includes("listening")), 20_000));
      const out = await new Deno.Command(drop[0]!, {
        args: [...drop.slice(1), Deno.execPath(), "run", "-A", "--quiet", victimScript],
        cwd: tmp.path,
        clearEnv: true,
        env,
        stdin: "null",
      }).output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      await new Promise((r) => setTimeout(r, 200));
      const sent = seen.join("\n");
      assert.ok(!sent.includes("do-not-send-me"), `the impostor read the environment: ${sent}`);
      assert.ok(!sent.includes('\\"kind\\":\\"run\\"'), `the impostor read the request: ${sent}`);
      // Its answer is not taken: the command runs by itself.
      assert.match(said, /outcome "declined"/, said);
      assert.match(said, /the runner could not see this process's open files/, said);
    } finally {
      impostor.kill();
      await impostor.status;
      await reading.catch(() => {});
      // What the impostor left in the user's folder (its key).
      for (const entry of Deno.readDirSync(folder)) {
        if (!before.has(entry.name)) await Deno.remove(join(folder, entry.name)).catch(() => {});
      }
    }
  },
});
