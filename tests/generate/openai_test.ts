import assert from "node:assert/strict";
import { CapibaraError, NetworkError, TemplateError, ValidationError } from "../../src/errors.ts";
import { checkBundle, ContractViolation, extractJson } from "../../src/contract/bundle.ts";
import {
  DEFAULT_MODEL,
  generatorFromConfig,
  generatorFromEnv,
  OPENAI_BASE_URL,
  OpenAIGenerator,
  type OpenAIGeneratorOptions,
  shownUrl,
} from "../../src/generate/openai.ts";
import { replyJsonSchema, systemPrompt, userMessage } from "../../src/generate/templates.ts";
import { ALLOWED_IMPORTS, TEMPLATE_VERSION } from "../../src/contract/contract.ts";
import { bundleObject, bundleReply, pythonScript, startFakeLLM } from "../helpers/fake_llm.ts";

const REQUEST = {
  prompt: "Count the rows of the CSV",
  context: { input: "data/sales.csv" },
  language: "python" as const,
};

function generator(url: string, extra: Partial<OpenAIGeneratorOptions> = {}): OpenAIGenerator {
  return new OpenAIGenerator({
    baseURL: url,
    apiKey: "test-key",
    model: "fake-model",
    timeoutMs: 10_000,
    maxRetries: 0,
    ...extra,
  });
}

type ChatBody = {
  model: string;
  temperature: number;
  seed: number;
  response_format?: { type: string; json_schema: { name: string; schema: unknown } };
  messages: { role: string; content: string }[];
};

async function rejection(promise: Promise<unknown>): Promise<ContractViolation> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ContractViolation, `expected a ContractViolation, got ${err}`);
  return err;
}

async function runPython(
  script: string,
  args: string[],
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/script.py`;
    await Deno.writeTextFile(file, script);
    await Deno.writeTextFile(`${dir}/ctx.json`, JSON.stringify({ input: "a.csv", n: 3 }));
    const out = await new Deno.Command("python3", {
      args: [file, ...args.map((a) => a.replace("@CTX", `@${dir}/ctx.json`))],
      cwd: dir,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    return {
      code: out.code,
      lines: stdout.split("\n").filter((l) => l.trim() !== ""),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function lastJson(lines: string[]): Record<string, unknown> {
  const last = lines.at(-1);
  assert.ok(last !== undefined, "no stdout");
  return JSON.parse(last);
}

// --- fake_llm.ts helpers -------------------------------------------------------------------

Deno.test("bundleReply() builds a script that passes checkBundle()", async () => {
  const bundle = await checkBundle(JSON.parse(bundleReply()), { language: "python" });
  assert.equal(bundle.language, "python");
  assert.deepEqual(bundle.requirements, []);
});

Deno.test("pythonScript() runs: --selftest, --dry-run and --context @file print status lines", async () => {
  const script = pythonScript({ body: 'return {"output": {"n": ctx["n"] * 2}}' });
  const self = await runPython(script, ["--selftest"]);
  assert.equal(self.code, 0, self.stderr);
  assert.deepEqual(lastJson(self.lines).output, { selftest: true });

  const dry = await runPython(script, ["--context", "@CTX", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(lastJson(dry.lines).output, { dry_run: true, context_keys: ["input", "n"] });

  const run = await runPython(script, ["--context", "@CTX"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(lastJson(run.lines), { status: "ok", artifacts: [], output: { n: 6 }, raw: {} });

  const inline = await runPython(script, ["--context", '{"n": 5}']);
  assert.deepEqual(lastJson(inline.lines).output, { n: 10 });
});

Deno.test("pythonScript() reports a failing body as a status error line and exit 1", async () => {
  const script = pythonScript({ body: 'raise RuntimeError("boom")' });
  const run = await runPython(script, ["--context", "@CTX"]);
  assert.equal(run.code, 1);
  const line = lastJson(run.lines);
  assert.equal(line.status, "error");
  assert.equal(line.error, "RuntimeError: boom");
});

// --- extractJson ---------------------------------------------------------------------------

Deno.test("extractJson() parses plain JSON", () => {
  assert.deepEqual(extractJson(' {"a": 1} \n'), { a: 1 });
});

Deno.test("extractJson() accepts a ```json fence with prose around it", () => {
  assert.deepEqual(extractJson('Here it is:\n```json\n{"a": [1, 2]}\n```\nDone.'), { a: [1, 2] });
});

