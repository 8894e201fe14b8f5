/**
 * Machine-local JSON files: records (trust records, acceptances), read leniently and replaced
 * atomically (a temporary file, mode 0600, then a rename) under a file lock beside them; and what
 * one process remembers for later ones (the sandbox's probe, pip's answer), written the same way
 * without a lock.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "./_path.ts";
import { isInside, realPathLoose } from "./_fs.ts";

/**
 * A value a process remembered for later ones ({@linkcode rememberSync}); undefined when there is
 * none or it does not read. The caller checks that it still holds.
 */
export function recallSync<T>(file: string): T | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(file)) as T;
  } catch {
    return undefined;
  }
}

/**
 * Remembers a value for later processes, atomically (a temporary file of mode 0600, renamed): a
 * reader sees the old value or the new. A read-only cache only costs them the work again.
 */
export function rememberSync(file: string, value: unknown): void {
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  try {
    // The folder as any of the cache's (a root run's sandbox may need to pass through its parents).
    Deno.mkdirSync(dirname(file), { recursive: true });
    Deno.writeTextFileSync(tmp, JSON.stringify(value), { mode: 0o600, createNew: true });
    Deno.renameSync(tmp, file);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never written
    }
  }
}

/** The parsed content of a JSON file; undefined when it is missing or not JSON. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The parsed content of a machine-local record file read for a project whose real root is `root`:
 * undefined when it is missing, not JSON, or lies inside the project: its real path, or the real
 * path of any folder on its way (a cache folder set inside the checkout for a CI cache may hold a
 * link, brought by the repository, to a folder outside it). A record file there may have come with
 * the repository, and a repository never vouches for itself.
 */
export async function readRecordsFor(path: string, root: string): Promise<unknown> {
  for (let at = resolve(path);; at = dirname(at)) {
    if (isInside(await realPathLoose(at), root)) return undefined;
    if (dirname(at) === at) break;
  }
  return await readJsonFile(path);
}

/**
 * Replaces a JSON file with `change(current)`, under an exclusive lock (`<path>.lock`), through a
 * temporary file renamed over it: a reader sees the old content or the new, never a mix. The
 * folder is created (mode 0700) when missing; the file's mode is 0600.
 */
export async function updateJsonFile(
  path: string,
  change: (current: unknown) => unknown | Promise<unknown>,
): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  using lock = await Deno.open(`${path}.lock`, { create: true, write: true, mode: 0o600 });
  await lock.lock(true);
  const next = await change(await readJsonFile(path));
  const tmp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(next, null, 2) + "\n", {
      mode: 0o600,
      createNew: true,
    });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
