/**
 * The core loop through the real CLI: a subprocess per invocation, a fake OpenAI-compatible server
 * on loopback, real venvs, real pip.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, pythonScript, startFakeLLM } from "../helpers/fake_llm.ts";
import {
  CLI,
  cliEnv,
  DEMO_ARGS,
  fakeServerEnv,
  MAIN,
  OS_SANDBOX,
  REPO,
  runCli,
  snapshotTree,
  testCache,
} from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheel.ts";
import { sha256 } from "../../src/_hash.ts";
import { TEMPLATE_VERSION } from "../../src/contract/contract.ts";

// Python scripts run inside the OS sandbox; without one they are refused, so their tests skip
// here, visibly (CI installs bubblewrap, so nothing is skipped there).
if (!OS_SANDBOX) {
  console.warn(
    "SKIPPED: CLI tests that run Python scripts need bubblewrap (apt-get install bubblewrap)",
  );
}

/** A test that runs a Python script through the CLI: skipped without the OS sandbox. */
function sandboxTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !OS_SANDBOX, fn });
}

const CACHE = await testCache("capibara_cli_cache_");

function envFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return fakeServerEnv(url, CACHE, extra);
}

/** The committed TypeScript demo's request, with `--json`. */
const DEMO_RUN = [...DEMO_ARGS, "--json"];
/** Copies the examples (their committed cache included), so a test never writes into the repo. */
async function copyExamples(to: string): Promise<void> {
  const examples = join(import.meta.dirname!, "..", "..", "examples");
  await new Deno.Command("cp", { args: ["-r", examples + "/.", to] }).output();
}

interface RunJson {
  status: string;
  output: Record<string, unknown>;
  raw: Record<string, unknown>;
  artifacts: string[];
  fingerprint: string;
  cached: boolean;
  duration_ms: number;
  missing?: string[];
  allow: { network: string[]; env: string[]; fs: { read: string[]; write: string[] } };
}

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

sandboxTest(
  "capibara run generates once, then hits the cache; --refresh generates again",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const args = ["run", "Echo the context back", "--context", '{"n": 1}', "--json"];
    const first = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(first.code, 0, first.stderr);
    const r1 = first.json as RunJson;
    assert.equal(r1.status, "ok");
    assert.equal(r1.cached, false);
    assert.deepEqual(r1.output, { context: { n: 1 } });
    assert.match(r1.fingerprint, /^fp_[0-9a-f]{32}$/);
    assert.equal(llm.requests, 1);

    const dir = join(tmp.path, ".capibara", "scripts", r1.fingerprint);
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.fingerprint, r1.fingerprint);
    assert.equal(manifest.generator.kind, "openai");
    assert.equal(manifest.template_version, TEMPLATE_VERSION);
    assert.deepEqual(Object.keys(manifest.files).sort(), [
      "README.md",
      "requirements.txt",
      "script.py",
    ]);
    for (const name of ["script.py", "requirements.txt", "README.md"]) {
      assert.ok((await Deno.stat(join(dir, name))).isFile);
    }

    // Same request, other spelling: a hit, no request.
    const second = await runCli(
      ["run", "please echo   the CONTEXT back!", "--context", '{ "n" : 1 }', "--json"],
      { cwd: tmp.path, env: envFor(llm.url) },
    );
    assert.equal(second.code, 0, second.stderr);
    assert.equal((second.json as RunJson).cached, true);
    assert.equal((second.json as RunJson).fingerprint, r1.fingerprint);
    assert.equal(llm.requests, 1);

    const third = await runCli([...args, "--refresh"], { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(third.code, 0, third.stderr);
    assert.equal((third.json as RunJson).cached, false);
    assert.equal(llm.requests, 2);
    const refreshed = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(refreshed.revision, 2);
    assert.deepEqual(refreshed.history.map((h: { reason: string }) => h.reason), [
      "generated",
      "refresh requested",
    ]);
  },
);

