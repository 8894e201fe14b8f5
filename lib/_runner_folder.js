// Generated from src/_runner_folder.ts by scripts/build_js.ts (sha256 04f2e6a24950e4a911d82792a7b3f21434d393efcc9a326120968b6e62df80a0): do not edit; `deno task build:js` writes it.
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
    known = false;
    try {
        const uid = Deno.uid();
        let name;
        let shared = false;
        for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
            const fields = line.split(":");
            if (fields.length < 4)
                continue;
            if (Number(fields[2]) === uid)
                name = fields[0];
            else if (Number(fields[3]) === gid)
                shared = true;
        }
        const group = Deno.readTextFileSync("/etc/group").split("\n")
            .map(((line) => line.split(":")))
            .find(((fields) => fields.length >= 4 && Number(fields[2]) === gid));
        const members = (group?.[3] ?? "").split(",").filter(((member) => member !== ""));
        known = name !== undefined && group !== undefined && !shared &&
            members.every(((member) => member === name));
    }
    catch {
    }
    ownGroups.set(gid, known);
    return known;
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
