/**
 * Fingerprints: the cache key of a request.
 *
 * `fp_` + the first 32 hex digits of sha256(prompt ␊ context ␊ language ␊ template major), and
 * for a parametric request ␊ `parametric` after them, where the prompt is normalised by the rule
 * of the template major ({@linkcode normalizePrompt} in major 3: quoted text kept as typed; the
 * rest NFKC but for what that would change in meaning, lower case, whitespace collapsed, courtesy
 * phrases at the very start or end and sentence-final punctuation at the very end removed; nothing
 * else) and the context is canonical JSON (RFC 8785), or, for a parametric
 * request, the canonical JSON of its shape. The prompt may hold a line feed (quoted text keeps its
 * own), the other fields never do (canonical JSON escapes it), and the last field is the template
 * major for a strict request, `parametric` for a parametric one: a strict request's four fields
 * never hash as a parametric one's five, and a strict context whose values spell a shape
 * (`{"n": "number"}`) is another request than the parametric one of that shape.
 *
 * @module
 */
import canonicalize from "npm:canonicalize@^5.1.0";
import { COURTESY_PHRASES, TEMPLATE_VERSION } from "./contract/contract.ts";
import type { Language, Mode } from "./schema.ts";
import { MAX_PROMPT_LENGTH, PROMPT_TEXT, PROMPT_TEXT_RULE } from "./types.ts";
import { ValidationError } from "./errors.ts";
import { sha256 } from "./_hash.ts";

/** The three hashes of a request. */
export interface Fingerprint {
  /** `fp_` + 32 hex: the cache key. */
  fingerprint: string;
  /** `p_` + 32 hex: the normalised prompt's hash. */
  prompt_sha: string;
  /** `c_` + 32 hex: the canonical context's hash. */
  context_sha: string;
  /** The normalised prompt that was hashed. */
  prompt_normalized: string;
  /** The canonical context that was hashed. */
  context_normalized: string;
}

/** What an entry must be the entry of: a request's identity as computed here. */
export interface EntryIdentity {
  fingerprint: string;
  prompt_sha: string;
  context_sha: string;
  language: Language;
  mode: Mode;
}

/** The fields of an entry's manifest that name the request it answers. */
export const IDENTITY_FIELDS = [
  "fingerprint",
  "prompt_sha",
  "context_sha",
  "language",
  "mode",
] as const satisfies readonly (keyof EntryIdentity)[];

/**
 * The identity fields in which an entry's manifest differs from the request's (none: it is that
 * request's entry). The one rule by which a cached entry, found locally or sent by a Core, is
 * used for a request: its folder's name alone does not say (a parametric entry's fingerprint is
 * not checked against its manifest, and a parametric entry keyed before the mode was hashed may
 * share its key with a strict one).
 */
export function identityDiffers(
  manifest: Readonly<Record<string, unknown>>,
  expected: EntryIdentity,
): (keyof EntryIdentity)[] {
  return IDENTITY_FIELDS.filter((key) => manifest[key] !== expected[key]);
}

/** Options of {@linkcode fingerprint}. */
export interface FingerprintOptions {
  /** Script language (default `python`). */
  language?: Language;
  /** `strict` (values count, the default) or `parametric` (only the context's shape counts). */
  mode?: Mode;
  /**
   * Template version whose major part is hashed (default: the current template). An earlier
   * major also selects its prompt rule ({@linkcode EARLIER_PROMPT_RULES}), so that entries written
   * under it still verify.
   */
  templateVersion?: string;
  /**
   * A parametric request's key as it was before its mode was hashed (the four fields only), under
   * which its earlier entries are found on a miss (see `findLegacyEntry`); no effect on a strict
   * request.
   */
  modeUnhashed?: boolean;
}

/** Courtesy phrases, longest first (the order in which a phrase at an end is tried). */
const PHRASES: readonly string[] = [...COURTESY_PHRASES].sort((a, b) => b.length - a.length);
/** Sentence-final punctuation (NFKC has already turned `…` into `...`). */
const FINAL_PUNCTUATION = new Set([".", "!", "?", "…"]);

