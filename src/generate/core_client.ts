/**
 * The client of a Core (`capibara serve`): the shared cache (`GET`/`PUT /v1/entries/<fp>`) and
 * generation on the Core (`POST /v1/gen`). It moves entries in their wire form and never trusts
 * them: whoever receives one stores it through `Store.importEntry`, which verifies it exactly like
 * a cached entry, signature policy included.
 *
 * What a Core (or anyone between it and us) sends is untrusted too: bodies are bounded, parsed only
 * as the wire format, never shown raw, and every failure is one of the taxonomy's errors, naming
 * the Core's URL and never the token. Redirects are not followed (they could downgrade to http or
 * carry the token elsewhere), and plain http is refused for any host but loopback.
 *
 * @module
 */
import { FINGERPRINT_FORM } from "../types.ts";
import {
  type CapibaraError,
  type CapibaraErrorOptions,
  DependencyError,
  type ErrorType,
  ExecError,
  IntegrityError,
  NetworkError,
  PermissionError,
  TemplateError,
  ValidationError,
} from "../errors.ts";
import type { Language, Mode } from "../types.ts";
import type { WireEntry } from "../store/store.ts";
import { MAX_MANIFEST_DEPTH, textNestsDeeperThan } from "../store/entry.ts";
import { readBounded, TooLarge } from "../_body.ts";
import { type EntryIdentity, identityDiffers } from "../fingerprint.ts";

export type { WireEntry } from "../store/store.ts";

/** The environment variable naming the Core's base URL. */
export const CORE_URL_ENV = "CAPIBARA_CORE_URL";
/** The environment variable holding the bearer token sent to the Core. */
export const CORE_TOKEN_ENV = "CAPIBARA_CORE_TOKEN";

/** What `POST /v1/gen` generates. */
export interface CoreGenRequest {
  prompt: string;
  context: unknown;
  language: Language;
  mode: Mode;
}

/** What `POST /v1/gen` answered. */
export interface CoreGenResult {
  /** The entry, unverified: its manifest is whatever the Core sent. */
  entry: WireEntry;
  /** `hit` when the Core had it already (no LLM call), `miss` when it generated it. */
  cache?: "hit" | "miss";
}

/** What `PUT /v1/entries/<fp>` did. */
export type PutOutcome = "created" | "identical";

/** Options of {@linkcode CoreClient}. */
export interface CoreClientOptions {
  /** The Core's base URL, e.g. `https://core.example.com` (a path prefix is kept). */
  url: string;
  /** Bearer token (`CAPIBARA_CORE_TOKEN`); never logged, never in an error. */
  token?: string;
  /** Time limit of an entry request (GET, PUT) in milliseconds (default 30,000). */
  timeoutMs?: number;
  /** Time limit of a generation request in milliseconds (default 600,000). */
  genTimeoutMs?: number;
  /** Largest response body read, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /**
   * Retries after a 429 whose `Retry-After` is at most {@linkcode maxRetryAfterSeconds}
   * (default 2).
   */
  retries?: number;
  /** Longest `Retry-After` waited for before retrying (default 5 seconds). */
  maxRetryAfterSeconds?: number;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of one request. */
export interface CoreRequestOptions {
  /** Cancels the request. */
  signal?: AbortSignal;
}

const DEFAULTS = {
  timeoutMs: 30_000,
  genTimeoutMs: 600_000,
  maxBodyBytes: 16 * 1024 ** 2,
  retries: 2,
  maxRetryAfterSeconds: 5,
};

/** Longest text kept from a Core's error message or hint. */
const MAX_TEXT = 1000;
/** A file name an entry may hold: a plain name, never a path. */
const FILE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

const ERROR_CLASSES: Readonly<
  Record<ErrorType, new (message: string, options?: CapibaraErrorOptions) => CapibaraError>
> = {
  ValidationError,
  DependencyError,
  NetworkError,
  ExecError,
  TemplateError,
  PermissionError,
  IntegrityError,
};

/**
 * Whether a host name is loopback: `localhost`, `127.0.0.0/8` or `::1`. Not a name below
 * `.localhost`: many resolvers send it to DNS, and the token would go in clear text to whatever
 * answers.
 */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The Core's base URL, checked: `https:`, or `http:` to a loopback address only (a token and
 * entries sent in clear text elsewhere could be read or replaced on the way), with no user info.
 * The returned URL ends with `/`, so that API paths resolve below any path prefix.
 *
 * @throws {ValidationError} for anything else
 */
