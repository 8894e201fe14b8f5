// Generated from src/contract/requirements.ts by scripts/build_js.ts (sha256 6fb811861057859595df6ae8a35981bbfb2ac892a5c37707a7651c4b4895878d): do not edit; `deno task build:js` writes it.
export var normaliseName = (function (name) {
    return name.toLowerCase().replace(/[-_.]+/g, "-");
});
var parseExtras = (function (r) {
    const extras = [];
    if (!r.literal("["))
        return extras;
    r.ws();
    const first = r.take(IDENTIFIER);
    if (first) {
        extras.push(first[0]);
        for (;;) {
            r.ws();
            if (!r.literal(","))
                break;
            r.ws();
            const next = r.take(IDENTIFIER) ?? r.fail("an extra name after the comma");
            extras.push(next[0]);
        }
    }
    r.ws();
    if (!r.literal("]"))
        r.fail(first ? 'a comma or "]" in the extras' : 'an extra name or "]"');
    return extras;
});
var exactNumbers = (function (version) {
    return (version.match(/[0-9]+/g) ?? []).every(((digits) => digits.replace(/^0+/, "").length <= MAX_VERSION_DIGITS));
});
var normaliseVersion = (function (operator, version) {
    if (operator === "===")
        return version;
    const prefix = version.endsWith(".*");
    const base = prefix ? version.slice(0, -2) : version;
    if (!exactNumbers(base)) {
        throw new RequirementError(`the version "${version}" has a number too large to compare`);
    }
    if (prefix && !/^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*$/i.test(base)) {
        throw new RequirementError(`a ".*" prefix match can follow only a release number, not "${version}"`);
    }
    const plus = base.indexOf("+");
    const cleaned = cleanPep440(plus === -1 ? base : base.slice(0, plus));
    if (cleaned === null)
        throw new RequirementError(`"${version}" is not a PEP 440 version`);
    const local = plus === -1 ? "" : "+" + base.slice(plus + 1).toLowerCase().split(/[-_.]/)
        .map(((part) => /^[0-9]+$/.test(part) ? part.replace(/^0+(?=.)/, "") : part)).join(".");
    return (prefix ? `${cleaned}.*` : cleaned) + local;
});
var parseClause = (function (r) {
    const op = r.take(OPERATOR);
    if (!op)
        return undefined;
    const operator = op[0];
    r.ws();
    const text = r.take(operator === "===" ? ARBITRARY_TEXT : VERSION_TEXT);
    if (!text)
        r.fail(`a version after "${operator}"`);
    const version = text[0];
    if (!validRange(operator + version)) {
        throw new RequirementError(`"${operator}${version}" is not a valid PEP 440 version specifier`);
    }
    return { operator, version: normaliseVersion(operator, version) };
});
var parseSpecifier = (function (r) {
    const parenthesised = r.literal("(");
    if (parenthesised)
        r.ws();
    const clauses = [];
    const first = parseClause(r);
    if (first) {
        clauses.push(first);
        for (;;) {
            r.ws();
            if (!r.literal(","))
                break;
            r.ws();
            clauses.push(parseClause(r) ?? r.fail("a version specifier after the comma"));
        }
    }
    r.ws();
    if (parenthesised && !r.literal(")"))
        r.fail('")" closing the version specifier');
    return clauses;
});
var parseMarkerValue = (function (r) {
    const variable = r.take(MARKER_VARIABLE);
    if (variable) {
        const name = variable[0].replace(".", "_");
        return { variable: name === "python_implementation" ? "platform_python_implementation" : name };
    }
    const quoted = r.take(QUOTED);
    if (quoted) {
        const value = quoted[1] ?? quoted[2] ?? "";
        if (!MARKER_VALUE.test(value)) {
            throw new RequirementError(`the marker value ${quoted[0]} holds a blank, a backslash, "$" or a character outside ` +
                `printable ASCII`);
        }
        return { value };
    }
    return r.fail("a marker variable or a quoted string");
});
var parseMarkerOp = (function (r) {
    if (r.take(IN))
        return "in";
    if (r.take(NOT)) {
        if (!r.take(/[ \t]+/y))
            r.fail('a blank after "not"');
        if (!r.take(IN))
            r.fail('"in" after "not"');
        return "not in";
    }
    const op = r.take(OPERATOR);
    if (op)
        return op[0];
    return r.fail("a marker operator (<=, <, !=, ==, >=, >, ~=, ===, in, not in)");
});
var parseMarkerAtom = (function (r, depth) {
    r.ws();
    let node;
    if (r.literal("(")) {
        if (depth >= MAX_MARKER_DEPTH)
            r.fail(`at most ${MAX_MARKER_DEPTH} nested parentheses`);
        r.ws();
        node = parseMarker(r, depth + 1);
        r.ws();
        if (!r.literal(")"))
            r.fail('")" closing the marker expression');
    }
    else {
        const left = parseMarkerValue(r);
        r.ws();
        const op = parseMarkerOp(r);
        r.ws();
        const right = parseMarkerValue(r);
        node = { kind: "compare", left, op, right };
    }
    r.ws();
    return node;
});
var parseMarker = (function (r, depth = 0) {
    const groups = [[parseMarkerAtom(r, depth)]];
    for (;;) {
        const op = r.take(BOOL_OP);
        if (!op)
            break;
        const atom = parseMarkerAtom(r, depth);
        if (op[0] === "or")
            groups.push([atom]);
        else
            groups[groups.length - 1].push(atom);
    }
    const ands = groups.map(((items) => flatten("and", items)));
    return flatten("or", ands);
});
var flatten = (function (kind, items) {
    const flat = items.flatMap(((item) => item.kind === kind ? item.items : [item]));
    return flat.length === 1 ? flat[0] : { kind, items: flat };
});
var serialiseMarkerValue = (function (value) {
    if ("variable" in value)
        return value.variable;
    return value.value.includes('"') ? `'${value.value}'` : `"${value.value}"`;
});
var serialiseMarker = (function (node) {
    if (node.kind === "compare") {
        return `${serialiseMarkerValue(node.left)} ${node.op} ${serialiseMarkerValue(node.right)}`;
    }
    return node.items.map(((item) => node.kind === "and" && item.kind === "or" ? `(${serialiseMarker(item)})` : serialiseMarker(item))).join(` ${node.kind} `);
});
var parseOrThrow = (function (text) {
    if (/[\r\n]/.test(text))
        throw new RequirementError("it spans several lines");
    if (text.trim() === "")
        throw new RequirementError("it is empty");
    if (/^[ \t]*-/.test(text))
        throw new RequirementError("pip options are not allowed");
    const r = new Reader(text);
    r.ws();
    const name = r.take(IDENTIFIER)?.[0];
    if (name === undefined) {
        if (/^[ \t]*[./\\~]/.test(text))
            throw new RequirementError("paths are not allowed");
        return r.fail("a package name");
    }
    if (ARCHIVE_SUFFIX.test(name)) {
        throw new RequirementError("pip would read this name as a local archive file");
    }
    r.ws();
    const extras = parseExtras(r);
    r.ws();
    if (r.peek("@")) {
        throw new RequirementError("direct URL references are not allowed: packages come from the configured index");
    }
    const clauses = parseSpecifier(r);
    r.ws();
    let marker;
    if (r.literal(";")) {
        marker = serialiseMarker(parseMarker(r));
        r.ws();
    }
    if (!r.atEnd) {
        if (/^[ \t]*-/.test(r.rest) || /[ \t]-/.test(r.rest)) {
            throw new RequirementError("pip options are not allowed");
        }
        r.fail(marker === undefined ? 'a comma, ";" or the end' : "the end of the requirement");
    }
    const sorted = [...new Set(clauses.map(((c) => c.operator + c.version)))].sort();
    if (ARCHIVE_SUFFIX.test(sorted.join(","))) {
        throw new RequirementError("pip would read this requirement as a local archive file");
    }
    const unique = sorted.map(((s) => clauses.find(((c) => c.operator + c.version === s))));
    return {
        name: normaliseName(name),
        extras: [...new Set(extras.map(normaliseName))].sort(),
        specifier: sorted.join(","),
        clauses: unique,
        ...(marker === undefined ? {} : { marker }),
    };
});
export var parseRequirement = (function (text) {
    try {
        return parseOrThrow(text);
    }
    catch (error) {
        if (error instanceof RequirementError) {
            throw new RequirementError(error.reason, { requirement: text, cause: error });
        }
        throw error;
    }
});
export var serialise = (function (requirement) {
    const text = serialiseUnchecked(requirement);
    const again = parseRequirement(text);
    if (serialiseUnchecked(again) !== text) {
        throw new RequirementError("the requirement is not in normal form", { requirement: text });
    }
    return text;
});
var serialiseUnchecked = (function (requirement) {
    return requirement.name +
        (requirement.extras.length ? `[${requirement.extras.join(",")}]` : "") +
        requirement.specifier +
        (requirement.marker === undefined
            ? ""
            : `${markerSeparator(requirement)}${requirement.marker}`);
});
var markerSeparator = (function (requirement) {
    return requirement.specifier.includes("===") ? " ; " : "; ";
});
export var normaliseRequirement = (function (text) {
    return serialise(parseRequirement(text));
});
export var pinnedVersion = (function (requirement) {
    const [only, ...more] = requirement.clauses;
    if (only === undefined || more.length > 0)
        return undefined;
    if (only.operator !== "==" || only.version.endsWith(".*"))
        return undefined;
    return only.version;
});
export var pinProblem = (function (text) {
    let parsed;
    try {
        parsed = parseRequirement(text);
    }
    catch (error) {
        if (!(error instanceof RequirementError))
            throw error;
        return `"${text}" is not a valid requirement (${error.reason})`;
    }
    if (pinnedVersion(parsed) !== undefined)
        return undefined;
    const equal = parsed.clauses.length === 1 && parsed.clauses[0]?.operator === "==";
    return equal
        ? `"${text}" does not pin a valid PEP 440 version`
        : `"${text}" is not pinned as "name==version"`;
});
var installError = (function (requirement, reason, hint, cause) {
    throw new DependencyError(`Cannot install requirement ${JSON.stringify(requirement)}: ${reason}`, { hint, details: { requirement }, cause });
});
export var normaliseRequirements = (function (requirements) {
    const lines = requirements.map(((requirement) => {
        try {
            const line = normaliseRequirement(requirement);
            const unpinned = pinProblem(requirement);
            if (unpinned !== undefined) {
                return installError(requirement, unpinned.replace(/^".*?" /, ""), 'Requirements must be pinned as "name==version"; regenerate the script or fix its ' +
                    "manifest");
            }
            return line;
        }
        catch (error) {
            if (!(error instanceof RequirementError))
                throw error;
            return installError(requirement, error.reason, 'Requirements must be named, pinned packages such as "moviepy==1.0.3"; ' +
                "regenerate the script or fix its manifest", error);
        }
    }));
    return [...new Set(lines)].sort();
});
export var pipRequirementsFile = (function (requirements) {
    const lines = normaliseRequirements(requirements);
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
});
export var parseNpmRequirement = (function (text) {
    const fail = ((reason) => {
        throw new RequirementError(reason, { requirement: text });
    });
    const parts = text.trim().split(/[ \t]*==[ \t]*/);
    if (parts.length !== 2)
        fail('it is not pinned as "name==version"');
    const [name = "", version = ""] = parts;
    if (!NPM_NAME.test(name) || name.length > 214)
        fail("the name is not an npm package name");
    if (!SEMVER.test(version))
        fail("the version is not an exact semver version (like 1.2.3)");
    return { name, version };
});
export var serialiseNpm = (function (requirement) {
    return `${requirement.name}==${requirement.version}`;
});
export var normaliseNpmRequirements = (function (requirements) {
    const normalised = requirements.map(((requirement) => {
        try {
            return serialiseNpm(parseNpmRequirement(requirement));
        }
        catch (error) {
            if (!(error instanceof RequirementError))
                throw error;
            return installError(requirement, error.reason, 'TypeScript requirements must be pinned npm packages such as "is-number==7.0.0"; ' +
                "regenerate the script or fix its manifest", error);
        }
    }));
    return [...new Set(normalised)].sort();
});
export var splitDepsLine = (function (value) {
    const text = value.trim();
    if (text === "" || /^none$/i.test(text))
        return [];
    const items = [];
    let depth = 0;
    let quote;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (quote !== undefined) {
            if (ch === quote)
                quote = undefined;
        }
        else if (ch === "'" || ch === '"')
            quote = ch;
        else if (ch === "[" || ch === "(")
            depth++;
        else if ((ch === "]" || ch === ")") && depth > 0)
            depth--;
        else if (ch === "," && depth === 0 && !/^[ \t]*[<>=!~]/.test(text.slice(i + 1))) {
            items.push(text.slice(start, i));
            start = i + 1;
        }
    }
    items.push(text.slice(start));
    return items.map(((item) => item.trim())).filter(((item) => item !== ""));
});
import { clean as cleanPep440, validRange } from "npm:@renovatebot/pep440@^5.0.1";
import { DependencyError } from "../errors.js";
export class RequirementError extends Error {
    name = "RequirementError";
    reason;
    requirement;
    constructor(reason, options = {}) {
        super(options.requirement === undefined
            ? reason
            : `Cannot parse requirement ${JSON.stringify(options.requirement)}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
        this.reason = reason;
        this.requirement = options.requirement;
    }
}
const WS = /[ \t]*/y;
const IDENTIFIER = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/y;
const OPERATOR = /===|==|~=|!=|<=|>=|<|>/y;
const VERSION_TEXT = /[A-Za-z0-9._+!*-]+/y;
const ARBITRARY_TEXT = /[A-Za-z0-9._+!-]+/y;
const QUOTED = /'([^']*)'|"([^"]*)"/y;
const MARKER_VARIABLE = /(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)(?![\p{L}\p{N}_])/uy;
const BOOL_OP = /(?:and|or)(?![\p{L}\p{N}_])/uy;
const IN = /in(?![\p{L}\p{N}_])/uy;
const NOT = /not(?![\p{L}\p{N}_])/uy;
const MARKER_VALUE = /^[!-#%-[\]-~]*$/;
const ARCHIVE_SUFFIX = /\.(?:whl|zip|tar|tgz|tbz|txz|tlz|gz|bz2|xz|lz|lzma)$/i;
const MAX_VERSION_DIGITS = 15;
;
class Reader {
    #text;
    #pos = 0;
    constructor(text) {
        this.#text = text;
    }
    get atEnd() {
        return this.#pos >= this.#text.length;
    }
    get rest() {
        return this.#text.slice(this.#pos);
    }
    ws() {
        this.take(WS);
    }
    peek(literal) {
        return this.#text.startsWith(literal, this.#pos);
    }
    take(pattern) {
        pattern.lastIndex = this.#pos;
        const match = pattern.exec(this.#text);
        if (!match)
            return undefined;
        this.#pos += match[0].length;
        return match;
    }
    literal(literal) {
        if (!this.peek(literal))
            return false;
        this.#pos += literal.length;
        return true;
    }
    fail(expected) {
        const found = this.atEnd ? "the end" : JSON.stringify(this.rest.slice(0, 20));
        throw new RequirementError(`expected ${expected} at character ${this.#pos + 1}, found ${found}`);
    }
}
;
;
;
;
;
;
;
const MAX_MARKER_DEPTH = 32;
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
;
;
;
;
;
;
const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
;
;
;
;
