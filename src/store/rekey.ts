/**
 * Entries written under an earlier prompt rule (template majors 1 and 2): finding one on a miss,
 * and moving each to the fingerprint of the current rule (`capibara rekey`), with no LLM call.
 *
 * The earlier rules merged requests that mean different things, so an earlier entry serves only
 * the request it was written for: its stored prompt must be the request's prompt under the
 * current rule.
 *
 * @module
 */
import { basename, join } from "../_path.ts";
import { TEMPLATE_VERSION } from "../contract/contract.ts";
import { CapibaraError, IntegrityError, ValidationError } from "../errors.ts";
import {
  EARLIER_PROMPT_RULES,
  type Fingerprint,
  fingerprint,
  type FingerprintOptions,
  normalizePrompt,
  templateMajor,
} from "../fingerprint.ts";
import { verifiedBytes } from "./_verified.ts";
import canonicalize from "npm:canonicalize@^5.1.0";
import { sha256Tagged } from "../_hash.ts";
import { type Language, Manifest, type Mode } from "../schema.ts";
import { entryFileNames, type EntryFiles, README_FILE } from "./entry.ts";
import type { Entry, Store } from "./store.ts";

/** The history reason of a re-keyed entry's new revision. */
export const REKEY_REASON = `re-keyed to template ${templateMajor(TEMPLATE_VERSION)}`;

/** A request, as `Capibara.run()` fingerprints it. */
export interface LegacyRequest {
  prompt: string;
  context: unknown;
  language: Language;
  mode: Mode;
}

/**
 * The entry written for this request under an earlier key, when the request misses under the
 * current one: an earlier template major's prompt rule (1 or 2), or, for a parametric request,
 * the key it had before its mode was hashed (in template 1, and early in template 2). An entry an
 * earlier key keyed for another request (one that differs in a symbol, a digit, a courtesy word
 * inside the prompt, a superscript or a quoted letter's case, or a strict request whose context
 * spells this one's shape) is never returned.
 *
 * @param current the request's fingerprint under the current rule
 */
export async function findLegacyEntry(
  store: Store,
  request: LegacyRequest,
  current: Fingerprint,
): Promise<Entry | undefined> {
  const earlier: (FingerprintOptions & { templateVersion: string })[] = [];
  for (const major of Object.keys(EARLIER_PROMPT_RULES)) {
    earlier.push({ templateVersion: major, modeUnhashed: true });
    // Template 1 never hashed a request's mode; template 2 began to.
    if (major !== "1" && request.mode === "parametric") earlier.push({ templateVersion: major });
  }
  for (const rule of earlier) {
    let legacy: Fingerprint;
    try {
      legacy = await fingerprint(request.prompt, request.context, {
        language: request.language,
        mode: request.mode,
        ...rule,
      });
    } catch (error) {
      if (error instanceof ValidationError) continue; // empty under the earlier rule
      throw error;
    }
    const entry = await store.lookup(legacy.fingerprint);
    const { manifest } = entry ?? {};
    if (
      !manifest || templateMajor(manifest.template_version) !== templateMajor(rule.templateVersion)
    ) continue;
    // The request's identity: the prompt under the current rule, its context (or shape), language
    // and mode (a strict entry under a parametric request's earlier key is another request's).
    if (
      normalizePrompt(manifest.prompt) === current.prompt_normalized &&
      manifest.context_sha === current.context_sha && manifest.language === request.language &&
      manifest.mode === request.mode
    ) return entry;
  }
  return undefined;
}

/** What `rekey` did (or, in a dry run, would do) with one entry. */
export type RekeyStatus =
  | "moved"
  | "would-move"
  | "current"
  | "superseded"
  | "skipped"
  | "failed";

/** One entry's outcome. */
export interface RekeyOutcome {
  /** The fingerprint (folder name) the entry had. */
  from: string;
  /** Its fingerprint under the current rule, when it could be computed. */
  to?: string;
  status: RekeyStatus;
  /** Why it was skipped, superseded or failed. */
  reason?: string;
  /** The error behind a failure, for its type and exit code. */
  error?: CapibaraError;
}

/** Options of {@linkcode rekeyStore}. */
export interface RekeyOptions {
  /** Say what would move, and change nothing. */
  dryRun?: boolean;
  /** Stops between entries: the entry being moved is moved whole, the rest stay. */
  signal?: AbortSignal;
  /** The clock of the history entry (default: now). */
  now?: () => Date;
}

/**
 * Moves every entry of an earlier template major to its fingerprint under the current rule,
 * without calling an LLM. Each entry is verified first (a tampered entry is never re-keyed, since
 * re-keying writes a new integrity record); its files are copied as they are hashed (the README's
 * title and its command name the new fingerprint); the manifest is rewritten by `Store.write()`
 * with the current template version, the next revision and a history entry
 * {@linkcode REKEY_REASON}; the old folder is removed only once the new one is in place. An entry whose new fingerprint is taken by another
 * entry is left where it is.
 */
export async function rekeyStore(
  store: Store,
  options: RekeyOptions = {},
): Promise<RekeyOutcome[]> {
  const { entries, broken } = await store.list();
  const outcomes: RekeyOutcome[] = broken.map((b) => ({
    from: basename(b.dir),
    status: "failed",
    reason: b.reason,
    error: new IntegrityError(b.reason, { hint: "Restore it with git, or remove it" }),
  }));
  for (const entry of entries) {
    if (options.signal?.aborted) break;
    outcomes.push(await rekeyEntry(store, entry, options));
  }
  return outcomes;
}

