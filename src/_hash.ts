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
