/**
 * The one "compute once, share the promise, forget it on failure" helper.
 *
 * @module
 */

/**
 * Memoises an async computation per key: concurrent and later callers share one promise; a
 * rejected promise is dropped so the next call tries again (the user may fix what failed).
 */
export class Memo<K, V> {
  readonly #pending = new Map<K, Promise<V>>();

  /** The value of `key`, computing it with `compute` when not known (or after a failure). */
  get(key: K, compute: () => Promise<V>): Promise<V> {
    const known = this.#pending.get(key);
    if (known) return known;
    const promise = compute();
    this.#pending.set(key, promise);
    promise.catch(() => {
      if (this.#pending.get(key) === promise) this.#pending.delete(key);
    });
    return promise;
  }

  /**
   * The value of `key` while `holds(value)` says it still holds; else computed again (once, for
   * all the callers that found it stale together). A value this call computed is not checked: it
   * is as fresh as it gets.
   */
  async getWhile(
    key: K,
    compute: () => Promise<V>,
    holds: (value: V) => boolean | Promise<boolean>,
  ): Promise<V> {
    const known = this.#pending.get(key);
    if (known === undefined) return await this.get(key, compute);
    if (await holds(await known)) return known;
    if (this.#pending.get(key) === known) this.#pending.delete(key);
    return await this.get(key, compute);
  }

  /** Forgets `key` (or everything). */
  clear(key?: K): void {
    if (key === undefined) this.#pending.clear();
    else this.#pending.delete(key);
  }
}

/** A memo of one value: {@linkcode Memo} with a single key. */
export function once<V>(compute: () => Promise<V>): () => Promise<V> {
  const memo = new Memo<true, V>();
  return () => memo.get(true, compute);
}
