// Generated from src/run/execute.ts by scripts/build_js.ts (sha256 551a2f36fde3e7f09ded11b5a450de9ef695f29554e22906b435b97d12f94979): do not edit; `deno task build:js` writes it.
export var outputModeOf = (function (backend) {
    return backend.stagesOutputs === true ? "copy-out" : "in-place";
});
var sum = (function (measures) {
    return measures.reduce(((a, b) => ({ bytes: a.bytes + b.bytes, files: a.files + b.files })), {
        bytes: 0,
        files: 0,
    });
});
var stagingError = (function (limits, used) {
    if (unmeasurable(used)) {
        return new ExecError("Script made what it writes impossible to measure (a folder of its outputs or temp dir " +
            "that cannot be listed, a removed file it holds that cannot be looked at, or more open " +
            "files across its threads than a measure looks at): it was stopped", {
            hint: "A script may not close its own folders to reading (chmod 0300), make itself not " +
                "dumpable, keep a file it removed mapped, or hold about 100,000 open files across its " +
                "threads and processes: fix the script",
            details: { max_bytes: limits.bytes, max_files: limits.files },
        });
    }
    const what = used.bytes > limits.bytes
        ? `more than ${Math.round(limits.bytes / 1024 ** 2)} MiB`
        : `more than ${limits.files} files`;
    return new ExecError(`Script wrote ${what} to its outputs and temp dir: it was stopped`, {
        hint: "Raise the bound with --max-output <MiB> if the script really writes that much",
        details: { max_bytes: limits.bytes, max_files: limits.files },
    });
});
export var backendFor = (async function (language, options) {
    if (confinementOf(language) === "deno-permissions") {
        const { DenoPermissionsBackend } = await import("../sandbox/deno.js");
        if (!options.sandbox || Deno.build.os !== "linux")
            return new DenoPermissionsBackend();
        const os = platformBackend(options.cacheDir);
        if (os && (await os.available()).ok)
            return new DenoPermissionsBackend({ os });
        options.warn(DENO_ONLY_WARNING);
        return new DenoPermissionsBackend();
    }
    if (!options.sandbox) {
        options.warn(NO_SANDBOX_WARNING);
        return new UnconfinedBackend();
    }
    return await requireBackend(language, options.cacheDir);
});
export var checkOutputFolders = (function (folders, workdir) {
    workdir = realPathSyncOrNull(workdir) ?? workdir;
    for (const wanted of new Set(folders)) {
        let folder = wanted;
        while (!lstatSyncOrNull(folder) && isInside(dirname(folder), workdir) && folder !== workdir) {
            folder = dirname(folder);
        }
        const error = unwritable(folder);
        if (!error)
            continue;
        const why = error instanceof Deno.errors.PermissionDenied
            ? "this user may not write there"
            : error instanceof Deno.errors.NotFound
                ? "it is missing"
                : error.message.replace(/: tmpdir$/, "");
        throw new PermissionError(`Cannot write the outputs into "${relative(workdir, wanted) || "."}": ${why}` +
            (folder === wanted ? "" : ` (in "${relative(workdir, folder) || "."}")`), {
            cause: error,
            hint: "Make the output folder writable by this user, or name another in --context",
            details: { path: wanted },
        });
    }
});
export var checkPlanPaths = (function (plan) {
    const { tmpDir, workdir } = plan.policy;
    const below = ((path, folder) => path !== folder && isInside(path, folder));
    const misplaced = [];
    if (!below(plan.contextFile, tmpDir))
        misplaced.push(plan.contextFile);
    if (dirname(plan.script.copy) !== join(tmpDir, "entry"))
        misplaced.push(plan.script.copy);
    if (plan.command.cwd !== workdir)
        misplaced.push(plan.command.cwd ?? "(no working directory)");
    for (const output of plan.outputs) {
        if (!below(output.staging, tmpDir) || !below(output.target, workdir)) {
            misplaced.push(output.target);
        }
    }
    if (misplaced.length > 0)
        throw new Error(`the plan leaves its places: ${misplaced.join(", ")}`);
});
export var stage = (async function (plan, backend, options = {}) {
    checkPlanPaths(plan);
    const { tmpDir, workdir } = plan.policy;
    const mode = outputModeOf(backend);
    let created = false;
    let wrapped;
    let held;
    const placeholders = [];
    let disposed;
    const dispose = ((removeLater) => disposed ??= (async () => {
        await held?.discard();
        await wrapped?.close();
        if (created && removeLater)
            removeLater(tmpDir);
        else if (created)
            await removeIfExists(tmpDir).catch((() => { }));
        for (const { path, ino } of placeholders) {
            const info = await lstatOrNull(path);
            if (info?.isFile && info.ino === ino && info.size === 0) {
                await Deno.remove(path).catch((() => { }));
            }
        }
    })());
    try {
        Deno.mkdirSync(tmpDir, { mode: 0o700 });
        created = true;
        let policy = plan.policy;
        for (const output of plan.outputs) {
            if (output.kind !== "dir")
                continue;
            await makeFolders(workdir, output.target).catch(((error) => {
                checkOutputFolders([output.target], workdir);
                throw new ExecError(`Cannot create the output folder "${output.target}": ${error.message}`, {
                    cause: error,
                    hint: "Remove what is in its way (a symlink, a file), then run again",
                });
            }));
        }
        if (mode === "copy-out") {
            Deno.mkdirSync(join(tmpDir, "outputs"), { mode: 0o755 });
            for (const output of plan.outputs) {
                if (output.kind === "dir") {
                    Deno.mkdirSync(output.staging, { mode: 0o755 });
                    continue;
                }
                Deno.writeFileSync(output.staging, new Uint8Array(), { createNew: true, mode: 0o600 });
                if (!lstatSyncOrNull(output.target)) {
                    const file = await Deno.open(output.target, { createNew: true, write: true });
                    placeholders.push({ path: output.target, ino: (await file.stat()).ino });
                    file.close();
                }
            }
            policy = {
                ...policy,
                stage: plan.outputs.map(((o) => ({ source: o.staging, target: o.target }))),
            };
        }
        else {
            policy = { ...policy, write: [...plan.outputs.map(((o) => o.target)), ...policy.write] };
        }
        Deno.writeTextFileSync(plan.contextFile, plan.contextJson);
        const hold = options.held === true && backend.holds === true;
        wrapped = await backend.wrap(plan.command, policy, hold ? { held: true } : {});
        if (hold) {
            if (!wrapped.held)
                throw new Error("the backend did not hold the command");
            held = holdCommand(wrapped.spec, wrapped.gateSign);
        }
        const script = await verifiedBytes(plan.script.source, plan.script.sha256);
        Deno.mkdirSync(dirname(plan.script.copy), { mode: 0o755 });
        Deno.chmodSync(dirname(plan.script.copy), 0o755);
        Deno.writeFileSync(plan.script.copy, script, { createNew: true, mode: 0o444 });
        Deno.chmodSync(plan.script.copy, 0o444);
        const abandon = (() => {
            if (disposed)
                return;
            disposed = Promise.resolve();
            if (held?.waiting) {
                try {
                    Deno.kill(-held.pid, "SIGKILL");
                }
                catch {
                }
            }
            wrapped?.abandon?.();
            try {
                removeIfExistsSync(tmpDir);
            }
            catch {
            }
        });
        return { plan, wrapped, held, mode, dispose, abandon };
    }
    catch (error) {
        await dispose();
        throw error;
    }
});
export var execute = (async function (plan, backend, options) {
    return await runStaged(await stage(plan, backend), options);
});
export var runStaged = (async function (staged, options) {
    const { plan, wrapped, mode } = staged;
    const { tmpDir, workdir } = plan.policy;
    const bounds = { ...DEFAULT_STAGING_LIMITS, ...options.staging };
    try {
        if (mode === "copy-out") {
            checkOutputFolders(plan.outputs.map(((o) => o.kind === "dir" ? o.target : workdir)), workdir);
        }
        step(staged.held ? "the sandbox started ahead, released" : "sandbox set-up");
        const inPlace = mode === "in-place" ? plan.outputs.map(((o) => o.target)) : [];
        const before = sum(inPlace.map(((path) => measureTree(path, undefined, { reopen: true }))));
        const usage = ((reopen = false) => {
            const stopAt = { bytes: before.bytes + bounds.bytes, files: before.files + bounds.files };
            const used = sum([tmpDir, ...inPlace].map(((path) => measureTree(path, stopAt, { reopen }))));
            return { bytes: used.bytes - before.bytes, files: used.files - before.files };
        });
        const processes = {
            pid: staged.held?.pid,
            devices: devicesOf([tmpDir, ...inPlace]),
        };
        const watch = watchUsage((() => usage()), bounds, STAGING_SAMPLE_MS, options.signal, processes);
        let exceeded;
        const absent = plantablePaths(plan.policy);
        const began = Date.now();
        let exec;
        try {
            const execOptions = {
                timeoutMs: options.timeoutMs,
                maxOutputBytes: options.maxOutputBytes,
                signal: watch.signal,
                onStderr: options.onStderr,
                onSpawn: ((pid) => processes.pid = pid),
            };
            exec = staged.held
                ? await staged.held.release(execOptions)
                : await execCommand(wrapped.spec, execOptions);
        }
        catch (error) {
            if (error instanceof Deno.errors.NotFound) {
                throw new PermissionError(`Cannot start "${wrapped.spec.program}": not found`, {
                    cause: error,
                    hint: `Install the ${plan.runtimeName} runtime`,
                });
            }
            throw error;
        }
        finally {
            exceeded = await watch.end();
        }
        if (staged.held && exec.gatePassed === false && !exec.cancelled && !exec.timedOut &&
            !exec.outputTruncated) {
            throw new HeldStartLost(exec);
        }
        step("the script, in the sandbox");
        let limits;
        if (exec.code !== 0 && wrapped.usage) {
            const usage = await wrapped.usage();
            limits = {
                memory: usage.memoryLimitHit ? plan.policy.memoryBytes : undefined,
                processes: usage.processLimitHit ? plan.policy.maxProcesses : undefined,
            };
        }
        await wrapped.close();
        const writtenInPlace = [...inPlace, ...plan.policy.write];
        const changed = [];
        await closeToOthers(writtenInPlace, began, ((path, opaque) => changed.push({ path, opaque })));
        checkUnplanted(absent);
        checkMadeInPlace(changed, { outputs: inPlace, grants: plan.policy.write }, plan.declaredOutputs, plan.policy.protect, began);
        step("sandbox teardown");
        const after = usage(true);
        if (pastBounds(after, bounds))
            exceeded ??= after;
        if (exceeded)
            throw stagingError(bounds, exceeded);
        const execution = { exec, limits };
        if (!options.accept)
            return execution;
        const artifacts = await options.accept(execution);
        step("the result judged");
        execution.artifacts = mode === "copy-out"
            ? await copyOut(artifacts, {
                workdir,
                outputs: plan.outputs,
                stagingRoot: tmpDir,
                declared: plan.declaredOutputs,
                inPlace: plan.policy.write,
                signal: options.signal,
            })
            : [...artifacts];
        step("outputs moved into the project");
        return execution;
    }
    finally {
        await staged.dispose(options.removeLater);
    }
});
import { dirname, join, relative } from "../_path.js";
import { isInside, lstatOrNull, lstatSyncOrNull, realPathSyncOrNull, removeIfExists, removeIfExistsSync, unwritable, } from "../_fs.js";
import { step } from "../_timings.js";
import { ExecError, PermissionError } from "../errors.js";
import { execCommand, holdCommand } from "../exec.js";
import { copyOut, DEFAULT_STAGING_LIMITS, devicesOf, makeFolders, measureTree, pastBounds, unmeasurable, watchUsage, } from "../sandbox/copy_out.js";
import { confinementOf, NO_SANDBOX_WARNING, platformBackend, requireBackend, } from "../sandbox/mod.js";
import { checkMadeInPlace, checkUnplanted, closeToOthers, plantablePaths, } from "../sandbox/policy.js";
import { verifiedBytes } from "../store/_verified.js";
export const STAGING_SAMPLE_MS = 100;
;
;
;
class UnconfinedBackend {
    name = "none";
    available() {
        return Promise.resolve({ ok: true });
    }
    wrap(spec) {
        return Promise.resolve({ spec, close: (() => Promise.resolve()) });
    }
}
export const DENO_ONLY_WARNING = "warning: the bubblewrap sandbox is unavailable: this TypeScript script runs under Deno's " +
    "permission flags alone, without the OS sandbox's limits (memory, processes), its seccomp " +
    "filter or its private view of the file system; a host it is granted is open to its raw " +
    "sockets, which may ask that host's front end for any other site it serves. Install " +
    "bubblewrap (see capibara doctor).";
;
export { runDirPath } from "../_fs.js";
;
export class HeldStartLost extends Error {
    exec;
    constructor(exec) {
        super(`The sandbox started ahead ended before its run (exit ${exec.code}): ` +
            (exec.stderr.trim().split("\n").at(-1) ?? ""));
        this.name = "HeldStartLost";
        this.exec = exec;
    }
}
;
;
;
;
