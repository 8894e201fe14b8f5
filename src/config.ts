/**
 * Configuration, resolved once at the boundary: options > environment > `.capibara/config.json` >
 * defaults. {@linkcode resolveConfig} turns the three sources into one {@linkcode ResolvedConfig};
 * the modules below receive it and never read `Deno.env` for configuration themselves.
 *
 * SDK options are validated here, with hints phrased for SDK callers: a bad value is a
 * `ValidationError` before anything runs.
 *
 * @module
 */
import { issuesText } from "./_shape.ts";
import { cacheHome, join, resolve } from "./_path.ts";
import { sha256 } from "./_hash.ts";
import { entriesNamed, FileRefused, readRegularFileSync, realPathOrNull } from "./_fs.ts";
import {
  DEFAULT_TIMEOUT_SECONDS,
  harmlessPart,
  type ProjectFile,
  type ProjectTrust,
  trustRequest,
} from "./config_trust.ts";
import { ValidationError } from "./errors.ts";
import { type Language, LANGUAGES, type Mode, ProjectConfig } from "./schema.ts";
import { MAX_TIMEOUT_SECONDS } from "./types.ts";
import { DEFAULT_STAGING_LIMITS, type StagingLimits } from "./sandbox/copy_out.ts";
import { grantProblem, type Grants, mergeGrants } from "./sandbox/policy.ts";
import { STORE_DIR } from "./store/store.ts";
import { checkProjectKeys, resolveSignaturePolicy, type SignaturePolicy } from "./store/trust.ts";

/** Default base URL of the generator: OpenAI itself. */
export const OPENAI_BASE_URL = "https://api.openai.com/v1";
/** Default model when none is configured. */
export const DEFAULT_MODEL = "gpt-4o-mini";

/** Defaults of every tunable. */
export const DEFAULTS = {
  timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
  memoryBytes: 2 * 1024 ** 3,
  maxProcesses: 256,
  maxOutputBytes: 16 * 1024 ** 2,
  mode: "strict" as Mode,
  language: "python" as Language,
} as const;

/** The smallest memory limit a script can be given (interpreters need more to start). */
export const MIN_MEMORY_BYTES = 16 * 1024 ** 2;

/** Settings the SDK accepts (a subset of `CapibaraOptions`), before resolution. */
export interface ConfigOptions {
  /** Machine-local cache for environments (default: `CAPIBARA_CACHE_DIR` or the platform's). */
  cacheDir?: string;
  /** Default script language (default `python`). */
  language?: Language;
  /** Fingerprint mode (default: `.capibara/config.json`'s, else `strict`). */
  mode?: Mode;
  /** Time limit of a script in seconds (default: `.capibara/config.json`'s, else 300). */
  timeout?: number;
  /** Memory limit of a script in bytes (default 2 GiB). */
  memoryBytes?: number;
  /** Process limit of a script (default 256). */
  maxProcesses?: number;
  /**
   * Bytes a script may write to its outputs and temp dir, checked while it runs (default:
   * `.capibara/config.json`'s `max_output_mib`, else 1 GiB).
   */
  maxOutputDiskBytes?: number;
  /** Files a script may write to its outputs and temp dir (default 10,000). */
  maxOutputFiles?: number;
  /** `false` runs Python and bash scripts unconfined. Default `true`. */
  sandbox?: boolean;
  /** What the user grants scripts (merged with `.capibara/config.json`'s `allow`). */
  allow?: Partial<Grants>;
  /**
   * `true` trusts the project's `.capibara/config.json` whatever its content, as `capibara trust`
   * does on the command line: its grants, generator and `install` settings then take effect.
   * Default `false`: they take effect only when the file is trusted on this machine
   * (`capibara trust`, or `CAPIBARA_TRUST_CONFIG`), and a run is refused until it is.
   */
  trustProjectConfig?: boolean;
  /**
   * The team's Core (`capibara serve`): on a local miss, its shared entry is fetched, or the Core
   * generates one; no LLM is called from here (default: `CAPIBARA_CORE_URL` and
   * `CAPIBARA_CORE_TOKEN`, else a trusted `.capibara/config.json`'s `core.url`). `token` defaults
   * to `CAPIBARA_CORE_TOKEN`.
   */
  core?: CoreConnection;
}

