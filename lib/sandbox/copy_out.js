// Generated from src/sandbox/copy_out.ts by scripts/build_js.ts (sha256 56b4ef713c01a1c13e162e15aa2243867118d2ef17984022e7a2db29c3810c31): do not edit; `deno task build:js` writes it.
export var foldName = (function (name) {
    return name.normalize("NFKD").replace(/[\p{M}\p{Default_Ignorable_Code_Point}]/gu, "")
        .toLowerCase().replace(/\u0131/g, "i").replace(/[. ]+$/, "");
});
export var untrustedName = (function (name, kind = "file") {
    const folded = foldName(name);
    if (folded === "")
        return `"${name}" is only dots and spaces, a name no output needs`;
    if (folded.startsWith("."))
        return `"${name}" is a dot name, a name that tools execute or trust`;
    if (kind === "file" && !folded.includes(".")) {
        return `"${name}" has no extension, as many names that tools execute or trust (Makefile, ` +
            "pylintrc): declare its exact path to keep it";
    }
    const extension = folded.slice(folded.lastIndexOf(".") + 1);
    if (kind === "file" && CODE_EXTENSIONS.has(extension)) {
        return `"${name}" is code, which tools execute or trust when they find it where they work ` +
            "(test runners, imports, task runners): declare its exact path to keep it";
    }
    if (UNTRUSTED.has(folded))
        return `"${name}" is a name that tools execute or trust`;
    const pattern = UNTRUSTED_PATTERNS.find(((p) => p.test(folded)));
    if (pattern)
        return `"${name}" matches ${pattern}, a name that tools execute or trust`;
    return undefined;
});
export var measureTree = (function (root, stopAt, options = {}) {
    const total = { bytes: 0, files: 0 };
    const over = (() => stopAt !== undefined && (total.bytes > stopAt.bytes || total.files > stopAt.files));
    try {
        const info = Deno.lstatSync(root);
        if (!info.isDirectory)
            return { bytes: info.isFile ? info.size : 0, files: 1 };
    }
    catch {
        return total;
    }
    const gone = ((error) => error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory);
    const pending = [root];
    while (pending.length > 0 && !over()) {
        const dir = pending.pop();
        let entries;
        try {
            entries = [...Deno.readDirSync(dir)];
        }
        catch (error) {
            if (gone(error))
                continue;
            try {
                if (!options.reopen || !reopenFolders(dir))
                    throw error;
                entries = [...Deno.readDirSync(dir)];
            }
            catch (again) {
                if (gone(again))
                    continue;
                total.bytes = Infinity;
                break;
            }
        }
        for (const entry of entries) {
            total.files++;
            const path = join(dir, entry.name);
            if (entry.isDirectory)
                pending.push(path);
            else if (entry.isFile) {
                try {
                    total.bytes += Deno.lstatSync(path).size;
                }
                catch {
                }
            }
            if (over())
                break;
        }
    }
    return total;
});
export var pastBounds = (function (used, bounds) {
    return !(used.bytes <= bounds.bytes && used.files <= bounds.files);
});
export var unmeasurable = (function (used) {
    return !Number.isFinite(used.bytes) || !Number.isFinite(used.files);
});
export var deviceNumber = (function (text) {
    const [major = NaN, minor = NaN] = text.split(":").map(((part) => parseInt(part, 16)));
    return (major & 0xfff) * 2 ** 8 + (major - (major & 0xfff)) * 2 ** 32 + (minor & 0xff) +
        (minor - (minor & 0xff)) * 2 ** 12;
});
export var devicesOf = (function (paths) {
    const devices = new Set();
    for (const path of paths) {
        const info = lstatSyncOrNull(path);
        if (info)
            devices.add(info.dev);
    }
    return devices;
});
export var processesBelow = (function (root) {
    const children = new Map();
    for (const entry of Deno.readDirSync("/proc")) {
        const pid = Number(entry.name);
        if (!Number.isInteger(pid))
            continue;
        let stat;
        try {
            stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
        }
        catch {
            continue;
        }
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ", 2)[1]);
        const siblings = children.get(parent);
        if (siblings)
            siblings.push(pid);
        else
            children.set(parent, [pid]);
    }
    const found = [root];
    for (let i = 0; i < found.length; i++)
        found.push(...(children.get(found[i]) ?? []));
    return found;
});
var privilegedHelper = (function (pid) {
    if (Deno.uid() === 0)
        return false;
    try {
        const status = Deno.readTextFileSync(`/proc/${pid}/status`);
        return /^Uid:\s+\d+\s+0\s/m.test(status);
    }
    catch {
        return false;
    }
});
var ending = (function (task) {
    try {
        const status = Deno.readTextFileSync(`${task}/status`);
        return /^State:\s+[ZXx]/m.test(status) || !/^VmSize:/m.test(status);
    }
    catch {
        return true;
    }
});
export var heldRemovedFiles = (async function (root, devices, budget = HELD_LOOK_BUDGET, stop) {
    const total = { bytes: 0, files: 0 };
    if (Deno.build.os !== "linux")
        return total;
    let looks = 0;
    let mapsBytes = 0;
    let stopped = false;
    const readMaps = (async (path) => {
        const ended = new AbortController();
        let pieces = 0;
        try {
            const bytes = await readStream((await Deno.open(path)).readable, HELD_MAPS_BYTES_BUDGET - mapsBytes, {
                take: ((read) => {
                    mapsBytes += read;
                    if (++pieces % 16 === 0 && (stopped ||= stop?.() === true))
                        ended.abort();
                }),
                signal: ended.signal,
            });
            return new TextDecoder().decode(bytes);
        }
        catch (error) {
            if (error instanceof TooLarge)
                return undefined;
            throw error;
        }
    });
    const look = (async () => {
        looks++;
        if (looks % HELD_LOOKS_PER_TURN === 0) {
            await sleep(0);
            stopped ||= stop?.() === true;
        }
        return looks <= budget;
    });
    const seen = new Set();
    const count = ((dev, ino, size) => {
        const key = `${dev}:${ino}`;
        if (seen.has(key))
            return;
        seen.add(key);
        total.files++;
        total.bytes += size;
    });
    const unmeasured = ((error, pid, task) => !(error instanceof Deno.errors.NotFound) && !ending(task) && !privilegedHelper(pid));
    const past = (() => ({ bytes: Infinity, files: total.files }));
    let pids;
    try {
        pids = processesBelow(root);
    }
    catch (error) {
        if (error instanceof Deno.errors.NotCapable)
            return total;
        throw error;
    }
    for (const pid of pids) {
        let tids;
        try {
            tids = [...Deno.readDirSync(`/proc/${pid}/task`)].map(((entry) => entry.name));
        }
        catch (error) {
            if (unmeasured(error, pid, `/proc/${pid}`))
                return past();
            continue;
        }
        let maps = "";
        for (const tid of tids) {
            const task = `/proc/${pid}/task/${tid}`;
            let entries;
            try {
                entries = [...Deno.readDirSync(`${task}/fd`)];
                if (maps === "") {
                    const read = await readMaps(`${task}/maps`);
                    if (read === undefined)
                        return past();
                    if (stopped)
                        return total;
                    maps = read;
                }
            }
            catch (error) {
                if (unmeasured(error, pid, task))
                    return past();
                continue;
            }
            for (const entry of entries) {
                if (!await look())
                    return past();
                if (stopped)
                    return total;
                let info;
                try {
                    info = Deno.statSync(`${task}/fd/${entry.name}`);
                }
                catch (error) {
                    if (unmeasured(error, pid, task))
                        return past();
                    continue;
                }
                if (info.isFile && info.nlink === 0 && devices.has(info.dev)) {
                    count(info.dev, info.ino, info.size);
                }
            }
        }
        for (const line of maps.split("\n")) {
            if (!line.endsWith(" (deleted)"))
                continue;
            const [range = "", , , device = "", inode = "0"] = line.split(/\s+/, 5);
            const dev = deviceNumber(device);
            if (inode === "0" || !devices.has(dev) || seen.has(`${dev}:${inode}`))
                continue;
            if (!await look())
                return past();
            if (stopped)
                return total;
            try {
                const info = Deno.statSync(`/proc/${pid}/map_files/${range}`);
                count(info.dev, info.ino, info.size);
            }
            catch (error) {
                if (!(error instanceof Deno.errors.NotFound) || ending(`/proc/${pid}`)) {
                    if (!privilegedHelper(pid))
                        return past();
                }
            }
        }
    }
    return total;
});
export var watchUsage = (function (usage, bounds, everyMs, cancel, processes) {
    const stop = new AbortController();
    const onCancel = (() => stop.abort());
    cancel?.addEventListener("abort", onCancel, { once: true });
    if (cancel?.aborted)
        stop.abort();
    let exceeded;
    let running = true;
    let wake = (() => { });
    const watch = (async () => {
        while (running) {
            await new Promise(((resolve) => {
                const cancelTimer = onTimeout(everyMs, resolve);
                wake = (() => {
                    cancelTimer();
                    resolve();
                });
            }));
            if (!running)
                break;
            const held = processes?.pid === undefined ? { bytes: 0, files: 0 } : await heldRemovedFiles(processes.pid, processes.devices, HELD_LOOK_BUDGET, (() => pastBounds(usage(), bounds)));
            const used = usage();
            used.bytes += held.bytes;
            used.files += held.files;
            if (pastBounds(used, bounds)) {
                exceeded = used;
                stop.abort();
                break;
            }
        }
    })().catch((() => {
        exceeded = { bytes: Infinity, files: Infinity };
        stop.abort();
    }));
    return {
        signal: stop.signal,
        async end() {
            running = false;
            wake();
            cancel?.removeEventListener("abort", onCancel);
            await watch;
            return exceeded;
        },
    };
});
var tempName = (function (dest) {
    return join(dirname(dest), `.${basename(dest)}.capibara-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID()}`);
});
var sweepTemps = (function (folder) {
    for (const name of staleEntries(folder, LEFT_PROBE)) {
        try {
            Deno.removeSync(join(folder, name));
        }
        catch {
        }
    }
    for (const name of staleEntries(folder, LEFT_TEMP)) {
        const path = join(folder, name);
        if (lstatSyncOrNull(path)?.isFile) {
            try {
                Deno.removeSync(path);
            }
            catch {
            }
        }
    }
});
var kindOf = (function (info) {
    if (info.isSymlink)
        return "a symlink";
    if (info.isDirectory)
        return "a folder";
    if (info.isFifo)
        return "a FIFO";
    if (info.isSocket)
        return "a socket";
    if (info.isCharDevice || info.isBlockDevice)
        return "a device";
    return "not a regular file";
});
var folderChainProblem = (function (base, path) {
    const parts = relative(base, path).split(sep).filter(Boolean);
    let current = base;
    for (const part of parts.slice(0, -1)) {
        current = join(current, part);
        const info = lstatSyncOrNull(current);
        if (!info)
            return undefined;
        if (!info.isDirectory) {
            return `"${relative(base, current)}" on its way is ${kindOf(info)}, not a folder`;
        }
    }
    return undefined;
});
export var gitTracked = (async function (workdir, paths) {
    if (paths.length === 0)
        return new Set();
    let result;
    try {
        result = await execCommand({
            program: "git",
            args: [
                "--literal-pathspecs",
                "-c",
                "core.fsmonitor=false",
                "-c",
                "safe.bareRepository=explicit",
                "ls-files",
                "-z",
                "--",
                ...paths,
            ],
            env: { PATH: DEFAULT_PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_OPTIONAL_LOCKS: "0" },
            cwd: workdir,
        }, { timeoutMs: 30_000, maxOutputBytes: 16 * 1024 ** 2 });
    }
    catch {
        result = undefined;
    }
    if (result && result.code === 0) {
        return new Set(result.stdout.split("\0").filter(Boolean));
    }
    if (result && /not a git repository/i.test(result.stderr))
        return new Set();
    for (let dir = workdir;; dir = dirname(dir)) {
        if (await lstatOrNull(join(dir, ".git")))
            return new Set(paths);
        if (dirname(dir) === dir)
            return new Set();
    }
});
export var makeFolders = (function (base, dir, created = []) {
    return promised((() => {
        let current = base;
        for (const part of relative(base, dir).split(sep).filter(Boolean)) {
            current = join(current, part);
            let info = lstatSyncOrNull(current);
            if (!info) {
                try {
                    Deno.mkdirSync(current, { mode: 0o755 });
                    created.push(current);
                }
                catch (error) {
                    if (!(error instanceof Deno.errors.AlreadyExists))
                        throw error;
                }
                info = Deno.lstatSync(current);
            }
            if (!info.isDirectory) {
                throw new Error(`"${current}" is ${kindOf(info)}, not a folder`);
            }
        }
    }));
});
var copyFile = (async function (input, output, size, signal) {
    try {
        const buffer = new Uint8Array(Math.min(SYNC_COPY_BYTES, Math.max(64 * 1024, size + 1)));
        let small = size <= SYNC_COPY_BYTES;
        let copied = 0;
        for (;;) {
            if (signal?.aborted)
                throw signal.reason;
            const read = small ? input.readSync(buffer) : await input.read(buffer);
            if (read === null)
                break;
            copied += read;
            if (copied > size)
                small = false;
            for (let written = 0; written < read;) {
                const part = buffer.subarray(written, read);
                written += small ? output.writeSync(part) : await output.write(part);
            }
        }
    }
    finally {
        input.close();
        output.close();
    }
});
var refusal = (function (refused) {
    const list = refused.map(((r) => `"${r.artifact}": ${r.why}`)).join("; ");
    return new ExecError(`Cannot move the script's outputs into the project: ${list}. Nothing was moved`, {
        hint: "Outputs must be regular files under the declared output paths, with names no tool " +
            "executes or trusts (declare a file's exact path to keep such a name); regenerate the " +
            "script with --refresh if it is wrong",
        details: { refused },
    });
});
export var copyOut = (async function (artifacts, options) {
    const { workdir, outputs } = options;
    const refused = [];
    const moves = [];
    const result = [];
    const seen = new Set();
    for (const reported of artifacts) {
        const refuse = ((why) => refused.push({ artifact: reported, why }));
        const dest = resolve(workdir, reported);
        const stage = outputs
            .filter(((o) => o.kind === "dir" ? isInside(dest, o.target) : dest === o.target))
            .sort(((a, b) => b.target.length - a.target.length))[0];
        if (!stage) {
            if ((options.inPlace ?? []).some(((dir) => isInside(dest, dir))))
                result.push(reported);
            else
                refuse("it is not under a declared output path");
            continue;
        }
        if (dest === stage.target && stage.kind === "dir") {
            refuse("it is the output folder itself, not a file in it");
            continue;
        }
        if (seen.has(dest))
            continue;
        seen.add(dest);
        const rel = relative(stage.target, dest);
        const source = stage.kind === "dir" ? join(stage.staging, rel) : stage.staging;
        if (!options.declared.includes(dest)) {
            const parts = rel.split(sep).filter(Boolean);
            const bad = parts.map(((part, i) => untrustedName(part, i === parts.length - 1 ? "file" : "folder"))).find(Boolean);
            if (bad) {
                refuse(bad);
                continue;
            }
        }
        if (!isInside(source, options.stagingRoot) || source === options.stagingRoot) {
            refuse("its staging copy is not in the run's temp dir");
            continue;
        }
        const chain = folderChainProblem(options.stagingRoot, source);
        if (chain) {
            refuse(chain);
            continue;
        }
        const info = await lstatOrNull(source);
        if (!info) {
            refuse("the script did not write it");
            continue;
        }
        if (!info.isFile || info.isSymlink) {
            refuse(`it is ${kindOf(info)}`);
            continue;
        }
        const destChain = folderChainProblem(workdir, dest);
        if (destChain) {
            refuse(destChain);
            continue;
        }
        const existing = await lstatOrNull(dest);
        if (existing && (!existing.isFile || existing.isSymlink)) {
            refuse(`the project already has ${kindOf(existing)} there`);
            continue;
        }
        moves.push({ reported, source, dest, info });
        result.push(isAbsolute(reported) ? dest : relative(workdir, dest));
    }
    const overwrites = [];
    for (const m of moves) {
        if (!options.declared.includes(m.dest) && await lstatOrNull(m.dest))
            overwrites.push(m);
    }
    const tracked = await (options.tracked ?? gitTracked)(workdir, overwrites.map(((m) => relative(workdir, m.dest))));
    for (const m of overwrites) {
        if (tracked.has(relative(workdir, m.dest))) {
            refused.push({
                artifact: m.reported,
                why: "it would overwrite a file git tracks, and it is not a declared output path",
            });
        }
    }
    if (refused.length > 0)
        throw refusal(refused);
    const created = [];
    const temps = [];
    const swept = new Set();
    try {
        for (const m of moves) {
            if (options.signal?.aborted)
                throw options.signal.reason;
            await makeFolders(workdir, dirname(m.dest), created);
            if (!swept.has(dirname(m.dest)))
                sweepTemps(dirname(m.dest));
            swept.add(dirname(m.dest));
            const temp = tempName(m.dest);
            const input = Deno.openSync(m.source, { read: true });
            let output;
            try {
                const opened = input.statSync();
                if (opened.ino !== m.info.ino || opened.dev !== m.info.dev || !opened.isFile) {
                    throw new Error(`"${m.reported}" changed while it was being moved`);
                }
                output = Deno.openSync(temp, { write: true, createNew: true, mode: 0o644 });
            }
            catch (error) {
                input.close();
                throw error;
            }
            temps.push({ temp, dest: m.dest });
            await copyFile(input, output, m.info.size, options.signal);
        }
        if (options.signal?.aborted)
            throw options.signal.reason;
        for (const { temp, dest } of temps)
            Deno.renameSync(temp, dest);
    }
    catch (error) {
        for (const { temp } of temps)
            await Deno.remove(temp).catch((() => { }));
        for (const dir of created.reverse())
            await Deno.remove(dir).catch((() => { }));
        if (error instanceof ExecError)
            throw error;
        throw new ExecError(`Cannot move the script's outputs into the project: ${error instanceof Error ? error.message : String(error)}`, { cause: error, hint: "Check the output folders; nothing was moved" });
    }
    return result;
});
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "../_path.js";
import { isInside, LEFT_PROBE, lstatOrNull, lstatSyncOrNull, pidNamespace, promised, reopenFolders, staleEntries, } from "../_fs.js";
import { DEFAULT_PATH } from "../_which.js";
import { ExecError } from "../errors.js";
import { execCommand } from "../exec.js";
import { onTimeout, sleep } from "../_timer.js";
import { readStream, TooLarge } from "../_body.js";
export const SHELL_RC_FILES = [
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".zlogin",
    ".zlogout",
    ".kshrc",
    ".cshrc",
    ".tcshrc",
    ".inputrc",
    ".envrc",
];
export const UNTRUSTED_NAMES = [
    "sitecustomize.py",
    "usercustomize.py",
    "conftest.py",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "pytest.ini",
    "tox.ini",
    "noxfile.py",
    "mypy.ini",
    "pylintrc.toml",
    "package.json5",
    "project.json",
    "build.ninja",
    "gems.rb",
    "uv.toml",
    "poetry.toml",
    "pdm.toml",
    "hatch.toml",
    "pixi.toml",
    "pip.conf",
    "pip.ini",
    "pydistutils.cfg",
    "pyvenv.cfg",
    "pyrightconfig.json",
    "ruff.toml",
    "__main__.py",
    "__pycache__",
    "conf.py",
    "mkdocs.yml",
    "mkdocs.yaml",
    "pelicanconf.py",
    "publishconf.py",
    "fabfile.py",
    "tasks.py",
    "dodo.py",
    "pavement.py",
    "environment.yml",
    "environment.yaml",
    "conanfile.py",
    "conanfile.txt",
    "package.json",
    "node_modules",
    "tsconfig.json",
    "jsconfig.json",
    "deno.json",
    "deno.jsonc",
    "bunfig.toml",
    "pnpm-workspace.yaml",
    "pnpm-lock.yaml",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpmfile.js",
    "pnpmfile.cjs",
    "lerna.json",
    "nx.json",
    "turbo.json",
    "rush.json",
    "babel.config.json",
    "jest.config.json",
    "nodemon.json",
    "tslint.json",
    "biome.json",
    "biome.jsonc",
    "dprint.json",
    "cypress.json",
    "firebase.json",
    "vercel.json",
    "netlify.toml",
    "wrangler.toml",
    "wrangler.json",
    "wrangler.jsonc",
    "ember-cli-build.js",
    "config.ru",
    "rakefile.rb",
    "rakelib",
    "mix.exs",
    "rebar.config",
    "rebar.config.script",
    "elvis.config",
    "stack.yaml",
    "cabal.project",
    "cabal.project.local",
    "cabal.config",
    "hie.yaml",
    "package.yaml",
    "setup.hs",
    "setup.lhs",
    "dune-project",
    "dune-workspace",
    "go.mod",
    "go.sum",
    "go.work",
    "go.work.sum",
    "cargo.toml",
    "build.rs",
    "rust-toolchain.toml",
    "rustfmt.toml",
    "clippy.toml",
    "deny.toml",
    "cross.toml",
    "makefile.toml",
    "trunk.toml",
    "build.zig",
    "build.zig.zon",
    "composer.json",
    "phpunit.xml",
    "phpunit.xml.dist",
    "phpstan.neon",
    "phpstan.neon.dist",
    "psalm.xml",
    "php.ini",
    "rector.php",
    "ecs.php",
    "deploy.php",
    "robofile.php",
    "makefile.pl",
    "build.pl",
    "dist.ini",
    "cpanfile.snapshot",
    "_targets.r",
    "_drake.r",
    "_quarto.yml",
    "_quarto.yaml",
    "_metadata.yml",
    "_bookdown.yml",
    "_site.yml",
    "_pkgdown.yml",
    "_config.yml",
    "project.toml",
    "manifest.toml",
    "juliaproject.toml",
    "juliamanifest.toml",
    "localpreferences.toml",
    "config.nims",
    "nim.cfg",
    "package.swift",
    "package.resolved",
    "pubspec.yaml",
    "analysis_options.yaml",
    "build.yaml",
    "dub.json",
    "dub.sdl",
    "shard.yml",
    "fpm.toml",
    "cmakelists.txt",
    "cmakepresets.json",
    "cmakeuserpresets.json",
    "meson.build",
    "meson.options",
    "meson_options.txt",
    "configure.ac",
    "configure.in",
    "makefile.am",
    "makefile.in",
    "vcpkg.json",
    "vcpkg-configuration.json",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "gradle.properties",
    "gradle-wrapper.properties",
    "gradle-wrapper.jar",
    "gradlew.bat",
    "pom.xml",
    "mvnw.cmd",
    "maven-wrapper.properties",
    "build.xml",
    "build.sbt",
    "build.sc",
    "build.mill",
    "project.clj",
    "deps.edn",
    "bb.edn",
    "shadow-cljs.edn",
    "build.boot",
    "nuget.config",
    "global.json",
    "dotnet-tools.json",
    "directory.build.props",
    "directory.build.targets",
    "directory.build.rsp",
    "directory.packages.props",
    "directory.solution.props",
    "directory.solution.targets",
    "msbuild.rsp",
    "module.bazel",
    "workspace.bazel",
    "workspace.bzlmod",
    "build.bazel",
    "pants.toml",
    "taskfile.yml",
    "taskfile.yaml",
    "taskfile.dist.yml",
    "taskfile.dist.yaml",
    "mise",
    "magefile.go",
    "shell.nix",
    "default.nix",
    "flake.nix",
    "devenv.nix",
    "devenv.yaml",
    "devbox.json",
    "skaffold.yaml",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    "bitbucket-pipelines.yml",
    "appveyor.yml",
    "cloudbuild.yaml",
    "cloudbuild.yml",
    "buildspec.yml",
    "buildspec.yaml",
    "codemagic.yaml",
    "bitrise.yml",
    "desktop.ini",
    "autorun.inf",
];
export const UNTRUSTED_PATTERNS = [
    /\.app$/i,
    /^(?:build|buck)\.(?:bazel|plz|pants|v2)$/i,
    /\.conf(?:ig)?(?:\.[\w-]+)*\.[cm]?[jt]sx?$/i,
    /^(?:gruntfile|gulpfile|jakefile|brocfile|vitest\.workspace|(?:docker|container)file)\./i,
    /\.lock(?:b|file)?$/i,
    /\.pth$/i,
    /\.py[co]$/i,
    /(?:^|\.)conf\.py$/i,
    /^ipython_(?:kernel_)?config\.py$/i,
    /^jupyter_.*config\.(py|json)$/i,
    /\.(?:cs|fs|vb|vcx|sql|esproj|njs|wix|sh)?proj$/i,
    /\.slnx?$/i,
    /\.gradle(?:\.kts)?$/i,
    /\.sbt$/i,
    /\.gemspec$/i,
    /\.cabal$/i,
    /\.opam$/i,
    /\.nim(?:ble|s)$/i,
    /\.rockspec$/i,
    /^mise\.[\w.-]*toml$/i,
    /^(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$/i,
    /^lefthook(?:-local)?\.(?:ya?ml|json|toml)$/i,
    /\.code-workspace$/i,
    /\.sublime-project$/i,
    /\.desktop$/i,
    /\.(?:exe|bat|cmd|dll|scr|pif|cpl|lnk|url|scf|library-ms|searchconnector-ms)$/i,
];
const UNTRUSTED = new Set(UNTRUSTED_NAMES.map(((name) => name.toLowerCase())));
export const CODE_EXTENSIONS = new Set([
    "py",
    "pyw",
    "pyi",
    "pyx",
    "pxd",
    "pyz",
    "ipynb",
    "ts",
    "tsx",
    "mts",
    "cts",
    "js",
    "jsx",
    "mjs",
    "cjs",
    "coffee",
    "svelte",
    "vue",
    "sh",
    "bash",
    "zsh",
    "ksh",
    "csh",
    "tcsh",
    "fish",
    "command",
    "ps1",
    "psm1",
    "psd1",
    "bat",
    "cmd",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "msc",
    "rb",
    "rake",
    "thor",
    "ru",
    "pl",
    "pm",
    "t",
    "php",
    "phar",
    "phtml",
    "go",
    "lua",
    "r",
    "jl",
    "ex",
    "exs",
    "erl",
    "groovy",
    "gvy",
    "kts",
    "sc",
    "scala",
    "swift",
    "tcl",
    "awk",
    "el",
    "vim",
    "nu",
    "raku",
    "rakumod",
    "hx",
    "dart",
    "clj",
    "cljs",
    "cljc",
    "bb",
    "so",
    "pyd",
    "dylib",
    "com",
    "jar",
    "hta",
    "msi",
    "reg",
    "inf",
    "application",
    "appref-ms",
    "settingcontent-ms",
    "terminal",
    "fileloc",
    "scpt",
    "workflow",
    "mk",
    "cmake",
    "bzl",
    "star",
    "nix",
    "ninja",
    "cs",
    "java",
    "kt",
    "rs",
    "cr",
]);
;
;
export const DEFAULT_STAGING_LIMITS = {
    bytes: 1024 ** 3,
    files: 10_000,
};
;
;
;
;
;
;
;
;
export const HELD_LOOK_BUDGET = 100_000;
export const HELD_MAPS_BYTES_BUDGET = 32 * 1024 ** 2;
const HELD_LOOKS_PER_TURN = 1_000;
;
;
;
const LEFT_TEMP = /^\..+\.capibara-(\d+)-ns(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
;
;
;
;
;
const SYNC_COPY_BYTES = 1024 * 1024;
;
;
;
