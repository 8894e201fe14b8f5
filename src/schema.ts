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

const stringList: z.ZodType<string[]> = z.array(z.string());
const stringMap: z.ZodType<Record<string, string>> = z.record(z.string(), z.string());

/** What a script asks for: network hosts and environment variable names. */
export interface Needs {
  network: string[];
  env: string[];
}
/** Schema of {@linkcode Needs}. */
export const Needs: z.ZodType<Needs> = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
});

/** The model's reply (the generation contract of DESIGN.md), parsed. */
export interface Bundle {
  language: Language;
  script: string;
  requirements: string[];
  outputs: Record<string, string>;
  aliases: Record<string, string>;
  needs: Needs;
  readme: string;
}
/** Schema of {@linkcode Bundle}. */
export const Bundle: z.ZodType<Bundle> = z.object({
  language: z.enum(LANGUAGES),
  script: z.string().min(1),
  requirements: stringList.default([]),
  outputs: stringMap.default({}),
  aliases: stringMap.default({}),
  needs: Needs.default({ network: [], env: [] }),
  readme: z.string().default(""),
});

/** The effective permissions of a run: what was needed and granted. */
export interface Allow {
  network: string[];
  env: string[];
  fs: { read: string[]; write: string[] };
}
/** Schema of {@linkcode Allow}. */
export const Allow: z.ZodType<Allow> = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
  fs: z.object({
    read: stringList.default([]),
    write: stringList.default([]),
  }).default({ read: [], write: [] }),
});
/** One regeneration of a cached script, and why it happened. */
export interface HistoryEntry {
  revision: number;
  at: string;
  reason: string;
}
/** Schema of {@linkcode HistoryEntry}. */
export const HistoryEntry: z.ZodType<HistoryEntry> = z.object({
  revision: z.number().int().positive(),
  at: z.string(),
  reason: z.string(),
});

/**
 * The integrity record of a manifest (see src/store/integrity.ts): the sha256 of the canonical
 * manifest (RFC 8785, every field but this record and `signature`) and a short digest of each of
 * those fields, so a mismatch can name the field that changed.
 */
export interface IntegrityRecord {
  /** `sha256:` + hex sha256 of the canonical manifest. */
  manifest: string;
  /** Top-level field name → first 16 hex digits of the sha256 of its canonical JSON. */
  fields: Record<string, string>;
}
/** Schema of {@linkcode IntegrityRecord}. */
export const IntegrityRecord: z.ZodType<IntegrityRecord> = z.object({
  manifest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  fields: z.record(z.string(), z.string().regex(/^[0-9a-f]{16}$/)),
}).strict();

/** `.capibara/scripts/<fp>/manifest.json`, parsed. */
export interface Manifest {
  fingerprint: string;
  prompt_sha: string;
  context_sha: string;
  prompt: string;
  /** The request's context (strict mode only). */
  context?: unknown;
  mode: Mode;
  language: Language;
  entry: string;
  runtime: { name: string; version: string };
  deps: string[];
  needs: Needs;
  allow: Allow;
  template_version: string;
  generator: { kind: string; model?: string };
  created_at: string;
  outputs: Record<string, string>;
  aliases: Record<string, string>;
  /** sha256 of every file in the folder but the manifest: `{"script.py": "sha256:…"}`. */
  files: Record<string, string>;
  revision: number;
  history: HistoryEntry[];
  /** Written by the store; absent only in manifests of an older format, which are refused. */
  integrity?: IntegrityRecord;
  signature?: string;
}
const manifestObject = z.object({
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
  outputs: stringMap.default({}),
  aliases: stringMap.default({}),
  files: stringMap,
  revision: z.number().int().positive().default(1),
  history: z.array(HistoryEntry).default([]),
  integrity: IntegrityRecord.optional(),
  signature: z.string().optional(),
});
/** Schema of {@linkcode Manifest}. */
export const Manifest: z.ZodType<Manifest> = manifestObject;
/** Every top-level field of a manifest, in the order the store writes them. */
export const MANIFEST_FIELDS: readonly (keyof Manifest)[] = Object.keys(
  manifestObject.shape,
) as (keyof Manifest)[];
/** The last non-empty stdout line of a script, parsed. */
export interface ScriptOutput {
  status: "ok" | "error";
  artifacts: string[];
  output: Record<string, unknown>;
  raw: Record<string, unknown>;
  error?: string;
}
/** Schema of {@linkcode ScriptOutput}. */
export const ScriptOutput: z.ZodType<ScriptOutput> = z.object({
  status: z.enum(["ok", "error"]),
  artifacts: stringList.default([]),
  output: z.record(z.string(), z.unknown()).default({}),
  raw: z.record(z.string(), z.unknown()).default({}),
  error: z.string().optional(),
});
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
  /**
   * What this run was granted: the script's needs met by the grants, and the paths it could read
   * and write (relative to the workdir). The entry's manifest is never rewritten with it.
   */
  allow: Allow;
}

/** `.capibara/config.json`: team policy and defaults, committed. */
export interface ProjectConfig {
  generator?: { base_url?: string; model?: string };
  mode?: Mode;
  timeout?: number;
  allow?: { network?: string[]; env?: string[]; read?: string[]; write?: string[] };
  /**
   * How dependencies are installed. `source_builds: true` lets pip build packages that publish
   * no wheel (their build scripts then run inside the sandbox); default: wheels only.
   */
  install?: { source_builds?: boolean };
}
/** Schema of {@linkcode ProjectConfig}. */
export const ProjectConfig: z.ZodType<ProjectConfig> = z.object({
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
  install: z.object({ source_builds: z.boolean().optional() }).strict().optional(),
}).strict();
