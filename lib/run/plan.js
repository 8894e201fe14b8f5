// Generated from src/run/plan.ts by scripts/build_js.ts (sha256 89416216b843ab8d747fe7bb805ab2d50cc391628c54870b1448578da6c37922): do not edit; `deno task build:js` writes it.
export var baseEnv = (function (tmpDir) {
    return {
        PATH: SCRIPT_PATH,
        HOME: tmpDir,
        TMPDIR: tmpDir,
        LANG: "C.UTF-8",
        LC_ALL: "C.UTF-8",
        TZ: "UTC",
        OMP_NUM_THREADS: "4",
        OPENBLAS_NUM_THREADS: "4",
        MKL_NUM_THREADS: "4",
    };
});
export var checkPermissions = (function (needs, options) {
    return effectiveAllow(needs, options.grants, options.paths, options.workdir);
});
export var checkUnchangedByOthers = (function (paths) {
    if (Deno.build.os === "windows")
        return;
    for (const path of new Set(paths)) {
        const problem = pathProblem(path, { leaf: "unchanged" });
        if (problem === undefined)
            continue;
        throw new PermissionError(`Refusing to show "${path}" to the sandbox: ${problem}, who could make it lead to a ` +
            "file of yours while the sandbox is set up", {
            hint: "Run in a folder only you (and root) can change: move the project, or take write " +
                "away from its group and others (chmod go-w) on the folder named",
            details: { path, problem },
        });
    }
});
export var planRun = (async function (input) {
    const { entry: { dir, manifest }, grants, prepared, tmpDir } = input;
    const workdir = Deno.realPathSync(input.workdir);
    const paths = await contextPaths(input.context, workdir);
    const allow = effectiveAllow(manifest.needs, grants, paths, workdir);
    const [grantedRead, grantedWrite] = await Promise.all([
        resolveGrantedPaths(grants.read, workdir),
        resolveGrantedPaths(grants.write, workdir),
    ]);
    const storeRoot = realPathSyncOrNull(input.storeRoot) ?? input.storeRoot;
    const outputs = [];
    for (const folder of paths.write) {
        if (folder === workdir)
            continue;
        checkOutputFolder(folder, [workdir, storeRoot], `Output folder "${folder}"`);
        outputs.push({ target: folder, kind: "dir", staging: "" });
    }
    for (const path of paths.outputs ?? []) {
        if (dirname(path) === workdir && !paths.write.includes(path)) {
            outputs.push({ target: path, kind: "file", staging: "" });
        }
    }
    outputs.forEach(((o, i) => o.staging = join(tmpDir, "outputs", String(i))));
    const homes = homeFolders(input.config.env);
    const own = [
        ...ownPaths(input.config.cacheDir, input.config.env, workdir, homes),
        ...(input.givenCacheDir ? [input.givenCacheDir] : []),
    ];
    const heldOwn = checkOwnPaths(own, {
        granted: grantedWrite,
        outputs: outputs.map(((o) => o.target)),
        enclosing: enclosingFolders(input.config.env, workdir, homes),
    });
    const writeDirs = [...new Set([...outputs.map(((o) => o.target)), ...grantedWrite])];
    checkUnchangedByOthers([
        workdir,
        ...paths.read,
        ...grantedRead,
        ...writeDirs,
        join(storeRoot, ".capibara"),
        join(storeRoot, ".capibara", "scripts"),
    ]);
    const env = baseEnv(tmpDir);
    for (const name of allow.env) {
        const value = input.config.env[name];
        if (value !== undefined)
            env[name] = value;
    }
    const policy = {
        network: allow.network,
        ...(grants.privateNetwork ? { privateNetwork: grants.privateNetwork } : {}),
        read: [...new Set([...paths.read, ...grantedRead, ...prepared.readPaths])],
        write: grantedWrite,
        protect: protectedPaths([storeRoot, workdir], writeDirs, heldOwn),
        workdir,
        tmpDir,
        memoryBytes: input.config.memoryBytes,
        maxProcesses: input.config.maxProcesses,
        env: Object.keys(env),
    };
    const contextFile = join(tmpDir, "context.json");
    const hash = manifest.files[manifest.entry];
    if (hash === undefined) {
        throw new IntegrityError(`Cannot trust cached script "${manifest.fingerprint}": its manifest lists no hash of ` +
            `${manifest.entry}`, { hint: "Restore it from version control or regenerate it" });
    }
    const script = {
        source: join(dir, manifest.entry),
        sha256: hash,
        copy: join(tmpDir, "entry", basename(manifest.entry)),
    };
    const command = scriptCommand(prepared, script.copy, contextFile, {
        cwd: workdir,
        env,
    });
    return {
        policy,
        command,
        allow,
        confinement: confinementOf(manifest.language),
        contextFile,
        contextJson: JSON.stringify(input.context ?? {}),
        outputDirs: outputs.filter(((o) => o.kind === "dir")).map(((o) => o.target)),
        outputs,
        declaredOutputs: paths.outputs ?? [],
        writeDirs,
        runtimeName: manifest.runtime.name,
        script,
    };
});
import { basename, dirname, join } from "../_path.js";
import { realPathSyncOrNull } from "../_fs.js";
import { IntegrityError, PermissionError } from "../errors.js";
import { pathProblem } from "../_cache_folder.js";
import { scriptCommand } from "../runtimes/types.js";
import { checkOutputFolder, checkOwnPaths, contextPaths, effectiveAllow, enclosingFolders, homeFolders, ownPaths, protectedPaths, resolveGrantedPaths, } from "../sandbox/policy.js";
import { confinementOf } from "../sandbox/mod.js";
export const SCRIPT_PATH = "/usr/local/bin:/usr/bin:/bin";
;
;
;
;
