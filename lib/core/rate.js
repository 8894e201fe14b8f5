// Generated from src/core/rate.ts by scripts/build_js.ts (sha256 e56c69ee703fb90eb6d2d04bc4cd0c81a2d819739b298d86415110d267cb20fa): do not edit; `deno task build:js` writes it.
export class RateLimiter {
    #rate;
    #burst;
    #now;
    #maxKeys;
    #buckets = new Map();
    constructor(options) {
        this.#rate = options.rate;
        this.#burst = options.burst;
        this.#now = options.now ?? (() => performance.now());
        this.#maxKeys = options.maxKeys ?? Infinity;
    }
    #bucket(key, now) {
        const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
        bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / 1000 * this.#rate);
        bucket.at = now;
        this.#buckets.delete(key);
        this.#buckets.set(key, bucket);
        while (this.#buckets.size > this.#maxKeys) {
            this.#buckets.delete(this.#buckets.keys().next().value);
        }
        return bucket;
    }
    wait(key) {
        const bucket = this.#bucket(key, this.#now());
        return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
    }
    take(key) {
        const bucket = this.#bucket(key, this.#now());
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
    }
}