sandboxTest("capibara run repairs a reply that breaks the contract twice", async () => {
  await using tmp = await withTmpDir();
  const unpinned = bundleReply({ requirements: ["requests"], headerDeps: ["requests"] });
  const noSelftest = bundleReply({
    script: pythonScript().replaceAll("--selftest", "--self-check"),
  });
  await using llm = startFakeLLM({ replies: [unpinned, noSelftest, bundleReply()] });
  const res = await runCli(["run", "Echo it", "--json"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(llm.requests, 3);
  assert.equal((res.json as RunJson).status, "ok");
});

Deno.test("capibara run: a reply that never meets the contract is a TemplateError, nothing stored", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara"));
  await Deno.writeTextFile(join(tmp.path, ".capibara", "config.json"), '{"timeout": 60}\n');
  const before = await snapshotTree(join(tmp.path, ".capibara"));
  await using llm = startFakeLLM({ replies: ["this is not JSON at all"] });
  const res = await runCli(["run", "Echo it"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(res.code, 6, res.stderr);
  assert.match(res.stderr, /^error\[TemplateError\]: /m);
  assert.match(res.stderr, /^hint: /m);
  assert.equal(llm.requests, 3);
  assert.deepEqual(await snapshotTree(join(tmp.path, ".capibara")), before);
});

sandboxTest("capibara run: a failing script is an ExecError quoting its stderr", async () => {
  await using tmp = await withTmpDir();
  const body = 'sys.stderr.write("disk on fire\\n")\nsys.exit(3)';
  await using llm = startFakeLLM({ replies: [bundleReply({ body })] });
  const res = await runCli(["run", "Fail loudly", "--json"], {
    cwd: tmp.path,
    env: envFor(llm.url),
  });
  assert.equal(res.code, 5);
  const doc = res.json as ErrorDoc;
  assert.equal(doc.error.type, "ExecError");
  assert.equal(doc.error.exit_code, 5);
  assert.match(doc.error.message, /exited with code 3/);
  assert.match(doc.error.message, /disk on fire/);
});

sandboxTest(
  "capibara run: a script reporting status error is an ExecError with its reason",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({ body: 'raise ValueError("bad row 7")' })],
    });
    const res = await runCli(["run", "Fail politely"], { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(res.code, 5);
    assert.match(res.stderr, /error\[ExecError\]: .*bad row 7/);
  },
);

sandboxTest("capibara run: a script breaking the output contract is an ExecError", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({
    replies: [
      bundleReply({ body: 'print("done!")\nsys.stdout.flush()\nos._exit(0)', imports: ["os"] }),
    ],
  });
  const res = await runCli(["run", "Print junk"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(res.code, 5, res.stderr);
  assert.match(res.stderr, /output contract/);
});

Deno.test("capibara run: a bad --context is a ValidationError before anything else", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  for (const context of ["{not json", "[1, 2]", "@missing.json"]) {
    const res = await runCli(["run", "Echo it", "--context", context, "--json"], {
      cwd: tmp.path,
      env: envFor(llm.url),
    });
    assert.equal(res.code, 2, context);
    assert.equal((res.json as ErrorDoc).error.type, "ValidationError");
  }
  assert.equal(llm.requests, 0);
});

Deno.test("capibara run: an unreachable server is a NetworkError", async () => {
  await using tmp = await withTmpDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const res = await runCli(["run", "Echo it"], {
    cwd: tmp.path,
    env: envFor(`http://127.0.0.1:${port}/v1`),
  });
  assert.equal(res.code, 4, res.stderr);
  assert.match(res.stderr, /error\[NetworkError\]: .*127\.0\.0\.1/);
  assert.match(res.stderr, /hint: .*CAPIBARA_BASE_URL/);
});

Deno.test("capibara run: no generator configured on a miss is a ValidationError naming the variable", async () => {
  await using tmp = await withTmpDir();
  const res = await runCli(["run", "Echo it"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: CACHE },
  });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /error\[ValidationError\]: No generator is configured/);
  assert.match(res.stderr, /CAPIBARA_BASE_URL/);
});

