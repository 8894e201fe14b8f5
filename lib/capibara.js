// Generated from src/capibara.ts by scripts/build_js.ts (sha256 e3258602c2c462a58ca6c210cd77122d8fc61153739670d4e746838df6369c6d): do not edit; `deno task build:js` writes it.
var sdkError = (function (what, hint) {
    return new ValidationError(`Invalid option ${what}`, { hint, details: { option: what } });
});
var checkFunction = (function (value, what, example) {
    if (value !== undefined && typeof value !== "function") {
        throw sdkError(what, `Pass a function, e.g. { ${what}: ${example} }`);
    }
});
var checkKeys = (function (options, known, example) {
    for (const key of Object.keys(options)) {
        if (known.includes(key))
            continue;
        const { shown, nearest } = nearestName(key, known);
        throw sdkError(shown, `Unknown option; did you mean "${nearest}"? (e.g. ${example})`);
    }
});
var checkFacadeOptions = (function (options) {
    checkKeys(options, CAPIBARA_OPTIONS, "new Capibara({ timeout: 60 })");
    if (options.hints !== undefined && options.hints !== "sdk" && options.hints !== "cli") {
        throw sdkError("hints", 'Pass "sdk" or "cli", e.g. { hints: "sdk" }');
    }
    for (const key of ["root", "cwd"]) {
        const value = options[key];
        if (value !== undefined && (typeof value !== "string" || value === "" || value.includes("\0"))) {
            throw sdkError(key, `Pass a directory path, e.g. new Capibara({ ${key}: "/path/to/project" })`);
        }
    }
    if (options.env !== undefined &&
        (typeof options.env !== "object" || options.env === null || Array.isArray(options.env) ||
            Object.values(options.env).some(((value) => value !== undefined && typeof value !== "string")))) {
        throw sdkError("env", "Pass an object of variables whose values are strings, e.g. { env: Deno.env.toObject() }");
    }
    const generator = options.generator;
    if (generator !== undefined &&
        (typeof generator !== "object" || generator === null ||
            typeof generator.generate !== "function" ||
            typeof generator.kind !== "string")) {
        throw sdkError("generator", "Pass an object with a kind and a generate() method");
    }
    if (options.core !== undefined && options.generator !== undefined) {
        throw sdkError("core", "Pass either core (the team's Core generates on a miss) or generator, not both");
    }
    if (options.prestart !== undefined && typeof options.prestart !== "boolean") {
        throw sdkError("prestart", "Pass true or false, e.g. new Capibara({ prestart: true })");
    }
    checkFunction(options.progress, "progress", "(message) => console.error(message)");
    checkFunction(options.warn, "warn", "(message) => console.error(message)");
});
var checkRunOptions = (function (options) {
    if (typeof options !== "object" || options === null) {
        throw sdkError("run options", "Pass an options object, e.g. run(prompt, { context: {} })");
    }
    checkKeys(options, RUN_OPTIONS, "run(prompt, { context: {} })");
    const { context, select, refresh, signal } = options;
    if (context !== undefined &&
        (typeof context !== "object" || context === null || Array.isArray(context))) {
        throw new ValidationError("The context must be a JSON object", {
            hint: 'Pass an object, e.g. run(prompt, { context: { input: "data.csv" } })',
        });
    }
    if (select !== undefined &&
        (!Array.isArray(select) || select.some(((key) => typeof key !== "string")))) {
        throw sdkError("select", 'Pass a list of output keys, e.g. { select: ["total", "count"] }');
    }
    for (const [name, value] of [["refresh", refresh], ["force", options.force], [
            "dryRun",
            options.dryRun,
        ]]) {
        if (value !== undefined && typeof value !== "boolean") {
            throw sdkError(name, `Pass true or false, e.g. { ${name}: true }`);
        }
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw sdkError("signal", "Pass an AbortSignal, e.g. { signal: AbortSignal.timeout(60_000) }");
    }
    checkFunction(options.onStderr, "onStderr", "(chunk) => Deno.stderr.write(chunk)");
    if (options.language !== undefined)
        checkLanguage(options.language);
    if (options.timeout !== undefined)
        checkTimeout(options.timeout);
    checkGrants(options.allow);
});
var promptWords = (function (prompt) {
    return new Set(normalizePrompt(prompt).split(" ").filter(((word) => word !== "")));
});
var nearRequests = (async function (store, prompt) {
    const words = promptWords(prompt);
    if (words.size === 0)
        return [];
    const scored = [];
    for (const { manifest: m } of (await store.list()).entries) {
        const other = promptWords(m.prompt);
        const shared = [...words].filter(((word) => other.has(word))).length;
        const score = shared / (words.size + other.size - shared);
        if (score >= 2 / 3) {
            scored.push({ score, prompt: m.prompt, language: m.language, fingerprint: m.fingerprint });
        }
    }
    return scored.sort(((a, b) => b.score - a.score)).slice(0, 3)
        .map((({ prompt, language, fingerprint }) => ({ prompt, language, fingerprint })));
});
var cancelled = (function (what) {
    return new ExecError(`${what} was cancelled`, {
        hint: "The call's signal was aborted; nothing was stored",
    });
});
var checkHitIdentity = (function (entry, expected) {
    const differ = identityDiffers(entry.manifest, expected);
    if (differ.length === 0)
        return;
    throw new IntegrityError(`Cannot use cached script "${expected.fingerprint}" for this request: it is the entry of ` +
        `another request (${differ.map(((key) => `${key} differs`)).join(", ")})`, {
        hint: "Remove its folder (capibara clear), or regenerate it with capibara run --refresh " +
            "--force",
        details: { fingerprint: expected.fingerprint, fields: differ },
    });
});
import { dirname, join, resolve } from "./_path.js";
import { once } from "./_memo.js";
import { ownCacheFolder } from "./_cache_folder.js";
import { existsSync, statSyncOrNull } from "./_fs.js";
import { checkGrants, checkLanguage, checkTimeout, loadProjectFile, nearestName, platformCacheDir, resolveConfig, } from "./config.js";
import { assertTrusted, evaluateTrust } from "./config_trust.js";
import { CapibaraError, ExecError, forAudience, IntegrityError, PermissionError, systemError, TemplateError, ValidationError, } from "./errors.js";
import { contextSnapshot, fingerprint as computeFingerprint, generationContext, identityDiffers, normalizePrompt, templateMajor, } from "./fingerprint.js";
import { generatedEntry } from "./generate/entry.js";
import { backendFor, checkOutputFolders, HeldStartLost, runDirPath, runStaged, stage, } from "./run/execute.js";
import { prestarts } from "./run/prestart.js";
import { rememberRun } from "./run/remembered.js";
import { checkPermissions, planRun } from "./run/plan.js";
import { runResult } from "./run/result.js";
import { runtimeFor } from "./runtimes/mod.js";
import { platformBackend } from "./sandbox/mod.js";
import { step } from "./_timings.js";
import { onTimeout } from "./_timer.js";
import { checkProjectPaths, contextPaths, mergeGrants, } from "./sandbox/policy.js";
import { Bundle } from "./schema.js";
import { findRoot, Store } from "./store/store.js";
import { AcceptanceStore } from "./store/trust.js";
;
;
const CAPIBARA_OPTIONS = [
    "cacheDir",
    "language",
    "mode",
    "timeout",
    "memoryBytes",
    "maxProcesses",
    "maxOutputDiskBytes",
    "maxOutputFiles",
    "sandbox",
    "allow",
    "trustProjectConfig",
    "core",
    "root",
    "cwd",
    "generator",
    "env",
    "progress",
    "warn",
    "hints",
    "prestart",
];
const RUN_OPTIONS = [
    "context",
    "select",
    "refresh",
    "force",
    "dryRun",
    "language",
    "timeout",
    "signal",
    "onStderr",
    "allow",
];
;
;
;
export class Capibara {
    #options;
    #env;
    #base;
    #setup;
    #inflight = new Map();
    #warnedLegacy = false;
    static disposePrestarted() {
        return prestarts.dispose();
    }
    constructor(options = {}) {
        if (typeof options !== "object" || options === null) {
            throw sdkError("options", "Pass an options object, e.g. new Capibara({ timeout: 60 })");
        }
        checkFacadeOptions(options);
        this.#options = options;
        this.#env = options.env ?? Deno.env.toObject();
        this.#base = resolveConfig(options, this.#env);
        this.#setup = once((async () => {
            const cacheDir = ownCacheFolder(this.#base.cacheDir);
            for (const [option, folder] of [["cwd", this.cwd], ["root", this.#options.root]]) {
                if (folder !== undefined && statSyncOrNull(folder)?.isDirectory !== true) {
                    throw sdkError(option, `Pass a folder that exists: "${folder}" is not one`);
                }
            }
            const root = this.#options.root ??
                await findRoot(this.cwd, { warn: this.#options.warn ?? console.error });
            let checkout;
            const given = resolve(this.#base.cacheDir) !== resolve(platformCacheDir(this.#env));
            for (let dir = dirname(cacheDir); given && checkout === undefined; dir = dirname(dir)) {
                if (existsSync(join(dir, ".git")))
                    checkout = dir;
                if (dirname(dir) === dir)
                    break;
            }
            if (checkout !== undefined) {
                throw new PermissionError(`Cannot use the cache folder "${this.#base.cacheDir}": it lies inside the repository ` +
                    `${checkout}, which could bring the trust records and acceptances it holds`, {
                    hint: "Point CAPIBARA_CACHE_DIR (or the SDK's cacheDir) at a folder outside the " +
                        "project, e.g. ~/.cache/capibara or $RUNNER_TEMP/capibara in CI",
                    details: { cache_dir: this.#base.cacheDir, repository: checkout },
                });
            }
            const file = await loadProjectFile(root);
            const trust = await evaluateTrust(file, {
                cacheDir,
                env: this.#env,
                trustProjectConfig: this.#options.trustProjectConfig,
            });
            const config = resolveConfig({ ...this.#options, cacheDir }, this.#env, file?.config, trust);
            if (config.sandbox)
                platformBackend(config.cacheDir);
            const store = new Store(root, join(config.cacheDir, "locks"), {
                signatures: config.signatures,
                acceptances: new AcceptanceStore(config.cacheDir),
            });
            return { config, store };
        }));
    }
    get cwd() {
        if (this.#options.cwd !== undefined)
            return resolve(this.#options.cwd);
        try {
            return Deno.cwd();
        }
        catch (error) {
            throw new ValidationError(`The current directory cannot be read: ${error.message}`, { cause: error, hint: "Run from a folder that exists, or pass cwd to new Capibara()" });
        }
    }
    async store() {
        return (await this.#setup()).store;
    }
    async config() {
        return (await this.#setup()).config;
    }
    get cacheDir() {
        return this.#base.cacheDir;
    }
    async run(prompt, options = {}) {
        try {
            return await this.#run(prompt, options);
        }
        catch (error) {
            throw forAudience(systemError(error) ?? error, this.#options.hints ?? "sdk");
        }
    }
    async #run(prompt, options) {
        const started = performance.now();
        if (typeof prompt !== "string") {
            throw new ValidationError("The prompt must be a string", {
                hint: 'Call run("Summarise data.csv", { context })',
            });
        }
        checkRunOptions(options);
        const context = contextSnapshot(options.context ?? {});
        const { config, store } = await this.#setup();
        step("the project: its root, configuration file and trust");
        assertTrusted(config.projectTrust);
        const language = options.language ?? config.language;
        const fp = await computeFingerprint(prompt, context, { language, mode: config.mode });
        step("fingerprint");
        const workdir = Deno.realPathSync(this.cwd);
        const paths = await contextPaths(context, workdir, { requireInputs: true });
        await checkProjectPaths(config.projectPaths, workdir, store.root);
        step("the context's paths");
        const { entry, generated } = await this.#obtain(store, config, fp, {
            prompt,
            context,
            language,
            mode: config.mode,
            refresh: options.refresh ?? false,
            force: options.force ?? false,
            paths,
            workdir,
            signal: options.signal,
        });
        step(generated ? "generation: the entry stored" : "lookup");
        if (!generated) {
            this.#options.progress?.("Checking the cached script");
            await store.verify(entry);
            step("integrity check");
        }
        const { manifest } = entry;
        if (options.dryRun) {
            return {
                status: "ok",
                artifacts: [],
                output: {},
                raw: {},
                fingerprint: fp.fingerprint,
                cached: !generated,
                duration_ms: Math.round(performance.now() - started),
                allow: manifest.allow,
            };
        }
        if (generated)
            await store.checkPolicy(manifest);
        const grants = mergeGrants(config.grants, options.allow);
        checkPermissions(manifest.needs, { grants, paths, workdir });
        const [backend, prepared] = await Promise.all([
            backendFor(manifest.language, {
                sandbox: config.sandbox,
                cacheDir: config.cacheDir,
                warn: this.#options.warn ?? console.error,
            }),
            runtimeFor(manifest.language, config.env).prepare(manifest, entry.dir, {
                cacheDir: config.cacheDir,
                progress: this.#options.progress,
                sandbox: config.sandbox ? platformBackend(config.cacheDir) : undefined,
                sourceBuilds: config.sourceBuilds,
                cwd: workdir,
                warn: this.#options.warn ?? console.error,
                signal: options.signal,
            }),
        ]);
        step("the runtime (its environment) and the sandbox backend");
        const planInput = {
            entry,
            context,
            grants,
            config,
            prepared,
            workdir,
            storeRoot: store.root,
            givenCacheDir: this.#base.cacheDir,
        };
        const plan = await planRun({ ...planInput, tmpDir: runDirPath() });
        const key = JSON.stringify([
            backend.name,
            config.cacheDir,
            entry.dir,
            workdir,
            plan.contextJson,
        ]);
        const prestart = this.#options.prestart ?? true;
        const ready = await prestarts.take(key, plan, !prestart);
        const startNext = (() => prestarts.start(key, backend, (() => planRun({ ...planInput, tmpDir: runDirPath() }))));
        if (prestart && !prestarts.nextAfterRun)
            startNext();
        step("plan");
        const timeoutSeconds = options.timeout ?? config.timeoutSeconds;
        this.#options.progress?.(`Running ${fp.fingerprint}`);
        let result;
        let execution;
        let copies = false;
        try {
            const run = (async (staged, left) => {
                copies = Boolean(staged.wrapped.copies);
                return await runStaged(staged, { ...runOptions, ...left });
            });
            const runOptions = {
                timeoutMs: timeoutSeconds * 1000,
                maxOutputBytes: config.maxOutputBytes,
                signal: options.signal,
                onStderr: options.onStderr,
                staging: config.staging,
                removeLater: prestart && prestarts.nextAfterRun
                    ? ((folder) => prestarts.removeLater(folder))
                    : undefined,
                accept: (async (run) => {
                    result = await runResult(run, { workdir: plan.policy.workdir, writeDirs: plan.writeDirs, manifest }, { timeoutSeconds, maxOutputBytes: config.maxOutputBytes, select: options.select });
                    return result.artifacts;
                }),
            };
            execution = ready
                ? await run(ready).catch((async (error) => {
                    if (!(error instanceof HeldStartLost))
                        throw error;
                    prestarts.stats.lost++;
                    (this.#options.warn ?? console.error)(`warning: ${error.message}; the run starts again without it`);
                    const spent = error.exec;
                    return await run(await stage(plan, backend), {
                        timeoutMs: Math.max(1, runOptions.timeoutMs - spent.durationMs),
                        maxOutputBytes: Math.max(1, runOptions.maxOutputBytes -
                            new TextEncoder().encode(spent.stdout + spent.stderr).byteLength),
                    });
                }))
                : await run(await stage(plan, backend));
        }
        catch (error) {
            if (prestart)
                prestarts.settle(key, false);
            throw error;
        }
        rememberRun({ key, language: manifest.language, cacheDir: config.cacheDir, plan }, { holds: backend.holds === true, copies });
        if (prestart) {
            prestarts.settle(key, true);
            if (prestarts.nextAfterRun)
                onTimeout(0, startNext);
        }
        step("the run's folder removed");
        if (!result)
            throw new Error("unreachable: the run was not judged");
        return {
            status: "ok",
            artifacts: execution.artifacts ?? result.artifacts,
            output: result.output,
            raw: result.raw,
            fingerprint: manifest.fingerprint,
            cached: !generated,
            duration_ms: Math.round(performance.now() - started),
            ...(result.missing ? { missing: result.missing } : {}),
            allow: plan.allow,
        };
    }
    async #legacyHit(store, fp, request) {
        const { findLegacyEntry } = await import("./store/rekey.js");
        const entry = await findLegacyEntry(store, request, fp);
        if (entry && !this.#warnedLegacy) {
            this.#warnedLegacy = true;
            const { fingerprint, mode, template_version } = entry.manifest;
            (this.#options.warn ?? console.error)(mode === "parametric"
                ? `warning: cached script ${fingerprint} is keyed under an earlier rule of template ` +
                    `${template_version}; regenerate it with --refresh to store it under ` +
                    `${fp.fingerprint} (a parametric entry stores no context, so rekey cannot move it)`
                : `warning: cached script ${fingerprint} is keyed under the prompt rule of template ` +
                    `${templateMajor(template_version)}; run capibara rekey to move it (and any others) ` +
                    `to the new fingerprints, or regenerate it with --refresh`);
        }
        return entry;
    }
    #obtain(store, config, fp, request) {
        const key = `${fp.fingerprint}:${request.refresh}:${request.force === true}`;
        const shared = request.signal === undefined;
        const pending = shared ? this.#inflight.get(key) : undefined;
        if (pending)
            return pending;
        const work = (async () => {
            if (!request.refresh) {
                const found = await store.lookup(fp.fingerprint);
                if (found) {
                    checkHitIdentity(found, { ...fp, language: request.language, mode: request.mode });
                }
                const hit = found ?? await this.#legacyHit(store, fp, request);
                if (hit)
                    return { entry: hit, generated: false };
            }
            using _lock = await store.lock(fp.fingerprint);
            const previous = await store.lookup(fp.fingerprint).catch(((error) => {
                if (request.refresh && request.force && error instanceof IntegrityError)
                    return undefined;
                throw error;
            }));
            if (previous && !request.refresh)
                return { entry: previous, generated: false };
            if (previous && !request.force) {
                await store.verify(previous, { policy: false }).catch(((error) => {
                    if (!(error instanceof IntegrityError))
                        throw error;
                    throw new IntegrityError(`Cannot refresh "${fp.fingerprint}": its files changed since they were stored ` +
                        `(${error.details?.problems?.join("; ") ?? error.message})`, {
                        hint: `Keep a reviewed edit with capibara accept ${fp.fingerprint}, or ` +
                            "overwrite it with --refresh --force",
                        details: { fingerprint: fp.fingerprint },
                    });
                }));
            }
            const viaCore = config.core !== undefined && !this.#options.generator;
            const generator = viaCore ? undefined : this.#options.generator ??
                (await import("./generate/openai.js")).generatorFromConfig(config.generator);
            step("generation: the generator's modules");
            if (!viaCore && !generator) {
                if (previous) {
                    throw new ValidationError(`Cannot refresh "${fp.fingerprint}": no generator is configured to write it again`, {
                        hint: "Set CAPIBARA_BASE_URL (any OpenAI-compatible server) or CAPIBARA_API_KEY / " +
                            "OPENAI_API_KEY, or generator.base_url in .capibara/config.json; without " +
                            "--refresh the cached script runs as it is",
                        details: { fingerprint: fp.fingerprint },
                    });
                }
                const near = await nearRequests(store, request.prompt);
                throw new ValidationError(`No generator is configured, and "${fp.fingerprint}" is not cached`, {
                    hint: (near.length > 0
                        ? `Cached requests close to this one: ${near.map(((m) => `"${m.prompt}" (${m.language}, ${m.fingerprint})`)).join("; ")}; a cached script runs only for the same prompt (but for case, spaces, ` +
                            "courtesy words and a final full stop) and context. For a new script, set"
                        : "Set") +
                        " CAPIBARA_BASE_URL (any OpenAI-compatible server, e.g. " +
                        "http://localhost:11434/v1 for Ollama) or CAPIBARA_API_KEY / OPENAI_API_KEY " +
                        "for OpenAI, or generator.base_url in .capibara/config.json (run --base-url " +
                        "for once); CAPIBARA_MODEL, generator.model or --model picks the model. With a " +
                        "team Core, set CAPIBARA_CORE_URL and CAPIBARA_CORE_TOKEN instead",
                    details: {
                        fingerprint: fp.fingerprint,
                        near: near.map(((m) => m.fingerprint)),
                    },
                });
            }
            await store.checkWritable();
            if (request.mode === "strict" &&
                new TextEncoder().encode(fp.context_normalized).byteLength > MAX_STORED_CONTEXT_BYTES) {
                throw new ValidationError(`The context is too large to be stored with its script (more than ` +
                    `${MAX_STORED_CONTEXT_BYTES / 1024 ** 2} MiB as JSON)`, {
                    hint: "Put large data in a file and name it in the context (an input path), or " +
                        "use parametric mode, which stores only the context's shape",
                });
            }
            checkOutputFolders(request.paths.write, request.workdir);
            if (!generator) {
                return {
                    entry: await this.#fromCore(store, config, fp, request, previous),
                    generated: true,
                };
            }
            if (request.signal?.aborted)
                throw cancelled("Generation");
            this.#options.progress?.("Generating the script…");
            const result = await Promise.resolve().then((() => generator.generate({
                prompt: request.prompt,
                context: generationContext(request.context, request.mode),
                language: request.language,
            }, { progress: this.#options.progress, signal: request.signal }))).catch(((error) => {
                if (request.signal?.aborted)
                    throw cancelled("Generation");
                if (error instanceof CapibaraError)
                    throw error;
                throw new TemplateError(`The generator "${generator.kind}" failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, hint: "Fix the generator, or use the configured one" });
            }));
            step("generation: the rest of the generator's work");
            if (request.signal?.aborted)
                throw cancelled("Generation");
            if (!Bundle.safeParse(result?.bundle).success) {
                throw new TemplateError(`The generator "${generator.kind}" returned no valid bundle (a script and its files)`, { hint: "A generator resolves to { bundle, model, attempts } (see GenerateResult)" });
            }
            if (result.bundle.language !== request.language) {
                throw new TemplateError(`The generator "${generator.kind}" returned a ${result.bundle.language} script for a ` +
                    `${request.language} request`, { hint: "A generator answers in the request's language (GenerateRequest.language)" });
            }
            const { manifest, files } = generatedEntry({
                fp,
                request,
                result,
                generatorKind: generator.kind,
                runtime: await runtimeFor(request.language, config.env).describe(),
                paths: request.paths,
                workdir: request.workdir,
                previous: previous?.manifest,
            });
            const entry = await store.write(manifest, files);
            return { entry, generated: true };
        })();
        if (!shared)
            return work;
        this.#inflight.set(key, work);
        return work.finally((() => this.#inflight.delete(key)));
    }
    async #fromCore(store, config, fp, request, previous) {
        const core = config.core;
        const { CoreClient, checkEntryIdentity } = await import("./generate/core_client.js");
        const seconds = config.generator.timeoutSeconds;
        const client = new CoreClient({
            url: core.url,
            token: core.token,
            ...(seconds !== undefined ? { genTimeoutMs: seconds * 1000 } : {}),
        });
        this.#options.progress?.("Asking the Core for the script…");
        let wire = await client.getEntry(fp.fingerprint, { signal: request.signal });
        if (wire === undefined) {
            this.#options.progress?.("The Core is generating the script…");
            wire = (await client.generate(request, { signal: request.signal })).entry;
        }
        checkEntryIdentity(wire, { ...fp, language: request.language, mode: request.mode }, client.url);
        const ours = previous?.manifest;
        const theirs = wire.manifest.revision ?? 1;
        if (ours && !request.force && !(typeof theirs === "number" && theirs > ours.revision) &&
            wire.manifest.integrity?.manifest !== ours.integrity?.manifest) {
            throw new IntegrityError(`Cannot refresh "${fp.fingerprint}" from the Core at ${client.url}: it sends revision ` +
                `${String(theirs)}, and this project holds revision ${ours.revision}, which it ` +
                "would replace", {
                hint: "Nothing was changed. Publish this project's revision with capibara push, or " +
                    "take the Core's anyway with --refresh --force",
                details: {
                    core_url: client.url,
                    fingerprint: fp.fingerprint,
                    core_revision: theirs,
                    revision: ours.revision,
                },
            });
        }
        try {
            return await store.importEntry(wire, { fingerprint: fp.fingerprint });
        }
        catch (error) {
            if (!(error instanceof ValidationError))
                throw error;
            throw new IntegrityError(`Cannot use the entry the Core at ${client.url} sent for ${fp.fingerprint}: ` +
                error.message.replace(/^Cannot import entry: /, ""), {
                cause: error,
                hint: "Nothing was stored. Tell the Core's operator",
                details: { core_url: client.url, fingerprint: fp.fingerprint },
            });
        }
    }
}
;
;
const MAX_STORED_CONTEXT_BYTES = 1024 ** 2;
;
;
