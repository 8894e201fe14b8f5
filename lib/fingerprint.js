// Generated from src/fingerprint.ts by scripts/build_js.ts (sha256 f633f9da2b2f2bd45e5343fe481201625b74e7735f42674034987a4d7eef9a55): do not edit; `deno task build:js` writes it.
export var identityDiffers = (function (manifest, expected) {
    return IDENTITY_FIELDS.filter(((key) => manifest[key] !== expected[key]));
});
var isWordCharacter = (function (codePoint) {
    if (codePoint < 0x80) {
        return codePoint >= 0x30 && codePoint <= 0x39 || (codePoint | 0x20) >= 0x61 &&
            (codePoint | 0x20) <= 0x7a;
    }
    return WORD_CHARACTER.test(String.fromCodePoint(codePoint));
});
var keptRange = (function (text) {
    const wordBefore = ((end) => end > 0 && isWordCharacter(codePointBefore(text, end)));
    const wordAt = ((start) => start < text.length && isWordCharacter(text.codePointAt(start)));
    const firstOpen = QUOTES.map((() => -1));
    const lastClose = QUOTES.map((() => -1));
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (!MARKS.has(c))
            continue;
        QUOTES.forEach(((kind, k) => {
            if (firstOpen[k] === -1 && kind.open.includes(c) && !(kind.apostrophe && wordBefore(i)))
                firstOpen[k] = i;
            if (kind.close.includes(c) && !(kind.apostrophe && wordAt(i + 1)))
                lastClose[k] = i;
        }));
    }
    let start = Infinity;
    let end = -1;
    QUOTES.forEach(((_, k) => {
        if (firstOpen[k] === -1 || lastClose[k] <= firstOpen[k])
            return;
        start = Math.min(start, firstOpen[k]);
        end = Math.max(end, lastClose[k] + 1);
    }));
    return end === -1 ? undefined : [start, end];
});
var codePointBefore = (function (text, end) {
    const low = text.charCodeAt(end - 1);
    if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
        const high = text.charCodeAt(end - 2);
        if (high >= 0xd800 && high <= 0xdbff)
            return text.codePointAt(end - 2);
    }
    return low;
});
var fold = (function (text) {
    if (ASCII.test(text))
        return text.toLowerCase().replace(ASCII_SPACE_RUN, " ");
    return text.split(KEPT_FROM_NFKC).map(((part, i) => i % 2 ? part : part.normalize("NFKC")))
        .join("").toLowerCase().replace(SPACE_RUN, " ");
});
export var normalizePrompt = (function (prompt) {
    return trimCourtesy(foldOutsideQuotes(prompt), { punctuationAfterSpace: false, sentence: true });
});
var foldOutsideQuotes = (function (prompt) {
    const text = prompt.normalize("NFC");
    const kept = keptRange(text);
    const folded = kept
        ? fold(text.slice(0, kept[0])) + text.slice(kept[0], kept[1]) + fold(text.slice(kept[1]))
        : fold(text);
    return folded.trim();
});
export var normalizePromptV3 = (function (prompt) {
    return trimCourtesy(foldOutsideQuotes(prompt), { punctuationAfterSpace: false });
});
export var normalizePromptV2 = (function (prompt) {
    return trimCourtesy(prompt.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim(), {
        punctuationAfterSpace: true,
    });
});
var endsSentence = (function (text, start, end) {
    if (end === start)
        return false;
    if (!/[\p{L}'"’”»›」』]/u.test(text[end - 1]))
        return false;
    const word = text.slice(Math.max(start, text.lastIndexOf(" ", end - 1) + 1), end);
    return !/[*?[\]\\^$|(){}<>\/+=~#%&@!]/.test(word);
});
var trimCourtesy = (function (text, rule) {
    let start = 0;
    let end = text.length;
    const trimEnd = (() => {
        while (end > start && text[end - 1] === " ")
            end--;
    });
    const trimStart = (() => {
        while (start < end && text[start] === " ")
            start++;
    });
    const at = ((phrase, from) => text.startsWith(phrase, from));
    let changed = true;
    while (changed) {
        changed = false;
        const before = end;
        while (end > start && FINAL_PUNCTUATION.has(text[end - 1]))
            end--;
        if (!rule.punctuationAfterSpace && end !== before &&
            (end === start || text[end - 1] === " " ||
                (rule.sentence === true && /[!?]/.test(text.slice(end, before)) &&
                    !endsSentence(text, start, end))))
            end = before;
        trimEnd();
        if (end !== before)
            changed = true;
        for (const phrase of PHRASES) {
            if (phrase.length > end - start || !at(phrase, start))
                continue;
            let cut = start + phrase.length;
            if (cut === end) {
            }
            else if (text[cut] === " " && text[cut + 1] === "," && cut + 1 < end)
                cut += 2;
            else if (text[cut] === ",")
                cut += 1;
            else if (text[cut] === " " && !(rule.sentence && SUBJECT_PHRASES.has(phrase))) {
                cut += 1;
            }
            else
                continue;
            start = cut;
            trimStart();
            changed = true;
            break;
        }
        let cut = end;
        for (const phrase of PHRASES) {
            const from = end - phrase.length;
            if (from < start || !at(phrase, from))
                continue;
            if (from === start)
                cut = Math.min(cut, start);
            else if (from - 2 >= start && text[from - 2] === "," && text[from - 1] === " ") {
                cut = Math.min(cut, from - 2);
            }
            else if (text[from - 1] === " " || text[from - 1] === ",")
                cut = Math.min(cut, from - 1);
        }
        if (cut !== end) {
            end = cut;
            trimEnd();
            changed = true;
        }
    }
    return text.slice(start, end);
});
export var normalizePromptLegacyV1 = (function (prompt) {
    let text = prompt.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
    let previous;
    let passes = 0;
    do {
        if (++passes > LEGACY_V1_MAX_PASSES) {
            throw new ValidationError(`The prompt nests courtesy phrases more than ${LEGACY_V1_MAX_PASSES} deep: the rule of ` +
                "template 1 does not read it", { hint: "Regenerate the entry with capibara run --refresh" });
        }
        previous = text;
        text = text.replace(LEGACY_V1_COURTESY, "$1").replace(/\s+/gu, " ").trim();
        text = trimLegacyEnd(text).replace(/^[\s,;:!]+/u, "");
    } while (text !== previous);
    return text;
});
var trimLegacyEnd = (function (text) {
    let end = text.length;
    while (end > 0) {
        const last = String.fromCodePoint(codePointBefore(text, end));
        if (!SPACE_OR_PUNCTUATION.test(last))
            break;
        end -= last.length;
    }
    return text.slice(0, end);
});
export var promptNormalizer = (function (major) {
    return Object.hasOwn(EARLIER_PROMPT_RULES, major)
        ? EARLIER_PROMPT_RULES[major]
        : normalizePrompt;
});
export var templateMajor = (function (templateVersion) {
    return templateVersion.split(".")[0] ?? "0";
});
export var contextShape = (function (value) {
    return shapeOf(value).shape;
});
export var generationContext = (function (context, mode) {
    return mode === "parametric" ? exampleOf(contextShape(context)) : context;
});
var exampleOf = (function (shape) {
    if (Array.isArray(shape))
        return shape.map(exampleOf);
    if (shape !== null && typeof shape === "object") {
        return Object.fromEntries(Object.entries(shape).map((([key, part]) => [key, exampleOf(part)])));
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
});
var shapeOf = (function (value) {
    if (value === null)
        return { shape: "null", json: '"null"' };
    if (Array.isArray(value)) {
        const shapes = new Map();
        for (const item of value) {
            const { shape, json } = shapeOf(item);
            shapes.set(json, shape);
        }
        const order = [...shapes.keys()].sort(codeUnitOrder);
        return { shape: order.map(((json) => shapes.get(json))), json: `[${order.join(",")}]` };
    }
    if (typeof value === "object") {
        const parts = Object.entries(value).map((([key, item]) => [key, shapeOf(item)]));
        const json = [...parts].sort((([a], [b]) => codeUnitOrder(a, b)))
            .map((([key, part]) => `${JSON.stringify(key)}:${part.json}`)).join(",");
        return {
            shape: Object.fromEntries(parts.map((([key, part]) => [key, part.shape]))),
            json: `{${json}}`,
        };
    }
    return { shape: typeof value, json: JSON.stringify(typeof value) };
});
export var checkContext = (function (context) {
    contextSnapshot(context);
});
export var contextSnapshot = (function (context) {
    const seen = new Set();
    const refuse = ((path, why) => new ValidationError(`Cannot use the context: ${path || "the context"} ${why}`, {
        hint: CONTEXT_HINT,
        details: { path },
    }));
    const visit = ((value, path, depth = 0) => {
        switch (typeof value) {
            case "string":
                if (!value.isWellFormed())
                    throw refuse(path, "holds a lone surrogate");
                return value;
            case "number":
                if (!Number.isFinite(value))
                    throw refuse(path, `is ${value}, which JSON cannot hold`);
                return value;
            case "bigint":
                throw refuse(path, "is a BigInt, which JSON cannot hold; pass a number or a string");
            case "function":
            case "symbol":
                throw refuse(path, `is a ${typeof value}, not JSON`);
            case "object": {
                if (value === null)
                    return null;
                const proto = Object.getPrototypeOf(value);
                if (!Array.isArray(value) && proto !== Object.prototype && proto !== null ||
                    typeof value.toJSON === "function") {
                    const kind = proto === Object.prototype || proto === null
                        ? "an object with a toJSON method"
                        : `a ${value.constructor?.name ?? "object of a class"}`;
                    throw refuse(path, `is ${kind}, not a plain JSON object or array`);
                }
                if (seen.has(value))
                    throw refuse(path, "refers to itself (a cycle)");
                if (depth >= MAX_CONTEXT_DEPTH) {
                    throw refuse(path, `is nested deeper than ${MAX_CONTEXT_DEPTH} levels`);
                }
                seen.add(value);
                let copy;
                if (Array.isArray(value)) {
                    copy = Array.from(value, ((item, i) => visit(item, `${path}[${i}]`, depth + 1) ?? null));
                }
                else {
                    const symbol = Object.getOwnPropertySymbols(value)
                        .find(((key) => Object.prototype.propertyIsEnumerable.call(value, key)));
                    if (symbol !== undefined) {
                        throw refuse(path, `has a symbol key (${String(symbol)}), which JSON cannot hold`);
                    }
                    const members = {};
                    for (const [key, item] of Object.entries(value)) {
                        const at = path ? `${path}.${key}` : key;
                        if (!key.isWellFormed())
                            throw refuse(at, "is a key with a lone surrogate");
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
                return value;
        }
    });
    try {
        return visit(context, "");
    }
    catch (error) {
        if (error instanceof ValidationError)
            throw error;
        throw new ValidationError(`Cannot use the context: reading it failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, hint: CONTEXT_HINT });
    }
});
export var canonicalContext = (function (context, mode = "strict") {
    const value = context === undefined ? {} : context;
    checkContext(value);
    let text;
    try {
        text = canonicalize(mode === "parametric" ? contextShape(value) : value);
    }
    catch (error) {
        throw new ValidationError(`Cannot fingerprint the context: ${error instanceof Error ? error.message : error}`, { cause: error, hint: CONTEXT_HINT });
    }
    if (text === undefined) {
        throw new ValidationError("Cannot fingerprint the context: it is not JSON", {
            hint: 'Pass a JSON object, e.g. --context \'{"input": "data.csv"}\'',
        });
    }
    return text;
});
export var fingerprint = (async function (prompt, context, options = {}) {
    const language = options.language ?? "python";
    const major = templateMajor(options.templateVersion ?? TEMPLATE_VERSION);
    if (prompt.length > MAX_PROMPT_LENGTH) {
        throw new ValidationError(`The prompt is ${prompt.length} characters long; at most ${MAX_PROMPT_LENGTH} are taken`, {
            hint: "Say what the script should do in a few sentences, and pass data in --context",
            details: { length: prompt.length, max: MAX_PROMPT_LENGTH },
        });
    }
    if (!PROMPT_TEXT.test(prompt)) {
        throw new ValidationError(`The prompt holds ${PROMPT_TEXT_RULE}`, { hint: "Say what the script should do in plain text" });
    }
    const prompt_normalized = promptNormalizer(major)(prompt);
    if (prompt_normalized === "") {
        throw new ValidationError("The prompt is empty", {
            hint: 'Say what the script should do, e.g. capibara run "Summarise data.csv"',
        });
    }
    const context_normalized = canonicalContext(context, options.mode);
    const fields = [prompt_normalized, context_normalized, language, major];
    if (options.mode === "parametric" && !options.modeUnhashed)
        fields.push("parametric");
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
});
import canonicalize from "npm:canonicalize@^5.1.0";
import { COURTESY_PHRASES, TEMPLATE_VERSION } from "./contract/contract.js";
import { MAX_PROMPT_LENGTH, PROMPT_TEXT, PROMPT_TEXT_RULE } from "./types.js";
import { ValidationError } from "./errors.js";
import { sha256 } from "./_hash.js";
export const IDENTITY_FIELDS = [
    "fingerprint",
    "prompt_sha",
    "context_sha",
    "language",
    "mode",
];
;
const PHRASES = [...COURTESY_PHRASES].sort(((a, b) => b.length - a.length));
const FINAL_PUNCTUATION = new Set([".", "!", "?", "…"]);
const KEPT_FROM_NFKC = /([\p{No}\p{Lm}\u00aa\u00ba\u2070-\u209f\u2100-\u214f\u3300-\u33ff]+)/u;
const QUOTES = [
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
const WORD_CHARACTER = /(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}])[\p{L}\p{N}\p{M}]/u;
;
const MARKS = new Set(QUOTES.flatMap(((kind) => [...kind.open, ...kind.close])));
;
;
const ASCII = /^[^\u0080-\uffff]*$/;
const ASCII_SPACE_RUN = /[\t\n\v\f\r ]+/g;
const SPACE_RUN = /[^\S\ufeff]+/gu;
;
;
;
;
;
const SUBJECT_PHRASES = new Set(["thanks", "thank you"]);
;
;
const LEGACY_V1_COURTESY_PHRASES = [
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
const LEGACY_V1_MAX_PASSES = 64;
const LEGACY_V1_COURTESY = new RegExp(`(^|\\s)(?:${[...LEGACY_V1_COURTESY_PHRASES].sort(((a, b) => b.length - a.length)).map(((p) => p.replace(/ /g, "\\s+"))).join("|")})(?=\\s|$|[,.;:!?])[,;:!]?`, "gu");
;
const SPACE_OR_PUNCTUATION = /^[\s\p{P}]$/u;
;
export const EARLIER_PROMPT_RULES = {
    "1": normalizePromptLegacyV1,
    "2": normalizePromptV2,
    "3": normalizePromptV3,
};
;
;
;
;
;
const codeUnitOrder = ((a, b) => (a < b ? -1 : a > b ? 1 : 0));
;
const CONTEXT_HINT = "Pass plain JSON values: strings of whole Unicode characters, finite numbers, booleans, null, " +
    "arrays and objects";
export const MAX_CONTEXT_DEPTH = 256;
;
;
;
;
