// Generated from src/cli/output.ts by scripts/build_js.ts (sha256 1aafe605f13078be250bf714f5043ff397de7518c5a745a8cb2d9233f063e49a): do not edit; `deno task build:js` writes it.
var contextTooLarge = (function (what) {
    return new ValidationError(`The context in ${what} is larger than ${MAX_CONTEXT_MIB} MiB`, {
        hint: "Pass the data as a file the script reads (its path in the context), not in it",
    });
});
export var terminalSafe = (function (text, options = {}) {
    const unsafe = options.multiline ? UNSAFE_MULTILINE : UNSAFE_LINE;
    return text.replace(unsafe, ((c) => {
        if (c === "\r\n")
            return "\n";
        return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }));
});
export var printJson = (function (value, io = PROCESS_IO) {
    io.out(terminalSafe(JSON.stringify(value, null, 2), { multiline: true }));
});
export var printWarning = (function (message, io = PROCESS_IO) {
    io.err(quoted(message));
});
var quoted = (function (text) {
    return terminalSafe(text, { multiline: true }).split("\n").join("\n  ");
});
export var reportError = (function (error, json, io = PROCESS_IO, options = {}) {
    error = systemError(error) ?? error;
    if (error instanceof CapibaraError && options.root !== undefined) {
        error.hint = withRoot(error.hint, options.root);
    }
    if (!(error instanceof CapibaraError)) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        const hint = "this is a bug in Capibara; please report it with the command you ran";
        if (json) {
            printJson({ error: { type: "InternalError", message: String(error), hint, exit_code: 1 } }, io);
        }
        else {
            io.err(`error[InternalError]: ${quoted(message)}`);
            io.err(`hint: ${hint}`);
        }
        return 1;
    }
    if (json) {
        printJson({ error: error.toJSON() }, io);
    }
    else {
        io.err(`error[${error.type}]: ${quoted(error.message)}`);
        if (error.hint)
            io.err(`hint: ${quoted(error.hint)}`);
    }
    return error.exitCode;
});
export var withRoot = (function (hint, root) {
    if (!STORE_COMMANDS.test(hint))
        return hint;
    return `${hint} (give each capibara command here --root ${shellWord(root)}, as this one had)`;
});
export var interruptible = (function () {
    const controller = new AbortController();
    let received;
    const handlers = [];
    for (const name of Object.keys(SIGNAL_EXIT_CODES)) {
        const handler = (() => {
            if (received)
                Deno.exit(SIGNAL_EXIT_CODES[name]);
            received = name;
            controller.abort(new DOMException(`Interrupted by ${name}`, "AbortError"));
        });
        try {
            Deno.addSignalListener(name, handler);
            handlers.push([name, handler]);
        }
        catch {
        }
    }
    return {
        signal: controller.signal,
        get received() {
            return received;
        },
        [Symbol.dispose]() {
            for (const [name, handler] of handlers)
                Deno.removeSignalListener(name, handler);
        },
    };
});
export var reportInterrupted = (function (received, step, json, io = PROCESS_IO) {
    const exitCode = SIGNAL_EXIT_CODES[received];
    const message = `Interrupted by ${received}${step ? ` while: ${step}` : ""}`;
    const hint = /generat|Asking the Core/i.test(step)
        ? "Nothing was stored: the script being generated was dropped"
        : /^(signing|re-keying|pushing)/.test(step)
            ? "Each entry is done whole or not at all: what was done stays, the rest is unchanged; " +
                "run the command again to finish"
            : "The script and its processes were stopped, and the run's temporary folders, sandbox " +
                "state and cgroups removed";
    if (json) {
        printJson({ error: { type: "Interrupted", message, hint, exit_code: exitCode } }, io);
    }
    else {
        io.err(`interrupted: ${terminalSafe(message)}`);
        io.err(`hint: ${hint}`);
    }
    return exitCode;
});
var seconds = (function (since) {
    return `${((performance.now() - since) / 1000).toFixed(1)}s`;
});
export var progressReporter = (function (options = {}) {
    const started = performance.now();
    const io = options.io ?? PROCESS_IO;
    let step = "";
    if (options.verbose) {
        const dim = io.errIsTerminal && !io.env.NO_COLOR;
        const decoder = new TextDecoder();
        let partial = "";
        const line = ((text) => io.err(dim ? `\x1b[2m  │ ${text}\x1b[22m` : `  │ ${text}`));
        return {
            progress(text) {
                step = text;
                io.err(`· ${terminalSafe(text)} (${seconds(started)})`);
            },
            onStderr(chunk) {
                const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
                partial = lines.pop() ?? "";
                for (const l of lines)
                    line(terminalSafe(l));
                while (partial.length > VERBOSE_LINE_MAX) {
                    line(terminalSafe(partial.slice(0, VERBOSE_LINE_MAX)));
                    partial = partial.slice(VERBOSE_LINE_MAX);
                }
            },
            done() {
                if (partial !== "")
                    line(terminalSafe(partial));
                partial = "";
            },
            get step() {
                return step;
            },
        };
    }
    if (io !== PROCESS_IO || !io.errIsTerminal || !(terminalColumns() > 0)) {
        return {
            progress: ((text) => {
                step = text;
            }),
            done: (() => { }),
            get step() {
                return step;
            },
        };
    }
    let spinner;
    let pending = "";
    let stepStarted = started;
    let ticker;
    let loading;
    const text = (() => `${pending} (${seconds(stepStarted)})`);
    return {
        get step() {
            return step;
        },
        progress(message) {
            step = message;
            pending = terminalSafe(message);
            stepStarted = performance.now();
            if (spinner) {
                spinner.update({ text: text() });
                return;
            }
            loading ??= Promise.all([import("npm:nanospinner@^1.2.2"), import("node:process")]).then((([{ createSpinner }, { default: process }]) => {
                const signals = ["SIGINT", "SIGTERM"];
                const before = signals.map(((name) => new Set(process.listeners(name))));
                spinner = createSpinner(text()).start();
                signals.forEach(((name, i) => {
                    for (const listener of process.listeners(name)) {
                        if (!before[i].has(listener))
                            process.off(name, listener);
                    }
                }));
                ticker = setInterval((() => spinner?.update({ text: text() })), 1000);
            }));
        },
        done(ok) {
            if (ticker !== undefined)
                clearInterval(ticker);
            if (!spinner)
                return;
            if (ok)
                spinner.clear();
            else
                spinner.stop();
            spinner = undefined;
        },
    };
});
var terminalColumns = (function () {
    try {
        return Deno.consoleSize().columns;
    }
    catch {
        return 0;
    }
});
export var commandCapibara = (async function (root, options = {}, io = PROCESS_IO) {
    if (root !== undefined) {
        let isDirectory = false;
        try {
            isDirectory = (await Deno.stat(resolve(io.cwd, root))).isDirectory;
        }
        catch {
        }
        if (!isDirectory) {
            throw new ValidationError(`Cannot use --root "${root}": it is not a directory`, {
                hint: "Pass the project's folder, the one that holds (or will hold) .capibara/",
            });
        }
    }
    return new Capibara({
        warn: ((message) => printWarning(message, io)),
        ...options,
        root: root === undefined ? undefined : resolve(io.cwd, root),
        hints: "cli",
    });
});
export var parseContext = (async function (value, io = PROCESS_IO) {
    if (value === undefined)
        return {};
    let text = value;
    let where = "--context";
    if (value === "@-") {
        where = "standard input";
        text = await io.stdin();
        if (text.length > MAX_CONTEXT_MIB * 1024 ** 2)
            throw contextTooLarge(where);
    }
    else if (value.startsWith("@")) {
        where = value.slice(1);
        const path = resolve(io.cwd, where);
        try {
            const info = Deno.statSync(path);
            if (!info.isFile)
                throw new Error("it is not a regular file");
            if (info.size > MAX_CONTEXT_MIB * 1024 ** 2)
                throw contextTooLarge(where);
            text = await Deno.readTextFile(path);
        }
        catch (error) {
            if (error instanceof ValidationError)
                throw error;
            throw new ValidationError(`Cannot read context file "${where}": ${error.message}`, {
                hint: "Pass --context @path/to/context.json with an existing file, or inline JSON",
            });
        }
    }
    let parsed;
    let inexact;
    try {
        parsed = JSON.parse(text, (function (_key, number, context) {
            const source = context?.source;
            if (inexact === undefined && typeof number === "number" && source !== undefined &&
                (!Number.isFinite(number) || (/^-?\d+$/.test(source) && !Number.isSafeInteger(number))))
                inexact = source;
            return number;
        }));
    }
    catch (error) {
        const looksLikeFile = where === "--context" && /^[^{[\s"][^\s]*\.json$/i.test(value.trim());
        throw new ValidationError(`Invalid JSON in ${where}: ${error.message}`, {
            hint: looksLikeFile
                ? `To read the context from a file, prefix it with @: --context @${value.trim()}`
                : `Quote the JSON for your shell, e.g. --context '{"input": "data.csv"}', or read it ` +
                    "from a file with --context @context.json (@- for standard input)",
        });
    }
    if (inexact !== undefined) {
        const shown = inexact.length > 40 ? `${inexact.slice(0, 40)}…` : inexact;
        throw new ValidationError(`The context in ${where} holds the number ${shown}, which a JSON number cannot hold ` +
            `exactly: the script would get ${Number(inexact)}, and another number alike would share ` +
            "its cached script", { hint: `Pass it as a string: "${shown}"` });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new ValidationError(`The context in ${where} must be a JSON object`, {
            hint: `Wrap values in an object, e.g. --context '{"inputs": ["a.mp4", "b.mp4"]}'`,
        });
    }
    return parsed;
});
export var formatValue = (function (value) {
    let text;
    if (typeof value === "string")
        text = value;
    else if (value === null || typeof value !== "object")
        text = String(value);
    else
        text = JSON.stringify(value, null, 2);
    return terminalSafe(text, { multiline: true }).split("\n").join("\n    ");
});
import { resolve } from "../_path.js";
import { shellWord } from "../readme.js";
import { readBounded, TooLarge } from "../_body.js";
import { Capibara } from "../capibara.js";
import { CapibaraError, systemError, ValidationError } from "../errors.js";
const MAX_CONTEXT_MIB = 64;
const STDIN_MAX = MAX_CONTEXT_MIB * 1024 ** 2;
;
export const PROCESS_IO = {
    out: ((line) => console.log(line)),
    err: ((line) => console.error(line)),
    get errIsTerminal() {
        return Deno.stderr.isTerminal();
    },
    get env() {
        return Deno.env.toObject();
    },
    get cwd() {
        return Deno.cwd();
    },
    stdin: (async () => new TextDecoder().decode(await readBounded(new Response(Deno.stdin.readable), STDIN_MAX).catch(((error) => {
        if (error instanceof TooLarge)
            throw contextTooLarge("standard input");
        throw new ValidationError(`Cannot read the context from standard input: ${error.message}`, { hint: "Pipe the JSON in (echo '{\"n\": 1}' | capibara run … --context @-)" });
    })))),
};
const UNSAFE = "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069";
const UNSAFE_MULTILINE = new RegExp(`\\r\\n|[${UNSAFE}]`, "g");
const UNSAFE_LINE = new RegExp(`[\\n\\t${UNSAFE}]`, "g");
const SHORT = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
;
;
;
;
;
const STORE_COMMANDS = /\bcapibara (run|list|show|verify|accept|clear|sign|trust|rekey|push)\b/;
;
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 };
;
;
;
const VERBOSE_LINE_MAX = 4096;
;
;
export const ROOT_HELP = "project root holding .capibara/ (default: the git root, else the current " +
    "directory)";
;
;
;
