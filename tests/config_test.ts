/**
 * resolveConfig(): options > environment > .capibara/config.json > defaults, once; SDK options
 * validated with hints for SDK callers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkGrants,
  DEFAULT_MODEL,
  DEFAULTS,
  loadProjectConfig,
  OPENAI_BASE_URL,
  platformCacheDir,
  resolveConfig,
} from "../src/config.ts";
import type { ProjectTrust } from "../src/config_trust.ts";
import { ValidationError } from "../src/errors.ts";
import { withTmpDir } from "./helpers/tmp.ts";

/** The trust state of a file trusted on this machine (see tests/config_trust_test.ts). */
const TRUSTED: ProjectTrust = { state: "trusted", by: "record" };

Deno.test("resolveConfig() gives the defaults when nothing is set", () => {
  const config = resolveConfig({}, { HOME: "/home/u" }, {});
  assert.equal(config.timeoutSeconds, DEFAULTS.timeoutSeconds);
  assert.equal(config.memoryBytes, DEFAULTS.memoryBytes);
  assert.equal(config.maxProcesses, DEFAULTS.maxProcesses);
  assert.equal(config.mode, "strict");
  assert.equal(config.language, "python");
  assert.equal(config.sandbox, true);
  assert.deepEqual(config.grants, { network: [], env: [], read: [], write: [] });
  assert.deepEqual(config.generator, {
    baseUrl: OPENAI_BASE_URL,
    model: DEFAULT_MODEL,
    configured: false,
  });
});

Deno.test("resolveConfig() ranks options over the environment over config.json", () => {
  const project = {
    timeout: 30,
    mode: "parametric" as const,
    generator: { base_url: "http://config/v1", model: "config-model" },
  };
  const fromProject = resolveConfig({}, {}, project, TRUSTED);
  assert.equal(fromProject.timeoutSeconds, 30);
  assert.equal(fromProject.mode, "parametric");
  assert.equal(fromProject.generator.baseUrl, "http://config/v1");
  assert.equal(fromProject.generator.model, "config-model");
  assert.equal(fromProject.generator.configured, true);

  const env = {
    CAPIBARA_BASE_URL: "http://env/v1",
    OPENAI_BASE_URL: "http://openai-env/v1",
    CAPIBARA_MODEL: "env-model",
    CAPIBARA_CACHE_DIR: "/env/cache",
  };
  const fromEnv = resolveConfig({}, env, project, TRUSTED);
  assert.equal(fromEnv.generator.baseUrl, "http://env/v1");
  assert.equal(fromEnv.generator.model, "env-model");
  assert.equal(fromEnv.cacheDir, "/env/cache");
  assert.equal(
    resolveConfig({}, { OPENAI_BASE_URL: "http://openai-env/v1" }, project, TRUSTED).generator
      .baseUrl,
    "http://openai-env/v1",
  );

  const fromOptions = resolveConfig(
    { timeout: 5, mode: "strict", cacheDir: "/opt/cache", language: "bash" },
    env,
    project,
    TRUSTED,
  );
  assert.equal(fromOptions.timeoutSeconds, 5);
  assert.equal(fromOptions.mode, "strict");
  assert.equal(fromOptions.cacheDir, "/opt/cache");
  assert.equal(fromOptions.language, "bash");
});

Deno.test("resolveConfig() reads the API key from the environment only", () => {
  const config = resolveConfig({}, { OPENAI_API_KEY: "sk-env" }, {});
  assert.equal(config.generator.apiKey, "sk-env");
  assert.equal(config.generator.configured, true);
  assert.equal(config.generator.baseUrl, OPENAI_BASE_URL);
  const preferred = resolveConfig({}, { OPENAI_API_KEY: "sk-a", CAPIBARA_API_KEY: "sk-b" }, {});
  assert.equal(preferred.generator.apiKey, "sk-b");
  // Blank values count as unset.
  assert.equal(resolveConfig({}, { CAPIBARA_API_KEY: "  " }, {}).generator.configured, false);
});

Deno.test("resolveConfig() merges grants of config.json and options", () => {
  const config = resolveConfig(
    { allow: { network: ["b.example", "a.example"], env: ["TOKEN"] } },
    {},
    { allow: { network: ["a.example"], read: ["data"] } },
    TRUSTED,
  );
  assert.deepEqual(config.grants, {
    network: ["a.example", "b.example"],
    env: ["TOKEN"],
    read: ["data"],
    write: [],
  });
});

