/**
 * The integrity record of a cached entry, and its verification.
 *
 * An entry is immutable between revisions and wholly hashed:
 * - `files` in the manifest holds the sha256 of every other file of the entry folder;
 * - the record (`integrity` in the manifest) holds `manifest`, the sha256 of the canonical manifest
 *   (RFC 8785 over every top-level field but `integrity` and `signature`, see entry.ts), so it
 *   covers every field and, through `files`, every byte of every file;
 * - and `fields`, a short digest (16 hex digits of sha256 of the field's canonical JSON) of each
 *   covered top-level field. The short digests only serve to NAME what changed: an added, removed
 *   or changed field is reported by name. Trust rests on the full hash; a digest that disagrees
 *   with a full hash that agrees means the record itself was edited, and is reported as
 *   `integrity`.
 * - `manifest.json` must also be byte for byte the stored form the store writes (entry.ts), so
 *   whitespace, key order or escapes edited by hand are refused too.
 *
 * A signature (Ed25519, by a Core or a team lead) signs the same canonical manifest, so it covers
 * every file through their hashes without hashing anything else. Here it must only be well formed
 * (`{alg: "Ed25519", key_id, value}`); whether it verifies, and whether its key counts, is the trust
 * policy's business (`checkSignaturePolicy` in trust.ts).
 *
 * Beyond the hashes, the entry must be well formed: a real folder named by its fingerprint, which
 * is the fingerprint of the stored prompt, context (strict mode) and language; regular
 * files only, exactly the files of its language (script, README, and for Python a
 * `requirements.txt` equal to `deps` line for line: the environment is built from hashed content
 * only), and nothing else in the folder.
 *
 * @module
 */
import { basename, join } from "../_path.ts";
import { IntegrityError } from "../errors.ts";
import { FileRefused, lstatSyncOrNull, promised, readRegularFileSync } from "../_fs.ts";
import { sha256, sha256Tagged } from "../_hash.ts";
import { type Fingerprint, fingerprint } from "../fingerprint.ts";
import { ENTRY_FILES, IntegrityRecord, Manifest } from "../schema.ts";
import {
  canonicalJson,
  canonicalManifest,
  entryFileNames,
  INTEGRITY_FIELD,
  MANIFEST_FILE,
  MAX_MANIFEST_DEPTH,
  nestsDeeperThan,
  REQUIREMENTS_FILE,
  requirementsText,
  serialiseManifest,
  SIGNATURE_FIELD,
  signedFields,
} from "./entry.ts";
import { isWellFormedSignature } from "./trust.ts";
import { reviewTextProblem } from "../contract/contract.ts";
import { MAX_ENTRY_BYTES } from "./_verified.ts";

export { MAX_ENTRY_BYTES };

/** The integrity record of a manifest (any `integrity` or `signature` in it is ignored). */
export async function integrityRecord(manifest: object): Promise<IntegrityRecord> {
  const fields = signedFields(manifest);
  const keys = Object.keys(fields).sort();
  // The digests are independent: computed together, they take the time of the slowest.
  const [whole, ...digests] = await Promise.all([
    sha256(canonicalManifest(manifest)),
    ...keys.map((key) => fieldDigest(fields[key])),
  ]);
  return {
    manifest: "sha256:" + whole,
    fields: Object.fromEntries(keys.map((key, i) => [key, digests[i]!])),
  };
}

async function fieldDigest(value: unknown): Promise<string> {
  return (await sha256(canonicalJson(value))).slice(0, 16);
}

/** Options of {@linkcode verifyEntryDir}. */
export interface VerifyOptions {
  /** The fingerprint the folder must hold (default: the folder's name). */
  fingerprint?: string;
  /** The manifest already read from the folder: it must still be what the folder holds. */
  read?: Manifest;
  /**
   * How to restore the entry, for the error's hint; a function is told whether the manifest
   * itself is at fault (which no `capibara accept` keeps), not only the files it lists.
   */
  restoreHint?: string | ((manifest: boolean) => string);
}

/**
 * Verifies an entry folder against its manifest and the manifest against its integrity record.
 *
 * @returns the verified manifest
 * @throws {IntegrityError} naming every field and file that does not match, or when the manifest
 *   has no record (an older format)
 */