Deno.test("capibara run: a mistyped prompt of a cached request, with no generator, names the cached one it nearly is", async () => {
  await using tmp = await withTmpDir();
  await copyExamples(tmp.path);
  const res = await runCli(
    [
      "run",
      "Sumarise the sales CSV: total revenue, units and revenue per region",
      "--context",
      '{"input": "data/sales.csv", "output": "out/summary.json"}',
    ],
    { cwd: tmp.path, env: { CAPIBARA_CACHE_DIR: CACHE } },
  );
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /No generator is configured/);
  assert.match(
    res.stderr,
    /hint: Cached requests close to this one: "Summarise the sales CSV: total revenue, units and revenue per region" \((python|typescript), fp_[0-9a-f]{32}\)/,
  );
  // An unrelated prompt gets no such list.
  const other = await runCli(["run", "Resize every image to 200 pixels wide"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: CACHE },
  });
  assert.equal(other.code, 2, other.stderr);
  assert.doesNotMatch(other.stderr, /close to this one/);
});

Deno.test("capibara run --refresh of a cached request with no generator says a refresh needs one, not that it is not cached", async () => {
  await using tmp = await withTmpDir();
  await copyExamples(tmp.path);
  const res = await runCli(
    [
      "run",
      "Summarise the sales CSV: total revenue, units and revenue per region",
      "--context",
      '{"input": "data/sales.csv", "output": "out/summary.json"}',
      "--refresh",
    ],
    { cwd: tmp.path, env: { CAPIBARA_CACHE_DIR: CACHE } },
  );
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /Cannot refresh "fp_[0-9a-f]{32}": no generator is configured/);
  assert.doesNotMatch(res.stderr, /not cached/);
});

sandboxTest(
  "capibara run installs requirements from a wheelhouse; an unknown one is a DependencyError",
  async () => {
    await using tmp = await withTmpDir();
    const wheels = join(tmp.path, "wheels");
    await Deno.mkdir(wheels);
    await buildWheel(wheels, {
      name: "capitest",
      version: "1.2.3",
      module: { "capitest.py": "ANSWER = 42\n" },
    });
    const work = join(tmp.path, "work");
    await Deno.mkdir(work);
    const pip = { PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels };
    await using llm = startFakeLLM({
      replies: (body) =>
        JSON.stringify(body).includes("unknown")
          ? bundleReply({ requirements: ["definitely-not-a-package==9.9.9"] })
          : bundleReply({
            requirements: ["capitest==1.2.3"],
            imports: ["capitest"],
            body: 'return {"output": {"answer": capitest.ANSWER}}',
          }),
    });
    const ok = await runCli(["run", "Use capitest", "--json"], {
      cwd: work,
      env: envFor(llm.url, pip),
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((ok.json as RunJson).output, { answer: 42 });

    const bad = await runCli(["run", "Use the unknown package", "--json"], {
      cwd: work,
      env: envFor(llm.url, pip),
    });
    assert.equal(bad.code, 3, bad.stderr);
    const doc = bad.json as ErrorDoc;
    assert.equal(doc.error.type, "DependencyError");
    assert.match(doc.error.message, /definitely-not-a-package/);
  },
);

sandboxTest(
  "capibara run: 8 concurrent runs of one new request make 1 generation, 8 identical results",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [{ content: bundleReply(), delayMs: 300 }] });
    const runs = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          runCli(["run", "Echo the context", "--context", '{"k": "v"}', "--json"], {
            cwd: tmp.path,
            env: envFor(llm.url),
          }),
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(llm.requests, 1);
    const results = runs.map((r) => {
      const { duration_ms: _d, cached: _c, ...rest } = r.json as RunJson;
      return rest;
    });
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.equal(runs.filter((r) => !(r.json as RunJson).cached).length, 1);
    const entries = await Array.fromAsync(Deno.readDir(join(tmp.path, ".capibara", "scripts")));
    assert.equal(entries.length, 1);
  },
);

