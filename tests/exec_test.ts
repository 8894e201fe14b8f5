/**
 * execCommand(): the one subprocess runner. Real processes: the time limit and cancellation kill
 * the whole tree, the output cap kills the writer, the parent's environment is never inherited.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CommandSpec, execCommand, GATE_PASSED, holdCommand } from "../src/exec.ts";
import { withTmpDir } from "./helpers/tmp.ts";

const SH = "/bin/sh";
const ENV = { PATH: "/usr/bin:/bin" };

function sh(script: string, cwd: string, env: Record<string, string> = ENV): CommandSpec {
  return { program: SH, args: ["-c", script], env, cwd };
}

/** True when the process is gone (or a zombie nobody reaped yet: it runs nothing). */
function gone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Waits (up to 5 s) for a killed process to disappear; false if it is still running. */
async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (gone(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return gone(pid);
}

/** Waits (up to 30 s) until `file` holds a pid written by the script's background child. */
async function readPid(file: string): Promise<number> {
  for (let i = 0; i < 1500; i++) {
    const text = await Deno.readTextFile(file).catch(() => "");
    if (text.endsWith("\n")) return Number(text.trim());
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`The script never wrote ${file}`);
}

Deno.test("execCommand() reports exit code, stdout and stderr", async () => {
  await using tmp = await withTmpDir();
  const res = await execCommand(sh("echo out; echo err >&2; exit 3", tmp.path), {
    timeoutMs: 60_000,
  });
  assert.equal(res.code, 3);
  assert.equal(res.stdout, "out\n");
  assert.equal(res.stderr, "err\n");
  assert.equal(res.timedOut, false);
  assert.equal(res.cancelled, false);
  assert.equal(res.outputTruncated, false);
});

Deno.test("execCommand() never inherits the parent's environment and gives no stdin", async () => {
  await using tmp = await withTmpDir();
  Deno.env.set("CAPIBARA_EXEC_TEST_SECRET", "leaked");
  try {
    const res = await execCommand(
      sh('env; cat; echo "stdin done"', tmp.path, { ...ENV, GIVEN: "1" }),
      { timeoutMs: 60_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^GIVEN=1$/m);
    assert.doesNotMatch(res.stdout, /CAPIBARA_EXEC_TEST_SECRET/);
    assert.doesNotMatch(res.stdout, /^HOME=/m);
    assert.match(res.stdout, /stdin done/);
  } finally {
    Deno.env.delete("CAPIBARA_EXEC_TEST_SECRET");
  }
});

Deno.test("execCommand() kills the whole process tree at the time limit", async () => {
  await using tmp = await withTmpDir();
  const pidFile = join(tmp.path, "child.pid");
  // The leader waits on a background grandchild that would outlive it for ~17 minutes.
  const res = await execCommand(
    sh(`sleep 1000 & echo $! > child.pid.tmp && mv child.pid.tmp child.pid; wait`, tmp.path),
    { timeoutMs: 3_000 },
  );
  assert.equal(res.timedOut, true);
  assert.notEqual(res.code, 0);
  const child = await readPid(pidFile);
  assert.ok(await waitGone(child), `background child ${child} survived the timeout`);
});

Deno.test("execCommand() kills a daemon the leader left behind when it exits", async () => {
  await using tmp = await withTmpDir();
  const pidFile = join(tmp.path, "child.pid");
  const res = await execCommand(
    sh(
      `sleep 1000 >/dev/null 2>&1 & echo $! > child.pid.tmp && mv child.pid.tmp child.pid; exit 0`,
      tmp.path,
    ),
    { timeoutMs: 60_000 },
  );
  assert.equal(res.code, 0);
  const child = await readPid(pidFile);
  assert.ok(await waitGone(child), `daemon ${child} outlived the run`);
});

Deno.test("execCommand() stops a writer at the output cap", async () => {
  await using tmp = await withTmpDir();
  // `yes` never ends on its own: only the cap's kill ends this run before the time limit.
  const res = await execCommand(sh("yes capibara", tmp.path), {
    timeoutMs: 120_000,
    maxOutputBytes: 10_000,
  });
  assert.equal(res.outputTruncated, true);
  assert.equal(res.timedOut, false);
  assert.ok(res.stdout.length <= 10_000, `kept ${res.stdout.length} bytes`);
  assert.ok(res.stdout.startsWith("capibara\ncapibara\n"));
  assert.notEqual(res.code, 0);
});

Deno.test("execCommand() counts stderr against the cap too", async () => {
  await using tmp = await withTmpDir();
  const res = await execCommand(sh("yes capibara >&2", tmp.path), {
    timeoutMs: 120_000,
    maxOutputBytes: 5_000,
  });
  assert.equal(res.outputTruncated, true);
  assert.ok(res.stderr.length <= 5_000);
});

Deno.test("execCommand() cancels on abort, killing the tree", async () => {
  await using tmp = await withTmpDir();
  const pidFile = join(tmp.path, "child.pid");
  const controller = new AbortController();
  const running = execCommand(
    sh(`sleep 1000 & echo $! > child.pid.tmp && mv child.pid.tmp child.pid; wait`, tmp.path),
    { timeoutMs: 120_000, signal: controller.signal },
  );
  const child = await readPid(pidFile);
  controller.abort();
  const res = await running;
  assert.equal(res.cancelled, true);
  assert.equal(res.timedOut, false);
  assert.notEqual(res.code, 0);
  assert.ok(await waitGone(child), `background child ${child} survived the cancel`);
});

Deno.test("execCommand() throws NotFound for a missing program", async () => {
  await using tmp = await withTmpDir();
  await assert.rejects(
    execCommand({ program: join(tmp.path, "nope"), args: [], env: ENV, cwd: tmp.path }, {
      timeoutMs: 1_000,
    }),
    Deno.errors.NotFound,
  );
});

Deno.test("holdCommand(): a release tells a command its gate let through from one that died at it", async () => {
  await using tmp = await withTmpDir();
  const ack = `\\${GATE_PASSED.toString(8).padStart(3, "0")}`;
  // A gate as the sandbox's: it reads the release, writes the sign, then the rest runs; what went
  // to stderr before the gate is kept, the sign is taken out, and the script may write it too.
  const gated = holdCommand(sh(
    `echo before >&2; read -r _ || exit 125; printf '${ack}' >&2; ` +
      `printf 'script${ack}\\n' >&2; echo out`,
    tmp.path,
  ));
  const passed = await gated.release({ timeoutMs: 10_000 });
  assert.equal(passed.code, 0);
  assert.equal(passed.gatePassed, true);
  assert.equal(passed.stdout, "out\n");
  assert.equal(passed.stderr, `before\nscript${String.fromCharCode(GATE_PASSED)}\n`);
  // One that ends at its gate (a start that failed late, a killed process): never passed.
  const dying = holdCommand(sh(`sleep 0.2; echo cannot start >&2; exit 125`, tmp.path));
  const lost = await dying.release({ timeoutMs: 10_000 });
  assert.equal(lost.code, 125);
  assert.equal(lost.gatePassed, false);
  assert.equal(lost.stderr, "cannot start\n");
  // An unheld command says nothing of a gate.
  const plain = await execCommand(sh("true", tmp.path), { timeoutMs: 10_000 });
  assert.equal(plain.gatePassed, undefined);
});

Deno.test("holdCommand() with a sign file: only the file says the gate let the run through, never standard error", async () => {
  await using tmp = await withTmpDir();
  const ack = `\\${GATE_PASSED.toString(8).padStart(3, "0")}`;
  const sign = join(tmp.path, "gate");
  // The gate writes the sign into its file and the rest writes the byte on stderr: kept there.
  const gated = holdCommand(
    sh(
      `read -r _ || exit 125; printf '${ack}' > "${sign}"; printf '${ack}' >&2; echo out`,
      tmp.path,
    ),
    sign,
  );
  const passed = await gated.release({ timeoutMs: 10_000 });
  assert.equal(passed.gatePassed, true);
  assert.equal(passed.stdout, "out\n");
  assert.equal(passed.stderr, String.fromCharCode(GATE_PASSED));
  // The byte on stderr alone (what a script can write, or read back) does not pass the gate.
  await Deno.remove(sign);
  const forged = holdCommand(
    sh(`read -r _ || exit 125; printf '${ack}' >&2; exit 3`, tmp.path),
    sign,
  );
  const lost = await forged.release({ timeoutMs: 10_000 });
  assert.equal(lost.code, 3);
  assert.equal(lost.gatePassed, false);
  // Nor does a file holding anything else.
  const other = holdCommand(sh(`read -r _ || exit 125; printf 'xy' > "${sign}"`, tmp.path), sign);
  assert.equal((await other.release({ timeoutMs: 10_000 })).gatePassed, false);
});

Deno.test("the Landlock step writes the same sign once its gate let the run through", async () => {
  const source = await Deno.readTextFile(new URL("../src/sandbox/landlock.py", import.meta.url));
  const byte = /^GATE_PASSED = b"\\x([0-9a-f]{2})"$/m.exec(source)?.[1];
  assert.equal(byte === undefined ? undefined : parseInt(byte, 16), GATE_PASSED);
});

Deno.test("execCommand() with a signal aborted before the start: cancelled at once", async () => {
  await using tmp = await withTmpDir();
  const res = await execCommand(sh("sleep 5; echo ran", tmp.path), {
    timeoutMs: 30_000,
    signal: AbortSignal.abort(),
  });
  assert.equal(res.cancelled, true);
  assert.equal(res.stdout, "");
});

Deno.test("execCommand(): an onStderr that throws neither stops the reading nor rejects the run", async () => {
  let calls = 0;
  const result = await execCommand(
    {
      program: "sh",
      args: ["-c", "for i in 1 2 3; do echo line $i >&2; done; echo done"],
      env: { PATH: "/usr/bin:/bin" },
      cwd: "/",
    },
    {
      timeoutMs: 10_000,
      onStderr: () => {
        calls++;
        throw new Error("the caller's own bug");
      },
    },
  );
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "done\n");
  assert.match(result.stderr, /line 1\nline 2\nline 3\n/);
  assert.ok(calls >= 1);
});
