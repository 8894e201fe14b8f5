/**
 * Benchmarks, measured in one run on this machine (interleaved, medians) and printed against their
 * targets:
 *
 * - a cache-hit `capibara run` vs. the same cached script run directly: Python (its venv's
 *   python) and TypeScript (`deno run` with the same permission flags); `capibara` is the command
 *   `deno install -g -A -n capibara cli.ts` writes (README, CLI), installed in a temp folder;
 * - the sandbox's share: a cache-hit run under bubblewrap vs. the same run with `--no-sandbox`;
 * - an SDK hit in-process: `new Capibara().run()` repeated in one process vs. the script itself;
 * - a new environment for a requirement set with one local wheel vs. plain `python -m venv` + pip;
 * - the peak memory of a cache-hit process;
 * - 50 concurrent cache-hit processes of one entry vs. 50 sequential ones;
 * - bubblewrap's own start-up: wrap + run + close of `true` vs. running `true` directly (Linux);
 * - the Core (`capibara serve`): entry GETs and `/v1/gen` cache hits at 1, 10 and 50 clients
 *   (`bench_core.ts`).
 *
 *   deno task bench [--runs N] [--core (the Core's section only)]
 *                   [--other-user (as root: the hits as uid 65534 only)]
 *
 * @module
 */
import { join } from "node:path";
import { Capibara } from "../src/capibara.ts";
import { recordTimings, step, type Timing, timings } from "../src/_timings.ts";
import { resolveConfig } from "../src/config.ts";
import { execCommand } from "../src/exec.ts";
import { runDirPath } from "../src/run/execute.ts";
import { prestarts } from "../src/run/prestart.ts";
import { planRun } from "../src/run/plan.ts";
import { DenoRuntime } from "../src/runtimes/deno.ts";
import { PythonRuntime } from "../src/runtimes/python.ts";
import { DenoPermissionsBackend } from "../src/sandbox/deno.ts";
import { BubblewrapBackend } from "../src/sandbox/linux.ts";
import { platformBackend } from "../src/sandbox/mod.ts";
import { mergeGrants } from "../src/sandbox/policy.ts";
import type { Language } from "../src/schema.ts";
import { Store } from "../src/store/store.ts";
import { buildWheel } from "../tests/helpers/wheel.ts";
import { benchCore } from "./bench_core.ts";

if (Deno.args.includes("--core")) {
  await benchCore();
  Deno.exit(0);
}

const RUNS = Number(Deno.args[Deno.args.indexOf("--runs") + 1]) || 15;
const BUILDS = 3;
const CONCURRENT = 50;
const REPO = join(import.meta.dirname!, "..");
const PROMPT = "Summarise the sales CSV: total revenue, units and revenue per region";
const CONTEXT = { input: "data/sales.csv", output: "out/summary.json" };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

