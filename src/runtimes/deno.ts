/**
 * The TypeScript runtime: scripts run under `deno run` with explicit permissions built from the
 * sandbox policy (never `-A`), against a per-requirement-set `DENO_DIR` filled once, before the
 * run, with the script's npm packages. The run itself uses the cache only.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, pathToFileUrl, resolve, sep } from "../_path.ts";
import * as z from "../_shape.ts";
import { DependencyError, ExecError, PermissionError, tail } from "../errors.ts";
import { sha256 } from "../_hash.ts";
import {
  exists,
  existsSync,
  fileIdentity,
  isInside,
  makeRunDir,
  realPathLoose,
  removeIfExists,
} from "../_fs.ts";
import { once } from "../_memo.ts";
import { DEFAULT_PATH, which } from "../_which.ts";
import { type CommandSpec, execCommand, type ExecResult } from "../exec.ts";
import type { Manifest } from "../schema.ts";
import type { SandboxBackend, SandboxPolicy } from "../sandbox/types.ts";
import { buildOnce, readReady } from "./_build_once.ts";
import { installCancelled, runInstall } from "./_install.ts";
import { verifiedBytes } from "../store/_verified.ts";
import { normalisedNpm } from "./_requirements.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

/** Name of the file written last into a finished `DENO_DIR`. */
export const DENO_READY_MARKER = ".capibara-ready";
/** The entry point `deno cache` fetches: one import per requirement, nothing from the script. */
const DEPS_ENTRY = "capibara-deps.ts";
/** Version of the marker's JSON shape. */
const MARKER_FORMAT = 1;

const PROBE_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_TIMEOUT_MS = 10 * 60_000;
/** Limits of one sandboxed `deno cache`. */
const CACHE_MEMORY_BYTES = 4 * 1024 ** 3;
const CACHE_MAX_PROCESSES = 256;
/** Variables naming CA bundle files, readable inside the sandbox when set. */
const CA_VARS = ["DENO_CERT", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"];
/** The registry deno uses when no variable names one. */
const NPM_REGISTRY = "https://registry.npmjs.org/";

/**
 * Arguments of every run, before the permission flags: no prompt, no fetch (the cache only),
 * nothing from the user's project (`deno.json`, import maps, lock file, `node_modules`); and,
 * for a script with packages, {@linkcode NO_CODE_CACHE}.
 */
const RUN_ARGS: readonly string[] = [
  "run",
  "--no-prompt",
  "--cached-only",
  "--no-config",
  "--no-lock",
  "--node-modules-dir=none",
];

/**
 * Each run's `DENO_DIR` is new and goes with it (see {@linkcode runDenoDir}), so a code cache
 * built by the run would only be written (≈ 1 MiB for Node's built-ins alone, ≈ 8 ms; more with
 * packages) and thrown away. A script without packages runs with one instead, a copy of the seed
 * Capibara builds once per deno binary (see {@linkcode CODE_CACHE_SEED}).
 */
export const NO_CODE_CACHE = "--no-code-cache";

/**
 * Deno's V8 code cache of its own Node built-ins, which a run without packages starts with (a
 * copy in its own `DENO_DIR`, see {@linkcode runDenoDir}): their code is compiled once, not on
 * every run (≈ 10 ms of a run that imports `node:util`). Built by Capibara itself (see
 * {@linkcode seedCodeCache}): a `deno run` of a module of its own that imports the built-ins and
 * nothing else, so the cache holds only Deno's own modules, compiled by that binary; no script
 * ever writes it, and no run sees it.
 */
const CODE_CACHE_SEED = "v8_code_cache_seed";
/** Beside the seed: the identity of the deno binary that built it (path, inode, size, time). */
const CODE_CACHE_SEED_FOR = "v8_code_cache_seed.for";
/** What the seed's builder imports: the built-ins scripts use most. */
const SEEDED_BUILTINS: readonly string[] = [
  "assert",
  "buffer",
  "child_process",
  "crypto",
  "events",
  "fs",
  "fs/promises",
  "os",
  "path",
  "process",
  "readline",
  "stream",
  "url",
  "util",
  "zlib",
];
/** The time the seed's builder may take. */
const SEED_TIMEOUT_MS = 30_000;

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
  registry: z.record(z.string()),
  created_at: z.string(),
  build_id: z.string(),
});
type Marker = z.Infer<typeof Marker>;

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
  return (await sha256((await normalisedNpm(requirements)).join("\n"))).slice(0, 16);
}

