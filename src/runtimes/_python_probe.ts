/**
 * The one look at a host Python: its version, prefix and executable, asked of the interpreter
 * itself. Both the runtime (which builds environments with it) and the static checks (which parse
 * a script with it, in the sandbox) ask here, so a generation starts the interpreter once for
 * both, and both see the same Python.
 *
 * @module
 */
import * as z from "../_shape.ts";
import { DependencyError, tail } from "../errors.ts";
import { fileIdentity } from "../_fs.ts";
import { Memo } from "../_memo.ts";
import { execCommand, type ExecResult } from "../exec.ts";

/** What an interpreter says of itself. */
export interface PythonProbe {
  /** `major.minor`. */
  version: string;
  /** `sys.base_prefix` (the installation a venv was made from), and its real path. */
  basePrefix: string;
  realBasePrefix: string;
  /** `sys.executable`, and its real path (pyenv's shims and venv links resolved). */
  executable: string;
  realExecutable: string;
}

/** A probe kept for the process, when it was made, and its real executable's identity then. */
interface SharedProbe {
  probe: PythonProbe;
  at: number;
  identity: string;
}

/** Probes of this process, per interpreter command and look-up environment. */
const PROBES = new Memo<string, SharedProbe>();
/** How long a probe is reused: a long-lived process (the runner, a Core) sees a new Python. */
const PROBE_REUSE_MS = 60_000;
const PROBE_TIMEOUT_MS = 30_000;

const PROBE_CODE = "import json, os, sys; print(json.dumps([sys.version_info[0], " +
  "sys.version_info[1], sys.base_prefix, os.path.realpath(sys.base_prefix), sys.executable, " +
  "os.path.realpath(sys.executable)]))";

const ProbeReply = z.tuple([
  z.number(),
  z.number(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
]);

/**
 * The variables the look-up needs, of `env`: PATH and HOME (pyenv's shims), pyenv's own, the
 * locale; nothing of the project, the user's site-packages or PYTHON* variables.
 */
function probeEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const picked: Record<string, string> = { PYTHONDONTWRITEBYTECODE: "1" };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (["PATH", "HOME", "LANG", "SYSTEMROOT"].includes(name) || /^(LC_|PYENV)/.test(name)) {
      picked[name] = value;
    }
  }
  return picked;
}

/** The real executable's identity; "" when it is gone. */
function identity(probe: PythonProbe): string {
  try {
    return fileIdentity(probe.realExecutable);
  } catch {
    return "";
  }
}

/**
 * What `python` (a name looked up on `env`'s PATH, or a path) says of itself: shared by the
 * callers of this process that name the same command with the same look-up variables, reused for
 * a minute while the real executable is the same file (a changed Python is seen). A failure is
 * never kept: the user may install Python and retry in a long-lived process.
 *
 * @throws {DependencyError} when it does not start, fails, or is not Python 3
 */
export async function probePython(
  python: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<PythonProbe> {
  const lookup = probeEnv(env);
  const key = JSON.stringify([python, Object.entries(lookup).sort()]);
  const known = await PROBES.getWhile(
    key,
    async () => {
      const probe = await probeNow(python, lookup);
      return { probe, at: Date.now(), identity: identity(probe) };
    },
    (known) => Date.now() - known.at <= PROBE_REUSE_MS && identity(known.probe) === known.identity,
  );
  return known.probe;
}

async function probeNow(python: string, env: Record<string, string>): Promise<PythonProbe> {
  // Isolated and without site (-I -S), from a neutral directory: nothing of the project, the
  // user's site-packages or PYTHON* variables is imported.
  let result: ExecResult;
  try {
    result = await execCommand({
      program: python,
      args: ["-I", "-S", "-c", PROBE_CODE],
      env,
      cwd: "/",
    }, { timeoutMs: PROBE_TIMEOUT_MS });
  } catch (error) {
    throw spawnFailure(error, python) ?? error;
  }
  if (result.code === 0) {
    let reply: unknown;
    try {
      reply = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
    } catch {
      // reported below
    }
    const parsed = ProbeReply.safeParse(reply);
    if (parsed.success) {
      const [major, minor, basePrefix, realBasePrefix, executable, realExecutable] = parsed.data;
      if (major !== 3) {
        throw new DependencyError(`Cannot use Python ${major}.${minor}: Python 3 is required`, {
          hint: `Install Python 3 and make sure "${python}" runs it`,
        });
      }
      return {
        version: `${major}.${minor}`,
        basePrefix,
        realBasePrefix,
        executable,
        realExecutable,
      };
    }
  }
  throw new DependencyError(
    `Cannot run Python: "${python}" failed: ${pythonReason(result.stderr || result.stdout)}`,
    {
      hint: `Install Python 3 and make sure "${python}" is on PATH and runs`,
      details: { python, exit_code: result.code, stderr: tail(result.stderr) },
    },
  );
}

/** pip's or Python's own reason: its `ERROR:` lines, else the last line of its output. */
export function pythonReason(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  const errors = lines
    .filter((l) => /^error:/i.test(l))
    .map((l) => l.replace(/^error:\s*/i, ""))
    .filter((l) => l);
  const picked = errors.length ? [...new Set(errors)].slice(0, 3) : lines.slice(-1);
  return picked.join("; ") || "pip gave no reason";
}

/** A start that failed because the program is not there or cannot run, as a DependencyError. */
export function spawnFailure(error: unknown, program: string): DependencyError | undefined {
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
