// Generated from src/sandbox/policy.ts by scripts/build_js.ts (sha256 a09a7851a36c1d5b6de4c27fdcf16a58ebf1a6ffdc2d3824c4584d789d693082): do not edit; `deno task build:js` writes it.
export var checkOutputFolder = (function (folder, roots, what) {
    const refuse = ((why) => new ValidationError(`${what} cannot be an output: ${why}`, {
        hint: "Name an output inside a sub-folder of the project, e.g. out/report.json",
        details: { path: folder },
    }));
    if (roots.some(((root) => isInside(root, folder)))) {
        throw refuse(`its folder "${folder}" is (or holds) the project itself`);
    }
    const base = roots.find(((root) => isInside(folder, root))) ?? roots[0] ?? "/";
    for (const part of relative(base, folder).split(sep)) {
        if (NEVER_OUTPUT.includes(part.toLowerCase()))
            throw refuse(`it lies in ${part}/`);
    }
    const held = entriesNamed(folder, NEVER_OUTPUT)[0];
    if (held)
        throw refuse(`its folder holds ${basename(held)}/`);
});
export var isOutputKey = (function (key) {
    return keyWords(key).some(((word) => OUTPUT_WORDS.has(word)));
});
var keyWords = (function (key) {
    return key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[\s_\-.]+/);
});
export var isInputKey = (function (key) {
    return keyWords(key).some(((word) => INPUT_WORDS.has(word)));
});
export var mergeGrants = (function (...sources) {
    const merged = {
        network: [],
        privateNetwork: [],
        env: [],
        read: [],
        write: [],
    };
    for (const source of sources) {
        if (!source)
            continue;
        for (const key of ["network", "privateNetwork", "env", "read", "write"]) {
            for (const value of source[key] ?? []) {
                const v = value.trim();
                if (v !== "" && !merged[key].includes(v))
                    merged[key].push(v);
            }
        }
    }
    const { privateNetwork, ...grants } = merged;
    return privateNetwork.length > 0 ? { ...grants, privateNetwork } : grants;
});
export var grantProblem = (function (kind, grant) {
    if (typeof grant !== "string")
        return "it is not a string";
    const text = grant.trim();
    if (text === "")
        return "it is empty";
    if (kind === "network" || kind === "privateNetwork") {
        const parsed = parseHostRule(text);
        if (!parsed.ok)
            return parsed.reason;
        if (kind === "privateNetwork" && parsed.rule.kind === "wildcard") {
            return "it is a wildcard (a private network grant names one host exactly)";
        }
        return undefined;
    }
    if (kind === "env")
        return ENV_NAME.test(text) ? undefined : "it is not a variable's name";
    return text.includes("\0") ? "it holds a NUL byte" : undefined;
});
export var privateNetworkRules = (function (grants) {
    const list = grants.privateNetwork ?? [];
    for (const rule of list) {
        const problem = grantProblem("privateNetwork", rule);
        if (problem === undefined)
            continue;
        throw new ValidationError(`Cannot use private network grant ${JSON.stringify(rule)}: ${problem}`, {
            hint: "Name the address (and port) exactly, e.g. --allow-private-net 10.0.0.5:5432",
            details: { rule },
        });
    }
    return [...list];
});
var looksLikePath = (function (value) {
    if (URL_LIKE.test(value) || value.includes("\n"))
        return false;
    return isAbsolute(value) || value.startsWith("~") || value.startsWith(".") ||
        value.includes("/") || value.includes("\\") ||
        /^[^\s]+\.[A-Za-z0-9]{1,8}$/.test(value);
});
var unresolvable = (function (error) {
    if (error instanceof Deno.errors.NotADirectory)
        return "a part of it is a file, not a folder";
    if (error instanceof Deno.errors.PermissionDenied)
        return "a folder on its way cannot be read";
    if (error instanceof Deno.errors.FilesystemLoop)
        return "its symlinks lead round in a loop";
    return error instanceof Error ? error.message : String(error);
});
export var resolveInside = (function (value, workdir, what) {
    const realWorkdir = Deno.realPathSync(workdir);
    const refuse = ((why) => new ValidationError(`${what} "${value}" ${why}`, {
        hint: "Paths in the context must stay inside the working directory " +
            `(${workdir}): copy or move the file into it, or run from a folder that contains ` +
            "both the project and the file",
        details: { path: value },
    }));
    if (value.startsWith("~"))
        throw refuse("points into a home directory");
    const absolute = resolve(workdir, value);
    if (!isInside(absolute, resolve(workdir))) {
        throw refuse(isAbsolute(value) ? "is outside the working directory" : "leaves the working directory");
    }
    let real;
    try {
        real = realPathLooseSync(absolute, workdir);
    }
    catch (error) {
        throw new ValidationError(`${what} "${value}" cannot be used: ${unresolvable(error)}`, {
            cause: error,
            hint: UNRESOLVABLE_HINT,
            details: { path: value },
        });
    }
    if (!isInside(real, realWorkdir)) {
        throw refuse("is a symlink that leads out of the working directory");
    }
    return real;
});
var linkedInput = (function (real, realWorkdir, what, named = real) {
    const hidden = ((path) => relative(realWorkdir, path).split(sep).some(((part) => part.startsWith("."))));
    const into = isInside(realWorkdir, real)
        ? "the working directory itself"
        : NEVER_OUTPUT.find(((name) => isInside(real, join(realWorkdir, name)))) ??
            (hidden(real) && !hidden(named) ? "a hidden file" : undefined);
    if (into === undefined)
        return;
    throw new ValidationError(`${what} leads through a symlink to ${into === "the working directory itself" || into === "a hidden file"
        ? into
        : `the project's ${into}/`}`, {
        hint: "Name the files the script needs, not a link to the whole project or its " +
            "repository; a link a repository brings must not widen what a script reads",
        details: { path: real },
    });
});
export var contextPaths = (async function (context, workdir, options = {}) {
    const read = new Set();
    const write = new Set();
    const outputs = new Set();
    const realWorkdir = Deno.realPathSync(workdir);
    let named = 0;
    async function visit(value, keyPath, output, input = false) {
        if (typeof value === "string") {
            if (!looksLikePath(value))
                return;
            if (value.length > 4096 || value.split("/").length > MAX_PATH_PARTS) {
                throw new ValidationError(`Context value ${keyPath} is a path of more than ${MAX_PATH_PARTS} parts or 4,096 ` +
                    "characters, which no file of the project has", { hint: "Name a file or folder of the project by its path from the working directory" });
            }
            if (++named > MAX_CONTEXT_PATHS) {
                throw new ValidationError(`The context names more than ${MAX_CONTEXT_PATHS} paths: each is resolved, checked and ` +
                    "shown to the script on its own", {
                    hint: "Name the folder that holds them (one input, or one output folder) instead " +
                        "of each file",
                    details: { max: MAX_CONTEXT_PATHS },
                });
            }
            const real = resolveInside(value, workdir, `Context value ${keyPath}`);
            let stat;
            try {
                stat = Deno.statSync(real);
            }
            catch {
                stat = undefined;
            }
            const asNamed = join(realWorkdir, relative(resolve(workdir), resolve(workdir, value)));
            if (output) {
                const what = `Context value ${keyPath} ("${value}")`;
                if (asNamed !== real) {
                    const target = relative(realWorkdir, real) || ".";
                    throw new ValidationError(`${what} leads through a symlink to "${target}": an output is written only where ` +
                        "its path names, never through a link", {
                        hint: `Name the real path ("${target}") if that is where the output goes, or ` +
                            "remove the link; a link a repository brings must not move what a script writes",
                        details: { path: value, real: target },
                    });
                }
                const folder = stat?.isDirectory || value.endsWith("/") ? real : dirname(real);
                if (folder !== real && folder === realWorkdir) {
                    if (stat && !stat.isFile) {
                        throw new ValidationError(`${what} cannot be an output: it is not a regular file`);
                    }
                    if (NEVER_OUTPUT.includes(basename(real).toLowerCase())) {
                        throw new ValidationError(`${what} cannot be an output: it is ${basename(real)}`);
                    }
                }
                else {
                    checkOutputFolder(folder, [realWorkdir], what);
                }
                write.add(folder);
                outputs.add(real);
            }
            else if (stat) {
                read.add(real);
                if (asNamed !== real) {
                    linkedInput(real, realWorkdir, `Context value ${keyPath} ("${value}")`, asNamed);
                    read.add(asNamed);
                }
            }
            else if (input && options.requireInputs) {
                throw new ValidationError(`Context value ${keyPath} ("${value}") does not exist`, {
                    hint: `Check the path: inputs are read relative to ${workdir}`,
                    details: { path: value },
                });
            }
            return;
        }
        if (Array.isArray(value)) {
            for (const [i, item] of value.entries()) {
                await visit(item, `${keyPath}[${i}]`, output, input);
            }
            return;
        }
        if (value !== null && typeof value === "object") {
            for (const [key, item] of Object.entries(value)) {
                const isOutput = output || isOutputKey(key);
                await visit(item, keyPath ? `${keyPath}.${key}` : key, isOutput, !isOutput && (input || isInputKey(key)));
            }
        }
    }
    await visit(context, "", false);
    return { read: [...read], write: [...write], outputs: [...outputs] };
});
export var requestedAllow = (function (needs, paths, workdir) {
    const rel = ((p) => relative(workdir, p) || ".");
    return {
        network: [...needs.network],
        env: [...needs.env],
        fs: { read: paths.read.map(rel), write: paths.write.map(rel) },
    };
});
var networkFlag = (function (need) {
    const parsed = parseHostRule(need);
    const special = parsed.ok && parsed.rule.kind === "address" && !isPublicAddress(parsed.rule.host);
    return special ? "--allow-private-net" : "--allow-net";
});
var shownHost = (function (text) {
    if (/^[\x20-\x7e]*$/.test(text))
        return text;
    const parsed = parseHostRule(text);
    if (!parsed.ok)
        return text;
    const { kind, host } = parsed.rule;
    return `${text} (that is ${kind === "wildcard" ? "*." : ""}${host}, not ASCII as written)`;
});
export var effectiveAllow = (function (needs, grants, paths, workdir) {
    const missing = [];
    const network = [...grants.network, ...privateNetworkRules(grants)];
    for (const host of needs.network) {
        if (!hostGranted(host, network))
            missing.push(`${networkFlag(host)} ${host}`);
    }
    for (const name of needs.env) {
        if (!grants.env.includes(name))
            missing.push(`--allow-env ${name}`);
    }
    if (missing.length > 0) {
        const what = [
            ...needs.network.filter(((h) => !hostGranted(h, network))).map(((h) => `network access to ${shownHost(h)}`)),
            ...needs.env.filter(((n) => !grants.env.includes(n))).map(((n) => `the environment variable ${n}`)),
        ];
        throw new PermissionError(`The script needs ${what.join(" and ")}, which was not granted`, {
            hint: `Review the script, then add ${missing.join(" ")} ` +
                `(or list it under "allow" in .capibara/config.json)`,
            details: { missing },
        });
    }
    const rel = ((p) => relative(workdir, p) || ".");
    return {
        network: [...needs.network],
        env: [...needs.env],
        fs: {
            read: [...paths.read.map(rel), ...grants.read],
            write: [...paths.write.map(rel), ...grants.write],
        },
    };
});
export var resolveGrantedPaths = (async function (paths, workdir) {
    const out = [];
    for (const p of paths) {
        const absolute = resolve(workdir, p);
        try {
            out.push(await realPathLoose(absolute));
        }
        catch (error) {
            throw new ValidationError(`Granted path "${p}" cannot be used: ${unresolvable(error)}`, {
                cause: error,
                hint: UNRESOLVABLE_HINT,
                details: { path: p },
            });
        }
    }
    return out;
});
export var checkProjectPaths = (async function (paths, workdir, root) {
    if (paths.read.length === 0 && paths.write.length === 0)
        return;
    const project = await realPathLoose(root);
    for (const path of [...paths.read, ...paths.write]) {
        const absolute = resolve(workdir, path.trim());
        if (!isInside(absolute, project) && !isInside(absolute, root))
            continue;
        const real = await realPathLoose(absolute);
        if (!isInside(real, project)) {
            throw new ValidationError(`.capibara/config.json grants "${path}", which leads out of the project to "${real}"`, {
                hint: "A repository's grant stays inside it: remove the link, or grant the place " +
                    "yourself: --allow-read <path> or --allow-write <path>",
            });
        }
    }
});
export var protectedPaths = (function (roots, writeDirs, held = []) {
    const existing = new Set();
    for (const dir of new Set([...roots, ...writeDirs])) {
        for (const path of entriesNamed(dir, [".capibara", ".git", ...SHELL_RC_FILES])) {
            existing.add(realPathSyncOrNull(path) ?? path);
        }
    }
    for (const path of held)
        existing.add(path);
    return [...existing].sort();
});
export var plantablePaths = (function (policy) {
    if (policy.write.length === 0)
        return [];
    const folders = new Set(policy.write);
    const top = policy.write.filter(((dir) => isInside(policy.workdir, dir)))
        .sort(((a, b) => a.length - b.length))[0];
    if (top !== undefined) {
        for (let dir = policy.workdir; isInside(dir, top); dir = dirname(dir)) {
            folders.add(dir);
            if (dir === top)
                break;
        }
    }
    const out = [];
    for (const folder of folders) {
        for (const name of TRUSTED_NAMES) {
            const path = join(folder, name);
            if (lstatSyncOrNull(path) === null)
                out.push(path);
        }
    }
    return out;
});
export var checkUnplanted = (function (absent) {
    const moved = [];
    const stamp = Date.now();
    for (const path of absent) {
        if (lstatSyncOrNull(path) === null)
            continue;
        const aside = `${path}.made-by-a-run-${stamp}`;
        try {
            Deno.renameSync(path, aside);
            moved.push(`${path} (now ${basename(aside)})`);
        }
        catch {
            moved.push(`${path} (could not be moved: remove it)`);
        }
    }
    if (moved.length === 0)
        return;
    throw new PermissionError(`The script made what later commands trust, in a folder it could write: ${moved.join(", ")}`, {
        hint: "A .git there would run its settings on your next git command there, a .capibara " +
            "would be taken for the store, a shell file would run in your shell: review the script " +
            "(capibara show), and delete what was moved aside",
        details: { paths: [...absent].filter(((p) => moved.some(((m) => m.startsWith(p))))) },
    });
});
export var checkMadeInPlace = (function (changed, places, declared, protect, since) {
    const roots = [...places.outputs, ...places.grants];
    const found = new Map();
    const hidden = [];
    for (const { path, opaque } of changed) {
        if (opaque) {
            if (protect.some(((kept) => isInside(path, kept) || isInside(kept, path))))
                continue;
            if (roots.includes(path))
                hidden.push(path);
            else {
                found.set(path, `"${basename(path)}" is a folder the run changed whose entries cannot be looked at ` +
                    "(closed, or another user's)");
            }
            continue;
        }
        if (declared.includes(path))
            continue;
        const root = roots.filter(((dir) => isInside(path, dir) && path !== dir))
            .sort(((a, b) => b.length - a.length))[0];
        if (root === undefined)
            continue;
        const granted = !places.outputs.includes(root);
        const parts = path.slice(root.length).split("/").filter(((part) => part !== ""));
        let at = root;
        for (const [i, part] of parts.entries()) {
            at = join(at, part);
            if (protect.some(((kept) => isInside(at, kept))))
                break;
            if (protect.some(((kept) => isInside(kept, at))))
                continue;
            const last = i === parts.length - 1;
            const info = last ? lstatSyncOrNull(at) : null;
            const kind = last && !info?.isDirectory ? "file" : "folder";
            const why = granted ? repositoryName(part, kind) : untrustedName(part, kind);
            if (why === undefined)
                continue;
            if (!declared.includes(at) && !found.has(at))
                found.set(at, why);
            break;
        }
    }
    if (found.size === 0 && hidden.length === 0)
        return;
    const tops = [...found.keys()].filter(((path) => ![...found.keys()].some(((other) => other !== path && isInside(path, other)))));
    const stamp = Date.now();
    const named = hidden.map(((path) => `${path} (the folder itself, whose entries cannot be looked at: open it and look)`));
    for (const path of tops) {
        const info = lstatSyncOrNull(path);
        if (info === null)
            continue;
        const born = info.birthtime?.getTime();
        const linked = info.isFile && (info.nlink ?? 1) > 1;
        if (born === undefined && !linked) {
            named.push(`${path} (made or changed by the run: remove it if it is not yours)`);
            continue;
        }
        if (born !== undefined && born < since && !linked) {
            named.push(`${path} (it was there before the run, which changed it)`);
            continue;
        }
        const aside = `${path}.made-by-a-run-${stamp}`;
        try {
            Deno.renameSync(path, aside);
            named.push(`${path} (now ${basename(aside)})`);
        }
        catch {
            named.push(`${path} (could not be moved: remove it)`);
        }
    }
    if (named.length === 0)
        return;
    throw new PermissionError(`The script made what tools execute or trust, in a folder it wrote in place: ${named.join(", ")}`, {
        hint: "A .git (or a folder shaped as a repository) there runs its settings on your next " +
            "git command there, and other names there run in the tools that find them: review the " +
            "script (capibara show), and delete what was moved aside; to keep such a name, declare " +
            "its exact path as an output",
        details: {
            paths: [...hidden, ...tops],
            reasons: [
                ...hidden.map((() => "its entries cannot be looked at")),
                ...tops.map(((path) => found.get(path))),
            ],
        },
    });
});
var repositoryName = (function (name, kind) {
    const folded = foldName(name);
    if (TRUSTED_NAMES.some(((trusted) => trusted.toLowerCase() === folded))) {
        return `"${name}" is a name that git, Capibara or a shell trusts`;
    }
    if (kind === "file" && ["head", "commondir", "gitdir"].includes(folded)) {
        return `"${name}" is a file git reads a repository from`;
    }
    return undefined;
});
export var closeToOthers = (async function (roots, since, onChanged) {
    if (Deno.build.os === "windows" || roots.length === 0)
        return [];
    const closed = [];
    const from = since - CHANGE_CLOCK_SLACK_MS;
    let fs;
    const close = (async (path, info, bits) => {
        fs ??= await import("node:fs");
        if (!closeEntry(fs, path, info, bits))
            return false;
        closed.push(path);
        return true;
    });
    const owners = new Set([Deno.uid() ?? -1, 0]);
    const seen = new Set();
    let visited = 0;
    const stack = [...roots].reverse()
        .map(((path) => ({ path, info: lstatSyncOrNull(path) })));
    while (stack.length > 0) {
        const { path, info } = stack.pop();
        if (++visited % WALK_ENTRIES_PER_TURN === 0)
            await sleep(0);
        if (!info || info.isSymlink)
            continue;
        const kinds = info.isFile || info.isDirectory || info.isFifo || info.isSocket;
        if (!kinds)
            continue;
        const changed = (info.ctime?.getTime() ?? Infinity) >= from;
        if (changed && onChanged !== undefined && !roots.includes(path))
            onChanged(path);
        const key = inodeOf(info);
        if (seen.has(key))
            continue;
        seen.add(key);
        const mode = info.mode ?? 0;
        let open = (mode & WRITE_OTHERS) !== 0;
        if (changed && open && await close(path, info, WRITE_OTHERS))
            open = false;
        if (!info.isDirectory)
            continue;
        if (!owners.has(info.uid ?? -1) || (open && (mode & STICKY) === 0)) {
            if (changed)
                onChanged?.(path, true);
            continue;
        }
        let names;
        try {
            names = [...Deno.readDirSync(path)].map(((entry) => entry.name));
        }
        catch {
            names = undefined;
        }
        let children;
        if (names !== undefined && namesReachable(path, names)) {
            children = [];
            for (const name of names) {
                const child = join(path, name);
                const found = lstatSyncOrNull(child);
                if (!found) {
                    children = undefined;
                    break;
                }
                children.push({ path: child, info: found });
            }
        }
        if (!children) {
            if (changed && (mode & ALL_OTHERS) !== 0)
                await close(path, info, ALL_OTHERS);
            if (changed && names === undefined)
                onChanged?.(path, true);
            else if (onChanged !== undefined && names !== undefined) {
                let folders = 0;
                let unnamed = false;
                const count = new Map();
                for (const name of names)
                    count.set(name, (count.get(name) ?? 0) + 1);
                for (const name of names) {
                    if (name.includes("\uFFFD") || count.get(name) > 1) {
                        unnamed = true;
                        continue;
                    }
                    const child = join(path, name);
                    const found = lstatSyncOrNull(child);
                    if (found?.isDirectory)
                        folders++;
                    if (found)
                        stack.push({ path: child, info: found });
                }
                if (changed && unnamed && info.nlink !== 2 + folders)
                    onChanged(path, true);
            }
            continue;
        }
        for (const child of children.reverse())
            stack.push(child);
    }
    return closed;
});
var closeEntry = (function (fs, path, info, bits) {
    const { O_CLOEXEC = 0, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = fs.constants;
    const ways = Deno.build.os === "linux" ? ["path", "read"] : ["read"];
    for (const way of ways) {
        let fd;
        try {
            fd = fs.openSync(path, (way === "path" ? O_PATH : O_RDONLY | O_NONBLOCK) | O_NOFOLLOW | O_CLOEXEC);
            const opened = fs.fstatSync(fd);
            if (opened.ino !== info.ino || opened.dev !== info.dev ||
                !(opened.isFile() || opened.isDirectory() || opened.isFIFO() || opened.isSocket()))
                return false;
            const mode = (opened.mode & 0o7777) & ~bits;
            if (way === "path")
                Deno.chmodSync(`/proc/self/fd/${fd}`, mode);
            else
                fs.fchmodSync(fd, mode);
            return true;
        }
        catch {
        }
        finally {
            if (fd !== undefined)
                fs.closeSync(fd);
        }
    }
    return false;
});
export var pinnedFolders = (function (protect, writable) {
    const pinned = new Set();
    for (const path of protect) {
        const top = writable.filter(((dir) => isInside(path, dir) && dir !== path))
            .sort(((a, b) => a.length - b.length))[0];
        if (top === undefined)
            continue;
        for (let dir = dirname(path); dir !== top && isInside(dir, top); dir = dirname(dir)) {
            pinned.add(dir);
        }
    }
    return [...pinned].sort();
});
var denoDir = (function (env) {
    return env.DENO_DIR || join(cacheHome(env), "deno");
});
var checkoutRoot = (function () {
    const code = new URL("../../", import.meta.url);
    return code.protocol === "file:" ? decodeURIComponent(code.pathname) : undefined;
});
export var homeFolders = (function (env) {
    const out = new Set();
    const uid = Deno.build.os === "windows" ? null : Deno.uid();
    for (const home of [
        env.HOME,
        Deno.env.get("HOME"),
        uid === null ? undefined : passwdHome({ uid }),
        env.SUDO_USER ? passwdHome({ name: env.SUDO_USER }) : undefined,
    ]) {
        if (home && home.startsWith("/") && home !== "/")
            out.add(home);
    }
    return [...out];
});
var pathFolders = (function (env, workdir, homes) {
    const out = new Set();
    for (const entry of new Set(pathEntries(env))) {
        let dirs;
        if (entry === "~" || entry.startsWith("~/"))
            dirs = homes.map(((h) => h + entry.slice(1)));
        else if (entry.startsWith("/"))
            dirs = [entry];
        else if (workdir !== undefined && entry !== "" && entry !== ".") {
            dirs = [resolve(workdir, entry)];
        }
        else
            continue;
        for (const dir of dirs) {
            if (dir === "/")
                continue;
            out.add(dir);
            const prefix = dirname(dir);
            if (prefix === "/")
                continue;
            if (basename(prefix) === "node_modules" || lstatSyncOrNull(join(prefix, "pyvenv.cfg"))) {
                out.add(prefix);
            }
        }
    }
    return [...out];
});
var pathEntries = (function (env) {
    return [env.PATH, Deno.env.get("PATH")].flatMap(((list) => list?.split(":") ?? []));
});
export var ownPaths = (function (cacheDir, env, workdir, homes = homeFolders(env)) {
    const paths = [
        cacheDir,
        denoDir(env),
        dirname(Deno.execPath()),
        ...pathFolders(env, workdir, homes),
    ];
    if (env.DENO_INSTALL_ROOT)
        paths.push(join(env.DENO_INSTALL_ROOT, "bin"));
    if (env.XDG_CONFIG_HOME)
        paths.push(env.XDG_CONFIG_HOME);
    if (env.XDG_DATA_HOME)
        paths.push(env.XDG_DATA_HOME);
    for (const home of homes) {
        paths.push(join(home, ".deno", "bin"), join(home, ".config"), join(home, ".local"), join(home, ".ssh"), join(home, ".gnupg"));
    }
    const root = checkoutRoot();
    if (root !== undefined) {
        for (const name of ["src", "lib", ...CODE_FILES])
            paths.push(join(root, name));
    }
    return paths;
});
export var enclosingFolders = (function (env, workdir, homes = homeFolders(env)) {
    const out = homes.map(((path) => ({ path, what: "your home folder" })));
    out.push({ path: tmpDir(), what: "the temp folder runs keep their state in" });
    const root = checkoutRoot();
    if (root !== undefined)
        out.push({ path: root, what: "the checkout Capibara runs from" });
    if (workdir !== undefined && pathEntries(env).some(((entry) => entry === "" || entry === "."))) {
        out.push({ path: workdir, what: "the working folder, which PATH names (.)" });
    }
    return out;
});
export var checkOwnPaths = (function (own, places) {
    if (places.granted.length === 0 && places.outputs.length === 0)
        return [];
    const held = new Set();
    const refuse = ((what, path, how, target) => new ValidationError(`${what} "${path}" ${how} "${target}", which no script may change`, {
        hint: "Grant or name a folder that neither holds nor lies in it: Capibara and the " +
            "programs you run later start from there (Capibara's and Deno's caches, the folders on " +
            "PATH with their environments, your settings and keys, the checkout Capibara runs from)",
        details: { path, reaches: target },
    }));
    for (const { path: folder, what } of places.enclosing ?? []) {
        const real = realPathSyncOrNull(folder) ?? resolve(folder);
        for (const path of places.granted) {
            if (isInside(real, path)) {
                throw refuse("The writable grant", path, `is or holds ${what}`, real);
            }
        }
    }
    for (const given of own) {
        const found = realPathSyncOrNull(given);
        const real = found ?? resolve(given);
        for (const path of places.granted) {
            if (isInside(path, real)) {
                throw refuse("The writable grant", path, path === real ? "is" : "lies in", real);
            }
            if (isInside(real, path)) {
                if (found === null) {
                    throw refuse("The writable grant", path, "holds the place, not made yet, of", real);
                }
                held.add(real);
            }
        }
        for (const path of places.outputs) {
            if (isInside(path, real) || isInside(real, path)) {
                throw refuse("The output folder", path, isInside(path, real) ? "lies in" : "holds", real);
            }
        }
        if (places.granted.length === 0)
            continue;
        let here = "/";
        for (const part of resolve(given).split("/").filter(Boolean)) {
            const next = here === "/" ? `/${part}` : `${here}/${part}`;
            const grant = places.granted.find(((dir) => isInside(next, dir) && next !== dir));
            if (grant !== undefined && lstatSyncOrNull(next)?.isSymlink === true) {
                throw refuse("The writable grant", grant, "holds a link on the way to", given);
            }
            here = realPathSyncOrNull(next) ?? next;
        }
    }
    return [...held];
});
export var checkArtifacts = (async function (artifacts, workdir, writeDirs) {
    const out = [];
    for (const artifact of artifacts) {
        const real = await realPathLoose(resolve(workdir, artifact));
        if (!writeDirs.some(((dir) => isInside(real, dir)))) {
            throw new ValidationError(`The script reported an artifact outside its outputs: "${artifact}"`, {
                hint: "Artifacts must be inside the output folders the context names; " +
                    "regenerate the script with --refresh if it is wrong",
                details: { artifact },
            });
        }
        out.push(artifact);
    }
    return out;
});
import { basename, cacheHome, dirname, isAbsolute, join, passwdHome, relative, resolve, sep, tmpDir, } from "../_path.js";
import { entriesNamed, inodeOf, isInside, lstatSyncOrNull, namesReachable, realPathLoose, realPathLooseSync, realPathSyncOrNull, } from "../_fs.js";
import { PermissionError, ValidationError } from "../errors.js";
import { sleep } from "../_timer.js";
import { foldName, SHELL_RC_FILES, untrustedName } from "./copy_out.js";
import { hostGranted, isPublicAddress, parseHostRule } from "./host_rules.js";
const NEVER_OUTPUT = [".git", ".capibara"];
;
const URL_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
const OUTPUT_WORDS = new Set([
    "out",
    "output",
    "outputs",
    "outfile",
    "outdir",
    "dest",
    "destination",
    "target",
    "save",
    "write",
    "export",
]);
;
;
const INPUT_WORDS = new Set([
    "in",
    "input",
    "inputs",
    "infile",
    "file",
    "files",
    "path",
    "paths",
    "src",
    "source",
    "sources",
]);
;
;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
;
;
;
;
const UNRESOLVABLE_HINT = "Check the path: each part but the last must be a folder you can read";
;
;
export const MAX_CONTEXT_PATHS = 1_000;
export const MAX_PATH_PARTS = 128;
;
;
;
;
;
;
;
;
const TRUSTED_NAMES = [".git", ".capibara", ...SHELL_RC_FILES];
;
;
;
;
const WALK_ENTRIES_PER_TURN = 2_000;
const O_PATH = 0o10000000;
const WRITE_OTHERS = 0o002;
const ALL_OTHERS = 0o007;
const STICKY = 0o1000;
const CHANGE_CLOCK_SLACK_MS = 2000;
;
;
;
;
const CODE_FILES = ["main.ts", "cli.ts", "deno.json", "deno.lock"];
;
;
;
;
;
;
;
;
