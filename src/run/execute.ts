/**
 * Executing a plan: the only module that spawns scripts. Every runtime goes through a sandbox
 * backend (bubblewrap, sandbox-exec, or Deno's permissions inside bubblewrap); the run's temp dir
 * and the backend's helpers are gone when {@linkcode execute} returns, whatever happened.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeIfExists } from "../_fs.ts";
import { PermissionError } from "../errors.ts";
import { execCommand, type ExecResult } from "../exec.ts";
import type { Language } from "../schema.ts";
import { DenoPermissionsBackend } from "../sandbox/deno.ts";
import {
  confinementOf,
  NO_SANDBOX_WARNING,
  platformBackend,
  requireBackend,
} from "../sandbox/mod.ts";
import type { SandboxBackend, WrappedCommand } from "../sandbox/types.ts";
import type { Plan } from "./plan.ts";
import type { LimitsHit } from "./result.ts";

/** Options of {@linkcode execute}. */
export interface ExecuteOptions {
  /** Wall time limit in milliseconds; the whole process tree dies past it. */
  timeoutMs: number;
  /** Combined stdout and stderr bytes kept; past it the script is killed. */
  maxOutputBytes: number;
  /** Cancels the run; the script's whole process tree is killed. */
  signal?: AbortSignal;
}

/** What a run did: the subprocess's account, and the limits it hit. */
export interface Execution {
  /** Exit status, output and how it ended. */
  exec: ExecResult;
  /** The sandbox limits the run hit (when the backend measures them and the script failed). */
  limits?: LimitsHit;
}

/** Options of {@linkcode backendFor}. */
export interface BackendOptions {
  /**
   * `false` runs Python and bash scripts unconfined, and TypeScript under Deno's permissions
   * alone.
   */
  sandbox: boolean;
  /** Machine-local cache directory (the OS backend's probe is remembered there). */
  cacheDir: string;
  /** Receives the warning printed before an unconfined run. */
  warn: (message: string) => void;
}

/** A backend that confines nothing: `--no-sandbox` for Python and bash. */
class UnconfinedBackend implements SandboxBackend {
  readonly name = "none";
  available() {
    return Promise.resolve({ ok: true });
  }
  wrap(spec: WrappedCommand["spec"]): Promise<WrappedCommand> {
    return Promise.resolve({ spec, close: () => Promise.resolve() });
  }
}

/** Printed before a TypeScript run on Linux when bubblewrap cannot run. */
export const DENO_ONLY_WARNING: string =
  "warning: the bubblewrap sandbox is unavailable: this TypeScript script runs under Deno's " +
  "permission flags alone, without the OS sandbox's limits (memory, processes), its seccomp " +
  "filter or its private view of the file system. Install bubblewrap (see capibara doctor).";

/**
 * The backend that confines scripts of `language`:
 *
 * - Python and bash: the OS sandbox (or none with `sandbox: false`, after a loud warning);
 * - TypeScript: Deno's permission flags inside bubblewrap on Linux. Where bubblewrap cannot run
 *   (a fresh machine without it), Deno's flags alone, after a warning, so TypeScript keeps
 *   working everywhere; likewise with `sandbox: false`. On macOS, Deno's flags alone.
 *
 * @throws {PermissionError} when the OS sandbox is needed and unavailable.
 */
export async function backendFor(
  language: Language,
  options: BackendOptions,
): Promise<SandboxBackend> {
  if (confinementOf(language) === "deno-permissions") {
    if (!options.sandbox || Deno.build.os !== "linux") return new DenoPermissionsBackend();
    const os = platformBackend(options.cacheDir);
    if (os && (await os.available()).ok) return new DenoPermissionsBackend({ os });
    options.warn(DENO_ONLY_WARNING);
    return new DenoPermissionsBackend();
  }
  if (!options.sandbox) {
    options.warn(NO_SANDBOX_WARNING);
    return new UnconfinedBackend();
  }
  return await requireBackend(language, options.cacheDir);
}

/** A fresh path for a run's temp dir (created by {@linkcode execute}), resolved. */
export async function runDirPath(): Promise<string> {
  return join(await Deno.realPath(tmpdir()), `capibara-run-${crypto.randomUUID()}`);
}

/**
 * Runs a plan under a backend: creates the temp dir (private) and the output folders, writes the
 * context file, wraps the command, runs it under the time limit and output cap, reads what the
 * limits saw, then closes the backend's helpers and removes the temp dir.
 *
 * Never throws for the script's own failures: those are in the returned `exec`, for the result
 * step to judge.
 *
 * @throws {PermissionError} when the interpreter (or the backend's program) cannot start.
 */
export async function execute(
  plan: Plan,
  backend: SandboxBackend,
  options: ExecuteOptions,
): Promise<Execution> {
  const { tmpDir } = plan.policy;
  let created = false;
  let wrapped: WrappedCommand | undefined;
  try {
    await Deno.mkdir(tmpDir, { mode: 0o700 });
    created = true;
    for (const dir of plan.outputDirs) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(plan.contextFile, plan.contextJson);
    wrapped = await backend.wrap(plan.command, plan.policy);
    let exec: ExecResult;
    try {
      exec = await execCommand(wrapped.spec, {
        timeoutMs: options.timeoutMs,
        maxOutputBytes: options.maxOutputBytes,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new PermissionError(`Cannot start "${wrapped.spec.program}": not found`, {
          cause: error,
          hint: `Install the ${plan.runtimeName} runtime`,
        });
      }
      throw error;
    }
    let limits: LimitsHit | undefined;
    if (exec.code !== 0 && wrapped.usage) {
      const usage = await wrapped.usage();
      limits = {
        memory: usage.memoryLimitHit ? plan.policy.memoryBytes : undefined,
        processes: usage.processLimitHit ? plan.policy.maxProcesses : undefined,
      };
    }
    return { exec, limits };
  } finally {
    await wrapped?.close();
    if (created) await removeIfExists(tmpDir).catch(() => {});
  }
}
