/**
 * The bubblewrap backend against real bwrap and real subprocesses. Every run is bounded by a
 * timeout, and the fork bomb is a bounded loop.
 */
import { commandLines } from "../helpers/processes.ts";
import assert from "node:assert/strict";
import { execCommand, type ExecResult, holdCommand } from "../../src/exec.ts";
import { lstatSyncOrNull, pidNamespace, readTextSyncOrNull } from "../../src/_fs.ts";
import { PermissionError, ValidationError } from "../../src/errors.ts";
import {
  bindTable,
  BubblewrapBackend,
  launchCommand,
  linkFolders,
  type Owners,
  returnTree,
  runIdsFree,
  SANDBOX_NOFILE,
} from "../../src/sandbox/linux.ts";
import type { SandboxPolicy, SandboxUsage } from "../../src/sandbox/types.ts";
import { which } from "../../src/_which.ts";
import { runnerFolder, runnerFolders } from "../../src/_runner_folder.ts";
import { join } from "node:path";
import { DenoPermissionsBackend } from "../../src/sandbox/deno.ts";

function onPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

const hasBwrap = Deno.build.os === "linux" && onPath("bwrap");
if (!hasBwrap) console.warn("sandbox/linux_test: bwrap is not installed, skipping these tests");
const ignore = !hasBwrap;

/** The host's Python: the real executable (not a pyenv shim) and the tree it reads. */
async function findPython(): Promise<{ exe: string; readPaths: string[] }> {
  const out = await new Deno.Command("python3", {
    args: ["-c", "import sys; print(sys.executable); print(sys.base_prefix)"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, "python3 is needed by these tests");
  const [exe = "", prefix = ""] = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { exe: await Deno.realPath(exe), readPaths: [await Deno.realPath(prefix)] };
}

/** A scratch layout: a fake home, a workdir with inputs and an output dir holding a `.git`. */
async function makeLayout() {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-sbx-test-" }));
  const layout = {
    root,
    home: `${root}/home`,
    work: `${root}/work`,
    out: `${root}/work/out`,
    granted: `${root}/granted`,
    tmp: `${root}/tmp`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
  await Deno.mkdir(`${layout.home}/.ssh`, { recursive: true });
  await Deno.writeTextFile(`${layout.home}/.ssh/id_rsa`, "PRIVATE-KEY");
  await Deno.mkdir(`${layout.out}/.git`, { recursive: true });
  await Deno.writeTextFile(`${layout.out}/.git/config`, "[core]\n");
  await Deno.writeTextFile(`${layout.work}/input.csv`, "a,b\n1,2\n");
  await Deno.mkdir(layout.granted);
  await Deno.writeTextFile(`${layout.granted}/data.txt`, "GRANTED-DATA");
  await Deno.mkdir(layout.tmp);
  return layout;
}

type Layout = Awaited<ReturnType<typeof makeLayout>>;

function policyFor(layout: Layout, extra: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    network: [],
    read: [layout.granted],
    write: [layout.out],
    protect: [`${layout.out}/.git`, `${layout.root}/not-inside-a-write-path`],
    workdir: layout.work,
    tmpDir: layout.tmp,
    memoryBytes: 256 * 1024 * 1024,
    maxProcesses: 64,
    ...extra,
  };
}

Deno.test("linkFolders(): links are made in the run's own folders, none holding one written in place", async () => {
  await using layout = await makeLayout();
  const stage = join(layout.tmp, "stage");
  await Deno.mkdir(stage);
  await Deno.writeTextFile(join(layout.tmp, "file"), "");
  const base: SandboxPolicy = {
    ...policyFor(layout),
    write: ["/srv/project/out"],
    stage: [
      { source: stage, target: "/srv/project/result" },
      { source: join(layout.tmp, "file"), target: "/srv/project/result.txt" },
      { source: stage, target: "/srv/project" },
    ],
  };
  const id = (path: string) => {
    const info = Deno.lstatSync(path);
    return `${info.dev}:${info.ino}`;
  };
  // Folders bound from the host carry the device and inode they must lead to; a file gets none.
  assert.deepEqual(linkFolders(base), [
    `${id(layout.tmp)}:${layout.tmp}`,
    ":/tmp",
    ":/dev/shm",
    `${id(stage)}:/srv/project/result`,
  ]);
  // A project below /tmp (or /dev/shm) written in place: the sandbox's own /tmp gets no links.
  assert.deepEqual(
    linkFolders({ ...base, write: ["/tmp/p/out", "/dev/shm/x"], stage: [] }),
    [`${id(layout.tmp)}:${layout.tmp}`],
  );
});

const BASE_ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };

/**
 * Whether `uid` is what a root run's sandbox is on the host by default: a run's own id of the
 * range from 0x70000000, or nobody where this user namespace does not map that range.
 */
function sandboxHostUid(uid: number | null | undefined): boolean {
  return uid === 65534 || (uid !== null && uid !== undefined && uid >= 0x70000000 &&
    uid < 0x70000000 + 2 ** 20);
}

/** Wraps and runs one command, always closing the wrapper; returns the result and usage. */
async function runSandboxed(
  backend: BubblewrapBackend,
  policy: SandboxPolicy,
  program: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; afterRun?: () => void } = {},
): Promise<ExecResult & { usage: SandboxUsage }> {
  const wrapped = await backend.wrap(
    { program, args, env: { ...BASE_ENV, ...options.env }, cwd: policy.workdir },
    policy,
  );
  try {
    const result = await execCommand(wrapped.spec, { timeoutMs: options.timeoutMs ?? 30_000 });
    options.afterRun?.();
    return { ...result, usage: await wrapped.usage() };
  } finally {
    await wrapped.close();
  }
}

function bash(script: string): [string, string[]] {
  return ["bash", ["-c", script]];
}

/** Host processes whose command line contains `marker`. */
function processesMatching(marker: string): number[] {
  return commandLines().filter(({ line }) => line.includes(marker)).map(({ pid }) => pid);
}

/** The host still spawns processes normally. */
async function hostIsFine(): Promise<void> {
  const out = await new Deno.Command("true").output();
  assert.equal(out.code, 0);
}

const backend = hasBwrap ? new BubblewrapBackend() : undefined as unknown as BubblewrapBackend;

Deno.test({
  name: "BubblewrapBackend.available() is ok here and describeLimits() names the mechanism",
  ignore,
  async fn() {
    const availability = await backend.available();
    assert.deepEqual(availability, { ok: true });
    assert.deepEqual(await backend.proxyAvailable(), { ok: true });
    const limits = await backend.describeLimits();
    console.log(`limits: ${limits.summary}`);
    assert.notEqual(limits.memory, "none");
    assert.equal(limits.processesEffective, true);
    // Whether the memory bound counts socket buffers (v2), bounds TCP's apart (v1) or not at all.
    assert.match(limits.summary, /memory[^;]*;?[^;]*socket buffers/);
  },
});

Deno.test({
  name: "BubblewrapBackend.available() explains a missing bwrap",
  async fn() {
    const missing = new BubblewrapBackend({ bwrap: "/nonexistent/bwrap" });
    const availability = await missing.available();
    assert.equal(availability.ok, false);
    assert.match(availability.reason ?? "", /bwrap/);
    assert.match(availability.fix ?? "", /apt-get install bubblewrap/);
    assert.match(availability.fix ?? "", /--no-sandbox/);
    await assert.rejects(
      () => missing.wrap({ program: "true", args: [], env: {}, cwd: "/" }, {} as SandboxPolicy),
      PermissionError,
    );
  },
});

Deno.test({
  name: "BubblewrapBackend.available() quotes bwrap's error when namespaces are refused",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capibara-fake-bwrap-" });
    try {
      const fake = `${dir}/bwrap`;
      await Deno.writeTextFile(
        fake,
        '#!/bin/sh\nif [ "$1" = --help ]; then echo "--cap-drop --disable-userns"; exit 0; fi\n' +
          'echo "bwrap: No permissions to create new namespace" >&2; exit 1\n',
      );
      await Deno.chmod(fake, 0o755);
      const availability = await new BubblewrapBackend({ bwrap: fake }).available();
      assert.equal(availability.ok, false);
      assert.match(availability.reason ?? "", /No permissions to create new namespace/);
      assert.match(availability.fix ?? "", /unprivileged_userns_clone/);
      assert.match(availability.fix ?? "", /apparmor_restrict_unprivileged_userns/);
      assert.match(availability.fix ?? "", /--no-sandbox/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "wrap() hides the host: fake HOME, the real home, /etc/shadow, other users",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    // The workdir shows what the run is given in it (an input, the output folder), nothing else.
    await Deno.writeTextFile(`${layout.work}/.env`, "SECRET=1");
    await Deno.mkdir(`${layout.work}/.git`);
    await Deno.writeTextFile(`${layout.work}/.git/config`, "url = https://token@example");
    const policy = policyFor(layout, {
      read: [layout.granted, `${layout.work}/input.csv`, ...python.readPaths],
    });
    const hostHome = Deno.env.get("HOME") ?? "/root";
    const hostHomeFile = [".bashrc", ".profile", ".gitconfig"]
      .map((name) => `${hostHome}/${name}`)
      .find((path) => {
        try {
          return Deno.statSync(path).isFile;
        } catch {
          return false;
        }
      });
    const [program, args] = bash(`
      try() { if "$@" >/dev/null 2>&1; then echo "LEAK: $*"; fi; }
      try cat ${layout.home}/.ssh/id_rsa
      try ls ${layout.home}
      ls ${layout.root} | grep -q home && echo "LEAK: home listed"
      try cat /etc/shadow
      try cat /etc/gshadow
      try ls /home
      try cat /etc/pip.conf
      ${hostHomeFile ? `try cat ${hostHomeFile}` : ""}
      try cat /proc/1/root/etc/shadow
      [ "$(ls /proc | grep -c '^[0-9]')" -lt 10 ] || echo "LEAK: host processes visible"
      try cat /sys/fs/cgroup/pids/pids.max
      try cat .env
      try cat .git/config
      [ "$(ls -A | tr '\n' ' ')" = "input.csv out " ] || echo "LEAK: the workdir holds $(ls -A)"
      cat ${layout.granted}/data.txt; echo
      cat input.csv | head -1
      ${python.exe} -c 'print("python ok")'
      echo done
    `);
    const result = await runSandboxed(backend, policy, program, args);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /LEAK/);
    assert.doesNotMatch(result.stdout, /PRIVATE-KEY/);
    assert.match(result.stdout, /GRANTED-DATA/);
    assert.match(result.stdout, /^a,b$/m);
    assert.match(result.stdout, /python ok/);
    assert.match(result.stdout, /done/);
  },
});

