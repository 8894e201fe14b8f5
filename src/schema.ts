/**
 * Zod schemas: the one source of truth for every JSON shape Capibara reads or writes.
 *
 * @module
 */
import { z } from "zod";

/** Languages a script can be written in. */
export const LANGUAGES = ["python", "typescript", "bash"] as const;
/** A script language. */
export type Language = (typeof LANGUAGES)[number];
/** Fingerprint modes: `strict` (values count) or `parametric` (only the context's shape). */
export type Mode = "strict" | "parametric";

/** Script file name of each language. */
export const ENTRY_FILES: Readonly<Record<Language, string>> = {
  python: "script.py",
  typescript: "script.ts",
  bash: "script.sh",
};

const stringList = z.array(z.string());

/** What a script asks for: network hosts and environment variable names. */
export const Needs = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
});
/** What a script asks for. */
export type Needs = z.infer<typeof Needs>;

/** The model's reply (the generation contract of DESIGN.md). */
export const Bundle = z.object({
  language: z.enum(LANGUAGES),
  script: z.string().min(1),
  requirements: stringList.default([]),
  outputs: z.record(z.string(), z.string()).default({}),
  aliases: z.record(z.string(), z.string()).default({}),
  needs: Needs.default({ network: [], env: [] }),
  readme: z.string().default(""),
});
/** The model's reply, parsed. */
export type Bundle = z.infer<typeof Bundle>;

/** The effective permissions of a run: what was needed and granted. */
export const Allow = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
  fs: z.object({
    read: stringList.default([]),
    write: stringList.default([]),
  }).default({ read: [], write: [] }),
});
/** The effective permissions of a run. */
export type Allow = z.infer<typeof Allow>;

/** One regeneration of a cached script, and why it happened. */
export const HistoryEntry = z.object({
  revision: z.number().int().positive(),
  at: z.string(),
  reason: z.string(),
});
/** One regeneration of a cached script. */
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** `.capibara/scripts/<fp>/manifest.json`. */
export const Manifest = z.object({
  fingerprint: z.string().regex(/^fp_[0-9a-f]{32}$/),
  prompt_sha: z.string().regex(/^p_[0-9a-f]{32}$/),
  context_sha: z.string().regex(/^c_[0-9a-f]{32}$/),
  prompt: z.string(),
  context: z.unknown().optional(),
  mode: z.enum(["strict", "parametric"]).default("strict"),
  language: z.enum(LANGUAGES),
  entry: z.string(),
  runtime: z.object({ name: z.string(), version: z.string() }),
  deps: stringList,
  needs: Needs,
  allow: Allow,
  template_version: z.string(),
  generator: z.object({ kind: z.string(), model: z.string().optional() }),
  created_at: z.string(),
  outputs: z.record(z.string(), z.string()).default({}),
  aliases: z.record(z.string(), z.string()).default({}),
  files: z.record(z.string(), z.string()),
  revision: z.number().int().positive().default(1),
  history: z.array(HistoryEntry).default([]),
  signature: z.string().optional(),
});
/** A parsed manifest. */
export type Manifest = z.infer<typeof Manifest>;

/** The last non-empty stdout line of a script. */
export const ScriptOutput = z.object({
  status: z.enum(["ok", "error"]),
  artifacts: stringList.default([]),
  output: z.record(z.string(), z.unknown()).default({}),
  raw: z.record(z.string(), z.unknown()).default({}),
  error: z.string().optional(),
});
/** A script's structured result. */
export type ScriptOutput = z.infer<typeof ScriptOutput>;

/** What `Capibara.run()` returns. `Output` types `output` for callers who know its shape. */
export interface RunResult<Output extends Record<string, unknown> = Record<string, unknown>> {
  /** Always `"ok"`: a failed run throws instead. */
  status: "ok";
  /** Files the script wrote, relative to the workdir. */
  artifacts: string[];
  /** The script's output (after `select`, when given). */
  output: Output;
  /** The script's raw, unselected detail. */
  raw: Record<string, unknown>;
  /** The request's fingerprint. */
  fingerprint: string;
  /** True when the script came from the cache (no generation). */
  cached: boolean;
  /** Wall time of the whole run. */
  duration_ms: number;
  /** Selected keys found nowhere (their value in `output` is `null`). */
  missing?: string[];
}

/** `.capibara/config.json`: team policy and defaults, committed. */
export const ProjectConfig = z.object({
  generator: z.object({
    base_url: z.string().optional(),
    model: z.string().optional(),
  }).optional(),
  mode: z.enum(["strict", "parametric"]).optional(),
  timeout: z.number().positive().optional(),
  allow: z.object({
    network: stringList.optional(),
    env: stringList.optional(),
    read: stringList.optional(),
    write: stringList.optional(),
  }).optional(),
}).strict();
/** A parsed `.capibara/config.json`. */
export type ProjectConfig = z.infer<typeof ProjectConfig>;
