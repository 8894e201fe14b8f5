// Generated from src/config_trust.ts by scripts/build_js.ts (sha256 fa36a583c9742d8752d20c1077b469b212d2777fd575463557a62548c62385b3): do not edit; `deno task build:js` writes it.
var nonBlank = (function (value) {
    const trimmed = value?.trim();
    return trimmed ? trimmed : undefined;
});
export var trustRequest = (function (project) {
    const allow = project.allow ?? {};
    const request = {
        network: [...(allow.network ?? [])],
        privateNetwork: [...(allow.private_network ?? [])],
        env: [...(allow.env ?? [])],
        read: [...(allow.read ?? [])],
        write: [...(allow.write ?? [])],
        sourceBuilds: project.install?.source_builds === true,
    };
    const baseUrl = nonBlank(project.generator?.base_url);
    const model = nonBlank(project.generator?.model);
    if (baseUrl !== undefined)
        request.baseUrl = baseUrl;
    if (model !== undefined)
        request.model = model;
    const coreUrl = nonBlank(project.core?.url);
    if (coreUrl !== undefined)
        request.coreUrl = coreUrl;
    const { timeout, max_output_mib: maxOutputMib } = project;
    const generateTimeout = project.generator?.timeout;
    const widened = widens(maxOutputMib, DEFAULT_OUTPUT_MIB);
    if (widened)
        request.maxOutputMib = maxOutputMib;
    const longer = widens(timeout, DEFAULT_TIMEOUT_SECONDS);
    if (longer)
        request.timeoutSeconds = timeout;
    const waitsLonger = widens(generateTimeout, DEFAULT_GENERATE_TIMEOUT_SECONDS);
    if (waitsLonger)
        request.generateTimeoutSeconds = generateTimeout;
    const needed = request.network.length + request.privateNetwork.length + request.env.length +
        request.read.length + request.write.length > 0 ||
        request.sourceBuilds || baseUrl !== undefined ||
        model !== undefined || coreUrl !== undefined || widened || longer || waitsLonger;
    return needed ? request : undefined;
});
export var harmlessPart = (function (project) {
    return {
        ...(project.mode !== undefined ? { mode: project.mode } : {}),
        ...(narrows(project.timeout, DEFAULT_TIMEOUT_SECONDS) ? { timeout: project.timeout } : {}),
        ...(project.trust !== undefined ? { trust: project.trust } : {}),
        ...(narrows(project.generator?.timeout, DEFAULT_GENERATE_TIMEOUT_SECONDS)
            ? { generator: { timeout: project.generator?.timeout } }
            : {}),
        ...(narrows(project.max_output_mib, DEFAULT_OUTPUT_MIB)
            ? { max_output_mib: project.max_output_mib }
            : {}),
    };
});
var widens = (function (value, limit) {
    return value !== undefined && value > limit;
});
var narrows = (function (value, limit) {
    return value !== undefined && !widens(value, limit);
});
export var describeRequest = (function (request) {
    const list = ((values) => values.map(((v) => JSON.stringify(v))).join(", "));
    const clauses = [];
    if (request.baseUrl !== undefined) {
        clauses.push(`send generation requests and your API key to ${JSON.stringify(request.baseUrl)}`);
    }
    if (request.model !== undefined)
        clauses.push(`use the model ${JSON.stringify(request.model)}`);
    if (request.coreUrl !== undefined) {
        clauses.push(`ask the Core at ${JSON.stringify(request.coreUrl)} for scripts, sending it your Core token`);
    }
    if (request.network.length)
        clauses.push(`grant network access to ${list(request.network)}`);
    if (request.privateNetwork.length) {
        clauses.push(`grant access to private, loopback or link-local addresses ${list(request.privateNetwork)}`);
    }
    if (request.env.length)
        clauses.push(`grant the environment variables ${list(request.env)}`);
    if (request.read.length)
        clauses.push(`grant reading ${list(request.read)}`);
    if (request.write.length)
        clauses.push(`grant writing ${list(request.write)}`);
    if (request.sourceBuilds) {
        clauses.push("let dependency installs build source distributions (running their build scripts)");
    }
    if (request.timeoutSeconds !== undefined) {
        clauses.push(`let a run take up to ${request.timeoutSeconds} s (the default is ${DEFAULT_TIMEOUT_SECONDS})`);
    }
    if (request.generateTimeoutSeconds !== undefined) {
        clauses.push(`wait up to ${request.generateTimeoutSeconds} s for the generator (the default is ` +
            `${DEFAULT_GENERATE_TIMEOUT_SECONDS})`);
    }
    if (request.maxOutputMib !== undefined) {
        clauses.push(`let a run's outputs take up to ${request.maxOutputMib} MiB on disk (the default is ` +
            `${DEFAULT_OUTPUT_MIB})`);
    }
    return clauses;
});
export var trustedHashes = (function (env) {
    const value = env[TRUST_ENV] ?? "";
    return new Set(value.split(/[\s,]+/).map(((h) => h.trim().toLowerCase().replace(/^sha256:/, ""))).filter(((h) => /^[0-9a-f]{64}$/.test(h))));
});
var recordsOf = (function (json) {
    const projects = json?.projects;
    if (typeof projects !== "object" || projects === null || Array.isArray(projects))
        return [];
    const out = [];
    for (const [root, value] of Object.entries(projects)) {
        const record = value;
        if (typeof record?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(record.sha256))
            continue;
        out.push({
            root,
            sha256: record.sha256,
            trusted_at: typeof record.trusted_at === "string" ? record.trusted_at : "",
        });
    }
    return out;
});
export var evaluateTrust = (async function (file, options) {
    if (file === undefined)
        return { state: "absent" };
    const where = { path: file.path, root: file.root, sha256: file.sha256 };
    const request = trustRequest(file.config);
    if (request === undefined)
        return { state: "harmless", file: where };
    if (options.trustProjectConfig === true) {
        return { state: "trusted", by: "option", file: where, request };
    }
    if (trustedHashes(options.env).has(file.sha256)) {
        return { state: "trusted", by: "env", file: where, request };
    }
    const record = await new TrustStore(options.cacheDir).get(file.root);
    if (record?.sha256 === file.sha256) {
        return { state: "trusted", by: "record", file: where, request };
    }
    return { state: "untrusted", file: where, request, ...(record ? { changed: true } : {}) };
});
export var untrustedError = (function (trust) {
    const path = trust.file?.path ?? ".capibara/config.json";
    const why = trust.changed
        ? "it changed since it was trusted on this machine"
        : "it is not trusted on this machine";
    const would = trust.request ? describeRequest(trust.request) : [];
    return new PermissionError(`Cannot use "${path}": ${why}` + (would.length ? `, and it would ${would.join("; ")}` : ""), {
        hint: "Review it with `capibara trust --show`, then trust it with `capibara trust`" +
            (trust.file ? ` (in CI: ${TRUST_ENV}=${trust.file.sha256})` : "") +
            "; SDK callers pass { trustProjectConfig: true }",
        details: {
            config: path,
            ...(trust.file ? { root: trust.file.root, sha256: trust.file.sha256 } : {}),
            ...(trust.changed ? { changed: true } : {}),
            grants: {
                network: trust.request?.network ?? [],
                private_network: trust.request?.privateNetwork ?? [],
                env: trust.request?.env ?? [],
                read: trust.request?.read ?? [],
                write: trust.request?.write ?? [],
            },
            ...(trust.request?.baseUrl !== undefined ? { base_url: trust.request.baseUrl } : {}),
            ...(trust.request?.model !== undefined ? { model: trust.request.model } : {}),
            ...(trust.request?.coreUrl !== undefined ? { core_url: trust.request.coreUrl } : {}),
            ...(trust.request?.sourceBuilds ? { source_builds: true } : {}),
            ...(trust.request?.timeoutSeconds !== undefined
                ? { timeout: trust.request.timeoutSeconds }
                : {}),
            ...(trust.request?.maxOutputMib !== undefined
                ? { max_output_mib: trust.request.maxOutputMib }
                : {}),
            ...(trust.request?.generateTimeoutSeconds !== undefined
                ? { generator_timeout: trust.request.generateTimeoutSeconds }
                : {}),
        },
    });
});
export var assertTrusted = (function (trust) {
    if (trust.state === "untrusted")
        throw untrustedError(trust);
});
import { join } from "./_path.js";
import { PermissionError } from "./errors.js";
import { readJsonFile, readRecordsFor, updateJsonFile } from "./_json_file.js";
import { ownCacheFolder } from "./_cache_folder.js";
import { DEFAULT_STAGING_LIMITS } from "./sandbox/copy_out.js";
export const TRUST_ENV = "CAPIBARA_TRUST_CONFIG";
export const TRUST_FILE = "trust.json";
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_GENERATE_TIMEOUT_SECONDS = 120;
;
;
;
;
;
const DEFAULT_OUTPUT_MIB = DEFAULT_STAGING_LIMITS.bytes / 1024 ** 2;
;
;
export class TrustStore {
    path;
    constructor(cacheDir) {
        this.path = join(ownCacheFolder(cacheDir), TRUST_FILE);
    }
    async records() {
        return recordsOf(await readJsonFile(this.path));
    }
    async get(root) {
        return recordsOf(await readRecordsFor(this.path, root)).find(((r) => r.root === root));
    }
    async trust(file) {
        const record = { root: file.root, sha256: file.sha256, trusted_at: new Date().toISOString() };
        await this.#update(((records) => [...records.filter(((r) => r.root !== file.root)), record]));
        return record;
    }
    async revoke(root) {
        let found = false;
        await this.#update(((records) => {
            found = records.some(((r) => r.root === root));
            return records.filter(((r) => r.root !== root));
        }));
        return found;
    }
    async #update(change) {
        await updateJsonFile(this.path, ((current) => {
            const projects = {};
            for (const r of change(recordsOf(current))) {
                projects[r.root] = { sha256: r.sha256, trusted_at: r.trusted_at };
            }
            return { version: 1, projects };
        }));
    }
}
;
;
;
;
