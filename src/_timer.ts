/**
 * Timers for the hit path. Deno's global `setTimeout` loads its Node compatibility layer on first
 * use (≈ 10 ms of a cold hit); an `AbortSignal.timeout` does not. Its timer keeps the process
 * alive only while the signal has a listener, so a cancelled {@linkcode onTimeout} holds nothing.
 *
 * The `capibara` command loads the client and what it imports as one compiled file
 * (`src/cli/_runner_client.bundle.js`): after a change here, `deno task build:client` (a test
 * fails until then).
 *
 * @module
 */

/**
 * Calls `fn` once after `ms` milliseconds, unless the returned function cancels it first.
 * A pending call keeps the process alive, as `setTimeout` does; a cancelled one does not.
 */
export function onTimeout(ms: number, fn: () => void): () => void {
  const signal = AbortSignal.timeout(Number.isFinite(ms) ? Math.max(0, Math.floor(ms)) : 0);
  const fire = () => fn();
  signal.addEventListener("abort", fire, { once: true });
  return () => signal.removeEventListener("abort", fire);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => onTimeout(ms, resolve));
}
