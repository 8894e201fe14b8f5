/**
 * `capibara run` without the argument parser library: a cache hit loads only what finding,
 * verifying and running a cached script needs. {@linkcode fastRun} parses the common shapes of
 * `run`'s arguments from {@linkcode RUN_OPTIONS}, a table checked against the `run` command's own
 * definition (tests/cli/fast_run_test.ts), and declines (returns `undefined`) on anything else:
 * help, unknown or malformed options, a bad choice, `--`. The full parser then handles the
 * arguments, errors and help included. Both paths share {@linkcode runAction}.
 *
 * @module
 */
import { join, relative } from "../_path.ts";
import { exists, existsSync } from "../_fs.ts";
import { formatTimings, recordTimings, step, timings } from "../_timings.ts";
import type { Capibara } from "../capibara.ts";
import { TemplateError, ValidationError } from "../errors.ts";
import { handOver } from "../run/remembered.ts";
import { grantProblem } from "../sandbox/policy.ts";
import { HOST_RULE_HINT } from "../sandbox/host_rules.ts";
import { type Language, LANGUAGES, MAX_TIMEOUT_SECONDS } from "../types.ts";
import {
  commandCapibara,
  type CommandIo,
  formatValue,
  interruptible,
  type Interruption,
  parseContext,
  printJson,
  PROCESS_IO,
  progressReporter,
  reportError,
  reportInterrupted,
  terminalSafe,
} from "./output.ts";

/** The options of `capibara run`, as the argument parser hands them to the action. */
export interface RunCommandOptions {
  context?: string;
  select?: string;
  refresh?: true;
  force?: true;
  dryRun?: true;
  timeout?: string;
  lang: Language;
  mode?: "strict" | "parametric";
  model?: string;
  baseUrl?: string;
  verbose?: true;
  allowNet: string[];
  allowPrivateNet: string[];
  allowRead: string[];
  allowWrite: string[];
  allowEnv: string[];
  sandbox: boolean;
  memory?: string;
  maxOutput?: string;
  root?: string;
  json?: true;
}

type Kind = "value" | "list" | "flag" | "negate";

/**
 * Every option of `run`: its flags, its key in {@linkcode RunCommandOptions} and how it takes a
 * value ("value": the last one wins; "list": repeatable, comma-separated; "flag": true;
 * "negate": `--no-x` sets x to false).
 */
export const RUN_OPTIONS: ReadonlyArray<
  { flags: readonly string[]; key: keyof RunCommandOptions; kind: Kind }
> = [
  { flags: ["-c", "--context"], key: "context", kind: "value" },
  { flags: ["-s", "--select"], key: "select", kind: "value" },
  { flags: ["--refresh"], key: "refresh", kind: "flag" },
  { flags: ["--force"], key: "force", kind: "flag" },
  { flags: ["--dry-run"], key: "dryRun", kind: "flag" },
  { flags: ["--timeout"], key: "timeout", kind: "value" },
  { flags: ["--lang"], key: "lang", kind: "value" },
  { flags: ["--mode"], key: "mode", kind: "value" },
  { flags: ["-m", "--model"], key: "model", kind: "value" },
  { flags: ["--base-url"], key: "baseUrl", kind: "value" },
  { flags: ["-v", "--verbose"], key: "verbose", kind: "flag" },
  { flags: ["--allow-net"], key: "allowNet", kind: "list" },
  { flags: ["--allow-private-net"], key: "allowPrivateNet", kind: "list" },
  { flags: ["--allow-read"], key: "allowRead", kind: "list" },
  { flags: ["--allow-write"], key: "allowWrite", kind: "list" },
  { flags: ["--allow-env"], key: "allowEnv", kind: "list" },
  { flags: ["--no-sandbox"], key: "sandbox", kind: "negate" },
  { flags: ["--memory"], key: "memory", kind: "value" },
  { flags: ["--max-output"], key: "maxOutput", kind: "value" },
  { flags: ["--root"], key: "root", kind: "value" },
  { flags: ["--json"], key: "json", kind: "flag" },
];

const BY_FLAG = new Map(RUN_OPTIONS.flatMap((option) => option.flags.map((f) => [f, option])));

/** Splits a repeatable option's value the way the full parser does. */
export function splitList(value: string): string[] {
  return value.split(",").map((v) => v.trim()).filter((v) => v !== "");
}

/**
 * The prompt and options of `run <args…>` (`args` without `run`), or `undefined` when the fast
 * parser does not handle them and the full parser must.
 */
