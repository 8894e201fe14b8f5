/**
 * Capibara's SDK: turn a sentence into a reviewed, cached, sandboxed script, and run it.
 *
 * @example Run a request
 * ```ts ignore
 * import { Capibara } from "@capibara/cli";
 *
 * const cb = new Capibara();
 * const res = await cb.run("Summarise the sales CSV", { context: { input: "data/sales.csv" } });
 * console.log(res.output, res.cached);
 * ```
 *
 * @module
 */
export { Capibara, type CapibaraOptions, type RunOptions } from "./capibara.ts";
export type { ConfigOptions, GeneratorSettings, ResolvedConfig } from "./config.ts";
export { applySelect } from "./run/result.ts";
export {
  CapibaraError,
  type CapibaraErrorOptions,
  DependencyError,
  type ErrorJson,
  type ErrorType,
  ExecError,
  EXIT_CODES,
  IntegrityError,
  NetworkError,
  PermissionError,
  TemplateError,
  ValidationError,
} from "./errors.ts";
export {
  type Fingerprint,
  fingerprint,
  type FingerprintOptions,
  normalizePrompt,
} from "./fingerprint.ts";
export type {
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  Generator,
} from "./generate/types.ts";
export { OpenAIGenerator, type OpenAIGeneratorOptions } from "./generate/openai.ts";
export type { Grants } from "./sandbox/policy.ts";
export type { Progress } from "./runtimes/types.ts";
export {
  type Allow,
  type Bundle,
  type HistoryEntry,
  type IntegrityRecord,
  type Language,
  LANGUAGES,
  type Manifest,
  type Mode,
  type Needs,
  type RunResult,
  type ScriptOutput,
} from "./types.ts";
