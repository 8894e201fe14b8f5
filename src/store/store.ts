/**
 * The `.capibara/` store: its layout, lookup, listing, prefix resolution and atomic writes. What an
 * entry holds is entry.ts; its integrity record and verification, integrity.ts; the
 * per-fingerprint lock, lock.ts.
 *
 * @module
 */
import { issuesText } from "../_shape.ts";
import { FINGERPRINT_FORM } from "../types.ts";
import { basename, dirname, join, resolve } from "../_path.ts";
import { IntegrityError, PermissionError, ValidationError } from "../errors.ts";
import {
  entriesNamed,
  exists,
  existsSync,
  FileRefused,
  lstatOrNull,
  lstatSyncOrNull,
  promised,
  readRegularFileSync,
  realPathOrNull,
  unwritable,
} from "../_fs.ts";
import { sha256Tagged } from "../_hash.ts";
import { shellWord } from "../readme.ts";
import { LANGUAGES, Manifest } from "../schema.ts";
import type { Signature } from "../types.ts";
import {
  entryFileNames,
  type EntryFiles,
  MANIFEST_FILE,
  type ManifestInput,
  MAX_MANIFEST_DEPTH,
  nestsDeeperThan,
  serialiseManifest,
  SIGNATURE_FIELD,
} from "./entry.ts";
import { integrityRecord, MAX_ENTRY_BYTES, verifyEntryDir } from "./integrity.ts";
import { type Lock, lockFingerprint } from "./lock.ts";
import {
  type AcceptanceStore,
  checkSignaturePolicy,
  manifestHash,
  NO_SIGNATURE_POLICY,
  type SignaturePolicy,
  type SignatureStatus,
  verifySignature,
} from "./trust.ts";

export type { EntryFiles, ManifestInput } from "./entry.ts";
export type { Lock } from "./lock.ts";
export type { SignaturePolicy, SignatureStatus } from "./trust.ts";

/**
 * An entry as it travels between machines (a Core's `GET`/`PUT /v1/entries/<fp>` and `/v1/gen`):
 * the manifest exactly as `manifest.json` holds it (with `integrity` and any `signature`), and
 * every other file of the entry as text. Whoever receives one verifies it like a local entry
 * ({@linkcode Store.importEntry}).
 */
export interface WireEntry {
  /** The manifest, as stored. */
  manifest: Manifest;
  /** File name → UTF-8 text: exactly the files of the language (see `entryFileNames`). */
  files: Record<string, string>;
}

/** Options of the {@linkcode Store} constructor. */
export interface StoreOptions {
  /** The trust policy every verified entry must pass (default: none required, none trusted). */
  signatures?: SignaturePolicy;
  /** This machine's acceptances (`capibara accept`), in the machine-local cache. */
  acceptances?: AcceptanceStore;
}

/** Options of {@linkcode Store.verify}. */
export interface StoreVerifyOptions {
  /**
   * `false` checks the entry's integrity only (hashes, form, well-formed signature), not the
   * trust policy: for `accept` and `sign`, which decide what to do about the policy themselves.
   */
  policy?: boolean;
}

/** Options of {@linkcode Store.importEntry}. */
export interface ImportOptions {
  /** The fingerprint the entry must have (e.g. the one requested); default: its manifest's. */
  fingerprint?: string;
  /** Bytes the manifest and files may take together (default {@linkcode MAX_IMPORT_BYTES}). */
  maxBytes?: number;
}

/** Default bound of an imported entry's size: its manifest and files together. */
export const MAX_IMPORT_BYTES: number = MAX_ENTRY_BYTES;

/**
 * A new staging folder under the store's `.tmp`. A concurrent writer removes `.tmp` when it finds
 * it empty (see `#replace`), which can happen between making `.tmp` and making the folder in it,
 * or within a recursive `mkdir` (it found `.tmp` there, then not a folder: AlreadyExists): then
 * `.tmp` is made again. Once the staging folder exists, `.tmp` is not empty and stays.
 */
async function makeStaging(tmpRoot: string, prefix: string): Promise<string> {
  for (let attempt = 1;; attempt++) {
    try {
      await Deno.mkdir(tmpRoot, { recursive: true, mode: 0o755 });
      return await Deno.makeTempDir({ dir: tmpRoot, prefix });
    } catch (error) {
      const raced = error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.AlreadyExists;
      if (!raced || attempt >= 100) throw error;
    }
  }
}