export function parseRunArgs(
  args: readonly string[],
): { prompt: string; options: RunCommandOptions } | undefined {
  const options: RunCommandOptions = {
    lang: "python",
    allowNet: [],
    allowPrivateNet: [],
    allowRead: [],
    allowWrite: [],
    allowEnv: [],
    sandbox: true,
  };
  const values = options as unknown as Record<string, unknown>;
  const prompts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      prompts.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const option = BY_FLAG.get(flag);
    if (!option) return undefined;
    if (option.kind === "flag" || option.kind === "negate") {
      if (eq !== -1) return undefined;
      values[option.key] = option.kind === "flag";
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      // A missing value, or one that looks like an option, is the full parser's to judge.
      if (next === undefined || next.startsWith("-")) return undefined;
      value = next;
      i++;
    }
    // An empty value (`--allow-net ''`, `-m ''`, `--select ,`) is a mistake the full parser
    // names.
    if (value.trim() === "" || option.key === "select" && splitList(value).length === 0) {
      return undefined;
    }
    if (option.kind === "list") {
      const list = splitList(value);
      if (list.length === 0) return undefined;
      (values[option.key] as string[]).push(...list);
    } else values[option.key] = value;
  }
  if (prompts.length !== 1) return undefined;
  // Aliases (`py`) and bad choices are the full parser's to map or refuse.
  if (!(LANGUAGES as readonly string[]).includes(options.lang)) return undefined;
  if (options.mode !== undefined && options.mode !== "strict" && options.mode !== "parametric") {
    return undefined;
  }
  return { prompt: prompts[0]!, options };
}

/** The most MiB a size flag takes: as bytes, a safe integer. */
const MAX_MIB = Math.floor(Number.MAX_SAFE_INTEGER / 1024 ** 2);

/** A size flag's MiB (at least `least`) as bytes, else undefined. */
function mebibytes(text: string, least: number): number | undefined {
  const mib = decimal(text);
  if (!Number.isFinite(mib) || mib < least || mib > MAX_MIB) return undefined;
  return Math.round(mib * 1024 ** 2);
}

/** The hint of a path flag's value that is no path. */
const PATH_HINT = "Give a path, relative to the working directory or absolute";

/** Each grant flag of `run`, its option and the kind of grant it gives, with a hint for it. */
const GRANT_FLAGS = [
  ["--allow-net", "allowNet", "network", HOST_RULE_HINT],
  [
    "--allow-private-net",
    "allowPrivateNet",
    "privateNetwork",
    "Name one host exactly, e.g. --allow-private-net 10.0.0.5:5432 or --allow-private-net " +
    "localhost:8080",
  ],
  ["--allow-env", "allowEnv", "env", "Name variables exactly, e.g. --allow-env API_TOKEN"],
  ["--allow-read", "allowRead", "read", PATH_HINT],
  ["--allow-write", "allowWrite", "write", PATH_HINT],
] as const;

/**
 * Refuses a grant flag's value that is no grant, in the flag's words, whether or not the script
 * needs what it grants (the SDK's own check names its options instead).
 *
 * @throws {ValidationError} naming the flag and its value
 */
function checkGrantFlags(opts: RunCommandOptions): void {
  for (const [flag, option, kind, hint] of GRANT_FLAGS) {
    for (const value of opts[option]) {
      const problem = grantProblem(kind, value);
      if (problem !== undefined) {
        throw new ValidationError(`Invalid ${flag} ${JSON.stringify(value)}: ${problem}`, {
          hint,
          details: { option: flag, value },
        });
      }
    }
  }
}

/** A flag's number written in decimal (`60`, `1.5`), else NaN: `0x10`, `1e9` or `` are no value. */
function decimal(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
}

/**
 * Runs `capibara <args>` when they are a `run` the fast parser handles, and returns its exit code;
 * `undefined` when the full CLI must handle them.
 */
export async function fastRun(
  args: readonly string[],
  options: { startRunner?: boolean } = {},
): Promise<number | undefined> {
  if (args[0] !== "run") return undefined;
  // The first asynchronous call of a process waits for Deno's worker thread to start (≈ 2 ms
  // here): one started now, while the arguments, the configuration and the project are read
  // synchronously, has it ready for the fingerprint's hashes.
  void crypto.subtle.digest("SHA-256", new Uint8Array(0));
  const parsed = parseRunArgs(args.slice(1));
  if (!parsed) return undefined;
  const outcome: RunOutcome = {};
  const code = await runAction(parsed.prompt, parsed.options, PROCESS_IO, undefined, outcome);
  // No runner listened and this was a sandboxed hit (what a runner serves): maybe start one.
  if (options.startRunner && code === 0 && outcome.cached && parsed.options.sandbox) {
    // Loaded only here: a hit that starts no runner (CAPIBARA_RUNNER=0, a runner already up) never
    // loads the runner's modules.
    await (await import("./_runner_start.ts")).startOnDemand(PROCESS_IO);
  }
  return code;
}

