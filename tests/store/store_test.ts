/**
 * The store: layout, atomic writes, listing, prefix resolution and the per-fingerprint lock.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { IntegrityError, ValidationError } from "../../src/errors.ts";
import { entryFiles, serialiseManifest, textNestsDeeperThan } from "../../src/store/entry.ts";
import { findRoot, Store } from "../../src/store/store.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { sampleManifest, writeSample } from "./_fixture.ts";

Deno.test("Store.write() writes the manifest in its stored form, with an integrity record", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const text = await Deno.readTextFile(join(entry.dir, "manifest.json"));
  const raw = JSON.parse(text);
  assert.equal(text, serialiseManifest(raw));
  assert.match(raw.integrity.manifest, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(Object.keys(raw.files), ["README.md", "requirements.txt", "script.py"]);
  assert.equal(
    await Deno.readTextFile(join(entry.dir, "requirements.txt")),
    "six==1.16.0\n",
  );
  assert.deepEqual(entry.manifest.integrity, raw.integrity);
  await store.verify(entry);
  // Nothing is left in the staging area.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(store.base))).map((e) => e.name).sort(),
    [".gitignore", "scripts"],
  );
});

Deno.test("Store.write() computes the record itself: one given by the caller is ignored", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const manifest = await sampleManifest();
  const forged = {
    ...manifest,
    integrity: { manifest: "sha256:" + "0".repeat(64), fields: {} },
    signature: "ed25519:forged",
  };
  const entry = await store.write(forged, entryFiles(manifest, { script: "x = 1", readme: "" }));
  assert.notEqual(entry.manifest.integrity?.manifest, forged.integrity.manifest);
  assert.equal(entry.manifest.signature, undefined);
  await store.verify(entry);
});

Deno.test("Store.write() refuses files that are not exactly the language's entry files", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const manifest = await sampleManifest();
  const files = entryFiles(manifest, { script: "x = 1", readme: "" });
  await assert.rejects(
    store.write(manifest, { ...files, "sitecustomize.py": "import os" }),
    ValidationError,
  );
  const { "requirements.txt": _, ...withoutRequirements } = files;
  await assert.rejects(store.write(manifest, withoutRequirements), ValidationError);
  assert.equal(await store.lookup(manifest.fingerprint), undefined);
});

Deno.test("Store.write() replaces an entry whole with its next revision", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const manifest = { ...await sampleManifest(), revision: 2 };
  const next = await store.write(
    manifest,
    entryFiles(manifest, { script: "print('second')", readme: "Second." }),
  );
  assert.equal(next.dir, entry.dir);
  assert.equal(next.manifest.revision, 2);
  assert.equal(await Deno.readTextFile(join(next.dir, "script.py")), "print('second')\n");
  await store.verify(next);
  // The entry read before the rewrite no longer matches what the folder holds.
  await assert.rejects(store.verify(entry), IntegrityError);
});

Deno.test("Store.lookup() returns undefined for a fingerprint that is not cached", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path);
  assert.equal(await store.lookup("fp_" + "a".repeat(32)), undefined);
  assert.throws(() => store.dirOf("fp_../../etc"), ValidationError);
});

Deno.test("Store.lookup() refuses a manifest that is not valid JSON (IntegrityError)", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  await Deno.writeTextFile(join(entry.dir, "manifest.json"), "{ not json");
  await assert.rejects(store.lookup(entry.manifest.fingerprint), IntegrityError);
});

Deno.test("Store.list() reports stray folders, stray files and unreadable manifests as broken", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const other = await writeSample(tmp.path, "bash");
  await Deno.mkdir(join(store.scripts, "not-an-entry"));
  await Deno.writeTextFile(join(store.scripts, "notes.txt"), "hello");
  await Deno.writeTextFile(join(other.entry.dir, "manifest.json"), "[]");
  const { entries, broken } = await store.list();
  assert.deepEqual(entries.map((e) => e.dir), [entry.dir]);
  assert.deepEqual(
    broken.map((b) => b.dir).sort(),
    [join(store.scripts, "not-an-entry"), join(store.scripts, "notes.txt"), other.entry.dir].sort(),
  );
});

Deno.test("Store.resolve() finds the one fingerprint of a prefix", async () => {
  await using tmp = await withTmpDir();
  const { store, entry } = await writeSample(tmp.path);
  const fp = entry.manifest.fingerprint;
  assert.equal(await store.resolve(fp.slice(3, 9)), fp);
  assert.equal(await store.resolve(fp.slice(0, 9)), fp);
  // Typed or pasted in upper case, the same fingerprint.
  assert.equal(await store.resolve(fp.slice(0, 12).toUpperCase()), fp);
  await assert.rejects(store.resolve("fp_1"), ValidationError);
  await assert.rejects(store.resolve(fp.slice(3, 5) === "ff" ? "ee" : "ff"), ValidationError);
  await Deno.mkdir(join(store.scripts, "fp_ab" + "0".repeat(30)));
  await Deno.mkdir(join(store.scripts, "fp_ab" + "1".repeat(30)));
  await assert.rejects(store.resolve("ab"), /ambiguous/);
});

Deno.test("Store.lock() lets one holder per fingerprint at a time", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const fp = "fp_" + "1".repeat(32);
  const events: string[] = [];
  const first = await store.lock(fp);
  // Another fingerprint is independent.
  (await store.lock("fp_" + "2".repeat(32))).release();
  const second = store.lock(fp).then((lock) => {
    events.push("second acquired");
    return lock;
  });
  // Give a broken lock every chance to be taken while the first is held.
  await new Promise((resolve) => setTimeout(resolve, 200));
  events.push("first released");
  first.release();
  (await second).release();
  assert.deepEqual(events, ["first released", "second acquired"]);
  // Nothing is left per fingerprint once released.
  assert.deepEqual([...Deno.readDirSync(join(tmp.path, "locks"))], []);
});

Deno.test("Store.lock() stays exclusive while holders remove their lock files", async () => {
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  const fp = "fp_" + "3".repeat(32);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 50));
  const first = await store.lock(fp);
  const held = new Set<string>();
  const take = (name: string) =>
    store.lock(fp).then((lock) => {
      held.add(name);
      return { name, lock };
    });
  // One waits on the first holder's file; the first's release removes that file, and a later
  // locker makes a new one: the waiter's lock on the old file must not count.
  const waiting = take("waiter");
  await pause();
  first.release();
  const later = take("later");
  const winner = await Promise.race([waiting, later]);
  await pause();
  assert.deepEqual([...held], [winner.name], "two holders at once");
  winner.lock.release();
  const other = await (winner.name === "waiter" ? later : waiting);
  other.lock.release();
  assert.deepEqual([...Deno.readDirSync(join(tmp.path, "locks"))], []);
});

Deno.test("findRoot() is the git root, never a folder found by its .capibara/", async () => {
  await using tmp = await withTmpDir();
  const nested = join(tmp.path, "a", "b");
  await Deno.mkdir(nested, { recursive: true });
  await Deno.mkdir(join(tmp.path, ".git"));
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  assert.equal(await findRoot(nested, { warn }), tmp.path);
  assert.deepEqual(warnings, []);
  // A .capibara/ below the git root (planted by a script, say) is ignored, and named.
  await Deno.mkdir(join(tmp.path, "a", ".capibara"));
  await Deno.mkdir(join(nested, ".capibara"));
  assert.equal(await findRoot(nested, { warn }), tmp.path);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, new RegExp(`^warning: ignoring ${join(nested, ".capibara")}: `));
  assert.match(
    warnings[1]!,
    new RegExp(`^warning: ignoring ${join(tmp.path, "a", ".capibara")}: `),
  );
  assert.match(warnings[1]!, /--root /);
  // The git root's own store is no warning; a .git file (a worktree, a submodule) is a git root.
  warnings.length = 0;
  await Deno.mkdir(join(tmp.path, ".capibara"));
  assert.equal(await findRoot(tmp.path, { warn }), tmp.path);
  await Deno.writeTextFile(join(tmp.path, "a", ".git"), "gitdir: ../.git/worktrees/a\n");
  assert.equal(await findRoot(nested, { warn }), join(tmp.path, "a"));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`ignoring ${join(nested, ".capibara")}`));
});

Deno.test("findRoot() outside a git repository is the directory itself", async () => {
  await using tmp = await withTmpDir();
  const nested = join(tmp.path, "a");
  await Deno.mkdir(join(nested, ".capibara"), { recursive: true });
  await Deno.mkdir(join(tmp.path, ".capibara"));
  const warnings: string[] = [];
  assert.equal(await findRoot(nested, { warn: (m) => warnings.push(m) }), nested);
  assert.equal(await findRoot(join(tmp.path, "a", "..")), tmp.path);
  assert.deepEqual(warnings, []);
});

Deno.test("Store.write() from two writers at once: neither loses its staging folder", async () => {
  // A writer that finishes removes .tmp when it is empty, maybe between the other's making .tmp
  // and its staging folder in it.
  await using tmp = await withTmpDir();
  const store = new Store(tmp.path, join(tmp.path, "locks"));
  // Both writers finish before the folder goes (a failure of one must not be hidden by the
  // clean-up racing the other), and every failure is reported with its own error.
  const settled = await Promise.allSettled([0, 1].map(async (w) => {
    for (let n = 0; n < 40; n++) {
      const manifest = await sampleManifest("python", `Request ${w}-${n}`);
      await store.write(manifest, entryFiles(manifest, { script: "x = 1", readme: "" }));
    }
  }));
  const failed = settled.flatMap((r) =>
    r.status === "rejected" ? [String(r.reason?.stack ?? r.reason)] : []
  );
  assert.deepEqual(failed, []);
  assert.equal((await store.list()).entries.length, 80);
});

Deno.test("Store.write() under a umask of 0000 (an SDK's process may have one): nothing it writes is open to other users", async () => {
  await using tmp = await withTmpDir();
  const root = await Deno.realPath(tmp.path);
  const fixture = new URL("./_fixture.ts", import.meta.url).href;
  const program = `import { writeSample } from ${JSON.stringify(fixture)};
Deno.umask(0);
const { entry } = await writeSample(${JSON.stringify(root)});
console.log(entry.dir);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", program],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const open: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      const info = await Deno.lstat(path);
      if ((info.mode! & 0o022) !== 0) open.push(`${path} ${(info.mode! & 0o7777).toString(8)}`);
      if (info.isDirectory) await walk(path);
    }
  };
  await walk(join(root, ".capibara"));
  assert.deepEqual(open, []);
});

Deno.test("Store.write() sweeps staging folders a writer that died left in .tmp over an hour ago, and keeps a replaced entry's old copy", async () => {
  await using tmp = await withTmpDir();
  const tmpRoot = join(tmp.path, ".capibara", ".tmp");
  await Deno.mkdir(tmpRoot, { recursive: true });
  const stale = join(tmpRoot, "fp_" + "1".repeat(32) + "-abc");
  const fresh = join(tmpRoot, "fp_" + "2".repeat(32) + "-def");
  const old = join(tmpRoot, "fp_" + "3".repeat(32) + "-old-ghi");
  for (const dir of [stale, fresh, old]) {
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "script.py"), "");
  }
  const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const dir of [stale, old]) await Deno.utime(dir, hoursAgo, hoursAgo);
  await writeSample(tmp.path);
  const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);
  assert.equal(await exists(stale), false, "a stale staging folder was kept");
  assert.equal(await exists(fresh), true, "another writer's staging folder was removed");
  assert.equal(await exists(old), true, "a replaced entry's old copy was removed");
});

Deno.test("Store.lookup() never follows a committed link of scripts/ or .tmp/ to put back an interrupted replacement", async () => {
  // A cloned repository commits `.capibara/scripts` as a link to a folder of the user's (a Vim
  // plugin folder) and a "left-over" `.tmp/<fp>-old-…` holding its files; or `.capibara/.tmp` as a
  // link to a folder elsewhere holding one. A lookup of that fingerprint must move nothing.
  const fp = "fp_" + "4".repeat(32);
  for (const linked of ["scripts", ".tmp"] as const) {
    await using tmp = await withTmpDir();
    const project = join(tmp.path, "project");
    const outside = join(tmp.path, "outside");
    const base = join(project, ".capibara");
    await Deno.mkdir(outside, { recursive: true });
    await Deno.mkdir(base, { recursive: true });
    const leftOver = linked === "scripts"
      ? join(base, ".tmp", `${fp}-old-1`)
      : join(outside, `${fp}-old-1`);
    await Deno.mkdir(join(leftOver, "plugin"), { recursive: true });
    await Deno.writeTextFile(join(leftOver, "plugin", "evil.vim"), "call system('id')\n");
    await Deno.symlink(outside, join(base, linked));
    const store = new Store(project, join(tmp.path, "locks"));
    await assert.rejects(store.lookup(fp), IntegrityError, `${linked} as a link`);
    // Out of the project through the link, or into it from elsewhere.
    const moved = linked === "scripts" ? join(outside, fp) : join(base, "scripts", fp);
    assert.equal(
      await Deno.lstat(moved).then(() => true, () => false),
      false,
      `the left-over folder was moved to ${moved}`,
    );
    assert.equal(
      await Deno.lstat(leftOver).then((i) => i.isDirectory, () => false),
      true,
      "the left-over folder was moved",
    );
  }
});

Deno.test("textNestsDeeperThan() counts the arrays and objects JSON text opens, not brackets in its strings", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.equal(textNestsDeeperThan(bytes("[".repeat(65) + "]".repeat(65)), 64), true);
  assert.equal(textNestsDeeperThan(bytes("[".repeat(64) + "]".repeat(64)), 64), false);
  assert.equal(textNestsDeeperThan(bytes('{"a": {"b": [1, {"c": 2}]}}'), 4), false);
  assert.equal(textNestsDeeperThan(bytes('{"a": {"b": [1, {"c": 2}]}}'), 3), true);
  // Brackets in strings, escaped quotes among them, open nothing.
  assert.equal(textNestsDeeperThan(bytes(`{"s": "[[[[\\"[[[[", "t": "{{{{"}`), 1), false);
  // Once every level is closed, a next one counts from the top again.
  assert.equal(textNestsDeeperThan(bytes("[[]] [[]] [[]]"), 2), false);
});
