/**
 * Where the resident runner (`capibara runner`) listens, and what its client and it agree on. It
 * imports only two leaves that import nothing (`_runner_folder.ts`, `_timer.ts`): the client loads
 * it before anything else on each `capibara run`, and each module costs a start ≈ 0.3 ms.
 *
 * The socket is an abstract one (Linux): a name in the network namespace, not a file, so that no
 * sandbox (each has a network namespace of its own) can reach it, whatever files it is shown. Any
 * local user could reach the name, so both sides prove they hold the runner's key, a random file
 * in a folder of the user's own (`/run/user/<uid>/capibara`, else `/tmp/capibara-<uid>`, mode
 * 0700, whatever the environment: see `_runner_folder.ts`), before anything is sent: the runner
 * answers the client's nonce first (an impostor holding the name learns nothing), then the client
 * signs its request with both nonces. The runner drops its key before it stops listening, so
 * nobody can take its name while a client may still trust it.
 *
 * The `capibara` command loads the client and what it imports as one compiled file
 * (`src/cli/_runner_client.bundle.js`): after a change here, `deno task build:client` (a test
 * fails until then).
 *
 * @module
 */

import { privateFolder, runnerFolder } from "../_runner_folder.ts";
import { onTimeout } from "../_timer.ts";
export { privateFolder, runnerFolder } from "../_runner_folder.ts";

/** The protocol's version: a client and a runner of different versions never talk. */
export const RUNNER_PROTOCOL = 5;

/**
 * Variables the runner's own process reads (the temp dir, the home folder, programs looked up on
 * `PATH`, the sandbox's uid): a client whose values differ runs in its own process. Besides
 * these, every variable {@linkcode readByTheProcess} names must be equal.
 */
export const PROCESS_VARIABLES: readonly string[] = [
  "TMPDIR",
  "TMP",
  "TEMP",
  "HOME",
  "PATH",
  "CAPIBARA_SANDBOX_UID",
  // Read by the generation's checks on a miss.
  "LANG",
  "PYENV_ROOT",
  "PYENV_VERSION",
  "TZ",
];

/**
 * Whether a variable is one the runner's process itself reads, not only what a run is given:
 * {@linkcode PROCESS_VARIABLES}, Deno's (`DENO_*`: its cache, certificates, auth tokens), proxies
 * (`*_proxy` in any case, which `fetch` follows), TLS (`SSL_*`), the loader's (`LD_*`), the locale
 * (`LC_*`), npm's registry settings (`NPM_CONFIG_*`: not npm's own lowercase `npm_config_*` of a
 * script) and Node's. A request whose value of any differs from the runner's is declined:
 * a runner must never send a client's model request through another command's proxy.
 */
export function readByTheProcess(name: string): boolean {
  return PROCESS_VARIABLES.includes(name) || /_proxy$/i.test(name) ||
    /^(DENO_|SSL_|LD_|LC_|NODE_)/i.test(name) || name.startsWith("NPM_CONFIG_");
}

/** The first variable the process reads whose value differs between two environments. */
export function processVariableDiffering(
  a: Record<string, string | undefined>,
  b: Record<string, string | undefined>,
): string | undefined {
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (readByTheProcess(name) && a[name] !== b[name]) return name;
  }
  return undefined;
}

/** Variables naming folders: a relative one would be read from the runner's folder, not yours. */
export const PATH_VARIABLES: readonly string[] = [
  "CAPIBARA_CACHE_DIR",
  "XDG_CACHE_HOME",
  "DENO_DIR",
];

/**
 * A short name for this code's location, the protocol, the key's folder and `CAPIBARA_RUNNER_NAME`
 * (32-bit FNV-1a, hex): one runner per checkout, and more only when asked for by name (tests).
 */
