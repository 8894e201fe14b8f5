/**
 * One rule for every install of a script's packages in the sandbox (pip's, Deno's cache step):
 * what it writes is bounded while it runs, as a script's temp dir is ({@linkcode watchUsage}), so
 * a small archive that unpacks to gigabytes (a zip bomb) or millions of files is stopped and its
 * environment thrown away, not kept in the cache.
 *
 * @module
 */
import { type CommandSpec, execCommand, type ExecResult } from "../exec.ts";
import { DependencyError } from "../errors.ts";
import {
  devicesOf,
  measureTree,
  pastBounds,
  type StagingLimits,
  unmeasurable,
  type WatchedProcesses,
  watchUsage,
} from "../sandbox/copy_out.ts";
import type { SandboxBackend, SandboxPolicy } from "../sandbox/types.ts";

/** What one install may write (its environment or cache folder, and its temp dir). */
export const INSTALL_DISK_LIMITS: StagingLimits = { bytes: 10 * 1024 ** 3, files: 500_000 };

/** What an install stopped by its caller's signal (Ctrl-C) throws. */
export function installCancelled(): DependencyError {
  return new DependencyError("The install was cancelled: nothing was kept of it", {
    hint: "Run the command again to install the script's packages",
  });
}

/** How often an install's folders are measured, in milliseconds (a large venv takes a while). */
export const INSTALL_SAMPLE_MS = 250;

/**
 * Runs an install wrapped by `sandbox` under `policy`, with what it writes in `policy.write` and
 * its temp dir bounded by `limits`; the sandbox is closed after.
 *
 * @throws {DependencyError} when the install wrote past the bounds (it was killed).
 */
export async function runInstall(
  sandbox: SandboxBackend,
  spec: CommandSpec,
  policy: SandboxPolicy,
  options: {
    timeoutMs: number;
    maxOutputBytes: number;
    limits?: StagingLimits;
    signal?: AbortSignal;
  },
): Promise<ExecResult> {
  const limits = options.limits ?? INSTALL_DISK_LIMITS;
  const roots = [...policy.write, policy.tmpDir];
  // Closed folders are opened again only before and after the install (see measureTree): once
  // the sandbox's launcher has ended, its pid namespace holds no process any more.
  const before = roots.map((root) => measureTree(root, undefined, { reopen: true }));
  const usage = (reopen = false): StagingLimits => {
    let bytes = 0;
    let files = 0;
    roots.forEach((root, i) => {
      const was = before[i]!;
      const now = measureTree(root, {
        bytes: was.bytes + limits.bytes,
        files: was.files + limits.files,
      }, { reopen });
      bytes += Math.max(0, now.bytes - was.bytes);
      files += Math.max(0, now.files - was.files);
    });
    return { bytes, files };
  };
  const wrapped = await sandbox.wrap(spec, policy);
  let exceeded: StagingLimits | undefined;
  let result: ExecResult;
  try {
    // Files the install removed but still holds open or mapped count too.
    const processes: WatchedProcesses = { devices: devicesOf(roots) };
    const watch = watchUsage(() => usage(), limits, INSTALL_SAMPLE_MS, undefined, processes);
    try {
      result = await execCommand(wrapped.spec, {
        timeoutMs: options.timeoutMs,
        maxOutputBytes: options.maxOutputBytes,
        signal: options.signal ? AbortSignal.any([watch.signal, options.signal]) : watch.signal,
        onSpawn: (pid) => processes.pid = pid,
      });
    } finally {
      exceeded = await watch.end();
    }
    // Once more after its end: what it wrote between the last sample and its end counts too.
    const after = usage(true);
    if (pastBounds(after, limits)) exceeded ??= after;
  } finally {
    await wrapped.close();
  }
  if (options.signal?.aborted) throw installCancelled();
  if (exceeded && unmeasurable(exceeded)) {
    throw new DependencyError(
      "Cannot install the script's packages: the install made what it wrote impossible to " +
        "measure (a folder that cannot be listed, or a removed file it holds that cannot be " +
        "looked at; it was stopped)",
      { hint: "A package that closes its own folders to reading is refused; pick other packages" },
    );
  }
  if (exceeded) {
    const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
    throw new DependencyError(
      `Cannot install the script's packages: the install wrote ${gib(exceeded.bytes)} in ` +
        `${exceeded.files.toLocaleString("en-US")} files, past its bound of ` +
        `${gib(limits.bytes)} and ${limits.files.toLocaleString("en-US")} files (it was stopped)`,
      {
        hint: "A package that unpacks to this much is refused; pick other packages, or check " +
          "what the requirements name",
        details: { bytes: exceeded.bytes, files: exceeded.files },
      },
    );
  }
  return result;
}
