/**
 * The folder of the user's runner keys (`capibara runner`), and the one rule for trusting it. A
 * leaf: the runner, its client and the sandbox (which hides it from every script) share it.
 *
 * The folder never depends on the environment: a runner started with other variables than a
 * run's keeps its key where that run's sandbox hides it too, and one user has one runner per
 * checkout however its variables differ from one command to the next.
 *
 * It imports nothing: the client loads it before every command, and each module costs a start
 * ≈ 0.3 ms. Its paths are POSIX paths (the runner is Linux's).
 *
 * The `capibara` command loads the client and what it imports as one compiled file
 * (`src/cli/_runner_client.bundle.js`): after a change here, `deno task build:client` (a test
 * fails until then).
 *
 * @module
 */

/** The folder holding `path`, a path {@linkcode plainAbsolute} allows. */
function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** Whether `path` is absolute, with no empty, `.` or `..` part: a path `resolve` leaves as it is. */
function plainAbsolute(path: string): boolean {
  return path === "/" ||
    (path.startsWith("/") &&
      path.slice(1).split("/").every((part) => part !== "" && part !== "." && part !== ".."));
}

/** The two places a key can be, for this user: the login session's runtime folder, then /tmp. */
export function runnerFolders(): string[] {
  const uid = Deno.uid() ?? "user";
  return [`/run/user/${uid}/capibara`, `/tmp/capibara-${uid}`];
}

/**
 * The folder of the user's runner keys (not checked: see {@linkcode privateFolder}):
 * `/run/user/<uid>/capibara` when the login session's runtime folder (systemd's) exists and is
 * {@linkcode privateFolder}, else `/tmp/capibara-<uid>`.
 */
export function runnerFolder(): string {
  return chosen ??= choose();
}

/** Chosen once per process: a failed look-up costs ≈ 0.5 ms, and the client asks several times. */
let chosen: string | undefined;

function choose(): string {
  const [session, tmp] = runnerFolders() as [string, string];
  return listed(parentOf(session)) !== false && privateFolder(parentOf(session)) ? session : tmp;
}

/**
 * Whether `path`'s folder lists it (undefined: its folder cannot be listed, then `lstat` tells):
 * asked of the session's runtime folder, which is missing for many (root outside a login session,
 * containers), without the error a failed `lstat` raises (≈ 1 ms in a new process: every
 * command asks).
 */
function listed(path: string): boolean | undefined {
  try {
    const name = path.slice(path.lastIndexOf("/") + 1);
    for (const entry of Deno.readDirSync(parentOf(path))) {
      if (entry.name === name) return true;
    }
    return false;
  } catch (error) {
    // Missing: so is what it would list. Closed to this user (mode 0711): unknown.
    return error instanceof Deno.errors.NotFound ? false : undefined;
  }
}

/**
 * Whether another user could change what is in `info`'s folder (add, rename or replace an entry):
 * it is neither this user's nor root's, or it is writable by its group or others and not sticky
 * (in a sticky folder, as `/tmp`, nobody renames or replaces what is not theirs). The one rule by
 * which a path on the way to a private folder is trusted (see also `_cache_folder.ts`).
 */
export function othersMayChange(info: Deno.FileInfo): boolean {
  const mode = info.mode ?? 0o777;
  return (info.uid !== Deno.uid() && info.uid !== 0) ||
    ((mode & 0o022) !== 0 && (mode & 0o1000) === 0);
}

/**
 * Whether `folder` is a real folder of this user's that no other user can enter, change or swap:
 * mode 0700, and every folder above it this user's or root's, and writable by others only when
 * sticky (as `/tmp`), so that nobody else can rename it away between this check and its use.
 */
export function privateFolder(folder: string): boolean {
  if (!plainAbsolute(folder)) return false;
  const uid = Deno.uid();
  try {
    const info = Deno.lstatSync(folder);
    if (!info.isDirectory || info.uid !== uid || ((info.mode ?? 0o777) & 0o077) !== 0) {
      return false;
    }
    for (let dir = parentOf(folder);; dir = parentOf(dir)) {
      const above = Deno.lstatSync(dir);
      if (!above.isDirectory || othersMayChange(above)) return false;
      if (dir === "/") return true;
    }
  } catch {
    return false;
  }
}
