// Generated from src/sandbox/types.ts by scripts/build_js.ts (sha256 c173f59327e8e5a3584210d958c0dafb427c9a10dfc1f957f2312657018b0bea): do not edit; `deno task build:js` writes it.
export {};
