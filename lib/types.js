// Generated from src/types.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export const LANGUAGES = ["python", "typescript", "bash"];
export const MAX_TIMEOUT_SECONDS = 2_147_483;
export const MAX_PROMPT_LENGTH = 16_384;
export const PROMPT_TEXT = /^(?![\s\S]*?\p{Cs})(?![\s\S]*?\p{M}{31})/u;
