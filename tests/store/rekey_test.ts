/**
 * Entries of earlier templates (1, the legacy prompt rule, and 2): they still verify, a miss finds
 * them only for the very request they were written for, and re-keying moves them to the current
 * rule's fingerprint through the store's one writer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import { TEMPLATE_VERSION } from "../../src/contract/contract.ts";
import { IntegrityError } from "../../src/errors.ts";
import { contextShape, fingerprint } from "../../src/fingerprint.ts";
import { entryFiles, serialiseManifest } from "../../src/store/entry.ts";
import { integrityRecord } from "../../src/store/integrity.ts";
import { sha256 } from "../../src/_hash.ts";
import { findLegacyEntry, REKEY_REASON, rekeyStore } from "../../src/store/rekey.ts";
import { Store } from "../../src/store/store.ts";
import { snapshotTree } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { sampleManifest } from "./_fixture.ts";
import { CONTEXT, SCRIPT, writeLegacy } from "./_legacy.ts";

function storeAt(root: string): Store {
  return new Store(root, join(root, "locks"));
}

Deno.test("Store.verify() checks a template-1 entry's fingerprint under the template-1 rule", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const entry = await writeLegacy(store, "Increase prices by 10%");
  await store.verify(entry); // the legacy rule's fingerprint verifies
  // The current rule's fingerprint under a template-1 label does not.
  const base = await sampleManifest("typescript", "Increase prices by 10%");
  const forged = { ...base, template_version: "1.0.0" };
  await assert.rejects(
    store.write(forged, entryFiles(forged, { script: SCRIPT, readme: "" })),
    (e: unknown) => e instanceof IntegrityError && /does not match/.test(e.message),
  );
});

Deno.test("findLegacyEntry() finds a template-1 entry for the same request only", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const entry = await writeLegacy(store, "Send the email, thanks");
  const request = (prompt: string) => ({
    prompt,
    context: CONTEXT,
    language: "typescript" as const,
    mode: "strict" as const,
  });
  const same = request("please send the EMAIL");
  const found = await findLegacyEntry(store, same, await fingerprint(same.prompt, CONTEXT, same));
  assert.equal(found?.dir, entry.dir);
  // The legacy rule gives "Send the thanks email" the same key: it must not get this script.
  const other = request("Send the thanks email");
  const legacy = await fingerprint(other.prompt, CONTEXT, {
    language: "typescript",
    templateVersion: "1.0.0",
  });
  assert.equal(legacy.fingerprint, entry.manifest.fingerprint);
  assert.equal(
    await findLegacyEntry(store, other, await fingerprint(other.prompt, CONTEXT, other)),
    undefined,
  );
});

Deno.test("findLegacyEntry() finds a template-2 entry for the same request only: not for another quoted case or a superscript", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const request = (prompt: string) => ({
    prompt,
    context: CONTEXT,
    language: "typescript" as const,
    mode: "strict" as const,
  });
  const find = async (prompt: string) =>
    await findLegacyEntry(
      store,
      request(prompt),
      await fingerprint(prompt, CONTEXT, request(prompt)),
    );
  for (
    const [written, same, other] of [
      [
        "Set the status to 'ACTIVE'",
        "set the status to 'ACTIVE', please",
        "Set the status to 'active'",
      ],
      ["Raise prices by 10\u00b2%", "raise prices by 10\u00b2%.", "Raise prices by 102%"],
    ]
  ) {
    const entry = await writeLegacy(store, written!, "typescript", "2.0.0");
    assert.equal((await find(same!))?.dir, entry.dir, same);
    // Template 2's rule gives the other request this key: it must not get this script.
    const earlier = await fingerprint(other!, CONTEXT, {
      language: "typescript",
      templateVersion: "2.0.0",
    });
    assert.equal(earlier.fingerprint, entry.manifest.fingerprint);
    assert.equal(await find(other!), undefined, other);
  }
});

Deno.test("rekeyStore() moves a template-2 entry to template 3's fingerprint", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "Set the status to 'ACTIVE'", "python", "2.0.0");
  const expected = await fingerprint("Set the status to 'ACTIVE'", CONTEXT, { language: "python" });
  assert.notEqual(expected.fingerprint, old.manifest.fingerprint);
  assert.deepEqual(await rekeyStore(store), [
    { from: old.manifest.fingerprint, to: expected.fingerprint, status: "moved" },
  ]);
  const moved = (await store.lookup(expected.fingerprint))!;
  await store.verify(moved);
  assert.equal(moved.manifest.template_version, TEMPLATE_VERSION);
  assert.equal(moved.manifest.prompt_sha, expected.prompt_sha);
  assert.equal(await store.lookup(old.manifest.fingerprint), undefined);
});

Deno.test("Capibara.run() runs a template-1 entry on a miss, says once to re-key, and never generates", async () => {
  await using tmp = await withTmpDir();
  await Deno.writeTextFile(join(tmp.path, "data.csv"), "a\n");
  const store = storeAt(tmp.path);
  const entry = await writeLegacy(store, "Count the rows");
  const warnings: string[] = [];
  const generator = {
    kind: "fail",
    generate: () => Promise.reject(new Error("the generator must not be called")),
  };
  const capibara = new Capibara({
    root: tmp.path,
    cwd: tmp.path,
    cacheDir: join(tmp.path, "cache"),
    generator,
    language: "typescript",
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    warn: (m) => warnings.push(m),
  });
  for (const prompt of ["Count the rows.", "please count the rows"]) {
    const result = await capibara.run(prompt, { context: CONTEXT });
    assert.equal(result.cached, true);
    assert.equal(result.fingerprint, entry.manifest.fingerprint);
    assert.deepEqual(result.output, { n: 1 });
  }
  const rekey = warnings.filter((w) => w.includes("capibara rekey"));
  assert.equal(rekey.length, 1, warnings.join("\n"));
  assert.match(rekey[0]!, new RegExp(entry.manifest.fingerprint));
});

/** Writes a parametric entry (no context stored) keyed as parametric requests were before their
 * mode was hashed (early in template 2), or as a strict entry whose context spells the same
 * shape. */
