/**
 * The escape suite, limits: fork and memory bombs, socket buffers past the memory limit, endless
 * loops, stdout floods, daemons that would outlive the run, and a full disk or inode table. Each attack asserts that the attempt
 * failed AND that the host is unchanged (see _escape.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import { ExecError } from "../../src/errors.ts";
import { prestarts } from "../../src/run/prestart.ts";
import { BubblewrapBackend } from "../../src/sandbox/linux.ts";
import { pidNamespace } from "../../src/_fs.ts";
import {
  attack,
  escapeSuite,
  NO_SANDBOX,
  processesMatching,
  PROJECT,
  py,
  ROOT,
  RUN_ID,
  sh,
  ts,
} from "./_escape.ts";

// --- limits ----------------------------------------------------------------------------------
attack({
  name: "fork bomb (bounded: tries 5,000 processes)",
  language: "python",
  timeout: 60,
  script: py(`import subprocess
procs = []
for i in range(5000):
    try:
        procs.append(subprocess.Popen(["sleep", "20.${RUN_ID}"]))
    except OSError as exc:
        detail = f"stopped at {i}: {exc!r}"
        break
breached = len(procs) >= 5000
for p in procs:
    p.kill()`),
  hostUnchanged: async () =>
    assert.deepEqual(await processesMatching(`^sleep 20\\.${RUN_ID}$`), []),
});
attack({
  name: "fork bomb (bounded: tries 5,000 processes)",
  language: "bash",
  timeout: 60,
  // perl forks: bash itself retries a refused fork for about 15 s before it gives up.
  script: sh(
    `started=$(perl -e 'my @k; for (1..5000) { my $p = fork; last unless defined $p; if (!$p) { exec "sleep", "21.${RUN_ID}" } push @k, $p } kill "KILL", @k; waitpid($_, 0) for @k; print scalar @k')
[ "\${started:-0}" -ge 5000 ] && breached=1
detail="started $started"`,
  ),
  hostUnchanged: async () =>
    assert.deepEqual(await processesMatching(`^sleep 21\\.${RUN_ID}$`), []),
});
attack({
  name:
    "leave the run's cgroups (its pid to a cgroup.procs, 0 or a thread's id to a tasks or cgroup.threads file, as the launcher joins them; mount the cgroup file system)",
  language: "python",
  script: py(`import ctypes, glob, threading
found = glob.glob("/sys/fs/cgroup/**/cgroup.procs", recursive=True)
moved = []
def write_all(paths, value):
    for path in paths:
        try:
            with open(path, "w") as f:
                f.write(value)
            moved.append(path)
        except OSError:
            pass
write_all(found, str(os.getpid()))
# The launcher joins v1 hierarchies thread by thread (0 to tasks): so may a script's threads try.
threads = glob.glob("/sys/fs/cgroup/**/tasks", recursive=True) + \\
    glob.glob("/sys/fs/cgroup/**/cgroup.threads", recursive=True)
write_all(threads, "0")
other = threading.Thread(target=lambda: write_all(threads, str(threading.get_native_id())))
other.start()
other.join()
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/cg", exist_ok=True)
mounted = libc.mount(b"cgroup2", b"/tmp/cg", b"cgroup2", 0, None) == 0
if mounted:
    libc.umount2(b"/tmp/cg", 0)  # a breach found is not left behind on the host
breached = bool(moved) or mounted
detail = f"{len(found)} cgroup.procs and {len(threads)} tasks or cgroup.threads seen, " + \\
    f"moved into {moved}, mounted: {mounted}"`),
});
/** A host folder the forged journal below names as a lent tree, to be "given back" to uid 4242. */
const VICTIM = join(ROOT, `victim-${RUN_ID}`);
attack({
  name: "forge a killed run's journal for the next run's sweep (give a host folder to uid 4242)",
  language: "python",
  before: async () => {
    await Deno.mkdir(VICTIM, { recursive: true });
  },
  script: py(`import json, tempfile
journal = {"tmpDir": "/nowhere", "lent": [[${JSON.stringify(VICTIM)}, [[${
    JSON.stringify(VICTIM)
  }, 4242, 4242]]]]}
