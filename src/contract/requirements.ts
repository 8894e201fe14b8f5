/**
 * Requirements, written once: PEP 508 requirements of Python scripts (parse, normalise, pin
 * check, re-serialisation for pip), npm requirements of TypeScript scripts and the header block's
 * `deps:` list (the PEP 723 `script` block is read in `pep723.ts`).
 *
 * Versions and version specifiers are checked by `@renovatebot/pep440`. Only the PEP 508 grammar
 * itself (name, extras, the specifier list, markers) is written here, after the grammar of `packaging` (the reference parser), because
 * no npm library covers it faithfully.
 *
 * Packages come from the configured index only: direct URL references (`name @ url`), paths,
 * archive file names and pip options are refused, and every line handed to pip is re-serialised
 * from the parsed form, never copied from the input.
 *
 * @module
 */
import { clean as cleanPep440, validRange } from "npm:@renovatebot/pep440@^5.0.1";
import { DependencyError } from "../errors.ts";

/** Options of {@linkcode RequirementError}. */
export interface RequirementErrorOptions extends ErrorOptions {
  /** The requirement as written, when the error is about one requirement. */
  requirement?: string;
}

/** A requirement or a PEP 723 block that cannot be used; `reason` says why. */
export class RequirementError extends Error {
  /** The class name, for messages and logs. */
  override readonly name = "RequirementError";
  /** What is wrong, without the requirement itself. */
  readonly reason: string;
  /** The requirement as written, when the error is about one requirement. */
  readonly requirement?: string;

  /** An error saying `reason`, about `options.requirement` when given. */
  constructor(reason: string, options: RequirementErrorOptions = {}) {
    super(
      options.requirement === undefined
        ? reason
        : `Cannot parse requirement ${JSON.stringify(options.requirement)}: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.reason = reason;
    this.requirement = options.requirement;
  }
}

// --- PEP 508 ----------------------------------------------------------------------------------

/** One clause of a version specifier, such as `>=` `1.0`. */
export interface SpecifierClause {
  /** One of `===`, `==`, `~=`, `!=`, `<=`, `>=`, `<`, `>`. */
  readonly operator: string;
  /** The version, PEP 440-normalised (kept verbatim for `===`), with `.*` for prefix matches. */
  readonly version: string;
}

/** A parsed, normalised PEP 508 requirement (a name from the index, never a URL). */
export interface PythonRequirement {
  /** PEP 503-normalised name: lower case, runs of `-_.` replaced by one `-`. */
  readonly name: string;
  /** Normalised extras (PEP 685), sorted and without duplicates. */
  readonly extras: readonly string[];
  /** The canonical specifier: clauses sorted, without duplicates, joined by `,` ("" for none). */
  readonly specifier: string;
  /** The clauses of {@linkcode PythonRequirement.specifier}, in the same order. */
  readonly clauses: readonly SpecifierClause[];
  /** The environment marker, re-serialised (`python_version >= "3.8"`), or undefined. */
  readonly marker?: string;
}

const WS = /[ \t]*/y;
const IDENTIFIER = /[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/y;
const OPERATOR = /===|==|~=|!=|<=|>=|<|>/y;
/** A version after an operator other than `===`: the characters PEP 440 versions use. */
const VERSION_TEXT = /[A-Za-z0-9._+!*-]+/y;
/**
 * The arbitrary string of `===`: a conservative subset of what PEP 440 allows (no quotes,
 * backslashes, `$`, `#` or blanks), so that pip's requirements-file syntax never sees anything
 * but a version.
 */
const ARBITRARY_TEXT = /[A-Za-z0-9._+!-]+/y;
const QUOTED = /'([^']*)'|"([^"]*)"/y;
const MARKER_VARIABLE =
  /(?:python_version|python_full_version|os[._]name|sys[._]platform|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)|python_implementation|implementation_(?:name|version)|extras?|dependency_groups)(?![\p{L}\p{N}_])/uy;
