/**
 * The versioned generation template: system prompt, courtesy phrases, allowed imports.
 *
 * @module
 */

/** Version of the template. Its major part is part of every fingerprint. */
export const TEMPLATE_VERSION = "1.0.0";

/** Words and phrases removed from prompts before fingerprinting. Part of the template. */
export const COURTESY_PHRASES: readonly string[] = [
  "please",
  "pls",
  "plz",
  "kindly",
  "thanks",
  "thank you",
  "thx",
  "could you",
  "can you",
  "would you",
  "will you",
  "i would like you to",
  "i'd like you to",
];