export function checkCoreUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const hint = `Set ${CORE_URL_ENV} (or core.url in .capibara/config.json, or the SDK's ` +
    "core.url) to the Core's https:// URL, e.g. https://core.example.com";
  if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
    // "127.0.0.1:8787" or "core.example.com": the scheme is missing; say the URL that would work.
    const bare = /^[\w.-]+(:\d+)?(\/.*)?$/.test(url) ? new URL(`http://${url}`) : undefined;
    const meant = bare && `${isLoopback(bare.hostname) ? "http" : "https"}://${url}`;
    throw new ValidationError(`Cannot use the Core URL "${url}": it is not an https:// URL`, {
      hint: meant ? `Did you mean ${meant}? ${hint}` : hint,
      details: { core_url: url },
    });
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new ValidationError(
      "Cannot use the Core URL: it holds a user name or password (they would be sent and shown)",
      { hint: `Give the token in ${CORE_TOKEN_ENV} instead, and the URL without user info` },
    );
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new ValidationError(`Cannot use the Core URL "${url}": it has a query or fragment`, {
      hint,
      details: { core_url: url },
    });
  }
  if (parsed.protocol === "http:" && !isLoopback(parsed.hostname)) {
    throw new ValidationError(
      `Cannot use the Core URL "${url}": plain http:// is only allowed to a loopback address ` +
        "(the token and the entries could be read or replaced on the way)",
      {
        hint: "Serve the Core over https:// (e.g. behind a TLS-terminating proxy), or reach it " +
          "through a tunnel on loopback (ssh -L 8787:core:8787 …, then http://127.0.0.1:8787)",
        details: { core_url: url },
      },
    );
  }
  if (!parsed.pathname.endsWith("/")) parsed.pathname += "/";
  return parsed;
}

/** A short, single-line form of untrusted text from a server. */
function clip(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : text.slice(0, max) + "…";
}

/** A right a token holds on the Core (a route needs one). */
type Right = "read" | "gen" | "publish";

interface Route {
  method: "GET" | "POST" | "PUT";
  path: string;
  right: Right;
  /** What the request does, for messages ("fetch fp_…", "generate", "publish fp_…"). */
  what: string;
  body?: unknown;
  timeoutMs: number;
}

interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body was not JSON. */
  json: unknown;
  /** What the body was, for messages: content type and size (never the body). */
  received: string;
}

/** A client of one Core. Nothing is sent before the first request. */
export class CoreClient {
  /** The Core's base URL, as given (for messages). */
  readonly url: string;
  readonly #base: URL;
  readonly #token?: string;
  readonly #options: Required<Omit<CoreClientOptions, "token" | "url">>;

