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
  /** Directories the script may write (the outputs' directories, granted paths). */
  write: string[];
  /** Paths that stay read-only even inside a writable path (`.capibara/`, `.git/`, shell rc files). */
  protect: string[];
  /** The script's working directory (readable; writable only if listed in `write`). */
  workdir: string;
  /** Private temporary directory: writable, HOME and TMPDIR point here. */
  tmpDir: string;
  /** Memory limit in bytes. */
  memoryBytes: number;
  /** Process limit (fork bombs die). */
  maxProcesses: number;
}

/** A command wrapped for a backend, and the resources to release after it ran. */
export interface WrappedCommand {
  spec: CommandSpec;
  /** Stops helpers (proxy, socat) and removes temporary state. Idempotent. */
  close(): Promise<void>;
}

/** Whether a backend can run here, and if not why and how to fix it. */
export interface Availability {
  ok: boolean;
  reason?: string;
  fix?: string;
}

/** A sandbox backend (bubblewrap, sandbox-exec, none). */
export interface SandboxBackend {
  readonly name: string;
  /** Checks (once, cached) whether the backend works on this machine. */
  available(): Promise<Availability>;
  /** Wraps a command so it runs confined by `policy`. */
  wrap(spec: CommandSpec, policy: SandboxPolicy): Promise<WrappedCommand>;
}
