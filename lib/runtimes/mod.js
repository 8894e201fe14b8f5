// Generated from src/runtimes/mod.ts by scripts/build_js.ts (sha256 ce4ae60305a0bd83f81983f4cbe96e2be7265a3b10972faeca16cff98c2aceaa): do not edit; `deno task build:js` writes it.
var load = (function (language, env) {
    switch (language) {
        case "python":
            return (async () => new (await import("./python.js")).PythonRuntime({ env }));
        case "typescript":
            return (async () => new (await import("./deno.js")).DenoRuntime({ env }));
        case "bash":
            return (async () => new (await import("./bash.js")).BashRuntime({ env }));
        default:
            throw new Error(`No runtime for ${language} yet`);
    }
});
export var runtimeFor = (function (language, env) {
    let byLanguage = cache.get(env);
    if (!byLanguage)
        cache.set(env, byLanguage = new Map());
    let runtime = byLanguage.get(language);
    if (!runtime) {
        runtime = new LazyRuntime(language, load(language, env));
        byLanguage.set(language, runtime);
    }
    return runtime;
});
const cache = new WeakMap();
class LazyRuntime {
    language;
    #runtime;
    #load;
    constructor(language, load) {
        this.language = language;
        this.#load = load;
    }
    #get() {
        return this.#runtime ??= this.#load();
    }
    async describe() {
        return await (await this.#get()).describe();
    }
    async prepare(manifest, scriptDir, options) {
        return await (await this.#get()).prepare(manifest, scriptDir, options);
    }
}
;
;
