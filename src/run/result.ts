/**
 * The result of a run: the script's final stdout line checked against the output contract, every
 * failure turned into an `ExecError`, and `select` applied through the manifest's aliases.
 *
 * @module
 */
import { DEFAULTS } from "../config.ts";
import { ExecError, tail } from "../errors.ts";
import type { ExecResult } from "../exec.ts";
import { ScriptOutput as ScriptOutputSchema } from "../schema.ts";
import type { Manifest, ScriptOutput } from "../types.ts";
import { checkArtifacts } from "../sandbox/policy.ts";
import { relative, resolve } from "../_path.ts";
import { shellWord } from "../readme.ts";
import { isInside, lstatSyncOrNull, realPathSyncOrNull } from "../_fs.ts";

/** Which sandbox limits a failed run hit (their values), as the backend measured them. */
export interface LimitsHit {
  memory?: number;
  processes?: number;
}

/**
 * Limits of the final stdout line, checked before it is parsed: a line a script writes is
 * untrusted, and one nested thousands deep would overflow the stack of whatever walks it next.
 */
export const OUTPUT_LIMITS = {
  /** Bytes of the line (UTF-8). Large results belong in an output file. */
  maxBytes: 1024 ** 2,
  /** Nesting depth of objects and arrays. */
  maxDepth: 64,
  /** Keys and array elements, counted over the whole line. */
  maxItems: 100_000,
} as const;

/**
 * Why a line breaks {@linkcode OUTPUT_LIMITS}, or undefined when it keeps them. One pass over the
 * text, outside strings: depth by brackets, items by commas (each container's first item is
 * counted with the container).
 */
export function outputLimitProblem(line: string): string | undefined {
  const { maxBytes, maxDepth, maxItems } = OUTPUT_LIMITS;
  // A character is at most 3 UTF-8 bytes (a surrogate pair, 4 bytes for 2): encode only near the cap.
  if (line.length * 3 > maxBytes && new TextEncoder().encode(line).length > maxBytes) {
    return `its last line is larger than ${maxBytes / 1024 ** 2} MiB`;
  }
  let depth = 0;
  let items = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > maxDepth) return `its last line is nested deeper than ${maxDepth} levels`;
      if (++items > maxItems) return `its last line holds more than ${maxItems} keys and elements`;
    } else if (c === 0x5d || c === 0x7d) depth--; // ] }
    else if (c === 0x2c && ++items > maxItems) { // ,
      return `its last line holds more than ${maxItems} keys and elements`;
    }
  }
  return undefined;
}

