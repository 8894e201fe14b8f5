/**
 * A small real entry written through `Store.write`, and helpers to edit its manifest the way a
 * person (or an attacker) would.
 *
 * @module
 */
import { join } from "node:path";
import { TEMPLATE_VERSION } from "../../src/contract/contract.ts";
import { fingerprint } from "../../src/fingerprint.ts";
import type { Language } from "../../src/schema.ts";
import { entryFiles, type ManifestInput, serialiseManifest } from "../../src/store/entry.ts";
import { type Entry, Store } from "../../src/store/store.ts";
import { integrityRecord } from "../../src/store/integrity.ts";

/** A manifest of a small request in `language`. */
export async function sampleManifest(
  language: Language = "python",
  prompt = "Echo the context back",
): Promise<ManifestInput> {
  const context = { input: "data.csv", n: 1 };
  const fp = await fingerprint(prompt, context, { language });
  const at = "2026-11-25T00:00:00.000Z";
  return {
    fingerprint: fp.fingerprint,
    prompt_sha: fp.prompt_sha,
    context_sha: fp.context_sha,
    prompt,
    context,
    mode: "strict",
    language,
    entry: language === "python"
      ? "script.py"
      : language === "typescript"
      ? "script.ts"
      : "script.sh",
    runtime: { name: language, version: "1" },
    deps: language === "python" ? ["six==1.16.0"] : [],
    needs: { network: [], env: [] },
    allow: { network: [], env: [], fs: { read: ["data.csv"], write: [] } },
    template_version: TEMPLATE_VERSION,
    generator: { kind: "manual" },
    created_at: at,
    outputs: { n: "int", artifacts: "list[str]" },
    aliases: { count: "n" },
    revision: 1,
    history: [{ revision: 1, at, reason: "written for a test" }],
  };
}

/** Writes a sample entry into a store at `root`. */
export async function writeSample(
  root: string,
  language: Language = "python",
): Promise<{ store: Store; entry: Entry }> {
  const store = new Store(root, join(root, "locks"));
  const manifest = await sampleManifest(language);
  const entry = await store.write(
    manifest,
    entryFiles(manifest, { script: "print('hello')", readme: "A test entry." }),
  );
  return { store, entry };
}

/** The manifest as stored, as a plain JSON object. */
export async function readRaw(entry: Entry): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(entry.dir, "manifest.json")));
}

/** Writes a manifest object back in the store's own form (so only its values differ). */
export async function writeRaw(entry: Entry, raw: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(join(entry.dir, "manifest.json"), serialiseManifest(raw));
}

/**
 * Rewrites the manifest in an entry folder as a careful forger would (a repository's author): the
 * values edited, then the integrity record made anew, in the store's own form.
 */
export async function forge(
  dir: string,
  edit: (raw: Record<string, unknown>) => unknown,
): Promise<void> {
  const path = join(dir, "manifest.json");
  const raw = JSON.parse(await Deno.readTextFile(path));
  await edit(raw);
  raw.integrity = await integrityRecord(raw);
  await Deno.writeTextFile(path, serialiseManifest(raw));
}
