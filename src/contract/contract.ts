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
export const TEMPLATE_VERSION = "3.0.0";

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
 * Why a script would not run as a review reads it, or undefined: its lines must end with a line
 * feed alone. Python also ends a line at a carriage return, and JavaScript at one and at U+2028
 * and U+2029, where a review (`capibara show --script` prints each as an escape) reads one line:
 * a statement after one, in a comment, would run unseen. Checked on the model's reply and on every
 * read of a stored entry (a repository can commit one).
 */
export function lineBreakProblem(script: string): string | undefined {
  const found = /[\r\u2028\u2029]/.exec(script);
  if (found === null) return undefined;
  const line = script.slice(0, found.index).split("\n").length;
  const what = found[0] === "\r"
    ? "a carriage return"
    : `U+${found[0].codePointAt(0)!.toString(16).toUpperCase()}`;
  return `line ${line} holds ${what}: lines must end with a line feed alone (Python or ` +
    "JavaScript would end a line there that a review reads as one)";
}
