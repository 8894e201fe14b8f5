/**
 * Entries as earlier templates wrote them (their prompt rule's fingerprint), for the re-keying
 * tests.
 *
 * @module
 */
import { fingerprint } from "../../src/fingerprint.ts";
import type { Language } from "../../src/schema.ts";
import { entryFiles } from "../../src/store/entry.ts";
import type { Entry, Store } from "../../src/store/store.ts";
import { sampleManifest } from "./_fixture.ts";

/** The context of every legacy entry. */
export const CONTEXT = { input: "data.csv", n: 1 };
/** A TypeScript script that echoes `n` from its context. */
export const SCRIPT = `// --- CAPIBARA ---
// --- /CAPIBARA ---
const i = Deno.args.indexOf("--context");
const v = Deno.args[i + 1] ?? "{}";
const ctx = JSON.parse(v.startsWith("@") ? Deno.readTextFileSync(v.slice(1)) : v);
console.log(JSON.stringify({ status: "ok", artifacts: [], output: { n: ctx.n }, raw: {} }));
`;

/**
 * Writes an entry as an earlier template wrote it: its rule's fingerprint, under its version
 * (template 1.0.0, the legacy rule, unless another is given), with the README that template wrote.
 */
export async function writeLegacy(
  store: Store,
  prompt: string,
  language: Language = "typescript",
  templateVersion = "1.0.0",
): Promise<Entry> {
  const base = await sampleManifest(language, prompt);
  const fp = await fingerprint(prompt, CONTEXT, { language, templateVersion });
  const manifest = {
    ...base,
    fingerprint: fp.fingerprint,
    prompt_sha: fp.prompt_sha,
    context_sha: fp.context_sha,
    template_version: templateVersion,
  };
  return await store.write(manifest, entryFiles(manifest, { script: SCRIPT, readme: "Notes." }));
}
