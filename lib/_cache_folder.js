// Generated from src/_cache_folder.ts by scripts/build_js.ts (sha256 493aa9e77dec687db9f03ea41c1a25fa4f84ccf6c871ff83519c2d831996ba19): do not edit; `deno task build:js` writes it.
export var pathProblem = (function (absolute, options = {}) {
    const uid = Deno.uid();
    const leaf = options.leaf ?? "own";
    let path = "";
    for (const part of ["", ...absolute.split("/").filter(((p) => p !== ""))]) {
        path = part === "" ? "/" : `${path === "/" ? "" : path}/${part}`;
        let info = lstatSyncOrNull(path);
        if (info === null) {
            if (!options.make)
                return undefined;
            try {
                Deno.mkdirSync(path, { mode: 0o700 });
            }
            catch {
            }
            info = lstatSyncOrNull(path);
            if (info === null)
                return undefined;
        }
        const owned = info.uid === uid || info.uid === 0;
        if (path !== absolute || leaf === "own" || info.isSymlink) {
            if (!owned)
                return `${path} belongs to uid ${info.uid}, not to you`;
        }
        if (info.isDirectory && (path !== absolute || leaf === "unchanged") && othersMayChange(info)) {
            return `${path}${path === absolute ? "" : ", a folder on its way,"} may be changed by ` +
                "other users";
        }
    }
    return undefined;
});
export var cacheFolderIsOwn = (function (folder) {
    if (Deno.build.os === "windows")
        return true;
    const absolute = resolve(folder);
    if (pathProblem(absolute) !== undefined)
        return false;
    const real = realPathSyncOrNull(absolute);
    return real !== null && privateFolder(real);
});
export var ownCacheFolder = (function (folder) {
    const absolute = resolve(folder);
    if (Deno.build.os === "windows")
        return absolute;
    const given = pathProblem(absolute, { make: true });
    if (given !== undefined) {
        throw new PermissionError(`Cannot use the cache folder "${folder}": ${given}`, {
            hint: HINT,
            details: { cache_dir: folder },
        });
    }
    const real = realPathSyncOrNull(absolute);
    const info = real === null ? null : lstatSyncOrNull(real);
    const mode = info?.mode ?? 0;
    if (real !== null && info?.isDirectory && info.uid === Deno.uid() &&
        (mode & 0o022) === 0 && (mode & 0o077) !== 0) {
        try {
            Deno.chmodSync(real, 0o700);
        }
        catch {
        }
    }
    if (real !== null && privateFolder(real))
        return real;
    throw new PermissionError(`Cannot use the cache folder "${folder}": ${problemOf(real, info)}`, {
        hint: HINT,
        details: { cache_dir: folder, ...(real !== null ? { real_path: real } : {}) },
    });
});
var problemOf = (function (real, info) {
    if (real === null || info === null)
        return "it cannot be made or read";
    if (!info.isDirectory)
        return "it is not a folder";
    if (info.uid !== Deno.uid())
        return `it belongs to uid ${info.uid}, not to you`;
    if (((info.mode ?? 0) & 0o022) !== 0) {
        return `other users may write in it (mode ${((info.mode ?? 0) & 0o7777).toString(8)})`;
    }
    return "a folder above it may be changed by other users";
});
import { resolve } from "./_path.js";
import { lstatSyncOrNull, realPathSyncOrNull } from "./_fs.js";
import { othersMayChange, privateFolder } from "./_runner_folder.js";
import { PermissionError } from "./errors.js";
;
;
;
const HINT = "Use a folder only you can write: unset CAPIBARA_CACHE_DIR (the default is your " +
    "own), or point it (or the SDK's cacheDir) at a new folder of yours, on a path no other user " +
    "can change; a folder others could write may hold what they put there: remove it rather than " +
    "reuse it";
;
