// Generated from src/runtimes/deno.ts by scripts/build_js.ts (sha256 0d11997714e01eda117041879eb038e8f1158865f6eeb5bc4b62e6ed3c1ba0e4): do not edit; `deno task build:js` writes it.
export var denoDirKey = (async function (requirements) {
    return (await sha256((await normalisedNpm(requirements)).join("\n"))).slice(0, 16);
});
var findExecutable = (async function (name, pathVar) {
    const wanted = !isAbsolute(name) && (name.includes("/") || name.includes("\\"))
        ? resolve(name)
        : name;
    return await which(wanted, pathVar ?? "");
});
var isDenoBinary = (function (path) {
    const name = basename(path).toLowerCase();
    return name === "deno" || name === "deno.exe";
});
var acceptMarker = (function (requirements, registry) {
    return ((raw) => {
        const parsed = Marker.safeParse(raw);
        if (!parsed.success)
            return undefined;
        const marker = parsed.data;
        if (marker.requirements.join("\n") !== requirements.join("\n"))
            return undefined;
        if (JSON.stringify(marker.registry) !== JSON.stringify(registry))
            return undefined;
        return marker;
    });
});
var denoReason = (function (stderr) {
    const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split(/\r?\n/).map(((l) => l.trim()))
        .filter(((l) => l));
    const start = lines.findIndex(((l) => /^error:/i.test(l)));
    if (start === -1)
        return lines.at(-1) ?? "deno gave no reason";
    const picked = [lines[start].replace(/^error:\s*/i, "")];
    for (const line of lines.slice(start + 1)) {
        if (!/^\d+:/.test(line))
            break;
        picked.push(line.replace(/^\d+:\s*/, ""));
    }
    return [...new Set(picked)].join(": ").replace(/\.$/, "");
});
var spawnFailure = (function (error, program) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
        return new DependencyError(`Cannot run TypeScript scripts: "${program}" does not start`, {
            hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
            cause: error,
        });
    }
    return undefined;
});
var registryHost = (function (registry) {
    let url;
    try {
        url = new URL(Object.values(registry)[0] ?? NPM_REGISTRY);
    }
    catch {
        url = new URL(NPM_REGISTRY);
    }
    return `${url.hostname}:${url.port || (url.protocol === "http:" ? "80" : "443")}`;
});
var runEnv = (function (dir, registry) {
    return {
        ...registry,
        DENO_DIR: dir,
        DENO_NO_UPDATE_CHECK: "1",
        DENO_NO_PROMPT: "1",
        DENO_NO_PACKAGE_JSON: "1",
        NO_COLOR: "1",
    };
});
var prepared = (function (deno, dir, marker, seeded) {
    return {
        interpreter: deno,
        interpreterArgs: seeded ? [...RUN_ARGS] : [...RUN_ARGS, NO_CODE_CACHE],
        readPaths: [join(dir, "npm")],
        env: runEnv(dir, marker.registry),
    };
});
export var denoAddressSpace = (function (memoryBytes) {
    const mib = Math.max(16, Math.floor(memoryBytes / 1024 ** 2));
    return {
        env: { DENO_V8_FLAGS: `--max-old-space-size=${mib}` },
        dataBytes: memoryBytes + DENO_OWN_DATA_BYTES,
    };
});
export var runDenoDir = (function (denoDir, tmpDir, codeCache = false) {
    const own = join(tmpDir, ".deno");
    Deno.mkdirSync(own, { recursive: true, mode: 0o700 });
    for (const name of DISCARDED_DATABASES)
        Deno.mkdirSync(join(own, name), { mode: 0o700 });
    const npm = join(denoDir, "npm");
    if (existsSync(npm))
        Deno.symlinkSync(npm, join(own, "npm"));
    if (codeCache) {
        try {
            Deno.copyFileSync(join(denoDir, CODE_CACHE_SEED), join(own, "v8_code_cache_v2"));
        }
        catch {
        }
    }
    return own;
});
export var usesCodeCache = (function (args) {
    return !args.includes(NO_CODE_CACHE);
});
var binaryIdentity = (function (binary) {
    try {
        return fileIdentity(Deno.realPathSync(binary));
    }
    catch {
        return undefined;
    }
});
var seedCodeCache = (async function (deno, dir) {
    const identity = binaryIdentity(deno);
    if (identity === undefined)
        return false;
    const seed = join(dir, CODE_CACHE_SEED);
    const recorded = join(dir, CODE_CACHE_SEED_FOR);
    try {
        if (Deno.readTextFileSync(recorded) === identity && existsSync(seed))
            return true;
    }
    catch {
    }
    let work;
    try {
        work = await Deno.makeTempDir({ dir, prefix: ".seed-" });
        const builder = join(work, "seed.js");
        await Deno.writeTextFile(builder, SEEDED_BUILTINS.map(((name) => `import "node:${name}";\n`)).join(""));
        const cacheDir = join(work, "deno");
        const result = await execCommand({
            program: deno,
            args: [...RUN_ARGS, builder],
            env: { ...runEnv(cacheDir, {}), PATH: DEFAULT_PATH, HOME: work, TMPDIR: work },
            cwd: work,
        }, { timeoutMs: SEED_TIMEOUT_MS, maxOutputBytes: 100_000 });
        if (result.code !== 0)
            return false;
        const { DatabaseSync } = await import("node:sqlite");
        const db = new DatabaseSync(join(cacheDir, "v8_code_cache_v2"));
        try {
            db.exec("DELETE FROM codecache WHERE specifier NOT LIKE 'ext:%'; " +
                "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; VACUUM;");
        }
        finally {
            db.close();
        }
        await Deno.rename(join(cacheDir, "v8_code_cache_v2"), seed);
        await Deno.writeTextFile(join(work, "for"), identity);
        await Deno.rename(join(work, "for"), recorded);
        return true;
    }
    catch {
        return false;
    }
    finally {
        if (work !== undefined)
            await removeIfExists(work).catch((() => { }));
    }
});
var graphSpecifiers = (function (graph) {
    const all = [...graph.roots];
    for (const module of graph.modules) {
        all.push(module.specifier);
        for (const dep of module.dependencies ?? []) {
            if (dep.code)
                all.push(dep.code.specifier);
            if (dep.type)
                all.push(dep.type.specifier);
        }
    }
    for (const [from, to] of Object.entries(graph.redirects))
        all.push(from, to);
    return [...new Set(all)];
});
export var checkModuleGraph = (async function (options) {
    const { deno, script, denoDir } = options;
    const bytes = options.sha256 === undefined
        ? await Deno.readFile(script)
        : await verifiedBytes(script, options.sha256);
    const source = new TextDecoder().decode(bytes);
    const verdict = join(dirname(denoDir), "graph-ok", await sha256([deno, denoDir, script, source].join("\0")));
    if (await exists(verdict))
        return;
    const tmp = await makeRunDir();
    let result;
    try {
        const copy = join(tmp, "entry", basename(script));
        await Deno.mkdir(dirname(copy), { mode: 0o700 });
        await Deno.writeFile(copy, bytes, { createNew: true, mode: 0o400 });
        const spec = {
            program: deno,
            args: [
                "info",
                "--json",
                "--no-config",
                "--no-lock",
                "--node-modules-dir=none",
                "--deny-import",
                copy,
            ],
            env: {
                ...options.env,
                ...UNREACHABLE_PROXY,
                PATH: DEFAULT_PATH,
                HOME: tmp,
                TMPDIR: tmp,
                DENO_DIR: runDenoDir(denoDir, tmp),
            },
            cwd: tmp,
        };
        const limits = { timeoutMs: INFO_TIMEOUT_MS, maxOutputBytes: 8_000_000 };
        const confined = options.sandbox !== undefined && (await options.sandbox.available()).ok;
        try {
            if (confined) {
                const binary = await Deno.realPath(deno);
                const wrapped = await options.sandbox.wrap(spec, {
                    network: [],
                    read: [...new Set([binary, deno, join(denoDir, "npm")])],
                    write: [],
                    protect: [],
                    workdir: tmp,
                    tmpDir: tmp,
                    memoryBytes: INFO_MEMORY_BYTES,
                    maxProcesses: INFO_MAX_PROCESSES,
                    reservesAddressSpace: denoAddressSpace(INFO_MEMORY_BYTES),
                });
                try {
                    result = await execCommand(wrapped.spec, limits);
                }
                finally {
                    await wrapped.close();
                }
            }
            else {
                result = await execCommand(spec, limits);
            }
        }
        catch (error) {
            throw spawnFailure(error, deno) ?? error;
        }
    }
    finally {
        await removeIfExists(tmp);
    }
    let graph;
    try {
        const parsed = GraphJson.safeParse(JSON.parse(result.stdout));
        if (parsed.success)
            graph = parsed.data;
    }
    catch {
    }
    if (result.code !== 0 || graph === undefined) {
        const reason = result.timedOut
            ? `deno info did not finish within ${INFO_TIMEOUT_MS / 1000} s`
            : denoReason(result.stderr || result.stdout);
        throw new ExecError(`Cannot check the imports of "${basename(script)}": ${reason}`, {
            hint: "Regenerate the script with --refresh",
            details: { exit_code: result.code, stderr: tail(result.stderr) },
        });
    }
    const entry = graph.roots[0] ?? pathToFileUrl(join(tmp, "entry", basename(script))).href;
    const local = graphSpecifiers(graph).find(((s) => s.startsWith("file:") && s !== entry));
    if (local !== undefined) {
        throw new PermissionError(`Cannot run "${basename(script)}": it imports the local file ${JSON.stringify(local)}`, {
            hint: "Scripts may import npm: packages and node: built-ins only; files are read at " +
                "run time from the paths the context names",
            details: { specifier: local },
        });
    }
    const failed = graph.modules.find(((module) => module.error !== undefined));
    if (failed !== undefined) {
        const npm = failed.specifier.startsWith("npm:");
        throw new PermissionError(`Cannot run "${basename(script)}": it imports ${JSON.stringify(failed.specifier)}, ${npm ? "which its requirements do not bring" : "which cannot be loaded"}`, {
            hint: npm
                ? "A script imports only the npm packages its requirements pin: regenerate it with " +
                    "--refresh, or review and accept one that names the package in its requirements"
                : "Scripts may import npm: packages and node: built-ins only",
            details: { specifier: failed.specifier, error: failed.error.slice(0, 500) },
        });
    }
    await Deno.mkdir(dirname(verdict), { recursive: true });
    await Deno.writeTextFile(verdict, "");
});
import { basename, dirname, isAbsolute, join, pathToFileUrl, resolve, sep } from "../_path.js";
import * as z from "../_shape.js";
import { DependencyError, ExecError, PermissionError, tail } from "../errors.js";
import { sha256 } from "../_hash.js";
import { exists, existsSync, fileIdentity, isInside, makeRunDir, realPathLoose, removeIfExists, } from "../_fs.js";
import { once } from "../_memo.js";
import { DEFAULT_PATH, which } from "../_which.js";
import { execCommand } from "../exec.js";
import { buildOnce, readReady } from "./_build_once.js";
import { installCancelled, runInstall } from "./_install.js";
import { verifiedBytes } from "../store/_verified.js";
import { normalisedNpm } from "./_requirements.js";
export const DENO_READY_MARKER = ".capibara-ready";
const DEPS_ENTRY = "capibara-deps.ts";
const MARKER_FORMAT = 1;
const PROBE_TIMEOUT_MS = 30_000;
const DEFAULT_CACHE_TIMEOUT_MS = 10 * 60_000;
const CACHE_MEMORY_BYTES = 4 * 1024 ** 3;
const CACHE_MAX_PROCESSES = 256;
const CA_VARS = ["DENO_CERT", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"];
const NPM_REGISTRY = "https://registry.npmjs.org/";
const RUN_ARGS = [
    "run",
    "--no-prompt",
    "--cached-only",
    "--no-config",
    "--no-lock",
    "--node-modules-dir=none",
];
export const NO_CODE_CACHE = "--no-code-cache";
const CODE_CACHE_SEED = "v8_code_cache_seed";
const CODE_CACHE_SEED_FOR = "v8_code_cache_seed.for";
const SEEDED_BUILTINS = [
    "assert",
    "buffer",
    "child_process",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "os",
    "path",
    "process",
    "readline",
    "stream",
    "url",
    "util",
    "zlib",
];
const SEED_TIMEOUT_MS = 30_000;
const PASS_THROUGH = new Set([
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "TMPDIR",
    "TEMP",
    "TMP",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "SYSTEMROOT",
    "USERPROFILE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "DENO_CERT",
    "DENO_TLS_CA_STORE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
]);
const PASS_THROUGH_PREFIXES = ["NPM_CONFIG_", "npm_config_", "LC_"];
const REGISTRY_VARS = ["NPM_CONFIG_REGISTRY", "npm_config_registry"];
const Marker = z.object({
    format: z.literal(MARKER_FORMAT),
    key: z.string(),
    requirements: z.array(z.string()),
    registry: z.record(z.string()),
    created_at: z.string(),
    build_id: z.string(),
});
;
;
;
;
;
export class DenoRuntime {
    language = "typescript";
    #deno;
    #userEnv;
    #cacheTimeoutMs;
    #binary;
    #version;
    constructor(options = {}) {
        this.#deno = options.deno;
        this.#userEnv = options.env ?? Deno.env.toObject();
        this.#cacheTimeoutMs = options.cacheTimeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS;
        this.#binary = once((() => this.#findBinary()));
        this.#version = once((() => this.#probeVersion()));
    }
    async describe() {
        return { name: "deno", version: await this.#version() };
    }
    async prepare(manifest, scriptDir, options) {
        const requirements = await normalisedNpm(manifest.deps);
        const given = join(resolve(options.cacheDir), "deno");
        if (given.split(sep).includes(".capibara") || isInside(given, resolve(scriptDir))) {
            throw new DependencyError(`Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`, { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" });
        }
        const root = await realPathLoose(given);
        const deno = await this.#binary();
        const dir = join(root, await denoDirKey(requirements));
        const registry = this.#registryEnv();
        const accept = acceptMarker(requirements, registry);
        const hit = await readReady({ dir, marker: DENO_READY_MARKER, accept });
        const marker = hit ?? await buildOnce({
            dir,
            marker: DENO_READY_MARKER,
            accept,
            onWait: (() => options.progress?.("Waiting for another process to cache the npm packages…")),
            build: (async (target) => {
                if (requirements.length) {
                    options.progress?.(`Caching ${requirements.length} npm package${requirements.length === 1 ? "" : "s"}…`);
                    await this.#cache(deno, target, requirements, options.sandbox, options.signal);
                }
                return {
                    format: MARKER_FORMAT,
                    key: basename(target),
                    requirements,
                    registry,
                    created_at: new Date().toISOString(),
                    build_id: crypto.randomUUID(),
                };
            }),
        });
        const entry = join(resolve(scriptDir), manifest.entry);
        if (await exists(entry)) {
            await checkModuleGraph({
                deno,
                script: entry,
                sha256: manifest.files[manifest.entry],
                denoDir: dir,
                env: runEnv(dir, marker.registry),
                sandbox: options.sandbox,
            });
        }
        const seeded = requirements.length === 0 && await seedCodeCache(deno, dir);
        return prepared(deno, dir, marker, seeded);
    }
    async #cache(deno, dir, requirements, sandbox, signal) {
        const imports = requirements.map(((r) => {
            const [name, version] = r.split("==");
            return `import ${JSON.stringify(`npm:${name}@${version}`)};\n`;
        }));
        await Deno.writeTextFile(join(dir, DEPS_ENTRY), imports.join(""));
        const confined = sandbox !== undefined && (await sandbox.available()).ok;
        const env = {};
        for (const [name, value] of Object.entries(this.#userEnv)) {
            if (value === undefined)
                continue;
            if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some(((p) => name.startsWith(p)))) {
                env[name] = value;
            }
        }
        Object.assign(env, runEnv(dir, this.#registryEnv()));
        const spec = {
            program: deno,
            args: [
                "cache",
                "--quiet",
                "--no-config",
                "--no-lock",
                "--node-modules-dir=none",
                "--deny-import",
                DEPS_ENTRY,
            ],
            env,
            cwd: dir,
        };
        let result;
        try {
            result = confined
                ? await this.#cacheConfined(sandbox, spec, dir, signal)
                : await execCommand(spec, {
                    timeoutMs: this.#cacheTimeoutMs,
                    maxOutputBytes: 1_000_000,
                    signal,
                });
        }
        catch (error) {
            throw spawnFailure(error, deno) ?? error;
        }
        if (signal?.aborted)
            throw installCancelled();
        if (result.code !== 0) {
            const reason = result.timedOut
                ? `deno cache did not finish within ${Math.round(this.#cacheTimeoutMs / 1000)} s`
                : denoReason(result.stderr || result.stdout);
            throw new DependencyError(`Cannot cache npm packages: ${reason}`, {
                hint: "Check that the pinned versions exist on your npm registry and that it is " +
                    "reachable; deno uses NPM_CONFIG_REGISTRY, ~/.npmrc and HTTPS_PROXY as npm does",
                details: { requirements, exit_code: result.code, stderr: tail(result.stderr) },
            });
        }
    }
    async #cacheConfined(sandbox, spec, dir, signal) {
        const hosts = [registryHost(this.#registryEnv())];
        const tmp = await makeRunDir();
        try {
            const binary = await Deno.realPath(spec.program);
            const wrappedSpec = {
                ...spec,
                env: { ...spec.env, PATH: DEFAULT_PATH, HOME: tmp, TMPDIR: tmp },
            };
            const policy = {
                network: hosts,
                privateNetwork: hosts,
                read: [
                    ...new Set([
                        binary,
                        spec.program,
                        ...CA_VARS.map(((name) => spec.env[name])).filter(((path) => path !== undefined && isAbsolute(path))),
                    ]),
                ],
                write: [dir],
                protect: [],
                workdir: dir,
                tmpDir: tmp,
                memoryBytes: CACHE_MEMORY_BYTES,
                maxProcesses: CACHE_MAX_PROCESSES,
                reservesAddressSpace: denoAddressSpace(CACHE_MEMORY_BYTES),
            };
            return await runInstall(sandbox, wrappedSpec, policy, {
                timeoutMs: this.#cacheTimeoutMs,
                maxOutputBytes: 1_000_000,
                signal,
            });
        }
        finally {
            await removeIfExists(tmp);
        }
    }
    #registryEnv() {
        const registry = {};
        for (const name of REGISTRY_VARS) {
            const value = this.#userEnv[name];
            if (value !== undefined && value !== "")
                registry[name] = value;
        }
        return registry;
    }
    async #findBinary() {
        if (this.#deno === undefined && isDenoBinary(Deno.execPath()))
            return Deno.execPath();
        const name = this.#deno ?? "deno";
        const found = await findExecutable(name, this.#userEnv.PATH);
        if (found)
            return found;
        throw new DependencyError(`Cannot run TypeScript scripts: "${name}" was not found`, {
            hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
        });
    }
    async #probeVersion() {
        const deno = await this.#binary();
        if (deno === Deno.execPath())
            return Deno.version.deno.split(".").slice(0, 2).join(".");
        let result;
        try {
            result = await execCommand({
                program: deno,
                args: ["--version"],
                env: { PATH: this.#userEnv.PATH ?? "", NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
                cwd: resolve("/"),
            }, { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 64_000 });
        }
        catch (error) {
            throw spawnFailure(error, deno) ?? error;
        }
        const match = /^deno (\d+)\.(\d+)\./m.exec(result.stdout);
        if (result.code === 0 && match)
            return `${match[1]}.${match[2]}`;
        throw new DependencyError(`Cannot run TypeScript scripts: "${deno}" does not run as deno`, {
            hint: "Install Deno 2 (https://deno.com) and make sure it is on PATH",
            details: { deno, exit_code: result.code, stderr: tail(result.stderr) },
        });
    }
}
;
;
;
;
const DENO_OWN_DATA_BYTES = 768 * 1024 ** 2;
;
;
;
;
;
const DISCARDED_DATABASES = ["dep_analysis_cache_v2", "node_analysis_cache_v2"];
const UNREACHABLE_PROXY = Object.fromEntries(["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"].flatMap(((name) => [
    [name, "http://127.0.0.1:0"],
    [name.toLowerCase(), "http://127.0.0.1:0"],
])).concat([["NO_PROXY", ""], ["no_proxy", ""]]));
const INFO_MEMORY_BYTES = 1024 ** 3;
const INFO_MAX_PROCESSES = 64;
const INFO_TIMEOUT_MS = 60_000;
const GraphJson = z.object({
    roots: z.array(z.string()).default([]),
    modules: z.array(z.object({
        specifier: z.string(),
        error: z.string().optional(),
        dependencies: z.array(z.object({
            code: z.object({ specifier: z.string() }).optional(),
            type: z.object({ specifier: z.string() }).optional(),
        })).optional(),
    })).default([]),
    redirects: z.record(z.string()).default({}),
});
;
;
