/**
 * The `capibara` command as installed (README, CLI). A plain `run` takes the fast path; any other
 * command loads the full CLI through a computed specifier, which keeps it (its argument parser,
 * every command, the Core) out of the module graph Deno reads before a cache hit starts. Not
 * published: JSR flags an import it cannot analyse, so the package's entry stays `main.ts`, which
 * does the same with a literal import.
 *
 * @module
 */
import { fastRun } from "./src/cli/_fast_run.ts";

/** The full CLI, resolved only when a command other than a plain `run` needs it. */
const FULL_CLI: string = new URL("./src/cli/mod.ts", import.meta.url).href;

const code = await fastRun(Deno.args) ??
  await (await import(FULL_CLI) as typeof import("./src/cli/mod.ts")).main(Deno.args);
Deno.exit(code);
