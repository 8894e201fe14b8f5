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
 * @example Catch a failure by its kind
 * ```ts ignore
 * import { Capibara, CapibaraError, PermissionError } from "@capibara/cli";
 *
 * try {
 *   await new Capibara().run("Fetch today's exchange rates", { allow: { network: [] } });
 * } catch (error) {
 *   if (error instanceof PermissionError) console.error("Not granted:", error.message);
 *   else if (error instanceof CapibaraError) console.error(error.toJSON());
 *   else throw error;
 * }
 * ```
 *
 * @example Use the team's Core on a miss (no LLM is called from here)
 * ```ts ignore
 * import { Capibara } from "@capibara/cli";
 *
 * // Also from CAPIBARA_CORE_URL and CAPIBARA_CORE_TOKEN, or core.url in a trusted config.json.
 * const cb = new Capibara({
 *   core: { url: "https://core.example.com", token: Deno.env.get("CORE_TOKEN") },
 * });
 * await cb.run("Summarise the sales CSV", { context: { input: "data/sales.csv" } });
 * ```
 *
 * @example Tell whether two requests share a cached script
 * ```ts
 * import { fingerprint } from "@capibara/cli";
 *
 * // Case, spacing, courtesy words and the context's key order do not count.
 * const a = await fingerprint("Summarise data.csv, please", { input: "data.csv", top: 5 });
 * const b = await fingerprint("summarise  DATA.csv", { top: 5, input: "data.csv" });
 * if (a.fingerprint !== b.fingerprint) throw new Error("expected one fingerprint");
 * ```
 *
 * @module
 */
export { Capibara, type CapibaraOptions, type RunOptions } from "./capibara.ts";
export type {
  ConfigOptions,
  CoreConnection,
  CoreSettings,
  GeneratorSettings,
  ResolvedConfig,
} from "./config.ts";
export type { StagingLimits } from "./sandbox/copy_out.ts";
export type { ProjectTrust, TrustRequest, TrustSource } from "./config_trust.ts";
export type { SignaturePolicy } from "./store/trust.ts";
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
  type Signature,
} from "./types.ts";