Deno.test("extractJson() finds the first balanced object, braces in strings included", () => {
  assert.deepEqual(extractJson('Sure! {"s": "} {", "b": {"c": 2}} trailing'), {
    s: "} {",
    b: { c: 2 },
  });
});

Deno.test("extractJson() throws a descriptive error on text without JSON", () => {
  assert.throws(() => extractJson("I cannot help with that."), /no JSON object/);
  assert.throws(() => extractJson("   "), /empty/);
  assert.throws(() => extractJson('{"a": '), /not valid JSON/);
});

// --- checkBundle ---------------------------------------------------------------------------

Deno.test("checkBundle() accepts pinned requirements matching the header and PEP 723", async () => {
  const raw = bundleObject({ requirements: ["Requests==2.32.3", "numpy==1.26.4"] });
  (raw as { script: string }).script = (raw.script as string).replace(
    "# deps: Requests==2.32.3, numpy==1.26.4",
    "# deps: numpy==1.26.4, requests==2.32.3",
  );
  const bundle = await checkBundle(raw, { language: "python" });
  assert.deepEqual(bundle.requirements, ["Requests==2.32.3", "numpy==1.26.4"]);
});

Deno.test("checkBundle() rejects a reply that does not match the schema, listing the paths", async () => {
  const err = await rejection(
    checkBundle({ language: "python", script: 42, needs: { network: "x" } }, {
      language: "python",
    }),
  );
  assert.match(err.reason, /script/);
  assert.match(err.reason, /needs\.network/);
});

Deno.test("checkBundle() rejects the wrong language", async () => {
  const err = await rejection(checkBundle(bundleObject(), { language: "bash" }));
  assert.match(err.reason, /"python" but a bash script/);
});

Deno.test("checkBundle() rejects a script without the header block", async () => {
  const raw = bundleObject();
  raw.script = (raw.script as string).replace("# --- /CAPIBARA ---\n", "");
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /no header block/);
});

Deno.test("checkBundle() rejects header deps that differ from requirements", async () => {
  const raw = bundleObject({
    requirements: ["requests==2.32.3"],
    headerDeps: ["requests==2.31.0"],
  });
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /header's deps \(requests==2\.31\.0\) differ/);
});

Deno.test("checkBundle() rejects unpinned requirements", async () => {
  for (const req of ["requests", "requests>=2.0", "requests==2.*", "requests==banana"]) {
    const err = await rejection(
      checkBundle(bundleObject({ requirements: [req] }), { language: "python" }),
    );
    assert.match(err.reason, /pinned/, req);
    assert.ok(err.reason.includes(req), req);
  }
});

Deno.test("checkBundle() rejects a python script without a PEP 723 block", async () => {
  const raw = bundleObject({ requirements: ["requests==2.32.3"], pep723Deps: null });
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /no PEP 723 block/);
});

Deno.test("checkBundle() rejects PEP 723 dependencies that differ from requirements", async () => {
  const raw = bundleObject({ requirements: ["requests==2.32.3"], pep723Deps: [] });
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /PEP 723 dependencies \(none\) differ/);
});

Deno.test("checkBundle() rejects a python script with a syntax error", async () => {
  const raw = bundleObject({ body: "return {'output': {" });
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /does not compile: SyntaxError/);
  assert.match(err.reason, /line \d+/);
});

Deno.test("checkBundle() rejects a python script that parses but does not compile", async () => {
  // The parser lets these through; Python's compiler refuses them, so the script could never run.
  for (
    const [body, why] of [
      ["nonlocal undeclared\nreturn {}", /no binding for nonlocal 'undeclared'/],
      ["def inner(a, a):\n    pass\nreturn {}", /duplicate argument 'a'/],
      ["x = 1\nglobal x\nreturn {}", /assigned to before global declaration/],
    ] as const
  ) {
    const err = await rejection(checkBundle(bundleObject({ body }), { language: "python" }));
    assert.match(err.reason, /does not compile: SyntaxError: /, body);
    assert.match(err.reason, why);
    assert.match(err.reason, /\(line \d+\)/);
  }
});

