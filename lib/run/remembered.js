// Generated from src/run/remembered.ts by scripts/build_js.ts (sha256 d8f4f1de4ed6074e134d81a97880e02e993f3e93e4c2927ca3a241a5a0b19c9e): do not edit; `deno task build:js` writes it.
var nameOf = (function (args, cwd) {
    const text = JSON.stringify([cwd, ...args]);
    let a = 0x811c9dc5;
    let b = 0x01000193 ^ 0x5bd1e995;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995);
    }
    return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
});
export var rememberedFile = (function (args, cwd) {
    return join(runnerFolder(), "plans", `${nameOf(args, cwd)}.json`);
});
var plansFolder = (function (create) {
    const folder = runnerFolder();
    if (create) {
        try {
            Deno.mkdirSync(folder, { mode: 0o700 });
        }
        catch {
        }
    }
    if (!privateFolder(folder))
        return undefined;
    const plans = join(folder, "plans");
    if (create) {
        try {
            Deno.mkdirSync(plans, { mode: 0o700 });
        }
        catch {
        }
    }
    return privateFolder(plans) ? plans : undefined;
});
var parse = (function (text) {
    try {
        const value = JSON.parse(text);
        if (typeof value.key !== "string" || typeof value.cacheDir !== "string" ||
            !LANGUAGES.includes(value.language) ||
            typeof value.plan?.policy?.tmpDir !== "string")
            return undefined;
        return value;
    }
    catch {
        return undefined;
    }
});
var readPlan = (function (file) {
    const info = lstatSyncOrNull(file);
    if (!info?.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0o777) & 0o077) !== 0 ||
        info.nlink !== 1 || info.size > MAX_PLAN_BYTES)
        return undefined;
    try {
        return Deno.readTextFileSync(file);
    }
    catch {
        return undefined;
    }
});
var withoutGranted = (function (plan) {
    const env = { ...plan.command.env };
    for (const name of plan.allow.env)
        if (name in env)
            env[name] = null;
    return { ...plan, command: { ...plan.command, env: env } };
});
var withGranted = (function (plan) {
    const env = { ...plan.command.env };
    for (const name of plan.allow.env) {
        if (env[name] !== null)
            continue;
        const value = Deno.env.get(name);
        if (value === undefined)
            delete env[name];
        else
            env[name] = value;
    }
    return { ...plan, command: { ...plan.command, env: env } };
});
export var startRemembered = (async function (args, cwd) {
    try {
        const folder = plansFolder(false);
        command = { file: rememberedFile(args, cwd) };
        if (!folder)
            return;
        const text = readPlan(command.file);
        if (text === undefined)
            return;
        command.text = text;
        const remembered = parse(text);
        if (!remembered || !cacheFolderIsOwn(remembered.cacheDir))
            return;
        const plan = withGranted(movedTo(remembered.plan, runDirPath()));
        if (plan.policy.workdir !== Deno.realPathSync(cwd))
            return;
        const backend = await backendFor(remembered.language, {
            sandbox: true,
            cacheDir: remembered.cacheDir,
            warn: (() => { }),
        });
        let settingUp = true;
        let signalled;
        const listeners = Object.entries(SIGNALS).map((([name, code]) => {
            const listener = (() => {
                if (!settingUp)
                    Deno.exit(code);
                signalled ??= code;
            });
            Deno.addSignalListener(name, listener);
            return [name, listener];
        }));
        listening = (() => {
            for (const [name, listener] of listeners)
                Deno.removeSignalListener(name, listener);
        });
        try {
            await prestarts.adopt(remembered.key, backend, plan);
        }
        finally {
            settingUp = false;
            if (signalled !== undefined) {
                await prestarts.dispose().catch((() => { }));
                Deno.exit(signalled);
            }
        }
    }
    catch {
    }
});
export var handOver = (function () {
    listening?.();
    listening = undefined;
});
export var rememberRun = (function (remembered, fit) {
    if (!command || !fit.holds || fit.copies || !prestartable(remembered.plan))
        return;
    try {
        const written = { ...remembered, plan: withoutGranted(remembered.plan) };
        if (command.text !== undefined && sameButTmp(command.text, written))
            return;
        const folder = plansFolder(true);
        if (!folder)
            return;
        const text = JSON.stringify(written);
        const tmp = `${command.file}.${crypto.randomUUID()}.tmp`;
        Deno.writeTextFileSync(tmp, text, { mode: 0o600, createNew: true });
        Deno.renameSync(tmp, command.file);
        command.text = text;
        prune(folder);
    }
    catch {
    }
});
var sameButTmp = (function (text, remembered) {
    const before = parse(text);
    if (!before)
        return false;
    return JSON.stringify({
        ...remembered,
        plan: movedTo(remembered.plan, before.plan.policy.tmpDir),
    }) === JSON.stringify(before);
});
var prune = (function (folder) {
    const files = [...Deno.readDirSync(folder)].filter(((e) => e.isFile));
    if (files.length <= REMEMBERED_MAX)
        return;
    const aged = files.map(((e) => ({
        path: join(folder, e.name),
        mtime: lstatSyncOrNull(join(folder, e.name))?.mtime?.getTime() ?? 0,
    }))).sort(((a, b) => a.mtime - b.mtime));
    for (const { path } of aged.slice(0, aged.length - REMEMBERED_MAX)) {
        try {
            Deno.removeSync(path);
        }
        catch {
        }
    }
});
import { join } from "../_path.js";
import { lstatSyncOrNull } from "../_fs.js";
import { cacheFolderIsOwn } from "../_cache_folder.js";
import { privateFolder, runnerFolder } from "../_runner_folder.js";
import { LANGUAGES } from "../types.js";
import { backendFor, runDirPath } from "./execute.js";
import { movedTo, prestartable, prestarts } from "./prestart.js";
export const REMEMBERED_MAX = 64;
;
;
;
;
let command;
const MAX_PLAN_BYTES = 1 << 20;
const SIGNALS = { SIGINT: 130, SIGTERM: 143 };
let listening;
;
;
;
;
;
;
;
;
