/**
 * The Linux backend: bubblewrap (`bwrap`) namespaces, cgroup limits and a filtering proxy.
 *
 * What a wrapped run looks like:
 *
 * ```text
 * [unshare --mount --propagation private --]                      (only when Capibara is root)
 * /bin/sh -c 'umask; ulimit -n (RLIMIT_NOFILE, at most 4096);
 *             open the seccomp program on fd 9, the fake /etc files on 3-5;
 *             [mount --all --fstab <state dir>/binds (<granted path> → <state dir>/src/N) &]
 *             join the run's cgroup(s); [wait for the binds]; exec "$@"'  (outside, as Capibara)
 *   [setpriv --reuid=<run id> --regid=<run id> --clear-groups]     (only when Capibara is root)
 *   bwrap --unshare-all --unshare-user --disable-userns --cap-drop ALL --die-with-parent
 *         --seccomp 9 …
 *     [prlimit --as --nproc --]                               (only when cgroups do not work)
 *     [/bin/sh -c 'socat TCP-LISTEN:3128 → proxy socket &; wait for it; exec "$@"']  (network)
 *       python -I -S -c landlock.py script|exec …  (the Landlock rule set, see landlock.ts)
 *         the script's command
 * ```
 *
 * The sandbox sees a fresh root: `/usr` and its merged-usr symlinks read-only, a short list of
 * `/etc` files (never `shadow`; fake `passwd`/`group`/`hosts`), a new `/proc` (with `/proc/sys`
 * read-only), a minimal `/dev`, a private `/tmp`, then the policy: `read` paths and the workdir
 * read-only, `write` paths and the temp dir read-write, each `stage` copy (private, under the temp
 * dir) read-write at its output's path (copy-out: the project's own output stays untouched), and
 * `protect` paths read-only again on top.
 * Nothing else of the host exists inside, so no home directory is visible unless granted.
 *
 * Not root inside: when Capibara runs as root, bwrap itself runs as the sandbox uid (a new id of
 * its own per run, see {@linkcode RUN_IDS_START}; 65534 where the user namespace maps too few ids;
 * or `CAPIBARA_SANDBOX_UID`), so the script's uid maps to it, not to root: root-only `/proc` files
 * stay closed and what it creates is not root's. The granted paths are bound first, still as root,
 * in a private mount namespace under the run's state dir (0711), so that uid needs no search
 * permission on their parents; the temp dir and write paths are lent to it for the run and given
 * back after. A read path that only root may read is passed in as a copy that uid may read
 * (bounded), and a workdir only root may read is shown as an empty folder holding the inputs and
 * outputs: the mapping never falls back to root.
 *
 * What the memory bound covers: everything the run's processes allocate, their files on the
 * sandbox's tmpfs, and what their sockets keep queued in the kernel. unix sockets are charged to
 * the memory cgroup (v1 and v2); cgroup v2 charges TCP buffers to `memory.max` too, and cgroup v1
 * gets `memory.kmem.tcp.limit_in_bytes` at the same amount (it counts TCP outside
 * `memory.limit_in_bytes`); the seccomp filter (scripts/seccomp_gen.py) refuses UDP, raw, other
 * inet protocols and netlink sockets, whose buffers cgroup v1 charges nowhere. Under RLIMIT_AS
 * (no memory cgroup) socket buffers are not bounded, as `capibara doctor` says.
 *
 * Why `--cap-drop ALL`: when bwrap is started by root it keeps every capability inside its user
 * namespace, and the script could then remount a read-only bind as read-write or unmount a
 * `protect` overlay (both verified). Why `/proc/sys` read-only: when the sandbox maps to the
 * host's root (no drop possible), bwrap leaves `/proc/sys` writable, so global sysctls would be
 * writable (verified).
 *
 * @module
 */
import { basename, dirname, join, resolve, tmpDir } from "../_path.ts";
import {
  fileIdentity,
  inodeOf,
  isInside,
  lstatOrNull,
  lstatSyncOrNull,
  namesReachable,
  pidNamespace,
  readTextSyncOrNull,
  realPathSyncOrNull,
  realTmpDir,
  removeIfExistsSync,
  RUN_DIR_NAME,
  staleEntries,
  statSyncOrNull,
  sweepDue,
  sweepLeftRunDirs,
  sweepsByPid,
} from "../_fs.ts";
import { recallSync, rememberSync } from "../_json_file.ts";
import { DEFAULT_PATH, which } from "../_which.ts";
import { type CommandSpec, execCommand, type ExecResult, GATE_PASSED } from "../exec.ts";
import { PermissionError, tail, ValidationError } from "../errors.ts";
import type { ProxyConnect, RunningProxy } from "./proxy.ts";
import { bareCommand, inheritsDescriptors, landlockCommand } from "./landlock.ts";
import { privateFolder, runnerFolder, runnerFolders } from "../_runner_folder.ts";
import { SECCOMP_BPF } from "./seccomp_bpf.ts";
import { pinnedFolders } from "./policy.ts";
import { sleep } from "../_timer.ts";
import type {
  Availability,
  SandboxBackend,
  SandboxPolicy,
  SandboxUsage,
  WrapOptions,
  WrappedCommand,
} from "./types.ts";
export type { SandboxUsage } from "./types.ts";

/** Options of {@linkcode BubblewrapBackend}. */
export interface BubblewrapOptions {
  /** The bwrap executable (default: `bwrap` found on PATH). */
  bwrap?: string;
  /** The socat executable (default: `socat` found on PATH). */
  socat?: string;
  /** Upstream connector handed to the network proxy (tests route made-up names to fakes). */
  connect?: ProxyConnect;
  /**
   * A file remembering a successful probe across processes, so a cache-hit run does not start
   * bwrap twice. It is trusted only for the same bwrap binary (path, size, mtime), kernel and uid.
   */
  probeCache?: string;
  /**
   * The host uid (and gid) the sandbox runs as when Capibara runs as root; `0` keeps the sandbox
   * mapped to root. Default: `CAPIBARA_SANDBOX_UID`, else a new id per run from 0x70000000 (else
   * 65534, nobody, where this user namespace does not map that range).
   */
  sandboxUid?: number;
}

/** Who the sandbox is on the host when Capibara runs as root (for `capibara doctor`). */
export interface SandboxIdentity {
  /** The host uid a root run's sandbox maps to (0: root, as when no drop is possible). */
  uid: number;
  /** One line, human-readable. */
  summary: string;
}

/** How one limit is enforced. */
export type LimitMechanism = "cgroup-v2" | "cgroup-v1" | "rlimit" | "none";

/** How the limits are enforced on this machine, for `capibara doctor`. */
export interface LimitsInfo {
  /** Mechanism capping memory. */
  memory: LimitMechanism;
  /** Mechanism capping processes. */
  processes: LimitMechanism;
  /** False when the process limit does not hold (RLIMIT_NPROC does not bind root). */
  processesEffective: boolean;
  /** One line per limit, human-readable. */
  summary: string;
}

/** A command wrapped by bubblewrap, with the limits' account of the run (always present). */
export interface LinuxWrappedCommand extends WrappedCommand {
  /** What the cgroup limits saw; call after the command ended and before `close()`. */
  usage(): Promise<SandboxUsage>;
  /** The host uid the script runs as (what files it creates are owned by, what it may read). */
  hostUid: number;
}

/** Processes of a run that are not the script's: the outer bwrap and bwrap's pid 1 (+ socat). */
const HELPER_PROCESSES = 2;
/** The port socat listens on inside the sandbox. */
const PROXY_PORT = 3128;
/** Where the proxy's socket directory appears inside the sandbox. */
const PROXY_DIR_INSIDE = "/capibara-proxy";
/** The uid/gid the script sees when Capibara runs as root (it maps to the sandbox uid outside). */
const SANDBOX_ID = 1000;
/** The host uid/gid a root run's sandbox maps to unless `CAPIBARA_SANDBOX_UID` says otherwise. */
const DEFAULT_SANDBOX_HOST_ID = 65534;

/**
 * The environment variables the dynamic loader and the C library read to load other code or
 * files (glibc's list of those a set-user-ID program ignores, and every `LD_` one).
 */
const LOADER_VARIABLE =
  /^(LD_\w*|GCONV_PATH|GETCONF_DIR|GLIBC_TUNABLES|HOSTALIASES|LOCALDOMAIN|LOCPATH|MALLOC_\w*|NIS_PATH|NLSPATH|RESOLV_HOST_CONF|RES_OPTIONS|TZDIR)$/;

/** Top-level system paths: bound read-only when directories, recreated when symlinks (merged usr). */
const SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/** The `/etc` entries a script may need; everything else of `/etc` is absent. */
const ETC_ENTRIES = [
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "ld.so.preload",
  "alternatives",
  "localtime",
  "timezone",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "protocols",
  "services",
  "mime.types",
  "locale.alias",
  "locale.conf",
  "default/locale",
  "os-release",
  "lsb-release",
  "debian_version",
  "ssl/certs",
  "ssl/openssl.cnf",
  "ca-certificates",
  "ca-certificates.conf",
  "pki/tls/certs",
  "pki/ca-trust",
  "crypto-policies",
  "fonts",
  "mtab",
];

/**
 * Host files masked (empty) whenever a granted path would expose them.
 * Directories are replaced by an empty read-only tmpfs.
 */
const SENSITIVE_PATHS = [
  "/etc/shadow",
  "/etc/shadow-",
  "/etc/gshadow",
  "/etc/gshadow-",
  "/etc/sudoers",
  "/etc/sudoers.d",
  "/etc/ssl/private",
  "/etc/ssh",
];

/** Paths that may never be granted (nor anything under them but `/`): they would expose the host. */
const FORBIDDEN_GRANTS = ["/proc", "/sys", "/dev"];

/** The file descriptor on which bwrap reads the seccomp program (opened by the launcher). */
const SECCOMP_FD = 9;
/**
 * The descriptors bwrap copies the fake `/etc` files from (`--file`, in the order of
 * {@linkcode fakeEtc}): copies on the sandbox's own tmpfs, so `/proc/self/mountinfo` shows no bind
 * naming the host's temp dir.
 */
const ETC_FDS = [3, 4, 5];
/**
 * The descriptor a held start waits on (see {@linkcode WrapOptions.held}): the launcher moves its
 * standard input (the gate) there and takes `/dev/null` as its input, as an unheld run has.
 */
const HELD_FD = 6;
/**
 * The descriptor a held start's gate writes its sign ({@linkcode GATE_PASSED}) on, opened by the
 * launcher on a file of the run's state folder, and closed by the gate before anything it held
 * back runs: nothing in the sandbox holds it then (bubblewrap's own first process keeps only the
 * standard three), so a script cannot take or forge the sign, where on standard error it could
 * read it back first (and have its run started again).
 */
const SIGN_FD = 7;
/** The gate of a held program that has no Landlock step to wait in (TypeScript under Deno). */
const HELD_SCRIPT = `read -r _ <&${HELD_FD} || exit 125; exec ${HELD_FD}<&-; ` +
  `printf '\\${
    GATE_PASSED.toString(8).padStart(3, "0")
  }' >&${SIGN_FD} || exit 125; exec ${SIGN_FD}>&-; exec "$@"`;

/**
 * The launcher, one shell for the whole chain: sets the sandbox's umask and descriptor limit
 * ({@linkcode sandboxNofile}), opens the seccomp program and the fake /etc files for bwrap, joins
 * the run's cgroups (when any), then becomes the rest (setpriv, then bwrap).
 * `sh -c LAUNCH_SCRIPT capibara-sandbox UMASK NOFILE SECCOMP ETC… [--held SIGN]
 * [--mount MOUNT TABLE] JOIN… -- COMMAND…`. With `--held`, the gate (standard input) moves to
 * {@linkcode HELD_FD}, and the file `SIGN` is opened (made empty) as {@linkcode SIGN_FD}.
 *
 * With `--mount` (a root run, in the private mount namespace `unshare` made), `mount --all` binds
 * every granted source at its point from one table while the shell joins the cgroups. Both are
 * done before the command starts. One `mount` for all binds: one per bind cost ≈ 5 ms each.
 *
 * The shell joins by writing `0` (itself) to each file {@linkcode RunCgroup.joinFiles} names. A
 * pid written to `cgroup.procs` moves a whole process, for which the kernel takes a lock across
 * every cgroup and waits out a read-copy-update grace period first (≈ 5 ms per hierarchy here,
 * 5-19 ms per run); cgroup v1's `tasks` file with `0` moves the writing thread alone, which the
 * kernel does without that lock. The shell has one thread, and everything it becomes and starts
 * after is where it is. cgroup v2 has no such file: there `cgroup.procs` it is.
 */
const LAUNCH_SCRIPT =
  // The mask and the descriptor limit first (builtins: no process), then the files. `ulimit -n`
  // sets the soft and the hard limit both.
  'umask "$1" && ulimit -n "$2" || exit 125; shift 2; ' +
  `exec ${SECCOMP_FD}<"$1" ${ETC_FDS.map((fd, i) => `${fd}<"$${i + 2}"`).join(" ")} ` +
  `|| exit 125; shift ${ETC_FDS.length + 1}; ` +
  `if [ "$1" = --held ]; then exec ${HELD_FD}<&0 </dev/null ${SIGN_FD}>"$2" || exit 125; ` +
  "shift 2; fi; " +
  'binding=; if [ "$1" = --mount ]; then "$2" --all --fstab "$3" & binding=$!; shift 3; fi; ' +
  'while [ "$1" != -- ]; do ' +
  'echo 0 > "$1" || { echo "capibara: cannot join cgroup $1" >&2; exit 125; }; shift; ' +
  "done; shift; " +
  'if [ -n "$binding" ] && ! wait "$binding"; then ' +
  'echo "capibara: cannot bind the granted paths" >&2; exit 125; fi; exec "$@"';

