import assert from "node:assert/strict";
import {
  canonicalContext,
  contextShape,
  fingerprint,
  type FingerprintOptions,
  normalizePrompt,
} from "../src/fingerprint.ts";
import { ValidationError } from "../src/errors.ts";

const PROMPT = "Concatenate these videos with moviepy at 24fps";
const CONTEXT = { inputs: ["a.mp4", "b.mp4"], output: "final.mp4" };

Deno.test("fingerprint() is stable across casing, spacing, courtesy words and key order", async () => {
  const base = await fingerprint(PROMPT, CONTEXT);
  const variants = [
    await fingerprint("  concatenate THESE videos\twith moviepy at 24fps  ", CONTEXT),
    await fingerprint("Please, concatenate these videos with moviepy at 24fps!", CONTEXT),
    await fingerprint("Could you concatenate these videos with moviepy at 24fps? Thanks!", CONTEXT),
    await fingerprint(PROMPT, { output: "final.mp4", inputs: ["a.mp4", "b.mp4"] }),
    await fingerprint("Ｃoncatenate these videos with moviepy at 24fps", CONTEXT), // NFKC
  ];
  for (const v of variants) assert.equal(v.fingerprint, base.fingerprint);
});

Deno.test("fingerprint() changes with a value, the language or the template major", async () => {
  const base = await fingerprint(PROMPT, CONTEXT);
  const others = [
    await fingerprint(PROMPT, { ...CONTEXT, output: "other.mp4" }),
    await fingerprint(PROMPT, { ...CONTEXT, inputs: ["b.mp4", "a.mp4"] }),
    await fingerprint(PROMPT, CONTEXT, { language: "typescript" }),
    await fingerprint(PROMPT, CONTEXT, { templateVersion: "2.0.0" }),
    await fingerprint(PROMPT + " and add music", CONTEXT),
  ];
  for (const o of others) assert.notEqual(o.fingerprint, base.fingerprint);
  // A minor template change keeps the fingerprint.
  assert.equal(
    (await fingerprint(PROMPT, CONTEXT, { templateVersion: "1.4.2" })).fingerprint,
    base.fingerprint,
  );
});

Deno.test("fingerprint() in parametric mode counts only the context's shape", async () => {
  const a = await fingerprint(PROMPT, CONTEXT, { mode: "parametric" });
  const b = await fingerprint(PROMPT, { inputs: ["x.mp4"], output: "y.mp4" }, {
    mode: "parametric",
  });
  const c = await fingerprint(PROMPT, { inputs: "x.mp4", output: "y.mp4" }, { mode: "parametric" });
  assert.equal(a.fingerprint, b.fingerprint);
  assert.notEqual(a.fingerprint, c.fingerprint);
  assert.deepEqual(contextShape({ n: 1, s: ["a", 2], z: null }), {
    n: "number",
    s: ["number", "string"],
    z: "null",
  });
});

Deno.test("fingerprint() golden values pin the algorithm", async () => {
  // If one of these changes, every cached script in every repository misses: bump the template
  // major instead of changing the algorithm silently.
  const golden: [string, unknown, Record<string, string>, [string, string, string]][] = [
    [PROMPT, CONTEXT, {}, [
      "fp_d42845d83149203590a3e7e74aba5977",
      "p_db6a152b0aae7d762b2a3bb72b183ba8",
      "c_8fbcdfb9ff9ba0a283bf3b40e3567b50",
    ]],
    ["Summarise data.csv", {}, { language: "bash" }, [
      "fp_73f756aa44d1a6c0631d2ca0a1e5d308",
      "p_5e84f7e84e73980a7b4a6148a1bdebba",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, { mode: "parametric" }, [
      "fp_0f29da12fe5e3b947eb11308d7c5a194",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
  ];
  for (const [prompt, context, options, expected] of golden) {
    const f = await fingerprint(prompt, context, options as FingerprintOptions);
    assert.deepEqual([f.fingerprint, f.prompt_sha, f.context_sha], expected);
  }
});

Deno.test("normalizePrompt() removes courtesy words and trailing punctuation only", () => {
  assert.equal(normalizePrompt("Please summarise data.csv, thanks!"), "summarise data.csv");
  assert.equal(normalizePrompt("Kindly   SORT the list."), "sort the list");
  // Words that merely contain a courtesy word survive.
  assert.equal(normalizePrompt("Pleasure report"), "pleasure report");
  assert.equal(normalizePrompt("Thanksgiving dates"), "thanksgiving dates");
});

Deno.test("canonicalContext() is RFC 8785: sorted keys, canonical numbers", () => {
  assert.equal(canonicalContext({ b: 1.0, a: [1e3, "x"] }), '{"a":[1000,"x"],"b":1}');
});

Deno.test("fingerprint() rejects an empty prompt with a ValidationError", async () => {
  await assert.rejects(() => fingerprint("  please  ", {}), ValidationError);
});
