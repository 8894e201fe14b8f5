/**
 * Rate limits: a token bucket per key (a token id, or a client's address for failed
 * authentications), refilled continuously.
 *
 * @module
 */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests per second a token may sustain. */
  rate: number;
  /** Requests a token may make at once after being idle. */
  burst: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
  /**
   * The most keys remembered; past it the longest-untouched bucket is forgotten (as if full), so
   * that memory does not grow with an attacker's addresses. Default: unbounded.
   */
  maxKeys?: number;
}

/** Token buckets by key. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Buckets of `burst` requests refilled at `rate` per second. */
  constructor(options: RateLimiterOptions) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#now = options.now ?? (() => performance.now());
    this.#maxKeys = options.maxKeys ?? Infinity;
  }

  /** The key's bucket refilled to now, most recently touched last in the map's order. */
  #bucket(key: string, now: number): { tokens: number; at: number } {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / 1000 * this.#rate);
    bucket.at = now;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    while (this.#buckets.size > this.#maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return bucket;
  }

  /** The whole seconds until the key's bucket holds a request again (0: it holds one now). */
  wait(key: string): number {
    const bucket = this.#bucket(key, this.#now());
    return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  /**
   * Takes one request from the key's bucket: 0 when allowed, else the whole seconds to wait before
   * the next one would be (for `Retry-After`).
   */
  take(key: string): number {
    const bucket = this.#bucket(key, this.#now());
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }
}
