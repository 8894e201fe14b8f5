/**
 * The examples' cache entries are generated from `examples/manual/` by scripts/seed_examples.ts:
 * the committed copies must be exactly what the seed writes, so a source and its cached copy
 * can never drift apart.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLES, seedExamples } from "../../scripts/seed_examples.ts";
import { Store } from "../../src/store/store.ts";
import { snapshotTree } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const EXAMPLES_DIR = join(import.meta.dirname!, "..", "..", "examples");

Deno.test("seedExamples() reproduces the committed examples/.capibara/ byte for byte", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, "manual"));
  for (const example of EXAMPLES) {
    await Deno.copyFile(
      join(EXAMPLES_DIR, "manual", example.source),
      join(tmp.path, "manual", example.source),
    );
  }
  const written = await seedExamples(tmp.path);
  assert.equal(written.length, EXAMPLES.length);
  const committed = await snapshotTree(join(EXAMPLES_DIR, ".capibara", "scripts"));
  assert.deepEqual(await snapshotTree(join(tmp.path, ".capibara", "scripts")), committed);
});

Deno.test("every committed example entry matches its manifest hashes", async () => {
  const store = new Store(EXAMPLES_DIR);
  const { entries, broken } = await store.list();
  assert.deepEqual(broken, []);
  assert.equal(entries.length, EXAMPLES.length);
  for (const entry of entries) await store.verify(entry);
});
