/**
 * The one PATH look-up.
 *
 * @module
 */
import { delimiter, isAbsolute, join } from "./_path.ts";

/** The PATH used when none is given (or the process may not read its own). */
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The absolute path of an executable: a name is looked up in the absolute folders of `path`
 * (default: the process's PATH), a leading `~` read as the home folder; a path with a separator
 * is taken as is when it exists. Undefined when not found.
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
  for (let dir of search.split(delimiter)) {
    // A leading `~` is the home folder, as bash reads it (a PATH written with quotes keeps it).
    // Any other entry that is not absolute (`~` where HOME is unknown, `bin`, an empty one) is
    // never looked in: `sh` and `env` take it from the current folder, a cloned repository's.
    if (dir === "~" || dir.startsWith("~/")) {
      const home = homeFolder();
      if (home === undefined) continue;
      dir = home + dir.slice(1);
    }
    if (!isAbsolute(dir)) continue;
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

/** The home folder, when this process may read HOME and it is absolute. */
function homeFolder(): string | undefined {
  try {
    const home = Deno.env.get("HOME");
    return home && isAbsolute(home) ? home : undefined;
  } catch {
    return undefined; // no env permission
  }
}
