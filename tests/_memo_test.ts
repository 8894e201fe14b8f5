import assert from "node:assert/strict";
import { Memo } from "../src/_memo.ts";

Deno.test("Memo.getWhile() computes once, checks only what an earlier call computed, and computes again when it no longer holds", async () => {
  const memo = new Memo<string, number>();
  let computed = 0;
  const checked: number[] = [];
  let fresh = true;
  const compute = () => Promise.resolve(++computed);
  const holds = (value: number) => {
    checked.push(value);
    return fresh;
  };
  // Computed by this call: returned as it is, not checked (a value that never holds, such as
  // pip's answer that does not say what it read, would otherwise be asked for twice).
  assert.equal(await memo.getWhile("k", compute, holds), 1);
  assert.deepEqual(checked, []);
  // Known: checked, and kept while it holds.
  assert.equal(await memo.getWhile("k", compute, holds), 1);
  assert.deepEqual(checked, [1]);
  // Stale: computed again, once, for the callers that found it so together.
  fresh = false;
  const both = await Promise.all([
    memo.getWhile("k", compute, holds),
    memo.getWhile("k", compute, holds),
  ]);
  assert.deepEqual(both, [2, 2]);
  assert.equal(computed, 2);
});
