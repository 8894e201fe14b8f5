// Generated from src/sandbox/deno_env.ts by scripts/build_js.ts (sha256 6fde65c382634a849d925af836c0abfcf344ac06bbae8bb9179f07ace6d9efee): do not edit; `deno task build:js` writes it.
export const DENO_RUNTIME_ENV = Object.freeze({
    DENO_WEBGPU_BACKEND: "none",
});
