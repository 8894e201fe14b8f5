/**
 * Running one subprocess with a time limit, an output cap and whole-tree kill.
 *
 * @module
 */
import { onTimeout } from "./_timer.ts";
import { concatBytes } from "./_body.ts";

/** A command ready to run: the one place a runner's command is built, so a sandbox can wrap it. */
export interface CommandSpec {
  /** Executable (absolute path or a name on PATH). */
  program: string;
  /** Arguments. */
  args: string[];
  /** The complete environment (the parent's is never inherited). */
  env: Record<string, string>;
  /** Working directory. */
  cwd: string;
}

/** Options of {@linkcode execCommand}. */
export interface ExecOptions {
  /** Wall time limit in milliseconds; the whole process group is killed past it. */
  timeoutMs: number;
  /** Combined stdout+stderr bytes kept; past it the process is killed and `outputTruncated` set. */
  maxOutputBytes?: number;
  /** Cancels the run (the process group is killed). */
  signal?: AbortSignal;
  /** Receives the stderr bytes kept, as they arrive (they are still returned in full too). */
  onStderr?: (chunk: Uint8Array) => void;
  /** Told the process id once the command started ({@linkcode execCommand} only). */
  onSpawn?: (pid: number) => void;
}

/** What a finished subprocess did. */
export interface ExecResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  /** The signal that ended it, if any. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when the time limit killed it. */
  timedOut: boolean;
  /** True when the output cap killed it. */
  outputTruncated: boolean;
  /** True when `signal` cancelled it. */
  cancelled: boolean;
  durationMs: number;
  /**
   * A held command only ({@linkcode HeldCommand.release}): whether its gate let the run through
   * (it wrote {@linkcode GATE_PASSED} on standard error). False: the command ended before, and
   * nothing it holds back (a script) ran.
   */
  gatePassed?: boolean;
}

/**
 * The byte a held command's gate writes once it let the run through, before anything it held back
 * runs; a gate that cannot write it ends the command instead. Its absence is how a release tells
 * a command that died while it waited (nothing ran: the run may start afresh) from one that ran
 * and failed. Written into a file of its own where the gate has one (see
 * {@linkcode holdCommand}'s `signFile`: the sandbox's gate writes it through a descriptor it closes
 * before the script runs, which nothing the script can reach holds), else on standard error, taken
 * out of the error output there (its first one only).
 */
export const GATE_PASSED = 0x06;

