/**
 * The generation contract's constants, a leaf every other module may import: the template
 * version (its major part is in every fingerprint), the courtesy phrases fingerprints ignore, the
 * header block's markers, and the imports a script may use without asking.
 *
 * @module
 */
import type { Language } from "../schema.ts";

/**
 * Version of the template. Its major part is part of every fingerprint, and names the prompt
 * normalisation rule: majors 1 and 2 are earlier rules (kept only to find and re-key older
 * entries), major 3 the rule of src/fingerprint.ts.
 */
export const TEMPLATE_VERSION = "4.0.0";

/**
 * Courtesy phrases a fingerprint ignores, only at the very start or the very end of a prompt and
 * only as whole words (see `normalizePrompt()`). Part of the template: changing it is a new major.
 */
export const COURTESY_PHRASES: readonly string[] = [
  "please",
  "could you",
  "can you",
  "kindly",
  "thanks",
  "thank you",
];

/** Comment leader of each language's header block. */
export const COMMENT_LEADERS: Readonly<Record<Language, string>> = {
  python: "#",
  typescript: "//",
  bash: "#",
};

/** First line of the header block, after the comment leader. */
export const HEADER_START = "--- CAPIBARA ---";
/** Last line of the header block, after the comment leader. */
export const HEADER_END = "--- /CAPIBARA ---";

/**
 * Imports (python modules, TypeScript specifiers) or commands (bash) a script may use without
 * asking, besides the packages in its `requirements`. For the static checks.
 */
export const ALLOWED_IMPORTS: Readonly<Record<Language, readonly string[]>> = {
  python: [
    "__future__",
    "abc",
    "argparse",
    "array",
    "base64",
    "binascii",
    "bisect",
    "calendar",
    "cmath",
    "codecs",
    "collections",
    "collections.abc",
    "colorsys",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "io",
    "itertools",
    "json",
    "locale",
    "logging",
    "lzma",
    "math",
    "mimetypes",
    "numbers",
    "operator",
    "os",
    "os.path",
    "pathlib",
    "pprint",
    "random",
    "re",
    "shutil",
    "statistics",
    "string",
    "struct",
    "sys",
    "tarfile",
    "tempfile",
    "textwrap",
    "time",
    "tomllib",
    "traceback",
    "types",
    "typing",
    "unicodedata",
    "urllib.parse",
    "uuid",
    "warnings",
    "xml.etree.ElementTree",
    "zipfile",
    "zlib",
    "zoneinfo",
  ],
  typescript: [
    "node:assert",
    "node:buffer",
    "node:crypto",
    "node:events",
    "node:fs",
    "node:fs/promises",
    "node:os",
    "node:path",
    "node:process",
    "node:readline",
    "node:stream",
    "node:string_decoder",
    "node:url",
    "node:util",
    "node:zlib",
  ],
  bash: [
    "awk",
    "basename",
    "cat",
    "cmp",
    "cp",
    "cut",
    "date",
    "diff",
    "dirname",
    "du",
    "echo",
    "env",
    "expr",
    "find",
    "grep",
    "gzip",
    "head",
    "jq",
    "ls",
    "md5sum",
    "mkdir",
    "mktemp",
    "mv",
    "paste",
    "printf",
    "readlink",
    "realpath",
    "rm",
    "sed",
    "seq",
    "sha256sum",
    "sort",
    "stat",
    "tail",
    "tar",
    "tee",
    "touch",
    "tr",
    "uniq",
    "wc",
    "xargs",
  ],
};

/**
 * Imports that reach the network: allowed only when the script lists hosts in `needs.network`.
 * For the static checks.
 */
export const NETWORK_IMPORTS: Readonly<Record<Language, readonly string[]>> = {
  python: ["http.client", "socket", "ssl", "urllib.request"],
  typescript: ["node:http", "node:https", "node:net", "node:tls"],
  bash: ["curl", "wget"],
};

/**
 * Why a script would not run as a review reads it, or undefined. What a review reads is what
 * `capibara show --script` prints (each control character as an escape) or a diff shows, so the
 * script may hold none of these:
 * - a line break but a line feed alone: Python ends a line at a carriage return, JavaScript at
 *   one and at U+2028 and U+2029, where a review reads one line (a statement after one, in a
 *   comment, would run unseen);
 * - any other control character but a tab: Python resets a line's indentation at a form feed
 *   (`        \f    x = 1` reads as nested eight deep and runs at four);
 * - a character no terminal or diff draws (Unicode's default-ignorable code points: a variation
 *   selector, a zero-width joiner, a Hangul filler), which Python and JavaScript take into a name,
 *   so two names that read the same are two variables.
 *
 * Strings and comments may spell any of them as an escape (`"\u200d"`). Checked on the model's
 * reply and on every read of a stored entry (a repository can commit one).
 */
export function reviewTextProblem(script: string): string | undefined {
  // Printable ASCII, tabs and line feeds (most scripts) need no look at Unicode's tables, whose
  // first use costs a fresh process (a cache hit's) about half a millisecond.
  if (!/[^\t\n\x20-\x7e]/.test(script)) return undefined;
  // deno-lint-ignore no-control-regex -- control characters are what it looks for
  const found = /[\r\u2028\u2029]|[\0-\x08\v\f\x0e-\x1f\x7f-\x9f]|\p{Default_Ignorable_Code_Point}/u
    .exec(script);
  if (found === null) return undefined;
  const char = found[0];
  const line = script.slice(0, found.index).split("\n").length;
  const code = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  const what = char === "\r" || char === "\u2028" || char === "\u2029"
    ? `${char === "\r" ? "a carriage return" : code}, where Python or JavaScript would end a ` +
      "line that a review reads as one: lines must end with a line feed alone"
    : /\p{Cc}/u.test(char)
    ? `the control character ${code}${char === "\f" ? " (a form feed)" : ""}, which a review ` +
      "shows as an escape and Python may read otherwise (a form feed resets a line's indentation)"
    : `the invisible character ${code}, which no terminal or diff shows and a name may hold`;
  return `line ${line} holds ${what}; write it as an escape in a string`;
}