/** Parses the script's final stdout line, turning every failure into an `ExecError`. */
export function parseScriptOutput(
  exec: ExecResult,
  timeoutSeconds: number,
  limits?: LimitsHit,
  maxOutputBytes: number = DEFAULTS.maxOutputBytes,
): ScriptOutput {
  const stderrTail = tail(exec.stderr);
  const details = { exit_code: exec.code, stderr: stderrTail };
  const withStderr = (text: string) => stderrTail ? `${text}\n${stderrTail}` : text;
  if (exec.timedOut) {
    throw new ExecError(withStderr(`Script timed out after ${timeoutSeconds} s`), {
      hint: "Raise the limit with --timeout <seconds>, or check the script for an endless loop",
      details,
    });
  }
  if (exec.cancelled) throw new ExecError("Script was cancelled", { details });
  if (exec.outputTruncated) {
    throw new ExecError(
      withStderr(
        `Script printed more than ${maxOutputBytes / 1024 ** 2} MiB: output was cut`,
      ),
      { hint: "Scripts should write large data to an output file, not stdout", details },
    );
  }
  const last = exec.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "").at(-1);
  let parsed: ScriptOutput | undefined;
  let problem = "";
  if (last === undefined) {
    problem = "it printed nothing on stdout";
  } else {
    // The limits are checked before anything walks the value.
    problem = outputLimitProblem(last) ?? "";
    if (problem === "") {
      try {
        const result = ScriptOutputSchema.safeParse(JSON.parse(last));
        if (result.success) parsed = result.data;
        else problem = `its last line is not a status object (${result.error.issues[0]?.message})`;
      } catch {
        problem = `its last line is not JSON: ${JSON.stringify(last.slice(0, 200))}`;
      }
    }
  }
  if (limits?.memory !== undefined) {
    throw new ExecError(
      withStderr(
        `Script exceeded the memory limit of ${Math.round(limits.memory / 1024 ** 2)} MiB`,
      ),
      { hint: "Raise it with --memory <MiB> if the script really needs more", details },
    );
  }
  if (exec.code !== 0 && limits?.processes !== undefined) {
    throw new ExecError(
      withStderr(`Script hit the process limit of ${limits.processes}`),
      { hint: "Scripts may not start that many processes or threads", details },
    );
  }
  // bubblewrap says why it could not set the sandbox up, and exits 1: the script never ran, and
  // regenerating it would change nothing (a script that prints the same only misleads itself).
  if (exec.code === 1 && exec.stdout.trim() === "" && exec.stderr.startsWith("bwrap: ")) {
    throw new ExecError(withStderr("The sandbox could not be set up: the script did not run"), {
      hint: "Read bubblewrap's message above (capibara doctor checks the sandbox). A mount " +
        "point it cannot make: a granted folder holds the working directory below a folder the " +
        "sandbox's uid cannot enter (a root run's is not root); grant a folder nearer the inputs",
      details,
    });
  }
  if (exec.code !== 0) {
    const reason = parsed?.error ? `: ${parsed.error}` : "";
    const how = exec.signal ? `was killed by ${exec.signal}` : `exited with code ${exec.code}`;
    throw new ExecError(withStderr(`Script ${how}${reason}`), {
      hint: exec.signal === "SIGKILL"
        ? "It may have hit the memory or process limit"
        : stderrTail
        ? "Read the script's stderr above; run it with --refresh to regenerate it if it is wrong"
        : "It printed nothing on stderr; run it with --refresh to regenerate it if it is wrong",
      details,
    });
  }
  if (!parsed) {
    throw new ExecError(withStderr(`Script broke the output contract: ${problem}`), {
      hint: 'The last non-empty stdout line must be {"status": "ok", "artifacts": [], ' +
        '"output": {}, "raw": {}}; regenerate it with --refresh',
      details,
    });
  }
  if (parsed.status === "error") {
    throw new ExecError(withStderr(`Script reported an error: ${parsed.error ?? "no reason"}`), {
      hint: "Check the context it was given",
      details: { ...details, output: parsed.output, raw: parsed.raw },
    });
  }
  return parsed;
}

/**
 * Keeps the selected keys of `output`. A key is looked up in `output`, then through the
 * manifest's aliases (`{"precio": "price"}`: the script's `precio` answers `price`), then in
 * `raw`; a key found nowhere is `null` and listed in `missing`.
 */
export function applySelect(
  result: ScriptOutput,
  manifest: Pick<Manifest, "aliases">,
  select: string[] | undefined,
): { output: Record<string, unknown>; missing?: string[] } {
  if (!select || select.length === 0) return { output: result.output };
  const output: Record<string, unknown> = {};
  const missing: string[] = [];
  const sources = [result.output, result.raw];
  // A key asked twice is one key (`--select a,a`).
  for (const key of new Set(select)) {
    const names = [
      key,
      ...Object.entries(manifest.aliases).filter(([, canonical]) => canonical === key).map((
        [alias],
      ) => alias),
    ];
    let found = false;
    for (const source of sources) {
      const name = names.find((n) => Object.hasOwn(source, n));
      if (name !== undefined) {
        output[key] = source[name];
        found = true;
        break;
      }
    }
    if (!found) {
      output[key] = null;
      missing.push(key);
    }
  }
  return missing.length > 0 ? { output, missing } : { output };
}

/** Options of {@linkcode runResult}. */
export interface RunResultOptions {
  /** The run's time limit in seconds (named in a timeout's message). */
  timeoutSeconds: number;
  /** The output cap in bytes (named in its message). */
  maxOutputBytes?: number;
  /** Keys of `output` to keep (see {@linkcode applySelect}). */
  select?: string[];
}

/**
 * The result of a finished run: the output contract checked, every reported artifact inside the
 * writable folders, `select` applied.
 *
 * @throws {ExecError} when the script failed, timed out, hit a limit or broke the contract.
 * @throws {ValidationError} when it reported an artifact outside its outputs.
 */
export async function runResult(
  run: { exec: ExecResult; limits?: LimitsHit },
  where: {
    workdir: string;
    writeDirs: string[];
    manifest: Pick<Manifest, "aliases"> & { needs?: Pick<Manifest["needs"], "network"> };
  },
  options: RunResultOptions,
): Promise<
  {
    artifacts: string[];
    output: Record<string, unknown>;
    raw: Record<string, unknown>;
    missing?: string[];
  }
