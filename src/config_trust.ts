/**
 * Trust of a project's `.capibara/config.json`: the one rule for which of its settings take effect.
 *
 * A committed configuration comes with whatever repository was cloned. The settings that widen what
 * a script may do or where the user's API key or Core token goes (`allow` with any entry,
 * `generator.base_url`, `generator.model`, `core.url`, `install.source_builds: true`) take effect
 * only once the file is trusted on
 * this machine, as direnv, mise and editors' workspace trust do:
 *
 * - `capibara trust` records the file's sha256 for the project's real root in the machine-local
 *   cache (`<cacheDir>/trust.json`); a changed file needs trust again;
 * - `CAPIBARA_TRUST_CONFIG=<sha256>` trusts the file with that hash (for CI): a hash, not a flag,
 *   so that a variable set for one repository trusts neither another repository's file nor a
 *   change to this one (a pull request that edits the file is not trusted by it);
 * - the SDK option `trustProjectConfig: true` trusts it for that instance: the caller's own code
 *   points the SDK at the project.
 *
 * Settings that only narrow or tune (`mode`, `trust`, a `timeout`, `generator.timeout` or
 * `max_output_mib` at most the default) need no trust; one above the default widens a limit and
 * does. `trust` (the keys whose signatures count, and `require_signature`) can only refuse
 * entries: a signature grants a script nothing that an unsigned entry would not get, and a
 * repository's keys never satisfy a machine's own requirement (`CAPIBARA_REQUIRE_SIGNATURE`, see
 * store/trust.ts). `resolveConfig` applies the rule, so nothing below it sees an untrusted file's
 * grants or generator.
 *
 * @module
 */
import { join } from "./_path.ts";
import { PermissionError } from "./errors.ts";
import { readJsonFile, readRecordsFor, updateJsonFile } from "./_json_file.ts";
import type { ProjectConfig } from "./schema.ts";
import { ownCacheFolder } from "./_cache_folder.ts";
import { DEFAULT_STAGING_LIMITS } from "./sandbox/copy_out.ts";

/** The environment variable that trusts a configuration file by its sha256 (CI). */
export const TRUST_ENV = "CAPIBARA_TRUST_CONFIG";

/** The name of the trust records' file inside the machine-local cache. */
export const TRUST_FILE = "trust.json";

/** A project's configuration file, read once: its parsed settings and the hash of those bytes. */
export interface ProjectFile {
  /** Absolute path of `.capibara/config.json`. */
  path: string;
  /** Real path of the project root (symlinks resolved). */
  root: string;
  /** Hex sha256 of the file's bytes, as read. */
  sha256: string;
  /** The file's text, as read. */
  text: string;
  /** The parsed settings. */
  config: ProjectConfig;
}

/** What a configuration file grants or sets that needs trust. */
export interface TrustRequest {
  /** Hosts scripts may reach. */
  network: string[];
  /** Private, loopback and link-local addresses scripts may reach (their hosts too). */
  privateNetwork: string[];
  /** Environment variables scripts receive. */
  env: string[];
  /** Paths scripts may read. */
  read: string[];
  /** Paths scripts may write. */
  write: string[];
  /** The generator's base URL: generation requests, with the user's API key, go there. */
  baseUrl?: string;
  /** The generator's model. */
  model?: string;
  /** The Core's URL: requests for scripts, with the user's Core token, go there. */
  coreUrl?: string;
  /** Whether dependency installs may build source distributions (their build scripts run). */
  sourceBuilds: boolean;
  /** A bound of a run's outputs on disk (MiB) above the default: a limit widened. */
  maxOutputMib?: number;
  /** A run's time limit (seconds) above the default: a limit widened. */
  timeoutSeconds?: number;
  /** The generator's time limit (seconds) above the default: a wait on it lengthened. */
  generateTimeoutSeconds?: number;
}

/** A run's time limit unless configured, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** The time limit of one request to the generator unless configured, in seconds. */
export const DEFAULT_GENERATE_TIMEOUT_SECONDS = 120;

/** How a file that needs trust is trusted. */
export type TrustSource = "record" | "env" | "option";