/** What {@linkcode runAction} tells its caller of the run, besides the exit code. */
export interface RunOutcome {
  /** Whether the script came from the store (a cache hit). */
  cached?: boolean;
}

/**
 * Notes on a miss: the other entries of the same prompt, and the context keys whose values differ
 * (a sign that parametric mode would have reused one).
 */
async function samePromptNotes(
  cb: Capibara,
  prompt: string,
  fingerprint: string,
  context: Record<string, unknown>,
): Promise<string[]> {
  const { entries } = await (await cb.store()).list();
  const same: { fingerprint: string; language: string; differ: string }[] = [];
  for (const { manifest: m } of entries) {
    if (m.prompt !== prompt || m.fingerprint === fingerprint) continue;
    const other = (m.context ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(context), ...Object.keys(other)])].filter((k) =>
      JSON.stringify(context[k]) !== JSON.stringify(other[k])
    );
    same.push({
      fingerprint: m.fingerprint,
      language: m.language,
      differ: terminalSafe(keys.join(", ") || "nothing (another language or mode)"),
    });
  }
  const tail = " (--mode parametric reuses one script across context values)";
  if (same.length === 0) return [];
  if (same.length === 1) {
    const [m] = same as [typeof same[0]];
    return [
      `note: ${m.fingerprint} has the same prompt (${m.language}); the context differs in: ` +
      m.differ + tail,
    ];
  }
  // One line, however many: a prompt run with ten contexts is not ten notes.
  const shown = same.slice(0, 3).map((m) =>
    `${m.fingerprint} (${m.language}; differs in: ${m.differ})`
  );
  return [
    `note: ${same.length} cached scripts have the same prompt: ${shown.join(", ")}${
      same.length > 3 ? ", …" : ""
    }${tail}`,
  ];
}

/** Whether `CAPIBARA_TIMINGS=1` asks for the steps' durations. */
function timingsAsked(io: CommandIo): boolean {
  try {
    return io.env.CAPIBARA_TIMINGS === "1";
  } catch {
    return false;
  }
}

/** Where a run's interruption comes from: the process's signals, or a client's. */
export type InterruptionSource = () => Interruption;

/**
 * The action of `capibara run`: runs the request, prints its result, returns the exit code.
 * With `CAPIBARA_TIMINGS=1`, then prints where the time went on stderr.
 */
export async function runAction(
  prompt: string,
  opts: RunCommandOptions,
  io: CommandIo = PROCESS_IO,
  serving?: { interruption: InterruptionSource; prestart: boolean },
  outcome?: RunOutcome,
): Promise<number> {
  const timed = timingsAsked(io);
  if (timed) {
    recordTimings(serving ? performance.now() : 0);
    step(
      serving
        ? "handed to the runner (no start, no modules)"
        : "the runtime and the modules of a run",
    );
  }
  try {
    return await runRequest(prompt, opts, io, serving, outcome);
  } finally {
    if (timed) {
      step("the result printed");
      io.err(formatTimings(timings()));
    }
  }
}

