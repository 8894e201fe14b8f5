/**
 * Sandboxes started ahead of the run they are for. A request that repeats (a loop, a resident
 * runner) gets its next sandbox set up while the current run goes on, from its second run on and
 * while its runs end well: the temp dir, the staging copies, the namespaces, binds, cgroups,
 * Landlock and seccomp, and the interpreter's own start.
 * The sandbox then waits at its gate (see `holdCommand`): nothing of the script, its `site` or
 * its dependencies runs until the run it is for releases it.
 *
 * A started sandbox is used only by a run whose plan is the very plan it was started for (the
 * temp dir aside), and whose every path is still the file it was when the sandbox was set up: a
 * bound file replaced since (a new inode), a folder on the way swapped, a mode or owner changed,
 * an input written to: the started sandbox is thrown away and the run starts cold. It never
 * starts for a plan that would change the project while it waits (an output folder or file not
 * there yet, a folder written in place), nor one whose sandbox shows copies made when it is set up
 * (a read path closed to the sandbox's uid, as root): what waits touches only its own temp dir and
 * shows the project as it is. It lives at most {@linkcode PRESTART_MAX_AGE_MS}, and dies with the
 * process.
 *
 * @module
 */
import { dirname } from "../_path.ts";
import { lstatSyncOrNull, removeIfExists, removeIfExistsSync } from "../_fs.ts";
import { sleep } from "../_timer.ts";
import type { SandboxBackend } from "../sandbox/types.ts";
import type { Plan } from "./plan.ts";
import { stage, type Staged } from "./execute.ts";

/** How long a started sandbox waits for its run before it is thrown away. */
export const PRESTART_MAX_AGE_MS = 30_000;
/** How many started sandboxes one process keeps at most (the oldest goes first). */
export const PRESTART_MAX_SLOTS = 4;
/** How many requests' last outcomes one process remembers (the oldest goes first). */
export const PRESTART_HISTORY = 64;

/** A sandbox started for a plan, and what its paths were when it was set up. */
interface Slot {
  staged: Staged;
  /** The plan's JSON with its temp dir replaced by a marker (see {@linkcode planShape}). */
  shape: string;
  /** What each path the sandbox shows was, before it was set up. */
  identities: Map<string, string>;
  born: number;
}

const TMP_MARKER = "\u0000tmp\u0000";

/** A plan's JSON with its own temp dir, wherever it appears, written as `replacement`. */
function withTmpText(plan: Plan, replacement: string): string {
  return JSON.stringify(plan).replaceAll(
    JSON.stringify(plan.policy.tmpDir).slice(1, -1),
    replacement,
  );
}

/** A plan's JSON with its own temp dir abstracted: two plans for the same run compare equal. */
function planShape(plan: Plan): string {
  return withTmpText(plan, TMP_MARKER);
}

/** The same plan for another temp dir (`tmpDir`, as the executor would plan it). */
export function movedTo(plan: Plan, tmpDir: string): Plan {
  return JSON.parse(withTmpText(plan, JSON.stringify(tmpDir).slice(1, -1))) as Plan;
}

/** Whether a plan can be staged ahead without the project seeing anything while it waits. */
export function prestartable(plan: Plan): boolean {
  if (plan.policy.write.length > 0) return false;
  return plan.outputs.every((output) => {
    const info = lstatSyncOrNull(output.target);
    return info !== null && (output.kind === "dir" ? info.isDirectory : info.isFile);
  });
}

/**
 * The paths a plan's sandbox shows or stands on (everything in its policy but its own temp dir,
 * and every folder above them), each with what identifies it: device, inode, type, mode and
 * owner; for a file that is read, also its size and change time (a read path closed to the
 * sandbox is shown as a copy made when the sandbox is set up).
 */
function identitiesOf(plan: Plan): Map<string, string> {
  const { policy } = plan;
  const read = new Set(policy.read);
  const paths = new Set<string>();
  const add = (path: string) => {
    for (let p = path; !paths.has(p); p = dirname(p)) {
      paths.add(p);
      if (p === "/" || p === ".") break;
    }
  };
  for (const path of [...policy.read, ...policy.protect, policy.workdir]) add(path);
  for (const output of plan.outputs) add(output.target);
  const identities = new Map<string, string>();
  for (const path of paths) {
    const info = lstatSyncOrNull(path);
    if (!info) {
      identities.set(path, "absent");
      continue;
    }
    let id = `${info.dev}:${info.ino}:${info.mode}:${info.uid}:${info.gid}:` +
      `${info.isDirectory ? "d" : info.isSymlink ? "l" : "f"}`;
    if (read.has(path) && !info.isDirectory) {
      id += `:${info.size}:${info.mtime?.getTime()}:${info.ctime?.getTime()}`;
    }
    identities.set(path, id);
  }
  return identities;
}

