/**
 * A Core in this process (`startCore`) with a generator that always replies one bundle: what a
 * parametric entry's first caller leaves in the entry every later caller of the shape gets.
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

async function gen(url: string, token: string, body: unknown) {
  const response = await fetch(url + "/v1/gen", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

for (const language of ["python", "typescript"] as const) {
  Deno.test(`the Core (${language}): a parametric entry holds none of its first caller's values; a strict one names its paths`, async () => {
    await using tmp = await withTmpDir();
    const key = await writeKeyPair(join(tmp.path, "key"));
    await Deno.writeTextFile(join(tmp.path, "tokens"), `${ALICE} read,gen\n${BOB} read,gen\n`, {
      mode: 0o600,
    });
    const bundle = language === "python" ? bundleObject() : bundleObject({
      language: "typescript",
      script: 'console.log(JSON.stringify({ status: "ok" })); // --context --selftest --dry-run\n',
    });
    const core = await startCore({
      port: 0,
      tokensFile: join(tmp.path, "tokens"),
      signingKey: await loadSigningKey(key.private_key_path),
      storage: await DiskStorage.open(join(tmp.path, "store")),
      generator: fixedGenerator(bundle as unknown as Bundle),
      env: { PATH: Deno.env.get("PATH")! },
      log: () => {},
    });
    try {
      const request = (mode: string, output: string, n: number) => ({
        prompt: "write the quarterly report",
        context: { output, n },
        language,
        mode,
      });
      // Alice misses first; her folder's name is a value parametric mode keeps to her.
      const first = await gen(core.url, ALICE, request("parametric", "reports/alice-q3-plans/", 3));
      assert.equal(first.status, 200, first.text);
      // Bob asks with the same shape and his own values: the same entry.
      const later = await gen(core.url, BOB, request("parametric", "out/", 5));
      assert.equal(later.status, 200, later.text);
      const entry = JSON.parse(later.text);
      assert.equal(entry.manifest.mode, "parametric");
      assert.equal(entry.manifest.context, undefined);
      assert.deepEqual(entry.manifest.allow.fs, { read: [], write: [] });
      assert.ok(!later.text.includes("alice-q3"), "the entry names Alice's folder");
      assert.match(entry.files["README.md"], /It serves any context of its shape/);
      // A strict request's entry is its own: it names the paths its context does.
      const strict = await gen(core.url, BOB, request("strict", "out/", 5));
      assert.equal(strict.status, 200, strict.text);
      assert.deepEqual(JSON.parse(strict.text).manifest.allow.fs.write, ["out"]);
    } finally {
      await core.shutdown();
    }
  });
}
