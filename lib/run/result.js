// Generated from src/run/result.ts by scripts/build_js.ts (sha256 80ff82fbcf57297cc3bc3f3c6a0fc109496bac3140f4919ed2e8eaa609e5f18e): do not edit; `deno task build:js` writes it.
export var outputLimitProblem = (function (line) {
    const { maxBytes, maxDepth, maxItems } = OUTPUT_LIMITS;
    if (line.length * 3 > maxBytes && new TextEncoder().encode(line).length > maxBytes) {
        return `its last line is larger than ${maxBytes / 1024 ** 2} MiB`;
    }
    let depth = 0;
    let items = 0;
    let inString = false;
    for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        if (inString) {
            if (c === 0x5c)
                i++;
            else if (c === 0x22)
                inString = false;
            continue;
        }
        if (c === 0x22)
            inString = true;
        else if (c === 0x5b || c === 0x7b) {
            if (++depth > maxDepth)
                return `its last line is nested deeper than ${maxDepth} levels`;
            if (++items > maxItems)
                return `its last line holds more than ${maxItems} keys and elements`;
        }
        else if (c === 0x5d || c === 0x7d)
            depth--;
        else if (c === 0x2c && ++items > maxItems) {
            return `its last line holds more than ${maxItems} keys and elements`;
        }
    }
    return undefined;
});
export var parseScriptOutput = (function (exec, timeoutSeconds, limits, maxOutputBytes = DEFAULTS.maxOutputBytes) {
    const stderrTail = tail(exec.stderr);
    const details = { exit_code: exec.code, stderr: stderrTail };
    const withStderr = ((text) => stderrTail ? `${text}\n${stderrTail}` : text);
    if (exec.timedOut) {
        throw new ExecError(withStderr(`Script timed out after ${timeoutSeconds} s`), {
            hint: "Raise the limit with --timeout <seconds>, or check the script for an endless loop",
            details,
        });
    }
    if (exec.cancelled)
        throw new ExecError("Script was cancelled", { details });
    if (exec.outputTruncated) {
        throw new ExecError(withStderr(`Script printed more than ${maxOutputBytes / 1024 ** 2} MiB: output was cut`), { hint: "Scripts should write large data to an output file, not stdout", details });
    }
    const last = exec.stdout.split("\n").map(((l) => l.trim())).filter(((l) => l !== "")).at(-1);
    let parsed;
    let problem = "";
    if (last === undefined) {
        problem = "it printed nothing on stdout";
    }
    else {
        problem = outputLimitProblem(last) ?? "";
        if (problem === "") {
            try {
                const result = ScriptOutputSchema.safeParse(JSON.parse(last));
                if (result.success)
                    parsed = result.data;
                else
                    problem = `its last line is not a status object (${result.error.issues[0]?.message})`;
            }
            catch {
                problem = `its last line is not JSON: ${JSON.stringify(last.slice(0, 200))}`;
            }
        }
    }
    if (limits?.memory !== undefined) {
        throw new ExecError(withStderr(`Script exceeded the memory limit of ${Math.round(limits.memory / 1024 ** 2)} MiB`), { hint: "Raise it with --memory <MiB> if the script really needs more", details });
    }
    if (exec.code !== 0 && limits?.processes !== undefined) {
        throw new ExecError(withStderr(`Script hit the process limit of ${limits.processes}`), { hint: "Scripts may not start that many processes or threads", details });
    }
    if (exec.code === 1 && exec.stdout.trim() === "" && exec.stderr.startsWith("bwrap: ")) {
        throw new ExecError(withStderr("The sandbox could not be set up: the script did not run"), {
            hint: "Read bubblewrap's message above (capibara doctor checks the sandbox). A mount " +
                "point it cannot make: a granted folder holds the working directory below a folder the " +
                "sandbox's uid cannot enter (a root run's is not root); grant a folder nearer the inputs",
            details,
        });
    }
    if (exec.code !== 0) {
        const reason = parsed?.error ? `: ${parsed.error}` : "";
        const how = exec.signal ? `was killed by ${exec.signal}` : `exited with code ${exec.code}`;
        throw new ExecError(withStderr(`Script ${how}${reason}`), {
            hint: exec.signal === "SIGKILL"
                ? "It may have hit the memory or process limit"
                : stderrTail
                    ? "Read the script's stderr above; run it with --refresh to regenerate it if it is wrong"
                    : "It printed nothing on stderr; run it with --refresh to regenerate it if it is wrong",
            details,
        });
    }
    if (!parsed) {
        throw new ExecError(withStderr(`Script broke the output contract: ${problem}`), {
            hint: 'The last non-empty stdout line must be {"status": "ok", "artifacts": [], ' +
                '"output": {}, "raw": {}}; regenerate it with --refresh',
            details,
        });
    }
    if (parsed.status === "error") {
        throw new ExecError(withStderr(`Script reported an error: ${parsed.error ?? "no reason"}`), {
            hint: "Check the context it was given",
            details: { ...details, output: parsed.output, raw: parsed.raw },
        });
    }
    return parsed;
});
export var applySelect = (function (result, manifest, select) {
    if (!select || select.length === 0)
        return { output: result.output };
    const output = {};
    const missing = [];
    const sources = [result.output, result.raw];
    for (const key of new Set(select)) {
        const names = [
            key,
            ...Object.entries(manifest.aliases).filter((([, canonical]) => canonical === key)).map((([alias]) => alias)),
        ];
        let found = false;
        for (const source of sources) {
            const name = names.find(((n) => Object.hasOwn(source, n)));
            if (name !== undefined) {
                output[key] = source[name];
                found = true;
                break;
            }
        }
        if (!found) {
            output[key] = null;
            missing.push(key);
        }
    }
    return missing.length > 0 ? { output, missing } : { output };
});
export var runResult = (async function (run, where, options) {
    let parsed;
    try {
        parsed = parseScriptOutput(run.exec, options.timeoutSeconds, run.limits, options.maxOutputBytes);
    }
    catch (error) {
        throw withFailureHint(error, run.exec, where.workdir, (where.manifest.needs?.network.length ?? 0) > 0);
    }
    const artifacts = await checkArtifacts(parsed.artifacts, where.workdir, where.writeDirs);
    const selected = applySelect(parsed, where.manifest, options.select);
    return {
        artifacts,
        output: selected.output,
        raw: parsed.raw,
        ...(selected.missing ? { missing: selected.missing } : {}),
    };
});
var unnamedFiles = (function (text, workdir) {
    const found = new Set();
    const patterns = [
        /No such file or directory: '([^'\n]{1,512})'/g,
        /(?:^|\s)([^\s:'"]{1,512}): No such file or directory/gm,
        /(?:readfile|open|stat|lstat|readdir) '([^'\n]{1,512})'/g,
        /read access to "([^"\n]{1,512})"/g,
    ];
    for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
            const path = resolve(workdir, match[1]);
            if (!isInside(path, workdir) || path === workdir)
                continue;
            const name = relative(workdir, path);
            const real = realPathSyncOrNull(path);
            if (real === null || !isInside(real, workdir))
                continue;
            const parts = [...name.split(/[\\/]/), ...relative(workdir, real).split(/[\\/]/)];
            if (parts.some(((part) => part.startsWith(".") || SECRET_NAME.test(part))))
                continue;
            if (lstatSyncOrNull(path))
                found.add(name);
            if (found.size >= 3)
                return [...found];
        }
    }
    return [...found];
});
var withFailureHint = (function (error, exec, workdir, networked) {
    if (!(error instanceof ExecError) || exec.code === 0 || exec.timedOut)
        return error;
    const text = `${exec.stderr.slice(-8192)}\n${exec.stdout.slice(-8192)}`;
    const unnamed = unnamedFiles(text, workdir);
    const status = networked
        ? /Tunnel connection failed: (403|502)|\b(403):? Forbidden|\b(502):? Bad Gateway/.exec(text)
        : null;
    const proxy = status ? status[1] ?? status[2] ?? status[3] : undefined;
    if (unnamed.length === 0 && proxy === undefined)
        return error;
    const list = unnamed.map(((p) => JSON.stringify(p))).join(", ");
    const hint = proxy === "403"
        ? "A network request was refused by Capibara's proxy: its host or port is not granted " +
            "(grant it with --allow-net host[:port], or --allow-private-net for a local address); " +
            "regenerating the script will not help"
        : proxy === "502"
            ? "A network request failed at Capibara's proxy: the host could not be resolved or " +
                "reached from this machine (check its network and DNS); regenerating the script will " +
                "not help"
            : `The script's errors name ${list}, which the project holds but the run was not given: ` +
                "a script sees only the paths its context names and --allow-read grants. If it should " +
                `read ${unnamed.length === 1 ? "it" : "them"}, run again with ${unnamed.map(((p) => `--allow-read ${shellWord(p)}`)).join(" ")} (the same script; another context is another request, and a new script)`;
    return new ExecError(error.message, {
        cause: error.cause,
        hint,
        details: {
            ...error.details,
            ...unnamed.length > 0 ? { not_given: unnamed } : {},
            ...proxy !== undefined ? { proxy_status: Number(proxy) } : {},
        },
    });
});
import { DEFAULTS } from "../config.js";
import { ExecError, tail } from "../errors.js";
import { ScriptOutput as ScriptOutputSchema } from "../schema.js";
import { checkArtifacts } from "../sandbox/policy.js";
import { relative, resolve } from "../_path.js";
import { shellWord } from "../readme.js";
import { isInside, lstatSyncOrNull, realPathSyncOrNull } from "../_fs.js";
export const OUTPUT_LIMITS = {
    maxBytes: 1024 ** 2,
    maxDepth: 64,
    maxItems: 100_000,
};
;
;
;
;
;
const SECRET_NAME = /^(id_[a-z0-9]+|.*\.(pem|key|p12|pfx|jks|keystore|kdbx|gpg|asc)|.*(secret|credential|password|passwd|token|private).*|.*env)$/i;
;
