/**
 * Executing a plan: the only module that spawns scripts. Every runtime goes through a sandbox
 * backend (bubblewrap, sandbox-exec, or Deno's permissions inside bubblewrap); the run's temp dir
 * and the backend's helpers are gone when {@linkcode execute} returns, whatever happened.
 *
 * Outputs are copied out: under bubblewrap a script writes each declared output into a private
 * staging copy under the run's temp dir, shown at the output's path inside the sandbox. After it
 * exits successfully, the reported artifacts are moved into the project by
 * {@linkcode copyOut} (regular files only, no name a tool trusts, all or nothing). The temp dir,
 * staging included, is bounded in bytes and files while the script runs: it is measured every
 * {@linkcode STAGING_SAMPLE_MS} ms and the run is killed past a bound, then measured exactly once
 * more after the run. Backends that cannot show a path at another place (Deno's permissions
 * alone, sandbox-exec) and `--no-sandbox` write the declared outputs in place, as granted folders.
 *
 * @module
 */
import { dirname, join, relative } from "../_path.ts";
import {
  isInside,
  lstatOrNull,
  lstatSyncOrNull,
  realPathSyncOrNull,
  removeIfExists,
  removeIfExistsSync,
  unwritable,
} from "../_fs.ts";
import { step } from "../_timings.ts";
import { ExecError, PermissionError } from "../errors.ts";
import { execCommand, type ExecResult, type HeldCommand, holdCommand } from "../exec.ts";
import type { Language } from "../schema.ts";
import {
  copyOut,
  DEFAULT_STAGING_LIMITS,
  devicesOf,
  makeFolders,
  measureTree,
  pastBounds,
  type StagingLimits,
  unmeasurable,
  type WatchedProcesses,
  watchUsage,
} from "../sandbox/copy_out.ts";
import {
  confinementOf,
  NO_SANDBOX_WARNING,
  platformBackend,
  requireBackend,
} from "../sandbox/mod.ts";
import {
  checkMadeInPlace,
  checkUnplanted,
  closeToOthers,
  plantablePaths,
} from "../sandbox/policy.ts";
import type { SandboxBackend, WrappedCommand } from "../sandbox/types.ts";
import type { Plan } from "./plan.ts";
import { verifiedBytes } from "../store/_verified.ts";
import type { LimitsHit } from "./result.ts";

/** Options of {@linkcode execute}. */
export interface ExecuteOptions {
  /** Wall time limit in milliseconds; the whole process tree dies past it. */
  timeoutMs: number;
  /** Combined stdout and stderr bytes kept; past it the script is killed. */
  maxOutputBytes: number;
  /** Cancels the run; the script's whole process tree is killed. */
  signal?: AbortSignal;
  /** Receives the script's stderr as it arrives (untrusted bytes). */
  onStderr?: (chunk: Uint8Array) => void;
  /** Bounds of the run's temp dir and staging area (default {@linkcode DEFAULT_STAGING_LIMITS}). */
  staging?: Partial<StagingLimits>;
  /**
   * Judges a finished run (its exit status and output contract) and returns the artifacts it
   * reported; they are then moved into the project. Called before the staging area is removed;
   * whatever it throws is thrown by {@linkcode execute}. Without it nothing is moved.
   */
  accept?: (execution: Execution) => Promise<readonly string[]>;
  /**
   * Takes over the removal of the run's temp dir, once every process of the run is gone and its
   * outputs are moved (a resident runner removes it after its answer went); default: removed
   * before {@linkcode runStaged} returns.
   */
  removeLater?: (folder: string) => void;
}

/** What a run did: the subprocess's account, and the limits it hit. */
export interface Execution {
  /** Exit status, output and how it ended. */
  exec: ExecResult;
  /** The sandbox limits the run hit (when the backend measures them and the script failed). */
  limits?: LimitsHit;
  /** The artifacts as moved into the project (with `accept`). */
  artifacts?: string[];
}

/** How often the staging area is measured while a script runs, in milliseconds. */
export const STAGING_SAMPLE_MS = 100;

