// Generated from src/core/cache.ts by scripts/build_js.ts (sha256 d53c9483e3751bff63d0b6ec350c2790ae64f3f8957a4d9c988a6581a578b8a0): do not edit; `deno task build:js` writes it.
export class EntryCache {
    #ttl;
    #max;
    #now;
    #items = new Map();
    #bytes = 0;
    constructor(options) {
        this.#ttl = options.ttlMs;
        this.#max = options.maxBytes;
        this.#now = options.now ?? (() => performance.now());
    }
    get(fingerprint) {
        const item = this.#items.get(fingerprint);
        if (!item)
            return undefined;
        this.#items.delete(fingerprint);
        if (this.#now() - item.at > this.#ttl) {
            this.#bytes -= item.body.length;
            return undefined;
        }
        this.#items.set(fingerprint, item);
        return item.body;
    }
    set(fingerprint, body) {
        const old = this.#items.get(fingerprint);
        if (old) {
            this.#items.delete(fingerprint);
            this.#bytes -= old.body.length;
        }
        if (body.length > this.#max)
            return;
        this.#items.set(fingerprint, { body, at: this.#now() });
        this.#bytes += body.length;
        for (const [key, item] of this.#items) {
            if (this.#bytes <= this.#max)
                break;
            this.#items.delete(key);
            this.#bytes -= item.body.length;
        }
    }
}
