/**
 * What a generator is: the seam between Capibara and whatever writes scripts (an
 * OpenAI-compatible server, a Core, a test double).
 *
 * @module
 */
import type { Bundle, Language } from "../types.ts";

/** What to generate. */
export interface GenerateRequest {
  /** What the user asked for. */
  prompt: string;
  /** The JSON context of the request. */
  context: unknown;
  /** Script language. */
  language: Language;
}

/** A generated bundle that passed the contract checks. */
export interface GenerateResult {
  /** The model's reply, checked. */
  bundle: Bundle;
  /** The model that wrote it. */
  model: string;
  /** How many replies it took (1 when the first was valid). */
  attempts: number;
}

/** Options of {@linkcode Generator.generate}. */
export interface GenerateOptions {
  /** Called with a short message before each step (for a spinner). */
  progress?: (message: string) => void;
  /** Cancels the generation. */
  signal?: AbortSignal;
}

/** Something that turns a request into a checked bundle (an LLM, a Core, a test double). */
export interface Generator {
  /** What kind of generator this is (`openai`, `core`, a test double's name): recorded in manifests. */
  readonly kind: string;
  /**
   * Generates and checks a bundle.
   *
   * @throws {NetworkError} when the generator cannot be reached or refuses.
   * @throws {TemplateError} when the replies keep breaking the generation contract.
   */
  generate(req: GenerateRequest, opts?: GenerateOptions): Promise<GenerateResult>;
}
