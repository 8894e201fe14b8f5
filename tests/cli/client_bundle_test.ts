import * as assert from "node:assert/strict";
import { join } from "node:path";
import { buildClient, CLIENT_BUNDLE } from "../../scripts/build_client.ts";
import { eagerFunctions } from "../../scripts/_eager.ts";

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
  assert.match(bundle, /^var viaRunner = \(async function \(/m);
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
      "var plain = (function (a) {",
      "  function nested() {",
      "  }",
      "  return a;",
      "});",
      "var later = (async function (b) {",
      "  return await b;",
      "});",
      "var gen = (function* () {",
      "  yield 1;",
      "});",
      "var agen = (async function* (c) {",
      "  yield c;",
      "});",
      "var empty = (function () {});",
      "var x = 1;",
      ";",
      ";",
      ";",
      ";",
      ";",
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

/** What a module's `answer` export is, loaded from its text. */
async function answerOf(text: string): Promise<unknown> {
  const url = `data:text/javascript;base64,${new TextEncoder().encode(text).toBase64()}`;
  return (await import(url)).answer;
}

Deno.test("client bundle: a function that replaces itself, or calls itself, does as its declaration did", async () => {
  // A named function expression's own name is read-only inside it: the declaration's is not.
  const source = [
    "var calls = 0;",
    "function once() { calls++; once = function () { return 'again'; }; return 'first'; }",
    "function fact(n) { calls++; return n <= 1 ? 1 : n * fact(n - 1); }",
    "var first = once();",
    "var second = once();",
    "var real = fact;",
    "fact = function (n) { return n; };",
    "var answer = [first, second, real(4), calls];",
    "export { answer };",
  ].join("\n");
  assert.deepEqual(await answerOf(source), ["first", "again", 12, 2]);
  assert.deepEqual(await answerOf(eagerFunctions(source)), ["first", "again", 12, 2]);
});

Deno.test("client bundle: statements around a moved function never run together; a #! line stays first", async () => {
  // Without its semicolon, the statement above would take the next line's parentheses as a call.
  const source = [
    "var answer = 'a'",
    "function f() {}",
    "(() => {})()",
    "export { answer };",
  ].join("\n");
  assert.equal(await answerOf(source), "a");
  assert.equal(await answerOf(eagerFunctions(source)), "a");
  const shebang = "#!/usr/bin/env -S deno run\nvar answer = g();\nfunction g() { return 1; }\n";
  const rewritten = eagerFunctions(shebang);
  assert.ok(rewritten.startsWith("#!/usr/bin/env -S deno run\nvar g = (function () {"), rewritten);
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
  assert.equal(await answerOf(source), "computed");
  assert.equal(await answerOf(eagerFunctions(source)), "computed");
});