interface Cmd {
  program: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Runs a command to completion; its wall time, stdout and stderr. Throws when it fails. */
async function timed(cmd: Cmd): Promise<{ ms: number; stdout: string; stderr: string }> {
  const start = performance.now();
  const out = await new Deno.Command(cmd.program, {
    args: cmd.args,
    cwd: cmd.cwd,
    env: cmd.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd.program} ${cmd.args.join(" ")} failed: ${stderr}`);
  }
  return {
    ms: elapsed,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Medians of commands run in turn `runs` times, so that machine noise hits all alike; `onRun`
 * sees each run's output.
 */
async function interleaved(
  cmds: Cmd[],
  runs = RUNS,
  onRun?: (k: number, run: { ms: number; stderr: string }) => void,
): Promise<number[]> {
  const times = cmds.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, cmd] of cmds.entries()) {
      const run = await timed(cmd);
      times[k]!.push(run.ms);
      onRun?.(k, run);
    }
  }
  return times.map(median);
}

/** The steps `CAPIBARA_TIMINGS=1` printed on stderr (`   12.3 ms  fingerprint`), total excluded. */
function stepsOf(stderr: string): [string, number][] {
  const steps: [string, number][] = [];
  for (const line of stderr.split("\n")) {
    const match = /^\s+([\d.]+) ms {2}(.+)$/.exec(line);
    if (match && match[2] !== "total") steps.push([match[2]!, Number(match[1])]);
  }
  return steps;
}

/**
 * Starts the runner as `capibara run` does by default (the second hit within a minute starts one)
 * and waits until it answers; `status` asks it.
 */
async function startOnDemand(
  hit: Cmd,
  status: () => Promise<{ running?: boolean }>,
): Promise<void> {
  for (let i = 0; i < 2; i++) await timed(hit);
  for (let i = 0; i < 200; i++) {
    if ((await status()).running) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no runner started on demand");
}

/** Prints a cache hit against the script run directly, with the hit target's verdict. */
function hitLine(what: string, hit: number, direct: number): void {
  const overhead = hit - direct;
  console.log(
    `${what}: capibara run ${ms(hit)} | script directly ${ms(direct)} | ` +
      `ratio ${(hit / direct).toFixed(2)}x | overhead ${ms(overhead)} ` +
      `(target <= 60 ms, aim 35 ms: ${verdict(overhead <= 60)})`,
  );
}

/** Peak resident memory of a command, in MiB, from `/usr/bin/time -f %M`. */
async function peakMiB(cmd: Cmd): Promise<number | undefined> {
  try {
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", cmd.program, ...cmd.args],
      cwd: cmd.cwd,
      env: cmd.env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) return undefined;
    const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
    return Number(lines.at(-1)) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Installs the `capibara` command as README's CLI section does (`deno install -g -A -n capibara
 * cli.ts`), under `root`, and returns it: a hit is measured as a user types it, through the shim
 * `deno install` writes, with the configuration and lockfile it keeps (`deno run -A cli.ts` from
 * the checkout reads the checkout's whole lockfile instead, ≈ 2-3 ms more before its first line).
 * `run` makes the install (as another user, say).
 */
async function installCommand(
  root: string,
  run: (program: string, args: string[]) => Cmd,
): Promise<string> {
  await timed(run(Deno.execPath(), [
    "install",
    "-g",
    "-A",
    "-f",
    "-n",
    "capibara",
    "--root",
    root,
    join(REPO, "cli.ts"),
  ]));
  return join(root, "bin", "capibara");
}

/** The shim `deno install` writes runs `deno` by name: this one, first on `PATH`. */
function withDeno(path: string | undefined): string {
  const folder = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));
  return `${folder}:${path ?? "/usr/bin:/bin"}`;
}

/** The installed command's arguments of the bench's hit. */
function cliArgs(...extra: string[]): string[] {
  return [
    "run",
    PROMPT,
    "--context",
    JSON.stringify(CONTEXT),
    "--json",
    ...extra,
  ];
}

/** The uid the bench runs hits as when it runs as root (nobody's). */
const OTHER_UID = 65534;
/** What reaching the npm registry may need here. */
const NETWORK_VARIABLES = [
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "NPM_CONFIG_REGISTRY",
];

/**
 * When the bench runs as root: the Python hit, `--no-sandbox` and the script directly, as uid
 * 65534 (`setpriv`), with its own home, cache and `DENO_DIR`. A user other than root pays no drop
 * to the sandbox uid and, without delegated cgroups, joins none (its limits are `prlimit`'s).
 */
async function asAnotherUser(): Promise<void> {
  if (Deno.uid() !== 0) return;
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
  const home = await Deno.makeTempDir({ prefix: "capibara_bench_user_" });
  try {
    const reach = await new Deno.Command(setpriv ?? "setpriv", {
      args: [
        `--reuid=${OTHER_UID}`,
        `--regid=${OTHER_UID}`,
        "--clear-groups",
        "--",
        "test",
        "-r",
        join(REPO, "cli.ts"),
      ],
    }).output().catch(() => undefined);
    if (!setpriv || !reach?.success) {
      console.log(
        `as uid ${OTHER_UID}: skipped (${
          setpriv ? "this checkout is not readable by that uid" : "setpriv is not installed"
        })`,
      );
      return;
    }
    const work = join(home, "work");
    await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] }).output();
    await new Deno.Command("chown", { args: ["-R", `${OTHER_UID}:${OTHER_UID}`, home] }).output();
    const env: Record<string, string> = {
      PATH: withDeno("/usr/local/bin:/usr/bin:/bin"),
      HOME: home,
      DENO_DIR: join(home, "deno"),
      CAPIBARA_CACHE_DIR: join(home, "cache"),
      NO_COLOR: "1",
      CAPIBARA_RUNNER: "0",
    };
    // Its DENO_DIR is new: the npm packages are fetched once, through this machine's CA and proxy.
    for (const name of NETWORK_VARIABLES) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    const as = (program: string, args: string[]): Cmd => ({
      program: setpriv,
      args: [
        `--reuid=${OTHER_UID}`,
        `--regid=${OTHER_UID}`,
        "--clear-groups",
        "--",
        program,
        ...args,
      ],
      env,
      cwd: work,
    });
    const command = await installCommand(join(home, "command"), as);
    const hit = as(command, cliArgs());
    const bare = as(command, cliArgs("--no-sandbox"));
    // Warm-up: the npm packages, the environment, Deno's caches.
    for (let i = 0; i < 3; i++) for (const cmd of [hit, bare]) await timed(cmd);
    const venvs = join(home, "cache", "venvs");
    const venv = [...Deno.readDirSync(venvs)].find((e) => e.isDirectory)?.name;
    const entry = (await new Store(work).list()).entries.find((e) =>
      e.manifest.prompt === PROMPT && e.manifest.language === "python"
    );
    if (!venv || !entry) throw new Error("the warm-up built no environment or found no entry");
    const ctx = join(home, "context.json");
    await Deno.writeTextFile(ctx, JSON.stringify(CONTEXT));
    await Deno.chown(ctx, OTHER_UID, OTHER_UID);
    const direct = as(join(venvs, venv, "bin", "python"), [
      join(entry.dir, entry.manifest.entry),
      "--context",
      "@" + ctx,
    ]);
    const [hitMs, bareMs, directMs] = await interleaved([hit, bare, direct]);
    console.log(
      `as uid ${OTHER_UID}, a process of its own (CAPIBARA_RUNNER=0): cache hit, Python ` +
        `${ms(hitMs!)} | script directly ${ms(directMs!)} | ` +
        `overhead ${ms(hitMs! - directMs!)} | --no-sandbox ${ms(bareMs!)}: the sandbox adds ` +
        `${ms(hitMs! - bareMs!)} (targets: <= 60 ms over, <= 25 ms for the sandbox: ` +
        `${verdict(hitMs! - directMs! <= 60)}, ${verdict(hitMs! - bareMs! <= 25)})`,
    );
    // The default (CAPIBARA_RUNNER unset, outside CI): the runner that user's second hit starts
    // serves the rest.
    const name = `bench-${crypto.randomUUID()}`;
    const { CAPIBARA_RUNNER: _off, ...unset } = env;
    const onDemand = { ...unset, CAPIBARA_RUNNER_NAME: name };
    const served: Cmd = { ...hit, env: onDemand };
    const runner = (arg: string) =>
      timed({
        ...as(command, ["runner", arg, "--json"]),
        env: onDemand,
      });
    try {
      await startOnDemand(served, async () => JSON.parse((await runner("status")).stdout));
      const [servedMs, directMs2] = await interleaved([served, direct]);
      console.log(
        `as uid ${OTHER_UID}, the default (a runner started on demand): cache hit, Python ` +
          `${ms(servedMs!)} | script directly ${ms(directMs2!)} | overhead ` +
          `${ms(servedMs! - directMs2!)} (target <= 60 ms: ${
            verdict(servedMs! - directMs2! <= 60)
          })`,
      );
    } finally {
      await runner("stop");
    }
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    console.log(`as uid ${OTHER_UID}: skipped (${why.slice(-400)})`);
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

if (Deno.args.includes("--other-user")) {
  await asAnotherUser();
  Deno.exit(0);
}

const work = await Deno.makeTempDir({ prefix: "capibara_bench_" });
const cache = await Deno.makeTempDir({ prefix: "capibara_bench_cache_" });
const installed = await Deno.makeTempDir({ prefix: "capibara_bench_command_" });
try {
  await new Deno.Command("cp", { args: ["-r", join(REPO, "examples") + "/.", work] }).output();
  const env: Record<string, string> = {
    PATH: withDeno(Deno.env.get("PATH")),
    HOME: Deno.env.get("HOME") ?? "/tmp",
    CAPIBARA_CACHE_DIR: cache,
    NO_COLOR: "1",
    // A runner of the user's never serves the bench's own-process hits.
    CAPIBARA_RUNNER: "0",
  };
  const command = await installCommand(
    installed,
    (program, args) => ({ program, args, env, cwd: work }),
  );
  const cli = (...extra: string[]): Cmd => ({
    program: command,
    args: cliArgs(...extra),
    env,
    cwd: work,
  });
  // Deno's own start: an empty script.
  const emptyFile = join(work, "bench-empty.ts");
  await Deno.writeTextFile(emptyFile, "");
  const denoStart: Cmd = {
    program: Deno.execPath(),
    args: ["run", "-A", "--config", join(REPO, "deno.json"), emptyFile],
    env,
    cwd: work,
  };
  const pyHit = cli();
  // The same hit, reporting its steps (CAPIBARA_TIMINGS=1): where the time goes, measured inside.
  const pyStepped: Cmd = { ...pyHit, env: { ...env, CAPIBARA_TIMINGS: "1" } };
  const pyBare = cli("--no-sandbox");
  const tsHit = cli("--lang", "typescript");
  // Warm-up: builds the environments, fills Deno's code cache and the sandbox probe.
  for (let i = 0; i < 3; i++) {
    for (const cmd of [pyHit, pyBare, tsHit, denoStart, pyStepped]) await timed(cmd);
  }

  const store = new Store(work);
  const entries = (await store.list()).entries;
  const entryOf = (language: Language) =>
    entries.find((e) => e.manifest.prompt === PROMPT && e.manifest.language === language)!;
  const ctxFile = join(work, "bench-context.json");
  await Deno.writeTextFile(ctxFile, JSON.stringify(CONTEXT));

  // The Python script directly, by its venv's python.
  const py = entryOf("python");
  const pyPrepared = await new PythonRuntime({ env }).prepare(py.manifest, py.dir, {
    cacheDir: cache,
  });
  const pyDirect: Cmd = {
    program: pyPrepared.interpreter,
    args: [
      ...pyPrepared.interpreterArgs,
      join(py.dir, py.manifest.entry),
      "--context",
      "@" + ctxFile,
    ],
    env: { ...env, ...pyPrepared.env },
    cwd: work,
  };

  // The TypeScript script by `deno run` with the permission flags of a hit (no OS sandbox).
  const ts = entryOf("typescript");
  const config = resolveConfig({}, env);
  const tsPrepared = await new DenoRuntime({ env }).prepare(ts.manifest, ts.dir, {
    cacheDir: cache,
  });
  const tsTmp = runDirPath();
  await Deno.mkdir(tsTmp, { recursive: true, mode: 0o700 });
  // Gone however the bench ends (it holds the context, as a run's temp dir does).
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(tsTmp, { recursive: true });
    } catch {
      // removed at the end already
    }
  });
  const plan = await planRun({
    entry: ts,
    context: CONTEXT,
    grants: mergeGrants(config.grants, undefined),
    config,
    prepared: tsPrepared,
    tmpDir: tsTmp,
    workdir: work,
    storeRoot: store.root,
  });
  await Deno.writeTextFile(plan.contextFile, plan.contextJson);
  const tsWrapped = await new DenoPermissionsBackend().wrap(plan.command, {
    ...plan.policy,
    // In a hit the outputs are staged copies at the same paths, with the same flags.
    write: [...plan.policy.write, ...plan.writeDirs],
  });
  const tsDirect: Cmd = {
    program: tsWrapped.spec.program,
    // By hand the script keeps Deno's code cache in its DENO_DIR (a hit's DENO_DIR is new each run,
    // so a hit writes none): the baseline runs as a user would run it, and runs the store's file (a hit runs its verified copy in the run's temp dir).
    args: tsWrapped.spec.args.filter((arg) => arg !== "--no-code-cache").map((arg) =>
      arg === plan.script.copy ? plan.script.source : arg
    ),
    env: tsWrapped.spec.env ?? env,
    cwd: tsWrapped.spec.cwd ?? work,
  };
  await timed(tsDirect);

  console.log(`runs per measurement: ${RUNS} (medians, interleaved)`);

  // 1. Cache hit vs. direct, and the sandbox's share.
  const stepRuns: [string, number][][] = [];
  const stepWalls: number[] = [];
  const [pyHitMs, pyDirectMs, pyBareMs, tsHitMs, tsDirectMs, startMs] = await interleaved(
    [pyHit, pyDirect, pyBare, tsHit, tsDirect, denoStart, pyStepped],
    RUNS,
    (k, run) => {
      if (k !== 6) return;
      stepRuns.push(stepsOf(run.stderr));
      stepWalls.push(run.ms);
    },
  );
  hitLine("cache hit, Python, a process of its own (CAPIBARA_RUNNER=0)", pyHitMs!, pyDirectMs!);
  hitLine("cache hit, TypeScript, a process of its own", tsHitMs!, tsDirectMs!);
  const share = pyHitMs! - pyBareMs!;
  console.log(
    `sandbox share, a process of its own: hit ${ms(pyHitMs!)} vs. --no-sandbox ${
      ms(pyBareMs!)
    } | ` +
      `ratio ${(pyHitMs! / pyBareMs!).toFixed(2)}x | the sandbox adds ${ms(share)} ` +
      `(target <= 25 ms: ${verdict(share <= 25)})`,
  );

  // 2. The SDK in one process: a new instance per call, the same cached entry.
  // Each SDK run records its steps too (what CAPIBARA_TIMINGS prints for the command).
  const sdkSteps: Timing[][] = [];
  /** One SDK hit; `prestart` undefined: the default (sandboxes set up ahead). */
  const sdkRun = async (prestart?: boolean) => {
    recordTimings();
    step("(start)");
    const start = performance.now();
    await new Capibara({ root: work, cwd: work, env, warn: () => {}, prestart }).run(PROMPT, {
      context: CONTEXT,
    });
    const elapsed = performance.now() - start;
    if (prestart === false) sdkSteps.push(timings().slice(1));
    return elapsed;
  };
  for (let i = 0; i < 3; i++) await sdkRun(false);
  sdkSteps.length = 0;
  const sdk: number[] = [];
  const sdkDirect: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    sdk.push(await sdkRun(false));
    sdkDirect.push((await timed(pyDirect)).ms);
  }
  const sdkOverhead = median(sdk) - median(sdkDirect);
  console.log(
    `SDK hit in-process, a sandbox set up by each run: new Capibara({ prestart: false }).run() ` +
      `${ms(median(sdk))} | script directly ${ms(median(sdkDirect))} | overhead ` +
      `${ms(sdkOverhead)} (no target: the default sets up the next run's sandbox ahead)`,
  );
  // The default (`prestart`): each run's sandbox is set up while the one before goes on. Between
  // two runs the loop runs the script directly, as a loop doing other work would; back to back,
  // the next run waits for the rest of its sandbox's set-up.
  const warm: number[] = [];
  const warmDirect: number[] = [];
  const tight: number[] = [];
  for (let i = 0; i < 3; i++) await sdkRun();
  const used = prestarts.stats.used;
  for (let i = 0; i < RUNS; i++) {
    warm.push(await sdkRun());
    warmDirect.push((await timed(pyDirect)).ms);
  }
  for (let i = 0; i < RUNS; i++) tight.push(await sdkRun());
  await Capibara.disposePrestarted();
  const warmOverhead = median(warm) - median(warmDirect);
  console.log(
    `SDK hit in-process, the default: new Capibara().run() ` +
      `${ms(median(warm))} | script directly ${ms(median(warmDirect))} | overhead ` +
      `${ms(warmOverhead)} (target <= 10 ms: ${verdict(warmOverhead <= 10)}); back to back ` +
      `${ms(median(tight))}, overhead ${ms(median(tight) - median(warmDirect))}; ` +
      `${prestarts.stats.used - used} of ${2 * RUNS} runs used a sandbox set up ahead`,
  );
  console.log("  its steps with prestart: false (medians):");
  for (const [i, first] of (sdkSteps[0] ?? []).entries()) {
    const value = median(sdkSteps.map((run) => run[i]?.ms ?? 0));
    console.log(`  ${ms(value).padStart(10)}  ${first.step}`);
  }

  // Where a Python hit's time goes, as the hit itself measured its steps (CAPIBARA_TIMINGS=1).
  const stepNames = stepRuns[0]?.map(([name]) => name) ?? [];
  const stepMedians = stepNames.map((name, i) =>
    [name, median(stepRuns.map((run) => run[i]?.[1] ?? 0))] as [string, number]
  );
  const counted = stepMedians.reduce((sum, [, value]) => sum + value, 0);
  const steppedWall = median(stepWalls);
  console.log(
    `where a Python hit's time goes (${ms(steppedWall)}, its own steps, medians of ${RUNS}; ` +
      `an empty deno run: ${ms(startMs!)}):`,
  );
  console.log(
    `  ${ms(steppedWall - counted).padStart(10)}  Deno's start before its clock, and its exit`,
  );
  for (const [name, value] of stepMedians) console.log(`  ${ms(value).padStart(10)}  ${name}`);
  const inSandbox = stepMedians.find(([name]) => name === "the script, in the sandbox")?.[1];
  if (inSandbox !== undefined) {
    console.log(
      `  (the script alone takes ${ms(pyDirectMs!)}: the sandbox's processes add ` +
        `${ms(inSandbox - pyDirectMs!)} to its run)`,
    );
  }
  console.log(
    `  (in-process, the SDK's own work is ${ms(sdkOverhead)} per hit, sandbox included)`,
  );

  // 2a. The same hits as the command makes them by default (CAPIBARA_RUNNER unset, outside CI):
  // the second hit within a minute starts the user's resident runner (capibara runner), and the
  // command then hands each request over a socket; the runner runs it warm, its sandbox set up
  // ahead.
  const { CAPIBARA_RUNNER: _off, ...unset } = env;
  const runnerEnv = { ...unset, CAPIBARA_RUNNER_NAME: `bench-${crypto.randomUUID()}` };
  const viaRunner = (...extra: string[]): Cmd => ({ ...cli(...extra), env: runnerEnv });
  const runnerCli = (...args: string[]) =>
    new Deno.Command(command, {
      args: ["runner", ...args],
      env: runnerEnv,
      clearEnv: true,
      cwd: work,
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    const rPy = viaRunner();
    const rTs = viaRunner("--lang", "typescript");
    await startOnDemand(
      rPy,
      async () =>
        JSON.parse(new TextDecoder().decode((await runnerCli("status", "--json")).stdout)),
    );
    const rStepped: Cmd = { ...rPy, env: { ...runnerEnv, CAPIBARA_TIMINGS: "1" } };
    for (let i = 0; i < 3; i++) for (const cmd of [rPy, rTs]) await timed(cmd);
    const runnerSteps: [string, number][][] = [];
    const [rPyMs, rPyDirect, rTsMs, rTsDirect] = await interleaved(
      [rPy, pyDirect, rTs, tsDirect, rStepped],
      RUNS,
      (k, run) => {
        if (k === 4) runnerSteps.push(stepsOf(run.stderr));
      },
    );
    hitLine("cache hit, Python, the default (a runner started on demand)", rPyMs!, rPyDirect!);
    hitLine("cache hit, TypeScript, the default (a runner started on demand)", rTsMs!, rTsDirect!);
    // An unconfined run never goes through the runner: the sandbox's share there is what it adds
    // to the script's own run (the runner's step "the script, in the sandbox" vs. the script).
    const inRunner = median(
      runnerSteps.map((run) =>
        run.find(([name]) => name === "the script, in the sandbox")?.[1] ?? 0
      ),
    );
    const rShare = inRunner - rPyDirect!;
    console.log(
      `sandbox share through the runner: the script in the sandbox ${ms(inRunner)} vs. ` +
        `directly ${ms(rPyDirect!)} | the sandbox adds ${ms(rShare)} ` +
        `(target <= 25 ms: ${verdict(rShare <= 25)})`,
    );
    const status = JSON.parse(
      new TextDecoder().decode((await runnerCli("status", "--json")).stdout),
    );
    console.log(
      `  the runner served ${status.served} runs (declined ${status.declined}); sandboxes set ` +
        `up ahead ${status.prestart.started}, used ${status.prestart.used}, thrown away ` +
        `${status.prestart.discarded}`,
    );
    console.log("  a Python hit through the runner, its steps in the runner (medians):");
    for (const [i, [name]] of (runnerSteps[0] ?? []).entries()) {
      const value = median(runnerSteps.map((run) => run[i]?.[1] ?? 0));
      console.log(`  ${ms(value).padStart(10)}  ${name}`);
    }
  } finally {
    await runnerCli("stop");
  }

  // 2b. The same hits as a user other than root, which is what most people run as.
  await asAnotherUser();

  // 3. Peak memory of a hit (the whole process, as the kernel counts it).
  const peak = await peakMiB(pyHit);
  const peakDirect = await peakMiB(pyDirect);
  console.log(
    peak === undefined
      ? "peak memory of a hit: /usr/bin/time is not available"
      : `peak memory of a hit: ${peak.toFixed(1)} MiB (script directly ` +
        `${peakDirect?.toFixed(1) ?? "?"} MiB) (target <= 60 MiB: ${verdict(peak <= 60)})`,
  );

  // 4. 50 concurrent hits of one entry vs. 50 sequential ones.
  let start = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: CONCURRENT }, () => timed(pyHit)),
  );
  const concurrentMs = performance.now() - start;
  const failed = results.filter((r) => r.status === "rejected").length;
  const outputs = new Set(
    results.flatMap((r) =>
      r.status === "fulfilled" ? [JSON.stringify(JSON.parse(r.value.stdout).output)] : []
    ),
  );
  start = performance.now();
  for (let i = 0; i < CONCURRENT; i++) await timed(pyHit);
  const sequentialMs = performance.now() - start;
  console.log(
    `${CONCURRENT} concurrent hits: ${ms(concurrentMs)} vs. ${CONCURRENT} sequential ` +
      `${ms(sequentialMs)} | ${failed} failed, ${outputs.size} distinct output(s) ` +
      `(target: 0 failed, 1 output: ${verdict(failed === 0 && outputs.size === 1)})`,
  );

