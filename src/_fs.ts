/**
 * Path and file-system helpers every module shares: one definition of "is this path inside that
 * one", of resolving a path that may not exist yet, and of quiet look-ups.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, relative, sep } from "./_path.ts";

/**
 * Whether `child` is `parent` or lies below it, comparing normalised absolute paths lexically
 * (no symlink is followed: resolve both first where links matter).
 */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** `Deno.lstat`, or `null` when the path does not exist or cannot be read. */
export async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch {
    return null;
  }
}

/**
 * `Deno.lstatSync`, or `null` when the path does not exist or cannot be read: for many quick
 * looks at local paths, where each async call would cost a round trip to a worker thread.
 */
export function lstatSyncOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/** Whether anything (a dangling symlink included) exists at `path`; other errors are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `Deno.realPath`, or `null` when the path does not exist. */
export async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.realPath(path);
  } catch {
    return null;
  }
}

/** `Deno.realPathSync`, or `null` when the path does not exist (the synchronous twin, as above). */
export function realPathSyncOrNull(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}

/** Realpath of the longest existing prefix of `path`, with the rest appended. */
export async function realPathLoose(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await Deno.realPath(current);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(basename(current));
      current = parent;
    }
  }
}

/** Removes a file or folder tree; absent is fine. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
