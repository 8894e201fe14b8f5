/**
 * Parsing the model's reply and checking it against the generation contract.
 *
 * @module
 */
import { issuesText } from "../_shape.ts";
import { Bundle, type Language } from "../schema.ts";
import { execCommand } from "../exec.ts";
import { COMMENT_LEADERS, HEADER_END, HEADER_START, reviewTextProblem } from "./contract.ts";
import { DOES_NOT_PARSE, formatFindings, staticChecks } from "./checks/mod.ts";
import {
  normaliseRequirement,
  parseNpmRequirement,
  pinProblem,
  RequirementError,
  serialiseNpm,
  splitDepsLine,
} from "./requirements.ts";
import { readPep723 } from "./pep723.ts";
import { grantProblem } from "../sandbox/policy.ts";

/** A reply that broke the generation contract. `reason` is sent back to the model. */
export class ContractViolation extends Error {
  override readonly name = "ContractViolation";
  /** What was wrong, phrased for the model. */
  readonly reason: string;

  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.reason = reason;
  }
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The first balanced `{…}` in `text` from `from` (string-aware) and where it ends, or undefined.
 */
function firstObject(text: string, from = 0): { text: string; end: number } | undefined {
  const start = text.indexOf("{", from);
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return { text: text.slice(start, i + 1), end: i + 1 };
  }
  return undefined;
}

/**
 * The JSON value in a model's message: the whole content, a ```json fence, or the first balanced
 * `{…}` object. Throws an Error saying what was found instead.
 */
