// Generated from src/contract/checks/python.ts by scripts/build_js.ts (sha256 58c0db7c48ce333109b7514b7dfb2807cbe3c0da88bee8ec92b3eae9f5713eb7): do not edit; `deno task build:js` writes it.
var scanPythonText = (function (src) {
    const code = src.split("");
    const bare = src.split("");
    const strings = [];
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
                if (quote.length === 1 && src[j] === "\n")
                    break;
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
});
var parseAnalysis = (function (stdout) {
    try {
        const value = JSON.parse(stdout);
        return value && typeof value === "object" ? value : undefined;
    }
    catch {
        return undefined;
    }
});
var resolveInterpreter = (async function (program, env) {
    let probe;
    try {
        probe = await probePython(program, env);
    }
    catch {
        return undefined;
    }
    const [, minor = 0] = probe.version.split(".").map(Number);
    if (minor < 8 || !isAbsolute(probe.realExecutable))
        return undefined;
    return { exe: probe.realExecutable, prefix: probe.realBasePrefix };
});
var analyzerPolicy = (function (interpreter, workdir, tmpDir) {
    const read = [workdir];
    for (const path of [interpreter.prefix, dirname(interpreter.exe)]) {
        if (!isAbsolute(path) || path === "/" || read.some(((dir) => isInside(path, dir))))
            continue;
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
});
var analysisDir = (async function (script) {
    const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_checks_" }));
    const work = join(root, "work");
    const tmp = join(root, "tmp");
    await Deno.mkdir(work, { mode: 0o755 });
    await Deno.mkdir(tmp, { mode: 0o755 });
    await Deno.writeTextFile(join(work, "analyzer.py"), PY_ANALYZER);
    await Deno.writeTextFile(join(work, "script.py"), script);
    return { root, work, tmp };
});
var runAnalyzer = (async function (interpreter, dir, backend, timeoutMs) {
    const spec = {
        program: interpreter.exe,
        args: [...PY_FLAGS, join(dir.work, "analyzer.py"), join(dir.work, "script.py")],
        env: {},
        cwd: dir.work,
    };
    const limits = { timeoutMs, maxOutputBytes: 32_000_000 };
    if (!backend)
        return await execCommand(spec, limits);
    const wrapped = await backend.wrap(spec, analyzerPolicy(interpreter, dir.work, dir.tmp));
    try {
        return await execCommand(wrapped.spec, limits);
    }
    finally {
        await wrapped.close();
    }
});
var known = (function (backend, interpreter) {
    const state = confinable.get(backend)?.get(interpreter.exe);
    if (state === undefined)
        return undefined;
    if (!state.runs && Date.now() > state.until) {
        confinable.get(backend)?.delete(interpreter.exe);
        return undefined;
    }
    return state.runs;
});
var remember = (function (backend, interpreter, runs) {
    let states = confinable.get(backend);
    if (!states)
        confinable.set(backend, states = new Map());
    states.set(interpreter.exe, { runs, until: Date.now() + UNCONFINED_FOR_MS });
});
var probeConfined = (function (backend, interpreter) {
    const running = probing.get(backend) ?? new Memo();
    probing.set(backend, running);
    const probe = running.get(interpreter.exe, (async () => {
        if (!(await backend.available()).ok)
            return false;
        const dir = await analysisDir("import os\n");
        try {
            const out = await runAnalyzer(interpreter, dir, backend, 15_000);
            return out.code === 0 && Array.isArray(parseAnalysis(out.stdout)?.imports);
        }
        catch {
            return false;
        }
        finally {
            await removeIfExists(dir.root);
        }
    }));
    return probe.finally((() => running.clear(interpreter.exe)));
});
var firstBackend = (async function (backend, interpreter) {
    if (!backend)
        return undefined;
    const state = known(backend, interpreter);
    if (state !== undefined)
        return state ? backend : undefined;
    return (await backend.available()).ok ? backend : undefined;
});
var analysePython = (async function (script, options) {
    const path = options.env.PATH ?? DEFAULT_PATH;
    const interpreter = await resolveInterpreter(options.python, { ...options.env, PATH: path });
    if (!interpreter)
        return undefined;
    let backend = await firstBackend(options.backend, interpreter);
    const dir = await analysisDir(script);
    try {
        for (;;) {
            let out;
            try {
                out = await runAnalyzer(interpreter, dir, backend, options.timeoutMs);
            }
            catch (error) {
                const why = error instanceof Error ? error.message : String(error);
                if (!backend || known(backend, interpreter) === true) {
                    return `the python analysis failed: ${why}`;
                }
                remember(backend, interpreter, false);
                backend = undefined;
                continue;
            }
            if (out.timedOut) {
                return `the python analysis did not finish within ${options.timeoutMs} ms`;
            }
            const analysis = out.code === 0 ? parseAnalysis(out.stdout) : undefined;
            if (analysis) {
                if (backend)
                    remember(backend, interpreter, true);
                return analysis;
            }
            if (backend && known(backend, interpreter) === undefined) {
                if (/^bwrap:/m.test(out.stderr) || !(await probeConfined(backend, interpreter))) {
                    remember(backend, interpreter, false);
                    backend = undefined;
                    continue;
                }
                remember(backend, interpreter, true);
            }
            return `the python analysis failed: ${tail(out.stderr || out.stdout, 300) || "no output"}`;
        }
    }
    finally {
        await removeIfExists(dir.root);
    }
});
var firstStringAt = (function (strings, offset) {
    let [low, high] = [0, strings.length];
    while (low < high) {
        const middle = (low + high) >>> 1;
        if (strings[middle].offset < offset)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
});
var scanPythonAnalysis = (function (script) {
    const scan = scanPythonText(script);
    const lineAt = lineIndex(script);
    const aliases = new Map();
    const imports = [];
    scan.bare.split("\n").forEach(((text, index) => {
        const line = index + 1;
        const plain = /^\s*import\s+(.+)$/.exec(text);
        if (plain) {
            for (const part of (plain[1] ?? "").split(",")) {
                const m = /^\s*([\w.]+)(?:\s+as\s+(\w+))?/.exec(part);
                if (!m?.[1])
                    continue;
                const top = m[1].split(".")[0] ?? m[1];
                aliases.set(m[2] ?? top, m[2] ? m[1] : top);
                imports.push({ module: m[1], line });
            }
        }
        const from = /^\s*from\s+(\.*)(\w[\w.]*)?\s+import\s+\(?([^)]*)/.exec(text);
        if (from) {
            const module = from[2] ?? "";
            const names = [];
            for (const part of (from[3] ?? "").split(",")) {
                const m = /^\s*(\w+|\*)(?:\s+as\s+(\w+))?/.exec(part);
                if (!m?.[1])
                    continue;
                names.push(m[1]);
                if (m[1] !== "*" && module)
                    aliases.set(m[2] ?? m[1], `${module}.${m[1]}`);
            }
            imports.push({ module, names, level: (from[1] ?? "").length, line });
        }
    }));
    const stringAt = new Map(scan.strings.map(((s) => [s.offset, s.value])));
    const calls = [];
    const env = [];
    for (const m of scan.bare.matchAll(/(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*\(/g)) {
        const written = (m[1] ?? "").replace(/\s+/g, "");
        const [root = "", ...rest] = written.split(".");
        const name = [aliases.get(root) ?? root, ...rest].join(".");
        const open = (m.index ?? 0) + m[0].length;
        const quoted = /^\s*[rRbBuUfF]{0,2}("""|'''|"|')/.exec(script.slice(open, open + 40));
        const arg0 = quoted ? stringAt.get(open + quoted[0].length) ?? null : null;
        const lineEnd = script.indexOf("\n", open);
        const frag0 = [];
        for (let i = firstStringAt(scan.strings, open); i < scan.strings.length && frag0.length < FRAGMENTS; i++) {
            const string = scan.strings[i];
            if (lineEnd >= 0 && string.offset >= lineEnd)
                break;
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
        strings: scan.strings.map(((s) => ({ value: s.value, line: lineAt(s.offset) }))),
    };
});
var requirementModules = (function (requirements) {
    const names = new Set();
    for (const requirement of requirements) {
        let dist;
        try {
            dist = parseRequirement(requirement).name.replaceAll("-", "_");
        }
        catch (error) {
            if (error instanceof RequirementError)
                continue;
            throw error;
        }
        names.add(dist);
        for (const known of IMPORT_NAMES[dist] ?? [])
            names.add(known);
        names.add(dist.split("_")[0] ?? dist);
        names.add(dist.replace(/^python_/, "").replace(/_python$/, ""));
        names.add(dist.replace(/^py/, ""));
    }
    return names;
});
var dedicatedImportRule = (function (ctx, module, line) {
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
        ctx.add("raw-socket", `raw sockets (import ${module}) are not allowed without network access: list the hosts ` +
            `in needs.network`, line);
        return true;
    }
    return false;
});
var checkPythonImports = (function (ctx, analysis) {
    const allowed = new Set(ALLOWED_IMPORTS.python);
    const network = new Set(NETWORK_IMPORTS.python);
    const provided = requirementModules(ctx.requirements);
    for (const module of NETWORK_IMPORTS.python)
        provided.delete(module.split(".")[0]);
    const within = ((module, set) => {
        const parts = module.split(".");
        return parts.some(((_, i) => set.has(parts.slice(0, i + 1).join("."))));
    });
    for (const entry of analysis.imports) {
        const { module, line } = entry;
        if ((entry.level ?? 0) > 0) {
            ctx.add("import", `relative import (from ${".".repeat(entry.level ?? 0)}${module} import …) is not ` +
                `allowed: a script is a single file`, line);
            continue;
        }
        if (module === "")
            continue;
        if (dedicatedImportRule(ctx, module, line))
            continue;
        if (within(module, allowed))
            continue;
        if (provided.has((module.split(".")[0] ?? "").toLowerCase()))
            continue;
        const units = entry.names && entry.names.length > 0 && !entry.names.includes("*")
            ? entry.names.map(((n) => `${module}.${n}`))
            : [module];
        for (const unit of units) {
            if (within(unit, allowed))
                continue;
            if (within(unit, network)) {
                if (!ctx.network) {
                    ctx.add("network", `network access (import ${unit}) needs the hosts listed in needs.network`, line);
                }
                continue;
            }
            ctx.add("import", `import of ${module} is not allowed: use the standard library modules of the ` +
                `template, or add the package, pinned as "name==version", to requirements`, line);
            break;
        }
    }
});
var checkPythonCalls = (function (ctx, analysis) {
    for (const call of analysis.calls) {
        const { name, line } = call;
        const via = call.via ? ` via ${call.via}` : "";
        if (name !== null && PY_SHELL.test(name)) {
            ctx.add("shell-execution", `shell execution (${name}${via}) is not allowed`, line);
        }
        else if (name !== null && PY_DYNAMIC_CODE.has(name) && !call.via && call.arg0 == null) {
            ctx.add("dynamic-code", `${name}() of a non-literal argument is not allowed: write the code out`, line);
        }
        else if (name !== null && PY_DYNAMIC_IMPORT.has(name) && !call.via && call.arg0 == null) {
            ctx.add("dynamic-import", `${name}() of a computed module name is not allowed: import modules by name`, line);
        }
        else if (name !== null && PY_SOCKET.has(name) && !ctx.network) {
            ctx.add("raw-socket", `raw sockets (${name}) are not allowed without network access: list the hosts in ` +
                `needs.network`, line);
        }
        else if (name !== null && name.split(".")[0] === "ctypes" && call.via) {
            ctx.add("native-code", `native code (${name}${via}) is not allowed`, line);
        }
        if (name !== null && PY_DELETE.has(name) && !call.method) {
            const path = riskyPath(call.head0, call.frag0 ?? []);
            if (path !== null)
                ctx.add("delete-outside", deleteMessage(name, path), line);
        }
        else if (call.method === "unlink" || call.method === "rmdir") {
            const path = riskyPath(call.recv_head, call.recv_frag ?? []);
            if (path !== null) {
                ctx.add("delete-outside", deleteMessage(`Path.${call.method}`, path), line);
            }
        }
    }
});
export var checkPython = (async function (ctx, options) {
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
    for (const { name, line } of analysis.env)
        checkEnvRead(ctx, name, line);
    for (const { value, line, doc } of analysis.strings) {
        if (!doc)
            checkCredentialPath(ctx, value, line);
    }
});
import { dirname, isAbsolute, join } from "../../_path.js";
import PY_ANALYZER from "../../../src/contract/checks/py_analyzer.py" with { type: "text" };
import { execCommand } from "../../exec.js";
import { tail } from "../../errors.js";
import { isInside, removeIfExists } from "../../_fs.js";
import { Memo } from "../../_memo.js";
import { DEFAULT_PATH } from "../../_which.js";
import { probePython } from "../../runtimes/_python_probe.js";
import { ALLOWED_IMPORTS, NETWORK_IMPORTS } from "../contract.js";
import { parseRequirement, RequirementError } from "../requirements.js";
import { blank, checkCredentialPath, checkEnvRead, deleteMessage, DOES_NOT_PARSE, lineIndex, riskyPath, } from "./_common.js";
;
const confinable = new WeakMap();
const probing = new WeakMap();
const PY_FLAGS = ["-I", "-S", "-X", "utf8"];
const ANALYSIS_MEMORY_BYTES = 512 * 1024 ** 2;
const ANALYSIS_MAX_PROCESSES = 8;
;
;
;
;
;
const UNCONFINED_FOR_MS = 60_000;
;
;
;
;
;
const FRAGMENTS = 64;
;
;
const IMPORT_NAMES = {
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
;
;
;
const PY_SHELL = /^(?:os\.(?:system|popen|fork|forkpty|posix_spawnp?|exec\w*|spawn\w*)|subprocess\.\w+|pty\.(?:spawn|fork)|asyncio\.create_subprocess_(?:exec|shell)|platform\.popen)$/;
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
;
;