function sameIdentities(before: Map<string, string>, now: Map<string, string>): boolean {
  if (before.size !== now.size) return false;
  for (const [path, id] of before) if (now.get(path) !== id) return false;
  return true;
}

/** Sandboxes started ahead, by request. One pool per process (see {@linkcode prestarts}). */
export class Prestarts {
  #slots = new Map<string, Promise<Slot | undefined>>();
  /** How each request's last run ended (true: ok), for the last {@linkcode PRESTART_HISTORY}. */
  #history = new Map<string, boolean>();
  #live = new Set<Staged>();
  /** The keys whose waiting sandbox {@linkcode Prestarts.adopt} started. */
  #adopted = new Set<string>();
  #timers = new Map<string, number>();
  /** Run folders whose removal waits for the answer (see {@linkcode Prestarts.removeLater}). */
  #leftovers = new Map<string, Promise<void>>();
  #exitHook = false;
  /**
   * Counts: sandboxes started ahead, used by their run, thrown away (unfit, stale or unused), and
   * lost (taken, but ended before their gate let the run through: the run started afresh).
   */
  readonly stats: { started: number; used: number; discarded: number; lost: number } = {
    started: 0,
    used: 0,
    discarded: 0,
    lost: 0,
  };

  /**
   * Whether a request's next sandbox is set up once its run ended, not while it goes on. A
   * resident runner sets it: its clients are processes of their own, which leave it tens of
   * milliseconds between two runs, and a sandbox set up while a script runs slows that script
   * (here its run took ≈ 47 ms instead of ≈ 32 ms from its release: the set-up's namespaces and
   * cgroup join contend with it). A loop in one process may ask again at once, and then gains
   * from the overlap.
   */
  nextAfterRun = false;

  /**
   * Removes a finished run's folder once the caller's answer went (a timer of 0 ms), where
   * {@linkcode nextAfterRun} is set: a resident runner's client waits for nothing that follows
   * the answer (≈ 1 ms here). Awaited by {@linkcode dispose}; removed at once at exit.
   */
  removeLater(folder: string): void {
    this.#hookExit();
    const removal = sleep(0).then(() => removeIfExists(folder)).catch(() => {}).finally(() => {
      this.#leftovers.delete(folder);
    });
    this.#leftovers.set(folder, removal);
  }

