/**
 * The Python runtime: a pool of virtual environments, one per (Python version, requirement set),
 * built once with pip in the machine-local cache and shared by every script that needs that set.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { DependencyError, tail } from "../errors.ts";
import { sha256 } from "../_hash.ts";
import { execCommand, type ExecResult } from "../exec.ts";
import type { Manifest } from "../schema.ts";
import { normaliseRequirements, venvKeyInput } from "../contract/requirements.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

/** Name of the file written last into a finished environment. */
export const READY_MARKER = ".capibara-ready";
/** Name of the requirements file pip installs from, kept in the environment for inspection. */
const REQUIREMENTS_FILE = "capibara-requirements.txt";
/** Version of the marker's JSON shape. */
const MARKER_FORMAT = 1;

const PROBE_TIMEOUT_MS = 30_000;
const VENV_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;

/** Names of the user's environment variables pip and the interpreter need to work as usual. */
const PASS_THROUGH = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "TMPDIR",
  "TEMP",
  "TMP",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  "XDG_DATA_HOME",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "NETRC",
  "SYSTEMROOT",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
]);
/** Prefixes of passed-through variables: pip's own configuration, pyenv shims, locale. */
const PASS_THROUGH_PREFIXES = ["PIP_", "PYENV", "LC_"];

/** The readiness marker: written last, so its presence means the environment is complete. */
const Marker = z.object({
  format: z.literal(MARKER_FORMAT),
  key: z.string(),
  python: z.string(),
  python_version: z.string(),
  base_prefix: z.string(),
  requirements: z.array(z.string()),
  created_at: z.string(),
  build_id: z.string(),
});
/** The parsed readiness marker of a built environment. */
type Marker = z.infer<typeof Marker>;

/** Options of {@linkcode PythonRuntime}. */
export interface PythonRuntimeOptions {
  /** Base interpreter that creates the environments (name on PATH or absolute). Default `python3`. */
  python?: string;
  /** The user's environment (PATH, HOME, `PIP_*`, proxies…). Default `Deno.env.toObject()`. */
  env?: Record<string, string | undefined>;
  /** Time limit of one `pip install`, in milliseconds. Default 30 minutes. */
  installTimeoutMs?: number;
}

/** One environment of the pool, as listed by {@linkcode listVenvs}. */
export interface VenvInfo {
  /** Directory name, `py<version>-<key>`. */
  name: string;
  /** Absolute path of the environment. */
  path: string;
  /** True when the readiness marker is present and valid (false: a half-built leftover). */
  ready: boolean;
  /** Python major.minor the environment was built with (from the marker or the name). */
  pythonVersion?: string;
  /** Normalised requirements installed (only when ready). */
  requirements?: string[];
  /** When the build finished, ISO 8601 (only when ready). */
  createdAt?: string;
}

interface Probe {
  version: string;
  basePrefix: string;
}

/**
 * Normalise, deduplicate and sort a requirement list: the canonical form hashed by
 * {@linkcode venvKey} and installed by pip (one module parses requirements for the contract and
 * for installs).
 */
export { normaliseRequirements };

/**
 * The key of the environment for a Python version and a requirement set: the first 16 hex
 * digits of the sha256 of the version and the normalised, sorted requirements.
 *
 * @example Same set, any order or spelling, same key
 * ```ts
 * import { venvKey } from "./python.ts";
 * await venvKey("3.11", ["Pillow==10.0.0", "numpy==1.26.4"]) ===
 *   await venvKey("3.11", ["numpy == 1.26.4", "pillow==10.0.0"]); // true
 * ```
 */
export async function venvKey(
  pythonVersion: string,
  requirements: readonly string[],
): Promise<string> {
  return (await sha256(venvKeyInput(pythonVersion, requirements))).slice(0, 16);
}

/** Directory holding the environments (and their lock files) under a cache directory. */
function venvsRoot(cacheDir: string): string {
  return join(resolve(cacheDir), "venvs");
}

function venvPython(venvDir: string): string {
  return Deno.build.os === "windows"
    ? join(venvDir, "Scripts", "python.exe")
    : join(venvDir, "bin", "python");
}

