// Generated from src/sandbox/deno_env.ts by scripts/build_js.ts (sha256 df9c7bbac09f18a0699bc259cde9b6d095d53fabfdcd9fb0b1876d9cf84f3175): do not edit; `deno task build:js` writes it.
export const DENO_RUNTIME_ENV = Object.freeze({
    DENO_WEBGPU_BACKEND: "none",
});
