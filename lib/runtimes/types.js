// Generated from src/runtimes/types.ts by scripts/build_js.ts (sha256 3ad179facfbd969e9d33eae57d78abc798dac33bdac3daa3f43a6b2290488a71): do not edit; `deno task build:js` writes it.
export var scriptCommand = (function (prepared, scriptPath, contextFile, base) {
    return {
        program: prepared.interpreter,
        args: [
            ...prepared.interpreterArgs,
            scriptPath,
            "--context",
            "@" + contextFile,
            ...(base.extraArgs ?? []),
        ],
        env: { ...base.env, ...prepared.env },
        cwd: base.cwd,
    };
});
;
