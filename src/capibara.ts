/**
 * The facade: fingerprint → store lookup and verify → (generate → store write) → prepare → plan →
 * execute → result. It orchestrates and decides nothing: policy is `run/plan.ts`'s, spawning
 * `run/execute.ts`'s, configuration `config.ts`'s.
 *
 * @module
 */
import { dirname, join, resolve } from "./_path.ts";
import { once } from "./_memo.ts";
import { ownCacheFolder } from "./_cache_folder.ts";
import { existsSync, statSyncOrNull } from "./_fs.ts";
import {
  checkGrants,
  checkLanguage,
  checkTimeout,
  type ConfigOptions,
  loadProjectFile,
  nearestName,
  platformCacheDir,
  resolveConfig,
  type ResolvedConfig,
} from "./config.ts";
import { assertTrusted, evaluateTrust } from "./config_trust.ts";
import {
  CapibaraError,
  ExecError,
  forAudience,
  type HintAudience,
  IntegrityError,
  PermissionError,
  systemError,
  TemplateError,
  ValidationError,
} from "./errors.ts";
import {
  contextSnapshot,
  type EntryIdentity,
  type Fingerprint,
  fingerprint as computeFingerprint,
  generationContext,
  identityDiffers,
  normalizePrompt,
  templateMajor,
} from "./fingerprint.ts";
import { generatedEntry } from "./generate/entry.ts";
import type { Generator } from "./generate/types.ts";
import {
  backendFor,
  checkOutputFolders,
  type ExecuteOptions,
  HeldStartLost,
  runDirPath,
  runStaged,
  stage,
  type Staged,
} from "./run/execute.ts";
import { prestarts } from "./run/prestart.ts";
import { rememberRun } from "./run/remembered.ts";
import { checkPermissions, planRun } from "./run/plan.ts";
import { runResult } from "./run/result.ts";
import { runtimeFor } from "./runtimes/mod.ts";
import type { Progress } from "./runtimes/types.ts";
import { platformBackend } from "./sandbox/mod.ts";
import { step } from "./_timings.ts";
import { onTimeout } from "./_timer.ts";
import {
  checkProjectPaths,
  type ContextPaths,
  contextPaths,
  type Grants,
  mergeGrants,
} from "./sandbox/policy.ts";
import { Bundle, type Language, type Mode, type RunResult } from "./schema.ts";
import { type Entry, findRoot, Store } from "./store/store.ts";
import { AcceptanceStore } from "./store/trust.ts";

/** Options of {@linkcode Capibara}. */
export interface CapibaraOptions extends ConfigOptions {
  /**
   * Project root holding `.capibara/` (default: the git root of `cwd`, else `cwd`; never a folder
   * found by looking for `.capibara/`).
   */
  root?: string;
  /** Working directory of scripts; context paths are relative to it (default: `Deno.cwd()`). */
  cwd?: string;
  /** The generator used on a cache miss (default: from `CAPIBARA_*`/`OPENAI_*` variables). */
  generator?: Generator;
  /** Environment to read configuration and granted variables from (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Receives short messages before long steps (generation, installs). */
  progress?: Progress;
  /** Receives warnings (default: `console.error`). */
  warn?: (message: string) => void;
  /**
   * Who reads the hints of the errors `run()` throws: `"sdk"` (default) names this API's
   * options (`allow: { network: ["api.x"] }`, `sandbox: false`), `"cli"` the command's flags
   * (`--allow-net api.x`, `--no-sandbox`).
   */
  hints?: HintAudience;
  /**
   * Keep a sandbox ready for the next run of a request that repeats (default `true`): from a
   * request's second run on, while a run goes on, the next one's sandbox is set up and waits at a
   * gate, so a repeated request costs little more than its script; a request run once leaves
   * nothing waiting. What waits is checked against the next run's plan and paths and thrown away
   * on any difference; it never runs anything of the script before its run, does not keep the
   * process alive, and is gone after 30 s, at {@linkcode Capibara.disposePrestarted} or when the
   * process ends. `false`: every run sets up its sandbox when it starts.
   */
  prestart?: boolean;
}

