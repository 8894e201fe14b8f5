/**
 * Capibara: turn a sentence into a reviewed, cached, sandboxed script.
 *
 * Import it for the SDK (`new Capibara().run(prompt, { context })`), or run it for the CLI:
 * `deno run -A main.ts run "Summarise data.csv" --context '{"input": "data.csv"}'`.
 *
 * @module
 */
export * from "./src/mod.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/mod.ts");
  Deno.exit(await main(Deno.args));
}
