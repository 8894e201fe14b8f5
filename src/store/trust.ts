/**
 * Signatures of cached entries: what one is, how it is checked, and the key ids that name keys.
 *
 * A signature is Ed25519 over the canonical manifest (RFC 8785 of every top-level field but the
 * integrity record and the signature itself, see entry.ts). `files` holds the sha256 of every
 * other file of the entry, so one signature covers the whole entry; it does not change the
 * fingerprint. It is stored in the manifest as `signature: {alg: "Ed25519", key_id, value}`, where
 * `value` is the base64 of the 64 signature bytes and `key_id` names the public key that verifies
 * it ({@linkcode keyIdOf}). Signing itself (keys on disk, the Core's key) lives in `core/sign.ts`.
 *
 * @module
 */
import { sha256 } from "../_hash.ts";
import type { Signature } from "../types.ts";
import { canonicalManifest } from "./entry.ts";

export type { Signature } from "../types.ts";

/** The one signature algorithm. */
export const SIGNATURE_ALG = "Ed25519";

/** Length of a raw Ed25519 public key, in bytes. */
const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature, in bytes. */
const SIGNATURE_BYTES = 64;

/**
 * The key id of a public key: the first 16 hex digits of the sha256 of its raw 32 bytes.
 *
 * @throws {TypeError} when the key is not base64 of 32 bytes
 */
export async function keyIdOf(publicKey: string): Promise<string> {
  return (await sha256(publicKeyBytes(publicKey))).slice(0, 16);
}

/**
 * The raw bytes of a public key given as base64 (standard alphabet, padded).
 *
 * @throws {TypeError} when it is not base64 of exactly 32 bytes
 */
export function publicKeyBytes(publicKey: string): Uint8Array<ArrayBuffer> {
  const bytes = strictBase64(publicKey);
  if (bytes?.length !== PUBLIC_KEY_BYTES) {
    throw new TypeError("Cannot read public key: expected base64 of 32 bytes (an Ed25519 key)");
  }
  return bytes;
}

/** The bytes a signature signs: the canonical manifest, as UTF-8. */
export function signedMessage(manifest: object): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(canonicalManifest(manifest)) as Uint8Array<ArrayBuffer>;
}

/**
 * Whether `signature` is a valid signature of the manifest by `publicKey` (base64, raw 32 bytes).
 * A malformed signature (wrong algorithm, key id that does not name the key, value not 64 bytes of
 * base64) is simply not valid: this never throws for what an attacker can write.
 */
export async function verifySignature(
  manifest: object,
  signature: unknown,
  publicKey: string,
): Promise<boolean> {
  if (!isSignatureShape(signature) || signature.alg !== SIGNATURE_ALG) return false;
  let key: CryptoKey;
  try {
    if (signature.key_id !== await keyIdOf(publicKey)) return false;
    key = await crypto.subtle.importKey("raw", publicKeyBytes(publicKey), SIGNATURE_ALG, false, [
      "verify",
    ]);
  } catch {
    return false;
  }
  const value = strictBase64(signature.value);
  if (value?.length !== SIGNATURE_BYTES) return false;
  return await crypto.subtle.verify(SIGNATURE_ALG, key, value, signedMessage(manifest));
}

/** Whether a value has the shape of a {@linkcode Signature} (three strings, nothing else). */
export function isSignatureShape(value: unknown): value is Signature {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).sort();
  const record = value as Record<string, unknown>;
  return keys.join(",") === "alg,key_id,value" &&
    typeof record.alg === "string" && typeof record.key_id === "string" &&
    typeof record.value === "string";
}

/** Decodes standard, padded base64, refusing any other spelling (so one value has one form). */
function strictBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    return undefined;
  }
  try {
    const bytes = Uint8Array.fromBase64(text) as Uint8Array<ArrayBuffer>;
    return bytes.toBase64() === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}
