/** The fast `run` parser: the same options as the full parser, the same results, or it declines. */
import assert from "node:assert/strict";
import { parseRunArgs, RUN_OPTIONS, type RunCommandOptions } from "../../src/cli/_fast_run.ts";
import { runCommand } from "../../src/cli/run.ts";

/** What the full parser makes of `run <args…>`, or the error it reports. */
async function fullParse(
  args: string[],
): Promise<{ prompt: string; options: Record<string, unknown> } | { error: string }> {
  let parsed: { prompt: string; options: Record<string, unknown> } | undefined;
  const command = runCommand(() => {})
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .action((prompt, options) => {
      parsed = { prompt, options: { ...options } };
    });
  try {
    await command.parseAsync(args, { from: "user" });
  } catch (error) {
    return { error: (error as Error).message };
  }
  return parsed!;
}

Deno.test("RUN_OPTIONS matches every option of the run command", () => {
  const command = runCommand(() => {});
  const full = command.options.map((option) => ({
    flags: [option.short, option.long].filter((f): f is string => f !== undefined),
    key: option.attributeName(),
    kind: option.negate
      ? "negate"
      : !option.required
      ? "flag"
      : Array.isArray(option.defaultValue)
      ? "list"
      : "value",
  }));
  const fast = RUN_OPTIONS.map((option) => ({ ...option, flags: [...option.flags] }));
  const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
  assert.deepEqual(fast.sort(byKey), full.sort(byKey));
});

const HANDLED: string[][] = [
  ["Summarise the CSV"],
  ["Summarise", "--context", '{"input": "a.csv"}', "--json"],
  ["-c", "{}", "Summarise", "-s", "total, count", "--refresh"],
  ["Summarise", "--timeout=60", "--lang", "typescript", "--no-sandbox", "--memory", "512"],
  ["Summarise", "--allow-net", "a.example,b.example", "--allow-net=c.example", "--allow-env", "X"],
  ["Summarise", "--allow-read", "/data", "--allow-write", "out", "--max-output", "4"],
  ["Summarise", "--allow-private-net", "127.0.0.1:5432", "--root", ".", "--lang", "bash"],
  ["Summarise", "--root", "a", "--root", "b", "--context", "{}", "--context", '{"x": 1}'],
];

for (const args of HANDLED) {
  Deno.test(`parseRunArgs() gives what the full parser gives: ${args.join(" ")}`, async () => {
    const fast = parseRunArgs(args);
    assert.ok(fast, "the fast parser declined");
    const full = await fullParse(args);
    assert.ok(!("error" in full), `the full parser failed: ${"error" in full && full.error}`);
    assert.equal(fast.prompt, full.prompt);
    assert.deepEqual({ ...fast.options } as Record<string, unknown>, full.options);
  });
}

const DECLINED: string[][] = [
  [],
  ["--help"],
  ["Summarise", "-h"],
  ["Summarise", "--unknown"],
  ["Summarise", "--lang", "cobol"],
  ["Summarise", "--context"],
  ["Summarise", "--timeout", "-5"],
  ["Summarise", "-c{}"],
  ["Summarise", "--json=yes"],
  ["Summarise", "--", "--json"],
  ["Summarise", "extra"],
  ["--json"],
];

for (const args of DECLINED) {
  Deno.test(`parseRunArgs() declines what it does not handle: ${args.join(" ")}`, () => {
    assert.equal(parseRunArgs(args), undefined);
  });
}

Deno.test("parseRunArgs() defaults match the full parser's", async () => {
  const fast = parseRunArgs(["p"]);
  const full = await fullParse(["p"]);
  const expected: RunCommandOptions = {
    lang: "python",
    allowNet: [],
    allowPrivateNet: [],
    allowRead: [],
    allowWrite: [],
    allowEnv: [],
    sandbox: true,
  };
  assert.deepEqual(fast?.options, expected);
  assert.deepEqual(full, { prompt: "p", options: expected });
});

Deno.test("parseRunArgs() leaves an empty option value to the full parser, which refuses it", () => {
  for (
    const args of [["x", "--allow-net", ""], ["x", "--allow-read=,"], ["x", "-m", " "], [
      "x",
      "--root=",
    ]]
  ) {
    assert.equal(parseRunArgs(args), undefined, JSON.stringify(args));
  }
  assert.deepEqual(parseRunArgs(["x", "--allow-net", "a.example, b.example"])?.options.allowNet, [
    "a.example",
    "b.example",
  ]);
});
