/**
 * Static checks of generated scripts, run before a script is stored (and on demand on stored
 * ones). They are defence in depth, not the boundary: the sandbox is. A finding names the rule, the
 * line and what to do instead, phrased for the model that wrote the script.
 *
 * How each language is read:
 * - python: Python's own `ast` module, in a small program that only parses the script (it never
 *   runs it) and prints imports, calls, string literals and environment reads as JSON. It runs
 *   inside bubblewrap (no network, no host files but the interpreter's) when bwrap works here, else
 *   as `python3 -I` with an empty environment. Without any python, a token scan stands in.
 * - typescript: a token scan (comments and string contents are told apart from code, imports and
 *   a list of dangerous names are matched). Weaker than the python analysis: aliases of `Deno`
 *   (`const d = Deno; d.Command`) and computed names (`Deno[name]`) are not followed.
 * - bash: a token scan that finds the command word of each simple command (after assignments,
 *   keywords and wrappers such as `env`, `xargs` or `sudo`) and checks its arguments. Code built at
 *   run time (`bash -c "$x"`) is not followed.
 *
 * Rules (the `rule` of a {@linkcode Finding}): `import` (python modules outside the template's
 * list and the requirements; TS specifiers other than listed `node:` built-ins and pinned `npm:`
 * requirements), `network` (network modules, calls or tools without `needs.network`),
 * `shell-execution`, `native-code` (ctypes, `Deno.dlopen`), `dynamic-code` (eval/exec of computed
 * code, `new Function`, bash `eval`), `dynamic-import`, `raw-socket`, `delete-outside` (deleting
 * absolute, `..` or `~` paths), `credential-path`, `secret` (API-key-shaped literals, anywhere in
 * the file), `env` (reads of variables not in `needs.env`), `remote-access`,
 * `privilege-escalation`, `persistence`, `git-config`, `git-hooks`, `shell-startup`,
 * `remote-code` (bash); `syntax` and `analysis` when the script cannot be analysed.
 *
 * @module
 */
import type { Bundle } from "../../schema.ts";
import { execCommand } from "../../exec.ts";
import { tail } from "../../errors.ts";
import { ALLOWED_IMPORTS, NETWORK_IMPORTS } from "../contract.ts";
import { parseRequirement, RequirementError } from "../requirements.ts";

/** One problem found in a script. */
export interface Finding {
  /** Machine-readable rule name (`import`, `shell-execution`, `secret`, …). */
  rule: string;
  /** What is wrong and what to do instead, phrased for the model. */
  message: string;
  /** 1-based line of the script, when known. */
  line?: number;
  /** Every finding blocks the script. */
  severity: "error";
}

/** Options of {@linkcode staticChecks}. */
export interface StaticChecksOptions {
  /** Python interpreter that parses python scripts (default `python3` on PATH). */
  python?: string;
  /** Time limit of the python analysis in milliseconds (default 15000). */
  timeoutMs?: number;
}

/**
 * Runs the static checks of `bundle.script` for its language and returns what they found (empty
 * when the script passes). Never throws for a bad script: a script the checker cannot analyse is a
 * finding.
 */
export async function staticChecks(
  bundle: Bundle,
  options: StaticChecksOptions = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (rule: string, message: string, line?: number) =>
    findings.push({ rule, message, ...(line === undefined ? {} : { line }), severity: "error" });
  const ctx: CheckContext = {
    script: bundle.script,
    requirements: bundle.requirements,
    network: bundle.needs.network.length > 0,
    env: new Set(bundle.needs.env),
    add,
  };
  if (bundle.language === "python") await checkPython(ctx, options);
  else if (bundle.language === "typescript") checkTypeScript(ctx);
  else checkBash(ctx);
  checkSecrets(ctx);
  return dedupe(findings);
}

const MAX_LISTED = 30;

/** One line per finding (`line 12: shell execution (subprocess.run) is not allowed`). */
export function formatFindings(findings: readonly Finding[]): string {
  const lines = findings.slice(0, MAX_LISTED).map((f) =>
    f.line === undefined ? f.message : `line ${f.line}: ${f.message}`
  );
  if (findings.length > MAX_LISTED) {
    lines.push(`… and ${findings.length - MAX_LISTED} more findings`);
  }
  return lines.join("\n");
}

// --- shared ----------------------------------------------------------------------------------

