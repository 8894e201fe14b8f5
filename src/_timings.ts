/**
 * Where a run's time goes. The steps of a run call {@linkcode step} as each one ends; when the
 * command runs with `CAPIBARA_TIMINGS=1` it prints them on stderr ({@linkcode formatTimings}),
 * and `deno task bench` reads them. Off (the default, and always in the SDK), a step costs one
 * comparison.
 *
 * @module
 */

/** A step of a run and how long it took, in milliseconds. */
export interface Timing {
  step: string;
  ms: number;
}

let recording = false;
let origin = 0;
const ends: [string, number][] = [];

/**
 * Records steps from now on, the first one counted from `since` (default the runtime's start:
 * `performance.now()` counts from there).
 */
export function recordTimings(since = 0): void {
  recording = true;
  origin = since;
  ends.length = 0;
}

/** Marks the end of `name`, the step since the previous mark (or since the runtime started). */
export function step(name: string): void {
  if (recording) ends.push([name, performance.now()]);
}

/** The steps recorded, in order, each with its own duration. */
export function timings(): Timing[] {
  let previous = origin;
  return ends.map(([name, end]) => {
    const ms = end - previous;
    previous = end;
    return { step: name, ms };
  });
}

/** The steps as lines for a terminal: `   12.3 ms  fingerprint`, then the total. */
export function formatTimings(list: readonly Timing[]): string {
  const total = list.reduce((sum, t) => sum + t.ms, 0);
  const line = (ms: number, what: string) => `${ms.toFixed(1).padStart(8)} ms  ${what}`;
  return [
    "timings (from the runtime's start, or the request's arrival at the runner; Deno's own " +
    "start before it is not counted):",
    ...list.map((t) => line(t.ms, t.step)),
    line(total, "total"),
  ].join("\n");
}
