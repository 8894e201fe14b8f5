/**
 * A `deno lint` plugin that reports facts about a TypeScript script, read from Deno's own parser:
 * every import specifier (static, `export … from`, dynamic `import()`, `require()`, `import x =
 * require()`, `import("…")` types) with its `with { type }` attribute, every use of `Deno` (members, computed members, aliases
 * such as `const d = Deno`, `globalThis.Deno`, destructuring, `Deno` handed on as a value), `eval`,
 * `Function`, `fetch`, `WebSocket`/`EventSource`, environment reads and every string literal.
 * Comments are not part of the tree, and a string is only ever a string.
 *
 * Each fact is one diagnostic whose message is a JSON object with a `k` (kind); the diagnostic's
 * range gives its line. The last diagnostic, `{"k": "end", "n": <count>}`, says how many facts were
 * reported, so that a fact hidden by any means (an ignore directive, say) is noticed.
 *
 * This file is not imported as code by Capibara: its text is written next to a copy of the script
 * and named in the `lint.plugins` of a throw-away configuration.
 *
 * @module
 */

/** The part of a node this plugin reads; the real nodes carry more. */
interface Node {
  type: string;
  range: [number, number];
  parent?: Node;
  [key: string]: unknown;
}

/** A fact about the script (see the module documentation). */
export type Fact =
  | { k: "import"; s: string | null; a?: string }
  | { k: "deno"; m: string | null }
  | { k: "deno-value" }
  | { k: "eval" }
  | { k: "function" }
  | { k: "global-value" }
  | { k: "fetch" }
  | { k: "new"; c: string }
  | { k: "env"; name: string }
  | { k: "string"; v: string };

const GLOBAL_OBJECTS = new Set(["globalThis", "window", "self"]);
/** Wrappers that do not change what an expression refers to. */
const TRANSPARENT = new Set([
  "TSAsExpression",
  "TSNonNullExpression",
  "TSSatisfiesExpression",
  "TSTypeAssertion",
  "ChainExpression",
  "ParenthesizedExpression",
]);
/** Parents in which a name is a type (`const f: Function`), not a value. */
const TYPE_PARENTS = new Set([
  "TSTypeReference",
  "TSQualifiedName",
  "TSTypeQuery",
  "TSInterfaceHeritage",
  "TSClassImplements",
]);
/** Parents in which an expression is handed on as a value (stored, passed, spread, returned). */
const VALUE_PARENTS = new Set([
  "CallExpression",
  "NewExpression",
  "ArrayExpression",
  "Property",
  "SpreadElement",
  "ReturnStatement",
  "AssignmentExpression",
  "VariableDeclarator",
  "ConditionalExpression",
  "LogicalExpression",
  "SequenceExpression",
  "YieldExpression",
  "AwaitExpression",
  "ArrowFunctionExpression",
  "ExportDefaultDeclaration",
  "AssignmentPattern",
  "PropertyDefinition",
  "TaggedTemplateExpression",
]);

function child(node: Node, key: string): Node | undefined {
  const value = node[key];
  return value && typeof value === "object" && typeof (value as Node).type === "string"
    ? value as Node
    : undefined;
}

function children(node: Node, key: string): Node[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter((v): v is Node => v && typeof v === "object") : [];
}

function same(a: Node | undefined, b: Node | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.range[0] === b.range[0] && a.range[1] === b.range[1];
}

function unwrap(node: Node | undefined): Node | undefined {
  let current = node;
  while (current && TRANSPARENT.has(current.type)) current = child(current, "expression");
  return current;
}

/** The text of a template chunk (its cooked value, or the raw text where escapes are invalid). */
function templateText(node: Node | undefined): string {
  if (!node) return "";
  if (typeof node.cooked === "string") return node.cooked;
  return typeof node.raw === "string" ? node.raw : "";
}

/** The value of a string literal or of a template literal without substitutions. */
function staticString(node: Node | undefined): string | null {
  const e = unwrap(node);
  if (!e) return null;
  if (e.type === "Literal" && typeof e.value === "string") return e.value;
  if (e.type === "TemplateLiteral" && children(e, "expressions").length === 0) {
    return templateText(children(e, "quasis")[0]);
  }
  return null;
}

/** The name a member expression reads, or null when it is computed at run time. */
function memberName(node: Node): string | null {
  const property = child(node, "property");
  if (!property) return null;
  if (!node.computed) return typeof property.name === "string" ? property.name : null;
  return staticString(property);
}

function isGlobalObject(node: Node | undefined): boolean {
  const e = unwrap(node);
  return e?.type === "Identifier" && GLOBAL_OBJECTS.has(String(e.name));
}

