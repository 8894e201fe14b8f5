/**
 * The sandbox boundary: what a backend is given, and what it returns.
 *
 * @module
 */
import type { CommandSpec } from "../exec.ts";

/** Everything a backend needs to confine one run. All paths are absolute and resolved. */
export interface SandboxPolicy {
  /** Host rules the script may reach (exact names, or `*.example.com`); empty = no network. */
  network: string[];
  /**
   * Exact `host:port` rules reachable even on loopback or a private network (a package index
   * named by the user's own configuration); also listed in `network`.
   */
  privateNetwork?: string[];
  /** Paths the script may read (inputs, granted paths, the runtime's interpreter and libraries). */
  read: string[];
  /**
   * Paths the script may write in place: granted paths, and the outputs for backends that cannot
   * stage them (see `stage`).
   */
  write: string[];
  /**
   * Copy-out staging: each `source` (a private folder or file under the temp dir) appears
   * read-write at `target` (a declared output in the project) inside the sandbox, while the
   * project's own `target` stays untouched. Backends that cannot show a path at another place
   * are given the outputs in `write` instead. Default: none.
   */
  stage?: { source: string; target: string }[];
  /** Paths that stay read-only even inside a writable path (`.capibara/`, `.git/`, shell rc files). */
  protect: string[];
  /** The script's working directory (readable; writable only if listed in `write`). */
  workdir: string;
  /** Private temporary directory: writable, HOME and TMPDIR point here. */
  tmpDir: string;
  /**
   * Memory limit in bytes: what the run's processes allocate, their tmpfs files and (Linux, with a
   * memory cgroup) what their sockets keep queued in the kernel; cgroup v1 bounds TCP buffers
   * apart at the same amount (see src/sandbox/linux.ts).
   */
  memoryBytes: number;
  /** Process limit (fork bombs die). */
  maxProcesses: number;
  /**
   * Names of the command's environment the script may read, for backends that scope reads
   * (Deno's permissions); the runtime's own variables (`DENO_DIR`, a registry URL) are not among
   * them. Default: none.
   */
  env?: string[];
  /**
   * True when the program itself refuses every read outside `read` (Deno's permissions, which
   * never grant `/proc`): the OS backend then starts it without its own read rule set (Landlock),
   * which would cost a second process start. Default: false.
   */
  readsScopedByProgram?: boolean;
  /**
   * Set when the program reserves far more address space than it uses (V8's heap cages, tens of
   * GiB, reserved at its start): where no memory cgroup works, the OS backend does not cap its
   * address space (an `RLIMIT_AS` of the memory limit would stop it before its first line) but
   * its data (`RLIMIT_DATA`, writable memory: heaps, buffers, WebAssembly memory) at `dataBytes`,
   * and sets `env`, which bounds the program's own heap. Default: none, the address space is
   * capped there.
   */
  reservesAddressSpace?: { env: Record<string, string>; dataBytes: number };
}

/** What a backend's limits saw during a run. */
export interface SandboxUsage {
  /** Peak memory of the run, when the backend measured it. */
  peakMemoryBytes?: number;
  /** True when the memory limit killed a process of the run. */
  memoryLimitHit: boolean;
  /** True when a fork was refused by the process limit. */
  processLimitHit: boolean;
}

/** How a backend wraps one command. */
export interface WrapOptions {
  /**
   * Start ahead of the run, held (backends with `holds` only): the wrapped command sets up its
   * whole sandbox, then waits for one newline on its standard input before anything of the script
   * runs, and ends without running it at end of input. Start it with `holdCommand`.
   */
  held?: boolean;
  /**
   * With `held`: the program itself waits at the gate, on its standard input, once it has started
   * (Deno, through a preloaded module), so that its own start is made ahead too; the backend
   * leaves the gate where it is. Default: the backend's gate waits before the program starts.
   */
  selfGated?: boolean;
}

/** A command wrapped for a backend, and the resources to release after it ran. */
export interface WrappedCommand {
  /** The command to run in place of the original one. */
  spec: CommandSpec;
  /** True when wrapped held (see {@linkcode WrapOptions.held}). */
  held?: boolean;
  /**
   * Held only: the file the gate writes its sign into once it let the run through (see
   * `holdCommand` in exec.ts), out of the script's reach; without it the sign comes on standard
   * error.
   */
  gateSign?: string;
  /**
   * True when the sandbox shows copies of some paths, made when it was set up (a read path its uid
   * may not read): what changes in them later is not seen, so the sandbox is for a run now only.
   */
  copies?: boolean;
  /** Stops helpers (proxy, socat) and removes temporary state. Idempotent. */
  close(): Promise<void>;
  /**
   * `close()` for a process that is exiting (an `unload` listener): synchronous, best effort;
   * what it cannot undo is left to the next run's sweep. Nothing when `close()` was called.
   */
  abandon?(): void;
  /**
   * What the limits saw, for backends that measure it (bubblewrap's cgroups); call after the
   * command ended and before `close()`.
   */
  usage?(): Promise<SandboxUsage>;
}

/** Whether a backend can run here, and if not why and how to fix it. */
export interface Availability {
  /** True when the backend can confine a run here. */
  ok: boolean;
  /** Why it cannot, when it cannot. */
  reason?: string;
  /** What the user can do about it. */
  fix?: string;
}

/** A sandbox backend (bubblewrap, sandbox-exec, none). */
export interface SandboxBackend {
  /** The backend's name, as `capibara doctor` prints it. */
  readonly name: string;
  /** Checks (once, cached) whether the backend works on this machine. */
  available(): Promise<Availability>;
  /** Wraps a command so it runs confined by `policy`. */
  wrap(spec: CommandSpec, policy: SandboxPolicy, options?: WrapOptions): Promise<WrappedCommand>;
  /** True when the backend can start a command held, ahead of its run (`WrapOptions.held`). */
  readonly holds?: boolean;
  /**
   * Where a wrapped command reaches the backend's network proxy, when it runs one at a fixed
   * address inside the sandbox (bubblewrap's bridge on loopback); an inner layer admits it.
   */
  readonly proxyAddress?: { hostname: string; port: number };
  /**
   * True when the backend can show a staging folder at an output's path inside the sandbox
   * (`SandboxPolicy.stage`), so that outputs are copied out instead of written in place.
   */
  readonly stagesOutputs?: boolean;
}
