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

Deno.test("client bundle: eagerFunctions parenthesizes each top-level function, first, and nothing else", () => {
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
    // A script held in a string is text, not code, however it is laid out.
    "var held = `",
    "function cleanup() {",
    "}",
    "`;",
    "export {",
    "  plain",
    "};",
  ].join("\n");
  assert.equal(
    eagerFunctions(input),
    [
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
      "var x = 1;",
      "const f = function inner() {",
      "};",
      "var held = `",
      "function cleanup() {",
      "}",
      "`;",
      "export {",
      "  plain",
      "};",
    ].join("\n"),
  );
});

Deno.test("client bundle: a value computed from a function declared below it is the same after eagerFunctions", async () => {
  // A declaration is hoisted: a statement above it may call it. Rewritten in place, the function
  // would still be undefined there.
  const source = [
    "var answer = (() => { try { return compute(); } catch { return 'fallback'; } })();",
    "function compute() {",
    "  return 'computed';",
    "}",
    "export { answer };",
  ].join("\n");
  const load = async (text: string) =>
    (await import(`data:text/javascript;base64,${new TextEncoder().encode(text).toBase64()}`))
      .answer;
  assert.equal(await load(source), "computed");
  assert.equal(await load(eagerFunctions(source)), "computed");
});