sandboxTest(
  "capibara run --select resolves aliases, then raw, and lists missing keys",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({
        body: 'return {"output": {"titulo": "Mate", "precio": 12.5}, "raw": {"stock": 3}}',
        aliases: { precio: "price", titulo: "title" },
      })],
    });
    const res = await runCli(
      ["run", "Fetch a product", "--select", "title,price,stock,colour", "--json"],
      { cwd: tmp.path, env: envFor(llm.url) },
    );
    assert.equal(res.code, 0, res.stderr);
    const r = res.json as RunJson;
    assert.deepEqual(r.output, { title: "Mate", price: 12.5, stock: 3, colour: null });
    assert.deepEqual(r.missing, ["colour"]);
  },
);

sandboxTest(
  "capibara run refuses a cached script edited behind its back (IntegrityError)",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const first = await runCli(["run", "Echo it", "--json"], {
      cwd: tmp.path,
      env: envFor(llm.url),
    });
    assert.equal(first.code, 0, first.stderr);
    const fp = (first.json as RunJson).fingerprint;
    const script = join(tmp.path, ".capibara", "scripts", fp, "script.py");
    await Deno.writeTextFile(script, (await Deno.readTextFile(script)) + "\nimport os\n");
    const res = await runCli(["run", "Echo it"], { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(res.code, 8);
    assert.match(res.stderr, /error\[IntegrityError\]: .*script\.py was modified/);
    assert.equal(llm.requests, 1);
  },
);

sandboxTest("capibara list, show and clear manage the store", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const env = envFor(llm.url);
  const run = await runCli(["run", "Echo it", "--json"], { cwd: tmp.path, env });
  const fp = (run.json as RunJson).fingerprint;

  const list = await runCli(["list", "--json"], { cwd: tmp.path, env });
  assert.equal(list.code, 0, list.stderr);
  const listed = list.json as { scripts: { fingerprint: string; prompt: string }[] };
  assert.deepEqual(listed.scripts.map((s) => [s.fingerprint, s.prompt]), [[fp, "Echo it"]]);

  const show = await runCli(["show", fp.slice(0, 8)], { cwd: tmp.path, env });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(fp));
  assert.match(show.stdout, /integrity: +ok/);
  assert.match(show.stdout, /Run it by hand/);

  const unknown = await runCli(["show", "fp_ffff", "--json"], { cwd: tmp.path, env });
  assert.equal(unknown.code, 2);

  const refused = await runCli(["clear"], { cwd: tmp.path, env });
  assert.equal(refused.code, 2, "clear without --yes and without a terminal must refuse");
  const cleared = await runCli(["clear", fp, "--yes", "--json"], { cwd: tmp.path, env });
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.deepEqual((cleared.json as { removed: string[] }).removed, [fp]);
  const after = await runCli(["list", "--json"], { cwd: tmp.path, env });
  assert.deepEqual((after.json as { scripts: unknown[] }).scripts, []);
});

Deno.test("capibara --help and unknown options", async () => {
  await using tmp = await withTmpDir();
  const help = await runCli(["run", "--help"], { cwd: tmp.path });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--context <json\|@file>/);
  assert.match(help.stdout, /--refresh/);
  const bad = await runCli(["run", "x", "--frobnicate"], { cwd: tmp.path });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error\[ValidationError\]: Unknown option '--frobnicate'/);
});