async function readMarker(venvDir: string): Promise<Marker | undefined> {
  try {
    return Marker.parse(JSON.parse(await Deno.readTextFile(join(venvDir, READY_MARKER))));
  } catch {
    return undefined;
  }
}

/** The marker of a complete, usable environment for `requirements`, or undefined. */
async function readyMarker(
  venvDir: string,
  requirements: readonly string[],
): Promise<Marker | undefined> {
  const marker = await readMarker(venvDir);
  if (!marker || marker.requirements.join("\n") !== requirements.join("\n")) return undefined;
  try {
    // Follows the interpreter symlink: a removed or upgraded base Python breaks the venv.
    await Deno.stat(venvPython(venvDir));
  } catch {
    return undefined;
  }
  return marker;
}

async function removeDir(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Pip's own reason: its `ERROR:` lines, else the last line of stderr. */
function pipReason(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  const errors = lines
    .filter((l) => /^error:/i.test(l))
    .map((l) => l.replace(/^error:\s*/i, ""))
    .filter((l) => l);
  const picked = errors.length ? [...new Set(errors)].slice(0, 3) : lines.slice(-1);
  return picked.join("; ") || "pip gave no reason";
}

function spawnFailure(error: unknown, program: string): DependencyError | undefined {
  if (error instanceof Deno.errors.NotFound) {
    return new DependencyError(`Cannot run Python: "${program}" was not found`, {
      hint: "Install Python 3 (python.org, your package manager or pyenv) and make sure " +
        `"${program}" is on PATH`,
      cause: error,
    });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new DependencyError(`Cannot run Python: "${program}" is not executable`, {
      hint: "Check the permissions of your Python 3 installation",
      cause: error,
    });
  }
  return undefined;
}

/**
 * Python scripts run in a shared pool of virtual environments under `<cacheDir>/venvs/`, one per
 * (Python major.minor, normalised requirement set), built once with pip and reused.
 *
 * A cache hit costs a marker read and a stat: no subprocess. Concurrent builds of one set (in
 * this process or others) are serialised by an OS file lock, so the set is built once.
 */
export class PythonRuntime implements Runtime {
  /** Always `"python"`. */
  readonly language = "python" as const;
  readonly #python: string;
  readonly #userEnv: Record<string, string | undefined>;
  readonly #installTimeoutMs: number;
  #probe?: Promise<Probe>;

  /** A runtime using `options.python` (default `python3`) with the user's `options.env`. */
  constructor(options: PythonRuntimeOptions = {}) {
    this.#python = options.python ?? "python3";
    this.#userEnv = options.env ?? Deno.env.toObject();
    this.#installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
  }

  /**
   * The base interpreter's name and major.minor version, e.g. `{ name: "python", version: "3.11" }`.
   * Runs the interpreter once per instance.
   *
   * @throws {DependencyError} when the interpreter is missing or broken.
   */
  async describe(): Promise<{ name: string; version: string }> {
    const { version } = await this.#probeOnce();
    return { name: "python", version };
  }

  /**
   * Build (or reuse) the environment of `manifest.deps` and return how to run scripts in it.
   * `scriptDir` is only checked: the environment never lives under it.
   *
   * @throws {DependencyError} when the interpreter is missing, a requirement is refused or pip
   * fails (the half-built environment is removed).
   */
  async prepare(
    manifest: Manifest,
    scriptDir: string,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const requirements = normaliseRequirements(manifest.deps);
    const root = venvsRoot(options.cacheDir);
    if (root.split(sep).includes(".capibara") || isWithin(resolve(scriptDir), root)) {
      throw new DependencyError(
        `Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`,
        { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" },
      );
    }

    // Fast path without running Python: the version already probed, else the one the manifest
    // recorded. The marker names the interpreter command, so an explicit `python` option that
    // differs from the builder's falls through to the probe.
    const known = await this.#knownVersion();
    const guess = known ??
      (manifest.runtime.name === "python" && /^\d+\.\d+$/.test(manifest.runtime.version)
        ? manifest.runtime.version
        : undefined);
    if (guess !== undefined) {
      const hit = await this.#lookup(root, guess, requirements);
      if (hit) return hit;
    }

    const probe = await this.#probeOnce();
    if (probe.version !== guess) {
      const hit = await this.#lookup(root, probe.version, requirements);
      if (hit) return hit;
    }
    return await this.#buildLocked(root, probe, requirements, options);
  }

  async #knownVersion(): Promise<string | undefined> {
    if (!this.#probe) return undefined;
    try {
      return (await this.#probe).version;
    } catch {
      return undefined;
    }
  }

  async #lookup(
    root: string,
    version: string,
    requirements: string[],
  ): Promise<PreparedRuntime | undefined> {
    const venvDir = join(root, `py${version}-${await venvKey(version, requirements)}`);
    const marker = await readyMarker(venvDir, requirements);
    if (!marker || marker.python !== this.#python) return undefined;
    return prepared(venvDir, marker);
  }

  async #buildLocked(
    root: string,
    probe: Probe,
    requirements: string[],
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const key = await venvKey(probe.version, requirements);
    const name = `py${probe.version}-${key}`;
    const venvDir = join(root, name);
    await Deno.mkdir(root, { recursive: true });
    // Never removed: deleting a lock file another process holds or waits on breaks exclusion.
    const lock = await Deno.open(join(root, `${name}.lock`), { create: true, write: true });
    try {
      if (!(await lock.tryLock(true))) {
        options.progress?.("Waiting for another process to build the Python environment…");
        await lock.lock(true);
      }
      // Someone may have finished the build while we waited.
      const ready = await readyMarker(venvDir, requirements);
      if (ready) return prepared(venvDir, ready);

      await removeDir(venvDir); // a half-built leftover of a crashed or failed build
      options.progress?.(
        requirements.length
          ? `Installing ${requirements.length} requirement${
            requirements.length === 1 ? "" : "s"
          } into a new environment…`
          : "Creating a new Python environment…",
      );
      try {
        const marker = await this.#build(venvDir, key, probe, requirements);
        return prepared(venvDir, marker);
      } catch (error) {
        await removeDir(venvDir);
        throw error;
      }
    } finally {
      lock.close(); // releases the lock
    }
  }

  async #build(
    venvDir: string,
    key: string,
    probe: Probe,
    requirements: string[],
  ): Promise<Marker> {
    const env = this.#baseEnv();
    const venvArgs = ["-m", "venv", ...(requirements.length ? [] : ["--without-pip"]), venvDir];
    const cwd = dirname(venvDir);
    const created = await this.#run(this.#python, venvArgs, env, {
      cwd,
      timeoutMs: VENV_TIMEOUT_MS,
    });
    if (created.code !== 0) {
      throw new DependencyError(
        `Cannot create a virtual environment: ${pipReason(created.stderr || created.stdout)}`,
        {
          hint: "Check that Python's venv module works (on Debian or Ubuntu: apt install " +
            "python3-venv) and that the cache directory is writable",
          details: { python: this.#python, stderr: tail(created.stderr) },
        },
      );
    }

    if (requirements.length) {
      const reqFile = join(venvDir, REQUIREMENTS_FILE);
      await Deno.writeTextFile(reqFile, requirements.join("\n") + "\n");
      const args = [
        "-m",
        "pip",
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "-r",
        reqFile,
      ];
      const installed = await this.#run(venvPython(venvDir), args, env, {
        cwd,
        timeoutMs: this.#installTimeoutMs,
      });
      if (installed.code !== 0) {
        const reason = installed.timedOut
          ? `pip did not finish within ${Math.round(this.#installTimeoutMs / 1000)} s`
          : pipReason(installed.stderr);
        throw new DependencyError(`Cannot install requirements: ${reason}`, {
          hint: `Check that the pinned versions exist for Python ${probe.version} on your ` +
            "package index; pip uses your configuration (pip.conf, PIP_INDEX_URL, " +
            "PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS for an offline wheelhouse)",
          details: {
            requirements,
            python_version: probe.version,
            exit_code: installed.code,
            stderr: tail(installed.stderr),
          },
        });
      }
    }

    const marker: Marker = {
      format: MARKER_FORMAT,
      key,
      python: this.#python,
      python_version: probe.version,
      base_prefix: probe.basePrefix,
      requirements,
      created_at: new Date().toISOString(),
      build_id: crypto.randomUUID(),
    };
    // Written last and atomically: its presence means everything before it is complete.
    const tmp = join(venvDir, `${READY_MARKER}.tmp`);
    await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n");
    await Deno.rename(tmp, join(venvDir, READY_MARKER));
    return marker;
  }

  #probeOnce(): Promise<Probe> {
    if (!this.#probe) {
      const probe = this.#runProbe();
      // A failed probe is not cached: the user may install Python and retry in a long-lived
      // process.
      probe.catch(() => {
        if (this.#probe === probe) this.#probe = undefined;
      });
      this.#probe = probe;
    }
    return this.#probe;
  }

  async #runProbe(): Promise<Probe> {
    const code = "import json, sys; " +
      "print(json.dumps([sys.version_info[0], sys.version_info[1], sys.base_prefix]))";
    const result = await this.#run(this.#python, ["-c", code], this.#baseEnv(), {
      cwd: Deno.cwd(),
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (result.code === 0) {
      try {
        const [major, minor, basePrefix] = z.tuple([z.number(), z.number(), z.string()]).parse(
          JSON.parse(result.stdout.trim().split("\n").at(-1) ?? ""),
        );
        if (major === 3) return { version: `${major}.${minor}`, basePrefix };
        throw new DependencyError(`Cannot use Python ${major}.${minor}: Python 3 is required`, {
          hint: `Install Python 3 and make sure "${this.#python}" runs it`,
        });
      } catch (error) {
        if (error instanceof DependencyError) throw error;
      }
    }
    throw new DependencyError(
      `Cannot run Python: "${this.#python}" failed: ${pipReason(result.stderr || result.stdout)}`,
      {
        hint: `Install Python 3 and make sure "${this.#python}" is on PATH and runs`,
        details: { python: this.#python, exit_code: result.code, stderr: tail(result.stderr) },
      },
    );
  }

  /** Run a command; a missing interpreter becomes a DependencyError. */
  async #run(
    program: string,
    args: string[],
    env: Record<string, string>,
    options: { cwd: string; timeoutMs: number },
  ): Promise<ExecResult> {
    try {
      return await execCommand({ program, args, env, cwd: options.cwd }, {
        timeoutMs: options.timeoutMs,
      });
    } catch (error) {
      throw spawnFailure(error, program) ?? error;
    }
  }

  /** The user's variables pip and Python need; never PYTHONPATH/PYTHONHOME, which break venvs. */
  #baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#userEnv)) {
      if (value === undefined) continue;
      if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some((p) => name.startsWith(p))) {
        env[name] = value;
      }
    }
    env.PYTHONDONTWRITEBYTECODE ??= "1";
    return env;
  }
}

