/**
 * The one PATH look-up.
 *
 * @module
 */
import { delimiter, isAbsolute, join } from "./_path.ts";

/** The PATH used when none is given (or the process may not read its own). */
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The absolute path of an executable: a name is looked up in `path` (default: the process's
 * PATH); a path with a separator is taken as is when it exists. Undefined when not found.
 */
export async function which(name: string, path?: string): Promise<string | undefined> {
  if (name.includes("/") || isAbsolute(name)) {
    try {
      await Deno.lstat(name);
      return name;
    } catch {
      return undefined;
    }
  }
  let search = path;
  if (search === undefined) {
    try {
      search = Deno.env.get("PATH") ?? DEFAULT_PATH;
    } catch {
      search = DEFAULT_PATH; // no env permission
    }
  }
  for (const dir of search.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