/** How a backend's run writes its outputs: staged and copied out, or in place. */
export function outputModeOf(backend: SandboxBackend): "copy-out" | "in-place" {
  return backend.stagesOutputs === true ? "copy-out" : "in-place";
}

function sum(measures: StagingLimits[]): StagingLimits {
  return measures.reduce((a, b) => ({ bytes: a.bytes + b.bytes, files: a.files + b.files }), {
    bytes: 0,
    files: 0,
  });
}

function stagingError(limits: StagingLimits, used: StagingLimits): ExecError {
  if (unmeasurable(used)) {
    return new ExecError(
      "Script made what it writes impossible to measure (a folder of its outputs or temp dir " +
        "that cannot be listed, a removed file it holds that cannot be looked at, or more open " +
        "files across its threads than a measure looks at): it was stopped",
      {
        hint: "A script may not close its own folders to reading (chmod 0300), make itself not " +
          "dumpable, keep a file it removed mapped, or hold about 100,000 open files across its " +
          "threads and processes: fix the script",
        details: { max_bytes: limits.bytes, max_files: limits.files },
      },
    );
  }
  const what = used.bytes > limits.bytes
    ? `more than ${Math.round(limits.bytes / 1024 ** 2)} MiB`
    : `more than ${limits.files} files`;
  return new ExecError(`Script wrote ${what} to its outputs and temp dir: it was stopped`, {
    hint: "Raise the bound with --max-output <MiB> if the script really writes that much",
    details: { max_bytes: limits.bytes, max_files: limits.files },
  });
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
  "filter or its private view of the file system; a host it is granted is open to its raw " +
  "sockets, which may ask that host's front end for any other site it serves. Install " +
  "bubblewrap (see capibara doctor).";

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
    // Loaded for TypeScript only: a Python or bash run never pays for Deno's flag builder.
    const { DenoPermissionsBackend } = await import("../sandbox/deno.ts");
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
export { runDirPath } from "../_fs.ts";

/**
 * Refuses output folders this user cannot write: each folder, or where it is missing the nearest
 * folder above it that exists (the run makes the rest). Asked of the file system itself (see
 * `unwritable`). Called before a model is asked for a script, and again before a run.
 *
 * @throws {PermissionError} naming the folder
 */
export function checkOutputFolders(folders: readonly string[], workdir: string): void {
  workdir = realPathSyncOrNull(workdir) ?? workdir;
  for (const wanted of new Set(folders)) {
    let folder = wanted;
    while (!lstatSyncOrNull(folder) && isInside(dirname(folder), workdir) && folder !== workdir) {
      folder = dirname(folder);
    }
    const error = unwritable(folder);
    if (!error) continue;
    const why = error instanceof Deno.errors.PermissionDenied
      ? "this user may not write there"
      : error instanceof Deno.errors.NotFound
      ? "it is missing"
      : error.message.replace(/: tmpdir$/, "");
    throw new PermissionError(
      `Cannot write the outputs into "${relative(workdir, wanted) || "."}": ${why}` +
        (folder === wanted ? "" : ` (in "${relative(workdir, folder) || "."}")`),
      {
        cause: error,
        hint: "Make the output folder writable by this user, or name another in --context",
        details: { path: wanted },
      },
    );
  }
}

/**
 * A sandbox started ahead that ended before its gate let the run through (see
 * `ExecResult.gatePassed`): it died while it waited, or as it was released (a start that failed
 * late, a process killed). Nothing of the script ran, and nothing of the run was judged; the run
 * may start afresh.
 */
export class HeldStartLost extends Error {
  /** What the started sandbox did. */
  readonly exec: ExecResult;

  constructor(exec: ExecResult) {
    super(
      `The sandbox started ahead ended before its run (exit ${exec.code}): ` +
        (exec.stderr.trim().split("\n").at(-1) ?? ""),
    );
    this.name = "HeldStartLost";
    this.exec = exec;
  }
}

/**
 * A plan made ready to run: its temp dir, the outputs' staging copies and the context file
 * written, its command wrapped and, held, already started at its gate.
 */
export interface Staged {
  /** The plan it was staged for. */
  readonly plan: Plan;
  /** The wrapped command. */
  readonly wrapped: WrappedCommand;
  /** The command started ahead, waiting at its gate (a held stage only). */
  readonly held?: HeldCommand;
  /** Outputs written in place or copied out. */
  readonly mode: "copy-out" | "in-place";
  /**
   * Undoes the stage: kills a held command, closes the backend's helpers, removes the temp dir (or
   * hands it to `removeLater`).
   */
  dispose(removeLater?: (folder: string) => void): Promise<void>;
  /** `dispose()` for a process that is exiting: synchronous, best effort. */
  abandon(): void;
}

/**
 * Checks that what staging a plan makes stays where a plan's own things go: the context file, the
 * staging copies and the script's copy in its temp dir (the copy exactly at `<tmp>/entry/<name>`),
 * each output below the workdir and the command started there. `planRun` makes no other plan; one
 * read back from a file (a remembered plan, see run/remembered.ts) is staged before it is compared
 * with a fresh one, and must not write anywhere else meanwhile.
 *
 * @throws {Error} naming the path that leaves its place.
 */
export function checkPlanPaths(plan: Plan): void {
  const { tmpDir, workdir } = plan.policy;
  const below = (path: string, folder: string) => path !== folder && isInside(path, folder);
  const misplaced: string[] = [];
  if (!below(plan.contextFile, tmpDir)) misplaced.push(plan.contextFile);
  if (dirname(plan.script.copy) !== join(tmpDir, "entry")) misplaced.push(plan.script.copy);
  if (plan.command.cwd !== workdir) misplaced.push(plan.command.cwd ?? "(no working directory)");
  for (const output of plan.outputs) {
    if (!below(output.staging, tmpDir) || !below(output.target, workdir)) {
      misplaced.push(output.target);
    }
  }
  if (misplaced.length > 0) throw new Error(`the plan leaves its places: ${misplaced.join(", ")}`);
}

/**
 * Stages a plan: creates the temp dir (private), the output folders and the outputs' staging
 * copies, writes the context file and the script's verified copy, and wraps the command. With
 * `held` (a backend that `holds`), also starts the command, which then waits at its gate until
 * {@linkcode runStaged} releases it.
 *
 * @throws {ExecError} when an output folder cannot be created.
 */
export async function stage(
  plan: Plan,
  backend: SandboxBackend,
  options: { held?: boolean } = {},
): Promise<Staged> {
  checkPlanPaths(plan);
  const { tmpDir, workdir } = plan.policy;
  const mode = outputModeOf(backend);
  let created = false;
  let wrapped: WrappedCommand | undefined;
  let held: HeldCommand | undefined;
  /** Empty files made as mount points for single-file outputs, removed unless replaced. */
  const placeholders: { path: string; ino: number | null }[] = [];
  let disposed: Promise<void> | undefined;
  const dispose = (removeLater?: (folder: string) => void): Promise<void> =>
    disposed ??= (async () => {
      await held?.discard();
      await wrapped?.close();
      if (created && removeLater) removeLater(tmpDir);
      else if (created) await removeIfExists(tmpDir).catch(() => {});
      for (const { path, ino } of placeholders) {
        const info = await lstatOrNull(path);
        if (info?.isFile && info.ino === ino && info.size === 0) {
          await Deno.remove(path).catch(() => {});
        }
      }
    })();
  try {
    // A handful of small local file operations: synchronous, microseconds each.
    Deno.mkdirSync(tmpDir, { mode: 0o700 });
    created = true;
    let policy = plan.policy;
    for (const output of plan.outputs) {
      if (output.kind !== "dir") continue;
      await makeFolders(workdir, output.target).catch((error) => {
        // A folder this user cannot write (denied, a read-only file system) is said so, as a
        // PermissionError naming it; what is left is something in the way.
        checkOutputFolders([output.target], workdir);
        throw new ExecError(
          `Cannot create the output folder "${output.target}": ${error.message}`,
          {
            cause: error,
            hint: "Remove what is in its way (a symlink, a file), then run again",
          },
        );
      });
    }
    if (mode === "copy-out") {
      // Modes the user's umask cannot widen (a folder others may write is never lent).
      Deno.mkdirSync(join(tmpDir, "outputs"), { mode: 0o755 });
      for (const output of plan.outputs) {
        if (output.kind === "dir") {
          Deno.mkdirSync(output.staging, { mode: 0o755 });
          continue;
        }
        Deno.writeFileSync(output.staging, new Uint8Array(), { createNew: true, mode: 0o600 });
        if (!lstatSyncOrNull(output.target)) {
          const file = await Deno.open(output.target, { createNew: true, write: true });
          placeholders.push({ path: output.target, ino: (await file.stat()).ino });
          file.close();
        }
      }
      policy = {
        ...policy,
        stage: plan.outputs.map((o) => ({ source: o.staging, target: o.target })),
      };
    } else {
      policy = { ...policy, write: [...plan.outputs.map((o) => o.target), ...policy.write] };
    }
    Deno.writeTextFileSync(plan.contextFile, plan.contextJson);
    const hold = options.held === true && backend.holds === true;
    wrapped = await backend.wrap(plan.command, policy, hold ? { held: true } : {});
    if (hold) {
      if (!wrapped.held) throw new Error("the backend did not hold the command");
      held = holdCommand(wrapped.spec, wrapped.gateSign);
    }
    // The script runs from a copy of the bytes its manifest verified (see Plan.script), written
    // while a held command starts (it reads nothing of the script before its gate opens). Made
    // after the temp dir is lent to the sandbox's uid (as root): the copy and its folder stay
    // Capibara's, readable, so no process of that uid can change them. The modes are set again
    // after making: mkdir and write apply the process's umask to them.
    const script = await verifiedBytes(plan.script.source, plan.script.sha256);
    Deno.mkdirSync(dirname(plan.script.copy), { mode: 0o755 });
    Deno.chmodSync(dirname(plan.script.copy), 0o755);
    Deno.writeFileSync(plan.script.copy, script, { createNew: true, mode: 0o444 });
    Deno.chmodSync(plan.script.copy, 0o444);
    const abandon = () => {
      if (disposed) return;
      disposed = Promise.resolve();
      // A command that ended on its own is not killed: its process group may be another's now.
      if (held?.waiting) {
        try {
          Deno.kill(-held.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      wrapped?.abandon?.();
      try {
        removeIfExistsSync(tmpDir);
      } catch {
        // swept later
      }
    };
    return { plan, wrapped, held, mode, dispose, abandon };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Runs a plan under a backend: {@linkcode stage}, then {@linkcode runStaged}.
 *
 * @throws {PermissionError} when the interpreter (or the backend's program) cannot start.
 * @throws {ExecError} when the script wrote past the staging bounds, or an artifact is refused.
 */
export async function execute(
  plan: Plan,
  backend: SandboxBackend,
  options: ExecuteOptions,
): Promise<Execution> {
  return await runStaged(await stage(plan, backend), options);
}

/**
 * Runs a staged plan (releases a held one) under the time limit, output cap and staging bounds,
 * reads what the limits saw, closes the backend's helpers, then (with `accept`) moves the
 * accepted artifacts into the project and removes the temp dir: the stage is disposed of when
 * this returns, whatever happened.
 *
 * Never throws for the script's own failures but a staging bound: those are in the returned
 * `exec`, for `accept` (the result step) to judge.
 *
 * @throws {PermissionError} when the interpreter (or the backend's program) cannot start.
 * @throws {ExecError} when the script wrote past the staging bounds, or an artifact is refused.
 */
export async function runStaged(staged: Staged, options: ExecuteOptions): Promise<Execution> {
  const { plan, wrapped, mode } = staged;
  const { tmpDir, workdir } = plan.policy;
  const bounds: StagingLimits = { ...DEFAULT_STAGING_LIMITS, ...options.staging };
  try {
    // Where the outputs go once the script is done: found closed only then, its work was lost.
    if (mode === "copy-out") {
      checkOutputFolders(plan.outputs.map((o) => o.kind === "dir" ? o.target : workdir), workdir);
    }
    step(staged.held ? "the sandbox started ahead, released" : "sandbox set-up");
    // Outputs written in place count too, beyond what they held before the run.
    const inPlace = mode === "in-place" ? plan.outputs.map((o) => o.target) : [];
    // Closed folders are opened again only before and after the run (see measureTree).
    const before = sum(inPlace.map((path) => measureTree(path, undefined, { reopen: true })));
    const usage = (reopen = false): StagingLimits => {
      const stopAt = { bytes: before.bytes + bounds.bytes, files: before.files + bounds.files };
      const used = sum([tmpDir, ...inPlace].map((path) => measureTree(path, stopAt, { reopen })));
      return { bytes: used.bytes - before.bytes, files: used.files - before.files };
    };

    // The staging bounds hold while the script runs: measured, and the run killed past them;
    // files it removed but still holds open or mapped count too.
    const processes: WatchedProcesses = {
      pid: staged.held?.pid,
      devices: devicesOf([tmpDir, ...inPlace]),
    };
    const watch = watchUsage(() => usage(), bounds, STAGING_SAMPLE_MS, options.signal, processes);
    let exceeded: StagingLimits | undefined;
    // Where the script could make a .git, .capibara or shell file that is not there yet.
    const absent = plantablePaths(plan.policy);
    /** When the script began: what changed in what it could write since then is its doing. */
    const began = Date.now();
    let exec: ExecResult;
    try {
      const execOptions = {
        timeoutMs: options.timeoutMs,
        maxOutputBytes: options.maxOutputBytes,
        signal: watch.signal,
        onStderr: options.onStderr,
        onSpawn: (pid: number) => processes.pid = pid,
      };
      exec = staged.held
        ? await staged.held.release(execOptions)
        : await execCommand(wrapped.spec, execOptions);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new PermissionError(`Cannot start "${wrapped.spec.program}": not found`, {
          cause: error,
          hint: `Install the ${plan.runtimeName} runtime`,
        });
      }
      throw error;
    } finally {
      exceeded = await watch.end();
    }
    if (
      staged.held && exec.gatePassed === false && !exec.cancelled && !exec.timedOut &&
      !exec.outputTruncated
    ) {
      throw new HeldStartLost(exec);
    }
    step("the script, in the sandbox");
    let limits: LimitsHit | undefined;
    if (exec.code !== 0 && wrapped.usage) {
      const usage = await wrapped.usage();
      limits = {
        memory: usage.memoryLimitHit ? plan.policy.memoryBytes : undefined,
        processes: usage.processLimitHit ? plan.policy.maxProcesses : undefined,
      };
    }
    // Every process of the run is gone before its outputs are looked at.
    await wrapped.close();
    const writtenInPlace = [...inPlace, ...plan.policy.write];
    const changed: { path: string; opaque?: boolean }[] = [];
    await closeToOthers(
      writtenInPlace,
      began,
      (path, opaque) => changed.push({ path, opaque }),
    );
    checkUnplanted(absent);
    checkMadeInPlace(
      changed,
      { outputs: inPlace, grants: plan.policy.write },
      plan.declaredOutputs,
      plan.policy.protect,
      began,
    );
    step("sandbox teardown");
    const after = usage(true);
    if (pastBounds(after, bounds)) exceeded ??= after;
    if (exceeded) throw stagingError(bounds, exceeded);

    const execution: Execution = { exec, limits };
    if (!options.accept) return execution;
    const artifacts = await options.accept(execution);
    step("the result judged");
    execution.artifacts = mode === "copy-out"
      ? await copyOut(artifacts, {
        workdir,
        outputs: plan.outputs,
        stagingRoot: tmpDir,
        declared: plan.declaredOutputs,
        inPlace: plan.policy.write,
        signal: options.signal,
      })
      : [...artifacts];
    step("outputs moved into the project");
    return execution;
  } finally {
    await staged.dispose(options.removeLater);
  }
}
