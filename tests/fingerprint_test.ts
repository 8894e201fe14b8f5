import assert from "node:assert/strict";
import canonicalize from "npm:canonicalize@^5.1.0";
import {
  canonicalContext,
  contextShape,
  fingerprint,
  type FingerprintOptions,
  normalizePrompt,
  normalizePromptLegacyV1,
  normalizePromptV2,
  normalizePromptV3,
} from "../src/fingerprint.ts";
import { COURTESY_PHRASES, TEMPLATE_VERSION } from "../src/contract/contract.ts";
import { MAX_PROMPT_LENGTH, PROMPT_TEXT } from "../src/types.ts";
import { Manifest } from "../src/schema.ts";
import { sampleManifest } from "./store/_fixture.ts";
import { pick, seededRandom } from "./helpers/random.ts";
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
    await fingerprint(PROMPT, CONTEXT, { templateVersion: "5.0.0" }),
    await fingerprint(PROMPT, CONTEXT, { templateVersion: "3.0.0" }),
    await fingerprint(PROMPT, CONTEXT, { templateVersion: "2.0.0" }),
    await fingerprint(PROMPT, CONTEXT, { templateVersion: "1.0.0" }),
    await fingerprint(PROMPT + " and add music", CONTEXT),
  ];
  for (const o of others) assert.notEqual(o.fingerprint, base.fingerprint);
  // A minor template change keeps the fingerprint.
  assert.equal(
    (await fingerprint(PROMPT, CONTEXT, { templateVersion: "4.4.2" })).fingerprint,
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

Deno.test("fingerprint() never gives a strict context that spells a shape a parametric request's key", async () => {
  const values = { input: "datos.csv", n: 1.5, tags: ["a", 2], none: null };
  const shape = contextShape(values) as Record<string, unknown>;
  assert.deepEqual(shape, {
    input: "string",
    n: "number",
    tags: ["number", "string"],
    none: "null",
  });
  for (const language of ["python", "typescript", "bash"] as const) {
    const parametric = await fingerprint(PROMPT, values, { language, mode: "parametric" });
    const strict = await fingerprint(PROMPT, shape, { language, mode: "strict" });
    // The same context text and prompt: only the mode tells the two requests apart.
    assert.equal(strict.context_normalized, parametric.context_normalized);
    assert.equal(strict.context_sha, parametric.context_sha);
    assert.notEqual(strict.fingerprint, parametric.fingerprint, language);
    // Before the mode was hashed they shared a key (the one a miss still looks under).
    const unhashed = await fingerprint(PROMPT, values, {
      language,
      mode: "parametric",
      modeUnhashed: true,
    });
    assert.equal(unhashed.fingerprint, strict.fingerprint);
    // modeUnhashed changes nothing for a strict request.
    assert.equal(
      (await fingerprint(PROMPT, shape, { language, modeUnhashed: true })).fingerprint,
      strict.fingerprint,
    );
  }
});

Deno.test("fingerprint() golden values pin the algorithm", async () => {
  // If one of these changes, every cached script in every repository misses: bump the template
  // major instead of changing the algorithm silently. The values were computed outside Capibara,
  // with Python's hashlib and unicodedata over each rule as README states it (template 3: quoted
  // text kept, NFKC but for superscripts, subscripts and other numbers, lower case, whitespace
  // collapsed, courtesy phrases and final punctuation at the ends only; the context as sorted,
  // compact JSON). Template 4 keeps final punctuation that does not end a sentence (after a digit
  // or a symbol, or in a word of a pattern) and "thanks"/"thank you" at the start before a space.
  assert.equal(TEMPLATE_VERSION, "4.0.0");
  const golden: [string, unknown, FingerprintOptions, [string, string, string]][] = [
    [PROMPT, CONTEXT, {}, [
      "fp_22370c7642c9bec499ddc03217533cab",
      "p_db6a152b0aae7d762b2a3bb72b183ba8",
      "c_8fbcdfb9ff9ba0a283bf3b40e3567b50",
    ]],
    ["Summarise data.csv", {}, { language: "bash" }, [
      "fp_5d6b5f26e464078653f7e94373241865",
      "p_5e84f7e84e73980a7b4a6148a1bdebba",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, { mode: "parametric" }, [
      "fp_b390f30a7e81cc068b904a3467bfdc58",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
    // The "!" after a symbol is kept now, the courtesy phrase before a comma goes.
    ["Please, increase prices by 10%!", {}, {}, [
      "fp_6aabba4569dc8170c532ba68b7205ee9",
      "p_37867974bc693580de960fc86c3afbb3",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Send the thanks email, thank you.", { to: "ana@example.com" }, { language: "typescript" }, [
      "fp_6b46a2cf1a1bca31e487b3b7295f2bb3",
      "p_6ffc7b1599d500b5137c73fe6c15ae9e",
      "c_7013b9d9176a849613fa0957ee48f921",
    ]],
    ["Divide each value by 3!", {}, {}, [
      "fp_40d651861051294b4402da9ca873d254",
      "p_a2439b277ad7fcb821a28b2cb9d19b3a",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Thank you notes per month", {}, {}, [
      "fp_9cfd0962de945e48e8233512cfc717ee",
      "p_8c540e576d2ac286f48ba4c963dfc385",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Set the status to 'ACTIVE', please.", {}, {}, [
      "fp_04ca157df24b031018f922cba1a03671",
      "p_280d28cde6968a38d0f66b5594c3514a",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    // Template 3 keeps its own rule and its own values, so its entries still verify.
    [PROMPT, CONTEXT, { templateVersion: "3.0.0" }, [
      "fp_ccc54f817f6f9949da6c4d7e229a1e14",
      "p_db6a152b0aae7d762b2a3bb72b183ba8",
      "c_8fbcdfb9ff9ba0a283bf3b40e3567b50",
    ]],
    ["Summarise data.csv", {}, { language: "bash", templateVersion: "3.0.0" }, [
      "fp_70905445dc7b5ddf761ab8e9340a2846",
      "p_5e84f7e84e73980a7b4a6148a1bdebba",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    // A parametric request hashes its mode after the four fields.
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, {
      mode: "parametric",
      templateVersion: "3.0.0",
    }, [
      "fp_09e4c242092dcd7a224627182786f415",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
    ["Please, increase prices by 10%!", {}, { templateVersion: "3.0.0" }, [
      "fp_4b80a8fdbec139a02e2a89be49a1f48d",
      "p_c73a95aa8fb49844ba2ff8581c1fbfa8",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Send the thanks email, thank you.", { to: "ana@example.com" }, {
      language: "typescript",
      templateVersion: "3.0.0",
    }, [
      "fp_86367bb48b6b869dbb6e359792deb6a5",
      "p_6ffc7b1599d500b5137c73fe6c15ae9e",
      "c_7013b9d9176a849613fa0957ee48f921",
    ]],
    // What template 3 keeps that template 2 folded: a superscript, quoted case and spacing.
    ["Increase prices by 10²%", {}, { templateVersion: "3.0.0" }, [
      "fp_39fbd09d1bb9ed1f25d8a43fd70a4f20",
      "p_0ab4e24e9f9469da4f88c6eb04d63106",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Set the status to 'ACTIVE', please.", {}, { templateVersion: "3.0.0" }, [
      "fp_6a6373e0ba8a1850f864e1d9acf6b8e3",
      "p_280d28cde6968a38d0f66b5594c3514a",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Split each line on \u201c ,  \u201d and keep 'Ｘ'", {}, { templateVersion: "3.0.0" }, [
      "fp_84d8e9c7bc93fbfc84d06ed377fbac16",
      "p_6890b5e03fe54c48a2ecfcb2d61799f6",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    // Quotation marks paired by the first that opens and the last that closes, a letterlike
    // symbol kept, a ligature folded, a full stop after a space kept.
    ["Since '98, replace '<B>' with '<b>' in the \u2116 column of \ufb01le.csv .", {}, {
      templateVersion: "3.0.0",
    }, [
      "fp_8b507045d065535c240f819f7e673177",
      "p_c05e66229b39cf9590aa34f9a33554d9",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    // Template 2 keeps its own rule and its own values, so its entries still verify.
    [PROMPT, CONTEXT, { templateVersion: "2.0.0" }, [
      "fp_4c9488bc31c2c619ee929fe16f9c4976",
      "p_db6a152b0aae7d762b2a3bb72b183ba8",
      "c_8fbcdfb9ff9ba0a283bf3b40e3567b50",
    ]],
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, {
      mode: "parametric",
      templateVersion: "2.0.0",
    }, [
      "fp_a88e9e0304d30519263e0f12a8d9ec32",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
    // Its key before the mode was hashed, under which its earlier entries are still found.
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, {
      mode: "parametric",
      templateVersion: "2.0.0",
      modeUnhashed: true,
    }, [
      "fp_4e0f5410cad1442d18939a345ffc904c",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
    ["Set the status to 'ACTIVE', please.", {}, { templateVersion: "2.0.0" }, [
      "fp_34243c3a5c4951ddbcc9854845fe0e3a",
      "p_92ddccf6e69e67e02f0544679f0c4a2e",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    // Template 1 keeps its own (legacy) rule and its own values, so its entries still verify.
    [PROMPT, CONTEXT, { templateVersion: "1.0.0" }, [
      "fp_d42845d83149203590a3e7e74aba5977",
      "p_db6a152b0aae7d762b2a3bb72b183ba8",
      "c_8fbcdfb9ff9ba0a283bf3b40e3567b50",
    ]],
    ["Summarise data.csv", {}, { language: "bash", templateVersion: "1.0.0" }, [
      "fp_73f756aa44d1a6c0631d2ca0a1e5d308",
      "p_5e84f7e84e73980a7b4a6148a1bdebba",
      "c_44136fa355b3678a1146ad16f7e8649e",
    ]],
    ["Resumir el archivo", { input: "datos.csv", n: 1.50 }, {
      mode: "parametric",
      templateVersion: "1.0.0",
      modeUnhashed: true,
    }, [
      "fp_0f29da12fe5e3b947eb11308d7c5a194",
      "p_0550f64cb829ed4c7a85cb35c3ecdf9a",
      "c_e0ca6d5d498397be71ffbe13f57e4562",
    ]],
  ];
  for (const [prompt, context, options, expected] of golden) {
    const f = await fingerprint(prompt, context, options);
    assert.deepEqual([f.fingerprint, f.prompt_sha, f.context_sha], expected, prompt);
  }
});

Deno.test("normalizePrompt() removes courtesy phrases at the ends and final punctuation only", () => {
  assert.equal(normalizePrompt("Please summarise data.csv, thanks!"), "summarise data.csv");
  assert.equal(normalizePrompt("Kindly   SORT the list."), "sort the list");
  assert.equal(normalizePrompt("Please, could you sort the list? Thank you…"), "sort the list");
  // Words that merely contain a courtesy word survive.
  assert.equal(normalizePrompt("Pleasure report"), "pleasure report");
  assert.equal(normalizePrompt("Thanksgiving dates"), "thanksgiving dates");
  assert.equal(normalizePrompt("please-do list"), "please-do list");
  // A courtesy word inside the prompt is content; so is punctuation that is not at the end.
  assert.equal(normalizePrompt("Send the thanks email"), "send the thanks email");
  assert.equal(normalizePrompt("Sort. Then count!"), "sort. then count");
  assert.equal(normalizePrompt("Increase prices by 10%."), "increase prices by 10%");
  assert.equal(normalizePrompt("List files; please"), "list files;");
  // Template 4: "!" and "?" go only where they end a sentence; "thanks" and "thank you" at the
  // start only before a comma. Template 3 merged each of these with another request.
  for (
    const [prompt, v4, v3] of [
      ["Divide each value by 3!", "divide each value by 3!", "divide each value by 3"],
      [
        "Delete files matching *.bak?",
        "delete files matching *.bak?",
        "delete files matching *.bak",
      ],
      ["Match URLs with ^https?", "match urls with ^https?", "match urls with ^https"],
      ["Increase prices by 10%!", "increase prices by 10%!", "increase prices by 10%"],
      ["Thank you notes per month", "thank you notes per month", "notes per month"],
    ]
  ) {
    assert.equal(normalizePrompt(prompt!), v4, prompt);
    assert.equal(normalizePromptV3(prompt!), v3, prompt);
  }
  assert.equal(normalizePrompt("Could you sort the list?"), "sort the list");
  assert.equal(normalizePrompt("Thank you, sort the list!"), "sort the list");
  assert.equal(normalizePrompt("Set status to 'ACTIVE'?"), "set status to 'ACTIVE'");
});

Deno.test("normalizePrompt() keeps quoted text as it is, and what NFKC would change in meaning", () => {
  // Case and spacing inside quotation marks are what is asked for.
  assert.equal(normalizePrompt("Set status to 'ACTIVE'."), "set status to 'ACTIVE'");
  assert.equal(normalizePrompt('Replace "Foo  Bar" with `X\tY`'), 'replace "Foo  Bar" with `X\tY`');
  assert.equal(
    normalizePrompt("Say \u201cHello\u201d, \u00abAdi\u00f3s\u00bb"),
    "say \u201cHello\u201d, \u00abAdi\u00f3s\u00bb",
  );
  assert.equal(
    normalizePrompt("\u8aad\u3080\u300cData.csv\u300d"),
    "\u8aad\u3080\u300cData.csv\u300d",
  );
  // NFC only: a composed and a decomposed letter are one character.
  assert.equal(normalizePrompt("Find 'Cafe\u0301'"), "find 'Caf\u00e9'");
  // Apostrophes are not quotation marks; an opening mark with no closing one is an ordinary one.
  assert.equal(normalizePrompt("Don't touch the USERS' files"), "don't touch the users' files");
  assert.equal(normalizePrompt("Sales of the '90s BY Region"), "sales of the '90s by region");
  assert.equal(normalizePrompt('Say "HI'), 'say "hi');
  // Superscripts, subscripts, circled numbers and fractions stay; other compatibility forms fold.
  assert.equal(
    normalizePrompt("Raise by 10\u00b2% (\u2460, \u00bd, x\u2099)"),
    "raise by 10\u00b2% (\u2460, \u00bd, x\u2099)",
  );
  assert.equal(normalizePrompt("\uff2c\uff41\uff53\uff54 \ufb01les \u216b"), "last files xii");
  // Which mark pairs with which is a guess: all from the first opening mark to the last closing
  // one is kept ("'98" opens nothing that pairs, but the guess must never fold a quotation).
  assert.equal(
    normalizePrompt("Since '98, REPLACE '  ' with ' '"),
    "since '98, REPLACE '  ' with ' '",
  );
  // Chinese, Japanese and Korean write no space around a quotation; more quotation styles.
  assert.equal(
    normalizePrompt("\u72b6\u6001\u4e3a'ACTIVE'\u7684"),
    "\u72b6\u6001\u4e3a'ACTIVE'\u7684",
  );
  assert.equal(
    normalizePrompt("\u00bbACTIVE\u00ab \u201dX\u201d \u301dY\u301e \u3010Z\u3011"),
    "\u00bbACTIVE\u00ab \u201dX\u201d \u301dY\u301e \u3010Z\u3011",
  );
  // Sentence-final punctuation goes only where it ends a word: "on ." asks about the full stop.
  assert.equal(normalizePrompt("Split each line on ."), "split each line on .");
  assert.equal(normalizePrompt("Split each line on '.'."), "split each line on '.'");
  // U+FEFF is no space.
  assert.equal(normalizePrompt("Find foo\ufeffbar"), "find foo\ufeffbar");
  // A quotation at an end is never cut: its closing mark is no final punctuation.
  assert.equal(normalizePrompt("Print 'Done.'"), "print 'Done.'");
  assert.equal(normalizePrompt("Print 'thank you'"), "print 'thank you'");
});

Deno.test("fingerprint() refuses a prompt with a lone surrogate or a run of over 30 combining marks, and so does a manifest", async () => {
  for (const prompt of ["Count \ud800", "Count \udfff rows", "a" + "\u0301".repeat(31)]) {
    await assert.rejects(fingerprint(prompt, {}), ValidationError, JSON.stringify(prompt));
    assert.equal(PROMPT_TEXT.test(prompt), false);
  }
  // Thirty marks in a row, and whole surrogate pairs, are text.
  await fingerprint("a" + "\u0301".repeat(30) + " \u{1f600}", {});
  const manifest = { ...(await sampleManifest("python", "Count rows")), files: {} };
  assert.equal(Manifest.safeParse(manifest).success, true);
  assert.equal(Manifest.safeParse({ ...manifest, prompt: "Count \ud800" }).success, false);
});

Deno.test("normalizePromptLegacyV1() is the frozen rule of template 1", () => {
  // The rule that merged requests: kept only to find and re-key entries written under it.
  assert.equal(normalizePromptLegacyV1("Increase prices by 10%"), "increase prices by 10");
  assert.equal(normalizePromptLegacyV1("Send the thanks email"), "send the email");
  assert.equal(normalizePromptLegacyV1("Please, summarise data.csv, thx!"), "summarise data.csv");
});

Deno.test("canonicalContext() is RFC 8785: sorted keys, canonical numbers", () => {
  assert.equal(canonicalContext({ b: 1.0, a: [1e3, "x"] }), '{"a":[1000,"x"],"b":1}');
});

Deno.test("fingerprint() rejects an empty prompt with a ValidationError", async () => {
  await assert.rejects(() => fingerprint("  please  ", {}), ValidationError);
});

/**
 * The prompt rule of template major 2 as it was first written, with regular expressions over the
 * whole text: the reference the linear normalizePromptV2() must agree with on every input, and,
 * with punctuation after a space kept, normalizePrompt() on every input without quotation marks or
 * characters kept from NFKC.
 */
function normalizePromptByExpressions(
  prompt: string,
  options: { punctuationAfterSpace: boolean } = { punctuationAfterSpace: true },
): string {
  const collapse = (text: string) => text.replace(/\s+/gu, " ").trim();
  const phrases = [...COURTESY_PHRASES].sort((a, b) => b.length - a.length).join("|");
  const leading = new RegExp(`^(?:${phrases})(?: ?,| |$)`, "u");
  const trailing = new RegExp(`(?:^|,? |,)(?:${phrases})$`, "u");
  let text = collapse(prompt.normalize("NFKC").toLowerCase());
  let previous: string;
  do {
    previous = text;
    text = collapse(
      text.replace(options.punctuationAfterSpace ? /[.!?…]+$/u : /(?<=[^ .!?…])[.!?…]+$/u, ""),
    );
    text = collapse(text.replace(leading, ""));
    text = collapse(text.replace(trailing, ""));
  } while (text !== previous);
  return text;
}

Deno.test("normalizePrompt() and normalizePromptV2() give what template 2's expressions give, on generated prompts of its edge cases", () => {
  const next = seededRandom(7);
  const pieces = [
    ...COURTESY_PHRASES,
    "Please",
    "THANK YOU",
    "thank",
    "you",
    "pleased",
    "sort",
    "x",
    "10%",
    ",",
    " ,",
    ", ",
    " ",
    "  ",
    "\t",
    "\u00a0",
    "\u2003",
    ".",
    "!",
    "?",
    "…",
    "...",
    "?!",
    ";",
    "ﬁ",
    "Ⅻ",
  ];
  let differing = 0;
  for (let i = 0; i < 20_000; i++) {
    let prompt = "";
    const count = 1 + Math.floor(next() * 9);
    for (let j = 0; j < count; j++) prompt += pick(pieces, next);
    const expected = normalizePromptByExpressions(prompt);
    assert.equal(normalizePromptV2(prompt), expected, JSON.stringify(prompt));
    // Without quotation marks, U+FEFF or the characters NFKC would change in meaning, template
    // 3's rule is template 2's but for punctuation after a space, which it keeps.
    assert.equal(
      normalizePromptV3(prompt),
      normalizePromptByExpressions(prompt, { punctuationAfterSpace: false }),
      JSON.stringify(prompt),
    );
    if (expected !== prompt.toLowerCase().trim()) differing++;
  }
  // The prompts exercise the rule: most lose something to it.
  assert.ok(differing > 10_000, `only ${differing} prompts were changed by the rule`);
});

Deno.test("fingerprint() refuses a prompt longer than MAX_PROMPT_LENGTH with a ValidationError naming both lengths", async () => {
  const atLimit = "sort ".repeat(Math.floor(MAX_PROMPT_LENGTH / 5)) +
    "x".repeat(MAX_PROMPT_LENGTH % 5);
  assert.equal(atLimit.length, MAX_PROMPT_LENGTH);
  await fingerprint(atLimit, {});
  const refused: unknown = await fingerprint(atLimit + "x", {}).catch((e) => e);
  assert.ok(refused instanceof ValidationError, String(refused));
  assert.match(
    refused.message,
    new RegExp(`${MAX_PROMPT_LENGTH + 1} characters.*${MAX_PROMPT_LENGTH}`),
  );
  assert.deepEqual(refused.details, { length: MAX_PROMPT_LENGTH + 1, max: MAX_PROMPT_LENGTH });
});

Deno.test("normalizePromptLegacyV1() strips the end as /[\\s\\p{P}]+$/u did, astral punctuation and lone surrogates included", () => {
  const reference = (text: string) => text.replace(/[\s\p{P}]+$/u, "");
  const ends = ["", ".", " .", "!?", "\u{1145D}", "\u{16AF5}.", "\udc00.", "x\ud800", "a, ;", "…"];
  for (const head of ["sort the list", "x", ""]) {
    for (const a of ends) {
      for (const b of ends) {
        const prompt = head + a + b;
        const expected = reference(prompt.normalize("NFKC").toLowerCase().trim()).replace(
          /^[\s,;:!]+/u,
          "",
        );
        assert.equal(normalizePromptLegacyV1(prompt), expected, JSON.stringify(prompt));
      }
    }
  }
});

Deno.test("normalizePromptLegacyV1() refuses courtesy phrases nested more than 64 deep (a pass over the whole prompt each)", () => {
  const nested = (depth: number) => "thank ".repeat(depth) + "please" + " you".repeat(depth);
  assert.equal(normalizePromptLegacyV1("sort " + nested(20)), "sort");
  assert.throws(() => normalizePromptLegacyV1(nested(200)), ValidationError);
});

Deno.test("canonicalContext() refuses what is not plain JSON (a Map, Set, RegExp, Date, typed array, toJSON) with a ValidationError naming its path", () => {
  const cases: [unknown, RegExp][] = [
    [new Map([["input", "data.csv"]]), /the context is a Map/],
    [{ s: new Set([1, 2]) }, /s is a Set/],
    [{ r: /x/ }, /r is a RegExp/],
    [{ when: new Date(0) }, /when is a Date/],
    [{ bytes: new Uint8Array([1, 2]) }, /bytes is a Uint8Array/],
    [new URL("http://x/"), /the context is a URL/],
    [{ custom: { toJSON: () => "x" } }, /custom is an object with a toJSON method/],
  ];
  for (const [context, message] of cases) {
    assert.throws(() => canonicalContext(context), (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
  // Objects without a prototype and plain arrays are JSON.
  assert.equal(canonicalContext(Object.assign(Object.create(null), { a: [1] })), '{"a":[1]}');
});

Deno.test("contextShape() gives what canonicalising each array item's shape gave, on generated nested contexts", () => {
  // The rule as first written: each item's shape canonicalised (RFC 8785) to dedupe and order it.
  const byCanonicalize = (value: unknown): unknown => {
    if (value === null) return "null";
    if (Array.isArray(value)) {
      const shapes = new Map<string, unknown>();
      for (const item of value) {
        const shape = byCanonicalize(item);
        shapes.set(canonicalize(shape) ?? "", shape);
      }
      return [...shapes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, s]) => s);
    }
    if (typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, byCanonicalize(v)]),
      );
    }
    return typeof value;
  };
  const next = seededRandom(23);
  const keys = ["a", "b", "B", "é", "\u{1F600}", "__proto__", "10", "2", "", "a b"];
  const make = (depth: number): unknown => {
    const roll = next();
    if (depth === 0 || roll < 0.3) return pick([1, "x", true, null, 2.5, "", false], next);
    if (roll < 0.65) return Array.from({ length: Math.floor(next() * 4) }, () => make(depth - 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(next() * 4) }, () => [pick(keys, next), make(depth - 1)]),
    );
  };
  for (let i = 0; i < 3000; i++) {
    const context = { root: make(5) };
    const expected = byCanonicalize(context);
    assert.deepEqual(contextShape(context), expected);
    assert.equal(
      canonicalContext(context, "parametric"),
      canonicalize(expected),
      JSON.stringify(context),
    );
  }
});