/** Whether an identifier node is a reference (not a property name or an object key). */
function isReference(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return true;
  if (parent.type === "MemberExpression" && !parent.computed) {
    return !same(child(parent, "property"), node);
  }
  if (
    (parent.type === "Property" || parent.type === "MethodDefinition" ||
      parent.type === "PropertyDefinition") && !parent.computed && !parent.shorthand
  ) {
    return !same(child(parent, "key"), node);
  }
  return true;
}

/** The outermost node that still means `node` (through `as`, `!`, parentheses, `?.`). */
function outer(node: Node): Node {
  let current = node;
  while (current.parent && TRANSPARENT.has(current.parent.type)) current = current.parent;
  return current;
}

const plugin: Deno.lint.Plugin = {
  name: "capibara",
  rules: {
    facts: {
      create(context) {
        // One diagnostic per fact and place (a shorthand `{ Deno }` is visited as key and value).
        const reported = new Set<string>();
        const report = (node: Node, fact: Fact) => {
          const message = JSON.stringify(fact);
          const key = `${node.range[0]}:${node.range[1]}:${message}`;
          if (reported.has(key)) return;
          reported.add(key);
          context.report({ range: node.range, message });
        };
        const identifiers: Node[] = [];
        const members: Node[] = [];
        const calls: Node[] = [];
        const bindings: { name: string; value: Node | undefined }[] = [];
        const destructurings: { pattern: Node; value: Node | undefined }[] = [];
        const aliases = new Set<string>();

        function isDeno(node: Node | undefined): boolean {
          const e = unwrap(node);
          if (!e) return false;
          if (e.type === "Identifier") return e.name === "Deno" || aliases.has(String(e.name));
          return e.type === "MemberExpression" && isGlobalObject(child(e, "object")) &&
            memberName(e) === "Deno";
        }

        function isGlobal(node: Node | undefined, name: string): boolean {
          const e = unwrap(node);
          if (!e) return false;
          if (e.type === "Identifier") return e.name === name;
          return e.type === "MemberExpression" && isGlobalObject(child(e, "object")) &&
            memberName(e) === name;
        }

        /** An import; `a` is its `with { type }` (or `options` for `import(x, options)`). */
        function visitImport(node: Node, source: Node | undefined): void {
          let a: string | undefined;
          for (const attribute of children(node, "attributes")) {
            const key = child(attribute, "key");
            if ((key?.name ?? key?.value) === "type") a = String(child(attribute, "value")?.value);
          }
          if (node.type === "ImportExpression" && child(node, "options")) a ??= "options";
          const s = staticString(source);
          report(node, a === undefined ? { k: "import", s } : { k: "import", s, a });
        }

        function visit(raw: Deno.lint.Node): void {
          const node = raw as unknown as Node;
          switch (node.type) {
            case "ImportDeclaration":
            case "ExportAllDeclaration":
              visitImport(node, child(node, "source"));
              break;
            case "ExportNamedDeclaration":
              if (child(node, "source")) visitImport(node, child(node, "source"));
              break;
            case "ImportExpression":
              visitImport(node, child(node, "source"));
              break;
            case "TSImportType": {
              const argument = child(node, "argument");
              visitImport(node, argument && (child(argument, "literal") ?? argument));
              break;
            }
            case "TSExternalModuleReference":
              visitImport(node, child(node, "expression"));
              break;
            case "Literal":
              if (typeof node.value === "string") report(node, { k: "string", v: node.value });
              break;
            case "TemplateElement":
              report(node, { k: "string", v: templateText(node) });
              break;
            case "Identifier":
              identifiers.push(node);
              break;
            case "MemberExpression":
              members.push(node);
              break;
            case "CallExpression":
            case "NewExpression":
              calls.push(node);
              break;
            case "VariableDeclarator": {
              const id = child(node, "id");
              if (id?.type === "Identifier") {
                bindings.push({ name: String(id.name), value: child(node, "init") });
              } else if (id?.type === "ObjectPattern") {
                destructurings.push({ pattern: id, value: child(node, "init") });
              }
              break;
            }
            case "AssignmentExpression": {
              const left = child(node, "left");
              if (node.operator !== "=") break;
              if (left?.type === "Identifier") {
                bindings.push({ name: String(left.name), value: child(node, "right") });
              } else if (left?.type === "ObjectPattern") {
                destructurings.push({ pattern: left, value: child(node, "right") });
              }
              break;
            }
          }
        }

        function finish(): void {
          // Aliases of Deno, followed through chains (`const a = Deno; const b = a;`).
          for (let changed = true; changed;) {
            changed = false;
            for (const { name, value } of bindings) {
              if (!aliases.has(name) && isDeno(value)) {
                aliases.add(name);
                changed = true;
              }
            }
          }
          for (const { pattern, value } of destructurings) {
            if (!isDeno(value)) continue;
            for (const property of children(pattern, "properties")) {
              if (property.type !== "Property") {
                report(property, { k: "deno-value" }); // `...rest` of Deno
                continue;
              }
              const key = child(property, "key");
              const name = !key
                ? null
                : property.computed
                ? staticString(key)
                : typeof key.name === "string"
                ? key.name
                : staticString(key);
              report(property, { k: "deno", m: name });
            }
          }
          for (const node of members) {
            const object = child(node, "object");
            if (isDeno(object)) report(node, { k: "deno", m: memberName(node) });
            // process.env.NAME, process.env["NAME"]
            const inner = unwrap(object);
            if (
              inner?.type === "MemberExpression" && isGlobal(child(inner, "object"), "process") &&
              memberName(inner) === "env"
            ) {
              const name = memberName(node);
              if (name !== null) report(node, { k: "env", name });
            }
            if (isGlobalObject(object) && memberName(node) === "eval") report(node, { k: "eval" });
            // globalThis[name] by a computed name: it may be Deno, eval or Function.
            if (isGlobalObject(object) && node.computed && memberName(node) === null) {
              report(node, { k: "global-value" });
            }
            if (isGlobalObject(object) && memberName(node) === "Function") {
              report(node, { k: "function" });
            }
            // A function's constructor is Function (`(() => {}).constructor("code")`): called,
            // or handed on to be called later.
            if (memberName(node) === "constructor") {
              const parent = outer(node).parent;
              if (parent && VALUE_PARENTS.has(parent.type)) report(node, { k: "function" });
            }
          }
          // Deno (or globalThis.Deno) itself handed on as a value: its uses cannot be followed.
          const denoValues = [
            ...identifiers.filter((n) => n.name === "Deno" && isReference(n)),
            ...members.filter((n) => isDeno(n)),
          ];
          for (const node of denoValues) {
            const top = outer(node);
            const parent = top.parent;
            if (!parent || !VALUE_PARENTS.has(parent.type)) continue;
            if (parent.type === "VariableDeclarator") {
              const id = child(parent, "id");
              if (id?.type === "Identifier" || id?.type === "ObjectPattern") continue;
            }
            if (parent.type === "AssignmentExpression") {
              const left = child(parent, "left");
              if (same(left, top)) continue;
              if (left?.type === "Identifier" || left?.type === "ObjectPattern") continue;
            }
            if (
              parent.type === "Property" && same(child(parent, "key"), top) && !parent.shorthand
            ) {
              continue;
            }
            if (
              (parent.type === "CallExpression" || parent.type === "NewExpression") &&
              same(child(parent, "callee"), top)
            ) {
              continue;
            }
            report(node, { k: "deno-value" });
          }
          for (const node of identifiers) {
            if (node.name === "eval" && isReference(node)) report(node, { k: "eval" });
            // `Function` as a value anywhere (`const F = Function`, `Reflect.construct(Function,
            // …)`), not as a type.
            if (
              node.name === "Function" && isReference(node) &&
              !TYPE_PARENTS.has(node.parent?.type ?? "")
            ) {
              report(node, { k: "function" });
            }
            // The global object handed on as a value (`const g = globalThis`,
            // `Reflect.get(globalThis, "Deno")`): what is read from it cannot be followed.
            if (GLOBAL_OBJECTS.has(String(node.name)) && isReference(node)) {
              const parent = outer(node).parent;
              if (parent && VALUE_PARENTS.has(parent.type)) report(node, { k: "global-value" });
            }
          }
          for (const node of calls) {
            const callee = child(node, "callee");
            const args = children(node, "arguments");
            if (node.type === "NewExpression") {
              for (const name of ["WebSocket", "EventSource"]) {
                if (isGlobal(callee, name)) report(node, { k: "new", c: name });
              }
              continue;
            }
            if (isGlobal(callee, "fetch")) report(node, { k: "fetch" });
            const bare = unwrap(callee);
            if (bare?.type === "Identifier" && bare.name === "require") {
              report(node, { k: "import", s: staticString(args[0]) });
            }
            // Deno.env.get("NAME")
            if (bare?.type === "MemberExpression" && memberName(bare) === "get") {
              const env = unwrap(child(bare, "object"));
              if (
                env?.type === "MemberExpression" && isDeno(child(env, "object")) &&
                memberName(env) === "env"
              ) {
                const name = staticString(args[0]);
                if (name !== null) report(node, { k: "env", name });
              }
            }
          }
        }

        return {
          "*": visit,
          "Program:exit"(node) {
            finish();
            context.report({ node, message: JSON.stringify({ k: "end", n: reported.size }) });
          },
        };
      },
    },
  },
};

export default plugin;
