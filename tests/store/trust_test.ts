/**
 * The trust policy (src/store/trust.ts) on real entries: which signatures count, what a local
 * acceptance allows, where the policy comes from, and the store's import, export and signing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadProjectFile, resolveConfig } from "../../src/config.ts";
import { evaluateTrust } from "../../src/config_trust.ts";
import {
  loadSigningKey,
  type SigningKey,
  signManifest,
  writeKeyPair,
} from "../../src/core/sign.ts";
import { IntegrityError, ValidationError } from "../../src/errors.ts";
import { MANIFEST_FIELDS } from "../../src/schema.ts";
import { entryFiles } from "../../src/store/entry.ts";
import { type Entry, Store, type StoreOptions } from "../../src/store/store.ts";
import {
  AcceptanceStore,
  checkSignaturePolicy,
  resolveSignaturePolicy,
  type SignaturePolicy,
} from "../../src/store/trust.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { forge, readRaw, sampleManifest, writeRaw } from "./_fixture.ts";

const KEYS = await Deno.makeTempDir({ prefix: "capibara_trust_keys_" });
globalThis.addEventListener("unload", () => Deno.removeSync(KEYS, { recursive: true }));
const TEAM = await loadSigningKey((await writeKeyPair(join(KEYS, "team"))).private_key_path);
const OTHER = await loadSigningKey((await writeKeyPair(join(KEYS, "other"))).private_key_path);

function policy(required: boolean, keys: SigningKey[] = [TEAM]): SignaturePolicy {
  return { required, keys: keys.map((k) => k.publicKey), source: "project" };
}

/** A project with one python entry, in a store that applies `options`. */
async function project(root: string, options: StoreOptions = {}, prompt?: string) {
  const store = new Store(root, join(root, "locks"), options);
  const manifest = await sampleManifest("python", prompt);
  const entry = await store.write(
    manifest,
    entryFiles(manifest, { script: "print('hello')", readme: "A test entry." }),
  );
  return { store, entry };
}

/** Signs an entry in place through the store, as `capibara sign` does. */
async function sign(store: Store, entry: Entry, key = TEAM): Promise<void> {
  const { manifest } = await store.readEntry(entry.manifest.fingerprint);
  const signature = await signManifest(manifest, key);
  await store.writeSignature(entry.manifest.fingerprint, signature, key.publicKey);
}

async function refused(store: Store, entry: Entry): Promise<IntegrityError> {
  const error = await store.lookup(entry.manifest.fingerprint)
    .then((current) => store.verify(current!))
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof IntegrityError, `not refused: ${error}`);
  return error;
}

Deno.test("Store.writeSignature() signs without changing the fingerprint or the integrity record", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await project(tmp.path, { signatures: policy(true) });
  const before = await readRaw(entry);
  await sign(store, entry);
  const after = await readRaw(entry);
  assert.equal(after.fingerprint, before.fingerprint);
  assert.deepEqual(after.integrity, before.integrity);
  assert.deepEqual({ ...after, signature: undefined }, { ...before, signature: undefined });
  assert.deepEqual(await store.verify((await store.lookup(entry.manifest.fingerprint))!), {
    state: "signed",
    key_id: TEAM.keyId,
  });
  // Nothing is left behind in the store's staging area.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(store.base))).map((e) => e.name).sort(),
    [".gitignore", "scripts"],
  );
});

