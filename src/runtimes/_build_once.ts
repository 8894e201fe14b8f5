/**
 * The one "build an environment once" helper shared by the runtimes.
 *
 * A target directory is complete when its readiness marker exists and is valid: the marker is
 * written last, atomically, beside the directory (never in it, which a build's untrusted code may
 * write), so a crash at any point leaves a directory without one, which the next build removes.
 * Builders of the same target are serialised by an OS file lock (other processes) and share one
 * promise (this process), so each target is built once.
 *
 * @module
 */
import { dirname } from "../_path.ts";
import { Memo } from "../_memo.ts";
import { removeIfExists } from "../_fs.ts";

/** What {@linkcode buildOnce} builds, and how it recognises a finished target. */
export interface BuildOnceSpec<M> {
  /** The target directory (absolute). It is created empty before `build` runs. */
  dir: string;
  /** The lock file (default `<dir>.lock`). Never removed: another process may hold it. */
  lockFile?: string;
  /** The readiness marker's suffix: the file `<dir><marker>` beside `dir` (see markerFile). */
  marker: string;
  /**
   * Turns a marker's parsed JSON into the marker of a usable target, or undefined when it is
   * malformed or stale (another requirement set, a missing interpreter): then it is rebuilt.
   */
  accept(raw: unknown, dir: string): M | undefined | Promise<M | undefined>;
  /** Fills `dir`; returns the marker to write once everything else is in place. */
  build(dir: string): Promise<M>;
  /** Called when another process holds the lock and this one starts waiting. */
  onWait?: () => void;
}

/**
 * Where the readiness marker of `dir` lives: beside it, as its lock does (`<dir><marker>`), never
 * inside the target, which an install's untrusted code (a source build) may write while it is
 * built: a marker planted there was taken for finished by every lock-free lookup meanwhile.
 */
export function markerFile(dir: string, marker: string): string {
  return `${dir}${marker}`;
}

/** Builds in flight in this process, by target directory. */
const inFlight = new Memo<string, unknown>();

/**
 * The marker of a finished target, or undefined. No lock is taken: the marker is written
 * atomically, so it is either absent or complete.
 */
export async function readReady<M>(
  spec: Pick<BuildOnceSpec<M>, "dir" | "marker" | "accept">,
): Promise<M | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(markerFile(spec.dir, spec.marker)));
  } catch {
    return undefined;
  }
  return await spec.accept(raw, spec.dir);
}

/**
 * The marker of the finished target `spec.dir`, building it first when needed.
 *
 * Concurrent callers (in this process or others) wait for one build. A failed build leaves no
 * directory behind and is not remembered: the next call builds again.
 */
export async function buildOnce<M>(spec: BuildOnceSpec<M>): Promise<M> {
  const ready = await readReady(spec);
  if (ready !== undefined) return ready;
  const promise = inFlight.get(spec.dir, () => buildLocked(spec)) as Promise<M>;
  try {
    return await promise;
  } finally {
    // Only builds in flight are shared: a finished target is found through its marker, so a
    // target removed later (`capibara clear`) is rebuilt.
    inFlight.clear(spec.dir);
  }
}

async function buildLocked<M>(spec: BuildOnceSpec<M>): Promise<M> {
  await Deno.mkdir(dirname(spec.dir), { recursive: true });
  const lock = await Deno.open(spec.lockFile ?? `${spec.dir}.lock`, {
    create: true,
    write: true,
  });
  try {
    if (!(await lock.tryLock(true))) {
      spec.onWait?.();
      await lock.lock(true);
    }
    // Another process may have finished while we waited.
    const ready = await readReady(spec);
    if (ready !== undefined) return ready;

    await removeIfExists(markerFile(spec.dir, spec.marker)); // a stale target's
    await removeIfExists(spec.dir); // a half-built leftover, or a stale target
    await Deno.mkdir(spec.dir);
    try {
      const marker = await spec.build(spec.dir);
      await writeMarker(spec.dir, spec.marker, marker);
      return marker;
    } catch (error) {
      await removeIfExists(spec.dir);
      throw error;
    }
  } finally {
    lock.close(); // releases the lock
  }
}

/**
 * Writes the marker atomically. The builder may have run untrusted code with `dir` writable, so
 * nothing already at the temporary name is followed: it is removed, and the file is created new.
 */
async function writeMarker(dir: string, name: string, marker: unknown): Promise<void> {
  const target = markerFile(dir, name);
  const tmp = `${target}.tmp`;
  await removeIfExists(tmp);
  await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n", { createNew: true });
  await Deno.rename(tmp, target);
}
