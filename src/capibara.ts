/**
 * Orchestration of one run: fingerprint → lookup → (generate → store) → verify → run → result.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { cacheDirFrom, DEFAULTS, loadProjectConfig } from "./config.ts";
import { PermissionError, ValidationError } from "./errors.ts";
import { execCommand, type ExecResult } from "./exec.ts";
import { applySelect, type LimitsHit, parseScriptOutput } from "./run/result.ts";
import { fingerprint as computeFingerprint } from "./fingerprint.ts";
import type { Generator } from "./generate/types.ts";
import { TEMPLATE_VERSION } from "./contract/contract.ts";
import { entryReadme } from "./readme.ts";
import { runtimeFor } from "./runtimes/mod.ts";
import { type Progress, scriptCommand } from "./runtimes/types.ts";
import { NO_SANDBOX_WARNING, platformBackend, requireBackend } from "./sandbox/mod.ts";
import {
  checkArtifacts,
  contextPaths,
  effectiveAllow,
  type Grants,
  mergeGrants,
  protectedPaths,
  resolveGrantedPaths,
} from "./sandbox/policy.ts";
import type { LinuxWrappedCommand } from "./sandbox/linux.ts";
import type { SandboxPolicy, WrappedCommand } from "./sandbox/types.ts";
import {
  type Bundle,
  ENTRY_FILES,
  type Language,
  type Manifest,
  type Mode,
  type RunResult,
} from "./schema.ts";
import { type Entry, findRoot, Store } from "./store/store.ts";

/** Options of {@linkcode Capibara}. */
export interface CapibaraOptions {
  /** Project root holding `.capibara/` (default: found from `cwd`). */
  root?: string;
  /** Working directory of scripts; context paths are relative to it (default: `Deno.cwd()`). */
  cwd?: string;
  /** The generator used on a cache miss (default: from `CAPIBARA_*`/`OPENAI_*` variables). */
  generator?: Generator;
  /** Time limit of a script in seconds (default 300). */
  timeout?: number;
  /** Machine-local cache for environments (default: `CAPIBARA_CACHE_DIR` or the platform's). */
  cacheDir?: string;
  /** Default script language (default `python`). */
  language?: Language;
  /** Fingerprint mode (default `strict`). */
  mode?: Mode;
  /** Environment to read configuration and granted variables from (default: the process's). */
  env?: Record<string, string | undefined>;
  /** Receives short messages before long steps (generation, installs). */
  progress?: Progress;
  /** What the user grants scripts (merged with `.capibara/config.json`'s `allow`). */
  allow?: Partial<Grants>;
  /** `false` runs Python and bash scripts unconfined (a warning is printed). Default `true`. */
  sandbox?: boolean;
  /** Memory limit of a script in bytes (default 2 GiB). */
  memoryBytes?: number;
  /** Process limit of a script (default 256). */
  maxProcesses?: number;
  /** Receives warnings (default: `console.error`). */
  warn?: (message: string) => void;
}

/** Options of {@linkcode Capibara.run}. */
export interface RunOptions {
  /** JSON context passed to the script (`--context`). */
  context?: unknown;
  /** Keys of `output` to keep, resolved through the manifest's aliases, then `raw`. */
  select?: string[];
  /** Regenerate even when cached. */
  refresh?: boolean;
  /** Script language (default: the instance's). */
  language?: Language;
  /** Time limit in seconds for this run. */
  timeout?: number;
  /** Cancels the run; the script's whole process tree is killed. */
  signal?: AbortSignal;
  /** Grants for this run only (merged with the instance's and the config's). */
  allow?: Partial<Grants>;
}

const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

/** The SDK: turns a prompt and a context into a cached script, and runs it. */
export class Capibara {
  readonly #options: CapibaraOptions;
  readonly #env: Record<string, string | undefined>;
  #store?: Promise<Store>;
  readonly #inflight = new Map<string, Promise<{ entry: Entry; generated: boolean }>>();