/** The SDK's `core` option: where the team's Core is, and the token it knows this caller by. */
export interface CoreConnection {
  /** The Core's base URL: `https://…`, or `http://` to a loopback address. */
  url: string;
  /** Bearer token (default: `CAPIBARA_CORE_TOKEN`). */
  token?: string;
}

/** How the Core is reached, resolved from the options, environment and `.capibara/config.json`. */
export interface CoreSettings {
  /** The Core's base URL. */
  url: string;
  /** Bearer token (from the SDK option or the environment only: never from a committed file). */
  token?: string;
  /** Where the URL came from. */
  source: "option" | "env" | "config";
}

/**
 * Whether the generator asks its server which model it has: no model was set, and the server is
 * not OpenAI's (whose default model is the default): a local server's only model is used.
 */
export function discoversModel(settings: Pick<GeneratorSettings, "modelSet" | "baseUrl">): boolean {
  return !settings.modelSet && settings.baseUrl !== OPENAI_BASE_URL;
}

/** How the generator is reached, resolved from the environment and `.capibara/config.json`. */
export interface GeneratorSettings {
  /** Base URL of an OpenAI-compatible server. */
  baseUrl: string;
  /** API key (from the environment only: never from a committed file). */
  apiKey?: string;
  /** Model name. */
  model: string;
  /** True when a model was set (absent when `model` is the default). */
  modelSet?: boolean;
  /** Seconds one request may take (`CAPIBARA_GENERATE_TIMEOUT`, `generator.timeout`). */
  timeoutSeconds?: number;
  /** False when neither a base URL nor an API key was given: no generator can be built. */
  configured: boolean;
}

/** Every setting of a run, resolved once. */
export interface ResolvedConfig {
  /** Machine-local cache directory (never inside `.capibara/`). */
  cacheDir: string;
  /** Default script language. */
  language: Language;
  /** Fingerprint mode. */
  mode: Mode;
  /** Time limit of a script in seconds. */
  timeoutSeconds: number;
  /** Memory limit of a script in bytes. */
  memoryBytes: number;
  /** Process limit of a script. */
  maxProcesses: number;
  /** Combined stdout and stderr bytes a script may print. */
  maxOutputBytes: number;
  /** Bounds of what a script may write to its outputs and temp dir while it runs. */
  staging: StagingLimits;
  /** Whether Python and bash scripts run in the OS sandbox. */
  sandbox: boolean;
  /**
   * Whether dependency installs may build source distributions (the project's
   * `install.source_builds`); they then build in the sandbox, and never without it.
   */
  sourceBuilds: boolean;
  /** What the user and the project grant scripts, merged. */
  grants: Grants;
  /**
   * The paths `.capibara/config.json` grants (when trusted), as written: each must still lead
   * inside the project when a run starts (see `checkProjectPaths` in sandbox/policy.ts).
   */
  projectPaths: { read: string[]; write: string[] };
  /** The generator's settings. */
  generator: GeneratorSettings;
  /** The team's Core, when one is configured: a miss then asks it, never an LLM. */
  core?: CoreSettings;
  /** The environment: granted variables' values and the runtimes' look-ups (PATH, pip, npm). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Whether `.capibara/config.json` is trusted. When `untrusted`, its grants, generator and
   * `install` settings were left out above, and a run is refused (see `config_trust.ts`).
   */
  projectTrust: ProjectTrust;
  /**
   * Which signatures count and whether entries must be signed or accepted on this machine: the
   * project's `trust` (it needs no trust: it only refuses entries), overridden by the machine's
   * `CAPIBARA_REQUIRE_SIGNATURE` / `CAPIBARA_TRUSTED_KEYS` (see store/trust.ts).
   */
  signatures: SignaturePolicy;
}

/** The environment, as read by the caller at the boundary. */
export type Env = Readonly<Record<string, string | undefined>>;

