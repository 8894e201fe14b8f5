/**
 * The TypeScript runtime: scripts run under `deno run` with explicit permissions built from the
 * sandbox policy (never `-A`), against a per-requirement-set `DENO_DIR` filled once, before the
 * run, with the script's npm packages. The run itself uses the cache only.
 *
 * @module
 */
import { basename, delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { DependencyError, tail } from "../errors.ts";
import { sha256 } from "../_hash.ts";
import { execCommand, type ExecResult } from "../exec.ts";
import type { Manifest } from "../schema.ts";
import { normaliseNpmRequirements } from "../contract/requirements.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

/** Name of the file written last into a finished `DENO_DIR`. */
export const DENO_READY_MARKER = ".capibara-ready";
/** The entry point `deno cache` fetches: one import per requirement, nothing from the script. */
const DEPS_ENTRY = "capibara-deps.ts";
/** Version of the marker's JSON shape. */
const MARKER_FORMAT = 1;

const PROBE_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_TIMEOUT_MS = 10 * 60_000;

/**
 * Arguments of every run, before the permission flags: no prompt, no fetch (the cache only), and
 * nothing from the user's project (`deno.json`, import maps, lock file, `node_modules`).
 */
const RUN_ARGS: readonly string[] = [
  "run",
  "--no-prompt",
  "--cached-only",
  "--no-config",
  "--no-lock",
  "--node-modules-dir=none",
];

/** Variables of the user's environment `deno cache` needs to reach the npm registry as usual. */
const PASS_THROUGH = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "TMPDIR",
  "TEMP",
  "TMP",
  "XDG_CACHE_HOME",
  "XDG_CONFIG_HOME",
  "SYSTEMROOT",
  "USERPROFILE",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
]);
/** Prefixes of passed-through variables: npm's configuration (registry, auth), locale. */
const PASS_THROUGH_PREFIXES = ["NPM_CONFIG_", "npm_config_", "LC_"];
/** Variables naming the npm registry: the run needs the same ones to find the cached packages. */
const REGISTRY_VARS = ["NPM_CONFIG_REGISTRY", "npm_config_registry"];

const Marker = z.object({
  format: z.literal(MARKER_FORMAT),
  key: z.string(),
  requirements: z.array(z.string()),
  registry: z.record(z.string(), z.string()),
  created_at: z.string(),
  build_id: z.string(),
});
type Marker = z.infer<typeof Marker>;

/** Options of {@linkcode DenoRuntime}. */
export interface DenoRuntimeOptions {
  /**
   * The deno binary (absolute path or a name on PATH). Default: this process's executable when it
   * is deno, else `deno` on PATH (a compiled Capibara binary is not deno).
   */
  deno?: string;
  /** The user's environment (PATH, HOME, npm configuration, proxies…). Default `Deno.env.toObject()`. */
  env?: Record<string, string | undefined>;
  /** Time limit of one `deno cache`, in milliseconds. Default 10 minutes. */
  cacheTimeoutMs?: number;
}

/**
 * The key of the `DENO_DIR` of a requirement set: the first 16 hex digits of the sha256 of the
 * normalised, sorted requirements.
 *
 * @example Same set, any order, same key
 * ```ts
 * import { denoDirKey } from "./deno.ts";
 * await denoDirKey(["b==1.0.0", "a==2.0.0"]) === await denoDirKey(["a == 2.0.0", "b==1.0.0"]);
 * ```
 */
export async function denoDirKey(requirements: readonly string[]): Promise<string> {
  return (await sha256(normaliseNpmRequirements(requirements).join("\n"))).slice(0, 16);
}