  /**
   * A client of the Core at `options.url`.
   *
   * @throws {ValidationError} when the URL is not https:// (or http:// to loopback), or the token
   *   is not printable ASCII
   */
  constructor(options: CoreClientOptions) {
    this.#base = checkCoreUrl(options.url);
    this.url = options.url.replace(/\/+$/, "");
    this.#token = options.token?.trim() || undefined;
    // Checked here, since an invalid header value's error would quote the token.
    if (this.#token !== undefined && !/^[\x21-\x7e]+$/.test(this.#token)) {
      throw new ValidationError(
        "Cannot use the Core token: it holds spaces, control or non-ASCII characters",
        { hint: `Set ${CORE_TOKEN_ENV} to the token exactly as the Core's token file lists it` },
      );
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

  /**
   * The shared entry of a fingerprint, unverified; undefined when the Core does not have it.
   *
   * @throws {NetworkError} when the Core cannot be reached or answers something else
   * @throws {PermissionError} when the token is missing, wrong, or lacks the `read` right
   */
  async getEntry(
    fingerprint: string,
    options: CoreRequestOptions = {},
  ): Promise<WireEntry | undefined> {
    checkFingerprint(fingerprint);
    const route: Route = {
      method: "GET",
      path: `v1/entries/${fingerprint}`,
      right: "read",
      what: `fetch ${fingerprint}`,
      timeoutMs: this.#options.timeoutMs,
    };
    const answer = await this.#request(route, options.signal);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.#error(route, answer);
    return this.#wireEntry(route, answer);
  }

  /**
   * Asks the Core for the entry of a request: its stored one, or one it generates (with its own
   * LLM and signing key). The entry is unverified.
   *
   * @throws {NetworkError} when the Core cannot be reached, or its generator failed to
   * @throws {TemplateError} when the Core's model kept breaking the generation contract
   * @throws {PermissionError} when the token is missing, wrong, or lacks the `gen` right
   */
  async generate(
    request: CoreGenRequest,
    options: CoreRequestOptions = {},
  ): Promise<CoreGenResult> {
    const route: Route = {
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
    if (answer.status !== 200) throw this.#error(route, answer);
    const cache = answer.headers.get("x-capibara-cache");
    return {
      entry: this.#wireEntry(route, answer),
      ...(cache === "hit" || cache === "miss" ? { cache } : {}),
    };
  }

  /**
   * Publishes an entry under its fingerprint: `created`, or `identical` when the Core holds the
   * same entry already.
   *
   * @throws {PermissionError} when the token is missing, wrong or lacks the `publish` right, or
   *   the Core refuses the entry's signature
   * @throws {IntegrityError} when the Core holds another entry under that fingerprint
   * @throws {NetworkError} when the Core cannot be reached or answers something else
   */
  async putEntry(
    fingerprint: string,
    entry: WireEntry,
    options: CoreRequestOptions = {},
  ): Promise<PutOutcome> {
    checkFingerprint(fingerprint);
    const route: Route = {
      method: "PUT",
      path: `v1/entries/${fingerprint}`,
      right: "publish",
      what: `publish ${fingerprint}`,
      body: { manifest: entry.manifest, files: entry.files },
      timeoutMs: this.#options.timeoutMs,
    };
    const answer = await this.#request(route, options.signal);
    if (answer.status === 201) return "created";
    if (answer.status === 200 || answer.status === 204) return "identical";
    throw this.#error(route, answer);
  }

  /** Sends a request, retrying a 429 with a short `Retry-After` a bounded number of times. */
  async #request(route: Route, signal?: AbortSignal): Promise<Answer> {
    for (let attempt = 0;; attempt++) {
      const answer = await this.#send(route, signal);
      if (answer.status !== 429 || attempt >= this.#options.retries) return answer;
      const wait = retryAfterSeconds(answer.headers);
      if (wait === undefined || wait > this.#options.maxRetryAfterSeconds) return answer;
      await sleep(wait * 1000, signal);
    }
  }

  async #send(route: Route, signal?: AbortSignal): Promise<Answer> {
    const url = new URL(route.path, this.#base);
    const timeout = AbortSignal.timeout(route.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (route.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#options.fetch(url, {
        method: route.method,
        headers,
        body: route.body === undefined ? undefined : JSON.stringify(route.body),
        redirect: "manual",
        signal: combined,
      });
    } catch (error) {
      throw this.#unreachable(route, error, signal, timeout);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readBounded(response, this.#options.maxBodyBytes);
    } catch (error) {
      if (error instanceof TooLarge) {
        throw new NetworkError(
          `Cannot use the answer of the Core at ${this.url}: its body is larger than ` +
            `${this.#options.maxBodyBytes} bytes`,
          {
            hint: "Check that the URL points at a Capibara Core",
            details: this.#details(route, { status: response.status }),
          },
        );
      }
      throw this.#unreachable(route, error, signal, timeout);
    }
    const type = clip(response.headers.get("content-type") ?? "no content type", 100);
    let json: unknown;
    try {
      // An answer nests as deep as an entry's manifest at most (and its envelope): deeper is no
      // answer of a Core's, and is not parsed.
      json = bytes.length === 0 || textNestsDeeperThan(bytes, MAX_MANIFEST_DEPTH + 8)
        ? undefined
        : JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      json = undefined;
    }
    return {
      status: response.status,
      headers: response.headers,
      json,
      received: `HTTP ${response.status}, ${type}, ${bytes.length} bytes`,
    };
  }

  #details(route: Route, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { core_url: this.url, request: `${route.method} /${route.path}`, ...extra };
  }

  /** The error of a request that got no answer: the user's abort, a timeout, or no connection. */
  #unreachable(
    route: Route,
    error: unknown,
    signal: AbortSignal | undefined,
    timeout: AbortSignal,
  ): unknown {
    if (signal?.aborted) return signal.reason ?? error;
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

  /** The taxonomy's error for an answer that is not the success the route expects. */
  #error(route: Route, answer: Answer): CapibaraError {
    const wire = wireError(answer.json);
    const said = wire ? `: ${wire.message}` : "";
    const details = this.#details(route, {
      status: answer.status,
      ...(wire ? { core_error: { type: wire.type, message: wire.message } } : {}),
    });
    if (answer.status >= 300 && answer.status < 400) {
      return new NetworkError(
        `Cannot ${route.what} on the Core at ${this.url}: it answered a redirect (HTTP ` +
          `${answer.status}), which is not followed`,
        {
          hint: `Set ${CORE_URL_ENV} (or core.url) to the Core's final https:// URL`,
          details,
        },
      );
    }
    if (answer.status === 401) {
      return new PermissionError(
        `Cannot ${route.what} on the Core at ${this.url}: ${
          this.#token === undefined ? "no token was sent" : "it refused the token"
        } (HTTP 401)`,
        {
          hint: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (SDK: core: ` +
            "{ url, token }); the Core's operator issues tokens",
          details,
        },
      );
    }
    if (answer.status === 403) {
      return new PermissionError(
        `Cannot ${route.what} on the Core at ${this.url}${
          said || `: the token lacks the ` +
            `"${route.right}" right`
        } (HTTP 403)`,
        {
          hint: route.right === "gen" && (!said || / right/.test(said))
            // A read-only token (CI's) reaches this on any request the Core has not stored.
            ? 'Without the "gen" right a token gets only the entries the Core already stores: ' +
              "generate this one once with a token that has it (or commit the entry), or ask the " +
              `Core's operator for such a token (a line "<token> read,gen" in its token file)`
            : wire?.hint ||
              `Ask the Core's operator for a token with the "${route.right}" right ` +
                `(a line "<token> ${route.right}" in its token file)`,
          details: { ...details, right: route.right },
        },
      );
    }
    if (answer.status === 429) {
      const wait = retryAfterSeconds(answer.headers);
      return new NetworkError(
        `Cannot ${route.what} on the Core at ${this.url}: too many requests (HTTP 429)`,
        {
          hint: wait === undefined
            ? "Retry in a moment; the Core limits requests per token"
            : `Retry after ${wait} s (the Core's Retry-After); it limits requests per token`,
          details: { ...details, ...(wait === undefined ? {} : { retry_after: wait }) },
        },
      );
    }
    if (wire) {
      // Own keys only: "constructor" or "__proto__" would name Object's members.
      const ErrorClass = Object.hasOwn(ERROR_CLASSES, wire.type)
        ? ERROR_CLASSES[wire.type as ErrorType]
        : NetworkError;
      return new ErrorClass(
        `Cannot ${route.what} on the Core at ${this.url}: ${wire.message}`,
        {
          // A Core's 404 for a route means the URL holds a path the Core does not serve (/v1…).
          hint: wire.hint ||
            (answer.status === 404
              ? `Set ${CORE_URL_ENV} (or core.url) to the Core's base URL exactly as capibara ` +
                "serve prints it on its first line (http(s)://host:port, without /v1)"
              : ""),
          details,
        },
      );
    }
    return new NetworkError(
      `Cannot ${route.what} on the Core at ${this.url}: it answered ${answer.received}, not ` +
        "the Core's JSON",
      { hint: "Check that the URL points at a Capibara Core (capibara serve)", details },
    );
  }

