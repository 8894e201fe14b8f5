// Generated from src/config.ts by scripts/build_js.ts (sha256 e2c625fbb3221a956d4010f48fa2716ccf4a8f129970edb8b1318eca65bf9d86): do not edit; `deno task build:js` writes it.
export var discoversModel = (function (settings) {
    return !settings.modelSet && settings.baseUrl !== OPENAI_BASE_URL;
});
var pick = (function (...values) {
    return values.map(((v) => v?.trim())).find(((v) => v !== undefined && v !== ""));
});
var invalid = (function (what, value, hint, why) {
    let shown;
    try {
        shown = typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
    }
    catch {
        shown = String(value);
    }
    return new ValidationError(`Invalid option ${what}: ${shown}${why ? ` (${why})` : ""}`, {
        hint,
        details: { option: what },
    });
});
export var checkTimeout = (function (value, where = "timeout") {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 ||
        value > MAX_TIMEOUT_SECONDS) {
        throw invalid(where, value, `Pass the time limit in seconds as a positive number up to ${MAX_TIMEOUT_SECONDS}, ` +
            `e.g. { ${where}: 60 }`);
    }
    return value;
});
export var checkLanguage = (function (value, where = "language") {
    if (typeof value !== "string" || !LANGUAGES.includes(value)) {
        throw invalid(where, value, `Pass one of ${LANGUAGES.map(((l) => `"${l}"`)).join(", ")}`);
    }
    return value;
});
var checkMode = (function (value) {
    if (value !== "strict" && value !== "parametric") {
        throw invalid("mode", value, 'Pass "strict" or "parametric"');
    }
    return value;
});
var checkMemory = (function (value) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < MIN_MEMORY_BYTES) {
        throw invalid("memoryBytes", value, `Pass the limit in bytes as an integer of at least ${MIN_MEMORY_BYTES} (16 MiB), ` +
            "e.g. { memoryBytes: 4 * 1024 ** 3 }");
    }
    return value;
});
var checkCount = (function (value, what, example) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
        throw invalid(what, value, `Pass a positive integer, e.g. { ${what}: ${example} }`);
    }
    return value;
});
var checkProcesses = (function (value) {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
        throw invalid("maxProcesses", value, "Pass a positive integer, e.g. { maxProcesses: 64 }");
    }
    return value;
});
export var checkGrants = (function (value, where = "allow") {
    if (value === undefined)
        return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw invalid(where, value, `Pass an object such as { ${where}: { network: ["api.example.com"], env: ["API_TOKEN"] } }`);
    }
    const known = ["network", "privateNetwork", "env", "read", "write"];
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            throw invalid(`${where}.${key}`, value[key], `Grants are ${known.join(", ")}`);
        }
    }
    const grants = value;
    const out = {};
    for (const key of known) {
        const list = grants[key];
        if (list === undefined)
            continue;
        if (!Array.isArray(list)) {
            throw invalid(`${where}.${key}`, list, `Pass a list of strings, e.g. { ${key}: [...] }`);
        }
        for (const entry of list) {
            const problem = grantProblem(key, entry);
            if (problem === undefined)
                continue;
            const hint = key === "network"
                ? 'Grant hosts as "api.example.com", "*.example.com" or "host:8443" (no scheme or path)'
                : key === "privateNetwork"
                    ? 'Grant one host exactly, e.g. "10.0.0.5:5432" or "localhost:8080"'
                    : key === "env"
                        ? 'Grant environment variables by their exact names, e.g. "API_TOKEN"'
                        : "Grant paths as non-empty strings, relative to the working directory or absolute";
            throw invalid(`${where}.${key}`, entry, hint, problem);
        }
        out[key] = list.map(((s) => s.trim()));
    }
    return out;
});
export var platformCacheDir = (function (env, os = Deno.build.os) {
    const base = cacheHome(env, os);
    return os === "windows" ? join(base, "capibara", "Cache") : join(base, "capibara");
});
var projectTrustOf = (function (options, project, trust) {
    const request = trustRequest(project);
    const file = trust?.file ? { file: trust.file } : {};
    if (request === undefined) {
        return { state: trust?.file || Object.keys(project).length ? "harmless" : "absent", ...file };
    }
    if (options.trustProjectConfig === true) {
        return { state: "trusted", by: "option", request, ...file };
    }
    if (trust?.state === "trusted" && trust.by !== undefined) {
        return { state: "trusted", by: trust.by, request, ...file };
    }
    return { state: "untrusted", request, ...file, ...(trust?.changed ? { changed: true } : {}) };
});
export var resolveConfig = (function (options, env, projectConfig = {}, trust) {
    if (typeof options !== "object" || options === null) {
        throw invalid("options", options, "Pass an options object, e.g. new Capibara({ timeout: 60 })");
    }
    if (options.trustProjectConfig !== undefined && typeof options.trustProjectConfig !== "boolean") {
        throw invalid("trustProjectConfig", options.trustProjectConfig, "Pass true or false, e.g. { trustProjectConfig: true }");
    }
    const projectTrust = projectTrustOf(options, projectConfig, trust);
    const project = projectTrust.state === "untrusted" ? harmlessPart(projectConfig) : projectConfig;
    const timeout = options.timeout ?? project.timeout;
    const baseUrl = pick(env.CAPIBARA_BASE_URL, env.OPENAI_BASE_URL, project.generator?.base_url);
    const apiKey = pick(env.CAPIBARA_API_KEY, env.OPENAI_API_KEY);
    if (options.sandbox !== undefined && typeof options.sandbox !== "boolean") {
        throw invalid("sandbox", options.sandbox, "Pass true or false, e.g. { sandbox: false }");
    }
    if (options.cacheDir !== undefined &&
        (typeof options.cacheDir !== "string" || !options.cacheDir || options.cacheDir.includes("\0"))) {
        throw invalid("cacheDir", options.cacheDir, "Pass a directory path outside the project");
    }
    return {
        cacheDir: options.cacheDir ?? pick(env.CAPIBARA_CACHE_DIR) ?? platformCacheDir(env),
        language: options.language === undefined ? DEFAULTS.language : checkLanguage(options.language),
        mode: checkMode(options.mode ?? project.mode ?? DEFAULTS.mode),
        timeoutSeconds: timeout === undefined
            ? DEFAULTS.timeoutSeconds
            : checkTimeout(timeout, options.timeout === undefined ? "config.json timeout" : "timeout"),
        memoryBytes: options.memoryBytes === undefined
            ? DEFAULTS.memoryBytes
            : checkMemory(options.memoryBytes),
        maxProcesses: options.maxProcesses === undefined
            ? DEFAULTS.maxProcesses
            : checkProcesses(options.maxProcesses),
        maxOutputBytes: DEFAULTS.maxOutputBytes,
        staging: {
            bytes: options.maxOutputDiskBytes !== undefined
                ? checkCount(options.maxOutputDiskBytes, "maxOutputDiskBytes", "4 * 1024 ** 3")
                : project.max_output_mib !== undefined
                    ? Math.round(project.max_output_mib * 1024 ** 2)
                    : DEFAULT_STAGING_LIMITS.bytes,
            files: options.maxOutputFiles === undefined
                ? DEFAULT_STAGING_LIMITS.files
                : checkCount(options.maxOutputFiles, "maxOutputFiles", "50_000"),
        },
        sandbox: options.sandbox ?? true,
        sourceBuilds: project.install?.source_builds === true,
        grants: mergeGrants({ ...project.allow, privateNetwork: project.allow?.private_network }, checkGrants(options.allow)),
        projectPaths: { read: project.allow?.read ?? [], write: project.allow?.write ?? [] },
        generator: {
            baseUrl: baseUrl ?? OPENAI_BASE_URL,
            ...(apiKey !== undefined ? { apiKey } : {}),
            model: pick(env.CAPIBARA_MODEL, project.generator?.model) ?? DEFAULT_MODEL,
            ...(pick(env.CAPIBARA_MODEL, project.generator?.model) !== undefined
                ? { modelSet: true }
                : {}),
            ...generateTimeout(env, project),
            configured: baseUrl !== undefined || apiKey !== undefined,
        },
        ...coreSettings(options, env, project),
        env,
        projectTrust,
        signatures: resolveSignaturePolicy(project.trust, env),
    };
});
var coreSettings = (function (options, env, project) {
    const core = options.core;
    if (core !== undefined &&
        (typeof core !== "object" || core === null || typeof core.url !== "string" ||
            core.url.trim() === "" || (core.token !== undefined && typeof core.token !== "string"))) {
        throw invalid("core", core && typeof core === "object" ? { ...core, token: core.token && "…" } : core, 'Pass the Core\'s URL and token, e.g. { core: { url: "https://core.example.com", token } }');
    }
    const token = pick(core?.token, env.CAPIBARA_CORE_TOKEN);
    const withToken = token === undefined ? {} : { token };
    if (core?.url !== undefined) {
        return { core: { url: core.url.trim(), ...withToken, source: "option" } };
    }
    const fromEnv = pick(env.CAPIBARA_CORE_URL);
    if (fromEnv !== undefined)
        return { core: { url: fromEnv, ...withToken, source: "env" } };
    const fromFile = pick(project.core?.url);
    if (fromFile !== undefined)
        return { core: { url: fromFile, ...withToken, source: "config" } };
    return {};
});
var generateTimeout = (function (env, project) {
    const text = pick(env.CAPIBARA_GENERATE_TIMEOUT);
    if (text === undefined) {
        const fromFile = project.generator?.timeout;
        return fromFile === undefined
            ? {}
            : { timeoutSeconds: checkTimeout(fromFile, "config.json generator.timeout") };
    }
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
        throw new ValidationError(`Invalid CAPIBARA_GENERATE_TIMEOUT "${text}"`, {
            hint: "Give the seconds one request to the generator may take, e.g. 600 for a slow " +
                "local model",
        });
    }
    return { timeoutSeconds: seconds };
});
var editDistance = (function (a, b) {
    let row = Array.from({ length: b.length + 1 }, ((_, j) => j));
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[b.length];
});
export var nearestName = (function (name, known) {
    const shown = name.length > 100 ? name.slice(0, 100) + "…" : name;
    const distance = new Map(known.map(((k) => [k, editDistance(shown, k)])));
    const nearest = [...known].sort(((a, b) => distance.get(a) - distance.get(b)))[0];
    return { shown, nearest };
});
var unknownProjectKey = (function (json) {
    for (const [path, known] of Object.entries(PROJECT_KEYS)) {
        const object = path === "" ? json : json?.[path];
        if (typeof object !== "object" || object === null || Array.isArray(object))
            continue;
        for (const key of Object.keys(object)) {
            if (known.includes(key))
                continue;
            const { shown, nearest } = nearestName(key, known);
            return {
                key: path ? `${path}.${shown}` : shown,
                nearest: path ? `${path}.${nearest}` : nearest,
            };
        }
    }
    return undefined;
});
export var loadProjectConfig = (async function (root) {
    return (await loadProjectFile(root))?.config ?? {};
});
export var loadProjectFile = (async function (root) {
    const path = join(root, STORE_DIR, "config.json");
    if (entriesNamed(join(root, STORE_DIR), ["config.json"]).length === 0)
        return undefined;
    let bytes;
    try {
        bytes = readRegularFileSync(path, MAX_CONFIG_BYTES);
    }
    catch (error) {
        if (!(error instanceof FileRefused))
            throw error;
        if (error.reason === "is missing")
            return undefined;
        throw new ValidationError(`Cannot read ${path}: it ${error.reason}`, {
            hint: "Make .capibara/config.json a regular file of settings, or remove it",
            details: { path },
        });
    }
    const text = new TextDecoder().decode(bytes);
    const config = parseProjectConfig(text, path);
    await checkProjectKeys(config.trust, path);
    return {
        path,
        root: await realPathOrNull(root) ?? resolve(root),
        sha256: await sha256(bytes),
        text,
        config,
    };
});
var parseProjectConfig = (function (text, path) {
    let json;
    try {
        json = JSON.parse(text);
    }
    catch (error) {
        throw new ValidationError(`Cannot read "${path}": it is not valid JSON`, {
            cause: error,
            hint: "Fix the file's syntax",
        });
    }
    if (typeof json === "object" && json !== null && !Array.isArray(json)) {
        const unknown = unknownProjectKey(json);
        if (unknown) {
            throw new ValidationError(`Cannot read "${path}": unknown key "${unknown.key}"`, {
                hint: `Did you mean "${unknown.nearest}"?`,
                details: { key: unknown.key, nearest: unknown.nearest },
            });
        }
    }
    const parsed = ProjectConfig.safeParse(json);
    if (!parsed.success) {
        throw new ValidationError(`Cannot read "${path}": ${issuesText(parsed.error.issues)}`, {
            hint: "Allowed keys: generator {base_url, model, timeout}, mode, timeout, " +
                "allow {network, private_network, env, read, write}, " +
                "install {source_builds}, trust {keys, require_signature}, core {url}",
        });
    }
    return parsed.data;
});
import { issuesText } from "./_shape.js";
import { cacheHome, join, resolve } from "./_path.js";
import { sha256 } from "./_hash.js";
import { entriesNamed, FileRefused, readRegularFileSync, realPathOrNull } from "./_fs.js";
import { DEFAULT_TIMEOUT_SECONDS, harmlessPart, trustRequest, } from "./config_trust.js";
import { ValidationError } from "./errors.js";
import { LANGUAGES, ProjectConfig } from "./schema.js";
import { MAX_TIMEOUT_SECONDS } from "./types.js";
import { DEFAULT_STAGING_LIMITS } from "./sandbox/copy_out.js";
import { grantProblem, mergeGrants } from "./sandbox/policy.js";
import { STORE_DIR } from "./store/store.js";
import { checkProjectKeys, resolveSignaturePolicy } from "./store/trust.js";
export const OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_MODEL = "gpt-4o-mini";
export const DEFAULTS = {
    timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
    memoryBytes: 2 * 1024 ** 3,
    maxProcesses: 256,
    maxOutputBytes: 16 * 1024 ** 2,
    mode: "strict",
    language: "python",
};
export const MIN_MEMORY_BYTES = 16 * 1024 ** 2;
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
const PROJECT_KEYS = {
    "": ["generator", "mode", "timeout", "allow", "install", "max_output_mib", "trust", "core"],
    generator: ["base_url", "model", "timeout"],
    allow: ["network", "private_network", "env", "read", "write"],
    install: ["source_builds"],
    trust: ["keys", "require_signature"],
    core: ["url"],
};
;
;
;
;
const MAX_CONFIG_BYTES = 1024 ** 2;
;
;
