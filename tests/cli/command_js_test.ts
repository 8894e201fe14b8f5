import * as assert from "node:assert/strict";
import { staleFiles, transpile } from "../../scripts/build_js.ts";

Deno.test("lib/: the committed JavaScript is what src/ makes now", () => {
  // A change to src/ without `deno task build:js` would leave every installed `capibara` on the
  // old code while the SDK, the runner and the tests use the new.
  assert.deepEqual(staleFiles(), [], "lib/ is stale: run deno task build:js");
});

Deno.test("lib/: a module's imports lead to lib/'s modules, and its text and JSON to the originals", () => {
  const js = transpile(
    "src/sandbox/example.ts",
    [
      'import type { Policy } from "./types.ts";',
      'import { join } from "../_path.ts";',
      'import SCRIPT from "./step.py" with { type: "text" };',
      'import PLUGIN from "../contract/checks/ts_plugin.ts" with { type: "text" };',
      'import config from "../../deno.json" with { type: "json" };',
      'export { isInside } from "../_fs.ts";',
      'import "npm:canonicalize@^2.0.0";',
      "export const p: Policy | undefined = undefined;",
      'export const x = [join("a"), SCRIPT, PLUGIN, config, import("./proxy.ts")];',
      'export const url = new URL("../..", import.meta.url);',
    ].join("\n"),
  );
  assert.match(js, /^\/\/ Generated from src\/sandbox\/example\.ts/);
  // A type-only import is gone, as in Deno's own emit.
  assert.doesNotMatch(js, /types/);
  assert.match(js, /from "\.\.\/_path\.js"/);
  assert.match(js, /from "\.\.\/_fs\.js"/);
  assert.match(js, /import\("\.\/proxy\.js"\)/);
  // Files read as text or JSON are the sources' own (a TypeScript file read as text too).
  assert.match(js, /from "\.\.\/\.\.\/src\/sandbox\/step\.py" with \{ type: "text" \}/);
  assert.match(
    js,
    /from "\.\.\/\.\.\/src\/contract\/checks\/ts_plugin\.ts" with \{ type: "text" \}/,
  );
  assert.match(js, /from "\.\.\/\.\.\/deno\.json" with \{ type: "json" \}/);
  assert.match(js, /import "npm:canonicalize@\^2\.0\.0"/);
  // As deep as its source: `../..` names the checkout from both.
  assert.match(js, /new URL\("\.\.\/\.\.", import\.meta\.url\)/);
});
