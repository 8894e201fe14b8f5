// Generated from src/generate/types.ts by scripts/build_js.ts (sha256 5b0f5a6b3dbeefa56356458ffe9c165df0dcbc2bf5af7c7d9ddd85526b52fffc): do not edit; `deno task build:js` writes it.
export {};
