// Generated from src/cli/_runner_start.ts by scripts/build_js.ts (sha256 f6e85e226d43bde6ed00c134a1371ede2eba47f557aaecc6f4aea67f85105821): do not edit; `deno task build:js` writes it.
export var ensureFolder = (function (folder) {
    try {
        Deno.mkdirSync(folder, { mode: 0o700 });
    }
    catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists))
            throw error;
    }
    if (!privateFolder(folder)) {
        throw new PermissionError(`Cannot use "${folder}" for the runner's key: it is not a folder of yours closed to ` +
            "every other user", {
            hint: "Have it removed (it may belong to another user: then only root can remove it); a " +
                "runner makes it again, mode 0700. capibara run works without a runner",
        });
    }
});
export var spawnRunner = (function (idleSeconds) {
    const command = ["runner", "serve", "--idle", String(idleSeconds)];
    let serve;
    if (Deno.build.standalone) {
        serve = [Deno.execPath(), ...command];
    }
    else {
        const root = new URL("../../", import.meta.url);
        const config = root.protocol === "file:"
            ? decodeURIComponent(new URL("deno.json", root).pathname)
            : undefined;
        const configArgs = config && lstatSyncOrNull(config) ? ["--config", config] : [];
        const entry = new URL("main.ts", root).href;
        serve = [Deno.execPath(), "run", "-A", ...configArgs, entry, ...command];
    }
    let closed = serve;
    if (inheritsDescriptors({ lifelong: true })) {
        closed = bareCommand(serve[0], serve.slice(1), undefined, Deno.env.toObject());
        if (!closed) {
            throw new PermissionError("Cannot start a runner from here: this command holds descriptors its caller left open " +
                "(a shell's, a build tool's pipe), and without /usr/bin/python3 nothing closes them " +
                "first: the runner would hold them, and whoever waits on them, for as long as it lives", { hint: "Start it from a plain shell (capibara runner start), or install python3" });
        }
    }
    const [program, ...args] = closed;
    const child = new Deno.Command(program, {
        args,
        cwd: "/",
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
    }).spawn();
    child.unref();
    return child;
});
var lockFresh = (function (lock) {
    const held = lstatSyncOrNull(lock);
    const age = held?.mtime ? Date.now() - held.mtime.getTime() : Infinity;
    return age >= 0 && age < START_LOCK_MS;
});
export var startUnderWay = (function (env) {
    return lockFresh(runnerFile(env, "starting"));
});
export var takeStartLock = (function (lock) {
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            Deno.writeFileSync(lock, new TextEncoder().encode(String(Deno.pid)), {
                createNew: true,
                mode: 0o600,
            });
            return true;
        }
        catch (error) {
            if (!(error instanceof Deno.errors.AlreadyExists))
                return false;
            if (lockFresh(lock))
                return false;
            try {
                Deno.removeSync(lock);
            }
            catch {
                return false;
            }
        }
    }
    return false;
});
export var inCi = (function (env) {
    return CI_VARIABLES.some(((name) => {
        const value = env[name]?.trim().toLowerCase();
        return value !== undefined && !["", "0", "false", "no"].includes(value);
    }));
});
export var startsOnDemand = (function (env) {
    const setting = runnerSetting(env);
    if (setting === "off" || (setting === "auto" && inCi(env)))
        return false;
    return Deno.build.os === "linux" && peerPidfds() && socketCalls() !== null;
});
var peerPidfds = (function () {
    const [major, minor] = Deno.osRelease().split(/[.-]/).map(Number);
    return major > 6 || (major === 6 && minor >= 5);
});
export var startOnDemand = (async function (io) {
    if (Deno.build.os !== "linux")
        return false;
    try {
        const env = io.env;
        if (!startsOnDemand(env))
            return false;
        ensureFolder(runnerFolder());
        const hit = runnerFile(env, "hit");
        const last = lstatSyncOrNull(hit);
        try {
            Deno.removeSync(hit);
        }
        catch {
        }
        Deno.writeFileSync(hit, new Uint8Array(0), { mode: 0o600, createNew: true });
        const since = last?.isFile && last.mtime ? Date.now() - last.mtime.getTime() : Infinity;
        if (!(since >= 0 && since < ON_DEMAND_WINDOW_MS))
            return false;
        if (await runnerAnswers(env))
            return false;
        if (!takeStartLock(runnerFile(env, "starting")))
            return false;
        spawnRunner(DEFAULT_IDLE_SECONDS);
    }
    catch {
        return false;
    }
    if (io.errIsTerminal) {
        io.err("capibara: started a resident runner for faster cache hits (it exits after " +
            `${DEFAULT_IDLE_SECONDS / 60} idle minutes; capibara runner stop ends it, ` +
            "CAPIBARA_RUNNER=0 starts none)");
    }
    return true;
});
import { lstatSyncOrNull } from "../_fs.js";
import { PermissionError } from "../errors.js";
import { bareCommand, inheritsDescriptors } from "../sandbox/landlock.js";
import { privateFolder, runnerAnswers, runnerFile, runnerFolder, runnerSetting, socketCalls, } from "./_runner_socket.js";
export const DEFAULT_IDLE_SECONDS = 900;
export const ON_DEMAND_WINDOW_MS = 60_000;
export const START_LOCK_MS = 30_000;
;
;
;
;
;
const CI_VARIABLES = [
    "CI",
    "CONTINUOUS_INTEGRATION",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",
    "JENKINS_URL",
    "BUILD_NUMBER",
];
;
;
;
;