export async function verifyEntryDir(dir: string, options: VerifyOptions = {}): Promise<Manifest> {
  const fingerprint = options.fingerprint ?? basename(dir);
  const problems: string[] = [];
  /** Fails with the problems found; `manifest`: the manifest itself has some (not only files). */
  const fail: (manifest?: boolean) => never = (manifest = true) => {
    const restore = options.restoreHint;
    throw new IntegrityError(
      `Cannot trust cached script "${fingerprint}": ${problems.join("; ")}`,
      {
        hint: typeof restore === "function"
          ? restore(manifest)
          : restore ?? "Restore it from version control or regenerate it",
        details: { fingerprint, problems },
      },
    );
  };

  const folder = lstatSyncOrNull(dir);
  if (!folder?.isDirectory) {
    problems.push(`${dir} is ${folder ? "not a folder" : "missing"}`);
    fail();
  }
  const raw = readRawManifest(join(dir, MANIFEST_FILE), problems);
  if (raw === undefined) return fail();
  if (!Object.hasOwn(raw.value, INTEGRITY_FIELD)) {
    throw new IntegrityError(
      `Cannot trust cached script "${fingerprint}": its manifest has no integrity record ` +
        `(an older format, or the record was removed)`,
      {
        hint: "Regenerate it with capibara run --refresh (the same prompt and context), or " +
          "restore it from version control",
        details: { fingerprint, problems: [`field "${INTEGRITY_FIELD}" is missing`] },
      },
    );
  }
  problems.push(...await manifestEdits(raw.text, raw.value));
  const parsed = Manifest.safeParse(raw.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`field "${issue.path.join(".")}" is invalid: ${issue.message}`);
    }
    return fail();
  }
  const manifest = parsed.data;
  if (manifest.fingerprint !== fingerprint) {
    problems.push(`field "fingerprint" (${manifest.fingerprint}) does not name this folder`);
  }
  await checkRequest(manifest, problems);
  if (options.read && canonicalManifest(options.read) !== canonicalManifest(manifest)) {
    problems.push(`${MANIFEST_FILE} changed after it was read`);
  }
  const manifestProblems = problems.length;
  await checkFiles(dir, manifest, problems);
  if (problems.length > 0) fail(manifestProblems > 0);
  return manifest;
}

