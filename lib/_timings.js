// Generated from src/_timings.ts by scripts/build_js.ts (sha256 e528725894bdeb7a6d282d5398b5486c5c585ed2102cfbee329e9981203c3584): do not edit; `deno task build:js` writes it.
export var recordTimings = (function (since = 0) {
    recording = true;
    origin = since;
    ends.length = 0;
});
export var step = (function (name) {
    if (recording)
        ends.push([name, performance.now()]);
});
export var timings = (function () {
    let previous = origin;
    return ends.map((([name, end]) => {
        const ms = end - previous;
        previous = end;
        return { step: name, ms };
    }));
});
export var formatTimings = (function (list) {
    const total = list.reduce(((sum, t) => sum + t.ms), 0);
    const line = ((ms, what) => `${ms.toFixed(1).padStart(8)} ms  ${what}`);
    return [
        "timings (from the runtime's start, or the request's arrival at the runner; Deno's own " +
            "start before it is not counted):",
        ...list.map(((t) => line(t.ms, t.step))),
        line(total, "total"),
    ].join("\n");
});
let recording = false;
let origin = 0;
const ends = [];
;
;
;
;
