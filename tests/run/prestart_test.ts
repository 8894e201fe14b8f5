/**
 * Sandboxes started ahead of their run (`prestart`): the next run of a request uses the one set up
 * for it only when nothing it shows changed, and nothing of the script runs before its run.
 */
import { commandLines } from "../helpers/processes.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara, type CapibaraOptions } from "../../src/capibara.ts";
import type { Generator } from "../../src/generate/types.ts";
import type { Plan } from "../../src/run/plan.ts";
import { prestartable, prestarts } from "../../src/run/prestart.ts";
import type { Bundle } from "../../src/schema.ts";
import { bundleObject, fixedGenerator } from "../helpers/fake_llm.ts";
import { OS_SANDBOX } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

if (!OS_SANDBOX) {
  console.warn("SKIPPED: prestart tests need bubblewrap (apt-get install bubblewrap)");
}

function generator(body: string, imports: string[] = []): Generator {
  return fixedGenerator(
    bundleObject({ body, imports, needs: { env: ["GRANTED_VAR"] } }) as unknown as Bundle,
  );
}

/** Reads the input, writes it to the output folder, and says when the script itself started. */
const ECHO = `import time
started = time.time()
with open(ctx["input"], encoding="utf-8") as fh:
    text = fh.read()
if text == "fail":
    raise SystemExit("asked to fail")
with open(os.path.join(ctx["output"], "copy.txt"), "w", encoding="utf-8") as fh:
    fh.write(text)
return {"output": {"text": text, "started": started, "var": os.environ.get("GRANTED_VAR")},
        "artifacts": [os.path.join(ctx["output"], "copy.txt")]}`;

/** Makes the tests' project (an input and an output folder) in a folder of `root`; its path. */
async function project(root: string, name = "p"): Promise<string> {
  const dir = join(root, name);
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  await Deno.mkdir(join(dir, "out"));
  await Deno.writeTextFile(join(dir, "data", "in.txt"), "first");
  return dir;
}

function sdk(dir: string, cache: string, over: CapibaraOptions = {}): Capibara {
  return new Capibara({
    root: dir,
    cwd: dir,
    cacheDir: cache,
    generator: generator(ECHO, ["os", "time"]),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", GRANTED_VAR: "one" },
    allow: { env: ["GRANTED_VAR"] },
    prestart: true,
    warn: () => {},
    ...over,
  });
}

const CONTEXT = { input: "data/in.txt", output: "out/" };

