/**
 * Writes the examples' hand-written scripts into `examples/.capibara/` as cache entries, so the
 * examples run without an API key. Run it after editing a file in `examples/manual/`:
 *
 *   deno run -A scripts/seed_examples.ts
 *
 * @module
 */
import { join } from "node:path";
import { fingerprint } from "../src/fingerprint.ts";
import { TEMPLATE_VERSION } from "../src/contract/contract.ts";
import { ENTRY_FILES, type Language, type Manifest } from "../src/schema.ts";
import { entryFiles, type ManifestInput } from "../src/store/entry.ts";
import { Store } from "../src/store/store.ts";

/** One hand-written example request. */
export interface ExampleRequest {
  source: string;
  prompt: string;
  context: Record<string, unknown>;
  language: Language;
  deps: string[];
  needs: { network: string[]; env: string[] };
  outputs: Record<string, string>;
  aliases: Record<string, string>;
  /** What the documented command grants: recorded so running it leaves the manifest unchanged. */
  allow: Manifest["allow"];
  readme: string;
}

/** The CSV summary, written in TypeScript (the demo) and in Python: one request, two languages. */
const SALES_SUMMARY: Omit<ExampleRequest, "source" | "language"> = {
  prompt: "Summarise the sales CSV: total revenue, units and revenue per region",
  context: { input: "data/sales.csv", output: "out/summary.json" },
  deps: [],
  needs: { network: [], env: [] },
  outputs: {
    artifacts: "list[str]",
    total_revenue: "float",
    units: "int",
    top_region: "str",
  },
  aliases: { revenue: "total_revenue" },
  allow: { network: [], env: [], fs: { read: ["data/sales.csv"], write: ["out"] } },
  readme:
    "Reads `input` (CSV with region, units, unit_price) and writes a JSON summary to `output`.",
};

/** The examples' requests. The demo's prompt and context are those of `deno task demo`. */
export const EXAMPLES: ExampleRequest[] = [
  {
    ...SALES_SUMMARY,
    source: "sales_summary.ts",
    language: "typescript",
    readme: SALES_SUMMARY.readme + " Runs under Deno's own permissions: no system sandbox needed.",
  },
  { ...SALES_SUMMARY, source: "sales_summary.py", language: "python" },
  {
    source: "video_concat.py",
    prompt: "Concatenate these videos with moviepy at 24fps",
    context: { inputs: ["a.mp4", "b.mp4"], output: "final.mp4" },
    language: "python",
    deps: ["moviepy==1.0.3"],
    needs: { network: [], env: [] },
    outputs: { artifacts: "list[str]", fps: "int", duration: "float", clips: "int" },
    aliases: {},
    allow: { network: [], env: [], fs: { read: [], write: ["."] } },
    readme: "Needs moviepy (installed from your package index on first run) and ffmpeg.",
  },
  {
    source: "mercadolibre_search.py",
    prompt: "Search MercadoLibre for the query and return the first result's title and price",
    context: { query: "mate cup", site: "MLA" },
    language: "python",
    deps: [],
    needs: { network: ["api.mercadolibre.com"], env: [] },
    outputs: { titulo: "str", precio: "float", moneda: "str", link: "str" },
    aliases: { titulo: "title", precio: "price", moneda: "currency" },
    allow: { network: ["api.mercadolibre.com"], env: [], fs: { read: [], write: [] } },
    readme: "Calls https://api.mercadolibre.com: needs the network.",
  },
];

/** Writes every example entry into `<examplesDir>/.capibara/`. Returns their fingerprints. */
export async function seedExamples(examplesDir: string): Promise<string[]> {
  const store = new Store(examplesDir);
  const written: string[] = [];
  for (const example of EXAMPLES) {
    const fp = await fingerprint(example.prompt, example.context, { language: example.language });
    const script = await Deno.readTextFile(join(examplesDir, "manual", example.source));
    const at = "2026-11-25T00:00:00.000Z";
    const manifest: ManifestInput = {
      fingerprint: fp.fingerprint,
      prompt_sha: fp.prompt_sha,
      context_sha: fp.context_sha,
      prompt: example.prompt,
      context: example.context,
      mode: "strict",
      language: example.language,
      entry: ENTRY_FILES[example.language],
      runtime: example.language === "python"
        ? { name: "python", version: "3.11" }
        : example.language === "typescript"
        ? { name: "deno", version: "2.9" }
        : { name: "bash", version: "5" },
      deps: example.deps,
      needs: example.needs,
      allow: example.allow,
      template_version: TEMPLATE_VERSION,
      generator: { kind: "manual" },
      created_at: at,
      outputs: example.outputs,
      aliases: example.aliases,
      revision: 1,
      history: [{ revision: 1, at, reason: "written by hand for the examples" }],
    };
    await store.write(manifest, entryFiles(manifest, { script, readme: example.readme }));
    written.push(fp.fingerprint);
  }
  return written;
}

if (import.meta.main) {
  const examples = join(import.meta.dirname!, "..", "examples");
  for (const fp of await seedExamples(examples)) console.log(fp);
}
