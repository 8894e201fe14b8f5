/**
 * What a new user meets in the first hour, through the real CLI: bad server replies, `doctor`,
 * `verify`, context paths, hand edits, signals.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../src/_fs.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { MAIN, runCli } from "../helpers/cli.ts";
import { platformBackend } from "../../src/sandbox/mod.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const CACHE = await Deno.makeTempDir({ prefix: "capibara_first_hour_cache_" });
globalThis.addEventListener("unload", () => Deno.removeSync(CACHE, { recursive: true }));

function envFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CAPIBARA_BASE_URL: url,
    CAPIBARA_API_KEY: "test-key",
    CAPIBARA_MODEL: "fake-model",
    CAPIBARA_CACHE_DIR: CACHE,
    ...extra,
  };
}

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

for (
  const [name, raw] of [
    ["a body that is not JSON", { raw: "not json at all", contentType: "application/json" }],
    ["an HTML page", { raw: "<!doctype html><html><body>Welcome</body></html>" }],
  ] as const
) {
  Deno.test(`capibara run reports ${name} as a NetworkError naming the base URL`, async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [raw] });
    for (const json of [true, false]) {
      const args = ["run", "Echo the context back", ...(json ? ["--json"] : [])];
      const r = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
      assert.equal(r.code, 4, r.stdout + r.stderr);
      if (json) {
        const e = (r.json as ErrorDoc).error;
        assert.equal(e.type, "NetworkError");
        assert.ok(e.hint.includes(llm.url), e.hint);
        assert.ok(e.hint.includes(raw.raw.slice(0, 10)), e.hint);
        assert.ok(e.hint.includes(raw.contentType ?? "text/html"), e.hint);
      } else {
        assert.match(r.stderr, /^error\[NetworkError\]/);
        assert.doesNotMatch(r.stderr, / {4}at |this is a bug/);
      }
    }
    // One request per run: a reply that is not a chat completion is not sent back for repair.
    assert.equal(llm.requests, 2);
  });
}

Deno.test("capibara run reports a base URL without a scheme as a NetworkError", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["run", "Echo the context back", "--json"], {
    cwd: tmp.path,
    env: envFor("localhost:1234/v1"),
  });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  const e = (r.json as ErrorDoc).error;
  assert.equal(e.type, "NetworkError");
  assert.match(e.hint, /http:\/\/localhost:1234\/v1/);
});

type Doctor = {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
};

Deno.test("capibara doctor contacts the server and exits non-zero when a check fails", async () => {
  await using tmp = await withTmpDir();
  const doctor = async (url: string, extra: Record<string, string> = {}) => {
    const r = await runCli(["doctor", "--json"], { cwd: tmp.path, env: envFor(url, extra) });
    const doc = r.json as Doctor;
    return { code: r.code, doc, server: doc.checks.find((c) => c.name === "generator server")! };
  };
  {
    await using llm = startFakeLLM({ replies: ["unused"], models: ["fake-model", "other"] });
    const good = await doctor(llm.url);
    assert.equal(good.server.ok, true, good.server.detail);
    const wrongModel = await doctor(llm.url, { CAPIBARA_MODEL: "gpt-4o-mini" });
    assert.equal(wrongModel.code, 4);
    assert.equal(wrongModel.doc.ok, false);
    assert.match(wrongModel.server.detail, /"gpt-4o-mini".*fake-model, other/);
  }
  {
    await using llm = startFakeLLM({ replies: ["unused"], modelsStatus: 401 });
    const refused = await doctor(llm.url);
    assert.equal(refused.code, 4);
    assert.match(refused.server.detail, /refused the credentials \(HTTP 401\)/);
  }
  const closed = startFakeLLM({ replies: ["unused"] });
  const url = closed.url;
  await closed.close();
  const unreachable = await doctor(url);
  assert.equal(unreachable.code, 4);
  assert.match(unreachable.server.detail, /cannot reach/);
  // The human form shows the failed check and exits non-zero too.
  const human = await runCli(["doctor"], { cwd: tmp.path, env: envFor(url) });
  assert.equal(human.code, 4);
  assert.match(human.stdout, /✗ generator server/);
});

Deno.test("capibara run refuses bad context paths before calling the LLM, with a hint that works", async () => {
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "project");
  await Deno.mkdir(project);
  await Deno.writeTextFile(join(tmp.path, "secret.txt"), "secret");
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  for (
    const [context, why] of [
      [{ input: "../secret.txt" }, /leaves the working directory/],
      [{ input: "data/missing.csv" }, /does not exist/],
      [{ inputs: ["missing.mp4"], output: "out/final.mp4" }, /does not exist/],
    ] as const
  ) {
    const r = await runCli([
      "run",
      "Count the lines",
      "--context",
      JSON.stringify(context),
      "--json",
    ], {
      cwd: project,
      env: envFor(llm.url),
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const e = (r.json as ErrorDoc).error;
    assert.equal(e.type, "ValidationError");
    assert.match(e.message, why);
    // --allow-read grants reading more, never a context path outside the project.
    assert.doesNotMatch(e.hint, /--allow-read/);
  }
  assert.equal(llm.requests, 0);
  // Nothing was stored.
  assert.equal(await exists(join(project, ".capibara")), false);
});

const backend = platformBackend();
const OS_SANDBOX = backend !== undefined && (await backend.available()).ok;

/** Folders and cgroups named `prefix…` below `root`, `depth` levels deep at most. */
async function named(root: string, prefix: string, depth: number): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, level: number): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory) continue;
      if (e.name.startsWith(prefix)) found.push(join(dir, e.name));
      else if (level < depth) await walk(join(dir, e.name), level + 1);
    }
  }
  await walk(root, 0);
  return found;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Gave up waiting: ${what}`);
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test({
    name: `capibara run on ${signal} cleans up, says what was interrupted and exits ${code}`,
    ignore: !OS_SANDBOX,
    async fn() {
      await using tmp = await withTmpDir();
      const tmpRoot = join(tmp.path, "tmp");
      await Deno.mkdir(tmpRoot);
      await Deno.mkdir(join(tmp.path, "markers"));
      const body = [
        'open(ctx["started_marker"], "w").write("started")',
        "time.sleep(60)",
        'return {"output": {"done": True}}',
      ].join("\n");
      await using llm = startFakeLLM({ replies: [bundleReply({ body, imports: ["time"] })] });
      const cli = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          MAIN,
          "run",
          `Sleep for a minute (${signal})`,
          "--context",
          JSON.stringify({ started_marker: "markers/started.txt" }),
          "--allow-write",
          "markers",
        ],
        cwd: tmp.path,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? "/tmp",
          NO_COLOR: "1",
          TMPDIR: tmpRoot,
          ...envFor(llm.url),
        },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(cli.stderr).text();
      let running = true;
      const status = cli.status.finally(() => running = false);
      const started = join(tmp.path, "markers", "started.txt");
      await until(async () => !running || await exists(started), "the script to start");
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
  name: "capibara accept keeps a reviewed hand edit as a new revision; --refresh needs --force",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    const args = ["run", "Echo the context back", "--context", '{"n": 1}', "--json"];
    const first = await runCli(args, { cwd: tmp.path, env });
    assert.equal(first.code, 0, first.stderr);
    const fp = (first.json as { fingerprint: string }).fingerprint;
    const dir = join(tmp.path, ".capibara", "scripts", fp);
    const scriptPath = join(dir, "script.py");
    const original = await Deno.readTextFile(scriptPath);
    const edit = (from: string, to: string) => {
      assert.ok(original.includes(from), from);
      return Deno.writeTextFile(scriptPath, original.replace(from, to));
    };
    await edit('return {"output": {"context": ctx}}', 'return {"output": {"edited": True}}');

    const refused = await runCli(args, { cwd: tmp.path, env });
    assert.equal(refused.code, 8, refused.stdout);
    assert.match((refused.json as ErrorDoc).error.hint, new RegExp(`capibara accept ${fp}`));
    // --refresh does not overwrite the edit without --force.
    const refresh = await runCli([...args, "--refresh"], { cwd: tmp.path, env });
    assert.equal(refresh.code, 8, refresh.stdout);
    assert.match((refresh.json as ErrorDoc).error.hint, /capibara accept .*--force/);
    assert.equal(llm.requests, 1);
    assert.match(await Deno.readTextFile(scriptPath), /"edited": True/);

    const accepted = await runCli(["accept", fp.slice(0, 10), "--json"], { cwd: tmp.path, env });
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    assert.deepEqual(accepted.json, {
      fingerprint: fp,
      accepted: true,
      revision: 2,
      changed: ["script.py"],
      dropped: [],
    });
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.revision, 2);
    assert.deepEqual(
      manifest.history.map((h: { reason: string }) => h.reason),
      ["generated", "edited by hand"],
    );
    const after = await runCli(args, { cwd: tmp.path, env });
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.deepEqual((after.json as { output: unknown }).output, { edited: true });
    assert.equal((await runCli(["verify"], { cwd: tmp.path, env })).code, 0);

    // An edit that fails the static checks, or whose self-test fails, is not accepted.
    await edit("import argparse\n", "import argparse\nimport subprocess\nsubprocess.run(['id'])\n");
    const unsafe = await runCli(["accept", fp, "--json"], { cwd: tmp.path, env });
    assert.equal(unsafe.code, 6, unsafe.stdout + unsafe.stderr);
    await edit('emit("ok", output={"selftest": True})', "raise SystemExit(3)");
    const broken = await runCli(["accept", fp, "--json"], { cwd: tmp.path, env });
    assert.equal(broken.code, 5, broken.stdout + broken.stderr);
    assert.match((broken.json as ErrorDoc).error.message, /--selftest exited with code 3/);
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))).revision, 2);

    // --refresh --force regenerates over the edit.
    const forced = await runCli([...args, "--refresh", "--force"], { cwd: tmp.path, env });
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal(llm.requests, 2);
    assert.equal(await Deno.readTextFile(scriptPath), original);
  },
});

Deno.test("capibara run picks the model: --model, else the server's only one; -m and --base-url win", async () => {
  await using tmp = await withTmpDir();
  const noModel = (url: string) => {
    const env = envFor(url);
    delete (env as Record<string, string | undefined>).CAPIBARA_MODEL;
    return env;
  };
  {
    await using llm = startFakeLLM({ replies: [bundleReply()], models: ["only-model"] });
    const r = await runCli(["run", "Echo one", "--json"], { cwd: tmp.path, env: noModel(llm.url) });
    assert.equal((llm.bodies[0] as { model: string }).model, "only-model", r.stdout + r.stderr);
  }
  {
    await using llm = startFakeLLM({ replies: [bundleReply()], models: ["a", "b"] });
    const r = await runCli(["run", "Echo two", "--json"], { cwd: tmp.path, env: noModel(llm.url) });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match((r.json as ErrorDoc).error.message, /No model is set.*lists 2: a, b/);
    assert.match((r.json as ErrorDoc).error.hint, /--model/);
    assert.equal(llm.requests, 0);
    // -m chooses one; --base-url overrides the environment's (here a dead) server.
    const args = ["run", "Echo three", "-m", "b", "--base-url", llm.url, "--json"];
    await runCli(args, { cwd: tmp.path, env: noModel("http://127.0.0.1:9/v1") });
    assert.equal((llm.bodies[0] as { model: string }).model, "b");
  }
});

Deno.test("capibara run: CAPIBARA_GENERATE_TIMEOUT bounds a request to the generator", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [{ content: bundleReply(), delayMs: 20_000 }] });
  const r = await runCli(["run", "Echo slowly", "--json"], {
    cwd: tmp.path,
    env: envFor(llm.url, { CAPIBARA_GENERATE_TIMEOUT: "0.5" }),
  });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match((r.json as ErrorDoc).error.message, /did not answer within 500 ms/);
  assert.match((r.json as ErrorDoc).error.hint, /CAPIBARA_GENERATE_TIMEOUT/);
});

Deno.test({
  name: "capibara run --dry-run stores without running; a miss says where and to review it",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const body = 'raise RuntimeError("ran")';
    await using llm = startFakeLLM({ replies: [bundleReply({ body })] });
    const env = envFor(llm.url);
    const dry = await runCli(["run", "Fail when run", "--dry-run"], { cwd: tmp.path, env });
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    const fp = dry.stdout.match(/fp_[0-9a-f]{32}/)![0];
    assert.match(dry.stdout, /\(generated, not run: --dry-run, /);
    // The first write outside a git repository says where the store went.
    const base = join(await Deno.realPath(tmp.path), ".capibara");
    assert.ok(
      dry.stdout.includes(`created the store ${base} in the current folder: no git repository`),
      dry.stdout,
    );
    assert.match(dry.stdout, new RegExp(`stored in \\.capibara/scripts/${fp}/`));
    assert.match(dry.stdout, new RegExp(`review it \\(capibara show ${fp} --script\\) and commit`));
    const script = await runCli(["show", fp, "--script"], { cwd: tmp.path, env });
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /raise RuntimeError\("ran"\)/);
    // Run for real, the script fails: the dry run did not run it.
    const real = await runCli(["run", "Fail when run"], { cwd: tmp.path, env });
    assert.equal(real.code, 5, real.stdout + real.stderr);
    assert.equal(llm.requests, 1);
  },
});

Deno.test("capibara run --verbose shows the model's reply when it breaks the contract", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: ["Sure! Here is a script: print('hi')"] });
  const r = await runCli(["run", "Say hi", "--verbose"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(r.code, 6, r.stdout + r.stderr);
  assert.match(r.stderr, /the model's last reply \(start\):\n {2}│ Sure! Here is a script/);
  const quiet = await runCli(["run", "Say hi"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.doesNotMatch(quiet.stderr, /the model's last reply/);
});

Deno.test({
  name: "capibara list tells entries of one prompt apart; show finds a script by its prompt",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    for (const n of [1, 2]) {
      const r = await runCli(["run", "Echo the number", "-c", `{"n": ${n}}`], {
        cwd: tmp.path,
        env,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const list = await runCli(["list"], { cwd: tmp.path, env });
    assert.equal(list.code, 0, list.stderr);
    const scripts = await Deno.realPath(join(tmp.path, ".capibara", "scripts"));
    assert.equal(list.stdout.split("\n")[0], `${scripts}:`);
    assert.match(list.stdout, /python {5}r1 .*Echo the number {2}\[n=1\]/);
    assert.match(list.stdout, /Echo the number {2}\[n=2\]/);
    const ambiguous = await runCli(["show", "echo the"], { cwd: tmp.path, env });
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /matches 2 cached scripts/);
    const other = await runCli(["run", "Reverse the words", "--dry-run"], { cwd: tmp.path, env });
    assert.equal(other.code, 0, other.stderr);
    const show = await runCli(["show", "reverse"], { cwd: tmp.path, env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /prompt: {5}Reverse the words/);
  },
});

Deno.test({
  name: "capibara run --mode parametric reuses a script across values; a strict miss says why",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    const run = (n: number, ...extra: string[]) =>
      runCli(["run", "Echo the count", "-c", `{"n": ${n}, "unit": "kg"}`, ...extra], {
        cwd: tmp.path,
        env,
      });
    assert.equal((await run(1)).code, 0);
    const second = await run(2);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /note: fp_[0-9a-f]{32} has the same prompt \(python\); the context differs in: n \(--mode parametric/,
    );
    assert.equal(llm.requests, 2);
    const p1 = await run(3, "--mode", "parametric", "--json");
    assert.equal(p1.code, 0, p1.stderr);
    const p2 = await run(4, "--mode", "parametric", "--json");
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal((p2.json as { cached: boolean }).cached, true);
    assert.deepEqual((p2.json as { output: unknown }).output, { context: { n: 4, unit: "kg" } });
    assert.equal(llm.requests, 3);
  },
});

Deno.test("capibara run on SIGINT while generating stops the request and stores nothing", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [{ content: bundleReply(), delayMs: 30_000 }] });
  const cli = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "run", "Wait for the model"],
    cwd: tmp.path,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      ...envFor(llm.url),
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(cli.stderr).text();
  await until(() => Promise.resolve(llm.requests > 0), "the request to arrive");
  cli.kill("SIGINT");
  const { code } = await cli.status;
  const text = await stderr;
  assert.equal(code, 130, text);
  assert.match(text, /interrupted: Interrupted by SIGINT while: Generating a python script/);
  const scripts = join(tmp.path, ".capibara", "scripts");
  const stored = await exists(scripts) ? await Array.fromAsync(Deno.readDir(scripts)) : [];
  assert.deepEqual(stored, []);
});