Deno.test({
  name: "wrap() writes only policy.write and the temp dir, never protect paths",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const policy = policyFor(layout);
    const [program, args] = bash(`
      try() { if "$@" 2>/dev/null; then echo "ESCAPE: $*"; fi; }
      echo result > out/result.txt && echo wrote-out
      echo t > "$TMPDIR/t" && echo wrote-tmp
      echo t > /tmp/scratch && echo wrote-private-tmp
      try sh -c 'echo x > input.csv'
      try sh -c 'echo x > new-in-workdir.txt'
      try sh -c 'echo x > ${layout.granted}/data.txt'
      try sh -c 'echo x >> out/.git/config'
      try touch out/.git/new
      try mkdir out/.git/hooks
      try rm -rf out/.git
      try mv out/.git out/git-moved
      try mount -o remount,rw,bind ${layout.granted}
      try umount out/.git
      try sh -c 'echo 5 > /proc/sys/kernel/printk_ratelimit'
      try touch /usr/capibara-escape
      try touch /capibara-escape
      try mkdir /etc/capibara-escape
      echo done
    `);
    const result = await runSandboxed(backend, policy, program, args);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /ESCAPE/);
    assert.match(result.stdout, /wrote-out/);
    assert.match(result.stdout, /wrote-tmp/);
    assert.match(result.stdout, /wrote-private-tmp/);
    assert.match(result.stdout, /done/);
    assert.equal(await Deno.readTextFile(`${layout.out}/result.txt`), "result\n");
    assert.equal(await Deno.readTextFile(`${layout.out}/.git/config`), "[core]\n");
    assert.equal(await Deno.readTextFile(`${layout.work}/input.csv`), "a,b\n1,2\n");
    assert.equal(await Deno.readTextFile(`${layout.granted}/data.txt`), "GRANTED-DATA");
    await assert.rejects(() => Deno.stat(`${layout.work}/new-in-workdir.txt`));
    await assert.rejects(() => Deno.stat("/usr/capibara-escape"));
  },
});

Deno.test({
  name:
    "wrap() keeps the loader's variables out of the host programs that set the sandbox up, and gives them to the script",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const loader = { LD_PRELOAD: "/nonexistent/capibara-preload.so", GCONV_PATH: "/nonexistent" };
    const wrapped = await backend.wrap(
      { program: "env", args: [], env: { ...BASE_ENV, ...loader }, cwd: layout.work },
      policyFor(layout),
    );
    try {
      // The host side (the launcher, unshare, setpriv, bwrap) runs without them…
      assert.deepEqual(
        Object.keys(wrapped.spec.env ?? {}).filter((name) => name in loader),
        [],
      );
      const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      // The script gets them as given.
      assert.match(result.stdout, /^LD_PRELOAD=\/nonexistent\/capibara-preload\.so$/m);
      assert.match(result.stdout, /^GCONV_PATH=\/nonexistent$/m);
    } finally {
      await wrapped.close();
    }
  },
});

Deno.test({
  name: "wrap() passes exactly spec.env plus HOME, TMPDIR and PWD",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    Deno.env.set("CAPIBARA_TEST_HOST_SECRET", "host-secret");
    try {
      const result = await runSandboxed(backend, policyFor(layout), "env", [], {
        env: { GRANTED_NAME: "granted-value" },
      });
      assert.equal(result.code, 0, result.stderr);
      const env = Object.fromEntries(
        result.stdout.trim().split("\n").map((
          line,
        ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      assert.deepEqual(Object.keys(env).sort(), [
        "GRANTED_NAME",
        "HOME",
        "LANG",
        "PATH",
        "PWD",
        "TMPDIR",
      ]);
      assert.equal(env.HOME, layout.tmp);
      assert.equal(env.TMPDIR, layout.tmp);
      assert.equal(env.PWD, layout.work);
      assert.equal(env.GRANTED_NAME, "granted-value");
      assert.doesNotMatch(result.stdout, /host-secret/);
    } finally {
      Deno.env.delete("CAPIBARA_TEST_HOST_SECRET");
    }
  },
});

Deno.test({
  name: "wrap() without network grants: no host loopback, no DNS, no outside address",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    let accepted = 0;
    const accepting = (async () => {
      for await (const conn of listener) {
        accepted++;
        conn.close();
      }
    })();
    try {
      const policy = policyFor(layout, { read: [layout.granted, ...python.readPaths] });
      const [program, args] = bash(`
        if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo "LEAK: host loopback"; fi
        ${python.exe} - <<'EOF'
import socket
for host in ("example.com", "localhost.localdomain", "pypi.org"):
    try:
        socket.getaddrinfo(host, 443)
        print("LEAK: resolved", host)
    except OSError:
        pass
for address in (("1.1.1.1", 53), ("8.8.8.8", 443)):
    try:
        socket.create_connection(address, timeout=2).close()
        print("LEAK: connected", address)
    except OSError:
        pass
print("net checks done")
EOF
      `);
      const result = await runSandboxed(backend, policy, program, args);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /LEAK/);
      assert.match(result.stdout, /net checks done/);
      assert.equal(accepted, 0);
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
  },
});

Deno.test({
  name: "wrap() stops a bounded fork bomb at maxProcesses and the host is fine",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    const marker = `${4000 + Math.floor(Math.random() * 1000)}.4321`;
    const maxProcesses = 8;
    const policy = policyFor(layout, { read: [layout.granted, ...python.readPaths], maxProcesses });
    const script = `
import os, sys
started = 0
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            os.execv("/bin/sleep", ["sleep", "${marker}"])
        started += 1
except OSError as error:
    print(f"fork refused after {started}: {type(error).__name__}", flush=True)
    sys.exit(3)
print(f"started all {started}", flush=True)
`;
    let duringRun = -1;
    const result = await runSandboxed(backend, policy, python.exe, ["-c", script], {
      timeoutMs: 60_000,
      afterRun: () => duringRun = processesMatching(marker).length,
    });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    const started = Number(/fork refused after (\d+)/.exec(result.stdout)?.[1]);
    if (result.usage.peakMemoryBytes !== undefined) {
      // A cgroup counts the run's processes alone; the script itself is one of its maxProcesses.
      assert.equal(started, maxProcesses - 1, result.stdout);
      assert.equal(result.usage.processLimitHit, true);
    } else {
      // Without one (an ordinary user with no delegated cgroup), RLIMIT_NPROC counts every
      // process of the uid the sandbox runs as, this test's own among them: fewer, never more.
      console.warn("linux_test: no cgroup here: the process limit is the uid's (prlimit)");
      assert.ok(started >= 1 && started <= maxProcesses - 1, result.stdout);
    }
    // The pid namespace died with the script, and close() emptied the cgroup.
    assert.equal(duringRun, 0);
    assert.deepEqual(processesMatching(marker), []);
    await hostIsFine();
  },
});

Deno.test({
  name: "wrap() kills an allocation beyond memoryBytes",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    const memoryBytes = 64 * 1024 * 1024;
    const policy = policyFor(layout, { read: [layout.granted, ...python.readPaths], memoryBytes });
    const script = `
import sys
print("start", flush=True)
block = b"x" * (${memoryBytes} * 4)
print("allocated", len(block), flush=True)
`;
    const result = await runSandboxed(backend, policy, python.exe, ["-c", script], {
      timeoutMs: 60_000,
    });
    assert.match(result.stdout, /start/);
    assert.doesNotMatch(result.stdout, /allocated/);
    assert.notEqual(result.code, 0);
    if (result.usage.peakMemoryBytes !== undefined) {
      assert.equal(result.usage.memoryLimitHit, true);
      assert.ok(result.usage.peakMemoryBytes <= memoryBytes);
    } else {
      // Without a memory cgroup the address-space cap refuses the allocation; nothing counts it.
      console.warn("linux_test: no memory cgroup here: the limit's hit is not reported");
    }
    await hostIsFine();
  },
});

Deno.test({
  name:
    "wrap() bounds the TCP buffers of loopback connections that are never read at the memory limit",
  ignore,
  async fn() {
    const limits = await backend.describeLimits();
    if (limits.memory !== "cgroup-v1" && limits.memory !== "cgroup-v2") {
      console.warn("linux_test: no memory cgroup here: socket buffers are not bounded");
      return;
    }
    await using layout = await makeLayout();
    const python = await findPython();
    const memoryBytes = 64 * 1024 * 1024;
    const policy = policyFor(layout, { read: [layout.granted, ...python.readPaths], memoryBytes });
    // 4x the limit, sent to peers that never read; SO_MEMINFO reads what each socket's queues
    // hold. The bound holds when sends stall (or the run is killed) well short of the target.
    const script = `
import socket, struct, time
target = ${memoryBytes} * 4
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(64)
ends, sent, starved = [], 0, 0
deadline = time.monotonic() + 20
while sent < target and starved < 8 and time.monotonic() < deadline:
    client = socket.socket(); client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    client.connect(server.getsockname()); peer, _ = server.accept()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    client.setblocking(False); ends += [client, peer]; before = sent
    for _ in range(4):
        try:
            while sent < target: sent += client.send(b"t" * (1 << 20))
        except BlockingIOError:
            time.sleep(0.01)
    starved = starved + 1 if sent - before < (1 << 20) else 0
held = 0
for s in ends:
    info = struct.unpack("9I", s.getsockopt(socket.SOL_SOCKET, 55, 36))  # SO_MEMINFO
    held += info[0] + info[5]
print("held", held, len(ends) // 2, flush=True)
`;
    const result = await runSandboxed(backend, policy, python.exe, ["-c", script], {
      timeoutMs: 60_000,
    });
    const held = /^held (\d+) (\d+)$/m.exec(result.stdout);
    if (held) {
      // The memory bound (v2), or v1's TCP bound of the same amount: at most that, and a little
      // each connection is always granted (a page or two of each queue).
      const bytes = Number(held[1]);
      const slack = Number(held[2]) * 64 * 1024;
      assert.ok(
        bytes <= memoryBytes + slack,
        `${bytes >> 20} MiB queued in ${held[2]} connections past a ${memoryBytes >> 20} MiB bound`,
      );
    } else {
      assert.notEqual(result.code, 0, result.stdout + result.stderr);
      assert.equal(result.usage.memoryLimitHit, true, result.stderr);
    }
    await hostIsFine();
  },
});

