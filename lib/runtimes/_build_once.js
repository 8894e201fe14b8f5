// Generated from src/runtimes/_build_once.ts by scripts/build_js.ts (sha256 877d0471e8826f3052b9f732efdbcf27a018cf82f93311bdbc121f8dd3104fa5): do not edit; `deno task build:js` writes it.
export var markerFile = (function (dir, marker) {
    return `${dir}${marker}`;
});
export var readReady = (async function (spec) {
    let raw;
    try {
        raw = JSON.parse(await Deno.readTextFile(markerFile(spec.dir, spec.marker)));
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
        await removeIfExists(markerFile(spec.dir, spec.marker));
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
    const target = markerFile(dir, name);
    const tmp = `${target}.tmp`;
    await removeIfExists(tmp);
    await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n", { createNew: true });
    await Deno.rename(tmp, target);
});
import { dirname } from "../_path.js";
import { Memo } from "../_memo.js";
import { removeIfExists } from "../_fs.js";
;
const inFlight = new Memo();
;
;
;
;