planted = []
for base in {"/dev/shm", "/tmp", tempfile.gettempdir(), os.environ.get("TMPDIR", "/tmp")}:
    try:
        d = os.path.join(base, "capibara-sbx-999999-ns${pidNamespace()}-${RUN_ID}")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        fd = os.open(os.path.join(d, "undo.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, json.dumps(journal).encode())
        os.close(fd)
        planted.append(d)
    except OSError:
        pass
detail = f"planted {planted} (the sweep runs on the host, after)"`),
  hostUnchanged: async () => {
    // The next run's sweep, as a new Capibara process would do it.
    const next = await new BubblewrapBackend().wrap(
      { program: "true", args: [], env: { PATH: "/usr/bin:/bin" }, cwd: ROOT },
      {
        network: [],
        read: [],
        write: [],
        protect: [],
        workdir: ROOT,
        tmpDir: join(ROOT, `sweep-tmp-${RUN_ID}`),
        memoryBytes: 256 * 1024 * 1024,
        maxProcesses: 64,
      },
    );
    await next.close();
    assert.notEqual((await Deno.lstat(VICTIM)).uid, 4242, "the forged journal was applied");
  },
});
attack({
  name: "memory bomb (4x the limit)",
  language: "python",
  script: py(`blocks = []
for _ in range(64):
    blocks.append(bytearray(16 * 1024 * 1024))
breached = True
detail = "allocated 1 GiB"`),
});
// Socket buffers are kernel memory: cgroup v1 charges neither UDP nor TCP buffers to the memory
// limit (an attacker's review pinned 1.6-2.2 GiB under 256 MiB, and the host's UDP and TCP memory
// ran out). Each attack tries 3x a 128 MiB limit, queued on the sandbox's own loopback to
// sockets that never read, and reads what the kernel holds (SO_MEMINFO: each socket's receive
// and send queues): more than twice the limit (the memory bound and v1's TCP bound of the same
// amount) is a breach; refused sockets or a run killed at the bound are blocked.
const SOCKET_LIMIT = 128 * 1024 ** 2;
const socketMemory = `import socket, struct, time
SO_MEMINFO = 55
def queued(sockets):
    total = 0
    for s in sockets:
        info = struct.unpack("9I", s.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 36))
        total += info[0] + info[5]  # receive queue, send queue
    return total
limit = ${SOCKET_LIMIT}
target = 3 * limit
deadline = time.monotonic() + 20
`;
attack({
  name: "hold 3x the memory limit in UDP datagrams queued to loopback sockets that never read",
  language: "python",
  options: { memoryBytes: SOCKET_LIMIT },
  script: py(`${socketMemory}
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.setblocking(False)
payload = b"u" * 60000
receivers = []
sent = 0
while sent < target and time.monotonic() < deadline:
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    r.bind(("127.0.0.1", 0))
    receivers.append(r)
    for _ in range(160):
        try:
            sent += sender.sendto(payload, r.getsockname())
        except BlockingIOError:
            time.sleep(0.001)
held = queued(receivers + [sender])
breached = held > 2 * limit
detail = f"{held >> 20} MiB queued in {len(receivers)} UDP sockets"`),
});
attack({
  name: "hold 3x the memory limit in TCP buffers of loopback connections that never read",
  language: "python",
  options: { memoryBytes: SOCKET_LIMIT },
  script: py(`${socketMemory}
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(64)
ends = []
sent = 0
starved = 0  # connections in a row that took almost nothing: the bound holds
chunk = b"t" * (1 << 20)
while sent < target and starved < 8 and time.monotonic() < deadline:
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    client.connect(server.getsockname())
    peer, _ = server.accept()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    client.setblocking(False)
    ends += [client, peer]
    before = sent
    for _ in range(4):
        try:
            while sent < target:
                sent += client.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    starved = starved + 1 if sent - before < (1 << 20) else 0
held = queued(ends)
breached = held > 2 * limit
detail = f"{held >> 20} MiB queued in {len(ends) // 2} TCP connections"`),
});
attack({
  name: "endless loop (timeout, then no process left)",
  language: "python",
  timeout: 2,
  // The loop runs in a process named by a marker of this test process's own.
  script: py(`import os, sys
os.execv(sys.executable, [sys.executable, "-c", "import time\\nwhile True: time.sleep(0.01)",
                          "capibara-endless-loop-${RUN_ID}"])`),
  blockedBy: [ExecError],
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      await processesMatching(`capibara-endless-loop-${RUN_ID}$`),
      [],
      "the loop outlived its time limit",
    );
  },
});
attack({
  name: "endless loop (timeout)",
  language: "bash",
  timeout: 2,
  script: sh(`while :; do :; done`),
  blockedBy: [ExecError],
});
attack({
  name: "flood stdout (64 MiB)",
  language: "python",
  script: py(`chunk = "x" * (1024 * 1024) + "\\n"
for _ in range(64):
    sys.stdout.write(chunk)
breached = True`),
  blockedBy: [ExecError],
});
attack({
  name: "spawn a daemon that outlives the run",
  language: "python",
  script: py(`import subprocess
subprocess.Popen(["setsid", "sleep", "31337.${RUN_ID}"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "31338.${RUN_ID}"])
    os._exit(0)`),
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      await processesMatching(`sleep 3133[78]\\.${RUN_ID}`),
      [],
      "a daemon survived the run",
    );
  },
});
attack({
  name: "spawn a daemon that outlives the run",
  language: "bash",
  script: sh(`setsid nohup sleep 31339.${RUN_ID} >/dev/null 2>&1 &
disown`),
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      await processesMatching(`sleep 31339\\.${RUN_ID}`),
      [],
      "a daemon survived the run",
    );
  },
});

// Disk: the staging area is bounded while the script runs (default 1 GiB and 10,000 files).
const bigFile = join(PROJECT, "out", "big.bin");
const notFilled = async () => {
  const info = await Deno.stat(bigFile).catch(() => null);
  await Deno.remove(bigFile).catch(() => {});
  assert.ok(!info || info.size < 2 * 1024 ** 3, "2 GiB reached the project");
};
for (
  const [language, script] of [
    [
      "python",
      py(`chunk = b"x" * (16 * 1024 * 1024)
with open("out/big.bin", "wb") as fh:
    for _ in range(128):
        fh.write(chunk)
artifacts = ["out/big.bin"]
breached = os.path.getsize("out/big.bin") >= 2 * 1024 ** 3
detail = "wrote 2 GiB"`),
    ],
    [
      "bash",
      sh(`head -c 2147483648 /dev/zero > out/big.bin && breached=1
detail="wrote 2 GiB"`),
    ],
    [
      "typescript",
      ts(`const chunk = new Uint8Array(16 * 1024 * 1024);
const file = Deno.openSync("out/big.bin", { write: true, create: true });
for (let i = 0; i < 128; i++) file.writeSync(chunk);
file.close();
breached = Deno.statSync("out/big.bin").size >= 2 * 1024 ** 3;`),
    ],
  ] as const
) {
  attack({
    name: "fill the disk: 2 GiB under a 256 MiB memory limit",
    language,
    context: { output: "out/big.bin" },
    timeout: 120,
    script,
    blockedBy: [ExecError],
    hostUnchanged: notFilled,
  });
}
// A folder closed to its owner (chmod 0300) still takes files written and moved through it, but
// an ordinary user's measure could not list it: what it held was never counted (root lists any).
const hidden = join(PROJECT, "out", "hide");
attack({
  name: "hide 600 MiB in a folder closed to its owner (chmod 0300), past the disk bound",
  language: "bash",
  context: { output: "out/" },
  timeout: 120,
  script: sh(
    `mkdir out/hide && chmod 0300 out/hide && head -c 629145600 /dev/zero > out/hide/blob && \\
breached=1
detail="hid 600 MiB"`,
    ["out/hide/blob"],
  ),
  blockedBy: [ExecError],
  hostUnchanged: async () => {
    await Deno.chmod(hidden, 0o700).catch(() => {});
    const info = await Deno.stat(join(hidden, "blob")).catch(() => null);
    await Deno.remove(hidden, { recursive: true }).catch(() => {});
    assert.equal(info, null, `out/hide/blob reached the project (${info?.size} bytes)`);
  },
});
// A file removed while a descriptor or a mapping holds it keeps its blocks, but no folder shows
// it: the measure of the run's folders never counted it (an attacker's review: 600 MiB past a
// 128 MiB bound, until the run ended).
for (const held of ["open", "mapped"] as const) {
  attack({
    name: `hide 600 MiB in a removed file the script keeps ${held}, past the disk bound`,
    language: "python",
    context: { output: "out/" },
    timeout: 120,
    script: py(`import mmap, os, tempfile, time
fd, path = tempfile.mkstemp(dir=os.environ.get("TMPDIR"))
os.unlink(path)
chunk = b"\\0" * (8 << 20)
for _ in range(75):
    os.write(fd, chunk)
os.fsync(fd)
${held === "mapped" ? "keep = mmap.mmap(fd, 4096)\nos.close(fd)" : "keep = fd"}
time.sleep(1.5)
breached = True
detail = "held 600 MiB in a removed file (${held})"`),
    blockedBy: [ExecError],
  });
}
// What ordinary scripts do must not look like hiding: an unreaped child (a zombie, whose
// descriptors /proc shows to root only) and a small temporary file removed while open. For an
// ordinary user the first stopped every run that had one when the measure looked.
attack({
  name: "an unreaped child and a small removed temporary file, as ordinary scripts have, run",
  language: "python",
  context: { output: "out/" },
  timeout: 60,
  script: py(`import subprocess, tempfile, time
scratch = tempfile.TemporaryFile()
scratch.write(b"x" * 100_000)
child = subprocess.Popen(["true"])
time.sleep(1)
child.wait()
detail = "ran"`),
  granted: (output) => assert.equal(output.detail, "ran"),
});
const manyFiles = async () => {
  let count = 0;
  for await (const e of Deno.readDir(join(PROJECT, "out"))) {
    if (e.name.startsWith("f-")) {
      count++;
      await Deno.remove(join(PROJECT, "out", e.name));
    }
  }
  assert.ok(count < 100_000, `${count} files reached the project`);
};
for (
  const [language, script] of [
    [
      "python",
      py(`for i in range(100_000):
    open(f"out/f-{i}", "w").close()
breached = True
detail = "created 100,000 files"`),
    ],
    [
      "bash",
      sh(`cd out && seq 1 100000 | sed 's/^/f-/' | xargs touch && breached=1
detail="created 100,000 files"`),
    ],
  ] as const
) {
  attack({
    name: "fill the inodes: 100,000 files",
    language,
    context: { output: "out/" },
    timeout: 120,
    script,
    blockedBy: [ExecError],
    hostUnchanged: manyFiles,
  });
}

// --- a sandbox set up ahead of its run (prestart) -------------------------------------------
/**
 * Runs the request four times with the SDK's default (`prestart`): the last two in sandboxes set
 * up ahead (the next run's is set up from a request's second run on).
 */
const prestarted = async (cb: Capibara, prompt: string, language: string) => {
  const used = prestarts.stats.used;
  let output: Record<string, unknown> | undefined;
  try {
    for (let i = 0; i < 4; i++) {
      output =
        (await cb.run(prompt, { context: { output: "out/" }, language: language as "python" }))
          .output;
    }
  } finally {
    await Capibara.disposePrestarted();
  }
  if (!NO_SANDBOX) assert.ok(prestarts.stats.used >= used + 2, "no run used a prestarted sandbox");
  return output;
};
for (
  const [language, script] of [
    [
      "python",
      py(`import glob
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
extra = []
for fd in fds:
    try:
        extra.append((fd, os.readlink(f"/proc/self/fd/{fd}")))
    except OSError:
        pass
extra = [(fd, target) for fd, target in extra if fd > 2 and not target.startswith("/proc/")]
stdin = os.readlink("/proc/self/fd/0")
seen = []
for path in glob.glob("/proc/[0-9]*/cmdline"):
    if path == f"/proc/{os.getpid()}/cmdline":
        continue  # this very process: the Landlock step that ran the script
    try:
        line = open(path, "rb").read().replace(b"\\x00", b" ").decode()
    except OSError:
        continue
    if "--held=" in line or "deno" in line:
        seen.append(line[:120])
breached = bool(extra) or stdin != "/dev/null" or bool(seen)
detail = f"fds {extra}, stdin {stdin}, processes {seen}"`),
    ],
    [
      "bash",
      sh(
        `extra=$(ls -l /proc/self/fd/ 2>/dev/null | awk 'NR > 1 && $9 > 2 { print $9 "->" $11 }' | grep -v '/proc/' | tr '\n' ' ')
stdin=$(readlink /proc/self/fd/0)
seen=$(grep -l -a -e '--held=' -e deno /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
if [ -n "$extra" ] || [ "$stdin" != /dev/null ] || [ -n "$seen" ]; then breached=1; fi
detail="fds $extra stdin $stdin processes $seen"`,
      ),
    ],
  ] as const
) {
  attack({
    name: "a run in a sandbox set up ahead: its gate, the next run's sandbox, the host's processes",
    language,
    script,
    // The default (`prestart`, on): the sandbox every repeated SDK request gets.
    // The script reports what it saw: any failure of the run is not a block here.
    blockedBy: [],
    before: () => Deno.mkdir(join(PROJECT, "out"), { recursive: true }),
    via: (cb, prompt) => prestarted(cb, prompt, language),
  });
}

// A script that takes its gate's sign off its own error output (reopened through /proc: not in a
// root run, whose pipe the sandbox's uid cannot open) makes the run start afresh: the retry has
// only what is left of the run's time limit, so two attempts never outlast one run's limit.
attack({
  name: "swallow a sandbox-ahead's gate sign to run twice, past the run's time limit",
  language: "bash",
  timeout: 2,
  script: sh(`swallowed=0
if exec 3</proc/self/fd/2 2>/dev/null; then
  if IFS= read -r -t 0.05 -n 1 -u 3 c && [ "$c" = $'\\x06' ]; then swallowed=1; fi
  exec 3<&-
fi
sleep 1.2
# Swallowed: this attempt fails after spending 1.2 s, and the run starts again, cold.
[ "$swallowed" = 1 ] && exit 1
detail="one attempt"`),
  before: () => Deno.mkdir(join(PROJECT, "out"), { recursive: true }),
  async via(cb, prompt) {
    try {
      // The third run is held: its sandbox was set up while the second went on.
      for (let i = 0; i < 2; i++) {
        await cb.run(prompt, { context: { output: "out/" }, language: "bash" });
      }
      const started = performance.now();
      const { output } = await cb.run(prompt, { context: { output: "out/" }, language: "bash" });
      const wall = performance.now() - started;
      // Done, past the run's own time limit (2 s): it ran twice, the second in full.
      return { breached: wall > 2000, detail: `${output.detail} in ${Math.round(wall)} ms` };
    } finally {
      await Capibara.disposePrestarted();
    }
  },
});

attack({
  name:
    "take a sandbox-ahead's gate sign from any descriptor in the sandbox, to be run a second time",
  language: "bash",
  timeout: 20,
  // The sign reaches the run only through the gate's own descriptor, closed before the script:
  // nothing the script can open (its standard error's pipe, bubblewrap's first process's, any
  // descriptor of any process it sees) holds it.
  script: sh(`took=0
for fd in /proc/self/fd/2 /proc/self/fd/1 /proc/[0-9]*/fd/*; do
  exec 3<"$fd" 2>/dev/null || continue
  if IFS= read -r -t 0.05 -n 1 -u 3 c 2>/dev/null && [ "$c" = $'\\x06' ]; then took=1; fi
  exec 3<&-
done
# Taken: this attempt fails at once, and the run would be started again, cold.
[ "$took" = 1 ] && exit 1
detail="the sign was nowhere to be taken"`),
  before: () => Deno.mkdir(join(PROJECT, "out"), { recursive: true }),
  async via(cb, prompt) {
    try {
      // The third run is held: its sandbox was set up while the second went on.
      for (let i = 0; i < 2; i++) {
        await cb.run(prompt, { context: { output: "out/" }, language: "bash" });
      }
      const { used, lost } = prestarts.stats;
      const { output } = await cb.run(prompt, { context: { output: "out/" }, language: "bash" });
      assert.equal(prestarts.stats.used, used + 1, "the third run was not the held one");
      // A second start means the first one's sign never reached the run: the script took it.
      return { breached: prestarts.stats.lost !== lost, detail: output.detail };
    } finally {
      await Capibara.disposePrestarted();
    }
  },
});

attack({
  name: "close a folder of the run's temp dir to its owner, for its files to outlive the run",
  language: "bash",
  // An ordinary user's removal cannot enter a folder of mode 000 (root's can: the attack bites
  // where the suite runs as an ordinary user).
  script: sh(`mkdir -p "$HOME/keep/inner" && head -c 1048576 /dev/zero > "$HOME/keep/inner/blob"
chmod 000 "$HOME/keep/inner" "$HOME/keep"
detail="$HOME"`),
  async via(cb, prompt) {
    const { output } = await cb.run(prompt, { context: {}, language: "bash" });
    const folder = String(output.detail);
    // The run's temp dir is the script's HOME; it is gone once the run returned.
    const left = await Deno.lstat(folder).then(() => true, () => false);
    return { breached: left, detail: `${folder} ${left ? "left behind" : "removed"}` };
  },
});

// The watch of the disk bound reads what each process holds: each thread's descriptor table (a
// thread may have a table of its own) and each process's list of mappings. Hundreds of threads
// sharing thousands of descriptors, or a dozen processes each mapping a file under a long name
// tens of thousands of times, made one measure millions of looks or hundreds of megabytes of
// text, on the caller's own thread: the time limit's timer could not fire, nothing was measured
// meanwhile, and an SDK program (or the runner's other clients) stood still.
const stallers = [
  {
    what: "250 threads sharing thousands of descriptors",
    setup: `import threading
fds = []
try:
    while len(fds) < 19000:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    for _ in range(16):
        os.close(fds.pop())  # room for what it writes next
stop = threading.Event()
for _ in range(250):
    threading.Thread(target=stop.wait, daemon=True).start()`,
  },
  {
    what: "a dozen processes mapping a file under a long name 65,000 times",
    setup: `import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
p = os.environ["TMPDIR"]
for i in range(15):
    p = os.path.join(p, chr(97 + i) * 250)
os.makedirs(p, exist_ok=True)
f = os.path.join(p, "f")
open(f, "wb").write(bytes(8192))
fd = os.open(f, os.O_RDONLY)
for i in range(65000):
    r = libc.mmap(None, 4096, 1, 2, fd, (i % 2) * 4096)
    if r is None or r == ctypes.c_void_p(-1).value:
        break
os.close(fd)
for k in range(12):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)`,
  },
];
for (const { what, setup } of stallers) {
  attack({
    name: `stall the disk watch with ${what}, past the time limit`,
    language: "python",
    timeout: 5,
    options: { maxProcesses: 256 },
    script: py(`import time\n${setup}\ntime.sleep(60)`),
    async via(cb, prompt) {
      let last = performance.now();
      let stall = 0;
      const tick = setInterval(() => {
        const now = performance.now();
        stall = Math.max(stall, now - last);
        last = now;
      }, 10);
      const started = performance.now();
      const error = await cb.run(prompt, { context: {}, language: "python" })
        .then(() => undefined, (e) => e);
      clearInterval(tick);
      const took = performance.now() - started;
      const breached = took > 10_000 || stall > 2_000;
      if (!breached && error === undefined) throw new Error("the run ended well: no attack ran");
      return {
        breached,
        detail: `a run of a 5 s limit took ${Math.round(took)} ms; this process stood still ` +
          `${Math.round(stall)} ms at most; ${String(error).slice(0, 120)}`,
      };
    },
  });
  attack({
    name: `stall the disk watch with ${what}, then write 3 GiB past a 128 MiB disk bound`,
    language: "python",
    timeout: 60,
    options: { maxProcesses: 256 },
    script: py(`import time
${setup}
buf = bytes(1 << 20)
with open(os.path.join(os.environ["TMPDIR"], "fill"), "wb") as f:
    for i in range(3072):
        f.write(buf)
time.sleep(30)`),
    async via(cb, prompt) {
      // The peak of the run's temp dirs, sampled by another process (this one may stand still).
      // Between two measures a script writes at disk speed (README): a measure that lasts, the
      // whole file.
      const peakFile = join(ROOT, `stall-peak-${RUN_ID}-${what.length}`);
      const sampler = new Deno.Command("bash", {
        args: [
          "-c",
          "peak=0; while :; do s=$(du -sm /tmp/capibara-run-* 2>/dev/null | " +
          'awk \'{t+=$1} END {print t+0}\'); if [ "$s" -gt "$peak" ]; then peak=$s; ' +
          `echo $peak > ${peakFile}; fi; sleep 0.05; done`,
        ],
      }).spawn();
      const error = await cb.run(prompt, { context: {}, language: "python" })
        .then(() => undefined, (e) => e);
      sampler.kill("SIGKILL");
      await sampler.status;
      const peak = Number(await Deno.readTextFile(peakFile).catch(() => "0"));
      // Stopped by the bound, as past it or as what cannot be measured: else the attack is broken.
      if (
        !(error instanceof ExecError) ||
        !/outputs and temp dir|impossible to measure/.test(error.message)
      ) {
        throw new Error(`the run was not stopped by its disk bound: ${error}`);
      }
      return {
        breached: peak >= 2048,
        detail: `the run's temp dir reached ${peak} MiB (bound 128 MiB); ${
          String(error).slice(0, 120)
        }`,
      };
    },
  });
}

Deno.test(escapeSuite("limits", { atLeast: { sandbox: 23, noSandbox: 1 } }));
