// Generated from src/_path.ts by scripts/build_js.ts (sha256 27a0236aa8c3e019374b8198a7b262a599660def660c2b2f974e9e56ae800a1f): do not edit; `deno task build:js` writes it.
var normalizeString = (function (path, allowAboveRoot) {
    let res = "";
    let lastSegmentLength = 0;
    let lastSlash = -1;
    let dots = 0;
    let code = 0;
    for (let i = 0; i <= path.length; ++i) {
        if (i < path.length)
            code = path.charCodeAt(i);
        else if (code === SLASH)
            break;
        else
            code = SLASH;
        if (code === SLASH) {
            if (lastSlash === i - 1 || dots === 1) {
            }
            else if (dots === 2) {
                if (res.length < 2 || lastSegmentLength !== 2 ||
                    res.charCodeAt(res.length - 1) !== DOT || res.charCodeAt(res.length - 2) !== DOT) {
                    if (res.length > 2) {
                        const lastSlashIndex = res.lastIndexOf("/");
                        if (lastSlashIndex === -1) {
                            res = "";
                            lastSegmentLength = 0;
                        }
                        else {
                            res = res.slice(0, lastSlashIndex);
                            lastSegmentLength = res.length - 1 - res.lastIndexOf("/");
                        }
                        lastSlash = i;
                        dots = 0;
                        continue;
                    }
                    else if (res.length !== 0) {
                        res = "";
                        lastSegmentLength = 0;
                        lastSlash = i;
                        dots = 0;
                        continue;
                    }
                }
                if (allowAboveRoot) {
                    res += res.length > 0 ? "/.." : "..";
                    lastSegmentLength = 2;
                }
            }
            else {
                if (res.length > 0)
                    res += "/" + path.slice(lastSlash + 1, i);
                else
                    res = path.slice(lastSlash + 1, i);
                lastSegmentLength = i - lastSlash - 1;
            }
            lastSlash = i;
            dots = 0;
        }
        else if (code === DOT && dots !== -1) {
            ++dots;
        }
        else {
            dots = -1;
        }
    }
    return res;
});
var posixNormalize = (function (path) {
    if (path.length === 0)
        return ".";
    const absolute = path.charCodeAt(0) === SLASH;
    const trailing = path.charCodeAt(path.length - 1) === SLASH;
    let out = normalizeString(path, !absolute);
    if (out.length === 0) {
        if (absolute)
            return "/";
        return trailing ? "./" : ".";
    }
    if (trailing)
        out += "/";
    return absolute ? `/${out}` : out;
});
var posixJoin = (function (...paths) {
    const joined = paths.filter(((p) => p.length > 0)).join("/");
    return joined.length === 0 ? "." : posixNormalize(joined);
});
var posixResolve = (function (...paths) {
    let resolved = "";
    let absolute = false;
    for (let i = paths.length - 1; i >= -1 && !absolute; i--) {
        const path = i >= 0 ? paths[i] : Deno.cwd();
        if (path.length === 0)
            continue;
        resolved = `${path}/${resolved}`;
        absolute = path.charCodeAt(0) === SLASH;
    }
    resolved = normalizeString(resolved, !absolute);
    if (absolute)
        return `/${resolved}`;
    return resolved.length > 0 ? resolved : ".";
});
var posixIsAbsolute = (function (path) {
    return path.length > 0 && path.charCodeAt(0) === SLASH;
});
var posixDirname = (function (path) {
    if (path.length === 0)
        return ".";
    const hasRoot = path.charCodeAt(0) === SLASH;
    let end = -1;
    let matchedSlash = true;
    for (let i = path.length - 1; i >= 1; --i) {
        if (path.charCodeAt(i) === SLASH) {
            if (!matchedSlash) {
                end = i;
                break;
            }
        }
        else {
            matchedSlash = false;
        }
    }
    if (end === -1)
        return hasRoot ? "/" : ".";
    if (hasRoot && end === 1)
        return "//";
    return path.slice(0, end);
});
var posixBasename = (function (path) {
    let end = path.length;
    while (end > 0 && path.charCodeAt(end - 1) === SLASH)
        end--;
    return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
});
var posixRelative = (function (from, to) {
    if (from === to)
        return "";
    from = posixResolve(from);
    to = posixResolve(to);
    if (from === to)
        return "";
    const fromStart = 1;
    const fromEnd = from.length;
    const fromLen = fromEnd - fromStart;
    const toStart = 1;
    const toLen = to.length - toStart;
    const length = fromLen < toLen ? fromLen : toLen;
    let lastCommonSep = -1;
    let i = 0;
    for (; i < length; i++) {
        const fromCode = from.charCodeAt(fromStart + i);
        if (fromCode !== to.charCodeAt(toStart + i))
            break;
        else if (fromCode === SLASH)
            lastCommonSep = i;
    }
    if (i === length) {
        if (toLen > length) {
            if (to.charCodeAt(toStart + i) === SLASH)
                return to.slice(toStart + i + 1);
            if (i === 0)
                return to.slice(toStart + i);
        }
        else if (fromLen > length) {
            if (from.charCodeAt(fromStart + i) === SLASH)
                lastCommonSep = i;
            else if (i === 0)
                lastCommonSep = 0;
        }
    }
    let out = "";
    for (i = fromStart + lastCommonSep + 1; i <= fromEnd; ++i) {
        if (i === fromEnd || from.charCodeAt(i) === SLASH)
            out += out.length === 0 ? ".." : "/..";
    }
    return `${out}${to.slice(toStart + lastCommonSep)}`;
});
export var tmpDir = (function () {
    if (win)
        return win.os.tmpdir();
    let path = Deno.env.get("TMPDIR") || Deno.env.get("TMP") || Deno.env.get("TEMP") || "/tmp";
    if (path.length > 1 && path.endsWith("/"))
        path = path.slice(0, -1);
    return path;
});
export var homeDir = (function () {
    if (win)
        return win.os.homedir();
    const home = Deno.env.get("HOME");
    if (home)
        return home;
    return passwdHome({ uid: Deno.uid() ?? -1 }) ?? "/";
});
export var passwdHome = (function (user) {
    let text;
    try {
        text = Deno.readTextFileSync("/etc/passwd");
    }
    catch {
        return undefined;
    }
    for (const line of text.split("\n")) {
        const fields = line.split(":");
        if (fields.length < 7 || !fields[5])
            continue;
        if ("uid" in user ? Number(fields[2]) === user.uid : fields[0] === user.name)
            return fields[5];
    }
    return undefined;
});
export var cacheHome = (function (env, os = Deno.build.os) {
    const set = ((value) => value?.trim() || undefined);
    const home = set(env.HOME) ?? set(env.USERPROFILE) ?? homeDir();
    switch (os) {
        case "darwin":
            return join(home, "Library", "Caches");
        case "windows":
            return set(env.LOCALAPPDATA) ?? join(home, "AppData", "Local");
        default:
            return set(env.XDG_CACHE_HOME) ?? join(home, ".cache");
    }
});
export var pathToFileUrl = (function (path) {
    if (win)
        return win.url.pathToFileURL(path);
    const url = new URL("file:///");
    const resolved = posixResolve(path) + (path.endsWith("/") && path !== "/" ? "/" : "");
    url.pathname = resolved.replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/[\n\r\t]/g, ((c) => encodeURIComponent(c)));
    return url;
});
const WINDOWS = Deno.build.os === "windows";
const win = WINDOWS
    ? {
        path: await import("node:path"),
        os: await import("node:os"),
        url: await import("node:url"),
    }
    : undefined;
const SLASH = 47;
const DOT = 46;
;
;
;
;
;
;
;
;
export const join = win ? win.path.join : posixJoin;
export const resolve = win ? win.path.resolve : posixResolve;
export const dirname = win ? win.path.dirname : posixDirname;
export const basename = win
    ? ((path) => win.path.basename(path))
    : posixBasename;
export const isAbsolute = win ? win.path.isAbsolute : posixIsAbsolute;
export const relative = win
    ? win.path.relative
    : posixRelative;
export const sep = win ? win.path.sep : "/";
export const delimiter = win ? win.path.delimiter : ":";
;
;
;
;
;