/**
 * The sandbox's file mode mask: this process's (read from `/proc/self/status`: `Deno.umask()`
 * needs a permission the SDK does not ask for; 0022 where it cannot be read), with write for
 * others always masked (a script's seccomp filter keeps it so), in octal for the launcher's
 * `umask`.
 */
function sandboxUmask(): string {
  const own = /^Umask:\s*([0-7]+)$/m.exec(readTextSyncOrNull("/proc/self/status") ?? "")?.[1];
  const mask = own === undefined ? 0o022 : parseInt(own, 8);
  return (mask | 0o002).toString(8).padStart(4, "0");
}

/** The most descriptors a sandboxed process may hold open (RLIMIT_NOFILE, soft and hard). */
export const SANDBOX_NOFILE = 4096;

/**
 * The sandbox's RLIMIT_NOFILE, soft and hard: {@linkcode SANDBOX_NOFILE}, or this process's hard
 * limit where it is lower (the launcher lowers it, never raises it). Inherited, it would be
 * whatever Capibara's is (20,000 and more on some machines) for each of the run's processes: as
 * many sockets, pipes and descriptors held, and descriptor tables as large for the run's
 * watches to read.
 */
function sandboxNofile(): string {
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(
    readTextSyncOrNull("/proc/self/limits") ?? "",
  )?.[1];
  const value = hard === undefined || hard === "unlimited" ? Infinity : Number(hard);
  return String(Number.isFinite(value) ? Math.min(SANDBOX_NOFILE, value) : SANDBOX_NOFILE);
}

/** What the launcher opens for bwrap and joins, and what it becomes. */
export interface Launch {
  seccompFile: string;
  /** The fake /etc files (ETC_FDS, in order). */
  etcFiles: readonly string[];
  /** The files the launcher writes itself into (see {@linkcode RunCgroup.joinFiles}). */
  joinFiles: readonly string[];
  /** A root run's drop, with its table of binds. */
  drop?: { drop: Drop; table: string };
  /**
   * A held start: standard input is the gate, moved to {@linkcode HELD_FD}; its sign is written
   * into this file, through {@linkcode SIGN_FD}.
   */
  held?: { signFile: string };
  /** bwrap and its arguments. */
  command: readonly string[];
}

/**
 * The launcher's command. A root run starts in a private mount namespace (`unshare`), binds the
 * granted sources there, and drops to the sandbox uid (`setpriv`) right before bwrap.
 */
export function launchCommand(launch: Launch): { program: string; args: string[] } {
  const shell = [
    "/bin/sh",
    "-c",
    LAUNCH_SCRIPT,
    "capibara-sandbox",
    sandboxUmask(),
    sandboxNofile(),
    launch.seccompFile,
    ...launch.etcFiles,
    ...launch.held ? ["--held", launch.held.signFile] : [],
  ];
  if (!launch.drop) {
    const [program, ...args] = [...shell, ...launch.joinFiles, "--", ...launch.command];
    return { program: program!, args };
  }
  const { drop, table } = launch.drop;
  return {
    program: drop.unshare,
    args: [
      "--mount",
      "--propagation",
      "private",
      "--",
      ...shell,
      "--mount",
      drop.mount,
      table,
      ...launch.joinFiles,
      "--",
      drop.setpriv,
      `--reuid=${drop.uid}`,
      `--regid=${drop.gid}`,
      "--clear-groups",
      "--",
      ...launch.command,
    ],
  };
}

/** The compiled seccomp program for this machine's architecture, or undefined when none exists. */
export function seccompProgram(arch: string = Deno.build.arch): Uint8Array | undefined {
  const encoded = SECCOMP_BPF[arch];
  if (encoded === undefined) return undefined;
  // One native call (≈ 0.04 ms) where mapping each character took ≈ 2 ms in a cold process.
  return Uint8Array.fromBase64(encoded);
}

/** How /proc/net/tcp spells 127.0.0.1:PROXY_PORT. */
const PROXY_LOCAL_ADDRESS = "0100007F:" + PROXY_PORT.toString(16).toUpperCase().padStart(4, "0");

/** Starts socat towards the proxy socket, waits until it listens, then becomes the script. */
const PROXY_SCRIPT = `socat="$1"; shift
"$socat" TCP-LISTEN:${PROXY_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${PROXY_DIR_INSIDE}/proxy.sock 2>/dev/null ${HELD_FD}<&- ${SIGN_FD}>&- &
listening() {
  while read -r _ local _ state _; do
    if [ "$local" = ${PROXY_LOCAL_ADDRESS} ] && [ "$state" = 0A ]; then return 0; fi
  done < /proc/net/tcp
  return 1
}
i=0
until listening; do
  i=$((i + 1))
  if [ "$i" -gt 500 ]; then echo "capibara: the network proxy did not start" >&2; exit 125; fi
  sleep 0.01
done
unset socat i
exec "$@"`;

/** Features of the installed bwrap, read from `--help`. */
interface BwrapFeatures {
  disableUserns: boolean;
  size: boolean;
  remountRo: boolean;
}

/**
 * How a root run drops to the sandbox uid: in a private mount namespace (still root), the granted
 * paths are bound under the run's state dir, so the sandbox uid needs no search permission on
 * their parents (`/root`, a 0700 temp dir); then `setpriv` becomes the sandbox uid and starts
 * bwrap, whose user namespace maps the script's uid to it.
 */
export interface Drop {
  uid: number;
  gid: number;
  unshare: string;
  setpriv: string;
  mount: string;
}

/** What the probe found: how to start bwrap here. */
interface Probe {
  availability: Availability;
  bwrap?: string;
  features?: BwrapFeatures;
  /** Whether `--unshare-user` (and so `--disable-userns`, `--uid`) works. */
  userns: boolean;
  /** How a root run drops to the sandbox uid; absent when it does not work here. */
  drop?: Drop;
  /** Why a root run cannot drop (shown by `capibara doctor`). */
  dropError?: string;
  /**
   * Whether the drop was tried and failed (not for want of its programs, which the probe's key
   * names): such a probe is not remembered, so a cause that goes (a temp dir that uid could not
   * enter) never leaves later root runs undropped.
   */
  dropFailed?: boolean;
}

/** Where per-run cgroups are created. */
interface CgroupPlan {
  v2?: string;
  v1Pids?: string;
  v1Memory?: string;
  /** Whether v1's memory cgroups here take `memory.kmem.tcp.limit_in_bytes` (TCP's own bound). */
  v1MemoryTcp?: boolean;
  prlimit?: string;
  info: LimitsInfo;
}

/** The cgroup(s) of one run. */
interface RunCgroup {
  /**
   * The files the first process writes itself into: each v1 hierarchy's `tasks` (its one thread:
   * see {@linkcode LAUNCH_SCRIPT}), or v2's `cgroup.procs`.
   */
  joinFiles: string[];
  usage(): Promise<SandboxUsage>;
  destroy(): Promise<void>;
  /** `destroy()` for a process that is exiting. */
  destroySync(): void;
}

let runCounter = 0;

function depth(path: string): number {
  return path.split("/").filter(Boolean).length;
}

/** Bytes written as themselves in a mount table; every other byte is an octal escape (`\040`). */
const FSTAB_PLAIN = /^[0-9A-Za-z/._+,:@=~%-]$/;

/** A path as a field of a mount table: libmount reads `\ooo` back as the byte it names. */
function fstabField(path: string): string {
  let field = "";
  for (const byte of new TextEncoder().encode(path)) {
    const char = String.fromCharCode(byte);
    field += byte < 0x80 && FSTAB_PLAIN.test(char)
      ? char
      : "\\" + byte.toString(8).padStart(3, "0");
  }
  return field;
}

/** The mount table that binds each source at its point, in order (`mount --all --fstab`). */
export function bindTable(mounts: readonly [string, string][]): string {
  return mounts.map(([source, point]) =>
    `${fstabField(source)} ${fstabField(point)} none bind 0 0\n`
  )
    .join("");
}

/**
 * The sandbox uid asked for: the option, else `CAPIBARA_SANDBOX_UID`; undefined: none asked.
 *
 * @throws {ValidationError} when `CAPIBARA_SANDBOX_UID` is set but is no uid.
 */
function sandboxUidOf(option?: number): number | undefined {
  if (option !== undefined) return option;
  let value: string | undefined;
  try {
    value = Deno.env.get("CAPIBARA_SANDBOX_UID");
  } catch {
    value = undefined;
  }
  if (value === undefined || value.trim() === "") return undefined;
  const uid = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  // A security setting: one that cannot be read is refused, never replaced by the default.
  if (!(uid >= 0 && uid < 2 ** 32 - 1)) {
    throw new ValidationError(`Invalid CAPIBARA_SANDBOX_UID "${value.slice(0, 40)}"`, {
      hint: "Give the numeric host uid a root run's sandbox maps to (e.g. 65534), or unset it " +
        "for a new uid per run",
    });
  }
  return uid;
}

/**
 * The host ids a root run's sandbox takes one of, a new one per run, unless
 * `CAPIBARA_SANDBOX_UID` names one: no other process runs as it, so none can read the run's
 * environment or memory through `/proc`, nor change its temp dir, context or lent folders while
 * it lives. Far above the ids of users, of systemd's dynamic users and of the ranges container
 * managers hand out by default.
 */
const RUN_IDS_START = 0x70000000;
/** How many ids the range holds. */
const RUN_IDS_COUNT = 1 << 20;

/**
 * Whether this process's user namespace maps the whole range, uids and gids (a container may map
 * only 65536 ids): read once.
 */
function runIdsMapped(): boolean {
  return runIdsMappedMemo ??= ["uid_map", "gid_map"].every((file) => {
    const text = readTextSyncOrNull(`/proc/self/${file}`);
    return text !== null && text.split("\n").some((line) => {
      const [inside, , count] = line.trim().split(/\s+/).map(Number);
      return inside !== undefined && count !== undefined && inside <= RUN_IDS_START &&
        RUN_IDS_START + RUN_IDS_COUNT <= inside + count;
    });
  }) && runIdsFree({
    passwd: readTextSyncOrNull("/etc/passwd") ?? "",
    group: readTextSyncOrNull("/etc/group") ?? "",
    subuid: readTextSyncOrNull("/etc/subuid") ?? "",
    subgid: readTextSyncOrNull("/etc/subgid") ?? "",
  });
}
let runIdsMappedMemo: boolean | undefined;

/**
 * Whether no id of the run ids' range is this host's: a user or group of its own files, nor a
 * subordinate range handed to a user's containers (`/etc/subuid`, `/etc/subgid`). Ids a directory
 * service (SSSD, winbind) hands out are not listed there: pin `CAPIBARA_SANDBOX_UID` where its
 * ranges reach 0x70000000.
 */
export function runIdsFree(
  files: { passwd: string; group: string; subuid: string; subgid: string },
): boolean {
  const end = RUN_IDS_START + RUN_IDS_COUNT;
  const overlaps = (start: number, count: number) =>
    Number.isFinite(start) && Number.isFinite(count) && start < end &&
    RUN_IDS_START < start + count;
  for (const text of [files.passwd, files.group]) {
    for (const line of text.split("\n")) {
      const id = Number(line.split(":")[2]);
      if (line.trim() !== "" && overlaps(id, 1)) return false;
    }
  }
  for (const text of [files.subuid, files.subgid]) {
    for (const line of text.split("\n")) {
      const [, start, count] = line.trim().split(":");
      if (line.trim() !== "" && overlaps(Number(start), Number(count))) return false;
    }
  }
  return true;
}

/** A new id of the range for one run. */
function newRunId(): number {
  return RUN_IDS_START + (crypto.getRandomValues(new Uint32Array(1))[0]! % RUN_IDS_COUNT);
}

/**
 * Whether the sandbox uid may read `path` itself (its own mode bits; parents are bound away), or
 * with `needed`, do that (`0o1`: search a folder).
 */
function readableBy(path: string, uid: number, gid: number, needed?: number): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return true; // absent: nothing is bound, nothing to refuse
  }
  const mode = info.mode ?? 0;
  const bits = info.uid === uid ? mode >> 6 : info.gid === gid ? mode >> 3 : mode;
  const want = needed ?? (info.isDirectory ? 0o5 : 0o4);
  return (bits & want) === want;
}

/**
 * Owners of a tree's entries (symlinks left alone), to give them back after the run, each with the
 * file it was (`inode`: device and inode): a name the run gave to another file does not take that
 * name's owner with it.
 */
/** The owners a lent tree's entries had, by path, with their file (device:inode) and mode. */
export type Owners = Map<string, { uid: number; gid: number; inode?: string; mode?: number }>;

/**
 * The owners of a tree's entries (symlinks left alone), before it is lent to `uid`, for the run's
 * journal (see {@linkcode writeJournal}); {@linkcode lendTree} records them again as it lends.
 */
function ownersOf(root: string, uid: number, owners: Owners): void {
  const info = lstatSyncOrNull(root);
  if (!info || info.isSymlink) return;
  owners.set(root, ownerToRecord(info, uid));
  if (!info.isDirectory) return;
  if (openToOthers(info)) {
    throw new LendError(`${root} is a folder others may write to (mode ${modeOf(info)})`);
  }
  for (const entry of Deno.readDirSync(root)) ownersOf(`${root}/${entry.name}`, uid, owners);
}

/** Why a tree cannot be lent and given back safely (see {@linkcode checkLendable}). */
class LendError extends Error {}

/** A folder's permission bits, in octal. */
function modeOf(info: Deno.FileInfo): string {
  return ((info.mode ?? 0) % 0o10000).toString(8).padStart(4, "0");
}