Deno.test({
  name: "wrap() caps the descriptors a sandboxed process may hold (RLIMIT_NOFILE, soft and hard)",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(
      await Deno.readTextFile("/proc/self/limits"),
    )![1]!;
    const expected = hard === "unlimited" ? SANDBOX_NOFILE : Math.min(SANDBOX_NOFILE, +hard);
    const result = await runSandboxed(
      backend,
      policyFor(layout),
      ...bash(
        // Lowered for good: the script cannot raise it again.
        "ulimit -Sn; ulimit -Hn; ulimit -n 100000 2>/dev/null && echo raised; true",
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `${expected}\n${expected}`);
  },
});

Deno.test({
  name: "wrap() leaves no daemon behind after close()",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    const marker = `${6000 + Math.floor(Math.random() * 1000)}.1234`;
    const policy = policyFor(layout, { read: [layout.granted, ...python.readPaths] });
    const [program, args] = bash(`
      setsid sleep ${marker} </dev/null >/dev/null 2>&1 &
      (setsid nohup sleep ${marker} </dev/null >/dev/null 2>&1 &) &
      ${python.exe} -c '
import os, signal
signal.signal(signal.SIGHUP, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sleep", ["sleep", "${marker}"])
'
      sleep 0.2
      echo "daemons: $(pgrep -c -f ${marker} || true)"
    `);
    const result = await runSandboxed(backend, policy, program, args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /daemons: [1-9]/);
    assert.deepEqual(processesMatching(marker), []);
    await hostIsFine();
  },
});

Deno.test({
  name: "wrap() reaches a granted host through the proxy, and only that host",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const python = await findPython();
    const upstream = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) => new Response(`hello from upstream ${new URL(request.url).pathname}`),
    );
    const upstreamPort = upstream.addr.port;
    const connected: string[] = [];
    const granted = new BubblewrapBackend({
      connect(host, port) {
        connected.push(`${host}:${port}`);
        if (host !== "api.example.test") throw new Error(`no route to ${host}`);
        return Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
      },
    });
    try {
      const policy = policyFor(layout, {
        read: [layout.granted, ...python.readPaths],
        network: ["api.example.test"],
      });
      const script = `
import os, socket, urllib.request, urllib.error
print("proxy env:", os.environ["HTTPS_PROXY"], repr(os.environ["NO_PROXY"]))
print(urllib.request.urlopen("http://api.example.test/via-get", timeout=10).read().decode())
try:
    urllib.request.urlopen("http://other.example.test/", timeout=10)
    print("LEAK: other host")
except urllib.error.HTTPError as error:
    print("other host refused:", error.code)
sock = socket.create_connection(("127.0.0.1", 3128), timeout=10)
sock.sendall(b"CONNECT api.example.test:443 HTTP/1.1\\r\\nHost: api.example.test:443\\r\\n\\r\\n")
print("connect:", sock.recv(200).decode().splitlines()[0])
sock.sendall(b"GET /via-connect HTTP/1.1\\r\\nHost: api.example.test\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
while chunk := sock.recv(4096):
    data += chunk
print(data.decode().splitlines()[-1])
try:
    socket.create_connection(("127.0.0.1", ${upstreamPort}), timeout=2)
    print("LEAK: direct loopback")
except OSError:
    print("direct loopback refused")
`;
      const wrapped = await granted.wrap(
        { program: python.exe, args: ["-c", script], env: BASE_ENV, cwd: layout.work },
        policy,
      );
      const socketDir = wrapped.spec.args.find((arg) =>
        arg.includes("/proxy") && arg.includes("/capibara-sbx-")
      );
      let result: ExecResult;
      try {
        result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
      } finally {
        await wrapped.close();
      }
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /LEAK/);
      assert.match(result.stdout, /proxy env: http:\/\/127\.0\.0\.1:3128 ''/);
      assert.match(result.stdout, /hello from upstream \/via-get/);
      assert.match(result.stdout, /other host refused: 403/);
      assert.match(result.stdout, /connect: HTTP\/1\.1 200 Connection established/);
      assert.match(result.stdout, /hello from upstream \/via-connect/);
      assert.match(result.stdout, /direct loopback refused/);
      assert.deepEqual(connected, ["api.example.test:80", "api.example.test:443"]);
      // close() stopped the proxy and removed its private directory.
      assert.ok(socketDir);
      await assert.rejects(() => Deno.stat(socketDir));
    } finally {
      await upstream.shutdown();
    }
  },
});

Deno.test({
  name: "wrap() follows no symlink planted in a writable path, and masks shadow under granted /etc",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    // As if an earlier run had planted these in its output directory.
    await Deno.symlink(`${layout.home}/.ssh/id_rsa`, `${layout.out}/.bashrc`);
    await Deno.symlink(`${layout.home}/.ssh`, `${layout.out}/.capibara`);
    const policy = policyFor(layout, {
      read: [layout.granted, "/etc"],
      protect: [`${layout.out}/.git`, `${layout.out}/.bashrc`, `${layout.out}/.capibara`],
    });
    const [program, args] = bash(`
      try() { if "$@" >/dev/null 2>&1; then echo "LEAK: $*"; fi; }
      try cat out/.bashrc
      try ls out/.capibara/
      try cat /etc/shadow
      try cat /etc/gshadow
      [ -z "$(ls -A /etc/ssl/private 2>/dev/null)" ] || echo "LEAK: /etc/ssl/private"
      cat /etc/hostname >/dev/null && echo "etc readable"
      echo done
    `);
    const result = await runSandboxed(backend, policy, program, args);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /LEAK/);
    assert.match(result.stdout, /etc readable/);
    assert.match(result.stdout, /done/);

    await Deno.symlink(`${layout.home}/.ssh/id_rsa`, `${layout.out}/input-link.csv`);
    await assert.rejects(
      () =>
        backend.wrap(
          { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
          policyFor(layout, { read: [`${layout.out}/input-link.csv`] }),
        ),
      ValidationError,
    );
  },
});

Deno.test({
  name: "wrap() on timeout: execCommand kills the sandbox and close() leaves nothing behind",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const marker = `${7000 + Math.floor(Math.random() * 1000)}.5678`;
    const [program, args] = bash(`
      setsid sleep ${marker} </dev/null >/dev/null 2>&1 &
      sleep ${marker}
    `);
    const result = await runSandboxed(backend, policyFor(layout), program, args, {
      timeoutMs: 1_000,
    });
    assert.equal(result.timedOut, true);
    assert.deepEqual(processesMatching(marker), []);
  },
});

Deno.test({
  name: "wrap() needs socat only when hosts are granted",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const noSocat = new BubblewrapBackend({ socat: "/nonexistent/socat" });
    assert.equal((await noSocat.proxyAvailable()).ok, false);
    await assert.rejects(
      () =>
        noSocat.wrap(
          { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
          policyFor(layout, { network: ["api.example.test"] }),
        ),
      (error: unknown) =>
        error instanceof PermissionError && /socat/.test(error.message) &&
        /apt-get install socat/.test(error.hint),
    );
    const result = await runSandboxed(noSocat, policyFor(layout), "true", []);
    assert.equal(result.code, 0, result.stderr);
  },
});

Deno.test({
  name: "wrap() refuses to grant the root, /proc or /sys",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    for (const read of [["/"], ["/proc/1"], ["/sys/fs/cgroup"]]) {
      await assert.rejects(
        () =>
          backend.wrap(
            { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
            policyFor(layout, { read }),
          ),
        ValidationError,
      );
    }
  },
});

Deno.test({
  name: "BubblewrapBackend.wrap() shows a staging copy at the output's path, host untouched",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const staging = `${layout.tmp}/outputs/0`;
    const stagedFile = `${layout.tmp}/outputs/1`;
    await Deno.mkdir(staging, { recursive: true });
    await Deno.writeTextFile(stagedFile, "");
    await Deno.writeTextFile(`${layout.work}/top.txt`, "user's file");
    await Deno.writeTextFile(`${layout.out}/old.txt`, "old output");
    const policy = policyFor(layout, {
      write: [],
      protect: [],
      stage: [
        { source: staging, target: layout.out },
        { source: stagedFile, target: `${layout.work}/top.txt` },
      ],
    });
    const result = await runSandboxed(
      backend,
      policy,
      ...bash(
        "ls -A out; echo new > out/new.txt && mkdir -p out/sub && echo deep > out/sub/x && " +
          "echo top > top.txt && echo ok",
      ),
    );
    assert.equal(result.code, 0, result.stderr);
    // Inside, the output folder is the empty staging copy: the host's files are not there.
    assert.equal(result.stdout.trim(), "ok");
    assert.equal(await Deno.readTextFile(`${staging}/new.txt`), "new\n");
    assert.equal(await Deno.readTextFile(`${staging}/sub/x`), "deep\n");
    assert.equal(await Deno.readTextFile(stagedFile), "top\n");
    // The project is as it was.
    assert.equal(await Deno.readTextFile(`${layout.work}/top.txt`), "user's file");
    const names = [...Deno.readDirSync(layout.out)].map((e) => e.name).sort();
    assert.deepEqual(names, [".git", "old.txt"]);
  },
});

Deno.test({
  name: "BubblewrapBackend.wrap() refuses a staging source outside the run's temp dir",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    for (const source of [layout.granted, `${layout.home}/.ssh`]) {
      await assert.rejects(
        backend.wrap(
          { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
          policyFor(layout, { stage: [{ source, target: layout.out }] }),
        ),
        ValidationError,
        source,
      );
    }
  },
});

const asRoot = Deno.uid() === 0;
/** Reads root-only kernel files and reports the uid it runs as on the host (via a created file). */
const ROOT_ONLY_PROBE = "for f in /proc/slabinfo /proc/kpageflags; do " +
  'if head -c 16 "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "DENIED $f"; fi; done; ' +
  'echo made > out/made.txt; mkdir -p out/sub; echo x > out/sub/inner; echo t > "$TMPDIR/t"';