function runnerName(env: Record<string, string | undefined>): string {
  const text = `${RUNNER_PROTOCOL}\0${new URL("../..", import.meta.url).href}\0${runnerFolder()}\0${
    env.CAPIBARA_RUNNER_NAME ?? ""
  }`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** The runner's abstract socket for this user, this code and this key folder. */
export function runnerAddress(env: Record<string, string | undefined>): string {
  return `\0capibara-runner-${Deno.uid() ?? "user"}-${runnerName(env)}`;
}

/** Whether something listens at the runner's address (a runner, or a process holding its name). */
export async function runnerAnswers(env: Record<string, string | undefined>): Promise<boolean> {
  try {
    (await Deno.connect({ transport: "unix", path: runnerAddress(env) })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A file of this runner's in the user's runner folder: its key (`key`: 32 random bytes, 0600), the
 * time of the last hit run without it (`hit`), the lock of its start on demand (`starting`).
 */
export function runnerFile(
  env: Record<string, string | undefined>,
  kind: "key" | "hit" | "starting",
): string {
  return `${runnerFolder()}/runner-${runnerName(env)}.${kind}`;
}

/** The file holding the runner's key (32 random bytes, mode 0600) in the user's runner folder. */
export function runnerKeyFile(env: Record<string, string | undefined>): string {
  return runnerFile(env, "key");
}

/**
 * What `CAPIBARA_RUNNER` asks for: `0` (or `false`, `off`, `no`) never a runner; `1` (or `true`,
 * `on`, `yes`) a runner, started on demand (see `_runner_start.ts`); unset (or anything else) the
 * same, but none started in CI.
 */
export function runnerSetting(env: Record<string, string | undefined>): "off" | "on" | "auto" {
  const value = (env.CAPIBARA_RUNNER ?? "").trim().toLowerCase();
  if (["0", "false", "off", "no"].includes(value)) return "off";
  if (["1", "true", "on", "yes"].includes(value)) return "on";
  return "auto";
}

/** How long a client waits for a runner to connect and answer its hello, at most. */
export const HANDSHAKE_DEADLINE_MS = 2000;

/**
 * When process `pid` started (field 22 of `/proc/<pid>/stat`), or undefined when it is gone,
 * dead but not reaped yet (a zombie keeps its start time, not its sockets) included.
 */
export function processStart(pid: number): string | undefined {
  const stat = procText(`/proc/${pid}/stat`);
  if (stat === null) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/**
 * What a runner writes in its key file: the 32-byte key, then its pid and start time, so that a
 * key left by a runner that did not stop (killed, out of memory) names a process that is gone and
 * is never trusted again: whoever takes such a runner's name later cannot pose as it.
 */
export function keyRecord(key: Uint8Array, pid: number = Deno.pid): Uint8Array {
  const trailer = new TextEncoder().encode(`${pid} ${processStart(pid) ?? ""}\n`);
  const record = new Uint8Array(key.length + trailer.length);
  record.set(key);
  record.set(trailer, key.length);
  return record;
}

/**
 * A runner's key record, read: its key, pid and start time, and the state of this process its
 * runner was compared with (see {@linkcode ProcessState}); or why its runner is not this one's.
 */
export type RunnerKey = {
  key: Uint8Array;
  pid: number;
  start: string;
  record: Uint8Array;
  own: ProcessState;
} | { unlike: string };

/**
 * The runner's key, when its folder is the user's alone, the file is a 0600 file of theirs, and
 * the runner that wrote it still runs (see {@linkcode keyRecord}); `{ unlike }` when that runner
 * is not a process like this one (see {@linkcode foreignPeer}): a process confined otherwise that
 * wrote a key of its own there is no runner to hand a request, or secrets, to, nor to connect
 * to. Whether a connection then reaches this very process is {@linkcode connectRunner}'s check.
 */
export function readRunnerKey(env: Record<string, string | undefined>): RunnerKey | undefined {
  if (!privateFolder(runnerFolder())) return undefined;
  try {
    const record = readKeyFile(runnerKeyFile(env));
    if (!record || record.length <= 32) return undefined;
    const match = /^(\d+) (\d+)\n$/.exec(new TextDecoder().decode(record.subarray(32)));
    if (!match) return undefined;
    const pid = Number(match[1]);
    const start = match[2]!;
    if (processStart(pid) !== start) return undefined;
    const own = ownState();
    const unlike = foreignPeer(pid, undefined, own);
    if (unlike !== undefined) return { unlike };
    return { key: record.slice(0, 32), pid, start, record, own };
  } catch {
    return undefined;
  }
}

/** Whether the runner's key file still holds `record`, as read before. */
function sameKey(env: Record<string, string | undefined>, record: Uint8Array): boolean {
  const now = readKeyFile(runnerKeyFile(env));
  return now !== undefined && now.length === record.length &&
    now.every((byte, i) => byte === record[i]);
}

/**
 * HMAC-SHA256 under the runner's key, base64, of the runner's answer (`runner:<client's
 * nonce>:<runner's nonce>`) or of the client's request (`client:<both nonces>:<the request>`):
 * each proof binds both nonces, and the client's binds what it asks, so a proof is worth nothing
 * on another connection or for another request.
 */
export async function proof(key: Uint8Array, text: string): Promise<string> {
  const signed = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(key),
    new TextEncoder().encode(text),
  );
  return new Uint8Array(signed).toBase64();
}

const HMAC_KEYS = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/**
 * The key as WebCrypto's HMAC key, imported once per key. The first call of a process also starts
 * the thread WebCrypto runs on (≈ 2-3 ms): the client makes it before it connects, so that this
 * overlaps the connection and the runner's answer.
 */
export function hmacKey(key: Uint8Array): Promise<CryptoKey> {
  let imported = HMAC_KEYS.get(key);
  if (!imported) {
    imported = crypto.subtle.importKey(
      "raw",
      key as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    HMAC_KEYS.set(key, imported);
  }
  return imported;
}

/** Whether two proofs are equal, in time that does not depend on where they differ. */
export function sameProof(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A fresh nonce, base64. */
export function nonce(): string {
  return crypto.getRandomValues(new Uint8Array(16)).toBase64();
}

/** The longest line before both sides proved themselves. */
export const HANDSHAKE_BYTES = 1024 * 1024;

/**
 * The lines a connection brings, as they come (a line longer than `max` bytes ends it; `max` may
 * be changed on the way, through the object). Plain reads: a connection's `readable` stream costs
 * the client ≈ 8 ms to set up. A line's bytes are kept as they come and decoded once whole; each
 * read is searched alone: another user's connections that sent a line of almost 1 MiB a byte at a
 * time, each byte re-copying and re-searching all before it, made the runner 20-50 times slower
 * (an attacker's review).
 */
export async function* lines(
  conn: Deno.Conn,
  max: number | { max: number } = 16 * 1024 * 1024,
): AsyncGenerator<string> {
  const limit = typeof max === "number" ? { max } : max;
  const decoder = new TextDecoder();
  const chunk = new Uint8Array(64 * 1024);
  let parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const read = await conn.read(chunk);
    if (read === null) return;
    let data = chunk.subarray(0, read);
    let newline: number;
    while ((newline = data.indexOf(10)) >= 0) {
      const tail = data.subarray(0, newline);
      if (size + tail.length > limit.max) throw new Error("line too long");
      let line = tail;
      if (parts.length > 0) {
        line = new Uint8Array(size + tail.length);
        let at = 0;
        for (const part of [...parts, tail]) {
          line.set(part, at);
          at += part.length;
        }
        parts = [];
        size = 0;
      }
      yield decoder.decode(line);
      data = data.subarray(newline + 1);
    }
    if (data.length > 0) {
      // The read buffer is used again: what waits for its newline is copied.
      parts.push(data.slice());
      size += data.length;
    }
    if (size > limit.max) throw new Error("line too long");
  }
}

/** SOL_SOCKET and SO_PEERPIDFD (Linux 6.5+, x86-64 and arm64 alike). */
const SOL_SOCKET = 1;
const SO_PEERPIDFD = 77;

type SocketCalls = {
  getsockopt(
    fd: number,
    level: number,
    name: number,
    value: Uint8Array,
    length: Uint8Array,
  ): number;
  getpeername(fd: number, address: Uint8Array, length: Uint8Array): number;
  open(path: Uint8Array, flags: number): number;
  read(fd: number, buffer: Uint8Array): number;
  close(fd: number): number;
  /** `memfd_create(name, MFD_CLOEXEC)`. */
  memfd(name: string): number;
  /** `prlimit64(0, RLIMIT_CORE, set, old)`: each a `struct rlimit64`, or null. */
  coreLimit(set: Uint8Array | null, old: Uint8Array | null): number;
};

/** The kernel's numbers of the calls {@linkcode socketCalls} makes, by architecture. */
const SYSCALLS: Record<
  string,
  Record<
    | "read"
    | "close"
    | "openat"
    | "getpeername"
    | "getsockopt"
    | "memfd_create"
    | "prlimit64",
    number
  >
> = {
  x86_64: {
    read: 0,
    close: 3,
    getpeername: 52,
    getsockopt: 55,
    openat: 257,
    prlimit64: 302,
    memfd_create: 319,
  },
  aarch64: {
    read: 63,
    close: 57,
    openat: 56,
    getpeername: 205,
    getsockopt: 209,
    prlimit64: 261,
    memfd_create: 279,
  },
};

/** `openat`'s folder for a path relative to the current one (and ignored for an absolute one). */
const AT_FDCWD = -100n;

let socketCallsMemo: SocketCalls | null | undefined;
/** The last call's arguments: a store the compiler cannot drop keeps its buffers alive to its end. */
const kept: { args?: unknown } = {};

/**
 * `getsockopt`, `getpeername`, `open`, `read`, `close`, `memfd_create` and `prlimit64`, made
 * through libc's `syscall` and Deno's FFI (Deno exposes no socket's peer credentials, no open that
 * never waits, no memfd, no limit of this process's), or null where they cannot be had: not Linux on x86-64 or arm64, no libc by a known name, or no FFI permission.
 * Where they cannot, no runner is used. One symbol, not one per call: Deno compiles each bound
 * symbol's trampoline when the library is opened, ≈ 0.5 ms each, on every hit.
 */
export function socketCalls(): SocketCalls | null {
  if (socketCallsMemo !== undefined) return socketCallsMemo;
  socketCallsMemo = null;
  const numbers = SYSCALLS[Deno.build.arch];
  if (Deno.build.os !== "linux" || !numbers) return null;
  for (const name of ["libc.so.6", `libc.musl-${Deno.build.arch}.so.1`]) {
    let syscall: (...args: bigint[]) => bigint;
    try {
      syscall = Deno.dlopen(name, {
        syscall: { parameters: ["i64", "i64", "i64", "i64", "i64", "i64"], result: "i64" },
      }).symbols.syscall as (...args: bigint[]) => bigint;
    } catch {
      // Not this libc, or no FFI permission.
      continue;
    }
    /**
     * One call: its buffers are passed by address, each taken last (asking for its `ArrayBuffer`
     * moves a small array's bytes off V8's heap, where a collection could move them, for good),
     * and they are kept reachable until the call returned.
     */
    const call = (number: number, ...args: (bigint | Uint8Array)[]) => {
      const raw = args.map((arg) => {
        if (typeof arg === "bigint") return arg;
        void arg.buffer;
        return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(arg)));
      });
      while (raw.length < 5) raw.push(0n);
      const result = Number(syscall(BigInt(number), ...raw));
      kept.args = args;
      return result;
    };
    socketCallsMemo = {
      getsockopt: (fd, level, option, value, length) =>
        call(numbers.getsockopt, BigInt(fd), BigInt(level), BigInt(option), value, length),
      getpeername: (fd, address, length) => call(numbers.getpeername, BigInt(fd), address, length),
      open: (path, flags) => call(numbers.openat, AT_FDCWD, path, BigInt(flags)),
      read: (fd, buffer) => call(numbers.read, BigInt(fd), buffer, BigInt(buffer.length)),
      close: (fd) => call(numbers.close, BigInt(fd)),
      coreLimit: (set, old) => call(numbers.prlimit64, 0n, RLIMIT_CORE, set ?? 0n, old ?? 0n),
      memfd: (name) =>
        call(numbers.memfd_create, new TextEncoder().encode(`${name}\0`), 1n /* MFD_CLOEXEC */),
    };
    break;
  }
  return socketCallsMemo;
}

/** `O_RDONLY | O_CLOEXEC`. */
const OPEN_READ = 0o2000000;

let procBuffer: Uint8Array | undefined;

/**
 * A `/proc` file's text, or null when it cannot be read: through libc where it can be had, so that
 * a file that cannot be read (a security module's label where no module labels processes, a
 * process gone) raises no error, which costs a new process ≈ 0.7 ms the first time, on every hit.
 * A file longer than 64 KiB (`/proc/net/unix` on a busy host) is read on into a larger buffer.
 */
export function procText(path: string): string | null {
  const calls = socketCalls();
  const byDeno = () => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return null;
    }
  };
  if (!calls) return byDeno();
  const fd = calls.open(new TextEncoder().encode(`${path}\0`), OPEN_READ);
  if (fd < 0) return null;
  try {
    let buffer = procBuffer ??= new Uint8Array(64 * 1024);
    let length = 0;
    for (;;) {
      const got = calls.read(fd, buffer.subarray(length));
      if (got < 0) return null;
      if (got === 0) return new TextDecoder().decode(buffer.subarray(0, length));
      length += got;
      if (length === buffer.length) {
        const larger = new Uint8Array(buffer.length * 2);
        larger.set(buffer);
        buffer = larger;
      }
    }
  } finally {
    calls.close(fd);
  }
}

/** The process a pidfd names, by its pid now: 0 once it exited (or outside this pid namespace). */
function pidfdPid(pidfd: number): number {
  const info = procText(`/proc/self/fdinfo/${pidfd}`);
  // "Pid: -1" once the process exited; 0 outside this pid namespace.
  const now = Number(/^Pid:\s*(-?\d+)$/m.exec(info ?? "")?.[1] ?? 0);
  return now > 0 ? now : 0;
}

/**
 * The process at the other end of a connection: its pid, held by a pidfd (a process, not a number
 * another may take once it exits) for as long as this is not disposed, so that whatever is read of
 * `/proc/<pid>` meanwhile is known to be that process's when {@linkcode ConnectedPeer.stillThere}
 * says so afterwards.
 */
export interface ConnectedPeer extends Disposable {
  /** Its pid. */
  readonly pid: number;
  /** Whether it still runs: then every read of `/proc/<pid>` since was of this very process. */
  stillThere(): boolean;
}

/**
 * The process at the other end of this process's connection to `address`: the one that listened
 * there, as the kernel holds it (`SO_PEERPIDFD`), or undefined when it cannot be told (it exited,
 * connections there disagree, no connection, a kernel before 6.5, no {@linkcode socketCalls}). A
 * client trusts a runner only when this is the process its key names: whoever holds the socket it
 * connected to is the process it talks to, whatever listens at the name by the time it looks (an
 * attacker's review handed the name over to the real runner while a client it had accepted
 * waited).
 */
export function connectedListener(address: string): ConnectedPeer | undefined {
  const calls = socketCalls();
  if (!calls) return undefined;
  const wanted = new TextEncoder().encode(address);
  let pid: number | undefined;
  let held: number | undefined;
  const release = () => {
    if (held !== undefined) calls.close(held);
    held = undefined;
  };
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      // sockaddr_un: sa_family (AF_UNIX, 1), then the name (an abstract one begins with a NUL).
      const peer = new Uint8Array(2 + 108);
      const peerLength = new Uint32Array([peer.length]);
      if (calls.getpeername(fd, peer, new Uint8Array(peerLength.buffer)) !== 0) continue;
      if (
        new Uint16Array(peer.buffer, 0, 1)[0] !== 1 || peerLength[0]! - 2 !== wanted.length ||
        !wanted.every((byte, i) => peer[2 + i] === byte)
      ) continue;
      const pidfd = new Int32Array(1);
      const pidfdLength = new Uint32Array([4]);
      const got = calls.getsockopt(
        fd,
        SOL_SOCKET,
        SO_PEERPIDFD,
        new Uint8Array(pidfd.buffer),
        new Uint8Array(pidfdLength.buffer),
      );
      if (got !== 0) {
        release();
        return undefined;
      }
      const now = pidfdPid(pidfd[0]!);
      if (held === undefined) held = pidfd[0]!;
      else calls.close(pidfd[0]!);
      if (now === 0 || (pid !== undefined && pid !== now)) {
        release();
        return undefined;
      }
      pid = now;
    }
  } catch {
    release();
    return undefined;
  }
  if (pid === undefined || held === undefined) return undefined;
  const found = pid;
  return {
    pid: found,
    stillThere: () => held !== undefined && pidfdPid(held) === found,
    [Symbol.dispose]: release,
  };
}

