// Generated from src/_memo.ts by scripts/build_js.ts (sha256 9e7e1cf3569e1d6bf96cd0780998a397b8d8eb47975168f3fd042f464877bc0f): do not edit; `deno task build:js` writes it.
export var once = (function (compute) {
    const memo = new Memo();
    return (() => memo.get(true, compute));
});
export class Memo {
    #pending = new Map();
    get(key, compute) {
        const known = this.#pending.get(key);
        if (known)
            return known;
        const promise = compute();
        this.#pending.set(key, promise);
        promise.catch((() => {
            if (this.#pending.get(key) === promise)
                this.#pending.delete(key);
        }));
        return promise;
    }
    async getWhile(key, compute, holds) {
        const known = this.#pending.get(key);
        if (known === undefined)
            return await this.get(key, compute);
        if (await holds(await known))
            return known;
        if (this.#pending.get(key) === known)
            this.#pending.delete(key);
        return await this.get(key, compute);
    }
    clear(key) {
        if (key === undefined)
            this.#pending.clear();
        else
            this.#pending.delete(key);
    }
}
;