/** Whether a folder lets its group or everyone change its entries (and is not sticky). */
function openToOthers(info: Deno.FileInfo): boolean {
  const mode = info.mode ?? 0;
  return (mode & 0o022) !== 0 && (mode & 0o1000) === 0;
}

/**
 * Refuses to lend a tree that someone else than root could change while it is lent or given back:
 * a folder on its way that is not root's, or that others may write to (a sticky one, such as
 * `/tmp`, only when the entry on the way is root's, or `madeByRoot`: the tree's top, which root
 * is about to make); a folder in it that others may write to is refused by {@linkcode ownersOf}.
 * Otherwise the owner of such a folder could swap the tree, or a folder in it, for a symlink while
 * Capibara gives entries back through it, and have a file of root's given to them.
 *
 * @throws {LendError} naming the folder
 */
function checkLendable(root: string, madeByRoot = false): void {
  let entry = root;
  for (let dir = dirname(root);; dir = dirname(dir)) {
    const info = lstatSyncOrNull(dir);
    if (!info?.isDirectory) throw new LendError(`${dir} is not a folder Capibara can check`);
    if (info.uid !== 0) throw new LendError(`${dir} belongs to uid ${info.uid}`);
    const mode = info.mode ?? 0;
    if ((mode & 0o022) !== 0) {
      const sticky = (mode & 0o1000) !== 0;
      const rootsEntry = (entry === root && madeByRoot) || lstatSyncOrNull(entry)?.uid === 0;
      if (!sticky || !rootsEntry) {
        throw new LendError(`${dir} is a folder others may write to (mode ${modeOf(info)})`);
      }
    }
    if (dirname(dir) === dir) return;
    entry = dir;
  }
}

/** Capibara's own uid and gid. */
function ownIds(): { uid: number; gid: number } {
  return { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
}

/** The owner to give an entry back to: an entry already `uid`'s (a concurrent run lent it), ours. */
function ownerToRecord(
  info: Deno.FileInfo,
  uid: number,
): { uid: number; gid: number; inode: string; mode: number } {
  const owner = info.uid === uid ? ownIds() : { uid: info.uid ?? 0, gid: info.gid ?? 0 };
  return { ...owner, inode: inodeOf(info), mode: (info.mode ?? 0) & 0o7777 };
}

/**
 * Makes a tree the sandbox uid's, remembering the owners it had, so that nothing stays the sandbox
 * uid's once given back. Top-down, each folder lent before it is listed: once a folder is the
 * sandbox uid's, its former owner can no longer swap an entry in it for a symlink, and no path is
 * ever used below a folder not yet lent. Symlinks are not followed.
 */
function lendTree(
  fs: NodeFs | undefined,
  root: string,
  uid: number,
  gid: number,
  owners: Owners,
): void {
  const info = lstatSyncOrNull(root);
  if (!info || info.isSymlink) return;
  owners.set(root, ownerToRecord(info, uid));
  if (!fs) {
    // Given no Node calls: the run's own temp dir (see the caller).
    // A tree only Capibara has written (the run's own temp dir, root's, 0700): lent from the
    // bottom up, each entry while the folder holding it is still root's alone, so that nothing
    // lent yet (the sandbox uid may be shared: nobody, or one pinned) can swap a link in anywhere
    // on the way of a chown, which follows links.
    if (info.isDirectory) {
      for (const entry of Deno.readDirSync(root)) {
        lendTree(fs, `${root}/${entry.name}`, uid, gid, owners);
      }
    }
    Deno.chownSync(root, uid, gid);
    return;
  }
  // The very file looked at, never one a link swapped in meanwhile leads to.
  if (!chownSame(fs, root, info, uid, gid)) {
    throw new LendError(`${root} changed while it was being lent`);
  }
  if (!info.isDirectory) return;
  // Open to others since it was checked (a folder renamed in meanwhile): they could swap what is
  // in it while it is lent and given back.
  if (openToOthers(info)) {
    throw new LendError(`${root} is a folder others may write to (mode ${modeOf(info)})`);
  }
  for (const entry of Deno.readDirSync(root)) {
    lendTree(fs, `${root}/${entry.name}`, uid, gid, owners);
  }
}

/** Node's file calls: descriptors by number, numeric open flags (`O_PATH`). */
export type NodeFs = typeof import("node:fs");

/**
 * Changes the owner of the file at `path` without following a link (`lchown`): a symlink another
 * user swaps in for it meanwhile gets the owner, never what it leads to. What is there after,
 * when it is still the file `info` describes (device and inode); else null.
 */
function chownSame(
  fs: NodeFs,
  path: string,
  info: Deno.FileInfo,
  uid: number,
  gid: number,
): Deno.FileInfo | null {
  try {
    fs.lchownSync(path, uid, gid);
  } catch {
    return null;
  }
  return stillThere(path, info);
}

/** What is at `path` now, when it is still the file `info` describes (not a link); else null. */
function stillThere(path: string, info: Deno.FileInfo): Deno.FileInfo | null {
  const now = lstatSyncOrNull(path);
  return now !== null && !now.isSymlink && inodeOf(now) === inodeOf(info) ? now : null;
}

/**
 * Gives a lent tree back: each entry to the owner it had, what the run created to the owner of
 * its nearest folder that had one. Runs after every process of the run is gone; symlinks are not
 * followed. In two passes, so that a former owner cannot swap a folder for a symlink while the
 * entries in it are given back through it: first the whole tree becomes Capibara's own, top-down,
 * each folder before it is listed; then each entry is given back, children before their folder,
 * so that every folder on the way is still Capibara's when an entry in it is given back. (A folder
 * writable by others stays open to them during the run, as it was before.)
 */
export function returnTree(
  fs: NodeFs | undefined,
  root: string,
  owners: Owners,
  lentTo: number | undefined,
): void {
  const rootOwner = owners.get(root);
  if (!rootOwner || lentTo === undefined) return;
  const self = ownIds();
  /** Each lent file's owner and name, by the file (its device and inode). */
  const byInode = new Map<string, { uid: number; gid: number; path: string }>();
  for (const [path, { uid, gid, inode }] of owners) {
    if (inode) byInode.set(inode, { uid, gid, path });
  }
  /**
   * Whom an entry goes back to. Its recorded owner when it is the very file recorded at its name.
   * A file recorded under another name: root's or Capibara's stays so (a name a script gave it,
   * `ln run.sh alice.txt`, hands it to nobody); another owner's only when it is a second name of a
   * file still at its recorded one (a hard link; an inode is only "the same file" while that file
   * exists: a file deleted during the run leaves its number to a new one). Anything else is new,
   * and goes to the owner of its nearest folder that had one.
   */
  const ownerOf = (
    path: string,
    info: Deno.FileInfo,
    inherited: { uid: number; gid: number },
  ): { uid: number; gid: number } => {
    const inode = inodeOf(info);
    const recorded = owners.get(path);
    if (recorded && (recorded.inode === undefined || recorded.inode === inode)) return recorded;
    const file = byInode.get(inode);
    if (file && (file.uid === self.uid || file.uid === 0)) return { uid: file.uid, gid: file.gid };
    if (file && (info.nlink ?? 1) > 1) {
      const there = lstatSyncOrNull(file.path);
      if (there && !there.isSymlink && inodeOf(there) === inode) return file;
    }
    return inherited;
  };
  /** Each entry taken, top-down, with the owner it goes back to. */
  const order: [string, { uid: number; gid: number }][] = [];
  const take = (path: string, inherited: { uid: number; gid: number }) => {
    const info = lstatSyncOrNull(path);
    if (!info || info.isSymlink) return;
    // Not the sandbox's: another user's, put here through a folder the run opened to them (a
    // hard link to a file of theirs, a folder they own). Theirs it stays, and is not gone through.
    if (info.uid !== lentTo) return;
    // The top only as the very folder lent: a name freed since (a killed run's temp dir aged out
    // of /tmp) and made again is another's folder, never taken, whatever its number.
    if (path === root && (rootOwner.inode === undefined || rootOwner.inode !== inodeOf(info))) {
      return;
    }
    const to = ownerOf(path, info, inherited);
    const taken = takeBack(fs, path, info, self);
    if (!taken) return; // gone, swapped, or not ours to give back
    order.push([path, to]);
    // Its mode once taken: the lent uid could still change it up to the chown (a folder opened to
    // everyone after the look above would stay open while its entries are given back).
    const mode = (taken.mode ?? 0) & 0o7777;
    if (!info.isDirectory) {
      // Write for every user (a script that cleared its umask): taken off what the run leaves,
      // here, while the folder it is in is Capibara's own (see closeToOthers in policy.ts). The
      // chown above took any set-user-ID or set-group-ID bit off: never given back.
      if ((mode & 0o002) !== 0) {
        try {
          Deno.chmodSync(path, mode & 0o775);
        } catch {
          // gone meanwhile
        }
      }
      return;
    }
    // A folder the run opened to its group or everyone (none was when lent: see ownersOf) is
    // closed before it is listed: while entries are given back through it, no other user may
    // swap one for a link that a chown would follow. One the run made loses a setgid bit too.
    const closing = owners.has(path) ? 0o022 : 0o2022;
    if ((mode & closing) !== 0) {
      try {
        Deno.chmodSync(path, mode & ~closing);
      } catch {
        return;
      }
    }
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(path)];
    } catch {
      return;
    }
    // An entry that cannot be reached by its name (see namesReachable) cannot be given back: what
    // it holds stays the sandbox uid's, in a folder no user but its owner may enter.
    if (!namesReachable(path, entries.map((entry) => entry.name))) {
      try {
        Deno.chmodSync(path, (mode & ~closing) & ~0o077);
      } catch {
        // gone meanwhile
      }
    }
    for (const entry of entries) take(`${path}/${entry.name}`, to);
  };
  take(root, rootOwner);
  for (const [path, to] of order.reverse()) {
    const info = lstatSyncOrNull(path);
    if (!info || info.isSymlink) continue;
    // A shared folder (sticky, open to others, as /tmp is) was closed while its entries were given
    // back: it opens again as it was, once they are, while the folder holding it is still ours.
    const recorded = owners.get(path);
    const shared = info.isDirectory && recorded?.mode !== undefined &&
      recorded.inode === inodeOf(info) && (recorded.mode & 0o1000) !== 0 &&
      (recorded.mode & 0o022) !== 0;
    // Taken back already (a tree of Capibara's own, the common case): nothing more to give.
    if (to.uid !== self.uid || to.gid !== self.gid) {
      try {
        Deno.chownSync(path, to.uid, to.gid);
      } catch {
        continue; // gone meanwhile
      }
    }
    if (shared) {
      try {
        Deno.chmodSync(path, recorded!.mode!);
      } catch {
        // gone meanwhile
      }
    }
  }
}

/**
 * Makes the file at `path`, as `info` found it, Capibara's own again: by Node's `lchown`, which
 * never follows a link swapped in for it, only while it is still that file. Without Node's
 * calls (the close of a run that lent only its own temp dir, lent to a uid of that run's alone
 * whose every process is gone: nobody is left to swap a name in it; see `wrap`), by path. What it
 * is once taken (its mode can no longer change but by Capibara), or null: gone, swapped, not ours.
 */
function takeBack(
  fs: NodeFs | undefined,
  path: string,
  info: Deno.FileInfo,
  self: { uid: number; gid: number },
): Deno.FileInfo | null {
  if (fs) return chownSame(fs, path, info, self.uid, self.gid);
  try {
    Deno.chownSync(path, self.uid, self.gid);
  } catch {
    return null;
  }
  return stillThere(path, info);
}

/**
 * Bytes and files of the copies a root run makes of read paths closed to the sandbox uid: past
 * them the run is refused (a large closed folder is the user's to open, not Capibara's to copy).
 */
const MAX_COPY_BYTES = 64 * 1024 ** 2;
const MAX_COPY_FILES = 1_000;

/** What the copies of one run used so far. */
interface CopyBudget {
  bytes: number;
  files: number;
}

function closedError(path: string, uid: number, why: string): PermissionError {
  return new PermissionError(
    `Cannot let the sandbox read "${path}": only root may read it, and the sandbox runs as ` +
      `uid ${uid}, never as root (${why})`,
    {
      hint: `Make it readable to others (chmod o+rX "${path}"), or move what the script needs ` +
        "into a folder others may read",
      details: { path },
    },
  );
}

/**
 * Copies `source` (a regular file, or a folder of regular files, folders and symlinks) to
 * `target`, readable by `drop`'s uid only. Each file is opened first and must be the regular file
 * `lstat` finds at its path, so a symlink swapped in meanwhile is never followed on the host; a
 * symlink inside a folder is copied as a symlink, which only the sandbox resolves, in its own view
 * (a venv's `bin/python`).
 *
 * @throws {PermissionError} past {@linkcode MAX_COPY_BYTES} or {@linkcode MAX_COPY_FILES}.
 */