  constructor(options: CapibaraOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? Deno.env.toObject();
  }

  /** The working directory scripts run in. */
  get cwd(): string {
    return resolve(this.#options.cwd ?? Deno.cwd());
  }

  /** The project's store. */
  store(): Promise<Store> {
    this.#store ??=
      (async () =>
        new Store(this.#options.root ?? await findRoot(this.cwd), join(this.cacheDir, "locks")))();
    return this.#store;
  }

  /** The machine-local cache directory. */
  get cacheDir(): string {
    return this.#options.cacheDir ?? cacheDirFrom(this.#env);
  }

  /** Fingerprints, generates on a miss, and runs a request. */
  async run<Output extends Record<string, unknown> = Record<string, unknown>>(
    prompt: string,
    options: RunOptions = {},
  ): Promise<RunResult<Output>> {
    const started = performance.now();
    if (typeof prompt !== "string") {
      throw new ValidationError("The prompt must be a string", {
        hint: 'Call run("Summarise data.csv", { context })',
      });
    }
    const context = options.context ?? {};
    if (typeof context !== "object" || context === null || Array.isArray(context)) {
      throw new ValidationError("The context must be a JSON object", {
        hint: 'Pass an object, e.g. --context \'{"input": "data.csv"}\'',
      });
    }
    const store = await this.store();
    const config = await loadProjectConfig(store.root);
    const language = options.language ?? this.#options.language ?? "python";
    const mode = this.#options.mode ?? config.mode ?? DEFAULTS.mode;
    const fp = await computeFingerprint(prompt, context, { language, mode });

    const { entry, generated } = await this.#obtain(store, fp, {
      prompt,
      context,
      language,
      mode,
      refresh: options.refresh ?? false,
      baseUrl: config.generator?.base_url,
      model: config.generator?.model,
    });
    if (!generated) await store.verify(entry);

    const timeoutSeconds = options.timeout ?? this.#options.timeout ?? config.timeout ??
      DEFAULTS.timeoutSeconds;
    const grants = mergeGrants(config.allow, this.#options.allow, options.allow);
    const { exec, writeDirs, limits } = await this.#execute(
      store,
      entry,
      context,
      grants,
      timeoutSeconds,
      options.signal,
      config.install?.source_builds === true,
    );
    const output = parseScriptOutput(exec, timeoutSeconds, limits);
    const artifacts = await checkArtifacts(output.artifacts, this.cwd, writeDirs);
    const selected = applySelect(output, entry.manifest, options.select);
    return {
      status: "ok",
      artifacts,
      output: selected.output as Output,
      raw: output.raw,
      fingerprint: fp.fingerprint,
      cached: !generated,
      duration_ms: Math.round(performance.now() - started),
      ...(selected.missing ? { missing: selected.missing } : {}),
    };
  }

  /** The cached entry of a request, generating it under the fingerprint's lock on a miss. */
  #obtain(
    store: Store,
    fp: Awaited<ReturnType<typeof computeFingerprint>>,
    request: {
      prompt: string;
      context: unknown;
      language: Language;
      mode: Mode;
      refresh: boolean;
      baseUrl?: string;
      model?: string;
    },
  ): Promise<{ entry: Entry; generated: boolean }> {
    const key = `${fp.fingerprint}:${request.refresh}`;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const work = (async () => {
      if (!request.refresh) {
        const hit = await store.lookup(fp.fingerprint);
        if (hit) return { entry: hit, generated: false };
      }
      using _lock = await store.lock(fp.fingerprint);
      const previous = await store.lookup(fp.fingerprint);
      // Someone else generated it while we waited for the lock.
      if (previous && !request.refresh) return { entry: previous, generated: false };
      // The OpenAI client loads only on a miss: a cache hit never pays for it.
      const generator = this.#options.generator ??
        (await import("./generate/openai.ts")).generatorFromEnv(this.#env, {
          base_url: request.baseUrl,
          model: request.model,
        });
      if (!generator) {
        throw new ValidationError(
          `No generator is configured, and "${fp.fingerprint}" is not cached`,
          {
            hint: "Set CAPIBARA_BASE_URL (any OpenAI-compatible server, e.g. " +
              "http://localhost:11434/v1 for Ollama) or CAPIBARA_API_KEY / OPENAI_API_KEY " +
              "for OpenAI; CAPIBARA_MODEL picks the model",
            details: { fingerprint: fp.fingerprint },
          },
        );
      }
      this.#options.progress?.("Generating the script…");
      const result = await generator.generate(
        { prompt: request.prompt, context: request.context, language: request.language },
        { progress: this.#options.progress },
      );
      const runtime = runtimeFor(request.language, this.#env);
      const revision = (previous?.manifest.revision ?? 0) + 1;
      const now = new Date().toISOString();
      const manifest = buildManifest({
        fp,
        request,
        bundle: result.bundle,
        runtime: await runtime.describe(),
        generator: { kind: "openai", model: result.model },
        created_at: previous?.manifest.created_at ?? now,
        revision,
        history: [
          ...(previous?.manifest.history ?? []),
          { revision, at: now, reason: previous ? "refresh requested" : "generated" },
        ],
      });
      const entry = await store.write(manifest, entryFiles(manifest, result.bundle));
      return { entry, generated: true };
    })();
    this.#inflight.set(key, work);
    return work.finally(() => this.#inflight.delete(key));
  }

  async #execute(
    store: Store,
    entry: Entry,
    context: unknown,
    grants: Grants,
    timeoutSeconds: number,
    signal: AbortSignal | undefined,
    sourceBuilds: boolean,
  ): Promise<{ exec: ExecResult; writeDirs: string[]; limits?: LimitsHit }> {
    const { manifest, dir } = entry;
    const workdir = this.cwd;
    // Policy first: a path that leaves the workdir or a need not granted stops the run here.
    const paths = await contextPaths(context, workdir);
    const allow = effectiveAllow(manifest.needs, grants, paths, workdir);
    if (JSON.stringify(allow) !== JSON.stringify(manifest.allow)) {
      await store.updateManifest(entry, { ...manifest, allow });
    }
    const [grantedRead, grantedWrite] = await Promise.all([
      resolveGrantedPaths(grants.read, workdir),
      resolveGrantedPaths(grants.write, workdir),
    ]);
    const writeDirs = [...paths.write, ...grantedWrite];
    for (const d of paths.write) await Deno.mkdir(d, { recursive: true });

    const sandboxed = this.#options.sandbox !== false || manifest.language === "typescript";
    if (!sandboxed) (this.#options.warn ?? console.error)(NO_SANDBOX_WARNING);
    // The backend's probe and the environment's preparation are independent: overlap them.
    const runtime = runtimeFor(manifest.language, this.#env);
    const [backend, prepared] = await Promise.all([
      sandboxed && manifest.language !== "typescript"
        ? requireBackend(manifest.language, this.cacheDir)
        : undefined,
      runtime.prepare(manifest, dir, {
        cacheDir: this.cacheDir,
        progress: this.#options.progress,
        // Installs run in the sandbox too (an unavailable one fails like requireBackend).
        sandbox: sandboxed ? platformBackend(this.cacheDir) : undefined,
        sourceBuilds,
        warn: this.#options.warn,
      }),
    ]);
    const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-run-" }));
    let wrapped: WrappedCommand | undefined;
    try {
      const contextFile = join(tmp, "context.json");
      await Deno.writeTextFile(contextFile, JSON.stringify(context));
      const env: Record<string, string> = {
        PATH: BASE_PATH,
        HOME: tmp,
        TMPDIR: tmp,
        LANG: "C.UTF-8",
        LC_ALL: "C.UTF-8",
        TZ: "UTC",
        // Threads count against the process limit: keep numeric libraries' pools modest.
        OMP_NUM_THREADS: "4",
        OPENBLAS_NUM_THREADS: "4",
        MKL_NUM_THREADS: "4",
      };
      for (const name of allow.env) {
        const value = this.#env[name];
        if (value !== undefined) env[name] = value;
      }
      const policy: SandboxPolicy = {
        network: allow.network,
        read: [...new Set([...paths.read, ...grantedRead, ...prepared.readPaths, dir])],
        write: [...new Set(writeDirs)],
        protect: await protectedPaths([store.root, workdir], writeDirs),
        workdir,
        tmpDir: tmp,
        memoryBytes: this.#options.memoryBytes ?? DEFAULTS.memoryBytes,
        maxProcesses: this.#options.maxProcesses ?? DEFAULTS.maxProcesses,
      };
      const script = join(dir, manifest.entry);
      let spec;
      if (manifest.language === "typescript") {
        const { denoCommand } = await import("./sandbox/deno.ts");
        spec = denoCommand(prepared, script, contextFile, policy, env);
      } else {
        spec = scriptCommand(prepared, script, contextFile, { cwd: workdir, env });
      }
      wrapped = backend ? await backend.wrap(spec, policy) : { spec, close: async () => {} };
      try {
        const exec = await execCommand(wrapped.spec, {
          timeoutMs: timeoutSeconds * 1000,
          maxOutputBytes: DEFAULTS.maxOutputBytes,
          signal,
        });
        let limits: LimitsHit | undefined;
        if (exec.code !== 0 && "usage" in wrapped && typeof wrapped.usage === "function") {
          const usage = await (wrapped as LinuxWrappedCommand).usage();
          limits = {
            memory: usage.memoryLimitHit ? policy.memoryBytes : undefined,
            processes: usage.processLimitHit ? policy.maxProcesses : undefined,
          };
        }
        return { exec, writeDirs, limits };
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw new PermissionError(`Cannot start "${wrapped.spec.program}": not found`, {
            cause: error,
            hint: `Install the ${manifest.runtime.name} runtime`,
          });
        }
        throw error;
      }
    } finally {
      await wrapped?.close();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }
}

function buildManifest(input: {
  fp: Awaited<ReturnType<typeof computeFingerprint>>;
  request: { prompt: string; context: unknown; language: Language; mode: Mode };
  bundle: Bundle;
  runtime: { name: string; version: string };
  generator: { kind: string; model?: string };
  created_at: string;
  revision: number;
  history: Manifest["history"];
}): Omit<Manifest, "files"> {
  const { fp, request, bundle } = input;
  return {
    fingerprint: fp.fingerprint,
    prompt_sha: fp.prompt_sha,
    context_sha: fp.context_sha,
    prompt: request.prompt,
    ...(request.mode === "strict" ? { context: request.context } : {}),
    mode: request.mode,
    language: request.language,
    entry: ENTRY_FILES[request.language],
    runtime: input.runtime,
    deps: bundle.requirements,
    needs: bundle.needs,
    allow: { network: [], env: [], fs: { read: [], write: [] } },
    template_version: TEMPLATE_VERSION,
    generator: input.generator,
    created_at: input.created_at,
    outputs: bundle.outputs,
    aliases: bundle.aliases,
    revision: input.revision,
    history: input.history,
  };
}

function entryFiles(manifest: Omit<Manifest, "files">, bundle: Bundle): Record<string, string> {
  const files: Record<string, string> = {
    [manifest.entry]: bundle.script.endsWith("\n") ? bundle.script : bundle.script + "\n",
    "README.md": entryReadme(manifest, bundle.readme),
  };
  if (manifest.language === "python") {
    files["requirements.txt"] = bundle.requirements.map((r) => r + "\n").join("");
  }
  return files;
}