Deno.test({
  name: "prestart: the next run uses the sandbox set up for it, and never a stale one",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const dir = await project(tmp.path);
    const cache = join(tmp.path, "cache");
    const run = async (over: CapibaraOptions = {}) =>
      (await sdk(dir, cache, over).run("echo the input", { context: CONTEXT })).output;
    try {
      const before = { ...prestarts.stats };
      const delta = () => ({
        used: prestarts.stats.used - before.used,
        discarded: prestarts.stats.discarded - before.discarded,
      });
      assert.equal((await run()).text, "first");
      // A request run once leaves nothing waiting: its next sandbox is set up from its second run.
      assert.equal(prestarts.size, 0, "a sandbox waits after a request's first run");
      assert.equal((await run()).text, "first");
      assert.deepEqual(delta(), { used: 0, discarded: 0 });
      // Set up ahead: nothing of the script runs before the run it is for.
      await new Promise((r) => setTimeout(r, 700));
      const released = Date.now() / 1000;
      const second = await run();
      assert.equal(second.text, "first");
      assert.deepEqual(delta(), { used: 1, discarded: 0 });
      assert.ok(
        (second.started as number) >= released - 0.05,
        `the script started ${released - (second.started as number)} s before its run`,
      );
      assert.equal(await Deno.readTextFile(join(dir, "out", "copy.txt")), "first");

      // An input written in place since: the waiting sandbox is thrown away.
      await Deno.writeTextFile(join(dir, "data", "in.txt"), "second");
      assert.equal((await run()).text, "second");
      assert.deepEqual(delta(), { used: 1, discarded: 1 });
      // An input replaced by another file (a new inode, which a bind made earlier would miss).
      await Deno.writeTextFile(join(dir, "data", "in.new"), "third");
      await Deno.rename(join(dir, "data", "in.new"), join(dir, "data", "in.txt"));
      assert.equal((await run()).text, "third");
      assert.deepEqual(delta(), { used: 1, discarded: 2 });
      // The output folder replaced: its bind would be detached.
      await Deno.rename(join(dir, "out"), join(dir, "old-out"));
      await Deno.mkdir(join(dir, "out"));
      assert.equal((await run()).text, "third");
      assert.equal(await Deno.readTextFile(join(dir, "out", "copy.txt")), "third");
      assert.deepEqual(delta(), { used: 1, discarded: 3 });
      // A granted variable with another value: another plan.
      assert.equal((await run({ env: { PATH: "/usr/bin:/bin", GRANTED_VAR: "two" } })).var, "two");
      assert.deepEqual(delta(), { used: 1, discarded: 4 });
      // Nothing changed: used.
      assert.equal((await run({ env: { PATH: "/usr/bin:/bin", GRANTED_VAR: "two" } })).var, "two");
      assert.deepEqual(delta(), { used: 2, discarded: 4 });
      // A run that fails throws away the sandbox set up for the next, and none is set up after it.
      await Deno.writeTextFile(join(dir, "data", "in.txt"), "fail");
      await assert.rejects(run());
      assert.equal(prestarts.size, 0, "a sandbox waits after a failed run");
      // The waiting one was stale (the input written), and the one set up for the next run went.
      assert.deepEqual(delta(), { used: 2, discarded: 6 });
      await assert.rejects(run());
      assert.equal(prestarts.size, 0, "a sandbox was set up after a failed run");
    } finally {
      await Capibara.disposePrestarted();
    }
    assert.equal(prestarts.size, 0);
    // Nothing of what waited is left: no process, no temp dir.
    assert.deepEqual(
      commandLines().filter(({ line }) => line.includes(tmp.path)),
      [],
      "a started sandbox survived",
    );
  },
});

Deno.test("prestartable() refuses plans that would change the project while they wait", async () => {
  await using tmp = await withTmpDir();
  const plan = (over: Partial<Plan["policy"]>, outputs: Plan["outputs"]): Plan =>
    ({
      policy: { write: [], ...over },
      outputs,
    }) as unknown as Plan;
  const folder = join(tmp.path, "out");
  await Deno.mkdir(folder);
  const file = join(tmp.path, "result.json");
  assert.equal(prestartable(plan({}, [{ target: folder, kind: "dir", staging: "" }])), true);
  // An output folder or file not there yet would be created by the stage.
  assert.equal(
    prestartable(plan({}, [{ target: join(tmp.path, "missing"), kind: "dir", staging: "" }])),
    false,
  );
  assert.equal(prestartable(plan({}, [{ target: file, kind: "file", staging: "" }])), false);
  await Deno.writeTextFile(file, "{}");
  assert.equal(prestartable(plan({}, [{ target: file, kind: "file", staging: "" }])), true);
  // A folder written in place would be lent to the sandbox while it waits.
  assert.equal(prestartable(plan({ write: [folder] }, [])), false);
});

