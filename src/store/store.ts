/**
 * The `.capibara/` store: layout, atomic writes, locks, listing, integrity.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { IntegrityError, ValidationError } from "../errors.ts";
import { sha256 } from "../_hash.ts";
import { Manifest } from "../schema.ts";

/** Name of the store folder at the root of a project. */
export const STORE_DIR = ".capibara";
const GITIGNORE = "# Machine-local state of Capibara: never commit\n.tmp/\n";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * The store root for a working directory: the nearest ancestor holding `.capibara/`, else the git
 * work tree's root, else the directory itself.
 */
export async function findRoot(cwd: string): Promise<string> {
  const start = resolve(cwd);
  let gitRoot: string | undefined;
  for (let dir = start;; dir = dirname(dir)) {
    if (await exists(join(dir, STORE_DIR))) return dir;
    if (gitRoot === undefined && await exists(join(dir, ".git"))) gitRoot = dir;
    if (dirname(dir) === dir) break;
  }
  return gitRoot ?? start;
}

/** One cached script: its folder and parsed manifest. */
export interface Entry {
  dir: string;
  manifest: Manifest;
}

/** Files of a new entry, by name (manifest.json excluded: the store writes it). */
export type EntryFiles = Record<string, string>;

/** A held lock; release it with `using` or `release()`. */
export interface Lock extends Disposable {
  release(): void;
}

/** The `.capibara/scripts/` store of one project. */
export class Store {
  /** The project root (the folder holding `.capibara/`). */
  readonly root: string;
  /** `<root>/.capibara`. */
  readonly base: string;
  /** `<root>/.capibara/scripts`. */
  readonly scripts: string;

  readonly #lockDir: string;

  /**
   * @param root the project root
   * @param lockDir machine-local folder for lock files (default: `.capibara/.locks`); locks stay
   *   out of `.capibara/` so a failed generation leaves no trace there
   */
  constructor(root: string, lockDir?: string) {
    this.root = resolve(root);
    this.base = join(this.root, STORE_DIR);
    this.scripts = join(this.base, "scripts");
    this.#lockDir = lockDir ?? join(this.base, ".locks");
  }