async function writeUnhashed(store: Store, prompt: string, mode: "parametric" | "strict") {
  const base = { ...await sampleManifest("typescript", prompt), template_version: "2.0.0" };
  const fp = await fingerprint(prompt, CONTEXT, {
    language: "typescript",
    mode: "parametric",
    modeUnhashed: true,
    templateVersion: "2.0.0",
  });
  const { context: _context, ...rest } = base;
  const manifest = {
    ...rest,
    ...(mode === "strict" ? { context: contextShape(CONTEXT) } : {}),
    fingerprint: fp.fingerprint,
    prompt_sha: fp.prompt_sha,
    context_sha: fp.context_sha,
    mode,
  };
  return await store.write(manifest, entryFiles(manifest, { script: SCRIPT, readme: "" }));
}

/**
 * A TypeScript Capibara in `root` whose generator only counts that it was asked (and fails), in
 * the mode given; its warnings go to `warnings`.
 */
function countingCapibara(root: string, mode: "strict" | "parametric", warnings: string[] = []) {
  const asked = { count: 0 };
  const capibara = new Capibara({
    root,
    cwd: root,
    cacheDir: join(root, "cache"),
    generator: {
      kind: "fail",
      generate: () => {
        asked.count++;
        return Promise.reject(new Error("the generator was asked"));
      },
    },
    language: "typescript",
    mode,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    warn: (m) => warnings.push(m),
  });
  return { capibara, asked };
}

Deno.test("Capibara.run() finds a parametric entry keyed before the mode was hashed, for its request only", async () => {
  await using tmp = await withTmpDir();
  // The contexts' inputs (a strict context spelling the shape names the file "string").
  for (const name of ["data.csv", "other.csv", "a.csv", "string"]) {
    await Deno.writeTextFile(join(tmp.path, name), "a\n");
  }
  const store = storeAt(tmp.path);
  const entry = await writeUnhashed(store, "Echo n", "parametric");
  const warnings: string[] = [];
  const { capibara, asked } = countingCapibara(tmp.path, "parametric", warnings);
  // Other values of the same shape: the same parametric request.
  for (const n of [1, 7]) {
    const result = await capibara.run("Echo n.", { context: { input: "other.csv", n } });
    assert.equal(result.cached, true);
    assert.equal(result.fingerprint, entry.manifest.fingerprint);
    assert.deepEqual(result.output, { n });
  }
  assert.equal(asked.count, 0);
  const told = warnings.filter((w) => w.includes("--refresh"));
  assert.equal(told.length, 1, warnings.join("\n"));
  assert.match(told[0]!, new RegExp(entry.manifest.fingerprint));
  // Another shape is another request; a strict request whose values spell the shape had the
  // entry's earlier key, and is never given the entry (a miss: the generator is asked).
  await assert.rejects(
    capibara.run("Echo n", { context: { input: "a.csv", n: "seven" } }),
    /the generator was asked/,
  );
  const strict = countingCapibara(tmp.path, "strict");
  await assert.rejects(
    strict.capibara.run("Echo n", { context: contextShape(CONTEXT) }),
    /the generator was asked/,
  );
  assert.equal(asked.count + strict.asked.count, 2);
});

