/**
 * Path and file-system helpers every module shares: one definition of "is this path inside that
 * one", of resolving a path that may not exist yet, and of quiet look-ups.
 *
 * @module
 */
import { isAbsolute, join, relative, resolve, sep, tmpDir } from "./_path.ts";
import { ValidationError } from "./errors.ts";

/**
 * `fn()`'s value as a promise, its exception as a rejection: a synchronous body (quick local
 * look-ups) behind an asynchronous signature, which never throws before its caller awaits.
 */
export function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Whether `child` is `parent` or lies below it, comparing normalised absolute paths lexically
 * (no symlink is followed: resolve both first where links matter).
 */
export function isInside(child: string, parent: string): boolean {
  // Two plain absolute paths (no `.`, `..` or empty part, no trailing slash): a prefix test
  // answers the same as the resolution below, which costs microseconds per call, and a run asks
  // hundreds (every bound path against every hidden one).
  if (plainAbsolute(child) && plainAbsolute(parent)) {
    return child === parent || child.startsWith(parent === "/" ? "/" : `${parent}/`);
  }
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** A POSIX path that `resolve` leaves as it is: absolute, no `.`, `..` or empty part. */
function plainAbsolute(path: string): boolean {
  return Deno.build.os !== "windows" && path.startsWith("/") && !NOT_PLAIN.test(path);
}
const NOT_PLAIN = /\/\/|\/\.\.?(\/|$)|.\/$/;

/** `Deno.lstat`, or `null` when the path does not exist or cannot be read. */
export async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch {
    return null;
  }
}

/** `Deno.statSync` (links followed, as a program opening the path follows them), or `null`. */
export function statSyncOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
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

/**
 * A small file's text (a kernel file of /proc or a cgroup), or `null` when it cannot be read:
 * synchronous, as {@linkcode lstatSyncOrNull}, for the many such reads of a run's set-up.
 */
export function readTextSyncOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Whether anything (a dangling symlink included) exists at `path` (not when a folder on its way
 * is missing, or is a file); other errors are thrown.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (absence(error)) return false;
    throw error;
  }
}

/**
 * Whether anything (a dangling symlink included) exists at `path`; other errors are thrown. The
 * synchronous twin of {@linkcode exists}, for look-ups on the hit path: the first asynchronous
 * calls of a process wait for worker threads to start (≈ 1 ms each here).
 */
export function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (absence(error)) return false;
    throw error;
  }
}

/**
 * How many entries {@linkcode entriesNamed} lists per name looked for before it asks name by name
 * instead: listing costs ≈ 2-4 µs an entry here, an absent name's error ≈ 0.03 ms in a warm process
 * and ≈ 0.15 ms in a new one.
 */
const ENTRIES_PER_NAME = 32;

/**
 * The largest folder {@linkcode entriesNamed} lists, by the size `stat` gives it: one ext4 block
 * (up to ≈ 100-200 short names); tmpfs, btrfs and most others count 20-40 bytes an entry. Deno
 * reads a listing whole before it yields its first entry, so a count alone bounds nothing: a
 * `/tmp` of 600 entries cost 1.2 ms to list, for two names each 0.03 ms to ask for.
 */
const LISTED_FOLDER_BYTES = 4096;

/**
 * The entries of `dir` whose names are among `names`, as paths under `dir`. A listing compares
 * names without case (a case-insensitive file system finds `.BASHRC` for `.bashrc`; elsewhere it
 * is one more path matched); asked name by name, the file system decides. One listing of a small
 * folder costs a fraction of looking for each absent name; a folder that cannot be listed, is
 * larger than {@linkcode LISTED_FOLDER_BYTES}, or holds more than 32 entries per name looked for,
 * is asked name by name instead, and a large one that can be listed but not searched (mode `r--`)
 * is listed after all. A folder that does not exist, or is a file, holds none.
 *
 * @throws {Deno.errors.PermissionDenied} (or another error but NotFound) when a name cannot be
 *   looked up, as `lstat` would
 */
