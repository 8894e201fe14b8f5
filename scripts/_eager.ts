/**
 * Functions V8 compiles with their module, so that Deno's code cache keeps them: used by the
 * builds of the installed command's JavaScript (`lib/`, scripts/build_js.ts) and of the runner's
 * client (scripts/build_client.ts).
 *
 * V8 compiles a function when it is first called, unless it is parenthesized where it is defined
 * (`(function () {})`, `(() => {})`), and Deno's code cache keeps only what was compiled with the
 * module. Every `capibara run` in a process of its own is a new process that calls the same few
 * hundred functions once each: compiled on each call, every run paid for them again. TypeScript's
 * emit (Deno's and esbuild's alike) drops the parentheses, so they are put back here, on the
 * JavaScript, found on its syntax tree (acorn): a script held in a template string is never taken
 * for code. Methods (of classes and object literals) have no such form and stay lazy.
 *
 * @module
 */
import * as acorn from "npm:acorn@^8.14.0";

// deno-lint-ignore no-explicit-any
type Node = any;

/** What {@linkcode eagerFunctions} does besides the top-level declarations. */
export interface EagerOptions {
  /** Comments written after a `#!` line (or first). */
  header?: string;
  /** Also parenthesize every function expression and arrow function below the top level. */
  nested?: boolean;
}

const parse = (text: string, preserveParens = false): Node =>
  acorn.parse(text, {
    ecmaVersion: "latest",
    sourceType: "module",
    allowHashBang: true,
    preserveParens,
  });

/** Every function expression and arrow of `tree`, but methods, getters and setters. */
function functionExpressions(tree: Node): { node: Node; parent: Node }[] {
  const found: { node: Node; parent: Node }[] = [];
  const visit = (node: Node, parent: Node) => {
    if (
      (node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression") &&
      !(parent?.type === "MethodDefinition" ||
        (parent?.type === "Property" && (parent.method || parent.kind !== "init")))
    ) found.push({ node, parent });
    for (const [key, value] of Object.entries(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      if (Array.isArray(value)) {
        for (const child of value) if (typeof child?.type === "string") visit(child, node);
      } else if (typeof (value as Node)?.type === "string") visit(value, node);
    }
  };
  visit(tree, undefined);
  return found;
}

/**
 * `text` with each function expression and arrow function not yet directly parenthesized put
 * in parentheses (the same value: a parenthesized anonymous function is still named after what
 * it is assigned to). Parsed again, every one of them must be parenthesized and none other added.
 */
function parenthesizeNested(text: string): string {
  const inserts: { at: number; text: string }[] = [];
  const before = functionExpressions(parse(text, true));
  for (const { node, parent } of before) {
    if (parent?.type === "ParenthesizedExpression") continue;
    inserts.push({ at: node.start, text: "(" }, { at: node.end, text: ")" });
  }
  // From the end, so that each position still holds; at one position, the characters are alike.
  let result = text;
  for (const { at, text: insert } of inserts.sort((a, b) => b.at - a.at)) {
    result = result.slice(0, at) + insert + result.slice(at);
  }
  const after = functionExpressions(parse(result, true));
  if (
    after.length !== before.length ||
    !after.every(({ parent }) => parent?.type === "ParenthesizedExpression")
  ) throw new Error("the parenthesized functions do not parse back to the same functions");
  return result;
}

/**
 * `text` (a module) with each top-level function declaration (generators, async and exported
 * ones too; a default export's aside) made a parenthesized function expression assigned to a
 * `var` of its name (`export var` for an exported one), all of them first: a declaration is
 * hoisted, so a statement above it may call it, and an expression's evaluation has no effect of
 * its own. Each expression is anonymous, so that inside it its name is the module's binding, as it
 * was for the declaration (a named expression's own name is read-only); `var f = (function () {})`
 * still names the function `f`. An empty statement is left where each was, so the statements
 * around it never run together, and a `#!` line stays first (`header`, comments only, follows
 * it). With `nested`, every function expression and arrow below is parenthesized too. The result
 * is parsed again and must hold the same statements: anything else throws.
 *
 * Not for a module in an import cycle whose other modules call its functions while it is still
 * being evaluated: a declaration is defined before any module of the cycle runs, a `var` only
 * once its own module runs.
 */
export function eagerFunctions(text: string, options: EagerOptions = {}): string {
  const source = options.nested ? parenthesizeNested(text) : text;
  const functions: string[] = [];
  const others: string[] = [];
  let rest = "";
  let at = 0;
  for (const node of parse(source).body) {
    const exported = node.type === "ExportNamedDeclaration" &&
      node.declaration?.type === "FunctionDeclaration";
    const declaration = exported ? node.declaration : node;
    if (declaration.type !== "FunctionDeclaration") {
      others.push(source.slice(node.start, node.end));
      continue;
    }
    functions.push(
      `${exported ? "export " : ""}var ${declaration.id.name} = (` +
        `${source.slice(declaration.start, declaration.id.start)}` +
        `${source.slice(declaration.id.end, declaration.end)});`,
    );
    rest += source.slice(at, node.start) + ";";
    at = node.end;
  }
  rest += source.slice(at);
  const hashbang = /^#![^\n]*\n/.exec(rest)?.[0] ?? "";
  const result = hashbang + (options.header ?? "") + functions.map((f) => f + "\n").join("") +
    rest.slice(hashbang.length);
  // A statement without its semicolon takes the empty one left after it.
  const bare = (statement: string) => statement.replace(/\s*;$/, "");
  const statements = parse(result).body.map((node: Node) => result.slice(node.start, node.end));
  const moved = statements.slice(0, functions.length);
  const kept = statements.slice(functions.length).filter((s: string) => s !== ";").map(bare);
  if (
    moved.join("\0") !== functions.join("\0") || kept.join("\0") !== others.map(bare).join("\0")
  ) {
    throw new Error("the rewritten module does not parse back to the same statements");
  }
  return result;
}
