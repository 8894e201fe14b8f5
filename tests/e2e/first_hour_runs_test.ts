/**
 * The first hour through the real CLI, while a script runs: signals, `--verbose`, and
 * `capibara show`'s run-by-hand command.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, pidNamespace } from "../../src/_fs.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { MAIN, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { envFor, type ErrorDoc, named, OS_SANDBOX, until } from "./_first_hour.ts";
import { CONTEXT, examplesIn, PROMPT } from "../helpers/runner.ts";

/**
 * A project where a miss generates a script that marks its start, then sleeps a minute: the
 * folder runs keep their temp dirs in, the marker, the model's reply, the context, and the
 * command's environment.
 */
async function sleepingProject(dir: string) {
  // Others may pass through (a root run's sandbox uid): the runs make their state dirs in TMPDIR,
  // where the tests look for them, not in /dev/shm.
  await Deno.chmod(dir, 0o711);
  const tmpRoot = join(dir, "tmp");
  await Deno.mkdir(tmpRoot);
  await Deno.chmod(tmpRoot, 0o711);
  await Deno.mkdir(join(dir, "markers"));
  const body = [
    'open(ctx["started_marker"], "w").write("started")',
    "time.sleep(60)",
    'return {"output": {"done": True}}',
  ].join("\n");
  return {
    tmpRoot,
    started: join(dir, "markers", "started.txt"),
    reply: bundleReply({ body, imports: ["time"] }),
    context: JSON.stringify({ started_marker: "markers/started.txt" }),
    env: (url: string, extra: Record<string, string> = {}) => ({
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      TMPDIR: tmpRoot,
      ...extra,
      ...envFor(url),
    }),
  };
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test({
    name: `capibara run on ${signal} cleans up, says what was interrupted and exits ${code}`,
    ignore: !OS_SANDBOX,
    async fn() {
      await using tmp = await withTmpDir();
      const project = await sleepingProject(tmp.path);
      const { tmpRoot } = project;
      await using llm = startFakeLLM({ replies: [project.reply] });
      const cli = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          MAIN,
          "run",
          `Sleep for a minute (${signal})`,
          "--context",
          project.context,
          "--allow-write",
          "markers",
        ],
        cwd: tmp.path,
        clearEnv: true,
        env: project.env(llm.url),
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(cli.stderr).text();
      let running = true;
      const status = cli.status.finally(() => running = false);
      await until(async () => !running || await exists(project.started), "the script to start");
      if (!running) assert.fail(`the CLI ended before the script started: ${await stderr}`);
      // While it runs, its temporary folders exist (the test sees what it then checks is gone).
      assert.notDeepEqual(await named(tmpRoot, "capibara-run-", 0), []);
      assert.notDeepEqual(await named(tmpRoot, "capibara-sbx-", 0), []);

      cli.kill(signal);
      const { code: exitCode } = await status;
      const text = await stderr;
      assert.deepEqual(await named(tmpRoot, "capibara-run-", 0), []);
      assert.deepEqual(await named(tmpRoot, "capibara-sbx-", 0), []);
      assert.deepEqual(await named("/sys/fs/cgroup", `capibara-${cli.pid}-`, 4), []);
      assert.equal(exitCode, code, text);
      assert.match(text, new RegExp(`interrupted: Interrupted by ${signal} while: Running fp_`));
      assert.doesNotMatch(text, /error\[/);
    },
  });
}