  /** The run folders (temp dirs) of the sandboxes that wait, once each is set up. */
  async waiting(): Promise<string[]> {
    const slots = await Promise.all(this.#slots.values());
    return slots.flatMap((slot) => slot ? [slot.staged.plan.policy.tmpDir] : []);
  }

  /** Resolves once the run folders whose removal waits for the answer so far are gone. */
  async removals(): Promise<void> {
    await Promise.all(this.#leftovers.values());
  }

  /** How many started (or starting) sandboxes wait. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Starts a sandbox for `key`'s next run, planned by `plan(tmpDir)`. Nothing happens for a
   * request whose last run did not end well or that did not run before (a request run once
   * leaves nothing waiting), when one already waits for `key`, or when the plan is not
   * {@linkcode prestartable}; a start that fails is forgotten (the next run starts cold).
   */
  start(
    key: string,
    backend: SandboxBackend,
    plan: () => Promise<Plan>,
  ): void {
    if (this.#history.get(key) !== true) return;
    void this.#open(key, backend, plan);
  }

  /**
   * Starts a sandbox for `key`'s run from a plan made before this process knew the request (the
   * last hit of the same command, see `remembered.ts`), whatever this process's history: the
   * run's own plan decides at {@linkcode Prestarts.take} whether it is used. Resolves once the
   * sandbox is started (or could not be).
   */
  async adopt(key: string, backend: SandboxBackend, plan: Plan): Promise<void> {
    // No timer drops it: the command's process ends with its run (a first `setTimeout` loads
    // Deno's Node layer, ≈ 6 ms here); it still fits only within the age limit.
    await this.#open(key, backend, () => Promise.resolve(plan), false);
  }

  #open(
    key: string,
    backend: SandboxBackend,
    plan: () => Promise<Plan>,
    expires = true,
  ): Promise<Slot | undefined> | undefined {
    if (!backend.holds || this.#slots.has(key)) return undefined;
    this.#hookExit();
    while (this.#slots.size >= PRESTART_MAX_SLOTS) {
      const oldest = this.#slots.keys().next().value!;
      this.#drop(oldest);
    }
    const slot = (async (): Promise<Slot | undefined> => {
      const planned = await plan();
      if (!prestartable(planned)) return undefined;
      const identities = identitiesOf(planned);
      const staged = await stage(planned, backend, { held: true });
      // Copies made now (a read path closed to the sandbox's uid) would go stale while it waits.
      if (staged.wrapped.copies) {
        await staged.dispose();
        return undefined;
      }
      this.#live.add(staged);
      this.stats.started++;
      return { staged, shape: planShape(planned), identities, born: performance.now() };
    })().catch(() => undefined);
    this.#slots.set(key, slot);
    if (!expires) {
      this.#adopted.add(key);
      return slot;
    }
    // Off the hit path: a resident process drops what nobody took; it never keeps one alive.
    const timer = setTimeout(() => this.#drop(key), PRESTART_MAX_AGE_MS) as unknown as number;
    Deno.unrefTimer(timer);
    this.#timers.set(key, timer);
    return slot;
  }

  /**
   * The sandbox started for `key`, when it was started for exactly `plan` (its temp dir aside)
   * and nothing it shows changed since; else undefined, and whatever waited is thrown away.
   * Taken once. With `adoptedOnly`, only a sandbox started by {@linkcode Prestarts.adopt} is.
   */
  async take(key: string, plan: Plan, adoptedOnly = false): Promise<Staged | undefined> {
    const pending = this.#slots.get(key);
    // A sandbox the command started for another request than its run's is of no use now.
    for (const other of this.#adopted) if (other !== key) void this.#drop(other);
    if (!pending || (adoptedOnly && !this.#adopted.has(key))) return undefined;
    this.#forget(key);
    const slot = await pending;
    if (!slot) return undefined;
    this.#live.delete(slot.staged);
    const fits = slot.staged.held?.waiting === true &&
      performance.now() - slot.born < PRESTART_MAX_AGE_MS &&
      slot.shape === planShape(plan) &&
      sameIdentities(slot.identities, identitiesOf(slot.staged.plan));
    if (fits) {
      this.stats.used++;
      return slot.staged;
    }
    this.stats.discarded++;
    void slot.staged.dispose();
    return undefined;
  }

  /**
   * Records how `key`'s run ended. After one that failed or was interrupted, the sandbox started
   * for its next run is thrown away, and none starts until a run of it ends well again.
   */
  settle(key: string, ok: boolean): void {
    this.#history.delete(key);
    this.#history.set(key, ok);
    while (this.#history.size > PRESTART_HISTORY) {
      this.#history.delete(this.#history.keys().next().value!);
    }
    if (!ok && this.#slots.has(key)) void this.#drop(key);
  }

  /** Throws away every started sandbox; resolves once they are gone. */
  async dispose(): Promise<void> {
    const keys = [...this.#slots.keys()];
    await Promise.all([...keys.map((key) => this.#drop(key)), ...this.#leftovers.values()]);
  }

  #forget(key: string): void {
    this.#slots.delete(key);
    this.#adopted.delete(key);
    const timer = this.#timers.get(key);
    // Only where one was set: a first clearTimeout too loads Deno's Node layer (≈ 4 ms here).
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(key);
  }

  async #drop(key: string): Promise<void> {
    const pending = this.#slots.get(key);
    this.#forget(key);
    const slot = await pending;
    if (!slot) return;
    this.#live.delete(slot.staged);
    this.stats.discarded++;
    await slot.staged.dispose();
  }

  /**
   * At exit, what still waits is killed and undone (its temp dir, state dir and cgroups); a
   * process that dies without an `unload` (a signal, an uncaught error) leaves them to the next
   * run's sweep.
   */
  #hookExit(): void {
    if (this.#exitHook) return;
    this.#exitHook = true;
    globalThis.addEventListener("unload", () => {
      for (const staged of this.#live) staged.abandon();
      this.#live.clear();
      for (const folder of this.#leftovers.keys()) {
        try {
          removeIfExistsSync(folder);
        } catch {
          // gone, or swept later
        }
      }
      this.#leftovers.clear();
    });
  }
}

/** The process's pool. */
export const prestarts: Prestarts = new Prestarts();