Deno.test("Capibara.run() never runs a strict entry whose context spells a parametric request's shape for it", async () => {
  await using tmp = await withTmpDir();
  for (const name of ["data.csv", "string"]) await Deno.writeTextFile(join(tmp.path, name), "a\n");
  const store = storeAt(tmp.path);
  // Before the mode was hashed this entry sat at the parametric request's key.
  const strict = await writeUnhashed(store, "Echo n", "strict");
  const parametric = await fingerprint("Echo n", CONTEXT, {
    language: "typescript",
    mode: "parametric",
  });
  assert.notEqual(parametric.fingerprint, strict.manifest.fingerprint);
  const { capibara, asked } = countingCapibara(tmp.path, "parametric");
  // A miss (the generator is asked), not the strict script and not an IntegrityError.
  await assert.rejects(capibara.run("Echo n", { context: CONTEXT }), /the generator was asked/);
  assert.equal(asked.count, 1);
  // The strict request of those values is still served by its entry.
  const result = await countingCapibara(tmp.path, "strict").capibara.run("Echo n", {
    context: contextShape(CONTEXT),
  });
  assert.equal(result.fingerprint, strict.manifest.fingerprint);
  assert.deepEqual(result.output, { n: "number" });
});

Deno.test("rekeyStore() moves a template-1 entry to its new fingerprint through Store.write()", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "Increase prices by 10%", "python");
  const expected = await fingerprint("Increase prices by 10%", CONTEXT, { language: "python" });
  assert.notEqual(expected.fingerprint, old.manifest.fingerprint);

  const at = new Date("2026-12-01T00:00:00.000Z");
  const outcomes = await rekeyStore(store, { now: () => at });
  assert.deepEqual(outcomes, [
    { from: old.manifest.fingerprint, to: expected.fingerprint, status: "moved" },
  ]);
  assert.equal(await store.lookup(old.manifest.fingerprint), undefined);
  const moved = (await store.lookup(expected.fingerprint))!;
  await store.verify(moved);
  const m = moved.manifest;
  assert.equal(m.template_version, TEMPLATE_VERSION);
  assert.equal(m.prompt_sha, expected.prompt_sha);
  assert.equal(m.revision, 2);
  assert.deepEqual(m.history.at(-1), { revision: 2, at: at.toISOString(), reason: REKEY_REASON });
  assert.equal(REKEY_REASON, "re-keyed to template 4");
  assert.deepEqual(m.history.slice(0, -1), old.manifest.history);
  assert.equal(m.files["script.py"], old.manifest.files["script.py"]);
  assert.equal(m.files["requirements.txt"], old.manifest.files["requirements.txt"]);
  const readme = await Deno.readTextFile(join(moved.dir, "README.md"));
  assert.ok(readme.startsWith(`# ${expected.fingerprint}\n`));
  assert.match(readme, /Notes\./);
  // The command that runs it by hand names the folder it moved to.
  assert.ok(readme.includes(`.capibara/scripts/${expected.fingerprint}/script.py`), readme);
  assert.ok(!readme.includes(old.manifest.fingerprint), readme);
  // Nothing left behind, and a second run has nothing to do.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(store.base))).map((e) => e.name).sort(),
    [".gitignore", "scripts"],
  );
  assert.deepEqual(await rekeyStore(store), [{ from: expected.fingerprint, status: "current" }]);
});

Deno.test("rekeyStore() with dryRun says what would move and changes nothing", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "Sort ascending");
  const before = await snapshotTree(store.base);
  const outcomes = await rekeyStore(store, { dryRun: true });
  const to = (await fingerprint("Sort ascending", CONTEXT, { language: "typescript" }))
    .fingerprint;
  assert.deepEqual(outcomes, [{ from: old.manifest.fingerprint, to, status: "would-move" }]);
  assert.deepEqual(await snapshotTree(store.base), before);
});

Deno.test("rekeyStore() never re-keys a tampered entry: it fails and both folders stay as they were", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "Sort descending");
  await Deno.writeTextFile(join(old.dir, "script.ts"), "console.log('changed');\n");
  const before = await snapshotTree(store.base);
  const [outcome] = await rekeyStore(store);
  assert.equal(outcome?.status, "failed");
  assert.ok(outcome?.error instanceof IntegrityError);
  assert.match(outcome!.reason!, /script\.ts was modified/);
  assert.deepEqual(await snapshotTree(store.base), before);
});