/** `O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC` on x86-64 and arm64 (`O_NOFOLLOW` differs). */
const OPEN_KEY = 0o4000 | 0o2000000 | (Deno.build.arch === "aarch64" ? 0o100000 : 0o400000);

/**
 * A key file's bytes when it is a regular file of this user's that no one else may read (at most
 * 4 KiB), else undefined. Opened without following a link and without waiting on whatever else
 * the name may be by then (a FIFO put there would block a plain open forever: an attacker's review
 * swapped one in between a check and the read), then checked and read through that descriptor.
 */
export function readKeyFile(file: string): Uint8Array | undefined {
  const calls = socketCalls();
  if (!calls) return undefined;
  const fd = calls.open(new TextEncoder().encode(`${file}\0`), OPEN_KEY);
  if (fd < 0) return undefined;
  try {
    const opened = `/proc/self/fd/${fd}`;
    const info = Deno.statSync(opened);
    if (
      !info.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0o777) & 0o077) !== 0 ||
      info.size > 4096
    ) return undefined;
    return Deno.readFileSync(opened);
  } catch {
    return undefined;
  } finally {
    calls.close(fd);
  }
}

/** A stream socket's type in `/proc/net/unix`. */
const SOCK_STREAM = "0001";
/** The flag of a listening socket in `/proc/net/unix` (`__SO_ACCEPTCON`). */
const ACCEPTING = 0x10000;

