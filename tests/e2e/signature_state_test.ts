/**
 * `show` and `list` report each entry's signature state through the real CLI: signed by a trusted
 * key, accepted on this machine, unsigned, or refused and why; terminal-safe, and in `--json`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadSigningKey, writeKeyPair } from "../../src/core/sign.ts";
import { entryFiles } from "../../src/store/entry.ts";
import { Store } from "../../src/store/store.ts";
import { AcceptanceStore } from "../../src/store/trust.ts";
import { signEntry } from "../../src/cli/sign.ts";
import { runCli } from "../helpers/cli.ts";
import { assertTerminalSafe } from "../helpers/terminal.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { sampleManifest } from "../store/_fixture.ts";

interface Listed {
  scripts: { fingerprint: string; integrity: string; signature: Record<string, string> }[];
}

Deno.test("capibara list and show report each entry's signature state", async () => {
  await using tmp = await withTmpDir();
  const root = join(tmp.path, "repo");
  const cache = join(tmp.path, "cache");
  await Deno.mkdir(join(root, ".capibara"), { recursive: true });
  const store = new Store(root, join(tmp.path, "locks"), {
    acceptances: new AcceptanceStore(cache),
  });
  const write = async (language: "python" | "typescript" | "bash", prompt: string) => {
    const manifest = await sampleManifest(language, prompt);
    const entry = await store.write(
      manifest,
      entryFiles(manifest, { script: "print('hello')", readme: "A test entry." }),
    );
    return entry.manifest.fingerprint;
  };
  const signed = await write("python", "Echo the context back");
  const accepted = await write("typescript", "Echo the context back");
  const unsigned = await write("bash", "Echo the context back");
  const changed = await write("python", "Count the rows");
  const key = await writeKeyPair(join(tmp.path, "keys"));
  await signEntry(store, signed, await loadSigningKey(key.private_key_path));
  await store.accept((await store.readEntry(accepted)).manifest);
  // A stray file whose name would rewrite the terminal: the entry no longer verifies.
  await Deno.writeTextFile(join(root, ".capibara", "scripts", changed, "\x1b]52;c;aGk=\x07"), "x");

  const config = (require_signature: boolean) =>
    Deno.writeTextFile(
      join(root, ".capibara", "config.json"),
      JSON.stringify({ trust: { keys: { [key.key_id]: key.public_key }, require_signature } }),
    );
  const cli = (args: string[]) => runCli(args, { cwd: root, env: { CAPIBARA_CACHE_DIR: cache } });
  const states = (r: { json: unknown }) =>
    Object.fromEntries((r.json as Listed).scripts.map((s) => [s.fingerprint, s.signature]));

  await config(true);
  const [listJson, list, showJson, show] = await Promise.all([
    cli(["list", "--json"]),
    cli(["list"]),
    cli(["show", unsigned, "--json"]),
    cli(["show", signed]),
  ]);
  assert.equal(listJson.code, 0, listJson.stderr);
  const required = states(listJson);
  assert.deepEqual(required[signed], { state: "signed", key_id: key.key_id });
  assert.equal(required[accepted]!.state, "accepted");
  assert.equal(required[unsigned]!.state, "refused");
  assert.match(required[unsigned]!.reason!, /not signed by a trusted key.*requires signatures/);
  assert.equal(required[changed]!.state, "refused");
  const changedRow = (listJson.json as Listed).scripts.find((s) => s.fingerprint === changed)!;
  assert.ok(changedRow.integrity.includes("\x1b]52"), "--json keeps the exact text");

  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${signed} .* signed:${key.key_id} `));
  assert.match(list.stdout, new RegExp(`${accepted} .* accepted `));
  assert.match(list.stdout, new RegExp(`${unsigned} .* refused `));
  assert.match(list.stdout, /\\u001b\]52/);
  assertTerminalSafe(list.stdout + list.stderr, "list");

  const shown = showJson.json as { integrity: string; signature: Record<string, string> };
  assert.equal(shown.integrity, "ok", "the files are intact: the policy refuses it");
  assert.equal(shown.signature.state, "refused");
  assert.match(show.stdout, new RegExp(`\nsignature: +signed by key ${key.key_id}\n`));

  // Without the requirement, the unsigned entry is just unsigned.
  await config(false);
  const relaxed = states(await cli(["list", "--json"]));
  assert.deepEqual(relaxed[unsigned], { state: "unsigned" });
  assert.deepEqual(relaxed[signed], { state: "signed", key_id: key.key_id });
});
