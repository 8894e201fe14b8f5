/**
 * Per-token rate limits: a token bucket for each token id, refilled continuously.
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
}

/** Token buckets by key. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Buckets of `burst` requests refilled at `rate` per second. */
  constructor(options: RateLimiterOptions) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Takes one request from the key's bucket: 0 when allowed, else the whole seconds to wait before
   * the next one would be (for `Retry-After`).
   */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / 1000 * this.#rate);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }
}
