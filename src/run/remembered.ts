/**
 * A hit's sandbox started at the command's start, from the plan its last run of the same command
 * used. A hit in a process of its own (CI, `CAPIBARA_RUNNER=0`) otherwise sets its sandbox up only
 * once its modules are loaded and its entry found and checked; started from the remembered plan
 * instead, the sandbox's namespaces, mounts, cgroups and the interpreter's own start go on, on the
 * other core, while this process loads the rest of a run.
 *
 * What is remembered is only a guess. The sandbox it starts waits at its gate (see
 * `Prestarts`): nothing of the script, its `site` or its dependencies runs until the run releases
 * it, and the run does so only when the plan it made itself, after the entry's full integrity
 * check, is that very plan (its temp dir aside) and nothing the sandbox shows changed since it was
 * set up ({@linkcode Prestarts.take}). Any other plan, a failed check or an error throws the
 * sandbox away, and the run starts cold.
 *
 * The plans live in the user's runner folder (`plans/`), which is private to the user (mode 0700,
 * checked, see `_runner_folder.ts`) and hidden from every script by the sandbox: the same trust as
 * the cache folder's environments, whose interpreters a hit runs. A repository never brings one.
 *
 * @module
 */
import { join } from "../_path.ts";
import { lstatSyncOrNull } from "../_fs.ts";
import { cacheFolderIsOwn } from "../_cache_folder.ts";
import { privateFolder, runnerFolder } from "../_runner_folder.ts";
import { type Language, LANGUAGES } from "../types.ts";
import { backendFor, runDirPath } from "./execute.ts";
import { movedTo, prestartable, prestarts } from "./prestart.ts";
import type { Plan } from "./plan.ts";

/** The remembered plans kept at most; the oldest go first. */
export const REMEMBERED_MAX = 64;

/** What is remembered of a command's last hit. */
export interface Remembered {
  /** The key the run looks its started sandbox up by (see `Capibara`). */
  key: string;
  language: Language;
  /** The cache folder the backend was made with. */
  cacheDir: string;
  /** The plan, with the temp dir it had. */
  plan: Plan;
}

/** A short, stable name for a command (its arguments and folder): FNV-1a, twice 32 bits. */
function nameOf(args: readonly string[], cwd: string): string {
  const text = JSON.stringify([cwd, ...args]);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/** Where the plan of the command `args` run in `cwd` is remembered (the folder may be missing). */
export function rememberedFile(args: readonly string[], cwd: string): string {
  return join(runnerFolder(), "plans", `${nameOf(args, cwd)}.json`);
}

/** The plans' folder, when the runner folder is there and private. */
function plansFolder(create: boolean): string | undefined {
  const folder = runnerFolder();
  if (create) {
    try {
      Deno.mkdirSync(folder, { mode: 0o700 });
    } catch {
      // there already (checked next), or not ours to make
    }
  }
  if (!privateFolder(folder)) return undefined;
  const plans = join(folder, "plans");
  if (create) {
    try {
      Deno.mkdirSync(plans, { mode: 0o700 });
    } catch {
      // there already (checked next)
    }
  }
  return privateFolder(plans) ? plans : undefined;
}

function parse(text: string): Remembered | undefined {
  try {
    const value = JSON.parse(text) as Partial<Remembered>;
    if (
      typeof value.key !== "string" || typeof value.cacheDir !== "string" ||
      !(LANGUAGES as readonly string[]).includes(value.language as string) ||
      typeof value.plan?.policy?.tmpDir !== "string"
    ) return undefined;
    return value as Remembered;
  } catch {
    return undefined;
  }
}

/** This process's command, once {@linkcode startRemembered} looked its plan up. */
let command: { file: string; text?: string } | undefined;

/** The largest plan file read (a plan is a few kilobytes). */
const MAX_PLAN_BYTES = 1 << 20;

/** The exit codes of the signals a command ends with while its sandbox starts ahead. */
const SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
/** Removes the signal listeners {@linkcode startRemembered} set (see {@linkcode handOver}). */
let listening: (() => void) | undefined;

/**
 * The plan file's text: a regular file of this user's, closed to others, with one link and at
 * most {@linkcode MAX_PLAN_BYTES} (never a FIFO, whose open would block).
 */
function readPlan(file: string): string | undefined {
  const info = lstatSyncOrNull(file);
  if (
    !info?.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0o777) & 0o077) !== 0 ||
    info.nlink !== 1 || info.size > MAX_PLAN_BYTES
  ) return undefined;
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The plan as it is written down: the values of the variables granted to the script (tokens,
 * keys) are left out; {@linkcode withGranted} takes them from the environment again.
 */
function withoutGranted(plan: Plan): Plan {
  const env: Record<string, string | null> = { ...plan.command.env };
  // null in its place: the variables keep their order, which the comparison of plans sees.
  for (const name of plan.allow.env) if (name in env) env[name] = null;
  return { ...plan, command: { ...plan.command, env: env as Record<string, string> } };
}