/**
 * Whether process `pid` holds the socket that listens at `address` (an abstract name): the
 * listening socket's inode, from `/proc/net/unix` (this network namespace's), among the
 * descriptors of `/proc/<pid>/fd`. A client trusts a runner only when the process its key names
 * holds it: whoever can write the key's folder could write a key naming any process of the user's
 * and listen itself, and the kernel's record of who called `listen()` (`SO_PEERCRED`) names a
 * pid that another process may have taken since (an attacker's review listened from a child that
 * exited, then cycled pids until a process of the user's had its number). A descriptor cannot be
 * put into another process without its help.
 */
export function listenerHeldBy(address: string, pid: number): boolean {
  const name = address.startsWith("\0") ? `@${address.slice(1)}` : address;
  const inodes = new Set<string>();
  for (const line of (procText("/proc/net/unix") ?? "").split("\n")) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    // A stream socket's only: one of another type may take the same name (an attacker's review
    // had another user's listener at it, which made every client refuse the user's runner).
    if (
      fields.length === 8 && fields[7] === name && fields[4] === SOCK_STREAM &&
      (parseInt(fields[3]!, 16) & ACCEPTING) !== 0
    ) {
      inodes.add(fields[6]!);
    }
  }
  if (inodes.size !== 1) return false;
  const wanted = `socket:[${[...inodes][0]}]`;
  for (const link of fdLinks(pid)) if (link === wanted) return true;
  return false;
}

/**
 * What process `pid`'s descriptors name (the links `/proc/<pid>/fd/<n>`), as they are listed; a
 * descriptor closed meanwhile is left out. Null, then nothing more, where they may not be read
 * (not this process's to inspect, or gone).
 */
function* fdLinks(pid: number): Generator<string | null> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`/proc/${pid}/fd`)];
  } catch {
    yield null;
    return;
  }
  for (const entry of entries) {
    try {
      yield Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      yield null;
      return;
    }
  }
}

/** What a witness's name begins with (see {@linkcode ownWitness}). */
const WITNESS_NAME = "capibara-witness-";

/** A witness's bytes and its name, after {@linkcode WITNESS_NAME} (and a tag, see below). */
function showWitness(tag: string): { bytes: Uint8Array; fd: number } | undefined {
  const calls = socketCalls();
  if (!calls || !forbidCoreDumps()) return undefined;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const fd = calls.memfd(`${WITNESS_NAME}${tag}${bytes.toHex()}`);
  return fd < 0 ? undefined : { bytes, fd };
}

let witnessMemo: Uint8Array | null | undefined;