const BOOL_OP = /(?:and|or)(?![\p{L}\p{N}_])/uy;
const IN = /in(?![\p{L}\p{N}_])/uy;
const NOT = /not(?![\p{L}\p{N}_])/uy;
/** Characters a marker's quoted value may hold: printable ASCII without blanks, `\` and `$`. */
const MARKER_VALUE = /^[!-#%-[\]-~]*$/;
/**
 * Extensions pip treats as a local archive when a requirement line (before its marker) ends with
 * one: `pkg-1.0-py3-none-any.whl` is a valid PEP 508 name, and a path for pip.
 */
const ARCHIVE_SUFFIX = /\.(?:whl|zip|tar|tgz|tbz|txz|tlz|gz|bz2|xz|lz|lzma)$/i;
/** Largest number of digits in one numeric part of a version that normalises exactly. */
const MAX_VERSION_DIGITS = 15;

type MarkerValue = { variable: string } | { value: string };
type MarkerNode =
  | { kind: "compare"; left: MarkerValue; op: string; right: MarkerValue }
  | { kind: "and" | "or"; items: MarkerNode[] };

/** PEP 503 normalisation of a project name (also PEP 685 for extras). */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** A recursive-descent reader over one requirement string. */
class Reader {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  get atEnd(): boolean {
    return this.#pos >= this.#text.length;
  }

  get rest(): string {
    return this.#text.slice(this.#pos);
  }

  ws(): void {
    this.take(WS);
  }

  peek(literal: string): boolean {
    return this.#text.startsWith(literal, this.#pos);
  }

  take(pattern: RegExp): RegExpExecArray | undefined {
    pattern.lastIndex = this.#pos;
    const match = pattern.exec(this.#text);
    if (!match) return undefined;
    this.#pos += match[0].length;
    return match;
  }

  literal(literal: string): boolean {
    if (!this.peek(literal)) return false;
    this.#pos += literal.length;
    return true;
  }

  fail(expected: string): never {
    const found = this.atEnd ? "the end" : JSON.stringify(this.rest.slice(0, 20));
    throw new RequirementError(
      `expected ${expected} at character ${this.#pos + 1}, found ${found}`,
    );
  }
}

function parseExtras(r: Reader): string[] {
  const extras: string[] = [];
  if (!r.literal("[")) return extras;
  r.ws();
  const first = r.take(IDENTIFIER);
  if (first) {
    extras.push(first[0]);
    for (;;) {
      r.ws();
      if (!r.literal(",")) break;
      r.ws();
      const next = r.take(IDENTIFIER) ?? r.fail("an extra name after the comma");
      extras.push(next[0]);
    }
  }
  r.ws();
  if (!r.literal("]")) r.fail(first ? 'a comma or "]" in the extras' : 'an extra name or "]"');
  return extras;
}

/** Digits of each numeric part, without leading zeros, within what a float holds exactly. */
function exactNumbers(version: string): boolean {
  return (version.match(/[0-9]+/g) ?? []).every((digits) =>
    digits.replace(/^0+/, "").length <= MAX_VERSION_DIGITS
  );
}

function normaliseVersion(operator: string, version: string): string {
  if (operator === "===") return version;
  const prefix = version.endsWith(".*");
  const base = prefix ? version.slice(0, -2) : version;
  if (!exactNumbers(base)) {
    throw new RequirementError(`the version "${version}" has a number too large to compare`);
  }
  if (prefix && !/^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*$/i.test(base)) {
    throw new RequirementError(
      `a ".*" prefix match can follow only a release number, not "${version}"`,
    );
  }
  // The library's normal form joins a local version's parts with commas, so the local part
  // (after "+") is normalised here: lower case, "." between parts, numbers without leading zeros.
  const plus = base.indexOf("+");
  const cleaned = cleanPep440(plus === -1 ? base : base.slice(0, plus));
  if (cleaned === null) throw new RequirementError(`"${version}" is not a PEP 440 version`);
  const local = plus === -1 ? "" : "+" + base.slice(plus + 1).toLowerCase().split(/[-_.]/)
    .map((part) => /^[0-9]+$/.test(part) ? part.replace(/^0+(?=.)/, "") : part).join(".");
  return (prefix ? `${cleaned}.*` : cleaned) + local;
}

function parseClause(r: Reader): SpecifierClause | undefined {
  const op = r.take(OPERATOR);
  if (!op) return undefined;
  const operator = op[0];
  r.ws();
  const text = r.take(operator === "===" ? ARBITRARY_TEXT : VERSION_TEXT);
  if (!text) r.fail(`a version after "${operator}"`);
  const version = text[0];
  // The library checks the clause: PEP 440 version, `.*` and local versions only with == and !=,
  // `~=` with two release numbers or more, arbitrary strings only with ===.
  if (!validRange(operator + version)) {
    throw new RequirementError(`"${operator}${version}" is not a valid PEP 440 version specifier`);
  }
  return { operator, version: normaliseVersion(operator, version) };
}

function parseSpecifier(r: Reader): SpecifierClause[] {
  const parenthesised = r.literal("(");
  if (parenthesised) r.ws();
  const clauses: SpecifierClause[] = [];
  const first = parseClause(r);
  if (first) {
    clauses.push(first);
    for (;;) {
      r.ws();
      if (!r.literal(",")) break;
      r.ws();
      clauses.push(parseClause(r) ?? r.fail("a version specifier after the comma"));
    }
  }
  r.ws();
  if (parenthesised && !r.literal(")")) r.fail('")" closing the version specifier');
  return clauses;
}

function parseMarkerValue(r: Reader): MarkerValue {
  const variable = r.take(MARKER_VARIABLE);
  if (variable) {
    const name = variable[0].replace(".", "_");
    return { variable: name === "python_implementation" ? "platform_python_implementation" : name };
  }
  const quoted = r.take(QUOTED);
  if (quoted) {
    const value = quoted[1] ?? quoted[2] ?? "";
    if (!MARKER_VALUE.test(value)) {
      throw new RequirementError(
        `the marker value ${quoted[0]} holds a blank, a backslash, "$" or a character outside ` +
          `printable ASCII`,
      );
    }
    return { value };
  }
  return r.fail("a marker variable or a quoted string");
}

function parseMarkerOp(r: Reader): string {
  if (r.take(IN)) return "in";
  if (r.take(NOT)) {
    if (!r.take(/[ \t]+/y)) r.fail('a blank after "not"');
    if (!r.take(IN)) r.fail('"in" after "not"');
    return "not in";
  }
  const op = r.take(OPERATOR);
  if (op) return op[0];
  return r.fail("a marker operator (<=, <, !=, ==, >=, >, ~=, ===, in, not in)");
}

/**
 * How deep a marker's parentheses may nest: deeper, its parse and every walk of it recurse too far.
 */
const MAX_MARKER_DEPTH = 32;

function parseMarkerAtom(r: Reader, depth: number): MarkerNode {
  r.ws();
  let node: MarkerNode;
  if (r.literal("(")) {
    if (depth >= MAX_MARKER_DEPTH) r.fail(`at most ${MAX_MARKER_DEPTH} nested parentheses`);
    r.ws();
    node = parseMarker(r, depth + 1);
    r.ws();
    if (!r.literal(")")) r.fail('")" closing the marker expression');
  } else {
    const left = parseMarkerValue(r);
    r.ws();
    const op = parseMarkerOp(r);
    r.ws();
    const right = parseMarkerValue(r);
    node = { kind: "compare", left, op, right };
  }
  r.ws();
  return node;
}

/** `atom (and|or atom)*`, `and` binding tighter than `or` (as packaging evaluates it). */
function parseMarker(r: Reader, depth = 0): MarkerNode {
  const groups: MarkerNode[][] = [[parseMarkerAtom(r, depth)]];
  for (;;) {
    const op = r.take(BOOL_OP);
    if (!op) break;
    const atom = parseMarkerAtom(r, depth);
    if (op[0] === "or") groups.push([atom]);
    else groups[groups.length - 1]!.push(atom);
  }
  const ands = groups.map((items) => flatten("and", items));
  return flatten("or", ands);
}

function flatten(kind: "and" | "or", items: MarkerNode[]): MarkerNode {
  const flat = items.flatMap((item) => item.kind === kind ? item.items : [item]);
  return flat.length === 1 ? flat[0]! : { kind, items: flat };
}

function serialiseMarkerValue(value: MarkerValue): string {
  if ("variable" in value) return value.variable;
  return value.value.includes('"') ? `'${value.value}'` : `"${value.value}"`;
}

function serialiseMarker(node: MarkerNode): string {
  if (node.kind === "compare") {
    return `${serialiseMarkerValue(node.left)} ${node.op} ${serialiseMarkerValue(node.right)}`;
  }
  // After flattening, only an `or` inside an `and` needs parentheses.
  return node.items.map((item) =>
    node.kind === "and" && item.kind === "or" ? `(${serialiseMarker(item)})` : serialiseMarker(item)
  ).join(` ${node.kind} `);
}

function parseOrThrow(text: string): PythonRequirement {
  if (/[\r\n]/.test(text)) throw new RequirementError("it spans several lines");
  if (text.trim() === "") throw new RequirementError("it is empty");
  if (/^[ \t]*-/.test(text)) throw new RequirementError("pip options are not allowed");
  const r = new Reader(text);
  r.ws();
  const name = r.take(IDENTIFIER)?.[0];
  if (name === undefined) {
    if (/^[ \t]*[./\\~]/.test(text)) throw new RequirementError("paths are not allowed");
    return r.fail("a package name");
  }
  if (ARCHIVE_SUFFIX.test(name)) {
    throw new RequirementError("pip would read this name as a local archive file");
  }
  r.ws();
  const extras = parseExtras(r);
  r.ws();
  if (r.peek("@")) {
    throw new RequirementError(
      "direct URL references are not allowed: packages come from the configured index",
    );
  }
  const clauses = parseSpecifier(r);
  r.ws();
  let marker: string | undefined;
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
  const sorted = [...new Set(clauses.map((c) => c.operator + c.version))].sort();
  // pip reads a line whose text before the marker ends like an archive as a file path, whether
  // the suffix is in the name or in a version (`pkg==1.0+local.zip`, `pkg===x.whl`).
  if (ARCHIVE_SUFFIX.test(sorted.join(","))) {
    throw new RequirementError("pip would read this requirement as a local archive file");
  }
  const unique = sorted.map((s) => clauses.find((c) => c.operator + c.version === s)!);
  return {
    name: normaliseName(name),
    extras: [...new Set(extras.map(normaliseName))].sort(),
    specifier: sorted.join(","),
    clauses: unique,
    ...(marker === undefined ? {} : { marker }),
  };
}

/**
 * Parse one PEP 508 requirement into its normalised parts. Direct URL references, paths, archive
 * file names, pip options and several lines are refused, as is a marker value with blanks or
 * backslashes (which pip's requirements-file syntax would read as more than a value).
 *
 * @example
 * ```ts
 * import { parseRequirement } from "./requirements.ts";
 * parseRequirement("Requests [Socks, security] == 2.31.0").extras; // ["security", "socks"]
 * ```
 * @throws {RequirementError} when the requirement is invalid or refused.
 */
export function parseRequirement(text: string): PythonRequirement {
  try {
    return parseOrThrow(text);
  } catch (error) {
    if (error instanceof RequirementError) {
      throw new RequirementError(error.reason, { requirement: text, cause: error });
    }
    throw error;
  }
}

/**
 * The one string that stands for a requirement: the line written to pip's requirements file and
 * the key compared between lists. It is checked by parsing it again.
 *
 * @throws {RequirementError} when `requirement` was not made by {@linkcode parseRequirement}.
 */
export function serialise(requirement: PythonRequirement): string {
  const text = serialiseUnchecked(requirement);
  const again = parseRequirement(text);
  if (serialiseUnchecked(again) !== text) {
    throw new RequirementError("the requirement is not in normal form", { requirement: text });
  }
  return text;
}

function serialiseUnchecked(requirement: PythonRequirement): string {
  return requirement.name +
    (requirement.extras.length ? `[${requirement.extras.join(",")}]` : "") +
    requirement.specifier +
    (requirement.marker === undefined
      ? ""
      : `${markerSeparator(requirement)}${requirement.marker}`);
}

/**
 * `; ` before a marker, or ` ; ` after an arbitrary-equality (`===`) clause: older copies of
 * packaging (pip 23.0's) read `===x;` as the string `x;` and the marker as garbage.
 */
function markerSeparator(requirement: PythonRequirement): string {
  return requirement.specifier.includes("===") ? " ; " : "; ";
}

/** The normal form of one requirement: `serialise(parseRequirement(text))`. */
export function normaliseRequirement(text: string): string {
  return serialise(parseRequirement(text));
}

/**
 * The version a requirement pins: exactly one `==` clause with a PEP 440 version (no `.*`).
 * Undefined when it pins nothing (`===` is not a pin here: it compares strings).
 */
export function pinnedVersion(requirement: PythonRequirement): string | undefined {
  const [only, ...more] = requirement.clauses;
  if (only === undefined || more.length > 0) return undefined;
  if (only.operator !== "==" || only.version.endsWith(".*")) return undefined;
  return only.version;
}

/**
 * Why `text` is not a pinned requirement, phrased for the model, or undefined when it is one.
 */
export function pinProblem(text: string): string | undefined {
  let parsed: PythonRequirement;
  try {
    parsed = parseRequirement(text);
  } catch (error) {
    if (!(error instanceof RequirementError)) throw error;
    return `"${text}" is not a valid requirement (${error.reason})`;
  }
  if (pinnedVersion(parsed) !== undefined) return undefined;
  const equal = parsed.clauses.length === 1 && parsed.clauses[0]?.operator === "==";
  return equal
    ? `"${text}" does not pin a valid PEP 440 version`
    : `"${text}" is not pinned as "name==version"`;
}

function installError(requirement: string, reason: string, hint: string, cause?: unknown): never {
  throw new DependencyError(
    `Cannot install requirement ${JSON.stringify(requirement)}: ${reason}`,
    { hint, details: { requirement }, cause },
  );
}

/**
 * Normalise, deduplicate and sort Python requirements: the lines written to pip's requirements
 * file and hashed into the environment's key.
 *
 * @throws {DependencyError} when a requirement is an option, a path, a URL, malformed or not
 *   pinned to one version.
 */
export function normaliseRequirements(requirements: readonly string[]): string[] {
  const lines = requirements.map((requirement) => {
    try {
      const line = normaliseRequirement(requirement);
      // Pinned, as `verify` and the contract want: an entry a repository brings installs the
      // versions a review saw, not whatever an index holds the day it runs.
      const unpinned = pinProblem(requirement);
      if (unpinned !== undefined) {
        return installError(
          requirement,
          unpinned.replace(/^".*?" /, ""),
          'Requirements must be pinned as "name==version"; regenerate the script or fix its ' +
            "manifest",
        );
      }
      return line;
    } catch (error) {
      if (!(error instanceof RequirementError)) throw error;
      return installError(
        requirement,
        error.reason,
        'Requirements must be named, pinned packages such as "moviepy==1.0.3"; ' +
          "regenerate the script or fix its manifest",
        error,
      );
    }
  });
  return [...new Set(lines)].sort();
}

/** The content of pip's requirements file for `requirements`: one normalised line each. */
export function pipRequirementsFile(requirements: readonly string[]): string {
  const lines = normaliseRequirements(requirements);
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

// --- npm ----------------------------------------------------------------------------------------

/** A pinned npm requirement of a TypeScript script. */
export interface NpmRequirement {
  /** The package name as npm spells it, optionally scoped (`@scope/name`). */
  readonly name: string;
  /** The exact SemVer 2.0.0 version. */
  readonly version: string;
}

const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
/** The regular expression of the SemVer 2.0.0 specification. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * Parse `name==version` (blanks around `==` allowed), the version exact SemVer.
 *
 * @throws {RequirementError} when the name or the version is not acceptable.
 */
export function parseNpmRequirement(text: string): NpmRequirement {
  const fail = (reason: string): never => {
    throw new RequirementError(reason, { requirement: text });
  };
  const parts = text.trim().split(/[ \t]*==[ \t]*/);
  if (parts.length !== 2) fail('it is not pinned as "name==version"');
  const [name = "", version = ""] = parts;
  if (!NPM_NAME.test(name) || name.length > 214) fail("the name is not an npm package name");
  if (!SEMVER.test(version)) fail("the version is not an exact semver version (like 1.2.3)");
  return { name, version };
}

/** `name==version`: the normal form of an npm requirement. */
export function serialiseNpm(requirement: NpmRequirement): string {
  return `${requirement.name}==${requirement.version}`;
}

/**
 * Check, normalise (no blanks around `==`), deduplicate and sort npm requirements: the canonical
 * form hashed into the key of a TypeScript script's package cache.
 *
 * @throws {DependencyError} when a requirement is not `name==exact.semver.version`.
 */
export function normaliseNpmRequirements(requirements: readonly string[]): string[] {
  const normalised = requirements.map((requirement) => {
    try {
      return serialiseNpm(parseNpmRequirement(requirement));
    } catch (error) {
      if (!(error instanceof RequirementError)) throw error;
      return installError(
        requirement,
        error.reason,
        'TypeScript requirements must be pinned npm packages such as "is-number==7.0.0"; ' +
          "regenerate the script or fix its manifest",
        error,
      );
    }
  });
  return [...new Set(normalised)].sort();
}

// --- header deps ----------------------------------------------------------------------------------

/**
 * Split the value of the header block's `deps:` line into requirements. Commas inside brackets,
 * parentheses or quotes, and commas that continue a specifier list (`a>=1,<2`), do not split;
 * `none` or nothing is the empty list.
 */
export function splitDepsLine(value: string): string[] {
  const text = value.trim();
  if (text === "" || /^none$/i.test(text)) return [];
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "[" || ch === "(") depth++;
    else if ((ch === "]" || ch === ")") && depth > 0) depth--;
    else if (ch === "," && depth === 0 && !/^[ \t]*[<>=!~]/.test(text.slice(i + 1))) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== "");
}
