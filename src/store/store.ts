/**
 * The `.capibara/` store: its layout, lookup, listing, prefix resolution and atomic writes. What an
 * entry holds is entry.ts; its integrity record and verification, integrity.ts; the
 * per-fingerprint lock, lock.ts.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { IntegrityError, ValidationError } from "../errors.ts";
import { exists } from "../_fs.ts";
import { sha256 } from "../_hash.ts";
import { Manifest } from "../schema.ts";
import {
  entryFileNames,
  type EntryFiles,
  MANIFEST_FILE,
  type ManifestInput,
  serialiseManifest,
} from "./entry.ts";
import { integrityRecord, verifyEntryDir } from "./integrity.ts";
import { type Lock, lockFingerprint } from "./lock.ts";

export type { EntryFiles, ManifestInput } from "./entry.ts";
export type { Lock } from "./lock.ts";

/** Name of the store folder at the root of a project. */
export const STORE_DIR = ".capibara";
const GITIGNORE = "# Machine-local state of Capibara: never commit\n.tmp/\n";
const FINGERPRINT = /^fp_[0-9a-f]{32}$/;

/** Options of {@linkcode findRoot}. */
export interface FindRootOptions {
  /** Receives the warning about each `.capibara/` ignored below the root (default: none). */
  warn?: (message: string) => void;
}

/**
 * The store root for a working directory: the git work tree's root (the nearest ancestor holding
 * `.git`), else the directory itself. Never a folder found by looking for `.capibara/`: a script
 * that can write below the root could plant one there, with its own config and entries. Each
 * `.capibara/` between the directory and the root is ignored, with a warning naming it.
 */
export async function findRoot(cwd: string, options: FindRootOptions = {}): Promise<string> {
  const start = resolve(cwd);
  const below: string[] = [];
  for (let dir = start;; dir = dirname(dir)) {
    if (await exists(join(dir, ".git"))) {
      for (const ignored of below) {
        options.warn?.(
          `warning: ignoring ${join(ignored, STORE_DIR)}: the store is the one at the git root ` +
            `(${join(dir, STORE_DIR)}); a .capibara/ below it could have been written by a ` +
            `script. Pass --root ${ignored} to use it on purpose`,
        );
      }
      return dir;
    }
    if (await exists(join(dir, STORE_DIR))) below.push(dir);
    if (dirname(dir) === dir) return start;
  }
}

/** One cached script: its folder and parsed manifest. */
export interface Entry {
  dir: string;
  manifest: Manifest;
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
    if (!FINGERPRINT.test(fingerprint)) {
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
      text = await Deno.readTextFile(join(dir, MANIFEST_FILE));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    try {
      return { dir, manifest: parseManifest(text, join(dir, MANIFEST_FILE)) };
    } catch (error) {
      // A manifest edited into an invalid one: the integrity check names what changed.
      await this.#verifyDir(dir).catch((e) => {
        if (e instanceof IntegrityError) throw e;
      });
      throw error;
    }
  }

  /**
   * Verifies an entry: its manifest against the integrity record (every field), every file against
   * the manifest's hashes, and nothing else in the folder (see integrity.ts).
   *
   * @throws {IntegrityError} naming each field or file that does not match
   */
  async verify(entry: Entry): Promise<void> {
    await this.#verifyDir(entry.dir, entry.manifest);
  }

  async #verifyDir(dir: string, read?: Manifest): Promise<Manifest> {
    return await verifyEntryDir(dir, {
      read,
      restoreHint: `If you edited it on purpose, review the change and keep it with ` +
        `capibara accept ${basename(dir)}; otherwise restore it with git (git checkout -- ` +
        `${STORE_DIR}/scripts/${basename(dir)}, once committed) or regenerate it with ` +
        `--refresh --force`,
    });
  }

  /** Takes the exclusive lock of a fingerprint (blocks until free; released if the process dies). */
  lock(fingerprint: string): Promise<Lock> {
    return lockFingerprint(fingerprint, { lockDir: this.#lockDir, root: this.root });
  }

  /**
   * Writes an entry atomically, and is the only writer of manifests: it hashes the files into
   * `files`, computes the integrity record, writes the manifest in its stored form, verifies the
   * result as any later read will, and only then renames the staging folder into place. A reader
   * sees the old entry or the new one, never a mix.
   *
   * @param files exactly the language's files (see `entryFiles()` in entry.ts)
   * @throws {ValidationError} when `files` is not exactly the language's set of files
   */
  async write(manifest: ManifestInput, files: EntryFiles): Promise<Entry> {
    const final = this.dirOf(manifest.fingerprint);
    const names = Object.keys(files).sort();
    const wanted = entryFileNames(manifest.language);
    if (names.join("\n") !== wanted.join("\n")) {
      throw new ValidationError(
        `Cannot write entry "${manifest.fingerprint}": a ${manifest.language} entry holds ` +
          `${wanted.join(", ")} (got ${names.join(", ") || "nothing"})`,
      );
    }
    await this.#ensureBase();
    const tmpRoot = join(this.base, ".tmp");
    await Deno.mkdir(tmpRoot, { recursive: true });
    await Deno.mkdir(this.scripts, { recursive: true });
    const staging = await Deno.makeTempDir({ dir: tmpRoot, prefix: `${manifest.fingerprint}-` });
    // Like the project's other folders (makeTempDir makes it 0700): a root run's sandbox, which is
    // not root, reads the entry.
    await Deno.chmod(staging, 0o755);
    try {
      const hashes: Record<string, string> = {};
      for (const name of names) {
        const bytes = new TextEncoder().encode(files[name]);
        await Deno.writeFile(join(staging, name), bytes);
        hashes[name] = "sha256:" + await sha256(bytes);
      }
      // The record and signature are never taken from the caller: the store computes the record.
      const { integrity: _i, signature: _s, ...fields } = manifest as Partial<Manifest>;
      // Through JSON once, so what is hashed is exactly what is read back.
      const plain = JSON.parse(JSON.stringify(Manifest.parse({ ...fields, files: hashes })));
      const stored = { ...plain, integrity: await integrityRecord(plain) };
      await Deno.writeTextFile(join(staging, MANIFEST_FILE), serialiseManifest(stored));
      // What was written must pass the same verification as every later read.
      const full = await verifyEntryDir(staging, { fingerprint: manifest.fingerprint });
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

  /**
   * Every cached entry, oldest first. Unreadable entries and anything under `scripts/` that is not
   * an entry folder are reported in `broken`, not thrown.
   */
  async list(): Promise<{ entries: Entry[]; broken: { dir: string; reason: string }[] }> {
    const entries: Entry[] = [];
    const broken: { dir: string; reason: string }[] = [];
    if (!await exists(this.scripts)) return { entries, broken };
    for await (const item of Deno.readDir(this.scripts)) {
      const dir = join(this.scripts, item.name);
      if (!item.isDirectory || !FINGERPRINT.test(item.name)) {
        broken.push({
          dir,
          reason: `Cannot read "${item.name}": not a cached script folder (${
            item.isDirectory ? "its name is not a fingerprint" : "not a folder"
          })`,
        });
        continue;
      }
      try {
        const text = await Deno.readTextFile(join(dir, MANIFEST_FILE));
        entries.push({ dir, manifest: parseManifest(text, join(dir, MANIFEST_FILE)) });
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
        parsed.error.issues.map((i) => `field "${i.path.join(".")}": ${i.message}`).join("; ")
      }`,
      { hint: "Restore it with git, or remove the folder and run again" },
    );
  }
  return parsed.data;
}
