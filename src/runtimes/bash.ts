/**
 * The bash runtime: scripts run with the system's bash, without start-up files, and have no
 * requirements (only the tools the sandbox exposes).
 *
 * @module
 */
import { DependencyError, tail } from "../errors.ts";
import { once } from "../_memo.ts";
import { which } from "../_which.ts";
import { execCommand, type ExecResult } from "../exec.ts";
import type { Manifest } from "../schema.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

const PROBE_TIMEOUT_MS = 30_000;
const INSTALL_HINT = "Install bash (4 or newer) and make sure it is on PATH";

/** Options of {@linkcode BashRuntime}. */
export interface BashRuntimeOptions {
  /** The bash binary (absolute path or a name on PATH). Default `/bin/bash`, else `bash` on PATH. */
  bash?: string;
  /** The user's environment (PATH, for finding bash). Default `Deno.env.toObject()`. */
  env?: Record<string, string | undefined>;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * Bash scripts run as `bash --noprofile --norc script.sh`. There is nothing to build: `prepare()`
 * only refuses requirements, and the interpreter is resolved to an absolute path once.
 */
export class BashRuntime implements Runtime {
  /** Always `"bash"`. */
  readonly language = "bash" as const;
  readonly #bash?: string;
  readonly #userEnv: Record<string, string | undefined>;
  readonly #binary: () => Promise<string>;
  readonly #version: () => Promise<string>;

  /** A runtime using `options.bash` (default `/bin/bash`, else `bash` on PATH). */
  constructor(options: BashRuntimeOptions = {}) {
    this.#bash = options.bash;
    this.#userEnv = options.env ?? Deno.env.toObject();
    this.#binary = once(() => this.#findBinary());
    this.#version = once(() => this.#probeVersion());
  }

  /**
   * Bash's major.minor version from `$BASH_VERSION`, e.g. `{ name: "bash", version: "5.2" }`.
   * Runs bash once per instance.
   *
   * @throws {DependencyError} when bash is missing or does not run.
   */
  async describe(): Promise<{ name: string; version: string }> {
    return { name: "bash", version: await this.#version() };
  }

  /**
   * How to run a bash script. No subprocess, no files.
   *
   * @throws {DependencyError} when the manifest lists requirements (bash has none) or bash is
   * missing.
   */
  async prepare(
    manifest: Manifest,
    _scriptDir: string,
    _options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    if (manifest.deps.length) {
      throw new DependencyError(
        `Cannot install requirements for a bash script: bash scripts have none (got ${
          manifest.deps.join(", ")
        })`,
        {
          hint: "Regenerate the script, or set its manifest's deps to []",
          details: { requirements: manifest.deps },
        },
      );
    }
    return {
      interpreter: await this.#binary(),
      interpreterArgs: ["--noprofile", "--norc"],
      readPaths: [],
      env: {},
    };
  }

  async #findBinary(): Promise<string> {
    const name = this.#bash;
    if (name === undefined && await isExecutableFile("/bin/bash")) return "/bin/bash";
    const wanted = name ?? "bash";
    // `which` takes a path as given: only an executable file is a bash.
    const found = await which(wanted, this.#userEnv.PATH ?? "");
    if (found && found.startsWith("/") && await isExecutableFile(found)) return found;
    throw new DependencyError(`Cannot run bash scripts: "${wanted}" was not found`, {
      hint: INSTALL_HINT,
    });
  }

  async #probeVersion(): Promise<string> {
    const bash = await this.#binary();
    let result: ExecResult;
    try {
      result = await execCommand({
        program: bash,
        args: ["--noprofile", "--norc", "-c", 'printf "%s\\n" "$BASH_VERSION"'],
        env: { PATH: this.#userEnv.PATH ?? "/usr/bin:/bin" },
        cwd: "/",
      }, { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 64_000 });
    } catch (error) {
      throw new DependencyError(`Cannot run bash scripts: "${bash}" does not start`, {
        hint: INSTALL_HINT,
        cause: error,
      });
    }
    const match = /^(\d+)\.(\d+)/.exec(result.stdout.trim());
    if (result.code === 0 && match) return `${match[1]}.${match[2]}`;
    throw new DependencyError(`Cannot run bash scripts: "${bash}" does not report a version`, {
      hint: INSTALL_HINT,
      details: { bash, exit_code: result.code, stderr: tail(result.stderr) },
    });
  }
}
