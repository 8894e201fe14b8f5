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
  // A `run` goes to the resident runner when one listens; else a plain `run` skips the argument
  // parser library; anything else goes to the full CLI.
  // Nothing the command makes is writable by its group or others, whatever its umask was.
  const mask = Deno.umask();
  if ((mask & 0o022) !== 0o022) Deno.umask(mask | 0o022);
  const { viaRunner } = await import("./src/cli/_runner_client.ts");
  const runner = await viaRunner(Deno.args);
  // A run of this process's own: its sandbox starts from its command's last plan meanwhile.
  if (typeof runner !== "number" && Deno.args[0] === "run") {
    const { startRemembered } = await import("./src/run/remembered.ts");
    await startRemembered(Deno.args, Deno.cwd());
  }
  const { fastRun } = await import("./src/cli/_fast_run.ts");
  const code = typeof runner === "number"
    ? runner
    : await fastRun(Deno.args, { startRunner: runner === "absent" }) ??
      await (await import("./src/cli/mod.ts")).main(Deno.args);
  Deno.exit(code);
}
