/**
 * `capibara rekey` as a subprocess: a dry run changes nothing, a run moves the entry, the next
 * run has nothing to do, and the help shows examples; under require_signature, moved entries are
 * said to be unsigned, and `--key` signs them as `capibara sign` does.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { signEntry } from "../../src/cli/sign.ts";
import { loadSigningKey, writeKeyPair } from "../../src/core/sign.ts";
import { fingerprint } from "../../src/fingerprint.ts";
import { Store } from "../../src/store/store.ts";
import { runCli, snapshotTree } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { CONTEXT, writeLegacy } from "../store/_legacy.ts";

Deno.test("capibara rekey moves template-1 entries; --dry-run changes nothing", async () => {
  await using tmp = await withTmpDir();
  const env = { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") };
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const old = await writeLegacy(store, "Increase prices by 10%");
  const to = (await fingerprint("Increase prices by 10%", CONTEXT, { language: "typescript" }))
    .fingerprint;
  const before = await snapshotTree(store.base);

  const dry = await runCli(["rekey", "--dry-run", "--json"], { cwd: tmp.path, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.json, {
    ok: true,
    dry_run: true,
    entries: [{ from: old.manifest.fingerprint, to, status: "would-move" }],
  });
  assert.deepEqual(await snapshotTree(store.base), before);

  const run = await runCli(["rekey"], { cwd: tmp.path, env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`moved +${old.manifest.fingerprint} → ${to}`));
  assert.match(run.stdout, /1 moved, 0 already current/);
  assert.equal(await store.lookup(old.manifest.fingerprint), undefined);
  await store.verify((await store.lookup(to))!);

  const again = await runCli(["rekey", "--json"], { cwd: tmp.path, env });
  assert.deepEqual(again.json, {
    ok: true,
    dry_run: false,
    entries: [{ from: to, status: "current" }],
  });
});

Deno.test("capibara rekey exits 8 on a tampered entry and leaves it", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const old = await writeLegacy(store, "in EUR");
  await Deno.writeTextFile(join(old.dir, "script.ts"), "console.log(2);\n");
  const result = await runCli(["rekey", "--json"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") },
  });
  assert.equal(result.code, 8);
  const json = result.json as { ok: boolean; entries: { status: string }[] };
  assert.equal(json.ok, false);
  assert.equal(json.entries[0]?.status, "failed");
  assert.ok(await store.lookup(old.manifest.fingerprint));
});

Deno.test("capibara rekey --help shows examples", async () => {
  await using tmp = await withTmpDir();
  const help = await runCli(["rekey", "--help"], { cwd: tmp.path });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:\n {2}capibara rekey --dry-run/);
  assert.match(help.stdout, /--dry-run/);
});

Deno.test("capibara rekey under require_signature says moved entries are unsigned; --key signs them", async () => {
  await using tmp = await withTmpDir();
  const keys = await writeKeyPair(join(tmp.path, "keys"));
  const key = await loadSigningKey(keys.private_key_path);
  /** A project requiring signatures by `keys`, holding one signed legacy entry. */
  const project = async (name: string) => {
    const root = join(tmp.path, name);
    const store = new Store(root, join(tmp.path, `${name}-locks`));
    const old = await writeLegacy(store, "Increase prices by 10%");
    await signEntry(store, old.manifest.fingerprint, key);
    await Deno.writeTextFile(
      join(root, ".capibara", "config.json"),
      JSON.stringify({
        trust: { keys: { [keys.key_id]: keys.public_key }, require_signature: true },
      }),
    );
    return { root, store };
  };
  const [plain, signed] = await Promise.all([project("plain"), project("signed")]);
  const env = { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") };
  const to = (await fingerprint("Increase prices by 10%", CONTEXT, { language: "typescript" }))
    .fingerprint;
  const [human, withKey] = await Promise.all([
    runCli(["rekey"], { cwd: plain.root, env }),
    runCli(["rekey", "--key", keys.private_key_path, "--json"], { cwd: signed.root, env }),
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    new RegExp(`comes out unsigned \\(its signature by key ${keys.key_id}`),
  );
  assert.match(human.stdout, new RegExp(`capibara sign ${to} --key <file>`));
  // It is so: run would refuse the moved entry.
  await assert.rejects(
    new Store(plain.root, join(tmp.path, "check-locks"), {
      signatures: { required: true, keys: [keys.public_key], source: "project" },
    }).verify((await plain.store.lookup(to))!),
    /not signed by a trusted key/,
  );

  assert.equal(withKey.code, 0, withKey.stderr);
  const entry = (withKey.json as { entries: Record<string, unknown>[] }).entries[0]!;
  assert.equal(entry.signed_by, keys.key_id);
  const policy = { required: true, keys: [keys.public_key], source: "project" as const };
  const status = await new Store(signed.root, join(tmp.path, "check-locks"), {
    signatures: policy,
  }).verify((await signed.store.lookup(to))!);
  assert.deepEqual(status, { state: "signed", key_id: keys.key_id });
});

Deno.test("capibara rekey --key signs again only what the key signed or this machine accepted, never a planted entry", async () => {
  await using tmp = await withTmpDir();
  const keys = await writeKeyPair(join(tmp.path, "keys"));
  const key = await loadSigningKey(keys.private_key_path);
  const root = join(tmp.path, "p");
  const store = new Store(root, join(tmp.path, "locks"));
  // The lead's own signed entry, and one a cloned repository planted, unsigned (or signed with a
  // value that does not verify, under the lead's key id).
  const own = await writeLegacy(store, "Increase prices by 10%");
  await signEntry(store, own.manifest.fingerprint, key);
  await writeLegacy(store, "Print the planted output");
  const env = { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") };
  const result = await runCli(["rekey", "--key", keys.private_key_path, "--json"], {
    cwd: root,
    env,
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const entries = (result.json as { entries: { from: string; signed_by?: string }[] }).entries;
  const signedOwn = entries.find((e) => e.from === own.manifest.fingerprint);
  assert.equal(signedOwn?.signed_by, keys.key_id);
  const planted = entries.find((e) => e.from !== own.manifest.fingerprint);
  assert.equal(planted?.signed_by, undefined, "a planted entry was signed");
  // It is so: the moved planted entry carries no signature.
  const moved = (await store.list()).entries.filter((e) => e.manifest.prompt.includes("planted"));
  assert.equal(moved.length, 1);
  assert.equal(moved[0]!.manifest.signature, undefined);
});
