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
 * it is neither this user's nor root's, or it is writable by others, or by a group with another
 * member than this user, and not sticky (in a sticky folder, as `/tmp`, nobody renames or replaces
 * what is not theirs). A folder writable by this user's own group is not (a user private group, as
 * Debian and Ubuntu give each user, with the umask 002 they often pair with it). The one rule by
 * which a path on the way to a private folder, or to what a sandbox is shown, is trusted (see
 * also `_cache_folder.ts`).
 */
export function othersMayChange(info: Deno.FileInfo): boolean {
  const mode = info.mode ?? 0o777;
  if (info.uid !== Deno.uid() && info.uid !== 0) return true;
  if ((mode & 0o1000) !== 0) return false;
  if ((mode & 0o002) !== 0) return true;
  return (mode & 0o020) !== 0 && !groupOfOwnAlone(info.gid);
}

/** The groups found to be this user's alone, or not (read once per process). */
const ownGroups = new Map<number, boolean>();

/**
 * Whether the group `gid` has no member but this user: it is this user's own group, no other
 * account of `/etc/passwd` has it as its group, and `/etc/group` lists it with no other member.
 * A group these files do not name (a directory service's), or name twice, is taken as shared;
 * members a directory service adds to a group these files name are not seen.
 */
function groupOfOwnAlone(gid: number | null): boolean {
  if (gid === null || gid !== Deno.gid()) return false;
  let known = ownGroups.get(gid);
  if (known !== undefined) return known;
  try {
    known = groupAlone(
      Deno.readTextFileSync("/etc/passwd"),
      Deno.readTextFileSync("/etc/group"),
      Deno.uid() ?? -1,
      gid,
    );
  } catch {
    known = false; // unreadable: shared, as far as this user can tell
  }
  ownGroups.set(gid, known);
  return known;
}

/**
 * Whether, by the text of `/etc/passwd` and `/etc/group`, the group `gid` has no member but the
 * account `uid`: no other account has it as its group, and exactly one line names it, with no
 * other member listed (a second line with the same number would add its members).
 */
export function groupAlone(passwd: string, group: string, uid: number, gid: number): boolean {
  const id = (field: string | undefined) => /^\d+$/.test(field?.trim() ?? "") ? Number(field) : NaN;
  let name: string | undefined;
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4) continue;
    if (id(fields[2]) === uid) name = fields[0];
    else if (id(fields[3]) === gid) return false;
  }
  const lines = group.split("\n").map((line) => line.split(":"))
    .filter((fields) => fields.length >= 4 && id(fields[2]) === gid);
  const members = lines.flatMap((fields) => fields[3]!.split(","))
    .map((member) => member.trim()).filter((member) => member !== "");
  return name !== undefined && lines.length === 1 && members.every((member) => member === name);
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