Deno.test("the committed demo runs with no generator configured, leaving .capibara/ untouched whatever is granted", async () => {
  await using tmp = await withTmpDir();
  await copyExamples(tmp.path);
  const before = await snapshotTree(join(tmp.path, ".capibara"));
  const demo = DEMO_RUN;
  const res = await runCli(demo, { cwd: tmp.path, env: { CAPIBARA_CACHE_DIR: CACHE } });
  assert.equal(res.code, 0, res.stderr);
  const r = res.json as RunJson;
  assert.equal(r.cached, true);
  assert.deepEqual(r.output, { total_revenue: 1529.25, units: 83, top_region: "south" });
  assert.deepEqual(r.artifacts, ["out/summary.json"]);
  assert.deepEqual(r.allow, {
    network: [],
    env: [],
    fs: { read: ["data/sales.csv"], write: ["out"] },
  });
  const summary = JSON.parse(await Deno.readTextFile(join(tmp.path, "out", "summary.json")));
  assert.equal(summary.rows, 12);

  // Other grants: reported in the result, never written into the committed entry.
  const granted = await runCli([...demo, "--allow-read", "data", "--allow-write", "tmp"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: CACHE },
  });
  assert.equal(granted.code, 0, granted.stderr);
  assert.deepEqual((granted.json as RunJson).allow.fs, {
    read: ["data/sales.csv", "data"],
    write: ["out", "tmp"],
  });
  assert.deepEqual(await snapshotTree(join(tmp.path, ".capibara")), before);
});

Deno.test("capibara run: context values JSON cannot canonicalise are a ValidationError (exit 2)", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  for (const context of ['{"name": "\\ud800"}', '{"n": 1e400}', '{"n": -1e999}']) {
    const res = await runCli(["run", "Echo it", "--context", context, "--json"], {
      cwd: tmp.path,
      env: envFor(llm.url),
    });
    assert.equal(res.code, 2, `${context}: ${res.stdout}`);
    assert.equal((res.json as ErrorDoc).error.type, "ValidationError");
  }
  assert.equal(llm.requests, 0);
});

Deno.test("capibara doctor reports the generator of .capibara/config.json, the environment first", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara"));
  const text = JSON.stringify({
    generator: { base_url: "http://team-llm.example/v1", model: "team-model" },
  });
  await Deno.writeTextFile(join(tmp.path, ".capibara", "config.json"), text);
  // The file sets the generator: it takes effect once trusted (here by its hash, as CI does).
  const trusted = { CAPIBARA_CACHE_DIR: CACHE, CAPIBARA_TRUST_CONFIG: await sha256(text) };
  type Doctor = { checks: { name: string; ok: boolean; detail: string }[] };
  const check = (doc: unknown, name: string) =>
    (doc as Doctor).checks.find((c) => c.name === name)!;
  const generatorCheck = (doc: unknown) => check(doc, "generator");
  const untrusted = await runCli(["doctor", "--json"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: CACHE },
  });
  // An untrusted project configuration is a failed check: PermissionError's exit code.
  assert.equal(untrusted.code, 7, untrusted.stderr);
  assert.equal(check(untrusted.json, "project config").ok, false);
  assert.match(check(untrusted.json, "project config").detail, /http:\/\/team-llm\.example\/v1/);
  assert.doesNotMatch(generatorCheck(untrusted.json).detail, /team-llm/);
  const fromConfig = await runCli(["doctor", "--json"], { cwd: tmp.path, env: trusted });
  // The configured server does not exist: its check fails, with NetworkError's exit code.
  assert.equal(fromConfig.code, 4, fromConfig.stderr);
  assert.equal(check(fromConfig.json, "generator server").ok, false);
  assert.equal(check(fromConfig.json, "project config").ok, true);
  assert.equal(generatorCheck(fromConfig.json).ok, true);
  assert.equal(
    generatorCheck(fromConfig.json).detail,
    "http://team-llm.example/v1 (model team-model)",
  );
  const fromEnv = await runCli(["doctor", "--json"], {
    cwd: tmp.path,
    env: { ...trusted, CAPIBARA_MODEL: "env-model" },
  });
  assert.equal(generatorCheck(fromEnv.json).detail, "http://team-llm.example/v1 (model env-model)");
});