Deno.test({
  name:
    "wrap() as root maps the sandbox to an unprivileged uid: root-only /proc closed, files not root's",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.writeTextFile(`${layout.out}/before.txt`, "kept");
    const wrapped = await backend.wrap(
      {
        program: "sh",
        args: [
          "-c",
          // A set-group-ID folder is refused (the seccomp filter).
          `${ROOT_ONLY_PROBE}; mkdir -m 0777 out/open; mkdir -m 2777 out/sgid 2>/dev/null; true`,
        ],
        env: BASE_ENV,
        cwd: layout.work,
      },
      policyFor(layout),
    );
    assert.ok(sandboxHostUid(wrapped.hostUid), String(wrapped.hostUid));
    // A run that writes only to its temp dir (a hit: its outputs are staged there) takes a uid of
    // its own: no other run's (nor another service's) process shares it. One that lends a folder
    // runs may lend at once (this one's out/) takes the one the runs that lend folders share.
    const own = [];
    for (const name of ["a", "b"]) {
      const other = await backend.wrap(
        { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
        policyFor(layout, { write: [], tmpDir: `${layout.root}/tmp-${name}` }),
      );
      await other.close();
      assert.ok(sandboxHostUid(other.hostUid), String(other.hostUid));
      own.push(other.hostUid);
    }
    if (own[0] !== 65534) {
      assert.notEqual(own[0], own[1]);
      // The range's first id: shared by the runs that lend folders, and by nobody else.
      assert.equal(wrapped.hostUid, 0x70000000);
    }
    const during: Record<string, number | null> = {};
    try {
      const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /DENIED \/proc\/slabinfo/);
      assert.match(result.stdout, /DENIED \/proc\/kpageflags/);
      assert.doesNotMatch(result.stdout, /READ/);
      // What the script created is the sandbox uid's while the run lasts.
      for (const name of ["made.txt", "sub", "sub/inner"]) {
        during[name] = (await Deno.lstat(`${layout.out}/${name}`)).uid;
      }
      during.tmp = (await Deno.lstat(`${layout.tmp}/t`)).uid;
    } finally {
      await wrapped.close();
    }
    const id = wrapped.hostUid;
    assert.deepEqual(during, { "made.txt": id, sub: id, "sub/inner": id, tmp: id });
    // Once the run is over, the lent trees are given back: nothing stays the sandbox uid's.
    for (const name of ["made.txt", "sub", "sub/inner", "before.txt", ".git/config"]) {
      assert.equal((await Deno.lstat(`${layout.out}/${name}`)).uid, 0, name);
    }
    assert.equal((await Deno.lstat(layout.out)).uid, 0);
    assert.equal(await Deno.readTextFile(`${layout.out}/before.txt`), "kept");
    // A folder the script opened to everyone comes back closed: while entries were given back
    // through it, no other user could swap one for a link. None keeps a set-group-ID bit.
    assert.equal(((await Deno.lstat(`${layout.out}/open`)).mode ?? 0) & 0o7777, 0o755);
    assert.equal(await Deno.lstat(`${layout.out}/sgid`).catch(() => null), null);
  },
});

Deno.test({
  name:
    "wrap() as root never maps to root for inputs only root may read: copies, an empty closed workdir",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    // A sandbox mapped to root reads root-only /proc files: what the drop closes. (Landlock
    // closes them too; it is left out here, so that each denial below is the uid's.)
    const noLandlock = { readsScopedByProgram: true };
    const rootMapped = new BubblewrapBackend({ sandboxUid: 0 });
    assert.match((await rootMapped.describeIdentity()).summary, /map to root/);
    const wrapped = await rootMapped.wrap(
      { program: "sh", args: ["-c", ROOT_ONLY_PROBE], env: BASE_ENV, cwd: layout.work },
      { ...policyFor(layout), ...noLandlock },
    );
    try {
      assert.equal(wrapped.hostUid, 0);
      const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
      assert.match(result.stdout, /READ \/proc\/slabinfo/);
    } finally {
      await wrapped.close();
    }
    // A workdir, an input file and a granted folder only root may read: the run still maps to
    // the sandbox uid, reads copies of the input and the folder, and sees an empty workdir.
    const input = `${layout.work}/input.csv`;
    await Deno.writeTextFile(`${layout.work}/other.txt`, "NOT-AN-INPUT");
    await Deno.chmod(input, 0o600);
    await Deno.chmod(layout.granted, 0o700);
    await Deno.chmod(`${layout.granted}/data.txt`, 0o600);
    // A symlink in a closed folder is copied as a symlink, resolved in the sandbox's own view.
    await Deno.symlink("data.txt", `${layout.granted}/link.txt`);
    await Deno.chmod(layout.work, 0o700);
    const probe = `${ROOT_ONLY_PROBE}; cat input.csv; cat ${layout.granted}/data.txt; ` +
      `cat ${layout.granted}/link.txt; cat other.txt 2>/dev/null || echo NO-OTHER; ` +
      "echo changed >> input.csv 2>/dev/null; true";
    const dropped = await backend.wrap(
      { program: "sh", args: ["-c", probe], env: BASE_ENV, cwd: layout.work },
      { ...policyFor(layout, { read: [layout.granted, input] }), ...noLandlock },
    );
    try {
      assert.ok(sandboxHostUid(dropped.hostUid), String(dropped.hostUid));
      const result = await execCommand(dropped.spec, { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /DENIED \/proc\/slabinfo/);
      assert.doesNotMatch(result.stdout, /READ/);
      assert.match(result.stdout, /a,b\n1,2\n/);
      assert.match(result.stdout, /GRANTED-DATAGRANTED-DATA/);
      assert.match(result.stdout, /NO-OTHER/);
      assert.equal((await Deno.lstat(`${layout.out}/made.txt`)).uid, dropped.hostUid);
    } finally {
      await dropped.close();
    }
    assert.equal(await Deno.readTextFile(input), "a,b\n1,2\n");
    // The same closed workdir granted whole (--allow-read .): its copy shows it, not an empty
    // folder (the copy was made, then hidden under the empty one).
    const whole = await runSandboxed(
      backend,
      { ...policyFor(layout, { read: [layout.work] }), ...noLandlock },
      "cat",
      ["other.txt"],
    );
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(whole.stdout, "NOT-AN-INPUT");
    // An open workdir, but the input under a folder the sandbox uid may not search.
    await Deno.chmod(layout.work, 0o755);
    await Deno.mkdir(`${layout.work}/closed`, { mode: 0o700 });
    await Deno.chmod(`${layout.work}/closed`, 0o700);
    await Deno.writeTextFile(`${layout.work}/closed/in.txt`, "UNDER-A-CLOSED-FOLDER");
    const under = await backend.wrap(
      { program: "cat", args: ["closed/in.txt"], env: BASE_ENV, cwd: layout.work },
      policyFor(layout, { read: [`${layout.work}/closed/in.txt`] }),
    );
    try {
      assert.ok(sandboxHostUid(under.hostUid), String(under.hostUid));
      const result = await execCommand(under.spec, { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "UNDER-A-CLOSED-FOLDER");
    } finally {
      await under.close();
    }
    // A closed folder too large to copy is refused, never run as root.
    const big = `${layout.root}/big`;
    await Deno.mkdir(big, { mode: 0o700 });
    await Deno.chmod(big, 0o700);
    for (let i = 0; i < 1_001; i++) await Deno.writeFile(`${big}/${i}`, new Uint8Array());
    await assert.rejects(
      backend.wrap(
        { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
        policyFor(layout, { read: [big] }),
      ),
      PermissionError,
      "only root may read it",
    );
    assert.match(
      (await backend.describeIdentity()).summary,
      /map each to a uid of their own \(1879048192 and up\), not root|map to uid 65534, not root/,
    );
  },
});

Deno.test({
  name: "wrap() closes the mount tables; without Landlock they name the granted paths only",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const closed = await runSandboxed(backend, policyFor(layout), "cat", ["/proc/self/mountinfo"]);
    assert.notEqual(closed.code, 0, "the mount table was readable");
    assert.match(closed.stderr, /Permission denied/);
    // Under the rule set, the binds themselves: no state dir, no home, no cache.
    const result = await runSandboxed(
      backend,
      { ...policyFor(layout), readsScopedByProgram: true },
      "cat",
      ["/proc/self/mountinfo"],
    );
    assert.equal(result.code, 0, result.stderr);
    // The fake /etc files are copies on the sandbox's tmpfs, not binds from the run's state dir.
    assert.doesNotMatch(result.stdout, /\/capibara-sbx-[0-9a-f]+\//);
    assert.doesNotMatch(result.stdout, / \/etc\/passwd /);
    assert.ok(!result.stdout.includes(layout.home), "the home directory is named");
    const roots = result.stdout.trim().split("\n").map((line) => line.split(" ")[3]!);
    const allowed = [layout.work, layout.out, `${layout.out}/.git`, layout.granted, layout.tmp];
    for (const root of roots.filter((r) => r.startsWith(layout.root))) {
      assert.ok(allowed.includes(root), `an ungranted host path is named: ${root}`);
    }
  },
});

Deno.test({
  name: "wrap() binds granted paths whose names hold spaces, tabs, a backslash, # and non-ASCII",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    // A root run binds these through a mount table, where such bytes must be escaped.
    const odd = `${layout.root}/we ird\\x #ñ\ty`;
    await Deno.mkdir(odd);
    await Deno.writeTextFile(`${odd}/data.txt`, "ODD-DATA");
    const outOdd = `${layout.work}/out put\\ñ`;
    await Deno.mkdir(outOdd);
    const policy = policyFor(layout, { read: [layout.granted, odd], write: [outOdd] });
    const [program, args] = bash(`cat "$1/data.txt"; echo; echo written > "$2/f.txt"`);
    const result = await runSandboxed(backend, policy, program, [...args, "-", odd, outOdd]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ODD-DATA/);
    assert.equal(await Deno.readTextFile(`${outOdd}/f.txt`), "written\n");
  },
});

Deno.test({
  name: "the cgroup plan is remembered across processes; one that no longer holds is planned again",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const probeCache = `${layout.root}/cache/sandbox/bwrap-probe.json`;
    const planFile = `${layout.root}/cache/sandbox/cgroup-plan.json`;
    const first = new BubblewrapBackend({ probeCache });
    const ran = await runSandboxed(first, policyFor(layout), "true", []);
    assert.equal(ran.code, 0, ran.stderr);
    const saved = JSON.parse(await Deno.readTextFile(planFile));
    const parents = ["v2", "v1Pids", "v1Memory"].filter((k) => saved.plan[k] !== undefined);
    if (parents.length === 0) {
      console.warn("linux_test: no writable cgroup here; the remembered plan holds no parent");
      return;
    }
    const spec = { program: "true", args: [], env: BASE_ENV, cwd: layout.work };
    // A parent that is gone (a moved session): the run plans again and is limited as before.
    const gone = `${layout.root}/gone-cgroup`;
    await Deno.writeTextFile(
      planFile,
      JSON.stringify({
        ...saved,
        plan: { ...saved.plan, ...Object.fromEntries(parents.map((k) => [k, gone])) },
      }),
    );
    const wrapped = await new BubblewrapBackend({ probeCache }).wrap(spec, policyFor(layout));
    await wrapped.close();
    // The files the launcher joins: v2's cgroup.procs, or each v1 hierarchy's tasks.
    const procs = wrapped.spec.args.filter((a) => /\/(cgroup\.procs|tasks)$/.test(a));
    assert.ok(procs.length > 0 && procs.every((a) => !a.includes(gone)), "the run has no cgroup");
    const replanned = JSON.parse(await Deno.readTextFile(planFile));
    for (const k of parents) assert.equal(replanned.plan[k], saved.plan[k]);
    // A remembered plan whose mechanisms differ (it claims no cgroup at all) while the run's
    // limits were chosen from it: refused, never run half-limited; the next run is planned anew.
    const none = { prlimit: saved.plan.prlimit, info: { ...saved.plan.info, memory: "none" } };
    await Deno.writeTextFile(
      planFile,
      JSON.stringify({ ...saved, plan: { ...none, v1Pids: gone } }),
    );
    await assert.rejects(
      new BubblewrapBackend({ probeCache }).wrap(spec, policyFor(layout)),
      PermissionError,
      "cgroups changed",
    );
    // A run cgroup left by a Capibara process that was killed (pid gone) is swept by the next run.
    const parent = saved.plan[parents[0]!] as string;
    let deadPid = 4_000_000;
    while (await Deno.lstat(`/proc/${deadPid}`).then(() => true, () => false)) deadPid++;
    const namespace = /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))![1];
    const stale = `${parent}/capibara-${deadPid}-1-deadbeef-ns${namespace}`;
    // One of another pid namespace's (a container sharing the parent): its pid says nothing here,
    // so what runs in it is left alone.
    const foreign = `${parent}/capibara-${deadPid}-2-deadbeef-ns1`;
    await Deno.mkdir(foreign);
    const theirs = new Deno.Command("sleep", { args: ["60"] }).spawn();
    await Deno.writeTextFile(`${foreign}/cgroup.procs`, String(theirs.pid));
    // Still holding a process: a sandbox that outlived its Capibara (killed while it was being
    // set up) is killed, no time limit watching it any more.
    const orphan = new Deno.Command("sleep", { args: ["60"] }).spawn();
    // Another test file's run may sweep the empty stale cgroup before the orphan is in it: make it
    // again. Once the orphan is in, whichever run sweeps it, the assertions below hold.
    for (let tries = 0;; tries++) {
      await Deno.mkdir(stale).catch((e) => {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      });
      const joined = await Deno.writeTextFile(`${stale}/cgroup.procs`, String(orphan.pid)).then(
        () => true,
        (e) => {
          if (!(e instanceof Deno.errors.NotFound) || tries >= 20) throw e;
          return false;
        },
      );
      if (joined) break;
    }
    const again = await runSandboxed(
      new BubblewrapBackend({ probeCache }),
      policyFor(layout),
      "true",
      [],
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await Deno.lstat(stale).then(() => true, () => false), false, "not swept");
    const status = await orphan.status;
    assert.equal(status.signal, "SIGKILL", "the orphan in a swept cgroup was not killed");
    assert.equal(await Deno.lstat(foreign).then(() => true, () => false), true);
    theirs.kill("SIGKILL");
    await theirs.status;
    for (let i = 0; i < 50 && await Deno.remove(foreign).then(() => false, () => true); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  },
});