async function rekeyEntry(
  store: Store,
  entry: Entry,
  options: RekeyOptions,
): Promise<RekeyOutcome> {
  const old = entry.manifest;
  const from = old.fingerprint;
  const major = templateMajor(old.template_version);
  if (major === templateMajor(TEMPLATE_VERSION)) return { from, status: "current" };
  if (!Object.hasOwn(EARLIER_PROMPT_RULES, major)) {
    return {
      from,
      status: "skipped",
      reason: `template ${old.template_version} is not one this version can re-key`,
    };
  }
  if (old.mode !== "strict") {
    return {
      from,
      status: "skipped",
      reason: "a parametric entry does not store its context, so its new fingerprint cannot be " +
        "computed: regenerate it with capibara run --refresh",
    };
  }
  let files: EntryFiles;
  let to: string;
  let next: Fingerprint;
  try {
    await store.verify(entry);
    files = await readVerifiedFiles(entry);
    next = await fingerprint(old.prompt, old.context ?? {}, {
      language: old.language,
      mode: old.mode,
    });
    to = next.fingerprint;
  } catch (error) {
    return failure(from, error);
  }
  /** What rekey writes at `to`: the manifest's fields (its clock aside) and the files. */
  const revision = old.revision + 1;
  const rekeyed = (at: string) => {
    const { files: _f, integrity: _i, signature: _s, ...fields } = old;
    return {
      ...fields,
      fingerprint: to,
      prompt_sha: next.prompt_sha,
      context_sha: next.context_sha,
      template_version: TEMPLATE_VERSION,
      revision,
      history: [...old.history, { revision, at, reason: REKEY_REASON }],
    };
  };
  const movedFiles = retitle(files, from, to);
  if (options.dryRun) {
    const existing = await store.lookup(to).catch(() => undefined);
    if (existing && !await isRekeyed(existing.manifest, rekeyed, movedFiles)) {
      return superseded(from, to);
    }
    return { from, to, status: "would-move" };
  }
  try {
    // A store this user cannot change is said so (PermissionError), not met half-way.
    await store.checkWritable();
  } catch (error) {
    return failure(from, error, to);
  }
  const [first, second] = [from, to].sort();
  using _first = await store.lock(first!);
  using _second = await store.lock(second!);
  try {
    const existing = await store.lookup(to);
    if (existing) {
      // A move that stopped after the new folder was in place: finish it, only when that folder
      // is what this move writes, field for field and file for file (a repository may plant an
      // entry there that copies the prompt and script but grants itself more: it must never
      // stand in for the one re-keyed, nor be signed as it).
      await store.verify(existing);
      if (!await isRekeyed(existing.manifest, rekeyed, movedFiles)) return superseded(from, to);
    } else {
      await store.write(
        rekeyed((options.now?.() ?? new Date()).toISOString()),
        movedFiles,
      );
    }
    await store.remove(from);
    return { from, to, status: "moved" };
  } catch (error) {
    return failure(from, error, to);
  }
}

/** The entry's files, read once and checked against the verified manifest's hashes. */
async function readVerifiedFiles(entry: Entry): Promise<EntryFiles> {
  const files: EntryFiles = {};
  for (const name of entryFileNames(entry.manifest.language)) {
    const bytes = await verifiedBytes(join(entry.dir, name), entry.manifest.files[name]);
    try {
      files[name] = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new IntegrityError(`${name} of ${entry.manifest.fingerprint} is not UTF-8 text`, {
        hint: `Restore it with git, or remove it with capibara clear ${entry.manifest.fingerprint}`,
      });
    }
  }
  return files;
}

/**
 * The README names the entry by its fingerprint: in its title, and in the path of the command
 * that runs it by hand (`.capibara/scripts/<fingerprint>/…`), which must name the folder the
 * entry moves to.
 */
function retitle(files: EntryFiles, from: string, to: string): EntryFiles {
  const readme = files[README_FILE];
  if (readme === undefined) return files;
  return { ...files, [README_FILE]: readme.replaceAll(from, to) };
}

/**
 * Whether `moved` is what re-keying writes: every field as `rekeyed` gives it (the move's clock
 * taken from `moved`), and every file's hash that of `files`, no file more or less; its integrity
 * record and signature aside, which the store and `sign` make.
 */
async function isRekeyed(
  moved: Manifest,
  rekeyed: (at: string) => Omit<Manifest, "files" | "integrity" | "signature">,
  files: EntryFiles,
): Promise<boolean> {
  const at = moved.history.at(-1)?.at;
  if (typeof at !== "string") return false;
  const { files: movedFiles, integrity: _i, signature: _s, ...fields } = moved;
  const expected = Manifest.parse({ ...rekeyed(at), files: movedFiles });
  const { files: _f, integrity: _ei, signature: _es, ...expectedFields } = expected;
  if (canonicalize(fields) !== canonicalize(expectedFields)) return false;
  const names = Object.keys(files);
  if (Object.keys(movedFiles).length !== names.length) return false;
  for (const name of names) {
    const hash = await sha256Tagged(files[name]!);
    if (movedFiles[name] !== hash) return false;
  }
  return true;
}

function superseded(from: string, to: string): RekeyOutcome {
  return {
    from,
    to,
    status: "superseded",
    reason: `${to} already holds another entry for this request; this one is never used again: ` +
      `remove it with capibara clear ${from}`,
  };
}

/** A refused entry (a Capibara error) is an outcome; anything else (a file system error) throws. */
function failure(from: string, error: unknown, to?: string): RekeyOutcome {
  if (!(error instanceof CapibaraError)) throw error;
  return { from, ...(to ? { to } : {}), status: "failed", reason: error.message, error };
}