function pick(...values: (string | undefined)[]): string | undefined {
  return values.map((v) => v?.trim()).find((v): v is string => v !== undefined && v !== "");
}

function invalid(what: string, value: unknown, hint: string, why?: string): ValidationError {
  let shown: string;
  try {
    shown = typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new ValidationError(`Invalid option ${what}: ${shown}${why ? ` (${why})` : ""}`, {
    hint,
    details: { option: what },
  });
}

/** Checks a time limit in seconds. */
export function checkTimeout(value: unknown, where = "timeout"): number {
  if (
    typeof value !== "number" || !Number.isFinite(value) || value <= 0 ||
    value > MAX_TIMEOUT_SECONDS
  ) {
    throw invalid(
      where,
      value,
      `Pass the time limit in seconds as a positive number up to ${MAX_TIMEOUT_SECONDS}, ` +
        `e.g. { ${where}: 60 }`,
    );
  }
  return value;
}

/** Checks a script language. */
export function checkLanguage(value: unknown, where = "language"): Language {
  if (typeof value !== "string" || !(LANGUAGES as readonly string[]).includes(value)) {
    throw invalid(where, value, `Pass one of ${LANGUAGES.map((l) => `"${l}"`).join(", ")}`);
  }
  return value as Language;
}

function checkMode(value: unknown): Mode {
  if (value !== "strict" && value !== "parametric") {
    throw invalid("mode", value, 'Pass "strict" or "parametric"');
  }
  return value;
}

function checkMemory(value: unknown): number {
  if (
    typeof value !== "number" || !Number.isSafeInteger(value) || value < MIN_MEMORY_BYTES
  ) {
    throw invalid(
      "memoryBytes",
      value,
      `Pass the limit in bytes as an integer of at least ${MIN_MEMORY_BYTES} (16 MiB), ` +
        "e.g. { memoryBytes: 4 * 1024 ** 3 }",
    );
  }
  return value;
}

function checkCount(value: unknown, what: string, example: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(what, value, `Pass a positive integer, e.g. { ${what}: ${example} }`);
  }
  return value;
}

function checkProcesses(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalid("maxProcesses", value, "Pass a positive integer, e.g. { maxProcesses: 64 }");
  }
  return value;
}

/**
 * Checks grants given by an SDK caller (or a project's configuration): each list an array of
 * strings, each a grant by the one rule of its kind (`grantProblem`).
 */
export function checkGrants(value: unknown, where = "allow"): Partial<Grants> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(
      where,
      value,
      `Pass an object such as { ${where}: { network: ["api.example.com"], env: ["API_TOKEN"] } }`,
    );
  }
  const known = ["network", "privateNetwork", "env", "read", "write"] as const;
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) {
      throw invalid(
        `${where}.${key}`,
        (value as Record<string, unknown>)[key],
        `Grants are ${known.join(", ")}`,
      );
    }
  }
  const grants = value as Record<string, unknown>;
  const out: Partial<Grants> = {};
  for (const key of known) {
    const list = grants[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      throw invalid(`${where}.${key}`, list, `Pass a list of strings, e.g. { ${key}: [...] }`);
    }
    for (const entry of list) {
      // Refused here, whether or not the script needs what it grants.
      const problem = grantProblem(key, entry);
      if (problem === undefined) continue;
      const hint = key === "network"
        ? 'Grant hosts as "api.example.com", "*.example.com" or "host:8443" (no scheme or path)'
        : key === "privateNetwork"
        ? 'Grant one host exactly, e.g. "10.0.0.5:5432" or "localhost:8080"'
        : key === "env"
        ? 'Grant environment variables by their exact names, e.g. "API_TOKEN"'
        : "Grant paths as non-empty strings, relative to the working directory or absolute";
      throw invalid(`${where}.${key}`, entry, hint, problem);
    }
    out[key] = (list as string[]).map((s) => s.trim());
  }
  return out;
}

/** The platform's cache directory for Capibara, from the environment given (XDG on Linux). */
export function platformCacheDir(env: Env, os: typeof Deno.build.os = Deno.build.os): string {
  const base = cacheHome(env, os);
  return os === "windows" ? join(base, "capibara", "Cache") : join(base, "capibara");
}