Deno.test({
  name:
    "the launcher of a root run binds, joins and only then starts the command; a failure stops it",
  ignore: ignore || !asRoot || !onPath("unshare") || !onPath("setpriv"),
  async fn() {
    await using layout = await makeLayout();
    const tool = async (name: string) => (await which(name, "/usr/bin:/bin:/usr/sbin:/sbin"))!;
    const drop = {
      uid: 65534,
      gid: 65534,
      unshare: await tool("unshare"),
      setpriv: await tool("setpriv"),
      mount: await tool("mount"),
    };
    // The source sits in a folder closed to the sandbox uid; its bind is how the uid reaches it.
    const source = `${layout.root}/closed/source`;
    await Deno.mkdir(source, { recursive: true });
    await Deno.chmod(`${layout.root}/closed`, 0o700);
    await Deno.writeTextFile(`${source}/data.txt`, "BOUND");
    const open = `${layout.root}/open`;
    await Deno.mkdir(`${open}/point`, { recursive: true });
    await Deno.chmod(layout.root, 0o711);
    await Deno.chmod(open, 0o711);
    const marker = `${layout.tmp}/ran`;
    await Deno.chmod(layout.tmp, 0o777);
    const launch = async (binds: [string, string][], joinFiles: string[]) => {
      await Deno.writeTextFile(`${open}/binds`, bindTable(binds));
      const { program, args } = launchCommand({
        seccompFile: "/dev/null",
        etcFiles: ["/dev/null", "/dev/null", "/dev/null"],
        joinFiles,
        drop: { drop, table: `${open}/binds` },
        command: [
          "/bin/sh",
          "-c",
          `id -u; cat "${open}/point/data.txt"; echo ran > "${marker}"`,
        ],
      });
      return await execCommand({ program, args, env: BASE_ENV, cwd: "/" }, { timeoutMs: 30_000 });
    };

    // The command runs as the sandbox uid and reads the bind: the binds were done before it.
    const ok = await launch([[source, `${open}/point`]], []);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "65534\nBOUND");
    assert.equal(await Deno.readTextFile(marker), "ran\n");
    await Deno.remove(marker);

    // A bind that fails stops the run before the command.
    const badBind = await launch([[`${layout.root}/missing`, `${open}/point`]], []);
    assert.equal(badBind.code, 125);
    assert.match(badBind.stderr, /cannot bind the granted paths/);
    assert.equal(await Deno.lstat(marker).catch(() => null), null);

    // A cgroup that cannot be joined stops the run before the command, binds or not.
    const badJoin = await launch([[source, `${open}/point`]], [`${layout.root}/no/cgroup.procs`]);
    assert.equal(badJoin.code, 125);
    assert.match(badJoin.stderr, /cannot join cgroup/);
    assert.equal(await Deno.lstat(marker).catch(() => null), null);
  },
});

/**
 * A Capibara process that wraps a run of `policy`, starts it and is killed (SIGKILL) before it can
 * close it, with `TMPDIR` set when given (where its state dir is then made). Returns its pid.
 */
async function killedRun(layout: Layout, policy: SandboxPolicy, tmpdir?: string): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { BubblewrapBackend } from ${
        JSON.stringify(import.meta.resolve("../../src/sandbox/linux.ts"))
      };
const wrapped = await new BubblewrapBackend().wrap(
  { program: "sleep", args: ["30"], env: { PATH: "/usr/bin:/bin" }, cwd: ${
        JSON.stringify(layout.work)
      } },
  ${JSON.stringify(policy)},
);
const run = new Deno.Command(wrapped.spec.program, { args: wrapped.spec.args, env: wrapped.spec.env, cwd: "/" }).spawn();
console.log("started");
await run.status;`,
    ],
    env: tmpdir ? { TMPDIR: tmpdir } : {},
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await reader.read()).value?.trim(), "started");
  // What a killed run leaves: its lent folders the sandbox uid's, its temp and state dirs.
  assert.ok(sandboxHostUid((await Deno.lstat(`${layout.out}/kept.txt`)).uid));
  assert.equal(stateDirsOf(child.pid, tmpdir).length, 1);
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
  return child.pid;
}

/**
 * A temp dir of the test's alone for the state dirs (0711, as a root run's drop needs, and so the
 * layout above it): no other test file's run sweeps what is left in it first.
 */
async function stateFolder(layout: Layout): Promise<string> {
  await Deno.chmod(layout.root, 0o711);
  const tmpdir = `${layout.root}/state`;
  await Deno.mkdir(tmpdir, { mode: 0o711 });
  await Deno.chmod(tmpdir, 0o711);
  return tmpdir;
}

/** The state dirs of Capibara process `pid` in `folder` (by default /dev/shm). */
function stateDirsOf(pid: number, folder = "/dev/shm"): string[] {
  return [...Deno.readDirSync(folder)].map((e) => e.name)
    .filter((name) => name.startsWith(`capibara-sbx-${pid}-`));
}

/** The first run of a new Capibara process (which sweeps what killed ones left), `TMPDIR` set. */
async function nextRun(layout: Layout, tmpdir: string): Promise<void> {
  const next = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { BubblewrapBackend } from ${
        JSON.stringify(import.meta.resolve("../../src/sandbox/linux.ts"))
      };
const wrapped = await new BubblewrapBackend().wrap(
  { program: "true", args: [], env: { PATH: "/usr/bin:/bin" }, cwd: ${
        JSON.stringify(layout.work)
      } },
  ${JSON.stringify(policyFor(layout, { write: [], tmpDir: layout.tmp }))},
);
await wrapped.close();`,
    ],
    env: { TMPDIR: tmpdir },
  }).output();
  assert.equal(next.code, 0, new TextDecoder().decode(next.stderr));
}

Deno.test({
  name:
    "the next run sweeps what a killed run of its pid namespace left, never another namespace's (a container's live run)",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const tmpdir = await stateFolder(layout);
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const namespace = pidNamespace();
    /** A state dir and temp dir as a run of `pid` in namespace `ns` leaves them. */
    const plant = async (ns: string) => {
      const runDir = `${tmpdir}/capibara-run-${gone.pid}-ns${ns}-${crypto.randomUUID()}`;
      await Deno.mkdir(runDir, { mode: 0o700 });
      await Deno.writeTextFile(`${runDir}/staged`, "an output on its way");
      const stateDir = `${tmpdir}/capibara-sbx-${gone.pid}-ns${ns}-0a1b2c3d`;
      await Deno.mkdir(stateDir, { mode: 0o700 });
      await Deno.chmod(stateDir, 0o700);
      await Deno.writeTextFile(
        `${stateDir}/undo.json`,
        JSON.stringify({ tmpDir: runDir, lent: [] }),
        { mode: 0o600 },
      );
      await Deno.chmod(`${stateDir}/undo.json`, 0o600);
      return [stateDir, runDir];
    };
    const ours = await plant(namespace);
    // The same pid in another namespace is another process, which may well be running.
    const theirs = await plant(namespace === "1" ? "2" : "1");
    await nextRun(layout, tmpdir);
    for (const path of ours) assert.equal(lstatSyncOrNull(path), null, `${path} was not swept`);
    for (const path of theirs) assert.ok(lstatSyncOrNull(path), `${path} was swept`);
  },
});