function killGroup(pid: number): void {
  try {
    // The child leads its own process group (detached), so -pid reaches every descendant
    // that did not leave the group on purpose; the sandbox's pid namespace catches those.
    Deno.kill(-pid, "SIGKILL");
  } catch {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Whether a gate wrote its sign into `file` (one byte, {@linkcode GATE_PASSED}). */
function signed(file: string): boolean {
  try {
    const bytes = Deno.readFileSync(file);
    return bytes.byteLength === 1 && bytes[0] === GATE_PASSED;
  } catch {
    return false;
  }
}

function spawn(spec: CommandSpec, stdin: "null" | "piped"): Deno.ChildProcess {
  return new Deno.Command(spec.program, {
    args: spec.args,
    cwd: spec.cwd,
    env: spec.env,
    clearEnv: true,
    stdin,
    stdout: "piped",
    stderr: "piped",
    detached: Deno.build.os !== "windows",
  }).spawn();
}

/** Run a command to completion under a time limit and an output cap. Never throws for exit codes. */
export async function execCommand(spec: CommandSpec, options: ExecOptions): Promise<ExecResult> {
  const child = spawn(spec, "null");
  options.onSpawn?.(child.pid);
  return await supervise(child, options);
}

/**
 * A command started ahead of its run and waiting at a gate: its standard input is the gate (one
 * newline releases it, end of input without one tells it to quit). The wrapped command must read
 * the gate itself before anything of the script runs (the sandbox's held start does).
 */
export interface HeldCommand {
  /** Process id of the command's leader. */
  readonly pid: number;
  /** False once it ended on its own (a failed start): it can no longer be released. */
  readonly waiting: boolean;
  /**
   * Opens the gate and supervises the command from now on, as {@linkcode execCommand} would from
   * its start (the time limit and duration count from here).
   */
  release(options: ExecOptions): Promise<ExecResult>;
  /** Kills the command's whole process group without releasing it; resolves once it ended. */
  discard(): Promise<void>;
}

/**
 * Starts `spec` held at its gate (see {@linkcode HeldCommand}). It does not keep the process
 * alive while it waits. With `signFile`, the gate writes its sign ({@linkcode GATE_PASSED}) into
 * that file, not on standard error: a script can read its own standard error's pipe (reopened
 * through `/proc/self/fd/2`) and take the byte before this process does, to be started again.
 */
export function holdCommand(spec: CommandSpec, signFile?: string): HeldCommand {
  const child = spawn(spec, "piped");
  child.unref();
  let waiting = true;
  let used = false;
  const ended = child.status.then(() => {
    waiting = false;
  });
  return {
    pid: child.pid,
    get waiting() {
      return waiting && !used;
    },
    async release(options: ExecOptions): Promise<ExecResult> {
      if (used) throw new Error("a held command is released once");
      used = true;
      child.ref();
      const result = supervise(child, options, signFile ?? true);
      const gate = child.stdin.getWriter();
      await gate.write(new Uint8Array([10])).catch(() => {});
      await gate.close().catch(() => {});
      return await result;
    },
    async discard(): Promise<void> {
      if (used) return;
      used = true;
      child.ref();
      killGroup(child.pid);
      await child.stdin.close().catch(() => {});
      await Promise.all([child.stdout.cancel(), child.stderr.cancel()]).catch(() => {});
      await ended;
    },
  };
}

/**
 * Supervises a started child to its end: time limit, cancellation, output cap, group kill. A
 * released held command's is `gated`: its gate's sign is looked for on standard error (true) or
 * in the file named.
 */
async function supervise(
  child: Deno.ChildProcess,
  options: ExecOptions,
  gated: boolean | string = false,
): Promise<ExecResult> {
  const started = performance.now();
  /** Whether the gate's byte was seen (and taken out): a held command's only. */
  let gatePassed = false;
  const maxBytes = options.maxOutputBytes ?? Infinity;

  let timedOut = false;
  let outputTruncated = false;
  let cancelled = false;
  let total = 0;
  const kill = () => killGroup(child.pid);

  const cancelTimer = onTimeout(options.timeoutMs, () => {
    timedOut = true;
    kill();
  });
  const onAbort = () => {
    cancelled = true;
    kill();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // Cancelled before it was started (or released): it ends at once, as one cancelled later would.
  if (options.signal?.aborted) onAbort();

  async function collect(
    stream: ReadableStream<Uint8Array>,
    onChunkGiven?: (chunk: Uint8Array) => void,
    gate = false,
  ): Promise<string> {
    // The caller's own callback (an SDK's onStderr): what it throws is its own, and must neither
    // stop the reading (the script would block on a full pipe) nor reject this promise while
    // the run is awaited elsewhere (an unhandled rejection ends the caller's program).
    const onChunk = onChunkGiven &&
      ((chunk: Uint8Array) => {
        try {
          // An async callback's rejection is its own too.
          const returned: unknown = onChunkGiven(chunk);
          if (returned instanceof Promise) returned.catch(() => {});
        } catch {
          // ignored
        }
      });
    const chunks: Uint8Array[] = [];
    for await (let chunk of stream) {
      if (gate && !gatePassed) {
        // The gate writes before anything it held back: its byte is the first of its kind.
        const at = chunk.indexOf(GATE_PASSED);
        if (at >= 0) {
          gatePassed = true;
          const rest = new Uint8Array(chunk.byteLength - 1);
          rest.set(chunk.subarray(0, at));
          rest.set(chunk.subarray(at + 1), at);
          chunk = rest;
        }
      }
      if (outputTruncated || chunk.byteLength === 0) continue;
      const room = maxBytes - total;
      if (chunk.byteLength > room) {
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        onChunk?.(chunk.subarray(0, Math.max(0, room)));
        total = maxBytes;
        outputTruncated = true;
        kill();
        continue;
      }
      total += chunk.byteLength;
      chunks.push(chunk);
      onChunk?.(chunk);
    }
    return new TextDecoder().decode(concatBytes(chunks));
  }

  try {
    const out = collect(child.stdout);
    const err = collect(child.stderr, options.onStderr, gated === true);
    const status = await child.status;
    if (typeof gated === "string") gatePassed = signed(gated);
    // Whatever the leader left behind (a daemon holding our pipes, say) dies with it: nothing of
    // the group may outlive the run.
    killGroup(child.pid);
    const [stdout, stderr] = await Promise.all([out, err]);
    return {
      code: status.code,
      signal: status.signal,
      stdout,
      stderr,
      timedOut,
      outputTruncated,
      cancelled,
      durationMs: performance.now() - started,
      ...gated ? { gatePassed } : {},
    };
  } finally {
    cancelTimer();
    options.signal?.removeEventListener("abort", onAbort);
  }
}
