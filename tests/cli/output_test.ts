/** Terminal-safe output: what a model or a script wrote never drives the terminal. */
import assert from "node:assert/strict";
import {
  formatValue,
  parseContext,
  printWarning,
  PROCESS_IO,
  progressReporter,
  reportError,
  terminalSafe,
} from "../../src/cli/output.ts";
import { ExecError, ValidationError } from "../../src/errors.ts";
import { assertTerminalSafe } from "../helpers/terminal.ts";

/** Every sequence a hostile string can carry, and the form it must be shown in. */
const HOSTILE: [string, string][] = [
  ["\x1b]52;c;aGVsbG8=\x07", "\\u001b]52;c;aGVsbG8=\\u0007"], // clipboard write (OSC 52)
  ["\x1b]0;owned\x07", "\\u001b]0;owned\\u0007"], // window title (OSC 0)
  [
    "\x1b]8;;https://evil.example\x1b\\x\x1b]8;;\x1b\\",
    "\\u001b]8;;https://evil.example\\u001b\\x\\u001b]8;;\\u001b\\",
  ], // link (OSC 8)
  ["\x1b[2J", "\\u001b[2J"], // clear the screen
  ["\x1b[2K\rnothing", "\\u001b[2K\\rnothing"], // erase the line, back to its start
  ["\x9b2J\x9d0;t\x9c", "\\u009b2J\\u009d0;t\\u009c"], // C1 CSI, OSC, ST
  ["a\x7fb\x00c\x08", "a\\u007fb\\u0000c\\u0008"], // DEL, NUL, backspace
  [
    "\u202eevil\u202c \u2066x\u2069 \u200f\u061c",
    "\\u202eevil\\u202c \\u2066x\\u2069 \\u200f\\u061c",
  ],
  ["a\u2028b\u2029c", "a\\u2028b\\u2029c"],
];

Deno.test("terminalSafe() escapes C0, DEL, C1 and bidirectional controls visibly", () => {
  for (const [raw, shown] of HOSTILE) {
    assert.equal(terminalSafe(raw), shown);
    assert.equal(terminalSafe(raw, { multiline: true }), shown);
  }
  // Ordinary text, accents and other scripts are left alone.
  const plain = "Café ñandú — 東京 العربية 🦫 \\u001b stays as typed";
  assert.equal(terminalSafe(plain), plain);
});

