// Generated from src/runtimes/types.ts by scripts/build_js.ts (sha256 1f495e276ee66131fe2b8e4fda4ff7abdae58b6f8501aa8ca8fecf1717ba881f): do not edit; `deno task build:js` writes it.
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