/** The trust state of a project's configuration, as resolved. */
export interface ProjectTrust {
  /**
   * `absent`: no file; `harmless`: a file that needs no trust; `trusted`: a file that needs trust
   * and has it; `untrusted`: one that needs it and does not have it (its gated settings are
   * ignored, and a run is refused).
   */
  state: "absent" | "harmless" | "trusted" | "untrusted";
  /** The file, when it was read through {@linkcode evaluateTrust}. */
  file?: { path: string; root: string; sha256: string };
  /** What the file grants or sets that needs trust (only for `trusted` and `untrusted`). */
  request?: TrustRequest;
  /** How it is trusted (only for `trusted`). */
  by?: TrustSource;
  /** `untrusted` only: this project's file was trusted before, with other content. */
  changed?: boolean;
}

/** One trust record: the project root's real path and the hash of the file trusted there. */
export interface TrustRecord {
  /** Real path of the project root. */
  root: string;
  /** Hex sha256 of the trusted file's bytes. */
  sha256: string;
  /** When it was trusted (ISO 8601). */
  trusted_at: string;
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** What a configuration grants or sets that needs trust; undefined when it needs none. */
export function trustRequest(project: ProjectConfig): TrustRequest | undefined {
  const allow = project.allow ?? {};
  const request: TrustRequest = {
    network: [...(allow.network ?? [])],
    privateNetwork: [...(allow.private_network ?? [])],
    env: [...(allow.env ?? [])],
    read: [...(allow.read ?? [])],
    write: [...(allow.write ?? [])],
    sourceBuilds: project.install?.source_builds === true,
  };
  const baseUrl = nonBlank(project.generator?.base_url);
  const model = nonBlank(project.generator?.model);
  if (baseUrl !== undefined) request.baseUrl = baseUrl;
  if (model !== undefined) request.model = model;
  const coreUrl = nonBlank(project.core?.url);
  if (coreUrl !== undefined) request.coreUrl = coreUrl;
  const { timeout, max_output_mib: maxOutputMib } = project;
  const generateTimeout = project.generator?.timeout;
  const widened = widens(maxOutputMib, DEFAULT_OUTPUT_MIB);
  if (widened) request.maxOutputMib = maxOutputMib;
  const longer = widens(timeout, DEFAULT_TIMEOUT_SECONDS);
  if (longer) request.timeoutSeconds = timeout;
  const waitsLonger = widens(generateTimeout, DEFAULT_GENERATE_TIMEOUT_SECONDS);
  if (waitsLonger) request.generateTimeoutSeconds = generateTimeout;
  const needed = request.network.length + request.privateNetwork.length + request.env.length +
          request.read.length + request.write.length > 0 ||
    request.sourceBuilds || baseUrl !== undefined ||
    model !== undefined || coreUrl !== undefined || widened || longer || waitsLonger;
  return needed ? request : undefined;
}

/** The settings of a configuration that take effect without trust. */
export function harmlessPart(project: ProjectConfig): ProjectConfig {
  return {
    ...(project.mode !== undefined ? { mode: project.mode } : {}),
    // Shortened only, as the outputs' bound: a repository may not hold a run longer.
    ...(narrows(project.timeout, DEFAULT_TIMEOUT_SECONDS) ? { timeout: project.timeout } : {}),
    ...(project.trust !== undefined ? { trust: project.trust } : {}),
    // The generator's time limit, shortened only; the generator itself needs trust.
    ...(narrows(project.generator?.timeout, DEFAULT_GENERATE_TIMEOUT_SECONDS)
      ? { generator: { timeout: project.generator?.timeout } }
      : {}),
    // Lowered only: a repository may tighten the bound of its runs' outputs, not widen it.
    ...(narrows(project.max_output_mib, DEFAULT_OUTPUT_MIB)
      ? { max_output_mib: project.max_output_mib }
      : {}),
  };
}

/** Whether a limit a configuration sets is above its default: raising one needs trust. */
function widens(value: number | undefined, limit: number): value is number {
  return value !== undefined && value > limit;
}

/** Whether a configuration sets a limit that does not widen it: that needs no trust. */
function narrows(value: number | undefined, limit: number): value is number {
  return value !== undefined && !widens(value, limit);
}

/** The default bound of a run's outputs on disk, in MiB. */
const DEFAULT_OUTPUT_MIB = DEFAULT_STAGING_LIMITS.bytes / 1024 ** 2;

/** What a request would do, as clauses for people ("send … to …", "grant network access to …"). */
export function describeRequest(request: TrustRequest): string[] {
  const list = (values: string[]) => values.map((v) => JSON.stringify(v)).join(", ");
  const clauses: string[] = [];
  if (request.baseUrl !== undefined) {
    clauses.push(`send generation requests and your API key to ${JSON.stringify(request.baseUrl)}`);
  }
  if (request.model !== undefined) clauses.push(`use the model ${JSON.stringify(request.model)}`);
  if (request.coreUrl !== undefined) {
    clauses.push(
      `ask the Core at ${JSON.stringify(request.coreUrl)} for scripts, sending it your Core token`,
    );
  }
  if (request.network.length) clauses.push(`grant network access to ${list(request.network)}`);
  if (request.privateNetwork.length) {
    clauses.push(
      `grant access to private, loopback or link-local addresses ${list(request.privateNetwork)}`,
    );
  }
  if (request.env.length) clauses.push(`grant the environment variables ${list(request.env)}`);
  if (request.read.length) clauses.push(`grant reading ${list(request.read)}`);
  if (request.write.length) clauses.push(`grant writing ${list(request.write)}`);
  if (request.sourceBuilds) {
    clauses.push(
      "let dependency installs build source distributions (running their build scripts)",
    );
  }
  if (request.timeoutSeconds !== undefined) {
    clauses.push(
      `let a run take up to ${request.timeoutSeconds} s (the default is ${DEFAULT_TIMEOUT_SECONDS})`,
    );
  }
  if (request.generateTimeoutSeconds !== undefined) {
    clauses.push(
      `wait up to ${request.generateTimeoutSeconds} s for the generator (the default is ` +
        `${DEFAULT_GENERATE_TIMEOUT_SECONDS})`,
    );
  }
  if (request.maxOutputMib !== undefined) {
    clauses.push(
      `let a run's outputs take up to ${request.maxOutputMib} MiB on disk (the default is ` +
        `${DEFAULT_OUTPUT_MIB})`,
    );
  }
  return clauses;
}

/** The hashes `CAPIBARA_TRUST_CONFIG` names (comma- or space-separated, `sha256:` optional). */
export function trustedHashes(env: Readonly<Record<string, string | undefined>>): Set<string> {
  const value = env[TRUST_ENV] ?? "";
  return new Set(
    value.split(/[\s,]+/).map((h) => h.trim().toLowerCase().replace(/^sha256:/, "")).filter((h) =>
      /^[0-9a-f]{64}$/.test(h)
    ),
  );
}

/**
 * The trust records of this machine, in `<cacheDir>/trust.json` (mode 0600, replaced atomically,
 * updated under a file lock).
 */
export class TrustStore {
  /** The records' file. */
  readonly path: string;