/** Options of {@linkcode Capibara.run}. */
export interface RunOptions {
  /** JSON context passed to the script (`--context`). */
  context?: unknown;
  /** Keys of `output` to keep, resolved through the manifest's aliases, then `raw`. */
  select?: string[];
  /** Regenerate even when cached. */
  refresh?: boolean;
  /** With `refresh`, regenerate even over an entry whose files were edited since stored. */
  force?: boolean;
  /**
   * Generate and store the script (or check the cached one), but do not run it: the result has
   * no output and no artifacts.
   */
  dryRun?: boolean;
  /** Script language (default: the instance's). */
  language?: Language;
  /** Time limit in seconds for this run. */
  timeout?: number;
  /** Cancels the run; the script's whole process tree is killed. */
  signal?: AbortSignal;
  /**
   * Receives the script's stderr as it arrives. The bytes are the script's, untrusted: escape
   * them before showing them on a terminal.
   */
  onStderr?: (chunk: Uint8Array) => void;
  /** Grants for this run only (merged with the instance's and the config's). */
  allow?: Partial<Grants>;
}

function sdkError(what: string, hint: string): ValidationError {
  return new ValidationError(`Invalid option ${what}`, { hint, details: { option: what } });
}

function checkFunction(value: unknown, what: string, example: string): void {
  if (value !== undefined && typeof value !== "function") {
    throw sdkError(what, `Pass a function, e.g. { ${what}: ${example} }`);
  }
}

/** The keys of {@linkcode CapibaraOptions}: another is a misspelling, never ignored. */
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
] as const satisfies readonly (keyof CapibaraOptions)[];

/** The keys of {@linkcode RunOptions}. */
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
] as const satisfies readonly (keyof RunOptions)[];

/** Refuses an option key that is none of `known`, naming the nearest one. */
function checkKeys(options: object, known: readonly string[], example: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const { shown, nearest } = nearestName(key, known);
    throw sdkError(shown, `Unknown option; did you mean "${nearest}"? (e.g. ${example})`);
  }
}

/** Checks the options only the facade uses (the rest is checked by `resolveConfig`). */
function checkFacadeOptions(options: CapibaraOptions): void {
  checkKeys(options, CAPIBARA_OPTIONS, "new Capibara({ timeout: 60 })");
  if (options.hints !== undefined && options.hints !== "sdk" && options.hints !== "cli") {
    throw sdkError("hints", 'Pass "sdk" or "cli", e.g. { hints: "sdk" }');
  }
  for (const key of ["root", "cwd"] as const) {
    const value = options[key];
    // A NUL ends a path where the system reads it: no folder is named so.
    if (
      value !== undefined && (typeof value !== "string" || value === "" || value.includes("\0"))
    ) {
      throw sdkError(
        key,
        `Pass a directory path, e.g. new Capibara({ ${key}: "/path/to/project" })`,
      );
    }
  }
  if (
    options.env !== undefined &&
    (typeof options.env !== "object" || options.env === null || Array.isArray(options.env) ||
      Object.values(options.env).some((value) => value !== undefined && typeof value !== "string"))
  ) {
    throw sdkError(
      "env",
      "Pass an object of variables whose values are strings, e.g. { env: Deno.env.toObject() }",
    );
  }
  const generator = options.generator as Partial<Generator> | undefined;
  if (
    generator !== undefined &&
    (typeof generator !== "object" || generator === null ||
      typeof generator.generate !== "function" ||
      typeof generator.kind !== "string")
  ) {
    throw sdkError("generator", "Pass an object with a kind and a generate() method");
  }
  if (options.core !== undefined && options.generator !== undefined) {
    throw sdkError(
      "core",
      "Pass either core (the team's Core generates on a miss) or generator, not both",
    );
  }
  if (options.prestart !== undefined && typeof options.prestart !== "boolean") {
    throw sdkError("prestart", "Pass true or false, e.g. new Capibara({ prestart: true })");
  }
  checkFunction(options.progress, "progress", "(message) => console.error(message)");
  checkFunction(options.warn, "warn", "(message) => console.error(message)");
}

