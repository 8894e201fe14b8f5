/**
 * What a new user meets in the first hour, through the real CLI: bad server replies, `doctor`,
 * context paths, the model's choice, generator timeouts, SIGINT while generating.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../src/_fs.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { MAIN, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { envFor, type ErrorDoc, until } from "./_first_hour.ts";

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

Deno.test("capibara run reports a base URL without a scheme as a ValidationError (exit 2)", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["run", "Echo the context back", "--json"], {
    cwd: tmp.path,
    env: envFor("localhost:1234/v1"),
  });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const e = (r.json as ErrorDoc).error;
  assert.equal(e.type, "ValidationError");
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

Deno.test("capibara run picks the model: --model, else the server's only one; -m and --base-url win", async () => {
  await using tmp = await withTmpDir();
  const noModel = (url: string) => {
    const env = envFor(url);
    delete (env as Record<string, string | undefined>).CAPIBARA_MODEL;
    return env;
  };
  {
    await using llm = startFakeLLM({ replies: [bundleReply()], models: ["only-model"] });
    // --dry-run: the model is chosen before the script would run.
    const r = await runCli(["run", "Echo one", "--dry-run", "--json"], {
      cwd: tmp.path,
      env: noModel(llm.url),
    });
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
    const args = ["run", "Echo three", "-m", "b", "--base-url", llm.url, "--dry-run", "--json"];
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

Deno.test("capibara run --verbose shows the model's reply when it breaks the contract", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: ["Sure! Here is a script: print('hi')"] });
  const r = await runCli(["run", "Say hi", "--verbose"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(r.code, 6, r.stdout + r.stderr);
  assert.match(r.stderr, /the model's last reply \(start\):\n {2}│ Sure! Here is a script/);
  const quiet = await runCli(["run", "Say hi"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.doesNotMatch(quiet.stderr, /the model's last reply/);
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
  assert.match(text, /hint: Nothing was stored/);
  const scripts = join(tmp.path, ".capibara", "scripts");
  const stored = await exists(scripts) ? await Array.fromAsync(Deno.readDir(scripts)) : [];
  assert.deepEqual(stored, []);
});

Deno.test("run's grant and size flags are checked in their own words, whatever the script needs", async () => {
  await using tmp = await withTmpDir();
  for (
    const [flag, value, why] of [
      ["--allow-net", "example.com:99999", /its port/],
      ["--allow-private-net", "*.corp.example", /wildcard/],
      ["--allow-env", "NOT A NAME", /not a variable's name/],
      ["--memory", "99999999999", /^$/],
    ] as const
  ) {
    // A prompt nobody cached, and no generator: only the flag can be refused.
    const r = await runCli(["run", "Echo it", flag, value, "--json"], {
      cwd: tmp.path,
      env: { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") },
    });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const e = (r.json as ErrorDoc).error;
    assert.equal(e.type, "ValidationError");
    assert.ok(e.message.startsWith(`Invalid ${flag} "${value}"`), e.message);
    assert.match(e.message.slice(`Invalid ${flag} "${value}"`.length).replace(/^: /, ""), why);
    assert.doesNotMatch(e.message + e.hint, /allow\.|memoryBytes|\{ /, "SDK terms in a CLI error");
  }
});

Deno.test("capibara doctor refuses a base URL that is not http(s) as run does (exit 2), asking no server", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["doctor", "--json"], {
    cwd: tmp.path,
    env: { ...envFor("ftp://user:secret@example.test/v1") },
  });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const checks = (r.json as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
  const generator = checks.find((c) => c.name === "generator")!;
  assert.equal(generator.ok, false);
  assert.match(generator.detail, /not an http:\/\/ or https:\/\/ URL/);
  assert.equal(checks.find((c) => c.name === "generator server"), undefined);
  assert.doesNotMatch(r.stdout, /secret/);
});
