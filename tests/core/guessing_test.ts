/**
 * Token guessing against a Core in this process: an address past its failures learns nothing
 * from a right guess, and the team's tokens that worked from it before keep working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startCore } from "../../src/core/server.ts";
import { loadSigningKey, writeKeyPair } from "../../src/core/sign.ts";
import { DiskStorage } from "../../src/core/storage/disk.ts";
import type { Bundle } from "../../src/schema.ts";
import { bundleObject, fixedGenerator } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdefgh";

Deno.test("the Core: past its failed authentications, an address's right guess is refused like a wrong one; a token that worked from it is served", async () => {
  await using tmp = await withTmpDir();
  const key = await writeKeyPair(join(tmp.path, "key"));
  await Deno.writeTextFile(join(tmp.path, "tokens"), `${ALICE} read\n${BOB} read\n`, {
    mode: 0o600,
  });
  const core = await startCore({
    port: 0,
    tokensFile: join(tmp.path, "tokens"),
    signingKey: await loadSigningKey(key.private_key_path),
    storage: await DiskStorage.open(join(tmp.path, "store")),
    generator: fixedGenerator(bundleObject() as unknown as Bundle),
    env: { PATH: Deno.env.get("PATH")! },
    log: () => {},
  });
  const status = async (token: string) => {
    const response = await fetch(core.url + "/v1/updates", {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.body?.cancel();
    return response.status;
  };
  try {
    // Alice works from this address before the guessing starts.
    assert.equal(await status(ALICE), 200);
    const guesses: number[] = [];
    for (let i = 0; i < 60; i++) guesses.push(await status(`wrong-guess-${i}-0123456789ab`));
    assert.deepEqual(guesses.slice(0, 20), Array(20).fill(401));
    assert.ok(guesses.slice(20).every((s) => s === 429), `${guesses}`);
    // Bob's token is right, but was never used from here: answered as a wrong guess would be.
    assert.equal(await status(BOB), 429);
    // Alice's still works: the team behind one proxy is not locked out.
    assert.equal(await status(ALICE), 200);
  } finally {
    await core.shutdown();
  }
});