/**
 * Characters NFKC would turn into other ones that mean something else: superscripts and
 * subscripts (`10²` is not `102`, `2ⁿ` is not `2n`), other numbers (circled, parenthesised,
 * fractions: `\p{No}`), modifier letters (`\p{Lm}`), the ordinal indicators `ª` `º`, the
 * letterlike symbols (`№` is not `no`, `℃`) and the squared units (`㎡` is not `m2`). They are kept
 * as they are (in NFC).
 */
const KEPT_FROM_NFKC = /([\p{No}\p{Lm}\u00aa\u00ba\u2070-\u209f\u2100-\u214f\u3300-\u33ff]+)/u;

/**
 * The quotation marks whose text a prompt keeps as typed: each kind's opening and closing marks
 * (with the compatibility forms NFKC would turn into them, so that folding never makes a mark of
 * what was not one). An `apostrophe` kind's marks are also apostrophes: one opens only where no
 * word goes on before it and closes only where none goes on after it, so "don't" and "the users'
 * files" hold no quotation (a letter of a script written without spaces, Chinese, Japanese or
 * Korean, is no word here: `状态为'ACTIVE'的` is quoted).
 */
const QUOTES: readonly { open: string; close: string; apostrophe: boolean }[] = [
  { open: "'\uff07", close: "'\uff07", apostrophe: true },
  { open: "\u2018\u201a\u201b\u2019", close: "\u2019\u2018", apostrophe: true },
  { open: '"\uff02', close: '"\uff02', apostrophe: false },
  { open: "`\uff40", close: "`\uff40", apostrophe: false },
  { open: "\u201c\u201e\u201f\u201d", close: "\u201d\u201c", apostrophe: false },
  { open: "\u00ab\u00bb", close: "\u00bb\u00ab", apostrophe: false },
  { open: "\u2039\u203a", close: "\u203a\u2039", apostrophe: false },
  { open: "\u300c\ufe41\uff62", close: "\u300d\ufe42\uff63", apostrophe: false },
  { open: "\u300e\ufe43", close: "\u300f\ufe44", apostrophe: false },
  { open: "\u301d", close: "\u301e\u301f", apostrophe: false },
  {
    open: "\u3008\u300a\u3010\u3014\u3016",
    close: "\u3009\u300b\u3011\u3015\u3017",
    apostrophe: false,
  },
];

/** A character of a word an apostrophe may stand in: a letter, digit or mark, not of CJK. */
const WORD_CHARACTER =
  /(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}])[\p{L}\p{N}\p{M}]/u;

/** {@linkcode WORD_CHARACTER}'s test of a code point, without its tables for an ASCII one. */
function isWordCharacter(codePoint: number): boolean {
  if (codePoint < 0x80) {
    return codePoint >= 0x30 && codePoint <= 0x39 || (codePoint | 0x20) >= 0x61 &&
        (codePoint | 0x20) <= 0x7a;
  }
  return WORD_CHARACTER.test(String.fromCodePoint(codePoint));
}

/** Every quotation mark of {@linkcode QUOTES}: a character that is none is passed at once. */
const MARKS = new Set(QUOTES.flatMap((kind) => [...kind.open, ...kind.close]));

/**
 * The part of a prompt kept as typed, as a [start, end) range of code units, or undefined: from
 * the first opening mark that has a closing mark of its kind after it, to the last closing mark
 * that has an opening mark of its kind before it. Everything between, quoted or not, is kept: which
 * mark pairs with which is a guess ("since '98, replace ' ' with '  '"), and a wrong guess must
 * cost a cache miss, never fold a quotation. One pass, linear in the text.
 */