interface CheckContext {
  script: string;
  requirements: string[];
  network: boolean;
  env: Set<string>;
  add(rule: string, message: string, line?: number): void;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    const key = `${f.rule}\u0000${f.line}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.line ?? 0) - (b.f.line ?? 0) || a.i - b.i)
    .map(({ f }) => f);
}

/** 1-based line of each offset of `text`. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Environment variables every script may read. */
const BASIC_ENV = new Set(["HOME", "TMPDIR", "PATH", "LANG", "TZ"]);

function checkEnvRead(ctx: CheckContext, name: string, line: number): void {
  if (BASIC_ENV.has(name) || ctx.env.has(name)) return;
  ctx.add(
    "env",
    `environment variable ${name} is read but not declared: list it in needs.env, or do not ` +
      `read it`,
    line,
  );
}

/** Files holding someone's credentials: a script has no reason to name them. */
const CREDENTIAL_PATHS: readonly [RegExp, string][] = [
  [/\.ssh\b/, "~/.ssh"],
  [/\bid_(?:rsa|dsa|ecdsa|ed25519)\b/, "an SSH private key"],
  [/\.aws[/\\](?:credentials|config)\b/, "~/.aws/credentials"],
  [/\.netrc\b/, "~/.netrc"],
  [/\.git-credentials\b/, "~/.git-credentials"],
  [/\.docker[/\\]config\.json\b/, "~/.docker/config.json"],
  [/\/etc\/(?:g?shadow)\b/, "/etc/shadow"],
  [/\.kube[/\\]config\b/, "~/.kube/config"],
  [/\.gnupg\b/, "~/.gnupg"],
  [/\.pgpass\b/, "~/.pgpass"],
  [/\.pypirc\b/, "~/.pypirc"],
];

function checkCredentialPath(ctx: CheckContext, text: string, line: number): void {
  for (const [pattern, what] of CREDENTIAL_PATHS) {
    if (pattern.test(text)) {
      ctx.add(
        "credential-path",
        `credential file (${what}) must not be read or written: secrets come only from ` +
          `environment variables listed in needs.env`,
        line,
      );
      return;
    }
  }
}

/** Shapes of well-known secrets. Matched on the whole script, comments included. */
const SECRETS: readonly { pattern: RegExp; what: string; check?: (m: string) => boolean }[] = [
  { pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, what: "an API key", check: (m) => /\d/.test(m) },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36}/g, what: "a GitHub token" },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/g, what: "a GitHub token" },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/g, what: "an AWS access key id" },
  { pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}/g, what: "a Slack token" },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}/g, what: "a Google API key" },
  { pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, what: "a private key" },
];

function checkSecrets(ctx: CheckContext): void {
  const lineAt = lineIndex(ctx.script);
  for (const { pattern, what, check } of SECRETS) {
    for (const m of ctx.script.matchAll(pattern)) {
      if (check && !check(m[0])) continue;
      ctx.add(
        "secret",
        `hard-coded secret (${what}, "${m[0].slice(0, 4)}…"): never write secrets into a script; ` +
          `read them from an environment variable listed in needs.env`,
        lineAt(m.index ?? 0),
      );
    }
  }
}

/** A path argument that points outside what the context names: absolute, `..` or `~`. */
function riskyPath(head: string | null | undefined, fragments: readonly string[]): string | null {
  if (head && /^(?:\/|~|[A-Za-z]:[\\/]|\\\\|\$HOME\b|\$\{HOME\})/.test(head)) return head;
  for (const f of fragments) {
    if (/(?:^|[\\/])\.\.(?:[\\/]|$)/.test(f) || f.startsWith("~")) return f;
  }
  return null;
}

function deleteMessage(what: string, path: string): string {
  const target = path === "~" ? "a path in the home directory" : JSON.stringify(path);
  return `deleting ${target} (${what}) is not allowed: delete only the outputs ` +
    `and temporary files named by the context, by relative paths`;
}

// --- scanners --------------------------------------------------------------------------------

/** A script with its comments blanked (`code`) and, besides, its string contents (`bare`). */
interface Scan {
  code: string;
  bare: string;
  /** String literals, with the offset of their first character. */
  strings: { value: string; offset: number }[];
}

/** Replaces `[from, to)` with spaces, keeping newlines so that offsets and lines stay put. */
function blank(chars: string[], from: number, to: number): void {
  for (let k = from; k < to && k < chars.length; k++) if (chars[k] !== "\n") chars[k] = " ";
}

const JS_REGEX_KEYWORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** Tells comments, strings, template literals and regex literals of JS/TS apart from code. */
function scanTypeScript(src: string): Scan {
  const code = src.split("");
  const bare = src.split("");
  const strings: Scan["strings"] = [];
  const templates: number[] = []; // brace depth at each open `${`
  let depth = 0;
  let last = "";
  let word = "";
  let i = 0;

  function template(start: number): number {
    let j = start;
    while (j < src.length) {
      const ch = src[j];
      if (ch === "\\") {
        j += 2;
        continue;
      }
      if (ch === "`" || (ch === "$" && src[j + 1] === "{")) {
        strings.push({ value: src.slice(start, j), offset: start });
        blank(bare, start, j);
        if (ch === "`") {
          last = "`";
          return j + 1;
        }
        templates.push(depth);
        last = "{";
        return j + 2;
      }
      j++;
    }
    strings.push({ value: src.slice(start), offset: start });
    blank(bare, start, src.length);
    return src.length;
  }

  while (i < src.length) {
    const c = src[i] ?? "";
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      strings.push({ value: src.slice(i + 1, j), offset: i + 1 });
      blank(bare, i + 1, j);
      i = j + 1;
      last = c;
      continue;
    }
    if (c === "`") {
      i = template(i + 1);
      continue;
    }
    if (c === "}" && templates.length > 0 && depth === templates[templates.length - 1]) {
      templates.pop();
      i = template(i + 1);
      continue;
    }
    if (c === "/") {
      const operand = /[\w$)\].]/.test(last) && !(/\w/.test(last) && JS_REGEX_KEYWORDS.has(word));
      if (!operand) {
        let j = i + 1;
        let inClass = false;
        while (j < src.length && src[j] !== "\n") {
          const ch = src[j];
          if (ch === "\\") {
            j += 2;
            continue;
          }
          if (ch === "[") inClass = true;
          else if (ch === "]") inClass = false;
          else if (ch === "/" && !inClass) break;
          j++;
        }
        blank(bare, i + 1, j);
        i = j + 1;
        last = ")";
        continue;
      }
    }
    if (c === "{") depth++;
    else if (c === "}") depth--;
    if (/[\w$]/.test(c)) word = /[\w$]/.test(last) && src[i - 1] === last ? word + c : c;
    if (!/\s/.test(c)) last = c;
    i++;
  }
  return { code: code.join(""), bare: bare.join(""), strings };
}

/** Tells comments and string literals (all prefixes, triple quotes) of Python apart from code. */
function scanPythonText(src: string): Scan {
  const code = src.split("");
  const bare = src.split("");
  const strings: Scan["strings"] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? "";
    if (c === "#") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
      continue;
    }
    const prefix = /^[rRbBuUfF]{0,2}(?="|')/.exec(src.slice(i, i + 3));
    if (prefix && (i === 0 || !/\w/.test(src[i - 1] ?? ""))) {
      const q = i + prefix[0].length;
      const quote = src.startsWith('"""', q) || src.startsWith("'''", q)
        ? src.slice(q, q + 3)
        : src[q] ?? '"';
      const start = q + quote.length;
      let j = start;
      while (j < src.length && !src.startsWith(quote, j)) {
        if (quote.length === 1 && src[j] === "\n") break;
        j += src[j] === "\\" ? 2 : 1;
      }
      strings.push({ value: src.slice(start, j), offset: start });
      blank(bare, start, j);
      i = j + quote.length;
      continue;
    }
    i++;
  }
  return { code: code.join(""), bare: bare.join(""), strings };
}

/**
 * Comments of a bash script blanked (`code`); in `bare`, besides, the whitespace and operators
 * inside quotes and heredocs become `_`, so that splitting `bare` at operators and blanks yields
 * the shell's words (command substitutions inside double quotes stay code).
 */
