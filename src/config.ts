/**
 * Configuration: options > environment > `.capibara/config.json` > defaults, merged once.
 *
 * @module
 */
import { join } from "node:path";
import envPaths from "env-paths";
import { ValidationError } from "./errors.ts";
import { type Mode, ProjectConfig } from "./schema.ts";
import { STORE_DIR } from "./store/store.ts";

/** Defaults of every tunable. */
export const DEFAULTS = {
  timeoutSeconds: 300,
  memoryBytes: 2 * 1024 ** 3,
  maxProcesses: 256,
  maxOutputBytes: 16 * 1024 ** 2,
  mode: "strict" as Mode,
} as const;

/** The machine-local cache directory: `CAPIBARA_CACHE_DIR`, else the platform's cache dir. */
export function cacheDirFrom(env: Record<string, string | undefined>): string {
  const explicit = env.CAPIBARA_CACHE_DIR;
  if (explicit) return explicit;
  return envPaths("capibara", { suffix: "" }).cache;
}

/** Reads `.capibara/config.json` of a root; `{}` when absent. */
export async function loadProjectConfig(root: string): Promise<ProjectConfig> {
  const path = join(root, STORE_DIR, "config.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Cannot read "${path}": it is not valid JSON`, {
      cause: error,
      hint: "Fix the file's syntax",
    });
  }
  const parsed = ProjectConfig.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(
      `Cannot read "${path}": ${
        parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
      }`,
      {
        hint:
          "Allowed keys: generator {base_url, model}, mode, timeout, allow {network, env, read, write}, " +
          "install {source_builds}",
      },
    );
  }
  return parsed.data;
}
