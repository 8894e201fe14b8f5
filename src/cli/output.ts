/**
 * Human and machine output of the CLI.
 *
 * @module
 */
import { resolve } from "../_path.ts";
import { shellWord } from "../readme.ts";
import { readBounded, TooLarge } from "../_body.ts";
import { Capibara, type CapibaraOptions } from "../capibara.ts";
import { CapibaraError, type ErrorJson, systemError, ValidationError } from "../errors.ts";
import type { Progress } from "../runtimes/types.ts";

/**
 * Where a command writes and what it runs in: the process's own streams, folder and environment,
 * or a client's (a command served by the resident runner, `capibara runner`).
 */
export interface CommandIo {
  /** Writes one line on standard output. */
  out(line: string): void;
  /** Writes one line on standard error. */
  err(line: string): void;
  /** Whether standard error is a terminal. */
  readonly errIsTerminal: boolean;
  /** The environment. */
  readonly env: Record<string, string>;
  /** The current folder, absolute. */
  readonly cwd: string;
  /** The whole of standard input. */
  stdin(): Promise<string>;
}

/** The largest context `--context` reads, in MiB. */
const MAX_CONTEXT_MIB = 64;
/** What is read of standard input at most: the largest context. */
const STDIN_MAX = MAX_CONTEXT_MIB * 1024 ** 2;

/** The refusal of a context larger than `MAX_CONTEXT_MIB`, read from `what`. */
function contextTooLarge(what: string): ValidationError {
  return new ValidationError(`The context in ${what} is larger than ${MAX_CONTEXT_MIB} MiB`, {
    hint: "Pass the data as a file the script reads (its path in the context), not in it",
  });
}

/** The process's own streams, folder and environment. */
export const PROCESS_IO: CommandIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  get errIsTerminal() {
    return Deno.stderr.isTerminal();
  },
  get env() {
    return Deno.env.toObject();
  },
  get cwd() {
    return Deno.cwd();
  },
  // Bounded: a context piped in is read up to its limit, and refused past it.
  stdin: async () =>
    new TextDecoder().decode(
      await readBounded(new Response(Deno.stdin.readable), STDIN_MAX).catch((error) => {
        if (error instanceof TooLarge) throw contextTooLarge("standard input");
        // A folder, or a descriptor open for writing only, given as standard input.
        throw new ValidationError(
          `Cannot read the context from standard input: ${(error as Error).message}`,
          { hint: "Pipe the JSON in (echo '{\"n\": 1}' | capibara run … --context @-)" },
        );
      }),
    ),
};

/** Options of {@linkcode terminalSafe}. */
export interface TerminalSafeOptions {
  /** Keep line feeds and tabs (a stderr tail, a README); otherwise they are escaped too. */
  multiline?: boolean;
}

// What a terminal obeys or reorders: C0 (but line feed and tab, which multi-line text keeps), DEL,
// C1, the bidirectional marks, embeddings, overrides and isolates, and the Unicode line and
// paragraph separators.
const UNSAFE =
  "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069";