Deno.test("checkBundle() rejects a script that does not handle --selftest", async () => {
  const raw = bundleObject();
  raw.script = (raw.script as string)
    .replace('    parser.add_argument("--selftest", action="store_true")\n', "")
    .replace("if args.selftest:", "if False:");
  const err = await rejection(checkBundle(raw, { language: "python" }));
  assert.match(err.reason, /does not handle --selftest/);
  assert.doesNotMatch(err.reason, /--dry-run,/);
});

const BASH_OK = `#!/usr/bin/env bash
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
set -euo pipefail
for arg in "$@"; do
  case "$arg" in
    --selftest) echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
    --dry-run|--context) ;;
  esac
done
echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'
`;

Deno.test("checkBundle() accepts a valid bash script and rejects one bash -n refuses", async () => {
  const ok = bundleObject({ language: "bash", script: BASH_OK });
  assert.equal((await checkBundle(ok, { language: "bash" })).script, BASH_OK);
  const bad = bundleObject({ language: "bash", script: BASH_OK.replace("esac", "") });
  const err = await rejection(checkBundle(bad, { language: "bash" }));
  assert.match(err.reason, /does not compile/);
});

Deno.test("checkBundle() has no parser read a script past the checks' bound, bash's either", async () => {
  // Valid bash, made large with comments: bash -n would pass it.
  const big = BASH_OK + "# padding\n".repeat(60_000);
  const err = await rejection(checkBundle(bundleObject({ language: "bash", script: big }), {
    language: "bash",
  }));
  assert.match(err.reason, /cannot be checked: the script is \d+ KiB, more than the 512 KiB/);
});

Deno.test("checkBundle() rejects requirements in a bash script", async () => {
  const raw = bundleObject({
    language: "bash",
    requirements: ["jq==1.7"],
    script: BASH_OK.replace("# deps: none", "# deps: jq==1.7"),
  });
  const err = await rejection(checkBundle(raw, { language: "bash" }));
  assert.match(err.reason, /Bash scripts cannot have requirements/);
});

Deno.test("checkBundle() checks typescript headers with // and exact npm versions", async () => {
  const script = `// --- CAPIBARA ---
// deps: zod==3.23.8
// --- /CAPIBARA ---
import { z } from "npm:zod@3.23.8";
// handles --context, --selftest and --dry-run
console.log(JSON.stringify({ status: "ok", artifacts: [], output: {}, raw: {} }), z);
`;
  const ok = bundleObject({ language: "typescript", script, requirements: ["zod==3.23.8"] });
  assert.equal((await checkBundle(ok, { language: "typescript" })).requirements[0], "zod==3.23.8");

  const loose = bundleObject({
    language: "typescript",
    script: script.replace("deps: zod==3.23.8", "deps: zod==^3.23.8"),
    requirements: ["zod==^3.23.8"],
  });
  const err = await rejection(checkBundle(loose, { language: "typescript" }));
  assert.match(err.reason, /exact semver/);

  const hashHeader = bundleObject({
    language: "typescript",
    script: script.replaceAll("// ---", "# ---"),
    requirements: ["zod==3.23.8"],
  });
  assert.match(
    (await rejection(checkBundle(hashHeader, { language: "typescript" }))).reason,
    /header/,
  );
});

// --- templates -----------------------------------------------------------------------------

Deno.test("systemPrompt() spells out the script contract for each language", () => {
  for (const language of ["python", "typescript", "bash"] as const) {
    const text = systemPrompt(language);
    for (
      const needle of [
        "--context",
        "--selftest",
        "--dry-run",
        "LAST non-empty line",
        "needs.network",
        "needs.env",
        "deps: none",
        "--- CAPIBARA ---",
        "--- /CAPIBARA ---",
        TEMPLATE_VERSION,
      ]
    ) {
      assert.ok(text.includes(needle), `${language}: ${needle}`);
    }
  }
  assert.ok(systemPrompt("python").includes("# /// script"));
  assert.ok(systemPrompt("typescript").includes("// --- CAPIBARA ---"));
  assert.ok(!systemPrompt("bash").includes("# /// script"));
});

Deno.test("userMessage() carries the prompt, the language and the context", () => {
  const text = userMessage(REQUEST);
  assert.ok(text.includes(REQUEST.prompt));
  assert.ok(text.includes('"input": "data/sales.csv"'));
  assert.ok(text.includes("python"));
});