/**
 * 32 random bytes this process shows only through its open files, for its lifetime: an anonymous
 * file (a memfd, which no folder lists) named after them, or null where none can be made (no
 * {@linkcode socketCalls}). A process that reads the name (the link `/proc/<pid>/fd/<n>`, which
 * only a process with ptrace read access to this one may follow) is in no Landlock domain this
 * one is not in, and under no other module's ptrace rule against it: no Landlock domain lets a
 * process inspect one outside it, whatever its uid, capabilities or `no_new_privs`, and /proc
 * shows no domain (an attacker's review made one as root, then became the user, who shows nothing
 * of it). Yama asks nothing of such a read: it guards attaching only. A process that shows one
 * dumps no core (see {@linkcode forbidCoreDumps}). A client's: the runner shows one per
 * connection (see {@linkcode connectionWitness}).
 */
export function ownWitness(): Uint8Array | null {
  if (witnessMemo !== undefined) return witnessMemo;
  witnessMemo = showWitness("")?.bytes ?? null;
  return witnessMemo;
}

/**
 * The runner's witness for one connection, shown until it is closed (once the client proved it
 * saw it), and found by the tag of the client's nonce: a witness that lived as long as the runner
 * was read from a client's core dump by a process in a Landlock domain, which was then served
 * for the runner's whole life (an attacker's review). Undefined when the nonce is not one, or
 * none can be shown.
 */
export function connectionWitness(
  clientNonce: string,
): { bytes: Uint8Array; close(): void } | undefined {
  const tag = witnessTag(clientNonce);
  const shown = tag === undefined ? undefined : showWitness(tag);
  if (!shown) return undefined;
  let open = true;
  return {
    bytes: shown.bytes,
    close() {
      if (open) socketCalls()?.close(shown.fd);
      open = false;
    },
  };
}

/**
 * The tag of a connection's witness: its client's nonce (16 bytes), hex, and a dash; undefined
 * unless the nonce is spelled as {@linkcode nonce} spells one (the decoder takes other spellings
 * of the same bytes, which let a second connection show a witness under a live client's tag).
 */
function witnessTag(clientNonce: string): string | undefined {
  try {
    const bytes = Uint8Array.fromBase64(clientNonce);
    return bytes.length === 16 && bytes.toBase64() === clientNonce
      ? `${bytes.toHex()}-`
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The witness of process `pid` (see {@linkcode ownWitness}), or with `clientNonce`, the one it
 * shows for that client's connection (see {@linkcode connectionWitness}); undefined when this
 * process cannot see it: it is not this process's to inspect, or it shows none, or several.
 */
export function readWitness(pid: number, clientNonce?: string): Uint8Array | undefined {
  const tag = clientNonce === undefined ? "" : witnessTag(clientNonce);
  if (tag === undefined) return undefined;
  const prefix = `/memfd:${WITNESS_NAME}${tag}`;
  let found: string | undefined;
  for (const link of fdLinks(pid)) {
    if (link === null) return undefined;
    if (!link.startsWith(prefix) || !link.endsWith(" (deleted)")) continue;
    const hex = link.slice(prefix.length, -" (deleted)".length);
    if (!/^[0-9a-f]{64}$/.test(hex)) continue;
    if (found !== undefined && found !== hex) return undefined;
    found = hex;
  }
  return found === undefined ? undefined : Uint8Array.fromHex(found);
}

/** `RLIMIT_CORE`. */
const RLIMIT_CORE = 4n;

let coreMemo: boolean | undefined;

/**
 * Lowers this process's core size limit, soft and hard, to 1 byte for good (no process of the
 * user's may raise a hard limit again; 1 byte, not 0, for the kernel then refuses a core to a
 * `|` pipe handler too), or to 0 where the hard limit is 0 already (hardened hosts: a process may
 * not raise it to 1; a pipe handler of the system's then decides, as systemd-coredump does, which
 * stores nothing under a page). A core dump is written without ptrace access, so one process in a
 * Landlock domain could have another of the user's dump what it holds (a witness, a request's
 * environment) where it reads it (an attacker's review did, through `prlimit` and a signal). A
 * runner's scripts inherit the limit. False when it cannot be done.
 */
export function forbidCoreDumps(): boolean {
  if (coreMemo !== undefined) return coreMemo;
  coreMemo = false;
  const calls = socketCalls();
  if (!calls) return false;
  const now = new Uint8Array(new ArrayBuffer(16));
  if (calls.coreLimit(null, now) !== 0) return false;
  const hard = new DataView(now.buffer).getBigUint64(8, true);
  const wanted = hard < 1n ? hard : 1n;
  const limit = new Uint8Array(new ArrayBuffer(16));
  new DataView(limit.buffer).setBigUint64(0, wanted, true);
  new DataView(limit.buffer).setBigUint64(8, wanted, true);
  coreMemo = calls.coreLimit(limit, null) === 0;
  return coreMemo;
}

/** AES-GCM's nonce: each sealing key serves one message (it binds both sides' nonces). */
const SEAL_IV = new Uint8Array(12);

/** The key that seals one request: HMAC-SHA256 under a witness's bytes of both nonces. */
async function sealingKey(
  witness: Uint8Array,
  nonces: string,
  use: "encrypt" | "decrypt",
): Promise<CryptoKey> {
  const raw = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(witness),
    new TextEncoder().encode(`seal:${nonces}`),
  );
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, [use]);
}

/**
 * `text` sealed (AES-GCM, base64) under a key drawn from the client's witness (see
 * {@linkcode ownWitness}) and both nonces: only a process that sees the client's witness opens it,
 * which no process in a Landlock domain the client is not in can.
 * So the client sends its request with its proof in one message, and learns whether the runner
 * saw its witness from the runner's first answer, before it trusts anything the runner says.
 */
export function seal(witness: Uint8Array, nonces: string, text: string): Promise<string> {
  return sealer(witness, nonces)(text);
}

/** {@linkcode seal} with its key drawn at once, before the text is known. */
export function sealer(witness: Uint8Array, nonces: string): (text: string) => Promise<string> {
  const key = sealingKey(witness, nonces, "encrypt");
  key.catch(() => {});
  return async (text) => {
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: SEAL_IV },
      await key,
      new TextEncoder().encode(text),
    );
    return new Uint8Array(sealed).toBase64();
  };
}

