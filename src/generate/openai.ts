/**
 * The generator seam, and its implementation for any OpenAI-compatible Chat Completions server
 * (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio).
 *
 * @module
 */
import { step } from "../_timings.ts";
import type { OpenAI } from "npm:openai@^7.57.0/client";
import type { APIError } from "npm:openai@^7.57.0/error";
import type { Language } from "../schema.ts";
import { discoversModel, type GeneratorSettings, resolveConfig } from "../config.ts";
import { NetworkError, TemplateError, ValidationError } from "../errors.ts";
import { DEFAULT_GENERATE_TIMEOUT_SECONDS } from "../config_trust.ts";
import type { GenerateOptions, GenerateRequest, GenerateResult, Generator } from "./types.ts";
import { readBounded, TooLarge } from "../_body.ts";

/** The most of a completion read: a script, its manifest and requirements are kilobytes. */
const MAX_COMPLETION_BYTES = 16 * 1024 ** 2;

/** Options of {@linkcode OpenAIGenerator}. */
export interface OpenAIGeneratorOptions {
  /** Base URL of the server, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
  /** API key (any placeholder for servers that need none). */
  apiKey: string;
  /** Model name. */
  model: string;
  /** Time limit of one HTTP request in milliseconds (default 120000). */
  timeoutMs?: number;
  /** Retries of connection errors, timeouts, 429 and 5xx, with backoff (default 2). */
  maxRetries?: number;
  /**
   * No model was chosen: before the first request, ask the server (`GET /models`) and use its
   * only model; several or none is a `ValidationError` asking for one (default false).
   */
  discoverModel?: boolean;
  /** Sampling seed sent with every request (default 7). */
  seed?: number;
  /** Replies sent back for repair after a contract violation (default 2). */
  maxRepairs?: number;
}

export { DEFAULT_MODEL, OPENAI_BASE_URL } from "../config.ts";

const DEFAULTS = {
  timeoutMs: DEFAULT_GENERATE_TIMEOUT_SECONDS * 1000,
  maxRetries: 2,
  seed: 7,
  maxRepairs: 2,
  discoverModel: false,
} satisfies Partial<OpenAIGeneratorOptions>;

type Message = { role: "system" | "user" | "assistant"; content: string };

type ChatCompletionBody = {
  choices: { message?: { content?: string | null }; finish_reason?: string | null }[];
};

/**
 * A URL as messages show it: without the user name and password it may carry
 * (`https://user:secret@host/v1` is shown as `https://host/v1`), which every reader of an error
 * (a Core's clients, a CI log) would otherwise see.
 */
export function shownUrl(url: string): string {
  return url.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#]*@/i, "$1");
}

/**
 * The base URL, checked: an absolute `http:` or `https:` URL.
 *
 * @throws {ValidationError} for anything else (a missing scheme, another protocol): a setting to
 * correct, as a bad Core URL is, not a server that failed.
 */
export function checkBaseUrl(baseURL: string): void {
  let url: URL | undefined;
  try {
    url = new URL(baseURL);
  } catch {
    url = undefined;
  }
  if (url?.protocol === "http:" || url?.protocol === "https:") return;
  const shown = shownUrl(baseURL);
  const example = /^[a-z][a-z0-9+.-]*:\/\//i.test(baseURL)
    ? ""
    : ` (did you mean http://${shown}?)`;
  throw new ValidationError(
    `Cannot use the generator base URL "${shown}": it is not an http:// or https:// URL`,
    {
      hint: `Set CAPIBARA_BASE_URL (or generator.base_url) to a full URL${example}, ` +
        "e.g. http://localhost:11434/v1",
      details: { base_url: shown },
    },
  );
}

// The client module alone: the package's index also loads its Azure and Bedrock clients and its
// helpers, which a generation never uses (≈ 30 ms of every miss's start). The error classes are
// the client's static members.
/** The OpenAI client library, loaded on the first request only: a cache hit never pays for it. */
type Client = typeof OpenAI;
let client: Client | undefined;
async function loadClient(): Promise<Client> {
  return client ??= (await import("npm:openai@^7.57.0/client")).OpenAI;
}