async function copyClosed(
  source: string,
  target: string,
  drop: Drop,
  budget: CopyBudget,
  shown: string,
): Promise<void> {
  const info = await lstatOrNull(source);
  if (!info) return;
  if (++budget.files > MAX_COPY_FILES) {
    throw closedError(shown, drop.uid, `more than ${MAX_COPY_FILES} files to copy`);
  }
  if (info.isSymlink) {
    await Deno.symlink(await Deno.readLink(source), target);
    return;
  }
  if (info.isDirectory) {
    await Deno.mkdir(target, { mode: 0o500 });
    for await (const entry of Deno.readDir(source)) {
      await copyClosed(`${source}/${entry.name}`, `${target}/${entry.name}`, drop, budget, shown);
    }
  } else if (info.isFile) {
    using file = await Deno.open(source, { read: true });
    const opened = await file.stat();
    if (!opened.isFile || opened.ino !== info.ino || opened.dev !== info.dev) {
      throw closedError(shown, drop.uid, "it changed while it was copied");
    }
    budget.bytes += opened.size;
    if (budget.bytes > MAX_COPY_BYTES) {
      throw closedError(shown, drop.uid, `more than ${MAX_COPY_BYTES >> 20} MiB to copy`);
    }
    using out = await Deno.open(target, { write: true, createNew: true, mode: 0o400 });
    // Only the size it had when opened: a file growing meanwhile is cut there.
    let left = opened.size;
    const buffer = new Uint8Array(1 << 16);
    while (left > 0) {
      const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
      if (n === null) break;
      let written = 0;
      while (written < n) written += await out.write(buffer.subarray(written, n));
      left -= n;
    }
  } else {
    return; // devices, FIFOs, sockets: nothing to read
  }
  await Deno.chown(target, drop.uid, drop.gid);
  await Deno.chmod(target, info.isDirectory ? 0o500 : 0o400);
}

/**
 * What the sandbox shows in place of what it may not see. The workdir is shown as an empty folder
 * holding only what the run is given inside it (the inputs, the entry, the outputs, the grants):
 * a script reads the inputs its context names, never the rest of the project (its `.env`, its
 * `.git/config`), unless a read or write grant holds the workdir. A root run never maps to root:
 * each read path the sandbox uid may not read itself (its own mode bits; parents are bound away)
 * is copied under the state dir for it, within {@linkcode MAX_COPY_BYTES}, and a workdir granted
 * whole that the uid may not read, or whose folders it may not search down to a bind inside (an
 * input under a 0700 folder), is shown empty too. Fills `substitutes` (host path → what is bound
 * there).
 */
async function substituteClosed(
  policy: SandboxPolicy,
  drop: Drop | undefined,
  stateDir: string,
  substitutes: Map<string, string>,
): Promise<void> {
  const budget: CopyBudget = { bytes: 0, files: 0 };
  const copies = `${stateDir}/copies`;
  if (drop) {
    for (const path of policy.read) {
      const real = realPathSyncOrNull(path);
      if (real === null || readableBy(real, drop.uid, drop.gid)) continue;
      // A copy shows all it holds: no mask covers a hidden path inside it.
      refuseHidden(path, true);
      if (substitutes.size === 0) Deno.mkdirSync(copies, { mode: 0o711 });
      const copy = `${copies}/${substitutes.size}`;
      await copyClosed(real, copy, drop, budget, path);
      substitutes.set(path, copy);
    }
  }
  const workdir = realPathSyncOrNull(policy.workdir);
  if (workdir === null) return;
  // Every bind inside the workdir needs its mount point reached through the workdir's folders.
  const inside = [
    ...policy.read.map((path) => ({ path, source: substitutes.get(path) ?? path })),
    ...[...policy.write, policy.tmpDir].map((path) => ({ path, source: path })),
    ...(policy.stage ?? []).map(({ source, target }) => ({ path: target, source })),
  ].filter(({ path }) => isInside(path, policy.workdir) && path !== policy.workdir);
  const granted = [...policy.read, ...policy.write, policy.tmpDir].some((path) =>
    isInside(policy.workdir, path)
  );
  let closed = !granted || (drop !== undefined && !readableBy(workdir, drop.uid, drop.gid));
  for (const { path } of inside) {
    if (closed || !drop) break;
    for (let dir = dirname(path); dir !== policy.workdir && isInside(dir, policy.workdir);) {
      if (!readableBy(dir, drop.uid, drop.gid, 0o1)) {
        closed = true;
        break;
      }
      dir = dirname(dir);
    }
  }
  // Granted whole and copied for the sandbox's uid (a root run's 0700 workdir): the copy shows it.
  if (!closed || substitutes.has(policy.workdir)) return;
  // In a folder of its own closed to every other user: a root run's state dir may be passed
  // through (0711), and the skeleton's names are the project's (an input's file name). A root
  // run binds it from here as root (see `via`); the sandbox sees only the bind.
  const hidden = `${stateDir}/skeleton`;
  Deno.mkdirSync(hidden, { mode: 0o700 });
  Deno.chmodSync(hidden, 0o700);
  const empty = `${hidden}/workdir`;
  // Open to the sandbox's uid whatever the umask (0077 made them 0700: no mount point reached).
  const openFolder = (dir: string) => {
    if (lstatSyncOrNull(dir)) return;
    openFolder(dirname(dir));
    Deno.mkdirSync(dir);
    Deno.chmodSync(dir, 0o755);
  };
  openFolder(empty);
  // It is bound read-only: every bind inside it needs its mount point made here first.
  for (const { path, source } of inside) {
    const point = empty + path.slice(policy.workdir.length);
    const info = statSyncOrNull(source);
    if (!info) continue;
    openFolder(info.isDirectory ? point : dirname(point));
    if (!info.isDirectory) Deno.writeFileSync(point, new Uint8Array(), { create: true });
  }
  substitutes.set(policy.workdir, empty);
}

/** `/dev/shm` when it is the usual tmpfs (world writable and sticky, owned by root). */
function sharedMemoryFolder(): string | undefined {
  const info = lstatSyncOrNull("/dev/shm");
  const sticky = info?.isDirectory && info.uid === 0 && ((info.mode ?? 0) & 0o1777) === 0o1777;
  return sticky ? "/dev/shm" : undefined;
}

/** Whether `uid` may pass through `folder` (a real path) and every folder above it. */
function enterableBy(folder: string, uid: number, gid: number): boolean {
  for (let path = folder;; path = dirname(path)) {
    if (!readableBy(path, uid, gid, 0o1)) return false;
    if (path === "/") return true;
  }
}

/** Whether no one but root can change `folder` (a real path) or a folder above it. */
function rootOnly(folder: string): boolean {
  try {
    // As for a tree root lends: a folder of root's made in it (the state dir) stays root's.
    checkLendable(join(folder, "capibara-sbx"), true);
    return true;
  } catch (error) {
    if (error instanceof LendError) return false;
    throw error;
  }
}

/**
 * Where a run's state dir (its seccomp program, fake /etc files, mount points, copies of closed
 * read paths) is made, as a resolved path: `TMPDIR` when it is set, else `/dev/shm` when it is the
 * usual tmpfs, else the system's temp dir. Its dozen folders cost ≈ 0.5-1.5 ms each to remove on
 * a disk (ext4 here: ≈ 10-15 ms a run) and microseconds on a tmpfs.
 *
 * A root run's sandbox reads its mount points there as the uid it drops to, and root writes there
 * what sets the sandbox up (its binds, seccomp program, /etc files): that uid must be able to pass
 * through the folder, and no one but root to change it or a folder above it (a sticky one aside,
 * such as `/tmp`). A `TMPDIR` that fails either (a private one, mode 0700, as a CI job's often is)
 * gives way to `/dev/shm`, else `/tmp`.
 *
 * @throws {ValidationError} when `TMPDIR` leads to no folder
 * @throws {PermissionError} when a root run's uid can use none of them
 */
function stateDirBase(dropTo?: { uid: number; gid: number }): string {
  const shm = sharedMemoryFolder();
  const chosen = Deno.env.get("TMPDIR") ? realTmpDir() : shm ?? realTmpDir();
  if (!dropTo) return chosen;
  for (const candidate of [chosen, shm, "/tmp"]) {
    const real = candidate === undefined ? null : realPathSyncOrNull(candidate);
    if (real !== null && enterableBy(real, dropTo.uid, dropTo.gid) && rootOnly(real)) return real;
  }
  throw new PermissionError(
    `A root run's sandbox cannot keep its set-up in the temp dir "${chosen}", nor /dev/shm or ` +
      `/tmp: its uid (${dropTo.uid}) must pass through it, and only root may change it or a ` +
      "folder above it",
    {
      hint: "Set TMPDIR to a folder of root's that others may pass through (mode 0711 or 0755, " +
        "and so every folder above it)",
    },
  );
}

/**
 * The folders the sweep of what a killed Capibara left looks in: the state dirs' `base`, and a
 * `TMPDIR` that is set, where a root run's state dir was made before it gave way to `base`. Not
 * `/tmp` itself unless it is one of them: listing a shared temp folder of a thousand entries takes
 * milliseconds of a hit's start.
 */
function stateDirFolders(base: string): string[] {
  const set = Deno.env.get("TMPDIR") ? realPathSyncOrNull(tmpDir()) : null;
  return set === null || set === base ? [base] : [base, set];
}

/** Runs a probe command (bwrap) with a cleared environment and a time limit. */
function probeRun(program: string, args: string[]): Promise<ExecResult> {
  return execCommand({ program, args, env: { PATH: DEFAULT_PATH }, cwd: "/" }, {
    timeoutMs: 10_000,
  });
}

/** Read-only binds of `/usr` and the merged-usr links, shared by the probe and every run. */
function systemArgs(): string[] {
  const args: string[] = [];
  for (const path of SYSTEM_PATHS) {
    const info = lstatSyncOrNull(path);
    if (!info) continue;
    if (info.isSymlink) args.push("--symlink", Deno.readLinkSync(path), path);
    else if (info.isDirectory) args.push("--ro-bind", path, path);
  }
  return args;
}

function namespaceArgs(probe: Probe): string[] {
  const args = ["--unshare-all", "--die-with-parent", "--new-session"];
  // A setuid bwrap refuses --cap-drop from non-root users, and drops every capability for them
  // anyway; everywhere else it is what keeps root's capabilities out of the sandbox.
  if (probe.userns || Deno.uid() === 0) args.push("--cap-drop", "ALL");
  if (probe.userns) {
    args.push("--unshare-user");
    if (probe.features?.disableUserns) args.push("--disable-userns");
  }
  return args;
}

async function probeBwrap(bwrapOption: string | undefined, sandboxUid: number): Promise<Probe> {
  const bwrap = await which(bwrapOption ?? "bwrap");
  const disabled = "or pass --no-sandbox to run without protection";
  if (!bwrap) {
    return {
      userns: false,
      availability: {
        ok: false,
        reason: "bwrap (bubblewrap) was not found on PATH",
        fix:
          `Install bubblewrap (\`apt-get install bubblewrap\`, \`dnf install bubblewrap\`), ${disabled}`,
      },
    };
  }
  const help = await probeRun(bwrap, ["--help"]).catch(() => ({ code: 1, stdout: "", stderr: "" }));
  const text = help.stdout + help.stderr;
  if (!text.includes("--cap-drop")) {
    return {
      bwrap,
      userns: false,
      availability: {
        ok: false,
        reason: "This bubblewrap is too old: it has no --cap-drop",
        fix: `Install bubblewrap 0.4 or newer, ${disabled}`,
      },
    };
  }
  const features: BwrapFeatures = {
    disableUserns: text.includes("--disable-userns"),
    size: text.includes("--size"),
    remountRo: text.includes("--remount-ro"),
  };
  const system = systemArgs();
  const layout = [
    ...system,
    ...["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"],
    ...["--tmpfs", "/tmp", ...(features.remountRo ? ["--remount-ro", "/"] : []), "true"],
  ];
  let firstError = "";
  for (const userns of [true, false]) {
    const probe: Probe = { bwrap, features, userns, availability: { ok: true } };
    const result = await probeRun(bwrap, [...namespaceArgs(probe), ...layout]).catch((error) => ({
      code: 1,
      stdout: "",
      stderr: String(error),
    }));
    if (result.code === 0) {
      if (userns && Deno.uid() === 0 && sandboxUid !== 0) {
        await probeDrop(probe, layout, sandboxUid);
      }
      return probe;
    }
    firstError ||= tail(result.stderr, 500) || `bwrap exited with code ${result.code}`;
  }
  return {
    bwrap,
    features,
    userns: false,
    availability: {
      ok: false,
      reason: `bwrap cannot create a sandbox here: ${firstError}`,
      fix: "Enable unprivileged user namespaces (`sysctl -w kernel.unprivileged_userns_clone=1`, " +
        "or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu 24.04+), " +
        "or run outside this unprivileged container (Docker needs `--security-opt " +
        `seccomp=unconfined --security-opt apparmor=unconfined\` or --privileged), ${disabled}`,
    },
  };
}

