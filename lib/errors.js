// Generated from src/errors.ts by scripts/build_js.ts (sha256 b8c06bb4fd1f1b50ebde4bc70402b7124c22a43bee553e4b1ef98eb04d7d1408): do not edit; `deno task build:js` writes it.
export var tail = (function (text, max = 2000) {
    const trimmed = text.trimEnd();
    return trimmed.length <= max ? trimmed : "…" + trimmed.slice(trimmed.length - max);
});
export var sdkHint = (function (hint) {
    let out = hint.replace(GRANT_RUN, ((run) => {
        const allow = new Map();
        for (const [, flag = "", value = ""] of run.matchAll(/--allow-([a-z-]+)[ =](\S+)/g)) {
            const key = GRANT_KEYS[flag] ?? flag;
            const values = allow.get(key);
            if (values)
                values.push(value);
            else
                allow.set(key, [value]);
        }
        const fields = [...allow].map((([key, values]) => `${key}: [${values.map(((v) => JSON.stringify(v))).join(", ")}]`));
        return `allow: { ${fields.join(", ")} } to run()`;
    }));
    for (const [pattern, replacement] of SDK_TERMS)
        out = out.replace(pattern, replacement);
    return out;
});
export var systemError = (function (error) {
    const code = error?.code;
    if (typeof code !== "string" || !(error instanceof Error))
        return undefined;
    const options = ((hint) => ({ hint, cause: error, details: { code } }));
    switch (code) {
        case "ENOSPC":
        case "EDQUOT":
            return new ExecError(`No space left: ${error.message}`, options("Free some space (the project's folder, the cache folder, the temp folder) and run " +
                "again: nothing was stored half-written"));
        case "EROFS":
            return new PermissionError(`A file system is read-only: ${error.message}`, options("Run where the project, the cache folder and the temp folder can be written"));
        case "EMFILE":
        case "ENFILE":
            return new ExecError(`Too many open files: ${error.message}`, options("Raise the limit of open files (ulimit -n), or run fewer commands at once"));
        default:
            return undefined;
    }
});
export var forAudience = (function (error, audience) {
    if (audience === "sdk" && error instanceof CapibaraError && error.hint !== "") {
        error.hint = sdkHint(error.hint);
    }
    return error;
});
export const EXIT_CODES = {
    ValidationError: 2,
    DependencyError: 3,
    NetworkError: 4,
    ExecError: 5,
    TemplateError: 6,
    PermissionError: 7,
    IntegrityError: 8,
};
export class CapibaraError extends Error {
    hint;
    details;
    constructor(message, options = {}) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        this.hint = options.hint ?? "";
        this.details = options.details;
    }
    get exitCode() {
        return EXIT_CODES[this.type];
    }
    toJSON() {
        return {
            type: this.type,
            message: this.message,
            hint: this.hint,
            exit_code: this.exitCode,
            ...(this.details ? { details: this.details } : {}),
        };
    }
}
export class ValidationError extends CapibaraError {
    type = "ValidationError";
    name = "ValidationError";
}
export class DependencyError extends CapibaraError {
    type = "DependencyError";
    name = "DependencyError";
}
export class NetworkError extends CapibaraError {
    type = "NetworkError";
    name = "NetworkError";
}
export class ExecError extends CapibaraError {
    type = "ExecError";
    name = "ExecError";
}
export class TemplateError extends CapibaraError {
    type = "TemplateError";
    name = "TemplateError";
}
export class PermissionError extends CapibaraError {
    type = "PermissionError";
    name = "PermissionError";
}
export class IntegrityError extends CapibaraError {
    type = "IntegrityError";
    name = "IntegrityError";
}
;
const GRANT_KEYS = {
    net: "network",
    "private-net": "privateNetwork",
    env: "env",
    read: "read",
    write: "write",
};
const GRANT_RUN = /--allow-(?:private-net|net|env|read|write)[ =](?![-/|](?:\s|$))[^\s,;)]+(?:\s+--allow-(?:private-net|net|env|read|write)[ =](?![-/|](?:\s|$))[^\s,;)]+)*/g;
const SDK_TERMS = [
    [/capibara run --refresh --force/g, "run(prompt, { refresh: true, force: true })"],
    [/capibara run --refresh/g, "run(prompt, { refresh: true })"],
    [/--refresh --force/g, "{ refresh: true, force: true }"],
    [/--refresh/g, "{ refresh: true }"],
    [/--no-sandbox/g, "sandbox: false"],
    [/--timeout <seconds>/g, "the timeout option (seconds)"],
    [/--memory <MiB>/g, "the memoryBytes option"],
    [/--max-output <MiB>/g, "the maxOutputDiskBytes option"],
    [/capibara run ("[^"]*")/g, "run($1)"],
    [/ \(run --base-url for once\)/g, " (or pass a generator to new Capibara())"],
    [/, generator\.model or --model picks/g, " or generator.model picks"],
    [/(in|name another in) --context/g, "$1 the context option"],
];
;
;
;
