/**
 * Everything dies with Capibara: a TypeScript script started by a real `capibara run` process
 * does not outlive that process, whether it is killed (SIGKILL) or interrupted (SIGINT).
 */
import { commandLines } from "../helpers/processes.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { MAIN, OS_SANDBOX } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

if (!OS_SANDBOX) {
  console.warn("SKIPPED: the lifetime tests need bubblewrap (apt-get install bubblewrap)");
}

const CACHE = await Deno.makeTempDir({ prefix: "capibara_lifetime_cache_" });
globalThis.addEventListener("unload", () => Deno.removeSync(CACHE, { recursive: true }));

/** Writes `started`, sleeps, then writes `finished`: the marker of a script that outlived us. */
function sleeperScript(token: string): string {
  return `// --- CAPIBARA ---
// deps: none
// --- /CAPIBARA ---
// handles --context, --selftest and --dry-run
import { parseArgs } from "node:util";
const { values } = parseArgs({
  args: Deno.args,
  options: {
    context: { type: "string" },
    selftest: { type: "boolean" },
    "dry-run": { type: "boolean" },
  },
});
if (values.selftest || values["dry-run"]) {
  console.log(JSON.stringify({ status: "ok", artifacts: [], output: {}, raw: {} }));
  Deno.exit(0);
}
const context = JSON.parse(Deno.readTextFileSync(String(values.context).slice(1)));
const token = ${JSON.stringify(token)};
Deno.writeTextFileSync(context.started_marker, token);
await new Promise((resolve) => setTimeout(resolve, 4000));
Deno.writeTextFileSync(context.finished_marker, token);
console.log(JSON.stringify({ status: "ok", artifacts: [], output: {}, raw: {} }));
`;
}

/** The command lines of live processes holding `text` (the script's path). */
function processesHolding(text: string): string[] {
  return commandLines().filter(({ line }) => line.includes(text)).map(({ line }) => line);
}

/**
 * The run folder of the script a process started: from the command line of a process below it
 * that runs a verified copy (`<run folder>/entry/script.<ext>`).
 */
function scriptRunDir(root: number): string | undefined {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      parents.set(Number(entry.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) {
      if (at === root) return true;
    }
    return false;
  };
  for (const pid of parents.keys()) {
    if (!below(pid)) continue;
    let cmdline = "";
    try {
      cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    } catch {
      continue;
    }
    const match = /(\/[^\0]*capibara-run-[^/\0]+)\/entry\/script\./.exec(cmdline);
    if (match) return match[1];
  }
  return undefined;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Gave up waiting: ${what}`);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

for (const signal of ["SIGKILL", "SIGINT"] as const) {
  Deno.test({
    name: `capibara run: a TypeScript script dies with the CLI on ${signal}`,
    ignore: !OS_SANDBOX,
    async fn() {
      await using tmp = await withTmpDir();
      const token = `capibara-lifetime-${signal}-${crypto.randomUUID()}`;
      await using llm = startFakeLLM({
        replies: [bundleReply({ language: "typescript", script: sleeperScript(token) })],
      });
      // A granted write path is written in place (outputs are copied out only after the run), so
      // the markers show on the host while the script runs.
      await Deno.mkdir(join(tmp.path, "markers"));
      const started = join(tmp.path, "markers", "started.txt");
      const finished = join(tmp.path, "markers", "finished.txt");
      const cli = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          MAIN,
          "run",
          "--lang",
          "typescript",
          `Sleep, then write a marker (${signal})`,
          "--context",
          JSON.stringify({
            started_marker: "markers/started.txt",
            finished_marker: "markers/finished.txt",
          }),
          "--allow-write",
          "markers",
        ],
        cwd: tmp.path,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/tmp",
          NO_COLOR: "1",
          CAPIBARA_BASE_URL: llm.url,
          CAPIBARA_API_KEY: "test-key",
          CAPIBARA_MODEL: "fake-model",
          CAPIBARA_CACHE_DIR: CACHE,
        },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(cli.stderr).text();
      let running = true;
      const status = cli.status.finally(() => running = false);
      await until(async () => !running || await exists(started), "the script to start");
      if (!running) assert.fail(`the CLI ended before the script started: ${await stderr}`);
      // The script runs from its verified copy in the run's own folder: that folder names it.
      const runDir = scriptRunDir(cli.pid);
      assert.ok(runDir, "no script process to kill");
      const scripts = runDir + "/";
      assert.notDeepEqual(processesHolding(scripts), [], "no script process to kill");

      cli.kill(signal);
      await status;
      await stderr;
      // Once no process of the script is left, the marker can never appear.
      let left: string[] = [];
      await until(() => Promise.resolve((left = processesHolding(scripts)).length === 0), "")
        .catch(() => {});
      assert.deepEqual(left, [], "a script process outlived the CLI");
      assert.equal(await exists(finished), false, "the script finished after the CLI died");
    },
  });
}
