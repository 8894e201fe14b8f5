// Generated from src/runtimes/_build_once.ts by scripts/build_js.ts (sha256 a35a7272fd5d8545a07bd8a4ab337aa24c60f6f8b19b6c376c375e1ec8051739): do not edit; `deno task build:js` writes it.
export var readReady = (async function (spec) {
    let raw;
    try {
        raw = JSON.parse(await Deno.readTextFile(join(spec.dir, spec.marker)));
    }
    catch {
        return undefined;
    }
    return await spec.accept(raw, spec.dir);
});
export var buildOnce = (async function (spec) {
    const ready = await readReady(spec);
    if (ready !== undefined)
        return ready;
    const promise = inFlight.get(spec.dir, (() => buildLocked(spec)));
    try {
        return await promise;
    }
    finally {
        inFlight.clear(spec.dir);
    }
});
var buildLocked = (async function (spec) {
    await Deno.mkdir(dirname(spec.dir), { recursive: true });
    const lock = await Deno.open(spec.lockFile ?? `${spec.dir}.lock`, {
        create: true,
        write: true,
    });
    try {
        if (!(await lock.tryLock(true))) {
            spec.onWait?.();
            await lock.lock(true);
        }
        const ready = await readReady(spec);
        if (ready !== undefined)
            return ready;
        await removeIfExists(spec.dir);
        await Deno.mkdir(spec.dir);
        try {
            const marker = await spec.build(spec.dir);
            await writeMarker(spec.dir, spec.marker, marker);
            return marker;
        }
        catch (error) {
            await removeIfExists(spec.dir);
            throw error;
        }
    }
    finally {
        lock.close();
    }
});
var writeMarker = (async function (dir, name, marker) {
    const tmp = join(dir, `${name}.tmp`);
    await removeIfExists(tmp);
    await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n", { createNew: true });
    await Deno.rename(tmp, join(dir, name));
});
import { dirname, join } from "../_path.js";
import { Memo } from "../_memo.js";
import { removeIfExists } from "../_fs.js";
const inFlight = new Memo();
;
;
;
;
