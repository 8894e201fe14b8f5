/**
 * The seccomp filter: the committed program is exactly what libseccomp compiles from the reviewed
 * policy (scripts/seccomp_gen.py), and inside the bubblewrap backend the calls it refuses fail
 * while ordinary work (threads, fork, subprocesses, TCP and unix sockets) goes on.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { which } from "../../src/_which.ts";
import { execCommand } from "../../src/exec.ts";
import { BubblewrapBackend, seccompProgram } from "../../src/sandbox/linux.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const bwrap = Deno.build.os === "linux" ? await which("bwrap") : undefined;
if (!bwrap) {
  console.warn("SKIPPED: sandbox/seccomp_test needs bubblewrap (apt-get install bubblewrap)");
}

/** The system Python with libseccomp's bindings (Debian: python3-seccomp), if any. */
async function seccompPython(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import seccomp"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? "/usr/bin/python3" : undefined;
  } catch {
    return undefined;
  }
}
const generator = await seccompPython();
if (!generator) {
  console.warn(
    "SKIPPED: the seccomp artefact check needs python3-seccomp (apt-get install python3-seccomp)",
  );
}

Deno.test({
  name: "seccomp_bpf.ts is exactly what libseccomp compiles from scripts/seccomp_gen.py",
  ignore: !generator,
  async fn() {
    const out = await new Deno.Command(generator!, {
      args: [`${ROOT}scripts/seccomp_gen.py`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const fresh = new TextDecoder().decode(out.stdout);
    const program = (text: string, arch: string) =>
      new RegExp(`${arch}:\\s*"([^"]+)"`).exec(text)?.[1];
    const committed = await Deno.readTextFile(`${ROOT}src/sandbox/seccomp_bpf.ts`);
    for (const arch of ["x86_64", "aarch64"]) {
      assert.ok(program(fresh, arch), `the generator wrote no ${arch} program`);
      assert.equal(program(committed, arch), program(fresh, arch), `${arch} program differs`);
    }
  },
});

/** Python that makes each refused call and prints `name errno` (0 when the call worked). */
const PROBE = String.raw`
import ctypes, errno, os, socket, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    result = libc.syscall(nr, *args)
    print(name, 0 if result >= 0 else ctypes.get_errno())
X86 = {"keyctl": (250, 0, -3, 0), "add_key": (248, 0, 0, 0, 0, 0), "io_uring_setup": (425, 1, 0),
       "userfaultfd": (323, 0), "bpf": (321, 0, 0, 0), "perf_event_open": (298, 0, 0, -1, -1, 0),
       "ptrace": (101, 16, 1, 0, 0), "unshare": (272, 0x10000000), "mount": (165, 0, 0, 0, 0, 0),
       "setns": (308, 0, 0), "process_vm_readv": (310, 1, 0, 0, 0, 0, 0),
       "statmount": (457, 0, 0, 0, 0), "listmount": (458, 0, 0, 0, 0)}
ARM = {"keyctl": (219, 0, -3, 0), "add_key": (217, 0, 0, 0, 0, 0), "io_uring_setup": (425, 1, 0),
       "userfaultfd": (282, 0), "bpf": (280, 0, 0, 0), "perf_event_open": (241, 0, 0, -1, -1, 0),
       "ptrace": (117, 16, 1, 0, 0), "unshare": (97, 0x10000000), "mount": (40, 0, 0, 0, 0, 0),
       "setns": (268, 0, 0), "process_vm_readv": (270, 1, 0, 0, 0, 0, 0),
       "statmount": (457, 0, 0, 0, 0), "listmount": (458, 0, 0, 0, 0)}
import sys
for name, args in (X86 if os.uname().machine == "x86_64" else ARM).items():
    if len(sys.argv) < 2 or name == sys.argv[1]:
        call(name, *args)
if len(sys.argv) < 2 or sys.argv[1] == "setxattr":
    # A file of its own, in its own temp dir: only the filter refuses (EPERM; a file system
    # without extended attributes would say EOPNOTSUPP).
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "xattr-probe")
    open(path, "w").close()
    try:
        os.setxattr(path, "user.capibara", b"1"); print("setxattr", 0)
    except OSError as e:
        print("setxattr", e.errno)
if len(sys.argv) < 2 or sys.argv[1] == "modes":
    # Set-user-ID and set-group-ID bits, by each way a mode is given; plain modes still work.
    tmp = os.environ.get("TMPDIR", "/tmp")
    def attempt(name, action):
        try:
            action(); print(name, 0)
        except OSError as e:
            print(name, e.errno)
    target = os.path.join(tmp, "mode-probe")
    open(target, "w").close()
    attempt("chmod_setuid", lambda: os.chmod(target, 0o4755))
    attempt("chmod_setgid", lambda: os.chmod(target, 0o2755))
    attempt("chmod_plain", lambda: os.chmod(target, 0o755))
    attempt("open_creat_setuid", lambda: os.close(os.open(os.path.join(tmp, "m2"), os.O_CREAT | os.O_WRONLY, 0o4755)))
    attempt("open_plain_odd_mode", lambda: os.close(os.open(target, os.O_RDONLY, 0o4777)))
    attempt("open_tmpfile_setuid", lambda: os.close(os.open(tmp, os.O_TMPFILE | os.O_RDWR, 0o4755)))
    attempt("mkdir_setgid", lambda: os.mkdir(os.path.join(tmp, "m3"), 0o2775))
    attempt("mknod_setuid", lambda: os.mknod(os.path.join(tmp, "m4"), 0o104755))
    print("setuid_bit", 1 if os.stat(target).st_mode & 0o4000 else 0)
if len(sys.argv) > 1:
    sys.exit(0)
NONBLOCK_CLOEXEC = socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
for family, kind, proto, name in (
    (socket.AF_NETLINK, socket.SOCK_RAW, 9, "netlink_audit"),
    (socket.AF_PACKET, socket.SOCK_RAW, 0, "packet"),
    (socket.AF_NETLINK, socket.SOCK_RAW, 0, "netlink_route"),
    (socket.AF_INET, socket.SOCK_DGRAM, 0, "udp"),
    (socket.AF_INET, socket.SOCK_DGRAM | NONBLOCK_CLOEXEC, 0, "udp_nonblock_cloexec"),
    (socket.AF_INET6, socket.SOCK_DGRAM, 0, "udp6"),
    (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP, "icmp_ping"),
    (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, "raw"),
    (socket.AF_INET6, socket.SOCK_RAW, 58, "raw6"),
    (socket.AF_INET, socket.SOCK_SEQPACKET, 132, "sctp"),
    (socket.AF_INET, socket.SOCK_STREAM, 262, "mptcp"),
    (socket.AF_INET6, socket.SOCK_STREAM | NONBLOCK_CLOEXEC, 262, "mptcp6"),
):
    try:
        socket.socket(family, kind, proto).close(); print(name, 0)
    except OSError as e:
        print(name, e.errno)
socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
socket.socket(socket.AF_INET6, socket.SOCK_STREAM | NONBLOCK_CLOEXEC, socket.IPPROTO_TCP).close()
print("inet_ok")
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
    a, b = socket.socketpair(socket.AF_UNIX, kind); a.send(b"x"); assert b.recv(1) == b"x"
    socket.socket(socket.AF_UNIX, kind).close()
print("unix_ok")
t = threading.Thread(target=lambda: None); t.start(); t.join(); print("threads_ok")
pid = os.fork()
if pid == 0: os._exit(0)
os.waitpid(pid, 0); print("fork_ok")
print("subprocess_ok" if subprocess.run(["/bin/true"]).returncode == 0 else "subprocess_failed")
`;

async function python(): Promise<{ exe: string; prefix: string }> {
  const out = await new Deno.Command("python3", {
    args: ["-c", "import sys; print(sys.executable); print(sys.base_prefix)"],
    stdout: "piped",
  }).output();
  const [exe = "", prefix = ""] = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { exe: await Deno.realPath(exe), prefix: await Deno.realPath(prefix) };
}

Deno.test({
  name:
    "BubblewrapBackend.wrap() applies the seccomp filter: refused calls fail, ordinary work runs",
  ignore: !bwrap,
  async fn() {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-seccomp-" }));
    try {
      const { exe, prefix } = await python();
      await Deno.writeTextFile(`${dir}/probe.py`, PROBE);
      await Deno.mkdir(`${dir}/tmp`);
      const policy: SandboxPolicy = {
        network: [],
        read: [prefix, `${dir}/probe.py`],
        write: [],
        protect: [],
        workdir: dir,
        tmpDir: `${dir}/tmp`,
        memoryBytes: 256 * 1024 ** 2,
        maxProcesses: 32,
      };
      const spec = {
        program: exe,
        args: [`${dir}/probe.py`],
        env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
        cwd: dir,
      };
      const wrapped = await new BubblewrapBackend().wrap(spec, policy);
      let stdout: string;
      try {
        const result = await execCommand(wrapped.spec, { timeoutMs: 30_000 });
        assert.equal(result.code, 0, result.stderr);
        stdout = result.stdout;
      } finally {
        await wrapped.close();
      }
      const seen = new Map(
        stdout.trim().split("\n").map((line) => line.split(" ") as [string, string]),
      );
      for (
        const name of [
          "keyctl",
          "add_key",
          "io_uring_setup",
          "userfaultfd",
          "bpf",
          "perf_event_open",
          "ptrace",
          "unshare",
          "mount",
          "setns",
          "process_vm_readv",
          "chmod_setuid",
          "chmod_setgid",
          "open_creat_setuid",
          "open_tmpfile_setuid",
          "mkdir_setgid",
          "mknod_setuid",
        ]
      ) {
        assert.equal(seen.get(name), "1", `${name} was not refused with EPERM: ${stdout}`);
      }
      // Extended attributes: answered as a file system without them (EOPNOTSUPP, 95).
      assert.equal(seen.get("setxattr"), "95", `setxattr was not refused: ${stdout}`);
      assert.equal(seen.get("packet"), "97", "AF_PACKET was not refused with EAFNOSUPPORT");
      // Sockets whose buffers a cgroup v1 memory limit does not count: inet is TCP alone (UDP,
      // ping and raw EPERM; MPTCP and SCTP EPROTONOSUPPORT, as a kernel without them), and no
      // netlink (one user socket can queue to another, counted by no cgroup).
      for (const name of ["netlink_audit", "netlink_route"]) {
        assert.equal(seen.get(name), "97", `${name} was not refused: ${stdout}`);
      }
      for (const name of ["udp", "udp_nonblock_cloexec", "udp6", "icmp_ping", "raw", "raw6"]) {
        assert.equal(seen.get(name), "1", `${name} was not refused with EPERM: ${stdout}`);
      }
      for (const name of ["sctp", "mptcp", "mptcp6"]) {
        // SCTP's seqpacket type is refused as no stream (EPERM) before its protocol is looked at.
        assert.equal(seen.get(name), name === "sctp" ? "1" : "93", `${name}: ${stdout}`);
      }
      for (const name of ["chmod_plain", "open_plain_odd_mode", "setuid_bit"]) {
        assert.equal(seen.get(name), "0", `${name}: ${stdout}`);
      }
      // Newer than the blocklist's libseccomp: "not implemented", as for any unknown number.
      for (const name of ["statmount", "listmount"]) {
        assert.equal(seen.get(name), "38", `${name} was not refused with ENOSYS: ${stdout}`);
      }
      for (const ok of ["inet_ok", "unix_ok", "threads_ok", "fork_ok", "subprocess_ok"]) {
        assert.ok(stdout.includes(ok), `${ok} missing: ordinary work broke under the filter`);
      }

      // The probe can tell: its keyring call in bwrap without the filter reads the keyring.
      const bare = await new Deno.Command(bwrap!, {
        args: [
          ...["--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"],
          ...[
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            exe,
            `${dir}/probe.py`,
            "keyctl",
          ],
        ],
        stdout: "piped",
        stderr: "piped",
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin" },
      }).output();
      assert.match(new TextDecoder().decode(bare.stdout), /^keyctl 0$/m);
      // And its statmount call reaches the kernel (EFAULT for the null request, not ENOSYS).
      const bareStatmount = await new Deno.Command(bwrap!, {
        args: [
          ...["--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"],
          ...["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"],
          ...[exe, `${dir}/probe.py`, "statmount"],
        ],
        stdout: "piped",
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin" },
      }).output();
      const kernelAnswer = /^statmount (\d+)$/m.exec(
        new TextDecoder().decode(bareStatmount.stdout),
      );
      assert.ok(kernelAnswer, "the probe did not answer outside the filter");
      // And its extended attribute is set without the filter, in the same temp dir.
      const bareXattr = await new Deno.Command(bwrap!, {
        args: [
          ...["--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"],
          ...["--ro-bind", "/", "/", "--bind", `${dir}/tmp`, `${dir}/tmp`],
          ...["--proc", "/proc", "--dev", "/dev"],
          ...[exe, `${dir}/probe.py`, "setxattr"],
        ],
        stdout: "piped",
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin", TMPDIR: `${dir}/tmp` },
      }).output();
      assert.match(new TextDecoder().decode(bareXattr.stdout), /^setxattr 0$/m);
      // And its set-user-ID bits are set without the filter.
      const bareModes = await new Deno.Command(bwrap!, {
        args: [
          ...["--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent"],
          ...["--ro-bind", "/", "/", "--bind", `${dir}/tmp`, `${dir}/tmp`],
          ...["--proc", "/proc", "--dev", "/dev"],
          ...[exe, `${dir}/probe.py`, "modes"],
        ],
        stdout: "piped",
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin", TMPDIR: `${dir}/tmp` },
      }).output();
      const bareText = new TextDecoder().decode(bareModes.stdout);
      for (const name of ["chmod_setuid", "open_creat_setuid", "open_tmpfile_setuid"]) {
        assert.match(bareText, new RegExp(`^${name} 0$`, "m"), bareText);
      }
      if (kernelAnswer[1] === "38") {
        console.warn(
          "seccomp_test: this kernel has no statmount (Linux < 6.8): ENOSYS proves less",
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("seccompProgram() exists for x86_64 and aarch64 and is whole BPF instructions", () => {
  for (const arch of ["x86_64", "aarch64"]) {
    const program = seccompProgram(arch);
    assert.ok(program && program.byteLength > 0, `no program for ${arch}`);
    assert.equal(program.byteLength % 8, 0, "a classic BPF instruction is 8 bytes");
  }
  assert.equal(seccompProgram("riscv64"), undefined);
});
