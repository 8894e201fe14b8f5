/**
 * A response's body read with a bound: what a server sends (a Core, an LLM server, anyone between)
 * is untrusted, and an endless body must not fill the process's memory.
 *
 * @module
 */

/** A body larger than the bound it was read with. */
export class TooLarge extends Error {}

/** The body of a response, refusing more than `max` bytes (announced or sent). */
export async function readBounded(response: Response, max: number): Promise<Uint8Array> {
  const announced = Number(response.headers.get("content-length") ?? "");
  if (Number.isFinite(announced) && announced > max) {
    await response.body?.cancel().catch(() => {});
    throw new TooLarge();
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        await reader.cancel().catch(() => {});
        throw new TooLarge();
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