Deno.test("replyJsonSchema() requires every reply field and pins the language", () => {
  const { schema } = replyJsonSchema("bash");
  const s = schema as { required: string[]; properties: { language: { enum: string[] } } };
  assert.deepEqual(s.required.toSorted(), [
    "aliases",
    "language",
    "needs",
    "outputs",
    "readme",
    "requirements",
    "script",
  ]);
  assert.deepEqual(s.properties.language.enum, ["bash"]);
});

Deno.test("ALLOWED_IMPORTS allows json and pathlib but not subprocess or socket", () => {
  assert.ok(ALLOWED_IMPORTS.python.includes("json"));
  assert.ok(ALLOWED_IMPORTS.python.includes("pathlib"));
  assert.ok(!ALLOWED_IMPORTS.python.includes("subprocess"));
  assert.ok(!ALLOWED_IMPORTS.python.includes("socket"));
});

// --- OpenAIGenerator against the fake server ------------------------------------------------

Deno.test("OpenAIGenerator.generate() returns the bundle of a valid reply", async () => {
  await using llm = startFakeLLM({ replies: [bundleReply({ readme: "Counts rows." })] });
  const progress: string[] = [];
  const result = await generator(llm.url).generate(REQUEST, {
    progress: (m) => progress.push(m),
  });
  assert.equal(result.bundle.readme, "Counts rows.");
  assert.equal(result.attempts, 1);
  assert.equal(result.model, "fake-model");
  assert.equal(llm.requests, 1);
  assert.equal(progress.length, 1);

  const body = llm.bodies[0] as ChatBody;
  assert.equal(body.model, "fake-model");
  assert.equal(body.temperature, 0);
  assert.equal(body.seed, 7);
  assert.equal(body.response_format?.type, "json_schema");
  assert.equal(body.response_format?.json_schema.name, "capibara_bundle");
  assert.deepEqual(body.messages.map((m) => m.role), ["system", "user"]);
  assert.equal(body.messages[0]?.content, systemPrompt("python"));
  assert.ok(body.messages[1]?.content.includes("data/sales.csv"));
});

Deno.test("OpenAIGenerator.generate() accepts a reply in a ```json fence", async () => {
  await using llm = startFakeLLM({
    replies: ["Here is the script:\n```json\n" + bundleReply() + "\n```\n"],
  });
  const result = await generator(llm.url).generate(REQUEST);
  assert.equal(result.attempts, 1);
  assert.ok(result.bundle.script.includes("--- CAPIBARA ---"));
});

Deno.test("OpenAIGenerator.generate() repairs a reply that breaks the contract twice", async () => {
  const unpinned = bundleReply({ requirements: ["requests"] });
  const noJson = "Sorry, here is a description of the script instead.";
  await using llm = startFakeLLM({ replies: [unpinned, noJson, bundleReply()] });
  const result = await generator(llm.url).generate(REQUEST);
  assert.equal(result.attempts, 3);
  assert.equal(llm.requests, 3);

  const second = llm.bodies[1] as ChatBody;
  assert.deepEqual(second.messages.map((m) => m.role), ["system", "user", "assistant", "user"]);
  assert.equal(second.messages[2]?.content, unpinned);
  assert.match(second.messages[3]?.content ?? "", /"requests" is not pinned as "name==version"/);

  const third = llm.bodies[2] as ChatBody;
  assert.equal(third.messages.length, 6);
  assert.equal(third.messages[4]?.content, noJson);
  assert.match(third.messages[5]?.content ?? "", /no JSON object/);
});

Deno.test("OpenAIGenerator.generate() throws TemplateError after exactly 3 broken replies", async () => {
  await using llm = startFakeLLM({ replies: [bundleReply({ body: "return {" })] });
  const err = await generator(llm.url).generate(REQUEST).catch((e: unknown) => e);
  assert.ok(err instanceof TemplateError, String(err));
  assert.equal(llm.requests, 3);
  assert.match(err.message, /in 3 attempts: The script does not compile/);
  assert.match(err.hint, /[Rr]ephrase/);
  assert.equal(err.exitCode, 6);
});

Deno.test("OpenAIGenerator.generate() falls back without response_format when the server rejects it", async () => {
  await using llm = startFakeLLM({ replies: [bundleReply()], rejectResponseFormat: true });
  const gen = generator(llm.url);
  const result = await gen.generate(REQUEST);
  assert.equal(result.attempts, 1);
  assert.equal(llm.requests, 2);
  assert.ok((llm.bodies[0] as ChatBody).response_format !== undefined);
  assert.equal((llm.bodies[1] as ChatBody).response_format, undefined);
  assert.equal(gen.usesResponseFormat, false);

  // The generator remembers: the next generation goes straight without response_format.
  await gen.generate(REQUEST);
  assert.equal(llm.requests, 3);
  assert.equal((llm.bodies[2] as ChatBody).response_format, undefined);
});