function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The absolute path of `name` on `pathVar`, or undefined. Absolute names are only checked. */
async function findExecutable(
  name: string,
  pathVar: string | undefined,
): Promise<string | undefined> {
  if (isAbsolute(name)) return await isExecutableFile(name) ? name : undefined;
  if (name.includes("/") || name.includes("\\")) {
    const path = resolve(name);
    return await isExecutableFile(path) ? path : undefined;
  }
  const suffixes = Deno.build.os === "windows" ? ["", ".exe", ".cmd"] : [""];
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    for (const suffix of suffixes) {
      const candidate = join(dir, name + suffix);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function isDenoBinary(path: string): boolean {
  const name = basename(path).toLowerCase();
  return name === "deno" || name === "deno.exe";
}

async function removeDir(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function readyMarker(
  dir: string,
  requirements: readonly string[],
  registry: Record<string, string>,
): Promise<Marker | undefined> {
  let marker: Marker;
  try {
    marker = Marker.parse(JSON.parse(await Deno.readTextFile(join(dir, DENO_READY_MARKER))));
  } catch {
    return undefined;
  }
  if (marker.requirements.join("\n") !== requirements.join("\n")) return undefined;
  // The npm cache is laid out by registry host: another registry means another cache.
  if (JSON.stringify(marker.registry) !== JSON.stringify(registry)) return undefined;
  return marker;
}

/** Deno's own reason: its `error:` line and the indented causes after it, else the last line. */
function denoReason(stderr: string): string {
  // deno-lint-ignore no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split(/\r?\n/).map((l) => l.trim())
    .filter((l) => l);
  const start = lines.findIndex((l) => /^error:/i.test(l));
  if (start === -1) return lines.at(-1) ?? "deno gave no reason";
  const picked = [lines[start]!.replace(/^error:\s*/i, "")];
  for (const line of lines.slice(start + 1)) {
    if (!/^\d+:/.test(line)) break;
    picked.push(line.replace(/^\d+:\s*/, ""));
  }
  return [...new Set(picked)].join(": ").replace(/\.$/, "");
}

/**
 * TypeScript scripts run with `deno run` against a `DENO_DIR` per requirement set, under
 * `<cacheDir>/deno/<key>/`, filled once by `deno cache` with the set's npm packages and reused.
 *
 * A cache hit costs a marker read: no subprocess. Concurrent fills of one set (in this process or
 * others) are serialised by an OS file lock. Scripts without requirements get an empty
 * `DENO_DIR` (Deno's transpile cache) without any subprocess.
 */
export class DenoRuntime implements Runtime {
  /** Always `"typescript"`. */
  readonly language = "typescript" as const;
  readonly #deno?: string;
  readonly #userEnv: Record<string, string | undefined>;
  readonly #cacheTimeoutMs: number;
  #binary?: Promise<string>;
  #version?: Promise<string>;

  /** A runtime using `options.deno` (default: this deno, else `deno` on PATH). */
  constructor(options: DenoRuntimeOptions = {}) {
    this.#deno = options.deno;
    this.#userEnv = options.env ?? Deno.env.toObject();
    this.#cacheTimeoutMs = options.cacheTimeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS;
  }

  /**
   * The deno binary's name and major.minor version, e.g. `{ name: "deno", version: "2.9" }`.
   * Free for this process's own deno; a foreign binary is asked once per instance.
   *
   * @throws {DependencyError} when no deno binary is found or it does not run.
   */
  async describe(): Promise<{ name: string; version: string }> {
    this.#version ??= this.#probeVersion();
    const version = this.#version;
    version.catch(() => {
      if (this.#version === version) this.#version = undefined;
    });
    return { name: "deno", version: await version };
  }

  /**
   * Fill (or reuse) the `DENO_DIR` of `manifest.deps` and return how to run scripts with it.
   * `scriptDir` is only checked: the cache never lives under it.
   *
   * @throws {DependencyError} when a requirement is refused, no deno binary is found, or
   * `deno cache` fails (its reason is quoted; the half-filled directory is removed).
   */
  async prepare(
    manifest: Manifest,
    scriptDir: string,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const requirements = normaliseNpmRequirements(manifest.deps);
    const root = join(resolve(options.cacheDir), "deno");
    if (root.split(sep).includes(".capibara") || isWithin(resolve(scriptDir), root)) {
      throw new DependencyError(
        `Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`,
        { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" },
      );
    }
    const deno = await this.#binaryOnce();
    const key = await denoDirKey(requirements);
    const dir = join(root, key);
    const registry = this.#registryEnv();
    const hit = await readyMarker(dir, requirements, registry);
    if (hit) return prepared(deno, dir, hit);
    return await this.#fillLocked(deno, root, key, requirements, registry, options);
  }

  async #fillLocked(
    deno: string,
    root: string,
    key: string,
    requirements: string[],
    registry: Record<string, string>,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const dir = join(root, key);
    await Deno.mkdir(root, { recursive: true });
    // Never removed: deleting a lock file another process holds or waits on breaks exclusion.
    const lock = await Deno.open(join(root, `${key}.lock`), { create: true, write: true });
    try {
      if (!(await lock.tryLock(true))) {
        options.progress?.("Waiting for another process to cache the npm packages…");
        await lock.lock(true);
      }
      const ready = await readyMarker(dir, requirements, registry);
      if (ready) return prepared(deno, dir, ready);

      // A marker for another registry, or a leftover of a crashed fill: start clean.
      await removeDir(dir);
      await Deno.mkdir(dir, { recursive: true });
      try {
        if (requirements.length) {
          options.progress?.(
            `Caching ${requirements.length} npm package${requirements.length === 1 ? "" : "s"}…`,
          );
          await this.#cache(deno, dir, requirements);
        }
        const marker: Marker = {
          format: MARKER_FORMAT,
          key,
          requirements,
          registry,
          created_at: new Date().toISOString(),
          build_id: crypto.randomUUID(),
        };
        // Written last and atomically: its presence means the cache is complete.
        const tmp = join(dir, `${DENO_READY_MARKER}.tmp`);
        await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n");
        await Deno.rename(tmp, join(dir, DENO_READY_MARKER));
        return prepared(deno, dir, marker);
      } catch (error) {
        await removeDir(dir);
        throw error;
      }
    } finally {
      lock.close(); // releases the lock
    }
  }

  /**
   * `deno cache` of an entry point that imports exactly the requirements, so the script cannot
   * make this step fetch anything else, and `--deny-import` refuses every non-npm remote.
   */
  async #cache(deno: string, dir: string, requirements: string[]): Promise<void> {
    const imports = requirements.map((r) => {
      const [name, version] = r.split("==");
      return `import ${JSON.stringify(`npm:${name}@${version}`)};\n`;
    });
    await Deno.writeTextFile(join(dir, DEPS_ENTRY), imports.join(""));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#userEnv)) {
      if (value === undefined) continue;
      if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some((p) => name.startsWith(p))) {
        env[name] = value;
      }
    }
    Object.assign(env, runEnv(dir, this.#registryEnv()));
    const args = [
      "cache",
      "--quiet",
      "--no-config",
      "--no-lock",
      "--node-modules-dir=none",
      "--deny-import",
      DEPS_ENTRY,
    ];
    let result: ExecResult;
    try {
      result = await execCommand({ program: deno, args, env, cwd: dir }, {
        timeoutMs: this.#cacheTimeoutMs,
        maxOutputBytes: 1_000_000,
      });
    } catch (error) {
      throw spawnFailure(error, deno) ?? error;
    }
    if (result.code !== 0) {
      const reason = result.timedOut
        ? `deno cache did not finish within ${Math.round(this.#cacheTimeoutMs / 1000)} s`
        : denoReason(result.stderr || result.stdout);
      throw new DependencyError(`Cannot cache npm packages: ${reason}`, {
        hint: "Check that the pinned versions exist on your npm registry and that it is " +
          "reachable; deno uses NPM_CONFIG_REGISTRY, ~/.npmrc and HTTPS_PROXY as npm does",
        details: { requirements, exit_code: result.code, stderr: tail(result.stderr) },
      });
    }
  }

  /** The registry variables in effect, recorded in the marker and given to every run. */
  #registryEnv(): Record<string, string> {
    const registry: Record<string, string> = {};
    for (const name of REGISTRY_VARS) {
      const value = this.#userEnv[name];
      if (value !== undefined && value !== "") registry[name] = value;
    }
    return registry;
  }

  #binaryOnce(): Promise<string> {
    if (!this.#binary) {
      const binary = this.#findBinary();
      binary.catch(() => {
        if (this.#binary === binary) this.#binary = undefined;
      });
      this.#binary = binary;
    }
    return this.#binary;
  }

  async #findBinary(): Promise<string> {
    if (this.#deno === undefined && isDenoBinary(Deno.execPath())) return Deno.execPath();
    const name = this.#deno ?? "deno";
    const found = await findExecutable(name, this.#userEnv.PATH);
    if (found) return found;
    throw new DependencyError(`Cannot run TypeScript scripts: "${name}" was not found`, {
      hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
    });
  }

  async #probeVersion(): Promise<string> {
    const deno = await this.#binaryOnce();
    if (deno === Deno.execPath()) return Deno.version.deno.split(".").slice(0, 2).join(".");
    let result: ExecResult;
    try {
      result = await execCommand({
        program: deno,
        args: ["--version"],
        env: { PATH: this.#userEnv.PATH ?? "", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        cwd: resolve("/"),
      }, { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 64_000 });
    } catch (error) {
      throw spawnFailure(error, deno) ?? error;
    }
    const match = /^deno (\d+)\.(\d+)\./m.exec(result.stdout);
    if (result.code === 0 && match) return `${match[1]}.${match[2]}`;
    throw new DependencyError(`Cannot run TypeScript scripts: "${deno}" does not run as deno`, {
      hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
      details: { deno, exit_code: result.code, stderr: tail(result.stderr) },
    });
  }
}

function spawnFailure(error: unknown, program: string): DependencyError | undefined {
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    return new DependencyError(`Cannot run TypeScript scripts: "${program}" does not start`, {
      hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
      cause: error,
    });
  }
  return undefined;
}

/** Variables every deno subprocess gets: its cache, no update check, no prompt, no colour. */
function runEnv(dir: string, registry: Record<string, string>): Record<string, string> {
  return {
    ...registry,
    DENO_DIR: dir,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PROMPT: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  };
}

function prepared(deno: string, dir: string, marker: Marker): PreparedRuntime {
  return {
    interpreter: deno,
    interpreterArgs: [...RUN_ARGS],
    readPaths: [dir],
    env: runEnv(dir, marker.registry),
  };
}

/** One host rule of the policy, as Deno can express it. */