> {
  let parsed: ScriptOutput;
  try {
    parsed = parseScriptOutput(
      run.exec,
      options.timeoutSeconds,
      run.limits,
      options.maxOutputBytes,
    );
  } catch (error) {
    throw withFailureHint(
      error,
      run.exec,
      where.workdir,
      (where.manifest.needs?.network.length ?? 0) > 0,
    );
  }
  const artifacts = await checkArtifacts(parsed.artifacts, where.workdir, where.writeDirs);
  const selected = applySelect(parsed, where.manifest, options.select);
  return {
    artifacts,
    output: selected.output,
    raw: parsed.raw,
    ...(selected.missing ? { missing: selected.missing } : {}),
  };
}

/**
 * Paths a failed script could not find that are in the project: the sandbox shows the working
 * directory holding only what the run is given (its context's inputs, grants), and a script that
 * reads another file of the project (a config beside its input) finds nothing there. Read from
 * the error messages of Python (`No such file or directory: 'x'`), the shell (`x: No such file`)
 * and Deno (`readfile 'x'`, `read access to "x"`).
 */
function unnamedFiles(text: string, workdir: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /No such file or directory: '([^'\n]{1,512})'/g,
    /(?:^|\s)([^\s:'"]{1,512}): No such file or directory/gm,
    /(?:readfile|open|stat|lstat|readdir) '([^'\n]{1,512})'/g,
    /read access to "([^"\n]{1,512})"/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const path = resolve(workdir, match[1]!);
      if (!isInside(path, workdir) || path === workdir) continue;
      const name = relative(workdir, path);
      // Never a hidden file or folder (.env, .git/, .ssh), by its name or where a link leads,
      // nor a name that looks like a secret: the script writes its own error output, and a hint
      // must not read as an invitation to grant one.
      const real = realPathSyncOrNull(path);
      if (real === null || !isInside(real, workdir)) continue;
      const parts = [...name.split(/[\\/]/), ...relative(workdir, real).split(/[\\/]/)];
      if (parts.some((part) => part.startsWith(".") || SECRET_NAME.test(part))) continue;
      if (lstatSyncOrNull(path)) found.add(name);
      if (found.size >= 3) return [...found];
    }
  }
  return [...found];
}

/** Names of files that hold secrets, which a hint never suggests granting. */
const SECRET_NAME =
  /^(id_[a-z0-9]+|.*\.(pem|key|p12|pfx|jks|keystore|kdbx|gpg|asc)|.*(secret|credential|password|passwd|token|private).*|.*env)$/i;

/**
 * A failed script's error with a hint that says more than "regenerate it", read from what it
 * printed: a request Capibara's proxy refused (403: the host or port is not granted) or could
 * not carry out (502: the host could not be resolved or reached), which regenerating cannot
 * help; else project files it asked for that the run was not given ({@linkcode unnamedFiles}).
 */
function withFailureHint(
  error: unknown,
  exec: ExecResult,
  workdir: string,
  networked: boolean,
): unknown {
  if (!(error instanceof ExecError) || exec.code === 0 || exec.timedOut) return error;
  // The generated scripts report their own exception on stdout's last line; others on stderr.
  const text = `${exec.stderr.slice(-8192)}\n${exec.stdout.slice(-8192)}`;
  const unnamed = unnamedFiles(text, workdir);
  const status = networked
    ? /Tunnel connection failed: (403|502)|\b(403):? Forbidden|\b(502):? Bad Gateway/.exec(text)
    : null;
  const proxy = status ? status[1] ?? status[2] ?? status[3] : undefined;
  if (unnamed.length === 0 && proxy === undefined) return error;
  const list = unnamed.map((p) => JSON.stringify(p)).join(", ");
  const hint = proxy === "403"
    ? "A network request was refused by Capibara's proxy: its host or port is not granted " +
      "(grant it with --allow-net host[:port], or --allow-private-net for a local address); " +
      "regenerating the script will not help"
    : proxy === "502"
    ? "A network request failed at Capibara's proxy: the host could not be resolved or " +
      "reached from this machine (check its network and DNS); regenerating the script will " +
      "not help"
    : `The script's errors name ${list}, which the project holds but the run was not given: ` +
      "a script sees only the paths its context names and --allow-read grants. If it should " +
      `read ${unnamed.length === 1 ? "it" : "them"}, run again with ${
        unnamed.map((p) => `--allow-read ${shellWord(p)}`).join(" ")
      } (the same script; another context is another request, and a new script)`;
  return new ExecError(error.message, {
    cause: error.cause,
    hint,
    details: {
      ...error.details,
      ...unnamed.length > 0 ? { not_given: unnamed } : {},
      ...proxy !== undefined ? { proxy_status: Number(proxy) } : {},
    },
  });
}
