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
  return await readStream(response.body, max);
}

/** Options of {@linkcode readStream}. */
export interface ReadStreamOptions {
  /** Told each chunk's size before it is kept; refuses it by throwing. */
  take?: (bytes: number) => void;
  /** Ends the read early: what arrived before is returned, and the caller tells why. */
  signal?: AbortSignal;
}

/**
 * The bytes of a stream, refusing more than `max` (a {@linkcode TooLarge}). On any refusal the
 * stream is cancelled, so its sender stops.
 */
export async function readStream(
  body: ReadableStream<Uint8Array>,
  max: number,
  options: ReadStreamOptions = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) throw new TooLarge();
      options.take?.(value.length);
      chunks.push(value);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", stop);
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