function prepared(venvDir: string, marker: Marker): PreparedRuntime {
  return {
    interpreter: venvPython(venvDir),
    interpreterArgs: [],
    readPaths: [venvDir, marker.base_prefix],
    env: {
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONNOUSERSITE: "1",
      PYTHONUNBUFFERED: "1",
      VIRTUAL_ENV: venvDir,
    },
  };
}

/**
 * The environments under `<cacheDir>/venvs/`, ready or half-built, sorted by name (for
 * `capibara doctor` and cache pruning). An absent directory lists nothing.
 */
export async function listVenvs(cacheDir: string): Promise<VenvInfo[]> {
  const root = venvsRoot(cacheDir);
  const found: VenvInfo[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (!entry.isDirectory || !/^py\d+\.\d+-[0-9a-f]{16}$/.test(entry.name)) continue;
      const path = join(root, entry.name);
      const marker = await readMarker(path);
      found.push(
        marker
          ? {
            name: entry.name,
            path,
            ready: true,
            pythonVersion: marker.python_version,
            requirements: marker.requirements,
            createdAt: marker.created_at,
          }
          : {
            name: entry.name,
            path,
            ready: false,
            pythonVersion: /^py(\d+\.\d+)-/.exec(entry.name)?.[1],
          },
      );
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