/** Whether a root run can drop to `uid` here (unshare, mount, setpriv, bwrap as that uid). */
async function probeDrop(probe: Probe, layout: string[], uid: number): Promise<void> {
  const [unshare, setpriv, mount] = await Promise.all(
    ["unshare", "setpriv", "mount"].map((name) => which(name)),
  );
  if (!unshare || !setpriv || !mount) {
    probe.dropError = "unshare, setpriv or mount (util-linux) was not found";
    return;
  }
  const drop: Drop = { uid, gid: uid, unshare, setpriv, mount };
  // A bind through the private mount namespace, as every run does, from a root-only directory,
  // in the folder a run would make its state dir in (not a private TMPDIR the uid cannot enter,
  // which would fail the probe and leave every root run undropped).
  let base: string;
  try {
    base = stateDirBase({ uid, gid: uid });
  } catch (error) {
    probe.dropError = error instanceof Error ? error.message : String(error);
    probe.dropFailed = true;
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "capibara-probe-", dir: base });
  try {
    await Deno.mkdir(`${dir}/point`);
    await Deno.chmod(dir, 0o711);
    await Deno.writeTextFile(`${dir}/binds`, bindTable([["/usr", `${dir}/point`]]));
    const { program, args } = launchCommand({
      seccompFile: "/dev/null",
      etcFiles: ETC_FDS.map(() => "/dev/null"),
      joinFiles: [],
      drop: { drop, table: `${dir}/binds` },
      command: [
        probe.bwrap!,
        ...namespaceArgs(probe),
        ...["--uid", String(SANDBOX_ID), "--gid", String(SANDBOX_ID)],
        ...["--ro-bind", `${dir}/point`, "/capibara-probe"],
        ...layout,
      ],
    });
    const result = await probeRun(program, args)
      .catch((error) => ({ code: 1, stdout: "", stderr: String(error) }));
    if (result.code === 0) probe.drop = drop;
    else {
      probe.dropError = tail(result.stderr, 300) || `exit code ${result.code}`;
      probe.dropFailed = true;
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A parsed line of /proc/self/mountinfo. */
interface CgroupMount {
  root: string;
  mountPoint: string;
  version: 1 | 2;
  controllers: string[];
}

async function cgroupMounts(): Promise<CgroupMount[]> {
  const text = await readTextSyncOrNull("/proc/self/mountinfo") ?? "";
  const mounts: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fsType, , superOptions = ""] = right.split(" ");
    const root = fields[3]?.replaceAll("\\040", " ");
    const mountPoint = fields[4]?.replaceAll("\\040", " ");
    if (!root || !mountPoint) continue;
    if (fsType === "cgroup2") mounts.push({ root, mountPoint, version: 2, controllers: [] });
    if (fsType === "cgroup") {
      mounts.push({ root, mountPoint, version: 1, controllers: superOptions.split(",") });
    }
  }
  return mounts;
}

/** The directory of this process's own cgroup in `mount`, or undefined when not visible. */
function ownDir(mount: CgroupMount, ownPath: string): string | undefined {
  if (!isInside(ownPath, mount.root)) return undefined;
  const rest = mount.root === "/" ? ownPath : ownPath.slice(mount.root.length);
  return (mount.mountPoint + rest).replace(/\/+$/, "") || "/";
}

function tryWrite(path: string, value: string): boolean {
  try {
    Deno.writeTextFileSync(path, value, { create: false }); // a control file, never a new one
    return true;
  } catch {
    return false;
  }
}