async function runRequest(
  prompt: string,
  opts: RunCommandOptions,
  io: CommandIo,
  serving?: { interruption: InterruptionSource; prestart: boolean },
  outcome?: RunOutcome,
): Promise<number> {
  const json = opts.json ?? false;
  const reporter = progressReporter({ verbose: opts.verbose ?? false, io });
  using interruption = (serving?.interruption ?? interruptible)();
  // The command's own listeners, set while its sandbox started ahead, give way to the run's.
  handOver();
  try {
    if (opts.force && !opts.refresh) {
      throw new ValidationError("--force goes with --refresh: it lets a refresh overwrite", {
        hint: "Regenerate over a hand edit with --refresh --force; without --refresh the cached " +
          "script runs as it is",
      });
    }
    const context = await parseContext(opts.context, io);
    let timeout: number | undefined;
    if (opts.timeout !== undefined) {
      timeout = decimal(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT_SECONDS) {
        throw new ValidationError(`Invalid --timeout "${opts.timeout}"`, {
          hint: `Give a positive number of seconds up to ${MAX_TIMEOUT_SECONDS}, e.g. --timeout 60`,
        });
      }
    }
    const select = opts.select?.split(",").map((s) => s.trim()).filter((s) => s !== "");
    let memoryBytes: number | undefined;
    if (opts.memory !== undefined) {
      memoryBytes = mebibytes(opts.memory, 16);
      if (memoryBytes === undefined) {
        throw new ValidationError(`Invalid --memory "${opts.memory}"`, {
          hint: `Give the limit in MiB, from 16 to ${MAX_MIB}, e.g. --memory 4096`,
        });
      }
    }
    let maxOutputDiskBytes: number | undefined;
    if (opts.maxOutput !== undefined) {
      maxOutputDiskBytes = mebibytes(opts.maxOutput, 1);
      if (maxOutputDiskBytes === undefined) {
        throw new ValidationError(`Invalid --max-output "${opts.maxOutput}"`, {
          hint: `Give the bound in MiB, from 1 to ${MAX_MIB}, e.g. --max-output 4096`,
        });
      }
    }
    checkGrantFlags(opts);
    // The flags win over the environment, as options win over variables everywhere.
    const env: Record<string, string | undefined> = { ...io.env };
    if (opts.model !== undefined) env.CAPIBARA_MODEL = opts.model;
    if (opts.baseUrl !== undefined) env.CAPIBARA_BASE_URL = opts.baseUrl;
    const cb = await commandCapibara(opts.root, {
      env,
      cwd: io.cwd,
      prestart: serving?.prestart ?? false,
      maxOutputDiskBytes,
      progress: reporter.progress,
      language: opts.lang,
      mode: opts.mode,
      sandbox: opts.sandbox,
      memoryBytes,
      allow: {
        network: opts.allowNet,
        privateNetwork: opts.allowPrivateNet,
        read: opts.allowRead,
        write: opts.allowWrite,
        env: opts.allowEnv,
      },
    }, io);
    step("arguments, context and the configuration");
    const store = await cb.store();
    const storeExisted = existsSync(store.base);
    const result = await cb.run(prompt, {
      context,
      select,
      refresh: opts.refresh ?? false,
      force: opts.force ?? false,
      dryRun: opts.dryRun ?? false,
      timeout,
      signal: interruption.signal,
      onStderr: reporter.onStderr,
    });
    reporter.done(true);
    if (outcome) outcome.cached = result.cached;
    // A signal after the last step that heeds it (the outputs' move into the project is done
    // whole once begun): the run happened, and is reported as it is.
    if (interruption.received) {
      io.err(`note: ${interruption.received} came as the run ended: its result stands`);
    }
    if (json) {
      printJson(result, io);
      return 0;
    }
    const how = result.cached ? "cached" : "generated";
    const ran = opts.dryRun ? ", not run: --dry-run" : "";
    io.out(`✓ ${result.fingerprint} (${how}${ran}, ${result.duration_ms} ms)`);
    if (!result.cached) {
      const dir = join(store.scripts, result.fingerprint);
      if (!storeExisted) {
        const where = (await exists(join(store.root, ".git")))
          ? "at the git root"
          : "in the current folder: no git repository here (--root chooses another)";
        io.out(`created the store ${terminalSafe(store.base)} ${where}`);
      }
      io.out(`stored in ${terminalSafe(relative(io.cwd, dir) || dir)}/`);
      io.out(
        `review it (capibara show ${result.fingerprint} --script) and commit it: it runs ` +
          "on every matching request",
      );
      for (const note of await samePromptNotes(cb, prompt, result.fingerprint, context)) {
        io.out(note);
      }
    }
    const entries = Object.entries(result.output);
    if (entries.length > 0) {
      io.out("output:");
      for (const [key, value] of entries) {
        io.out(`  ${terminalSafe(key)}: ${formatValue(value)}`);
      }
    }
    if (result.artifacts.length > 0) {
      io.out("artifacts:");
      for (const artifact of result.artifacts) io.out(`  ${terminalSafe(artifact)}`);
    }
    if (result.missing) io.out(`missing: ${terminalSafe(result.missing.join(", "))}`);
  } catch (error) {
    reporter.done(false);
    // Whatever the interrupted step threw (an abort, a killed script), the signal is the cause.
    if (interruption.received) {
      return reportInterrupted(interruption.received, reporter.step, json, io);
    }
    const code = reportError(error, json, io, { root: opts.root });
    // With --verbose, what the model last answered when it broke the contract.
    const reply = error instanceof TemplateError ? error.details?.reply : undefined;
    if (opts.verbose && !json && typeof reply === "string" && reply !== "") {
      io.err("the model's last reply (start):");
      io.err("  │ " + terminalSafe(reply, { multiline: true }).split("\n").join("\n  │ "));
    }
    return code;
  }
  return 0;
}
