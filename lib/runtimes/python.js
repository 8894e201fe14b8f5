// Generated from src/runtimes/python.ts by scripts/build_js.ts (sha256 e5d82967284811577f415d00b3e643eeb945cf5f0b22a86d30b98c69a2605fe2): do not edit; `deno task build:js` writes it.
var launchSurface = (async function (venvDir) {
    const describe = (async (path) => {
        const info = await Deno.lstat(path).catch((() => undefined));
        if (!info)
            return "absent";
        if (info.isSymlink)
            return `symlink -> ${await Deno.readLink(path)}`;
        const mode = (info.mode ?? 0).toString(8);
        if (!info.isFile)
            return info.isDirectory ? `folder ${info.ino} ${mode}` : "other";
        const text = info.size <= 64 * 1024
            ? await Deno.readTextFile(path).catch((() => "(unreadable)"))
            : "";
        return `file ${info.ino} ${mode} ${info.size} bytes ${info.mtime?.getTime()} ` +
            JSON.stringify(text);
    });
    const bin = join(venvDir, "bin");
    const lines = [`bin: ${await describe(bin)}`];
    const names = [];
    if ((await Deno.lstat(bin).catch((() => undefined)))?.isDirectory) {
        for await (const entry of Deno.readDir(bin)) {
            if (entry.name.startsWith("python") || entry.name.startsWith("pyvenv")) {
                names.push(entry.name);
            }
        }
    }
    for (const name of names.sort())
        lines.push(`bin/${name}: ${await describe(join(bin, name))}`);
    lines.push(`pyvenv.cfg: ${await describe(join(venvDir, "pyvenv.cfg"))}`);
    return lines.join("\n");
});
var stillRead = (async function (known) {
    const read = known.info.read;
    if (!read || Date.now() - known.at > PIP_REUSE_MS)
        return false;
    for (const [path, stamp] of Object.entries(read)) {
        let now = "";
        try {
            const s = await Deno.stat(path);
            const ctime = s.ctime ? Math.floor(s.ctime.getTime() / 1000) : undefined;
            now = [s.dev, s.ino, s.size, s.mtime?.getTime(), ctime].join(":");
        }
        catch {
        }
        if (now !== stamp)
            return false;
    }
    return true;
});
var projectOf = (function (scriptDir) {
    const parts = resolve(scriptDir).split(sep);
    const at = parts.lastIndexOf(".capibara");
    return at > 0 ? parts.slice(0, at).join(sep) || sep : resolve(scriptDir);
});
export var venvKey = (async function (pythonVersion, requirements, install = {}) {
    const lines = [pythonVersion, ...await normalisedPython(requirements)];
    if (install.sourceBuilds)
        lines.push("# source builds");
    if (install.index)
        lines.push(`# index ${install.index}`);
    return (await sha256(lines.join("\n"))).slice(0, 16);
});
export var pipIndexIdentity = (async function (env, indexUrl, python = "python3") {
    const home = env.HOME ?? "";
    const configHome = env.XDG_CONFIG_HOME || (home && join(home, ".config"));
    const configDirs = (env.XDG_CONFIG_DIRS || "/etc/xdg").split(":").filter(((d) => d !== ""));
    const interpreter = await which(python, env.PATH ?? "");
    const prefixes = interpreter === undefined ? [] : [
        dirname(dirname(interpreter)),
        dirname(dirname(realPathSyncOrNull(interpreter) ?? interpreter)),
    ];
    const files = [
        ...(env.PIP_CONFIG_FILE ? [env.PIP_CONFIG_FILE] : []),
        ...configDirs.map(((dir) => join(dir, "pip", "pip.conf"))),
        "/etc/pip.conf",
        ...(home ? [join(home, ".pip", "pip.conf")] : []),
        ...(configHome ? [join(configHome, "pip", "pip.conf")] : []),
        ...prefixes.map(((prefix) => join(prefix, "pip.conf"))),
    ];
    const contents = Object.fromEntries(Object.entries(await pipConfigStamps(files)).filter((([, stamp]) => stamp !== "")));
    const variables = Object.entries(env)
        .filter((([name, value]) => name.startsWith("PIP_") && value !== undefined &&
        !PIP_COSMETIC_SETTINGS.has(name.slice(4).toLowerCase().replaceAll("_", "-"))))
        .map((([name, value]) => [name, value]))
        .sort((([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const given = indexUrl ?? (env.CAPIBARA_INDEX_URL || "");
    return (await sha256(JSON.stringify({ given, variables, contents }))).slice(0, 16);
});
var pipConfigStamps = (async function (files) {
    const stamps = {};
    for (const file of new Set(files)) {
        const info = statSyncOrNull(file);
        stamps[file] = info === null
            ? ""
            : info.isFile && info.size <= MAX_PIP_CONFIG_BYTES
                ? await sha256(readSyncOrEmpty(file))
                : `unreadable ${info.size}`;
    }
    return stamps;
});
var pipConfigFiles = (function (pip) {
    const own = join(pip.dir, "__init__.py");
    return Object.keys(pip.read ?? {}).filter(((path) => path !== own));
});
var readSyncOrEmpty = (function (path) {
    try {
        return Deno.readFileSync(path);
    }
    catch {
        return new Uint8Array();
    }
});
var venvsRoot = (function (cacheDir) {
    return join(resolve(cacheDir), "venvs");
});
var venvPython = (function (venvDir) {
    return Deno.build.os === "windows"
        ? join(venvDir, "Scripts", "python.exe")
        : join(venvDir, "bin", "python");
});
var readMarker = (async function (venvDir) {
    try {
        return Marker.parse(JSON.parse(await Deno.readTextFile(markerFile(venvDir, READY_MARKER))));
    }
    catch {
        return undefined;
    }
});
var acceptMarker = (function (requirements) {
    return (async (raw, venvDir) => {
        const parsed = Marker.safeParse(raw);
        if (!parsed.success)
            return undefined;
        const marker = parsed.data;
        if (marker.requirements.join("\n") !== requirements.join("\n"))
            return undefined;
        try {
            await Deno.stat(venvPython(venvDir));
        }
        catch {
            return undefined;
        }
        return marker;
    });
});
var truthy = (function (value) {
    return value !== undefined && /^(y|yes|t|true|on|1)$/i.test(value.trim());
});
var words = (function (value) {
    return value === undefined ? [] : value.split(/\s+/).filter(((w) => w));
});
var localPath = (function (location) {
    if (/^file:/i.test(location)) {
        try {
            return decodeURIComponent(new URL(location).pathname);
        }
        catch {
            return undefined;
        }
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
        return undefined;
    return resolve(location);
});
export var pipSettings = (function (items, indexUrl, cwd = Deno.cwd()) {
    const get = ((key) => items[`:env:.${key}`] ?? items[`install.${key}`] ?? items[`global.${key}`]);
    const located = ((location) => /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : resolve(cwd, location));
    const noIndex = indexUrl === undefined && truthy(get("no-index"));
    const configured = get("index-url");
    const settings = {
        indexUrl: indexUrl ??
            (noIndex ? undefined : configured !== undefined ? located(configured) : PYPI_INDEX),
        extraIndexUrls: indexUrl === undefined && !noIndex
            ? words(get("extra-index-url")).map(located)
            : [],
        findLinks: indexUrl === undefined ? words(get("find-links")).map(located) : [],
        noIndex,
        trustedHosts: words(get("trusted-host")),
        constraints: words(get("constraint")).map(((path) => resolve(cwd, path))),
        noCacheDir: get("no-cache-dir") !== undefined &&
            !/^(n|no|f|false|off|0)$/i.test(get("no-cache-dir").trim()),
    };
    const cert = get("cert");
    if (cert)
        settings.cert = resolve(cwd, cert);
    const timeout = get("timeout") ?? get("default-timeout");
    if (timeout && /^\d+(\.\d+)?$/.test(timeout))
        settings.timeout = timeout;
    const retries = get("retries");
    if (retries && /^\d+$/.test(retries))
        settings.retries = retries;
    return settings;
});
export var indexAccess = (function (settings) {
    const hosts = new Set();
    const paths = new Set();
    const indexes = [
        ...(settings.indexUrl === undefined ? [] : [settings.indexUrl]),
        ...settings.extraIndexUrls,
    ];
    for (const location of [...indexes, ...settings.findLinks]) {
        const local = localPath(location);
        if (local !== undefined) {
            const isIndex = indexes.includes(location);
            paths.add(isIndex && basename(local.replace(/\/+$/, "")) === "simple"
                ? dirname(local.replace(/\/+$/, ""))
                : local);
            continue;
        }
        let url;
        try {
            url = new URL(location);
        }
        catch {
            continue;
        }
        if (url.protocol !== "http:" && url.protocol !== "https:")
            continue;
        const port = url.port || (url.protocol === "https:" ? "443" : "80");
        hosts.add(`${url.hostname}:${port}`);
        if (url.hostname === "pypi.org")
            hosts.add(`${PYPI_FILES_HOST}:443`);
    }
    for (const file of [settings.cert, ...settings.constraints]) {
        if (file !== undefined)
            paths.add(file);
    }
    return { hosts: [...hosts], paths: [...paths] };
});
var sourceBuildsAllowed = (function (options) {
    return options.sandbox !== undefined && options.sourceBuilds === true;
});
var refuseCredentials = (function (settings) {
    for (const url of [settings.indexUrl, ...settings.extraIndexUrls, ...settings.findLinks]) {
        let parsed;
        try {
            parsed = new URL(url ?? "");
        }
        catch {
            continue;
        }
        if (!urlMayCarryToken(parsed))
            continue;
        throw new DependencyError(`Cannot build packages from source with the index at ${parsed.host}: its URL may hold ` +
            "credentials (a user part, a query, or a path part that looks like a token), which the " +
            "packages' build scripts would see and could send to that host", {
            hint: "Install wheels only (remove install.source_builds), or give source builds an " +
                "index that needs no credentials (CAPIBARA_INDEX_URL)",
            details: { host: parsed.host },
        });
    }
});
export var urlMayCarryToken = (function (url) {
    if (url.username !== "" || url.password !== "" || url.search !== "")
        return true;
    return url.pathname.split("/").some(((part) => part.length >= 16 && /[A-Za-z]/.test(part) && /[0-9]/.test(part)));
});
var settingsEnv = (function (settings) {
    const env = { PIP_CONFIG_FILE: "/dev/null" };
    const set = ((name, values) => {
        const present = values.filter(((v) => v !== undefined));
        if (present.length)
            env[name] = present.join(" ");
    });
    if (settings.noIndex)
        env.PIP_NO_INDEX = "1";
    else
        set("PIP_INDEX_URL", [settings.indexUrl]);
    set("PIP_EXTRA_INDEX_URL", settings.extraIndexUrls);
    set("PIP_FIND_LINKS", settings.findLinks);
    set("PIP_TRUSTED_HOST", settings.trustedHosts);
    set("PIP_CONSTRAINT", settings.constraints);
    set("PIP_CERT", [settings.cert]);
    set("PIP_TIMEOUT", [settings.timeout]);
    set("PIP_RETRIES", [settings.retries]);
    return env;
});
export var mayHoldSecret = (function (value) {
    return value.includes("@") || /[a-z][a-z0-9+.-]*:\/\//i.test(value.replace(/\bfile:\/\//gi, ""));
});
var keptPipInfo = (async function (file, keyHash, project) {
    const kept = KeptPipInfo.safeParse(await readRecordsFor(file, await realPathLoose(project)));
    if (!kept.success || kept.data.key_sha256 !== keyHash)
        return undefined;
    const age = Date.now() - kept.data.at;
    if (age < 0 || age > PIP_KEPT_MS)
        return undefined;
    const { info } = kept.data;
    const ownFiles = Object.entries(info.read ?? {})
        .filter((([path, stamp]) => dirname(path) === info.dir && stamp !== ""));
    if (ownFiles.length === 0)
        return undefined;
    const known = { info, at: Date.now() };
    return await stillRead(known) ? known : undefined;
});
var keepPipInfo = (function (file, keyHash, known) {
    const secret = Object.values(known.info.items).some(mayHoldSecret);
    if (known.info.read && !secret) {
        rememberSync(file, { key_sha256: keyHash, at: known.at, info: known.info });
    }
    return known;
});
var pipHasPythonOption = (function (version) {
    const [major = 0, minor = 0] = version.split(".").map(((part) => parseInt(part, 10)));
    return major > 22 || (major === 22 && minor >= 3);
});
var sdistOnly = (async function (logFile) {
    let text;
    try {
        const file = await Deno.open(logFile);
        try {
            const buffer = new Uint8Array(INSTALL_MAX_OUTPUT_BYTES);
            const n = await file.read(buffer);
            text = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        }
        finally {
            file.close();
        }
    }
    catch {
        return undefined;
    }
    return /No sources permitted for ([A-Za-z0-9._-]+)/.exec(text)?.[1];
});
var prepared = (function (venvDir, marker) {
    return {
        interpreter: venvPython(venvDir),
        interpreterArgs: [],
        readPaths: [venvDir, marker.base_prefix],
        env: {
            PYTHONDONTWRITEBYTECODE: "1",
            PYTHONNOUSERSITE: "1",
            PYTHONUNBUFFERED: "1",
            VIRTUAL_ENV: venvDir,
        },
    };
});
export var listVenvs = (async function (cacheDir) {
    const root = venvsRoot(cacheDir);
    const found = [];
    try {
        for await (const entry of Deno.readDir(root)) {
            if (!entry.isDirectory || !/^py\d+\.\d+-[0-9a-f]{16}$/.test(entry.name))
                continue;
            const path = join(root, entry.name);
            const marker = await readMarker(path);
            found.push(marker
                ? {
                    name: entry.name,
                    path,
                    ready: true,
                    pythonVersion: marker.python_version,
                    requirements: marker.requirements,
                    createdAt: marker.created_at,
                }
                : {
                    name: entry.name,
                    path,
                    ready: false,
                    pythonVersion: /^py(\d+\.\d+)-/.exec(entry.name)?.[1],
                });
        }
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            return [];
        throw error;
    }
    return found.sort(((a, b) => a.name.localeCompare(b.name)));
});
import { basename, delimiter, dirname, join, resolve, sep } from "../_path.js";
import * as z from "../_shape.js";
import { DependencyError, tail } from "../errors.js";
import { sha256 } from "../_hash.js";
import { exists, isInside, makeRunDir, realPathLoose, realPathSyncOrNull, removeIfExists, statSyncOrNull, } from "../_fs.js";
import { Memo, once } from "../_memo.js";
import { readRecordsFor, rememberSync } from "../_json_file.js";
import { DEFAULT_PATH, which } from "../_which.js";
import { execCommand } from "../exec.js";
import { buildOnce, markerFile, readReady } from "./_build_once.js";
import { probePython, pythonReason, spawnFailure } from "./_python_probe.js";
import { INSTALL_DISK_LIMITS, installCancelled, runInstall } from "./_install.js";
import { normalisedPython } from "./_requirements.js";
export const READY_MARKER = ".capibara-ready";
const REQUIREMENTS_FILE = "capibara-requirements.txt";
const MARKER_FORMAT = 1;
const PROBE_TIMEOUT_MS = 30_000;
const VENV_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
const INSTALL_MEMORY_BYTES = 4 * 1024 ** 3;
const INSTALL_MAX_PROCESSES = 512;
const INSTALL_MAX_OUTPUT_BYTES = 8 * 1024 ** 2;
const PYPI_INDEX = "https://pypi.org/simple";
const PYPI_FILES_HOST = "files.pythonhosted.org";
const PASS_THROUGH = new Set([
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TMPDIR",
    "TEMP",
    "TMP",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NETRC",
    "SYSTEMROOT",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
]);
const PASS_THROUGH_PREFIXES = ["PIP_", "PYENV", "LC_"];
;
const Marker = z.object({
    format: z.literal(MARKER_FORMAT),
    key: z.string(),
    python: z.string(),
    python_version: z.string(),
    base_prefix: z.string(),
    requirements: z.array(z.string()),
    created_at: z.string(),
    build_id: z.string(),
    install: z.object({ confined: z.boolean(), source_builds: z.boolean() }).optional(),
    index: z.string().optional(),
    pip_config: z.record(z.string()).optional(),
});
const PIP_REUSE_MS = 60_000;
const PIP_INFOS = new Memo();
;
;
;
const PIP_COSMETIC_SETTINGS = new Set([
    "disable-pip-version-check",
    "default-timeout",
    "timeout",
    "retries",
    "no-cache-dir",
    "cache-dir",
    "progress-bar",
    "no-color",
    "verbose",
    "quiet",
    "root-user-action",
    "no-input",
    "log",
    "no-python-version-warning",
    "require-virtualenv",
]);
;
const MAX_PIP_CONFIG_BYTES = 1024 ** 2;
;
;
;
;
;
;
;
;
;
;
;
;
;
;
;
;
const PIP_INFO_CODE = `
import json, os, sys
import pip
def stamp(path):
    # What the query read, as its caller compares it later: another file there, or another
    # content (size, times), differs; "" is a file that is not there.
    try:
        s = os.stat(path)
    except OSError:
        return ""
    # Milliseconds of the modification time, seconds of the change time (what Deno's stat has).
    return "%d:%d:%d:%d:%d" % (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns // 1000000,
                               s.st_ctime_ns // 1000000000)
try:
    # What \`pip config list\` prints, without parsing its text.
    from pip._internal.configuration import Configuration
    configuration = Configuration(isolated=False)
    files = [path for _, paths in configuration.iter_config_files() for path in paths]
    read = {path: stamp(path) for path in files + [pip.__file__]}
    configuration.load()
    items = {key: str(value) for key, value in configuration.items()}
except Exception:
    read = None
    import ast, subprocess
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True, check=True).stdout
    items = {}
    for line in listed.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            items[key] = str(ast.literal_eval(value))
info = {
    "version": pip.__version__,
    "dir": os.path.dirname(os.path.abspath(pip.__file__)),
    "items": items,
}
if read is not None:
    info["read"] = read
print(json.dumps(info))
`;
const PipInfo = z.object({
    version: z.string(),
    dir: z.string(),
    items: z.record(z.string()),
    read: z.record(z.string()).optional(),
});
const PIP_KEPT_MS = 3_600_000;
const KeptPipInfo = z.object({ key_sha256: z.string(), at: z.number(), info: PipInfo });
;
;
;
;
;
export class PythonRuntime {
    language = "python";
    #python;
    #userEnv;
    #installTimeoutMs;
    #installLimits;
    #probe;
    #probed;
    constructor(options = {}) {
        this.#python = options.python ?? "python3";
        this.#userEnv = options.env ?? Deno.env.toObject();
        this.#installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
        this.#installLimits = options.installLimits ?? INSTALL_DISK_LIMITS;
        this.#probe = once((async () => this.#probed = await probePython(this.#python, this.#userEnv)));
    }
    async describe() {
        const { version } = await this.#probe();
        return { name: "python", version };
    }
    async prepare(manifest, scriptDir, options) {
        const requirements = await normalisedPython(manifest.deps);
        const install = {
            sourceBuilds: sourceBuildsAllowed(options),
            index: requirements.length === 0
                ? ""
                : await pipIndexIdentity(this.#userEnv, options.indexUrl, this.#python),
        };
        const given = venvsRoot(options.cacheDir);
        if (given.split(sep).includes(".capibara") || isInside(given, resolve(scriptDir))) {
            throw new DependencyError(`Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`, { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" });
        }
        const root = await realPathLoose(given);
        const guess = this.#probed?.version ??
            (manifest.runtime.name === "python" && /^\d+\.\d+$/.test(manifest.runtime.version)
                ? manifest.runtime.version
                : undefined);
        if (guess !== undefined) {
            const hit = await this.#lookup(root, guess, requirements, install);
            if (hit)
                return hit;
        }
        const probe = await this.#probe();
        if (probe.version !== guess) {
            const hit = await this.#lookup(root, probe.version, requirements, install);
            if (hit)
                return hit;
        }
        const key = await venvKey(probe.version, requirements, install);
        const name = `py${probe.version}-${key}`;
        const venvDir = join(root, name);
        const marker = await buildOnce({
            dir: venvDir,
            lockFile: join(root, `${name}.lock`),
            marker: READY_MARKER,
            accept: this.#accept(requirements, install),
            onWait: (() => options.progress?.("Waiting for another process to build the Python environment…")),
            build: ((dir) => this.#build(dir, key, probe, requirements, options, install.index, projectOf(scriptDir))),
        });
        return prepared(venvDir, marker);
    }
    #accept(requirements, install) {
        const accept = acceptMarker(requirements);
        return (async (raw, dir) => {
            const marker = await accept(raw, dir);
            if (marker?.install?.source_builds && !install.sourceBuilds)
                return undefined;
            if (marker?.index !== install.index)
                return undefined;
            if (marker?.pip_config !== undefined) {
                const now = await pipConfigStamps(Object.keys(marker.pip_config));
                if (Object.entries(marker.pip_config).some((([file, stamp]) => now[file] !== stamp))) {
                    return undefined;
                }
            }
            else if (marker?.install !== undefined) {
                return undefined;
            }
            return marker?.python === this.#python ? marker : undefined;
        });
    }
    async #lookup(root, version, requirements, install) {
        const venvDir = join(root, `py${version}-${await venvKey(version, requirements, install)}`);
        const marker = await readReady({
            dir: venvDir,
            marker: READY_MARKER,
            accept: this.#accept(requirements, install),
        });
        return marker ? prepared(venvDir, marker) : undefined;
    }
    async #build(venvDir, key, probe, requirements, options, index, project) {
        options.progress?.(requirements.length
            ? `Installing ${requirements.length} requirement${requirements.length === 1 ? "" : "s"} into a new environment…`
            : "Creating a new Python environment…");
        const env = this.#baseEnv();
        const [created, pip] = await Promise.all([
            this.#run(probe.executable, ["-I", "-m", "venv", "--without-pip", venvDir], env, {
                cwd: dirname(venvDir),
                timeoutMs: VENV_TIMEOUT_MS,
            }),
            requirements.length ? this.#pipInfo(probe, options.cacheDir, project) : undefined,
        ]);
        if (created.code !== 0) {
            throw new DependencyError(`Cannot create a virtual environment: ${pythonReason(created.stderr || created.stdout)}`, {
                hint: "Check that Python's venv module works (on Debian or Ubuntu: apt install " +
                    "python3-venv) and that the cache directory is writable",
                details: { python: this.#python, stderr: tail(created.stderr) },
            });
        }
        const surface = pip ? await launchSurface(venvDir) : "";
        const pipConfig = pip ? await pipConfigStamps(pipConfigFiles(pip)) : undefined;
        const install = pip
            ? await this.#install(venvDir, probe, pip, requirements, options)
            : undefined;
        if (pip) {
            const after = await launchSurface(venvDir);
            if (after !== surface) {
                throw new DependencyError("A requirement replaced the environment's interpreter or its pyvenv.cfg: refused", {
                    hint: "Review the script's requirements: a package that overwrites bin/python or " +
                        "pyvenv.cfg could run code before the sandbox's last step",
                    details: { before: surface, after },
                });
            }
        }
        return {
            format: MARKER_FORMAT,
            key,
            python: this.#python,
            python_version: probe.version,
            base_prefix: probe.basePrefix,
            requirements,
            created_at: new Date().toISOString(),
            build_id: crypto.randomUUID(),
            ...(install ? { install } : {}),
            index,
            ...(pipConfig ? { pip_config: pipConfig } : {}),
        };
    }
    async #install(venvDir, probe, pip, requirements, options) {
        if (!pipHasPythonOption(pip.version) || !(await exists(join(pip.dir, "__pip-runner__.py")))) {
            throw new DependencyError(`Cannot install requirements: pip ${pip.version} is too old (22.3 or newer is needed)`, { hint: `Upgrade pip: ${this.#python} -m pip install --upgrade pip` });
        }
        const sandbox = options.sandbox;
        const warn = options.warn ?? console.error;
        if (!sandbox) {
            warn("warning: installing Python requirements WITHOUT a sandbox: pip runs with your " +
                "permissions, files and network. Only wheels are accepted, so no package's build " +
                "script runs" + (options.sourceBuilds ? " (install.source_builds is ignored)" : "") + ".");
        }
        const sourceBuilds = sourceBuildsAllowed(options);
        const settings = pipSettings(pip.items, options.indexUrl ?? (this.#userEnv.CAPIBARA_INDEX_URL || undefined), options.cwd);
        if (sourceBuilds)
            refuseCredentials(settings);
        const access = indexAccess(settings);
        const cacheDir = settings.noCacheDir || sourceBuilds
            ? undefined
            : join(dirname(dirname(venvDir)), "pip");
        const reqFile = join(venvDir, REQUIREMENTS_FILE);
        await Deno.writeTextFile(reqFile, requirements.join("\n") + "\n");
        const tmp = await makeRunDir();
        const logFile = join(tmp, "pip.log");
        const args = [
            join(pip.dir, "__pip-runner__.py"),
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "--no-color",
            "--progress-bar",
            "off",
            "--no-warn-script-location",
            "--log",
            logFile,
            ...(cacheDir ? ["--cache-dir", cacheDir] : ["--no-cache-dir"]),
            ...(sourceBuilds ? [] : ["--only-binary", ":all:"]),
            "-r",
            reqFile,
        ];
        const spec = {
            program: venvPython(venvDir),
            args,
            env: {
                PATH: `${dirname(venvPython(venvDir))}${delimiter}${DEFAULT_PATH}`,
                HOME: sandbox ? tmp : this.#userEnv.HOME ?? tmp,
                TMPDIR: tmp,
                LANG: "C.UTF-8",
                PYTHONNOUSERSITE: "1",
                ...settingsEnv(settings),
                ...(sandbox ? {} : this.#proxyEnv()),
            },
            cwd: venvDir,
        };
        let result;
        try {
            if (sandbox) {
                if (cacheDir)
                    await Deno.mkdir(cacheDir, { recursive: true, mode: 0o700 });
                const policy = {
                    network: access.hosts,
                    privateNetwork: access.hosts,
                    read: [
                        ...new Set([
                            probe.basePrefix,
                            dirname(probe.executable),
                            dirname(probe.realExecutable),
                            dirname(pip.dir),
                            ...access.paths,
                        ]),
                    ],
                    write: [venvDir, ...(cacheDir ? [cacheDir] : [])],
                    protect: [],
                    workdir: venvDir,
                    tmpDir: tmp,
                    memoryBytes: INSTALL_MEMORY_BYTES,
                    maxProcesses: INSTALL_MAX_PROCESSES,
                };
                result = await this.#runWrapped(sandbox, spec, policy, options.signal);
            }
            else {
                result = await this.#exec(spec, this.#installTimeoutMs, options.signal);
            }
            if (result.code !== 0) {
                throw await this.#installFailure(result, requirements, probe, logFile, {
                    sourceBuilds,
                    confined: sandbox !== undefined,
                });
            }
        }
        finally {
            await removeIfExists(tmp);
        }
        return { confined: sandbox !== undefined, source_builds: sourceBuilds };
    }
    async #runWrapped(sandbox, spec, policy, signal) {
        try {
            return await runInstall(sandbox, spec, policy, {
                timeoutMs: this.#installTimeoutMs,
                maxOutputBytes: INSTALL_MAX_OUTPUT_BYTES,
                limits: this.#installLimits,
                signal,
            });
        }
        catch (error) {
            throw spawnFailure(error, spec.program) ?? error;
        }
    }
    async #exec(spec, timeoutMs, signal) {
        let result;
        try {
            result = await execCommand(spec, {
                timeoutMs,
                maxOutputBytes: INSTALL_MAX_OUTPUT_BYTES,
                signal,
            });
        }
        catch (error) {
            throw spawnFailure(error, spec.program) ?? error;
        }
        if (signal?.aborted)
            throw installCancelled();
        return result;
    }
    async #installFailure(result, requirements, probe, logFile, { sourceBuilds, confined }) {
        const reason = result.timedOut
            ? `pip did not finish within ${Math.round(this.#installTimeoutMs / 1000)} s`
            : pythonReason(result.stderr);
        const sdist = !sourceBuilds && /No matching distribution/i.test(reason)
            ? await sdistOnly(logFile)
            : undefined;
        const hint = sdist !== undefined
            ? `"${sdist}" publishes no wheel for this platform, only a source distribution, whose ` +
                "build script would run: to allow that inside the sandbox, set install.source_builds " +
                '("install": {"source_builds": true} in .capibara/config.json)' +
                (confined ? "" : " and run with the sandbox on (never with --no-sandbox)") +
                ", or pick a version with wheels"
            : `Check that the pinned versions exist for Python ${probe.version} on your ` +
                "package index; pip uses your configuration (CAPIBARA_INDEX_URL, pip.conf, " +
                "PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS for an offline wheelhouse)";
        return new DependencyError(`Cannot install requirements: ${reason}`, {
            hint,
            details: {
                requirements,
                python_version: probe.version,
                exit_code: result.code,
                stderr: tail(result.stderr),
                ...(sdist !== undefined ? { source_only: sdist } : {}),
            },
        });
    }
    async #pipInfo(probe, cacheDir, project) {
        const env = this.#baseEnv();
        const key = JSON.stringify([probe.executable, Object.entries(env).sort()]);
        const keyHash = await sha256(key);
        const file = join(resolve(cacheDir), "python", `pip-${keyHash.slice(0, 32)}.json`);
        const compute = (async () => await keptPipInfo(file, keyHash, project) ??
            keepPipInfo(file, keyHash, await this.#pipInfoNow(probe, env)));
        return (await PIP_INFOS.getWhile(key, compute, stillRead)).info;
    }
    async #pipInfoNow(probe, env) {
        const result = await this.#run(probe.executable, ["-I", "-c", PIP_INFO_CODE], env, {
            cwd: "/",
            timeoutMs: PROBE_TIMEOUT_MS,
        });
        if (result.code === 0) {
            try {
                const info = PipInfo.parse(JSON.parse(result.stdout.trim().split("\n").at(-1) ?? ""));
                return { info, at: Date.now() };
            }
            catch {
            }
        }
        throw new DependencyError(`Cannot install requirements: pip does not run: ${pythonReason(result.stderr || result.stdout)}`, {
            hint: `Install pip for this Python: ${this.#python} -m ensurepip --upgrade`,
            details: { python: probe.executable, exit_code: result.code, stderr: tail(result.stderr) },
        });
    }
    async #run(program, args, env, options) {
        try {
            return await execCommand({ program, args, env, cwd: options.cwd }, {
                timeoutMs: options.timeoutMs,
            });
        }
        catch (error) {
            throw spawnFailure(error, program) ?? error;
        }
    }
    #baseEnv() {
        const env = {};
        for (const [name, value] of Object.entries(this.#userEnv)) {
            if (value === undefined)
                continue;
            if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some(((p) => name.startsWith(p)))) {
                env[name] = value;
            }
        }
        env.PYTHONDONTWRITEBYTECODE ??= "1";
        return env;
    }
    #proxyEnv() {
        const env = {};
        for (const name of ["http_proxy", "https_proxy", "no_proxy", "all_proxy"]) {
            for (const spelling of [name, name.toUpperCase()]) {
                const value = this.#userEnv[spelling];
                if (value !== undefined)
                    env[spelling] = value;
            }
        }
        for (const name of ["SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NETRC"]) {
            const value = this.#userEnv[name];
            if (value !== undefined)
                env[name] = value;
        }
        return env;
    }
}
;
;