Deno.test("OpenAIGenerator.generate() does not drop response_format for a later unrelated 400", async () => {
  await using llm = startFakeLLM({
    replies: [bundleReply(), { status: 400, body: { error: { message: "context too long" } } }],
  });
  const gen = generator(llm.url);
  await gen.generate(REQUEST);
  const err = await gen.generate(REQUEST).catch((e: unknown) => e);
  assert.ok(err instanceof NetworkError, String(err));
  assert.match(err.message, /HTTP 400\): context too long/);
  assert.equal(llm.requests, 2);
  assert.equal(gen.usesResponseFormat, true);
});

Deno.test("OpenAIGenerator.generate() throws NetworkError naming the URL of an unreachable server", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const url = `http://127.0.0.1:${port}/v1`;
  const started = performance.now();
  const err = await generator(url, { timeoutMs: 2_000 }).generate(REQUEST).catch((e: unknown) => e);
  assert.ok(err instanceof NetworkError, String(err));
  assert.ok(err.message.includes(url), err.message);
  assert.match(err.hint, /CAPIBARA_BASE_URL/);
  assert.equal(err.exitCode, 4);
  assert.ok(performance.now() - started < 5_000);
});

Deno.test("a base URL's user name and password are never shown in an error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const errors = [
    await generator(`http://alice:s3cret@127.0.0.1:${port}/v1`, { timeoutMs: 2_000 })
      .generate(REQUEST).catch((e: unknown) => e),
    await generator("alice:s3cret@example.test/v1").generate(REQUEST).catch((e: unknown) => e),
  ];
  for (const err of errors) {
    assert.ok(err instanceof CapibaraError, String(err));
    const shown = JSON.stringify({ message: err.message, hint: err.hint, details: err.details });
    assert.doesNotMatch(shown, /s3cret|alice/, shown);
  }
  assert.equal(shownUrl("https://u:p@w@host:1/v1?q=a@b"), "https://host:1/v1?q=a@b");
  assert.equal(shownUrl("http://host/v1"), "http://host/v1");
});

Deno.test("generatorFromConfig() refuses a base URL that is not http(s): a Core with one does not start", () => {
  const settings = {
    configured: true,
    baseUrl: "localhost:11434/v1",
    model: "m",
    modelSet: true,
  } as Parameters<typeof generatorFromConfig>[0];
  assert.throws(() => generatorFromConfig(settings), ValidationError);
});