  /**
   * The records kept in the machine-local cache directory `cacheDir`, which must be this user's
   * alone (see `ownCacheFolder`).
   *
   * @throws {PermissionError} when it is not
   */
  constructor(cacheDir: string) {
    this.path = join(ownCacheFolder(cacheDir), TRUST_FILE);
  }

  /** Every record; malformed ones are skipped (they trust nothing). */
  async records(): Promise<TrustRecord[]> {
    return recordsOf(await readJsonFile(this.path));
  }

  /**
   * The record of a project root (its real path), if any. A records file inside the project is
   * ignored: it could have come with the repository.
   */
  async get(root: string): Promise<TrustRecord | undefined> {
    return recordsOf(await readRecordsFor(this.path, root)).find((r) => r.root === root);
  }

  /** Records trust of a file (replacing the project's earlier record). */
  async trust(file: Pick<ProjectFile, "root" | "sha256">): Promise<TrustRecord> {
    const record = { root: file.root, sha256: file.sha256, trusted_at: new Date().toISOString() };
    await this.#update((records) => [...records.filter((r) => r.root !== file.root), record]);
    return record;
  }

  /** Removes a project's record; false when there was none. */
  async revoke(root: string): Promise<boolean> {
    let found = false;
    await this.#update((records) => {
      found = records.some((r) => r.root === root);
      return records.filter((r) => r.root !== root);
    });
    return found;
  }

  async #update(change: (records: TrustRecord[]) => TrustRecord[]): Promise<void> {
    await updateJsonFile(this.path, (current) => {
      const projects: Record<string, Omit<TrustRecord, "root">> = {};
      for (const r of change(recordsOf(current))) {
        projects[r.root] = { sha256: r.sha256, trusted_at: r.trusted_at };
      }
      return { version: 1, projects };
    });
  }
}

