// Generated from src/runtimes/types.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
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