function readRawManifest(
  path: string,
  problems: string[],
): { text: string; value: Record<string, unknown> } | undefined {
  const info = lstatSyncOrNull(path);
  if (!info?.isFile) {
    problems.push(`${MANIFEST_FILE} is ${info ? "not a regular file" : "missing"}`);
    return undefined;
  }
  let text: string;
  let value: unknown;
  try {
    // Strict UTF-8 with any byte-order mark kept: every byte of the file must be accounted for.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      readRegularFileSync(path, MAX_ENTRY_BYTES),
    );
    value = JSON.parse(text);
  } catch {
    problems.push(`${MANIFEST_FILE} is not valid JSON`);
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push(`${MANIFEST_FILE} is not a JSON object`);
    return undefined;
  }
  if (nestsDeeperThan(value, MAX_MANIFEST_DEPTH)) {
    problems.push(`${MANIFEST_FILE} nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
    return undefined;
  }
  return { text, value: value as Record<string, unknown> };
}

/**
 * What was edited in a manifest since the store wrote it (`text`, and `raw` its JSON): each field
 * that differs from its integrity record, and a text not in the store's own form (a key given
 * twice: a reader sees the first, JSON the last), named (empty when none). `capibara accept` takes
 * a hand edit of the entry's files, never of its manifest.
 */
export async function manifestEdits(
  text: string,
  raw: Record<string, unknown>,
): Promise<string[]> {
  const problems: string[] = [];
  await checkRecord(raw, problems);
  if (text !== serialiseManifest(raw)) {
    problems.push(
      `${MANIFEST_FILE} is not in the form the store writes (whitespace, key order or escapes ` +
        `were edited)`,
    );
  }
  return problems;
}

/** Compares the manifest's fields with its record, naming each field that differs. */
async function checkRecord(raw: Record<string, unknown>, problems: string[]): Promise<void> {
  const record = IntegrityRecord.safeParse(raw[INTEGRITY_FIELD]);
  if (!record.success) {
    problems.push(`field "${INTEGRITY_FIELD}" is malformed`);
    return;
  }
  const actual = await integrityRecord(raw);
  const expected = record.data.fields;
  const named: string[] = [];
  for (const [key, digest] of Object.entries(actual.fields)) {
    if (!Object.hasOwn(expected, key)) named.push(`field "${key}" was added`);
    else if (expected[key] !== digest) named.push(`field "${key}" was changed`);
  }
  for (const key of Object.keys(expected)) {
    if (!Object.hasOwn(actual.fields, key)) named.push(`field "${key}" was removed`);
  }
  if (actual.manifest !== record.data.manifest) {
    // The full hash decides; the digests only name. No digest differing means the record's hash
    // itself was edited.
    problems.push(...(named.length ? named : [`field "${INTEGRITY_FIELD}" was changed`]));
  } else if (named.length) {
    problems.push(`field "${INTEGRITY_FIELD}" was changed (${named.join(", ")})`);
  }
  if (Object.hasOwn(raw, SIGNATURE_FIELD) && !isWellFormedSignature(raw[SIGNATURE_FIELD])) {
    problems.push(
      `field "${SIGNATURE_FIELD}" is malformed (expected {alg: "Ed25519", key_id: 16 hex ` +
        `digits, value: base64 of 64 bytes})`,
    );
  }
}

/**
 * Checks that the fingerprint is the request's: the prompt, the language, the template's major
 * version and (in strict mode, where the context is stored) the context.
 */
async function checkRequest(manifest: Manifest, problems: string[]): Promise<void> {
  let expected: Fingerprint;
  try {
    expected = await fingerprint(manifest.prompt, manifest.context ?? {}, {
      language: manifest.language,
      mode: manifest.mode,
      templateVersion: manifest.template_version,
    });
  } catch {
    problems.push(`fields "prompt" and "context" cannot be fingerprinted`);
    return;
  }
  if (expected.prompt_sha !== manifest.prompt_sha) {
    problems.push(`field "prompt_sha" does not match field "prompt"`);
  }
  // A parametric entry stores no context: its context_sha and fingerprint cannot be recomputed.
  if (manifest.mode !== "strict") return;
  if (expected.context_sha !== manifest.context_sha) {
    problems.push(`field "context_sha" does not match field "context"`);
  }
  if (expected.fingerprint !== manifest.fingerprint) {
    problems.push(`field "fingerprint" does not match the prompt, context and language`);
  }
}

/** Checks every file of the entry against `files`, and the folder against the language's files. */
async function checkFiles(dir: string, manifest: Manifest, problems: string[]): Promise<void> {
  const expectedEntry = ENTRY_FILES[manifest.language];
  if (manifest.entry !== expectedEntry) {
    problems.push(`field "entry" must be ${expectedEntry} for a ${manifest.language} script`);
  }
  const wanted = new Set(entryFileNames(manifest.language));
  const listed = new Set(Object.keys(manifest.files));
  for (const name of wanted) {
    if (!listed.has(name)) problems.push(`file ${name} is not hashed in field "files"`);
  }
  const contents = new Map<string, Uint8Array>();
  for (const [name, hash] of Object.entries(manifest.files)) {
    // Only the language's own names are ever read: a listed "../x" never leaves the folder.
    if (!wanted.has(name)) {
      problems.push(`file ${name} is listed in field "files" but is not part of an entry`);
      continue;
    }
    const bytes = await readEntryFile(dir, name);
    if (typeof bytes === "string") {
      problems.push(`file ${name} ${bytes}`);
      continue;
    }
    contents.set(name, bytes);
    if (await sha256Tagged(bytes) !== hash) problems.push(`file ${name} was modified`);
  }
  for (const item of Deno.readDirSync(dir)) {
    if (item.name !== MANIFEST_FILE && !listed.has(item.name)) {
      problems.push(`file ${item.name}${item.isDirectory ? "/" : ""} is not in the manifest`);
    }
  }
  const requirements = contents.get(REQUIREMENTS_FILE);
  if (requirements !== undefined && !sameBytes(requirements, requirementsText(manifest.deps))) {
    problems.push(`file ${REQUIREMENTS_FILE} does not match field "deps"`);
  }
  const bytes = contents.get(ENTRY_FILES[manifest.language]);
  // Decoded once for both of what a review must read as it runs.
  const entry = bytes && new TextDecoder().decode(bytes);
  const breaks = entry && reviewTextProblem(entry);
  if (breaks) problems.push(`file ${ENTRY_FILES[manifest.language]}: ${breaks}`);
  const declared = manifest.language === "python" && entry && declaredEncoding(entry);
  if (declared) {
    problems.push(
      `file ${ENTRY_FILES.python} declares the source encoding "${declared.slice(0, 40)}": ` +
        "Python would run it as that, not as the UTF-8 it is shown and reviewed in",
    );
  }
}

/**
 * The source encoding a Python script declares on its first two lines (PEP 263) when it is not
 * UTF-8: under `coding: utf-7`, a line shown as a comment (`# … +AAo-import os`) runs as code,
 * so what a review reads is not what runs.
 */
function declaredEncoding(script: string): string | undefined {
  // Each of the two lines whole, however long: Python reads the whole first line for it.
  const head = script.split(/\r\n|\r|\n/, 2);
  for (const line of head) {
    const name = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/.exec(line)?.[1];
    if (name === undefined) continue;
    const normal = name.toLowerCase().replaceAll("_", "-");
    return normal === "utf-8" || normal === "utf8" || normal.startsWith("utf-8-")
      ? undefined
      : name;
  }
  return undefined;
}

/**
 * The bytes of the file `name` of an entry folder, read only when the folder is a real folder and
 * the file a regular file in it: never through a symlink, which a repository can commit pointing at
 * any file of the host (a key, a credentials file) for a command to read and copy into the entry.
 *
 * @returns the bytes, or why they were not read ("is missing", "is not a regular file", "is in a
 *   folder that is not a real folder", "is not a file name" for a path such as `../x`)
 */
export function readEntryFile(dir: string, name: string): Promise<Uint8Array | string> {
  return promised(() => {
    if (name !== basename(name) || name === "." || name === "..") return "is not a file name";
    if (!lstatSyncOrNull(dir)?.isDirectory) return "is in a folder that is not a real folder";
    const path = join(dir, name);
    try {
      return readRegularFileSync(path, MAX_ENTRY_BYTES);
    } catch (error) {
      if (error instanceof FileRefused) return error.reason;
      throw error;
    }
  });
}

function sameBytes(bytes: Uint8Array, text: string): boolean {
  const expected = new TextEncoder().encode(text);
  return bytes.length === expected.length && bytes.every((b, i) => b === expected[i]);
}