Deno.test({
  name: "Ctrl-C on a terminal (its progress line drawn) cleans up and says what was interrupted",
  ignore: !OS_SANDBOX ||
    !(await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output()).success,
  async fn() {
    await using tmp = await withTmpDir();
    const project = await sleepingProject(tmp.path);
    const { tmpRoot } = project;
    await using llm = startFakeLLM({ replies: [project.reply] });
    const quoted = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      MAIN,
      "run",
      "Sleep for a minute on a terminal",
      "--context",
      project.context,
      "--allow-write",
      "markers",
    ].map(quoted).join(" ");
    // util-linux's script: a new pseudo-terminal, given a width (the progress line needs one);
    // what is typed into it reaches the command's terminal, ^C included.
    const child = new Deno.Command("script", {
      args: ["-qec", `stty cols 100 rows 30; exec ${command}`, "/dev/null"],
      cwd: tmp.path,
      clearEnv: true,
      env: project.env(llm.url, { TERM: "xterm" }),
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const output = new Response(child.stdout).text();
    let running = true;
    const status = child.status.finally(() => running = false);
    await until(async () => !running || await exists(project.started), "the script to start");
    if (!running) assert.fail(`the CLI ended before the script started: ${await output}`);
    // The progress line is drawn once a second: past its first draw, its handlers are set.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const keyboard = child.stdin.getWriter();
    await keyboard.write(new Uint8Array([3]));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const { code } = await status;
    clearTimeout(killer);
    await keyboard.close().catch(() => {});
    const text = await output;
    assert.equal(code, 130, text.slice(-2000));
    assert.match(text, /interrupted: Interrupted by SIGINT while: Running fp_/);
    assert.doesNotMatch(text, /generated/);
    assert.deepEqual(await named(tmpRoot, "capibara-run-", 0), []);
    assert.deepEqual(await named(tmpRoot, "capibara-sbx-", 0), []);
  },
});

Deno.test({
  name: "capibara run --verbose shows each step and the script's stderr, terminal-safe",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const body = [
      'sys.stderr.write("halfway there \\x1b]0;owned\\x07\\n")',
      "sys.stderr.flush()",
      'return {"output": {"done": True}}',
    ].join("\n");
    await using llm = startFakeLLM({ replies: [bundleReply({ body })] });
    const args = ["run", "Say where it is on stderr", "--verbose"];
    const first = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^· Generating .*\(\d+\.\ds\)$/m);
    assert.match(first.stderr, /^· Running fp_[0-9a-f]{32} \(\d+\.\ds\)$/m);
    assert.match(first.stderr, /^ {2}│ halfway there \\u001b\]0;owned\\u0007$/m);
    assert.equal(first.stderr.includes("\x1b"), false);
    // A cache hit shows its steps too.
    const hit = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(hit.code, 0, hit.stderr);
    assert.match(hit.stderr, /^· Checking the cached script/m);
    assert.match(hit.stderr, /^· Running fp_/m);
    assert.doesNotMatch(hit.stderr, /Generating/);
  },
});

/** A TypeScript script that copies `input` to `output`, upper-cased. */
const UPPER_TS = `// --- CAPIBARA ---
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
const raw = String(values.context);
const ctx = JSON.parse(raw.startsWith("@") ? Deno.readTextFileSync(raw.slice(1)) : raw);
const text = Deno.readTextFileSync(ctx.input);
Deno.mkdirSync(ctx.output.split("/").slice(0, -1).join("/") || ".", { recursive: true });
Deno.writeTextFileSync(ctx.output, text.toUpperCase());
console.log(JSON.stringify({ status: "ok", artifacts: [ctx.output], output: {}, raw: {} }));
`;

