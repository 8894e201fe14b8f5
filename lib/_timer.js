// Generated from src/_timer.ts by scripts/build_js.ts (sha256 2d3a8c12874685731969ddfb773b5eaee3118d44c28f8b51084fb572dfb06ed9): do not edit; `deno task build:js` writes it.
export var onTimeout = (function (ms, fn) {
    const signal = AbortSignal.timeout(Number.isFinite(ms) ? Math.max(0, Math.floor(ms)) : 0);
    const fire = (() => fn());
    signal.addEventListener("abort", fire, { once: true });
    return (() => signal.removeEventListener("abort", fire));
});
export var sleep = (function (ms) {
    return new Promise(((resolve) => onTimeout(ms, resolve)));
});
;
;
