/**
 * Where the resident runner (`capibara runner`) listens, and what its client and it agree on. Kept
 * free of every other module: the client loads it before anything else on each `capibara run`.
 *
 * The socket lives in a folder of the user's own (`$XDG_RUNTIME_DIR/capibara`, else
 * `<temp dir>/capibara-<uid>`), which must be a real folder owned by the user and closed to every
 * other user (mode 0700): a folder someone else made or can enter is never used, by the runner or
 * by a client (a stranger's socket there would receive the request, its environment included).
 *
 * @module
 */

import { privateFolder, runnerFolder } from "../_runner_folder.ts";
export { privateFolder, runnerFolder } from "../_runner_folder.ts";

/** The protocol's version: a client and a runner of different versions never talk. */
export const RUNNER_PROTOCOL = 1;

/**
 * Variables the runner's own process reads (the temp dir, the home folder, programs looked up on
 * `PATH`, the sandbox's uid): a client whose values differ runs in its own process.
 */
export const PROCESS_VARIABLES: readonly string[] = [
  "TMPDIR",
  "TMP",
  "TEMP",
  "HOME",
  "PATH",
  "XDG_RUNTIME_DIR",
  "CAPIBARA_SANDBOX_UID",
  // Read by the generation's checks on a miss.
  "LANG",
  "PYENV_ROOT",
  "PYENV_VERSION",
];

/** Variables naming folders: a relative one would be read from the runner's folder, not yours. */
export const PATH_VARIABLES: readonly string[] = [
  "CAPIBARA_CACHE_DIR",
  "XDG_CACHE_HOME",
  "DENO_DIR",
];

/** 32-bit FNV-1a, hex: a short name for the code's location (not a security boundary). */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * The runner's socket for this code (its location and the protocol): a runner of another checkout
 * or version listens elsewhere.
 */
export function runnerSocket(env: Record<string, string | undefined>): string {
  const code = new URL("../..", import.meta.url).href;
  return `${runnerFolder(env)}/runner-${shortHash(`${RUNNER_PROTOCOL}\0${code}`)}.sock`;
}

/**
 * A connection to the user's runner, or undefined when none listens, or its folder is not the
 * user's alone (then nothing is sent: a stranger's socket would receive the request).
 */
export async function connectRunner(
  env: Record<string, string | undefined>,
): Promise<Deno.UnixConn | undefined> {
  if (!privateFolder(runnerFolder(env))) return undefined;
  try {
    return await Deno.connect({ transport: "unix", path: runnerSocket(env) });
  } catch {
    return undefined;
  }
}

/** A runner's message to its client, one JSON document per line. */
export type RunnerReply =
  | { run: true }
  | { o: string }
  | { e: string }
  | { x: number }
  | { decline: string }
  | { status: RunnerStatus }
  | { ok: true };

/** What `capibara runner status` shows. */
export interface RunnerStatus {
  pid: number;
  socket: string;
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
  | {
    v: number;
    kind: "run";
    args: string[];
    cwd: string;
    env: Record<string, string>;
    errIsTerminal: boolean;
  }
  | { v: number; kind: "status" | "stop" }
  | { signal: "SIGINT" | "SIGTERM" };