Deno.test({
  name: "prestart: a TypeScript run's Deno starts ahead, and nothing of the script runs before it",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const dir = await project(tmp.path);
    const script = `const started = Date.now() / 1000;
let stdin = "";
try {
  const buffer = new Uint8Array(16);
  stdin = String(Deno.stdin.readSync(buffer));
} catch (error) {
  stdin = String(error);
}
console.log(JSON.stringify({ status: "ok", artifacts: [], output: { started, stdin }, raw: {} }));
`;
    const bundle = {
      ...bundleObject({ language: "typescript", script }),
      requirements: [],
    } as unknown as Bundle;
    const cb = () => sdk(dir, join(tmp.path, "cache"), { generator: fixedGenerator(bundle) });
    try {
      await cb().run("report when it started", { context: CONTEXT, language: "typescript" });
      const used = prestarts.stats.used;
      await cb().run("report when it started", { context: CONTEXT, language: "typescript" });
      await new Promise((r) => setTimeout(r, 700));
      const released = Date.now() / 1000;
      const { output } = await cb().run("report when it started", {
        context: CONTEXT,
        language: "typescript",
      });
      assert.equal(prestarts.stats.used, used + 1, "the third run did not use its sandbox");
      assert.ok(
        (output.started as number) >= released - 0.05,
        `the script started ${released - (output.started as number)} s before its run`,
      );
      // Its standard input holds nothing (the gate's newline was the gate's).
      assert.equal(output.stdin, "null");
    } finally {
      await Capibara.disposePrestarted();
    }
  },
});

Deno.test({
  name: "prestart: on by default from a request's second run; prestart: false sets up none",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const dir = await project(tmp.path);
    const cache = join(tmp.path, "cache");
    const run = (over: CapibaraOptions) => sdk(dir, cache, over).run("echo", { context: CONTEXT });
    try {
      for (let i = 0; i < 2; i++) await run({ prestart: false });
      assert.equal(prestarts.size, 0, "prestart: false set up a sandbox ahead");
      const used = prestarts.stats.used;
      // The default: from the request's second run (as the pool counts them), its next sandbox
      // is set up, and the next run uses it.
      await run({ prestart: undefined });
      assert.equal(prestarts.size, 0, "a sandbox waits after a request's first run");
      await run({ prestart: undefined });
      assert.equal(prestarts.size, 1, "the default set up no sandbox for the next run");
      await run({ prestart: undefined });
      assert.equal(prestarts.stats.used, used + 1);
    } finally {
      await Capibara.disposePrestarted();
    }
    assert.equal(prestarts.size, 0);
  },
});

Deno.test({
  name: "prestart: a runner's run leaves its folder for after its answer, and removes it then",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const dir = await project(tmp.path, "project");
    const before = prestarts.nextAfterRun;
    prestarts.nextAfterRun = true;
    // This run's folders are named by the pool: the suite's other tests, in this process too,
    // make run folders in the same temp folder meanwhile.
    const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);
    try {
      const cb = sdk(dir, join(tmp.path, "cache"));
      await cb.run("copy the input", { context: CONTEXT });
      // The second run of the request sets up its next sandbox, once the answer went; its own
      // folder (the sandbox the first run set up) goes then too.
      await cb.run("copy the input", { context: CONTEXT });
      await prestarts.removals();
      // The next one starts on a timer of its own, which a loaded machine may fire a turn later.
      for (let i = 0; i < 200 && prestarts.size === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const ahead = await prestarts.waiting();
      assert.equal(ahead.length, 1, "one sandbox set up ahead");
      assert.ok(await exists(ahead[0]!), "the sandbox set up ahead has no folder");
      const used = prestarts.stats.used;
      const result = await cb.run("copy the input", { context: CONTEXT });
      assert.equal(result.output.text, "first");
      assert.equal(prestarts.stats.used, used + 1, "the run used the sandbox set up ahead");
      // Its folder is still there when its result is: the answer does not wait for its removal.
      assert.ok(await exists(ahead[0]!), "the run's folder went before its result");
      // The run sets up the next sandbox on a timer: waited for, or it would start after this
      // test's clean-up and wait in the next test's pool.
      for (let i = 0; i < 200 && prestarts.size === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Then it goes (dispose also waits for what is left).
      await Capibara.disposePrestarted();
      assert.ok(!await exists(ahead[0]!), "the run's folder was left behind");
    } finally {
      prestarts.nextAfterRun = before;
      await Capibara.disposePrestarted();
    }
  },
});

/**
 * The host pid of the process that waits at the gate of the sandbox started ahead: its command
 * names the script's verified copy in that sandbox's run folder.
 */
