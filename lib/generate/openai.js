// Generated from src/generate/openai.ts by scripts/build_js.ts (sha256 1ab2f886d14e0182657e979304f5005114aeab1cf63eba7a21166a860c62907b): do not edit; `deno task build:js` writes it.
export var shownUrl = (function (url) {
    return url.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#]*@/i, "$1");
});
export var checkBaseUrl = (function (baseURL) {
    let url;
    try {
        url = new URL(baseURL);
    }
    catch {
        url = undefined;
    }
    if (url?.protocol === "http:" || url?.protocol === "https:")
        return;
    const shown = shownUrl(baseURL);
    const example = /^[a-z][a-z0-9+.-]*:\/\//i.test(baseURL)
        ? ""
        : ` (did you mean http://${shown}?)`;
    throw new ValidationError(`Cannot use the generator base URL "${shown}": it is not an http:// or https:// URL`, {
        hint: `Set CAPIBARA_BASE_URL (or generator.base_url) to a full URL${example}, ` +
            "e.g. http://localhost:11434/v1",
        details: { base_url: shown },
    });
});
var loadClient = (async function () {
    return client ??= (await import("npm:openai@^7.57.0/client")).OpenAI;
});
var loadContract = (async function () {
    return { ...await import("../contract/bundle.js"), ...await import("./templates.js") };
});
var stripUndefined = (function (value) {
    return Object.fromEntries(Object.entries(value).filter((([, v]) => v !== undefined)));
});
var serverMessage = (function (err) {
    const body = err.error;
    const text = typeof body?.message === "string" ? body.message : "";
    return text === "" ? "" : `: ${text}`;
});
var rejectsResponseFormat = (function (err, firstCall, library) {
    const { APIConnectionError, APIError } = library;
    if (!(err instanceof APIError) || err instanceof APIConnectionError)
        return false;
    if (err.status !== 400 && err.status !== 422)
        return false;
    if (firstCall)
        return true;
    const text = `${err.message} ${JSON.stringify(err.error ?? "")} ${err.param ?? ""}`;
    return /response_format|json_schema|structured output/i.test(text);
});
export var generatorFromConfig = (function (settings) {
    if (!settings.configured)
        return undefined;
    checkBaseUrl(settings.baseUrl);
    if (settings.apiKey !== undefined && /[\0-\x1f\x7f]/.test(settings.apiKey)) {
        throw new ValidationError("The API key (CAPIBARA_API_KEY or OPENAI_API_KEY) holds a control character, such as a " +
            "line break, which no HTTP header may carry", { hint: "Set it to the key alone: no quotes, spaces or trailing newline" });
    }
    return new OpenAIGenerator({
        baseURL: settings.baseUrl,
        apiKey: settings.apiKey ?? "not-needed",
        model: settings.model,
        discoverModel: discoversModel(settings),
        timeoutMs: settings.timeoutSeconds === undefined
            ? undefined
            : Math.round(settings.timeoutSeconds * 1000),
    });
});
export var generatorFromEnv = (function (env, config = {}) {
    return generatorFromConfig(resolveConfig({ trustProjectConfig: true }, env, { generator: config }).generator);
});
import { step } from "../_timings.js";
import { discoversModel, resolveConfig } from "../config.js";
import { NetworkError, TemplateError, ValidationError } from "../errors.js";
import { DEFAULT_GENERATE_TIMEOUT_SECONDS } from "../config_trust.js";
import { readBounded, TooLarge } from "../_body.js";
const MAX_COMPLETION_BYTES = 16 * 1024 ** 2;
export { DEFAULT_MODEL, OPENAI_BASE_URL } from "../config.js";
const DEFAULTS = {
    timeoutMs: DEFAULT_GENERATE_TIMEOUT_SECONDS * 1000,
    maxRetries: 2,
    seed: 7,
    maxRepairs: 2,
    discoverModel: false,
};
;
;
let client;
;
;
export class OpenAIGenerator {
    kind = "openai";
    baseURL;
    #model;
    #client;
    #options;
    #calls = 0;
    #useResponseFormat = true;
    constructor(options) {
        this.#options = { ...DEFAULTS, ...stripUndefined(options) };
        this.baseURL = options.baseURL;
        this.#model = options.model;
    }
    async #chat() {
        const OpenAIClient = await loadClient();
        return this.#client ??= new OpenAIClient({
            baseURL: this.baseURL,
            apiKey: this.#options.apiKey,
            organization: null,
            project: null,
            timeout: this.#options.timeoutMs,
            maxRetries: this.#options.maxRetries,
        });
    }
    get model() {
        return this.#model;
    }
    async #discoverModel(signal) {
        if (!this.#options.discoverModel)
            return;
        let models;
        try {
            const page = await (await this.#chat()).models.list({ signal, maxRetries: 0 });
            models = page.data.map(((m) => m.id));
        }
        catch (err) {
            throw this.#networkError(err, await loadClient(), signal);
        }
        if (models.length !== 1) {
            throw new ValidationError(`No model is set, and the generator at ${shownUrl(this.baseURL)} lists ${models.length === 0 ? "none" : `${models.length}: ${models.slice(0, 10).join(", ")}`}`, {
                hint: "Choose one with --model, CAPIBARA_MODEL or generator.model in " +
                    ".capibara/config.json",
                details: { base_url: shownUrl(this.baseURL), models: models.slice(0, 50) },
            });
        }
        this.#model = models[0];
        this.#options.discoverModel = false;
    }
    get usesResponseFormat() {
        return this.#useResponseFormat;
    }
    async generate(req, opts = {}) {
        checkBaseUrl(this.baseURL);
        await this.#discoverModel(opts.signal);
        const { checkBundle, ContractViolation, extractJson, repairMessage, systemPrompt, userMessage, } = await loadContract();
        step("generation: the contract's modules");
        const messages = [
            { role: "system", content: systemPrompt(req.language) },
            { role: "user", content: userMessage(req) },
        ];
        const maxAttempts = 1 + this.#options.maxRepairs;
        let lastReason = "";
        let lastReply = "";
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
            opts.progress?.(attempt === 1
                ? `Generating a ${req.language} script with ${this.model}`
                : `Repairing the script with ${this.model} (attempt ${attempt}/${maxAttempts})`);
            const { content, truncated } = await this.#complete(messages, req.language, opts.signal);
            step("generation: the model's reply (the client's modules, the request)");
            try {
                let raw;
                try {
                    if (truncated) {
                        throw new Error("The reply was cut off at the token limit: write a shorter script and readme");
                    }
                    raw = extractJson(content);
                }
                catch (err) {
                    throw new ContractViolation(err instanceof Error ? err.message : String(err));
                }
                const bundle = await checkBundle(raw, { language: req.language });
                step("generation: the contract's checks");
                return { bundle, model: this.model, attempts: attempt };
            }
            catch (err) {
                if (!(err instanceof ContractViolation))
                    throw err;
                lastReason = err.reason;
                lastReply = content;
                messages.push({ role: "assistant", content }, { role: "user", content: repairMessage(err.reason) });
            }
        }
        throw new TemplateError(`The model "${this.model}" broke the generation contract in ${maxAttempts} attempts: ` +
            lastReason, {
            hint: "Rephrase the prompt more precisely, or use a stronger model (CAPIBARA_MODEL)",
            details: {
                model: this.model,
                attempts: maxAttempts,
                reason: lastReason,
                reply: lastReply.slice(0, 4000),
            },
        });
    }
    async #complete(messages, language, signal) {
        const chat = await this.#chat();
        const { replyJsonSchema } = await loadContract();
        for (;;) {
            const first = this.#calls === 0;
            this.#calls++;
            const withFormat = this.#useResponseFormat;
            try {
                const response = await chat.chat.completions.create({
                    model: this.model,
                    messages,
                    temperature: 0,
                    seed: this.#options.seed,
                    ...(withFormat
                        ? {
                            response_format: {
                                type: "json_schema",
                                json_schema: replyJsonSchema(language),
                            },
                        }
                        : {}),
                }, { signal }).asResponse();
                const completion = await this.#readCompletion(response);
                const choice = completion.choices[0];
                return {
                    content: choice?.message?.content ?? "",
                    truncated: choice?.finish_reason === "length",
                };
            }
            catch (err) {
                if (withFormat && rejectsResponseFormat(err, first, await loadClient())) {
                    this.#useResponseFormat = false;
                    continue;
                }
                throw this.#networkError(err, await loadClient(), signal);
            }
        }
    }
    async #readCompletion(response) {
        const contentType = response.headers.get("content-type") ?? "none";
        let text;
        try {
            text = new TextDecoder().decode(await readBounded(response, MAX_COMPLETION_BYTES));
        }
        catch (error) {
            if (!(error instanceof TooLarge))
                throw error;
            throw new NetworkError(`The generator's reply is larger than ${MAX_COMPLETION_BYTES / 1024 ** 2} MiB`, { hint: "Check CAPIBARA_BASE_URL: an OpenAI-compatible server answers far less" });
        }
        let body;
        try {
            body = JSON.parse(text);
        }
        catch {
            body = undefined;
        }
        const choices = body?.choices;
        if (Array.isArray(choices))
            return body;
        const where = shownUrl(this.baseURL);
        const what = body === undefined ? "is not JSON" : "is not a chat completion (no choices)";
        throw new NetworkError(`The generator at ${where} answered HTTP ${response.status} with a body that ${what}`, {
            hint: `Check that the base URL ${where} is an OpenAI-compatible API, usually ending ` +
                `in /v1 (CAPIBARA_BASE_URL, --base-url or generator.base_url); it sent ` +
                `content type ${contentType}, starting with ${JSON.stringify(text.slice(0, 80))}`,
            details: {
                base_url: where,
                status: response.status,
                content_type: contentType,
                body_start: text.slice(0, 200),
            },
        });
    }
    #networkError(err, library, signal) {
        const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = library;
        if (err instanceof APIUserAbortError || signal?.aborted)
            return signal?.reason ?? err;
        const where = shownUrl(this.baseURL);
        const retries = this.#options.maxRetries;
        if (err instanceof APIConnectionTimeoutError) {
            return new NetworkError(`The generator at ${where} did not answer within ${this.#options.timeoutMs} ms ` +
                `(${retries} retries)`, {
                hint: "Check that the server runs and CAPIBARA_BASE_URL points at it; a slow local " +
                    "model may need a longer limit: CAPIBARA_GENERATE_TIMEOUT=600 (seconds) or " +
                    "generator.timeout in .capibara/config.json",
                cause: err,
                details: { base_url: where },
            });
        }
        if (err instanceof APIConnectionError) {
            const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
            return new NetworkError(`Cannot reach the generator at ${where}${cause}`, {
                hint: "Check CAPIBARA_BASE_URL (or OPENAI_BASE_URL) and that the server runs",
                cause: err,
                details: { base_url: where },
            });
        }
        if (err instanceof APIError) {
            const status = err.status ?? 0;
            const message = serverMessage(err);
            const details = { base_url: where, status, model: this.model };
            if (status === 401 || status === 403) {
                return new NetworkError(`The generator at ${where} refused the credentials (HTTP ${status})${message}`, {
                    hint: "Check CAPIBARA_API_KEY (or OPENAI_API_KEY)",
                    cause: err,
                    details,
                });
            }
            if (status === 429 || status >= 500) {
                return new NetworkError(`The generator at ${where} answered HTTP ${status} after ${retries} retries${message}`, {
                    hint: "The server is overloaded or failing: try again later, and check that " +
                        "CAPIBARA_BASE_URL points at a running server",
                    cause: err,
                    details,
                });
            }
            if (status === 404) {
                return new NetworkError(`The generator at ${where} answered HTTP 404 for model "${this.model}"${message}`, {
                    hint: "Check CAPIBARA_MODEL and that CAPIBARA_BASE_URL ends with the API path " +
                        "(usually /v1)",
                    cause: err,
                    details,
                });
            }
            return new NetworkError(`The generator at ${where} refused the request (HTTP ${status})${message}`, {
                hint: "Check CAPIBARA_BASE_URL and CAPIBARA_MODEL",
                cause: err,
                details,
            });
        }
        return err;
    }
}
;
;
;
;
;
