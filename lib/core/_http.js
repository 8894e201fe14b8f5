// Generated from src/core/_http.ts by scripts/build_js.ts (sha256 06acf3dced497d497c0eb9a1e6678b3ecc68138cd8fc1de6b1d5442d2d70ba4f): do not edit; `deno task build:js` writes it.
export var internal = (function (error, what) {
    if (error instanceof HttpError)
        return error;
    const type = error instanceof CapibaraError ? error.type : "NetworkError";
    return new HttpError(500, type, `The Core failed: ${what}`, "See the Core's log", {}, {
        cause: error,
    });
});
export var jsonResponse = (function (body, status, headers = {}) {
    return new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
    });
});
export var errorResponse = (function (error, hidden = []) {
    const hide = ((text) => hidden.reduce(((out, [path, shown]) => path === "" ? out : out.replaceAll(path, shown)), text));
    return jsonResponse({ error: { type: error.type, message: hide(error.message), hint: hide(error.hint) } }, error.status, error.headers);
});
export var httpErrorOf = (function (error, generating) {
    if (error instanceof HttpError)
        return error;
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
});
export var readBody = (async function (request, options) {
    const maxBody = options.maxBytes;
    const declared = request.headers.get("content-length");
    const tooLarge = (() => new HttpError(413, "ValidationError", `The request body is larger than the Core accepts (${maxBody} bytes)`, "Send a smaller request, or raise the Core's --max-body-bytes"));
    if (declared !== null && Number(declared) > maxBody)
        throw tooLarge();
    const busy = (() => new HttpError(503, "NetworkError", "The Core is receiving as many request bodies as it holds at once", "Retry in a moment", { "retry-after": "1" }));
    const overShare = (() => new HttpError(429, "NetworkError", "The Core refused the request: too many request bodies of this token at once", "Retry after 1 s, once the token's other requests are answered", { "retry-after": "1" }));
    let taken = 0;
    const { budget, holder } = options;
    let bytes = new Uint8Array();
    let read = false;
    try {
        if (request.body) {
            const late = new AbortController();
            const timer = setTimeout((() => late.abort()), options.timeoutMs);
            try {
                bytes = await readStream(request.body, maxBody, {
                    signal: late.signal,
                    take: budget &&
                        ((size) => {
                            const took = budget.take(size, holder);
                            if (took === "full")
                                throw busy();
                            if (took === "share")
                                throw overShare();
                            taken += size;
                        }),
                });
            }
            catch (error) {
                throw error instanceof TooLarge ? tooLarge() : error;
            }
            finally {
                clearTimeout(timer);
            }
            if (late.signal.aborted) {
                throw new HttpError(408, "NetworkError", `The request body did not arrive within ${options.timeoutMs / 1000} s`, "Check the network between the client and the Core");
            }
        }
        read = true;
    }
    finally {
        const giveBack = (() => budget?.give(taken, holder));
        if (read && options.heldUntil)
            options.heldUntil.then(giveBack, giveBack);
        else
            giveBack();
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    }
    catch {
        throw new HttpError(400, "ValidationError", "The request body is not UTF-8 text");
    }
});
export var parseJson = (function (text) {
    try {
        return JSON.parse(text);
    }
    catch {
        throw new HttpError(400, "ValidationError", "The request body is not valid JSON");
    }
});
import { CapibaraError } from "../errors.js";
import { readStream, TooLarge } from "../_body.js";
export class HttpError extends Error {
    status;
    type;
    hint;
    headers;
    constructor(status, type, message, hint = "", headers = {}, options) {
        super(message, options);
        this.status = status;
        this.type = type;
        this.hint = hint;
        this.headers = headers;
    }
}
;
;
;
;
export class BodyBudget {
    max;
    share;
    #used = 0;
    #held = new Map();
    constructor(max, share = Math.floor(max / 4)) {
        this.max = max;
        this.share = share;
    }
    take(bytes, holder) {
        const held = holder === undefined ? 0 : this.#held.get(holder) ?? 0;
        if (holder !== undefined && held + bytes > this.share)
            return "share";
        if (this.#used + bytes > this.max)
            return "full";
        this.#used += bytes;
        if (holder !== undefined)
            this.#held.set(holder, held + bytes);
        return "ok";
    }
    give(bytes, holder) {
        this.#used = Math.max(0, this.#used - bytes);
        if (holder === undefined)
            return;
        const left = (this.#held.get(holder) ?? 0) - bytes;
        if (left > 0)
            this.#held.set(holder, left);
        else
            this.#held.delete(holder);
    }
    used(holder) {
        return holder === undefined ? this.#used : this.#held.get(holder) ?? 0;
    }
}
;
;