async function gateProcess(sign: string): Promise<number> {
  const [dir] = await prestarts.waiting();
  assert.ok(dir, "no sandbox waits");
  for (let i = 0; i < 200; i++) {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      let cmdline = "";
      try {
        cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      } catch {
        continue;
      }
      // The interpreter itself, not bubblewrap or the launcher, whose arguments name it too.
      const program = cmdline.split("\0")[0]!.split("/").at(-1)!;
      if (
        /^(python|deno)/.test(program) && cmdline.includes(sign) && cmdline.includes(dir)
      ) return Number(entry.name);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("no process waits at the gate");
}

/**
 * Starts `run` with the process waiting at its sandbox's gate (`pid`) stopped, and kills that
 * process `ms` after the run took the sandbox: the gate never lets the run through.
 */
async function killedAtGate<T>(pid: number, run: () => Promise<T>, ms: number): Promise<T> {
  Deno.kill(pid, "SIGSTOP");
  const used = prestarts.stats.used;
  const running = run();
  while (prestarts.stats.used === used) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, ms));
  Deno.kill(pid, "SIGKILL");
  return await running;
}

for (const language of ["python", "typescript"] as const) {
  Deno.test({
    name:
      `prestart: a ${language} sandbox started ahead that dies at its gate as its run takes it: the run starts afresh, and works`,
    ignore: !OS_SANDBOX,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using tmp = await withTmpDir();
      const dir = await project(tmp.path);
      const cache = join(tmp.path, "cache");
      const typescript = {
        ...bundleObject({
          language: "typescript",
          script: `const text = await Deno.readTextFile(${
            JSON.stringify(join(dir, "data", "in.txt"))
          });
console.log(JSON.stringify({ status: "ok", artifacts: [], output: { text }, raw: {} }));
`,
        }),
        requirements: [],
      } as unknown as Bundle;
      const cb = () =>
        sdk(
          dir,
          cache,
          language === "typescript"
            ? { generator: fixedGenerator(typescript), allow: { read: [dir], env: [] } }
            : {},
        );
      const run = () => cb().run("echo the input", { context: CONTEXT, language });
      try {
        await run();
        await run();
        assert.equal(prestarts.size, 1, "no sandbox waits for the next run");
        // What waits at the gate (the Landlock step, or Deno's preloaded gate) is stopped, and
        // killed once the run took its sandbox: the gate never lets the run through.
        const pid = await gateProcess(language === "python" ? "--held=" : "data:text/javascript,");
        const before = { ...prestarts.stats };
        const { output } = await killedAtGate(pid, run, 200);
        assert.equal(output.text, "first");
        assert.equal(prestarts.stats.used, before.used + 1);
        assert.equal(prestarts.stats.lost, before.lost + 1, "the run did not start afresh");
      } finally {
        await Capibara.disposePrestarted();
      }
    },
  });
}

Deno.test({
  name:
    "prestart: a run started afresh after its sandbox was lost has only the time its limit has left",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tmp = await withTmpDir();
    const dir = await project(tmp.path);
    const warnings: string[] = [];
    const cb = () =>
      sdk(dir, join(tmp.path, "cache"), {
        generator: generator(ECHO.replace("started =", "time.sleep(1.5)\nstarted ="), [
          "os",
          "time",
        ]),
        warn: (message) => warnings.push(message),
      });
    const run = () => cb().run("sleep, then echo the input", { context: CONTEXT, timeout: 3 });
    try {
      await run();
      await run();
      assert.equal(prestarts.size, 1, "no sandbox waits for the next run");
      const pid = await gateProcess("--held=");
      const before = { ...prestarts.stats };
      // The lost start spends 2.5 s of the run's 3: what is left cannot hold the script's 1.5.
      await assert.rejects(killedAtGate(pid, run, 2500), /timed out|time limit/i);
      assert.equal(prestarts.stats.lost, before.lost + 1);
      assert.match(warnings.join("\n"), /the run starts again/);
    } finally {
      await Capibara.disposePrestarted();
    }
  },
});
