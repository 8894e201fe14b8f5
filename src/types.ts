/**
 * The JSON shapes of the public surface, as types: the model's reply, the manifest of a cached
 * script, a script's final output line and the result of a run. Each shape that Capibara reads
 * from outside is validated by the same-named schema in schema.ts, which re-exports these types.
 *
 * Public signatures take these types from this module, not from schema.ts: there each type shares
 * its name with its schema constant, and `deno doc` would document the constant with the type.
 *
 * @module
 */

/** Languages a script can be written in, as `--lang` and the SDK's `language` option accept them. */
export const LANGUAGES = ["python", "typescript", "bash"] as const;
/** A script language: one of {@linkcode LANGUAGES}. */
export type Language = (typeof LANGUAGES)[number];
/** Fingerprint modes: `strict` (values count) or `parametric` (only the context's shape). */
export type Mode = "strict" | "parametric";

/**
 * What a script asks for beyond its defaults. A run starts only when the user granted all of it;
 * otherwise it stops with a `PermissionError` naming the flag that would grant it.
 */
export interface Needs {
  /** Hosts the script connects to, e.g. `api.example.com`. */
  network: string[];
  /** Names of environment variables the script reads, e.g. `API_TOKEN`; values are never stored. */
  env: string[];
}

/**
 * The model's reply, parsed: the script and what it declares about itself. A
 * {@linkcode Generator} returns it only once it passed the contract and static checks.
 */
export interface Bundle {
  /** The language the script is written in. */
  language: Language;
  /** The whole script file, its header block included. */
  script: string;
  /** Pinned requirements, `name==version`: PyPI packages for Python, npm for TypeScript. */
  requirements: string[];
  /** The keys of the script's `output` and their types, e.g. `{"fps": "int?"}`. */
  outputs: Record<string, string>;
  /** Other names a caller may `select` (key) for a key of `output` (value), e.g. `{"precio": "price"}`. */
  aliases: Record<string, string>;
  /** The hosts and environment variables the script needs. */
  needs: Needs;
  /** Markdown for the entry's README: what the script does, reads and writes. */
  readme: string;
}

/**
 * Permissions in terms of the workdir: the hosts, environment variable names and paths a script may
 * use. In a manifest, what the reviewer sees (the script's needs and the paths its context names);
 * in a {@linkcode RunResult}, what one run was granted.
 */
export interface Allow {
  /** Hosts the script may connect to. */
  network: string[];
  /** Names of the environment variables passed to the script. */
  env: string[];
  /** Paths, relative to the workdir, the script may read and write. */
  fs: { read: string[]; write: string[] };
}

/** One generation of a cached script, and why it happened. */
export interface HistoryEntry {
  /** The revision it produced (1 for the first generation). */
  revision: number;
  /** When it happened (ISO 8601). */
  at: string;
  /** Why it happened, e.g. `generated` or `refresh requested`. */
  reason: string;
}

/**
 * The integrity record of a manifest, computed by the store: the sha256 of the canonical manifest
 * (RFC 8785, every field but this record and `signature`) and a short digest of each of those
 * fields, so a mismatch can name the field that changed.
 */
export interface IntegrityRecord {
  /** `sha256:` + hex sha256 of the canonical manifest. */
  manifest: string;
  /** Top-level field name → first 16 hex digits of the sha256 of its canonical JSON. */
  fields: Record<string, string>;
}

/**
 * `.capibara/scripts/<fp>/manifest.json`, parsed: everything known about one cached script. The
 * store writes it once per revision; a run reads it and never rewrites it.
 */