Deno.test("generatorFromConfig() refuses an API key with a control character (a pasted line break) as the user's mistake, never showing it", () => {
  for (const apiKey of ["sk-secret\n", "sk-se\rcret", "sk-\x00secret"]) {
    const settings = {
      configured: true,
      baseUrl: "http://127.0.0.1:9/v1",
      apiKey,
      model: "m",
      modelSet: true,
    } as Parameters<typeof generatorFromConfig>[0];
    const error = (() => {
      try {
        generatorFromConfig(settings);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, /holds a control character/);
    assert.doesNotMatch(JSON.stringify([error.message, error.hint]), /secret/);
  }
  const fine = {
    configured: true,
    baseUrl: "http://127.0.0.1:9/v1",
    apiKey: "sk-fine",
    model: "m",
    modelSet: true,
  } as Parameters<typeof generatorFromConfig>[0];
  assert.ok(generatorFromConfig(fine));
});

Deno.test("OpenAIGenerator.generate() throws NetworkError when the server times out", async () => {
  await using llm = startFakeLLM({ replies: [{ content: bundleReply(), delayMs: 3_000 }] });
  const err = await generator(llm.url, { timeoutMs: 200 }).generate(REQUEST).catch((e: unknown) =>
    e
  );
  assert.ok(err instanceof NetworkError, String(err));
  assert.match(err.message, /did not answer within 200 ms/);
});

Deno.test("OpenAIGenerator.generate() throws NetworkError after bounded retries of HTTP 500", async () => {
  await using llm = startFakeLLM({
    replies: [{ status: 500, headers: { "retry-after-ms": "10" } }],
  });
  const err = await generator(llm.url, { maxRetries: 2 }).generate(REQUEST).catch((e: unknown) =>
    e
  );
  assert.ok(err instanceof NetworkError, String(err));
  assert.equal(llm.requests, 3);
  assert.match(err.message, /HTTP 500 after 2 retries/);
  assert.ok(err.message.includes(llm.url));
});

Deno.test("OpenAIGenerator.generate() retries a 503 and then succeeds", async () => {
  await using llm = startFakeLLM({
    replies: [{ status: 503, headers: { "retry-after-ms": "10" } }, bundleReply()],
  });
  const result = await generator(llm.url, { maxRetries: 2 }).generate(REQUEST);
  assert.equal(result.attempts, 1);
  assert.equal(llm.requests, 2);
});

Deno.test("OpenAIGenerator.generate() maps HTTP 401 to NetworkError with an API key hint", async () => {
  await using llm = startFakeLLM({
    replies: [{ status: 401, body: { error: { message: "Incorrect API key provided" } } }],
  });
  const err = await generator(llm.url).generate(REQUEST).catch((e: unknown) => e);
  assert.ok(err instanceof NetworkError, String(err));
  assert.match(err.message, /HTTP 401/);
  assert.match(err.hint, /CAPIBARA_API_KEY/);
  assert.equal(llm.requests, 1);
});

Deno.test("OpenAIGenerator.generate() stops when the signal aborts", async () => {
  await using llm = startFakeLLM({ replies: [{ content: bundleReply(), delayMs: 3_000 }] });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("cancelled by test")), 100);
  const err = await generator(llm.url).generate(REQUEST, { signal: controller.signal })
    .catch((e: unknown) => e);
  assert.ok(!(err instanceof NetworkError));
  assert.match(String(err), /cancelled by test/);
});

// --- generatorFromEnv ----------------------------------------------------------------------

Deno.test("generatorFromEnv() returns undefined without a base URL or API key", () => {
  assert.equal(generatorFromEnv({}), undefined);
  assert.equal(generatorFromEnv({ CAPIBARA_MODEL: "llama3", CAPIBARA_API_KEY: " " }), undefined);
});

Deno.test("generatorFromEnv() uses OpenAI's base URL and the default model with only a key", () => {
  const gen = generatorFromEnv({ OPENAI_API_KEY: "sk-test" });
  assert.equal(gen?.baseURL, OPENAI_BASE_URL);
  assert.equal(gen?.model, DEFAULT_MODEL);
});

Deno.test("generatorFromEnv() prefers CAPIBARA_ variables, then OPENAI_, then the config", () => {
  const gen = generatorFromEnv(
    {
      CAPIBARA_BASE_URL: "http://localhost:11434/v1",
      OPENAI_BASE_URL: "http://other/v1",
      CAPIBARA_MODEL: "llama3.1",
    },
    { base_url: "http://config/v1", model: "config-model" },
  );
  assert.equal(gen?.baseURL, "http://localhost:11434/v1");
  assert.equal(gen?.model, "llama3.1");

  const fromConfig = generatorFromEnv({}, { base_url: "http://config/v1", model: "config-model" });
  assert.equal(fromConfig?.baseURL, "http://config/v1");
  assert.equal(fromConfig?.model, "config-model");
});

Deno.test("generatorFromEnv() works against a keyless server given only a base URL", async () => {
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const gen = generatorFromEnv({ CAPIBARA_BASE_URL: llm.url, CAPIBARA_MODEL: "local" });
  assert.ok(gen);
  const result = await gen.generate(REQUEST);
  assert.equal(result.model, "local");
  assert.equal((llm.bodies[0] as ChatBody).model, "local");
});

Deno.test("OpenAIGenerator: an endless reply is refused past its bound, not read into memory", async () => {
  let sent = 0;
  const chunk = new TextEncoder().encode(`{"choices": [${" ".repeat(65_536)}`);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
  );
  try {
    await assert.rejects(
      generator(`http://127.0.0.1:${server.addr.port}/v1`).generate(REQUEST),
      (error: unknown) => error instanceof NetworkError && /larger than 16 MiB/.test(error.message),
    );
    assert.ok(sent < 64 * 1024 ** 2, `${sent} bytes were read`);
  } finally {
    await server.shutdown();
  }
});
