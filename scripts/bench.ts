/**
 * Benchmarks, measured in one run on this machine and printed as ratios:
 *
 * - a cache-hit `capibara run` vs. running the same cached script directly with its venv's python;
 * - the second environment request for an already-built requirement set;
 * - the sandbox's cost: a cache-hit run under bubblewrap vs. the same run with `--no-sandbox`;
 * - bubblewrap's own start-up: wrap + run + close of `true` vs. running `true` directly (Linux).
 *
 *   deno task bench [--runs N]
 *
 * @module
 */
import { join } from "node:path";
import { execCommand } from "../src/exec.ts";
import { PythonRuntime } from "../src/runtimes/python.ts";
import { BubblewrapBackend } from "../src/sandbox/linux.ts";
import { Store } from "../src/store/store.ts";

const RUNS = Number(Deno.args[Deno.args.indexOf("--runs") + 1]) || 15;
const REPO = join(import.meta.dirname!, "..");
const PROMPT = "Summarise the sales CSV: total revenue, units and revenue per region";
const CONTEXT = { input: "data/sales.csv", output: "out/summary.json" };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function timed(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  const start = performance.now();
  const out = await new Deno.Command(cmd, { args, cwd, env, clearEnv: true, stdout: "piped" })
    .output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

const work = await Deno.makeTempDir({ prefix: "capibara_bench_" });
const cache = await Deno.makeTempDir({ prefix: "capibara_bench_cache_" });
try {
  await new Deno.Command("cp", { args: ["-r", join(REPO, "examples") + "/.", work] }).output();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    CAPIBARA_CACHE_DIR: cache,
    NO_COLOR: "1",
  };
  const cli = [
    "run",
    "-A",
    join(REPO, "main.ts"),
    "run",
    PROMPT,
    "--context",
    JSON.stringify(CONTEXT),
    "--json",
  ];
  // Warm-up: builds the venv, fills Deno's code cache.
  for (let i = 0; i < 3; i++) await timed(Deno.execPath(), cli, work, env);

  const store = new Store(work);
  const entry = (await store.list()).entries.find((e) => e.manifest.prompt === PROMPT)!;
  const runtime = new PythonRuntime({ env });
  const prepared = await runtime.prepare(entry.manifest, entry.dir, { cacheDir: cache });
  const ctxFile = join(work, "bench-context.json");
  await Deno.writeTextFile(ctxFile, JSON.stringify(CONTEXT));
  const direct = [join(entry.dir, entry.manifest.entry), "--context", "@" + ctxFile];
  for (let i = 0; i < 3; i++) {
    await timed(prepared.interpreter, direct, work, { ...env, ...prepared.env });
  }

  const hits: number[] = [];
  const directs: number[] = [];
  const unsandboxed: number[] = [];
  const noSandbox = [...cli, "--no-sandbox"];
  for (let i = 0; i < RUNS; i++) {
    // Interleaved so that machine noise hits all alike.
    hits.push(await timed(Deno.execPath(), cli, work, env));
    directs.push(await timed(prepared.interpreter, direct, work, { ...env, ...prepared.env }));
    unsandboxed.push(await timed(Deno.execPath(), noSandbox, work, env));
  }
  const bare = median(unsandboxed);
  const hit = median(hits);
  const base = median(directs);

  const second: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const fresh = new PythonRuntime({ env });
    const start = performance.now();
    await fresh.prepare(entry.manifest, entry.dir, { cacheDir: cache });
    second.push(performance.now() - start);
  }

  console.log(`runs per measurement: ${RUNS} (medians)`);
  console.log(
    `cache-hit capibara run: ${hit.toFixed(1)} ms | script directly: ${base.toFixed(1)} ms | ` +
      `ratio ${(hit / base).toFixed(2)}x | overhead ${
        (hit - base).toFixed(1)
      } ms (target < 100 ms)`,
  );
  console.log(
    `second environment request (already built): ${median(second).toFixed(2)} ms`,
  );
  console.log(
    `sandbox: cache-hit run ${hit.toFixed(1)} ms vs. --no-sandbox ${bare.toFixed(1)} ms | ` +
      `ratio ${(hit / bare).toFixed(2)}x | the sandbox adds ${(hit - bare).toFixed(1)} ms ` +
      `(target < 30 ms)`,
  );

  const bwrap = new BubblewrapBackend();
  if (Deno.build.os === "linux" && (await bwrap.available()).ok) {
    const tmpDir = join(cache, "bench-tmp");
    const spec = { program: "true", args: [], env: { PATH: env.PATH }, cwd: work };
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
      let start = performance.now();
      await execCommand(spec, { timeoutMs: 10_000 });
      bare.push(performance.now() - start);
      start = performance.now();
      const command = await bwrap.wrap(spec, policy);
      try {
        const result = await execCommand(command.spec, { timeoutMs: 10_000 });
        if (result.code !== 0) throw new Error(`Cannot run true in the sandbox: ${result.stderr}`);
      } finally {
        await command.close();
      }
      wrapped.push(performance.now() - start);
    }
    console.log(
      `bubblewrap start-up: true directly ${median(bare).toFixed(1)} ms | ` +
        `wrap + run + close ${median(wrapped).toFixed(1)} ms`,
    );
  }
} finally {
  await Deno.remove(work, { recursive: true });
  await Deno.remove(cache, { recursive: true });
}
