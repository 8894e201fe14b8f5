import assert from "node:assert/strict";
import { RateLimiter } from "../../src/core/rate.ts";

Deno.test("RateLimiter.take() allows a burst, then says how long to wait, per key", () => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 0.5, burst: 3, now: () => now });
  assert.deepEqual([1, 2, 3].map(() => limiter.take("a")), [0, 0, 0]);
  assert.equal(limiter.take("a"), 2);
  assert.equal(limiter.take("b"), 0);
  now = 2000;
  assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.take("a"), 2);
});

Deno.test("RateLimiter.wait() peeks without taking; maxKeys forgets the longest-untouched key", () => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 1, burst: 2, now: () => now, maxKeys: 2 });
  assert.equal(limiter.wait("a"), 0);
  assert.deepEqual([limiter.take("a"), limiter.take("a")], [0, 0]);
  assert.equal(limiter.wait("a"), 1);
  assert.equal(limiter.wait("a"), 1, "wait() took a request");
  // Two other keys touched: "a", the longest untouched, is forgotten (a full bucket again).
  limiter.take("b");
  limiter.take("c");
  assert.equal(limiter.wait("a"), 0);
  now = 500;
  assert.equal(limiter.take("c"), 0);
  assert.equal(limiter.take("c"), 1);
});
