// Generated from src/cli/_fast_run.ts by scripts/build_js.ts (sha256 e3ca99619887a80c032fb2965f2a6a8f50847320e8de01340f64fe0c2e59e525): do not edit; `deno task build:js` writes it.
export var splitList = (function (value) {
    return value.split(",").map(((v) => v.trim())).filter(((v) => v !== ""));
});
export var parseRunArgs = (function (args) {
    const options = {
        lang: "python",
        allowNet: [],
        allowPrivateNet: [],
        allowRead: [],
        allowWrite: [],
        allowEnv: [],
        sandbox: true,
    };
    const values = options;
    const prompts = [];
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (!arg.startsWith("-") || arg === "-") {
            prompts.push(arg);
            continue;
        }
        const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
        const flag = eq === -1 ? arg : arg.slice(0, eq);
        const option = BY_FLAG.get(flag);
        if (!option)
            return undefined;
        if (option.kind === "flag" || option.kind === "negate") {
            if (eq !== -1)
                return undefined;
            values[option.key] = option.kind === "flag";
            continue;
        }
        let value;
        if (eq !== -1)
            value = arg.slice(eq + 1);
        else {
            const next = args[i + 1];
            if (next === undefined || next.startsWith("-"))
                return undefined;
            value = next;
            i++;
        }
        if (value.trim() === "" || option.key === "select" && splitList(value).length === 0) {
            return undefined;
        }
        if (option.kind === "list") {
            const list = splitList(value);
            if (list.length === 0)
                return undefined;
            values[option.key].push(...list);
        }
        else
            values[option.key] = value;
    }
    if (prompts.length !== 1)
        return undefined;
    if (!LANGUAGES.includes(options.lang))
        return undefined;
    if (options.mode !== undefined && options.mode !== "strict" && options.mode !== "parametric") {
        return undefined;
    }
    return { prompt: prompts[0], options };
});
var mebibytes = (function (text, least) {
    const mib = decimal(text);
    if (!Number.isFinite(mib) || mib < least || mib > MAX_MIB)
        return undefined;
    return Math.round(mib * 1024 ** 2);
});
var checkGrantFlags = (function (opts) {
    for (const [flag, option, kind, hint] of GRANT_FLAGS) {
        for (const value of opts[option]) {
            const problem = grantProblem(kind, value);
            if (problem !== undefined) {
                throw new ValidationError(`Invalid ${flag} ${JSON.stringify(value)}: ${problem}`, {
                    hint,
                    details: { option: flag, value },
                });
            }
        }
    }
});
var decimal = (function (text) {
    return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
});
export var fastRun = (async function (args, options = {}) {
    if (args[0] !== "run")
        return undefined;
    void crypto.subtle.digest("SHA-256", new Uint8Array(0));
    const parsed = parseRunArgs(args.slice(1));
    if (!parsed)
        return undefined;
    const outcome = {};
    const code = await runAction(parsed.prompt, parsed.options, PROCESS_IO, undefined, outcome);
    if (options.startRunner && code === 0 && outcome.cached && parsed.options.sandbox) {
        await (await import("./_runner_start.js")).startOnDemand(PROCESS_IO);
    }
    return code;
});
var samePromptNotes = (async function (cb, prompt, fingerprint, context) {
    const { entries } = await (await cb.store()).list();
    const same = [];
    for (const { manifest: m } of entries) {
        if (m.prompt !== prompt || m.fingerprint === fingerprint)
            continue;
        const other = (m.context ?? {});
        const keys = [...new Set([...Object.keys(context), ...Object.keys(other)])].filter(((k) => JSON.stringify(context[k]) !== JSON.stringify(other[k])));
        same.push({
            fingerprint: m.fingerprint,
            language: m.language,
            differ: terminalSafe(keys.join(", ") || "nothing (another language or mode)"),
        });
    }
    const tail = " (--mode parametric reuses one script across context values)";
    if (same.length === 0)
        return [];
    if (same.length === 1) {
        const [m] = same;
        return [
            `note: ${m.fingerprint} has the same prompt (${m.language}); the context differs in: ` +
                m.differ + tail,
        ];
    }
    const shown = same.slice(0, 3).map(((m) => `${m.fingerprint} (${m.language}; differs in: ${m.differ})`));
    return [
        `note: ${same.length} cached scripts have the same prompt: ${shown.join(", ")}${same.length > 3 ? ", …" : ""}${tail}`,
    ];
});
var timingsAsked = (function (io) {
    try {
        return io.env.CAPIBARA_TIMINGS === "1";
    }
    catch {
        return false;
    }
});
export var runAction = (async function (prompt, opts, io = PROCESS_IO, serving, outcome) {
    const timed = timingsAsked(io);
    if (timed) {
        recordTimings(serving ? performance.now() : 0);
        step(serving
            ? "handed to the runner (no start, no modules)"
            : "the runtime and the modules of a run");
    }
    try {
        return await runRequest(prompt, opts, io, serving, outcome);
    }
    finally {
        if (timed) {
            step("the result printed");
            io.err(formatTimings(timings()));
        }
    }
});
var runRequest = (async function (prompt, opts, io, serving, outcome) {
    const json = opts.json ?? false;
    const reporter = progressReporter({ verbose: opts.verbose ?? false, io });
    using interruption = (serving?.interruption ?? interruptible)();
    handOver();
    try {
        if (opts.force && !opts.refresh) {
            throw new ValidationError("--force goes with --refresh: it lets a refresh overwrite", {
                hint: "Regenerate over a hand edit with --refresh --force; without --refresh the cached " +
                    "script runs as it is",
            });
        }
        const context = await parseContext(opts.context, io);
        let timeout;
        if (opts.timeout !== undefined) {
            timeout = decimal(opts.timeout);
            if (!Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT_SECONDS) {
                throw new ValidationError(`Invalid --timeout "${opts.timeout}"`, {
                    hint: `Give a positive number of seconds up to ${MAX_TIMEOUT_SECONDS}, e.g. --timeout 60`,
                });
            }
        }
        const select = opts.select?.split(",").map(((s) => s.trim())).filter(((s) => s !== ""));
        let memoryBytes;
        if (opts.memory !== undefined) {
            memoryBytes = mebibytes(opts.memory, 16);
            if (memoryBytes === undefined) {
                throw new ValidationError(`Invalid --memory "${opts.memory}"`, {
                    hint: `Give the limit in MiB, from 16 to ${MAX_MIB}, e.g. --memory 4096`,
                });
            }
        }
        let maxOutputDiskBytes;
        if (opts.maxOutput !== undefined) {
            maxOutputDiskBytes = mebibytes(opts.maxOutput, 1);
            if (maxOutputDiskBytes === undefined) {
                throw new ValidationError(`Invalid --max-output "${opts.maxOutput}"`, {
                    hint: `Give the bound in MiB, from 1 to ${MAX_MIB}, e.g. --max-output 4096`,
                });
            }
        }
        checkGrantFlags(opts);
        const env = { ...io.env };
        if (opts.model !== undefined)
            env.CAPIBARA_MODEL = opts.model;
        if (opts.baseUrl !== undefined)
            env.CAPIBARA_BASE_URL = opts.baseUrl;
        const cb = await commandCapibara(opts.root, {
            env,
            cwd: io.cwd,
            prestart: serving?.prestart ?? false,
            maxOutputDiskBytes,
            progress: reporter.progress,
            language: opts.lang,
            mode: opts.mode,
            sandbox: opts.sandbox,
            memoryBytes,
            allow: {
                network: opts.allowNet,
                privateNetwork: opts.allowPrivateNet,
                read: opts.allowRead,
                write: opts.allowWrite,
                env: opts.allowEnv,
            },
        }, io);
        step("arguments, context and the configuration");
        const store = await cb.store();
        const storeExisted = existsSync(store.base);
        const result = await cb.run(prompt, {
            context,
            select,
            refresh: opts.refresh ?? false,
            force: opts.force ?? false,
            dryRun: opts.dryRun ?? false,
            timeout,
            signal: interruption.signal,
            onStderr: reporter.onStderr,
        });
        reporter.done(true);
        if (outcome)
            outcome.cached = result.cached;
        if (interruption.received) {
            io.err(`note: ${interruption.received} came as the run ended: its result stands`);
        }
        if (json) {
            printJson(result, io);
            return 0;
        }
        const how = result.cached ? "cached" : "generated";
        const ran = opts.dryRun ? ", not run: --dry-run" : "";
        io.out(`✓ ${result.fingerprint} (${how}${ran}, ${result.duration_ms} ms)`);
        if (!result.cached) {
            const dir = join(store.scripts, result.fingerprint);
            if (!storeExisted) {
                const where = (await exists(join(store.root, ".git")))
                    ? "at the git root"
                    : "in the current folder: no git repository here (--root chooses another)";
                io.out(`created the store ${terminalSafe(store.base)} ${where}`);
            }
            io.out(`stored in ${terminalSafe(relative(io.cwd, dir) || dir)}/`);
            io.out(`review it (capibara show ${result.fingerprint} --script) and commit it: it runs ` +
                "on every matching request");
            for (const note of await samePromptNotes(cb, prompt, result.fingerprint, context)) {
                io.out(note);
            }
        }
        const entries = Object.entries(result.output);
        if (entries.length > 0) {
            io.out("output:");
            for (const [key, value] of entries) {
                io.out(`  ${terminalSafe(key)}: ${formatValue(value)}`);
            }
        }
        if (result.artifacts.length > 0) {
            io.out("artifacts:");
            for (const artifact of result.artifacts)
                io.out(`  ${terminalSafe(artifact)}`);
        }
        if (result.missing)
            io.out(`missing: ${terminalSafe(result.missing.join(", "))}`);
    }
    catch (error) {
        reporter.done(false);
        if (interruption.received) {
            return reportInterrupted(interruption.received, reporter.step, json, io);
        }
        const code = reportError(error, json, io, { root: opts.root });
        const reply = error instanceof TemplateError ? error.details?.reply : undefined;
        if (opts.verbose && !json && typeof reply === "string" && reply !== "") {
            io.err("the model's last reply (start):");
            io.err("  │ " + terminalSafe(reply, { multiline: true }).split("\n").join("\n  │ "));
        }
        return code;
    }
    return 0;
});
import { join, relative } from "../_path.js";
import { exists, existsSync } from "../_fs.js";
import { formatTimings, recordTimings, step, timings } from "../_timings.js";
import { TemplateError, ValidationError } from "../errors.js";
import { handOver } from "../run/remembered.js";
import { grantProblem } from "../sandbox/policy.js";
import { HOST_RULE_HINT } from "../sandbox/host_rules.js";
import { LANGUAGES, MAX_TIMEOUT_SECONDS } from "../types.js";
import { commandCapibara, formatValue, interruptible, parseContext, printJson, PROCESS_IO, progressReporter, reportError, reportInterrupted, terminalSafe, } from "./output.js";
export const RUN_OPTIONS = [
    { flags: ["-c", "--context"], key: "context", kind: "value" },
    { flags: ["-s", "--select"], key: "select", kind: "value" },
    { flags: ["--refresh"], key: "refresh", kind: "flag" },
    { flags: ["--force"], key: "force", kind: "flag" },
    { flags: ["--dry-run"], key: "dryRun", kind: "flag" },
    { flags: ["--timeout"], key: "timeout", kind: "value" },
    { flags: ["--lang"], key: "lang", kind: "value" },
    { flags: ["--mode"], key: "mode", kind: "value" },
    { flags: ["-m", "--model"], key: "model", kind: "value" },
    { flags: ["--base-url"], key: "baseUrl", kind: "value" },
    { flags: ["-v", "--verbose"], key: "verbose", kind: "flag" },
    { flags: ["--allow-net"], key: "allowNet", kind: "list" },
    { flags: ["--allow-private-net"], key: "allowPrivateNet", kind: "list" },
    { flags: ["--allow-read"], key: "allowRead", kind: "list" },
    { flags: ["--allow-write"], key: "allowWrite", kind: "list" },
    { flags: ["--allow-env"], key: "allowEnv", kind: "list" },
    { flags: ["--no-sandbox"], key: "sandbox", kind: "negate" },
    { flags: ["--memory"], key: "memory", kind: "value" },
    { flags: ["--max-output"], key: "maxOutput", kind: "value" },
    { flags: ["--root"], key: "root", kind: "value" },
    { flags: ["--json"], key: "json", kind: "flag" },
];
const BY_FLAG = new Map(RUN_OPTIONS.flatMap(((option) => option.flags.map(((f) => [f, option])))));
;
;
const MAX_MIB = Math.floor(Number.MAX_SAFE_INTEGER / 1024 ** 2);
;
const PATH_HINT = "Give a path, relative to the working directory or absolute";
const GRANT_FLAGS = [
    ["--allow-net", "allowNet", "network", HOST_RULE_HINT],
    [
        "--allow-private-net",
        "allowPrivateNet",
        "privateNetwork",
        "Name one host exactly, e.g. --allow-private-net 10.0.0.5:5432 or --allow-private-net " +
            "localhost:8080",
    ],
    ["--allow-env", "allowEnv", "env", "Name variables exactly, e.g. --allow-env API_TOKEN"],
    ["--allow-read", "allowRead", "read", PATH_HINT],
    ["--allow-write", "allowWrite", "write", PATH_HINT],
];
;
;
;
;
;
;
;