/** The well-formed records of a trust file's content. */
function recordsOf(json: unknown): TrustRecord[] {
  const projects = (json as { projects?: unknown } | null)?.projects;
  if (typeof projects !== "object" || projects === null || Array.isArray(projects)) return [];
  const out: TrustRecord[] = [];
  for (const [root, value] of Object.entries(projects)) {
    const record = value as Partial<TrustRecord> | null;
    if (typeof record?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(record.sha256)) continue;
    out.push({
      root,
      sha256: record.sha256,
      trusted_at: typeof record.trusted_at === "string" ? record.trusted_at : "",
    });
  }
  return out;
}

/** Options of {@linkcode evaluateTrust}. */
export interface EvaluateTrustOptions {
  /** The machine-local cache directory holding the trust records. */
  cacheDir: string;
  /** The environment (`CAPIBARA_TRUST_CONFIG`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The SDK's `trustProjectConfig` option. */
  trustProjectConfig?: boolean;
}

/**
 * The trust state of a project's file (undefined: the project has none), from the SDK option, the
 * environment and this machine's records. Pass the result to `resolveConfig`.
 */
export async function evaluateTrust(
  file: ProjectFile | undefined,
  options: EvaluateTrustOptions,
): Promise<ProjectTrust> {
  if (file === undefined) return { state: "absent" };
  const where = { path: file.path, root: file.root, sha256: file.sha256 };
  const request = trustRequest(file.config);
  if (request === undefined) return { state: "harmless", file: where };
  if (options.trustProjectConfig === true) {
    return { state: "trusted", by: "option", file: where, request };
  }
  if (trustedHashes(options.env).has(file.sha256)) {
    return { state: "trusted", by: "env", file: where, request };
  }
  const record = await new TrustStore(options.cacheDir).get(file.root);
  if (record?.sha256 === file.sha256) {
    return { state: "trusted", by: "record", file: where, request };
  }
  return { state: "untrusted", file: where, request, ...(record ? { changed: true } : {}) };
}

/** The error of an untrusted configuration: what it would grant, where the key would go, and how to trust it. */
export function untrustedError(trust: ProjectTrust): PermissionError {
  const path = trust.file?.path ?? ".capibara/config.json";
  const why = trust.changed
    ? "it changed since it was trusted on this machine"
    : "it is not trusted on this machine";
  const would = trust.request ? describeRequest(trust.request) : [];
  return new PermissionError(
    `Cannot use "${path}": ${why}` + (would.length ? `, and it would ${would.join("; ")}` : ""),
    {
      hint: "Review it with `capibara trust --show`, then trust it with `capibara trust`" +
        (trust.file ? ` (in CI: ${TRUST_ENV}=${trust.file.sha256})` : "") +
        "; SDK callers pass { trustProjectConfig: true }",
      details: {
        config: path,
        ...(trust.file ? { root: trust.file.root, sha256: trust.file.sha256 } : {}),
        ...(trust.changed ? { changed: true } : {}),
        grants: {
          network: trust.request?.network ?? [],
          private_network: trust.request?.privateNetwork ?? [],
          env: trust.request?.env ?? [],
          read: trust.request?.read ?? [],
          write: trust.request?.write ?? [],
        },
        ...(trust.request?.baseUrl !== undefined ? { base_url: trust.request.baseUrl } : {}),
        ...(trust.request?.model !== undefined ? { model: trust.request.model } : {}),
        ...(trust.request?.coreUrl !== undefined ? { core_url: trust.request.coreUrl } : {}),
        ...(trust.request?.sourceBuilds ? { source_builds: true } : {}),
        ...(trust.request?.timeoutSeconds !== undefined
          ? { timeout: trust.request.timeoutSeconds }
          : {}),
        ...(trust.request?.maxOutputMib !== undefined
          ? { max_output_mib: trust.request.maxOutputMib }
          : {}),
        ...(trust.request?.generateTimeoutSeconds !== undefined
          ? { generator_timeout: trust.request.generateTimeoutSeconds }
          : {}),
      },
    },
  );
}

/** Throws when a configuration needs trust and does not have it. */
export function assertTrusted(trust: ProjectTrust): void {
  if (trust.state === "untrusted") throw untrustedError(trust);
}
