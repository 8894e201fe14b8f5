// Generated from src/cli/doctor.ts by scripts/build_js.ts (sha256 1cb3f02234318d7c99692cbfcbc92271837b586e5d359b07ffdf6754724fbb52): do not edit; `deno task build:js` writes it.
export var serverCheck = (async function (generator) {
    const name = "generator server";
    const where = shownUrl(generator.baseUrl);
    const fail = ((detail, fix) => ({
        name,
        ok: false,
        detail,
        fix,
        exit_code: 4,
    }));
    const url = new URL(`${generator.baseUrl.replace(/\/+$/, "")}/models`);
    let response;
    try {
        response = await fetch(url, {
            headers: generator.apiKey ? { authorization: `Bearer ${generator.apiKey}` } : {},
            signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
        });
    }
    catch (error) {
        const why = error instanceof DOMException && error.name === "TimeoutError"
            ? `no answer within ${SERVER_TIMEOUT_MS} ms`
            : error.message;
        return fail(`cannot reach ${where}: ${why}`, "Start the server, or point CAPIBARA_BASE_URL at a running one");
    }
    const contentType = response.headers.get("content-type") ?? "none";
    const text = await boundedText(response);
    if (response.status === 401 || response.status === 403) {
        return fail(`${where} refused the credentials (HTTP ${response.status})`, "Check CAPIBARA_API_KEY (or OPENAI_API_KEY)");
    }
    if (!response.ok) {
        return fail(`${shownUrl(String(url))} answered HTTP ${response.status}`, "Check that CAPIBARA_BASE_URL ends with the API path (usually /v1)");
    }
    let models;
    try {
        const data = JSON.parse(text).data;
        if (Array.isArray(data)) {
            models = data.map(((m) => m?.id)).filter(((id) => typeof id === "string"));
        }
    }
    catch {
        models = undefined;
    }
    if (models === undefined) {
        return fail(`${shownUrl(String(url))} did not answer with a model list (content type ${contentType}, ` +
            "starting with " +
            `${JSON.stringify(text.slice(0, 60))})`, "Point CAPIBARA_BASE_URL at an OpenAI-compatible API, usually ending in /v1");
    }
    const listed = models.length === 0 ? "none" : models.slice(0, 10).join(", ");
    if (discoversModel(generator)) {
        if (models.length === 1) {
            return { name, ok: true, detail: `${where} answers and lists one model, "${models[0]}"` };
        }
        return fail(`${where} lists ${models.length === 0 ? "no model" : `several models (${listed})`}, and ` +
            "none is set", "Set CAPIBARA_MODEL (or generator.model) to one of the listed models");
    }
    if (!models.includes(generator.model)) {
        return fail(`${where} does not list the model "${generator.model}" (it lists: ${listed})`, "Set CAPIBARA_MODEL (or generator.model) to one of the listed models");
    }
    return { name, ok: true, detail: `${where} answers and lists "${generator.model}"` };
});
var coreSource = (function (core) {
    return core.source === "env"
        ? CORE_URL_ENV
        : core.source === "config"
            ? "core.url in .capibara/config.json"
            : "the core option";
});
var coreFetch = (async function (url, init) {
    try {
        const response = await fetch(url, {
            ...init,
            redirect: "manual",
            signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
        });
        const text = await boundedText(response);
        return { response, text };
    }
    catch (error) {
        return {
            error: error instanceof DOMException && error.name === "TimeoutError"
                ? `no answer within ${SERVER_TIMEOUT_MS} ms`
                : error.message.slice(0, 300),
        };
    }
});
export var coreChecks = (async function (core) {
    const where = `${core.url} (from ${coreSource(core)})`;
    let base;
    try {
        base = checkCoreUrl(core.url);
    }
    catch (error) {
        if (!(error instanceof CapibaraError))
            throw error;
        return [{
                name: "core",
                ok: false,
                detail: error.message,
                fix: error.hint,
                exit_code: EXIT_CODES[error.type],
            }];
    }
    const health = await coreFetch(new URL("healthz", base), {});
    const unreached = ((detail, fix) => [
        { name: "core", ok: false, detail, fix, exit_code: 4 },
        { name: "core token", ok: false, detail: "not checked: the Core did not answer", exit_code: 4 },
    ]);
    if ("error" in health) {
        return unreached(`cannot reach the Core at ${where}: ${health.error}`, `Start the Core (capibara serve prints its URL on its first line), or set ${CORE_URL_ENV} ` +
            "to its URL");
    }
    let status;
    try {
        status = JSON.parse(health.text).status;
    }
    catch {
        status = undefined;
    }
    if (health.response.status !== 200 || status !== "ok") {
        const type = health.response.headers.get("content-type") ?? "no content type";
        return unreached(`${new URL("healthz", base)} is not a Capibara Core's health check: it answered HTTP ` +
            `${health.response.status} (${type}), starting with ${JSON.stringify(health.text.slice(0, 60))}`, `Set ${CORE_URL_ENV} to the URL capibara serve prints on its first line`);
    }
    const checks = [{ name: "core", ok: true, detail: `${where} answers` }];
    const token = core.token?.trim();
    if (!token) {
        checks.push({
            name: "core token",
            ok: false,
            detail: "no token: the Core refuses every request without one",
            fix: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (its operator ` +
                "issues them)",
            exit_code: 7,
        });
        return checks;
    }
    if (!/^[\x21-\x7e]+$/.test(token)) {
        checks.push({
            name: "core token",
            ok: false,
            detail: `${CORE_TOKEN_ENV} holds spaces, control or non-ASCII characters`,
            fix: `Set ${CORE_TOKEN_ENV} to the token exactly as the Core's token file lists it`,
            exit_code: 2,
        });
        return checks;
    }
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const probes = [
        ["read", new URL(`v1/updates?since=${new Date().toISOString()}`, base), { headers }],
        ["gen", new URL("v1/gen", base), { method: "POST", headers, body: "{}" }],
        ["publish", new URL(`v1/entries/fp_${"0".repeat(32)}`, base), {
                method: "PUT",
                headers,
                body: "{}",
            }],
    ];
    const rights = [];
    for (const [right, url, init] of probes) {
        const answer = await coreFetch(url, init);
        if ("error" in answer) {
            checks.push({
                name: "core token",
                ok: false,
                detail: `cannot check the token: the Core at ${core.url} did not answer: ${answer.error}`,
                exit_code: 4,
            });
            return checks;
        }
        const code = answer.response.status;
        if (code === 401) {
            checks.push({
                name: "core token",
                ok: false,
                detail: `the Core at ${core.url} refused the token (HTTP 401)`,
                fix: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (its operator ` +
                    "issues them)",
                exit_code: 7,
            });
            return checks;
        }
        if (code === 429) {
            checks.push({
                name: "core token",
                ok: false,
                detail: `cannot check the token: the Core at ${core.url} limited the requests (HTTP 429)`,
                fix: "Run capibara doctor again in a moment",
                exit_code: 4,
            });
            return checks;
        }
        if (code !== 403)
            rights.push(right);
    }
    const missing = ["read", "gen", "publish"].filter(((r) => !rights.includes(r)));
    const holds = `accepted; rights: ${rights.join(", ") || "none"}`;
    if (!rights.includes("read")) {
        checks.push({
            name: "core token",
            ok: false,
            detail: `${holds}: without "read", every miss fails (it fetches the shared entry first)`,
            fix: 'Ask the Core\'s operator for a token with the "read" right',
            exit_code: 7,
            rights,
        });
        return checks;
    }
    const note = missing.length === 0
        ? ""
        : ` (not ${missing.join(", ")}${missing.includes("gen") ? ": a miss the Core has not stored fails instead of generating" : ""})`;
    checks.push({ name: "core token", ok: true, detail: holds + note, rights });
    return checks;
});
export var signatureCheck = (async function (policy) {
    const keyIds = await Promise.all(policy.keys.map(((k) => keyIdOf(k).catch((() => "invalid")))));
    const keys = keyIds.length === 0 ? "no trusted keys" : `trusted keys: ${keyIds.join(", ")}`;
    const by = policy.source === "machine"
        ? `required on this machine (${REQUIRE_SIGNATURE_ENV}; only ${TRUSTED_KEYS_ENV} counts)`
        : "required by this project (trust.require_signature in .capibara/config.json)";
    const detail = !policy.required
        ? `not required; ${keys}`
        : `${by}; ${keys}${keyIds.length === 0 ? ": only scripts accepted on this machine (capibara accept) run" : ""}`;
    return {
        name: "signatures",
        ok: true,
        detail,
        policy: { required: policy.required, source: policy.source, key_ids: keyIds },
    };
});
var version = (async function (cmd, args, path) {
    const program = await which(cmd, path ?? DEFAULT_PATH);
    if (program === undefined)
        return undefined;
    try {
        const out = await execCommand({ program, args, env: { PATH: path ?? DEFAULT_PATH }, cwd: "/" }, {
            timeoutMs: 10_000,
            maxOutputBytes: 64_000,
        });
        if (out.code !== 0)
            return undefined;
        return (out.stdout + out.stderr).trim().split("\n")[0];
    }
    catch {
        return undefined;
    }
});
var projectConfigCheck = (function (trust) {
    const path = trust.file?.path ?? ".capibara/config.json";
    switch (trust.state) {
        case "absent":
            return { name: "project config", ok: true, detail: "none" };
        case "harmless":
            return { name: "project config", ok: true, detail: `${path} (needs no trust)` };
        case "trusted":
            return {
                name: "project config",
                ok: true,
                detail: `${path} (trusted ${trust.by === "env"
                    ? `by ${TRUST_ENV}`
                    : trust.by === "option"
                        ? "by trustProjectConfig"
                        : "on this machine"})`,
            };
        case "untrusted":
            return {
                name: "project config",
                ok: false,
                detail: `${path} is not trusted${trust.changed ? " (it changed since it was trusted)" : ""}` +
                    `: capibara run stops (exit 7) until it is. It would ${trust.request ? describeRequest(trust.request).join("; ") : "grant nothing"}`,
                fix: "Review it with `capibara trust --show`, then run `capibara trust`",
            };
    }
});
var toolChecks = (async function (path) {
    const python = await version("python3", ["--version"], path);
    const bash = await version("bash", ["--version"], path);
    return [
        {
            name: "deno",
            ok: true,
            detail: `${Deno.version.deno} (TypeScript scripts: Deno permissions)`,
        },
        {
            name: "python3",
            ok: python !== undefined,
            detail: python ?? "not found",
            fix: python ? undefined : "Install Python 3.9+ with the venv module",
        },
        { name: "bash", ok: bash !== undefined, detail: bash ?? "not found" },
        ...pathCheck(path),
    ];
});
var pathCheck = (function (path) {
    const relative = (path ?? "").split(":").filter(((dir) => !dir.startsWith("/")));
    if (relative.length === 0)
        return [];
    const shown = [...new Set(relative)].map(((dir) => JSON.stringify(dir))).join(", ");
    return [{
            name: "PATH",
            ok: true,
            warning: true,
            detail: `holds entries that are not absolute (${shown}): sh, env and the installed ` +
                "capibara command look in them from the current folder, a cloned repository's",
            fix: 'Write each PATH entry absolute ("$HOME/.local/bin", not "~/.local/bin" in quotes)',
        }];
});
export var doctorChecks = (async function (cb = new Capibara()) {
    let config;
    try {
        config = await cb.config();
    }
    catch (error) {
        if (!(error instanceof CapibaraError))
            throw error;
        return [
            ...await toolChecks(Deno.env.get("PATH")),
            {
                name: "configuration",
                ok: false,
                detail: error.message,
                fix: error.hint,
                exit_code: EXIT_CODES[error.type],
            },
        ];
    }
    const checks = await toolChecks(config.env.PATH);
    const backend = platformBackend(config.cacheDir);
    if (!backend) {
        checks.push({
            name: "sandbox",
            ok: false,
            detail: `no backend for ${Deno.build.os}: Python and bash scripts need --no-sandbox`,
        });
    }
    else {
        const availability = await backend.available();
        checks.push({
            name: `sandbox (${backend.name})`,
            ok: availability.ok,
            detail: availability.ok ? "works" : availability.reason ?? "unavailable",
            fix: availability.fix,
        });
        if (backend instanceof BubblewrapBackend && availability.ok) {
            const limits = await backend.describeLimits();
            checks.push({
                name: "limits",
                ok: limits.processesEffective,
                detail: limits.summary,
            });
            const identity = await backend.describeIdentity();
            checks.push({ name: "sandbox uid", ok: identity.uid !== 0, detail: identity.summary });
            const abi = systemPythonInside() ? await landlockAbi() : undefined;
            checks.push({
                name: "landlock",
                ok: (abi ?? 0) > 0,
                detail: abi === undefined
                    ? `${SYSTEM_PYTHON} was not found under /usr: bash scripts run without the rule set ` +
                        "that closes /proc's mount tables (Python scripts apply it themselves)"
                    : abi > 0
                        ? `ABI ${abi}: scripts cannot read /proc's mount tables (the host paths of their binds)`
                        : "this kernel has no Landlock (Linux 5.13+): scripts can read /proc's mount tables, " +
                            "which name the host paths of their binds",
            });
            const proxy = await backend.proxyAvailable();
            checks.push({
                name: "network proxy (socat)",
                ok: proxy.ok,
                detail: proxy.ok ? "granted hosts reachable through the proxy" : proxy.reason ?? "",
                fix: proxy.fix,
            });
        }
    }
    const generator = config.generator;
    if (config.core) {
        checks.push({
            name: "generator",
            ok: true,
            detail: `the team's Core at ${config.core.url}: a miss asks it, never an LLM${generator.configured
                ? ` (${shownUrl(generator.baseUrl)} is not used while a Core is set)`
                : ""}`,
        });
        checks.push(...await coreChecks(config.core));
    }
    else {
        let badUrl;
        try {
            if (generator.configured)
                checkBaseUrl(generator.baseUrl);
        }
        catch (error) {
            if (!(error instanceof ValidationError))
                throw error;
            badUrl = error;
        }
        const detail = !generator.configured
            ? "not configured: cached scripts run, new requests fail (set CAPIBARA_BASE_URL " +
                "and/or CAPIBARA_API_KEY, or generator.base_url in .capibara/config.json; or a team " +
                `Core: ${CORE_URL_ENV} and ${CORE_TOKEN_ENV})`
            : `${shownUrl(generator.baseUrl)} (${discoversModel(generator) ? "the server's only model" : `model ${generator.model}`})`;
        checks.push(badUrl
            ? {
                name: "generator",
                ok: false,
                detail: badUrl.message,
                fix: badUrl.hint,
                exit_code: badUrl.exitCode,
            }
            : {
                name: "generator",
                ok: true,
                ...(generator.configured ? {} : { warning: true }),
                detail,
            });
        if (generator.configured && !badUrl)
            checks.push(await serverCheck(generator));
    }
    checks.push(await signatureCheck(config.signatures));
    checks.push({ ...projectConfigCheck(config.projectTrust), exit_code: 7 });
    const store = await cb.store();
    checks.push({ name: "store", ok: true, detail: store.scripts });
    checks.push({ name: "cache", ok: true, detail: config.cacheDir });
    return checks;
});
export var doctorCommand = (function (setExit) {
    return new Command("doctor")
        .description("Report which sandbox backend, interpreters, generator or Core work on this machine, and " +
        "the signature policy in force; exits non-zero when a check fails")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .action((async (opts) => {
        const json = opts.json ?? false;
        try {
            const checks = await doctorChecks(await commandCapibara(opts.root));
            const failed = checks.find(((c) => !c.ok));
            if (failed)
                setExit(failed.exit_code ?? 3);
            if (json) {
                printJson({ ok: !failed, checks });
                return;
            }
            for (const c of checks) {
                const mark = !c.ok ? "✗" : c.warning ? "!" : "✓";
                console.log(`${mark} ${c.name.padEnd(24)} ${terminalSafe(c.detail)}`);
                if (!c.ok && c.fix)
                    console.log(`  ${"".padEnd(24)} fix: ${terminalSafe(c.fix)}`);
            }
            if (failed)
                console.error(`error: ${checks.filter(((c) => !c.ok)).length} check(s) failed`);
        }
        catch (error) {
            setExit(reportError(error, json));
        }
    }));
});
var boundedText = (async function (response) {
    try {
        return new TextDecoder().decode(await readBounded(response, MAX_ANSWER_BYTES));
    }
    catch {
        return "";
    }
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { Capibara } from "../capibara.js";
import { discoversModel } from "../config.js";
import { CapibaraError, EXIT_CODES, ValidationError } from "../errors.js";
import { checkCoreUrl, CORE_TOKEN_ENV, CORE_URL_ENV } from "../generate/core_client.js";
import { checkBaseUrl, shownUrl } from "../generate/openai.js";
import { keyIdOf, REQUIRE_SIGNATURE_ENV, TRUSTED_KEYS_ENV, } from "../store/trust.js";
import { BubblewrapBackend } from "../sandbox/linux.js";
import { landlockAbi, SYSTEM_PYTHON, systemPythonInside } from "../sandbox/landlock.js";
import { platformBackend } from "../sandbox/mod.js";
import { DEFAULT_PATH, which } from "../_which.js";
import { execCommand } from "../exec.js";
import { readBounded } from "../_body.js";
import { describeRequest, TRUST_ENV } from "../config_trust.js";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.js";
import { nonEmpty } from "./_options.js";
const SERVER_TIMEOUT_MS = 5_000;
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
const MAX_ANSWER_BYTES = 1024 ** 2;
;
