// Generated from src/contract/checks/ts_plugin.ts by scripts/build_js.ts (sha256 28dce6469385a61b6dbf84cbc23646f11f73f1ff74ecc316b1d62c748921c6b4): do not edit; `deno task build:js` writes it.
var child = (function (node, key) {
    const value = node[key];
    return value && typeof value === "object" && typeof value.type === "string"
        ? value
        : undefined;
});
var children = (function (node, key) {
    const value = node[key];
    return Array.isArray(value) ? value.filter(((v) => v && typeof v === "object")) : [];
});
var same = (function (a, b) {
    return !!a && !!b && a.type === b.type && a.range[0] === b.range[0] && a.range[1] === b.range[1];
});
var unwrap = (function (node) {
    let current = node;
    while (current && TRANSPARENT.has(current.type))
        current = child(current, "expression");
    return current;
});
var templateText = (function (node) {
    if (!node)
        return "";
    if (typeof node.cooked === "string")
        return node.cooked;
    return typeof node.raw === "string" ? node.raw : "";
});
var staticString = (function (node) {
    const e = unwrap(node);
    if (!e)
        return null;
    if (e.type === "Literal" && typeof e.value === "string")
        return e.value;
    if (e.type === "TemplateLiteral" && children(e, "expressions").length === 0) {
        return templateText(children(e, "quasis")[0]);
    }
    return null;
});
var memberName = (function (node) {
    const property = child(node, "property");
    if (!property)
        return null;
    if (!node.computed)
        return typeof property.name === "string" ? property.name : null;
    return staticString(property);
});
var isGlobalObject = (function (node) {
    const e = unwrap(node);
    return e?.type === "Identifier" && GLOBAL_OBJECTS.has(String(e.name));
});
var isReference = (function (node) {
    const parent = node.parent;
    if (!parent)
        return true;
    if (parent.type === "MemberExpression" && !parent.computed) {
        return !same(child(parent, "property"), node);
    }
    if ((parent.type === "Property" || parent.type === "MethodDefinition" ||
        parent.type === "PropertyDefinition") && !parent.computed && !parent.shorthand) {
        return !same(child(parent, "key"), node);
    }
    return true;
});
var outer = (function (node) {
    let current = node;
    while (current.parent && TRANSPARENT.has(current.parent.type))
        current = current.parent;
    return current;
});
const GLOBAL_OBJECTS = new Set(["globalThis", "window", "self"]);
const TRANSPARENT = new Set([
    "TSAsExpression",
    "TSNonNullExpression",
    "TSSatisfiesExpression",
    "TSTypeAssertion",
    "ChainExpression",
    "ParenthesizedExpression",
]);
const TYPE_PARENTS = new Set([
    "TSTypeReference",
    "TSQualifiedName",
    "TSTypeQuery",
    "TSInterfaceHeritage",
    "TSClassImplements",
]);
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
;
;
;
;
;
;
;
;
;
;
const plugin = {
    name: "capibara",
    rules: {
        facts: {
            create(context) {
                const reported = new Set();
                const report = ((node, fact) => {
                    const message = JSON.stringify(fact);
                    const key = `${node.range[0]}:${node.range[1]}:${message}`;
                    if (reported.has(key))
                        return;
                    reported.add(key);
                    context.report({ range: node.range, message });
                });
                const identifiers = [];
                const members = [];
                const calls = [];
                const bindings = [];
                const destructurings = [];
                const aliases = new Set();
                function isDeno(node) {
                    const e = unwrap(node);
                    if (!e)
                        return false;
                    if (e.type === "Identifier")
                        return e.name === "Deno" || aliases.has(String(e.name));
                    return e.type === "MemberExpression" && isGlobalObject(child(e, "object")) &&
                        memberName(e) === "Deno";
                }
                function isGlobal(node, name) {
                    const e = unwrap(node);
                    if (!e)
                        return false;
                    if (e.type === "Identifier")
                        return e.name === name;
                    return e.type === "MemberExpression" && isGlobalObject(child(e, "object")) &&
                        memberName(e) === name;
                }
                function visitImport(node, source) {
                    let a;
                    for (const attribute of children(node, "attributes")) {
                        const key = child(attribute, "key");
                        if ((key?.name ?? key?.value) === "type")
                            a = String(child(attribute, "value")?.value);
                    }
                    if (node.type === "ImportExpression" && child(node, "options"))
                        a ??= "options";
                    const s = staticString(source);
                    report(node, a === undefined ? { k: "import", s } : { k: "import", s, a });
                }
                function visit(raw) {
                    const node = raw;
                    switch (node.type) {
                        case "ImportDeclaration":
                        case "ExportAllDeclaration":
                            visitImport(node, child(node, "source"));
                            break;
                        case "ExportNamedDeclaration":
                            if (child(node, "source"))
                                visitImport(node, child(node, "source"));
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
                            if (typeof node.value === "string")
                                report(node, { k: "string", v: node.value });
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
                            }
                            else if (id?.type === "ObjectPattern") {
                                destructurings.push({ pattern: id, value: child(node, "init") });
                            }
                            break;
                        }
                        case "AssignmentExpression": {
                            const left = child(node, "left");
                            if (node.operator !== "=")
                                break;
                            if (left?.type === "Identifier") {
                                bindings.push({ name: String(left.name), value: child(node, "right") });
                            }
                            else if (left?.type === "ObjectPattern") {
                                destructurings.push({ pattern: left, value: child(node, "right") });
                            }
                            break;
                        }
                    }
                }
                function finish() {
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
                        if (!isDeno(value))
                            continue;
                        for (const property of children(pattern, "properties")) {
                            if (property.type !== "Property") {
                                report(property, { k: "deno-value" });
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
                        if (isDeno(object))
                            report(node, { k: "deno", m: memberName(node) });
                        const inner = unwrap(object);
                        if (inner?.type === "MemberExpression" && isGlobal(child(inner, "object"), "process") &&
                            memberName(inner) === "env") {
                            const name = memberName(node);
                            if (name !== null)
                                report(node, { k: "env", name });
                        }
                        if (isGlobalObject(object) && memberName(node) === "eval")
                            report(node, { k: "eval" });
                        if (isGlobalObject(object) && node.computed && memberName(node) === null) {
                            report(node, { k: "global-value" });
                        }
                        if (isGlobalObject(object) && memberName(node) === "Function") {
                            report(node, { k: "function" });
                        }
                        if (memberName(node) === "constructor") {
                            const parent = outer(node).parent;
                            if (parent && VALUE_PARENTS.has(parent.type))
                                report(node, { k: "function" });
                        }
                    }
                    const denoValues = [
                        ...identifiers.filter(((n) => n.name === "Deno" && isReference(n))),
                        ...members.filter(((n) => isDeno(n))),
                    ];
                    for (const node of denoValues) {
                        const top = outer(node);
                        const parent = top.parent;
                        if (!parent || !VALUE_PARENTS.has(parent.type))
                            continue;
                        if (parent.type === "VariableDeclarator") {
                            const id = child(parent, "id");
                            if (id?.type === "Identifier" || id?.type === "ObjectPattern")
                                continue;
                        }
                        if (parent.type === "AssignmentExpression") {
                            const left = child(parent, "left");
                            if (same(left, top))
                                continue;
                            if (left?.type === "Identifier" || left?.type === "ObjectPattern")
                                continue;
                        }
                        if (parent.type === "Property" && same(child(parent, "key"), top) && !parent.shorthand) {
                            continue;
                        }
                        if ((parent.type === "CallExpression" || parent.type === "NewExpression") &&
                            same(child(parent, "callee"), top)) {
                            continue;
                        }
                        report(node, { k: "deno-value" });
                    }
                    for (const node of identifiers) {
                        if (node.name === "eval" && isReference(node))
                            report(node, { k: "eval" });
                        if (node.name === "Function" && isReference(node) &&
                            !TYPE_PARENTS.has(node.parent?.type ?? "")) {
                            report(node, { k: "function" });
                        }
                        if (GLOBAL_OBJECTS.has(String(node.name)) && isReference(node)) {
                            const parent = outer(node).parent;
                            if (parent && VALUE_PARENTS.has(parent.type))
                                report(node, { k: "global-value" });
                        }
                    }
                    for (const node of calls) {
                        const callee = child(node, "callee");
                        const args = children(node, "arguments");
                        if (node.type === "NewExpression") {
                            for (const name of ["WebSocket", "EventSource"]) {
                                if (isGlobal(callee, name))
                                    report(node, { k: "new", c: name });
                            }
                            continue;
                        }
                        if (isGlobal(callee, "fetch"))
                            report(node, { k: "fetch" });
                        const bare = unwrap(callee);
                        if (bare?.type === "Identifier" && bare.name === "require") {
                            report(node, { k: "import", s: staticString(args[0]) });
                        }
                        if (bare?.type === "MemberExpression" && memberName(bare) === "get") {
                            const env = unwrap(child(bare, "object"));
                            if (env?.type === "MemberExpression" && isDeno(child(env, "object")) &&
                                memberName(env) === "env") {
                                const name = staticString(args[0]);
                                if (name !== null)
                                    report(node, { k: "env", name });
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