/** Creates and removes a probe cgroup in `parent`, writing `limitFile`: true when all worked. */
function canCreateCgroup(parent: string, limitFiles: string[]): boolean {
  const dir = `${parent}/capibara-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    Deno.mkdirSync(dir);
  } catch {
    return false;
  }
  try {
    for (const file of limitFiles) {
      const value = /^memory\..*limit_in_bytes$/.test(file) ? "1073741824" : "max";
      if (!tryWrite(`${dir}/${file}`, value)) return false;
    }
    return true;
  } finally {
    try {
      Deno.removeSync(dir);
    } catch {
      // already gone
    }
  }
}

async function planCgroups(prlimit: string | undefined): Promise<CgroupPlan> {
  const mounts = await cgroupMounts();
  const own = new Map<string, string>();
  for (const line of (await readTextSyncOrNull("/proc/self/cgroup") ?? "").split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    if (match[1] === "0" && match[2] === "") own.set("unified", match[3]!);
    for (const controller of match[2]!.split(",")) if (controller) own.set(controller, match[3]!);
  }
  const plan: CgroupPlan = {
    prlimit,
    info: { memory: "none", processes: "none", processesEffective: false, summary: "" },
  };
  const notes: string[] = [];

  // cgroup v2, delegated: a parent whose subtree has the pids and memory controllers enabled.
  const v2 = mounts.find((m) => m.version === 2);
  const ownV2 = own.get("unified");
  if (v2 && ownV2 !== undefined) {
    const mine = ownDir(v2, ownV2);
    if (mine) {
      const candidates = mine === v2.mountPoint
        ? [mine]
        : [mine, mine.slice(0, mine.lastIndexOf("/"))];
      for (const parent of candidates) {
        if (!isInside(parent, v2.mountPoint)) continue;
        let subtree = (await readTextSyncOrNull(`${parent}/cgroup.subtree_control`)) ?? "";
        const available = (await readTextSyncOrNull(`${parent}/cgroup.controllers`)) ?? "";
        const wanted = ["pids", "memory"];
        if (!wanted.every((c) => subtree.split(/\s+/).includes(c))) {
          // Only the namespace root may enable controllers while it holds processes.
          if (
            parent !== v2.mountPoint || !wanted.every((c) => available.split(/\s+/).includes(c))
          ) {
            continue;
          }
          await tryWrite(`${parent}/cgroup.subtree_control`, "+pids +memory");
          subtree = (await readTextSyncOrNull(`${parent}/cgroup.subtree_control`)) ?? "";
          if (!wanted.every((c) => subtree.split(/\s+/).includes(c))) continue;
        }
        if (await canCreateCgroup(parent, ["pids.max", "memory.max"])) {
          plan.v2 = parent;
          break;
        }
      }
    }
  }
  if (plan.v2) {
    plan.info = {
      memory: "cgroup-v2",
      processes: "cgroup-v2",
      processesEffective: true,
      // cgroup v2 charges socket buffers (TCP, and any other protocol's) to memory.max.
      summary: `memory and processes: cgroup v2 (per-run cgroups under ${plan.v2}; the memory ` +
        "bound counts socket buffers)",
    };
    return plan;
  }

  // cgroup v1: the pids and memory hierarchies, each on its own.
  for (const controller of ["pids", "memory"] as const) {
    const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    const ownPath = own.get(controller);
    if (!mount || ownPath === undefined) continue;
    const parent = ownDir(mount, ownPath);
    if (!parent) continue;
    if (controller === "pids") {
      if (await canCreateCgroup(parent, ["pids.max"])) plan.v1Pids = parent;
      continue;
    }
    // cgroup v1 counts TCP buffers outside memory.limit_in_bytes: they get a bound of their own
    // where the kernel has one (memory.kmem.tcp.limit_in_bytes; one probe cgroup where it works).
    if (await canCreateCgroup(parent, ["memory.limit_in_bytes", V1_TCP_LIMIT])) {
      plan.v1Memory = parent;
      plan.v1MemoryTcp = true;
    } else if (await canCreateCgroup(parent, ["memory.limit_in_bytes"])) plan.v1Memory = parent;
  }
  const root = Deno.uid() === 0;
  if (plan.v1Memory) {
    plan.info.memory = "cgroup-v1";
    notes.push(
      `memory: cgroup v1 memory controller (per-run cgroups under ${plan.v1Memory}); ` +
        (plan.v1MemoryTcp
          ? "TCP socket buffers bounded apart at the same amount (memory.kmem.tcp.limit_in_bytes)"
          : "TCP socket buffers NOT bounded (no writable memory.kmem.tcp.limit_in_bytes)"),
    );
  } else if (prlimit) {
    plan.info.memory = "rlimit";
    notes.push(
      "memory: RLIMIT_AS via prlimit (no writable memory cgroup); for Deno, RLIMIT_DATA at the " +
        "limit and its own reservations (≈ 600 MiB) and --max-old-space-size (Deno reserves " +
        "more address space than any limit); TCP socket buffers NOT bounded (kernel memory, " +
        "which no rlimit counts)",
    );
  } else {
    notes.push("memory: not limited (no writable memory cgroup, no prlimit)");
  }
  if (plan.v1Pids) {
    plan.info.processes = "cgroup-v1";
    plan.info.processesEffective = true;
    notes.push(`processes: cgroup v1 pids controller (per-run cgroups under ${plan.v1Pids})`);
  } else if (prlimit) {
    plan.info.processes = "rlimit";
    plan.info.processesEffective = !root;
    notes.push(
      root
        ? "processes: NOT limited — RLIMIT_NPROC does not bind root and no pids cgroup is writable"
        : "processes: RLIMIT_NPROC via prlimit (no writable pids cgroup)",
    );
  } else {
    notes.push("processes: not limited (no writable pids cgroup, no prlimit)");
  }
  plan.info.summary = notes.join("; ");
  return plan;
}

/**
 * cgroup v1's bound on a memory cgroup's TCP buffers, which `memory.limit_in_bytes` does not
 * count (cgroup v2 counts them in `memory.max`). Set on a run's memory cgroup to its memory limit;
 * UDP and the other inet protocols v1 bounds nowhere, which is why the seccomp filter refuses them.
 */
const V1_TCP_LIMIT = "memory.kmem.tcp.limit_in_bytes";

async function readNumber(path: string): Promise<number | undefined> {
  const text = await readTextSyncOrNull(path);
  if (text === null) return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : undefined;
}

/** The `key value` counter in a flat-keyed cgroup file (e.g. `oom_kill 1`). */
async function readKey(path: string, key: string): Promise<number> {
  const text = await readTextSyncOrNull(path) ?? "";
  const match = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}

/** Kills every process of a cgroup directory until it is empty, then removes it. */
/** One attempt at removing a run's cgroup: true once it is gone, else its processes are killed. */
function removeCgroup(dir: string): boolean {
  const procs = readTextSyncOrNull(`${dir}/cgroup.procs`) ?? "";
  const pids = procs.split("\n").filter(Boolean).map(Number);
  if (pids.length === 0) {
    try {
      Deno.removeSync(dir);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
    }
  }
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return false;
}

async function destroyCgroup(dir: string): Promise<void> {
  tryWrite(`${dir}/cgroup.kill`, "1");
  // The sandbox's last processes are mostly gone within a millisecond of its command's end: the
  // pauses grow from 1 ms to 10 ms (≈ 5 s in all); a first pause of 10 ms often cost a run that.
  for (let attempt = 0, pause = 1; attempt < 500; attempt++, pause = Math.min(pause * 2, 10)) {
    if (removeCgroup(dir)) return;
    await sleep(pause);
  }
}

/** {@linkcode destroyCgroup} for a process that is exiting: waits at most ≈ 0.5 s. */
function destroyCgroupSync(dir: string): void {
  tryWrite(`${dir}/cgroup.kill`, "1");
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; attempt < 50; attempt++) {
    if (removeCgroup(dir)) return;
    Atomics.wait(pause, 0, 0, 10);
  }
}

/**
 * Where the sweep of killed runs keeps its stamps when the backend has no cache folder (an SDK's
 * made without one, a cache folder that is not the user's): the user's runner folder, private to
 * the user (made so when missing). Undefined when it cannot be: a crowded folder is then listed
 * on every run (see `sweepDue`), never left unswept for good.
 */
function privateStampFolder(): string | undefined {
  const folder = runnerFolder();
  try {
    Deno.mkdirSync(folder, { mode: 0o700 });
  } catch {
    // there already (checked next), or not ours to make
  }
  return privateFolder(folder) ? folder : undefined;
}

/** A run cgroup's name: its Capibara's pid, a counter, a random part, its pid namespace. */
const RUN_CGROUP_NAME = /^capibara-(\d+)-\d+-[0-9a-f]{8}(?:-ns(\d+))?$/;

/**
 * Removes the run cgroups under `parent` left by a killed Capibara (`capibara-<pid>-…`). One made
 * in this pid namespace has what still runs in it killed first: a sandbox whose Capibara died
 * while it was being set up outlives it (bubblewrap ties the two only once it is up), and no time
 * limit watches it any more. Another namespace's (a container sharing the cgroup parent), whose
 * pid says nothing here, is only removed once empty. A cgroup whose processes are not gone within
 * ≈ 0.5 s stays for the next sweep.
 */
function sweepStaleCgroups(parent: string): void {
  // Where pids say nothing (another namespace's /proc, or none), no cgroup is taken for gone.
  if (!sweepsByPid()) return;
  const namespace = pidNamespace();
  let names: string[];
  try {
    names = [...Deno.readDirSync(parent)].map((entry) => entry.name);
  } catch {
    return;
  }
  const stale = new Set(staleEntries(parent, RUN_CGROUP_NAME));
  for (const name of names) {
    const match = RUN_CGROUP_NAME.exec(name);
    if (!match) continue;
    const dir = `${parent}/${name}`;
    if (stale.has(name)) destroyCgroupSync(dir);
    else if (match[2] !== namespace) {
      try {
        Deno.removeSync(dir);
      } catch {
        // still populated, or removed by another run meanwhile
      }
    }
  }
}

/**
 * What a run must undo, written into its state dir before it lends anything: the trees lent to
 * the sandbox uid with the owners they had, and the run's temp dir. A run whose Capibara was killed
 * (SIGKILL, the OOM killer) before its close is undone from it by the next run's sweep.
 */
interface Journal {
  tmpDir: string;
  /** The uid the trees were lent to: only what it owns is given back. */
  uid?: number;
  lent: [
    root: string,
    owners: [path: string, uid: number, gid: number, inode?: string, mode?: number][],
  ][];
}

/** The journal's file in a state dir. */
const JOURNAL_FILE = "undo.json";

/**
 * A state dir's name: its Capibara's pid and pid namespace first, so that a sweep knows whether it
 * is gone (another namespace's live run is never taken for a killed one).
 */
const STATE_DIR_NAME = /^capibara-sbx-(\d+)-ns(\d+)-/;

function writeJournal(
  stateDir: string,
  tmpDir: string,
  lent: Map<string, Owners>,
  lentUid?: number,
): void {
  const journal: Journal = {
    tmpDir,
    ...lentUid === undefined ? {} : { uid: lentUid },
    lent: [...lent].map(([root, owners]) => [
      root,
      [...owners].map((
        [path, owner],
      ): [string, number, number, string?, number?] =>
        owner.inode === undefined
          ? [path, owner.uid, owner.gid]
          : owner.mode === undefined
          ? [path, owner.uid, owner.gid, owner.inode]
          : [path, owner.uid, owner.gid, owner.inode, owner.mode]
      ),
    ]),
  };
  Deno.writeTextFileSync(`${stateDir}/${JOURNAL_FILE}`, JSON.stringify(journal), { mode: 0o600 });
}

/** The journal of a state dir, when it is a regular file of this uid's and well formed. */
function readJournal(stateDir: string, uid: number): Journal | undefined {
  const path = `${stateDir}/${JOURNAL_FILE}`;
  const info = lstatSyncOrNull(path);
  // As writeJournal leaves it: this uid's, 0600, one name.
  if (
    !info?.isFile || info.uid !== uid || (info.mode ?? 0) % 0o1000 !== 0o600 || info.nlink !== 1
  ) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
  const journal = value as Journal;
  const int = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
  const wellFormed = typeof value === "object" && value !== null &&
    typeof journal.tmpDir === "string" && Array.isArray(journal.lent) &&
    (journal.uid === undefined || int(journal.uid)) &&
    journal.lent.every((item) =>
      Array.isArray(item) && typeof item[0] === "string" && item[0].startsWith("/") &&
      Array.isArray(item[1]) &&
      item[1].every((o) =>
        Array.isArray(o) && typeof o[0] === "string" && isInside(o[0], item[0]) && int(o[1]) &&
        int(o[2]) && (o[3] === undefined || typeof o[3] === "string") &&
        (o[4] === undefined || (int(o[4]) && (o[4] as number) <= 0o7777))
      )
    );
  return wellFormed ? journal : undefined;
}

/**
 * Undoes the runs whose Capibara was killed before it could close them: each state dir of this
 * uid under `base` whose pid is gone gives its lent trees back to the owners its journal names,
 * removes the run's temp dir (a `capibara-run-…` folder of this uid's only: a name freed since, a
 * temp dir aged out of /tmp, may be another user's folder now), and is removed. Each is claimed
 * first, renamed to a name of this process's: two Capibaras starting at once never give the same
 * tree back together (the slower one's pass through a folder the other already gave back could
 * follow a link its owner put there), and one killed while it sweeps leaves it to the next.
 */
async function sweepStaleStateDirs(base: string): Promise<void> {
  const uid = Deno.uid() ?? 0;
  let fs: NodeFs | undefined;
  for (const name of staleEntries(base, STATE_DIR_NAME)) {
    const found = join(base, name);
    const info = lstatSyncOrNull(found);
    // As wrap() leaves it: this uid's, 0700 (or 0711 for a root run's drop).
    const mode = (info?.mode ?? 0) % 0o10000;
    if (!info?.isDirectory || info.uid !== uid || (mode !== 0o700 && mode !== 0o711)) continue;
    const stateDir = join(
      base,
      `capibara-sbx-${Deno.pid}-ns${pidNamespace()}-swept-${crypto.randomUUID().slice(0, 8)}`,
    );
    try {
      Deno.renameSync(found, stateDir);
    } catch {
      continue; // claimed by another sweep meanwhile
    }
    const claimed = lstatSyncOrNull(stateDir);
    if (!claimed?.isDirectory || inodeOf(claimed) !== inodeOf(info)) continue;
    const journal = readJournal(stateDir, uid);
    if (journal) {
      // Node's lchown: what a killed run lent is given back without following a link.
      if (journal.lent.length > 0) fs ??= await import("node:fs");
      for (const [root, owners] of journal.lent) {
        returnTree(
          fs,
          root,
          new Map(
            owners.map(([path, u, g, inode, mode]) => [path, { uid: u, gid: g, inode, mode }]),
          ),
          journal.uid,
        );
      }
      const tmp = lstatSyncOrNull(journal.tmpDir);
      if (
        RUN_DIR_NAME.test(basename(journal.tmpDir)) && tmp?.isDirectory && !tmp.isSymlink &&
        tmp.uid === uid
      ) {
        try {
          removeIfExistsSync(journal.tmpDir);
        } catch {
          // removed meanwhile, or not ours
        }
      }
    }
    try {
      Deno.removeSync(stateDir, { recursive: true });
    } catch {
      // removed by another sweep meanwhile
    }
  }
}

async function createRunCgroup(
  plan: CgroupPlan,
  policy: SandboxPolicy,
): Promise<RunCgroup | undefined> {
  if (!plan.v2 && !plan.v1Pids && !plan.v1Memory) return undefined;
  const name = `capibara-${Deno.pid}-${++runCounter}-${
    crypto.randomUUID().slice(0, 8)
  }-ns${pidNamespace()}`;
  const helpers = HELPER_PROCESSES + (policy.network.length > 0 ? 1 : 0);
  const pidsMax = String(policy.maxProcesses + helpers);
  const memory = String(Math.max(1 << 20, Math.floor(policy.memoryBytes)));
  const created: string[] = [];
  async function destroy(): Promise<void> {
    await Promise.all(created.map(destroyCgroup));
  }
  function destroySync(): void {
    for (const dir of created) destroyCgroupSync(dir);
  }
  function make(dir: string, limits: [string, string, boolean][]): void {
    Deno.mkdirSync(dir);
    created.push(dir);
    for (const [file, value, required] of limits) {
      if (!tryWrite(`${dir}/${file}`, value) && required) {
        throw new PermissionError(`Cannot set the sandbox limit ${dir}/${file}`);
      }
    }
  }
  try {
    if (plan.v2) {
      const dir = `${plan.v2}/${name}`;
      await make(dir, [
        ["pids.max", pidsMax, true],
        ["memory.max", memory, true],
        ["memory.swap.max", "0", false],
        ["memory.oom.group", "1", false],
      ]);
      return {
        joinFiles: [`${dir}/cgroup.procs`],
        async usage() {
          return {
            peakMemoryBytes: await readNumber(`${dir}/memory.peak`),
            memoryLimitHit: (await readKey(`${dir}/memory.events`, "oom_kill")) > 0,
            processLimitHit: (await readKey(`${dir}/pids.events`, "max")) > 0,
          };
        },
        destroy,
        destroySync,
      };
    }
    const pidsDir = plan.v1Pids ? `${plan.v1Pids}/${name}` : undefined;
    const memoryDir = plan.v1Memory ? `${plan.v1Memory}/${name}` : undefined;
    if (pidsDir) await make(pidsDir, [["pids.max", pidsMax, true]]);
    if (memoryDir) {
      await make(memoryDir, [
        ["memory.limit_in_bytes", memory, true],
        ["memory.memsw.limit_in_bytes", memory, false],
        // Before the run joins: a socket is tied to the cgroup it is made in.
        ...plan.v1MemoryTcp ? [[V1_TCP_LIMIT, memory, true] as [string, string, boolean]] : [],
      ]);
    }
    return {
      joinFiles: created.map((dir) => `${dir}/tasks`),
      async usage() {
        return {
          peakMemoryBytes: memoryDir
            ? await readNumber(`${memoryDir}/memory.max_usage_in_bytes`)
            : undefined,
          memoryLimitHit: memoryDir
            ? (await readKey(`${memoryDir}/memory.oom_control`, "oom_kill")) > 0
            : false,
          processLimitHit: pidsDir ? (await readKey(`${pidsDir}/pids.events`, "max")) > 0 : false,
        };
      },
      destroy,
      destroySync,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

function checkGrant(path: string, what: string): void {
  if (!path.startsWith("/")) {
    throw new ValidationError(`Sandbox ${what} path must be absolute: "${path}"`);
  }
  if (path === "/" || FORBIDDEN_GRANTS.some((forbidden) => isInside(path, forbidden))) {
    throw new ValidationError(
      `Refusing to grant "${path}" to the sandbox: it would expose the host`,
    );
  }
  const real = realPathSyncOrNull(path);
  if (real !== null && FORBIDDEN_GRANTS.some((forbidden) => isInside(real, forbidden))) {
    throw new ValidationError(
      `Refusing to grant "${path}" to the sandbox: it leads to "${real}", which would expose ` +
        "the host",
    );
  }
  refuseHidden(path, false, real);
}

/**
 * Refuses a granted path that would show a hidden one ({@linkcode SENSITIVE_PATHS}, the user's
 * runner folders with their keys and the plans hits start from): one it is or lies in, by its
 * path or its real path (a link leads there too); with `holding`, also one it holds. A grant that
 * holds a hidden path is shown with that path masked (see policyArgs), except where no mask can
 * cover it: a tree lent to the sandbox's uid on the host (a root run's writable folder) and a
 * copy made for it (a folder closed to that uid). Asked before anything is made for the run, and
 * again of each real path as it is bound.
 *
 * @throws {ValidationError} naming the hidden path.
 */
function refuseHidden(
  path: string,
  holding: boolean,
  real: string | null = realPathSyncOrNull(path),
): void {
  // Resolved once: isInside then compares plain paths by prefix (asked of every bound path).
  const resolved = resolve(path);
  const paths = real === null || real === resolved ? [resolved] : [resolved, real];
  for (const hidden of [...SENSITIVE_PATHS, ...runnerFolders()]) {
    for (const p of paths) {
      const lies = isInside(p, hidden);
      if (lies || (holding && isInside(hidden, p))) {
        throw new ValidationError(
          `Refusing to grant "${path}" to the sandbox: it ${
            lies ? "lies in" : "holds"
          } ${hidden}, which is never shown to scripts`,
          { hint: "Grant a folder that neither is, holds nor lies in it" },
        );
      }
    }
  }
}

/**
 * The folders a script may make symbolic links in (Landlock, landlock.py's `--links`): the run's
 * own temp dir, the sandbox's /tmp and /dev/shm, and staged outputs, each unless a folder written
 * in place is shown below it (a Landlock rule holds for all below a path, mount points crossed). A
 * link left in a folder written in place would be followed by Capibara's host-side steps and by
 * other runs. Each folder bound from the host is given with the device and inode it must be when
 * the step opens it (`DEV:INO:PATH`; the sandbox's own tmpfs folders as `:PATH`): another run that
 * writes the folder above a staged output could rename the staged mount's place away while this
 * sandbox is set up, and the name would then lead the right to a folder of the host's.
 */
export function linkFolders(policy: SandboxPolicy): string[] {
  const folders: { path: string; source?: string }[] = [
    { path: policy.tmpDir, source: policy.tmpDir },
    { path: "/tmp" },
    { path: "/dev/shm" },
    ...(policy.stage ?? []).map(({ source, target }) => ({ path: target, source })),
  ];
  const found: string[] = [];
  for (const { path, source } of folders) {
    if (policy.write.some((written) => isInside(written, path))) continue;
    if (source === undefined) {
      found.push(`:${path}`);
      continue;
    }
    const info = lstatSyncOrNull(source);
    if (info?.isDirectory) found.push(`${info.dev}:${info.ino}:${path}`);
  }
  return found;
}

/**
 * The policy's binds. Parents come before children, so a nested grant overrides its parent's
 * mode; `protect` comes last so it wins inside writable grants.
 *
 * Symlinks: bwrap follows a bind's source on the host. A symlink a script planted in a writable
 * directory during an earlier run must not become a window on the host in the next one, so a
 * writable path must be resolved, a read path inside a writable grant must be resolved, and a
 * protect path that is (or goes through) a symlink is skipped (the sandbox then sees the symlink,
 * which leads nowhere inside).
 */
async function policyArgs(
  policy: SandboxPolicy,
  features: BwrapFeatures | undefined,
  via: (source: string) => Promise<string> = (source) => Promise.resolve(source),
  substitutes: ReadonlyMap<string, string> = new Map(),
): Promise<string[]> {
  const writable = [...policy.write, policy.tmpDir];
  const binds = new Map<string, "ro" | "rw">();
  /** Host path each bind shows, for masking sensitive files below it. */
  const sources = new Map<string, string>();
  // The workdir is shown read-only, unless a writable grant holds it (`--allow-write ..`): then it
  // is writable as the grant is, and kept in place with the folders above it (below).
  const workdirHeld = !substitutes.has(policy.workdir) &&
    realPathSyncOrNull(policy.workdir) === policy.workdir &&
    writable.some((dir) => dir !== policy.workdir && isInside(policy.workdir, dir));
  for (const path of workdirHeld ? policy.read : [...policy.read, policy.workdir]) {
    const real = realPathSyncOrNull(path);
    if (real === null) continue;
    // Asked again of the path as it is bound now: a link swapped in since the grant was checked.
    refuseHidden(real, false, real);
    if (real !== path && writable.some((dir) => isInside(path, dir))) {
      throw new ValidationError(
        `Refusing to grant "${path}": it leads to "${real}" through a symlink in a writable path`,
      );
    }
    binds.set(path, "ro");
    sources.set(path, substitutes.get(path) ?? real);
  }
  for (const path of writable) {
    const real = realPathSyncOrNull(path);
    if (real !== null) refuseHidden(real, false, real);
    if (real !== path) {
      throw new ValidationError(
        `Sandbox write path "${path}" is not resolved (it leads to "${real}"): grant the real path`,
      );
    }
    binds.set(path, "rw");
    sources.set(path, real);
  }
  // Copy-out staging: a private copy under the temp dir shown read-write at the output's path.
  // The host's own path is only a mount point; a symlink swapped in there by another run is
  // resolved inside the sandbox, and the source is ours, so no host folder becomes writable.
  for (const { source, target } of policy.stage ?? []) {
    if (!isInside(source, policy.tmpDir) || (realPathSyncOrNull(source)) !== source) {
      throw new ValidationError(
        `Sandbox staging path "${source}" is not a resolved path inside the run's temp dir`,
      );
    }
    binds.set(target, "rw");
    sources.set(target, source);
  }
  // The folders a protected path hangs from, and a held workdir with those above it, each bound
  // onto itself in the mode of the bind that holds it: a mount point cannot be renamed, so none can
  // be moved aside and replaced (nor the workdir with it).
  const protect = policy.protect.filter((path) => realPathSyncOrNull(path) === path);
  const pinned = workdirHeld
    ? [...pinnedFolders([...protect, policy.workdir], writable), policy.workdir]
    : pinnedFolders(protect, writable);
  for (const dir of pinned) {
    if (binds.has(dir)) continue;
    const holder = [...binds.keys()].filter((path) => isInside(dir, path))
      .sort((a, b) => depth(b) - depth(a))[0];
    if (holder === undefined) continue;
    binds.set(dir, binds.get(holder)!);
    sources.set(dir, (sources.get(holder) ?? holder) + dir.slice(holder.length));
  }
  const args: string[] = [];
  const ordered = [...binds].sort((a, b) => depth(a[0]) - depth(b[0]));
  for (const [path, mode] of ordered) {
    const source = sources.get(path) ?? path;
    if (mode === "ro") args.push("--ro-bind-try", await via(source), path);
    else args.push("--bind", await via(source), path);
  }
  for (const path of [...protect].sort((a, b) => depth(a) - depth(b))) {
    // Only inside writable grants: elsewhere a bind would make a protected path readable.
    if (!writable.some((dir) => isInside(path, dir))) continue;
    args.push("--ro-bind", await via(path), path);
  }
  // The user's runner folders too: a script that reached a runner could ask it for any run. One
  // that is not there yet is made (empty, 0700) when a granted path would show it, so that a
  // runner started while this sandbox lives is hidden as well.
  const runners = runnerFolders();
  for (const [path, source] of sources) {
    for (const sensitive of [...SENSITIVE_PATHS, ...runners]) {
      if (!isInside(sensitive, source)) continue;
      if (runners.includes(sensitive) && !lstatSyncOrNull(sensitive)) {
        try {
          Deno.mkdirSync(sensitive, { mode: 0o700 });
        } catch {
          // its folder is not there or not ours: no runner can listen there either
        }
      }
      const info = lstatSyncOrNull(sensitive);
      if (!info) continue;
      // Not a folder (a link someone else left): no runner listens there.
      if (runners.includes(sensitive) && !info.isDirectory) continue;
      const inside = path + sensitive.slice(source.length);
      if (info.isDirectory) {
        args.push("--tmpfs", inside);
        if (features?.remountRo) args.push("--remount-ro", inside);
      } else {
        args.push("--ro-bind", "/dev/null", inside);
      }
    }
  }
  return args;
}