/**
 * The trust state of a project's settings: `trust` (from `evaluateTrust`, for the same file) or
 * `options.trustProjectConfig`, else untrusted when the settings need trust.
 */
function projectTrustOf(
  options: ConfigOptions,
  project: ProjectConfig,
  trust: ProjectTrust | undefined,
): ProjectTrust {
  const request = trustRequest(project);
  const file = trust?.file ? { file: trust.file } : {};
  if (request === undefined) {
    return { state: trust?.file || Object.keys(project).length ? "harmless" : "absent", ...file };
  }
  if (options.trustProjectConfig === true) {
    return { state: "trusted", by: "option", request, ...file };
  }
  if (trust?.state === "trusted" && trust.by !== undefined) {
    return { state: "trusted", by: trust.by, request, ...file };
  }
  return { state: "untrusted", request, ...file, ...(trust?.changed ? { changed: true } : {}) };
}

/**
 * Resolves every setting once: `options` (the SDK's or the CLI's) > `env` > `project`
 * (`.capibara/config.json`) > {@linkcode DEFAULTS}. Grants are merged (the union of the
 * project's and the options'), not overridden. Reads nothing: the caller passes the environment,
 * the parsed project configuration and its trust state (`evaluateTrust` of `config_trust.ts`).
 *
 * The project's grants, generator and `install` settings apply only when it is trusted (`trust`
 * says so, or `options.trustProjectConfig`); otherwise they are left out and
 * {@linkcode ResolvedConfig.projectTrust} is `untrusted`.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const config = resolveConfig({ timeout: 60 }, { CAPIBARA_MODEL: "llama3" }, { timeout: 30 });
 * config.timeoutSeconds; // 60
 * config.generator.model; // "llama3"
 * ```
 *
 * @throws {ValidationError} when an option has the wrong type or an impossible value.
 */
export function resolveConfig(
  options: ConfigOptions,
  env: Env,
  projectConfig: ProjectConfig = {},
  trust?: ProjectTrust,
): ResolvedConfig {
  if (typeof options !== "object" || options === null) {
    throw invalid("options", options, "Pass an options object, e.g. new Capibara({ timeout: 60 })");
  }
  if (options.trustProjectConfig !== undefined && typeof options.trustProjectConfig !== "boolean") {
    throw invalid(
      "trustProjectConfig",
      options.trustProjectConfig,
      "Pass true or false, e.g. { trustProjectConfig: true }",
    );
  }
  const projectTrust = projectTrustOf(options, projectConfig, trust);
  // An untrusted file keeps only the settings that need no trust: nothing below sees the rest.
  const project = projectTrust.state === "untrusted" ? harmlessPart(projectConfig) : projectConfig;
  const timeout = options.timeout ?? project.timeout;
  const baseUrl = pick(env.CAPIBARA_BASE_URL, env.OPENAI_BASE_URL, project.generator?.base_url);
  const apiKey = pick(env.CAPIBARA_API_KEY, env.OPENAI_API_KEY);
  if (options.sandbox !== undefined && typeof options.sandbox !== "boolean") {
    throw invalid("sandbox", options.sandbox, "Pass true or false, e.g. { sandbox: false }");
  }
  if (
    options.cacheDir !== undefined &&
    (typeof options.cacheDir !== "string" || !options.cacheDir || options.cacheDir.includes("\0"))
  ) {
    throw invalid("cacheDir", options.cacheDir, "Pass a directory path outside the project");
  }
  return {
    cacheDir: options.cacheDir ?? pick(env.CAPIBARA_CACHE_DIR) ?? platformCacheDir(env),
    language: options.language === undefined ? DEFAULTS.language : checkLanguage(options.language),
    mode: checkMode(options.mode ?? project.mode ?? DEFAULTS.mode),
    timeoutSeconds: timeout === undefined
      ? DEFAULTS.timeoutSeconds
      : checkTimeout(timeout, options.timeout === undefined ? "config.json timeout" : "timeout"),
    memoryBytes: options.memoryBytes === undefined
      ? DEFAULTS.memoryBytes
      : checkMemory(options.memoryBytes),
    maxProcesses: options.maxProcesses === undefined
      ? DEFAULTS.maxProcesses
      : checkProcesses(options.maxProcesses),
    maxOutputBytes: DEFAULTS.maxOutputBytes,
    staging: {
      bytes: options.maxOutputDiskBytes !== undefined
        ? checkCount(options.maxOutputDiskBytes, "maxOutputDiskBytes", "4 * 1024 ** 3")
        : project.max_output_mib !== undefined
        ? Math.round(project.max_output_mib * 1024 ** 2)
        : DEFAULT_STAGING_LIMITS.bytes,
      files: options.maxOutputFiles === undefined
        ? DEFAULT_STAGING_LIMITS.files
        : checkCount(options.maxOutputFiles, "maxOutputFiles", "50_000"),
    },
    sandbox: options.sandbox ?? true,
    sourceBuilds: project.install?.source_builds === true,
    grants: mergeGrants(
      { ...project.allow, privateNetwork: project.allow?.private_network },
      checkGrants(options.allow),
    ),
    projectPaths: { read: project.allow?.read ?? [], write: project.allow?.write ?? [] },
    generator: {
      baseUrl: baseUrl ?? OPENAI_BASE_URL,
      ...(apiKey !== undefined ? { apiKey } : {}),
      model: pick(env.CAPIBARA_MODEL, project.generator?.model) ?? DEFAULT_MODEL,
      ...(pick(env.CAPIBARA_MODEL, project.generator?.model) !== undefined
        ? { modelSet: true }
        : {}),
      ...generateTimeout(env, project),
      configured: baseUrl !== undefined || apiKey !== undefined,
    },
    ...coreSettings(options, env, project),
    env,
    projectTrust,
    signatures: resolveSignaturePolicy(project.trust, env),
  };
}

