// Generated from src/core/server.ts by scripts/build_js.ts (sha256 dcc87bda49609bc90e7b4679b02ba6c620002105dfe9f96d5a1fc46f94407ce1): do not edit; `deno task build:js` writes it.
export var startCore = (async function (options) {
    const env = options.env ?? Deno.env.toObject();
    const stderr = new StderrLog();
    const log = options.log ?? ((line) => stderr.write(line));
    const logEvent = ((event) => log(JSON.stringify({ at: new Date().toISOString(), ...event })));
    const tokens = await loadTokens(options.tokensFile);
    const config = resolveConfig({}, env);
    const generator = options.generator ??
        (await import("../generate/openai.js")).generatorFromConfig(config.generator);
    const keys = new Map(options.trustedKeys ?? []);
    keys.set(options.signingKey.keyId, options.signingKey.publicKey);
    const cache = new EntryCache({
        ttlMs: CORE_DEFAULTS.cacheSeconds * 1000,
        maxBytes: CORE_DEFAULTS.cacheBytes,
    });
    const backend = options.storage;
    const storage = {
        async get(fp) {
            const cached = cache.get(fp);
            if (cached)
                return cached;
            const body = await backend.get(fp);
            if (body)
                cache.set(fp, body);
            return body;
        },
        async put(fp, body) {
            await backend.put(fp, body);
            cache.set(fp, body);
        },
    };
    const limiter = new RateLimiter({
        rate: options.rate ?? CORE_DEFAULTS.rate,
        burst: options.burst ?? CORE_DEFAULTS.burst,
    });
    const authFailures = new RateLimiter({
        rate: 1,
        burst: CORE_DEFAULTS.authFailureBurst,
        maxKeys: CORE_DEFAULTS.authFailureKeys,
    });
    const workedFrom = new WorkedFrom(CORE_DEFAULTS.authFailureKeys);
    const maxBody = options.maxBodyBytes ?? CORE_DEFAULTS.maxBodyBytes;
    const bodyLimits = {
        maxBytes: maxBody,
        timeoutMs: CORE_DEFAULTS.bodySeconds * 1000,
        budget: new BodyBudget(Math.max(64 * 1024 ** 2, 8 * maxBody)),
    };
    const metrics = new Metrics();
    const scratch = await Deno.makeTempDir({ prefix: "capibara-core-" });
    const scratchReal = await Deno.realPath(scratch);
    const workdir = join(scratch, "workdir");
    await Deno.mkdir(workdir);
    const hidden = [
        [join(scratchReal, "workdir"), "."],
        [workdir, "."],
        [scratchReal, "<core>"],
        [scratch, "<core>"],
    ];
    const scratchStore = new Store(join(scratch, "store"), join(scratch, "locks"), {
        signatures: { required: true, keys: [...keys.values()], source: "machine" },
    });
    const inflight = new Map();
    const generating = new Map();
    const maxGenerations = options.maxGenerations ?? CORE_DEFAULTS.maxGenerations;
    const writing = new Map();
    async function exclusive(fp, fn) {
        const previous = writing.get(fp) ?? Promise.resolve();
        const work = previous.catch((() => { })).then(fn);
        writing.set(fp, work);
        try {
            return await work;
        }
        finally {
            if (writing.get(fp) === work)
                writing.delete(fp);
        }
    }
    function tooMany(what, retryAfterSeconds) {
        return new HttpError(429, "NetworkError", `The Core refused the request: too many ${what}`, `Retry after ${retryAfterSeconds} s`, { "retry-after": String(retryAfterSeconds) });
    }
    async function authorize(request, right, entry) {
        const header = request.headers.get("authorization") ?? "";
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        const identity = match ? await tokens.authenticate(match[1]) : undefined;
        const blocked = authFailures.wait(entry.client);
        if (blocked > 0 && !(identity && workedFrom.has(entry.client, identity.id))) {
            throw tooMany("failed authentications from this address", blocked);
        }
        if (!identity) {
            authFailures.take(entry.client);
            throw new HttpError(401, "PermissionError", match ? "The Core refused the token" : "The Core needs a token", "Set CAPIBARA_CORE_TOKEN to a token listed in the Core's tokens file " +
                "(sent as Authorization: Bearer <token>)", { "www-authenticate": 'Bearer realm="capibara"' });
        }
        entry.token = identity.id;
        workedFrom.add(entry.client, identity.id);
        const wait = limiter.take(identity.id);
        if (wait > 0)
            throw tooMany("requests for this token", wait);
        if (!identity.rights.has(right)) {
            throw new HttpError(403, "PermissionError", `The token has no "${right}" right`, `Ask the Core's operator for a token with ${right} in its rights`);
        }
        return identity;
    }
    function fingerprintParam(value, entry) {
        if (!FINGERPRINT_FORM.test(value)) {
            throw new HttpError(400, "ValidationError", `Invalid fingerprint "${value.slice(0, 40)}"`, "Fingerprints look like fp_ followed by 32 hex digits");
        }
        entry.fingerprint = value;
        return value;
    }
    async function generate(fp, request) {
        if (!generator) {
            throw new HttpError(500, "ValidationError", `The Core has no generator configured, and "${fp.fingerprint}" is not stored`, "The Core's operator sets CAPIBARA_BASE_URL (or CAPIBARA_API_KEY) and CAPIBARA_MODEL");
        }
        const paths = await contextPaths(request.context, workdir).catch(((error) => {
            throw httpErrorOf(error, false);
        }));
        const runtime = await runtimeFor(request.language, config.env).describe().catch(((error) => {
            throw internal(error, `cannot find the ${request.language} runtime`);
        }));
        using _lock = backend.lock
            ? await backend.lock(fp.fingerprint).catch(((error) => {
                throw internal(error, "cannot lock the fingerprint in its storage");
            }))
            : undefined;
        const meanwhile = await backend.get(fp.fingerprint);
        if (meanwhile)
            return { body: meanwhile, cache: "hit" };
        const started = performance.now();
        let result;
        try {
            result = await generator.generate({
                prompt: request.prompt,
                context: generationContext(request.context, request.mode),
                language: request.language,
            });
            metrics.generation((performance.now() - started) / 1000, true);
        }
        catch (error) {
            metrics.generation((performance.now() - started) / 1000, false);
            throw httpErrorOf(error, true);
        }
        const { manifest, files } = generatedEntry({
            fp,
            request,
            result,
            generatorKind: generator.kind,
            runtime,
            paths,
            workdir,
        });
        using _scratch = await scratchStore.lock(fp.fingerprint);
        try {
            await scratchStore.write(manifest, files);
            const { manifest: stored } = await scratchStore.readEntry(fp.fingerprint);
            const signature = await signManifest(stored, options.signingKey);
            await scratchStore.writeSignature(fp.fingerprint, signature, options.signingKey.publicKey);
            const body = encoder.encode(JSON.stringify(await scratchStore.readEntry(fp.fingerprint)));
            return await exclusive(fp.fingerprint, (async () => {
                const published = await storage.get(fp.fingerprint);
                if (published)
                    return { body: published, cache: "hit" };
                await storage.put(fp.fingerprint, body);
                return { body, cache: "miss" };
            }));
        }
        catch (error) {
            throw internal(error, "cannot sign and store the generated entry");
        }
        finally {
            await scratchStore.remove(fp.fingerprint).catch((() => { }));
        }
    }
    async function withBody(request, entry, handle) {
        const answered = Promise.withResolvers();
        try {
            const heldUntil = answered.promise;
            return await handle(await readBody(request, { ...bodyLimits, holder: entry.token, heldUntil }));
        }
        finally {
            answered.resolve();
        }
    }
    async function gen(request, entry) {
        await authorize(request, "gen", entry);
        return await withBody(request, entry, ((text) => generation(text, entry)));
    }
    async function generation(text, entry) {
        const parsed = GenRequest.safeParse(parseJson(text));
        if (!parsed.success) {
            throw new HttpError(400, "ValidationError", `Invalid generation request: ${issuesText(parsed.error.issues, "body")}`, 'Send {"prompt": "…", "context": {…}, "language": "python", "mode": "strict"}');
        }
        const body = parsed.data;
        const fp = await computeFingerprint(body.prompt, body.context, {
            language: body.language,
            mode: body.mode,
        }).catch(((error) => {
            throw httpErrorOf(error, false);
        }));
        entry.fingerprint = fp.fingerprint;
        const served = await obtain(fp, body, entry.token ?? "");
        entry.cache = served.cache;
        if (served.cache === "hit")
            metrics.cacheHit();
        return new Response(served.body, {
            status: 200,
            headers: { "content-type": "application/json", "x-capibara-cache": served.cache },
        });
    }
    async function obtain(fp, body, holder) {
        const pending = inflight.get(fp.fingerprint);
        if (pending)
            return { body: (await pending).body, cache: "hit" };
        const stored = await storage.get(fp.fingerprint);
        if (stored)
            return { body: stored, cache: "hit" };
        const started = inflight.get(fp.fingerprint);
        if (started)
            return { body: (await started).body, cache: "hit" };
        const held = generating.get(holder) ?? 0;
        if (held >= maxGenerations)
            throw tooMany("generations in flight for this token", 5);
        generating.set(holder, held + 1);
        const work = generate(fp, body);
        inflight.set(fp.fingerprint, work);
        try {
            return await work;
        }
        finally {
            inflight.delete(fp.fingerprint);
            const left = (generating.get(holder) ?? 1) - 1;
            if (left > 0)
                generating.set(holder, left);
            else
                generating.delete(holder);
        }
    }
    async function getEntry(request, fp, entry) {
        await authorize(request, "read", entry);
        const body = await storage.get(fp);
        if (!body) {
            throw new HttpError(404, "NotFoundError", `No entry "${fp}" is stored`, "POST /v1/gen generates it, or capibara push publishes a local one");
        }
        return new Response(body, { headers: { "content-type": "application/json" } });
    }
    async function putEntry(request, fp, entry) {
        await authorize(request, "publish", entry);
        return await withBody(request, entry, ((text) => publication(text, fp)));
    }
    async function publication(text, fp) {
        const received = parseJson(text);
        let parsed;
        try {
            const keyId = publisherKey(fp, received, keys);
            const manifest = received.manifest;
            if (!await verifySignature(manifest, manifest[SIGNATURE_FIELD], keys.get(keyId))) {
                throw new IntegrityError(`Cannot accept "${fp}": its signature does not verify`, {
                    hint: "Sign it again with capibara sign, with the key it names",
                });
            }
            using _scratch = await scratchStore.lock(fp);
            try {
                await scratchStore.importEntry(received, {
                    fingerprint: fp,
                    maxBytes: maxBody,
                });
                parsed = await scratchStore.readEntry(fp);
            }
            finally {
                await scratchStore.remove(fp).catch((() => { }));
            }
        }
        catch (error) {
            throw httpErrorOf(error, false);
        }
        const body = encoder.encode(JSON.stringify(parsed));
        const status = await exclusive(fp, (async () => {
            const existing = await storage.get(fp);
            if (existing) {
                if (equalBytes(existing, body))
                    return 200;
                const old = JSON.parse(new TextDecoder().decode(existing));
                if (!(parsed.manifest.revision > old.manifest.revision)) {
                    throw new HttpError(409, "ValidationError", `A different entry is already stored under "${fp}" (revision ` +
                        `${old.manifest.revision}; this one is ${parsed.manifest.revision})`, "Only a higher revision replaces a stored entry: regenerate with --refresh, review, " +
                        "sign and push it");
                }
            }
            await storage.put(fp, body);
            return 201;
        }));
        return jsonResponse({ fingerprint: fp, stored: status === 201 }, status);
    }
    async function updates(request, url, entry) {
        await authorize(request, "read", entry);
        const since = url.searchParams.get("since");
        let sinceMs;
        if (since !== null) {
            sinceMs = z.iso.datetime({ offset: true }).safeParse(since).success ? Date.parse(since) : NaN;
            if (Number.isNaN(sinceMs)) {
                throw new HttpError(400, "ValidationError", `Invalid since "${since.slice(0, 40)}": not an RFC 3339 date and time`, "Pass e.g. ?since=2026-01-31T00:00:00Z");
            }
        }
        const list = options.updatesDir
            ? await readUpdates(options.updatesDir, sinceMs, ((file, reason) => logEvent({ event: "updates_file_skipped", file, reason })))
            : [];
        return jsonResponse({ updates: list }, 200);
    }
    async function route(request, url, entry) {
        const { pathname } = url;
        const method = request.method;
        const only = ((allowed) => {
            if (!allowed.includes(method)) {
                throw new HttpError(405, "ValidationError", `${method} is not allowed on ${entry.route}`, `Use ${allowed.join(" or ")}`, { allow: allowed.join(", ") });
            }
        });
        if (pathname === "/healthz") {
            entry.route = "/healthz";
            only(["GET", "HEAD"]);
            return jsonResponse({ status: "ok" }, 200);
        }
        if (pathname === "/metrics") {
            entry.route = "/metrics";
            only(["GET"]);
            return new Response(metrics.render(), {
                headers: { "content-type": "text/plain; version=0.0.4" },
            });
        }
        if (pathname === "/v1/gen") {
            entry.route = "/v1/gen";
            only(["POST"]);
            return await gen(request, entry);
        }
        if (pathname === "/v1/updates") {
            entry.route = "/v1/updates";
            only(["GET"]);
            return await updates(request, url, entry);
        }
        const match = ENTRY_ROUTE.exec(pathname);
        if (match) {
            entry.route = "/v1/entries/:fp";
            only(["GET", "PUT"]);
            const fp = fingerprintParam(match[1], entry);
            return method === "GET"
                ? await getEntry(request, fp, entry)
                : await putEntry(request, fp, entry);
        }
        entry.route = "other";
        throw new HttpError(404, "NotFoundError", `No such route: ${method} ${pathname.slice(0, 80)}`);
    }
    async function handle(request, info) {
        const started = performance.now();
        const entry = { route: "other", client: clientNetwork(info.remoteAddr.hostname) };
        let response;
        try {
            response = await route(request, new URL(request.url), entry);
        }
        catch (error) {
            const failure = httpErrorOf(error, false);
            const fromBackend = (failure.status === 500 && failure.type === "NetworkError") ||
                (failure.status === 502 && failure.type !== "TemplateError");
            if (fromBackend) {
                const cause = failure.cause ?? error;
                logEvent({
                    event: failure.status === 500 ? "internal_error" : "generator_error",
                    route: entry.route,
                    error: failure.message +
                        (cause instanceof Error && cause.message !== failure.message
                            ? `: ${cause.message}`
                            : ""),
                });
            }
            entry.error = failure.type;
            response = errorResponse(fromBackend
                ? new HttpError(failure.status, failure.type, failure.status === 500
                    ? "The Core failed to serve the request (its log says why)"
                    : "The Core's generator failed (its log says why)", "Retry later, or ask the Core's operator", failure.headers)
                : failure, hidden);
        }
        metrics.request(entry.route, response.status);
        logEvent({
            method: request.method,
            route: entry.route,
            status: response.status,
            latency_ms: Math.round((performance.now() - started) * 100) / 100,
            ...(entry.fingerprint ? { fingerprint: entry.fingerprint } : {}),
            ...(entry.token ? { token: entry.token } : {}),
            ...(entry.cache ? { cache: entry.cache } : {}),
            ...(entry.error ? { error: entry.error } : {}),
        });
        return response;
    }
    const hostname = options.hostname ?? CORE_DEFAULTS.hostname;
    const port = options.port ?? CORE_DEFAULTS.port;
    let server;
    try {
        server = Deno.serve({ hostname, port, onListen: (() => { }) }, handle);
    }
    catch (error) {
        await Deno.remove(scratch, { recursive: true }).catch((() => { }));
        throw new ValidationError(`Cannot listen on ${hostname}:${port}: ${error.message}`, { cause: error, hint: "Pick another --host or --port (--port 0 picks a free one)" });
    }
    const addr = server.addr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    let stopping;
    const finished = (async () => {
        for (;;) {
            try {
                await server.finished;
                break;
            }
            catch (error) {
                if (stopping)
                    break;
                logEvent({ event: "listener_failed", error: error.message });
            }
            for (;;) {
                await new Promise(((resolve) => setTimeout(resolve, RELISTEN_MS)));
                if (stopping)
                    break;
                try {
                    server = Deno.serve({ hostname: addr.hostname, port: addr.port, onListen: (() => { }) }, handle);
                    logEvent({ event: "listening_again" });
                    break;
                }
                catch (error) {
                    logEvent({ event: "listen_failed", error: error.message });
                }
            }
            if (stopping)
                break;
        }
        stderr.flush();
        await Deno.remove(scratch, { recursive: true }).catch((() => { }));
    })();
    return {
        url: `http://${host}:${addr.port}`,
        addr,
        generating: generator !== undefined,
        finished,
        async reloadTokens() {
            try {
                tokens.replace(await loadTokens(options.tokensFile));
                logEvent({ event: "tokens_reloaded", tokens: tokens.size });
                return true;
            }
            catch (error) {
                logEvent({
                    event: "tokens_reload_failed",
                    error: error instanceof Error ? error.message : String(error),
                    kept: tokens.size,
                });
                return false;
            }
        },
        shutdown() {
            stopping ??= (async () => {
                logEvent({ event: "shutdown" });
                await server.shutdown();
                await finished;
            })();
            return stopping;
        },
    };
});
var equalBytes = (function (a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++)
        if (a[i] !== b[i])
            return false;
    return true;
});
import { issuesText } from "../_shape.js";
import { FINGERPRINT_FORM } from "../types.js";
import { join } from "../_path.js";
import { z } from "npm:zod@^4.6.7";
import { DEFAULTS, resolveConfig } from "../config.js";
import { IntegrityError, ValidationError } from "../errors.js";
import { fingerprint as computeFingerprint, generationContext, } from "../fingerprint.js";
import { generatedEntry } from "../generate/entry.js";
import { runtimeFor } from "../runtimes/mod.js";
import { contextPaths } from "../sandbox/policy.js";
import { clientNetwork } from "../sandbox/host_rules.js";
import { LANGUAGES } from "../schema.js";
import { Store } from "../store/store.js";
import { BodyBudget, errorResponse, HttpError, httpErrorOf, internal, jsonResponse, parseJson, readBody, } from "./_http.js";
import { EntryCache } from "./cache.js";
import { Metrics } from "./metrics.js";
import { RateLimiter } from "./rate.js";
import { signManifest } from "./sign.js";
import { publisherKey } from "./keys.js";
import { verifySignature } from "../store/trust.js";
import { SIGNATURE_FIELD } from "../store/entry.js";
import { loadTokens } from "./tokens.js";
import { readUpdates } from "./updates.js";
export const CORE_DEFAULTS = {
    hostname: "127.0.0.1",
    port: 8787,
    rate: 20,
    burst: 100,
    maxGenerations: 4,
    authFailureBurst: 20,
    authFailureKeys: 10_000,
    maxBodyBytes: 1024 * 1024,
    bodySeconds: 30,
    cacheSeconds: 5,
    cacheBytes: 64 * 1024 * 1024,
};
const GenRequest = z.strictObject({
    prompt: z.string().max(200_000),
    context: z.record(z.string(), z.unknown()).default({}),
    language: z.enum(LANGUAGES).default(DEFAULTS.language),
    mode: z.enum(["strict", "parametric"]).default(DEFAULTS.mode),
});
const ENTRY_ROUTE = /^\/v1\/entries\/([^/]*)$/;
const encoder = new TextEncoder();
class WorkedFrom {
    maxAddresses;
    #seen = new Map();
    constructor(maxAddresses) {
        this.maxAddresses = maxAddresses;
    }
    has(address, tokenId) {
        return this.#seen.get(address)?.has(tokenId) ?? false;
    }
    add(address, tokenId) {
        const ids = this.#seen.get(address) ?? new Set();
        this.#seen.delete(address);
        if (ids.size < 64)
            ids.add(tokenId);
        this.#seen.set(address, ids);
        if (this.#seen.size > this.maxAddresses) {
            this.#seen.delete(this.#seen.keys().next().value);
        }
    }
}
const RELISTEN_MS = 1000;
;
class StderrLog {
    #pending = [];
    #timer;
    write(line) {
        this.#pending.push(line);
        this.#timer ??= setTimeout((() => this.flush()), 0);
    }
    flush() {
        if (this.#timer !== undefined)
            clearTimeout(this.#timer);
        this.#timer = undefined;
        if (this.#pending.length === 0)
            return;
        const bytes = encoder.encode(this.#pending.join("\n") + "\n");
        this.#pending = [];
        let written = 0;
        while (written < bytes.length)
            written += Deno.stderr.writeSync(bytes.subarray(written));
    }
}
;