/** What {@linkcode seal} sealed, or undefined when `sealed` was not sealed under that witness. */
export async function unseal(
  witness: Uint8Array,
  nonces: string,
  sealed: unknown,
): Promise<string | undefined> {
  if (typeof sealed !== "string") return undefined;
  try {
    const opened = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: SEAL_IV },
      await sealingKey(witness, nonces, "decrypt"),
      Uint8Array.fromBase64(sealed),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(opened);
  } catch {
    return undefined;
  }
}

/** Why a runner's answer to a request is not taken, or what it took. */
export type RunnerAnswer =
  | { reply: Exclude<RunnerReply, { decline: string }> }
  | { declined: string }
  | { gone: true };

/** A connection to the user's runner that proved it holds the runner's key. */
export interface RunnerSession {
  conn: Deno.UnixConn;
  /** What the client names itself to prove it is the process it says (see `peerMark`). */
  mark: string;
  /**
   * The line that carries `body` to the runner: signed with both nonces (see {@linkcode proof});
   * with the client's proof that it saw the runner's witness (see {@linkcode ownWitness}), and
   * sealed for whoever sees the client's (see
   * {@linkcode seal}).
   */
  request(body: unknown): Promise<string>;
  /**
   * Sends `body` (see {@linkcode request}), while the client wears the runner's mark, and waits
   * for the runner's first answer, within the handshake's deadline: what it took (with its proof
   * that it saw the client's witness), why it did not (`declined`: the command then runs by
   * itself), or that it went away (`gone`: it was stopping).
   */
  ask(body: unknown): Promise<RunnerAnswer>;
  /** The rest of what the runner sends. */
  replies: AsyncGenerator<string>;
}

/**
 * A connection to the user's runner that proved it holds the runner's key (see
 * {@linkcode RunnerSession}); `{ unlike }` when a runner runs but is not one this process may
 * use; undefined when there is no key, nothing listens, or what listens cannot prove it (nothing
 * else is sent then).
 */
export async function connectRunner(
  env: Record<string, string | undefined>,
): Promise<RunnerSession | { unlike: string } | undefined> {
  const found = readRunnerKey(env);
  if (!found) return undefined;
  if ("unlike" in found) return found;
  const key = found.key;
  // The hello and its proof of the key (worth nothing to whoever holds the name without it; the
  // runner keeps a client of the user's waiting before another user's connections, see
  // runner.ts), drawn while the connection is made and checked.
  const mine = nonce();
  const helloKey = proof(key, `hello:${mine}`);
  helloKey.catch(() => {});
  let conn: Deno.UnixConn;
  const address = runnerAddress(env);
  try {
    conn = await Deno.connect({ transport: "unix", path: address });
  } catch {
    return undefined;
  }
  // Before anything is sent, the process this connection reached must be the runner that wrote the
  // key, hold the socket at the name, and be like this one. A process that can write the key's
  // folder (one confined by another tool, say) could leave a key naming any process of the user's
  // and listen itself, then read every later command's environment. The reached process is held
  // (a pidfd) from here until the last read of its /proc/<pid> (stillThere, below), so no other
  // process can have taken its pid meanwhile.
  using reached = connectedListener(address);
  const unlike = !reached
    ? "this process cannot learn which process it reached (no FFI permission, or Linux before 6.5)"
    : reached.pid !== found.pid || processStart(found.pid) !== found.start ||
        !listenerHeldBy(address, found.pid)
    ? "what listens at the runner's name is not the process its key names"
    // Like this one now, not only when readRunnerKey looked: a process confines itself in place
    // (its pid and start time kept: `unshare` without --fork, a Landlock sandboxer, then exec), and
    // an attacker's review had one checked before it did so, then listen confined. It listened
    // before this connection, and a confined process cannot undo its confinement: what it is now,
    // it still is when it reads.
    : foreignPeer(found.pid, undefined, found.own);
  if (unlike !== undefined) {
    conn.close();
    return { unlike };
  }
  /**
   * Closes the connection unless the returned function is called within the deadline (`late`
   * says it was not).
   */
  let late = false;
  const deadline = () =>
    onTimeout(HANDSHAKE_DEADLINE_MS, () => {
      late = true;
      try {
        conn.close();
      } catch {
        // closed
      }
    });
  // Whatever holds the name must answer in time: one that never does (a runner stuck, or another
  // user's process that took the name of one killed) leaves the command to run by itself.
  const cancel = deadline();
  try {
    await conn.write(
      new TextEncoder().encode(
        JSON.stringify({ v: RUNNER_PROTOCOL, hello: mine, key: await helloKey }) + "\n",
      ),
    );
    // Until the runner proved it saw this process's witness; then a run's whole result is one line
    // (an attacker's review had one over 1 MiB end the run).
    const limit = { max: HANDSHAKE_BYTES };
    const replies = lines(conn, limit);
    const first = await replies.next();
    cancel();
    if (first.done) {
      conn.close();
      // A runner that is stopping, or that dropped this connection as too slow to say hello.
      return { unlike: "the runner closed the connection before it answered this process's hello" };
    }
    const hello = JSON.parse(first.value) as Partial<{ nonce: string; proof: string }>;
    if (
      typeof hello?.nonce !== "string" || typeof hello.proof !== "string" ||
      !sameProof(hello.proof, await proof(key, `runner:${mine}:${hello.nonce}`))
    ) {
      conn.close();
      return undefined;
    }
    const theirs = hello.nonce;
    const nonces = `${mine}:${theirs}`;
    // WebCrypto answers on another thread: what does not depend on another is started at once.
    const marking = peerMark(key, address, theirs);
    // Each sees the other's witness (see ownWitness): no Landlock domain, which /proc does not
    // show, lets a process inspect one outside it. This one first; the runner's proof comes with
    // its first answer, and the request is sealed for whoever sees this process's witness.
    const own = ownWitness();
    const theirWitness = own ? readWitness(found.pid, mine) : undefined;
    if (!own || !theirWitness) {
      conn.close();
      return {
        unlike: own
          ? "this process cannot see the runner's open files (a Landlock domain, or another " +
            "security module's ptrace rule, may confine it)"
          : "this process cannot show its own witness (no FFI permission, or its core size " +
            "limit could not be lowered)",
      };
    }
    const expecting = proof(own, `runner-seen:${nonces}`);
    expecting.catch(() => {});
    const sealing = sealer(own, nonces);
    const seen = await proof(theirWitness, `client-seen:${nonces}`);
    const request = async (body: unknown) => {
      const text = JSON.stringify({
        kind: "sealed",
        pid: Deno.pid,
        umask: Deno.umask(),
        seen,
        sealed: await sealing(JSON.stringify(body)),
      });
      const signed = await proof(key, `client:${nonces}:${text}`);
      return JSON.stringify({ v: RUNNER_PROTOCOL, proof: signed, body: text }) + "\n";
    };
    const mark = await marking;
    // Every read of the runner's /proc/<pid> (its start, its kind, its witness) was of the process
    // this connection reached; and its key is still the one it proved (a runner started since
    // wrote its own: this one is stopping).
    if (!reached?.stillThere() || !sameKey(env, found.record)) {
      conn.close();
      return undefined;
    }
    const ask = async (body: unknown): Promise<RunnerAnswer> => {
      const text = await request(body);
      const cancel = deadline();
      let first: IteratorResult<string>;
      try {
        await conn.write(new TextEncoder().encode(text));
        first = await replies.next();
      } catch {
        first = { done: true, value: undefined };
      } finally {
        cancel();
      }
      if (late) return { declined: "the runner did not answer in time" };
      if (first.done) return { gone: true };
      let reply: RunnerReply & { seen?: unknown };
      try {
        reply = JSON.parse(first.value);
      } catch {
        return { declined: "the runner's answer is not one" };
      }
      if (typeof reply !== "object" || reply === null) {
        return { declined: "the runner's answer is not one" };
      }
      if ("decline" in reply) return { declined: String(reply.decline) };
      if (typeof reply.seen !== "string" || !sameProof(reply.seen, await expecting)) {
        return {
          declined: "the runner could not see this process's open files (a Landlock domain, or " +
            "another security module's ptrace rule, may confine it)",
        };
      }
      limit.max = Infinity;
      return { reply };
    };
    return { conn, mark, request, ask, replies };
  } catch {
    cancel();
    try {
      conn.close();
    } catch {
      // already closed
    }
    return undefined;
  }
}