export function entriesNamed(dir: string, names: readonly string[]): string[] {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const cap = ENTRIES_PER_NAME * Math.max(names.length, 2);
  const listed = (limit: number): string[] => {
    const found: string[] = [];
    let count = 0;
    for (const entry of Deno.readDirSync(dir)) {
      if (++count > limit) throw new RangeError("a large folder");
      if (wanted.has(entry.name.toLowerCase())) found.push(join(dir, entry.name));
    }
    return found;
  };
  const asked = (): string[] =>
    [...new Set(names)].map((name) => join(dir, name)).filter((path) => {
      try {
        Deno.lstatSync(path);
        return true;
      } catch (error) {
        if (absence(error)) return false;
        throw error;
      }
    });
  let large = false;
  try {
    large = Deno.statSync(dir).size > LISTED_FOLDER_BYTES;
    if (!large) return listed(cap);
  } catch (error) {
    if (absence(error)) return [];
  }
  try {
    return asked();
  } catch (error) {
    // Readable but not searchable: its names can only be listed.
    if (large && error instanceof Deno.errors.PermissionDenied) return listed(Infinity);
    throw error;
  }
}

/** Whether an error says that nothing is there: the path, or a folder on its way, is missing. */
function absence(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
}

/** `Deno.realPath`, or `null` when the path does not exist. */
export async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.realPath(path);
  } catch {
    return null;
  }
}

/**
 * The identity of the file at `path` as it is now (path, inode, size, time of change, owner):
 * another file put at the path, or the same one rewritten, has another. What is remembered of a
 * program (a probe, a cache built by it) holds only while its identity is the same.
 *
 * @throws {Deno.errors.NotFound} when nothing is at `path` (a link is followed)
 */
export function fileIdentity(path: string): string {
  const info = Deno.statSync(path);
  return [path, info.ino, info.size, info.mtime?.getTime() ?? null, info.uid].join(":");
}

/** What identifies a file on this machine: its device and inode (`dev:ino`). */
export function inodeOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

/** The longest path the system takes, in bytes with its final NUL (Linux's `PATH_MAX`). */
const PATH_MAX = 4096;

/**
 * Whether every entry `Deno.readDirSync(folder)` listed (`names`) can be reached by its name: a
 * name that is not UTF-8 comes back with U+FFFD in its place (leading nowhere, or to another entry
 * of that very name, so two names alike tell it too), and a path longer than the system takes
 * cannot be looked up.
 */
export function namesReachable(folder: string, names: readonly string[]): boolean {
  if (new Set(names).size !== names.length) return false;
  const encoder = new TextEncoder();
  return names.every((name) =>
    !name.includes("\uFFFD") && encoder.encode(`${folder}/${name}`).length < PATH_MAX
  );
}

/** `Deno.realPathSync`, or `null` when the path does not exist (the synchronous twin, as above). */
export function realPathSyncOrNull(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}

/**
 * Realpath of the longest existing prefix of `path`, with the rest appended. A few quick looks
 * ({@linkcode realPathLooseSync}), answered as a promise.
 */
export function realPathLoose(path: string): Promise<string> {
  return promised(() => realPathLooseSync(path));
}

/**
 * Realpath of the longest existing prefix of `path`, with the rest appended. `within`: a folder
 * that exists and holds `path` (its prefix as written), from which the parts are looked up.
 */
export function realPathLooseSync(path: string, within?: string): string {
  try {
    return Deno.realPathSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const absolute = resolve(path);
  const parts = absolute.split("/");
  /** The path of its first `count` parts (1: the root). */
  const prefix = (count: number) => parts.slice(0, count).join("/") || "/";
  const real = (count: number) => {
    try {
      return Deno.realPathSync(prefix(count));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      return undefined;
    }
  };
  // Looked up from a folder known to exist down, part by part, each failed lookup being the last
  // (it costs an error); else bisected between the root and the path (each folder above one that
  // exists exists too). A look at each folder up, nearest first, cost a failed lookup (and a copy
  // of the path) per missing part, thousands deep.
  const base = within === undefined ? undefined : resolve(within);
  if (base !== undefined && isInside(absolute, base)) {
    let count = base === "/" ? 1 : base.split("/").length;
    let found = Deno.realPathSync(base);
    for (; count < parts.length; count++) {
      const at = real(count + 1);
      if (at === undefined) break;
      found = at;
    }
    return join(found, ...parts.slice(count));
  }
  let found = real(1);
  if (found === undefined) return path;
  // `low` parts exist; `high` parts do not (the whole path, looked at above).
  let [low, high] = [1, parts.length];
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    const at = real(middle);
    if (at === undefined) high = middle;
    else [low, found] = [middle, at];
  }
  return join(found, ...parts.slice(low));
}