Deno.test({
  name:
    "a root run whose Capibara was killed (SIGKILL) is undone by the next run: lent folders given back, its temp dir and state dir removed",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.writeTextFile(`${layout.out}/kept.txt`, "kept");
    // In a shared temp dir, another test file's run may claim the killed run's state dir first,
    // and still be giving its tree back when this one's next run returns.
    const tmpdir = await stateFolder(layout);
    const runDir = `${layout.root}/capibara-run-${crypto.randomUUID()}`;
    await Deno.mkdir(runDir);
    const pid = await killedRun(layout, policyFor(layout, { tmpDir: runDir }), tmpdir);

    // The next run (a new Capibara process) undoes it first.
    await nextRun(layout, tmpdir);
    for (const path of [layout.out, `${layout.out}/kept.txt`, `${layout.out}/.git`]) {
      assert.equal((await Deno.lstat(path)).uid, 0, path);
    }
    assert.equal(await Deno.readTextFile(`${layout.out}/kept.txt`), "kept");
    assert.equal(await Deno.lstat(runDir).catch(() => null), null);
    assert.deepEqual(stateDirsOf(pid, tmpdir), []);
  },
});

Deno.test({
  name:
    "the next run never takes what stands at a killed root run's temp dir once its name was freed: another user's folder, a link",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.writeTextFile(`${layout.out}/kept.txt`, "kept");
    const tmpdir = await stateFolder(layout);
    // A program of another user's, which a chown followed through a link would make root's, and
    // a chmod set-user-ID.
    const victim = `${layout.root}/victim`;
    await Deno.writeTextFile(victim, "#!/bin/sh\n");
    await Deno.chown(victim, 1234, 1234);
    await Deno.chmod(victim, 0o755);
    for (const remade of ["another user's folder", "a link"]) {
      const runDir = `${layout.root}/capibara-run-${crypto.randomUUID()}`;
      await Deno.mkdir(runDir);
      const pid = await killedRun(layout, policyFor(layout, { tmpDir: runDir }), tmpdir);
      // The name freed (a temp dir aged out of /tmp) and made again before the next run.
      const lentUid = (await Deno.lstat(runDir)).uid!;
      assert.ok(sandboxHostUid(lentUid));
      await Deno.remove(runDir, { recursive: true });
      const owner = 1234;
      if (remade === "a link") await Deno.symlink(victim, runDir);
      else {
        await Deno.mkdir(runDir);
        await Deno.writeTextFile(`${runDir}/precious`, "theirs");
        await Deno.chown(`${runDir}/precious`, owner, owner);
        await Deno.chown(runDir, owner, owner);
        await Deno.chmod(runDir, 0o777);
      }
      // The next run, a Capibara process of its own with the same TMPDIR.
      await nextRun(layout, tmpdir);
      // The killed run was undone: its state dir removed, the lent folder given back.
      assert.deepEqual(stateDirsOf(pid, tmpdir), [], remade);
      assert.equal((await Deno.lstat(`${layout.out}/kept.txt`)).uid, 0, remade);
      // What stands at the freed name is as it was made.
      const now = await Deno.lstat(runDir).catch(() => null);
      assert.ok(now, `${remade} was removed`);
      if (remade === "a link") assert.ok(now.isSymlink);
      else {
        assert.equal(now.uid, owner, `${remade} was taken`);
        assert.equal((now.mode ?? 0) & 0o7777, 0o777, remade);
        assert.equal(await Deno.readTextFile(`${runDir}/precious`), "theirs", remade);
        assert.equal((await Deno.lstat(`${runDir}/precious`)).uid, owner, remade);
      }
      const program = await Deno.lstat(victim);
      assert.equal(program.uid, 1234, remade);
      assert.equal((program.mode ?? 0) & 0o7777, 0o755, remade);
      await Deno.remove(runDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "wrap() as root gives what a run created back to the owner of its nearest folder, not the lent root's",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    // A folder of another user inside the granted output folder.
    await Deno.mkdir(`${layout.out}/theirs`);
    await Deno.chown(`${layout.out}/theirs`, 1234, 1234);
    await Deno.chmod(`${layout.out}/theirs`, 0o755);
    const result = await runSandboxed(backend, policyFor(layout), "sh", [
      "-c",
      "mkdir out/theirs/made && echo x > out/theirs/made/f && echo y > out/top",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const owner = async (rel: string) => (await Deno.lstat(`${layout.out}/${rel}`)).uid;
    assert.equal(await owner("theirs"), 1234);
    assert.equal(await owner("theirs/made"), 1234);
    assert.equal(await owner("theirs/made/f"), 1234);
    assert.equal(await owner("top"), 0);
    assert.equal(await owner("."), 0);
  },
});

Deno.test({
  name:
    "wrap(): /dev/shm is a tmpfs the memory limit bounds, /dev itself is read-only, shared memory and /dev/null still work",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const [program, args] = bash(`
      dd if=/dev/zero of=/dev/shm/fill bs=1M count=96 2>/dev/null && echo "shm: filled" || echo "shm: bounded"
      rm -f /dev/shm/fill
      : > /dev/planted 2>/dev/null && echo "dev: writable" || echo "dev: read-only"
      echo x > /dev/null && echo "null: ok"
      python3 -c 'import multiprocessing; multiprocessing.Lock(); print("semaphore: ok")'
    `);
    const result = await runSandboxed(
      backend,
      // /dev/shm: half the limit, 64 MiB; filled past it, it says so before the limit is reached.
      policyFor(layout, { memoryBytes: 128 * 1024 ** 2 }),
      program,
      args,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /shm: bounded/);
    assert.match(result.stdout, /dev: read-only/);
    assert.match(result.stdout, /null: ok/);
    assert.match(result.stdout, /semaphore: ok/);
  },
});

Deno.test({
  name:
    "wrap() as root: a file another user links into a folder the run opened stays theirs, never root's with its set-user-ID bit",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    // Another user's set-user-ID program, outside the granted folder.
    const theirs = `${layout.root}/theirs-setuid`;
    await Deno.copyFile("/usr/bin/id", theirs);
    await Deno.chown(theirs, 1234, 1234);
    await Deno.chmod(theirs, 0o4757);
    const wrapped = await backend.wrap(
      {
        program: "sh",
        args: ["-c", "umask 0; mkdir out/drop && : > out/drop/ready && sleep 2"],
        env: BASE_ENV,
        cwd: layout.work,
      },
      policyFor(layout),
    );
    try {
      const run = execCommand(wrapped.spec, { timeoutMs: 30_000 });
      for (let i = 0; i < 200 && !lstatSyncOrNull(`${layout.out}/drop/ready`); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // The folder the run made is open to every user while it runs: they may link into it.
      Deno.linkSync(theirs, `${layout.out}/drop/evil`);
      const result = await run;
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await wrapped.close();
    }
    const info = await Deno.lstat(theirs);
    // Theirs, as it was (never root's, let alone with its set-user-ID bit).
    assert.equal(info.uid, 1234, "another user's file was taken");
    assert.equal((await Deno.lstat(`${layout.out}/drop`)).mode! & 0o002, 0);
  },
});

Deno.test({
  name:
    "wrap() as root: a file of root's given a name another user's file had is still root's after the run",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.writeTextFile(`${layout.out}/run.sh`, "#!/bin/sh\n");
    await Deno.chmod(`${layout.out}/run.sh`, 0o755);
    await Deno.writeTextFile(`${layout.out}/alice.txt`, "alice's\n");
    await Deno.chown(`${layout.out}/alice.txt`, 1234, 1234);
    const result = await runSandboxed(backend, policyFor(layout), "sh", [
      "-c",
      "cd out && rm alice.txt && ln run.sh alice.txt",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await Deno.lstat(`${layout.out}/run.sh`)).uid, 0, "root's file was given away");
  },
});

Deno.test({
  name:
    "wrap() as root: a new file that takes the number of another user's deleted one is not theirs; a grant inside another is given back once, to its owners",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.mkdir(`${layout.out}/bin`);
    await Deno.writeTextFile(`${layout.out}/bin/run.sh`, "#!/bin/sh\n");
    await Deno.writeTextFile(`${layout.out}/alice.txt`, "alice's\n");
    await Deno.chown(`${layout.out}/alice.txt`, 1234, 1234);
    // Another user's folder, granted too (inside the granted out/).
    await Deno.mkdir(`${layout.out}/sub`);
    await Deno.writeTextFile(`${layout.out}/sub/theirs.txt`, "theirs\n");
    for (const path of ["sub", "sub/theirs.txt"]) {
      await Deno.chown(`${layout.out}/${path}`, 1234, 1234);
    }
    const aliceInode = (await Deno.lstat(`${layout.out}/alice.txt`)).ino;
    const result = await runSandboxed(
      backend,
      policyFor(layout, { write: [layout.out, `${layout.out}/sub`] }),
      "sh",
      [
        "-c",
        "cd out && rm alice.txt && printf 'echo payload\\n' > bin/run.sh.new && " +
        "mv bin/run.sh.new bin/run.sh",
      ],
    );
    assert.equal(result.code, 0, result.stderr);
    const run = await Deno.lstat(`${layout.out}/bin/run.sh`);
    if (run.ino !== aliceInode) console.warn("linux_test: the new file got a number of its own");
    assert.equal(run.uid, 0, "root's script went to another user");
    assert.equal((await Deno.lstat(`${layout.out}/sub`)).uid, 1234);
    assert.equal((await Deno.lstat(`${layout.out}/sub/theirs.txt`)).uid, 1234);
  },
});