export function extractJson(content: string): unknown {
  const text = content.trim();
  if (text === "") throw new Error("The reply is empty: expected one JSON object");
  const whole = tryParse(text);
  if (whole.ok) return whole.value;

  const fences = [...text.matchAll(/```[ \t]*(?:json|JSON|jsonc)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/g)];
  for (const fence of fences) {
    const parsed = tryParse((fence[1] ?? "").trim());
    if (parsed.ok) return parsed.value;
  }

  // Each balanced object in turn, the next one looked for after the end of the last: a failed
  // one is not searched for objects inside it, so that the whole takes time linear in the reply
  // (`{{{…}}}` made every brace a candidate scanned to the end).
  let from = 0;
  for (;;) {
    const candidate = firstObject(text, from);
    if (candidate === undefined) break;
    const parsed = tryParse(candidate.text);
    if (parsed.ok) return parsed.value;
    from = candidate.end;
  }
  const excerpt = text.length > 80 ? text.slice(0, 80) + "…" : text;
  if (!text.includes("{")) {
    throw new Error(`The reply contains no JSON object: it starts with ${JSON.stringify(excerpt)}`);
  }
  throw new Error(
    `The reply is not valid JSON: ${whole.error}; it starts with ${JSON.stringify(excerpt)}`,
  );
}

/** Options of {@linkcode checkBundle}. */
export interface CheckBundleOptions {
  /** The language that was asked for. */
  language: Language;
  /** Python interpreter that parses and compiles the script (default `python3` on PATH). */
  python?: string;
  /** Time limit of each analysis in milliseconds (default 15000). */
  timeoutMs?: number;
}

/**
 * The key a requirement is compared by: its normal form, or the text itself when it does not
 * parse (the pin check then says why).
 */
function requirementKey(requirement: string, language: Language): string {
  try {
    if (language === "python") return normaliseRequirement(requirement);
    if (language === "typescript") return serialiseNpm(parseNpmRequirement(requirement));
  } catch (error) {
    if (!(error instanceof RequirementError)) throw error;
  }
  return `\0${requirement.trim()}`;
}

function sameSet(a: string[], b: string[], language: Language): boolean {
  const left = new Set(a.map((r) => requirementKey(r, language)));
  const right = new Set(b.map((r) => requirementKey(r, language)));
  return left.size === right.size && [...left].every((k) => right.has(k));
}

function list(items: string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * The lines between the header markers, or undefined when the block is missing. Each line is
 * looked at alone: a pattern over the whole text whose `\s*` also took line breaks rescanned a
 * run of blank lines from each of them (quadratic in a script of blank lines).
 */
function headerLines(script: string, language: Language): string[] | undefined {
  const leader = escapeRegExp(COMMENT_LEADERS[language]);
  const marker = (text: string) => new RegExp(`^\\s*${leader}\\s*${escapeRegExp(text)}\\s*$`);
  const [start, end] = [marker(HEADER_START), marker(HEADER_END)];
  const lines = script.split(/\r?\n/);
  const first = lines.findIndex((line) => start.test(line));
  if (first < 0) return undefined;
  const last = lines.findIndex((line, i) => i > first && end.test(line));
  if (last < 0) return undefined;
  return lines.slice(first + 1, last).filter((l) => l.trim() !== "");
}

/** The deps named by the header's `deps:` lines, or undefined when there is no such line. */
function headerDeps(lines: string[], language: Language): string[] | undefined {
  const leader = escapeRegExp(COMMENT_LEADERS[language]);
  const depsLine = new RegExp(`^\\s*${leader}\\s*deps\\s*:(.*)$`, "i");
  let found = false;
  const deps: string[] = [];
  for (const line of lines) {
    const m = depsLine.exec(line);
    if (!m) continue;
    found = true;
    deps.push(...splitDepsLine(m[1] ?? ""));
  }
  return found ? deps : undefined;
}

/** Why a requirement is not pinned, phrased for the model, or undefined when it is. */
function pinningProblem(requirement: string, language: Language): string | undefined {
  if (language !== "typescript") return pinProblem(requirement);
  try {
    parseNpmRequirement(requirement);
    return undefined;
  } catch (error) {
    if (!(error instanceof RequirementError)) throw error;
    return /exact semver/.test(error.reason)
      ? `"${requirement}" does not pin an exact semver version (like 1.2.3)`
      : `"${requirement}" is not pinned as "name==version" (${error.reason})`;
  }
}

function pathOnly(): Record<string, string> {
  const path = Deno.env.get("PATH");
  return path === undefined ? {} : { PATH: path };
}

/** `bash -n`'s complaint about a bash script, or undefined when it parses (or is not bash). */
async function bashSyntaxProblem(
  script: string,
  options: CheckBundleOptions,
): Promise<string | undefined> {
  if (options.language !== "bash") return undefined;
  const dir = await Deno.makeTempDir({ prefix: "capibara_check_" });
  try {
    const file = `${dir}/script.sh`;
    await Deno.writeTextFile(file, script);
    let result;
    try {
      // -n reads the script without running any of it.
      result = await execCommand(
        { program: "bash", args: ["-n", file], env: pathOnly(), cwd: dir },
        { timeoutMs: options.timeoutMs ?? 15_000, maxOutputBytes: 64_000 },
      );
    } catch (err) {
      // No bash: the run itself reports that as a DependencyError.
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
    if (result.timedOut || result.code === 0) return undefined;
    const detail = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/).slice(-5)
      .join("\n").replaceAll(file, "script");
    return detail || `exit code ${result.code}`;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function zodReason(issues: { path: PropertyKey[]; message: string }[]): string {
  return `The reply does not match the reply format: ${issuesText(issues)}`;
}

/**
 * Validates a parsed reply against the generation contract, in order: reply format, language,
 * header block, header deps = requirements, pinned requirements, PEP 723 block (python), the
 * script compiles, it handles `--context`, `--selftest` and `--dry-run`, and the static checks
 * (`staticChecks`) find nothing.
 *
 * @throws {ContractViolation} on the first check that fails.
 */
export async function checkBundle(raw: unknown, expected: CheckBundleOptions): Promise<Bundle> {
  const parsed = Bundle.safeParse(raw);
  if (!parsed.success) throw new ContractViolation(zodReason(parsed.error.issues));
  const bundle = parsed.data;
  const { language } = expected;

  if (bundle.language !== language) {
    throw new ContractViolation(
      `"language" is "${bundle.language}" but a ${language} script was asked for`,
    );
  }

  const leader = COMMENT_LEADERS[language];
  const lines = headerLines(bundle.script, language);
  if (lines === undefined) {
    throw new ContractViolation(
      `The script has no header block: it must contain the lines "${leader} ${HEADER_START}" ` +
        `and "${leader} ${HEADER_END}"`,
    );
  }
  const deps = headerDeps(lines, language);
  if (deps === undefined) {
    throw new ContractViolation(
      `The header block has no "${leader} deps:" line (write "${leader} deps: none" when there ` +
        `are no requirements)`,
    );
  }
  if (!sameSet(deps, bundle.requirements, language)) {
    throw new ContractViolation(
      `The header's deps (${list(deps)}) differ from "requirements" (${
        list(bundle.requirements)
      }): they must be the same pinned packages`,
    );
  }

  if (language === "bash" && bundle.requirements.length > 0) {
    throw new ContractViolation(
      `Bash scripts cannot have requirements (got ${list(bundle.requirements)}): ` +
        `use only common system tools and set "requirements" to []`,
    );
  }
  const unpinned = bundle.requirements
    .map((r) => pinningProblem(r.trim(), language))
    .filter((p): p is string => p !== undefined);
  if (unpinned.length > 0) {
    throw new ContractViolation(
      `Every requirement must be pinned exactly as "name==version": ${unpinned.join("; ")}`,
    );
  }

  if (language === "python") {
    let metadata;
    try {
      metadata = readPep723(bundle.script);
    } catch (error) {
      if (!(error instanceof RequirementError)) throw error;
      throw new ContractViolation(`The PEP 723 block cannot be read: ${error.reason}`);
    }
    const pep723 = metadata?.dependencies;
    if (pep723 === undefined) {
      throw new ContractViolation(
        `The script has no PEP 723 block: add "# /// script", "# dependencies = [...]" and ` +
          `"# ///" lines listing the requirements`,
      );
    }
    if (!sameSet(pep723, bundle.requirements, language)) {
      throw new ContractViolation(
        `The PEP 723 dependencies (${list(pep723)}) differ from "requirements" (${
          list(bundle.requirements)
        })`,
      );
    }
  }

  if (bundle.script.trim() === "") throw new ContractViolation("The script is empty");
  const breaks = reviewTextProblem(bundle.script);
  if (breaks !== undefined) throw new ContractViolation(`The script's ${breaks}`);
  // A need no grant could meet: the rule of grants (one definition), for what a run would ask.
  const unmeetable = [
    ...bundle.needs.network.map((host) => [host, grantProblem("network", host)] as const),
    ...bundle.needs.env.map((name) => [name, grantProblem("env", name)] as const),
  ].filter(([, problem]) => problem !== undefined);
  if (unmeetable.length > 0) {
    throw new ContractViolation(
      `"needs" lists what no grant can allow: ${
        unmeetable.map(([need, problem]) => `${JSON.stringify(need)} (${problem})`).join(", ")
      }; list hosts as "api.example.com" or "host:8443", and variables by their names`,
    );
  }
  // A Python or TypeScript script is parsed (and Python's compiled) by its static analysis, in
  // the sandbox where there is one: a syntax error is said first, as the compiler's.
  const findings = await staticChecks(bundle, {
    python: expected.python,
    timeoutMs: expected.timeoutMs,
    // The user's PATH (and pyenv's variables) find the interpreter; the analysis gets none.
    env: Deno.env.toObject(),
  });
  // Too large to analyse: no parser reads it, bash's either.
  const size = findings.find((f) => f.rule === "script-size");
  if (size) throw new ContractViolation(`The script cannot be checked: ${size.message}`);
  const syntax = findings.find((f) => f.rule === "syntax");
  const problem = syntax
    ? syntax.message.slice(DOES_NOT_PARSE.length)
    : await bashSyntaxProblem(bundle.script, expected);
  if (problem !== undefined) {
    throw new ContractViolation(`The script does not compile: ${problem}`);
  }

  const missing = ["--context", "--selftest", "--dry-run"].filter((f) =>
    !bundle.script.includes(f)
  );
  if (missing.length > 0) {
    throw new ContractViolation(
      `The script does not handle ${missing.join(", ")}: it must accept ` +
        `--context <json | @file.json>, --selftest and --dry-run`,
    );
  }

  if (findings.length > 0) {
    throw new ContractViolation(`static checks failed:\n${formatFindings(findings)}`);
  }
  return bundle;
}
