// Generated from src/_hash.ts by scripts/build_js.ts (sha256 334bfd8cb47798861681db141dd10d5c9e0127daf78f3e1d858e804b0db8fb17): do not edit; `deno task build:js` writes it.
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