for (const language of ["python", "typescript"] as const) {
  Deno.test({
    name: `capibara show's run-by-hand command works verbatim from the project root (${language})`,
    ignore: !OS_SANDBOX,
    async fn() {
      await using tmp = await withTmpDir();
      await Deno.mkdir(join(tmp.path, "data"));
      await Deno.writeTextFile(join(tmp.path, "data", "in.txt"), "hello");
      const body = [
        "import os",
        'os.makedirs(os.path.dirname(ctx["output"]), exist_ok=True)',
        'text = open(ctx["input"]).read()',
        'open(ctx["output"], "w").write(text.upper())',
        'return {"artifacts": [ctx["output"]]}',
      ].join("\n");
      const reply = language === "python"
        ? bundleReply({ body, outputs: {} })
        : bundleReply({ language, script: UPPER_TS, outputs: {} });
      await using llm = startFakeLLM({ replies: [reply] });
      const env = envFor(llm.url);
      const context = JSON.stringify({ input: "data/in.txt", output: "out/result.txt" });
      const args = ["run", "Upper-case the file", "--lang", language, "--context", context];
      const first = await runCli([...args, "--json"], { cwd: tmp.path, env });
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const fp = (first.json as { fingerprint: string }).fingerprint;
      await Deno.remove(join(tmp.path, "out"), { recursive: true });

      const show = await runCli(["show", fp, "--json"], { cwd: tmp.path, env });
      assert.equal(show.code, 0, show.stderr);
      const byHand = (show.json as { run_by_hand: string }).run_by_hand;
      const sh = await new Deno.Command("sh", {
        args: ["-ec", byHand],
        cwd: tmp.path,
        env: { HOME: tmp.path, DENO_DIR: Deno.env.get("DENO_DIR") ?? "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const shErr = new TextDecoder().decode(sh.stderr);
      assert.equal(sh.code, 0, `${byHand}\n${shErr}`);
      assert.equal(await Deno.readTextFile(join(tmp.path, "out", "result.txt")), "HELLO");
      // The entry is untouched: verify passes and the next run is a cache hit.
      const verify = await runCli(["verify", fp], { cwd: tmp.path, env });
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      const again = await runCli([...args, "--json"], { cwd: tmp.path, env });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal((again.json as { cached: boolean }).cached, true);
    },
  });
}

Deno.test({
  name: "a cached run works under a private TMPDIR (mode 0700), a root run's dropped uid included",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const work = await examplesIn(tmp.path);
    // Private, as a CI job's own temp dir often is: a root run's sandbox, which drops to another
    // uid, cannot pass through it, and its set-up must be made elsewhere.
    const privateTmp = join(tmp.path, "private-tmp");
    await Deno.mkdir(privateTmp, { mode: 0o700 });
    await Deno.chmod(privateTmp, 0o700);
    // A cache of its own: the sandbox is probed under that TMPDIR (a probe of a root run's drop
    // made there failed, and every later run of the cache ran as root).
    const cache = join(tmp.path, "cache");
    const env = { TMPDIR: privateTmp, CAPIBARA_CACHE_DIR: cache };
    const doctor = await runCli(["doctor", "--json"], { cwd: work, env });
    const checks = (doctor.json as { checks: { name: string; ok: boolean; detail: string }[] })
      .checks;
    const identity = checks.find((check) => check.name === "sandbox uid");
    assert.ok(identity?.ok, JSON.stringify(identity));
    assert.doesNotMatch(identity.detail, /map to root/);
    const args = ["run", PROMPT, "--context", CONTEXT, "--json"];
    // What a killed run left there (before its state dirs were made elsewhere) is still swept.
    let dead = 4_000_000;
    while (await exists(`/proc/${dead}`)) dead++;
    const stale = join(privateTmp, `capibara-sbx-${dead}-ns${pidNamespace()}-0123456789abcdef`);
    await Deno.mkdir(stale, { mode: 0o700 });
    await Deno.chmod(stale, 0o700);
    // The second run starts its sandbox from the first one's plan.
    for (let i = 0; i < 2; i++) {
      const run = await runCli(args, { cwd: work, env });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const result = run.json as { cached: boolean; output: { total_revenue: number } };
      assert.equal(result.cached, true);
      assert.equal(result.output.total_revenue, 1529.25);
    }
    // Nothing of the runs is left in it, nor what the killed one left.
    assert.deepEqual(await named(privateTmp, "capibara-", 1), []);
    // A TMPDIR that names no folder is the user's to fix (exit 2), not a crash; a relative one
    // is the folder it names from where the command runs.
    const missing = await runCli(args, { cwd: work, env: { ...env, TMPDIR: "/nonexistent" } });
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.match((missing.json as ErrorDoc).error.message, /"\/nonexistent" \(TMPDIR\)/);
    await Deno.mkdir(join(work, "rel-tmp"));
    const relative = await runCli(args, { cwd: work, env: { ...env, TMPDIR: "rel-tmp" } });
    assert.equal(relative.code, 0, relative.stdout + relative.stderr);
    assert.deepEqual(await named(join(work, "rel-tmp"), "capibara-", 1), []);
  },
});
