// Generated from src/run/prestart.ts by scripts/build_js.ts (sha256 9a7ef85d4a2ff1a022985634b4b23c8180ed70439178959ecfe3a43ae2d30cb5): do not edit; `deno task build:js` writes it.
var withTmpText = (function (plan, replacement) {
    return JSON.stringify(plan).replaceAll(JSON.stringify(plan.policy.tmpDir).slice(1, -1), replacement);
});
var planShape = (function (plan) {
    return withTmpText(plan, TMP_MARKER);
});
export var movedTo = (function (plan, tmpDir) {
    return JSON.parse(withTmpText(plan, JSON.stringify(tmpDir).slice(1, -1)));
});
export var prestartable = (function (plan) {
    if (plan.policy.write.length > 0)
        return false;
    return plan.outputs.every(((output) => {
        const info = lstatSyncOrNull(output.target);
        return info !== null && (output.kind === "dir" ? info.isDirectory : info.isFile);
    }));
});
var identitiesOf = (function (plan) {
    const { policy } = plan;
    const read = new Set(policy.read);
    const paths = new Set();
    const add = ((path) => {
        for (let p = path; !paths.has(p); p = dirname(p)) {
            paths.add(p);
            if (p === "/" || p === ".")
                break;
        }
    });
    for (const path of [...policy.read, ...policy.protect, policy.workdir])
        add(path);
    for (const output of plan.outputs)
        add(output.target);
    const identities = new Map();
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
});
var sameIdentities = (function (before, now) {
    if (before.size !== now.size)
        return false;
    for (const [path, id] of before)
        if (now.get(path) !== id)
            return false;
    return true;
});
import { dirname } from "../_path.js";
import { lstatSyncOrNull, removeIfExists, removeIfExistsSync } from "../_fs.js";
import { sleep } from "../_timer.js";
import { stage } from "./execute.js";
export const PRESTART_MAX_AGE_MS = 30_000;
export const PRESTART_MAX_SLOTS = 4;
export const PRESTART_HISTORY = 64;
const TMP_MARKER = "\u0000tmp\u0000";
;
;
;
;
;
;
export class Prestarts {
    #slots = new Map();
    #history = new Map();
    #live = new Set();
    #adopted = new Set();
    #timers = new Map();
    #leftovers = new Map();
    #exitHook = false;
    stats = {
        started: 0,
        used: 0,
        discarded: 0,
        lost: 0,
    };
    nextAfterRun = false;
    removeLater(folder) {
        this.#hookExit();
        const removal = sleep(0).then((() => removeIfExists(folder))).catch((() => { })).finally((() => {
            this.#leftovers.delete(folder);
        }));
        this.#leftovers.set(folder, removal);
    }
    async waiting() {
        const slots = await Promise.all(this.#slots.values());
        return slots.flatMap(((slot) => slot ? [slot.staged.plan.policy.tmpDir] : []));
    }
    async removals() {
        await Promise.all(this.#leftovers.values());
    }
    get size() {
        return this.#slots.size;
    }
    start(key, backend, plan) {
        if (this.#history.get(key) !== true)
            return;
        void this.#open(key, backend, plan);
    }
    async adopt(key, backend, plan) {
        await this.#open(key, backend, (() => Promise.resolve(plan)), false);
    }
    #open(key, backend, plan, expires = true) {
        if (!backend.holds || this.#slots.has(key))
            return undefined;
        this.#hookExit();
        while (this.#slots.size >= PRESTART_MAX_SLOTS) {
            const oldest = this.#slots.keys().next().value;
            this.#drop(oldest);
        }
        const slot = (async () => {
            const planned = await plan();
            if (!prestartable(planned))
                return undefined;
            const identities = identitiesOf(planned);
            const staged = await stage(planned, backend, { held: true });
            if (staged.wrapped.copies) {
                await staged.dispose();
                return undefined;
            }
            this.#live.add(staged);
            this.stats.started++;
            return { staged, shape: planShape(planned), identities, born: performance.now() };
        })().catch((() => undefined));
        this.#slots.set(key, slot);
        if (!expires) {
            this.#adopted.add(key);
            return slot;
        }
        const timer = setTimeout((() => this.#drop(key)), PRESTART_MAX_AGE_MS);
        Deno.unrefTimer(timer);
        this.#timers.set(key, timer);
        return slot;
    }
    async take(key, plan, adoptedOnly = false) {
        const pending = this.#slots.get(key);
        for (const other of this.#adopted)
            if (other !== key)
                void this.#drop(other);
        if (!pending || (adoptedOnly && !this.#adopted.has(key)))
            return undefined;
        this.#forget(key);
        const slot = await pending;
        if (!slot)
            return undefined;
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
    settle(key, ok) {
        this.#history.delete(key);
        this.#history.set(key, ok);
        while (this.#history.size > PRESTART_HISTORY) {
            this.#history.delete(this.#history.keys().next().value);
        }
        if (!ok && this.#slots.has(key))
            void this.#drop(key);
    }
    async dispose() {
        const keys = [...this.#slots.keys()];
        await Promise.all([...keys.map(((key) => this.#drop(key))), ...this.#leftovers.values()]);
    }
    #forget(key) {
        this.#slots.delete(key);
        this.#adopted.delete(key);
        const timer = this.#timers.get(key);
        if (timer === undefined)
            return;
        clearTimeout(timer);
        this.#timers.delete(key);
    }
    async #drop(key) {
        const pending = this.#slots.get(key);
        this.#forget(key);
        const slot = await pending;
        if (!slot)
            return;
        this.#live.delete(slot.staged);
        this.stats.discarded++;
        await slot.staged.dispose();
    }
    #hookExit() {
        if (this.#exitHook)
            return;
        this.#exitHook = true;
        globalThis.addEventListener("unload", (() => {
            for (const staged of this.#live)
                staged.abandon();
            this.#live.clear();
            for (const folder of this.#leftovers.keys()) {
                try {
                    removeIfExistsSync(folder);
                }
                catch {
                }
            }
            this.#leftovers.clear();
        }));
    }
}
export const prestarts = new Prestarts();