Deno.test({
  name:
    "wrap() as root: what a run nests past the longest path cannot be given back, so no other user may reach it",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    const [program, args] = bash(
      "umask 0; d=$(printf 'd%.0s' $(seq 200)); cd out && " +
        'for i in $(seq 25); do mkdir "$d" && cd "$d" || exit 1; done; ' +
        "mkdir open && echo new > open/f",
    );
    const result = await runSandboxed(backend, policyFor(layout), program, args, {
      timeoutMs: 60_000,
    });
    assert.equal(result.code, 0, result.stderr);
    // Down the chain as far as paths reach: the last folder reached lets no one but its owner in.
    const d = "d".repeat(200);
    let path = `${layout.out}/${d}`;
    while (new TextEncoder().encode(`${path}/${d}`).length < 4096) path += `/${d}`;
    assert.equal((await Deno.lstat(path)).mode! & 0o077, 0, `${path.length} bytes deep`);
  },
});

Deno.test({
  name:
    "wrap() as root gives a shared folder in a grant (sticky, open to all, as /tmp) back as it was",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.mkdir(`${layout.out}/drop`);
    await Deno.chmod(`${layout.out}/drop`, 0o1777);
    const result = await runSandboxed(backend, policyFor(layout), "sh", [
      "-c",
      "echo x > out/drop/f",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await Deno.lstat(`${layout.out}/drop`)).mode! & 0o7777, 0o1777);
  },
});

Deno.test({
  name:
    "wrap() as root refuses to lend a folder another user could swap: one of theirs on its way, or one anyone may write to in it",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    const refused = async (write: string, why: RegExp) => {
      await assert.rejects(
        backend.wrap(
          { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
          policyFor(layout, { write: [write] }),
        ),
        (error: unknown) => {
          assert.ok(error instanceof PermissionError, String(error));
          assert.match(error.message, why);
          return true;
        },
      );
    };
    // A folder on the way that belongs to another user: they could rename the granted one.
    await Deno.mkdir(`${layout.root}/users/data`, { recursive: true });
    await Deno.chown(`${layout.root}/users`, 1234, 1234);
    await refused(`${layout.root}/users/data`, /users belongs to uid 1234/);
    // A folder in the granted tree that anyone may write to.
    await Deno.mkdir(`${layout.out}/open`);
    await Deno.chmod(`${layout.out}/open`, 0o777);
    await refused(layout.out, /open is a folder others may write to \(mode 0777\)/);
    // Nothing was lent by the refused runs.
    assert.equal((await Deno.lstat(`${layout.out}/open`)).uid, 0);
    assert.equal((await Deno.lstat(`${layout.root}/users/data`)).uid, 0);
    // A sticky folder others may write to (/tmp) is fine on the way to a folder of root's.
    await Deno.chmod(`${layout.out}/open`, 0o1777);
    const ok = await backend.wrap(
      { program: "true", args: [], env: BASE_ENV, cwd: layout.work },
      policyFor(layout),
    );
    await ok.close();
  },
});

Deno.test({
  name: "bwrap: a descriptor the parent left open does not reach a Python or bash script",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const secret = `${layout.home}/.ssh/id_rsa`;
    const python = await findPython();
    for (
      const [program, args] of [
        bash("cat <&7 2>&1; echo; ls /proc/self/fd"),
        [python.exe, ["-c", "import os; print(os.read(7, 100))"]],
      ] as const
    ) {
      const wrapped = await backend.wrap(
        { program, args: [...args], env: BASE_ENV, cwd: layout.work },
        policyFor(layout, { read: [layout.granted, ...python.readPaths] }),
      );
      try {
        // The parent (a shell, a build tool) opened fd 7 without close-on-exec.
        const result = await execCommand({
          program: "/bin/sh",
          args: [
            "-c",
            'exec 7<"$0"; exec "$@"',
            secret,
            wrapped.spec.program,
            ...wrapped.spec.args,
          ],
          env: wrapped.spec.env,
          cwd: wrapped.spec.cwd,
        }, { timeoutMs: 30_000 });
        assert.ok(!result.stdout.includes("PRIVATE-KEY"), `BREACH: ${result.stdout}`);
        assert.ok(!result.stderr.includes("PRIVATE-KEY"), `BREACH: ${result.stderr}`);
        assert.match(
          result.stdout + result.stderr,
          /Bad file descriptor|bad file descriptor|Errno 9/,
        );
      } finally {
        await wrapped.close();
      }
    }
  },
});

Deno.test({
  name: "bwrap: a held start runs nothing before its release, and nothing at all when discarded",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    const marker = `${layout.out}/ran`;
    const policy = policyFor(layout);
    const spec = {
      program: "bash",
      args: ["-c", `date +%s%N > ${marker}`],
      env: BASE_ENV,
      cwd: layout.work,
    };
    // Released: the script runs then, with /dev/null as its input as an unheld run has.
    let wrapped = await backend.wrap(spec, policy, { held: true });
    assert.equal(wrapped.held, true);
    // Its gate signs in a file of the sandbox's state, not on the script's standard error.
    assert.ok(wrapped.gateSign, "a held start without a sign file");
    try {
      const held = holdCommand(wrapped.spec, wrapped.gateSign);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(held.waiting, true);
      assert.equal(lstatSyncOrNull(marker) !== null, false, "the script ran before its release");
      const result = await held.release({ timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(lstatSyncOrNull(marker) !== null, true);
      // Its gate said it let the run through, and the sign is not part of the output.
      assert.equal(result.gatePassed, true);
      assert.equal(result.stderr, "");
      // Without its file, the same run shows no sign at all: none went to standard error.
      const unsigned = await backend.wrap(spec, policy, { held: true });
      try {
        const again = await holdCommand(unsigned.spec).release({ timeoutMs: 30_000 });
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.gatePassed, false);
        assert.equal(again.stderr, "");
      } finally {
        await unsigned.close();
      }
    } finally {
      await wrapped.close();
    }
    await Deno.remove(marker);
    // Discarded: it never runs.
    wrapped = await backend.wrap(spec, policy, { held: true });
    try {
      const held = holdCommand(wrapped.spec);
      await new Promise((r) => setTimeout(r, 300));
      await held.discard();
      assert.equal(held.waiting, false);
    } finally {
      await wrapped.close();
    }
    assert.equal(lstatSyncOrNull(marker) !== null, false, "a discarded start ran the script");
  },
});

Deno.test({
  name: "bwrap: the user's runner folders are hidden from scripts, even under a granted /tmp",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    // The layout lies under /tmp: the sandbox's uid must reach it through the granted /tmp.
    Deno.chmodSync(layout.root, 0o755);
    const folder = `/tmp/capibara-${Deno.uid()}`;
    let made = false;
    if (!lstatSyncOrNull(folder)) {
      Deno.mkdirSync(folder, { mode: 0o700 });
      made = true;
    }
    const marker = `${folder}/runner-test-${crypto.randomUUID()}.sock`;
    Deno.writeTextFileSync(marker, "");
    try {
      const result = await runSandboxed(
        backend,
        policyFor(layout, { read: [layout.granted, "/tmp"] }),
        ...bash(`ls -a ${folder} && echo listed`),
      );
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes("listed"), result.stdout + result.stderr);
      assert.ok(!result.stdout.includes("runner-test-"), `BREACH: ${result.stdout}`);
    } finally {
      Deno.removeSync(marker);
      if (made) Deno.removeSync(folder);
    }
  },
});

Deno.test({
  name: "bwrap: a bash script gets the LC_CTYPE it was given, not the Landlock step's Python's",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    // Without LANG the step's Python runs in the C locale and sets LC_CTYPE itself (PEP 538).
    for (
      const [env, expected] of [
        [{ PATH: BASE_ENV.PATH }, "unset"],
        [{ PATH: BASE_ENV.PATH, LC_CTYPE: "C" }, "C"],
        [{ PATH: BASE_ENV.PATH, LANG: "C.UTF-8", LC_CTYPE: "POSIX" }, "POSIX"],
      ] as const
    ) {
      const [program, args] = bash('echo "LC_CTYPE=${LC_CTYPE-unset}"');
      const wrapped = await backend.wrap(
        { program, args, env: { ...env }, cwd: layout.work },
        policyFor(layout),
      );
      try {
        const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), `LC_CTYPE=${expected}`, JSON.stringify(env));
      } finally {
        await wrapped.close();
      }
    }
  },
});

Deno.test({
  name: "wrap() shows the user's runner folder (keys, the plans hits start from) empty under a " +
    "grant that holds it, and refuses a grant below it, by path or through a link",
  ignore,
  async fn() {
    await using layout = await makeLayout();
    // The sandbox's uid (root's runs) must reach the workdir's mount point below the grant.
    await Deno.chmod(layout.root, 0o755);
    const plans = join(runnerFolders()[1]!, "plans");
    await Deno.mkdir(plans, { recursive: true, mode: 0o700 }).catch(() => {});
    const marker = `plan-${crypto.randomUUID()}`;
    const file = join(plans, `${marker}.json`);
    const secret = `secret-${crypto.randomUUID()}`;
    await Deno.writeTextFile(file, JSON.stringify({ secret }), { mode: 0o600 });
    try {
      const [program, args] = bash(`ls -A ${plans} 2>&1; cat ${file} 2>/dev/null; echo done`);
      const shown = await runSandboxed(
        backend,
        policyFor(layout, { read: [layout.granted, "/tmp"] }),
        program,
        args,
      );
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /done/);
      assert.ok(!shown.stdout.includes(marker), shown.stdout);
      assert.ok(!shown.stdout.includes(secret), shown.stdout);
      const link = join(layout.granted, "plans-link");
      await Deno.symlink(plans, link);
      for (const read of [runnerFolders()[1]!, plans, file, link]) {
        await assert.rejects(
          () => runSandboxed(backend, policyFor(layout, { read: [read] }), program, args),
          ValidationError,
          read,
        );
      }
      if (asRoot) {
        // A root run's writable folder is lent to the sandbox's uid on the host: no mask covers
        // what it holds. Nothing is lent: the runner folder stays root's.
        await assert.rejects(
          () => runSandboxed(backend, policyFor(layout, { write: ["/tmp"] }), program, args),
          ValidationError,
          "holds",
        );
        assert.equal((await Deno.lstat(plans)).uid, 0);
        assert.equal((await Deno.lstat("/tmp")).uid, 0);
      }
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  },
});

