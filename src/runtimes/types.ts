/**
 * What every language runtime provides: an environment prepared once, and the command that runs
 * a script in it.
 *
 * @module
 */
import type { CommandSpec } from "../exec.ts";
import type { SandboxBackend } from "../sandbox/types.ts";
import type { Language, Manifest } from "../schema.ts";

/** Reports progress of long steps (environment builds), e.g. to a spinner. */
export type Progress = (message: string) => void;

/** Options of {@linkcode Runtime.prepare}. */
export interface PrepareOptions {
  /** Machine-local cache directory (venvs, package caches). Never inside `.capibara/`. */
  cacheDir: string;
  /** Called with a short message before a long step starts. */
  progress?: Progress;
  /**
   * The sandbox dependency installs run in (pip, and the build scripts of source builds), with
   * network only to the package index. Without one, installs run unconfined, wheels only, and
   * `warn` says so.
   */
  sandbox?: SandboxBackend;
  /**
   * Whether packages that publish no wheel may be built from source (the project's
   * `install.source_builds`). Only honoured inside a sandbox. Default false: wheels only.
   */
  sourceBuilds?: boolean;
  /**
   * The package index to install from, overriding pip's own configuration (`CAPIBARA_INDEX_URL`).
   * Default: what the runtime's environment says (`CAPIBARA_INDEX_URL`, then pip's configuration).
   */
  indexUrl?: string;
  /**
   * The folder the run works in, which relative paths in pip's configuration (`find-links`,
   * `constraint`, `cert`, an index that is a folder) are taken from, as pip run there would.
   * Default: this process's.
   */
  cwd?: string;
  /** Receives warnings, e.g. that an install runs unconfined. Default `console.error`. */
  warn?: (message: string) => void;
  /**
   * Stops an install in progress (Ctrl-C): its processes are killed, the half-built environment
   * is removed, and `prepare` throws a DependencyError saying so.
   */
  signal?: AbortSignal;
}

/** A prepared interpreter: how to run scripts of one requirement set. */
export interface PreparedRuntime {
  /** Absolute path of the interpreter to run the entry with. */
  interpreter: string;
  /** Arguments before the script path (e.g. `["run", "--no-prompt", …]` for deno). */
  interpreterArgs: string[];
  /** Paths the interpreter needs to read (venv, stdlib, package cache), for the sandbox. */
  readPaths: string[];
  /** Environment variables the runtime itself needs (e.g. `VIRTUAL_ENV`, `DENO_DIR`). */
  env: Record<string, string>;
}

/** One language's runtime. */
export interface Runtime {
  /** The language whose scripts this runtime runs. */
  readonly language: Language;
  /** Interpreter name and version recorded in manifests (e.g. `{ name: "python", version: "3.11" }`). */
  describe(): Promise<{ name: string; version: string }>;
  /** Build (or reuse) the environment for a script's dependencies. */
  prepare(manifest: Manifest, scriptDir: string, options: PrepareOptions): Promise<PreparedRuntime>;
}

/** Build the command that runs `scriptPath --context @contextFile` with a prepared runtime. */
export function scriptCommand(
  prepared: PreparedRuntime,
  scriptPath: string,
  contextFile: string,
  base: { cwd: string; env: Record<string, string>; extraArgs?: string[] },
): CommandSpec {
  return {
    program: prepared.interpreter,
    args: [
      ...prepared.interpreterArgs,
      scriptPath,
      "--context",
      "@" + contextFile,
      ...(base.extraArgs ?? []),
    ],
    env: { ...base.env, ...prepared.env },
    cwd: base.cwd,
  };
}
