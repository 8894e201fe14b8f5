// Generated from src/sandbox/types.ts by scripts/build_js.ts (sha256 0e6ca7f02c47f02349e2db2fbc20b24e75f716e4f3b3e6968ffae97987c45f1e): do not edit; `deno task build:js` writes it.
export {};
