/**
 * Attacks on the Core and its clients, each through the real CLI or real HTTP on loopback: a
 * crafted repository (its `.capibara/` committed by someone else), a malicious Core (a server in
 * this process), and requests an attacker sends to a real `capibara serve`. Each step fails when
 * its attack works. One Core process serves every step.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CoreClient } from "../../src/generate/core_client.ts";
import { CapibaraError, NetworkError } from "../../src/errors.ts";
import { fingerprint } from "../../src/fingerprint.ts";
import { sha256 } from "../../src/_hash.ts";
import { Store } from "../../src/store/store.ts";
import { runCli } from "../helpers/cli.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { assertTerminalSafe } from "../helpers/terminal.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { startCore } from "../helpers/core.ts";

const TOKEN = "core-attack-token-0123456789abcdef";
const PROMPT = "Echo the context back";

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

/** Every path below a folder (symlinks not followed). */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    found.push(item.name);
    if (item.isDirectory) {
      found.push(...(await tree(join(dir, item.name))).map((n) => `${item.name}/${n}`));
    }
  }
  return found.sort();
}

Deno.test("the Core and its clients against an attacker: crafted repositories, a malicious Core, hostile requests", async (t) => {
  await using tmp = await withTmpDir();
  const dir = tmp.path;
  await using llm = startFakeLLM({ replies: () => bundleReply() });
  await using core = await startCore(dir, { [TOKEN]: "read,gen,publish" }, {
    CAPIBARA_BASE_URL: llm.url,
    CAPIBARA_MODEL: "fake-model",
  });
  const coreKey = core.key;

  const cache = join(dir, "cache");
  /** A cloned repository: a git root whose `.capibara/` someone else committed. */
  const repo = async (name: string, config?: unknown) => {
    const root = join(dir, name);
    await Deno.mkdir(join(root, ".git"), { recursive: true });
    await Deno.mkdir(join(root, ".capibara"), { recursive: true });
    if (config) {
      await Deno.writeTextFile(join(root, ".capibara", "config.json"), JSON.stringify(config));
    }
    return root;
  };
  const run = (root: string, env: Record<string, string>, extra: string[] = ["--json"]) =>
    runCli(["run", PROMPT, "--context", '{"n": 1}', "--dry-run", ...extra], {
      cwd: root,
      env: { CAPIBARA_CACHE_DIR: cache, ...env },
    });
  const fp = (await fingerprint(PROMPT, { n: 1 }, { language: "python" })).fingerprint;

  await t.step(
    "a repository's trust.keys cannot satisfy this machine's CAPIBARA_REQUIRE_SIGNATURE",
    async () => {
      // The repository lists the Core's key itself: the entry is validly signed by it.
      const root = await repo("repo-own-key", {
        trust: { keys: { [coreKey.key_id]: coreKey.public_key } },
      });
      const r = await run(root, {
        CAPIBARA_CORE_URL: core.url,
        CAPIBARA_CORE_TOKEN: TOKEN,
        CAPIBARA_REQUIRE_SIGNATURE: "1",
      });
      assert.equal(r.code, 8, r.stdout + r.stderr);
      const { error } = r.json as ErrorDoc;
      assert.equal(error.type, "IntegrityError");
      assert.match(
        error.message,
        new RegExp(`signed by key ${coreKey.key_id}, which is not trusted`),
      );
      assert.match(error.message, /this machine requires signatures/);
      // Nothing stored: only empty store folders beside the config.
      const files = (await tree(join(root, ".capibara"))).filter((p) => !p.endsWith(".tmp"));
      assert.deepEqual(files, [".gitignore", "config.json", "scripts"]);
    },
  );

  await t.step(
    "a repository whose .capibara/scripts is a symlink gets nothing written where it points",
    async () => {
      const outside = join(dir, "outside");
      await Deno.mkdir(outside);
      const root = await repo("repo-symlink");
      await Deno.symlink("../../outside", join(root, ".capibara", "scripts"));
      const r = await run(root, { CAPIBARA_CORE_URL: core.url, CAPIBARA_CORE_TOKEN: TOKEN });
      assert.deepEqual(await tree(outside), [], "an entry was written outside the project");
      assert.equal(r.code, 8, r.stdout + r.stderr);
      assert.match((r.json as ErrorDoc).error.message, /scripts is a symlink/);
    },
  );

  await t.step(
    "a symlinked .capibara/scripts/<fp> is refused, even to a validly signed entry",
    async () => {
      const response = await fetch(`${core.url}/v1/entries/${fp}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const elsewhere = new Store(join(dir, "elsewhere"), join(dir, "elsewhere-locks"));
      const real = await elsewhere.importEntry(await response.json());
      const root = await repo("repo-entry-link");
      await Deno.mkdir(join(root, ".capibara", "scripts"));
      await Deno.symlink(real.dir, join(root, ".capibara", "scripts", fp));
      const r = await run(root, {
        CAPIBARA_REQUIRE_SIGNATURE: "1",
        CAPIBARA_TRUSTED_KEYS: coreKey.public_key,
      });
      assert.equal(r.code, 8, r.stdout + r.stderr);
      assert.match((r.json as ErrorDoc).error.message, /is not a folder/);
    },
  );

  await t.step(
    "accept never reads a host file through a symlink planted in an entry",
    async () => {
      const secret = join(dir, "secret.txt");
      await Deno.writeTextFile(secret, "-----BEGIN OPENSSH PRIVATE KEY----- the user's key\n");
      const root = await repo("repo-accept-link");
      const entryDir = join(root, ".capibara", "scripts", fp);
      await Deno.mkdir(entryDir, { recursive: true });
      for await (const item of Deno.readDir(join(dir, "elsewhere", ".capibara", "scripts", fp))) {
        await Deno.copyFile(
          join(dir, "elsewhere", ".capibara", "scripts", fp, item.name),
          join(entryDir, item.name),
        );
      }
      await Deno.remove(join(entryDir, "README.md"));
      await Deno.symlink(secret, join(entryDir, "README.md"));
      const r = await runCli(["accept", fp, "--json"], {
        cwd: root,
        env: { CAPIBARA_CACHE_DIR: cache },
      });
      const stored = await Deno.readTextFile(join(entryDir, "README.md")).catch(() => "");
      const info = await Deno.lstat(join(entryDir, "README.md")).catch(() => undefined);
      assert.ok(
        info?.isSymlink || !stored.includes("PRIVATE KEY"),
        "the host file was copied into the entry: " + r.stdout,
      );
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
    },
  );

  await t.step("show --script and verify never read a host file a manifest points at", async () => {
    const root = await repo("repo-show-path");
    const entryDir = join(root, ".capibara", "scripts", fp);
    await Deno.mkdir(entryDir, { recursive: true });
    const source = join(dir, "elsewhere", ".capibara", "scripts", fp);
    for await (const item of Deno.readDir(source)) {
      await Deno.copyFile(join(source, item.name), join(entryDir, item.name));
    }
    const manifest = join(entryDir, "manifest.json");
    const text = await Deno.readTextFile(manifest);
    await Deno.writeTextFile(
      manifest,
      text.replace('"entry": "script.py"', '"entry": "../../../../secret.txt"'),
    );
    const r = await runCli(["show", fp, "--script"], {
      cwd: root,
      env: { CAPIBARA_CACHE_DIR: cache },
    });
    assert.ok(!(r.stdout + r.stderr).includes("PRIVATE KEY"), "a host file was printed");
    assert.equal(r.code, 8, r.stdout + r.stderr);
    // verify's static checks never read it either.
    const v = await runCli(["verify", fp, "--json"], {
      cwd: root,
      env: { CAPIBARA_CACHE_DIR: cache },
    });
    assert.equal(v.code, 8, v.stdout + v.stderr);
    assert.match(v.stdout, /secret\.txt is not a file name/);
  });

  // A malicious Core (or whoever answers in its place): a server in this process.
  let answer: (request: Request) => Response = () => new Response(null, { status: 404 });
  const authorizations: string[] = [];
  await using evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    authorizations.push(request.headers.get("authorization") ?? "");
    return answer(request);
  });
  const evilUrl = `http://127.0.0.1:${evil.addr.port}`;
  const evilEnv = { CAPIBARA_CORE_URL: evilUrl, CAPIBARA_CORE_TOKEN: TOKEN };

  await t.step("core.url in an untrusted config.json: the token is never sent", async () => {
    const root = await repo("repo-core-url", { core: { url: evilUrl } });
    const before = authorizations.length;
    const r = await run(root, { CAPIBARA_CORE_TOKEN: TOKEN });
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.equal((r.json as ErrorDoc).error.type, "PermissionError");
    assert.equal(authorizations.length, before, "the repository's Core was asked");
  });

  await t.step(
    "a trust record the repository ships in a cache folder inside it is ignored (CI caches)",
    async () => {
      const config = JSON.stringify({ core: { url: evilUrl } });
      const root = await repo("repo-planted-trust");
      await Deno.writeTextFile(join(root, ".capibara", "config.json"), config);
      const sha = await sha256(new TextEncoder().encode(config));
      // A CI job that keeps Capibara's cache in the workspace, where the repository can plant it.
      const planted = join(root, "ci-cache", "capibara");
      await Deno.mkdir(planted, { recursive: true });
      const projects = { [await Deno.realPath(root)]: { sha256: sha, trusted_at: "" } };
      await Deno.writeTextFile(
        join(planted, "trust.json"),
        JSON.stringify({ version: 1, projects }),
      );
      const before = authorizations.length;
      const r = await runCli(["run", PROMPT, "--context", '{"n": 1}', "--dry-run", "--json"], {
        cwd: root,
        env: { CAPIBARA_CACHE_DIR: planted, CAPIBARA_CORE_TOKEN: TOKEN },
      });
      assert.equal(authorizations.length, before, "the repository's Core received the token");
      assert.equal(r.code, 7, r.stdout + r.stderr);
      assert.equal((r.json as ErrorDoc).error.type, "PermissionError");
    },
  );

  await t.step("a Core's error text cannot drive the terminal (human output)", async () => {
    answer = () =>
      Response.json({
        error: {
          type: "NetworkError",
          message: "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\r\x9b1Aforged",
          hint: "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\u202e",
        },
      }, { status: 500 });
    const root = await repo("repo-evil-error");
    const r = await run(root, evilEnv, []);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stderr, /forged/);
    assertTerminalSafe(r.stderr, "the CLI's stderr");
  });

  await t.step("a Core's error type naming an Object property is a NetworkError", async () => {
    const root = await repo("repo-error-type");
    for (const type of ["constructor", "__proto__", "toString"]) {
      answer = () => Response.json({ error: { type, message: "no", hint: "" } }, { status: 500 });
      const r = await run(root, evilEnv);
      assert.equal(r.code, 4, `${type}: ${r.stdout}${r.stderr}`);
      assert.equal((r.json as ErrorDoc).error.type, "NetworkError");
    }
  });

  await t.step("push shows a Core's refusal terminal-safe (human output)", async () => {
    answer = () =>
      Response.json({
        error: {
          type: "PermissionError",
          message: "\x1b[1A\x1b[2K\r✓ pushed everything\x1b]0;owned\x07forged",
          hint: "\x9b2J\u2066hidden",
        },
      }, { status: 403 });
    const r = await runCli(["push"], {
      cwd: join(dir, "elsewhere"),
      env: { CAPIBARA_CACHE_DIR: cache, ...evilEnv },
    });
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ refused .*forged/);
    assertTerminalSafe(r.stdout + r.stderr, "push's output");
  });

  await t.step("a redirect to file:// is not followed, and nothing is stored", async () => {
    answer = () => new Response(null, { status: 302, headers: { location: "file:///etc/passwd" } });
    const root = await repo("repo-redirect");
    const r = await run(root, evilEnv);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(
      (r.json as ErrorDoc).error.message,
      /redirect \(HTTP 302\), which is not followed/,
    );
    assert.ok(!(await tree(root)).some((p) => p.includes("fp_")));
  });

  await t.step("an entry naming files outside its folder writes nothing anywhere", async () => {
    const good = await (await fetch(`${core.url}/v1/entries/${fp}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })).json();
    const before = await tree(dir);
    for (
      const name of [
        "../../../pwned.py",
        "/tmp/pwned.py",
        "script.py\u0000x",
        "SCRIPT.PY",
        "scrіpt.py",
      ]
    ) {
      answer = () => Response.json({ ...good, files: { ...good.files, [name]: "print(1)" } });
      const root = await repo(`repo-names-${before.length}-${name.length}`);
      const r = await run(root, evilEnv);
      assert.notEqual(r.code, 0, `${JSON.stringify(name)}: ${r.stdout}`);
      assert.ok(!(await tree(root)).some((p) => p.includes("fp_")), JSON.stringify(name));
    }
    const after = (await tree(dir)).filter((p) =>
      !p.startsWith("repo-names-") && !p.startsWith("cache")
    );
    assert.deepEqual(after, before.filter((p) => !p.startsWith("cache")));
  });

  await t.step(
    "a Core whose body never ends: the client gives up within its time limit",
    async () => {
      answer = () =>
        new Response(
          new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }),
        );
      const client = new CoreClient({ url: evilUrl, token: TOKEN, timeoutMs: 300 });
      await assert.rejects(
        client.getEntry(fp),
        (e) => e instanceof NetworkError && /no answer within/.test(e.message),
      );
    },
  );

  await t.step(
    "a Core whose answer nests deeper than any entry: not parsed, refused as no answer of a Core",
    async () => {
      // 4 MiB of "[": parsed, each level an array the client holds (16 MiB took ≈ 900 MiB).
      const deep = "[".repeat(4 * 1024 ** 2) + "]".repeat(4 * 1024 ** 2);
      answer = () => new Response(deep, { headers: { "content-type": "application/json" } });
      const parse = JSON.parse;
      let parsed = 0;
      JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
        parsed++;
        return parse(...args);
      };
      try {
        const client = new CoreClient({ url: evilUrl, token: TOKEN, timeoutMs: 10_000 });
        await assert.rejects(client.getEntry(fp), (e) => e instanceof CapibaraError);
      } finally {
        JSON.parse = parse;
      }
      assert.equal(parsed, 0, "the body was parsed");
    },
  );

  await t.step(
    "hostile requests to the real Core: paths, a moved entry, a wrong token",
    async () => {
      const send = async (path: string, init: RequestInit = {}, token = TOKEN) => {
        const response = await fetch(`${core.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
        });
        return { status: response.status, text: await response.text() };
      };
      for (
        const path of [
          "%2e%2e%2f%2e%2e%2ftokens",
          "..%2ftokens",
          "fp_" + "0".repeat(5000),
          `${fp}%00`,
        ]
      ) {
        const r = await send(`/v1/entries/${path}`);
        assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
        assert.ok(!r.text.includes(TOKEN) && r.text.length < 1000, r.text);
      }
      // A context nested too deep for any walk of it: refused as the client's error, and the Core
      // stays up.
      const deep = "[".repeat(100_000) + "]".repeat(100_000);
      const gen = await send("/v1/gen", {
        method: "POST",
        body: `{"prompt": "Count the items", "context": {"a": ${deep}}}`,
      });
      assert.equal(gen.status, 400, gen.text);
      assert.match(gen.text, /nested deeper than/);
      assert.equal((await send("/healthz")).status, 200);
      // The Core's signed entry, PUT under another fingerprint.
      const entry = await send(`/v1/entries/${fp}`);
      const other = "fp_" + "1".repeat(32);
      const moved = await send(`/v1/entries/${other}`, { method: "PUT", body: entry.text });
      assert.equal(moved.status, 400, moved.text);
      assert.equal((await send(`/v1/entries/${other}`)).status, 404);
      const wrong = await send(`/v1/entries/${fp}`, {}, TOKEN.replace("0", "1"));
      assert.equal(wrong.status, 401);
      assert.ok(!wrong.text.includes(TOKEN.replace("0", "1")));
      await core[Symbol.asyncDispose]();
      const log = core.log.join("");
      assert.match(log, /"status":401/);
      assert.ok(
        !log.includes(TOKEN) && !log.includes(TOKEN.replace("0", "1")),
        "a token is in the log",
      );
    },
  );
});
