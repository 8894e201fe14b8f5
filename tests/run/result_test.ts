/**
 * The result of a run: the output contract (the last non-empty stdout line), limits, and
 * select through aliases and raw.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ExecError, ValidationError } from "../../src/errors.ts";
import type { ExecResult } from "../../src/exec.ts";
import {
  applySelect,
  OUTPUT_LIMITS,
  outputLimitProblem,
  parseScriptOutput,
  runResult,
} from "../../src/run/result.ts";
import { withTmpDir } from "../helpers/tmp.ts";

function exec(over: Partial<ExecResult> = {}): ExecResult {
  return {
    code: 0,
    signal: null,
    stdout: "",
    stderr: "",
    timedOut: false,
    outputTruncated: false,
    cancelled: false,
    durationMs: 1,
    ...over,
  };
}

const OK_LINE = JSON.stringify({ status: "ok", artifacts: [], output: { n: 1 }, raw: { r: 2 } });

function rejectsWith(fn: () => unknown, pattern: RegExp): ExecError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ExecError, `expected an ExecError, got ${caught}`);
  assert.match(caught.message, pattern);
  return caught;
}

Deno.test("parseScriptOutput() reads the last non-empty stdout line", () => {
  const parsed = parseScriptOutput(
    exec({ stdout: `log line\n{"not": "it"}\n${OK_LINE}\n\n  \n` }),
    10,
  );
  assert.deepEqual(parsed, { status: "ok", artifacts: [], output: { n: 1 }, raw: { r: 2 } });
  // Defaults fill what the line leaves out.
  assert.deepEqual(parseScriptOutput(exec({ stdout: '{"status": "ok"}' }), 10), {
    status: "ok",
    artifacts: [],
    output: {},
    raw: {},
  });
});

Deno.test("parseScriptOutput() turns a broken contract into an ExecError", () => {
  rejectsWith(() => parseScriptOutput(exec({ stdout: "" }), 10), /printed nothing on stdout/);
  rejectsWith(() => parseScriptOutput(exec({ stdout: "done!\n" }), 10), /is not JSON/);
  rejectsWith(
    () => parseScriptOutput(exec({ stdout: `${OK_LINE}\ntrailing junk` }), 10),
    /output contract/,
  );
  rejectsWith(
    () => parseScriptOutput(exec({ stdout: '{"status": "maybe"}' }), 10),
    /not a status object/,
  );
  const error = rejectsWith(
    () =>
      parseScriptOutput(
        exec({ stdout: '{"status": "error", "error": "bad row 7", "output": {"row": 7}}' }),
        10,
      ),
    /reported an error: bad row 7/,
  );
  assert.deepEqual(error.details?.output, { row: 7 });
});

Deno.test("parseScriptOutput() quotes the stderr tail and the exit code", () => {
  const error = rejectsWith(
    () => parseScriptOutput(exec({ code: 3, stderr: "disk on fire\n", stdout: OK_LINE }), 10),
    /exited with code 3[\s\S]*disk on fire/,
  );
  assert.equal(error.details?.exit_code, 3);
  rejectsWith(
    () => parseScriptOutput(exec({ code: 137, signal: "SIGKILL" }), 10),
    /was killed by SIGKILL/,
  );
});

Deno.test("parseScriptOutput() names the limit a run hit", () => {
  rejectsWith(() => parseScriptOutput(exec({ code: 137, timedOut: true }), 42), /after 42 s/);
  rejectsWith(() => parseScriptOutput(exec({ code: 137, cancelled: true }), 42), /cancelled/);
  rejectsWith(
    () =>
      parseScriptOutput(exec({ code: 137, outputTruncated: true }), 42, undefined, 2 * 1024 ** 2),
    /more than 2 MiB/,
  );
  rejectsWith(
    () => parseScriptOutput(exec({ code: 137 }), 42, { memory: 256 * 1024 ** 2 }),
    /memory limit of 256 MiB/,
  );
  rejectsWith(
    () => parseScriptOutput(exec({ code: 1 }), 42, { processes: 64 }),
    /process limit of 64/,
  );
  // A limit the script stayed under does not turn a success into a failure.
  assert.equal(parseScriptOutput(exec({ stdout: OK_LINE }), 42, { processes: 64 }).status, "ok");
});

/** A status line whose output holds `value`. */
function line(value: string): string {
  return `{"status": "ok", "artifacts": [], "output": {"v": ${value}}, "raw": {}}`;
}

Deno.test("parseScriptOutput() refuses a last line nested deeper than 64, before parsing it", () => {
  // 100,000 deep overflowed the stack of the printer: an ExecError now, whatever the nesting.
  for (const deep of [100_000, OUTPUT_LIMITS.maxDepth - 1]) {
    const value = "[".repeat(deep) + "]".repeat(deep);
    const error = rejectsWith(
      () => parseScriptOutput(exec({ stdout: line(value), stderr: "deep\n" }), 10),
      /^Script broke the output contract: its last line is nested deeper than 64 levels\ndeep$/,
    );
    assert.equal(error.exitCode, 5);
    assert.match(error.hint, /status/);
  }
  const objects = '{"a":'.repeat(65) + "1" + "}".repeat(65);
  rejectsWith(
    () => parseScriptOutput(exec({ stdout: `{"status": "ok", "raw": ${objects}}` }), 10),
    /nested deeper than 64/,
  );
  // Exactly at the limit (the status object, output, and 62 arrays): parsed.
  const fits = "[".repeat(62) + "]".repeat(62);
  let nested: unknown = parseScriptOutput(exec({ stdout: line(fits) }), 10).output.v;
  for (let i = 1; i < 62; i++) nested = (nested as unknown[])[0];
  assert.deepEqual(nested, []);
});

