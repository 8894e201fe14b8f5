/**
 * The `capibara` command as installed (README, CLI). A `run` goes to the user's resident runner
 * when one listens (`capibara runner`; one is started on demand, see `_runner_start.ts`); else a
 * plain `run` takes the fast path; any other command loads the full CLI through a computed
 * specifier, which keeps it (its argument parser, every command, the Core) out of the module graph
 * Deno reads before a cache hit starts. The modules come from `lib/`, the JavaScript of `src/`
 * (see scripts/build_js.ts): Deno loads them without checking a transpiled copy of each. Not
 * published: JSR flags an import it cannot analyse, so the package's entry stays `main.ts`, which
 * does the same with literal imports of the TypeScript.
 *
 * @module
 */
// The client as one compiled file (see scripts/build_client.ts), with the source's types.
// @ts-types="./src/cli/_runner_client.ts"
import { viaRunner } from "./src/cli/_runner_client.bundle.js";

/** The cache-hit path, resolved only when no resident runner (capibara runner) takes the run. */
const FAST_RUN: string = new URL("./lib/cli/_fast_run.js", import.meta.url).href;
/** The full CLI, resolved only when a command other than a plain `run` needs it. */
const FULL_CLI: string = new URL("./lib/cli/mod.js", import.meta.url).href;

/** A run's sandbox started from its command's last plan (a run of this process's own only). */
const REMEMBERED: string = new URL("./lib/run/remembered.js", import.meta.url).href;

// Nothing the command makes is writable by its group or others, whatever the umask it was started
// with (a folder of a run's that others may change is never lent to a root run's sandbox).
const mask = Deno.umask();
if ((mask & 0o022) !== 0o022) Deno.umask(mask | 0o022);
const runner = await viaRunner(Deno.args);
if (typeof runner !== "number" && Deno.args[0] === "run") {
  await (await import(REMEMBERED) as typeof import("./src/run/remembered.ts")).startRemembered(
    Deno.args,
    Deno.cwd(),
  );
}
const code = typeof runner === "number" ? runner : (
  await (await import(FAST_RUN) as typeof import("./src/cli/_fast_run.ts")).fastRun(Deno.args, {
    startRunner: runner === "absent",
  }) ??
    await (await import(FULL_CLI) as typeof import("./src/cli/mod.ts")).main(Deno.args)
);
Deno.exit(code);
