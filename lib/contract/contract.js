// Generated from src/contract/contract.ts by scripts/build_js.ts (sha256 a8538ea405b5a059dab5978c28624db288d9892df6ec99709df049a480cfa958): do not edit; `deno task build:js` writes it.
export var reviewTextProblem = (function (script) {
    if (!/[^\t\n\x20-\x7e]/.test(script))
        return undefined;
    const found = /[\r\u2028\u2029]|[\0-\x08\v\f\x0e-\x1f\x7f-\x9f]|\p{Default_Ignorable_Code_Point}/u
        .exec(script);
    if (found === null)
        return undefined;
    const char = found[0];
    const line = script.slice(0, found.index).split("\n").length;
    const code = `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    const what = char === "\r" || char === "\u2028" || char === "\u2029"
        ? `${char === "\r" ? "a carriage return" : code}, where Python or JavaScript would end a ` +
            "line that a review reads as one: lines must end with a line feed alone"
        : /\p{Cc}/u.test(char)
            ? `the control character ${code}${char === "\f" ? " (a form feed)" : ""}, which a review ` +
                "shows as an escape and Python may read otherwise (a form feed resets a line's indentation)"
            : `the invisible character ${code}, which no terminal or diff shows and a name may hold`;
    return `line ${line} holds ${what}; write it as an escape in a string`;
});
export const TEMPLATE_VERSION = "4.0.0";
export const COURTESY_PHRASES = [
    "please",
    "could you",
    "can you",
    "kindly",
    "thanks",
    "thank you",
];
export const COMMENT_LEADERS = {
    python: "#",
    typescript: "//",
    bash: "#",
};
export const HEADER_START = "--- CAPIBARA ---";
export const HEADER_END = "--- /CAPIBARA ---";
export const ALLOWED_IMPORTS = {
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
export const NETWORK_IMPORTS = {
    python: ["http.client", "socket", "ssl", "urllib.request"],
    typescript: ["node:http", "node:https", "node:net", "node:tls"],
    bash: ["curl", "wget"],
};
;
