/**
 * A Core in this process whose model answers only when the test lets it: how many model requests
 * one token may have in flight at once. A request that waits for another's generation of the same
 * entry, or finds it stored, costs the model nothing and is never refused for it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startCore } from "../../src/core/server.ts";
import { loadSigningKey, writeKeyPair } from "../../src/core/sign.ts";
import { DiskStorage } from "../../src/core/storage/disk.ts";
import type { Generator } from "../../src/generate/types.ts";
import type { Bundle } from "../../src/schema.ts";
import { bundleObject } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";

Deno.test("the Core: a token's model requests in flight are capped (429 with Retry-After); another token's, a shared flight and a stored entry are not", async () => {
  await using tmp = await withTmpDir();
  const key = await writeKeyPair(join(tmp.path, "key"));
  await Deno.writeTextFile(join(tmp.path, "tokens"), `${ALICE} read,gen\n${BOB} read,gen\n`, {
    mode: 0o600,
  });
  const release = Promise.withResolvers<void>();
  let asked = 0;
  const generator: Generator = {
    kind: "held",
    async generate() {
      asked++;
      await release.promise;
      return { bundle: bundleObject() as unknown as Bundle, model: "held", attempts: 1 };
    },
  };
  const core = await startCore({
    port: 0,
    tokensFile: join(tmp.path, "tokens"),
    signingKey: await loadSigningKey(key.private_key_path),
    storage: await DiskStorage.open(join(tmp.path, "store")),
    generator,
    maxGenerations: 2,
    env: { PATH: Deno.env.get("PATH")! },
    log: () => {},
  });
  const gen = async (token: string, prompt: string, signal?: AbortSignal) => {
    const response = await fetch(core.url + "/v1/gen", {
      method: "POST",
      signal,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ prompt, context: {}, language: "python", mode: "strict" }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      text: await response.text(),
    };
  };
  const until = async (count: number) => {
    for (let i = 0; i < 500 && asked < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(asked, count, "the model was not asked as often as expected");
  };
  try {
    // Alice's two generations hold the model.
    const first = gen(ALICE, "first prompt");
    const second = gen(ALICE, "second prompt");
    await until(2);
    // A third of hers is refused at once, the model not asked (not left waiting for it).
    const third = await gen(ALICE, "third prompt", AbortSignal.timeout(10_000));
    assert.equal(third.status, 429, third.text);
    assert.ok(Number(third.retryAfter) > 0, `no Retry-After: ${third.retryAfter}`);
    assert.match(JSON.parse(third.text).error.message, /generations in flight/);
    // The same prompt as one in flight waits for it: no model request of its own.
    const shared = gen(ALICE, "first prompt");
    // Bob's tokens are his own.
    const bobs = gen(BOB, "bob's prompt");
    await until(3);
    release.resolve();
    for (const done of await Promise.all([first, second, shared, bobs])) {
      assert.equal(done.status, 200, done.text);
    }
    assert.equal(asked, 3);
    // Once they ended, Alice generates again; a stored entry costs her nothing.
    assert.equal((await gen(ALICE, "third prompt")).status, 200);
    assert.equal((await gen(ALICE, "first prompt")).status, 200);
    assert.equal(asked, 4);
  } finally {
    release.resolve();
    await core.shutdown();
  }
});