Deno.test("checkSignaturePolicy() refuses a wrong key, a truncated or moved signature, and any change after signing", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await project(tmp.path, { signatures: policy(true) });
  await sign(store, entry);
  const signed = await readRaw(entry);
  const signature = signed.signature as { alg: string; key_id: string; value: string };
  const restore = () => writeRaw(entry, signed);

  // A signature by another key under the trusted key's id.
  const wrong = await signManifest(signed, OTHER);
  await forge(entry.dir, (raw) => raw.signature = { ...wrong, key_id: TEAM.keyId });
  assert.match((await refused(store, entry)).message, new RegExp(`trusted key ${TEAM.keyId}`));
  // Truncated: malformed, refused by the integrity check itself.
  await forge(
    entry.dir,
    (raw) => raw.signature = { ...signature, value: signature.value.slice(0, 40) },
  );
  assert.match((await refused(store, entry)).message, /field "signature" is malformed/);
  // Moved from another entry signed by the same key.
  const other = await project(join(tmp.path, "b"), {}, "Another prompt");
  const moved = await signManifest(await readRaw(other.entry), TEAM);
  await forge(entry.dir, (raw) => raw.signature = moved);
  assert.match((await refused(store, entry)).message, /does not verify/);

  // Every manifest field changed by a forger who recomputes the record: the signature fails.
  for (const field of MANIFEST_FIELDS) {
    if (field === "integrity" || field === "signature") continue;
    await restore();
    await forge(entry.dir, (raw) => raw[field] = field === "revision" ? 7 : { changed: field });
    const error = await refused(store, entry);
    assert.match(error.message, /field|does not verify/, field);
  }
  // Every file with a byte changed.
  for (const name of ["script.py", "README.md", "requirements.txt"]) {
    await restore();
    const path = join(entry.dir, name);
    const bytes = await Deno.readFile(path);
    bytes[0]! ^= 1;
    await Deno.writeFile(path, bytes);
    assert.match((await refused(store, entry)).message, new RegExp(`file ${name}`));
    bytes[0]! ^= 1;
    await Deno.writeFile(path, bytes);
  }
  await restore();
  await store.verify(entry);
});

Deno.test("checkSignaturePolicy() treats an unlisted key as unsigned, and requires a signature or this very acceptance", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await project(tmp.path);
  await sign(store, entry, OTHER);
  const raw = await readRaw(entry) as unknown as { fingerprint: string };
  assert.deepEqual(await checkSignaturePolicy(raw, policy(false)), { state: "unsigned" });
  const error = await checkSignaturePolicy(raw, policy(true)).catch((e) => e);
  assert.ok(error instanceof IntegrityError);
  assert.match(error.message, new RegExp(`signed by key ${OTHER.keyId}, which is not trusted`));
  for (const words of ["capibara accept " + raw.fingerprint, "trust.keys", "capibara keygen"]) {
    assert.ok(error.hint.includes(words), words);
  }
  assert.match(error.hint, /capibara sign fp_\w+ --key/);

  const acceptances = new AcceptanceStore(join(tmp.path, "cache"));
  const accepted = await acceptances.accept(tmp.path, raw);
  assert.deepEqual(await checkSignaturePolicy(raw, policy(true), accepted), {
    state: "accepted",
    accepted_at: accepted.accepted_at,
  });
  // Any change after the acceptance: refused again, saying so.
  const changed = { ...raw, prompt: "Echo the context back, then delete everything" };
  const again = await checkSignaturePolicy(changed, policy(true), accepted).catch((e) => e);
  assert.match(again.message, /accepted on this machine, but changed since/);
});

Deno.test("AcceptanceStore records per project root, and ignores a records file inside the project", async () => {
  await using tmp = await withTmpDir();
  const root = join(tmp.path, "repo");
  await Deno.mkdir(root);
  const manifest = { fingerprint: "fp_" + "1".repeat(32), prompt: "x" };
  const outside = new AcceptanceStore(join(tmp.path, "cache"));
  await outside.accept(root, manifest);
  assert.ok(await outside.get(root, manifest.fingerprint));
  assert.equal(await outside.get(join(tmp.path, "elsewhere"), manifest.fingerprint), undefined);
  assert.equal((await Deno.stat(outside.path)).mode! & 0o777, 0o600);
  // A repository shipping its own records (its cache dir pointed inside it) counts for nothing.
  const shipped = join(root, ".cache");
  await Deno.mkdir(shipped);
  await Deno.copyFile(outside.path, join(shipped, "accepted.json"));
  assert.equal(await new AcceptanceStore(shipped).get(root, manifest.fingerprint), undefined);
});

Deno.test("resolveSignaturePolicy(): the machine's switch counts only the machine's keys", () => {
  const project = { keys: { [TEAM.keyId]: TEAM.publicKey }, require_signature: false };
  assert.deepEqual(resolveSignaturePolicy(project, {}), {
    required: false,
    keys: [TEAM.publicKey],
    source: "project",
  });
  assert.deepEqual(resolveSignaturePolicy(project, { CAPIBARA_REQUIRE_SIGNATURE: "1" }), {
    required: true,
    keys: [],
    source: "machine",
  });
  const env = { CAPIBARA_REQUIRE_SIGNATURE: "true", CAPIBARA_TRUSTED_KEYS: OTHER.publicKey };
  assert.deepEqual(resolveSignaturePolicy({ ...project, require_signature: true }, env).keys, [
    OTHER.publicKey,
  ]);
  // A repository cannot switch the machine's requirement off.
  assert.equal(
    resolveSignaturePolicy({ require_signature: false }, { CAPIBARA_REQUIRE_SIGNATURE: "1" })
      .required,
    true,
  );
  assert.throws(() => resolveSignaturePolicy({}, { CAPIBARA_REQUIRE_SIGNATURE: "maybe" }), {
    name: "ValidationError",
  });
  assert.throws(() => resolveSignaturePolicy({}, { CAPIBARA_TRUSTED_KEYS: "abc" }), {
    name: "ValidationError",
  });
});

