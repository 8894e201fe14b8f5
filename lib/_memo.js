// Generated from src/_memo.ts by scripts/build_js.ts (sha256 9e9afd56d13148b56c83d316f544f3492efdd1e7b55ee5e4a6725edf5aa852ae): do not edit; `deno task build:js` writes it.
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
