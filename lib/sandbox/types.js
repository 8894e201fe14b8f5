// Generated from src/sandbox/types.ts by scripts/build_js.ts (sha256 2f7308299639d13d1fd6f59efe6c6130aba890e68dd6c4c58d97c2973b00c5d2): do not edit; `deno task build:js` writes it.
export {};
