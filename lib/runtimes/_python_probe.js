// Generated from src/runtimes/_python_probe.ts by scripts/build_js.ts (sha256 63e809410a2503839c8910bc2ca203d8af9456c3953d4a91eda3ef685188eeee): do not edit; `deno task build:js` writes it.
var probeEnv = (function (env) {
    const picked = { PYTHONDONTWRITEBYTECODE: "1" };
    for (const [name, value] of Object.entries(env)) {
        if (value === undefined)
            continue;
        if (["PATH", "HOME", "LANG", "SYSTEMROOT"].includes(name) || /^(LC_|PYENV)/.test(name)) {
            picked[name] = value;
        }
    }
    return picked;
});
var identity = (function (probe) {
    try {
        return fileIdentity(probe.realExecutable);
    }
    catch {
        return "";
    }
});
export var probePython = (async function (python, env) {
    const lookup = probeEnv(env);
    const key = JSON.stringify([python, Object.entries(lookup).sort()]);
    const known = await PROBES.getWhile(key, (async () => {
        const probe = await probeNow(python, lookup);
        return { probe, at: Date.now(), identity: identity(probe) };
    }), ((known) => Date.now() - known.at <= PROBE_REUSE_MS && identity(known.probe) === known.identity));
    return known.probe;
});
var probeNow = (async function (python, env) {
    let result;
    try {
        result = await execCommand({
            program: python,
            args: ["-I", "-S", "-c", PROBE_CODE],
            env,
            cwd: "/",
        }, { timeoutMs: PROBE_TIMEOUT_MS });
    }
    catch (error) {
        throw spawnFailure(error, python) ?? error;
    }
    if (result.code === 0) {
        let reply;
        try {
            reply = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
        }
        catch {
        }
        const parsed = ProbeReply.safeParse(reply);
        if (parsed.success) {
            const [major, minor, basePrefix, realBasePrefix, executable, realExecutable] = parsed.data;
            if (major !== 3) {
                throw new DependencyError(`Cannot use Python ${major}.${minor}: Python 3 is required`, {
                    hint: `Install Python 3 and make sure "${python}" runs it`,
                });
            }
            return {
                version: `${major}.${minor}`,
                basePrefix,
                realBasePrefix,
                executable,
                realExecutable,
            };
        }
    }
    throw new DependencyError(`Cannot run Python: "${python}" failed: ${pythonReason(result.stderr || result.stdout)}`, {
        hint: `Install Python 3 and make sure "${python}" is on PATH and runs`,
        details: { python, exit_code: result.code, stderr: tail(result.stderr) },
    });
});
export var pythonReason = (function (stderr) {
    const lines = stderr.split(/\r?\n/).map(((l) => l.trim())).filter(((l) => l));
    const errors = lines
        .filter(((l) => /^error:/i.test(l)))
        .map(((l) => l.replace(/^error:\s*/i, "")))
        .filter(((l) => l));
    const picked = errors.length ? [...new Set(errors)].slice(0, 3) : lines.slice(-1);
    return picked.join("; ") || "pip gave no reason";
});
export var spawnFailure = (function (error, program) {
    if (error instanceof Deno.errors.NotFound) {
        return new DependencyError(`Cannot run Python: "${program}" was not found`, {
            hint: "Install Python 3 (python.org, your package manager or pyenv) and make sure " +
                `"${program}" is on PATH`,
            cause: error,
        });
    }
    if (error instanceof Deno.errors.PermissionDenied) {
        return new DependencyError(`Cannot run Python: "${program}" is not executable`, {
            hint: "Check the permissions of your Python 3 installation",
            cause: error,
        });
    }
    return undefined;
});
import * as z from "../_shape.js";
import { DependencyError, tail } from "../errors.js";
import { fileIdentity } from "../_fs.js";
import { Memo } from "../_memo.js";
import { execCommand } from "../exec.js";
const PROBES = new Memo();
const PROBE_REUSE_MS = 60_000;
const PROBE_TIMEOUT_MS = 30_000;
const PROBE_CODE = "import json, os, sys; print(json.dumps([sys.version_info[0], " +
    "sys.version_info[1], sys.base_prefix, os.path.realpath(sys.base_prefix), sys.executable, " +
    "os.path.realpath(sys.executable)]))";
const ProbeReply = z.tuple([
    z.number(),
    z.number(),
    z.string(),
    z.string(),
    z.string(),
    z.string(),
]);
;
;
;
;
;
;
