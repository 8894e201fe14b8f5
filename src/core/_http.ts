/**
 * The HTTP side of the Core's routes: failures as statuses with the taxonomy's error JSON, and
 * request bodies read within a size and a time limit.
 *
 * @module
 */
import { CapibaraError, type ErrorType } from "../errors.ts";
import { readStream, TooLarge } from "../_body.ts";

/** A failure answered with a status and the taxonomy's error JSON. */
export class HttpError extends Error {
  /**
   * @param status the HTTP status
   * @param type the taxonomy's type (or `NotFoundError` for a 404)
   * @param message what went wrong
   * @param hint what the client can do
   * @param headers extra response headers (`Retry-After`, `Allow`…)
   * @param options the cause, for the log
   */
  constructor(
    readonly status: number,
    readonly type: ErrorType | "NotFoundError",
    message: string,
    readonly hint = "",
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failure of the Core itself (500): the client learns what failed, the log why. */
export function internal(error: unknown, what: string): HttpError {
  if (error instanceof HttpError) return error;
  const type = error instanceof CapibaraError ? error.type : "NetworkError";
  return new HttpError(500, type, `The Core failed: ${what}`, "See the Core's log", {}, {
    cause: error,
  });
}

/** A JSON response. */
export function jsonResponse(
  body: unknown,
  status: number,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * The response of a failure: `{"error": {type, message, hint}}` with its status and headers.
 * Each path of `hidden` (the Core's own folders, which a client has no business knowing) is
 * written as its replacement wherever the message or hint names it, in order.
 */
export function errorResponse(
  error: HttpError,
  hidden: readonly (readonly [path: string, shown: string])[] = [],
): Response {
  const hide = (text: string) =>
    hidden.reduce((out, [path, shown]) => path === "" ? out : out.replaceAll(path, shown), text);
  return jsonResponse(
    { error: { type: error.type, message: hide(error.message), hint: hide(error.hint) } },
    error.status,
    error.headers,
  );
}

/**
 * The HTTP form of a failure: with `generating`, the generator's (502, its own type); otherwise
 * 403 for a PermissionError, 500 for a NetworkError (the Core's storage), 400 for the rest.
 */
export function httpErrorOf(error: unknown, generating: boolean): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof CapibaraError) {
    const status = generating
      ? 502
      : error.type === "PermissionError"
      ? 403
      : error.type === "NetworkError"
      ? 500
      : 400;
    return new HttpError(status, error.type, error.message, error.hint);
  }
  return internal(error, "internal error");
}

/**
 * The bytes of request bodies a Core holds while they arrive (and, where {@linkcode readBody} is
 * told so, until their request's answer), shared by all its requests: each
 * body is bounded and timed, but without a bound of them all a client sending many bodies slowly
 * held one each for their time (a token's burst of slow 1 MiB bodies took ≈ 900 MB). One holder
 * (a token) may hold at most its `share` of it: without it, one token's slow bodies filled the
 * whole budget, and every other token's requests were refused until they arrived or timed out.
 */
export class BodyBudget {
  #used = 0;
  #held = new Map<string, number>();
  /**
   * @param max the most bytes held at once
   * @param share the most bytes one holder holds at once (default a quarter of `max`)
   */
  constructor(readonly max: number, readonly share: number = Math.floor(max / 4)) {}
  /**
   * Takes `bytes` from the budget for `holder`; "full" when it would pass the budget's bound,
   * "share" when it would pass the holder's share (nothing taken either way), else "ok".
   */
  take(bytes: number, holder?: string): "ok" | "full" | "share" {
    const held = holder === undefined ? 0 : this.#held.get(holder) ?? 0;
    if (holder !== undefined && held + bytes > this.share) return "share";
    if (this.#used + bytes > this.max) return "full";
    this.#used += bytes;
    if (holder !== undefined) this.#held.set(holder, held + bytes);
    return "ok";
  }
  /** Gives back `bytes` that `holder` took. */
  give(bytes: number, holder?: string): void {
    this.#used = Math.max(0, this.#used - bytes);
    if (holder === undefined) return;
    const left = (this.#held.get(holder) ?? 0) - bytes;
    if (left > 0) this.#held.set(holder, left);
    else this.#held.delete(holder);
  }
  /** The bytes held now, by everyone or by `holder`. */
  used(holder?: string): number {
    return holder === undefined ? this.#used : this.#held.get(holder) ?? 0;
  }
}

/** Options of {@linkcode readBody}. */
export interface ReadBodyOptions {
  /** The most bytes accepted (413 beyond). */
  maxBytes: number;
  /** How long the body may take to arrive, in milliseconds (408 beyond). */
  timeoutMs: number;
  /**
   * The bound of all bodies arriving at once (503 when a body would pass it), and of one
   * holder's ({@linkcode ReadBodyOptions.holder}; 429 when a body would pass its share).
   */
  budget?: BodyBudget;
  /** Who sends the body (the token's id): whose share of the budget it takes. */
  holder?: string;
  /**
   * Keeps what the body took from the budget until this settles (the request's answer), not only
   * while it arrives: the text and what is parsed from it stay in memory while the request is
   * handled, which for a generation lasts as long as the model takes.
   */
  heldUntil?: Promise<unknown>;
}

/**
 * A request's body as UTF-8 text, refused (413) as soon as its declared length or the bytes
 * received pass `maxBytes`, and (408) when it does not arrive in time.
 *
 * @throws {HttpError} 400, 408 or 413
 */
export async function readBody(request: Request, options: ReadBodyOptions): Promise<string> {
  const maxBody = options.maxBytes;
  const declared = request.headers.get("content-length");
  const tooLarge = () =>
    new HttpError(
      413,
      "ValidationError",
      `The request body is larger than the Core accepts (${maxBody} bytes)`,
      "Send a smaller request, or raise the Core's --max-body-bytes",
    );
  if (declared !== null && Number(declared) > maxBody) throw tooLarge();
  const busy = () =>
    new HttpError(
      503,
      "NetworkError",
      "The Core is receiving as many request bodies as it holds at once",
      "Retry in a moment",
      { "retry-after": "1" },
    );
  const overShare = () =>
    new HttpError(
      429,
      "NetworkError",
      "The Core refused the request: too many request bodies of this token at once",
      "Retry after 1 s, once the token's other requests are answered",
      { "retry-after": "1" },
    );
  /**
   * What this body took from the budget: given back once it is read, or once `heldUntil` settles
   * when given; at once when it is refused.
   */
  let taken = 0;
  const { budget, holder } = options;
  let bytes: Uint8Array = new Uint8Array();
  let read = false;
  try {
    if (request.body) {
      // A client that sends its body slowly does not hold a request open for ever.
      const late = new AbortController();
      const timer = setTimeout(() => late.abort(), options.timeoutMs);
      try {
        bytes = await readStream(request.body, maxBody, {
          signal: late.signal,
          take: budget &&
            ((size) => {
              const took = budget.take(size, holder);
              if (took === "full") throw busy();
              if (took === "share") throw overShare();
              taken += size;
            }),
        });
      } catch (error) {
        throw error instanceof TooLarge ? tooLarge() : error;
      } finally {
        clearTimeout(timer);
      }
      if (late.signal.aborted) {
        throw new HttpError(
          408,
          "NetworkError",
          `The request body did not arrive within ${options.timeoutMs / 1000} s`,
          "Check the network between the client and the Core",
        );
      }
    }
    read = true;
  } finally {
    // A body refused on its way is given back at once: nothing of it is kept.
    const giveBack = () => budget?.give(taken, holder);
    if (read && options.heldUntil) options.heldUntil.then(giveBack, giveBack);
    else giveBack();
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "ValidationError", "The request body is not UTF-8 text");
  }
}

/** Parses a request body, 400 when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "ValidationError", "The request body is not valid JSON");
  }
}
