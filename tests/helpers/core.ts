/**
 * A real Core for tests: `capibara serve --port 0` as a process, on loopback.
 *
 * @module
 */
import { join } from "node:path";
import { type KeyPairFiles, writeKeyPair } from "../../src/core/sign.ts";
import { MAIN } from "./cli.ts";

/** A running Core: its URL, its log so far, and its disposal (SIGTERM, then its exit is awaited). */
export interface TestCore extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`, as its first line on stdout says. */
  url: string;
  /** What it wrote on stderr so far (its JSON log lines), in chunks. */
  log: string[];
}

/**
 * Starts `capibara serve --port 0 …args` with a cleared environment plus `env`; resolves once it
 * prints where it listens.
 */
export async function spawnCore(
  args: string[],
  env: Record<string, string> = {},
): Promise<TestCore> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "serve", "--port", "0", ...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.env.get("HOME")!, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The log is kept (a test may look for secrets in it) and drained, so the Core never blocks.
  const log: string[] = [];
  const logDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) log.push(chunk);
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) {
      await logDone;
      throw new Error(`The Core exited before listening: ${log.join("")}`);
    }
    first += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const url = first.split("\n")[0]!.replace("capibara core listening on ", "");
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`Unexpected first line: ${first}`);
  return {
    url,
    log,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* already stopped */ }
      await child.status;
      await logDone;
    },
  };
}

/** A Core started by {@linkcode startCore}, with the key pair it signs with. */
export interface SigningTestCore extends TestCore {
  /** The Core's key pair (its public key is what clients trust). */
  key: KeyPairFiles;
}

/**
 * Starts a Core with a fresh signing key under `dir`, a token file of `tokens` (token → rights,
 * e.g. `{ "tok-read-0123456789": "read" }`, written 0600 as `serve` requires) and its store in
 * `dir`; `args` are further `serve` flags.
 */
export async function startCore(
  dir: string,
  tokens: Record<string, string>,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<SigningTestCore> {
  const key = await writeKeyPair(join(dir, "core-key"));
  const tokenFile = join(dir, "tokens");
  await Deno.writeTextFile(
    tokenFile,
    Object.entries(tokens).map(([token, rights]) => `${token} ${rights}\n`).join(""),
    { mode: 0o600 },
  );
  const core = await spawnCore(
    [
      "--tokens",
      tokenFile,
      "--signing-key",
      key.private_key_path,
      "--store",
      join(dir, "core-store"),
      ...args,
    ],
    env,
  );
  return Object.assign(core, { key });
}