function fakeEtc(uid: number, gid: number, home: string): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\n` +
      (uid === 0 ? "" : `capibara:x:${uid}:${gid}:capibara:${home}:/bin/sh\n`) +
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: "root:x:0:\n" + (gid === 0 ? "" : `capibara:x:${gid}:\n`) + "nogroup:x:65534:\n",
    hosts: "127.0.0.1\tlocalhost\n127.0.1.1\tcapibara\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  };
}

/**
 * The bubblewrap backend: namespaces for isolation, cgroups for limits, a proxy for the network.
 *
 * @example
 * ```ts ignore
 * const backend = new BubblewrapBackend();
 * if (!(await backend.available()).ok) throw new Error("no sandbox");
 * const wrapped = await backend.wrap(spec, policy);
 * try {
 *   const result = await execCommand(wrapped.spec, { timeoutMs: 60_000 });
 * } finally {
 *   await wrapped.close();
 * }
 * ```
 */
export class BubblewrapBackend implements SandboxBackend {
  /** The backend's name, as `capibara doctor` prints it. */
  readonly name: string = "bubblewrap";
  /** Staged outputs are bound at their targets' paths inside the sandbox. */
  readonly stagesOutputs: boolean = true;
  /** A command can be started held: its sandbox is set up ahead of the run. */
  readonly holds: boolean = true;
  /** Inside the sandbox, the network proxy listens on loopback at this port (socat's bridge). */
  readonly proxyAddress: { hostname: string; port: number } = {
    hostname: "127.0.0.1",
    port: PROXY_PORT,
  };
  #options: BubblewrapOptions;
  /** The uid the drop is probed with: the one asked for, else the first run id, else nobody. */
  #sandboxUid: number;
  /** Whether each root run takes a new id of the run ids' range (none was asked for). */
  #perRun: boolean;
  #probe?: Promise<Probe>;
  #plan?: Promise<CgroupPlan>;
  /** Whether this backend undid what killed Capibara processes left (once: an SDK runs many). */
  #swept = false;

  /** A backend; nothing is probed until {@linkcode available} or {@linkcode wrap}. */
  constructor(options: BubblewrapOptions = {}) {
    this.#options = options;
    const asked = sandboxUidOf(options.sandboxUid);
    this.#perRun = asked === undefined && Deno.build.os === "linux" && runIdsMapped();
    this.#sandboxUid = asked ?? (this.#perRun ? RUN_IDS_START : DEFAULT_SANDBOX_HOST_ID);
  }

  /**
   * Remembers probes in the file `where()` names from now on, when this backend has no such file
   * and has probed nothing yet (`where` is not called otherwise): the first caller in a process
   * (a generated script's static checks) may not know the cache folder.
   */
  useProbeCache(where: () => string | undefined): void {
    if (this.#options.probeCache || this.#probe || this.#plan) return;
    const probeCache = where();
    if (probeCache) this.#options = { ...this.#options, probeCache };
  }

  #getProbe(): Promise<Probe> {
    this.#probe ??= this.#cachedProbe().then((probe) => {
      if (!this.#perRun || probe.drop || !probe.availability.ok || Deno.uid() !== 0) return probe;
      // The run ids cannot be dropped to here: nobody's uid, as without them, and never root.
      this.#perRun = false;
      this.#sandboxUid = DEFAULT_SANDBOX_HOST_ID;
      return this.#cachedProbe();
    });
    return this.#probe;
  }

  async #cachedProbe(): Promise<Probe> {
    const file = this.#options.probeCache;
    // Every program the probe names, as it is now: another binary at one of those paths (an
    // upgrade, a replacement) is probed again, never started on an old probe's word.
    const keyOf = (probe: Probe) => {
      const programs = [probe.bwrap!, probe.drop?.unshare, probe.drop?.setpriv, probe.drop?.mount];
      return [
        // 5: a probe of a root run's drop made in a TMPDIR its uid could not enter failed, and
        // was kept; such a probe is made again.
        "5",
        ...programs.map((program) => program === undefined ? "-" : fileIdentity(program)),
        Deno.osRelease(),
        Deno.uid(),
        this.#sandboxUid,
      ].join("|");
    };
    const saved = file ? recallSync<{ key: string; probe: Probe }>(file) : undefined;
    if (saved?.probe?.bwrap) {
      let key: string | undefined;
      try {
        key = keyOf(saved.probe);
      } catch {
        key = undefined;
      }
      if (saved.key === key) return saved.probe;
    }
    const probe = await probeBwrap(this.#options.bwrap, this.#sandboxUid);
    if (file && probe.availability.ok && probe.bwrap && !probe.dropFailed) {
      rememberSync(file, { key: keyOf(probe), probe });
    }
    return probe;
  }

  #getPlan(): Promise<CgroupPlan> {
    this.#plan ??= this.#cachedPlan();
    return this.#plan;
  }

  /** Where the cgroup plan is remembered across processes (next to the bwrap probe), if at all. */
  #planFile(): string | undefined {
    const probe = this.#options.probeCache;
    return probe ? `${dirname(probe)}/cgroup-plan.json` : undefined;
  }

  /**
   * The cgroup plan, remembered across processes for the same cgroup membership and uid: finding
   * it makes and removes a probe cgroup per controller (≈ 4 ms of a cold run). A remembered plan
   * that no longer works fails loudly at the run's cgroup creation, which then plans again.
   */
  async #cachedPlan(fresh = false): Promise<CgroupPlan> {
    const file = this.#planFile();
    const key = JSON.stringify(["3", Deno.uid(), readTextSyncOrNull("/proc/self/cgroup")]);
    const saved = file && !fresh ? recallSync<{ key: string; plan: CgroupPlan }>(file) : undefined;
    // prlimit stands in only where no cgroup limits: only there can its coming or going matter
    // (a look-up along PATH, ≈ 2 ms of a cold run).
    const limitedByCgroups = (plan: CgroupPlan) =>
      plan.v2 !== undefined || (plan.v1Memory !== undefined && plan.v1Pids !== undefined);
    let prlimit: string | undefined;
    if (saved?.plan && saved.key === key) {
      if (limitedByCgroups(saved.plan)) return saved.plan;
      prlimit = await which("prlimit");
      if (prlimit === saved.plan.prlimit) return saved.plan;
    } else prlimit = await which("prlimit");
    const plan = await planCgroups(prlimit);
    if (file) rememberSync(file, { key, plan });
    return plan;
  }

  /** Whether bwrap is installed and can create a sandbox here (probed once, then cached). */
  async available(): Promise<Availability> {
    return (await this.#getProbe()).availability;
  }

  /** Whether granted hosts can be reached: needs socat to bridge the sandbox to the proxy. */
  async proxyAvailable(): Promise<Availability> {
    if (await which(this.#options.socat ?? "socat")) return { ok: true };
    return {
      ok: false,
      reason: "socat was not found on PATH (needed to reach granted hosts from the sandbox)",
      fix: "Install socat (`apt-get install socat`, `dnf install socat`), or grant no network",
    };
  }

  /** Who a root run's sandbox is on the host, and why (for `capibara doctor`). */
  async describeIdentity(): Promise<SandboxIdentity> {
    const uid = Deno.uid() ?? 0;
    if (uid !== 0) return { uid, summary: `runs as your own uid (${uid})` };
    const probe = await this.#getProbe();
    if (probe.drop && this.#perRun) {
      return {
        uid: probe.drop.uid,
        summary: `root's runs map each to a uid of their own (${RUN_IDS_START} and up), not ` +
          `root; those that write beyond their temp dir share ${RUN_IDS_START} ` +
          "(CAPIBARA_SANDBOX_UID picks one for all); inputs only root may read are passed in " +
          "as copies",
      };
    }
    if (probe.drop) {
      return {
        uid: probe.drop.uid,
        summary: `root's runs map to uid ${probe.drop.uid}, not root (CAPIBARA_SANDBOX_UID); ` +
          "inputs only root may read are passed in as copies",
      };
    }
    const why = this.#sandboxUid === 0
      ? "CAPIBARA_SANDBOX_UID=0"
      : `dropping to uid ${this.#sandboxUid} does not work here: ${
        probe.dropError ?? "no user namespace"
      }`;
    return { uid: 0, summary: `root's runs map to root (${why})` };
  }

  /** How memory and process limits are enforced on this machine (probed once, then cached). */
  async describeLimits(): Promise<LimitsInfo> {
    return { ...(await this.#getPlan()).info };
  }

  /** Wraps `spec` to run inside bubblewrap, confined by `policy`. */
  async wrap(
    spec: CommandSpec,
    policy: SandboxPolicy,
    options: WrapOptions = {},
  ): Promise<LinuxWrappedCommand> {
    const held = options.held === true;
    /** The program waits at the gate itself, on its standard input (see WrapOptions). */
    const selfGated = held && options.selfGated === true;
    const heldFd = held && !selfGated ? HELD_FD : undefined;
    const probe = await this.#getProbe();
    if (!probe.availability.ok || !probe.bwrap) {
      throw new PermissionError(
        `The bubblewrap sandbox is unavailable: ${probe.availability.reason}`,
        { hint: probe.availability.fix },
      );
    }
    const filter = seccompProgram();
    if (!filter) {
      throw new PermissionError(
        `Cannot sandbox scripts on ${Deno.build.arch}: Capibara has no seccomp filter for it`,
        { hint: "Run on x86_64 or aarch64, or pass --no-sandbox to run unprotected" },
      );
    }
    for (const path of policy.read) checkGrant(path, "read");
    for (const path of policy.write) checkGrant(path, "write");
    for (const { target } of policy.stage ?? []) checkGrant(target, "output");
    checkGrant(policy.workdir, "workdir");
    checkGrant(policy.tmpDir, "temp dir");

    let socat: string | undefined;
    if (policy.network.length > 0) {
      socat = await which(this.#options.socat ?? "socat");
      if (!socat) {
        const proxy = await this.proxyAvailable();
        throw new PermissionError(`Cannot grant network access: ${proxy.reason}`, {
          hint: proxy.fix,
        });
      }
    }
    const plan = await this.#getPlan();

    for (const dir of [...policy.write, policy.tmpDir]) {
      Deno.mkdirSync(dir, { recursive: true, mode: dir === policy.tmpDir ? 0o700 : 0o755 });
    }
    const uid = Deno.uid() ?? 0;
    const gid = Deno.gid() ?? 0;
    // Root drops to the sandbox uid, always. A read path closed to that uid (mode 0600 or 0700
    // on the path itself) is passed in as a copy it may read; a closed workdir is shown as an
    // empty folder holding the inputs and outputs.
    const probed = uid === 0 ? probe.drop : undefined;
    // A new host id per run (see RUN_IDS_START), unless one was asked for, or the run writes to
    // a folder beyond its own temp dir: a folder runs may lend at once (a granted output folder,
    // pip's cache during installs) is lent to the id such runs share (the range's first, as
    // probed), since each lends it again and a second id would shut the first run out.
    const id = probed && this.#perRun && policy.write.length === 0 ? newRunId() : undefined;
    const drop = probed && id !== undefined ? { ...probed, uid: id, gid: id } : probed;
    const base = stateDirBase(drop);
    if (!this.#swept) {
      // What killed Capibara processes left: their runs' lent trees, state dirs and cgroups.
      this.#swept = true;
      const stamps = this.#options.probeCache
        ? dirname(this.#options.probeCache)
        : privateStampFolder();
      // The cgroups first: what still runs in a killed run's is killed before its trees are
      // given back (a process of the uid they were lent to could change them meanwhile).
      for (const parent of [plan.v2, plan.v1Pids, plan.v1Memory]) {
        if (parent) sweepStaleCgroups(parent);
      }
      for (const folder of stateDirFolders(base)) {
        // A crowded one (names others planted in /dev/shm) at most once a minute.
        const stamp = stamps &&
          `${stamps}/state-dirs-swept-${encodeURIComponent(folder).slice(-200)}`;
        if (sweepDue(folder, stamp, 60_000)) await sweepStaleStateDirs(folder);
      }
      // And their runs' temp dirs, which outlive the sandbox (the outputs' move comes after).
      if (stamps) sweepLeftRunDirs(`${stamps}/run-dirs-swept`);
    }
    const stateDir = Deno.makeTempDirSync({
      prefix: `capibara-sbx-${Deno.pid}-ns${pidNamespace()}-`,
      dir: base,
    });
    let proxy: RunningProxy | undefined;
    let cgroup: RunCgroup | undefined;
    let closed: Promise<void> | undefined;
    /** Trees lent to the sandbox uid, given back when the run is over. */
    const lent = new Map<string, Owners>();
    /** The uid they are lent to. */
    let lentTo: number | undefined;
    /** Node's file calls, when user folders are lent (see lendTree). */
    let lendFs: NodeFs | undefined;
    const removeState = () => {
      for (const [root, owners] of lent) returnTree(lendFs, root, owners, lentTo);
      try {
        Deno.removeSync(stateDir, { recursive: true });
      } catch {
        // already gone
      }
    };
    const close = (): Promise<void> => {
      closed ??= (async () => {
        await cgroup?.destroy();
        await proxy?.close();
        removeState();
      })();
      return closed;
    };
    /** At the process's exit: the same, synchronously (the proxy ends with the process). */
    const abandon = (): void => {
      if (closed) return;
      closed = Promise.resolve();
      cgroup?.destroySync();
      removeState();
    };

    try {
      /** Read paths shown inside by something else than themselves (`drop` only). */
      const substitutes = new Map<string, string>();
      if (drop) Deno.chmodSync(stateDir, 0o711);
      await substituteClosed(policy, drop, stateDir, substitutes);
      /** Sources bound under the state dir in the private mount namespace (`drop` only). */
      const mounts: [string, string][] = [];
      const via = (source: string): Promise<string> => {
        if (!drop) return Promise.resolve(source);
        let info: Deno.FileInfo;
        try {
          info = Deno.statSync(source);
        } catch {
          return Promise.resolve(source);
        }
        const point = `${stateDir}/src/${mounts.length}`;
        if (info.isDirectory) Deno.mkdirSync(point);
        else Deno.writeFileSync(point, new Uint8Array());
        mounts.push([source, point]);
        return Promise.resolve(point);
      };
      if (drop) {
        Deno.mkdirSync(`${stateDir}/src`, { mode: 0o711 });
        Deno.chmodSync(`${stateDir}/src`, 0o711);
        const before = new Map<string, Owners>();
        // Each tree once, from its top: a grant inside another is lent and given back with it
        // (lent again on its own, it was recorded as already lent, and its owners' files were
        // then taken as root's).
        const roots = [...new Set([...policy.write, policy.tmpDir])];
        for (
          const dir of roots.filter((dir) =>
            !roots.some((other) => other !== dir && isInside(dir, other))
          )
        ) {
          // A lent tree is the sandbox uid's on the host: no mask covers a hidden path inside it.
          refuseHidden(dir, true);
          const owners: Owners = new Map();
          try {
            checkLendable(dir);
            ownersOf(dir, drop.uid, owners);
          } catch (error) {
            if (!(error instanceof LendError)) throw error;
            throw new PermissionError(
              `Cannot lend "${dir}" to the sandbox uid for this run: ${error.message}`,
              {
                hint: "A run as root writes into a folder only when no other user can change it " +
                  "or a folder on its way; run Capibara as the folder's owner, or grant a folder " +
                  "only root controls",
              },
            );
          }
          before.set(dir, owners);
        }
        // Written before anything is lent: a Capibara killed from here on is undone by a later
        // run (see sweepStaleStateDirs).
        lentTo = drop.uid;
        writeJournal(stateDir, policy.tmpDir, before, drop.uid);
        // Node's lchown, for the user's folders a root run lends, and for any tree lent to a uid
        // other processes may have (no id of this run's own: a pinned CAPIBARA_SANDBOX_UID, or
        // 65534 where the run ids are not mapped), which could swap the lent temp dir, in /tmp,
        // for a link before it is given back. Its compatibility layer is slow to load: a hit,
        // which lends only its own temp dir to its own id, never loads it. That temp dir,
        // Capibara's own, made 0700 for this run, is then lent from the bottom up, without it.
        const userFolders = [...before.keys()].some((dir) => dir !== policy.tmpDir);
        const fs = lendFs = userFolders || id === undefined ? await import("node:fs") : undefined;
        for (const dir of before.keys()) {
          const owners: Owners = new Map();
          lent.set(dir, owners);
          try {
            lendTree(dir === policy.tmpDir ? undefined : fs, dir, drop.uid, drop.gid, owners);
          } catch (error) {
            if (!(error instanceof LendError)) throw error;
            throw new PermissionError(
              `Cannot lend "${dir}" to the sandbox uid for this run: ${error.message}`,
              { hint: "Another user changed the folder while it was being lent; run again" },
            );
          }
        }
      } else writeJournal(stateDir, policy.tmpDir, lent);
      const sandboxUid = probe.userns && uid === 0 ? SANDBOX_ID : uid;
      const sandboxGid = probe.userns && gid === 0 ? SANDBOX_ID : gid;
      const args = [...namespaceArgs(probe)];
      if (probe.userns && sandboxUid !== uid) {
        args.push("--uid", String(sandboxUid), "--gid", String(sandboxGid));
      }
      args.push("--hostname", "capibara");
      args.push(...systemArgs());

      // /etc: a short list of harmless files, and fake identity files.
      args.push("--dir", "/etc");
      for (const entry of ETC_ENTRIES) {
        const path = `/etc/${entry}`;
        const info = lstatSyncOrNull(path);
        if (!info) continue;
        if (info.isSymlink) args.push("--symlink", Deno.readLinkSync(path), path);
        else args.push("--ro-bind", path, path);
      }
      // Modes of their own whatever the umask (an SDK's process may run under 0000): a root run's
      // state dir lets others pass through it, and what the launcher reads here must be ours.
      Deno.mkdirSync(`${stateDir}/etc`, { mode: 0o700 });
      const etcFiles: string[] = [];
      const fake = Object.entries(fakeEtc(sandboxUid, sandboxGid, policy.tmpDir));
      for (const [i, [name, text]] of fake.entries()) {
        Deno.writeTextFileSync(`${stateDir}/etc/${name}`, text, { mode: 0o600 });
        etcFiles.push(`${stateDir}/etc/${name}`);
        args.push("--perms", "0444", "--file", String(ETC_FDS[i]), `/etc/${name}`);
      }

      args.push("--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys");
      for (const path of ["/proc/fs", "/proc/mtrr", "/proc/pressure"]) {
        if (lstatSyncOrNull(path)) args.push("--ro-bind-try", path, path);
      }
      args.push("--dev", "/dev");
      if (probe.features?.size && probe.features.remountRo) {
        // /dev is a tmpfs no size bounds, and its shm folder writable: memory no limit counts
        // where no memory cgroup works. The shm folder gets a tmpfs of its own, of half the
        // memory limit (POSIX shared memory and semaphores keep working), and /dev itself is
        // read-only.
        const size = String(Math.floor(policy.memoryBytes / 2));
        args.push("--size", size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev");
      }
      if (probe.features?.size) args.push("--size", String(Math.floor(policy.memoryBytes)));
      args.push("--tmpfs", "/tmp");

      args.push(...await policyArgs(policy, probe.features, via, substitutes));

      const env: Record<string, string> = {
        ...spec.env,
        HOME: policy.tmpDir,
        TMPDIR: policy.tmpDir,
      };
      const inner: string[] = [];
      if (!plan.v2 && !plan.v1Memory && plan.prlimit) {
        const reserving = policy.reservesAddressSpace;
        if (reserving) {
          Object.assign(env, reserving.env);
          inner.push(`--data=${Math.floor(reserving.dataBytes)}`);
        } else inner.push(`--as=${Math.floor(policy.memoryBytes)}`);
      }
      if (!plan.v2 && !plan.v1Pids && plan.prlimit) inner.push(`--nproc=${policy.maxProcesses}`);
      const command: string[] = inner.length > 0 && plan.prlimit
        ? [plan.prlimit, ...inner, "--"]
        : [];

      if (socat) {
        await Deno.mkdir(`${stateDir}/proxy`, { mode: 0o700 });
        // Loaded only when hosts are granted: a run without network never pays for it.
        const { proxyEnv, startProxy } = await import("./proxy.ts");
        proxy = startProxy({
          socketPath: `${stateDir}/proxy/proxy.sock`,
          allow: policy.network,
          privateAllow: policy.privateNetwork,
          connect: this.#options.connect,
        });
        if (drop) {
          await Deno.chown(`${stateDir}/proxy`, drop.uid, drop.gid);
          await Deno.chown(`${stateDir}/proxy/proxy.sock`, drop.uid, drop.gid);
        }
        args.push("--ro-bind", `${stateDir}/proxy`, PROXY_DIR_INSIDE);
        if (!isInside(socat, "/usr")) args.push("--ro-bind", await via(socat), socat);
        Object.assign(env, proxyEnv(`http://127.0.0.1:${PROXY_PORT}`));
        command.push("/bin/sh", "-c", PROXY_SCRIPT, "capibara-network", socat);
      }

      if (probe.features?.remountRo) args.push("--remount-ro", "/");
      // The seccomp filter applies to everything bwrap starts inside: the script and its helpers.
      const filterFile = `${stateDir}/seccomp.bpf`;
      Deno.writeFileSync(filterFile, filter, { mode: 0o600 });
      args.push("--seccomp", String(SECCOMP_FD));
      // Last, the Landlock rule set (landlock.py): no mount table of /proc names a host path.
      // A program that scopes its own reads skips the rule set; it still goes through the step
      // when this process holds descriptors it would inherit (the step closes them first).
      const gate = heldFd === undefined ? undefined : { gate: heldFd, sign: SIGN_FD };
      const signFile = `${stateDir}/gate`;
      // A program that scopes its own reads (Deno) goes through the step too when it writes a
      // folder in place, where the rule set keeps links out (a Deno script may move one).
      const program = policy.readsScopedByProgram
        ? policy.write.length > 0
          ? bareCommand(spec.program, spec.args, gate, spec.env, linkFolders(policy))
          : inheritsDescriptors()
          ? bareCommand(spec.program, spec.args, gate, spec.env)
          : undefined
        : landlockCommand(spec.program, spec.args, gate, spec.env, linkFolders(policy));
      // The dynamic loader's variables (from a grant, or a plan read back from a file) never
      // reach the programs that set the sandbox up on the host (the shell, unshare, mount,
      // setpriv, bwrap: as root, too): bwrap sets them inside, for the script only.
      for (const name of Object.keys(env)) {
        if (!LOADER_VARIABLE.test(name)) continue;
        args.push("--setenv", name, env[name]!);
        delete env[name];
      }
      args.push("--chdir", policy.workdir, "--", ...command);
      if (!program && heldFd !== undefined) {
        args.push("/bin/sh", "-c", HELD_SCRIPT, "capibara-held");
      }
      args.push(...program ?? [spec.program, ...spec.args]);

      let table: string | undefined;
      if (drop) {
        table = `${stateDir}/binds`;
        Deno.writeTextFileSync(table, bindTable(mounts), { mode: 0o600 });
      }
      try {
        cgroup = await createRunCgroup(plan, policy);
      } catch (error) {
        // A remembered plan that no longer holds (a cgroup moved or lost its delegation): plan
        // afresh once; a fresh plan that fails is the run's error.
        if (!this.#planFile()) throw error;
        this.#plan = this.#cachedPlan(true);
        const fresh = await this.#plan;
        if (
          fresh.info.memory !== plan.info.memory || fresh.info.processes !== plan.info.processes
        ) {
          // The limits chosen above (prlimit or not) followed the old plan: never run half-limited.
          throw new PermissionError(
            "The machine's cgroups changed since the last run; the new plan is saved",
            { cause: error, hint: "Run the command again" },
          );
        }
        cgroup = await createRunCgroup(fresh, policy);
      }
      const wrapped: CommandSpec = {
        ...launchCommand({
          seccompFile: filterFile,
          etcFiles,
          joinFiles: cgroup?.joinFiles ?? [],
          drop: drop && table ? { drop, table } : undefined,
          held: heldFd !== undefined ? { signFile } : undefined,
          command: [probe.bwrap, ...args],
        }),
        env,
        cwd: "/",
      };
      const runCgroup = cgroup;
      return {
        spec: wrapped,
        held,
        ...heldFd !== undefined ? { gateSign: signFile } : {},
        // A closed workdir is shown as an empty folder of live binds: only read copies go stale.
        copies: [...substitutes.keys()].some((path) => path !== policy.workdir),
        abandon,
        close,
        hostUid: drop?.uid ?? uid,
        usage: (): Promise<SandboxUsage> =>
          runCgroup?.usage() ??
            Promise.resolve({ memoryLimitHit: false, processLimitHit: false }),
      };
    } catch (error) {
      await close();
      throw error;
    }
  }
}