Deno.test("resolveConfig() passes the environment through for granted variables", () => {
  const env = { SECRET: "s" };
  assert.equal(resolveConfig({}, env, {}).env, env);
});

Deno.test("platformCacheDir() follows XDG on Linux and the platform's folders elsewhere", () => {
  assert.equal(platformCacheDir({ HOME: "/h" }, "linux"), "/h/.cache/capibara");
  assert.equal(platformCacheDir({ HOME: "/h", XDG_CACHE_HOME: "/x" }, "linux"), "/x/capibara");
  assert.equal(platformCacheDir({ HOME: "/h" }, "darwin"), "/h/Library/Caches/capibara");
});

/** Asserts a ValidationError whose hint speaks to SDK callers (an option, never a CLI flag). */
function assertSdkError(fn: () => unknown, option: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, new RegExp(`Invalid option ${option.replace(".", "\\.")}`));
    assert.ok(error.hint.length > 0);
    assert.doesNotMatch(error.hint, /--[a-z]/, `hint names a CLI flag: ${error.hint}`);
    return true;
  });
}

Deno.test("resolveConfig() refuses a bad timeout, memory, process limit, language or mode", () => {
  for (const timeout of [0, -1, NaN, Infinity, "60"]) {
    assertSdkError(() => resolveConfig({ timeout: timeout as number }, {}), "timeout");
  }
  for (const memoryBytes of [1024, 2.5 * 1024 ** 3 + 0.5, NaN, "2G"]) {
    assertSdkError(() => resolveConfig({ memoryBytes: memoryBytes as number }, {}), "memoryBytes");
  }
  for (const maxProcesses of [0, 1.5, -3]) {
    assertSdkError(() => resolveConfig({ maxProcesses }, {}), "maxProcesses");
  }
  assertSdkError(() => resolveConfig({ language: "ruby" as "python" }, {}), "language");
  assertSdkError(() => resolveConfig({ mode: "loose" as "strict" }, {}), "mode");
  assertSdkError(() => resolveConfig({ sandbox: "no" as unknown as boolean }, {}), "sandbox");
});

Deno.test("checkGrants() refuses malformed allow entries", () => {
  const bad: [unknown, string][] = [
    [["api.example.com"], "allow"],
    [{ network: "api.example.com" }, "allow.network"],
    [{ network: ["https://api.example.com/v1"] }, "allow.network"],
    [{ network: ["user@host"] }, "allow.network"],
    [{ network: [""] }, "allow.network"],
    [{ network: ["a.example,b.example"] }, "allow.network"],
    // Refused by the proxy's own rule, not a look-alike: a port out of range, an empty label.
    [{ network: ["example.com:0"] }, "allow.network"],
    [{ network: ["a..example"] }, "allow.network"],
    [{ privateNetwork: ["*.corp.example"] }, "allow.privateNetwork"],
    [{ env: ["NOT A NAME"] }, "allow.env"],
    [{ env: ["A=B"] }, "allow.env"],
    [{ env: [42] }, "allow.env"],
    [{ read: ["a\0b"] }, "allow.read"],
    [{ exec: ["ls"] }, "allow.exec"],
  ];
  for (const [allow, option] of bad) {
    assertSdkError(() => checkGrants(allow), option);
    assertSdkError(() => resolveConfig({ allow: allow as never }, {}), option);
  }
  assert.deepEqual(
    checkGrants({
      network: ["*.example.com", "host:8443", "[::1]:8080", "10.0.0.1"],
      env: ["A_1"],
    }),
    { network: ["*.example.com", "host:8443", "[::1]:8080", "10.0.0.1"], env: ["A_1"] },
  );
});

Deno.test("loadProjectConfig() reads config.json, {} when absent, ValidationError when bad", async () => {
  await using tmp = await withTmpDir();
  assert.deepEqual(await loadProjectConfig(tmp.path), {});
  await Deno.mkdir(join(tmp.path, ".capibara"));
  const file = join(tmp.path, ".capibara", "config.json");
  await Deno.writeTextFile(file, '{"timeout": 42, "allow": {"network": ["a.example"]}}');
  assert.deepEqual(await loadProjectConfig(tmp.path), {
    timeout: 42,
    allow: { network: ["a.example"] },
  });
  for (const text of ["{nope", '{"timout": 1}', '{"timeout": -1}']) {
    await Deno.writeTextFile(file, text);
    await assert.rejects(loadProjectConfig(tmp.path), ValidationError, text);
  }
  // JSON's 1e400 is Infinity: named as what it is, not zod's "expected number, received number".
  await Deno.writeTextFile(file, '{"generator": {"timeout": 1e400}}');
  await assert.rejects(
    loadProjectConfig(tmp.path),
    ValidationError,
    "generator.timeout: expected a finite number",
  );
});