/**
 * The mode of every file the store writes, whatever the umask (an SDK's process may run under
 * 0000): no other user may change a script the store would run.
 */
const ENTRY_FILE_MODE = 0o644;

/** Name of the store folder at the root of a project. */
export const STORE_DIR = ".capibara";
/** How old a staging folder is before it counts as left by a writer that died (SIGKILL). */
const STALE_STAGING_MS = 60 * 60 * 1000;

/**
 * Removes what writers that died left in `.tmp`: staging folders not changed for an hour. A
 * replaced entry's old copy (`<fp>-old-…`) is kept: a writer killed between its two renames left
 * the entry there, for a person to restore.
 */
async function sweepStaging(tmpRoot: string): Promise<void> {
  let items: Deno.DirEntry[];
  try {
    items = await Array.fromAsync(Deno.readDir(tmpRoot));
  } catch {
    return; // no .tmp: nothing left
  }
  const now = Date.now();
  for (const item of items) {
    if (!item.isDirectory || item.name.includes("-old-")) continue;
    const path = join(tmpRoot, item.name);
    const info = await lstatOrNull(path);
    if (info?.isDirectory && info.mtime && now - info.mtime.getTime() > STALE_STAGING_MS) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

const GITIGNORE = "# Machine-local state of Capibara: never commit\n.tmp/\n";

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
export function findRoot(cwd: string, options: FindRootOptions = {}): Promise<string> {
  return promised(() => findRootNow(cwd, options));
}

/** {@linkcode findRoot}, synchronously: a few quick looks up the tree. */
function findRootNow(cwd: string, options: FindRootOptions): string {
  const start = resolve(cwd);
  const below: string[] = [];
  for (let dir = start;; dir = dirname(dir)) {
    // One listing per folder; a name listed is then looked up as itself (the file system decides
    // whether `.GIT` is `.git`).
    const listed = entriesNamed(dir, [".git", STORE_DIR]).map((path) =>
      basename(path).toLowerCase()
    );
    if (listed.includes(".git") && existsSync(join(dir, ".git"))) {
      for (const ignored of below) {
        options.warn?.(
          `warning: ignoring ${join(ignored, STORE_DIR)}: the store is the one at the git root ` +
            `(${join(dir, STORE_DIR)}); a .capibara/ below it could have been written by a ` +
            `script. Pass --root ${ignored} to use it on purpose`,
        );
      }
      return dir;
    }
    if (listed.includes(STORE_DIR) && existsSync(join(dir, STORE_DIR))) below.push(dir);
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

  /** The trust policy every verified entry must pass. */
  readonly signatures: SignaturePolicy;

  readonly #lockDir: string;
  readonly #acceptances?: AcceptanceStore;

  /**
   * @param root the project root
   * @param lockDir machine-local folder for lock files (default: `.capibara/.locks`); locks stay
   *   out of `.capibara/` so a failed generation leaves no trace there
   * @param options the trust policy and this machine's acceptances
   */
  constructor(root: string, lockDir?: string, options: StoreOptions = {}) {
    this.root = resolve(root);
    this.base = join(this.root, STORE_DIR);
    this.scripts = join(this.base, "scripts");
    this.#lockDir = lockDir ?? join(this.base, ".locks");
    this.signatures = options.signatures ?? NO_SIGNATURE_POLICY;
    this.#acceptances = options.acceptances;
  }

  /** Folder of a fingerprint. */
  dirOf(fingerprint: string): string {
    if (!FINGERPRINT_FORM.test(fingerprint)) {
      throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
        hint: "Fingerprints look like fp_ followed by 32 hex digits; see capibara list",
      });
    }
    return join(this.scripts, fingerprint);
  }

  /** The entry of a fingerprint, or undefined when it is not cached. */
  async lookup(fingerprint: string): Promise<Entry | undefined> {
    const dir = this.dirOf(fingerprint);
    // A repository's `scripts` or `.tmp` committed as a link would lead the read, and the put
    // back of an interrupted replacement below, out of the project.
    this.#checkFolders();
    let text: string;
    try {
      text = readManifestText(dir);
    } catch (error) {
      if (!(error instanceof FileRefused && error.reason === "is missing")) {
        throw unreadableEntry(fingerprint, error);
      }
      // Not there: unless a replacement of it was cut short (a miss pays one readdir).
      if (existsSync(dir) || !await this.#restoreInterrupted(fingerprint)) return undefined;
      return await this.lookup(fingerprint);
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
   * The entry of a fingerprint {@linkcode Store.resolve} found (its folder exists): an
   * IntegrityError, as `list` reports it, when the folder holds no manifest (a repository can
   * commit such a folder: git keeps any file in it).
   */
  async entry(fingerprint: string): Promise<Entry> {
    const found = await this.lookup(fingerprint);
    if (found) return found;
    throw unreadableEntry(
      fingerprint,
      new FileRefused(join(this.dirOf(fingerprint), MANIFEST_FILE), "is missing"),
    );
  }

  /**
   * Verifies an entry: its manifest against the integrity record (every field), every file against
   * the manifest's hashes, and nothing else in the folder (see integrity.ts); then the trust
   * policy (signatures, this machine's acceptances: see trust.ts), unless `options.policy` is
   * `false`.
   *
   * @returns how the entry passed the policy (`unsigned` when it was not checked)
   * @throws {IntegrityError} naming each field or file that does not match, or why the policy
   *   refuses the entry
   */
  async verify(entry: Entry, options: StoreVerifyOptions = {}): Promise<SignatureStatus> {
    if (options.policy === false || !this.#policyActive()) {
      await this.#verifyDir(entry.dir, entry.manifest);
      return { state: "unsigned" };
    }
    const { raw } = await this.#verifiedRaw(entry.dir, entry.manifest);
    return await this.checkPolicy(raw);
  }

  /**
   * The trust policy alone (see `checkSignaturePolicy` in trust.ts), with this store's policy and
   * this machine's acceptance, for a manifest as stored (every field, a signature included) whose
   * integrity was verified.
   *
   * @throws {IntegrityError} when the policy refuses it
   */
  async checkPolicy(manifest: Manifest | Record<string, unknown>): Promise<SignatureStatus> {
    if (!this.#policyActive()) return { state: "unsigned" };
    const fp = String(manifest.fingerprint);
    const acceptance = this.#acceptances
      ? await this.#acceptances.get(await this.realRoot(), fp)
      : undefined;
    return await checkSignaturePolicy(
      { ...manifest, fingerprint: fp },
      this.signatures,
      acceptance,
    );
  }

  /** Whether the policy can refuse anything: without a requirement or a key, nothing to check. */
  #policyActive(): boolean {
    return this.signatures.required || this.signatures.keys.length > 0;
  }

  /**
   * Verifies an entry folder and returns its manifest both parsed and as stored (`raw`: every
   * field, those this version does not know included), which is what signatures cover.
   */
  async #verifiedRaw(
    dir: string,
    read?: Manifest,
  ): Promise<{ manifest: Manifest; raw: Record<string, unknown> }> {
    const manifest = await this.#verifyDir(dir, read);
    let raw: Record<string, unknown> | undefined;
    try {
      raw = JSON.parse(readManifestText(dir));
    } catch {
      raw = undefined;
    }
    // The text read now must be the one just verified: its hash is the verified record's.
    if (raw === undefined || await manifestHash(raw) !== manifest.integrity?.manifest) {
      throw new IntegrityError(
        `Cannot trust cached script "${basename(dir)}": ${MANIFEST_FILE} changed while it was read`,
        { hint: "Run the command again", details: { fingerprint: basename(dir) } },
      );
    }
    return { manifest, raw };
  }

  /** Records this machine's acceptance of a verified manifest (`capibara accept`). */
  async accept(manifest: Manifest): Promise<void> {
    if (!this.#acceptances) {
      throw new Error("Cannot record an acceptance: this store has no acceptance records");
    }
    await this.#acceptances.accept(await this.realRoot(), manifest);
  }

  /** The real path of the project root (what acceptances are recorded for). */
  async realRoot(): Promise<string> {
    return await realPathOrNull(this.root) ?? this.root;
  }

  async #verifyDir(dir: string, read?: Manifest): Promise<Manifest> {
    return await verifyEntryDir(dir, {
      read,
      // git's paths are the working folder's: from the project's root, wherever the command is.
      // An edit of the entry's files may be kept; one of its manifest never is (see accept).
      restoreHint: (manifest) =>
        (manifest
          ? `Its ${MANIFEST_FILE} is the store's and cannot be accepted: restore it`
          : `If you edited it on purpose, review the change and keep it with capibara accept ` +
            `${basename(dir)}; otherwise restore it`) +
        ` with git (git -C ${shellWord(this.root)} checkout -- ${STORE_DIR}/scripts/` +
        `${basename(dir)}, once committed), regenerate it with --refresh --force, or remove it ` +
        `with capibara clear ${basename(dir)}`,
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
    const undo = await this.#ensureBase();
    try {
      return await this.#write(manifest, files, names, final);
    } catch (error) {
      await undo();
      throw error;
    }
  }

  async #write(
    manifest: ManifestInput,
    files: EntryFiles,
    names: string[],
    final: string,
  ): Promise<Entry> {
    const tmpRoot = join(this.base, ".tmp");
    await sweepStaging(tmpRoot);
    await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
    const staging = await makeStaging(tmpRoot, `${manifest.fingerprint}-`);
    // Like the project's other folders (makeTempDir makes it 0700): a root run's sandbox, which is
    // not root, reads the entry.
    await Deno.chmod(staging, 0o755);
    try {
      const hashes: Record<string, string> = {};
      for (const name of names) {
        const bytes = new TextEncoder().encode(files[name]);
        await Deno.writeFile(join(staging, name), bytes, { mode: ENTRY_FILE_MODE });
        hashes[name] = await sha256Tagged(bytes);
      }
      // The record and signature are never taken from the caller: the store computes the record.
      const { integrity: _i, signature: _s, ...fields } = manifest as Partial<Manifest>;
      // Through JSON once, so what is hashed is exactly what is read back.
      const plain = JSON.parse(JSON.stringify(Manifest.parse({ ...fields, files: hashes })));
      const stored = { ...plain, integrity: await integrityRecord(plain) };
      await Deno.writeTextFile(join(staging, MANIFEST_FILE), serialiseManifest(stored), {
        mode: ENTRY_FILE_MODE,
      });
      // What was written must pass the same verification as every later read.
      const full = await verifyEntryDir(staging, { fingerprint: manifest.fingerprint });
      await this.#replace(staging, final, tmpRoot, manifest.fingerprint);
      return { dir: final, manifest: full };
    } catch (error) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * Stores an entry received from elsewhere (a Core, another machine), never trusting it: its
   * manifest and files are written to a staging folder, verified there exactly as a cache hit is
   * (integrity, form, fingerprint, the language's files only) and against the trust policy, and
   * only then renamed into place (replacing any entry of that fingerprint). A refused entry leaves
   * nothing behind. Call it under the fingerprint's lock ({@linkcode Store.lock}).
   *
   * @throws {ValidationError} when the entry is not of the wire form (not an object, a file that is
   *   not text or not of the language, over `maxBytes`, another fingerprint than asked)
   * @throws {IntegrityError} when it does not verify, or the trust policy refuses it
   */
  async importEntry(entry: WireEntry, options: ImportOptions = {}): Promise<Entry> {
    const { manifest, text, files } = checkWireEntry(entry, options);
    const fp = manifest.fingerprint as string;
    const final = this.dirOf(fp);
    const undo = await this.#ensureBase();
    try {
      return await this.#import(fp, text, files, final);
    } catch (error) {
      await undo();
      throw error;
    }
  }

  async #import(
    fp: string,
    text: string,
    files: Record<string, string>,
    final: string,
  ): Promise<Entry> {
    const tmpRoot = join(this.base, ".tmp");
    await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
    const staging = await makeStaging(tmpRoot, `${fp}-`);
    await Deno.chmod(staging, 0o755);
    try {
      for (const [name, text] of Object.entries(files)) {
        await Deno.writeTextFile(join(staging, name), text, {
          createNew: true,
          mode: ENTRY_FILE_MODE,
        });
      }
      await Deno.writeTextFile(join(staging, MANIFEST_FILE), text, { mode: ENTRY_FILE_MODE });
      const verified = await verifyEntryDir(staging, {
        fingerprint: fp,
        restoreHint: "The entry received is not the one its manifest describes: nothing was " +
          "stored. Fetch it again, or ask whoever published it",
      });
      await this.checkPolicy(JSON.parse(text));
      await this.#replace(staging, final, tmpRoot, fp);
      return { dir: final, manifest: verified };
    } catch (error) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * The wire form of a local entry (for `push`, or a Core's disk storage): its manifest as stored
   * and its files as text, after verifying its integrity (not the trust policy: the receiver
   * applies its own).
   *
   * @throws {IntegrityError} when the entry does not verify, or a file is not UTF-8 text
   * @throws {ValidationError} when the fingerprint is malformed or not cached
   */
  async readEntry(fingerprint: string): Promise<WireEntry> {
    const dir = this.dirOf(fingerprint);
    this.#checkFolders();
    if (!await exists(dir)) {
      throw new ValidationError(`No cached script "${fingerprint}"`, {
        hint: `See the cached scripts with capibara list (store: ${this.scripts})`,
      });
    }
    const { manifest, raw } = await this.#verifiedRaw(dir);
    const files: Record<string, string> = {};
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    for (const name of Object.keys(manifest.files).sort()) {
      let bytes: Uint8Array;
      try {
        bytes = readRegularFileSync(join(dir, name), MAX_IMPORT_BYTES);
        files[name] = decoder.decode(bytes);
      } catch (error) {
        if (error instanceof FileRefused) throw unreadableEntry(fingerprint, error);
        throw new IntegrityError(
          `Cannot read cached script "${fingerprint}": ${name} is not text`,
          {
            cause: error,
            hint: "Regenerate it with capibara run --refresh --force",
          },
        );
      }
      // What was read must be what was verified.
      if (await sha256Tagged(bytes) !== manifest.files[name]) {
        throw new IntegrityError(`Cannot read cached script "${fingerprint}": ${name} changed`, {
          hint: "Run the command again",
          details: { fingerprint },
        });
      }
    }
    return { manifest: raw as unknown as Manifest, files };
  }

  /**
   * Puts a signature into an entry's manifest (`capibara sign`), changing nothing else: the
   * integrity record and the fingerprint stay, since neither covers the signature. The entry is
   * verified first (a changed entry is never signed) and the signature must verify with
   * `publicKey` over the manifest as stored; the new manifest is written to a temporary file and
   * renamed over the old one, and the result verified again. Call it under the fingerprint's lock.
   *
   * @returns the signed entry
   * @throws {IntegrityError} when the entry does not verify, or the signature is not its
   */
  async writeSignature(
    fingerprint: string,
    signature: Signature,
    publicKey: string,
  ): Promise<Entry> {
    const dir = this.dirOf(fingerprint);
    await this.checkWritable();
    const { raw } = await this.#verifiedRaw(dir);
    if (!await verifySignature(raw, signature, publicKey)) {
      throw new IntegrityError(
        `Cannot sign "${fingerprint}": the signature does not verify over its manifest`,
        { hint: "Sign the manifest as it is stored now, and try again" },
      );
    }
    const tmpRoot = join(this.base, ".tmp");
    const staging = await makeStaging(tmpRoot, `${fingerprint}-signature-`);
    const tmp = join(staging, MANIFEST_FILE);
    try {
      await Deno.writeTextFile(tmp, serialiseManifest({ ...raw, [SIGNATURE_FIELD]: signature }), {
        createNew: true,
        mode: ENTRY_FILE_MODE,
      });
      await Deno.rename(tmp, join(dir, MANIFEST_FILE));
    } finally {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
    }
    await Deno.remove(tmpRoot).catch(() => {}); // only when empty: others may be staging
    return { dir, manifest: await this.#verifyDir(dir) };
  }

  async #replace(staging: string, final: string, tmpRoot: string, fp: string): Promise<void> {
    // A process killed between the two renames leaves the entry it replaced under
    // `.tmp/<fp>-old-…`, which a later lookup puts back (see #restoreInterrupted); one that did
    // so meanwhile is moved aside again.
    for (let attempt = 0;; attempt++) {
      const old = await exists(final) ? join(tmpRoot, `${fp}-old-${crypto.randomUUID()}`) : "";
      if (old) await Deno.rename(final, old);
      try {
        await Deno.rename(staging, final);
      } catch (error) {
        if (attempt < 2 && await exists(final)) continue;
        throw error;
      }
      if (old) await Deno.remove(old, { recursive: true });
      break;
    }
    await Deno.remove(tmpRoot).catch(() => {}); // only when empty: others may be staging
  }

  /**
   * Puts back the entry of `fp` that a replacement killed between its two renames left under
   * `.tmp/<fp>-old-…` (the latest, when there are several), when nothing stands at its place:
   * the entry that was there, reviewed, rather than a miss that would ask the model for a new
   * one. It is then verified as any entry is. Its callers (lookup, list) have checked the store's
   * folders first: moved from `.tmp` into `scripts` through a committed link, a folder the
   * repository brought went anywhere the user may write (a Vim plugin folder).
   *
   * @returns whether one was put back
   * @throws {IntegrityError} when one is there but cannot be put back (a read-only checkout)
   */
  async #restoreInterrupted(fp: string): Promise<boolean> {
    const tmpRoot = join(this.base, ".tmp");
    let left: { path: string; at: number }[];
    try {
      left = (await Array.fromAsync(Deno.readDir(tmpRoot)))
        .filter((item) => item.isDirectory && item.name.startsWith(`${fp}-old-`))
        .map((item) => {
          const path = join(tmpRoot, item.name);
          return { path, at: lstatSyncOrNull(path)?.mtime?.getTime() ?? 0 };
        });
    } catch {
      return false; // no .tmp
    }
    const latest = left.sort((a, b) => b.at - a.at)[0];
    if (latest === undefined) return false;
    try {
      await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
      await Deno.rename(latest.path, this.dirOf(fp));
      return true;
    } catch (error) {
      if (await exists(this.dirOf(fp))) return true; // another process put it back
      throw new IntegrityError(
        `Cannot read cached script "${fp}": a replacement of it was interrupted, and it is ` +
          `still at ${latest.path}`,
        {
          hint: `Move it back: mv ${shellWord(latest.path)} ${shellWord(this.dirOf(fp))}`,
          details: { fingerprint: fp, left: latest.path },
          cause: error,
        },
      );
    }
  }

  /**
   * Every cached entry, oldest first. Unreadable entries and anything under `scripts/` that is not
   * an entry folder are reported in `broken`, not thrown.
   */
  async list(): Promise<{ entries: Entry[]; broken: { dir: string; reason: string }[] }> {
    const entries: Entry[] = [];
    const broken: { dir: string; reason: string }[] = [];
    this.#checkFolders();
    // Entries a replacement cut short left under .tmp/ are put back first (or named).
    let left: string[] = [];
    try {
      left = (await Array.fromAsync(Deno.readDir(join(this.base, ".tmp"))))
        .map((item) => item.name.split("-old-")[0]!)
        .filter((fp) => FINGERPRINT_FORM.test(fp));
    } catch {
      // no .tmp
    }
    for (const fp of new Set(left)) {
      if (existsSync(this.dirOf(fp))) continue;
      await this.#restoreInterrupted(fp).catch((error: Error) => {
        broken.push({ dir: this.dirOf(fp), reason: error.message });
      });
    }
    if (!await exists(this.scripts)) return { entries, broken };
    for await (const item of Deno.readDir(this.scripts)) {
      const dir = join(this.scripts, item.name);
      if (!item.isDirectory || !FINGERPRINT_FORM.test(item.name)) {
        broken.push({
          dir,
          reason: `Cannot read "${item.name}": not a cached script folder (${
            item.isDirectory ? "its name is not a fingerprint" : "not a folder"
          })`,
        });
        continue;
      }
      try {
        const text = readManifestText(dir);
        entries.push({ dir, manifest: parseManifest(text, join(dir, MANIFEST_FILE)) });
      } catch (error) {
        broken.push({ dir, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    entries.sort((a, b) => a.manifest.created_at.localeCompare(b.manifest.created_at));
    return { entries, broken };
  }

  /**
   * The one fingerprint starting with `prefix` (`fp_` optional). With `anyKind`, a name under
   * `scripts/` that is not a folder counts too (`clear` removes such a broken entry).
   */
  async resolve(prefix: string, options: { anyKind?: boolean } = {}): Promise<string> {
    // Fingerprints are lower-case hex: one typed or pasted in upper case is the same.
    const lower = prefix.toLowerCase();
    const wanted = lower.startsWith("fp_") ? lower : `fp_${lower}`;
    if (wanted.length < 5) {
      throw new ValidationError(`Fingerprint prefix "${prefix}" is too short`, {
        hint: "Give at least 2 hex digits after fp_",
      });
    }
    const matches: string[] = [];
    this.#checkFolders();
    if (await exists(this.scripts)) {
      for await (const item of Deno.readDir(this.scripts)) {
        if ((item.isDirectory || options.anyKind) && item.name.startsWith(wanted)) {
          matches.push(item.name);
        }
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
    const dir = this.dirOf(fingerprint);
    // A store this user cannot change is said so (PermissionError), not met half-way.
    await this.checkWritable();
    // Removed meanwhile (another clear): it is gone, as asked.
    await Deno.remove(dir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /**
   * Refuses to use a store folder that is not a real folder: a repository can commit
   * `.capibara`, `.capibara/scripts` or `.capibara/.tmp` as a symlink, and entries would then be
   * listed from, staged, written, replaced or removed wherever it points, outside the project; or
   * as a file, where no entry can be.
   *
   * @throws {IntegrityError} naming the folder
   */
  #checkFolders(): void {
    for (const dir of [this.base, this.scripts, join(this.base, ".tmp")]) {
      const info = lstatSyncOrNull(dir);
      if (info && !info.isDirectory) {
        throw new IntegrityError(
          `Cannot use the store: ${dir} is ${
            info.isSymlink ? "a symlink" : "not a folder"
          }, and entries are only kept inside the project's own ${STORE_DIR}/ folders`,
          {
            hint: `Remove it (a repository may have committed it) and run again; ${STORE_DIR}/ ` +
              "and its scripts/ are created as real folders when missing",
            details: { path: dir },
          },
        );
      }
    }
  }

  /**
   * Whether entries could be written here, asked before anything costly is done for one (a
   * model's reply is not thrown away for a project the user cannot write), and leaving nothing
   * behind: the nearest store folder that exists, else the project's root, must let this user make
   * entries in it.
   *
   * @throws {PermissionError} when it does not
   * @throws {IntegrityError} when a store folder is not a real folder
   */
  async checkWritable(): Promise<void> {
    this.#checkFolders();
    // Where an entry is staged (the nearest of .tmp, the store, the project that exists), and
    // where it is then renamed to (scripts/, when it exists). A folder another writer removes
    // meanwhile (an empty .tmp) is looked for again.
    for (let attempt = 0;; attempt++) {
      const found = await this.#unwritableFolder();
      if (!found) return;
      if (found.error instanceof Deno.errors.NotFound && attempt < 3) continue;
      const { folder, error } = found;
      throw new PermissionError(
        `Cannot store scripts in ${this.base}: ${folder} cannot be written by this user`,
        {
          cause: error,
          hint: "Run from a project folder you can write to, or pass --root with one",
          details: { path: folder },
        },
      );
    }
  }

  /** The first folder an entry is written through that this user cannot write, and why. */
  async #unwritableFolder(): Promise<{ folder: string; error: Error } | undefined> {
    let folder = join(this.base, ".tmp");
    for (const next of [this.base, dirname(this.base)]) {
      if (await lstatOrNull(folder)) break;
      folder = next;
    }
    const folders = await lstatOrNull(this.scripts) ? [folder, this.scripts] : [folder];
    for (folder of folders) {
      const error = unwritable(folder);
      if (error) return { folder, error };
    }
    return undefined;
  }

  /**
   * Makes `.capibara/` and its `.gitignore` when missing (or empty: a write cut short), and
   * returns how to take back what it made, for a store that then fails: a failed generation
   * leaves the project as it was. The `.gitignore` is written whole, under a name of its own then
   * renamed: never empty, so `.tmp/` (staging, replaced entries) is never committed.
   */
  async #ensureBase(): Promise<() => Promise<void>> {
    this.#checkFolders();
    const made = !await exists(this.base);
    // Modes of their own whatever the umask (an SDK's process may run under 0000): no other user
    // may put a script where the store would run it.
    await Deno.mkdir(this.base, { recursive: true, mode: 0o755 });
    const ignore = join(this.base, ".gitignore");
    const info = lstatSyncOrNull(ignore);
    if (info === null || (info.isFile && info.size === 0)) {
      const temp = `${ignore}.${crypto.randomUUID()}.tmp`;
      try {
        await Deno.writeTextFile(temp, GITIGNORE, { createNew: true, mode: ENTRY_FILE_MODE });
        await Deno.rename(temp, ignore);
      } catch (error) {
        await Deno.remove(temp).catch(() => {});
        if (made) await this.#unmake();
        throw error;
      }
    }
    return made ? () => this.#unmake() : () => Promise.resolve();
  }

  /** Removes a `.capibara/` this process made, as far as nothing else was put in it meanwhile. */
  async #unmake(): Promise<void> {
    // Folders only when empty: another process may have stored an entry meanwhile.
    for (const folder of [join(this.base, ".tmp"), this.scripts]) {
      await Deno.remove(folder).catch(() => {});
    }
    if (lstatSyncOrNull(this.scripts) !== null) return;
    await Deno.remove(join(this.base, ".gitignore")).catch(() => {});
    await Deno.remove(this.base).catch(() => {});
  }
}

/**
 * An entry's manifest as text: a regular file of at most {@linkcode MAX_IMPORT_BYTES} (a
 * repository may bring a link to `/dev/zero`, a FIFO, a huge file).
 *
 * @throws {FileRefused} when it is not one.
 */
function readManifestText(dir: string): string {
  return new TextDecoder().decode(readRegularFileSync(join(dir, MANIFEST_FILE), MAX_IMPORT_BYTES));
}

/** An entry file that was refused ({@linkcode FileRefused}) as the entry's integrity error. */
function unreadableEntry(fingerprint: string, error: unknown): unknown {
  if (!(error instanceof FileRefused)) return error;
  return new IntegrityError(
    `Cannot read cached script "${fingerprint}": ${basename(error.path)} ${error.reason}`,
    {
      hint:
        "Remove the folder (capibara clear), or regenerate it with capibara run --refresh --force",
      details: { fingerprint },
    },
  );
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
  if (nestsDeeperThan(json, MAX_MANIFEST_DEPTH)) {
    throw new IntegrityError(
      `Cannot read manifest "${path}": it nests deeper than ${MAX_MANIFEST_DEPTH} levels`,
      { hint: "Restore it with git, or remove the folder and run again" },
    );
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    throw new IntegrityError(
      `Cannot read manifest "${path}": ${issuesText(parsed.error.issues)}`,
      { hint: `Restore it with git, or remove it with capibara clear ${basename(dirname(path))}` },
    );
  }
  return parsed.data;
}

/** Checks the shape and size of a received entry before anything is written. */
function checkWireEntry(
  entry: unknown,
  options: ImportOptions,
): { manifest: Record<string, unknown>; text: string; files: Record<string, string> } {
  const bad = (why: string) =>
    new ValidationError(`Cannot import entry: ${why}`, {
      hint: "An entry is {manifest, files} as a Core serves it; fetch it again",
    });
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(entry) || !isObject(entry.manifest) || !isObject(entry.files)) {
    throw bad("expected an object {manifest, files}");
  }
  const manifest = entry.manifest;
  const files = entry.files;
  if (nestsDeeperThan(manifest, MAX_MANIFEST_DEPTH)) {
    throw bad(`its manifest nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
  }
  const fp = manifest.fingerprint;
  if (typeof fp !== "string" || !FINGERPRINT_FORM.test(fp)) {
    throw bad('field "fingerprint" of its manifest is not a fingerprint');
  }
  if (options.fingerprint !== undefined && fp !== options.fingerprint) {
    throw bad(`it is "${fp}", not the "${options.fingerprint}" asked for`);
  }
  const language = manifest.language;
  if (typeof language !== "string" || !(LANGUAGES as readonly string[]).includes(language)) {
    throw bad('field "language" of its manifest is not a language');
  }
  const wanted = entryFileNames(language as Manifest["language"]);
  const names = Object.keys(files).sort();
  if (names.join("\n") !== wanted.join("\n")) {
    throw bad(
      `a ${language} entry holds ${wanted.join(", ")} (got ${
        names.map((n) => JSON.stringify(n)).join(", ") || "nothing"
      })`,
    );
  }
  let bytes = 0;
  for (const name of names) {
    const text = files[name];
    if (typeof text !== "string") throw bad(`file ${name} is not text`);
    bytes += new TextEncoder().encode(text).length;
  }
  const max = options.maxBytes ?? MAX_IMPORT_BYTES;
  if (bytes > max) throw bad(`it takes over the ${max} bytes allowed`);
  let text: string;
  try {
    text = serialiseManifest(manifest);
  } catch {
    throw bad("its manifest is not plain JSON");
  }
  bytes += new TextEncoder().encode(text).length;
  if (bytes > max) throw bad(`it takes ${bytes} bytes, over the ${max} bytes allowed`);
  return { manifest, text, files: files as Record<string, string> };
}
