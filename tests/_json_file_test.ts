import assert from "node:assert/strict";
import { join } from "node:path";
import { readRecordsFor } from "../src/_json_file.ts";
import { withTmpDir } from "./helpers/tmp.ts";

Deno.test("readRecordsFor() never reads a record inside the project, nor through a folder there that links out", async () => {
  await using tmp = await withTmpDir();
  const root = await Deno.realPath(tmp.path);
  const project = join(root, "project");
  const outside = join(root, "outside");
  await Deno.mkdir(join(project, "ci-cache", "trust"), { recursive: true });
  await Deno.mkdir(outside);
  const record = JSON.stringify({ planted: true });
  await Deno.writeTextFile(join(outside, "records.json"), record);
  await Deno.writeTextFile(join(project, "ci-cache", "trust", "records.json"), record);
  // The machine's own, outside the project: read.
  assert.deepEqual(await readRecordsFor(join(outside, "records.json"), project), { planted: true });
  // Inside the project (a cache folder set in the checkout for a CI cache): never.
  assert.equal(
    await readRecordsFor(join(project, "ci-cache", "trust", "records.json"), project),
    undefined,
  );
  // Through a link the repository holds there, to a folder outside it: never either.
  await Deno.symlink(outside, join(project, "ci-cache", "linked"));
  assert.equal(
    await readRecordsFor(join(project, "ci-cache", "linked", "records.json"), project),
    undefined,
  );
  // Missing: undefined, not an error.
  assert.equal(await readRecordsFor(join(outside, "none.json"), project), undefined);
});