  /** Folder of a fingerprint. */
  dirOf(fingerprint: string): string {
    if (!/^fp_[0-9a-f]{32}$/.test(fingerprint)) {
      throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
        hint: "Fingerprints look like fp_ followed by 32 hex digits; see capibara list",
      });
    }
    return join(this.scripts, fingerprint);
  }

  /** The entry of a fingerprint, or undefined when it is not cached. */
  async lookup(fingerprint: string): Promise<Entry | undefined> {
    const dir = this.dirOf(fingerprint);
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, "manifest.json"));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    return { dir, manifest: parseManifest(text, join(dir, "manifest.json")) };
  }

  /** Checks every file of an entry against the manifest's hashes. */
  async verify(entry: Entry): Promise<void> {
    const problems: string[] = [];
    const listed = new Set(Object.keys(entry.manifest.files));
    for (const [name, expected] of Object.entries(entry.manifest.files)) {
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(join(entry.dir, name));
      } catch {
        problems.push(`${name} is missing`);
        continue;
      }
      if ("sha256:" + await sha256(bytes) !== expected) problems.push(`${name} was modified`);
    }
    if (!listed.has(entry.manifest.entry)) problems.push(`${entry.manifest.entry} is not hashed`);
    for await (const item of Deno.readDir(entry.dir)) {
      if (item.name !== "manifest.json" && !listed.has(item.name)) {
        problems.push(`${item.name} is not in the manifest`);
      }
    }
    if (problems.length > 0) {
      const fp = entry.manifest.fingerprint;
      throw new IntegrityError(
        `Cached script "${fp}" does not match its manifest: ${problems.join(", ")}`,
        {
          hint: `Restore it with git (git checkout -- ${STORE_DIR}/scripts/${fp}) ` +
            `or regenerate it with --refresh`,
          details: { fingerprint: fp, problems },
        },
      );
    }
  }

  /** Takes the exclusive lock of a fingerprint (blocks until free; released if the process dies). */
  async lock(fingerprint: string): Promise<Lock> {
    await Deno.mkdir(this.#lockDir, { recursive: true });
    // One lock file per project and fingerprint, wherever the lock folder is shared.
    const project = (await sha256(this.root)).slice(0, 12);
    const file = await Deno.open(join(this.#lockDir, `${project}-${fingerprint}.lock`), {
      create: true,
      write: true,
    });
    await file.lock(true);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    };
    return { release, [Symbol.dispose]: release };
  }

  /**
   * Writes an entry atomically: all files go to a temporary folder first, which is then renamed
   * into place. A reader sees the old entry or the new one, never a mix.
   */
  async write(
    manifest: Omit<Manifest, "files">,
    files: EntryFiles,
  ): Promise<Entry> {
    await this.#ensureBase();
    const tmpRoot = join(this.base, ".tmp");
    await Deno.mkdir(tmpRoot, { recursive: true });
    await Deno.mkdir(this.scripts, { recursive: true });
    const staging = await Deno.makeTempDir({ dir: tmpRoot, prefix: `${manifest.fingerprint}-` });
    const final = this.dirOf(manifest.fingerprint);
    try {
      const hashes: Record<string, string> = {};
      for (const [name, content] of Object.entries(files).sort(([a], [b]) => a < b ? -1 : 1)) {
        const bytes = new TextEncoder().encode(content);
        await Deno.writeFile(join(staging, name), bytes);
        hashes[name] = "sha256:" + await sha256(bytes);
      }
      const full = Manifest.parse({ ...manifest, files: hashes });
      await Deno.writeTextFile(
        join(staging, "manifest.json"),
        JSON.stringify(full, null, 2) + "\n",
      );
      if (await exists(final)) {
        const old = join(tmpRoot, `${manifest.fingerprint}-old-${crypto.randomUUID()}`);
        await Deno.rename(final, old);
        await Deno.rename(staging, final);
        await Deno.remove(old, { recursive: true });
      } else {
        await Deno.rename(staging, final);
      }
      await Deno.remove(tmpRoot).catch(() => {}); // only when empty: others may be staging
      return { dir: final, manifest: full };
    } catch (error) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** Every cached entry, oldest first. Unreadable folders are reported, not thrown. */
  async list(): Promise<{ entries: Entry[]; broken: { dir: string; reason: string }[] }> {
    const entries: Entry[] = [];
    const broken: { dir: string; reason: string }[] = [];
    if (!await exists(this.scripts)) return { entries, broken };
    for await (const item of Deno.readDir(this.scripts)) {
      if (!item.isDirectory || !item.name.startsWith("fp_")) continue;
      const dir = join(this.scripts, item.name);
      try {
        const text = await Deno.readTextFile(join(dir, "manifest.json"));
        entries.push({ dir, manifest: parseManifest(text, join(dir, "manifest.json")) });
      } catch (error) {
        broken.push({ dir, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    entries.sort((a, b) => a.manifest.created_at.localeCompare(b.manifest.created_at));
    return { entries, broken };
  }

  /** The one fingerprint starting with `prefix` (`fp_` optional). */
  async resolve(prefix: string): Promise<string> {
    const wanted = prefix.startsWith("fp_") ? prefix : `fp_${prefix}`;
    if (wanted.length < 5) {
      throw new ValidationError(`Fingerprint prefix "${prefix}" is too short`, {
        hint: "Give at least 2 hex digits after fp_",
      });
    }
    const matches: string[] = [];
    if (await exists(this.scripts)) {
      for await (const item of Deno.readDir(this.scripts)) {
        if (item.isDirectory && item.name.startsWith(wanted)) matches.push(item.name);
      }
    }
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) {
      throw new ValidationError(`No cached script matches "${prefix}"`, {
        hint: `See the cached scripts with capibara list (store: ${this.scripts})`,
      });
    }
    throw new ValidationError(
      `Fingerprint prefix "${prefix}" is ambiguous: ${matches.join(", ")}`,
      {
        hint: "Give more digits",
      },
    );
  }

  /** Removes one entry. */
  async remove(fingerprint: string): Promise<void> {
    await Deno.remove(this.dirOf(fingerprint), { recursive: true });
  }

  async #ensureBase(): Promise<void> {
    await Deno.mkdir(this.base, { recursive: true });
    const ignore = join(this.base, ".gitignore");
    if (!await exists(ignore)) await Deno.writeTextFile(ignore, GITIGNORE);
  }
}

function parseManifest(text: string, path: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`Cannot read manifest "${path}": it is not valid JSON`, {
      cause: error,
      hint: "Restore it with git, or remove the folder and run again",
    });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    throw new IntegrityError(
      `Cannot read manifest "${path}": ${
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
      }`,
      { hint: "Restore it with git, or remove the folder and run again" },
    );
  }
  return parsed.data;
}
