/**
 * A response's body read with a bound: what a server sends (a Core, an LLM server, anyone between)
 * is untrusted, and an endless body must not fill the process's memory. A leaf: the hit path
 * loads it (a command's output is gathered with {@linkcode concatBytes}).
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
  return concatBytes(chunks);
}

/** The chunks of a stream read in turn, as one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
