/**
 * Signatures and the trust policy through the real CLI: keygen, sign, accept, and `run` under
 * `require_signature` (the project's, and the machine's `CAPIBARA_REQUIRE_SIGNATURE`). The script
 * writes a marker file when it runs, so a refusal can show that it did not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../src/_fs.ts";
import { loadSigningKey, signManifest, writeKeyPair } from "../../src/core/sign.ts";
import { serialiseManifest } from "../../src/store/entry.ts";
import { forge } from "../store/_fixture.ts";
import { bundleReply } from "../helpers/fake_llm.ts";
import { startFakeLLM } from "../helpers/fake_llm.ts";
import { OS_SANDBOX, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

const MARKER_BODY = [
  'with open(ctx["output"], "w", encoding="utf-8") as fh:',
  '    fh.write("ran")',
  'return {"output": {"ran": True}, "artifacts": [ctx["output"]]}',
].join("\n");

Deno.test({
  name:
    "capibara run under require_signature: signed runs, tampered or unsigned is refused until accepted",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const project = join(tmp.path, "repo");
    const cache = join(tmp.path, "cache");
    await Deno.mkdir(join(project, "out"), { recursive: true });
    await using llm = startFakeLLM({ replies: [bundleReply({ body: MARKER_BODY })] });
    const env = {
      CAPIBARA_BASE_URL: llm.url,
      CAPIBARA_API_KEY: "test-key",
      CAPIBARA_MODEL: "fake-model",
      CAPIBARA_CACHE_DIR: cache,
    };
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      runCli(args, { cwd: project, env: { ...env, ...extra } });
    const marker = join(project, "out", "marker.txt");
    const args = ["run", "Write a marker", "--context", '{"output": "out/marker.txt"}', "--json"];
    /** Runs the request; asserts the exit code and whether the script ran. */
    const run = async (code: number, extra: Record<string, string> = {}) => {
      await Deno.remove(marker).catch(() => {});
      const r = await cli(args, extra);
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.equal(await exists(marker), code === 0, "the marker tells whether the script ran");
      return r;
    };

    const first = await run(0);
    const fp = (first.json as { fingerprint: string }).fingerprint;
    const dir = join(project, ".capibara", "scripts", fp);
    const manifestPath = join(dir, "manifest.json");

    // keygen
    const keygen = await cli(["keygen", "--out", join(tmp.path, "keys"), "--json"]);
    assert.equal(keygen.code, 0, keygen.stderr);
    const key = keygen.json as { key_id: string; public_key: string; private_key_path: string };
    assert.deepEqual(Object.keys(key).sort(), ["key_id", "private_key_path", "public_key"]);
    assert.equal((await Deno.stat(key.private_key_path)).mode! & 0o777, 0o600);
    const again = await cli(["keygen", "--out", join(tmp.path, "keys")]);
    assert.equal(again.code, 2, "an existing key is never overwritten");
    const noOut = await cli(["keygen", "--json"]);
    assert.equal((noOut.json as ErrorDoc).error.type, "ValidationError");

    // The project requires signatures: the unsigned entry is refused, with the way out.
    await Deno.writeTextFile(
      join(project, ".capibara", "config.json"),
      JSON.stringify({
        trust: { keys: { [key.key_id]: key.public_key }, require_signature: true },
      }),
    );
    const unsigned = await run(8);
    const hint = (unsigned.json as ErrorDoc).error.hint;
    for (
      const words of [`capibara accept ${fp}`, "trust.keys", "capibara keygen", "capibara sign"]
    ) {
      assert.ok(hint.includes(words), `${words} in ${hint}`);
    }
    assert.equal((await cli(["verify", fp])).code, 8, "verify refuses what run refuses");

    // accept records the acceptance here, without a new revision; then it runs.
    const accepted = await cli(["accept", fp, "--json"]);
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    const { asks: _asks, ...outcome } = accepted.json as { asks: unknown };
    assert.deepEqual(outcome, {
      fingerprint: fp,
      accepted: true,
      revision: 1,
      changed: [],
      dropped: [],
      accepted_locally: true,
      revised: false,
    });
    await run(0);

    // An edit after the acceptance (the record recomputed, so only the acceptance can tell).
    const original = await Deno.readTextFile(manifestPath);
    await forge(dir, (edited) => {
      edited.needs = { network: [], env: ["HOME"] };
    });
    const changed = await run(8);
    assert.match((changed.json as ErrorDoc).error.message, /changed since/);
    await Deno.writeTextFile(manifestPath, original);

    // Signed by the trusted key: it runs without the acceptance; signing kept the fingerprint.
    const signed = await cli(["sign", fp, "--key", key.private_key_path, "--json"]);
    assert.equal(signed.code, 0, signed.stdout + signed.stderr);
    const signedManifest = JSON.parse(await Deno.readTextFile(manifestPath));
    assert.equal(signedManifest.signature.key_id, key.key_id);
    assert.deepEqual(signedManifest.integrity, JSON.parse(original).integrity);
    await Deno.remove(join(cache, "accepted.json"));
    await run(0);

    // A byte changed in a file, or a field with the record recomputed: refused, not run.
    const signedText = await Deno.readTextFile(manifestPath);
    const script = join(dir, "script.py");
    const scriptText = await Deno.readTextFile(script);
    await Deno.writeTextFile(script, scriptText.replace("ran", "RAN"));
    assert.match((await run(8)).stdout, /file script\.py was modified/);
    await Deno.writeTextFile(script, scriptText);
    await forge(dir, (forged) => {
      forged.needs = { network: [], env: ["HOME"] };
    });
    assert.match((await run(8)).stdout, new RegExp(`signature by trusted key ${key.key_id}`));
    // A signature made by another key, under the trusted key's id.
    const other = await loadSigningKey(
      (await writeKeyPair(join(tmp.path, "other")))
        .private_key_path,
    );
    const base = JSON.parse(signedText);
    const wrong = { ...await signManifest(base, other), key_id: key.key_id };
    await Deno.writeTextFile(manifestPath, serialiseManifest({ ...base, signature: wrong }));
    assert.match((await run(8)).stdout, /does not verify/);
    await Deno.writeTextFile(manifestPath, signedText);

    // The machine's switch: the repository's own key does not satisfy it; the machine's does.
    const machine = { CAPIBARA_REQUIRE_SIGNATURE: "1" };
    const refusedHere = await run(8, machine);
    assert.match((refusedHere.json as ErrorDoc).error.message, /this machine requires signatures/);
    await run(0, { ...machine, CAPIBARA_TRUSTED_KEYS: key.public_key });
    assert.equal(llm.requests, 1);

    // A changed entry is never signed.
    await Deno.writeTextFile(script, scriptText.replace("ran", "RAN"));
    const tampered = await cli(["sign", fp, "--key", key.private_key_path]);
    assert.equal(tampered.code, 8, tampered.stdout + tampered.stderr);
    assert.equal(await Deno.readTextFile(manifestPath), signedText);
    await Deno.writeTextFile(script, scriptText);

    // A script generated here under the requirement is stored, but not run until reviewed.
    const newArgs = ["run", "Write another marker", "--context", '{"output": "out/marker.txt"}'];
    await Deno.remove(marker);
    const generated = await cli([...newArgs, "--json"]);
    assert.equal(generated.code, 8, generated.stdout + generated.stderr);
    assert.equal(await exists(marker), false);
    assert.equal(llm.requests, 2);
    // sign --all signs it (and leaves the signed one as it was); then it runs.
    const all = await cli(["sign", "--all", "--key", key.private_key_path, "--json"]);
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const report = all.json as { signed: { fingerprint: string; written: boolean }[] };
    assert.deepEqual(
      report.signed.map((s) => [s.fingerprint === fp, s.written]).sort(),
      [[false, true], [true, false]],
    );
    assert.equal(await Deno.readTextFile(manifestPath), signedText);
    const ran = await cli(newArgs);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.equal(await exists(marker), true);
    assert.equal(llm.requests, 2);

    // A reviewed hand edit of the signed entry: a new, unsigned revision, accepted here.
    await Deno.writeTextFile(script, scriptText.replace('fh.write("ran")', 'fh.write("edited")'));
    const edit = await cli(["accept", fp, "--json"]);
    assert.equal(edit.code, 0, edit.stdout + edit.stderr);
    const { asks, ...edited } = edit.json as { asks: { needs: unknown } };
    assert.deepEqual(edited, {
      fingerprint: fp,
      accepted: true,
      revision: 2,
      changed: ["script.py"],
      dropped: [],
      accepted_locally: true,
      signature_removed: key.key_id,
      revised: true,
    });
    assert.deepEqual(asks.needs, { network: [], env: [] });
    await run(0);
    assert.equal(await Deno.readTextFile(marker), "edited");
  },
});