/** The Core's settings: the `core` option > `CAPIBARA_CORE_URL` > the project's `core.url`. */
function coreSettings(
  options: ConfigOptions,
  env: Env,
  project: ProjectConfig,
): { core?: CoreSettings } {
  const core = options.core as Partial<CoreConnection> | undefined;
  if (
    core !== undefined &&
    (typeof core !== "object" || core === null || typeof core.url !== "string" ||
      core.url.trim() === "" || (core.token !== undefined && typeof core.token !== "string"))
  ) {
    throw invalid(
      "core",
      core && typeof core === "object" ? { ...core, token: core.token && "…" } : core,
      'Pass the Core\'s URL and token, e.g. { core: { url: "https://core.example.com", token } }',
    );
  }
  const token = pick(core?.token, env.CAPIBARA_CORE_TOKEN);
  const withToken = token === undefined ? {} : { token };
  if (core?.url !== undefined) {
    return { core: { url: core.url.trim(), ...withToken, source: "option" } };
  }
  const fromEnv = pick(env.CAPIBARA_CORE_URL);
  if (fromEnv !== undefined) return { core: { url: fromEnv, ...withToken, source: "env" } };
  const fromFile = pick(project.core?.url);
  if (fromFile !== undefined) return { core: { url: fromFile, ...withToken, source: "config" } };
  return {};
}

/** The generator's time limit: `CAPIBARA_GENERATE_TIMEOUT`, else `generator.timeout`. */
function generateTimeout(env: Env, project: ProjectConfig): { timeoutSeconds?: number } {
  const text = pick(env.CAPIBARA_GENERATE_TIMEOUT);
  if (text === undefined) {
    const fromFile = project.generator?.timeout;
    return fromFile === undefined
      ? {}
      : { timeoutSeconds: checkTimeout(fromFile, "config.json generator.timeout") };
  }
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new ValidationError(`Invalid CAPIBARA_GENERATE_TIMEOUT "${text}"`, {
      hint: "Give the seconds one request to the generator may take, e.g. 600 for a slow " +
        "local model",
    });
  }
  return { timeoutSeconds: seconds };
}

