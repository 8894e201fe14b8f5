// Generated from src/types.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export const LANGUAGES = ["python", "typescript", "bash"];
