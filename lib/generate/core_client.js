// Generated from src/generate/core_client.ts by scripts/build_js.ts (sha256 10fb5c6652e21b280c30159113546217b5083495c18aee0ea66c4e2263547b3a): do not edit; `deno task build:js` writes it.
var isLoopback = (function (hostname) {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
});
export var checkCoreUrl = (function (url) {
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        parsed = undefined;
    }
    const hint = `Set ${CORE_URL_ENV} (or core.url in .capibara/config.json, or the SDK's ` +
        "core.url) to the Core's https:// URL, e.g. https://core.example.com";
    if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
        const bare = /^[\w.-]+(:\d+)?(\/.*)?$/.test(url) ? new URL(`http://${url}`) : undefined;
        const meant = bare && `${isLoopback(bare.hostname) ? "http" : "https"}://${url}`;
        throw new ValidationError(`Cannot use the Core URL "${url}": it is not an https:// URL`, {
            hint: meant ? `Did you mean ${meant}? ${hint}` : hint,
            details: { core_url: url },
        });
    }
    if (parsed.username !== "" || parsed.password !== "") {
        throw new ValidationError("Cannot use the Core URL: it holds a user name or password (they would be sent and shown)", { hint: `Give the token in ${CORE_TOKEN_ENV} instead, and the URL without user info` });
    }
    if (parsed.search !== "" || parsed.hash !== "") {
        throw new ValidationError(`Cannot use the Core URL "${url}": it has a query or fragment`, {
            hint,
            details: { core_url: url },
        });
    }
    if (parsed.protocol === "http:" && !isLoopback(parsed.hostname)) {
        throw new ValidationError(`Cannot use the Core URL "${url}": plain http:// is only allowed to a loopback address ` +
            "(the token and the entries could be read or replaced on the way)", {
            hint: "Serve the Core over https:// (e.g. behind a TLS-terminating proxy), or reach it " +
                "through a tunnel on loopback (ssh -L 8787:core:8787 …, then http://127.0.0.1:8787)",
            details: { core_url: url },
        });
    }
    if (!parsed.pathname.endsWith("/"))
        parsed.pathname += "/";
    return parsed;
});
var clip = (function (text, max = MAX_TEXT) {
    return text.length <= max ? text : text.slice(0, max) + "…";
});
export var checkEntryIdentity = (function (entry, expected, url) {
    const manifest = entry.manifest;
    const differ = identityDiffers(manifest, expected);
    if (differ.length === 0)
        return;
    const got = manifest.fingerprint;
    throw new IntegrityError(`Cannot use the entry the Core at ${url} sent for ${expected.fingerprint}: it is the entry ` +
        `of another request (${differ.map(((key) => `${key} differs`)).join(", ")}${typeof got === "string" && got !== expected.fingerprint
            ? `; it names ${JSON.stringify(clip(got, 40))}`
            : ""})`, {
        hint: "The Core (or something between it and you) answered with another entry; nothing " +
            "was stored. Tell the Core's operator",
        details: { core_url: url, fingerprint: expected.fingerprint, fields: differ },
    });
});
export var wireProblem = (function (value) {
    if (value === undefined)
        return "the body is not JSON";
    if (!isObject(value))
        return "the body is not a JSON object";
    if (!isObject(value.manifest))
        return 'no "manifest" object';
    if (!isObject(value.files))
        return 'no "files" object';
    for (const [name, text] of Object.entries(value.files)) {
        if (!FILE_NAME.test(name))
            return `a file name that is not a plain name`;
        if (typeof text !== "string")
            return `file ${name} is not text`;
    }
    return undefined;
});
var wireError = (function (value) {
    if (!isObject(value) || !isObject(value.error))
        return undefined;
    const { type, message, hint } = value.error;
    if (typeof type !== "string" || typeof message !== "string")
        return undefined;
    return {
        type: clip(type, 50),
        message: clip(message),
        hint: typeof hint === "string" ? clip(hint) : "",
    };
});
var isObject = (function (value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
});
var checkFingerprint = (function (fingerprint) {
    if (!FINGERPRINT_FORM.test(fingerprint)) {
        throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
            hint: "Fingerprints look like fp_ followed by 32 hex digits; see capibara list",
        });
    }
});
var retryAfterSeconds = (function (headers) {
    const value = headers.get("retry-after")?.trim();
    if (!value)
        return undefined;
    if (/^\d{1,6}$/.test(value))
        return Number(value);
    const at = Date.parse(value);
    if (Number.isNaN(at))
        return undefined;
    return Math.max(0, Math.ceil((at - Date.now()) / 1000));
});
var sleep = (function (ms, signal) {
    return new Promise(((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const timer = setTimeout((() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }), ms);
        const onAbort = (() => {
            clearTimeout(timer);
            reject(signal.reason);
        });
        signal?.addEventListener("abort", onAbort, { once: true });
    }));
});
import { FINGERPRINT_FORM } from "../types.js";
import { DependencyError, ExecError, IntegrityError, NetworkError, PermissionError, TemplateError, ValidationError, } from "../errors.js";
import { MAX_MANIFEST_DEPTH, textNestsDeeperThan } from "../store/entry.js";
import { readBounded, TooLarge } from "../_body.js";
import { identityDiffers } from "../fingerprint.js";
export const CORE_URL_ENV = "CAPIBARA_CORE_URL";
export const CORE_TOKEN_ENV = "CAPIBARA_CORE_TOKEN";
const DEFAULTS = {
    timeoutMs: 30_000,
    genTimeoutMs: 600_000,
    maxBodyBytes: 16 * 1024 ** 2,
    retries: 2,
    maxRetryAfterSeconds: 5,
};
const MAX_TEXT = 1000;
const FILE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
const ERROR_CLASSES = {
    ValidationError,
    DependencyError,
    NetworkError,
    ExecError,
    TemplateError,
    PermissionError,
    IntegrityError,
};
;
;
;
export class CoreClient {
    url;
    #base;
    #token;
    #options;
    constructor(options) {
        this.#base = checkCoreUrl(options.url);
        this.url = options.url.replace(/\/+$/, "");
        this.#token = options.token?.trim() || undefined;
        if (this.#token !== undefined && !/^[\x21-\x7e]+$/.test(this.#token)) {
            throw new ValidationError("Cannot use the Core token: it holds spaces, control or non-ASCII characters", { hint: `Set ${CORE_TOKEN_ENV} to the token exactly as the Core's token file lists it` });
        }
        this.#options = {
            timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
            genTimeoutMs: options.genTimeoutMs ?? DEFAULTS.genTimeoutMs,
            maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
            retries: options.retries ?? DEFAULTS.retries,
            maxRetryAfterSeconds: options.maxRetryAfterSeconds ?? DEFAULTS.maxRetryAfterSeconds,
            fetch: options.fetch ?? globalThis.fetch,
        };
    }
    async getEntry(fingerprint, options = {}) {
        checkFingerprint(fingerprint);
        const route = {
            method: "GET",
            path: `v1/entries/${fingerprint}`,
            right: "read",
            what: `fetch ${fingerprint}`,
            timeoutMs: this.#options.timeoutMs,
        };
        const answer = await this.#request(route, options.signal);
        if (answer.status === 404)
            return undefined;
        if (answer.status !== 200)
            throw this.#error(route, answer);
        return this.#wireEntry(route, answer);
    }
    async generate(request, options = {}) {
        const route = {
            method: "POST",
            path: "v1/gen",
            right: "gen",
            what: "generate a script",
            body: {
                prompt: request.prompt,
                context: request.context,
                language: request.language,
                mode: request.mode,
            },
            timeoutMs: this.#options.genTimeoutMs,
        };
        const answer = await this.#request(route, options.signal);
        if (answer.status !== 200)
            throw this.#error(route, answer);
        const cache = answer.headers.get("x-capibara-cache");
        return {
            entry: this.#wireEntry(route, answer),
            ...(cache === "hit" || cache === "miss" ? { cache } : {}),
        };
    }
    async putEntry(fingerprint, entry, options = {}) {
        checkFingerprint(fingerprint);
        const route = {
            method: "PUT",
            path: `v1/entries/${fingerprint}`,
            right: "publish",
            what: `publish ${fingerprint}`,
            body: { manifest: entry.manifest, files: entry.files },
            timeoutMs: this.#options.timeoutMs,
        };
        const answer = await this.#request(route, options.signal);
        if (answer.status === 201)
            return "created";
        if (answer.status === 200 || answer.status === 204)
            return "identical";
        throw this.#error(route, answer);
    }
    async #request(route, signal) {
        for (let attempt = 0;; attempt++) {
            const answer = await this.#send(route, signal);
            if (answer.status !== 429 || attempt >= this.#options.retries)
                return answer;
            const wait = retryAfterSeconds(answer.headers);
            if (wait === undefined || wait > this.#options.maxRetryAfterSeconds)
                return answer;
            await sleep(wait * 1000, signal);
        }
    }
    async #send(route, signal) {
        const url = new URL(route.path, this.#base);
        const timeout = AbortSignal.timeout(route.timeoutMs);
        const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
        const headers = { accept: "application/json" };
        if (this.#token !== undefined)
            headers.authorization = `Bearer ${this.#token}`;
        if (route.body !== undefined)
            headers["content-type"] = "application/json";
        let response;
        try {
            response = await this.#options.fetch(url, {
                method: route.method,
                headers,
                body: route.body === undefined ? undefined : JSON.stringify(route.body),
                redirect: "manual",
                signal: combined,
            });
        }
        catch (error) {
            throw this.#unreachable(route, error, signal, timeout);
        }
        let bytes;
        try {
            bytes = await readBounded(response, this.#options.maxBodyBytes);
        }
        catch (error) {
            if (error instanceof TooLarge) {
                throw new NetworkError(`Cannot use the answer of the Core at ${this.url}: its body is larger than ` +
                    `${this.#options.maxBodyBytes} bytes`, {
                    hint: "Check that the URL points at a Capibara Core",
                    details: this.#details(route, { status: response.status }),
                });
            }
            throw this.#unreachable(route, error, signal, timeout);
        }
        const type = clip(response.headers.get("content-type") ?? "no content type", 100);
        let json;
        try {
            json = bytes.length === 0 || textNestsDeeperThan(bytes, MAX_MANIFEST_DEPTH + 8)
                ? undefined
                : JSON.parse(new TextDecoder().decode(bytes));
        }
        catch {
            json = undefined;
        }
        return {
            status: response.status,
            headers: response.headers,
            json,
            received: `HTTP ${response.status}, ${type}, ${bytes.length} bytes`,
        };
    }
    #details(route, extra = {}) {
        return { core_url: this.url, request: `${route.method} /${route.path}`, ...extra };
    }
    #unreachable(route, error, signal, timeout) {
        if (signal?.aborted)
            return signal.reason ?? error;
        const why = timeout.aborted
            ? `no answer within ${route.timeoutMs / 1000} s`
            : clip(error instanceof Error ? error.message : String(error), 300);
        return new NetworkError(`Cannot reach the Core at ${this.url} to ${route.what}: ${why}`, {
            cause: error,
            hint: `Check that the Core runs and that ${CORE_URL_ENV} (or core.url) is its URL; ` +
                "capibara serve prints it on its first line",
            details: this.#details(route),
        });
    }
    #error(route, answer) {
        const wire = wireError(answer.json);
        const said = wire ? `: ${wire.message}` : "";
        const details = this.#details(route, {
            status: answer.status,
            ...(wire ? { core_error: { type: wire.type, message: wire.message } } : {}),
        });
        if (answer.status >= 300 && answer.status < 400) {
            return new NetworkError(`Cannot ${route.what} on the Core at ${this.url}: it answered a redirect (HTTP ` +
                `${answer.status}), which is not followed`, {
                hint: `Set ${CORE_URL_ENV} (or core.url) to the Core's final https:// URL`,
                details,
            });
        }
        if (answer.status === 401) {
            return new PermissionError(`Cannot ${route.what} on the Core at ${this.url}: ${this.#token === undefined ? "no token was sent" : "it refused the token"} (HTTP 401)`, {
                hint: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (SDK: core: ` +
                    "{ url, token }); the Core's operator issues tokens",
                details,
            });
        }
        if (answer.status === 403) {
            return new PermissionError(`Cannot ${route.what} on the Core at ${this.url}${said || `: the token lacks the ` +
                `"${route.right}" right`} (HTTP 403)`, {
                hint: route.right === "gen" && (!said || / right/.test(said))
                    ? 'Without the "gen" right a token gets only the entries the Core already stores: ' +
                        "generate this one once with a token that has it (or commit the entry), or ask the " +
                        `Core's operator for such a token (a line "<token> read,gen" in its token file)`
                    : wire?.hint ||
                        `Ask the Core's operator for a token with the "${route.right}" right ` +
                            `(a line "<token> ${route.right}" in its token file)`,
                details: { ...details, right: route.right },
            });
        }
        if (answer.status === 429) {
            const wait = retryAfterSeconds(answer.headers);
            return new NetworkError(`Cannot ${route.what} on the Core at ${this.url}: too many requests (HTTP 429)`, {
                hint: wait === undefined
                    ? "Retry in a moment; the Core limits requests per token"
                    : `Retry after ${wait} s (the Core's Retry-After); it limits requests per token`,
                details: { ...details, ...(wait === undefined ? {} : { retry_after: wait }) },
            });
        }
        if (wire) {
            const ErrorClass = Object.hasOwn(ERROR_CLASSES, wire.type)
                ? ERROR_CLASSES[wire.type]
                : NetworkError;
            return new ErrorClass(`Cannot ${route.what} on the Core at ${this.url}: ${wire.message}`, {
                hint: wire.hint ||
                    (answer.status === 404
                        ? `Set ${CORE_URL_ENV} (or core.url) to the Core's base URL exactly as capibara ` +
                            "serve prints it on its first line (http(s)://host:port, without /v1)"
                        : ""),
                details,
            });
        }
        return new NetworkError(`Cannot ${route.what} on the Core at ${this.url}: it answered ${answer.received}, not ` +
            "the Core's JSON", { hint: "Check that the URL points at a Capibara Core (capibara serve)", details });
    }
    #wireEntry(route, answer) {
        const problem = wireProblem(answer.json);
        if (problem === undefined)
            return answer.json;
        throw new NetworkError(`Cannot ${route.what} on the Core at ${this.url}: it answered ${answer.received} that is ` +
            `not an entry (${problem})`, {
            hint: "Check that the URL points at a Capibara Core of this version (capibara serve)",
            details: this.#details(route, { status: answer.status }),
        });
    }
}
;
;
;
;
;
;
;
