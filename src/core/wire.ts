/**
 * Entries on the wire (`GET`/`PUT /v1/entries/<fp>`, the `/v1/gen` reply): `{manifest, files}`,
 * the manifest exactly as `manifest.json` holds it (with `integrity` and `signature`), `files`
 * every other file as text. What the Core accepts from a client it checks as a local entry is
 * checked: written into a staging folder and verified by the store's own verification
 * (`verifyEntryDir`), plus the signature by a key the Core trusts.
 *
 * @module
 */
import { join } from "node:path";
import { IntegrityError, PermissionError, ValidationError } from "../errors.ts";
import { ENTRY_FILES, type Manifest } from "../schema.ts";
import {
  entryFileNames,
  type EntryFiles,
  MANIFEST_FILE,
  README_FILE,
  REQUIREMENTS_FILE,
  serialiseManifest,
  SIGNATURE_FIELD,
} from "../store/entry.ts";
import { verifyEntryDir } from "../store/integrity.ts";
import { isSignatureShape, keyIdOf, verifySignature } from "../store/trust.ts";

/** An entry as the HTTP API carries it. */
export interface WireEntry {
  /** The manifest, as `manifest.json` holds it. */
  manifest: Manifest & Record<string, unknown>;
  /** Every file but `manifest.json`, by name, as UTF-8 text. */
  files: EntryFiles;
}

/** Public keys by key id: whose signatures the Core accepts. */
export type TrustedKeys = ReadonlyMap<string, string>;

/** Every file name an entry of any language may hold besides the manifest. */
const KNOWN_FILES = new Set<string>([
  ...Object.values(ENTRY_FILES),
  README_FILE,
  REQUIREMENTS_FILE,
]);

function bad(
  message: string,
  hint = "Send the entry as the Core's GET returns it",
): ValidationError {
  return new ValidationError(message, { hint });
}

/**
 * Parses a wire entry's JSON into its two parts, refusing anything that is not exactly
 * `{manifest: object, files: {name: text}}` with known file names.
 *
 * @throws {ValidationError} for any other shape
 */
export function parseWireEntry(text: string): WireEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad("Cannot read the entry: the body is not valid JSON");
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(value) || Object.keys(value).sort().join(",") !== "files,manifest") {
    throw bad("Cannot read the entry: expected an object with exactly manifest and files");
  }
  const { manifest, files } = value;
  if (!isObject(manifest)) throw bad("Cannot read the entry: manifest is not an object");
  if (!isObject(files)) throw bad("Cannot read the entry: files is not an object");
  for (const [name, content] of Object.entries(files)) {
    if (!KNOWN_FILES.has(name)) {
      throw bad(`Cannot read the entry: "${name.slice(0, 60)}" is not a file an entry holds`);
    }
    if (typeof content !== "string") {
      throw bad(`Cannot read the entry: file "${name}" is not text`);
    }
  }
  return { manifest: manifest as WireEntry["manifest"], files: files as EntryFiles };
}

/** Options of {@linkcode checkWireEntry}. */
export interface CheckWireEntryOptions {
  /** The keys whose signatures are accepted. */
  keys: TrustedKeys;
  /** A folder to stage the entry in while it is verified (removed afterwards). */
  scratch: string;
}

/**
 * Checks a wire entry for fingerprint `fp`: signed by a trusted key with a signature that
 * verifies, and — written into a staging folder — passing the store's verification of a cached
 * entry (integrity record, every file's hash, the fingerprint is the request's).
 *
 * @throws {PermissionError} when it is unsigned or signed by a key the Core does not trust
 * @throws {IntegrityError} when the signature or the entry's own verification fails
 * @throws {ValidationError} when the files are not the language's or the fingerprint differs
 */
export async function checkWireEntry(
  fp: string,
  entry: WireEntry,
  options: CheckWireEntryOptions,
): Promise<void> {
  const { manifest, files } = entry;
  if (manifest.fingerprint !== fp) {
    throw bad(`Cannot store the entry under "${fp}": its manifest names another fingerprint`);
  }
  const signature = manifest[SIGNATURE_FIELD];
  if (signature === undefined) {
    throw new PermissionError(`Cannot accept "${fp}": it is not signed`, {
      hint: "Sign it first (capibara sign) with the Core's key or one listed in --trust-keys",
    });
  }
  if (!isSignatureShape(signature)) {
    throw new IntegrityError(`Cannot accept "${fp}": its signature is malformed`, {
      hint: "Sign it again with capibara sign",
    });
  }
  const publicKey = options.keys.get(signature.key_id);
  if (publicKey === undefined) {
    throw new PermissionError(
      `Cannot accept "${fp}": it is signed by key ${signature.key_id.slice(0, 32)}, which this ` +
        "Core does not trust",
      { hint: "Add the key to the Core's --trust-keys file, or sign with a trusted key" },
    );
  }
  if (!await verifySignature(manifest, signature, publicKey)) {
    throw new IntegrityError(`Cannot accept "${fp}": its signature does not verify`, {
      hint: "The entry changed after it was signed: sign the reviewed entry again",
    });
  }
  const language = manifest.language;
  if (typeof language !== "string" || !Object.hasOwn(ENTRY_FILES, language)) {
    throw bad(`Cannot accept "${fp}": its manifest names no known language`);
  }
  const wanted = entryFileNames(language as Manifest["language"]);
  if (Object.keys(files).sort().join("\n") !== wanted.join("\n")) {
    throw bad(`Cannot accept "${fp}": a ${language} entry holds exactly ${wanted.join(", ")}`);
  }
  const staging = await Deno.makeTempDir({ dir: options.scratch, prefix: "put-" });
  try {
    const dir = join(staging, fp);
    await Deno.mkdir(dir);
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    // The signature was checked above; the store's verification covers everything else.
    // TODO(#10): keep the signature once verifyEntryDir checks signatures itself.
    const { [SIGNATURE_FIELD]: _signature, ...unsigned } = manifest;
    await Deno.writeTextFile(join(dir, MANIFEST_FILE), serialiseManifest(unsigned));
    await verifyEntryDir(dir, {
      fingerprint: fp,
      restoreHint: "Send the entry exactly as it was stored and signed",
    });
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/**
 * Reads a trusted keys file: JSON `{"keys": {"<key id>": "<public key, base64>"}}`, the form of
 * `.capibara/config.json`'s `trust.keys`. Each id must be its key's.
 *
 * @throws {ValidationError} when it cannot be read or a key is malformed
 */
export async function loadTrustedKeys(path: string): Promise<Map<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new ValidationError(`Cannot read trusted keys "${path}": ${(error as Error).message}`, {
      cause: error,
      hint: 'Write {"keys": {"<key id>": "<public key>"}} (capibara keygen prints both)',
    });
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new ValidationError(`Cannot read trusted keys "${path}": no "keys" object`, {
      hint: 'Write {"keys": {"<key id>": "<public key>"}} (capibara keygen prints both)',
    });
  }
  const result = new Map<string, string>();
  for (const [id, publicKey] of Object.entries(keys)) {
    let actual: string | undefined;
    try {
      actual = typeof publicKey === "string" ? await keyIdOf(publicKey) : undefined;
    } catch {
      actual = undefined;
    }
    if (actual !== id) {
      throw new ValidationError(
        `Cannot read trusted keys "${path}": key "${id}" is not the id of its public key`,
        { hint: "Copy the key id and public key that capibara keygen printed" },
      );
    }
    result.set(id, publicKey as string);
  }
  return result;
}