Deno.test("terminalSafe() keeps line feeds and tabs only in multi-line text", () => {
  assert.equal(terminalSafe("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  assert.equal(terminalSafe("a\nb\tc\rd", { multiline: true }), "a\nb\tc\\rd");
  // CR LF is a line break; a lone CR (which rewrites the line) is not.
  assert.equal(terminalSafe("a\r\nb\r", { multiline: true }), "a\nb\\r");
});

Deno.test("terminalSafe() of JSON text is JSON of the same value", () => {
  const value = { s: HOSTILE.map(([raw]) => raw).join("|"), [`k\x1b[2J\u202e`]: ["\x9b", 1] };
  const text = terminalSafe(JSON.stringify(value, null, 2), { multiline: true });
  assert.deepEqual(JSON.parse(text), value);
  assertTerminalSafe(text, "JSON text");
  assert.throws(() => assertTerminalSafe(JSON.stringify(value), "raw JSON"), /raw U\+009b/);
});

Deno.test("formatValue() escapes strings and structures, indenting their later lines", () => {
  assert.equal(
    formatValue("x\x1b]52;c;AA==\x07\nfake: line"),
    "x\\u001b]52;c;AA==\\u0007\n    fake: line",
  );
  assert.equal(formatValue({ a: "\x9b\u202e" }), '{\n      "a": "\\u009b\\u202e"\n    }');
  assert.equal(formatValue(3), "3");
});

Deno.test("printWarning() and reportError() indent later lines, so quoted text cannot pass for ours", () => {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    printWarning("warning: ignoring sub\nerror[Fake]: x\x1b[2J/.capibara");
    const code = reportError(
      new ExecError("Script exited with code 3\nhint: all is well\x1b]0;t\x07", {
        hint: "Read it",
      }),
      false,
    );
    assert.equal(code, 5);
  } finally {
    console.error = original;
  }
  assert.deepEqual(printed, [
    "warning: ignoring sub\n  error[Fake]: x\\u001b[2J/.capibara",
    "error[ExecError]: Script exited with code 3\n  hint: all is well\\u001b]0;t\\u0007",
    "hint: Read it",
  ]);
});

Deno.test("reportError(): an unexpected error has the shape of every other one in --json, and exits 1", () => {
  const out: string[] = [];
  const io = {
    out: (line: string) => out.push(line),
    err: (line: string) => out.push(line),
    errIsTerminal: false,
    env: {},
    cwd: "/",
    stdin: () => Promise.resolve(""),
  };
  assert.equal(reportError(new TypeError("boom"), true, io), 1);
  const printed = JSON.parse(out.join("\n"));
  assert.equal(printed.error.type, "InternalError");
  assert.equal(printed.error.exit_code, 1);
  assert.match(printed.error.message, /boom/);
  assert.match(printed.error.hint, /bug in Capibara/);
  // A typed one, for comparison: the same keys.
  out.length = 0;
  reportError(new ExecError("Script exited with code 3", { hint: "Read it" }), true, io);
  assert.deepEqual(
    Object.keys(JSON.parse(out.join("\n")).error).sort(),
    Object.keys(printed.error).sort(),
  );
});

Deno.test("progressReporter({verbose}) shows a stderr line that never ends in pieces, holding back at most 4 KiB", () => {
  const lines: string[] = [];
  const io = { ...PROCESS_IO, err: (line: string) => lines.push(line), errIsTerminal: false };
  const reporter = progressReporter({ verbose: true, io });
  const chunk = new TextEncoder().encode("x".repeat(1000));
  for (let i = 0; i < 100; i++) reporter.onStderr!(chunk);
  // 100,000 characters without a line end: shown as it comes, never read again whole.
  assert.ok(lines.length >= 24, `${lines.length} pieces shown`);
  assert.ok(lines.every((line) => line.length <= 4096 + 10));
  reporter.onStderr!(new TextEncoder().encode("y\nlast"));
  reporter.done(true);
  const shown = lines.map((line) => line.replace(/^ {2}│ /, "")).join("");
  assert.equal(shown, "x".repeat(100_000) + "y" + "last");
});

Deno.test("parseContext() reads a regular file of at most 64 MiB: /dev/zero or a huge standard input is a ValidationError, not the end of the process's memory", async () => {
  await assert.rejects(parseContext("@/dev/zero"), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.match(error.message, /not a regular file/);
    return true;
  });
  const huge = { ...PROCESS_IO, stdin: () => Promise.resolve(" ".repeat(64 * 1024 ** 2 + 1)) };
  await assert.rejects(parseContext("@-", huge), /larger than 64 MiB/);
  const small = { ...PROCESS_IO, stdin: () => Promise.resolve('{"n": 1}') };
  assert.deepEqual(await parseContext("@-", small), { n: 1 });
});

Deno.test("parseContext() refuses a number the script would get as another, and another number alike would share its script", async () => {
  for (
    const [text, shown] of [
      ['{"id": 9007199254740993}', "9007199254740993"],
      ['{"ids": [1, -12345678901234567890]}', "-12345678901234567890"],
      ['{"x": 1e400}', "1e400"],
    ]
  ) {
    await assert.rejects(parseContext(text!), (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.ok(error.message.includes(`the number ${shown}`), error.message);
      assert.match(error.hint ?? "", /as a string/);
      return true;
    });
  }
  // Exact ones stay numbers: the largest safe integer, decimals, exponents.
  assert.deepEqual(await parseContext('{"a": 9007199254740991, "b": 1.5, "c": 2e3, "d": -0}'), {
    a: 9007199254740991,
    b: 1.5,
    c: 2000,
    d: -0,
  });
});