Deno.test("loadProjectFile() refuses a mislabelled trust key; trust applies without config trust", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara"));
  const write = (trust: unknown) =>
    Deno.writeTextFile(join(tmp.path, ".capibara", "config.json"), JSON.stringify({ trust }));
  await write({ keys: { [OTHER.keyId]: TEAM.publicKey } });
  const error = await loadProjectFile(tmp.path).catch((e) => e);
  assert.ok(error instanceof ValidationError);
  assert.match(error.message, new RegExp(`trust.keys\\["${OTHER.keyId}"\\] is mislabelled`));
  assert.ok(error.hint.includes(TEAM.keyId));
  await write({ keys: { [TEAM.keyId]: "not a key" } });
  await assert.rejects(loadProjectFile(tmp.path), /is not a public key/);
  await write({ require_signatures: true });
  await assert.rejects(loadProjectFile(tmp.path), /unknown key "trust.require_signatures"/);

  await write({ keys: { [TEAM.keyId]: TEAM.publicKey }, require_signature: true });
  const file = await loadProjectFile(tmp.path);
  const trust = await evaluateTrust(file, { cacheDir: join(tmp.path, "cache"), env: {} });
  assert.equal(trust.state, "harmless");
  const config = resolveConfig({}, {}, file?.config, trust);
  assert.deepEqual(config.signatures, policy(true));
});

Deno.test("Store.importEntry() stores a verified entry and leaves nothing of a refused one", async () => {
  await using tmp = await withTmpDir();
  const source = await project(join(tmp.path, "a"));
  await sign(source.store, source.entry);
  const wire = await source.store.readEntry(source.entry.manifest.fingerprint);
  assert.deepEqual(Object.keys(wire.files).sort(), ["README.md", "requirements.txt", "script.py"]);
  const fp = wire.manifest.fingerprint;

  const root = join(tmp.path, "b");
  const store = new Store(root, join(root, "locks"), {
    signatures: policy(true),
    acceptances: new AcceptanceStore(join(tmp.path, "cache")),
  });
  const nothingLeft = async () => {
    assert.equal(await store.lookup(fp), undefined);
    const tmpDir = join(store.base, ".tmp");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(tmpDir)).catch(() => []), []);
  };
  const refusals: [string, unknown, RegExp][] = [
    [
      "a changed script",
      { ...wire, files: { ...wire.files, "script.py": "import os\n" } },
      /file script.py was modified/,
    ],
    [
      "a changed field",
      { ...wire, manifest: { ...wire.manifest, prompt: "Something else" } },
      /field "prompt" was changed/,
    ],
    [
      "an extra file",
      { ...wire, files: { ...wire.files, "sitecustomize.py": "import os\n" } },
      /a python entry holds/,
    ],
    ["a file outside", { ...wire, files: { ...wire.files, "../x": "" } }, /a python entry holds/],
    ["no manifest", { files: wire.files }, /expected an object/],
    [
      "an unsigned entry where signatures are required",
      { ...wire, manifest: { ...wire.manifest, signature: undefined } },
      /not signed by a trusted key/,
    ],
  ];
  for (const [what, entry, message] of refusals) {
    await assert.rejects(
      store.importEntry(entry as typeof wire),
      (e: Error) => message.test(e.message),
      what,
    );
    await nothingLeft();
  }
  await assert.rejects(store.importEntry(wire, { maxBytes: 100 }), /over the 100 bytes allowed/);
  await assert.rejects(
    store.importEntry(wire, { fingerprint: "fp_" + "0".repeat(32) }),
    /not the "fp_0+" asked for/,
  );
  await nothingLeft();

  const imported = await store.importEntry(wire, { fingerprint: fp });
  assert.deepEqual(await store.verify(imported), { state: "signed", key_id: TEAM.keyId });
  assert.deepEqual(await store.readEntry(fp), wire);
});
