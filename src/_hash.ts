/**
 * Hashing: SHA-256 through WebCrypto, hex-encoded.
 *
 * @module
 */

/** The hex sha256 of some bytes, or of a string's UTF-8 bytes. */
export async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest).toHex();
}

/**
 * The sha256 of some bytes, or of a string's UTF-8 bytes, as a manifest writes a digest:
 * `sha256:` and the hex (each file's in `files`, the whole manifest's).
 */
export async function sha256Tagged(data: string | Uint8Array): Promise<string> {
  return "sha256:" + await sha256(data);
}
