/**
 * Starting the user's resident runner: by `capibara runner start`, and on demand: a cache hit
 * that a `capibara run` process ran itself, less than {@linkcode ON_DEMAND_WINDOW_MS} after
 * another such hit, starts a runner in the background, so a command called in a loop, a Makefile
 * or a script's steps is served by it from its next call on, while a command run once in a while
 * leaves nothing behind. On demand by default outside CI; with `CAPIBARA_RUNNER=1` in CI too;
 * never with `CAPIBARA_RUNNER=0` (see {@linkcode startsOnDemand}).
 *
 * @module
 */
import { lstatSyncOrNull } from "../_fs.ts";
import { PermissionError } from "../errors.ts";
import { bareCommand, inheritsDescriptors } from "../sandbox/landlock.ts";
import {
  privateFolder,
  runnerAnswers,
  runnerFile,
  runnerFolder,
  runnerSetting,
  socketCalls,
} from "./_runner_socket.ts";
import type { CommandIo } from "./output.ts";

/** Seconds without a request after which a runner exits, by default. */
export const DEFAULT_IDLE_SECONDS = 900;

/** Two hits run without a runner at most this far apart start one on demand. */
export const ON_DEMAND_WINDOW_MS = 60_000;

/** How long a start on demand keeps others from starting one, at most, before it listens. */
export const START_LOCK_MS = 30_000;

/** Creates the runner's folder (0700) or checks the one there; throws when it is not private. */
export function ensureFolder(folder: string): void {
  try {
    Deno.mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  if (!privateFolder(folder)) {
    throw new PermissionError(
      `Cannot use "${folder}" for the runner's key: it is not a folder of yours closed to ` +
        "every other user",
      {
        hint: "Have it removed (it may belong to another user: then only root can remove it); a " +
          "runner makes it again, mode 0700. capibara run works without a runner",
      },
    );
  }
}

/**
 * Starts `capibara runner serve` in the background, detached from this process's session, with
 * none of its standard streams nor any descriptor it inherited (a shell's, a build tool's pipe:
 * a runner would hold them for as long as it lives, and `$(capibara run …)` would wait for it).
 */
export function spawnRunner(idleSeconds: number): Deno.ChildProcess {
  const command = ["runner", "serve", "--idle", String(idleSeconds)];
  let serve: string[];
  if (Deno.build.standalone) {
    // A compiled `capibara`: the binary is the whole program.
    serve = [Deno.execPath(), ...command];
  } else {
    // The same code, with the same configuration and lockfile (a checkout's deno.json).
    const root = new URL("../../", import.meta.url);
    const config = root.protocol === "file:"
      ? decodeURIComponent(new URL("deno.json", root).pathname)
      : undefined;
    const configArgs = config && lstatSyncOrNull(config) ? ["--config", config] : [];
    const entry = new URL("main.ts", root).href;
    serve = [Deno.execPath(), "run", "-A", ...configArgs, entry, ...command];
  }
  let closed: string[] | undefined = serve;
  if (inheritsDescriptors({ lifelong: true })) {
    closed = bareCommand(serve[0]!, serve.slice(1), undefined, Deno.env.toObject());
    if (!closed) {
      throw new PermissionError(
        "Cannot start a runner from here: this command holds descriptors its caller left open " +
          "(a shell's, a build tool's pipe), and without /usr/bin/python3 nothing closes them " +
          "first: the runner would hold them, and whoever waits on them, for as long as it lives",
        { hint: "Start it from a plain shell (capibara runner start), or install python3" },
      );
    }
  }
  const [program, ...args] = closed;
  const child = new Deno.Command(program!, {
    args,
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child;
}

/** Whether a lock of a start on demand is there and younger than {@linkcode START_LOCK_MS}. */
function lockFresh(lock: string): boolean {
  const held = lstatSyncOrNull(lock);
  const age = held?.mtime ? Date.now() - held.mtime.getTime() : Infinity;
  return age >= 0 && age < START_LOCK_MS;
}

/** Whether a start on demand of the runner of `env` is under way (its lock is fresh). */
export function startUnderWay(env: Record<string, string | undefined>): boolean {
  return lockFresh(runnerFile(env, "starting"));
}

/** Takes the lock of a start on demand (a file made exclusively); false when another holds it. */
export function takeStartLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.writeFileSync(lock, new TextEncoder().encode(String(Deno.pid)), {
        createNew: true,
        mode: 0o600,
      });
      return true;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) return false;
      // A start that never listened (it failed, or its machine slept) frees it after a while.
      if (lockFresh(lock)) return false;
      try {
        Deno.removeSync(lock);
      } catch {
        return false;
      }
    }
  }
  return false;
}

