/**
 * Prompt normalisation must never merge two requests that mean different things: a property test
 * over seeded, generated prompt pairs, and a table of real pairs in both directions.
 */
import assert from "node:assert/strict";
import { fingerprint } from "../src/fingerprint.ts";
import { COURTESY_PHRASES } from "../src/contract/contract.ts";
import { seededRandom } from "./helpers/random.ts";

const random = seededRandom;

const WORDS = [
  "sort",
  "the",
  "list",
  "sales",
  "csv",
  "revenue",
  "region",
  "count",
  "rows",
  "in",
  "eur",
  "usd",
  "by",
  "prices",
  "increase",
  "decrease",
  "last",
  "days",
  "files",
  "merge",
  "report",
  "ascending",
  "descending",
  "email",
  "send",
  "top",
  "per",
  "month",
  "video",
  "json",
  "café",
  "résumé",
  "data.csv",
];
/** Symbols that may stand anywhere in a token, the ends of the prompt included. */
const SYMBOLS = ["%", "$", "-", "/", "+", "#", "&", "@", "=", "*", "'", "(", ")", "€", "<", ">"];
/** Punctuation that is content inside the prompt (sentence-final only at the very end). */
const INNER_PUNCTUATION = [",", ".", "!", "?", ";", ":", "…"];
const FINAL_PUNCTUATION = [".", "!", "?", "…", "?!", "...", "!!!", ".?"];
const SPACES = [" ", "  ", "\t", "\n", " \t ", "\u3000", "\u00a0"];

type Rng = () => number;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function numberToken(rng: Rng): string {
  return String(Math.floor(rng() * 1000));
}

/** Quotation marks, opening and closing: the text between them is kept as it is. */
const QUOTES: [string, string][] = [["'", "'"], ['"', '"'], ["`", "`"], ["\u201c", "\u201d"], [
  "\u00ab",
  "\u00bb",
], ["\u300c", "\u300d"]];
const OPENING = new Set(QUOTES.map(([open]) => open));
/** Superscript digits 0-9, which NFKC would turn into digits. */
const SUPERSCRIPTS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079";

/** Quoted text: one or two words in mixed case, with the white space between them as typed. */
function quotedToken(rng: Rng): string {
  const [open, close] = pick(rng, QUOTES);
  const word = () => [...pick(rng, WORDS)].map((c) => rng() < 0.4 ? c.toUpperCase() : c).join("");
  return open + word() + (rng() < 0.5 ? pick(rng, SPACES) + word() : "") + close;
}

const isQuoted = (token: string) => OPENING.has(token[0]!);

/**
 * A request: 3 to 7 tokens (words, numbers, numbers with symbols or a superscript, quoted text), a
 * content word at each end.
 */
function baseTokens(rng: Rng): string[] {
  const count = 3 + Math.floor(rng() * 5);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const edge = i === 0 || i === count - 1;
    const r = rng();
    if (edge || r < 0.5) tokens.push(pick(rng, WORDS));
    else if (r < 0.65) tokens.push(numberToken(rng));
    else if (r < 0.75) {
      // No quotation mark here: the prompt's quoted part is its quoted tokens and what lies
      // between them (see spell()).
      tokens.push(numberToken(rng) + pick(rng, SYMBOLS.filter((symbol) => symbol !== "'")));
    } else if (r < 0.85) tokens.push(numberToken(rng) + pick(rng, [...SUPERSCRIPTS]));
    else tokens.push(quotedToken(rng));
  }
  return tokens;
}

/**
 * The same text in another spelling that the rule must ignore: case, NFKC forms (quoted text is
 * what is asked for, letter for letter: only its decomposed form is the same text).
 */
