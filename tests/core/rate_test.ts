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
