/**
 * A small in-memory cache of stored entries' bytes in front of the storage, so a hot entry is
 * served without a disk read or an S3 round trip. Entries change only when a higher revision is
 * published; a Core sees its own publications at once and another instance's (through shared S3)
 * within the time to live. What it serves is signed and verified by the client either way.
 *
 * @module
 */

/** Options of {@linkcode EntryCache}. */
export interface EntryCacheOptions {
  /** How long a cached entry is served before storage is asked again, in milliseconds. */
  ttlMs: number;
  /** The most bytes kept; the least recently used entries go first. */
  maxBytes: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Bytes by fingerprint, least recently used first out. */
export class EntryCache {
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #items = new Map<string, { body: Uint8Array<ArrayBuffer>; at: number }>();
  #bytes = 0;

  /** An empty cache. */
  constructor(options: EntryCacheOptions) {
    this.#ttl = options.ttlMs;
    this.#max = options.maxBytes;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The cached bytes of a fingerprint, when fresh. */
  get(fingerprint: string): Uint8Array<ArrayBuffer> | undefined {
    const item = this.#items.get(fingerprint);
    if (!item) return undefined;
    this.#items.delete(fingerprint);
    if (this.#now() - item.at > this.#ttl) {
      this.#bytes -= item.body.length;
      return undefined;
    }
    this.#items.set(fingerprint, item);
    return item.body;
  }

  /** Caches the bytes of a fingerprint (not when larger than the whole cache). */
  set(fingerprint: string, body: Uint8Array<ArrayBuffer>): void {
    const old = this.#items.get(fingerprint);
    if (old) {
      this.#items.delete(fingerprint);
      this.#bytes -= old.body.length;
    }
    if (body.length > this.#max) return;
    this.#items.set(fingerprint, { body, at: this.#now() });
    this.#bytes += body.length;
    for (const [key, item] of this.#items) {
      if (this.#bytes <= this.#max) break;
      this.#items.delete(key);
      this.#bytes -= item.body.length;
    }
  }
}