/**
 * A runner's message to its client, one JSON document per line. Its first answer to a request
 * (`run`, `status`, `ok`) carries its proof that it saw the client's witness (`seen`, see
 * {@linkcode ownWitness}).
 */
export type RunnerReply =
  | { nonce: string; proof: string }
  | { run: true; seen?: string }
  | { o: string }
  | { e: string }
  | { x: number }
  | { decline: string }
  | { status: RunnerStatus; seen?: string }
  | { ok: true; seen?: string };

/** What `capibara runner status` shows. */
export interface RunnerStatus {
  pid: number;
  /** Its abstract socket's name (`@…`) and its key's file. */
  socket: string;
  key: string;
  /** Seconds since it started. */
  uptime: number;
  /** Requests it ran, and requests it sent back to run in the client's own process. */
  served: number;
  declined: number;
  /** Sandboxes set up ahead: started, used by their run, thrown away. */
  prestart: { started: number; used: number; discarded: number };
  /** Seconds without a request after which it exits. */
  idleSeconds: number;
}

/** A client's request. */
export type RunnerRequest =
  | { v: number; hello: string; key?: string }
  | { v: number; proof: string; body: string }
  | {
    kind: "run";
    args: string[];
    cwd: string;
    env: Record<string, string>;
    errIsTerminal: boolean;
    /** The client's pid, and its umask; its name (`comm`) is {@linkcode peerMark} meanwhile. */
    pid: number;
    umask: number;
  }
  | { kind: "status" | "stop"; pid: number; umask: number }
  | {
    /**
     * How every request of the above travels: sealed for whoever sees the client's witness (see
     * {@linkcode seal}), with the client's proof that it saw the runner's (`seen`, see
     * {@linkcode ownWitness}).
     */
    kind: "sealed";
    pid: number;
    umask: number;
    seen: string;
    sealed: string;
  }
  | { signal: "SIGINT" | "SIGTERM" };

/**
 * What a client names its own process (`/proc/self/comm`, 15 bytes) while the runner looks at it:
 * only a thread of that very process can set it, so a client cannot pass for another process
 * (one confined otherwise, say, claiming the pid of one that is not). Deno does not expose a
 * socket's peer credentials to the runner. The client checks its runner (see
 * {@linkcode connectedListener}, {@linkcode listenerHeldBy}) before it wears any mark, and the
 * mark is bound to the runner's key and name, so it cannot be relayed to another runner.
 */
export async function peerMark(
  key: Uint8Array,
  address: string,
  runnerNonce: string,
): Promise<string> {
  return (await proof(key, `mark:${address}:${runnerNonce}`)).slice(0, 15);
}

/**
 * Names this process `mark` (see {@linkcode peerMark}) for the runner to see; returns what puts
 * its name back, or undefined when it cannot be named (no /proc).
 */
export function wearMark(mark: string): (() => void) | undefined {
  let before: string;
  try {
    before = Deno.readTextFileSync("/proc/self/comm").replace(/\n$/, "");
    Deno.writeTextFileSync("/proc/self/comm", mark);
  } catch {
    return undefined;
  }
  return () => {
    try {
      Deno.writeTextFileSync("/proc/self/comm", before);
    } catch {
      // not renamed back: a name only
    }
  };
}

/** Namespaces a client and its runner share. */
const NAMESPACES = ["mnt", "net", "user", "pid", "ipc", "uts", "cgroup"];
/**
 * Lines of `/proc/<pid>/status` a client and its runner share: ids, privileges, filters, and the
 * tracer (a process traced by strace or a ptrace jail may be confined by its tracer).
 */
const STATUS_FIELDS =
  /^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Seccomp_filters|CapInh|CapPrm|CapEff|CapBnd|CapAmb|TracerPid):/;
/**
 * What of a `/proc/<pid>` file a client and its runner share: the cgroups (but a named hierarchy
 * of v1 with no controller, as systemd's `name=systemd`, which only tracks sessions) and the LSM
 * label. Limits: see {@linkcode CONFINING_LIMITS}.
 */
