/**
 * The runtime of each script language. Each runtime's module loads when a runtime of its language
 * is first used: a Python cache hit never loads the TypeScript or bash runtimes.
 *
 * @module
 */
import type { Language, Manifest } from "../schema.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

type Env = Record<string, string | undefined>;
const cache = new WeakMap<Env, Map<Language, Runtime>>();

/** A runtime whose module is imported on its first call. */
class LazyRuntime implements Runtime {
  readonly language: Language;
  #runtime?: Promise<Runtime>;
  readonly #load: () => Promise<Runtime>;

  constructor(language: Language, load: () => Promise<Runtime>) {
    this.language = language;
    this.#load = load;
  }

  #get(): Promise<Runtime> {
    return this.#runtime ??= this.#load();
  }

  async describe(): Promise<{ name: string; version: string }> {
    return await (await this.#get()).describe();
  }

  async prepare(
    manifest: Manifest,
    scriptDir: string,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    return await (await this.#get()).prepare(manifest, scriptDir, options);
  }
}

function load(language: Language, env: Env): () => Promise<Runtime> {
  switch (language) {
    case "python":
      return async () => new (await import("./python.ts")).PythonRuntime({ env });
    case "typescript":
      return async () => new (await import("./deno.ts")).DenoRuntime({ env });
    case "bash":
      return async () => new (await import("./bash.ts")).BashRuntime({ env });
    default:
      throw new Error(`No runtime for ${language} yet`);
  }
}

/** The runtime for a language, one instance per language and environment object. */
export function runtimeFor(language: Language, env: Env): Runtime {
  let byLanguage = cache.get(env);
  if (!byLanguage) cache.set(env, byLanguage = new Map());
  let runtime = byLanguage.get(language);
  if (!runtime) {
    runtime = new LazyRuntime(language, load(language, env));
    byLanguage.set(language, runtime);
  }
  return runtime;
}