/** Why {@linkcode readRegularFileSync} did not read a file. */
export class FileRefused extends Error {
  /** "is missing", "is not a regular file" (a link, a FIFO, a device, a folder), "is larger than N bytes". */
  readonly reason: string;
  /** The file. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path} ${reason}`);
    this.name = "FileRefused";
    this.reason = reason;
    this.path = path;
  }
}

/**
 * The bytes of `path` when it is a regular file of at most `maxBytes`, never read through a
 * symlink: a file a repository brings (a manifest, a script, a configuration) could be a link to
 * `/dev/zero` or `/dev/stdin`, a FIFO, or huge, and a command that reads it must neither block nor
 * fill its memory. Checked by `lstat` before the open and by the open file's own `stat` after
 * (the same device and inode, still regular), and read no further than the bound.
 *
 * `opened`, when given, is told the opened file's own `stat` before anything is read (its mode
 * and owner are then the file's that is read, whatever the path leads to afterwards).
 *
 * @throws {FileRefused} with why it was not read.
 */
export function readRegularFileSync(
  path: string,
  maxBytes: number,
  opened?: (info: Deno.FileInfo) => void,
): Uint8Array {
  const info = lstatSyncOrNull(path);
  if (!info) throw new FileRefused(path, "is missing");
  if (!info.isFile) throw new FileRefused(path, "is not a regular file");
  const tooLarge = () => new FileRefused(path, `is larger than ${maxBytes} bytes`);
  if (info.size > maxBytes) throw tooLarge();
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new FileRefused(path, "is missing");
    throw error;
  }
  try {
    const stat = file.statSync();
    if (!stat.isFile || stat.ino !== info.ino || stat.dev !== info.dev) {
      throw new FileRefused(path, "is not a regular file");
    }
    opened?.(stat);
    let buffer = new Uint8Array(Math.min(maxBytes, stat.size) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        // Grown since its stat: read on, up to the bound.
        if (length > maxBytes) throw tooLarge();
        const larger = new Uint8Array(Math.min(maxBytes + 1, length * 2));
        larger.set(buffer);
        buffer = larger;
      }
      const n = file.readSync(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    file.close();
  }
}

/**
 * Whether this process may make an entry in `folder`, asked of the file system itself (a mode
 * says nothing of a read-only mount, an immutable folder or an ACL): a folder made there and
 * removed at once (≈ 0.05 ms). The error when it may not, undefined when it may.
 */
export function unwritable(folder: string): Error | undefined {
  try {
    const probe = join(
      folder,
      `.capibara-probe-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID().slice(0, 8)}`,
    );
    Deno.mkdirSync(probe, { mode: 0o700 });
    Deno.removeSync(probe);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * What {@linkcode unwritable} leaves in a folder when its process is killed between its two steps:
 * an empty folder, named with that process's pid and pid namespace (removed by the next move of
 * outputs there).
 */
export const LEFT_PROBE = /^\.capibara-probe-(\d+)-ns(\d+)-[0-9a-f]{8}$/;

/**
 * Gives this user's folders under `path` (and `path` itself) that lack the owner's read, write or
 * search bit those bits again; whether it changed any. A tree a script or a package's build wrote
 * may hold folders it closed to its owner (mode 000), which a removal cannot enter. Each is looked
 * at with `lstat` first, so a link found is never followed; one swapped in after the look is
 * followed by the path's `chmod`, which only ever adds this user's own bits to a file of theirs:
 * what the process that swapped it (the user's own, and never root's, whose removals need none of
 * this) could do itself. So never while a sandbox that writes the tree still runs: a script there
 * could swap in a link to a file of the user's it cannot reach. Walked with a list, not the stack:
 * a tree may be deeper than a call stack is.
 */
export function reopenFolders(path: string): boolean {
  const uid = Deno.uid();
  let changed = false;
  const pending = [path];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const info = lstatSyncOrNull(next);
    if (!info?.isDirectory || (uid !== null && info.uid !== uid)) continue;
    const mode = (info.mode ?? 0) & 0o7777;
    if ((mode & 0o700) !== 0o700) {
      try {
        Deno.chmodSync(next, mode | 0o700);
        changed = true;
      } catch {
        continue;
      }
    }
    try {
      for (const entry of Deno.readDirSync(next)) {
        if (entry.isDirectory) pending.push(join(next, entry.name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return changed;
}

/**
 * Removes a file or folder tree; absent is fine. Folders of this user's in it that their writer
 * closed (a script's, a build's: mode 000) are opened again first, else the tree would outlive
 * its run for good.
 */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (!(error instanceof Deno.errors.PermissionDenied) || !reopenFolders(path)) throw error;
    await removeIfExists(path);
  }
}

/** {@linkcode removeIfExists}, synchronously (an `unload` listener's, a sweep's). */
export function removeIfExistsSync(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (!(error instanceof Deno.errors.PermissionDenied) || !reopenFolders(path)) throw error;
    removeIfExistsSync(path);
  }
}

/**
 * The temp dir runs use (`TMPDIR`, else `/tmp`), resolved: the absolute real path every run's
 * folders are made and looked for in, whatever link or relative path names it.
 *
 * @throws {ValidationError} naming `TMPDIR` when it leads to no folder
 */
export function realTmpDir(): string {
  const named = tmpDir();
  const real = realPathSyncOrNull(named);
  if (real === null || !statSyncOrNull(real)?.isDirectory) {
    throw new ValidationError(`The temp dir "${named}" (TMPDIR) is not a folder that exists`, {
      hint: "Create it, set TMPDIR to a folder that exists, or unset TMPDIR",
    });
  }
  return real;
}

/**
 * The name of a run's temp dir (a script's, an install's, a check's): the only kind of temp dir
 * the sandbox's sweeps remove when the Capibara that made it was killed before its clean-up. Its
 * first group is that Capibara's pid (names made before it was there have none).
 */
export const RUN_DIR_NAME: RegExp =
  /^capibara-run-(?:(\d+)-(?:ns(\d+)-)?)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * This process's pid namespace (the inode `/proc/self/ns/pid` names), which names that carry a
 * pid carry too: a pid is "gone" only in the namespace it was read in (a container may share the
 * temp dir or the cgroup parent with the host).
 */
export function pidNamespace(): string {
  // Read once: a process never changes pid namespace (unsharing one moves its children only).
  if (ownPidNamespace === undefined) {
    try {
      ownPidNamespace = /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))?.[1] ?? "0";
    } catch {
      return "0";
    }
  }
  return ownPidNamespace;
}

let ownPidNamespace: string | undefined;

/**
 * Whether this process can tell a gone Capibara from a live one by its pid: its pid namespace is
 * known ({@linkcode pidNamespace}) and `/proc` is that namespace's, as `/proc/self/status` says
 * when its `NSpid` line lists one pid, this process's own. Under `unshare --pid` with the parent's
 * `/proc` still mounted, or with none, a pid is looked up among another namespace's (or nobody's)
 * processes and a live run looks gone: nothing is swept then. Read once.
 */
export function sweepsByPid(): boolean {
  if (ownProc === undefined) {
    const status = readTextSyncOrNull("/proc/self/status") ?? "";
    const listed = /^NSpid:[ \t]*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
    ownProc = pidNamespace() !== "0" && listed.length === 1 && listed[0] === String(Deno.pid);
  }
  return ownProc;
}

let ownProc: boolean | undefined;

/**
 * A fresh path for a run's temp dir ({@linkcode RUN_DIR_NAME}) in the temp dir, resolved, named
 * with this process's pid and pid namespace.
 */
export function runDirPath(): string {
  return join(realTmpDir(), `capibara-run-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID()}`);
}

/**
 * Removes the run temp dirs ({@linkcode RUN_DIR_NAME}, this user's) whose Capibara is gone, at
 * most once per `everyMs`, as the modification time of the file `stamp` records (listing a shared
 * temp dir of a thousand entries costs a run ≈ 2-5 ms). A run killed after its sandbox closed
 * (during the move of its outputs: a second Ctrl-C, SIGKILL) had left its folder there for good,
 * staged outputs included.
 */
export function sweepLeftRunDirs(stamp: string, everyMs = 3_600_000): void {
  if (!stampDue(stamp, everyMs)) return;
  let dir: string;
  try {
    dir = realTmpDir();
  } catch {
    return;
  }
  const uid = Deno.uid();
  for (const name of staleEntries(dir, RUN_DIR_NAME)) {
    const path = join(dir, name);
    const info = lstatSyncOrNull(path);
    // Only a folder of this user's: never what a link leads to, nor another user's.
    if (!info?.isDirectory || info.uid !== uid) continue;
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // removed meanwhile, or part of it not this user's (lent to a root run's sandbox uid, which
      // the state dir sweep gives back first)
    }
  }
}