function checkRunOptions(options: RunOptions): void {
  if (typeof options !== "object" || options === null) {
    throw sdkError("run options", "Pass an options object, e.g. run(prompt, { context: {} })");
  }
  checkKeys(options, RUN_OPTIONS, "run(prompt, { context: {} })");
  const { context, select, refresh, signal } = options;
  if (
    context !== undefined &&
    (typeof context !== "object" || context === null || Array.isArray(context))
  ) {
    throw new ValidationError("The context must be a JSON object", {
      hint: 'Pass an object, e.g. run(prompt, { context: { input: "data.csv" } })',
    });
  }
  if (
    select !== undefined &&
    (!Array.isArray(select) || select.some((key) => typeof key !== "string"))
  ) {
    throw sdkError("select", 'Pass a list of output keys, e.g. { select: ["total", "count"] }');
  }
  for (
    const [name, value] of [["refresh", refresh], ["force", options.force], [
      "dryRun",
      options.dryRun,
    ]] as const
  ) {
    if (value !== undefined && typeof value !== "boolean") {
      throw sdkError(name, `Pass true or false, e.g. { ${name}: true }`);
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw sdkError("signal", "Pass an AbortSignal, e.g. { signal: AbortSignal.timeout(60_000) }");
  }
  checkFunction(options.onStderr, "onStderr", "(chunk) => Deno.stderr.write(chunk)");
  if (options.language !== undefined) checkLanguage(options.language);
  if (options.timeout !== undefined) checkTimeout(options.timeout);
  checkGrants(options.allow);
}

/** What a request is fingerprinted from: the prompt, its context, the language and the mode. */
type Request = { prompt: string; context: unknown; language: Language; mode: Mode };

/** The SDK: turns a prompt and a context into a cached script, and runs it. */
export class Capibara {
  readonly #options: CapibaraOptions;
  readonly #env: Record<string, string | undefined>;
  /** The configuration without the project's file: enough for the cache dir, checked early. */
  readonly #base: ResolvedConfig;
  readonly #setup: () => Promise<{ config: ResolvedConfig; store: Store }>;
  readonly #inflight = new Map<string, Promise<{ entry: Entry; generated: boolean }>>();
  #warnedLegacy = false;

  /**
   * Throws away the sandboxes that instances with `prestart` keep ready (they are the process's,
   * shared by every instance); resolves once they are gone.
   */
  static disposePrestarted(): Promise<void> {
    return prestarts.dispose();
  }

  /**
   * An SDK instance; options are checked now, the project's configuration read on first use.
   *
   * @throws {ValidationError} when an option has the wrong type or an impossible value.
   */
  constructor(options: CapibaraOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw sdkError("options", "Pass an options object, e.g. new Capibara({ timeout: 60 })");
    }
    checkFacadeOptions(options);
    this.#options = options;
    this.#env = options.env ?? Deno.env.toObject();
    this.#base = resolveConfig(options, this.#env);
    this.#setup = once(async () => {
      // What the cache holds decides what runs and what is trusted: this user's alone, and used
      // by its real path only, the one checked (a link on the way could lead elsewhere later).
      const cacheDir = ownCacheFolder(this.#base.cacheDir);
      for (const [option, folder] of [["cwd", this.cwd], ["root", this.#options.root]] as const) {
        if (folder !== undefined && statSyncOrNull(folder)?.isDirectory !== true) {
          throw sdkError(option, `Pass a folder that exists: "${folder}" is not one`);
        }
      }
      const root = this.#options.root ??
        await findRoot(this.cwd, { warn: this.#options.warn ?? console.error });
      // A cache folder named by a variable or an option is never in a git checkout (a `.git`
      // folder or file on its way up, whatever the root): the repository could bring the trust
      // records and acceptances it holds (a CI job pointing CAPIBARA_CACHE_DIR into its
      // workspace). The platform's default is not looked at: a home folder kept in git holds it.
      let checkout: string | undefined;
      const given = resolve(this.#base.cacheDir) !== resolve(platformCacheDir(this.#env));
      for (let dir = dirname(cacheDir); given && checkout === undefined; dir = dirname(dir)) {
        if (existsSync(join(dir, ".git"))) checkout = dir;
        if (dirname(dir) === dir) break;
      }
      if (checkout !== undefined) {
        throw new PermissionError(
          `Cannot use the cache folder "${this.#base.cacheDir}": it lies inside the repository ` +
            `${checkout}, which could bring the trust records and acceptances it holds`,
          {
            hint: "Point CAPIBARA_CACHE_DIR (or the SDK's cacheDir) at a folder outside the " +
              "project, e.g. ~/.cache/capibara or $RUNNER_TEMP/capibara in CI",
            details: { cache_dir: this.#base.cacheDir, repository: checkout },
          },
        );
      }
      const file = await loadProjectFile(root);
      const trust = await evaluateTrust(file, {
        cacheDir,
        env: this.#env,
        trustProjectConfig: this.#options.trustProjectConfig,
      });
      const config = resolveConfig({ ...this.#options, cacheDir }, this.#env, file?.config, trust);
      // The backend learns the cache folder before anything probes it (a miss's static checks
      // do, before its run): its probe is then remembered there for the next process.
      if (config.sandbox) platformBackend(config.cacheDir);
      const store = new Store(root, join(config.cacheDir, "locks"), {
        signatures: config.signatures,
        acceptances: new AcceptanceStore(config.cacheDir),
      });
      return { config, store };
    });
  }

  /**
   * The working directory scripts run in.
   *
   * @throws {ValidationError} when it is the process's own and no longer exists
   */
  get cwd(): string {
    if (this.#options.cwd !== undefined) return resolve(this.#options.cwd);
    try {
      return Deno.cwd();
    } catch (error) {
      throw new ValidationError(
        `The current directory cannot be read: ${(error as Error).message}`,
        { cause: error, hint: "Run from a folder that exists, or pass cwd to new Capibara()" },
      );
    }
  }

  /**
   * The project's store, for Capibara's own commands (`list`, `show`, `verify`, `clear`, `doctor`).
   * Not part of the documented SDK: the store's interface may change with its layout.
   *
   * @ignore
   */
  async store(): Promise<Store> {
    return (await this.#setup()).store;
  }

  /** The resolved configuration: options > environment > `.capibara/config.json` > defaults. */
  async config(): Promise<ResolvedConfig> {
    return (await this.#setup()).config;
  }

  /** The machine-local cache directory. */
  get cacheDir(): string {
    return this.#base.cacheDir;
  }

  /**
   * Fingerprints a request, generates its script on a cache miss (or with `refresh`), verifies a
   * cached one, and runs it in the sandbox with the merged grants.
   *
   * @throws {ValidationError} for a bad prompt, context or option, or a path outside the workdir.
   * @throws {PermissionError} when a need of the script is not granted, no sandbox is available, or
   *   the project's `.capibara/config.json` grants or redirects something and is not trusted.
   * @throws {IntegrityError} when the cached entry was edited since it was written.
   * @throws {NetworkError} when the generator cannot be reached.
   * @throws {TemplateError} when the model's replies keep breaking the generation contract.
   * @throws {DependencyError} when the script's environment cannot be built.
   * @throws {ExecError} when the script fails, times out or breaks the output contract.
   */
  async run<Output extends Record<string, unknown> = Record<string, unknown>>(
    prompt: string,
    options: RunOptions = {},
  ): Promise<RunResult<Output>> {
    try {
      return await this.#run<Output>(prompt, options);
    } catch (error) {
      throw forAudience(systemError(error) ?? error, this.#options.hints ?? "sdk");
    }
  }

  async #run<Output extends Record<string, unknown>>(
    prompt: string,
    options: RunOptions,
  ): Promise<RunResult<Output>> {
    const started = performance.now();
    if (typeof prompt !== "string") {
      throw new ValidationError("The prompt must be a string", {
        hint: 'Call run("Summarise data.csv", { context })',
      });
    }
    checkRunOptions(options);
    // Read once: every later step sees the same values.
    const context = contextSnapshot(options.context ?? {});
    const { config, store } = await this.#setup();
    step("the project: its root, configuration file and trust");
    // An untrusted `.capibara/config.json` stops the run before anything is generated or run.
    assertTrusted(config.projectTrust);
    const language = options.language ?? config.language;
    const fp = await computeFingerprint(prompt, context, { language, mode: config.mode });
    step("fingerprint");
    const workdir = Deno.realPathSync(this.cwd);
    // Context paths are checked before anything is generated.
    const paths = await contextPaths(context, workdir, { requireInputs: true });
    // The project's own grants still lead inside it (a link committed after its trust would not).
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
        output: {} as Output,
        raw: {},
        fingerprint: fp.fingerprint,
        cached: !generated,
        duration_ms: Math.round(performance.now() - started),
        allow: manifest.allow,
      };
    }
    // A script generated here is unsigned: where signatures are required, a person reviews and
    // accepts it (capibara accept) before it runs.
    if (generated) await store.checkPolicy(manifest);
    const grants = mergeGrants(config.grants, options.allow);
    // Needs not granted stop the run before anything is installed.
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
        // Installs run in the OS sandbox too (never in the unconfined or Deno-permissions one).
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
    // The sandbox started for this request ahead of it, when it still fits; then the next one,
    // now or once this run ended (see Prestarts.nextAfterRun).
    const key = JSON.stringify([
      backend.name,
      config.cacheDir,
      entry.dir,
      workdir,
      plan.contextJson,
    ]);
    const prestart = this.#options.prestart ?? true;
    // Without `prestart`, only a sandbox the command started from its last hit's plan is taken
    // (see run/remembered.ts).
    const ready = await prestarts.take(key, plan, !prestart);
    const startNext = () =>
      prestarts.start(
        key,
        backend,
        () => planRun({ ...planInput, tmpDir: runDirPath() }),
      );
    if (prestart && !prestarts.nextAfterRun) startNext();
    step("plan");
    const timeoutSeconds = options.timeout ?? config.timeoutSeconds;
    this.#options.progress?.(`Running ${fp.fingerprint}`);
    let result: Awaited<ReturnType<typeof runResult>> | undefined;
    let execution: Awaited<ReturnType<typeof runStaged>>;
    /** Whether the sandbox showed copies made when it was set up (see run/remembered.ts). */
    let copies = false;
    try {
      const run = async (staged: Staged, left?: Partial<ExecuteOptions>) => {
        copies = Boolean(staged.wrapped.copies);
        return await runStaged(staged, { ...runOptions, ...left });
      };
      const runOptions: ExecuteOptions = {
        timeoutMs: timeoutSeconds * 1000,
        maxOutputBytes: config.maxOutputBytes,
        signal: options.signal,
        onStderr: options.onStderr,
        staging: config.staging,
        removeLater: prestart && prestarts.nextAfterRun
          ? (folder) => prestarts.removeLater(folder)
          : undefined,
        // The result is judged before the staging area goes: only then are artifacts moved out.
        accept: async (run) => {
          result = await runResult(
            run,
            { workdir: plan.policy.workdir, writeDirs: plan.writeDirs, manifest },
            { timeoutSeconds, maxOutputBytes: config.maxOutputBytes, select: options.select },
          );
          return result.artifacts;
        },
      };
      execution = ready
        ? await run(ready).catch(async (error) => {
          if (!(error instanceof HeldStartLost)) throw error;
          // Its gate never said it let the run through: it died while it waited (nothing of the
          // script ran), or the script took the sign off its own error output first (it reopened
          // the pipe through /proc). The run starts afresh, cold, with what is left of its time
          // and output: either way, the run as a whole stays within its limits.
          prestarts.stats.lost++;
          (this.#options.warn ?? console.error)(
            `warning: ${error.message}; the run starts again without it`,
          );
          const spent = error.exec;
          return await run(await stage(plan, backend), {
            timeoutMs: Math.max(1, runOptions.timeoutMs - spent.durationMs),
            maxOutputBytes: Math.max(
              1,
              runOptions.maxOutputBytes -
                new TextEncoder().encode(spent.stdout + spent.stderr).byteLength,
            ),
          });
        })
        : await run(await stage(plan, backend));
    } catch (error) {
      // A run that ended badly throws away the sandbox started for the next one.
      if (prestart) prestarts.settle(key, false);
      throw error;
    }
    rememberRun(
      { key, language: manifest.language, cacheDir: config.cacheDir, plan },
      { holds: backend.holds === true, copies },
    );
    if (prestart) {
      prestarts.settle(key, true);
      // After what the caller does with this result (a runner sends it first).
      if (prestarts.nextAfterRun) onTimeout(0, startNext);
    }
    step("the run's folder removed");
    if (!result) throw new Error("unreachable: the run was not judged");
    return {
      status: "ok",
      artifacts: execution.artifacts ?? result.artifacts,
      output: result.output as Output,
      raw: result.raw,
      fingerprint: manifest.fingerprint,
      cached: !generated,
      duration_ms: Math.round(performance.now() - started),
      ...(result.missing ? { missing: result.missing } : {}),
      allow: plan.allow,
    };
  }

  /**
   * An entry keyed under an earlier rule for this very request (an earlier template's prompt
   * rule, or a parametric request's key before its mode was hashed); says once how to move it.
   */
  async #legacyHit(
    store: Store,
    fp: Fingerprint,
    request: Request,
  ): Promise<Entry | undefined> {
    // Only on a miss: the re-keying module never loads on a hit.
    const { findLegacyEntry } = await import("./store/rekey.ts");
    const entry = await findLegacyEntry(store, request, fp);
    if (entry && !this.#warnedLegacy) {
      this.#warnedLegacy = true;
      const { fingerprint, mode, template_version } = entry.manifest;
      (this.#options.warn ?? console.error)(
        mode === "parametric"
          ? `warning: cached script ${fingerprint} is keyed under an earlier rule of template ` +
            `${template_version}; regenerate it with --refresh to store it under ` +
            `${fp.fingerprint} (a parametric entry stores no context, so rekey cannot move it)`
          : `warning: cached script ${fingerprint} is keyed under the prompt rule of template ` +
            `${templateMajor(template_version)}; run capibara rekey to move it (and any others) ` +
            `to the new fingerprints, or regenerate it with --refresh`,
      );
    }
    return entry;
  }

  /** The cached entry of a request, generating it under the fingerprint's lock on a miss. */
  #obtain(
    store: Store,
    config: ResolvedConfig,
    fp: Fingerprint,
    request: Request & {
      refresh: boolean;
      force?: boolean;
      paths: ContextPaths;
      workdir: string;
      signal?: AbortSignal;
    },
  ): Promise<{ entry: Entry; generated: boolean }> {
    // Concurrent calls for one request share one generation only when they ask the same of it:
    // the same refresh and force, and no signal of their own (one caller's abort must not fail
    // another's call, nor one's --force decide for the other).
    const key = `${fp.fingerprint}:${request.refresh}:${request.force === true}`;
    const shared = request.signal === undefined;
    const pending = shared ? this.#inflight.get(key) : undefined;
    if (pending) return pending;
    const work = (async () => {
      if (!request.refresh) {
        const found = await store.lookup(fp.fingerprint);
        if (found) {
          checkHitIdentity(found, { ...fp, language: request.language, mode: request.mode });
        }
        const hit = found ?? await this.#legacyHit(store, fp, request);
        if (hit) return { entry: hit, generated: false };
      }
      using _lock = await store.lock(fp.fingerprint);
      // A forced refresh replaces an entry that cannot even be read (a manifest that is no
      // JSON, or that this version refuses), as the integrity error's hint says it does.
      const previous = await store.lookup(fp.fingerprint).catch((error) => {
        if (request.refresh && request.force && error instanceof IntegrityError) return undefined;
        throw error;
      });
      // Someone else generated it while we waited for the lock.
      if (previous && !request.refresh) return { entry: previous, generated: false };
      // A refresh never silently overwrites a hand edit.
      if (previous && !request.force) {
        await store.verify(previous, { policy: false }).catch((error) => {
          if (!(error instanceof IntegrityError)) throw error;
          throw new IntegrityError(
            `Cannot refresh "${fp.fingerprint}": its files changed since they were stored ` +
              `(${(error.details?.problems as string[] | undefined)?.join("; ") ?? error.message})`,
            {
              hint: `Keep a reviewed edit with capibara accept ${fp.fingerprint}, or ` +
                "overwrite it with --refresh --force",
              details: { fingerprint: fp.fingerprint },
            },
          );
        });
      }
      // With a Core, the team's entry (or one the Core generates): never an LLM from here. A
      // generator passed in code is the caller's explicit choice, and wins over the environment.
      const viaCore = config.core !== undefined && !this.#options.generator;
      // The OpenAI client loads only on a miss: a cache hit never pays for it.
      const generator = viaCore ? undefined : this.#options.generator ??
        (await import("./generate/openai.ts")).generatorFromConfig(config.generator);
      step("generation: the generator's modules");
      if (!viaCore && !generator) {
        if (previous) {
          throw new ValidationError(
            `Cannot refresh "${fp.fingerprint}": no generator is configured to write it again`,
            {
              hint: "Set CAPIBARA_BASE_URL (any OpenAI-compatible server) or CAPIBARA_API_KEY / " +
                "OPENAI_API_KEY, or generator.base_url in .capibara/config.json; without " +
                "--refresh the cached script runs as it is",
              details: { fingerprint: fp.fingerprint },
            },
          );
        }
        // A prompt mistyped looks like a missing key: the cached requests it nearly is, first.
        const near = await nearRequests(store, request.prompt);
        throw new ValidationError(
          `No generator is configured, and "${fp.fingerprint}" is not cached`,
          {
            hint: (near.length > 0
              ? `Cached requests close to this one: ${
                near.map((m) => `"${m.prompt}" (${m.language}, ${m.fingerprint})`).join("; ")
              }; a cached script runs only for the same prompt (but for case, spaces, ` +
                "courtesy words and a final full stop) and context. For a new script, set"
              : "Set") +
              " CAPIBARA_BASE_URL (any OpenAI-compatible server, e.g. " +
              "http://localhost:11434/v1 for Ollama) or CAPIBARA_API_KEY / OPENAI_API_KEY " +
              "for OpenAI, or generator.base_url in .capibara/config.json (run --base-url " +
              "for once); CAPIBARA_MODEL, generator.model or --model picks the model. With a " +
              "team Core, set CAPIBARA_CORE_URL and CAPIBARA_CORE_TOKEN instead",
            details: {
              fingerprint: fp.fingerprint,
              near: near.map((m) =>
                m.fingerprint
              ),
            },
          },
        );
      }
      // Nothing is asked of either for a project whose store cannot take the entry, nor for a
      // run whose outputs could not be written once its script is done.
      await store.checkWritable();
      // Nor for a context too large to be stored with its script (a strict entry keeps it in its
      // manifest and its README): generated and then refused, it would be paid for on every try.
      if (
        request.mode === "strict" &&
        new TextEncoder().encode(fp.context_normalized).byteLength > MAX_STORED_CONTEXT_BYTES
      ) {
        throw new ValidationError(
          `The context is too large to be stored with its script (more than ` +
            `${MAX_STORED_CONTEXT_BYTES / 1024 ** 2} MiB as JSON)`,
          {
            hint: "Put large data in a file and name it in the context (an input path), or " +
              "use parametric mode, which stores only the context's shape",
          },
        );
      }
      checkOutputFolders(request.paths.write, request.workdir);
      if (!generator) {
        return {
          entry: await this.#fromCore(store, config, fp, request, previous),
          generated: true,
        };
      }
      // Cancelled before anything is asked of the generator: nothing is generated or stored.
      if (request.signal?.aborted) throw cancelled("Generation");
      this.#options.progress?.("Generating the script…");
      // Through a promise: a generator passed in code may throw at once or return a plain value.
      const result = await Promise.resolve().then(() =>
        generator.generate(
          {
            prompt: request.prompt,
            context: generationContext(
              request.context as Record<string, unknown>,
              request.mode,
            ) as Record<string, unknown>,
            language: request.language,
          },
          { progress: this.#options.progress, signal: request.signal },
        )
      ).catch((error) => {
        // Cancelled by the caller: that is what it is, not a generator's fault.
        if (request.signal?.aborted) throw cancelled("Generation");
        // A generator passed in code that fails its own way: its error, as a typed one.
        if (error instanceof CapibaraError) throw error;
        throw new TemplateError(
          `The generator "${generator.kind}" failed: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error, hint: "Fix the generator, or use the configured one" },
        );
      });
      step("generation: the rest of the generator's work");
      // A generator that answered though the call was cancelled: nothing is stored.
      if (request.signal?.aborted) throw cancelled("Generation");
      if (!Bundle.safeParse(result?.bundle).success) {
        throw new TemplateError(
          `The generator "${generator.kind}" returned no valid bundle (a script and its files)`,
          { hint: "A generator resolves to { bundle, model, attempts } (see GenerateResult)" },
        );
      }
      // A script of another language would be stored under this request's entry file.
      if (result.bundle.language !== request.language) {
        throw new TemplateError(
          `The generator "${generator.kind}" returned a ${result.bundle.language} script for a ` +
            `${request.language} request`,
          { hint: "A generator answers in the request's language (GenerateRequest.language)" },
        );
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
    if (!shared) return work;
    this.#inflight.set(key, work);
    return work.finally(() => this.#inflight.delete(key));
  }

  /**
   * The entry of a request from the team's Core (the caller holds the fingerprint's lock): its
   * shared entry, else one it generates. The entry must be this request's, and is stored only
   * through `importEntry`, which verifies it as any cached entry (signature policy included).
   */
  async #fromCore(
    store: Store,
    config: ResolvedConfig,
    fp: Fingerprint,
    request: Request & { signal?: AbortSignal; force?: boolean },
    previous?: Entry,
  ): Promise<Entry> {
    const core = config.core!;
    // The client loads only on a miss, like the OpenAI client.
    const { CoreClient, checkEntryIdentity } = await import("./generate/core_client.ts");
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
    checkEntryIdentity(
      wire,
      { ...fp, language: request.language, mode: request.mode },
      client.url,
    );
    // A refresh takes the Core's entry over this project's only when it is a later revision (or
    // the same): an older one, validly signed, would undo a reviewed and accepted edit.
    const ours = previous?.manifest;
    // Read as the schema will read it (no revision is revision 1), before that check runs.
    const theirs = (wire.manifest as { revision?: unknown }).revision ?? 1;
    if (
      ours && !request.force && !(typeof theirs === "number" && theirs > ours.revision) &&
      wire.manifest.integrity?.manifest !== ours.integrity?.manifest
    ) {
      throw new IntegrityError(
        `Cannot refresh "${fp.fingerprint}" from the Core at ${client.url}: it sends revision ` +
          `${String(theirs)}, and this project holds revision ${ours.revision}, which it ` +
          "would replace",
        {
          hint: "Nothing was changed. Publish this project's revision with capibara push, or " +
            "take the Core's anyway with --refresh --force",
          details: {
            core_url: client.url,
            fingerprint: fp.fingerprint,
            core_revision: theirs,
            revision: ours.revision,
          },
        },
      );
    }
    try {
      return await store.importEntry(wire, { fingerprint: fp.fingerprint });
    } catch (error) {
      // Not an entry of the right form (files, size): the Core's answer is at fault, not an option.
      if (!(error instanceof ValidationError)) throw error;
      throw new IntegrityError(
        `Cannot use the entry the Core at ${client.url} sent for ${fp.fingerprint}: ` +
          error.message.replace(/^Cannot import entry: /, ""),
        {
          cause: error,
          hint: "Nothing was stored. Tell the Core's operator",
          details: { core_url: client.url, fingerprint: fp.fingerprint },
        },
      );
    }
  }
}

/** The words of a prompt as the fingerprint sees it. */
function promptWords(prompt: string): Set<string> {
  return new Set(normalizePrompt(prompt).split(" ").filter((word) => word !== ""));
}

/**
 * Up to three cached requests whose prompts share most of their words with `prompt` (at least
 * two thirds of the words of both, together): a typo, a word added or dropped.
 */
async function nearRequests(
  store: Store,
  prompt: string,
): Promise<{ prompt: string; language: string; fingerprint: string }[]> {
  const words = promptWords(prompt);
  if (words.size === 0) return [];
  const scored: { score: number; prompt: string; language: string; fingerprint: string }[] = [];
  for (const { manifest: m } of (await store.list()).entries) {
    const other = promptWords(m.prompt);
    const shared = [...words].filter((word) => other.has(word)).length;
    const score = shared / (words.size + other.size - shared);
    if (score >= 2 / 3) {
      scored.push({ score, prompt: m.prompt, language: m.language, fingerprint: m.fingerprint });
    }
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, 3)
    .map(({ prompt, language, fingerprint }) => ({ prompt, language, fingerprint }));
}

/**
 * The largest context a strict entry stores (its canonical JSON): it is written into the manifest
 * and the README, each bounded by the store's `MAX_ENTRY_BYTES` (4 MiB).
 */
const MAX_STORED_CONTEXT_BYTES = 1024 ** 2;

/** The error of a call its caller cancelled (its `signal`) during `what`. */
function cancelled(what: string): ExecError {
  return new ExecError(`${what} was cancelled`, {
    hint: "The call's signal was aborted; nothing was stored",
  });
}

/**
 * A cached entry found under a request's fingerprint is used only when its manifest names that
 * very request ({@linkcode identityDiffers}): a repository may bring, in a request's folder, the
 * entry of another (another language, a parametric entry, whose fingerprint is not checked
 * against its manifest), and it would run for this one.
 *
 * @throws {IntegrityError} naming the fields that differ
 */
function checkHitIdentity(entry: Entry, expected: EntryIdentity): void {
  const differ = identityDiffers(entry.manifest as unknown as Record<string, unknown>, expected);
  if (differ.length === 0) return;
  throw new IntegrityError(
    `Cannot use cached script "${expected.fingerprint}" for this request: it is the entry of ` +
      `another request (${differ.map((key) => `${key} differs`).join(", ")})`,
    {
      hint: "Remove its folder (capibara clear), or regenerate it with capibara run --refresh " +
        "--force",
      details: { fingerprint: expected.fingerprint, fields: differ },
    },
  );
}
