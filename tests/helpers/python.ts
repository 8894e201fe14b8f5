/**
 * The host's Python as the tests start it: the real interpreter behind `python3` on PATH, looked
 * up once per test file. A version manager's shim (pyenv's is a chain of shell scripts) costs each
 * start some 60 ms here; the tests start Python hundreds of times, and what they test is not the
 * shim. The product's own look-up of `python3` through a shim is tested where a test leaves PATH
 * as it is (the runtime's and the checks' tests, with this process's PATH).
 *
 * @module
 */
import { delimiter, dirname } from "node:path";

const PATH = Deno.env.get("PATH") ?? "/usr/bin:/bin";

async function realPython(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-I", "-S", "-c", "import os, sys; print(os.path.realpath(sys.executable))"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const path = new TextDecoder().decode(out.stdout).trim();
    return out.success && path.startsWith("/") ? path : undefined;
  } catch {
    return undefined; // no python3: the tests that need it say so
  }
}

/** The real interpreter behind `python3` (undefined when there is none); the command name else. */
export const PYTHON: string = (await realPython()) ?? "python3";

/** This process's PATH with the real interpreter's folder first (as an activated Python has it). */
export const PYTHON_PATH: string = PYTHON.startsWith("/")
  ? [dirname(PYTHON), ...PATH.split(delimiter).filter((d) => d !== dirname(PYTHON))].join(delimiter)
  : PATH;