Deno.test("loadProjectConfig() names the nearest valid key for an unknown one", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara"));
  const file = join(tmp.path, ".capibara", "config.json");
  const cases: [string, string, string][] = [
    ['{"timout": 1}', "timout", "timeout"],
    ['{"allow": {"netwrok": ["a.example"]}}', "allow.netwrok", "allow.network"],
    ['{"generator": {"baseurl": "http://x/v1"}}', "generator.baseurl", "generator.base_url"],
    // A key of a megabyte is named by its first 100 characters (and compared by them).
    [`{"${"t".repeat(1_000_000)}": 1}`, "t".repeat(100) + "…", "timeout"],
  ];
  for (const [text, key, nearest] of cases) {
    await Deno.writeTextFile(file, text);
    await assert.rejects(loadProjectConfig(tmp.path), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, new RegExp(`unknown key "${key.replace(".", "\\.")}"`));
      assert.equal(error.hint, `Did you mean "${nearest}"?`);
      return true;
    });
  }
});

Deno.test("resolveConfig() bounds what a script writes: options over config.json over defaults", () => {
  const defaults = resolveConfig({}, {}, {});
  assert.deepEqual(defaults.staging, { bytes: 1024 ** 3, files: 10_000 });
  const fromProject = resolveConfig({}, {}, { max_output_mib: 64 });
  assert.equal(fromProject.staging.bytes, 64 * 1024 ** 2);
  const fromOptions = resolveConfig(
    { maxOutputDiskBytes: 5_000, maxOutputFiles: 7 },
    {},
    { max_output_mib: 64 },
  );
  assert.deepEqual(fromOptions.staging, { bytes: 5_000, files: 7 });
  for (const bad of [0, -1, 1.5, "10", Infinity]) {
    assert.throws(
      () => resolveConfig({ maxOutputDiskBytes: bad as number }, {}, {}),
      ValidationError,
      String(bad),
    );
    assert.throws(
      () => resolveConfig({ maxOutputFiles: bad as number }, {}, {}),
      ValidationError,
      String(bad),
    );
  }
});

Deno.test("resolveConfig() takes the Core from the core option, then CAPIBARA_CORE_*, then config.json", () => {
  const env = { CAPIBARA_CORE_URL: "https://env.example", CAPIBARA_CORE_TOKEN: "env-token" };
  const project = { core: { url: "https://file.example" } };
  assert.equal(resolveConfig({}, {}, {}).core, undefined);
  assert.deepEqual(resolveConfig({}, { CAPIBARA_CORE_TOKEN: "t" }, project, TRUSTED).core, {
    url: "https://file.example",
    token: "t",
    source: "config",
  });
  assert.deepEqual(resolveConfig({}, env, project, TRUSTED).core, {
    url: "https://env.example",
    token: "env-token",
    source: "env",
  });
  const option = { core: { url: "https://sdk.example", token: "sdk-token" } };
  assert.deepEqual(resolveConfig(option, env, project, TRUSTED).core, {
    url: "https://sdk.example",
    token: "sdk-token",
    source: "option",
  });
  // The token defaults to the environment's.
  assert.equal(
    resolveConfig({ core: { url: "https://sdk.example" } }, env).core?.token,
    "env-token",
  );
});

Deno.test("resolveConfig() refuses a bad core option without showing its token", () => {
  for (const core of [{}, { url: "" }, { url: 5 }, "https://x", { url: "https://x", token: 5 }]) {
    assert.throws(
      () => resolveConfig({ core } as never, {}),
      ValidationError,
      JSON.stringify(core),
    );
  }
  assert.throws(
    () => resolveConfig({ core: { url: 1, token: "hunter2-token" } } as never, {}),
    (error: ValidationError) => !JSON.stringify(error.toJSON()).includes("hunter2"),
  );
});

Deno.test("loadProjectConfig() refuses a Core token in config.json (tokens come from the environment)", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara"));
  await Deno.writeTextFile(
    join(tmp.path, ".capibara", "config.json"),
    JSON.stringify({ core: { url: "https://core.example", token: "committed" } }),
  );
  await assert.rejects(loadProjectConfig(tmp.path), (error: ValidationError) => {
    assert.match(error.message, /unknown key "core\.token"/);
    return true;
  });
});
