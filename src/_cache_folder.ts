/**
 * The machine-local cache folder holds what runs start and what this machine trusts: the
 * environments and their interpreters, the sandbox's probe (the bubblewrap binary it names runs,
 * as root too), Deno's package caches and code cache seed, the verdicts of module graph checks,
 * the trust records of project configurations and the acceptances of entries. Whoever may write in
 * it decides what Capibara runs and trusts: it must be this user's alone, as the runner's folder
 * is ({@linkcode privateFolder}).
 *
 * @module
 */
import { resolve } from "./_path.ts";
import { lstatSyncOrNull, realPathSyncOrNull } from "./_fs.ts";
import { othersMayChange, privateFolder } from "./_runner_folder.ts";
import { PermissionError } from "./errors.ts";

/**
 * Why the path as given could lead elsewhere later, or undefined: each folder on the way that
 * exists must be one no other user can change ({@linkcode othersMayChange}: this user's or root's,
 * writable by others only when sticky, as `/tmp`, where nobody may rename or replace what is not
 * theirs), and a link on the way this user's or root's (another user's link could be pointed
 * anywhere at any moment). The end of the path, with `leaf: "own"`, must be this user's or root's
 * too; with `leaf: "unchanged"`, a folder there must be one no other user can change, and a file
 * may be anyone's (its content is not where it leads). With `make`, each missing part is made
 * (0700), one at a time and checked before the next: nothing is made through a part that fails.
 * The one walker of both the cache folder's path and the paths a run's sandbox is shown.
 */
export function pathProblem(
  absolute: string,
  options: { make?: boolean; leaf?: "own" | "unchanged" } = {},
): string | undefined {
  const uid = Deno.uid();
  const leaf = options.leaf ?? "own";
  let path = "";
  for (const part of ["", ...absolute.split("/").filter((p) => p !== "")]) {
    path = part === "" ? "/" : `${path === "/" ? "" : path}/${part}`;
    let info = lstatSyncOrNull(path);
    if (info === null) {
      if (!options.make) return undefined;
      try {
        // Not recursive, and never through a link: mkdir does not follow one it finds in place.
        Deno.mkdirSync(path, { mode: 0o700 });
      } catch {
        // another process made it meanwhile (checked next), or it cannot be made (seen at use)
      }
      info = lstatSyncOrNull(path);
      if (info === null) return undefined;
    }
    const owned = info.uid === uid || info.uid === 0;
    if (path !== absolute || leaf === "own" || info.isSymlink) {
      if (!owned) return `${path} belongs to uid ${info.uid}, not to you`;
    }
    if (info.isDirectory && (path !== absolute || leaf === "unchanged") && othersMayChange(info)) {
      return `${path}${path === absolute ? "" : ", a folder on its way,"} may be changed by ` +
        "other users";
    }
  }
  return undefined;
}

/**
 * Whether `folder` exists and is this user's alone: the path as given leads there for good (see
 * {@linkcode pathProblem}) and its real path is a private folder ({@linkcode privateFolder}).
 * Always true where files have no owners to check (Windows).
 */
export function cacheFolderIsOwn(folder: string): boolean {
  if (Deno.build.os === "windows") return true;
  const absolute = resolve(folder);
  if (pathProblem(absolute) !== undefined) return false;
  const real = realPathSyncOrNull(absolute);
  return real !== null && privateFolder(real);
}

/**
 * Makes the cache folder `folder` (mode 0700) when it is missing, closes one of this user's that
 * others may read but not write (0755: nothing of theirs can be in it) to 0700, and checks that it
 * is this user's alone ({@linkcode cacheFolderIsOwn}). What uses the cache afterwards must use the
 * real path this returns, never `folder` again: only the real path was checked.
 *
 * @returns the folder's real path.
 * @throws {PermissionError} when it is not a folder, not this user's, writable by others, or lies
 * in a folder others may change, or the path as given passes through another user's link or a
 * folder others may change (it may hold what they put there, or lead there later).
 */
export function ownCacheFolder(folder: string): string {
  const absolute = resolve(folder);
  if (Deno.build.os === "windows") return absolute;
  const given = pathProblem(absolute, { make: true });
  if (given !== undefined) {
    throw new PermissionError(`Cannot use the cache folder "${folder}": ${given}`, {
      hint: HINT,
      details: { cache_dir: folder },
    });
  }
  const real = realPathSyncOrNull(absolute);
  const info = real === null ? null : lstatSyncOrNull(real);
  const mode = info?.mode ?? 0;
  if (
    real !== null && info?.isDirectory && info.uid === Deno.uid() &&
    (mode & 0o022) === 0 && (mode & 0o077) !== 0
  ) {
    try {
      Deno.chmodSync(real, 0o700);
    } catch {
      // checked next
    }
  }
  if (real !== null && privateFolder(real)) return real;
  throw new PermissionError(
    `Cannot use the cache folder "${folder}": ${problemOf(real, info)}`,
    {
      hint: HINT,
      details: { cache_dir: folder, ...(real !== null ? { real_path: real } : {}) },
    },
  );
}

const HINT = "Use a folder only you can write: unset CAPIBARA_CACHE_DIR (the default is your " +
  "own), or point it (or the SDK's cacheDir) at a new folder of yours, on a path no other user " +
  "can change; a folder others could write may hold what they put there: remove it rather than " +
  "reuse it";

/** Why a cache folder is refused, in words. */
function problemOf(real: string | null, info: Deno.FileInfo | null): string {
  if (real === null || info === null) return "it cannot be made or read";
  if (!info.isDirectory) return "it is not a folder";
  if (info.uid !== Deno.uid()) return `it belongs to uid ${info.uid}, not to you`;
  if (((info.mode ?? 0) & 0o022) !== 0) {
    return `other users may write in it (mode ${((info.mode ?? 0) & 0o7777).toString(8)})`;
  }
  return "a folder above it may be changed by other users";
}