Deno.test("CAPIBARA_TIMINGS=1 prints each step of a hit on stderr; stdout stays the JSON result", async () => {
  await using tmp = await withTmpDir();
  await copyExamples(tmp.path);
  const demo = DEMO_RUN;
  const timed = await runCli(demo, {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: CACHE, CAPIBARA_TIMINGS: "1" },
  });
  assert.equal(timed.code, 0, timed.stderr);
  assert.equal((timed.json as RunJson).cached, true);
  const steps = [...timed.stderr.matchAll(/^\s+([\d.]+) ms {2}(.+)$/gm)]
    .map(([, ms, name]) => ({ name: name!, ms: Number(ms) }));
  assert.deepEqual(steps.map((s) => s.name), [
    "the runtime and the modules of a run",
    "arguments, context and the configuration",
    "the project: its root, configuration file and trust",
    "fingerprint",
    "the context's paths",
    "lookup",
    "integrity check",
    "the runtime (its environment) and the sandbox backend",
    "plan",
    "sandbox set-up",
    "the script, in the sandbox",
    "sandbox teardown",
    "the result judged",
    "outputs moved into the project",
    "the run's folder removed",
    "the result printed",
    "total",
  ]);
  const total = steps.pop()!.ms;
  const sum = steps.reduce((acc, s) => acc + s.ms, 0);
  assert.ok(Math.abs(sum - total) < 0.1 * steps.length, `${sum} vs ${total}`);
  assert.ok(steps.every((s) => s.ms >= 0));

  // Without it, a hit prints nothing of the kind.
  const plain = await runCli(demo, { cwd: tmp.path, env: { CAPIBARA_CACHE_DIR: CACHE } });
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /timings|ms {2}/);
});

Deno.test("CAPIBARA_TIMINGS=1 names a miss's generation steps: modules, the model's reply, the checks, the store", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const timed = await runCli(
    ["run", "Echo the context, timed", "--context", '{"n": 1}', "--dry-run", "--json"],
    { cwd: tmp.path, env: envFor(llm.url, { CAPIBARA_TIMINGS: "1" }) },
  );
  assert.equal(timed.code, 0, timed.stderr);
  const steps = [...timed.stderr.matchAll(/^\s+([\d.]+) ms {2}(.+)$/gm)].map(([, , name]) => name);
  assert.deepEqual(steps.filter((name) => name!.startsWith("generation")), [
    "generation: the generator's modules",
    "generation: the contract's modules",
    "generation: the model's reply (the client's modules, the request)",
    "generation: the contract's checks",
    "generation: the rest of the generator's work",
    "generation: the entry stored",
  ]);
  assert.equal(llm.requests, 1);
});

Deno.test({
  name: "on a terminal that tells no width (a pseudo-terminal never sized), a run ends: no " +
    "progress line erased for ever",
  ignore: !(await new Deno.Command("sh", { args: ["-c", "command -v script"] }).output()).success,
  async fn() {
    await using tmp = await withTmpDir();
    await copyExamples(tmp.path);
    const quoted = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
    const line = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...DEMO_ARGS].map(quoted)
      .join(" ");
    // util-linux's script runs the command on a new pseudo-terminal, 0 columns wide.
    const child = new Deno.Command("script", {
      args: ["-qec", line, "/dev/null"],
      cwd: tmp.path,
      clearEnv: true,
      env: cliEnv({ TERM: "xterm" }),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = await child.output();
    clearTimeout(killer);
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text.slice(-2000));
    assert.ok(text.length < 20_000, `${text.length} bytes of output: ${text.slice(0, 300)}`);
    assert.match(text, /total_revenue|revenue/);
  },
});