function keptRange(text: string): [number, number] | undefined {
  const wordBefore = (end: number) => end > 0 && isWordCharacter(codePointBefore(text, end));
  const wordAt = (start: number) =>
    start < text.length && isWordCharacter(text.codePointAt(start)!);
  const firstOpen = QUOTES.map(() => -1);
  const lastClose = QUOTES.map(() => -1);
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!MARKS.has(c)) continue;
    QUOTES.forEach((kind, k) => {
      if (
        firstOpen[k] === -1 && kind.open.includes(c) && !(kind.apostrophe && wordBefore(i))
      ) firstOpen[k] = i;
      if (kind.close.includes(c) && !(kind.apostrophe && wordAt(i + 1))) lastClose[k] = i;
    });
  }
  let start = Infinity;
  let end = -1;
  QUOTES.forEach((_, k) => {
    if (firstOpen[k]! === -1 || lastClose[k]! <= firstOpen[k]!) return;
    start = Math.min(start, firstOpen[k]!);
    end = Math.max(end, lastClose[k]! + 1);
  });
  return end === -1 ? undefined : [start, end];
}

/** The code point that ends at `end` (a surrogate pair read whole). */
function codePointBefore(text: string, end: number): number {
  const low = text.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(end - 2)!;
  }
  return low;
}

const ASCII = /^[^\u0080-\uffff]*$/;
/** {@linkcode SPACE_RUN} in ASCII text. */
const ASCII_SPACE_RUN = /[\t\n\v\f\r ]+/g;

/**
 * White space as a prompt's rule collapses it: JavaScript's `\s` but U+FEFF, which is no space
 * (a zero-width no-break space, or a byte order mark).
 */
const SPACE_RUN = /[^\S\ufeff]+/gu;

/**
 * Text outside quotation marks, folded: NFKC (but for {@linkcode KEPT_FROM_NFKC}), lower case,
 * each run of white space one space.
 */
function fold(text: string): string {
  // ASCII is its own NFKC and holds nothing kept from it: only its case and spaces change.
  if (ASCII.test(text)) return text.toLowerCase().replace(ASCII_SPACE_RUN, " ");
  return text.split(KEPT_FROM_NFKC).map((part, i) => i % 2 ? part : part.normalize("NFKC"))
    .join("").toLowerCase().replace(SPACE_RUN, " ");
}

/**
 * Normalises a prompt for its fingerprint (template major 4). It removes only what cannot change
 * what is asked, and keeps every other character, symbols and digits included:
 *
 * 1. quoted text is kept as typed, in NFC: from the first opening mark that has a closing mark of
 *    its kind after it to the last closing mark that has an opening one before it
 *    ({@linkcode QUOTES}: `'…'`, `"…"`, `` `…` ``, `‘…’`, `“…”`, `”…”`, `„…“`, `«…»`, `»…«`,
 *    `‹…›`, `「…」`, `『…』`, `〝…〞` and the other CJK brackets), all of it: its case and its
 *    spaces are what is asked for;
 * 2. the rest: Unicode NFKC, except for superscripts, subscripts, other numbers, modifier letters,
 *    letterlike symbols and squared units ({@linkcode KEPT_FROM_NFKC}), then lower case
 *    (`toLowerCase()`, Unicode's default mapping), and every run of white space (`\s` but U+FEFF)
 *    becomes one space; leading and trailing space goes;
 * 3. then, until nothing changes: sentence-final punctuation (`.` `!` `?` `…`, any run of them) at
 *    the very end, where it follows a word or a symbol (not a space: "split on ." asks about the
 *    full stop), and a run holding `!` or `?` only where it ends a sentence: after a letter or a
 *    closing quotation mark, in a last word without a character of a pattern, a formula or a path
 *    ("by 3!" is a factorial, "*.bak?" a pattern: each is kept); a courtesy phrase
 *    (`COURTESY_PHRASES`: "please", "could you", "can you", "kindly", "thanks", "thank you") at
 *    the very start, as whole words, with the one comma that may follow it (` ,` or `,`), and
 *    "thanks" or "thank you" only before a comma ("thank you notes" is what is asked about); the
 *    same at the very end, with the one comma that may precede it (`, ` or `,`).
 *
 * So "Please summarise the CSV." and "summarise the csv" are one request, while "Increase prices by
 * 10%" and "… by 10", "Send the thanks email" and "Send the email", "by 10²%" and "by 102%", or
 * "status 'ACTIVE'" and "status 'active'" stay two. Step 3 looks only at the ends of the text (the
 * kept part ends with a closing mark, which no step removes), so the whole takes time linear in the
 * prompt's length ({@linkcode PROMPT_TEXT} bounds the runs of combining marks NFKC reorders).
 */
