// Generated from src/contract/bundle.ts by scripts/build_js.ts (sha256 18a92a3893a9fea5dc3ba358e4b8514bd0966fc9cf68df586177ecacc463432c): do not edit; `deno task build:js` writes it.
var tryParse = (function (text) {
    try {
        return { ok: true, value: JSON.parse(text) };
    }
    catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
});
var firstObject = (function (text, from = 0) {
    const start = text.indexOf("{", from);
    if (start < 0)
        return undefined;
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (ch === "\\")
                escaped = true;
            else if (ch === '"')
                inString = false;
            continue;
        }
        if (ch === '"')
            inString = true;
        else if (ch === "{")
            depth++;
        else if (ch === "}" && --depth === 0)
            return { text: text.slice(start, i + 1), end: i + 1 };
    }
    return undefined;
});
export var extractJson = (function (content) {
    const text = content.trim();
    if (text === "")
        throw new Error("The reply is empty: expected one JSON object");
    const whole = tryParse(text);
    if (whole.ok)
        return whole.value;
    const fences = [...text.matchAll(/```[ \t]*(?:json|JSON|jsonc)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/g)];
    for (const fence of fences) {
        const parsed = tryParse((fence[1] ?? "").trim());
        if (parsed.ok)
            return parsed.value;
    }
    let from = 0;
    for (;;) {
        const candidate = firstObject(text, from);
        if (candidate === undefined)
            break;
        const parsed = tryParse(candidate.text);
        if (parsed.ok)
            return parsed.value;
        from = candidate.end;
    }
    const excerpt = text.length > 80 ? text.slice(0, 80) + "…" : text;
    if (!text.includes("{")) {
        throw new Error(`The reply contains no JSON object: it starts with ${JSON.stringify(excerpt)}`);
    }
    throw new Error(`The reply is not valid JSON: ${whole.error}; it starts with ${JSON.stringify(excerpt)}`);
});
var requirementKey = (function (requirement, language) {
    try {
        if (language === "python")
            return normaliseRequirement(requirement);
        if (language === "typescript")
            return serialiseNpm(parseNpmRequirement(requirement));
    }
    catch (error) {
        if (!(error instanceof RequirementError))
            throw error;
    }
    return `\0${requirement.trim()}`;
});
var sameSet = (function (a, b, language) {
    const left = new Set(a.map(((r) => requirementKey(r, language))));
    const right = new Set(b.map(((r) => requirementKey(r, language))));
    return left.size === right.size && [...left].every(((k) => right.has(k)));
});
var list = (function (items) {
    return items.length === 0 ? "none" : items.join(", ");
});
var escapeRegExp = (function (text) {
    return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
});
var headerLines = (function (script, language) {
    const leader = escapeRegExp(COMMENT_LEADERS[language]);
    const marker = ((text) => new RegExp(`^\\s*${leader}\\s*${escapeRegExp(text)}\\s*$`));
    const [start, end] = [marker(HEADER_START), marker(HEADER_END)];
    const lines = script.split(/\r?\n/);
    const first = lines.findIndex(((line) => start.test(line)));
    if (first < 0)
        return undefined;
    const last = lines.findIndex(((line, i) => i > first && end.test(line)));
    if (last < 0)
        return undefined;
    return lines.slice(first + 1, last).filter(((l) => l.trim() !== ""));
});
var headerDeps = (function (lines, language) {
    const leader = escapeRegExp(COMMENT_LEADERS[language]);
    const depsLine = new RegExp(`^\\s*${leader}\\s*deps\\s*:(.*)$`, "i");
    let found = false;
    const deps = [];
    for (const line of lines) {
        const m = depsLine.exec(line);
        if (!m)
            continue;
        found = true;
        deps.push(...splitDepsLine(m[1] ?? ""));
    }
    return found ? deps : undefined;
});
var pinningProblem = (function (requirement, language) {
    if (language !== "typescript")
        return pinProblem(requirement);
    try {
        parseNpmRequirement(requirement);
        return undefined;
    }
    catch (error) {
        if (!(error instanceof RequirementError))
            throw error;
        return /exact semver/.test(error.reason)
            ? `"${requirement}" does not pin an exact semver version (like 1.2.3)`
            : `"${requirement}" is not pinned as "name==version" (${error.reason})`;
    }
});
var pathOnly = (function () {
    const path = Deno.env.get("PATH");
    return path === undefined ? {} : { PATH: path };
});
var bashSyntaxProblem = (async function (script, options) {
    if (options.language !== "bash")
        return undefined;
    const dir = await Deno.makeTempDir({ prefix: "capibara_check_" });
    try {
        const file = `${dir}/script.sh`;
        await Deno.writeTextFile(file, script);
        let result;
        try {
            result = await execCommand({ program: "bash", args: ["-n", file], env: pathOnly(), cwd: dir }, { timeoutMs: options.timeoutMs ?? 15_000, maxOutputBytes: 64_000 });
        }
        catch (err) {
            if (err instanceof Deno.errors.NotFound)
                return undefined;
            throw err;
        }
        if (result.timedOut || result.code === 0)
            return undefined;
        const detail = (result.stderr.trim() || result.stdout.trim()).split(/\r?\n/).slice(-5)
            .join("\n").replaceAll(file, "script");
        return detail || `exit code ${result.code}`;
    }
    finally {
        await Deno.remove(dir, { recursive: true }).catch((() => { }));
    }
});
var zodReason = (function (issues) {
    return `The reply does not match the reply format: ${issuesText(issues)}`;
});
export var checkBundle = (async function (raw, expected) {
    const parsed = Bundle.safeParse(raw);
    if (!parsed.success)
        throw new ContractViolation(zodReason(parsed.error.issues));
    const bundle = parsed.data;
    const { language } = expected;
    if (bundle.language !== language) {
        throw new ContractViolation(`"language" is "${bundle.language}" but a ${language} script was asked for`);
    }
    const leader = COMMENT_LEADERS[language];
    const lines = headerLines(bundle.script, language);
    if (lines === undefined) {
        throw new ContractViolation(`The script has no header block: it must contain the lines "${leader} ${HEADER_START}" ` +
            `and "${leader} ${HEADER_END}"`);
    }
    const deps = headerDeps(lines, language);
    if (deps === undefined) {
        throw new ContractViolation(`The header block has no "${leader} deps:" line (write "${leader} deps: none" when there ` +
            `are no requirements)`);
    }
    if (!sameSet(deps, bundle.requirements, language)) {
        throw new ContractViolation(`The header's deps (${list(deps)}) differ from "requirements" (${list(bundle.requirements)}): they must be the same pinned packages`);
    }
    if (language === "bash" && bundle.requirements.length > 0) {
        throw new ContractViolation(`Bash scripts cannot have requirements (got ${list(bundle.requirements)}): ` +
            `use only common system tools and set "requirements" to []`);
    }
    const unpinned = bundle.requirements
        .map(((r) => pinningProblem(r.trim(), language)))
        .filter(((p) => p !== undefined));
    if (unpinned.length > 0) {
        throw new ContractViolation(`Every requirement must be pinned exactly as "name==version": ${unpinned.join("; ")}`);
    }
    if (language === "python") {
        let metadata;
        try {
            metadata = readPep723(bundle.script);
        }
        catch (error) {
            if (!(error instanceof RequirementError))
                throw error;
            throw new ContractViolation(`The PEP 723 block cannot be read: ${error.reason}`);
        }
        const pep723 = metadata?.dependencies;
        if (pep723 === undefined) {
            throw new ContractViolation(`The script has no PEP 723 block: add "# /// script", "# dependencies = [...]" and ` +
                `"# ///" lines listing the requirements`);
        }
        if (!sameSet(pep723, bundle.requirements, language)) {
            throw new ContractViolation(`The PEP 723 dependencies (${list(pep723)}) differ from "requirements" (${list(bundle.requirements)})`);
        }
    }
    if (bundle.script.trim() === "")
        throw new ContractViolation("The script is empty");
    const breaks = reviewTextProblem(bundle.script);
    if (breaks !== undefined)
        throw new ContractViolation(`The script's ${breaks}`);
    const unmeetable = [
        ...bundle.needs.network.map(((host) => [host, grantProblem("network", host)])),
        ...bundle.needs.env.map(((name) => [name, grantProblem("env", name)])),
    ].filter((([, problem]) => problem !== undefined));
    if (unmeetable.length > 0) {
        throw new ContractViolation(`"needs" lists what no grant can allow: ${unmeetable.map((([need, problem]) => `${JSON.stringify(need)} (${problem})`)).join(", ")}; list hosts as "api.example.com" or "host:8443", and variables by their names`);
    }
    const findings = await staticChecks(bundle, {
        python: expected.python,
        timeoutMs: expected.timeoutMs,
        env: Deno.env.toObject(),
    });
    const size = findings.find(((f) => f.rule === "script-size"));
    if (size)
        throw new ContractViolation(`The script cannot be checked: ${size.message}`);
    const syntax = findings.find(((f) => f.rule === "syntax"));
    const problem = syntax
        ? syntax.message.slice(DOES_NOT_PARSE.length)
        : await bashSyntaxProblem(bundle.script, expected);
    if (problem !== undefined) {
        throw new ContractViolation(`The script does not compile: ${problem}`);
    }
    const missing = ["--context", "--selftest", "--dry-run"].filter(((f) => !bundle.script.includes(f)));
    if (missing.length > 0) {
        throw new ContractViolation(`The script does not handle ${missing.join(", ")}: it must accept ` +
            `--context <json | @file.json>, --selftest and --dry-run`);
    }
    if (findings.length > 0) {
        throw new ContractViolation(`static checks failed:\n${formatFindings(findings)}`);
    }
    return bundle;
});
import { issuesText } from "../_shape.js";
import { Bundle } from "../schema.js";
import { execCommand } from "../exec.js";
import { COMMENT_LEADERS, HEADER_END, HEADER_START, reviewTextProblem } from "./contract.js";
import { DOES_NOT_PARSE, formatFindings, staticChecks } from "./checks/mod.js";
import { normaliseRequirement, parseNpmRequirement, pinProblem, RequirementError, serialiseNpm, splitDepsLine, } from "./requirements.js";
import { readPep723 } from "./pep723.js";
import { grantProblem } from "../sandbox/policy.js";
export class ContractViolation extends Error {
    name = "ContractViolation";
    reason;
    constructor(reason, options) {
        super(reason, options);
        this.reason = reason;
    }
}
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