/** The absolute path of an executable `name` (a name on `pathVar`, or a path), or undefined. */
async function findExecutable(
  name: string,
  pathVar: string | undefined,
): Promise<string | undefined> {
  const wanted = !isAbsolute(name) && (name.includes("/") || name.includes("\\"))
    ? resolve(name)
    : name;
  return await which(wanted, pathVar ?? "");
}

function isDenoBinary(path: string): boolean {
  const name = basename(path).toLowerCase();
  return name === "deno" || name === "deno.exe";
}

/** Accepts the marker of a complete cache of `requirements` from `registry`. */
function acceptMarker(requirements: readonly string[], registry: Record<string, string>) {
  return (raw: unknown): Marker | undefined => {
    const parsed = Marker.safeParse(raw);
    if (!parsed.success) return undefined;
    const marker = parsed.data;
    if (marker.requirements.join("\n") !== requirements.join("\n")) return undefined;
    // The npm cache is laid out by registry host: another registry means another cache.
    if (JSON.stringify(marker.registry) !== JSON.stringify(registry)) return undefined;
    return marker;
  };
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
 * A run never sees that folder as its `DENO_DIR`: it gets a private one in its temp dir whose
 * `npm` links to the set's read-only package cache (see {@linkcode runDenoDir}).
 *
 * Before an entry runs, its module graph may hold no local file but the entry itself (see
 * {@linkcode checkModuleGraph}): Deno checks reads, not the static imports of the graph.
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
  readonly #binary: () => Promise<string>;
  readonly #version: () => Promise<string>;

  /** A runtime using `options.deno` (default: this deno, else `deno` on PATH). */
  constructor(options: DenoRuntimeOptions = {}) {
    this.#deno = options.deno;
    this.#userEnv = options.env ?? Deno.env.toObject();
    this.#cacheTimeoutMs = options.cacheTimeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS;
    this.#binary = once(() => this.#findBinary());
    this.#version = once(() => this.#probeVersion());
  }

  /**
   * The deno binary's name and major.minor version, e.g. `{ name: "deno", version: "2.9" }`.
   * Free for this process's own deno; a foreign binary is asked once per instance.
   *
   * @throws {DependencyError} when no deno binary is found or it does not run.
   */
  async describe(): Promise<{ name: string; version: string }> {
    return { name: "deno", version: await this.#version() };
  }

  /**
   * Fill (or reuse) the `DENO_DIR` of `manifest.deps` and return how to run scripts with it.
   * `scriptDir` is only checked: the cache never lives under it.
   *
   * With `options.sandbox` (when it is available here), `deno cache` runs inside it with network
   * only to the npm registry; else on the host (it runs no package scripts either way).
   *
   * @throws {DependencyError} when a requirement is refused, no deno binary is found, or
   * `deno cache` fails (its reason is quoted; the half-filled directory is removed).
   */
  async prepare(
    manifest: Manifest,
    scriptDir: string,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const requirements = await normalisedNpm(manifest.deps);
    const given = join(resolve(options.cacheDir), "deno");
    if (given.split(sep).includes(".capibara") || isInside(given, resolve(scriptDir))) {
      throw new DependencyError(
        `Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`,
        { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" },
      );
    }
    // The sandbox binds the cache where it really is.
    const root = await realPathLoose(given);
    const deno = await this.#binary();
    const dir = join(root, await denoDirKey(requirements));
    const registry = this.#registryEnv();
    const accept = acceptMarker(requirements, registry);
    const hit = await readReady({ dir, marker: DENO_READY_MARKER, accept });
    const marker = hit ?? await buildOnce({
      dir,
      marker: DENO_READY_MARKER,
      accept,
      onWait: () => options.progress?.("Waiting for another process to cache the npm packages…"),
      build: async (target): Promise<Marker> => {
        if (requirements.length) {
          options.progress?.(
            `Caching ${requirements.length} npm package${requirements.length === 1 ? "" : "s"}…`,
          );
          await this.#cache(deno, target, requirements, options.sandbox, options.signal);
        }
        return {
          format: MARKER_FORMAT,
          key: basename(target),
          requirements,
          registry,
          created_at: new Date().toISOString(),
          build_id: crypto.randomUUID(),
        };
      },
    });
    const entry = join(resolve(scriptDir), manifest.entry);
    // The runtime of a script not written yet (a test's) has no graph to check.
    if (await exists(entry)) {
      await checkModuleGraph({
        deno,
        script: entry,
        sha256: manifest.files[manifest.entry],
        denoDir: dir,
        env: runEnv(dir, marker.registry),
        sandbox: options.sandbox,
      });
    }
    const seeded = requirements.length === 0 && await seedCodeCache(deno, dir);
    return prepared(deno, dir, marker, seeded);
  }

  /**
   * `deno cache` of an entry point that imports exactly the requirements, so the script cannot
   * make this step fetch anything else, and `--deny-import` refuses every non-npm remote.
   */
  async #cache(
    deno: string,
    dir: string,
    requirements: string[],
    sandbox: SandboxBackend | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const imports = requirements.map((r) => {
      const [name, version] = r.split("==");
      return `import ${JSON.stringify(`npm:${name}@${version}`)};\n`;
    });
    await Deno.writeTextFile(join(dir, DEPS_ENTRY), imports.join(""));
    const confined = sandbox !== undefined && (await sandbox.available()).ok;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#userEnv)) {
      if (value === undefined) continue;
      if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some((p) => name.startsWith(p))) {
        env[name] = value;
      }
    }
    Object.assign(env, runEnv(dir, this.#registryEnv()));
    const spec: CommandSpec = {
      program: deno,
      args: [
        "cache",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--node-modules-dir=none",
        "--deny-import",
        DEPS_ENTRY,
      ],
      env,
      cwd: dir,
    };
    let result: ExecResult;
    try {
      result = confined
        ? await this.#cacheConfined(sandbox, spec, dir, signal)
        : await execCommand(spec, {
          timeoutMs: this.#cacheTimeoutMs,
          maxOutputBytes: 1_000_000,
          signal,
        });
    } catch (error) {
      throw spawnFailure(error, deno) ?? error;
    }
    if (signal?.aborted) throw installCancelled();
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

  /**
   * `deno cache` inside the sandbox: the deno binary read-only, the `DENO_DIR` writable, a
   * private home, and network only to the npm registry (which may be on a private network).
   */
  async #cacheConfined(
    sandbox: SandboxBackend,
    spec: CommandSpec,
    dir: string,
    signal: AbortSignal | undefined,
  ): Promise<ExecResult> {
    const hosts = [registryHost(this.#registryEnv())];
    // Named as a run's: a sweep removes it when this process was killed during the install.
    const tmp = await makeRunDir();
    try {
      const binary = await Deno.realPath(spec.program);
      const wrappedSpec = {
        ...spec,
        env: { ...spec.env, PATH: DEFAULT_PATH, HOME: tmp, TMPDIR: tmp },
      };
      const policy: SandboxPolicy = {
        network: hosts,
        privateNetwork: hosts,
        // CA bundles the user's environment names (a company's TLS-inspecting proxy).
        read: [
          ...new Set([
            binary,
            spec.program,
            ...CA_VARS.map((name) => spec.env[name]).filter((path): path is string =>
              path !== undefined && isAbsolute(path)
            ),
          ]),
        ],
        write: [dir],
        protect: [],
        workdir: dir,
        tmpDir: tmp,
        memoryBytes: CACHE_MEMORY_BYTES,
        maxProcesses: CACHE_MAX_PROCESSES,
        reservesAddressSpace: denoAddressSpace(CACHE_MEMORY_BYTES),
      };
      return await runInstall(sandbox, wrappedSpec, policy, {
        timeoutMs: this.#cacheTimeoutMs,
        maxOutputBytes: 1_000_000,
        signal,
      });
    } finally {
      await removeIfExists(tmp);
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
    const deno = await this.#binary();
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

/** The exact `host:port` of the npm registry the variables name (default registry.npmjs.org). */
function registryHost(registry: Record<string, string>): string {
  let url: URL;
  try {
    url = new URL(Object.values(registry)[0] ?? NPM_REGISTRY);
  } catch {
    url = new URL(NPM_REGISTRY);
  }
  return `${url.hostname}:${url.port || (url.protocol === "http:" ? "80" : "443")}`;
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

function prepared(
  deno: string,
  dir: string,
  marker: Marker,
  seeded: boolean,
): PreparedRuntime {
  return {
    interpreter: deno,
    interpreterArgs: seeded ? [...RUN_ARGS] : [...RUN_ARGS, NO_CODE_CACHE],
    // Only the packages: the rest of the folder (Deno's caches of `deno cache`) is no script's.
    readPaths: [join(dir, "npm")],
    env: runEnv(dir, marker.registry),
  };
}

/** One host rule of the policy, as Deno can express it. */

/**
 * Writable memory Deno reserves at its start whatever its script does (V8's code range among
 * it): below ≈ 600 MiB of `RLIMIT_DATA` it does not start here.
 */
const DENO_OWN_DATA_BYTES = 768 * 1024 ** 2;

/**
 * What a sandbox's policy says of a `deno` it runs (see `SandboxPolicy.reservesAddressSpace`):
 * Deno reserves tens of GiB of address space at its start (V8's pointer cage and Oilpan's caged
 * heap), so where the memory limit could only be an address-space cap, its writable memory is
 * capped instead at the limit plus what Deno reserves itself (buffers and WebAssembly memory
 * count there), and its heap is bounded by V8's own limit (`DENO_V8_FLAGS`, read by Deno itself
 * before any script).
 */
export function denoAddressSpace(
  memoryBytes: number,
): { env: Record<string, string>; dataBytes: number } {
  const mib = Math.max(16, Math.floor(memoryBytes / 1024 ** 2));
  return {
    env: { DENO_V8_FLAGS: `--max-old-space-size=${mib}` },
    dataBytes: memoryBytes + DENO_OWN_DATA_BYTES,
  };
}

/**
 * A run's own `DENO_DIR`: `<tmpDir>/.deno`, created, with `npm` linking to the `npm` folder of
 * the entry's cache `denoDir` (when it has one). Deno writes its state there (transpiled source,
 * analysis caches, `localStorage`), and it goes with the temp dir: no run sees another's, nor the
 * source another project's script was transpiled from. With `codeCache` (a run without
 * `--no-code-cache`), it starts with a copy of `denoDir`'s code cache seed when there is one
 * ({@linkcode CODE_CACHE_SEED}): a file of its own, which the run may change as it likes.
 *
 * @returns the path to set as `DENO_DIR`.
 */
export function runDenoDir(denoDir: string, tmpDir: string, codeCache = false): string {
  const own = join(tmpDir, ".deno");
  // Synchronous, as a run's other few local file operations are: each asynchronous call is a
  // round trip to a worker thread (≈ 0.5 ms in a new process), on the way to the run's start.
  Deno.mkdirSync(own, { recursive: true, mode: 0o700 });
  // A new DENO_DIR's analysis databases serve one run only: folders stand where Deno would
  // create them, so it keeps them in memory (it runs the same, and says nothing), and the run's
  // clean-up has two folders to remove instead of two SQLite databases and their journals (≈ 5-15
  // ms on a slow disk). The transpiled source is left alone: a file in the way of `gen` makes
  // Deno retry for ≈ 150 ms.
  // Modes of their own, whatever the umask (an SDK's process may run under 0000: a folder open to
  // others in a tree a root run lends is refused).
  for (const name of DISCARDED_DATABASES) Deno.mkdirSync(join(own, name), { mode: 0o700 });
  const npm = join(denoDir, "npm");
  if (existsSync(npm)) Deno.symlinkSync(npm, join(own, "npm"));
  if (codeCache) {
    try {
      Deno.copyFileSync(join(denoDir, CODE_CACHE_SEED), join(own, "v8_code_cache_v2"));
    } catch {
      // no seed: Deno builds the run's own
    }
  }
  return own;
}

/** Whether Deno's own flags of a `deno run` command (`args`) let it use a code cache. */
export function usesCodeCache(args: readonly string[]): boolean {
  return !args.includes(NO_CODE_CACHE);
}

/** The identity of a binary as the seed records it: another deno (an upgrade) builds a new seed. */
function binaryIdentity(binary: string): string | undefined {
  try {
    return fileIdentity(Deno.realPathSync(binary));
  } catch {
    return undefined;
  }
}

/**
 * Makes sure `dir` (a requirement set's `DENO_DIR`) holds a code cache seed built by `deno`
 * ({@linkcode CODE_CACHE_SEED}), building it when it is missing or another binary's. Never
 * throws: without a seed, runs go on without a code cache.
 *
 * @returns whether the seed is there.
 */
async function seedCodeCache(deno: string, dir: string): Promise<boolean> {
  const identity = binaryIdentity(deno);
  if (identity === undefined) return false;
  const seed = join(dir, CODE_CACHE_SEED);
  const recorded = join(dir, CODE_CACHE_SEED_FOR);
  try {
    if (Deno.readTextFileSync(recorded) === identity && existsSync(seed)) return true;
  } catch {
    // not built yet
  }
  let work: string | undefined;
  try {
    work = await Deno.makeTempDir({ dir, prefix: ".seed-" });
    const builder = join(work, "seed.js");
    await Deno.writeTextFile(
      builder,
      SEEDED_BUILTINS.map((name) => `import "node:${name}";\n`).join(""),
    );
    const cacheDir = join(work, "deno");
    // Capibara's own module, importing built-ins only: no permission, no network, no script.
    const result = await execCommand({
      program: deno,
      args: [...RUN_ARGS, builder],
      env: { ...runEnv(cacheDir, {}), PATH: DEFAULT_PATH, HOME: work, TMPDIR: work },
      cwd: work,
    }, { timeoutMs: SEED_TIMEOUT_MS, maxOutputBytes: 100_000 });
    if (result.code !== 0) return false;
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(join(cacheDir, "v8_code_cache_v2"));
    try {
      // Deno's own modules only (the builder's entry goes), in one file: no journal beside it.
      db.exec(
        "DELETE FROM codecache WHERE specifier NOT LIKE 'ext:%'; " +
          "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; VACUUM;",
      );
    } finally {
      db.close();
    }
    // Renamed into place whole, the seed first: a run never copies half of one.
    await Deno.rename(join(cacheDir, "v8_code_cache_v2"), seed);
    await Deno.writeTextFile(join(work, "for"), identity);
    await Deno.rename(join(work, "for"), recorded);
    return true;
  } catch {
    return false;
  } finally {
    if (work !== undefined) await removeIfExists(work).catch(() => {});
  }
}

/** The module analysis databases of a `DENO_DIR`, which a run's new one never reuses. */
const DISCARDED_DATABASES: readonly string[] = ["dep_analysis_cache_v2", "node_analysis_cache_v2"];

/** The variables of a proxy no connection can reach (port 0), every spelling Deno reads. */
const UNREACHABLE_PROXY: Readonly<Record<string, string>> = Object.fromEntries(
  ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"].flatMap((name) => [
    [name, "http://127.0.0.1:0"],
    [name.toLowerCase(), "http://127.0.0.1:0"],
  ]).concat([["NO_PROXY", ""], ["no_proxy", ""]]),
);

/** Options of {@linkcode checkModuleGraph}. */
export interface ModuleGraphOptions {
  /** The deno binary. */
  deno: string;
  /** The entry script: absolute path. */
  script: string;
  /**
   * The script's hash in its verified manifest (`sha256:<hex>`): the bytes read must be those
   * (see `verifiedBytes`). Without it, whatever the file holds is checked.
   */
  sha256?: string;
  /** The entry's cache (`<cacheDir>/deno/<key>`); verdicts are kept beside it. */
  denoDir: string;
  /** The variables of the run (`DENO_DIR`, the registry's), minus the paths. */
  env: Record<string, string>;
  /** Where `deno info` runs confined (no network, the script and the package cache read-only). */
  sandbox?: SandboxBackend;
}

/** Limits of one confined `deno info`. */
const INFO_MEMORY_BYTES = 1024 ** 3;
const INFO_MAX_PROCESSES = 64;
const INFO_TIMEOUT_MS = 60_000;

const GraphJson = z.object({
  roots: z.array(z.string()).default([]),
  modules: z.array(z.object({
    specifier: z.string(),
    /** Why Deno could not load the module (an npm package not in the cache, say). */
    error: z.string().optional(),
    dependencies: z.array(z.object({
      code: z.object({ specifier: z.string() }).optional(),
      type: z.object({ specifier: z.string() }).optional(),
    })).optional(),
  })).default([]),
  redirects: z.record(z.string()).default({}),
});

/** Every specifier a `deno info --json` document names. */
function graphSpecifiers(graph: z.Infer<typeof GraphJson>): string[] {
  const all = [...graph.roots];
  for (const module of graph.modules) {
    all.push(module.specifier);
    for (const dep of module.dependencies ?? []) {
      if (dep.code) all.push(dep.code.specifier);
      if (dep.type) all.push(dep.type.specifier);
    }
  }
  for (const [from, to] of Object.entries(graph.redirects)) all.push(from, to);
  return [...new Set(all)];
}

/**
 * Refuses an entry whose module graph holds a local (`file:`) module other than the entry itself:
 * static imports (text, bytes, JSON or code, relative or absolute, and literal dynamic imports)
 * are loaded by Deno without a read permission check. npm packages, `node:` built-ins and `data:`
 * URLs are allowed.
 *
 * The graph comes from `deno info --json` with the run's own flags, against a private copy of the
 * `DENO_DIR`, inside `options.sandbox` when it is available (no network; only the deno binary, the
 * script and the package cache visible, so host files the script names are never read). A clean
 * verdict is remembered per deno binary, cache and script content under `<denoDir>/../graph-ok/`.
 *
 * @throws {PermissionError} naming the first local specifier outside the entry.
 * @throws {ExecError} when `deno info` fails (a script Deno cannot parse).
 */
export async function checkModuleGraph(options: ModuleGraphOptions): Promise<void> {
  const { deno, script, denoDir } = options;
  // The very bytes that run are checked: read once, and given to deno info as a private copy.
  const bytes = options.sha256 === undefined
    ? await Deno.readFile(script)
    : await verifiedBytes(script, options.sha256);
  const source = new TextDecoder().decode(bytes);
  const verdict = join(
    dirname(denoDir),
    "graph-ok",
    await sha256([deno, denoDir, script, source].join("\0")),
  );
  if (await exists(verdict)) return;

  const tmp = await makeRunDir();
  let result: ExecResult;
  try {
    const copy = join(tmp, "entry", basename(script));
    await Deno.mkdir(dirname(copy), { mode: 0o700 });
    await Deno.writeFile(copy, bytes, { createNew: true, mode: 0o400 });
    const spec: CommandSpec = {
      program: deno,
      args: [
        "info",
        "--json",
        "--no-config",
        "--no-lock",
        "--node-modules-dir=none",
        "--deny-import",
        copy,
      ],
      env: {
        ...options.env,
        // Nothing is fetched: an npm package the requirements did not bring into the cache is
        // not found (and refused below), never downloaded, into a cache other entries share.
        // Deno has no --cached-only for info; a proxy that cannot be reached stops every fetch,
        // where no OS sandbox takes the network away.
        ...UNREACHABLE_PROXY,
        PATH: DEFAULT_PATH,
        HOME: tmp,
        TMPDIR: tmp,
        DENO_DIR: runDenoDir(denoDir, tmp),
      },
      cwd: tmp,
    };
    const limits = { timeoutMs: INFO_TIMEOUT_MS, maxOutputBytes: 8_000_000 };
    const confined = options.sandbox !== undefined && (await options.sandbox.available()).ok;
    try {
      if (confined) {
        const binary = await Deno.realPath(deno);
        const wrapped = await options.sandbox!.wrap(spec, {
          network: [],
          read: [...new Set([binary, deno, join(denoDir, "npm")])],
          write: [],
          protect: [],
          workdir: tmp,
          tmpDir: tmp,
          memoryBytes: INFO_MEMORY_BYTES,
          maxProcesses: INFO_MAX_PROCESSES,
          reservesAddressSpace: denoAddressSpace(INFO_MEMORY_BYTES),
        });
        try {
          result = await execCommand(wrapped.spec, limits);
        } finally {
          await wrapped.close();
        }
      } else {
        result = await execCommand(spec, limits);
      }
    } catch (error) {
      throw spawnFailure(error, deno) ?? error;
    }
  } finally {
    await removeIfExists(tmp);
  }

  let graph: z.Infer<typeof GraphJson> | undefined;
  try {
    const parsed = GraphJson.safeParse(JSON.parse(result.stdout));
    if (parsed.success) graph = parsed.data;
  } catch {
    // not JSON: deno's reason is on stderr
  }
  if (result.code !== 0 || graph === undefined) {
    const reason = result.timedOut
      ? `deno info did not finish within ${INFO_TIMEOUT_MS / 1000} s`
      : denoReason(result.stderr || result.stdout);
    throw new ExecError(`Cannot check the imports of "${basename(script)}": ${reason}`, {
      hint: "Regenerate the script with --refresh",
      details: { exit_code: result.code, stderr: tail(result.stderr) },
    });
  }
  // The root is the entry as Deno spells it.
  const entry = graph.roots[0] ?? pathToFileUrl(join(tmp, "entry", basename(script))).href;
  const local = graphSpecifiers(graph).find((s) => s.startsWith("file:") && s !== entry);
  if (local !== undefined) {
    throw new PermissionError(
      `Cannot run "${basename(script)}": it imports the local file ${JSON.stringify(local)}`,
      {
        hint: "Scripts may import npm: packages and node: built-ins only; files are read at " +
          "run time from the paths the context names",
        details: { specifier: local },
      },
    );
  }
  // A module Deno could not load: an npm package outside the requirements (not in their cache),
  // or one the script cannot have.
  const failed = graph.modules.find((module) => module.error !== undefined);
  if (failed !== undefined) {
    const npm = failed.specifier.startsWith("npm:");
    throw new PermissionError(
      `Cannot run "${basename(script)}": it imports ${JSON.stringify(failed.specifier)}, ${
        npm ? "which its requirements do not bring" : "which cannot be loaded"
      }`,
      {
        hint: npm
          ? "A script imports only the npm packages its requirements pin: regenerate it with " +
            "--refresh, or review and accept one that names the package in its requirements"
          : "Scripts may import npm: packages and node: built-ins only",
        details: { specifier: failed.specifier, error: failed.error!.slice(0, 500) },
      },
    );
  }
  await Deno.mkdir(dirname(verdict), { recursive: true });
  await Deno.writeTextFile(verdict, "");
}