export interface Manifest {
  /** The request's fingerprint (`fp_` + 32 hex digits), also the name of the entry's folder. */
  fingerprint: string;
  /** Digest of the normalised prompt (`p_` + 32 hex digits). */
  prompt_sha: string;
  /** Digest of the canonical context, or of its shape in parametric mode (`c_` + 32 hex digits). */
  context_sha: string;
  /** The prompt as the user wrote it. */
  prompt: string;
  /** The request's context (strict mode only). */
  context?: unknown;
  /** How the context counted in the fingerprint. */
  mode: Mode;
  /** The script's language. */
  language: Language;
  /** The script's file name in the entry's folder, e.g. `script.py`. */
  entry: string;
  /** The interpreter the script was generated for, e.g. `{"name": "python", "version": "3.11.2"}`. */
  runtime: { name: string; version: string };
  /** The pinned requirements its environment is built from (the bundle's `requirements`). */
  deps: string[];
  /** What the script asked for: hosts and environment variable names. */
  needs: Needs;
  /** The permissions the reviewer sees, written at generation (not what a later run was granted). */
  allow: Allow;
  /** Version of the prompt template that produced the script. */
  template_version: string;
  /** What wrote the script: `{kind: "openai", model}`, or `{kind: "manual"}` for a hand-written one. */
  generator: { kind: string; model?: string };
  /** When the first revision was generated (ISO 8601). */
  created_at: string;
  /** The keys of the script's `output` and their types (from the {@linkcode Bundle}). */
  outputs: Record<string, string>;
  /** Other names for keys of `output` (from the {@linkcode Bundle}). */
  aliases: Record<string, string>;
  /** sha256 of every file in the folder but the manifest: `{"script.py": "sha256:…"}`. */
  files: Record<string, string>;
  /** How many times the script was generated: 1, then one more at each regeneration. */
  revision: number;
  /** Every generation of this entry, oldest first. */
  history: HistoryEntry[];
  /** Written by the store; absent only in manifests of an older format, which are refused. */
  integrity?: IntegrityRecord;
  /** A signature over the canonical manifest, when a Core or a team lead signed the entry. */
  signature?: Signature;
}

/**
 * An Ed25519 signature over a canonical manifest (RFC 8785 of every field but `integrity` and
 * `signature`), by a Core or a team lead's key.
 */
export interface Signature {
  /** Always `"Ed25519"`. */
  alg: "Ed25519";
  /** First 16 hex digits of the sha256 of the signing key's raw 32-byte public key. */
  key_id: string;
  /** Base64 of the 64 signature bytes. */
  value: string;
}

/**
 * The last non-empty stdout line of a script, parsed: how every script reports its result (its
 * output contract). {@linkcode applySelect} picks keys from it.
 */
export interface ScriptOutput {
  /** `"error"` when the script refused or failed; the run then throws an `ExecError`. */
  status: "ok" | "error";
  /** Files the script wrote, relative to the workdir. */
  artifacts: string[];
  /** The values described by the manifest's `outputs`. */
  output: Record<string, unknown>;
  /** Any extra detail the script chose to report. */
  raw: Record<string, unknown>;
  /** Why the script failed, when `status` is `"error"`. */
  error?: string;
}

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

/**
 * The longest time limit, in seconds: the longest a timer waits (2³¹ − 1 ms); past it a timer
 * fires at once, and every run "timed out" at its start.
 */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/**
 * The longest prompt a request or a stored entry may hold, in UTF-16 code units (JavaScript's
 * `length`): a prompt says what a script should do, and the bound keeps every walk of one (its
 * normalisation, the search for near requests) short on a manifest a repository brings.
 */
export const MAX_PROMPT_LENGTH = 16_384;

/** A fingerprint's form: `fp_` and 32 lower-case hex digits (an entry's folder is named so). */
export const FINGERPRINT_FORM: RegExp = /^fp_[0-9a-f]{32}$/;

/** The most combining marks a prompt may hold in a row (Unicode's stream-safe text format). */
export const MAX_COMBINING_RUN = 30;

/**
 * What every prompt's text must match: whole Unicode characters (no lone surrogate, which hashing
 * would turn into U+FFFD, one character for all of them), and at most
 * {@linkcode MAX_COMBINING_RUN} combining marks in a row (longer runs make normalising take time
 * quadratic in them). {@linkcode PROMPT_TEXT_RULE} says it.
 */
export const PROMPT_TEXT: RegExp = new RegExp(
  `^(?![\\s\\S]*?\\p{Cs})(?![\\s\\S]*?\\p{M}{${MAX_COMBINING_RUN + 1}})`,
  "u",
);

/** What a prompt that fails {@linkcode PROMPT_TEXT} holds, in words. */
export const PROMPT_TEXT_RULE =
  `a lone surrogate, or more than ${MAX_COMBINING_RUN} combining marks in a row`;