export function normalizePrompt(prompt: string): string {
  return trimCourtesy(foldOutsideQuotes(prompt), { punctuationAfterSpace: false, sentence: true });
}

/** Steps 1 and 2 of {@linkcode normalizePrompt} (templates 3 and 4). */
function foldOutsideQuotes(prompt: string): string {
  const text = prompt.normalize("NFC");
  const kept = keptRange(text);
  const folded = kept
    ? fold(text.slice(0, kept[0])) + text.slice(kept[0], kept[1]) + fold(text.slice(kept[1]))
    : fold(text);
  return folded.trim();
}

/**
 * The prompt rule of template major 3, frozen: as {@linkcode normalizePrompt}, but final
 * punctuation went wherever it followed a word or a symbol ("by 3!" merged with "by 3.", "*.bak?"
 * with "*.bak"), and "thanks" or "thank you" at the start before a space ("Thank you notes per
 * month" merged with "Notes per month"). Used only to find and re-key entries written under it.
 */
export function normalizePromptV3(prompt: string): string {
  return trimCourtesy(foldOutsideQuotes(prompt), { punctuationAfterSpace: false });
}

/**
 * The prompt rule of template major 2, frozen: NFKC and lower case of the whole prompt (quoted
 * text and superscripts included, which merged `'ACTIVE'` with `'active'` and `10²` with `102`),
 * white space collapsed, then step 3 of {@linkcode normalizePrompt}. Used only to find and re-key
 * entries written under it.
 */
export function normalizePromptV2(prompt: string): string {
  return trimCourtesy(prompt.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim(), {
    punctuationAfterSpace: true,
  });
}

/** Courtesy phrases that may be a prompt's subject ("thank you notes"), not a way of asking. */
const SUBJECT_PHRASES: ReadonlySet<string> = new Set(["thanks", "thank you"]);

/**
 * Whether a final "!" or "?" ends a sentence, as template 4 reads it: it follows a letter or a
 * closing quotation mark, and the last word holds no character of a pattern, a formula or a path
 * ("by 3!" is a factorial, "*.bak?" and "^https?" are patterns; "the CSV?" ends a question).
 */
