// Generated from src/contract/checks/mod.ts by scripts/build_js.ts (sha256 1b58aa8b170fadc9a487acef8df83cb63a7d7b73d68df133f06b9b04d9d2b9d2): do not edit; `deno task build:js` writes it.
export var staticChecks = (async function (bundle, options = {}) {
    const findings = [];
    const ctx = {
        script: bundle.script,
        requirements: bundle.requirements,
        network: bundle.needs.network.length > 0,
        env: new Set(bundle.needs.env),
        add: ((rule, message, line) => findings.push({ rule, message, ...(line === undefined ? {} : { line }), severity: "error" })),
    };
    const env = options.env ?? {};
    const timeoutMs = options.timeoutMs ?? 15_000;
    const bytes = new TextEncoder().encode(bundle.script).length;
    if (bytes > MAX_SCRIPT_BYTES) {
        ctx.add("script-size", `the script is ${Math.ceil(bytes / 1024)} KiB, more than the ${MAX_SCRIPT_BYTES / 1024} KiB a script may be: write a shorter one`);
        return findings;
    }
    if (bundle.language === "python") {
        await checkPython(ctx, {
            python: options.python ?? "python3",
            timeoutMs,
            env,
            backend: options.sandbox === undefined ? platformBackend() : options.sandbox ?? undefined,
        });
    }
    else if (bundle.language === "typescript") {
        await checkTypeScript(ctx, { deno: options.deno, timeoutMs, env });
    }
    else {
        checkBash(ctx);
    }
    checkSecrets(ctx);
    return dedupe(findings);
});
export var formatFindings = (function (findings) {
    const lines = findings.slice(0, MAX_LISTED).map(((f) => f.line === undefined ? f.message : `line ${f.line}: ${f.message}`));
    if (findings.length > MAX_LISTED) {
        lines.push(`… and ${findings.length - MAX_LISTED} more findings`);
    }
    return lines.join("\n");
});
import { platformBackend } from "../../sandbox/mod.js";
import { checkSecrets, dedupe } from "./_common.js";
import { checkBash } from "./bash.js";
import { checkPython } from "./python.js";
import { checkTypeScript } from "./typescript.js";
export { DOES_NOT_PARSE } from "./_common.js";
export const MAX_SCRIPT_BYTES = 512 * 1024;
;
const MAX_LISTED = 30;
;
