// Generated from src/_runner_folder.ts by scripts/build_js.ts (sha256 7b5f6ee2958e475c9771a7a910bd7408745311d81cc449fb1bfefc3562dfdee1): do not edit; `deno task build:js` writes it.
var parentOf = (function (path) {
    return path.slice(0, path.lastIndexOf("/")) || "/";
});
var plainAbsolute = (function (path) {
    return path === "/" ||
        (path.startsWith("/") &&
            path.slice(1).split("/").every(((part) => part !== "" && part !== "." && part !== "..")));
});
export var runnerFolders = (function () {
    const uid = Deno.uid() ?? "user";
    return [`/run/user/${uid}/capibara`, `/tmp/capibara-${uid}`];
});
export var runnerFolder = (function () {
    return chosen ??= choose();
});
var choose = (function () {
    const [session, tmp] = runnerFolders();
    return listed(parentOf(session)) !== false && privateFolder(parentOf(session)) ? session : tmp;
});
var listed = (function (path) {
    try {
        const name = path.slice(path.lastIndexOf("/") + 1);
        for (const entry of Deno.readDirSync(parentOf(path))) {
            if (entry.name === name)
                return true;
        }
        return false;
    }
    catch (error) {
        return error instanceof Deno.errors.NotFound ? false : undefined;
    }
});
export var othersMayChange = (function (info) {
    const mode = info.mode ?? 0o777;
    return (info.uid !== Deno.uid() && info.uid !== 0) ||
        ((mode & 0o022) !== 0 && (mode & 0o1000) === 0);
});
export var privateFolder = (function (folder) {
    if (!plainAbsolute(folder))
        return false;
    const uid = Deno.uid();
    try {
        const info = Deno.lstatSync(folder);
        if (!info.isDirectory || info.uid !== uid || ((info.mode ?? 0o777) & 0o077) !== 0) {
            return false;
        }
        for (let dir = parentOf(folder);; dir = parentOf(dir)) {
            const above = Deno.lstatSync(dir);
            if (!above.isDirectory || othersMayChange(above))
                return false;
            if (dir === "/")
                return true;
        }
    }
    catch {
        return false;
    }
});
;
;
;
;
let chosen;
;
;
;
;
