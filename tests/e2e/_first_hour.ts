/**
 * Shared set-up of the first-hour files (`first_hour*_test.ts`): what a new user meets in the
 * first hour, through the real CLI.
 *
 * @module
 */
import { join } from "node:path";
import { fakeServerEnv, testCache } from "../helpers/cli.ts";

/** A cache folder of the importing file, removed at exit. */
export const CACHE = await testCache("capibara_first_hour_cache_");

/** The CLI's environment for a fake server at `url`. */
export function envFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return fakeServerEnv(url, CACHE, extra);
}

/** The `--json` form of an error. */
export interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

/** Whether the OS sandbox is there (runs of Python scripts need it). */
export { OS_SANDBOX } from "../helpers/cli.ts";

/** Folders and cgroups named `prefix…` below `root`, `depth` levels deep at most. */
export async function named(root: string, prefix: string, depth: number): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, level: number): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory) continue;
      if (e.name.startsWith(prefix)) found.push(join(dir, e.name));
      else if (level < depth) await walk(join(dir, e.name), level + 1);
    }
  }
  await walk(root, 0);
  return found;
}

/** Polls `condition` every 100 ms, for 60 s at most. */
export async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Gave up waiting: ${what}`);
}
