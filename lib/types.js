// Generated from src/types.ts by scripts/build_js.ts (sha256 15531c411a7413c2a61f62c611b2b9f0a4278e0350255ada07f7a66845975cb8): do not edit; `deno task build:js` writes it.
export const LANGUAGES = ["python", "typescript", "bash"];
export const MAX_TIMEOUT_SECONDS = 2_147_483;
export const MAX_PROMPT_LENGTH = 16_384;
export const FINGERPRINT_FORM = /^fp_[0-9a-f]{32}$/;
export const MAX_COMBINING_RUN = 30;
export const PROMPT_TEXT = new RegExp(`^(?![\\s\\S]*?\\p{Cs})(?![\\s\\S]*?\\p{M}{${MAX_COMBINING_RUN + 1}})`, "u");
export const PROMPT_TEXT_RULE = `a lone surrogate, or more than ${MAX_COMBINING_RUN} combining marks in a row`;