/** The contract's checks and the prompts, loaded on the first request only (a hit never asks). */
async function loadContract() {
  return { ...await import("../contract/bundle.ts"), ...await import("./templates.ts") };
}

/** A generator backed by an OpenAI-compatible Chat Completions endpoint. */
export class OpenAIGenerator implements Generator {
  /** Always `"openai"`: any OpenAI-compatible server. */
  readonly kind = "openai";
  /** Base URL of the server. */
  readonly baseURL: string;
  #model: string;
  #client?: OpenAI;
  #options: Required<OpenAIGeneratorOptions>;
  #calls = 0;
  #useResponseFormat = true;

  /** A generator for one server and model; nothing is sent before the first `generate()`. */
  constructor(options: OpenAIGeneratorOptions) {
    this.#options = { ...DEFAULTS, ...stripUndefined(options) };
    this.baseURL = options.baseURL;
    this.#model = options.model;
  }

  async #chat(): Promise<OpenAI> {
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

  /** Model name (the server's only model once discovered, see `discoverModel`). */
  get model(): string {
    return this.#model;
  }

  /** Asks the server for its models and takes the only one. */
  async #discoverModel(signal?: AbortSignal): Promise<void> {
    if (!this.#options.discoverModel) return;
    let models: string[];
    try {
      const page = await (await this.#chat()).models.list({ signal, maxRetries: 0 });
      models = page.data.map((m) => m.id);
    } catch (err) {
      throw this.#networkError(err, await loadClient(), signal);
    }
    if (models.length !== 1) {
      throw new ValidationError(
        `No model is set, and the generator at ${shownUrl(this.baseURL)} lists ${
          models.length === 0 ? "none" : `${models.length}: ${models.slice(0, 10).join(", ")}`
        }`,
        {
          hint: "Choose one with --model, CAPIBARA_MODEL or generator.model in " +
            ".capibara/config.json",
          details: { base_url: shownUrl(this.baseURL), models: models.slice(0, 50) },
        },
      );
    }
    this.#model = models[0]!;
    this.#options.discoverModel = false;
  }

  /** Whether requests still carry `response_format` (false once the server rejected it). */
  get usesResponseFormat(): boolean {
    return this.#useResponseFormat;
  }

  /** Generates a bundle, sending contract violations back to the model for repair. */
  async generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
    checkBaseUrl(this.baseURL);
    await this.#discoverModel(opts.signal);
    const {
      checkBundle,
      ContractViolation,
      extractJson,
      repairMessage,
      systemPrompt,
      userMessage,
    } = await loadContract();
    step("generation: the contract's modules");
    const messages: Message[] = [
      { role: "system", content: systemPrompt(req.language) },
      { role: "user", content: userMessage(req) },
    ];
    const maxAttempts = 1 + this.#options.maxRepairs;
    let lastReason = "";
    let lastReply = "";
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      opts.progress?.(
        attempt === 1
          ? `Generating a ${req.language} script with ${this.model}`
          : `Repairing the script with ${this.model} (attempt ${attempt}/${maxAttempts})`,
      );
      const { content, truncated } = await this.#complete(messages, req.language, opts.signal);
      step("generation: the model's reply (the client's modules, the request)");
      try {
        let raw: unknown;
        try {
          if (truncated) {
            throw new Error(
              "The reply was cut off at the token limit: write a shorter script and readme",
            );
          }
          raw = extractJson(content);
        } catch (err) {
          throw new ContractViolation(err instanceof Error ? err.message : String(err));
        }
        const bundle = await checkBundle(raw, { language: req.language });
        step("generation: the contract's checks");
        return { bundle, model: this.model, attempts: attempt };
      } catch (err) {
        if (!(err instanceof ContractViolation)) throw err;
        lastReason = err.reason;
        lastReply = content;
        messages.push(
          { role: "assistant", content },
          { role: "user", content: repairMessage(err.reason) },
        );
      }
    }
    throw new TemplateError(
      `The model "${this.model}" broke the generation contract in ${maxAttempts} attempts: ` +
        lastReason,
      {
        hint: "Rephrase the prompt more precisely, or use a stronger model (CAPIBARA_MODEL)",
        details: {
          model: this.model,
          attempts: maxAttempts,
          reason: lastReason,
          // What the model last answered (the start of it), for `run --verbose`.
          reply: lastReply.slice(0, 4000),
        },
      },
    );
  }

  /** One reply's content. Falls back to no `response_format` when the server rejects it. */
  async #complete(
    messages: Message[],
    language: Language,
    signal?: AbortSignal,
  ): Promise<{ content: string; truncated: boolean }> {
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
                type: "json_schema" as const,
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
      } catch (err) {
        if (withFormat && rejectsResponseFormat(err, first, await loadClient())) {
          this.#useResponseFormat = false;
          continue;
        }
        throw this.#networkError(err, await loadClient(), signal);
      }
    }
  }

  /**
   * The parsed body of a successful reply: JSON with a `choices` list. Anything else (an HTML
   * page, a proxy's error text, JSON of another API) says the base URL is wrong.
   */
  async #readCompletion(response: Response): Promise<ChatCompletionBody> {
    const contentType = response.headers.get("content-type") ?? "none";
    let text: string;
    try {
      text = new TextDecoder().decode(await readBounded(response, MAX_COMPLETION_BYTES));
    } catch (error) {
      if (!(error instanceof TooLarge)) throw error;
      throw new NetworkError(
        `The generator's reply is larger than ${MAX_COMPLETION_BYTES / 1024 ** 2} MiB`,
        { hint: "Check CAPIBARA_BASE_URL: an OpenAI-compatible server answers far less" },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const choices = (body as { choices?: unknown } | null | undefined)?.choices;
    if (Array.isArray(choices)) return body as ChatCompletionBody;
    const where = shownUrl(this.baseURL);
    const what = body === undefined ? "is not JSON" : "is not a chat completion (no choices)";
    throw new NetworkError(
      `The generator at ${where} answered HTTP ${response.status} with a body that ${what}`,
      {
        hint: `Check that the base URL ${where} is an OpenAI-compatible API, usually ending ` +
          `in /v1 (CAPIBARA_BASE_URL, --base-url or generator.base_url); it sent ` +
          `content type ${contentType}, starting with ${JSON.stringify(text.slice(0, 80))}`,
        details: {
          base_url: where,
          status: response.status,
          content_type: contentType,
          body_start: text.slice(0, 200),
        },
      },
    );
  }

  #networkError(err: unknown, library: Client, signal?: AbortSignal): unknown {
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = library;
    if (err instanceof APIUserAbortError || signal?.aborted) return signal?.reason ?? err;
    const where = shownUrl(this.baseURL);
    const retries = this.#options.maxRetries;
    if (err instanceof APIConnectionTimeoutError) {
      return new NetworkError(
        `The generator at ${where} did not answer within ${this.#options.timeoutMs} ms ` +
          `(${retries} retries)`,
        {
          hint: "Check that the server runs and CAPIBARA_BASE_URL points at it; a slow local " +
            "model may need a longer limit: CAPIBARA_GENERATE_TIMEOUT=600 (seconds) or " +
            "generator.timeout in .capibara/config.json",
          cause: err,
          details: { base_url: where },
        },
      );
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
        return new NetworkError(
          `The generator at ${where} refused the credentials (HTTP ${status})${message}`,
          {
            hint: "Check CAPIBARA_API_KEY (or OPENAI_API_KEY)",
            cause: err,
            details,
          },
        );
      }
      if (status === 429 || status >= 500) {
        return new NetworkError(
          `The generator at ${where} answered HTTP ${status} after ${retries} retries${message}`,
          {
            hint: "The server is overloaded or failing: try again later, and check that " +
              "CAPIBARA_BASE_URL points at a running server",
            cause: err,
            details,
          },
        );
      }
      if (status === 404) {
        return new NetworkError(
          `The generator at ${where} answered HTTP 404 for model "${this.model}"${message}`,
          {
            hint: "Check CAPIBARA_MODEL and that CAPIBARA_BASE_URL ends with the API path " +
              "(usually /v1)",
            cause: err,
            details,
          },
        );
      }
      return new NetworkError(
        `The generator at ${where} refused the request (HTTP ${status})${message}`,
        {
          hint: "Check CAPIBARA_BASE_URL and CAPIBARA_MODEL",
          cause: err,
          details,
        },
      );
    }
    return err;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as T;
}

