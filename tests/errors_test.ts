import assert from "node:assert/strict";
import {
  ExecError,
  forAudience,
  PermissionError,
  sdkHint,
  systemError,
  ValidationError,
} from "../src/errors.ts";
import { bundleReply, startFakeLLM } from "./helpers/fake_llm.ts";
import { runCli } from "./helpers/cli.ts";
import { withTmpDir } from "./helpers/tmp.ts";

Deno.test("sdkHint() names the SDK's options where a hint names CLI flags", () => {
  assert.equal(
    sdkHint(
      "Review the script, then add --allow-net api.x --allow-env TOKEN " +
        '(or list it under "allow" in .capibara/config.json)',
    ),
    'Review the script, then add allow: { network: ["api.x"], env: ["TOKEN"] } to run() ' +
      '(or list it under "allow" in .capibara/config.json)',
  );
  assert.equal(
    sdkHint("Name it exactly, e.g. --allow-private-net 10.0.0.5:5432"),
    'Name it exactly, e.g. allow: { privateNetwork: ["10.0.0.5:5432"] } to run()',
  );
  assert.equal(
    sdkHint("Install bubblewrap; or pass --no-sandbox to run it unprotected"),
    "Install bubblewrap; or pass sandbox: false to run it unprotected",
  );
  assert.equal(
    sdkHint("Regenerate it with capibara run --refresh, or overwrite it with --refresh --force"),
    "Regenerate it with run(prompt, { refresh: true }), or overwrite it with " +
      "{ refresh: true, force: true }",
  );
  assert.equal(sdkHint("Raise it with --memory <MiB>"), "Raise it with the memoryBytes option");
  // Text without flags is left as it is.
  assert.equal(sdkHint("Check the path"), "Check the path");
  assert.equal(
    sdkHint('Say what the script should do, e.g. capibara run "Summarise data.csv"'),
    'Say what the script should do, e.g. run("Summarise data.csv")',
  );
  assert.equal(
    sdkHint("Say it in a few sentences, and pass data in --context"),
    "Say it in a few sentences, and pass data in the context option",
  );
  // Two flags named as alternatives grant nothing: `/` is no value (it became a grant of "/").
  assert.doesNotMatch(sdkHint("grant it yourself (--allow-read / --allow-write)"), /\["\/"\]/);
  assert.equal(
    sdkHint("grant it yourself: --allow-read <path> or --allow-write <path>"),
    'grant it yourself: allow: { read: ["<path>"] } to run() or allow: { write: ["<path>"] } to run()',
  );
});

Deno.test("forAudience() keeps the error and rewrites its hint for SDK callers only", () => {
  const make = () =>
    new PermissionError("needs", { hint: "Add --allow-env TOKEN", details: { a: 1 } });
  const cli = make();
  assert.equal(forAudience(cli, "cli").hint, "Add --allow-env TOKEN");
  const sdk = make();
  const same = forAudience(sdk, "sdk");
  assert.equal(same, sdk);
  assert.ok(same instanceof PermissionError);
  assert.equal(same.hint, 'Add allow: { env: ["TOKEN"] } to run()');
  assert.deepEqual(same.details, { a: 1 });
  assert.equal(forAudience("not an error", "sdk"), "not an error");
  assert.equal(forAudience(new ValidationError("x"), "sdk").hint, "");
});

Deno.test("capibara run's hint for a need not granted names the CLI flag", async () => {
  await using tmp = await withTmpDir();
  const cache = await Deno.makeTempDir({ prefix: "capibara_errors_cache_" });
  await using llm = startFakeLLM({
    replies: [bundleReply({ needs: { network: ["api.example.com"] } })],
  });
  try {
    const r = await runCli(["run", "Fetch it", "--json"], {
      cwd: tmp.path,
      env: {
        CAPIBARA_BASE_URL: llm.url,
        CAPIBARA_API_KEY: "test-key",
        CAPIBARA_MODEL: "fake-model",
        CAPIBARA_CACHE_DIR: cache,
      },
    });
    assert.equal(r.code, 7, r.stdout + r.stderr);
    const hint = (r.json as { error: { hint: string } }).error.hint;
    assert.match(hint, /--allow-net api\.example\.com/);
    assert.doesNotMatch(hint, /allow: \{/);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("sdkHint() gathers 50,000 grant flags of one kind into one list, in order", () => {
  const hosts = Array.from({ length: 50_000 }, (_, i) => `h${i}.example`);
  const hint = `Add ${hosts.map((h) => `--allow-net ${h}`).join(" ")}`;
  const out = sdkHint(hint);
  assert.ok(out.startsWith('Add allow: { network: ["h0.example", "h1.example"'), out.slice(0, 80));
  assert.ok(out.includes('"h49999.example"] } to run()'));
});

Deno.test("systemError() types the machine's failures (a full disk, a read-only file system) and leaves others", () => {
  const withCode = (code: string) => Object.assign(new Error(`failed (${code})`), { code });
  for (const code of ["ENOSPC", "EDQUOT", "EMFILE", "ENFILE"]) {
    const typed = systemError(withCode(code));
    assert.ok(typed instanceof ExecError, code);
    assert.deepEqual(typed.details, { code });
    assert.notEqual(typed.hint, "");
  }
  assert.ok(systemError(withCode("EROFS")) instanceof PermissionError);
  for (
    const other of [withCode("ENOENT"), new Error("no code"), "text", null, { code: "ENOSPC" }]
  ) {
    assert.equal(systemError(other), undefined);
  }
});
