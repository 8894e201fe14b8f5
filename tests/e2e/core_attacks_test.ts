/**
 * Attacks on the Core and its clients, each through the real CLI or real HTTP on loopback: a
 * crafted repository (its `.capibara/` committed by someone else), a malicious Core (a server in
 * this process), and requests an attacker sends to a real `capibara serve`. Each step fails when
 * its attack works. One Core process serves every step.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeKeyPair } from "../../src/core/sign.ts";
import { fingerprint } from "../../src/fingerprint.ts";
import { MAIN, runCli } from "../helpers/cli.ts";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const TOKEN = "core-attack-token-0123456789abcdef";
const PROMPT = "Echo the context back";

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

/** Starts `capibara serve --port 0`; resolves once it prints where it listens. */
async function startCore(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "serve", "--port", "0", ...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.env.get("HOME")!, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("The Core exited before listening");
    first += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  // The log is kept, to look for the token in it.
  const log: string[] = [];
  const logDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log.push(chunk);
  })();
  const url = first.split("\n")[0]!.replace("capibara core listening on ", "");
  return {
    url,
    log,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await logDone;
    },
  };
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
  const coreKey = await writeKeyPair(join(dir, "core-key"));
  await Deno.writeTextFile(join(dir, "tokens"), `${TOKEN} read,gen,publish\n`);
  await using core = await startCore([
    "--tokens",
    join(dir, "tokens"),
    "--signing-key",
    coreKey.private_key_path,
    "--store",
    join(dir, "core-store"),
  ], { CAPIBARA_BASE_URL: llm.url, CAPIBARA_MODEL: "fake-model" });

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
  const _fp = (await fingerprint(PROMPT, { n: 1 }, { language: "python" })).fingerprint;

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
});
