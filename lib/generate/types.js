// Generated from src/generate/types.ts by scripts/build_js.ts (sha256 8f5c2bed4fa7c3070c640b09a4448e36e16ef821bd36815ce0af4f6d45a9b5ec): do not edit; `deno task build:js` writes it.
export {};