/** Variables CI services set (GitHub, GitLab, Azure, Jenkins, and most others set `CI`). */
const CI_VARIABLES = [
  "CI",
  "CONTINUOUS_INTEGRATION",
  "GITHUB_ACTIONS",
  "GITLAB_CI",
  "TF_BUILD",
  "JENKINS_URL",
  "BUILD_NUMBER",
];

/** Whether the environment is a CI service's job (a variable of {@linkcode CI_VARIABLES} set). */
export function inCi(env: Record<string, string | undefined>): boolean {
  return CI_VARIABLES.some((name) => {
    const value = env[name]?.trim().toLowerCase();
    return value !== undefined && !["", "0", "false", "no"].includes(value);
  });
}

/**
 * Whether a hit may start a runner on demand: with `CAPIBARA_RUNNER=1`; with it unset, outside CI
 * (a job's leftover process is unwelcome there; Nx's daemon is off in CI too); never with
 * `CAPIBARA_RUNNER=0`, nor where no client could check what it reaches (see `connectedListener`:
 * Linux 6.5 and FFI, which the witnesses need too, see `ownWitness`). It would decline every
 * client.
 */
export function startsOnDemand(env: Record<string, string | undefined>): boolean {
  const setting = runnerSetting(env);
  if (setting === "off" || (setting === "auto" && inCi(env))) return false;
  return Deno.build.os === "linux" && peerPidfds() && socketCalls() !== null;
}

/** Whether this kernel names a socket's peer by a pidfd (`SO_PEERPIDFD`, Linux 6.5 and later). */
function peerPidfds(): boolean {
  const [major, minor] = Deno.osRelease().split(/[.-]/).map(Number);
  return major! > 6 || (major === 6 && minor! >= 5);
}

/**
 * After a cache hit this process ran itself (no runner listened): starts a runner when
 * {@linkcode startsOnDemand} and the previous such hit was less than
 * {@linkcode ON_DEMAND_WINDOW_MS} ago, and notes it on a terminal. Never throws: a runner that
 * cannot start only costs speed. Returns whether it started one.
 */
export async function startOnDemand(io: CommandIo): Promise<boolean> {
  if (Deno.build.os !== "linux") return false;
  try {
    // Read once: the process's environment is a fresh copy at each read.
    const env = io.env;
    if (!startsOnDemand(env)) return false;
    ensureFolder(runnerFolder());
    const hit = runnerFile(env, "hit");
    const last = lstatSyncOrNull(hit);
    // Made anew, never opened as it is (a FIFO put there would block the open for ever).
    try {
      Deno.removeSync(hit);
    } catch {
      // none
    }
    Deno.writeFileSync(hit, new Uint8Array(0), { mode: 0o600, createNew: true });
    const since = last?.isFile && last.mtime ? Date.now() - last.mtime.getTime() : Infinity;
    if (!(since >= 0 && since < ON_DEMAND_WINDOW_MS)) return false;
    // Something holds the name already (a runner this process may not use, or another user's
    // process): a new runner could not listen, and each start would cost a Deno start for nothing.
    if (await runnerAnswers(env)) return false;
    if (!takeStartLock(runnerFile(env, "starting"))) return false;
    spawnRunner(DEFAULT_IDLE_SECONDS);
  } catch {
    return false;
  }
  if (io.errIsTerminal) {
    io.err(
      "capibara: started a resident runner for faster cache hits (it exits after " +
        `${DEFAULT_IDLE_SECONDS / 60} idle minutes; capibara runner stop ends it, ` +
        "CAPIBARA_RUNNER=0 starts none)",
    );
  }
  return true;
}