/**
 * Whether a periodic task is due: `stamp`'s modification time is `everyMs` old or more (or in
 * the future: a clock set back), in which case it is touched now. Never due when the stamp cannot
 * be kept, which would make every run pay the task.
 */
function stampDue(stamp: string, everyMs: number): boolean {
  const last = statSyncOrNull(stamp)?.mtime?.getTime();
  if (last !== undefined && Date.now() - last < everyMs && Date.now() >= last) return false;
  try {
    Deno.writeFileSync(stamp, new Uint8Array(), { mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes of a folder's own size (`stat`, one call) up to which a sweep lists it on every run: a
 * few thousand entries on a tmpfs (20 bytes each), a few hundred names' blocks elsewhere.
 */
const CROWDED_FOLDER_BYTES = 64 * 1024;

/**
 * Whether a sweep of the shared folder `dir` is due: on every run while it is small (listing a few
 * hundred entries costs microseconds, and what a killed run left is undone at once); once it is
 * crowded (others may fill a folder everyone may write to, so that listing it costs every run
 * seconds), at most once per `everyMs`, as `stamp` records. With no stamp to keep, on every run:
 * a folder others crowd is never left unswept for good (what a killed root run lent would stay
 * the sandbox uid's).
 */
export function sweepDue(dir: string, stamp: string | undefined, everyMs: number): boolean {
  const size = statSyncOrNull(dir)?.size;
  if (size === undefined) return false;
  if (size <= CROWDED_FOLDER_BYTES || stamp === undefined) return true;
  return stampDue(stamp, everyMs);
}

/** A new run's temp dir ({@linkcode runDirPath}), this user's alone (0700). */
export async function makeRunDir(): Promise<string> {
  const dir = runDirPath();
  await Deno.mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * Whether process `pid` is gone: its /proc entry is missing. One this process cannot look at
 * counts as running: a Deno without `--allow-all` may not read /proc (`NotCapable`), and an SDK
 * caller's program with narrower permissions took every other live run for a killed one, and swept
 * its temp dir while its script ran.
 */
export function processGone(pid: string): boolean {
  try {
    Deno.lstatSync(`/proc/${pid}`);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}

/**
 * The entries of `dir` that a Capibara process no longer alive left behind (it was killed before
 * it could remove them): names `pattern` matches, whose first group is a pid that is gone and whose
 * second is this process's pid namespace (see {@linkcode pidNamespace}); none where this process
 * cannot look its pid namespace's processes up ({@linkcode sweepsByPid}). Another namespace's name,
 * or one with none (made by an older Capibara), is never taken for a killed process's: its pid
 * says nothing here (a container shares the temp dir). The cheap checks come first and each pid is
 * looked up once: a shared folder may hold many names that others planted.
 */
export function staleEntries(dir: string, pattern: RegExp): string[] {
  if (!sweepsByPid()) return [];
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  } catch {
    return [];
  }
  const namespace = pidNamespace();
  const self = String(Deno.pid);
  const gone = new Map<string, boolean>();
  return names.filter((name) => {
    const match = pattern.exec(name);
    const pid = match?.[1];
    if (pid === undefined || pid === self || match![2] !== namespace) return false;
    let known = gone.get(pid);
    if (known === undefined) gone.set(pid, known = processGone(pid));
    return known;
  });
}
