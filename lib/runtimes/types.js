// Generated from src/runtimes/types.ts by scripts/build_js.ts (sha256 31bda7edead418aa48fa20129d327063b81fe9fca47189537e93f0bb9749158b): do not edit; `deno task build:js` writes it.
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
