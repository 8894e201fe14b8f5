// Generated from src/sandbox/landlock.ts by scripts/build_js.ts (sha256 793832852923b9deaf4a0b3969f03b4fa090ca29b7a122df08ab093bee2c580c): do not edit; `deno task build:js` writes it.
var isPython = (function (program) {
    return PYTHON_NAME.test(program);
});
export var systemPythonInside = (function () {
    if (lstatSyncOrNull(SYSTEM_PYTHON) === null)
        return false;
    try {
        return Deno.realPathSync(SYSTEM_PYTHON).startsWith("/usr/");
    }
    catch {
        return false;
    }
});
export var landlockCommand = (function (program, args, held, env, links = []) {
    const boot = [...stepArgs(held, env), ...links.map(((dir) => `--links=${dir}`))];
    if (isPython(program)) {
        const first = args[0];
        if (first !== undefined && !first.startsWith("-")) {
            return [program, ...boot, "script", ...args];
        }
        return [program, ...boot, "exec", program, ...args];
    }
    if (!systemPythonUsable())
        return undefined;
    return [SYSTEM_PYTHON, ...boot, "exec", program, ...args];
});
var stepArgs = (function (held, env) {
    const lcCtype = env === undefined
        ? []
        : env.LC_CTYPE === undefined
            ? ["--no-lc-ctype"]
            : [`--lc-ctype=${env.LC_CTYPE}`];
    return [
        "-I",
        "-S",
        "-c",
        LANDLOCK_PY,
        ...held === undefined ? [] : [`--held=${held.gate},${held.sign ?? 2}`],
        ...lcCtype,
    ];
});
var systemPythonUsable = (function () {
    systemPython ??= systemPythonInside();
    return systemPython;
});
var onNullDevice = (function (fd) {
    try {
        const info = Deno.statSync(`/proc/self/fd/${fd}`);
        return info.isCharDevice === true && info.rdev === NULL_DEVICE;
    }
    catch {
        return false;
    }
});
export var inheritsDescriptors = (function (options = {}) {
    try {
        for (const entry of Deno.readDirSync("/proc/self/fdinfo")) {
            const fd = Number(entry.name);
            if (!(fd > 2))
                continue;
            const text = readTextSyncOrNull(`/proc/self/fdinfo/${fd}`);
            if (text === null)
                continue;
            const flags = /^flags:\s*([0-7]+)/m.exec(text)?.[1];
            if (flags === undefined || (parseInt(flags, 8) & O_CLOEXEC) !== 0)
                continue;
            if (options.lifelong || !onNullDevice(fd))
                return true;
        }
    }
    catch {
    }
    return false;
});
export var bareCommand = (function (program, args, held, env, links = []) {
    if (!systemPythonUsable())
        return undefined;
    return [
        SYSTEM_PYTHON,
        ...stepArgs(held, env),
        ...links.map(((dir) => `--links=${dir}`)),
        "bare",
        program,
        ...args,
    ];
});
export var landlockAbi = (async function (python = SYSTEM_PYTHON) {
    try {
        const { code, stdout } = await execCommand({ program: python, args: ["-I", "-S", "-c", LANDLOCK_PY, "abi"], env: {}, cwd: "/" }, { timeoutMs: 10_000 });
        if (code !== 0)
            return undefined;
        const abi = Number(stdout.trim());
        return Number.isInteger(abi) ? abi : undefined;
    }
    catch {
        return undefined;
    }
});
import LANDLOCK_PY from "../../src/sandbox/landlock.py" with { type: "text" };
import { lstatSyncOrNull, readTextSyncOrNull } from "../_fs.js";
import { execCommand } from "../exec.js";
export const SYSTEM_PYTHON = "/usr/bin/python3";
const PYTHON_NAME = /(^|\/)python(\d+(\.\d+)?)?$/;
;
let systemPython;
;
;
;
;
const O_CLOEXEC = 0o2000000;
const NULL_DEVICE = 0x103;
;
;
;
;