function respell(rng: Rng, token: string): string {
  if (isQuoted(token)) return rng() < 0.3 ? token.normalize("NFD") : token;
  let out = "";
  for (const ch of token) {
    const r = rng();
    if (/[a-z]/.test(ch) && r < 0.2) {
      out += String.fromCodePoint(ch.codePointAt(0)! - 0x61 + 0xff41); // fullwidth: NFKC
    } else if (/[0-9]/.test(ch) && r < 0.2) {
      out += String.fromCodePoint(ch.codePointAt(0)! - 0x30 + 0xff10);
    } else if (r < 0.5) {
      out += ch.toUpperCase();
    } else {
      out += ch;
    }
  }
  return rng() < 0.3 ? out.normalize("NFD") : out;
}

function courtesy(rng: Rng): string {
  return respell(rng, pick(rng, COURTESY_PHRASES)).replace(/ /g, () => pick(rng, SPACES));
}

/**
 * Joins tokens the way a person might type them, adding only what the rule removes: other case
 * and NFKC forms, other spacing, courtesy phrases at the start and end, final punctuation.
 */
function spell(rng: Rng, tokens: readonly string[]): string {
  // From the first quoted token to the last, the text is kept as typed: it is written once.
  const first = tokens.findIndex(isQuoted);
  const last = tokens.findLastIndex(isQuoted);
  const inQuoted = (i: number) => first !== -1 && i >= first && i <= last;
  let text = tokens.map((t, i) => inQuoted(i) ? t : respell(rng, t)).reduce((a, t, i) =>
    a + (inQuoted(i) && inQuoted(i - 1) ? " " : pick(rng, SPACES)) + t
  );
  // A "!" or "?" goes only where it ends a sentence (template 4): after a letter or a closing
  // quotation mark, in a last word with no character of a pattern, a formula or a path.
  const lastWord = tokens.join(" ").slice(tokens.join(" ").lastIndexOf(" ") + 1);
  const sentence = /[\p{L}'"’”»›」』]$/u.test(lastWord) &&
    !/[*?[\]\\^$|(){}<>/+=~#%&@!]/.test(lastWord);
  const finals = sentence ? FINAL_PUNCTUATION : FINAL_PUNCTUATION.filter((p) => !/[!?]/.test(p));
  if (rng() < 0.5) text = text + pick(rng, finals);
  for (let i = Math.floor(rng() * 3); i > 0; i--) {
    // "thanks" and "thank you" at the start go only before a comma (template 4).
    const phrase = courtesy(rng);
    const subject = /^thank/.test(phrase.normalize("NFKC").toLowerCase());
    text = phrase + (subject || rng() < 0.5 ? "," : "") + pick(rng, SPACES) + text;
  }
  for (let i = Math.floor(rng() * 3); i > 0; i--) {
    text = text + (rng() < 0.5 ? "," : "") + pick(rng, SPACES) + courtesy(rng);
    if (rng() < 0.5) text += pick(rng, FINAL_PUNCTUATION);
  }
  if (rng() < 0.3) text = pick(rng, SPACES) + text;
  if (rng() < 0.3) text = text + pick(rng, SPACES);
  return text;
}

/** One change of a kept character: the result means something else. */
function change(rng: Rng, tokens: readonly string[]): { tokens: string[]; what: string } {
  const out = [...tokens];
  const inner = () => 1 + Math.floor(rng() * (out.length - 2)); // never an end
  const any = () => Math.floor(rng() * out.length);
  for (;;) {
    switch (Math.floor(rng() * 10)) {
      case 0: { // a digit
        const at = out.findIndex((t) => /[0-9]/.test(t));
        if (at < 0) {
          out.splice(inner(), 0, numberToken(rng));
          return { tokens: out, what: "a digit" };
        }
        const token = out[at]!;
        const digits = [...token].map((c, i) => [c, i] as const).filter(([c]) => /[0-9]/.test(c));
        const [digit, i] = pick(rng, digits);
        const other = String((Number(digit) + 1 + Math.floor(rng() * 9)) % 10);
        out[at] = token.slice(0, i) + other + token.slice(i + 1);
        return { tokens: out, what: "a digit" };
      }
      case 1: { // a symbol, at any token, the ends included
        const at = any();
        const symbol = pick(rng, SYMBOLS);
        out[at] = rng() < 0.5 ? out[at] + symbol : symbol + out[at];
        return { tokens: out, what: "a symbol" };
      }
      case 2: { // punctuation inside the prompt
        const at = Math.floor(rng() * (out.length - 1)); // after any token but the last
        out[at] = out[at] + pick(rng, INNER_PUNCTUATION);
        return { tokens: out, what: "inner punctuation" };
      }
      case 3: { // another content word
        const at = any();
        const word = pick(rng, WORDS);
        if (word === out[at]) continue;
        out[at] = word;
        return { tokens: out, what: "a content word replaced" };
      }
      case 4: // a content word added
        out.splice(Math.floor(rng() * (out.length + 1)), 0, pick(rng, WORDS));
        return { tokens: out, what: "a content word added" };
      case 5: // a content word removed
        if (out.length < 4) continue;
        out.splice(inner(), 1);
        return { tokens: out, what: "a token removed" };
      case 6: { // the word order
        const at = Math.floor(rng() * (out.length - 1));
        if (out[at] === out[at + 1]) continue;
        [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
        return { tokens: out, what: "two words swapped" };
      }
      case 7: // a courtesy word inside the prompt is content
        out.splice(inner(), 0, pick(rng, COURTESY_PHRASES));
        return { tokens: out, what: "a courtesy word inside" };
      case 8: { // a quoted letter's case, or the white space between quoted words
        let at = out.findIndex(isQuoted);
        if (at < 0) {
          at = inner();
          out.splice(at, 0, quotedToken(rng));
          return { tokens: out, what: "quoted text's case or spacing" };
        }
        const token = out[at]!;
        const run = token.match(/\s+/u)?.[0];
        if (run && rng() < 0.5) {
          out[at] = token.replace(/\s+/u, () => pick(rng, SPACES.filter((space) => space !== run)));
        } else {
          const chars = [...token];
          const letters = chars.map((c, i) => [c, i] as const).filter(([c]) =>
            c.toLowerCase() !== c.toUpperCase()
          );
          const [letter, i] = pick(rng, letters);
          chars[i] = letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase();
          out[at] = chars.join("");
        }
        return { tokens: out, what: "quoted text's case or spacing" };
      }
      default: { // a digit and its superscript
        const at = out.findIndex((t) =>
          !isQuoted(t) && /[0-9\u2070\u00b9\u00b2\u00b3\u2074-\u2079]/.test(t)
        );
        if (at < 0) continue;
        out[at] = [...out[at]!].map((c) => {
          const digit = "0123456789".indexOf(c);
          const superscript = SUPERSCRIPTS.indexOf(c);
          return digit >= 0 ? SUPERSCRIPTS[digit] : superscript >= 0 ? String(superscript) : c;
        }).join("");
        return { tokens: out, what: "a digit for its superscript" };
      }
    }
  }
}

const PAIRS = 2000;

Deno.test("fingerprint() merges a generated pair that differs only in what the rule removes", async () => {
  const rng = random(0x5eed_0001);
  for (let i = 0; i < PAIRS; i++) {
    const tokens = baseTokens(rng);
    const a = spell(rng, tokens);
    const b = spell(rng, tokens);
    const [fa, fb] = await Promise.all([fingerprint(a, {}), fingerprint(b, {})]);
    assert.equal(fa.prompt_normalized, tokens.join(" "), `pair ${i}: ${JSON.stringify(a)}`);
    assert.equal(
      fa.fingerprint,
      fb.fingerprint,
      `pair ${i}: ${JSON.stringify(a)} and ${JSON.stringify(b)} must be one request`,
    );
  }
});

Deno.test("fingerprint() keeps apart a generated pair that differs in any kept character", async () => {
  const rng = random(0x5eed_0002);
  const seen = new Map<string, number>();
  for (let i = 0; i < PAIRS; i++) {
    const tokens = baseTokens(rng);
    const changed = change(rng, tokens);
    const a = spell(rng, tokens);
    const b = spell(rng, changed.tokens);
    const [fa, fb] = await Promise.all([fingerprint(a, {}), fingerprint(b, {})]);
    seen.set(changed.what, (seen.get(changed.what) ?? 0) + 1);
    assert.notEqual(
      fa.fingerprint,
      fb.fingerprint,
      `pair ${i} (${changed.what}): ${JSON.stringify(a)} and ${JSON.stringify(b)} must be two ` +
        `requests`,
    );
  }
  // Every kind of change was tried many times.
  assert.equal(seen.size, 10, [...seen.keys()].join(", "));
  for (const [what, n] of seen) assert.ok(n > 100, `${what}: only ${n} pairs`);
});

/** Real pairs: [a, b, one request?]. */
const TABLE: [string, string, boolean][] = [
  ["Please summarise the CSV.", "summarise the csv", true],
  ["Could you sort the list? Thanks!", "sort the list", true],
  ["  Kindly\tconvert the VIDEO to 24fps…", "convert the video to 24fps", true],
  ["Thank you, list the files", "list the files", true],
  ["Ｌａｓｔ ７ days", "last 7 days", true],
  ["Increase prices by 10%", "Increase prices by 10", false],
  ["Send the thanks email", "Send the email", false],
  // Template 3 merged each of these (an attacker's review, through the real command).
  ["Divide each value by 3!", "Divide each value by 3.", false],
  ["Delete files matching *.bak?", "Delete files matching *.bak", false],
  ["Match URLs with ^https?", "Match URLs with ^https", false],
  ["Thank you notes per month", "Notes per month", false],
  ["last 7 days", "last 30 days", false],
  ["sort ascending", "sort descending", false],
  ["in EUR", "in USD", false],
  ["Delete rows where price < 0", "Delete rows where price > 0", false],
  ["Sort by date, then name", "Sort by date then name", false],
  ["Round to 2 decimals", "Round to 2. decimals", false],
  ["rename a.txt to b.txt", "rename b.txt to a.txt", false],
  ["Count words; please", "Count words", false],
  ["Set the status to 'ACTIVE'", "Set the status to 'active'", false],
  ["Split on ' '", "Split on '  '", false],
  ['Replace "\t" with ","', 'Replace " " with ","', false],
  ["Increase prices by 10\u00b2%", "Increase prices by 102%", false],
  ["Compute x\u2099 for n = 3", "Compute xn for n = 3", false],
  ["Sales since '98: replace '  ' with ' '", "Sales since '98: replace ' ' with '  '", false],
  ["Since '98, replace '<B>' with '<b>'", "Since '98, replace '<b>' with '<B>'", false],
  [
    '\u5220\u9664\u72b6\u6001\u4e3a"ACTIVE"\u7684\u884c',
    '\u5220\u9664\u72b6\u6001\u4e3a"active"\u7684\u884c',
    false,
  ],
  ["Set status to \u00bbACTIVE\u00ab", "Set status to \u00bbactive\u00ab", false],
  ["Set status to \u201dACTIVE\u201d", "Set status to \u201dactive\u201d", false],
  ["Count the occurrences of ?", "Count the occurrences of !", false],
  ["Delete rows with \u2116 5", "Delete rows with no 5", false],
  ["Area in \u33a1", "Area in m2", false],
  ["Find foo\ufeffbar", "Find foo bar", false],
  ["Set the status to 'ACTIVE', please.", "set the status to 'ACTIVE'", true],
  ["Don't touch the USERS' files", "don't touch the users' files", true],
];

for (const [a, b, same] of TABLE) {
  Deno.test(`fingerprint() ${same ? "merges" : "keeps apart"} "${a}" and "${b}"`, async () => {
    const [fa, fb] = await Promise.all([fingerprint(a, {}), fingerprint(b, {})]);
    if (same) assert.equal(fa.fingerprint, fb.fingerprint);
    else assert.notEqual(fa.fingerprint, fb.fingerprint);
  });
}
