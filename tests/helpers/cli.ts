/**
 * Runs the real CLI as a subprocess, the way a user does.
 *
 * @module
 */
import { join } from "node:path";
import { platformBackend } from "../../src/sandbox/mod.ts";
import { PYTHON_PATH } from "./python.ts";

const backend = platformBackend();
/** Whether the OS sandbox is there: runs of Python and bash scripts need it. */
export const OS_SANDBOX: boolean = backend !== undefined && (await backend.available()).ok;

/** A machine-local cache folder for one test file, removed when the file's tests end. */
export async function testCache(prefix: string): Promise<string> {
  const path = await Deno.makeTempDir({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(path, { recursive: true }));
  return path;
}

/** The CLI's environment for a fake OpenAI-compatible server at `url`, with `cache` as its cache. */
export function fakeServerEnv(
  url: string,
  cache: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CAPIBARA_BASE_URL: url,
    CAPIBARA_API_KEY: "test-key",
    CAPIBARA_MODEL: "fake-model",
    CAPIBARA_CACHE_DIR: cache,
    ...extra,
  };
}

/** The repository root. */
export const REPO = join(import.meta.dirname!, "..", "..");
/** The CLI entry point. */
export const MAIN = join(REPO, "main.ts");

/** The committed TypeScript demo's request (`deno task demo`), as `capibara` arguments. */
export const DEMO_ARGS: readonly string[] = [
  "run",
  "--lang",
  "typescript",
  "Summarise the sales CSV: total revenue, units and revenue per region",
  "--context",
  '{"input": "data/sales.csv", "output": "out/summary.json"}',
];

/** What one CLI invocation did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (undefined when it is not exactly one JSON document). */
  json: unknown;
}

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  cwd: string;
  /** Extra environment variables (the parent's are not inherited, but PATH and HOME are). */
  env?: Record<string, string>;
  /**
   * The entry (default `CLI`: the installed command's, which loads `lib/` and hands runs to a
   * runner when one is asked for; `MAIN`, `main.ts`, loads `src/`).
   */
  entry?: string;
  /** Kills the command past this (a test of something that must not hang); default none. */
  timeoutMs?: number;
}

/** The installed command's entry. */
export const CLI: string = join(REPO, "cli.ts");

/**
 * The environment of a command a test starts: this process's `PATH` (the real Python's folder
 * first, see `python.ts`), `HOME` and `DENO_DIR`, no colour, no runner of the user's
 * (`CAPIBARA_RUNNER=0`), then `extra`.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: PYTHON_PATH,
    HOME: Deno.env.get("HOME") ?? "/tmp",
    NO_COLOR: "1",
    // A runner of the user's (capibara runner) never serves a test's command, unless asked.
    CAPIBARA_RUNNER: "0",
    ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    ...extra,
  };
}

/**
 * Runs `capibara <args>` as the installed command does, through `deno run -A cli.ts` (or
 * `options.entry`): the JavaScript of `lib/`, which users run.
 */
export async function runCli(args: string[], options: RunCliOptions): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", options.entry ?? CLI, ...args],
    cwd: options.cwd,
    clearEnv: true,
    env: cliEnv(options.env),
    stdin: "null",
    ...options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: out.code, stdout, stderr: new TextDecoder().decode(out.stderr), json };
}

/** Every file below a folder with its content, for before/after comparisons. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  async function walk(current: string, prefix: string) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(current));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory) {
        files[rel + "/"] = "";
        await walk(path, rel);
      } else files[rel] = await Deno.readTextFile(path);
    }
  }
  await walk(dir, "");
  return files;
}
