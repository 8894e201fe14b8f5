// Generated from src/_timer.ts by scripts/build_js.ts (sha256 f38a9721dcc99ad2e312b9c4fe2634c85a69d3f5a9714c82d8c8c7143db12681): do not edit; `deno task build:js` writes it.
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
