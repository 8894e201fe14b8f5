// Generated from src/sandbox/types.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export {};
