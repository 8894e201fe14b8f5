/**
 * The CLI against a real Core (`capibara serve` as a process, on loopback) and two fake LLMs: the
 * Core's, and one every client machine is also configured with, to show that a machine with a Core
 * never calls an LLM itself. One Core process serves every step.
 *
 * Then a malicious Core (a server in this process) that answers with tampered entries: the SDK
 * refuses each one as it would a tampered local entry, and stores nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import { writeKeyPair } from "../../src/core/sign.ts";
import { IntegrityError, ValidationError } from "../../src/errors.ts";
import { fingerprint } from "../../src/fingerprint.ts";
import { MANIFEST_FILE } from "../../src/store/entry.ts";
import { Store, type WireEntry } from "../../src/store/store.ts";
import { OS_SANDBOX, runCli } from "../helpers/cli.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { startCore } from "../helpers/core.ts";

/** Where bubblewrap is missing, scripts run unconfined: what is tested here is the Core. */
const SANDBOX_ARGS = OS_SANDBOX ? [] : ["--no-sandbox"];

const FULL = "core-e2e-full-token-0123456789";
const READER = "core-e2e-read-token-0123456789";
const WRONG = "core-e2e-wrong-token-012345678";
const PROMPT = "Echo the context back";
const FAILING = "Write something the model cannot";

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