const UNSAFE_MULTILINE = new RegExp(`\\r\\n|[${UNSAFE}]`, "g");
const UNSAFE_LINE = new RegExp(`[\\n\\t${UNSAFE}]`, "g");
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text that is safe to print on a terminal: every control character a model or a script could use
 * to drive it (ESC and the rest of C0, DEL, C1: clipboard writes, titles, links, clearing and
 * rewriting lines) and every bidirectional control that reorders what a reviewer reads is shown
 * escaped, as `\u001b` (or `\n`, `\r`, `\t`). The escapes are JSON's, so JSON text stays valid
 * JSON that parses to the same value.
 */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
  const unsafe = options.multiline ? UNSAFE_MULTILINE : UNSAFE_LINE;
  return text.replace(unsafe, (c) => {
    if (c === "\r\n") return "\n";
    return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * Prints one JSON document on stdout. The value is exact; characters JSON leaves raw but a
 * terminal obeys (DEL, C1, bidirectional controls) are written as JSON escapes.
 */
export function printJson(value: unknown, io: CommandIo = PROCESS_IO): void {
  io.out(terminalSafe(JSON.stringify(value, null, 2), { multiline: true }));
}

/**
 * Prints a warning on stderr, terminal-safe, its later lines indented (the CLI's `warn` for the
 * SDK: a warning may name a folder or a package that a script or a model chose).
 */
export function printWarning(message: string, io: CommandIo = PROCESS_IO): void {
  io.err(quoted(message));
}

/**
 * Terminal-safe text whose lines after the first are indented, so what a script printed (a stderr
 * tail) can never pass for a line of Capibara's own (`hint: …`, `error[…]`).
 */
function quoted(text: string): string {
  return terminalSafe(text, { multiline: true }).split("\n").join("\n  ");
}

/** Prints an error (human on stderr, or JSON on stdout) and returns the exit code. */
export function reportError(
  error: unknown,
  json: boolean,
  io: CommandIo = PROCESS_IO,
  options: { root?: string } = {},
): number {
  // A full disk, a read-only file system: the machine's, typed, not a bug of Capibara's.
  error = systemError(error) ?? error;
  if (error instanceof CapibaraError && options.root !== undefined) {
    (error as { hint: string }).hint = withRoot(error.hint, options.root);
  }
  if (!(error instanceof CapibaraError)) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const hint = "this is a bug in Capibara; please report it with the command you ran";
    if (json) {
      // The shape of every other error's, so that a machine reading `.error.type` finds this too.
      printJson(
        { error: { type: "InternalError", message: String(error), hint, exit_code: 1 } },
        io,
      );
    } else {
      io.err(`error[InternalError]: ${quoted(message)}`);
      io.err(`hint: ${hint}`);
    }
    return 1;
  }
  if (json) {
    printJson({ error: error.toJSON() satisfies ErrorJson }, io);
  } else {
    io.err(`error[${error.type}]: ${quoted(error.message)}`);
    if (error.hint) io.err(`hint: ${quoted(error.hint)}`);
  }
  return error.exitCode;
}

/** The commands a hint names that act on a project's store, and so take its `--root`. */
const STORE_COMMANDS = /\bcapibara (run|list|show|verify|accept|clear|sign|trust|rekey|push)\b/;

/**
 * A hint for a command run with `--root <root>`: when it names store commands, it says to give
 * them the same `--root` (as typed, from the same folder), else they would act on another
 * project's store (the current folder's), or find nothing. Said once, after the hint: written
 * into each command, it would also land inside a path the hint quotes (a root named
 * `x capibara list $(…)` would have closed its quotes).
 */
export function withRoot(hint: string, root: string): string {
  if (!STORE_COMMANDS.test(hint)) return hint;
  return `${hint} (give each capibara command here --root ${shellWord(root)}, as this one had)`;
}

/** Exit codes of a run interrupted by a signal (128 + the signal's number). */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** An interruption by a signal: what {@linkcode interruptible} hands back. */
export interface Interruption {
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  readonly received: keyof typeof SIGNAL_EXIT_CODES | undefined;
  /** Removes the signal handlers. */
  [Symbol.dispose](): void;
}

/**
 * Signal handlers for the length of a command: the first SIGINT or SIGTERM aborts `signal`, so
 * the work under way stops and cleans up after itself (temporary folders, sandbox state, cgroups);
 * a second one exits at once.
 */
export function interruptible(): Interruption {
  const controller = new AbortController();
  let received: keyof typeof SIGNAL_EXIT_CODES | undefined;
  const handlers: [Deno.Signal, () => void][] = [];
  for (const name of Object.keys(SIGNAL_EXIT_CODES) as (keyof typeof SIGNAL_EXIT_CODES)[]) {
    const handler = () => {
      if (received) Deno.exit(SIGNAL_EXIT_CODES[name]);
      received = name;
      controller.abort(new DOMException(`Interrupted by ${name}`, "AbortError"));
    };
    try {
      Deno.addSignalListener(name, handler);
      handlers.push([name, handler]);
    } catch {
      // A signal the platform cannot listen to (SIGTERM on Windows).
    }
  }
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    [Symbol.dispose]() {
      for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    },
  };
}

/**
 * Reports an interrupted command (human on stderr, or JSON on stdout) and returns its exit code:
 * 130 for SIGINT, 143 for SIGTERM.
 */
export function reportInterrupted(
  received: keyof typeof SIGNAL_EXIT_CODES,
  step: string,
  json: boolean,
  io: CommandIo = PROCESS_IO,
): number {
  const exitCode = SIGNAL_EXIT_CODES[received];
  const message = `Interrupted by ${received}${step ? ` while: ${step}` : ""}`;
  const hint = /generat|Asking the Core/i.test(step)
    ? "Nothing was stored: the script being generated was dropped"
    : /^(signing|re-keying|pushing)/.test(step)
    ? "Each entry is done whole or not at all: what was done stays, the rest is unchanged; " +
      "run the command again to finish"
    : "The script and its processes were stopped, and the run's temporary folders, sandbox " +
      "state and cgroups removed";
  if (json) {
    printJson({ error: { type: "Interrupted", message, hint, exit_code: exitCode } }, io);
  } else {
    io.err(`interrupted: ${terminalSafe(message)}`);
    io.err(`hint: ${hint}`);
  }
  return exitCode;
}