  /** The wire entry of a successful answer, or the NetworkError saying what came instead. */
  #wireEntry(route: Route, answer: Answer): WireEntry {
    const problem = wireProblem(answer.json);
    if (problem === undefined) return answer.json as WireEntry;
    throw new NetworkError(
      `Cannot ${route.what} on the Core at ${this.url}: it answered ${answer.received} that is ` +
        `not an entry (${problem})`,
      {
        hint: "Check that the URL points at a Capibara Core of this version (capibara serve)",
        details: this.#details(route, { status: answer.status }),
      },
    );
  }
}

/** What a received entry must be the entry of: the request as computed here. */
export type ExpectedEntry = EntryIdentity;

/**
 * Checks that an entry a Core sent is the entry of the request computed here: the same
 * fingerprint, prompt and context digests, language and mode. Its files and signature are
 * verified when it is stored (`Store.importEntry`).
 *
 * @throws {IntegrityError} naming the fields that differ
 */
export function checkEntryIdentity(entry: WireEntry, expected: ExpectedEntry, url: string): void {
  const manifest = entry.manifest as unknown as Record<string, unknown>;
  const differ = identityDiffers(manifest, expected);
  if (differ.length === 0) return;
  const got = manifest.fingerprint;
  throw new IntegrityError(
    `Cannot use the entry the Core at ${url} sent for ${expected.fingerprint}: it is the entry ` +
      `of another request (${differ.map((key) => `${key} differs`).join(", ")}${
        typeof got === "string" && got !== expected.fingerprint
          ? `; it names ${JSON.stringify(clip(got, 40))}`
          : ""
      })`,
    {
      hint: "The Core (or something between it and you) answered with another entry; nothing " +
        "was stored. Tell the Core's operator",
      details: { core_url: url, fingerprint: expected.fingerprint, fields: differ },
    },
  );
}