  // 5. A new requirement set: one local wheel, vs. plain venv + pip.
  const wheels = join(cache, "bench-wheels");
  await buildWheel(wheels, {
    name: "capibara-bench-fixture",
    version: "1.0.0",
    module: { "capibara_bench_fixture.py": "VALUE = 1\n" },
  });
  const pipEnv = {
    ...env,
    PIP_CONFIG_FILE: "/dev/null",
    PIP_NO_INDEX: "1",
    PIP_FIND_LINKS: wheels,
    PIP_NO_CACHE_DIR: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
  };
  const requirement = "capibara-bench-fixture==1.0.0";
  const newSet: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < BUILDS; i++) {
    const buildCache = join(cache, `bench-build-${i}`);
    const begin = performance.now();
    await new PythonRuntime({ env: pipEnv }).prepare(
      { ...py.manifest, deps: [requirement] },
      py.dir,
      { cacheDir: buildCache, sandbox: platformBackend(buildCache), warn: () => {} },
    );
    newSet.push(performance.now() - begin);
    const venv = join(cache, `bench-venv-${i}`);
    const from = performance.now();
    await timed({ program: "python3", args: ["-m", "venv", venv], env: pipEnv, cwd: work });
    await timed({
      program: join(venv, "bin", "python"),
      args: ["-m", "pip", "install", "--quiet", requirement],
      env: pipEnv,
      cwd: work,
    });
    plain.push(performance.now() - from);
  }
  console.log(
    `new requirement set (one local wheel, sandboxed install): ${ms(median(newSet))} | ` +
      `plain python -m venv + pip install ${ms(median(plain))} | ratio ` +
      `${(median(newSet) / median(plain)).toFixed(2)}x (${BUILDS} builds each; target: ` +
      `faster than the plain venv + pip: ${verdict(median(newSet) < median(plain))})`,
  );

  // 6. bubblewrap's own start-up.
  const bwrap = new BubblewrapBackend();
  if (Deno.build.os === "linux" && (await bwrap.available()).ok) {
    const tmpDir = join(cache, "bench-tmp");
    const spec = { program: "true", args: [], env: { PATH: env.PATH! }, cwd: work };
    const policy = {
      network: [],
      read: [],
      write: [],
      protect: [],
      workdir: work,
      tmpDir,
      memoryBytes: 256 * 1024 * 1024,
      maxProcesses: 64,
    };
    const bare: number[] = [];
    const wrapped: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let begin = performance.now();
      await execCommand(spec, { timeoutMs: 10_000 });
      bare.push(performance.now() - begin);
      begin = performance.now();
      const command = await bwrap.wrap(spec, policy);
      try {
        const result = await execCommand(command.spec, { timeoutMs: 10_000 });
        if (result.code !== 0) throw new Error(`Cannot run true in the sandbox: ${result.stderr}`);
      } finally {
        await command.close();
      }
      wrapped.push(performance.now() - begin);
    }
    console.log(
      `bubblewrap start-up: true directly ${ms(median(bare))} | ` +
        `wrap + run + close ${ms(median(wrapped))}`,
    );
  }
  // 7. The Core.
  await benchCore();
  await tsWrapped.close();
  await Deno.remove(tsTmp, { recursive: true }).catch(() => {});
} finally {
  await Deno.remove(work, { recursive: true });
  await Deno.remove(cache, { recursive: true });
  await Deno.remove(installed, { recursive: true });
}