async function entryDirs(root: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(join(root, ".capibara", "scripts"))))
      .map((e) => e.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function readManifest(root: string, fp: string) {
  return JSON.parse(await Deno.readTextFile(join(root, ".capibara", "scripts", fp, MANIFEST_FILE)));
}

Deno.test("capibara run and push against a real Core: shared entries, signed, no LLM call on the client", async (t) => {
  await using tmp = await withTmpDir();
  const dir = tmp.path;
  // The Core's model writes a valid script, except for the failing prompt.
  await using coreLLM = startFakeLLM({
    replies: (body) => JSON.stringify(body).includes(FAILING) ? "this is not JSON" : bundleReply(),
  });
  // Every client machine is configured with an LLM too: with a Core, it is never called.
  await using clientLLM = startFakeLLM({ replies: [bundleReply({ readme: "Written locally." })] });

  const leadKey = await writeKeyPair(join(dir, "lead-key"));
  await Deno.writeTextFile(
    join(dir, "trusted.json"),
    JSON.stringify({ keys: { [leadKey.key_id]: leadKey.public_key } }),
  );
  await using core = await startCore(
    dir,
    { [FULL]: "read,gen,publish", [READER]: "read" },
    { CAPIBARA_BASE_URL: coreLLM.url, CAPIBARA_MODEL: "fake-model" },
    ["--trust-keys", join(dir, "trusted.json")],
  );
  const coreKey = core.key;

  // One machine-local cache for every "machine", so the script's environment is built once.
  const cache = join(dir, "cache");
  const machine = async (name: string, config?: unknown) => {
    const root = join(dir, name);
    await Deno.mkdir(join(root, ".capibara"), { recursive: true });
    if (config) {
      await Deno.writeTextFile(join(root, ".capibara", "config.json"), JSON.stringify(config));
    }
    return root;
  };
  const env = (token: string | undefined, url = core.url): Record<string, string> => ({
    CAPIBARA_CACHE_DIR: cache,
    CAPIBARA_BASE_URL: clientLLM.url,
    CAPIBARA_MODEL: "fake-model",
    CAPIBARA_CORE_URL: url,
    ...(token ? { CAPIBARA_CORE_TOKEN: token } : {}),
  });
  const run = (root: string, prompt: string, token: string | undefined, url?: string) =>
    runCli(["run", prompt, "--context", '{"n": 1}', "--json", ...SANDBOX_ARGS], {
      cwd: root,
      env: env(token, url),
    });
  const fp = (await fingerprint(PROMPT, { n: 1 }, { language: "python" })).fingerprint;
  /** The HTTP status of the Core's GET of an entry. */
  const coreStatus = async (f: string) => {
    const response = await fetch(`${core.url}/v1/entries/${f}`, {
      headers: { authorization: `Bearer ${FULL}` },
    });
    await response.body?.cancel();
    return response.status;
  };

  const first = await machine("machine-a");
  await t.step("a miss asks the Core, which generates and signs; the entry runs here", async () => {
    const r = await run(first, PROMPT, FULL);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = r.json as { fingerprint: string; cached: boolean; output: unknown };
    assert.equal(result.fingerprint, fp);
    assert.deepEqual(result.output, { context: { n: 1 } });
    assert.equal(coreLLM.requests, 1);
    assert.equal(clientLLM.requests, 0, "the client called its own LLM");
    const manifest = await readManifest(first, fp);
    assert.equal(manifest.signature.key_id, coreKey.key_id);
  });

  await t.step(
    "a second machine requiring the Core's signature makes no LLM call and runs the same entry",
    async () => {
      const second = await machine("machine-b", {
        trust: { keys: { [coreKey.key_id]: coreKey.public_key }, require_signature: true },
      });
      const r = await run(second, PROMPT, READER);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual((r.json as { output: unknown }).output, { context: { n: 1 } });
      assert.equal(coreLLM.requests, 1, "the Core generated again");
      assert.equal(clientLLM.requests, 0);
      // Byte for byte the same entry on both machines.
      for (const name of ["manifest.json", "script.py", "README.md", "requirements.txt"]) {
        const a = await Deno.readTextFile(join(first, ".capibara", "scripts", fp, name));
        const b = await Deno.readTextFile(join(second, ".capibara", "scripts", fp, name));
        assert.equal(b, a, name);
      }
    },
  );

  await t.step(
    "an LLM failure behind the Core is its taxonomy error, and nothing is stored on either side",
    async () => {
      const root = await machine("machine-fail");
      const r = await run(root, FAILING, FULL);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      const { error } = r.json as ErrorDoc;
      assert.equal(error.type, "TemplateError");
      assert.ok(error.message.includes(core.url), error.message);
      assert.deepEqual(await entryDirs(root), []);
      const failed = (await fingerprint(FAILING, { n: 1 }, { language: "python" })).fingerprint;
      assert.equal(await coreStatus(failed), 404);
      assert.equal(clientLLM.requests, 0);
    },
  );

  await t.step(
    "a wrong or missing token is a PermissionError whose hint names CAPIBARA_CORE_TOKEN",
    async () => {
      const root = await machine("machine-401");
      const r = await run(root, "Another request", WRONG);
      assert.equal(r.code, 7, r.stdout + r.stderr);
      const { error } = r.json as ErrorDoc;
      assert.equal(error.type, "PermissionError");
      assert.match(error.message, /refused the token \(HTTP 401\)/);
      assert.match(error.hint, /CAPIBARA_CORE_TOKEN/);
      assert.ok(!(r.stdout + r.stderr).includes(WRONG), "the token was printed");
      // No token, in the human form.
      const human = await runCli(["run", "Another request", ...SANDBOX_ARGS], {
        cwd: root,
        env: env(undefined),
      });
      assert.equal(human.code, 7);
      assert.match(human.stderr, /^error\[PermissionError\]: .*no token was sent \(HTTP 401\)/m);
      assert.match(human.stderr, /^hint: .*CAPIBARA_CORE_TOKEN/m);
      assert.deepEqual(await entryDirs(root), []);
      assert.equal(clientLLM.requests, 0);
    },
  );

  await t.step("an unreachable Core is a NetworkError (exit 4) naming its URL", async () => {
    const root = await machine("machine-offline");
    const closed = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(),
    );
    const url = `http://127.0.0.1:${closed.addr.port}`;
    await closed.shutdown();
    const r = await run(root, "Another request", FULL, url);
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const { error } = r.json as ErrorDoc;
    assert.equal(error.type, "NetworkError");
    assert.ok(error.message.includes(url), error.message);
    assert.equal(clientLLM.requests, 0);
  });

  await t.step(
    "a refresh never takes an older revision from the Core over this project's accepted one",
    async () => {
      const root = await machine("machine-edit");
      assert.equal((await run(root, PROMPT, READER)).code, 0);
      // A reviewed hand edit, accepted here: revision 2, which the Core does not hold.
      const script = join(root, ".capibara", "scripts", fp, "script.py");
      await Deno.writeTextFile(script, (await Deno.readTextFile(script)) + "# reviewed here\n");
      const accepted = await runCli(["accept", fp, "--json", ...SANDBOX_ARGS], {
        cwd: root,
        env: env(READER),
      });
      assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
      assert.equal((await readManifest(root, fp)).revision, 2);
      const refresh = (force: string[]) =>
        runCli([
          "run",
          PROMPT,
          "--context",
          '{"n": 1}',
          "--refresh",
          ...force,
          "--json",
          ...SANDBOX_ARGS,
        ], {
          cwd: root,
          env: env(READER),
        });
      // The Core's revision 1, validly signed, would undo the edit: refused, nothing changed.
      const refused = await refresh([]);
      assert.equal(refused.code, 8, refused.stdout + refused.stderr);
      assert.match(
        (refused.json as ErrorDoc).error.message,
        /sends revision 1, and this project holds revision 2/,
      );
      assert.equal((await readManifest(root, fp)).revision, 2);
      assert.match(await Deno.readTextFile(script), /# reviewed here/);
      // Asked for explicitly, the Core's entry is taken.
      const forced = await refresh(["--force"]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
      assert.equal((await readManifest(root, fp)).revision, 1);
    },
  );

  await t.step(
    "push publishes a local entry (signed with --key on the way); a fresh machine gets it",
    async () => {
      const coreCalls = coreLLM.requests;
      // A lead's machine without a Core generates with its own LLM: an unsigned entry.
      const lead = await machine("machine-lead");
      const local = await runCli(
        ["run", "Count the keys", "--context", "{}", "--dry-run", "--json", ...SANDBOX_ARGS],
        { cwd: lead, env: { CAPIBARA_CACHE_DIR: cache, CAPIBARA_BASE_URL: clientLLM.url } },
      );
      assert.equal(local.code, 0, local.stdout + local.stderr);
      assert.equal(clientLLM.requests, 1);
      const localFp = (local.json as { fingerprint: string }).fingerprint;
      const push = (args: string[], token = FULL) =>
        runCli(["push", ...args, "--json"], { cwd: lead, env: env(token) });

      // Unsigned: refused here, nothing sent.
      const unsigned = await push([localFp]);
      assert.equal(unsigned.code, 7, unsigned.stdout + unsigned.stderr);
      const refused = (unsigned.json as { results: { status: string; error: ErrorDoc["error"] }[] })
        .results;
      assert.equal(refused[0]!.status, "refused");
      assert.match(refused[0]!.error.message, /not signed/);
      assert.equal(await coreStatus(localFp), 404);

      // --key with no names never signs an entry nobody chose (a cloned repository's, say).
      const unnamed = await push(["--key", leadKey.private_key_path]);
      assert.equal(unnamed.code, 7, unnamed.stdout + unnamed.stderr);
      const skipped = (unnamed.json as { results: { status: string; error: ErrorDoc["error"] }[] })
        .results;
      assert.equal(skipped[0]!.status, "refused");
      assert.match(skipped[0]!.error.message, /named on the command line or accepted/);
      assert.equal((await readManifest(lead, localFp)).signature, undefined);
      assert.equal(await coreStatus(localFp), 404);

      // A token without the publish right: the Core refuses, naming the right.
      const reader = await runCli(
        ["push", localFp, "--key", leadKey.private_key_path, "--json"],
        { cwd: lead, env: env(READER) },
      );
      assert.equal(reader.code, 7, reader.stdout + reader.stderr);
      const noRight = (reader.json as { results: { status: string; error: ErrorDoc["error"] }[] })
        .results[0]!;
      assert.equal(noRight.status, "refused");
      assert.match(noRight.error.message + noRight.error.hint, /publish/);

      // With the publish right: pushed (it was signed by the lead's key above, in the local store).
      const pushed = await push([localFp]);
      assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
      assert.deepEqual((pushed.json as { results: unknown[] }).results, [
        { fingerprint: localFp, status: "pushed" },
      ]);
      assert.equal((await readManifest(lead, localFp)).signature.key_id, leadKey.key_id);
      const again = await push([]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual((again.json as { results: unknown[] }).results, [
        { fingerprint: localFp, status: "already_there" },
      ]);

      // A fresh machine that trusts the lead's key gets it with a read-only token: no generation.
      const fresh = await machine("machine-fresh", {
        trust: { keys: { [leadKey.key_id]: leadKey.public_key }, require_signature: true },
      });
      const r = await runCli(
        ["run", "Count the keys", "--context", "{}", "--json", ...SANDBOX_ARGS],
        { cwd: fresh, env: env(READER) },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal((r.json as { fingerprint: string }).fingerprint, localFp);
      assert.equal(coreLLM.requests, coreCalls);
      assert.equal(clientLLM.requests, 1);
      assert.equal(
        await Deno.readTextFile(join(fresh, ".capibara", "scripts", localFp, "script.py")),
        await Deno.readTextFile(join(lead, ".capibara", "scripts", localFp, "script.py")),
      );
    },
  );
});

Deno.test("Capibara.run() refuses what a malicious Core sends, as a tampered local entry, and stores nothing", async () => {
  await using tmp = await withTmpDir();
  const key = await writeKeyPair(join(tmp.path, "key"));
  const { loadSigningKey, signManifest } = await import("../../src/core/sign.ts");
  const signing = await loadSigningKey(key.private_key_path);
  const context = { n: 2 };
  const fp = await fingerprint(PROMPT, context, { language: "python" });
  // A genuine entry of this request, signed by the trusted key, written by the store's own writer.
  const { generatedEntry } = await import("../../src/generate/entry.ts");
  const { bundleObject } = await import("../helpers/fake_llm.ts");
  const source = new Store(join(tmp.path, "source"));
  const { manifest: input, files } = generatedEntry({
    fp,
    request: { prompt: PROMPT, context, language: "python", mode: "strict" },
    result: { bundle: bundleObject() as never, model: "m", attempts: 1 },
    generatorKind: "test",
    runtime: { name: "python", version: "3.11" },
    paths: { read: [], write: [] },
    workdir: tmp.path,
  });
  await source.write(input, files);
  const stored = await readManifest(source.root, fp.fingerprint);
  const genuine: WireEntry = {
    manifest: { ...stored, signature: await signManifest(stored, signing) },
    files,
  };
  // The same request with another script, its hashes and integrity record made consistent by the
  // store's writer, carrying the genuine signature.
  const evilFiles = { ...files, "script.py": files["script.py"]! + "print('not reviewed')\n" };
  const other = new Store(join(tmp.path, "other"));
  await other.write(input, evilFiles);
  const rehashed = await readManifest(other.root, fp.fingerprint);

  let answer: WireEntry = genuine;
  const evil = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json(answer),
  );
  try {
    const root = join(tmp.path, "project");
    await Deno.mkdir(join(root, ".capibara"), { recursive: true });
    await Deno.writeTextFile(
      join(root, ".capibara", "config.json"),
      JSON.stringify({
        trust: { keys: { [key.key_id]: key.public_key }, require_signature: true },
      }),
    );
    const cb = new Capibara({
      root,
      cwd: root,
      cacheDir: join(tmp.path, "cache"),
      env: {},
      core: { url: `http://127.0.0.1:${evil.addr.port}`, token: "t" },
    });
    const attempts: [string, WireEntry][] = [
      ["a byte changed in the script", {
        manifest: genuine.manifest,
        files: {
          ...files,
          "script.py": files["script.py"]!.replace("import json", "import  json"),
        },
      }],
      ["a manifest field changed", {
        manifest: { ...genuine.manifest, needs: { network: ["evil.example"], env: [] } },
        files,
      }],
      ["another script with consistent hashes and the genuine signature", {
        manifest: { ...rehashed, signature: genuine.manifest.signature },
        files: evilFiles,
      }],
      ["the entry of another request", {
        manifest: { ...genuine.manifest, context_sha: "c_" + "0".repeat(32) },
        files,
      }],
      ["a genuine entry without its signature", {
        manifest: { ...stored },
        files,
      }],
    ];
    for (const [what, entry] of attempts) {
      answer = entry;
      await assert.rejects(
        cb.run(PROMPT, { context, dryRun: true }),
        IntegrityError,
        what,
      );
      assert.deepEqual(await entryDirs(root), [], `${what}: something was stored`);
    }
    // The genuine entry is kept (the test can pass).
    answer = genuine;
    const ok = await cb.run(PROMPT, { context, dryRun: true });
    assert.equal(ok.fingerprint, fp.fingerprint);
    assert.deepEqual(await entryDirs(root), [fp.fingerprint]);
  } finally {
    await evil.shutdown();
  }
});

Deno.test("new Capibara() refuses both a core and a generator", () => {
  const generator = { kind: "test", generate: () => Promise.reject(new Error("unused")) };
  assert.throws(
    () => new Capibara({ core: { url: "https://core.example.com" }, generator }),
    (error: ValidationError) => error instanceof ValidationError && /core/.test(error.message),
  );
});
