/**
 * Whose signatures the Core accepts on a published entry (`PUT /v1/entries/<fp>`): its own key
 * and those of a trusted keys file. Verifying the entry itself is the store's business
 * (`Store.importEntry`), as for any entry received.
 *
 * @module
 */
import { IntegrityError, PermissionError, ValidationError } from "../errors.ts";
import { readSettingsFile } from "./_private_file.ts";
import { SIGNATURE_FIELD } from "../store/entry.ts";
import { checkProjectKeys, isWellFormedSignature } from "../store/trust.ts";

/** Public keys by key id: whose signatures the Core accepts. */
export type TrustedKeys = ReadonlyMap<string, string>;

/**
 * Reads a trusted keys file: JSON `{"keys": {"<key id>": "<public key, base64>"}}`, what the
 * `trust` object of `.capibara/config.json` holds (its `require_signature` has no meaning here).
 * Each id must be its key's.
 *
 * @throws {ValidationError} when it cannot be read or a key is malformed or mislabelled
 */
export async function loadTrustedKeys(path: string): Promise<Map<string, string>> {
  const hint = 'Write {"keys": {"<key id>": "<public key>"}} (capibara keygen prints both)';
  const { text } = await readSettingsFile(path, "trusted keys", hint);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Cannot read trusted keys ${path}: ${(error as Error).message}`, {
      cause: error,
      hint,
    });
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (
    typeof keys !== "object" || keys === null || Array.isArray(keys) ||
    Object.values(keys).some((key) => typeof key !== "string")
  ) {
    throw new ValidationError(`Cannot read trusted keys "${path}": no "keys" object of strings`, {
      hint,
    });
  }
  const listed = keys as Record<string, string>;
  await checkProjectKeys({ keys: listed }, path);
  return new Map(Object.entries(listed));
}

/**
 * The key id of a published entry's signer, when the Core trusts it: an entry that is not signed,
 * or signed by a key the Core does not know, may not be published. Whether the signature verifies
 * is checked when the entry is imported.
 *
 * @throws {PermissionError} when it is unsigned, or signed by a key the Core does not trust
 * @throws {IntegrityError} when its signature is malformed
 * @throws {ValidationError} when the body is not an object with a manifest
 */
export function publisherKey(fp: string, entry: unknown, keys: TrustedKeys): string {
  const manifest = (entry as { manifest?: unknown } | null)?.manifest;
  if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
    throw new ValidationError("Cannot read the entry: expected an object {manifest, files}", {
      hint: "Send the entry as the Core's GET returns it",
    });
  }
  const signature = (manifest as Record<string, unknown>)[SIGNATURE_FIELD];
  if (signature === undefined) {
    throw new PermissionError(`Cannot accept "${fp}": it is not signed`, {
      hint: "Sign it first (capibara sign) with the Core's key or one listed in --trust-keys",
    });
  }
  if (!isWellFormedSignature(signature)) {
    throw new IntegrityError(`Cannot accept "${fp}": its signature is malformed`, {
      hint: "Sign it again with capibara sign",
    });
  }
  if (!keys.has(signature.key_id)) {
    throw new PermissionError(
      `Cannot accept "${fp}": it is signed by key ${signature.key_id}, which this Core does ` +
        "not trust",
      { hint: "Add the key to the Core's --trust-keys file, or sign with a trusted key" },
    );
  }
  return signature.key_id;
}