function scanBash(src: string): { code: string; bare: string } {
  const code = src.split("");
  const bare = src.split("");
  type Frame = "code" | "dq" | "subst" | "backtick";
  const stack: Frame[] = ["code"];
  const parens: number[] = [0];
  const heredocs: { delimiter: string; strip: boolean }[] = [];
  const inert = (k: number) => {
    if (/[\s;&|()<>`]/.test(src[k] ?? "")) bare[k] = "_";
  };
  let i = 0;
  while (i < src.length) {
    const frame = stack[stack.length - 1] ?? "code";
    const c = src[i] ?? "";
    if (frame === "dq") {
      if (c === "\\") {
        inert(i);
        inert(i + 1);
        i += 2;
      } else if (c === '"') {
        stack.pop();
        i++;
      } else if (c === "$" && src[i + 1] === "(") {
        stack.push("subst");
        parens.push(1);
        i += 2;
      } else if (c === "`") {
        stack.push("backtick");
        i++;
      } else {
        inert(i);
        i++;
      }
      continue;
    }
    if (c === "\\") {
      if (src[i + 1] === "\n") bare[i] = " ";
      else inert(i + 1);
      i += 2;
      continue;
    }
    if (c === "#" && (i === 0 || /[\s;&|()]/.test(src[i - 1] ?? ""))) {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(code, i, stop);
      blank(bare, i, stop);
      i = stop;
      continue;
    }
    if (c === "'" || (c === "$" && src[i + 1] === "'")) {
      const ansi = c === "$";
      let j = i + (ansi ? 2 : 1);
      while (j < src.length && src[j] !== "'") j += ansi && src[j] === "\\" ? 2 : 1;
      for (let k = i; k < j; k++) inert(k);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      stack.push("dq");
      i++;
      continue;
    }
    if (c === "$" && src[i + 1] === "(") {
      stack.push("subst");
      parens.push(1);
      i += 2;
      continue;
    }
    if (c === "`") {
      if (frame === "backtick") stack.pop();
      else stack.push("backtick");
      i++;
      continue;
    }
    if (frame === "subst" && (c === "(" || c === ")")) {
      const top = parens.length - 1;
      parens[top] = (parens[top] ?? 0) + (c === "(" ? 1 : -1);
      if (parens[top] === 0) {
        parens.pop();
        stack.pop();
      }
      i++;
      continue;
    }
    const heredoc = /^<<(-?)[ \t]*(["']?)([A-Za-z_][\w-]*)\2/.exec(src.slice(i, i + 80));
    if (heredoc && src[i + 2] !== "<") {
      heredocs.push({ delimiter: heredoc[3] ?? "", strip: heredoc[1] === "-" });
      i += heredoc[0].length;
      continue;
    }
    if (c === "\n" && heredocs.length > 0) {
      let j = i + 1;
      for (const { delimiter, strip } of heredocs.splice(0)) {
        while (j < src.length) {
          const end = src.indexOf("\n", j);
          const stop = end < 0 ? src.length : end;
          const text = src.slice(j, stop);
          for (let k = j; k < stop; k++) inert(k);
          if (end >= 0) bare[end] = "_";
          j = stop + 1;
          if ((strip ? text.replace(/^\t+/, "") : text) === delimiter) break;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  return { code: code.join(""), bare: bare.join("") };
}

// --- python ------------------------------------------------------------------------------------

/** What the python analysis reports. */
interface PyAnalysis {
  imports: { module: string; names?: string[]; level?: number; line: number; dynamic?: boolean }[];
  calls: {
    name: string | null;
    line: number;
    /** Attribute name when the call is a method of a value (not of a module). */
    method?: string;
    /** True when every positional argument is a literal. */
    args_literal: boolean;
    /** The first argument's value when it is a literal string. */
    arg0?: string | null;
    /** The literal start of the first argument (`"/etc"` of `os.path.join("/etc", x)`). */
    head0?: string | null;
    /** String literals inside the first argument (`~` stands for a home directory lookup). */
    frag0?: string[];
    recv_head?: string | null;
    recv_frag?: string[];
    /** `getattr` when the call was spelt `getattr(module, "name")`. */
    via?: string;
  }[];
  strings: { value: string; line: number; doc?: boolean }[];
  env: { name: string; line: number }[];
  syntax_error?: string;
  syntax_line?: number;
  error?: string;
}

/**
 * The python side of the analysis: parses the file named by argv[1] with `ast` and prints facts as
 * JSON. It never executes the script. Names are resolved through the script's imports
 * (`from subprocess import run as r` makes `r()` a call of `subprocess.run`) and through names
 * assigned exactly once (`p = "/etc/passwd"; os.remove(p)`).
 */
const PY_ANALYZER = `
import ast, json, sys

PATHLIKE = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath",
            "os.path.join", "os.fspath", "str", "os.path.abspath", "os.path.normpath",
            "os.path.realpath", "os.path.expanduser"}
PATH_METHODS = {"expanduser", "resolve", "absolute", "joinpath", "with_name", "with_suffix"}
ENV_CALLS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"}
DYNAMIC_IMPORTS = {"__import__", "builtins.__import__", "importlib.import_module"}
DYNAMIC_CODE = {"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}


def analyse(source, depth=0):
    out = {"imports": [], "calls": [], "strings": [], "env": []}
    try:
        tree = ast.parse(source, "script.py")
    except SyntaxError as exc:
        out["syntax_error"] = "%s (line %s)" % (exc.msg, exc.lineno)
        out["syntax_line"] = exc.lineno
        return out
    except (ValueError, RecursionError, MemoryError) as exc:
        out["syntax_error"] = "%s: %s" % (type(exc).__name__, exc)
        return out

    aliases, bindings, values, docs = {}, {}, {}, set()

    def bind(name):
        bindings[name] = bindings.get(name, 0) + 1

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                aliases[a.asname or top] = a.name if a.asname else top
                bind(a.asname or top)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if node.level == 0 and node.module and a.name != "*":
                    aliases[a.asname or a.name] = node.module + "." + a.name
                bind(a.asname or a.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bind(node.id)
        elif isinstance(node, ast.arg):
            bind(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif type(node).__name__ in ("MatchAs", "MatchStar") and getattr(node, "name", None):
            bind(node.name)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \\
                and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \\
                and node.value is not None:
            values[node.target.id] = node.value
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \\
                and node.body and isinstance(node.body[0], ast.Expr) \\
                and isinstance(node.body[0].value, ast.Constant):
            docs.add(id(node.body[0].value))

    def single(name):
        return values.get(name) if bindings.get(name) == 1 else None

    def dotted(e):
        if isinstance(e, ast.Name):
            return aliases.get(e.id, e.id)
        if isinstance(e, ast.Attribute):
            base = dotted(e.value)
            return None if base is None else base + "." + e.attr
        return None

    def rooted(e):
        while isinstance(e, ast.Attribute):
            e = e.value
        return isinstance(e, ast.Name) and e.id in aliases

    def text(value):
        return value.decode("latin-1") if isinstance(value, bytes) else value

    def literal(e, depth=0):
        if e is None or depth > 6:
            return None
        if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
            return text(e.value)
        if isinstance(e, ast.JoinedStr):
            parts = [literal(v, depth + 1) for v in e.values]
            return None if None in parts else "".join(parts)
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Div)):
            left, right = literal(e.left, depth + 1), literal(e.right, depth + 1)
            if left is None or right is None:
                return None
            return left + right if isinstance(e.op, ast.Add) else left.rstrip("/") + "/" + right
        if isinstance(e, ast.Call) and dotted(e.func) in PATHLIKE and e.args and not e.keywords:
            parts = [literal(a, depth + 1) for a in e.args]
            return None if None in parts else "/".join(parts)
        if isinstance(e, ast.Name):
            return literal(single(e.id), depth + 1)
        return None

    def head(e, depth=0):
        if e is None or depth > 6:
            return None
        if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
            return text(e.value)
        if isinstance(e, ast.JoinedStr):
            return head(e.values[0], depth + 1) if e.values else ""
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Div)):
            return head(e.left, depth + 1)
        if isinstance(e, ast.Call):
            name = dotted(e.func) or ""
            if name.endswith("Path.home"):
                return "~"
            if name in PATHLIKE and e.args:
                return head(e.args[0], depth + 1)
            if isinstance(e.func, ast.Attribute) and e.func.attr in PATH_METHODS \\
                    and not rooted(e.func):
                return head(e.func.value, depth + 1)
        if isinstance(e, ast.Name):
            return head(single(e.id), depth + 1)
        return None

    def fragments(e, depth=0):
        found = []
        if e is None or depth > 3:
            return found
        for n in ast.walk(e):
            if isinstance(n, ast.Constant) and isinstance(n.value, (str, bytes)):
                found.append(text(n.value))
            elif isinstance(n, ast.Name) and single(n.id) is not None:
                found.extend(fragments(single(n.id), depth + 1))
            elif isinstance(n, ast.Call):
                name = dotted(n.func) or ""
                if name.endswith("Path.home") or name == "os.path.expanduser" \\
                        or (isinstance(n.func, ast.Attribute) and n.func.attr == "expanduser"):
                    found.append("~")
        return found[:50]

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for a in node.names:
                out["imports"].append({"module": a.name, "line": line})
        elif isinstance(node, ast.ImportFrom):
            out["imports"].append({"module": node.module or "", "line": line,
                                   "names": [a.name for a in node.names], "level": node.level})
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            entry = {"value": text(node.value), "line": line}
            if id(node) in docs:
                entry["doc"] = True
            out["strings"].append(entry)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \\
                and dotted(node.value) == "os.environ":
            key = node.slice.value if type(node.slice).__name__ == "Index" else node.slice
            name = literal(key)
            if name is not None:
                out["env"].append({"name": name, "line": line})
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            first = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in ("path", "src", "name", "key")), None)
            call = {"name": name, "line": line,
                    "args_literal": all(not isinstance(a, ast.Starred) and literal(a) is not None
                                        for a in node.args),
                    "arg0": literal(first), "head0": head(first), "frag0": fragments(first)}
            if isinstance(node.func, ast.Attribute) and not rooted(node.func):
                call["method"] = node.func.attr
                call["recv_head"] = head(node.func.value)
                call["recv_frag"] = fragments(node.func.value)
            out["calls"].append(call)
            if name in ENV_CALLS and call["arg0"] is not None:
                out["env"].append({"name": call["arg0"], "line": line})
            if name in DYNAMIC_IMPORTS and call["arg0"] is not None:
                out["imports"].append({"module": call["arg0"], "line": line, "dynamic": True})
            if name == "getattr" and len(node.args) >= 2 and rooted(node.args[0]):
                target, attr = dotted(node.args[0]), literal(node.args[1])
                if target is not None and attr is not None:
                    out["calls"].append({"name": target + "." + attr, "line": line,
                                         "args_literal": False, "via": "getattr"})
            if name in DYNAMIC_CODE and call["arg0"] is not None and depth < 3:
                # Literal code is analysed too, its findings reported on the line of the call.
                inner = analyse(call["arg0"], depth + 1)
                for key in ("imports", "calls", "strings", "env"):
                    for item in inner.get(key, []):
                        item["line"] = line
                        out[key].append(item)
    return out


def main():
    with open(sys.argv[1], "rb") as fh:
        source = fh.read()
    try:
        out = analyse(source)
    except Exception as exc:
        out = {"error": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write(json.dumps(out))


main()
`;

/** How to run the python analysis on this machine. */
interface PythonRunner {
  /** The real interpreter (pyenv shims resolved). */
  exe: string;
  /** bwrap and the binds the interpreter needs; undefined when bwrap does not work here. */
  sandbox?: { bwrap: string; args: string[] };
}

/** Resolved interpreters, per `python` option; undefined when no usable python exists. */
const runners = new Map<string, Promise<PythonRunner | undefined>>();

const PY_FLAGS = ["-I", "-S", "-X", "utf8"];
const SCRIPT_IN_SANDBOX = "/tmp/script.py";

function interpreterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION", "SYSTEMROOT"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch {
    return null;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  let path = "/usr/local/bin:/usr/bin:/bin";
  try {
    path = Deno.env.get("PATH") ?? path;
  } catch {
    // no env permission: the default list
  }
  for (const dir of path.split(":")) {
    if (!dir) continue;
    try {
      const info = await Deno.stat(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/** bwrap arguments up to (not including) the command: a fresh root with the interpreter only. */
async function sandboxArgs(exe: string, prefix: string): Promise<string[]> {
  const args = ["--unshare-all", "--die-with-parent", "--new-session"];
  // Root keeps its capabilities inside the namespace unless dropped; a setuid bwrap refuses
  // --cap-drop from other users (and drops everything for them anyway).
  let root = false;
  try {
    root = Deno.uid() === 0;
  } catch {
    // no sys permission: assume an ordinary user
  }
  if (root) args.push("--cap-drop", "ALL");
  args.push("--ro-bind", "/usr", "/usr");
  for (const path of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    const info = await lstatOrNull(path);
    if (info?.isSymlink) args.push("--symlink", await Deno.readLink(path), path);
    else if (info?.isDirectory) args.push("--ro-bind", path, path);
  }
  args.push("--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache");
  const binds: string[] = [];
  const exeDir = exe.slice(0, exe.lastIndexOf("/")) || "/";
  for (const path of [prefix, exeDir]) {
    if (path === "/" || under(path, "/usr") || binds.some((b) => under(path, b))) continue;
    binds.push(path);
  }
  for (const path of binds) args.push("--ro-bind", path, path);
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  return args;
}

/** The command that analyses `file` (a host path) with `runner`. */
function analyzerCommand(
  runner: PythonRunner,
  file: string,
  cwd: string,
): { program: string; args: string[]; env: Record<string, string>; cwd: string } {
  if (runner.sandbox) {
    return {
      program: runner.sandbox.bwrap,
      args: [
        ...runner.sandbox.args,
        "--ro-bind",
        file,
        SCRIPT_IN_SANDBOX,
        "--chdir",
        "/tmp",
        runner.exe,
        ...PY_FLAGS,
        "-c",
        PY_ANALYZER,
        SCRIPT_IN_SANDBOX,
      ],
      env: {},
      cwd,
    };
  }
  // No sandbox: the analyzer only parses the script, it never runs it; -I ignores PYTHON* variables
  // and the user's site directory, and the environment is empty.
  return { program: runner.exe, args: [...PY_FLAGS, "-c", PY_ANALYZER, file], env: {}, cwd };
}

function parseAnalysis(stdout: string): PyAnalysis | undefined {
  try {
    const value = JSON.parse(stdout);
    return value && typeof value === "object" ? value as PyAnalysis : undefined;
  } catch {
    return undefined;
  }
}

/** Finds the real interpreter behind `python` and whether bwrap can run it here. */
async function resolveRunner(python: string, cwd: string): Promise<PythonRunner | undefined> {
  let result;
  try {
    result = await execCommand({
      program: python,
      args: [
        "-I",
        "-c",
        "import sys, os, json; print(json.dumps({'exe': os.path.realpath(sys.executable), " +
        "'prefix': os.path.realpath(sys.base_prefix), 'version': list(sys.version_info[:2])}))",
      ],
      env: interpreterEnv(),
      cwd,
    }, { timeoutMs: 15_000, maxOutputBytes: 64_000 });
  } catch {
    return undefined; // no such interpreter
  }
  if (result.code !== 0) return undefined;
  let info: { exe: string; prefix: string; version: [number, number] };
  try {
    info = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    return undefined;
  }
  const [major = 0, minor = 0] = info.version;
  if (major < 3 || (major === 3 && minor < 8) || !info.exe) return undefined;

  const runner: PythonRunner = { exe: info.exe };
  if (Deno.build.os !== "linux") return runner;
  const bwrap = await findOnPath("bwrap");
  if (!bwrap) return runner;
  const candidate: PythonRunner = {
    exe: info.exe,
    sandbox: { bwrap, args: await sandboxArgs(info.exe, info.prefix) },
  };
  const probe = `${cwd}/probe.py`;
  await Deno.writeTextFile(probe, "import os\n");
  try {
    const out = await execCommand(analyzerCommand(candidate, probe, cwd), {
      timeoutMs: 15_000,
      maxOutputBytes: 64_000,
    });
    const analysis = out.code === 0 ? parseAnalysis(out.stdout) : undefined;
    return analysis?.imports?.[0]?.module === "os" ? candidate : runner;
  } catch {
    return runner;
  } finally {
    await Deno.remove(probe).catch(() => {});
  }
}

/** Runs the `ast` analysis; a string is why it could not run (a finding). */
async function analysePython(
  script: string,
  options: StaticChecksOptions,
): Promise<PyAnalysis | string | undefined> {
  const python = options.python ?? "python3";
  const timeoutMs = options.timeoutMs ?? 15_000;
  const dir = await Deno.makeTempDir({ prefix: "capibara_checks_" });
  try {
    let pending = runners.get(python);
    if (!pending) {
      pending = resolveRunner(python, dir);
      runners.set(python, pending);
    }
    let runner = await pending;
    if (!runner) return undefined;
    const file = `${dir}/script.py`;
    await Deno.writeTextFile(file, script);
    for (;;) {
      const out = await execCommand(analyzerCommand(runner, file, dir), {
        timeoutMs,
        maxOutputBytes: 32_000_000,
      });
      if (out.timedOut) return `the python analysis did not finish within ${timeoutMs} ms`;
      const analysis = out.code === 0 ? parseAnalysis(out.stdout) : undefined;
      if (analysis) return analysis;
      if (runner.sandbox && /^bwrap:/m.test(out.stderr)) {
        // bwrap worked at the probe and broke since: go on without it for this process.
        runner = { exe: runner.exe };
        runners.set(python, Promise.resolve(runner));
        continue;
      }
      return `the python analysis failed: ${tail(out.stderr || out.stdout, 300) || "no output"}`;
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A weaker stand-in for the `ast` analysis when no python is available: a token scan. */
function scanPythonAnalysis(script: string): PyAnalysis {
  const scan = scanPythonText(script);
  const lineAt = lineIndex(script);
  const aliases = new Map<string, string>();
  const imports: PyAnalysis["imports"] = [];
  scan.bare.split("\n").forEach((text, index) => {
    const line = index + 1;
    const plain = /^\s*import\s+(.+)$/.exec(text);
    if (plain) {
      for (const part of (plain[1] ?? "").split(",")) {
        const m = /^\s*([\w.]+)(?:\s+as\s+(\w+))?/.exec(part);
        if (!m?.[1]) continue;
        const top = m[1].split(".")[0] ?? m[1];
        aliases.set(m[2] ?? top, m[2] ? m[1] : top);
        imports.push({ module: m[1], line });
      }
    }
    const from = /^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?([^)]*)/.exec(text);
    if (from) {
      const module = from[2] ?? "";
      const names: string[] = [];
      for (const part of (from[3] ?? "").split(",")) {
        const m = /^\s*(\w+|\*)(?:\s+as\s+(\w+))?/.exec(part);
        if (!m?.[1]) continue;
        names.push(m[1]);
        if (m[1] !== "*" && module) aliases.set(m[2] ?? m[1], `${module}.${m[1]}`);
      }
      imports.push({ module, names, level: (from[1] ?? "").length, line });
    }
  });
  const stringAt = new Map(scan.strings.map((s) => [s.offset, s.value]));
  const calls: PyAnalysis["calls"] = [];
  const env: PyAnalysis["env"] = [];
  for (const m of scan.bare.matchAll(/(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(/g)) {
    const written = (m[1] ?? "").replace(/\s+/g, "");
    const [root = "", ...rest] = written.split(".");
    const name = [aliases.get(root) ?? root, ...rest].join(".");
    const open = (m.index ?? 0) + m[0].length;
    const quoted = /^\s*[rRbBuUfF]{0,2}("""|'''|"|')/.exec(script.slice(open, open + 40));
    const arg0 = quoted ? stringAt.get(open + quoted[0].length) ?? null : null;
    const lineEnd = script.indexOf("\n", open);
    const frag0 = scan.strings
      .filter((s) => s.offset >= open && (lineEnd < 0 || s.offset < lineEnd))
      .map((s) => s.value);
    const line = lineAt(m.index ?? 0);
    calls.push({ name, line, args_literal: arg0 !== null, arg0, head0: arg0, frag0 });
    if (["os.environ.get", "os.getenv"].includes(name) && arg0 !== null) {
      env.push({ name: arg0, line });
    }
    if (["__import__", "importlib.import_module"].includes(name) && arg0 !== null) {
      imports.push({ module: arg0, line, dynamic: true });
    }
  }
  for (const m of scan.code.matchAll(/\benviron\s*\[\s*[rbuRBU]?(["'])([^"'\n]*)\1\s*\]/g)) {
    env.push({ name: m[2] ?? "", line: lineAt(m.index ?? 0) });
  }
  return {
    imports,
    calls,
    env,
    strings: scan.strings.map((s) => ({ value: s.value, line: lineAt(s.offset) })),
  };
}

/** Import names a distribution is known to provide, when they differ from its name. */
const IMPORT_NAMES: Readonly<Record<string, readonly string[]>> = {
  pillow: ["pil"],
  opencv_python: ["cv2"],
  opencv_python_headless: ["cv2"],
  opencv_contrib_python: ["cv2"],
  opencv_contrib_python_headless: ["cv2"],
  beautifulsoup4: ["bs4"],
  pyyaml: ["yaml"],
  scikit_learn: ["sklearn"],
  scikit_image: ["skimage"],
  python_dateutil: ["dateutil"],
  moviepy: ["moviepy"],
  pymupdf: ["fitz", "pymupdf"],
  pycryptodome: ["crypto"],
  pycryptodomex: ["cryptodome"],
  protobuf: ["google"],
  attrs: ["attr", "attrs"],
  pyjwt: ["jwt"],
};

/** Lower-case top-level module names the requirements plausibly provide. */
function requirementModules(requirements: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const requirement of requirements) {
    let dist: string;
    try {
      dist = parseRequirement(requirement).name.replaceAll("-", "_");
    } catch (error) {
      // An invalid requirement provides nothing; the contract refuses it on its own.
      if (error instanceof RequirementError) continue;
      throw error;
    }
    names.add(dist);
    for (const known of IMPORT_NAMES[dist] ?? []) names.add(known);
    names.add(dist.split("_")[0] ?? dist);
    names.add(dist.replace(/^python_/, "").replace(/_python$/, ""));
    names.add(dist.replace(/^py/, ""));
  }
  return names;
}

/** Modules with a rule of their own (the generic import rule does not repeat them). */
function dedicatedImportRule(ctx: CheckContext, module: string, line: number): boolean {
  const top = module.split(".")[0] ?? module;
  if (top === "subprocess" || top === "pty") {
    ctx.add("shell-execution", `shell execution (import ${module}) is not allowed`, line);
    return true;
  }
  if (top === "ctypes" || top === "_ctypes" || top === "cffi") {
    ctx.add("native-code", `native code (import ${module}) is not allowed`, line);
    return true;
  }
  if (top === "socket" && !ctx.network) {
    ctx.add(
      "raw-socket",
      `raw sockets (import ${module}) are not allowed without network access: list the hosts ` +
        `in needs.network`,
      line,
    );
    return true;
  }
  return false;
}

function checkPythonImports(ctx: CheckContext, analysis: PyAnalysis): void {
  const allowed = new Set(ALLOWED_IMPORTS.python);
  const network = new Set(NETWORK_IMPORTS.python);
  const provided = requirementModules(ctx.requirements);
  const within = (module: string, set: Set<string>) => {
    const parts = module.split(".");
    return parts.some((_, i) => set.has(parts.slice(0, i + 1).join(".")));
  };
  for (const entry of analysis.imports) {
    const { module, line } = entry;
    if ((entry.level ?? 0) > 0) {
      ctx.add(
        "import",
        `relative import (from ${".".repeat(entry.level ?? 0)}${module} import …) is not ` +
          `allowed: a script is a single file`,
        line,
      );
      continue;
    }
    if (module === "") continue;
    if (dedicatedImportRule(ctx, module, line)) continue;
    if (within(module, allowed)) continue;
    if (provided.has((module.split(".")[0] ?? "").toLowerCase())) continue;
    // `from urllib import parse` imports the submodule urllib.parse: check each name as one.
    const units = entry.names && entry.names.length > 0 && !entry.names.includes("*")
      ? entry.names.map((n) => `${module}.${n}`)
      : [module];
    for (const unit of units) {
      if (within(unit, allowed)) continue;
      if (within(unit, network)) {
        if (!ctx.network) {
          ctx.add(
            "network",
            `network access (import ${unit}) needs the hosts listed in needs.network`,
            line,
          );
        }
        continue;
      }
      ctx.add(
        "import",
        `import of ${module} is not allowed: use the standard library modules of the ` +
          `template, or add the package, pinned as "name==version", to requirements`,
        line,
      );
      break;
    }
  }
}

const PY_SHELL =
  /^(?:os\.(?:system|popen|fork|forkpty|posix_spawnp?|exec\w*|spawn\w*)|subprocess\.\w+|pty\.(?:spawn|fork)|asyncio\.create_subprocess_(?:exec|shell)|platform\.popen)$/;
const PY_DYNAMIC_CODE = new Set([
  "eval",
  "exec",
  "compile",
  "builtins.eval",
  "builtins.exec",
  "builtins.compile",
]);
const PY_DYNAMIC_IMPORT = new Set(["__import__", "builtins.__import__", "importlib.import_module"]);
const PY_DELETE = new Set(["os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree"]);
const PY_SOCKET = new Set(["socket.socket", "socket.create_connection", "socket.socketpair"]);

function checkPythonCalls(ctx: CheckContext, analysis: PyAnalysis): void {
  for (const call of analysis.calls) {
    const { name, line } = call;
    const via = call.via ? ` via ${call.via}` : "";
    if (name !== null && PY_SHELL.test(name)) {
      ctx.add("shell-execution", `shell execution (${name}${via}) is not allowed`, line);
    } else if (name !== null && PY_DYNAMIC_CODE.has(name) && !call.via && call.arg0 == null) {
      ctx.add(
        "dynamic-code",
        `${name}() of a non-literal argument is not allowed: write the code out`,
        line,
      );
    } else if (name !== null && PY_DYNAMIC_IMPORT.has(name) && !call.via && call.arg0 == null) {
      ctx.add(
        "dynamic-import",
        `${name}() of a computed module name is not allowed: import modules by name`,
        line,
      );
    } else if (name !== null && PY_SOCKET.has(name) && !ctx.network) {
      ctx.add(
        "raw-socket",
        `raw sockets (${name}) are not allowed without network access: list the hosts in ` +
          `needs.network`,
        line,
      );
    } else if (name !== null && name.split(".")[0] === "ctypes" && call.via) {
      ctx.add("native-code", `native code (${name}${via}) is not allowed`, line);
    }
    if (name !== null && PY_DELETE.has(name) && !call.method) {
      const path = riskyPath(call.head0, call.frag0 ?? []);
      if (path !== null) ctx.add("delete-outside", deleteMessage(name, path), line);
    } else if (call.method === "unlink" || call.method === "rmdir") {
      const path = riskyPath(call.recv_head, call.recv_frag ?? []);
      if (path !== null) {
        ctx.add("delete-outside", deleteMessage(`Path.${call.method}`, path), line);
      }
    }
  }
}

async function checkPython(ctx: CheckContext, options: StaticChecksOptions): Promise<void> {
  const result = await analysePython(ctx.script, options);
  if (typeof result === "string") {
    ctx.add("analysis", `the script could not be analysed: ${result}`);
    return;
  }
  const analysis = result ?? scanPythonAnalysis(ctx.script);
  if (analysis.error) {
    ctx.add("analysis", `the script could not be analysed: ${analysis.error}`);
    return;
  }
  if (analysis.syntax_error) {
    ctx.add("syntax", `the script does not parse: ${analysis.syntax_error}`, analysis.syntax_line);
    return;
  }
  checkPythonImports(ctx, analysis);
  checkPythonCalls(ctx, analysis);
  for (const { name, line } of analysis.env) checkEnvRead(ctx, name, line);
  for (const { value, line, doc } of analysis.strings) {
    if (!doc) checkCredentialPath(ctx, value, line);
  }
}

// --- typescript ------------------------------------------------------------------------------

const TS_PATTERNS: readonly {
  pattern: RegExp;
  rule: string;
  message: (m: RegExpMatchArray) => string;
  needsNoNetwork?: boolean;
  on: "bare" | "code";
}[] = [
  {
    pattern: /\bDeno\s*\.\s*(Command|run)\b/g,
    rule: "shell-execution",
    message: (m) => `shell execution (Deno.${m[1]}) is not allowed`,
    on: "bare",
  },
  {
    pattern: /\bDeno\s*\[\s*(["'`])(Command|run)\1\s*\]/g,
    rule: "shell-execution",
    message: (m) => `shell execution (Deno.${m[2]}) is not allowed`,
    on: "code",
  },
  {
    pattern: /\{[^{}]*\b(Command|run|dlopen)\b[^{}]*\}\s*=\s*Deno\b/g,
    rule: "shell-execution",
    message: (m) => `shell execution (Deno.${m[1]}) is not allowed`,
    on: "bare",
  },
  {
    pattern: /\bDeno\s*(?:\.\s*dlopen\b|\[\s*(["'`])dlopen\1)/g,
    rule: "native-code",
    message: () => "native code (Deno.dlopen) is not allowed",
    on: "code",
  },
  {
    pattern: /(?<![\w$.])eval(?![\w$])|\b(?:globalThis|window|self)\s*\.\s*eval\b/g,
    rule: "dynamic-code",
    message: () => "eval is not allowed: write the code out",
    on: "bare",
  },
  {
    pattern: /\bnew\s+Function\b|(?<![\w$.])Function\s*\(/g,
    rule: "dynamic-code",
    message: () => "new Function is not allowed: write the code out",
    on: "bare",
  },
  {
    pattern:
      /\bDeno\s*\.\s*(connect|connectTls|listen|listenTls|listenDatagram|startTls|serve|resolveDns)\b/g,
    rule: "network",
    message: (m) => `network access (Deno.${m[1]}) needs the hosts listed in needs.network`,
    needsNoNetwork: true,
    on: "bare",
  },
  {
    pattern: /(?<![\w$.])fetch\s*\(|\bnew\s+(WebSocket|EventSource)\b/g,
    rule: "network",
    message: (m) => `network access (${m[1] ?? "fetch"}) needs the hosts listed in needs.network`,
    needsNoNetwork: true,
    on: "bare",
  },
];

/** Import specifiers of a comment-stripped TS source, with their offsets. */
function tsImports(code: string): { specifier: string | null; offset: number }[] {
  const found: { specifier: string | null; offset: number }[] = [];
  const statics =
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?(["'])([^"'\n]+)\1/g;
  for (const m of code.matchAll(statics)) {
    if (/^export\s+(?:type\s+)?[\w$]/.test(m[0]) && !/\bfrom\s/.test(m[0])) continue;
    found.push({ specifier: m[2] ?? "", offset: m.index ?? 0 });
  }
  for (const m of code.matchAll(/(?<![\w$.])(?:import|require)\s*\(\s*([^)]*)\)?/g)) {
    const literal = /^(["'`])([^"'`\n]*)\1\s*$/.exec((m[1] ?? "").trim());
    found.push({ specifier: literal ? literal[2] ?? "" : null, offset: m.index ?? 0 });
  }
  return found;
}

function checkTsImport(ctx: CheckContext, specifier: string, line: number): void {
  if (/^\.{1,2}\//.test(specifier)) return;
  if (specifier.startsWith("node:")) {
    const base = specifier.split("/")[0] ?? specifier;
    if (base === "node:child_process") {
      ctx.add("shell-execution", `shell execution (import "${specifier}") is not allowed`, line);
      return;
    }
    const allowed = ALLOWED_IMPORTS.typescript;
    if (allowed.includes(specifier) || allowed.includes(base)) return;
    if (NETWORK_IMPORTS.typescript.includes(base)) {
      if (!ctx.network) {
        ctx.add(
          "network",
          `network access (import "${specifier}") needs the hosts listed in needs.network`,
          line,
        );
      }
      return;
    }
    ctx.add(
      "import",
      `import "${specifier}" is not allowed: use only ${allowed.join(", ")}`,
      line,
    );
    return;
  }
  if (specifier.startsWith("npm:")) {
    const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?/.exec(specifier);
    const name = (m?.[1] ?? "").toLowerCase();
    const pinned = ctx.requirements
      .map((r) => /^\s*((?:@[^/=\s]+\/)?[^=\s]+)\s*==\s*(\S+)/.exec(r))
      .find((r) => (r?.[1] ?? "").toLowerCase() === name);
    if (!pinned) {
      ctx.add(
        "import",
        `import "${specifier}" is not in requirements: add it pinned as "${name}==version"`,
        line,
      );
    } else if (m?.[2] !== pinned[2]) {
      ctx.add(
        "import",
        `import "${specifier}" must name the pinned version exactly: "npm:${name}@${pinned[2]}"`,
        line,
      );
    }
    return;
  }
  if (ALLOWED_IMPORTS.typescript.includes(`node:${specifier.split("/")[0]}`)) {
    ctx.add("import", `import "${specifier}" is not allowed: write "node:${specifier}"`, line);
    return;
  }
  if (specifier === "child_process") {
    ctx.add("shell-execution", `shell execution (import "${specifier}") is not allowed`, line);
    return;
  }
  ctx.add(
    "import",
    `import "${specifier}" is not allowed: import only "node:" built-ins and "npm:" packages ` +
      `listed in requirements`,
    line,
  );
}

function checkTypeScript(ctx: CheckContext): void {
  const scan = scanTypeScript(ctx.script);
  const lineAt = lineIndex(ctx.script);
  for (const { pattern, rule, message, needsNoNetwork, on } of TS_PATTERNS) {
    if (needsNoNetwork && ctx.network) continue;
    for (const m of scan[on].matchAll(pattern)) ctx.add(rule, message(m), lineAt(m.index ?? 0));
  }
  for (const { specifier, offset } of tsImports(scan.code)) {
    if (specifier === null) {
      ctx.add(
        "dynamic-import",
        "import() of a computed specifier is not allowed: import modules by name",
        lineAt(offset),
      );
    } else {
      checkTsImport(ctx, specifier, lineAt(offset));
    }
  }
  const envReads =
    /\bDeno\s*\.\s*env\s*\.\s*get\s*\(\s*(["'`])([^"'`\n]*)\1\s*\)|\bprocess\s*\.\s*env\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*(["'`])([^"'`\n]*)\4\s*\])/g;
  for (const m of scan.code.matchAll(envReads)) {
    checkEnvRead(ctx, m[2] ?? m[3] ?? m[5] ?? "", lineAt(m.index ?? 0));
  }
  for (const { value, offset } of scan.strings) checkCredentialPath(ctx, value, lineAt(offset));
}

// --- bash ------------------------------------------------------------------------------------

const BASH_KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "for",
  "case",
  "esac",
  "function",
  "select",
  "time",
  "!",
  "{",
  "}",
  "[[",
  "]]",
  "coproc",
]);
/** Commands that run their arguments as a command. */
const BASH_WRAPPERS = new Set([
  "exec",
  "command",
  "builtin",
  "nohup",
  "env",
  "nice",
  "timeout",
  "stdbuf",
  "xargs",
  "sudo",
  "doas",
]);
const BASH_REMOTE = new Set([
  "nc",
  "ncat",
  "netcat",
  "socat",
  "telnet",
  "ssh",
  "scp",
  "sftp",
]);
const BASH_ESCALATE = new Set(["sudo", "su", "doas", "pkexec"]);

function unquote(word: string): string {
  return word.replace(/\\(.)/g, "$1").replace(/["']/g, "");
}

function checkBashCommand(ctx: CheckContext, command: string, args: string[], line: number): void {
  if ((command === "curl" || command === "wget") && !ctx.network) {
    ctx.add("network", `network access (${command}) needs the hosts listed in needs.network`, line);
  } else if (BASH_REMOTE.has(command)) {
    ctx.add("remote-access", `remote shell or raw network tool (${command}) is not allowed`, line);
  } else if (BASH_ESCALATE.has(command)) {
    ctx.add("privilege-escalation", `privilege escalation (${command}) is not allowed`, line);
  } else if (command === "eval") {
    ctx.add("dynamic-code", "eval is not allowed: write the command out", line);
  } else if (command === "crontab") {
    ctx.add("persistence", "crontab is not allowed: a script must not schedule itself", line);
  } else if (command === "git" && args.find((a) => !a.startsWith("-")) === "config") {
    ctx.add("git-config", "git config is not allowed", line);
  } else if (command === "rm") {
    let options = true;
    for (const arg of args) {
      if (options && arg === "--") {
        options = false;
        continue;
      }
      if (options && arg.startsWith("-")) continue;
      const path = riskyPath(arg, [arg]);
      if (path !== null) ctx.add("delete-outside", deleteMessage("rm", path), line);
    }
  }
}

function checkBash(ctx: CheckContext): void {
  const { code, bare } = scanBash(ctx.script);
  const lineAt = lineIndex(ctx.script);
  for (const segment of bare.matchAll(/[^;&|()\n`]+/g)) {
    const words = [...(segment[0] ?? "").matchAll(/\S+/g)];
    let index = 0;
    const skip = (test: (w: string) => boolean) => {
      while (index < words.length && test(unquote(words[index]?.[0] ?? ""))) index++;
    };
    skip((w) => BASH_KEYWORDS.has(w) || /^\w+=/.test(w) || w === "$");
    for (;;) {
      const word = words[index];
      if (!word) break;
      const command = unquote(word[0]).split("/").at(-1) ?? "";
      const line = lineAt((segment.index ?? 0) + (word.index ?? 0));
      if (!BASH_WRAPPERS.has(command)) {
        checkBashCommand(ctx, command, words.slice(index + 1).map((w) => unquote(w[0])), line);
        break;
      }
      if (BASH_ESCALATE.has(command)) checkBashCommand(ctx, command, [], line);
      // `command -v curl` asks whether curl exists; it does not run it.
      if (command === "command" && /^-[vV]$/.test(unquote(words[index + 1]?.[0] ?? ""))) break;
      index++;
      skip((w) => w.startsWith("-") || /^\w+=/.test(w) || (command === "timeout" && /^\d/.test(w)));
    }
  }
  const rules: [RegExp, string, (m: RegExpMatchArray) => string, boolean?][] = [
    [
      /\b(?:curl|wget)\b[^\n;]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b/g,
      "remote-code",
      () => "running downloaded code (curl … | sh) is not allowed",
    ],
    [
      /\/dev\/(tcp|udp)\//g,
      "network",
      (m) => `network access (/dev/${m[1]}) needs the hosts listed in needs.network`,
      true,
    ],
    [/\.git\/hooks\b/g, "git-hooks", () => "git hooks (.git/hooks) must not be touched"],
    [
      /(?:^|[\s"'=/:])\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv)(?![\w.-])/gm,
      "shell-startup",
      (m) => `shell startup file (~/.${m[1]}) must not be touched`,
    ],
  ];
  for (const [pattern, rule, message, needsNoNetwork] of rules) {
    if (needsNoNetwork && ctx.network) continue;
    for (const m of code.matchAll(pattern)) ctx.add(rule, message(m), lineAt(m.index ?? 0));
  }
  const codeLines = code.split("\n");
  codeLines.forEach((text, index) => checkCredentialPath(ctx, text, index + 1));
}
