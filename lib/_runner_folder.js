// Generated from src/_runner_folder.ts by scripts/build_js.ts (sha256 4c5a4785b708afe80befdee9f49376d1f258d755f20b2637fb014a6237808fba): do not edit; `deno task build:js` writes it.
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
    if (info.uid !== Deno.uid() && info.uid !== 0)
        return true;
    if ((mode & 0o1000) !== 0)
        return false;
    if ((mode & 0o002) !== 0)
        return true;
    return (mode & 0o020) !== 0 && !groupOfOwnAlone(info.gid);
});
var groupOfOwnAlone = (function (gid) {
    if (gid === null || gid !== Deno.gid())
        return false;
    let known = ownGroups.get(gid);
    if (known !== undefined)
        return known;
    try {
        known = groupAlone(Deno.readTextFileSync("/etc/passwd"), Deno.readTextFileSync("/etc/group"), Deno.uid() ?? -1, gid);
    }
    catch {
        known = false;
    }
    ownGroups.set(gid, known);
    return known;
});
export var groupAlone = (function (passwd, group, uid, gid) {
    const id = ((field) => /^\d+$/.test(field?.trim() ?? "") ? Number(field) : NaN);
    let name;
    for (const line of passwd.split("\n")) {
        const fields = line.split(":");
        if (fields.length < 4)
            continue;
        if (id(fields[2]) === uid)
            name = fields[0];
        else if (id(fields[3]) === gid)
            return false;
    }
    const lines = group.split("\n").map(((line) => line.split(":")))
        .filter(((fields) => fields.length >= 4 && id(fields[2]) === gid));
    const members = lines.flatMap(((fields) => fields[3].split(",")))
        .map(((member) => member.trim())).filter(((member) => member !== ""));
    return name !== undefined && lines.length === 1 && members.every(((member) => member === name));
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
const ownGroups = new Map();
;
;
;
