// Generated from src/_hash.ts by scripts/build_js.ts (sha256 766c64545e1dffb78f1918e9260582c363b96d89d34602631da87b9ce5fab9a1): do not edit; `deno task build:js` writes it.
export var sha256 = (async function (data) {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return new Uint8Array(digest).toHex();
});
export var sha256Tagged = (async function (data) {
    return "sha256:" + await sha256(data);
});
;
;
