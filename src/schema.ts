/**
 * Schemas: how every JSON shape Capibara reads or writes is checked (with `_shape.ts`, which has
 * zod's interface and verdicts but loads in well under a millisecond: a cache hit reads a
 * manifest and a script's output, and must not pay ~30 ms for zod). Each schema constant shares
 * its name with its type, so `Manifest.parse(json)` returns a `Manifest`; the types of the public
 * surface are declared in types.ts and aliased here, and each schema is typed against its type.
 *
 * @module
 */
import * as z from "./_shape.ts";
import {
  FINGERPRINT_FORM,
  type Language,
  LANGUAGES,
  MAX_PROMPT_LENGTH,
  type Mode,
  PROMPT_TEXT,
  PROMPT_TEXT_RULE,
} from "./types.ts";
import type * as types from "./types.ts";

export { type Language, LANGUAGES, type Mode, type RunResult } from "./types.ts";

/** Script file name of each language. */
export const ENTRY_FILES: Readonly<Record<Language, string>> = {
  python: "script.py",
  typescript: "script.ts",
  bash: "script.sh",
};

const stringList: z.Shape<string[]> = z.array(z.string());
const stringMap: z.Shape<Record<string, string>> = z.record(z.string());

/** What a script asks for: network hosts and environment variable names. */
export type Needs = types.Needs;
/** Schema of {@linkcode Needs}. */
export const Needs: z.Shape<Needs> = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
});

/** The model's reply (the generation contract of DESIGN.md), parsed. */
export type Bundle = types.Bundle;
/** Schema of {@linkcode Bundle}. */
export const Bundle: z.Shape<Bundle> = z.object({
  language: z.enumOf(LANGUAGES),
  script: z.string().min(1),
  requirements: stringList.default([]),
  outputs: stringMap.default({}),
  aliases: stringMap.default({}),
  needs: Needs.default({ network: [], env: [] }),
  readme: z.string().default(""),
});

/** The effective permissions of a run: what was needed and granted. */
export type Allow = types.Allow;
/** Schema of {@linkcode Allow}. */
export const Allow: z.Shape<Allow> = z.object({
  network: stringList.default([]),
  env: stringList.default([]),
  fs: z.object({
    read: stringList.default([]),
    write: stringList.default([]),
  }).default({ read: [], write: [] }),
});
/** One generation of a cached script, and why it happened. */
export type HistoryEntry = types.HistoryEntry;
/** Schema of {@linkcode HistoryEntry}. */
export const HistoryEntry: z.Shape<HistoryEntry> = z.object({
  revision: z.number().int().positive(),
  at: z.string(),
  reason: z.string(),
});

/** The integrity record of a manifest (see src/store/integrity.ts). */
export type IntegrityRecord = types.IntegrityRecord;
/** Schema of {@linkcode IntegrityRecord}. */
export const IntegrityRecord: z.Shape<IntegrityRecord> = z.object({
  manifest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  fields: z.record(z.string().regex(/^[0-9a-f]{16}$/)),
}).strict();

/** `.capibara/scripts/<fp>/manifest.json`, parsed. */
export type Manifest = types.Manifest;
const manifestObject = z.object({
  fingerprint: z.string().regex(FINGERPRINT_FORM),
  prompt_sha: z.string().regex(/^p_[0-9a-f]{32}$/),
  context_sha: z.string().regex(/^c_[0-9a-f]{32}$/),
  prompt: z.string().max(MAX_PROMPT_LENGTH).regex(
    PROMPT_TEXT,
    `Invalid prompt: ${PROMPT_TEXT_RULE}`,
  ),
  context: z.unknown().optional(),
  mode: z.enumOf(["strict", "parametric"]).default("strict"),
  language: z.enumOf(LANGUAGES),
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
  signature: z.object({
    alg: z.literal("Ed25519"),
    key_id: z.string().regex(/^[0-9a-f]{16}$/),
    value: z.string(),
  }).strict().optional(),
});
/** Schema of {@linkcode Manifest}. */
export const Manifest: z.Shape<Manifest> = manifestObject;
/** Every top-level field of a manifest, in the order the store writes them. */
export const MANIFEST_FIELDS: readonly (keyof Manifest)[] = Object.keys(
  manifestObject.shape,
) as (keyof Manifest)[];
/** The last non-empty stdout line of a script, parsed. */
export type ScriptOutput = types.ScriptOutput;
/** Schema of {@linkcode ScriptOutput}. */
export const ScriptOutput: z.Shape<ScriptOutput> = z.object({
  status: z.enumOf(["ok", "error"]),
  artifacts: stringList.default([]),
  output: z.record(z.unknown()).default({}),
  raw: z.record(z.unknown()).default({}),
  error: z.string().optional(),
});

/** `.capibara/config.json`: team policy and defaults, committed. */
export interface ProjectConfig {
  generator?: {
    base_url?: string;
    model?: string;
    /** Seconds one request to the generator may take (default 120). */
    timeout?: number;
  };
  mode?: Mode;
  timeout?: number;
  allow?: {
    network?: string[];
    /** Exact hosts that may be special addresses (loopback, private, …): `--allow-private-net`. */
    private_network?: string[];
    env?: string[];
    read?: string[];
    write?: string[];
  };
  /**
   * How dependencies are installed. `source_builds: true` lets pip build packages that publish
   * no wheel (their build scripts then run inside the sandbox); default: wheels only.
   */
  install?: { source_builds?: boolean };
  /** MiB a script may write to its outputs and temp dir (default 1024; `--max-output`). */
  max_output_mib?: number;
  /**
   * Signatures: the public keys the team trusts (key id → base64 public key, as `capibara keygen`
   * prints them) and whether an entry must be signed by one of them, or accepted on this machine,
   * to run. It only narrows what runs, so it applies without `capibara trust`.
   */
  trust?: { keys?: Record<string, string>; require_signature?: boolean };
  /**
   * The team's Core (`capibara serve`): a miss asks it instead of an LLM. Its token comes from
   * `CAPIBARA_CORE_TOKEN` only, never from this file.
   */
  core?: { url?: string };
}
/** Schema of {@linkcode ProjectConfig}. */
export const ProjectConfig: z.Shape<ProjectConfig> = z.object({
  generator: z.object({
    base_url: z.string().optional(),
    model: z.string().optional(),
    timeout: z.number().positive().optional(),
  }).optional(),
  mode: z.enumOf(["strict", "parametric"]).optional(),
  timeout: z.number().positive().optional(),
  allow: z.object({
    network: stringList.optional(),
    private_network: stringList.optional(),
    env: stringList.optional(),
    read: stringList.optional(),
    write: stringList.optional(),
  }).optional(),
  install: z.object({ source_builds: z.boolean().optional() }).strict().optional(),
  max_output_mib: z.number().positive().optional(),
  trust: z.object({
    keys: z.record(z.string().regex(/^[0-9a-f]{16}$/, "a key id is 16 hex digits"), z.string())
      .optional(),
    require_signature: z.boolean().optional(),
  }).strict().optional(),
  core: z.object({ url: z.string().optional() }).strict().optional(),
}).strict();
