// Generated from src/runtimes/types.ts by scripts/build_js.ts (sha256 e8de751e53741dc3af113a3613c71bfdc24d97fe941b9b7ac0e4813f709ab9f5): do not edit; `deno task build:js` writes it.
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
