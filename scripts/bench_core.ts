/**
 * The Core's load test, on loopback: a `capibara serve` process with disk storage and one entry,
 * then `GET /v1/entries/<fp>` and `/v1/gen` cache hits at 1, 10 and 50 concurrent clients for a
 * fixed time each. Prints requests per second, p50 and p99 latency and errors, against the target
 * of 2,000 entry GETs per second. Part of `deno task bench`; alone: `deno task bench --core`.
 *
 * @module
 */
import { join } from "node:path";
import { writeKeyPair } from "../src/core/sign.ts";
import { bundleReply, startFakeLLM } from "../tests/helpers/fake_llm.ts";

const REPO = join(import.meta.dirname!, "..");
const SECONDS_EACH = 1;
const TOKEN = "bench-token-0123456789abcdef";
const TARGET_GETS = 2000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux; undefined elsewhere). */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Runs `clients` loops of `request` for `seconds`; throughput, latencies and errors. */
async function load(
  clients: number,
  seconds: number,
  request: () => Promise<Response>,
): Promise<{ rps: number; p50: number; p99: number; errors: number; count: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const begin = performance.now();
      try {
        const response = await request();
        await response.arrayBuffer();
        if (response.status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - begin);
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
    count: latencies.length,
  };
}

/** The Core section of the benchmarks. */
export async function benchCore(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capibara_bench_core_" });
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const key = await writeKeyPair(join(dir, "key"));
  // The Core refuses a tokens file others may read.
  await Deno.writeTextFile(join(dir, "tokens"), `${TOKEN} read,gen\n`, { mode: 0o600 });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(REPO, "main.ts"),
      "serve",
      "--port",
      "0",
      "--tokens",
      join(dir, "tokens"),
      "--signing-key",
      key.private_key_path,
      "--store",
      join(dir, "store"),
      "--rate",
      "1000000",
      "--burst",
      "1000000",
    ],
    env: { CAPIBARA_BASE_URL: llm.url, CAPIBARA_MODEL: "fake-model" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error("The Core exited before listening");
      line += value;
    }
    reader.releaseLock();
    const url = line.split("\n")[0]!.split(" ").at(-1)!;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const genBody = JSON.stringify({ prompt: "Echo the context", context: { n: 1 } });
    const first = await fetch(`${url}/v1/gen`, { method: "POST", headers, body: genBody });
    const fp = (await first.json()).manifest.fingerprint;
    const routes: [string, () => Promise<Response>][] = [
      ["GET /v1/entries", () => fetch(`${url}/v1/entries/${fp}`, { headers })],
      ["/v1/gen hit", () => fetch(`${url}/v1/gen`, { method: "POST", headers, body: genBody })],
    ];
    for (const [name, request] of routes) {
      for (const clients of [1, 10, 50]) {
        await load(clients, 0.2, request); // warm-up
        const before = [cpuMs(child.pid), cpuMs(Deno.pid)];
        const r = await load(clients, SECONDS_EACH, request);
        const after = [cpuMs(child.pid), cpuMs(Deno.pid)];
        const perRequest = (i: number) => ((after[i]! - before[i]!) * 1000 / r.count).toFixed(0);
        // The clients share the machine with the Core: their CPU says how much of it they took.
        const cpu = before.includes(undefined) || after.includes(undefined)
          ? ""
          : ` | CPU: Core ${perRequest(0)}, clients ${perRequest(1)} µs/req`;
        const target = name.startsWith("GET") && clients > 1
          ? ` (target ≥ ${TARGET_GETS}/s: ${
            r.rps >= TARGET_GETS && r.errors === 0 ? "ok" : "MISSED"
          })`
          : "";
        console.log(
          `Core ${name.padEnd(15)} ${String(clients).padStart(2)} clients: ` +
            `${r.rps.toFixed(0).padStart(6)} req/s | p50 ${r.p50.toFixed(2)} ms | ` +
            `p99 ${r.p99.toFixed(2)} ms | ${r.errors} errors of ${r.count}${cpu}${target}`,
        );
      }
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // it already exited (the error above says why it stopped the bench)
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await benchCore();