Deno.test({
  name:
    "capibara run under a umask of 0000 or 0077 (TypeScript, Python): the run works, and nothing it makes is writable by others",
  ignore: !OS_SANDBOX,
  async fn() {
    for (
      const [mask, lang] of [["0000", "typescript"], ["0077", "typescript"], ["0077", "python"]]
    ) {
      await using tmp = await withTmpDir();
      await copyExamples(tmp.path);
      const out = await new Deno.Command("/bin/sh", {
        args: [
          "-c",
          `umask ${mask}; exec "$@"`,
          "sh",
          Deno.execPath(),
          "run",
          "-A",
          CLI,
          ...DEMO_RUN.map((arg) => arg === "typescript" ? lang! : arg),
        ],
        cwd: tmp.path,
        clearEnv: true,
        env: cliEnv({ CAPIBARA_CACHE_DIR: CACHE }),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(
        out.code,
        0,
        `${mask}: ${new TextDecoder().decode(out.stderr)}${new TextDecoder().decode(out.stdout)}`,
      );
      const summary = join(tmp.path, "out", "summary.json");
      assert.equal(JSON.parse(await Deno.readTextFile(summary)).rows, 12, mask);
      assert.equal((await Deno.lstat(summary)).mode! & 0o002, 0, `${mask}: writable by others`);
    }
  },
});

Deno.test({
  name:
    "the SDK in a process under a umask of 0000: a TypeScript run with a cache of its own works, and what it makes is open to no other user",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await copyExamples(tmp.path);
    const cache = join(tmp.path, "cache");
    const program = join(tmp.path, "sdk.ts");
    await Deno.writeTextFile(
      program,
      `import { Capibara } from ${JSON.stringify(join(REPO, "src", "mod.ts"))};
const cb = new Capibara({ cwd: ${
        JSON.stringify(tmp.path)
      }, env: { ...Deno.env.toObject(), CAPIBARA_CACHE_DIR: ${JSON.stringify(cache)} } });
const result = await cb.run("Summarise the sales CSV: total revenue, units and revenue per region", {
  context: { input: "data/sales.csv", output: "out/summary.json" },
  language: "typescript",
});
console.log(JSON.stringify(result.output));
Deno.exit(0);
`,
    );
    // A new cache: the script's imports are checked in a sandbox of their own first.
    const out = await new Deno.Command("/bin/sh", {
      args: ["-c", 'umask 0000; exec "$@"', "sh", Deno.execPath(), "run", "-A", program],
      cwd: tmp.path,
      clearEnv: true,
      env: cliEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /"total_revenue":1529\.25/);
    const summary = join(tmp.path, "out", "summary.json");
    assert.equal((await Deno.lstat(summary)).mode! & 0o022, 0, "the output is open to others");
  },
});

Deno.test("capibara doctor passes a local server's only model when none is set, as run uses it", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [] });
  type Doctor = { checks: { name: string; ok: boolean; detail: string }[] };
  const server = (doc: unknown) =>
    (doc as Doctor).checks.find((c) => c.name === "generator server")!;
  const env = { CAPIBARA_CACHE_DIR: CACHE, CAPIBARA_BASE_URL: llm.url };
  const none = await runCli(["doctor", "--json"], { cwd: tmp.path, env });
  assert.equal(server(none.json).ok, true, none.stdout);
  assert.match(server(none.json).detail, /lists one model, "fake-model"/);
  // A model set that the server does not list still fails.
  const other = await runCli(["doctor", "--json"], {
    cwd: tmp.path,
    env: { ...env, CAPIBARA_MODEL: "gpt-4o-mini" },
  });
  assert.equal(server(other.json).ok, false);
  assert.equal(other.code, 4);
});

sandboxTest(
  "capibara run: a miss's static checks probe the sandbox once per cache, not once per process",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    // A cache of this test's own: the probe a generation makes must be remembered there, where the
    // next process finds it (the checks run before the cache folder was known to the backend).
    const cache = join(tmp.path, "cache");
    const probe = join(cache, "sandbox", "bwrap-probe.json");
    const env = fakeServerEnv(llm.url, cache);
    const made = await runCli(["run", "Echo the context back", "--dry-run", "--json"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const first = await Deno.stat(probe);
    const again = await runCli(["run", "Echo it again", "--dry-run", "--json"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    // Read, not probed and written again.
    assert.equal((await Deno.stat(probe)).mtime?.getTime(), first.mtime?.getTime());
  },
);