/** The keys `.capibara/config.json` knows, by object path. */
const PROJECT_KEYS: Readonly<Record<string, readonly string[]>> = {
  "": ["generator", "mode", "timeout", "allow", "install", "max_output_mib", "trust", "core"],
  generator: ["base_url", "model", "timeout"],
  allow: ["network", "private_network", "env", "read", "write"],
  install: ["source_builds"],
  trust: ["keys", "require_signature"],
  core: ["url"],
};

/** The Levenshtein distance of two strings (what a mistyped name is nearest to). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * A mistyped name as shown, and the name of `known` nearest to it. A name is shown and compared by
 * its first 100 characters: a repository's file or a caller may pass a key of a megabyte, which
 * each comparison would walk.
 */
export function nearestName(
  name: string,
  known: readonly string[],
): { shown: string; nearest: string } {
  const shown = name.length > 100 ? name.slice(0, 100) + "…" : name;
  const distance = new Map(known.map((k) => [k, editDistance(shown, k)]));
  const nearest = [...known].sort((a, b) => distance.get(a)! - distance.get(b)!)[0]!;
  return { shown, nearest };
}

/** The first unknown key of a project configuration, with the nearest valid one. */
function unknownProjectKey(json: unknown): { key: string; nearest: string } | undefined {
  for (const [path, known] of Object.entries(PROJECT_KEYS)) {
    const object = path === "" ? json : (json as Record<string, unknown> | null)?.[path];
    if (typeof object !== "object" || object === null || Array.isArray(object)) continue;
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue;
      const { shown, nearest } = nearestName(key, known);
      return {
        key: path ? `${path}.${shown}` : shown,
        nearest: path ? `${path}.${nearest}` : nearest,
      };
    }
  }
  return undefined;
}

/** Reads `.capibara/config.json` of a root; `{}` when absent. */
export async function loadProjectConfig(root: string): Promise<ProjectConfig> {
  return (await loadProjectFile(root))?.config ?? {};
}

/** The most bytes `.capibara/config.json` may hold. */
const MAX_CONFIG_BYTES = 1024 ** 2;

/**
 * Reads `.capibara/config.json` of a root once: its settings, text and the sha256 of the bytes
 * read (what trust is recorded for), and the root's real path; undefined when absent.
 *
 * @throws {ValidationError} when the file is not valid JSON or holds an unknown or bad setting.
 */
export async function loadProjectFile(root: string): Promise<ProjectFile | undefined> {
  const path = join(root, STORE_DIR, "config.json");
  // Most projects have none: one listing of `.capibara/` says so without a failed read's error.
  if (entriesNamed(join(root, STORE_DIR), ["config.json"]).length === 0) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof FileRefused)) throw error;
    if (error.reason === "is missing") return undefined;
    // A repository's link to /dev/zero, a FIFO, a huge file: never read (nor blocked on).
    throw new ValidationError(`Cannot read ${path}: it ${error.reason}`, {
      hint: "Make .capibara/config.json a regular file of settings, or remove it",
      details: { path },
    });
  }
  const text = new TextDecoder().decode(bytes);
  const config = parseProjectConfig(text, path);
  await checkProjectKeys(config.trust, path);
  return {
    path,
    root: await realPathOrNull(root) ?? resolve(root),
    sha256: await sha256(bytes),
    text,
    config,
  };
}

function parseProjectConfig(text: string, path: string): ProjectConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Cannot read "${path}": it is not valid JSON`, {
      cause: error,
      hint: "Fix the file's syntax",
    });
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const unknown = unknownProjectKey(json);
    if (unknown) {
      throw new ValidationError(`Cannot read "${path}": unknown key "${unknown.key}"`, {
        hint: `Did you mean "${unknown.nearest}"?`,
        details: { key: unknown.key, nearest: unknown.nearest },
      });
    }
  }
  const parsed = ProjectConfig.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(
      `Cannot read "${path}": ${issuesText(parsed.error.issues)}`,
      {
        hint: "Allowed keys: generator {base_url, model, timeout}, mode, timeout, " +
          "allow {network, private_network, env, read, write}, " +
          "install {source_builds}, trust {keys, require_signature}, core {url}",
      },
    );
  }
  return parsed.data;
}