/** Options of {@linkcode progressReporter}. */
export interface ProgressOptions {
  /** Print every step as a line on stderr, and the script's stderr as it arrives. */
  verbose?: boolean;
  /** Where to print (default the process's stderr). */
  io?: CommandIo;
}

/** What {@linkcode progressReporter} returns. */
export interface ProgressReporter {
  /** Reports the step under way. */
  progress: Progress;
  /** Receives the script's stderr (shown with `verbose` only). */
  onStderr?: (chunk: Uint8Array) => void;
  /** Ends the display. */
  done(ok: boolean): void;
  /** The step under way ("" before the first). */
  readonly step: string;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

/** The longest piece of a script's stderr line `--verbose` holds back for its end. */
const VERBOSE_LINE_MAX = 4096;

/**
 * A progress reporter on stderr. With `verbose`, each step is a line with the time elapsed, and
 * the script's stderr follows as it arrives, each line quoted under a `│` (dimmed on a terminal
 * unless NO_COLOR is set), terminal-safe. Otherwise a spinner with the step under way and its
 * elapsed time when stderr is a terminal, and nothing when it is not.
 */
export function progressReporter(options: ProgressOptions = {}): ProgressReporter {
  const started = performance.now();
  const io = options.io ?? PROCESS_IO;
  let step = "";
  if (options.verbose) {
    const dim = io.errIsTerminal && !io.env.NO_COLOR;
    const decoder = new TextDecoder();
    let partial = "";
    const line = (text: string) => io.err(dim ? `\x1b[2m  │ ${text}\x1b[22m` : `  │ ${text}`);
    return {
      progress(text) {
        step = text;
        io.err(`· ${terminalSafe(text)} (${seconds(started)})`);
      },
      onStderr(chunk) {
        const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) line(terminalSafe(l));
        // A line without an end is shown in pieces: kept whole, it was read again with each chunk.
        while (partial.length > VERBOSE_LINE_MAX) {
          line(terminalSafe(partial.slice(0, VERBOSE_LINE_MAX)));
          partial = partial.slice(VERBOSE_LINE_MAX);
        }
      },
      done() {
        if (partial !== "") line(terminalSafe(partial));
        partial = "";
      },
      get step() {
        return step;
      },
    };
  }
  // The spinner draws on the process's own terminal only, and only on one that says its width:
  // it counts the lines to erase by it, and a width of 0 (a pseudo-terminal never sized, as
  // `script` makes) had it erase for ever.
  if (io !== PROCESS_IO || !io.errIsTerminal || !(terminalColumns() > 0)) {
    return {
      progress: (text) => {
        step = text;
      },
      done: () => {},
      get step() {
        return step;
      },
    };
  }
  let spinner: import("npm:nanospinner@^1.2.2").Spinner | undefined;
  let pending = "";
  let stepStarted = started;
  let ticker: ReturnType<typeof setInterval> | undefined;
  // The spinner library loads on the first long step only: a cache hit never pays for it.
  let loading: Promise<unknown> | undefined;
  const text = () => `${pending} (${seconds(stepStarted)})`;
  return {
    get step() {
      return step;
    },
    progress(message) {
      step = message;
      pending = terminalSafe(message);
      stepStarted = performance.now();
      if (spinner) {
        spinner.update({ text: text() });
        return;
      }
      loading ??= Promise.all([import("npm:nanospinner@^1.2.2"), import("node:process")]).then(
        ([{ createSpinner }, { default: process }]) => {
          const signals = ["SIGINT", "SIGTERM"] as const;
          const before = signals.map((name) => new Set(process.listeners(name)));
          spinner = createSpinner(text()).start();
          // The spinner ends the process itself on SIGINT and SIGTERM (exit 130, 143), before the
          // run's own handling could stop the script, clean up and say what was interrupted:
          // its listeners go, the run's stay.
          signals.forEach((name, i) => {
            for (const listener of process.listeners(name)) {
              if (!before[i]!.has(listener)) process.off(name, listener as () => void);
            }
          });
          ticker = setInterval(() => spinner?.update({ text: text() }), 1000);
        },
      );
    },
    done(ok) {
      // Only where one was set: a first clearInterval loads Deno's Node layer (≈ 4 ms here).
      if (ticker !== undefined) clearInterval(ticker);
      if (!spinner) return;
      if (ok) spinner.clear();
      else spinner.stop();
      spinner = undefined;
    },
  };
}

