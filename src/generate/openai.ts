/**
 * The generator seam, and its implementation for any OpenAI-compatible Chat Completions server
 * (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio).
 *
 * @module
 */
import type OpenAI from "openai";
import type { APIError } from "openai";
import type { Language } from "../schema.ts";
import { type GeneratorSettings, resolveConfig } from "../config.ts";
import { NetworkError, TemplateError } from "../errors.ts";
import { checkBundle, ContractViolation, extractJson } from "../contract/bundle.ts";
import { repairMessage, replyJsonSchema, systemPrompt, userMessage } from "./templates.ts";
import type { GenerateOptions, GenerateRequest, GenerateResult, Generator } from "./types.ts";

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
  /** Sampling seed sent with every request (default 7). */
  seed?: number;
  /** Replies sent back for repair after a contract violation (default 2). */
  maxRepairs?: number;
}

export { DEFAULT_MODEL, OPENAI_BASE_URL } from "../config.ts";

const DEFAULTS = {
  timeoutMs: 120_000,
  maxRetries: 2,
  seed: 7,
  maxRepairs: 2,
} satisfies Partial<OpenAIGeneratorOptions>;

type Message = { role: "system" | "user" | "assistant"; content: string };

/** The OpenAI client library, loaded on the first request only: a cache hit never pays for it. */
type Client = typeof import("openai");
let client: Client | undefined;
async function loadClient(): Promise<Client> {
  return client ??= await import("openai");
}

/** A generator backed by an OpenAI-compatible Chat Completions endpoint. */
export class OpenAIGenerator implements Generator {
  /** Always `"openai"`: any OpenAI-compatible server. */
  readonly kind = "openai";
  /** Base URL of the server. */
  readonly baseURL: string;
  /** Model name. */
  readonly model: string;
  #client?: OpenAI;
  #options: Required<OpenAIGeneratorOptions>;
  #calls = 0;
  #useResponseFormat = true;

  /** A generator for one server and model; nothing is sent before the first `generate()`. */
  constructor(options: OpenAIGeneratorOptions) {
    this.#options = { ...DEFAULTS, ...stripUndefined(options) };
    this.baseURL = options.baseURL;
    this.model = options.model;
  }

  async #chat(): Promise<OpenAI> {
    const { default: OpenAIClient } = await loadClient();
    return this.#client ??= new OpenAIClient({
      baseURL: this.baseURL,
      apiKey: this.#options.apiKey,
      organization: null,
      project: null,
      timeout: this.#options.timeoutMs,
      maxRetries: this.#options.maxRetries,
    });
  }

  /** Whether requests still carry `response_format` (false once the server rejected it). */
  get usesResponseFormat(): boolean {
    return this.#useResponseFormat;
  }

  /** Generates a bundle, sending contract violations back to the model for repair. */
  async generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
    const messages: Message[] = [
      { role: "system", content: systemPrompt(req.language) },
      { role: "user", content: userMessage(req) },
    ];
    const maxAttempts = 1 + this.#options.maxRepairs;
    let lastReason = "";
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      opts.progress?.(
        attempt === 1
          ? `Generating a ${req.language} script with ${this.model}`
          : `Repairing the script with ${this.model} (attempt ${attempt}/${maxAttempts})`,
      );
      const { content, truncated } = await this.#complete(messages, req.language, opts.signal);
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
        return { bundle, model: this.model, attempts: attempt };
      } catch (err) {
        if (!(err instanceof ContractViolation)) throw err;
        lastReason = err.reason;
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
        details: { model: this.model, attempts: maxAttempts, reason: lastReason },
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
    for (;;) {
      const first = this.#calls === 0;
      this.#calls++;
      const withFormat = this.#useResponseFormat;
      try {
        const completion = await chat.chat.completions.create({
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
        }, { signal });
        const choice = completion.choices?.[0];
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

  #networkError(err: unknown, library: Client, signal?: AbortSignal): unknown {
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = library;
    if (err instanceof APIUserAbortError || signal?.aborted) return signal?.reason ?? err;
    const where = this.baseURL;
    const retries = this.#options.maxRetries;
    if (err instanceof APIConnectionTimeoutError) {
      return new NetworkError(
        `The generator at ${where} did not answer within ${this.#options.timeoutMs} ms ` +
          `(${retries} retries)`,
        {
          hint: "Check that the server runs and CAPIBARA_BASE_URL points at it; " +
            "slow local models may need a longer timeout",
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
 */
export function generatorFromConfig(settings: GeneratorSettings): OpenAIGenerator | undefined {
  if (!settings.configured) return undefined;
  return new OpenAIGenerator({
    baseURL: settings.baseUrl,
    // Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
    apiKey: settings.apiKey ?? "not-needed",
    model: settings.model,
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