/** A written-down plan with its granted variables' values taken from this environment. */
function withGranted(plan: Plan): Plan {
  const env: Record<string, string | null> = { ...plan.command.env };
  for (const name of plan.allow.env) {
    if (env[name] !== null) continue;
    const value = Deno.env.get(name);
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return { ...plan, command: { ...plan.command, env: env as Record<string, string> } };
}

/**
 * Starts, held, the sandbox the last hit of this very command (`args` in `cwd`) used, when one
 * is remembered and still fits its plan's rules ({@linkcode prestartable}); and notes that this
 * process's hit is to be remembered ({@linkcode rememberRun}). Until the run's own signal handling
 * takes over ({@linkcode handOver}), SIGINT and SIGTERM end the command at once, with what waits
 * undone. Never throws: a plan that cannot be used only costs the time it saves.
 */
export async function startRemembered(args: readonly string[], cwd: string): Promise<void> {
  try {
    const folder = plansFolder(false);
    command = { file: rememberedFile(args, cwd) };
    if (!folder) return;
    const text = readPlan(command.file);
    if (text === undefined) return;
    command.text = text;
    const remembered = parse(text);
    // Its environments and the sandbox's probe start what the plan names: not from a cache
    // folder others may write (the run itself then refuses it).
    if (!remembered || !cacheFolderIsOwn(remembered.cacheDir)) return;
    const plan = withGranted(movedTo(remembered.plan, runDirPath()));
    // This command's own folder. The prestart refuses a plan that is not prestartable, and its
    // staging one that would make anything outside its temp dir or that folder (checkPlanPaths):
    // a plan file is staged before it is compared with a fresh plan.
    if (plan.policy.workdir !== Deno.realPathSync(cwd)) return;
    const backend = await backendFor(remembered.language, {
      sandbox: true,
      cacheDir: remembered.cacheDir,
      warn: () => {},
    });
    // A signal while the sandbox is being set up waits for the set-up to end, then undoes it
    // all (its temp dir, state dir and cgroups) before the command ends: exiting at once left
    // what was half made to the next run's sweep.
    let settingUp = true;
    let signalled: number | undefined;
    const listeners = Object.entries(SIGNALS).map(([name, code]) => {
      const listener = () => {
        if (!settingUp) Deno.exit(code);
        signalled ??= code;
      };
      Deno.addSignalListener(name as Deno.Signal, listener);
      return [name as Deno.Signal, listener] as const;
    });
    listening = () => {
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    };
    try {
      await prestarts.adopt(remembered.key, backend, plan);
    } finally {
      settingUp = false;
      if (signalled !== undefined) {
        await prestarts.dispose().catch(() => {});
        Deno.exit(signalled);
      }
    }
  } catch {
    // started cold
  }
}

/**
 * Called once the run handles SIGINT and SIGTERM itself: the listeners
 * {@linkcode startRemembered} set to end the command while its sandbox starts are removed.
 */
export function handOver(): void {
  listening?.();
  listening = undefined;
}

/**
 * Remembers a hit's plan for this process's command's next hit, when {@linkcode startRemembered}
 * ran first, the backend holds, the plan may be started ahead and its sandbox needed no copies
 * made when set up (they would be thrown away, see `Prestarts`); rewrites the file only when the
 * plan changed. Never throws.
 */
export function rememberRun(
  remembered: Remembered,
  fit: { holds: boolean; copies: boolean },
): void {
  if (!command || !fit.holds || fit.copies || !prestartable(remembered.plan)) return;
  try {
    const written = { ...remembered, plan: withoutGranted(remembered.plan) };
    if (command.text !== undefined && sameButTmp(command.text, written)) return;
    const folder = plansFolder(true);
    if (!folder) return;
    const text = JSON.stringify(written);
    const tmp = `${command.file}.${crypto.randomUUID()}.tmp`;
    Deno.writeTextFileSync(tmp, text, { mode: 0o600, createNew: true });
    Deno.renameSync(tmp, command.file);
    command.text = text;
    prune(folder);
  } catch {
    // not remembered
  }
}

function sameButTmp(text: string, remembered: Remembered): boolean {
  const before = parse(text);
  if (!before) return false;
  return JSON.stringify({
    ...remembered,
    plan: movedTo(remembered.plan, before.plan.policy.tmpDir),
  }) === JSON.stringify(before);
}

/** Keeps the newest {@linkcode REMEMBERED_MAX} plans. */
function prune(folder: string): void {
  const files = [...Deno.readDirSync(folder)].filter((e) => e.isFile);
  if (files.length <= REMEMBERED_MAX) return;
  const aged = files.map((e) => ({
    path: join(folder, e.name),
    mtime: lstatSyncOrNull(join(folder, e.name))?.mtime?.getTime() ?? 0,
  })).sort((a, b) => a.mtime - b.mtime);
  for (const { path } of aged.slice(0, aged.length - REMEMBERED_MAX)) {
    try {
      Deno.removeSync(path);
    } catch {
      // gone
    }
  }
}
