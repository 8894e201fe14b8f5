// Generated from src/_fs.ts by scripts/build_js.ts (sha256 bb65e72f708ce787feaa915856c57a629fd8c6d380bd525cfd1e209ff44119c1): do not edit; `deno task build:js` writes it.
export var promised = (function (fn) {
    try {
        return Promise.resolve(fn());
    }
    catch (error) {
        return Promise.reject(error);
    }
});
export var isInside = (function (child, parent) {
    if (plainAbsolute(child) && plainAbsolute(parent)) {
        return child === parent || child.startsWith(parent === "/" ? "/" : `${parent}/`);
    }
    const rel = relative(parent, child);
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
});
var plainAbsolute = (function (path) {
    return Deno.build.os !== "windows" && path.startsWith("/") && !NOT_PLAIN.test(path);
});
export var lstatOrNull = (async function (path) {
    try {
        return await Deno.lstat(path);
    }
    catch {
        return null;
    }
});
export var statSyncOrNull = (function (path) {
    try {
        return Deno.statSync(path);
    }
    catch {
        return null;
    }
});
export var lstatSyncOrNull = (function (path) {
    try {
        return Deno.lstatSync(path);
    }
    catch {
        return null;
    }
});
export var readTextSyncOrNull = (function (path) {
    try {
        return Deno.readTextFileSync(path);
    }
    catch {
        return null;
    }
});
export var exists = (async function (path) {
    try {
        await Deno.lstat(path);
        return true;
    }
    catch (error) {
        if (absence(error))
            return false;
        throw error;
    }
});
export var existsSync = (function (path) {
    try {
        Deno.lstatSync(path);
        return true;
    }
    catch (error) {
        if (absence(error))
            return false;
        throw error;
    }
});
export var entriesNamed = (function (dir, names) {
    const wanted = new Set(names.map(((name) => name.toLowerCase())));
    const cap = ENTRIES_PER_NAME * Math.max(names.length, 2);
    const listed = ((limit) => {
        const found = [];
        let count = 0;
        for (const entry of Deno.readDirSync(dir)) {
            if (++count > limit)
                throw new RangeError("a large folder");
            if (wanted.has(entry.name.toLowerCase()))
                found.push(join(dir, entry.name));
        }
        return found;
    });
    const asked = (() => [...new Set(names)].map(((name) => join(dir, name))).filter(((path) => {
        try {
            Deno.lstatSync(path);
            return true;
        }
        catch (error) {
            if (absence(error))
                return false;
            throw error;
        }
    })));
    let large = false;
    try {
        large = Deno.statSync(dir).size > LISTED_FOLDER_BYTES;
        if (!large)
            return listed(cap);
    }
    catch (error) {
        if (absence(error))
            return [];
    }
    try {
        return asked();
    }
    catch (error) {
        if (large && error instanceof Deno.errors.PermissionDenied)
            return listed(Infinity);
        throw error;
    }
});
var absence = (function (error) {
    return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
});
export var realPathOrNull = (async function (path) {
    try {
        return await Deno.realPath(path);
    }
    catch {
        return null;
    }
});
export var fileIdentity = (function (path) {
    const info = Deno.statSync(path);
    return [path, info.ino, info.size, info.mtime?.getTime() ?? null, info.uid].join(":");
});
export var inodeOf = (function (info) {
    return `${info.dev}:${info.ino}`;
});
export var namesReachable = (function (folder, names) {
    if (new Set(names).size !== names.length)
        return false;
    const encoder = new TextEncoder();
    return names.every(((name) => !name.includes("\uFFFD") && encoder.encode(`${folder}/${name}`).length < PATH_MAX));
});
export var realPathSyncOrNull = (function (path) {
    try {
        return Deno.realPathSync(path);
    }
    catch {
        return null;
    }
});
export var realPathLoose = (function (path) {
    return promised((() => realPathLooseSync(path)));
});
export var realPathLooseSync = (function (path, within) {
    try {
        return Deno.realPathSync(path);
    }
    catch (error) {
        if (!(error instanceof Deno.errors.NotFound))
            throw error;
    }
    const absolute = resolve(path);
    const parts = absolute.split("/");
    const prefix = ((count) => parts.slice(0, count).join("/") || "/");
    const real = ((count) => {
        try {
            return Deno.realPathSync(prefix(count));
        }
        catch (error) {
            if (!(error instanceof Deno.errors.NotFound))
                throw error;
            return undefined;
        }
    });
    const base = within === undefined ? undefined : resolve(within);
    if (base !== undefined && isInside(absolute, base)) {
        let count = base === "/" ? 1 : base.split("/").length;
        let found = Deno.realPathSync(base);
        for (; count < parts.length; count++) {
            const at = real(count + 1);
            if (at === undefined)
                break;
            found = at;
        }
        return join(found, ...parts.slice(count));
    }
    let found = real(1);
    if (found === undefined)
        return path;
    let [low, high] = [1, parts.length];
    while (high - low > 1) {
        const middle = (low + high) >>> 1;
        const at = real(middle);
        if (at === undefined)
            high = middle;
        else
            [low, found] = [middle, at];
    }
    return join(found, ...parts.slice(low));
});
export var readRegularFileSync = (function (path, maxBytes, opened) {
    const info = lstatSyncOrNull(path);
    if (!info)
        throw new FileRefused(path, "is missing");
    if (!info.isFile)
        throw new FileRefused(path, "is not a regular file");
    const tooLarge = (() => new FileRefused(path, `is larger than ${maxBytes} bytes`));
    if (info.size > maxBytes)
        throw tooLarge();
    let file;
    try {
        file = Deno.openSync(path, { read: true });
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            throw new FileRefused(path, "is missing");
        throw error;
    }
    try {
        const stat = file.statSync();
        if (!stat.isFile || stat.ino !== info.ino || stat.dev !== info.dev) {
            throw new FileRefused(path, "is not a regular file");
        }
        opened?.(stat);
        let buffer = new Uint8Array(Math.min(maxBytes, stat.size) + 1);
        let length = 0;
        for (;;) {
            if (length === buffer.length) {
                if (length > maxBytes)
                    throw tooLarge();
                const larger = new Uint8Array(Math.min(maxBytes + 1, length * 2));
                larger.set(buffer);
                buffer = larger;
            }
            const n = file.readSync(buffer.subarray(length));
            if (n === null)
                break;
            length += n;
        }
        return buffer.subarray(0, length);
    }
    finally {
        file.close();
    }
});
export var unwritable = (function (folder) {
    try {
        const probe = join(folder, `.capibara-probe-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID().slice(0, 8)}`);
        Deno.mkdirSync(probe, { mode: 0o700 });
        Deno.removeSync(probe);
        return undefined;
    }
    catch (error) {
        return error instanceof Error ? error : new Error(String(error));
    }
});
export var reopenFolders = (function (path) {
    const uid = Deno.uid();
    let changed = false;
    const pending = [path];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const info = lstatSyncOrNull(next);
        if (!info?.isDirectory || (uid !== null && info.uid !== uid))
            continue;
        const mode = (info.mode ?? 0) & 0o7777;
        if ((mode & 0o700) !== 0o700) {
            try {
                Deno.chmodSync(next, mode | 0o700);
                changed = true;
            }
            catch {
                continue;
            }
        }
        try {
            for (const entry of Deno.readDirSync(next)) {
                if (entry.isDirectory)
                    pending.push(join(next, entry.name));
            }
        }
        catch {
        }
    }
    return changed;
});
export var removeIfExists = (async function (path) {
    try {
        await Deno.remove(path, { recursive: true });
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            return;
        if (!(error instanceof Deno.errors.PermissionDenied) || !reopenFolders(path))
            throw error;
        await removeIfExists(path);
    }
});
export var removeIfExistsSync = (function (path) {
    try {
        Deno.removeSync(path, { recursive: true });
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            return;
        if (!(error instanceof Deno.errors.PermissionDenied) || !reopenFolders(path))
            throw error;
        removeIfExistsSync(path);
    }
});
export var realTmpDir = (function () {
    const named = tmpDir();
    const real = realPathSyncOrNull(named);
    if (real === null || !statSyncOrNull(real)?.isDirectory) {
        throw new ValidationError(`The temp dir "${named}" (TMPDIR) is not a folder that exists`, {
            hint: "Create it, set TMPDIR to a folder that exists, or unset TMPDIR",
        });
    }
    return real;
});
export var pidNamespace = (function () {
    if (ownPidNamespace === undefined) {
        try {
            ownPidNamespace = /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))?.[1] ?? "0";
        }
        catch {
            return "0";
        }
    }
    return ownPidNamespace;
});
export var sweepsByPid = (function () {
    if (ownProc === undefined) {
        const status = readTextSyncOrNull("/proc/self/status") ?? "";
        const listed = /^NSpid:[ \t]*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
        ownProc = pidNamespace() !== "0" && listed.length === 1 && listed[0] === String(Deno.pid);
    }
    return ownProc;
});
export var runDirPath = (function () {
    return join(realTmpDir(), `capibara-run-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID()}`);
});
export var sweepLeftRunDirs = (function (stamp, everyMs = 3_600_000) {
    if (!stampDue(stamp, everyMs))
        return;
    let dir;
    try {
        dir = realTmpDir();
    }
    catch {
        return;
    }
    const uid = Deno.uid();
    for (const name of staleEntries(dir, RUN_DIR_NAME)) {
        const path = join(dir, name);
        const info = lstatSyncOrNull(path);
        if (!info?.isDirectory || info.uid !== uid)
            continue;
        try {
            Deno.removeSync(path, { recursive: true });
        }
        catch {
        }
    }
});
var stampDue = (function (stamp, everyMs) {
    const last = statSyncOrNull(stamp)?.mtime?.getTime();
    if (last !== undefined && Date.now() - last < everyMs && Date.now() >= last)
        return false;
    try {
        Deno.writeFileSync(stamp, new Uint8Array(), { mode: 0o600 });
        return true;
    }
    catch {
        return false;
    }
});
export var sweepDue = (function (dir, stamp, everyMs) {
    const size = statSyncOrNull(dir)?.size;
    if (size === undefined)
        return false;
    if (size <= CROWDED_FOLDER_BYTES || stamp === undefined)
        return true;
    return stampDue(stamp, everyMs);
});
export var makeRunDir = (async function () {
    const dir = runDirPath();
    await Deno.mkdir(dir, { mode: 0o700 });
    return dir;
});
export var processGone = (function (pid) {
    try {
        Deno.lstatSync(`/proc/${pid}`);
        return false;
    }
    catch (error) {
        return error instanceof Deno.errors.NotFound;
    }
});
export var staleEntries = (function (dir, pattern) {
    if (!sweepsByPid())
        return [];
    let names;
    try {
        names = [...Deno.readDirSync(dir)].map(((entry) => entry.name));
    }
    catch {
        return [];
    }
    const namespace = pidNamespace();
    const self = String(Deno.pid);
    const gone = new Map();
    return names.filter(((name) => {
        const match = pattern.exec(name);
        const pid = match?.[1];
        if (pid === undefined || pid === self || match[2] !== namespace)
            return false;
        let known = gone.get(pid);
        if (known === undefined)
            gone.set(pid, known = processGone(pid));
        return known;
    }));
});
import { isAbsolute, join, relative, resolve, sep, tmpDir } from "./_path.js";
import { ValidationError } from "./errors.js";
;
;
;
const NOT_PLAIN = /\/\/|\/\.\.?(\/|$)|.\/$/;
;
;
;
;
;
;
const ENTRIES_PER_NAME = 32;
const LISTED_FOLDER_BYTES = 4096;
;
;
;
;
;
const PATH_MAX = 4096;
;
;
;
;
export class FileRefused extends Error {
    reason;
    path;
    constructor(path, reason) {
        super(`${path} ${reason}`);
        this.name = "FileRefused";
        this.reason = reason;
        this.path = path;
    }
}
;
;
export const LEFT_PROBE = /^\.capibara-probe-(\d+)-ns(\d+)-[0-9a-f]{8}$/;
;
;
;
;
export const RUN_DIR_NAME = /^capibara-run-(?:(\d+)-(?:ns(\d+)-)?)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
;
let ownPidNamespace;
;
let ownProc;
;
;
;
const CROWDED_FOLDER_BYTES = 64 * 1024;
;
;
;
;
