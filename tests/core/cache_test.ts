import assert from "node:assert/strict";
import { EntryCache } from "../../src/core/cache.ts";

const bytes = (n: number) => new Uint8Array(n);

Deno.test("EntryCache.get() serves an entry until its time to live is over", () => {
  let now = 0;
  const cache = new EntryCache({ ttlMs: 1000, maxBytes: 100, now: () => now });
  cache.set("a", bytes(10));
  now = 1000;
  assert.equal(cache.get("a")?.length, 10);
  now = 1001;
  assert.equal(cache.get("a"), undefined);
});

Deno.test("EntryCache.set() evicts the least recently used entries beyond maxBytes", () => {
  const cache = new EntryCache({ ttlMs: 1000, maxBytes: 100, now: () => 0 });
  cache.set("a", bytes(40));
  cache.set("b", bytes(40));
  cache.get("a");
  cache.set("c", bytes(40));
  assert.equal(cache.get("b"), undefined);
  assert.ok(cache.get("a") && cache.get("c"));
  cache.set("huge", bytes(101));
  assert.equal(cache.get("huge"), undefined);
  cache.set("a", bytes(90));
  assert.equal(cache.get("c"), undefined);
  assert.equal(cache.get("a")?.length, 90);
});