/** The width of the process's terminal, 0 when it tells none. */
function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 0;
  }
}

/** Help of the `--root` option of every command that uses a store. */
export const ROOT_HELP =
  "project root holding .capibara/ (default: the git root, else the current " +
  "directory)";

/**
 * The SDK instance of a command: `--root` checked (an existing directory), warnings printed
 * terminal-safe.
 *
 * @throws {ValidationError} when `--root` is not a directory
 */
export async function commandCapibara(
  root: string | undefined,
  options: CapibaraOptions = {},
  io: CommandIo = PROCESS_IO,
): Promise<Capibara> {
  if (root !== undefined) {
    let isDirectory = false;
    try {
      isDirectory = (await Deno.stat(resolve(io.cwd, root))).isDirectory;
    } catch {
      // Reported below.
    }
    if (!isDirectory) {
      throw new ValidationError(`Cannot use --root "${root}": it is not a directory`, {
        hint: "Pass the project's folder, the one that holds (or will hold) .capibara/",
      });
    }
  }
  return new Capibara({
    warn: (message) => printWarning(message, io),
    ...options,
    root: root === undefined ? undefined : resolve(io.cwd, root),
    hints: "cli",
  });
}

/** Parses `--context`: inline JSON, `@path` to a JSON file, or `@-` for standard input. */
export async function parseContext(
  value: string | undefined,
  io: CommandIo = PROCESS_IO,
): Promise<Record<string, unknown>> {
  if (value === undefined) return {};
  let text = value;
  let where = "--context";
  if (value === "@-") {
    where = "standard input";
    text = await io.stdin();
    if (text.length > MAX_CONTEXT_MIB * 1024 ** 2) throw contextTooLarge(where);
  } else if (value.startsWith("@")) {
    where = value.slice(1);
    const path = resolve(io.cwd, where);
    try {
      const info = Deno.statSync(path);
      // A regular file of a bounded size: /dev/zero or a FIFO would never end.
      if (!info.isFile) throw new Error("it is not a regular file");
      if (info.size > MAX_CONTEXT_MIB * 1024 ** 2) throw contextTooLarge(where);
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw new ValidationError(
        `Cannot read context file "${where}": ${(error as Error).message}`,
        {
          hint: "Pass --context @path/to/context.json with an existing file, or inline JSON",
        },
      );
    }
  }
  let parsed: unknown;
  /** A number the script would get as another (an integer past 2^53, or one past a double's). */
  let inexact: string | undefined;
  try {
    parsed = JSON.parse(
      text,
      function (_key, number, context?: { source?: string }) {
        const source = context?.source;
        if (
          inexact === undefined && typeof number === "number" && source !== undefined &&
          (!Number.isFinite(number) || (/^-?\d+$/.test(source) && !Number.isSafeInteger(number)))
        ) inexact = source;
        return number;
      },
    );
  } catch (error) {
    // A file name given without its @.
    const looksLikeFile = where === "--context" && /^[^{[\s"][^\s]*\.json$/i.test(value.trim());
    throw new ValidationError(`Invalid JSON in ${where}: ${(error as Error).message}`, {
      hint: looksLikeFile
        ? `To read the context from a file, prefix it with @: --context @${value.trim()}`
        : `Quote the JSON for your shell, e.g. --context '{"input": "data.csv"}', or read it ` +
          "from a file with --context @context.json (@- for standard input)",
    });
  }
  if (inexact !== undefined) {
    const shown = inexact.length > 40 ? `${inexact.slice(0, 40)}…` : inexact;
    throw new ValidationError(
      `The context in ${where} holds the number ${shown}, which a JSON number cannot hold ` +
        `exactly: the script would get ${Number(inexact)}, and another number alike would share ` +
        "its cached script",
      { hint: `Pass it as a string: "${shown}"` },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`The context in ${where} must be a JSON object`, {
      hint: `Wrap values in an object, e.g. --context '{"inputs": ["a.mp4", "b.mp4"]}'`,
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Formats a JSON value for people, terminal-safe: scalars inline, structures as indented JSON, the
 * lines after the first indented under their key.
 */
export function formatValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (value === null || typeof value !== "object") text = String(value);
  else text = JSON.stringify(value, null, 2);
  return terminalSafe(text, { multiline: true }).split("\n").join("\n    ");
}
