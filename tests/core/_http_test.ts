import assert from "node:assert/strict";
import { BodyBudget, HttpError, readBody } from "../../src/core/_http.ts";

const limits = { maxBytes: 10, timeoutMs: 5_000 };

function post(body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request("http://core.test/v1/gen", { method: "POST", body, headers });
}

function streamOf(chunks: string[], endless = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (!endless) controller.close();
    },
  });
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    assert.ok(error instanceof HttpError, String(error));
    return error.status;
  }
}

Deno.test("readBody() returns UTF-8 text within the limit", async () => {
  assert.equal(await readBody(post("héllo"), limits), "héllo");
  assert.equal(await readBody(post(streamOf(["ab", "cd"])), limits), "abcd");
});

Deno.test("readBody() refuses a body over the limit, declared or counted (413)", async () => {
  assert.equal(await status(readBody(post("x".repeat(11)), limits)), 413);
  assert.equal(await status(readBody(post(streamOf(["123456", "789012"])), limits)), 413);
});

Deno.test("readBody() refuses bytes that are not UTF-8 (400)", async () => {
  assert.equal(await status(readBody(post(new Uint8Array([0xff, 0xfe])), limits)), 400);
});

Deno.test("readBody() gives up on a body that does not arrive in time (408)", async () => {
  const slow = readBody(post(streamOf(["ab"], true)), { maxBytes: 10, timeoutMs: 50 });
  assert.equal(await status(slow), 408);
});

Deno.test("readBody() holds at most its budget of bodies arriving at once (503), and gives it back", async () => {
  const budget = new BodyBudget(8);
  const options = { maxBytes: 10, timeoutMs: 200, budget };
  // A slow body holds 6 of the 8 bytes while it arrives: the next one past the rest waits its turn.
  const slow = readBody(post(streamOf(["abcdef"], true)), options);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(budget.used(), 6);
  assert.equal(await status(readBody(post(streamOf(["xyz"])), options)), 503);
  assert.equal(await readBody(post(streamOf(["xy"])), options), "xy");
  assert.equal(await status(slow), 408);
  // Everything is given back, whatever the outcome.
  assert.equal(budget.used(), 0);
  assert.equal(await readBody(post(streamOf(["12345678"])), options), "12345678");
});

Deno.test("readBody() holds at most one holder's share of the budget (429), and leaves the rest to others", async () => {
  const budget = new BodyBudget(20, 8);
  const as = (holder: string) => ({ maxBytes: 10, timeoutMs: 200, budget, holder });
  // One token's slow bodies take its share of 8 bytes, not the budget's 20.
  const slow = [
    readBody(post(streamOf(["abcde"], true)), as("a")),
    readBody(post(streamOf(["fgh"], true)), as("a")),
  ];
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(budget.used("a"), 8);
  assert.equal(await status(readBody(post(streamOf(["i"])), as("a"))), 429);
  // Another token still sends its bodies, up to its own share.
  assert.equal(await readBody(post(streamOf(["12345678"])), as("b")), "12345678");
  assert.equal(await status(readBody(post(streamOf(["123456789"])), as("b"))), 429);
  for (const body of slow) assert.equal(await status(body), 408);
  assert.equal(budget.used(), 0);
  assert.equal(budget.used("a"), 0);
  assert.equal(await readBody(post(streamOf(["abcdefgh"])), as("a")), "abcdefgh");
});

Deno.test("BodyBudget: a holder's share and the whole bound are each refused, and taken back exactly", () => {
  const budget = new BodyBudget(10, 6);
  assert.equal(budget.take(6, "a"), "ok");
  assert.equal(budget.take(1, "a"), "share");
  assert.equal(budget.take(4, "b"), "ok");
  assert.equal(budget.take(1, "c"), "full");
  assert.equal(budget.take(1), "full");
  budget.give(6, "a");
  assert.deepEqual([budget.used(), budget.used("a"), budget.used("b")], [4, 0, 4]);
  assert.equal(budget.take(6, "c"), "ok");
  // The default share is a quarter of the bound.
  assert.equal(new BodyBudget(64).share, 16);
});

Deno.test("readBody() with heldUntil keeps the body's part of the budget until the answer settles", async () => {
  const budget = new BodyBudget(20, 8);
  const answered = Promise.withResolvers<void>();
  const options = {
    maxBytes: 10,
    timeoutMs: 200,
    budget,
    holder: "a",
    heldUntil: answered.promise,
  };
  assert.equal(await readBody(post(streamOf(["abcde"])), options), "abcde");
  // Read, but not yet answered: still held, and the token's share counts it.
  assert.deepEqual([budget.used(), budget.used("a")], [5, 5]);
  assert.equal(await status(readBody(post(streamOf(["1234"])), { ...options })), 429);
  answered.resolve();
  await answered.promise;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual([budget.used(), budget.used("a")], [0, 0]);
  // A body refused on its way is given back at once, answered or not.
  const never = Promise.withResolvers<void>();
  const late = { ...options, timeoutMs: 30, heldUntil: never.promise };
  assert.equal(await status(readBody(post(streamOf(["ab"], true)), late)), 408);
  assert.equal(budget.used(), 0);
});