Deno.test({
  name: "bwrap: a root run's sandbox shares its uid with no other process: nobody (65534) reads " +
    "neither its environment nor its files while it waits or runs",
  // CAPIBARA_SANDBOX_UID picks one uid for all runs: then sharing it is the user's choice.
  ignore: ignore || !asRoot || !(await which("setpriv")) ||
    Deno.env.get("CAPIBARA_SANDBOX_UID") !== undefined,
  async fn() {
    await using layout = await makeLayout();
    const secret = `secret-${crypto.randomUUID()}`;
    const wrapped = await backend.wrap(
      {
        program: "sh",
        args: ["-c", "sleep 30"],
        env: { ...BASE_ENV, SECRET_TOKEN: secret },
        cwd: layout.work,
      },
      // A run that writes only to its temp dir (its outputs staged there, as a hit's are).
      policyFor(layout, { write: [] }),
      { held: true },
    );
    // Where this user namespace maps only some ids (a container), runs fall back to nobody's.
    const mapped = ["uid_map", "gid_map"].every((file) =>
      (readTextSyncOrNull(`/proc/self/${file}`) ?? "").split("\n").some((line) => {
        const [inside, , count] = line.trim().split(/\s+/).map(Number);
        return inside! <= 0x70000000 && 0x70000000 + 2 ** 20 <= inside! + count!;
      })
    );
    if (!mapped) {
      console.warn("SKIPPED: this user namespace does not map the run ids' range");
      await wrapped.close();
      return;
    }
    const held = holdCommand(wrapped.spec);
    try {
      // Every process of the held sandbox, as the host sees it.
      let pids: string[] = [];
      for (let i = 0; i < 100 && pids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pids = [...Deno.readDirSync("/proc")].map((e) => e.name).filter((pid) => {
          const status = readTextSyncOrNull(`/proc/${pid}/status`) ?? "";
          return /^\d+$/.test(pid) &&
            new RegExp(`^Uid:\\s+${wrapped.hostUid}\\s`, "m").test(status);
        });
      }
      assert.ok(pids.length > 0, "no process of the run's uid");
      const reads = pids.flatMap((pid) => [`/proc/${pid}/environ`, `/proc/${pid}/cmdline`]);
      const out = await new Deno.Command("setpriv", {
        args: [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          "sh",
          "-c",
          `for f in ${reads.join(" ")} ${layout.tmp}/*; do cat "$f" 2>/dev/null; echo; done; ` +
          `touch ${layout.tmp}/planted 2>/dev/null && echo PLANTED`,
        ],
      }).output();
      const seen = new TextDecoder().decode(out.stdout);
      assert.ok(!seen.includes(secret), "nobody read the run's environment");
      assert.ok(!seen.includes("PLANTED"), "nobody wrote into the run's temp dir");
    } finally {
      await held.discard();
      await wrapped.close();
    }
  },
});

Deno.test("runIdsFree() gives up the run ids where a user, group or subordinate range holds one", () => {
  const none = { passwd: "", group: "", subuid: "", subgid: "" };
  assert.equal(
    runIdsFree({
      ...none,
      passwd: "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
      subuid: "alice:100000:65536\n",
    }),
    true,
  );
  assert.equal(runIdsFree({ ...none, passwd: "ad:x:1879052345:1:::\n" }), false);
  assert.equal(runIdsFree({ ...none, group: "g:x:1879048192:\n" }), false);
  // A range reaching into it from below, or holding all of it.
  assert.equal(runIdsFree({ ...none, subuid: "bob:1879000000:100000\n" }), false);
  assert.equal(runIdsFree({ ...none, subgid: "bob:1000000:2000000000\n" }), false);
  // Just past its end.
  assert.equal(runIdsFree({ ...none, subuid: `c:${0x70000000 + 2 ** 20}:10\n` }), true);
});

Deno.test({
  name:
    "where only an address-space cap could limit memory, Deno starts under it, its heap bounded by V8's own limit",
  ignore,
  async fn() {
    const prlimit = await which("prlimit");
    if (!prlimit) {
      console.warn("linux_test: no prlimit here; the fallback it stands in for is not tried");
      return;
    }
    await using layout = await makeLayout();
    // The plan of a user with no writable cgroup (most desktops): limits by prlimit alone.
    const probeCache = `${layout.root}/cache/sandbox/bwrap-probe.json`;
    await Deno.mkdir(`${layout.root}/cache/sandbox`, { recursive: true });
    await Deno.writeTextFile(
      `${layout.root}/cache/sandbox/cgroup-plan.json`,
      JSON.stringify({
        key: JSON.stringify(["3", Deno.uid(), readTextSyncOrNull("/proc/self/cgroup")]),
        plan: {
          prlimit,
          info: { memory: "rlimit", processes: "rlimit", processesEffective: false, summary: "" },
        },
      }),
    );
    const script = `${layout.granted}/heap.js`;
    // The heap's limit, then as many buffers as it can hold (outside the heap): 16 of 128 MiB.
    await Deno.writeTextFile(
      script,
      `import v8 from "node:v8";
console.log(v8.getHeapStatistics().heap_size_limit);
const kept = [];
try {
  for (let i = 0; i < 16; i++) kept.push(new Uint8Array(128 * 1024 * 1024).fill(1));
  console.log("buffers: " + kept.length);
} catch (error) {
  console.log("buffers: refused after " + kept.length);
}
`,
    );
    const deno = Deno.execPath();
    const memoryBytes = 300 * 1024 ** 2;
    const wrapped = await new DenoPermissionsBackend({ os: new BubblewrapBackend({ probeCache }) })
      .wrap(
        { program: deno, args: ["run", script], env: BASE_ENV, cwd: layout.work },
        policyFor(layout, { write: [], protect: [], memoryBytes }),
      );
    try {
      // The address space is not capped (Deno reserves tens of GiB at its start).
      assert.ok(!wrapped.spec.args.some((arg) => arg.startsWith("--as=")), "an --as cap");
      const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      const [first, second] = result.stdout.trim().split("\n");
      const limit = Number(first);
      // The old space at the limit, the young one beside it (V8 adds ≈ 100 MiB), far from its default.
      assert.ok(limit > 0 && limit <= memoryBytes * 1.5, `the heap may grow to ${limit} bytes`);
      // Buffers are bounded too: the limit plus what Deno reserves itself, not 2 GiB.
      const match = /^buffers: refused after (\d+)$/.exec(second ?? "");
      assert.ok(match, `2 GiB of buffers: ${second}`);
      assert.ok(Number(match[1]) * 128 * 1024 ** 2 <= memoryBytes + 1024 ** 3, second);
    } finally {
      await wrapped.close();
    }
  },
});

Deno.test("a CAPIBARA_SANDBOX_UID that is no uid is refused, never replaced by the default", () => {
  const before = Deno.env.get("CAPIBARA_SANDBOX_UID");
  try {
    for (const value of ["abc", "nobody", "-1", "4294967295", "1e3"]) {
      Deno.env.set("CAPIBARA_SANDBOX_UID", value);
      assert.throws(() => new BubblewrapBackend(), ValidationError, value);
    }
    Deno.env.set("CAPIBARA_SANDBOX_UID", " 65534 ");
    new BubblewrapBackend();
  } finally {
    if (before === undefined) Deno.env.delete("CAPIBARA_SANDBOX_UID");
    else Deno.env.set("CAPIBARA_SANDBOX_UID", before);
  }
});

// A process of the uid a tree was lent to (the killed run's sandbox, not yet killed; a run sharing
// that uid) could open a folder to everyone between the look at it and its chown back: the folder,
// Capibara's by then, was closed by the mode seen before, so it stayed open to every user while
// its entries were given back through it (and after). The chown here does the racer's step first.
Deno.test({
  name: "returnTree() closes a folder by its mode once taken back, not by what it was before",
  ignore: Deno.build.os !== "linux",
  async fn() {
    if (Deno.uid() !== 0) {
      console.warn("skipped: needs root (a tree lent to another uid)");
      return;
    }
    const fs = await import("node:fs");
    const root = await Deno.makeTempDir({ prefix: "capibara-return-" });
    try {
      const lentTo = 65534;
      const made = join(root, "made"); // a folder the run made
      await Deno.mkdir(made, { mode: 0o755 });
      await Deno.writeTextFile(join(made, "file"), "");
      const info = await Deno.lstat(root);
      const owners: Owners = new Map([[root, {
        uid: 0,
        gid: 0,
        inode: `${info.dev}:${info.ino}`,
        mode: info.mode! & 0o7777,
      }]]);
      for (const path of [root, made, join(made, "file")]) await Deno.chown(path, lentTo, lentTo);
      const racing = {
        ...fs,
        lchownSync(path: string, uid: number, gid: number) {
          if (path === made) fs.chmodSync(path, 0o777);
          fs.lchownSync(path, uid, gid);
        },
      } as typeof fs;
      returnTree(racing, root, owners, lentTo);
      const after = await Deno.lstat(made);
      assert.equal(after.uid, 0);
      assert.equal(after.mode! & 0o022, 0, `left open: ${(after.mode! & 0o7777).toString(8)}`);
      assert.equal((await Deno.lstat(join(made, "file"))).uid, 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

// Names any user may plant in a shared temp dir made it crowded, and a backend with no cache folder
// to keep a stamp in (an SDK's, a cache folder not the user's) then never swept it: what a killed
// root run lent stayed the sandbox uid's for good.
Deno.test({
  name:
    "a killed root run is undone by the next run of a backend with no cache folder, however crowded others made the temp dir",
  ignore: ignore || !asRoot,
  async fn() {
    await using layout = await makeLayout();
    await Deno.writeTextFile(`${layout.out}/kept.txt`, "kept");
    const tmpdir = await stateFolder(layout);
    for (let i = 0; (await Deno.stat(tmpdir)).size <= 64 * 1024; i++) {
      await Promise.all(
        Array.from(
          { length: 500 },
          (_, j) => Deno.writeTextFile(`${tmpdir}/planted-${i}-${j}`, ""),
        ),
      );
    }
    const runDir = `${layout.root}/capibara-run-${crypto.randomUUID()}`;
    await Deno.mkdir(runDir);
    const pid = await killedRun(layout, policyFor(layout, { tmpDir: runDir }), tmpdir);
    // The killed run's own sweep listed the crowded folder a moment ago: its stamp (kept in the
    // user's runner folder) is aged as a minute would.
    const stamp = `${runnerFolder()}/state-dirs-swept-${encodeURIComponent(tmpdir).slice(-200)}`;
    if (lstatSyncOrNull(stamp)) await Deno.utime(stamp, 0, 0);
    try {
      await nextRun(layout, tmpdir);
      assert.deepEqual(stateDirsOf(pid, tmpdir), []);
      assert.equal((await Deno.lstat(`${layout.out}/kept.txt`)).uid, 0);
    } finally {
      await Deno.remove(stamp).catch(() => {});
    }
  },
});