Deno.test("parseScriptOutput() refuses a last line with more than 100,000 keys and elements", () => {
  const many = `[${Array(OUTPUT_LIMITS.maxItems).fill(0).join(",")}]`;
  rejectsWith(
    () => parseScriptOutput(exec({ stdout: line(many) }), 10),
    /output contract: its last line holds more than 100000 keys and elements/,
  );
  const keys = `{${Array.from({ length: 100_001 }, (_, i) => `"${i.toString(36)}":0`).join(",")}}`;
  rejectsWith(() => parseScriptOutput(exec({ stdout: line(keys) }), 10), /more than 100000 keys/);
  // Commas and brackets inside strings are text, not structure.
  const text = JSON.stringify(",[{".repeat(200_000));
  assert.equal(parseScriptOutput(exec({ stdout: line(text) }), 10).output.v, ",[{".repeat(200_000));
  const fewer = `[${Array(1000).fill(0).join(",")}]`;
  assert.equal(
    (parseScriptOutput(exec({ stdout: line(fewer) }), 10).output.v as number[]).length,
    1000,
  );
});

Deno.test("parseScriptOutput() refuses a last line larger than 1 MiB", () => {
  const big = JSON.stringify("x".repeat(OUTPUT_LIMITS.maxBytes));
  rejectsWith(
    () => parseScriptOutput(exec({ stdout: line(big) }), 10),
    /output contract: its last line is larger than 1 MiB/,
  );
  // Bytes, not characters: 400,000 three-byte characters are 1.2 MB.
  assert.match(outputLimitProblem(line(JSON.stringify("€".repeat(400_000))))!, /larger than 1 MiB/);
  assert.equal(outputLimitProblem(line(JSON.stringify("€".repeat(300_000)))), undefined);
  // Earlier lines are logs: only the last one is bounded.
  const logs = "x".repeat(2 * OUTPUT_LIMITS.maxBytes);
  assert.equal(parseScriptOutput(exec({ stdout: `${logs}\n${OK_LINE}` }), 10).status, "ok");
});

Deno.test("outputLimitProblem() skips escaped quotes inside strings", () => {
  // An escaped quote does not end the string: the brackets after it stay text.
  const tricky = JSON.stringify('\\"' + "[".repeat(100) + "\\");
  assert.equal(outputLimitProblem(line(tricky)), undefined);
  assert.match(outputLimitProblem(line("[".repeat(70) + "]".repeat(70)))!, /deeper than 64/);
});

Deno.test("applySelect() looks keys up in output, through aliases, then in raw", () => {
  const result = {
    status: "ok" as const,
    artifacts: [],
    output: { titulo: "Mate", price: 1, precio: 2 },
    raw: { stock: 3, titulo: "raw title" },
  };
  const aliases = { titulo: "title", precio: "price" };
  assert.deepEqual(applySelect(result, { aliases }, ["title", "price", "stock", "colour"]), {
    output: { title: "Mate", price: 1, stock: 3, colour: null },
    missing: ["colour"],
  });
  // A key asked twice is listed once.
  assert.deepEqual(applySelect(result, { aliases }, ["colour", "colour", "title"]), {
    output: { colour: null, title: "Mate" },
    missing: ["colour"],
  });
  assert.deepEqual(applySelect(result, { aliases }, undefined), { output: result.output });
  assert.deepEqual(applySelect(result, { aliases }, []), { output: result.output });
  // A key of Object.prototype is not found on a plain object.
  assert.deepEqual(applySelect(result, { aliases: {} }, ["toString"]), {
    output: { toString: null },
    missing: ["toString"],
  });
});

Deno.test("runResult() refuses an artifact outside the writable folders", async () => {
  await using tmp = await withTmpDir();
  const workdir = await Deno.realPath(tmp.path);
  const out = join(workdir, "out");
  const line = (artifacts: string[]) =>
    exec({ stdout: JSON.stringify({ status: "ok", artifacts, output: { a: 1 }, raw: {} }) });
  const where = { workdir, writeDirs: [out], manifest: { aliases: {} } };
  const ok = await runResult({ exec: line(["out/x.json"]) }, where, { timeoutSeconds: 1 });
  assert.deepEqual(ok, { artifacts: ["out/x.json"], output: { a: 1 }, raw: {} });
  for (const artifact of ["x.json", "../x.json", "/etc/passwd", "out/../.git/config"]) {
    await assert.rejects(
      runResult({ exec: line([artifact]) }, where, { timeoutSeconds: 1 }),
      ValidationError,
      artifact,
    );
  }
});

Deno.test("parseScriptOutput() says when bubblewrap could not set the sandbox up: no regenerating", () => {
  const error = rejectsWith(
    () =>
      parseScriptOutput(
        exec({ code: 1, stderr: "bwrap: Can't mkdir /tmp/x/project: Permission denied\n" }),
        30,
      ),
    /The sandbox could not be set up: the script did not run\nbwrap: Can't mkdir/,
  );
  assert.doesNotMatch(error.hint ?? "", /--refresh/);
  // A script's own failure keeps its advice.
  const own = rejectsWith(
    () => parseScriptOutput(exec({ code: 1, stderr: "Traceback: boom\n" }), 30),
    /Script exited with code 1/,
  );
  assert.match(own.hint ?? "", /--refresh/);
});

Deno.test("parseScriptOutput(): a failed script's hint points at its stderr only when it printed some", () => {
  const hintOf = (stderr: string) => {
    try {
      parseScriptOutput(exec({ code: 2, stdout: "", stderr }), 60);
    } catch (error) {
      assert.ok(error instanceof ExecError);
      return error.hint;
    }
    throw new Error("no error");
  };
  assert.match(hintOf("Traceback: boom\n"), /stderr above/);
  assert.match(hintOf(""), /printed nothing on stderr/);
});