function endsSentence(text: string, start: number, end: number): boolean {
  if (end === start) return false;
  if (!/[\p{L}'"’”»›」』]/u.test(text[end - 1]!)) return false;
  const word = text.slice(Math.max(start, text.lastIndexOf(" ", end - 1) + 1), end);
  return !/[*?[\]\\^$|(){}<>\/+=~#%&@!]/.test(word);
}

/**
 * Step 3 of {@linkcode normalizePrompt}: sentence-final punctuation at the very end and courtesy
 * phrases at the very start or end, removed until nothing changes, in time linear in the text.
 */
function trimCourtesy(
  text: string,
  rule: { punctuationAfterSpace: boolean; sentence?: boolean },
): string {
  // After step 2 the only white space is single spaces between words, and removing a part at an
  // end leaves at most one space at that end: [start, end) is the text, trimmed at each step.
  let start = 0;
  let end = text.length;
  const trimEnd = () => {
    while (end > start && text[end - 1] === " ") end--;
  };
  const trimStart = () => {
    while (start < end && text[start] === " ") start++;
  };
  const at = (phrase: string, from: number) => text.startsWith(phrase, from);
  let changed = true;
  while (changed) {
    changed = false;
    // Sentence-final punctuation at the very end (from template 3, only where it ends a word or a
    // symbol: "split on ." asks about the full stop).
    const before = end;
    while (end > start && FINAL_PUNCTUATION.has(text[end - 1]!)) end--;
    if (
      !rule.punctuationAfterSpace && end !== before &&
      (end === start || text[end - 1] === " " ||
        // Template 4: a "!" or "?" only where it ends a sentence ("by 3!", "*.bak?" keep theirs).
        (rule.sentence === true && /[!?]/.test(text.slice(end, before)) &&
          !endsSentence(text, start, end)))
    ) end = before;
    trimEnd();
    if (end !== before) changed = true;
    // A courtesy phrase at the very start: the phrase, then " ,", ",", " " or the end.
    for (const phrase of PHRASES) {
      if (phrase.length > end - start || !at(phrase, start)) continue;
      let cut = start + phrase.length;
      if (cut === end) {
        // the whole text is the phrase
      } else if (text[cut] === " " && text[cut + 1] === "," && cut + 1 < end) cut += 2;
      else if (text[cut] === ",") cut += 1;
      else if (text[cut] === " " && !(rule.sentence && SUBJECT_PHRASES.has(phrase))) {
        // "Please summarise": a phrase that asks; "thank you notes per month" (template 4): one
        // that may be what is asked about, taken off the start only before a comma
        cut += 1;
      } else continue;
      start = cut;
      trimStart();
      changed = true;
      break;
    }
    // A courtesy phrase at the very end, with what may precede it (", ", " " or ","); of every
    // way it can be read, the one that starts first is removed.
    let cut = end;
    for (const phrase of PHRASES) {
      const from = end - phrase.length;
      if (from < start || !at(phrase, from)) continue;
      if (from === start) cut = Math.min(cut, start);
      else if (from - 2 >= start && text[from - 2] === "," && text[from - 1] === " ") {
        cut = Math.min(cut, from - 2);
      } else if (text[from - 1] === " " || text[from - 1] === ",") cut = Math.min(cut, from - 1);
    }
    if (cut !== end) {
      end = cut;
      trimEnd();
      changed = true;
    }
  }
  return text.slice(start, end);
}

/**
 * The courtesy words of template major 1, frozen: the legacy rule removed them anywhere in the
 * prompt. Used only to find and re-key entries written under that rule.
 */
const LEGACY_V1_COURTESY_PHRASES: readonly string[] = [
  "please",
  "pls",
  "plz",
  "kindly",
  "thanks",
  "thank you",
  "thx",
  "could you",
  "can you",
  "would you",
  "will you",
  "i would like you to",
  "i'd like you to",
];

/** The most passes the legacy rule makes over a prompt (see normalizePromptLegacyV1). */
const LEGACY_V1_MAX_PASSES = 64;

const LEGACY_V1_COURTESY = new RegExp(
  `(^|\\s)(?:${
    [...LEGACY_V1_COURTESY_PHRASES].sort((a, b) => b.length - a.length).map((p) =>
      p.replace(/ /g, "\\s+")
    ).join("|")
  })(?=\\s|$|[,.;:!?])[,;:!]?`,
  "gu",
);

/**
 * The legacy prompt rule of template major 1, read-only: it merged requests that mean different
 * things (it dropped every punctuation mark at the end, `%` included, and courtesy words anywhere),
 * so it is never used to key a new entry. It stays only so that entries written under it still
 * verify, can be found on a miss, and can be re-keyed (`capibara rekey`).
 *
 * @throws {ValidationError} when courtesy phrases nest more than 64 deep (each depth is a pass
 *   over the whole prompt).
 */
export function normalizePromptLegacyV1(prompt: string): string {
  let text = prompt.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
  let previous: string;
  let passes = 0;
  do {
    // Each pass reads the whole text; courtesy phrases nested in one another ("thank thank
    // please you you") lose one layer per pass. No prompt written under template 1 nests so deep.
    if (++passes > LEGACY_V1_MAX_PASSES) {
      throw new ValidationError(
        `The prompt nests courtesy phrases more than ${LEGACY_V1_MAX_PASSES} deep: the rule of ` +
          "template 1 does not read it",
        { hint: "Regenerate the entry with capibara run --refresh" },
      );
    }
    previous = text;
    text = text.replace(LEGACY_V1_COURTESY, "$1").replace(/\s+/gu, " ").trim();
    text = trimLegacyEnd(text).replace(/^[\s,;:!]+/u, "");
  } while (text !== previous);
  return text;
}

const SPACE_OR_PUNCTUATION = /^[\s\p{P}]$/u;

/**
 * The text without the white space and punctuation at its end (what `/[\s\p{P}]+$/u` removes), in
 * time linear in what it removes: the expression takes time quadratic in a long run of them that
 * does not end the text.
 */
function trimLegacyEnd(text: string): string {
  let end = text.length;
  while (end > 0) {
    const last = String.fromCodePoint(codePointBefore(text, end));
    if (!SPACE_OR_PUNCTUATION.test(last)) break;
    end -= last.length;
  }
  return text.slice(0, end);
}

/**
 * The prompt rules of earlier template majors, read-only: each merged requests that mean
 * different things, so none keys a new entry. They stay so that entries written under them still
 * verify, are found on a miss for the very request they answer, and can be re-keyed.
 */
export const EARLIER_PROMPT_RULES: Readonly<Record<string, (prompt: string) => string>> = {
  "1": normalizePromptLegacyV1,
  "2": normalizePromptV2,
  "3": normalizePromptV3,
};

/** The prompt rule of a template major: an earlier major's own, else the current one. */
export function promptNormalizer(major: string): (prompt: string) => string {
  return Object.hasOwn(EARLIER_PROMPT_RULES, major)
    ? EARLIER_PROMPT_RULES[major]!
    : normalizePrompt;
}

/** The major part of a template version (`"2.0.0"` → `"2"`). */
export function templateMajor(templateVersion: string): string {
  return templateVersion.split(".")[0] ?? "0";
}

/** The shape of a JSON value: its keys and JSON types, with every value replaced by its type name. */
export function contextShape(value: unknown): unknown {
  return shapeOf(value).shape;
}

/**
 * The context a generator is shown: the request's own in strict mode, where its values are hashed
 * into the fingerprint; in parametric mode, where only its shape is, an example of that shape
 * (`"<string>"`, `0`, `false`, `null`). Values no fingerprint holds never reach the model: through
 * a team's Core, the first caller of a shape could otherwise write instructions into them, and the
 * script generated and signed from them would serve every later caller of that shape.
 */
export function generationContext(context: Record<string, unknown>, mode: Mode): unknown {
  return mode === "parametric" ? exampleOf(contextShape(context)) : context;
}

/** A value of a shape (see {@linkcode contextShape}). */
function exampleOf(shape: unknown): unknown {
  if (Array.isArray(shape)) return shape.map(exampleOf);
  if (shape !== null && typeof shape === "object") {
    return Object.fromEntries(
      Object.entries(shape as Record<string, unknown>).map(([key, part]) => [key, exampleOf(part)]),
    );
  }
  switch (shape) {
    case "string":
      return "<string>";
    case "number":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}

/** The UTF-16 code unit order of RFC 8785 (and of JavaScript's `<` on strings). */
const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A value's shape and the shape's canonical JSON (RFC 8785), built from its parts' own: each
 * part is written once, where `canonicalize` of every array item at every level wrote each again
 * for each level above it (6 s for a context of 1 MB nested 250 deep).
 */
function shapeOf(value: unknown): { shape: unknown; json: string } {
  if (value === null) return { shape: "null", json: '"null"' };
  if (Array.isArray(value)) {
    const shapes = new Map<string, unknown>();
    for (const item of value) {
      const { shape, json } = shapeOf(item);
      shapes.set(json, shape);
    }
    const order = [...shapes.keys()].sort(codeUnitOrder);
    return { shape: order.map((json) => shapes.get(json)), json: `[${order.join(",")}]` };
  }
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>).map(
      ([key, item]) => [key, shapeOf(item)] as const,
    );
    const json = [...parts].sort(([a], [b]) => codeUnitOrder(a, b))
      .map(([key, part]) => `${JSON.stringify(key)}:${part.json}`).join(",");
    return {
      shape: Object.fromEntries(parts.map(([key, part]) => [key, part.shape])),
      json: `{${json}}`,
    };
  }
  return { shape: typeof value, json: JSON.stringify(typeof value) };
}

const CONTEXT_HINT =
  "Pass plain JSON values: strings of whole Unicode characters, finite numbers, booleans, null, " +
  "arrays and objects";

/**
 * How deep a context's arrays and objects may nest: deeper, every walk of it (canonicalisation,
 * its shape, the check itself) would overflow the stack.
 */
export const MAX_CONTEXT_DEPTH = 256;

/**
 * Checks that a context is JSON that canonicalisation (RFC 8785) can take: plain objects and
 * arrays only (no Map, Set, Date, RegExp, typed array or `toJSON`), no lone surrogate (in a string
 * or a key), no NaN or infinite number (a JSON number such as `1e400` parses to Infinity), no
 * BigInt, function or symbol (as a value or a key), no cycle, and no nesting deeper than
 * {@linkcode MAX_CONTEXT_DEPTH}.
 *
 * @throws {ValidationError} naming the first offending value's path.
 */
export function checkContext(context: unknown): void {
  contextSnapshot(context);
}

/**
 * A plain copy of a context, checked as {@linkcode checkContext} does, each value read once: what
 * a run reads from then on, so that its fingerprint, its paths' grants and what its script is
 * given are of the same values (a getter could otherwise answer each read with another).
 * `undefined` members are dropped, as JSON drops them.
 *
 * @throws {ValidationError} naming the first offending value's path, or when reading the context
 *   throws (a getter, a proxy).
 */
export function contextSnapshot(context: unknown): unknown {
  const seen = new Set<object>();
  const refuse = (path: string, why: string) =>
    new ValidationError(`Cannot use the context: ${path || "the context"} ${why}`, {
      hint: CONTEXT_HINT,
      details: { path },
    });
  const visit = (value: unknown, path: string, depth = 0): unknown => {
    switch (typeof value) {
      case "string":
        if (!value.isWellFormed()) throw refuse(path, "holds a lone surrogate");
        return value;
      case "number":
        if (!Number.isFinite(value)) throw refuse(path, `is ${value}, which JSON cannot hold`);
        return value;
      case "bigint":
        throw refuse(path, "is a BigInt, which JSON cannot hold; pass a number or a string");
      case "function":
      case "symbol":
        throw refuse(path, `is a ${typeof value}, not JSON`);
      case "object": {
        if (value === null) return null;
        // Plain arrays and objects only: a Map, Set, RegExp, Date, typed array or an object
        // with a toJSON becomes other JSON than it holds (a Map's entries are lost), silently.
        const proto = Object.getPrototypeOf(value);
        if (
          !Array.isArray(value) && proto !== Object.prototype && proto !== null ||
          typeof (value as { toJSON?: unknown }).toJSON === "function"
        ) {
          const kind = proto === Object.prototype || proto === null
            ? "an object with a toJSON method"
            : `a ${(value as object).constructor?.name ?? "object of a class"}`;
          throw refuse(path, `is ${kind}, not a plain JSON object or array`);
        }
        if (seen.has(value)) throw refuse(path, "refers to itself (a cycle)");
        if (depth >= MAX_CONTEXT_DEPTH) {
          throw refuse(path, `is nested deeper than ${MAX_CONTEXT_DEPTH} levels`);
        }
        seen.add(value);
        let copy: unknown;
        if (Array.isArray(value)) {
          // As JSON: a hole or an undefined item is null.
          copy = Array.from(value, (item, i) => visit(item, `${path}[${i}]`, depth + 1) ?? null);
        } else {
          // JSON has no symbol keys: JSON.stringify would drop the member, silently.
          const symbol = Object.getOwnPropertySymbols(value)
            .find((key) => Object.prototype.propertyIsEnumerable.call(value, key));
          if (symbol !== undefined) {
            throw refuse(path, `has a symbol key (${String(symbol)}), which JSON cannot hold`);
          }
          const members: Record<string, unknown> = {};
          for (const [key, item] of Object.entries(value)) {
            const at = path ? `${path}.${key}` : key;
            if (!key.isWellFormed()) throw refuse(at, "is a key with a lone surrogate");
            const kept = visit(item, at, depth + 1);
            if (kept !== undefined) {
              Object.defineProperty(members, key, {
                value: kept,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            }
          }
          copy = members;
        }
        seen.delete(value);
        return copy;
      }
      default:
        return value; // undefined and booleans: JSON semantics (undefined members are dropped)
    }
  };
  try {
    return visit(context, "");
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // A getter or a proxy that throws while the context is read.
    throw new ValidationError(
      `Cannot use the context: reading it failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error, hint: CONTEXT_HINT },
    );
  }
}

/** Canonical JSON (RFC 8785) of a context; `undefined` counts as `{}`. */
export function canonicalContext(context: unknown, mode: Mode = "strict"): string {
  const value = context === undefined ? {} : context;
  checkContext(value);
  let text: string | undefined;
  try {
    text = canonicalize(mode === "parametric" ? contextShape(value) : value);
  } catch (error) {
    throw new ValidationError(
      `Cannot fingerprint the context: ${error instanceof Error ? error.message : error}`,
      { cause: error, hint: CONTEXT_HINT },
    );
  }
  if (text === undefined) {
    throw new ValidationError("Cannot fingerprint the context: it is not JSON", {
      hint: 'Pass a JSON object, e.g. --context \'{"input": "data.csv"}\'',
    });
  }
  return text;
}

/**
 * The cache key of a request, computed as `Capibara.run()` does: prompts that differ only in case,
 * NFKC forms, spacing, courtesy phrases at the very start or end, or sentence-final punctuation at
 * the very end, and contexts that differ only in key order or number spelling, get the same
 * fingerprint and so share a cached script. Any other character, a symbol or a digit, counts.
 *
 * @throws {ValidationError} when the prompt is empty once normalised or longer than
 *   {@linkcode MAX_PROMPT_LENGTH}, or the context cannot be
 *   canonicalised (a lone surrogate, NaN or an infinite number, a BigInt, a cycle).
 */
export async function fingerprint(
  prompt: string,
  context: unknown,
  options: FingerprintOptions = {},
): Promise<Fingerprint> {
  const language = options.language ?? "python";
  const major = templateMajor(options.templateVersion ?? TEMPLATE_VERSION);
  if (prompt.length > MAX_PROMPT_LENGTH) {
    throw new ValidationError(
      `The prompt is ${prompt.length} characters long; at most ${MAX_PROMPT_LENGTH} are taken`,
      {
        hint: "Say what the script should do in a few sentences, and pass data in --context",
        details: { length: prompt.length, max: MAX_PROMPT_LENGTH },
      },
    );
  }
  if (!PROMPT_TEXT.test(prompt)) {
    throw new ValidationError(
      `The prompt holds ${PROMPT_TEXT_RULE}`,
      { hint: "Say what the script should do in plain text" },
    );
  }
  const prompt_normalized = promptNormalizer(major)(prompt);
  if (prompt_normalized === "") {
    throw new ValidationError("The prompt is empty", {
      hint: 'Say what the script should do, e.g. capibara run "Summarise data.csv"',
    });
  }
  const context_normalized = canonicalContext(context, options.mode);
  const fields = [prompt_normalized, context_normalized, language, major];
  if (options.mode === "parametric" && !options.modeUnhashed) fields.push("parametric");
  const [full, p, c] = await Promise.all([
    sha256(fields.join("\n")),
    sha256(prompt_normalized),
    sha256(context_normalized),
  ]);
  return {
    fingerprint: "fp_" + full.slice(0, 32),
    prompt_sha: "p_" + p.slice(0, 32),
    context_sha: "c_" + c.slice(0, 32),
    prompt_normalized,
    context_normalized,
  };
}
