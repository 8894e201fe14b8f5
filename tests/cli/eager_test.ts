/**
 * scripts/_eager.ts: the functions of lib/ and of the runner's client written so that V8 compiles
 * them with their module (and Deno's code cache keeps them), with the module's behaviour unchanged.
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import * as acorn from "npm:acorn@^8.14.0";
import { eagerFunctions } from "../../scripts/_eager.ts";

const REPO = join(import.meta.dirname!, "..", "..");

/** A module's exports, loaded from its text. */
async function exportsOf(text: string): Promise<Record<string, unknown>> {
  const url = `data:text/javascript;base64,${new TextEncoder().encode(text).toBase64()}`;
  return await import(url);
}

// deno-lint-ignore no-explicit-any
type Node = any;

/** The functions of a module that V8 would compile only on their first call. */
function lazyFunctions(text: string): string[] {
  const tree = acorn.parse(text, {
    ecmaVersion: "latest",
    sourceType: "module",
    preserveParens: true,
  });
  const lazy: string[] = [];
  const visit = (node: Node, parent: Node, top: boolean) => {
    const at = `${node.type} at ${node.start}`;
    if (node.type === "FunctionDeclaration" && top) lazy.push(at);
    if (
      (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") &&
      parent?.type !== "ParenthesizedExpression" && parent?.type !== "MethodDefinition" &&
      !(parent?.type === "Property" && (parent.method || parent.kind !== "init"))
    ) lazy.push(at);
    for (const [key, value] of Object.entries(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) {
        if (typeof (child as Node)?.type === "string") {
          const exported = node.type === "ExportNamedDeclaration";
          visit(child, node, node.type === "Program" || (top && exported));
        }
      }
    }
  };
  visit(tree, undefined, false);
  return lazy;
}

Deno.test("eagerFunctions: an exported function becomes an exported var of the same function, first", async () => {
  const source = [
    'export const answer = greet("a");',
    "export function greet(name) { return `hi ${name}`; }",
    "export async function later() { return greet('b'); }",
    "export default function fallback() { return 'd'; }",
  ].join("\n");
  const rewritten = eagerFunctions(source);
  assert.match(rewritten, /^export var greet = \(function \(name\)/);
  assert.match(rewritten, /^export var later = \(async function \(\)/m);
  // A default export keeps its declaration.
  assert.match(rewritten, /^export default function fallback\(\)/m);
  const before = await exportsOf(source);
  const after = await exportsOf(rewritten);
  assert.equal(after.answer, before.answer);
  assert.equal(await (after.later as () => Promise<string>)(), "hi b");
  assert.equal((after.greet as () => string).name, "greet");
});

Deno.test("eagerFunctions: nested, every function expression and arrow is parenthesized, methods and strings left alone", async () => {
  const source = [
    "const double = (x) => x * 2;",
    "const named = function inner(y) { return y + 1; };",
    "const already = (() => 3);",
    "class Box { size() { return [1, 2].map((n) => n * 2); } get big() { return true; } }",
    "const object = { method() { return 1; }, arrow: () => 2, get value() { return 3; } };",
    "const held = `const f = () => 1;`;",
    "export const answer = [double(2), named(1), already(), new Box().size(), object.method(),",
    "  object.arrow(), object.value, held, double.name, object.arrow.name, named.name];",
  ].join("\n");
  const rewritten = eagerFunctions(source, { nested: true });
  assert.deepEqual(lazyFunctions(source).length, 4);
  assert.deepEqual(lazyFunctions(rewritten), []);
  assert.match(rewritten, /const double = \(\(x\) => x \* 2\);/);
  assert.match(rewritten, /const already = \(\(\) => 3\);/);
  assert.match(rewritten, /size\(\) \{ return \[1, 2\]\.map\(\(\(n\) => n \* 2\)\); \}/);
  assert.match(rewritten, /method\(\) \{ return 1; \}/);
  assert.match(rewritten, /get value\(\) \{ return 3; \}/);
  assert.match(rewritten, /const held = `const f = \(\) => 1;`;/);
  assert.deepEqual((await exportsOf(rewritten)).answer, (await exportsOf(source)).answer);
});

Deno.test("lib/: no function of the installed command's modules waits for its first call to be compiled", () => {
  // Methods have no parenthesized form; every other function of lib/ is compiled with its module.
  const walk = (folder: string): string[] =>
    [...Deno.readDirSync(folder)].flatMap((entry) =>
      entry.isDirectory
        ? walk(join(folder, entry.name))
        : entry.name.endsWith(".js")
        ? [join(folder, entry.name)]
        : []
    );
  const modules = walk(join(REPO, "lib"));
  assert.ok(modules.length > 50, `${modules.length} modules`);
  for (const module of modules) {
    assert.deepEqual(lazyFunctions(Deno.readTextFileSync(module)), [], module);
  }
});
