import * as assert from "node:assert/strict";
import { join } from "node:path";
import { buildClient, CLIENT_BUNDLE, eagerFunctions } from "../../scripts/build_client.ts";

const REPO = join(import.meta.dirname!, "..", "..");

Deno.test("client bundle: the committed bundle is what the client's sources make now", async () => {
  // A change to the client's modules without `deno task build:client` would leave every
  // `capibara run` on the old code while the runner and the tests use the new.
  const committed = await Deno.readTextFile(join(REPO, CLIENT_BUNDLE));
  const built = await buildClient();
  assert.ok(
    committed === built,
    `${CLIENT_BUNDLE} is stale: run deno task build:client`,
  );
});

Deno.test("client bundle: no top-level function of it is left for V8 to compile on its first call", async () => {
  const bundle = await Deno.readTextFile(join(REPO, CLIENT_BUNDLE));
  const declared = bundle.split("\n").filter((line) => /^(async )?function\b/.test(line));
  assert.deepEqual(declared, []);
  // The client's own entry is among those made eager, and the file still exports it.
  assert.match(bundle, /^var viaRunner = \(async function viaRunner\(/m);
  assert.match(bundle, /^export \{\n {2}viaRunner\n\};/m);
});

Deno.test("client bundle: the bundle behaves as its source where no runner is asked", async () => {
  const bundle = await import(
    join(REPO, CLIENT_BUNDLE)
  ) as typeof import("../../src/cli/_runner_client.ts");
  const source = await import("../../src/cli/_runner_client.ts");
  for (const args of [["--version"], ["run", "x", "--context", "@-"], ["list"]]) {
    assert.equal(await bundle.viaRunner(args), await source.viaRunner(args), args.join(" "));
    assert.equal(await bundle.viaRunner(args), "off");
  }
});

Deno.test("client bundle: eagerFunctions parenthesizes each top-level function and nothing else", () => {
  const input = [
    "var x = 1;",
    "function plain(a) {",
    "  function nested() {",
    "  }",
    "  return a;",
    "}",
    "async function later(b) {",
    "  return await b;",
    "}",
    "function* gen() {",
    "  yield 1;",
    "}",
    "async function* agen(c) {",
    "  yield c;",
    "}",
    "function empty() {}",
    "const f = function inner() {",
    "};",
    "export {",
    "  plain",
    "};",
  ].join("\n");
  assert.equal(
    eagerFunctions(input),
    [
      "var x = 1;",
      "var plain = (function plain(a) {",
      "  function nested() {",
      "  }",
      "  return a;",
      "});",
      "var later = (async function later(b) {",
      "  return await b;",
      "});",
      "var gen = (function* gen() {",
      "  yield 1;",
      "});",
      "var agen = (async function* agen(c) {",
      "  yield c;",
      "});",
      "var empty = (function empty() {});",
      "const f = function inner() {",
      "};",
      "export {",
      "  plain",
      "};",
    ].join("\n"),
  );
  // A function whose end is not where esbuild prints it: nothing half-rewritten is returned.
  assert.throws(
    () => eagerFunctions("function open(a) {\n  return a;\n  }"),
    /end of function open/,
  );
});