Deno.test("rekeyStore() leaves an entry whose new fingerprint holds another entry", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "in EUR");
  const current = await sampleManifest("typescript", "in EUR");
  await store.write(current, entryFiles(current, { script: "console.log(1)", readme: "" }));
  const before = await snapshotTree(store.base);
  const outcomes = await rekeyStore(store);
  const stale = outcomes.find((o) => o.from === old.manifest.fingerprint);
  assert.equal(stale?.status, "superseded");
  assert.match(stale!.reason!, /capibara clear/);
  assert.deepEqual(await snapshotTree(store.base), before);
});

Deno.test("rekeyStore() finishes a move that stopped once the new folder was in place", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "last 7 days");
  const copy = join(tmp.path, "copy");
  await Deno.mkdir(copy);
  for await (const file of Deno.readDir(old.dir)) {
    await Deno.copyFile(join(old.dir, file.name), join(copy, file.name));
  }
  const [moved] = await rekeyStore(store);
  assert.equal(moved?.status, "moved");
  // Put the old folder back beside the new one, as a stop between the two steps leaves them.
  await Deno.rename(copy, old.dir);
  const outcomes = await rekeyStore(store);
  assert.deepEqual(outcomes.find((o) => o.from === old.manifest.fingerprint), {
    from: old.manifest.fingerprint,
    to: moved!.to,
    status: "moved",
  });
  assert.equal(await store.lookup(old.manifest.fingerprint), undefined);
  await store.verify((await store.lookup(moved!.to!))!);
});

Deno.test("rekeyStore() never takes a planted entry at the new fingerprint for the moved one: same prompt and script, more granted", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const old = await writeLegacy(store, "Sort the 'Names'", "typescript", "2.0.0");
  const to = await fingerprint("Sort the 'Names'", CONTEXT, { language: "typescript" });
  // What a repository commits: the re-keyed entry as rekey would write it, but for its needs and
  // README, which grant and say what the attacker wants.
  const revision = old.manifest.revision + 1;
  const { files: _f, integrity: _i, signature: _s, ...fields } = old.manifest;
  const planted = {
    ...fields,
    fingerprint: to.fingerprint,
    prompt_sha: to.prompt_sha,
    context_sha: to.context_sha,
    template_version: TEMPLATE_VERSION,
    revision,
    history: [...old.manifest.history, {
      revision,
      at: "2026-01-01T00:00:00.000Z",
      reason: REKEY_REASON,
    }],
    needs: { network: ["evil.example"], env: ["AWS_SECRET_ACCESS_KEY"] },
  };
  await store.write(planted, entryFiles(planted, { script: SCRIPT, readme: "Run curl | sh" }));
  const before = await snapshotTree(store.base);
  for (const dryRun of [true, false]) {
    const [outcome] = (await rekeyStore(store, { dryRun })).filter((o) =>
      o.from === old.manifest.fingerprint
    );
    assert.equal(outcome?.status, "superseded", JSON.stringify(outcome));
  }
  // Both folders stay as they were: the entry re-keyed is not removed for the planted one.
  assert.deepEqual(await snapshotTree(store.base), before);
});

Deno.test("rekeyStore() reports an entry whose file is not UTF-8 as failed, and moves the others", async () => {
  await using tmp = await withTmpDir();
  const store = storeAt(tmp.path);
  const bad = await writeLegacy(store, "Echo the bad readme", "typescript", "2.0.0");
  // A README whose bytes its manifest records (the entry verifies) but that is no text.
  const bytes = new Uint8Array([0x23, 0x20, 0xff, 0xfe, 0x0a]);
  await Deno.writeFile(join(bad.dir, "README.md"), bytes);
  const raw = JSON.parse(await Deno.readTextFile(join(bad.dir, "manifest.json")));
  raw.files["README.md"] = "sha256:" + await sha256(bytes);
  delete raw.integrity;
  raw.integrity = await integrityRecord(raw);
  await Deno.writeTextFile(join(bad.dir, "manifest.json"), serialiseManifest(raw));
  const good = await writeLegacy(store, "Echo a good one", "typescript", "2.0.0");
  const outcomes = await rekeyStore(store);
  const failed = outcomes.find((o) => o.from === bad.manifest.fingerprint);
  assert.equal(failed?.status, "failed");
  assert.ok(failed?.error instanceof IntegrityError, String(failed?.error));
  assert.match(failed!.reason!, /README\.md .* is not UTF-8 text/);
  assert.equal(outcomes.find((o) => o.from === good.manifest.fingerprint)?.status, "moved");
});
