/**
 * The runtime of each script language.
 *
 * @module
 */
import type { Language } from "../schema.ts";
import { BashRuntime } from "./bash.ts";
import { DenoRuntime } from "./deno.ts";
import { PythonRuntime } from "./python.ts";
import type { Runtime } from "./types.ts";

type Env = Record<string, string | undefined>;
const cache = new WeakMap<Env, Map<Language, Runtime>>();

/** The runtime for a language, one instance per language and environment object. */
export function runtimeFor(language: Language, env: Env): Runtime {
  let byLanguage = cache.get(env);
  if (!byLanguage) cache.set(env, byLanguage = new Map());
  let runtime = byLanguage.get(language);
  if (!runtime) {
    switch (language) {
      case "python":
        runtime = new PythonRuntime({ env });
        break;
      case "typescript":
        runtime = new DenoRuntime({ env });
        break;
      case "bash":
        runtime = new BashRuntime({ env });
        break;
      default:
        throw new Error(`No runtime for ${language} yet`);
    }
    byLanguage.set(language, runtime);
  }
  return runtime;
}