/** What is wrong with a value that should be a wire entry; undefined when it is one. */
export function wireProblem(value: unknown): string | undefined {
  if (value === undefined) return "the body is not JSON";
  if (!isObject(value)) return "the body is not a JSON object";
  if (!isObject(value.manifest)) return 'no "manifest" object';
  if (!isObject(value.files)) return 'no "files" object';
  for (const [name, text] of Object.entries(value.files)) {
    if (!FILE_NAME.test(name)) return `a file name that is not a plain name`;
    if (typeof text !== "string") return `file ${name} is not text`;
  }
  return undefined;
}

/** The `{error: {type, message, hint}}` of a Core's error body, clipped; undefined otherwise. */
function wireError(value: unknown): { type: string; message: string; hint: string } | undefined {
  if (!isObject(value) || !isObject(value.error)) return undefined;
  const { type, message, hint } = value.error;
  if (typeof type !== "string" || typeof message !== "string") return undefined;
  return {
    type: clip(type, 50),
    message: clip(message),
    hint: typeof hint === "string" ? clip(hint) : "",
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkFingerprint(fingerprint: string): void {
  if (!FINGERPRINT_FORM.test(fingerprint)) {
    throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
      hint: "Fingerprints look like fp_ followed by 32 hex digits; see capibara list",
    });
  }
}

/** `Retry-After` in seconds (delta form, or an HTTP date), or undefined. */
function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d{1,6}$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
