/**
 * The python checks. Python's own `ast` module reads the script, in `py_analyzer.py`: it only
 * parses (it never runs the script) and prints imports, calls, string literals and environment
 * reads as JSON. It runs through the same sandbox backend as scripts (no network, nothing of the
 * host but the interpreter's files), or, where no backend works, as `python3 -I` with an empty
 * environment. Without any python, a token scan stands in.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "../../_path.ts";
import PY_ANALYZER from "./py_analyzer.py" with { type: "text" };
import { type CommandSpec, execCommand, type ExecResult } from "../../exec.ts";
import { tail } from "../../errors.ts";
import { isInside, removeIfExists } from "../../_fs.ts";
import { Memo } from "../../_memo.ts";
import { DEFAULT_PATH } from "../../_which.ts";
import type { SandboxBackend, SandboxPolicy } from "../../sandbox/types.ts";
import { probePython } from "../../runtimes/_python_probe.ts";
import { ALLOWED_IMPORTS, NETWORK_IMPORTS } from "../contract.ts";
import { parseRequirement, RequirementError } from "../requirements.ts";
import {
  blank,
  type CheckContext,
  checkCredentialPath,
  checkEnvRead,
  deleteMessage,
  DOES_NOT_PARSE,
  lineIndex,
  riskyPath,
} from "./_common.ts";

/** A script with its comments blanked (`code`) and, besides, its string contents (`bare`). */
interface Scan {
  code: string;
  bare: string;
  /** String literals, with the offset of their first character. */
  strings: { value: string; offset: number }[];
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

/** The interpreter behind a `python` name: its real executable and its installation prefix. */
interface Interpreter {
  exe: string;
  prefix: string;
}

/** Whether an interpreter runs inside a backend, per backend and executable (see `known`). */
const confinable = new WeakMap<SandboxBackend, Map<string, { runs: boolean; until: number }>>();
/** The probes under way, per backend and executable. */
const probing = new WeakMap<SandboxBackend, Memo<string, boolean>>();

const PY_FLAGS = ["-I", "-S", "-X", "utf8"];
/** Limits of the sandboxed analysis: it parses one file. */
const ANALYSIS_MEMORY_BYTES = 512 * 1024 ** 2;
const ANALYSIS_MAX_PROCESSES = 8;

/** Options of {@linkcode checkPython}. */
export interface PythonCheckOptions {
  /** Python interpreter that parses the script (a name looked up on `env.PATH`, or a path). */
  python: string;
  /** Time limit of the analysis in milliseconds. */
  timeoutMs: number;
  /** The caller's environment: its PATH finds the interpreter; nothing else reaches the analyser. */
  env: Readonly<Record<string, string | undefined>>;
  /** The backend confining the analyser; undefined runs it as `python -I` with an empty environment. */
  backend: SandboxBackend | undefined;
}

function parseAnalysis(stdout: string): PyAnalysis | undefined {
  try {
    const value = JSON.parse(stdout);
    return value && typeof value === "object" ? value as PyAnalysis : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The real interpreter behind `python` (pyenv's shims resolved), from the probe the runtime shares
 * (one start of the interpreter for a generation's checks and its environment); undefined when it
 * does not run or is older than 3.8 (whose `ast` the analyser does not read).
 */
async function resolveInterpreter(
  program: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Interpreter | undefined> {
  let probe;
  try {
    probe = await probePython(program, env);
  } catch {
    return undefined; // no such interpreter, or not Python 3
  }
  const [, minor = 0] = probe.version.split(".").map(Number);
  if (minor < 8 || !isAbsolute(probe.realExecutable)) return undefined;
  return { exe: probe.realExecutable, prefix: probe.realBasePrefix };
}

/** What the sandboxed analyser may touch: the interpreter's files, its work dir, a temp dir. */
function analyzerPolicy(interpreter: Interpreter, workdir: string, tmpDir: string): SandboxPolicy {
  // The work dir holds only the analyser and the script: granted whole (a workdir not granted is
  // shown empty but for what is granted inside it).
  const read: string[] = [workdir];
  for (const path of [interpreter.prefix, dirname(interpreter.exe)]) {
    if (!isAbsolute(path) || path === "/" || read.some((dir) => isInside(path, dir))) continue;
    read.push(path);
  }
  return {
    network: [],
    read,
    write: [],
    protect: [],
    workdir,
    tmpDir,
    memoryBytes: ANALYSIS_MEMORY_BYTES,
    maxProcesses: ANALYSIS_MAX_PROCESSES,
  };
}

/** A private folder holding the analyser and the script (`work`) and a temp dir (`tmp`). */
async function analysisDir(script: string): Promise<{ root: string; work: string; tmp: string }> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_checks_" }));
  const work = join(root, "work");
  const tmp = join(root, "tmp");
  // Readable by a root run's sandbox uid, and writable by no other whatever the umask.
  await Deno.mkdir(work, { mode: 0o755 });
  await Deno.mkdir(tmp, { mode: 0o755 });
  await Deno.writeTextFile(join(work, "analyzer.py"), PY_ANALYZER);
  await Deno.writeTextFile(join(work, "script.py"), script);
  return { root, work, tmp };
}

/** Runs the analyser on the files of `dir`, confined by `backend` when one is given. */
async function runAnalyzer(
  interpreter: Interpreter,
  dir: { work: string; tmp: string },
  backend: SandboxBackend | undefined,
  timeoutMs: number,
): Promise<ExecResult> {
  const spec: CommandSpec = {
    program: interpreter.exe,
    args: [...PY_FLAGS, join(dir.work, "analyzer.py"), join(dir.work, "script.py")],
    env: {},
    cwd: dir.work,
  };
  const limits = { timeoutMs, maxOutputBytes: 32_000_000 };
  // No sandbox: the analyser only parses the script, it never runs it; -I ignores PYTHON*
  // variables and the user's site directory, and the environment is empty.
  if (!backend) return await execCommand(spec, limits);
  const wrapped = await backend.wrap(spec, analyzerPolicy(interpreter, dir.work, dir.tmp));
  try {
    return await execCommand(wrapped.spec, limits);
  } finally {
    await wrapped.close();
  }
}

/** How long "the interpreter does not run in this backend" holds before the sandbox is tried again. */
const UNCONFINED_FOR_MS = 60_000;

/** What this process knows of an interpreter in a backend; undefined: nothing (yet, or again). */
function known(backend: SandboxBackend, interpreter: Interpreter): boolean | undefined {
  const state = confinable.get(backend)?.get(interpreter.exe);
  if (state === undefined) return undefined;
  if (!state.runs && Date.now() > state.until) {
    confinable.get(backend)?.delete(interpreter.exe);
    return undefined;
  }
  return state.runs;
}

/** Remembers whether `interpreter` runs inside `backend` (that it does not, for a minute). */
function remember(backend: SandboxBackend, interpreter: Interpreter, runs: boolean): void {
  let states = confinable.get(backend);
  if (!states) confinable.set(backend, states = new Map());
  states.set(interpreter.exe, { runs, until: Date.now() + UNCONFINED_FOR_MS });
}

/** Whether an analysis of one import runs inside `backend` now (one probe at a time). */
function probeConfined(backend: SandboxBackend, interpreter: Interpreter): Promise<boolean> {
  const running = probing.get(backend) ?? new Memo<string, boolean>();
  probing.set(backend, running);
  const probe = running.get(interpreter.exe, async () => {
    if (!(await backend.available()).ok) return false;
    const dir = await analysisDir("import os\n");
    try {
      const out = await runAnalyzer(interpreter, dir, backend, 15_000);
      return out.code === 0 && Array.isArray(parseAnalysis(out.stdout)?.imports);
    } catch {
      return false;
    } finally {
      await removeIfExists(dir.root);
    }
  });
  return probe.finally(() => running.clear(interpreter.exe));
}

/** The backend the analysis tries first: none where it is known not to run, or is not there. */
async function firstBackend(
  backend: SandboxBackend | undefined,
  interpreter: Interpreter,
): Promise<SandboxBackend | undefined> {
  if (!backend) return undefined;
  const state = known(backend, interpreter);
  if (state !== undefined) return state ? backend : undefined;
  return (await backend.available()).ok ? backend : undefined;
}

/** Runs the `ast` analysis; a string is why it could not run (a finding); undefined: no python. */
async function analysePython(
  script: string,
  options: PythonCheckOptions,
): Promise<PyAnalysis | string | undefined> {
  // Looked up by name on the env option's PATH (never the process's), as the runtime does: the
  // two share one probe, which says when there is none. A look-up that found nothing is not kept:
  // the next analysis looks again (a start that failed once would otherwise leave the process
  // with the token scan, which compiles nothing).
  const path = options.env.PATH ?? DEFAULT_PATH;
  const interpreter = await resolveInterpreter(options.python, { ...options.env, PATH: path });
  if (!interpreter) return undefined;
  let backend = await firstBackend(options.backend, interpreter);
  const dir = await analysisDir(script);
  try {
    for (;;) {
      let out: ExecResult;
      try {
        out = await runAnalyzer(interpreter, dir, backend, options.timeoutMs);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        // Where the sandbox has worked in this process, a failure is never a reason to go on
        // without it: the script is refused (fails closed).
        if (!backend || known(backend, interpreter) === true) {
          return `the python analysis failed: ${why}`;
        }
        // It cannot wrap here: go on as where none exists.
        remember(backend, interpreter, false);
        backend = undefined;
        continue;
      }
      if (out.timedOut) {
        return `the python analysis did not finish within ${options.timeoutMs} ms`;
      }
      const analysis = out.code === 0 ? parseAnalysis(out.stdout) : undefined;
      if (analysis) {
        if (backend) remember(backend, interpreter, true);
        return analysis;
      }
      if (backend && known(backend, interpreter) === undefined) {
        // Nothing is known yet: the sandbox, or the script? An analysis of one import says.
        if (/^bwrap:/m.test(out.stderr) || !(await probeConfined(backend, interpreter))) {
          remember(backend, interpreter, false);
          backend = undefined;
          continue;
        }
        remember(backend, interpreter, true);
      }
      return `the python analysis failed: ${tail(out.stderr || out.stdout, 300) || "no output"}`;
    }
  } finally {
    await removeIfExists(dir.root);
  }
}

/** How many strings of its line a call's first argument is taken to hold, at most. */
const FRAGMENTS = 64;

/** The index of the first string at or after `offset` (the strings are in the script's order). */
function firstStringAt(strings: readonly { offset: number }[], offset: number): number {
  let [low, high] = [0, strings.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (strings[middle]!.offset < offset) low = middle + 1;
    else high = middle;
  }
  return low;
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
    // The module's name starts with a word character: `(\.*)([\w.]*)` read a run of dots both
    // ways (quadratic in `from ....`).
    const from = /^\s*from\s+(\.*)(\w[\w.]*)?\s+import\s+\(?([^)]*)/.exec(text);
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
    // The strings from the call's parenthesis to the end of its line, as the analyser's fragments
    // of the first argument (at most FRAGMENTS of them): found from the first by bisection, not by
    // a pass over all the script's strings for each call.
    const frag0: string[] = [];
    for (
      let i = firstStringAt(scan.strings, open);
      i < scan.strings.length && frag0.length < FRAGMENTS;
      i++
    ) {
      const string = scan.strings[i]!;
      if (lineEnd >= 0 && string.offset >= lineEnd) break;
      frag0.push(string.value);
    }
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
  // A standard module with a rule of its own is never a requirement's, whatever its name
  // suggests (`http-tools` provides no `http`, `importlib-metadata` no `importlib`).
  for (const module of NETWORK_IMPORTS.python) provided.delete(module.split(".")[0]!);
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

/** Runs the python rules on `ctx.script`. */
export async function checkPython(
  ctx: CheckContext,
  options: PythonCheckOptions,
): Promise<void> {
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
    ctx.add("syntax", DOES_NOT_PARSE + analysis.syntax_error, analysis.syntax_line);
    return;
  }
  checkPythonImports(ctx, analysis);
  checkPythonCalls(ctx, analysis);
  for (const { name, line } of analysis.env) checkEnvRead(ctx, name, line);
  for (const { value, line, doc } of analysis.strings) {
    if (!doc) checkCredentialPath(ctx, value, line);
  }
}