const SAME_FILES: [string, (line: string) => boolean][] = [
  ["cgroup", (line) => !/^\d+:name=[^:]*:/.test(line)],
  ["attr/current", () => true],
];

/** Limits that confine: a client's must be at least the runner's, soft and hard. */
const CONFINING_LIMITS =
  /^Max (cpu time|file size|data size|processes|address space|locked memory)\s{2,}(\S+)\s+(\S+)/;

/** The confining limits of `/proc/<pid>/limits`, by name: [soft, hard] (unlimited: Infinity). */
function confiningLimits(text: string | null): Map<string, [number, number]> | undefined {
  if (text === null) return undefined;
  const limits = new Map<string, [number, number]>();
  const value = (v: string) => v === "unlimited" ? Infinity : Number(v);
  for (const line of text.split("\n")) {
    const match = CONFINING_LIMITS.exec(line);
    if (match) limits.set(match[1]!, [value(match[2]!), value(match[3]!)]);
  }
  return limits;
}

/**
 * Why process `pid` is not one like this process, so that a runner may not act for it (or a client
 * trust it as its runner), or undefined when it is. With `proof` (the runner's side), it must be
 * the process it says it is (its name is the mark only it could set, see `peerMark`), and have the
 * runner's umask. Either way it must be in the namespaces and root folder of this process, with
 * its ids, capabilities, `no_new_privs`, seccomp filters, tracer, cgroups, limits and security
 * label. A process confined by something else (another tool's sandbox, a Landlock domain, which
 * sets `no_new_privs`, a ptrace jail, a cgroup's device or network rules) that can read the key
 * must not get through the runner what its confinement denies it (it runs by itself, confined as
 * it is), nor pose as a runner to the user's other commands.
 *
 * What it cannot see: a Landlock domain (the kernel shows none in /proc; root may make one
 * without `no_new_privs`, then become the user): the runner and its client each prove they saw
 * the other's witness (see {@linkcode ownWitness}), which no domain allows towards a process
 * outside it. A
 * process that can write the runner's folder can write a key of its own there, naming any
 * process; a client trusts a runner only when its connection reached the key's process, which
 * holds the socket at the name (see {@linkcode connectedListener}, {@linkcode listenerHeldBy}).
 * `own` is this process's side, read now unless given (see {@linkcode ProcessState}).
 */
export function foreignPeer(
  pid: number,
  proof?: { mark: string; umask: number },
  own: ProcessState = ownState(),
): string | undefined {
  const proved = () =>
    proof === undefined || procText(`/proc/${pid}/comm`)?.replace(/\n$/, "") === proof.mark;
  if (!proved()) return "it could not show it is the process it says it is";
  // Read between the two looks at its name: all of it is that very process's.
  const theirs = processState(String(pid));
  for (const [i, ns] of NAMESPACES.entries()) {
    // What cannot be read is never the same.
    if (theirs.namespaces[i] === undefined || theirs.namespaces[i] !== own.namespaces[i]) {
      return `it runs in another ${ns} namespace than the runner`;
    }
  }
  if (theirs.root === undefined || theirs.root !== own.root) {
    return "it runs under another root folder";
  }
  if (theirs.status === "" || theirs.status !== own.status) {
    return "it runs with other ids, capabilities or filters than the runner";
  }
  for (const [i, [name]] of SAME_FILES.entries()) {
    if (theirs.files[i] !== own.files[i]) {
      return `its ${name === "attr/current" ? "security label" : name} differs from the runner's`;
    }
  }
  // A limit lower than this process's (a CPU-time or file-size bound put on it) must not be
  // escaped by having this process act for it; a higher one is no confinement of it.
  const theirLimits = theirs.limits;
  const ownLimits = own.limits;
  if (!theirLimits || !ownLimits || theirLimits.size !== ownLimits.size) {
    return "its limits could not be read";
  }
  for (const [name, [soft, hard]] of ownLimits) {
    const limit = theirLimits.get(name);
    if (!limit || limit[0] < soft || limit[1] < hard) return `its limit of ${name} is lower`;
  }
  if (proof && proof.umask !== Deno.umask()) return "its umask differs from the runner's";
  // Checked again, so that a pid reused meanwhile by another process is not taken for it.
  if (!proved()) return "it could not show it is the process it says it is";
  return undefined;
}

/**
 * What {@linkcode foreignPeer} compares of a process, read at once: this one's (see
 * {@linkcode ownState}) and its peer's, by one reader. A client reads its own once and compares
 * its runner twice (before it connects, and once connected); a runner reads its own again for
 * each request, since what confines it may change while it runs.
 */
export interface ProcessState {
  /** The links of {@linkcode NAMESPACES}, in order. */
  namespaces: (string | undefined)[];
  root: string | undefined;
  /** The lines of `status` {@linkcode STATUS_FIELDS} names. */
  status: string;
  /** The lines of {@linkcode SAME_FILES} kept, in order. */
  files: (string | undefined)[];
  limits: Map<string, [number, number]> | undefined;
}

/** This process's {@linkcode ProcessState}, now. */
export function ownState(): ProcessState {
  return processState("self");
}

/** The {@linkcode ProcessState} of `/proc/<proc>` (`self`, or a pid), now. */
function processState(proc: string): ProcessState {
  const at = `/proc/${proc}`;
  return {
    namespaces: NAMESPACES.map((ns) => linkOrUndefined(`${at}/ns/${ns}`)),
    root: linkOrUndefined(`${at}/root`),
    status: statusFields(procText(`${at}/status`)),
    files: SAME_FILES.map(([name, kept]) => keptLines(procText(`${at}/${name}`), kept)),
    limits: confiningLimits(procText(`${at}/limits`)),
  };
}

/** A symlink's target, or undefined when it cannot be read. */
function linkOrUndefined(path: string): string | undefined {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return undefined;
  }
}

/** The lines of a `/proc/<pid>/status` that {@linkcode STATUS_FIELDS} names. */
function statusFields(text: string | null): string {
  return (text ?? "").split("\n").filter((line) => STATUS_FIELDS.test(line)).join("\n");
}

/** The lines of a `/proc/<pid>` file that `kept` keeps (undefined: it could not be read). */
function keptLines(text: string | null, kept: (line: string) => boolean): string | undefined {
  return text?.split("\n").filter(kept).join("\n");
}