/** The server's own error message, as `: …`, or "". */
function serverMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  const text = typeof body?.message === "string" ? body.message : "";
  return text === "" ? "" : `: ${text}`;
}

/** True when `err` says the server does not support `response_format`. */
function rejectsResponseFormat(err: unknown, firstCall: boolean, library: Client): boolean {
  const { APIConnectionError, APIError } = library;
  if (!(err instanceof APIError) || err instanceof APIConnectionError) return false;
  if (err.status !== 400 && err.status !== 422) return false;
  if (firstCall) return true;
  const text = `${err.message} ${JSON.stringify(err.error ?? "")} ${err.param ?? ""}`;
  return /response_format|json_schema|structured output/i.test(text);
}

/** Generator settings read from `.capibara/config.json`. */
export interface GeneratorConfig {
  base_url?: string;
  model?: string;
}

/**
 * The generator of resolved settings (see `resolveConfig`), or undefined when neither a base URL
 * nor an API key was configured.
 *
 * @throws {ValidationError} when the base URL is not an http:// or https:// URL
 */
export function generatorFromConfig(settings: GeneratorSettings): OpenAIGenerator | undefined {
  if (!settings.configured) return undefined;
  // Refused here, before anything is asked of it: a Core with a bad one does not start.
  checkBaseUrl(settings.baseUrl);
  // A key pasted with its line break cannot be sent in a header: the user's to fix, not the
  // generator's failure. Never shown.
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  if (settings.apiKey !== undefined && /[\0-\x1f\x7f]/.test(settings.apiKey)) {
    throw new ValidationError(
      "The API key (CAPIBARA_API_KEY or OPENAI_API_KEY) holds a control character, such as a " +
        "line break, which no HTTP header may carry",
      { hint: "Set it to the key alone: no quotes, spaces or trailing newline" },
    );
  }
  return new OpenAIGenerator({
    baseURL: settings.baseUrl,
    // Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
    apiKey: settings.apiKey ?? "not-needed",
    model: settings.model,
    // The default model is OpenAI's: another server is asked which one it has.
    discoverModel: discoversModel(settings),
    timeoutMs: settings.timeoutSeconds === undefined
      ? undefined
      : Math.round(settings.timeoutSeconds * 1000),
  });
}

/**
 * The generator configured by the environment (`CAPIBARA_BASE_URL` or `OPENAI_BASE_URL`,
 * `CAPIBARA_API_KEY` or `OPENAI_API_KEY`, `CAPIBARA_MODEL`), falling back to `config`, resolved
 * as `resolveConfig` does. Undefined when neither a base URL nor an API key is set.
 */
export function generatorFromEnv(
  env: Record<string, string | undefined>,
  config: GeneratorConfig = {},
): OpenAIGenerator | undefined {
  // `config` comes from the caller's own code, not from a project's file: it needs no trust.
  return generatorFromConfig(
    resolveConfig({ trustProjectConfig: true }, env, { generator: config }).generator,
  );
}
