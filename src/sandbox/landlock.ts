/**
 * The Landlock step of the Linux sandbox (`landlock.py`, which says what it closes and why): the
 * command line that starts a program inside bubblewrap with the rule set applied first.
 *
 * - A Python script (`python SCRIPT ARGS…`) is run by its own interpreter, isolated (`-I -S`), which
 *   restricts itself and then runs the script in the same process: no second interpreter start.
 * - Any other program is started by a Python that restricts itself, then becomes that program:
 *   the program's own interpreter when it is a Python, else the system's `/usr/bin/python3`.
 * - Without a Python to do it (no `/usr/bin/python3` for a bash script), the program starts as it
 *   is; `capibara doctor` says so.
 *
 * @module
 */
import LANDLOCK_PY from "./landlock.py" with { type: "text" };
import { lstatSyncOrNull, readTextSyncOrNull } from "../_fs.ts";
import { execCommand } from "../exec.ts";

/** The Python that restricts programs that are not themselves Python. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

const PYTHON_NAME = /(^|\/)python(\d+(\.\d+)?)?$/;

/** Whether `program` names a Python interpreter (`python`, `python3`, `…/bin/python3.11`). */
function isPython(program: string): boolean {
  return PYTHON_NAME.test(program);
}

let systemPython: boolean | undefined;

/**
 * Whether the system's Python exists and lives under `/usr`, which the sandbox shows read-only (a
 * link to `/opt/…` would lead nowhere inside, and every program started through it would fail).
 */
export function systemPythonInside(): boolean {
  if (lstatSyncOrNull(SYSTEM_PYTHON) === null) return false;
  try {
    return Deno.realPathSync(SYSTEM_PYTHON).startsWith("/usr/");
  } catch {
    return false;
  }
}

/**
 * A held step's descriptors: it waits for the run's release (one newline) on `gate`, then writes
 * its sign (exec.ts's `GATE_PASSED`) on `sign` (standard error, 2, when not given) and closes
 * both, before anything it held back runs.
 */
export interface StepGate {
  gate: number;
  sign?: number;
}

/**
 * The command that runs `program args…` under the Landlock rule set, or undefined when no Python
 * can apply it here. With `held`, the step waits for the run's release after restricting itself
 * and before anything of the program runs. Symbolic links may be made below `links` only (paths
 * as the sandbox shows them, each `DEV:INO:PATH` with the device and inode it must lead to, or
 * `:PATH`): the run's own temp dir and staged outputs, never a folder written in place.
 */
export function landlockCommand(
  program: string,
  args: readonly string[],
  held?: StepGate,
  env?: Record<string, string | undefined>,
  links: readonly string[] = [],
): string[] | undefined {
  const boot = [...stepArgs(held, env), ...links.map((dir) => `--links=${dir}`)];
  if (isPython(program)) {
    const first = args[0];
    if (first !== undefined && !first.startsWith("-")) {
      return [program, ...boot, "script", ...args];
    }
    return [program, ...boot, "exec", program, ...args];
  }
  if (!systemPythonUsable()) return undefined;
  return [SYSTEM_PYTHON, ...boot, "exec", program, ...args];
}

/**
 * The step's interpreter flags and source, its gate when held, and, given the environment of what
 * it starts, that environment's `LC_CTYPE` (Python sets one of its own when the locale is C).
 */
function stepArgs(
  held: StepGate | undefined,
  env?: Record<string, string | undefined>,
): string[] {
  const lcCtype = env === undefined
    ? []
    : env.LC_CTYPE === undefined
    ? ["--no-lc-ctype"]
    : [`--lc-ctype=${env.LC_CTYPE}`];
  return [
    "-I",
    "-S",
    "-c",
    LANDLOCK_PY,
    ...held === undefined ? [] : [`--held=${held.gate},${held.sign ?? 2}`],
    ...lcCtype,
  ];
}

/** {@linkcode systemPythonInside}, looked at once. */
function systemPythonUsable(): boolean {
  systemPython ??= systemPythonInside();
  return systemPython;
}

/** `O_CLOEXEC` in the `flags` of `/proc/self/fdinfo/<fd>` (octal there). */
const O_CLOEXEC = 0o2000000;

/** The null device's number (major 1, minor 3), as `stat` gives it. */
const NULL_DEVICE = 0x103;

/** Whether descriptor `fd` of this process is open on the null device (`/dev/null`). */
function onNullDevice(fd: number): boolean {
  try {
    // The descriptor's own file, not a path's: the link in /proc leads to what it holds.
    const info = Deno.statSync(`/proc/self/fd/${fd}`);
    return info.isCharDevice === true && info.rdev === NULL_DEVICE;
  } catch {
    return false;
  }
}

/**
 * Whether this process holds a descriptor above standard error that a program it starts would
 * inherit: one its parent left open without close-on-exec (a shell's `exec 7<file`, a build tool's
 * pipe), or one a native library of the host program opened so. Deno opens every other descriptor
 * of its own close-on-exec. One on the null device gives nothing and holds no one up, so a run does
 * not pay a closing step for it (Deno itself keeps one open without close-on-exec); a program that
 * lives on (`lifelong`: the runner) is started with none at all. Looked at before each start
 * (≈ 0.5 ms): one may be opened at any time.
 */
export function inheritsDescriptors(options: { lifelong?: boolean } = {}): boolean {
  try {
    for (const entry of Deno.readDirSync("/proc/self/fdinfo")) {
      const fd = Number(entry.name);
      if (!(fd > 2)) continue;
      const text = readTextSyncOrNull(`/proc/self/fdinfo/${fd}`);
      if (text === null) continue; // closed meanwhile (the listing's own descriptor)
      const flags = /^flags:\s*([0-7]+)/m.exec(text)?.[1];
      if (flags === undefined || (parseInt(flags, 8) & O_CLOEXEC) !== 0) continue;
      if (options.lifelong || !onNullDevice(fd)) return true;
    }
  } catch {
    // no /proc: nothing known
  }
  return false;
}

/**
 * The command that starts `program args…` (a program that scopes its own reads: Deno) after
 * closing every descriptor it would inherit above standard error, and, with `held`, after the
 * run's release; undefined when no Python can do it here. Given `links` (as
 * {@linkcode landlockCommand} takes them), a Landlock rule set keeps symbolic links out of every
 * other folder first: Deno refuses a script `Deno.symlink` with scoped permissions, but not
 * `Deno.rename` or `Deno.link` of a link already in a folder it writes in place.
 */
export function bareCommand(
  program: string,
  args: readonly string[],
  held?: StepGate,
  env?: Record<string, string | undefined>,
  links: readonly string[] = [],
): string[] | undefined {
  if (!systemPythonUsable()) return undefined;
  return [
    SYSTEM_PYTHON,
    ...stepArgs(held, env),
    ...links.map((dir) => `--links=${dir}`),
    "bare",
    program,
    ...args,
  ];
}

/**
 * The Landlock ABI version this kernel offers (0: none), asked of `python` on the host; undefined
 * when no Python could answer. For `capibara doctor`.
 */
export async function landlockAbi(python: string = SYSTEM_PYTHON): Promise<number | undefined> {
  try {
    const { code, stdout } = await execCommand(
      { program: python, args: ["-I", "-S", "-c", LANDLOCK_PY, "abi"], env: {}, cwd: "/" },
      { timeoutMs: 10_000 },
    );
    if (code !== 0) return undefined;
    const abi = Number(stdout.trim());
    return Number.isInteger(abi) ? abi : undefined;
  } catch {
    return undefined;
  }
}
