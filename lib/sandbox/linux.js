// Generated from src/sandbox/linux.ts by scripts/build_js.ts (sha256 dc8c80600990b6da5ec9b89763d8156b537725886ff301934cddb68fae8ccf71): do not edit; `deno task build:js` writes it.
var sandboxUmask = (function () {
    const own = /^Umask:\s*([0-7]+)$/m.exec(readTextSyncOrNull("/proc/self/status") ?? "")?.[1];
    const mask = own === undefined ? 0o022 : parseInt(own, 8);
    return (mask | 0o002).toString(8).padStart(4, "0");
});
var sandboxNofile = (function () {
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readTextSyncOrNull("/proc/self/limits") ?? "")?.[1];
    const value = hard === undefined || hard === "unlimited" ? Infinity : Number(hard);
    return String(Number.isFinite(value) ? Math.min(SANDBOX_NOFILE, value) : SANDBOX_NOFILE);
});
export var launchCommand = (function (launch) {
    const shell = [
        "/bin/sh",
        "-c",
        LAUNCH_SCRIPT,
        "capibara-sandbox",
        sandboxUmask(),
        sandboxNofile(),
        launch.seccompFile,
        ...launch.etcFiles,
        ...launch.held ? ["--held", launch.held.signFile] : [],
    ];
    if (!launch.drop) {
        const [program, ...args] = [...shell, ...launch.joinFiles, "--", ...launch.command];
        return { program: program, args };
    }
    const { drop, table } = launch.drop;
    return {
        program: drop.unshare,
        args: [
            "--mount",
            "--propagation",
            "private",
            "--",
            ...shell,
            "--mount",
            drop.mount,
            table,
            ...launch.joinFiles,
            "--",
            drop.setpriv,
            `--reuid=${drop.uid}`,
            `--regid=${drop.gid}`,
            "--clear-groups",
            "--",
            ...launch.command,
        ],
    };
});
export var seccompProgram = (function (arch = Deno.build.arch) {
    const encoded = SECCOMP_BPF[arch];
    if (encoded === undefined)
        return undefined;
    return Uint8Array.fromBase64(encoded);
});
var depth = (function (path) {
    return path.split("/").filter(Boolean).length;
});
var fstabField = (function (path) {
    let field = "";
    for (const byte of new TextEncoder().encode(path)) {
        const char = String.fromCharCode(byte);
        field += byte < 0x80 && FSTAB_PLAIN.test(char)
            ? char
            : "\\" + byte.toString(8).padStart(3, "0");
    }
    return field;
});
export var bindTable = (function (mounts) {
    return mounts.map((([source, point]) => `${fstabField(source)} ${fstabField(point)} none bind 0 0\n`))
        .join("");
});
var sandboxUidOf = (function (option) {
    if (option !== undefined)
        return option;
    let value;
    try {
        value = Deno.env.get("CAPIBARA_SANDBOX_UID");
    }
    catch {
        value = undefined;
    }
    if (value === undefined || value.trim() === "")
        return undefined;
    const uid = /^\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!(uid >= 0 && uid < 2 ** 32 - 1)) {
        throw new ValidationError(`Invalid CAPIBARA_SANDBOX_UID "${value.slice(0, 40)}"`, {
            hint: "Give the numeric host uid a root run's sandbox maps to (e.g. 65534), or unset it " +
                "for a new uid per run",
        });
    }
    return uid;
});
var runIdsMapped = (function () {
    return runIdsMappedMemo ??= ["uid_map", "gid_map"].every(((file) => {
        const text = readTextSyncOrNull(`/proc/self/${file}`);
        return text !== null && text.split("\n").some(((line) => {
            const [inside, , count] = line.trim().split(/\s+/).map(Number);
            return inside !== undefined && count !== undefined && inside <= RUN_IDS_START &&
                RUN_IDS_START + RUN_IDS_COUNT <= inside + count;
        }));
    })) && runIdsFree({
        passwd: readTextSyncOrNull("/etc/passwd") ?? "",
        group: readTextSyncOrNull("/etc/group") ?? "",
        subuid: readTextSyncOrNull("/etc/subuid") ?? "",
        subgid: readTextSyncOrNull("/etc/subgid") ?? "",
    });
});
export var runIdsFree = (function (files) {
    const end = RUN_IDS_START + RUN_IDS_COUNT;
    const overlaps = ((start, count) => Number.isFinite(start) && Number.isFinite(count) && start < end &&
        RUN_IDS_START < start + count);
    for (const text of [files.passwd, files.group]) {
        for (const line of text.split("\n")) {
            const id = Number(line.split(":")[2]);
            if (line.trim() !== "" && overlaps(id, 1))
                return false;
        }
    }
    for (const text of [files.subuid, files.subgid]) {
        for (const line of text.split("\n")) {
            const [, start, count] = line.trim().split(":");
            if (line.trim() !== "" && overlaps(Number(start), Number(count)))
                return false;
        }
    }
    return true;
});
var newRunId = (function () {
    return RUN_IDS_START + (crypto.getRandomValues(new Uint32Array(1))[0] % RUN_IDS_COUNT);
});
var readableBy = (function (path, uid, gid, needed) {
    let info;
    try {
        info = Deno.statSync(path);
    }
    catch {
        return true;
    }
    const mode = info.mode ?? 0;
    const bits = info.uid === uid ? mode >> 6 : info.gid === gid ? mode >> 3 : mode;
    const want = needed ?? (info.isDirectory ? 0o5 : 0o4);
    return (bits & want) === want;
});
var ownersOf = (function (root, uid, owners) {
    const info = lstatSyncOrNull(root);
    if (!info || info.isSymlink)
        return;
    owners.set(root, ownerToRecord(info, uid));
    if (!info.isDirectory)
        return;
    if (openToOthers(info)) {
        throw new LendError(`${root} is a folder others may write to (mode ${modeOf(info)})`);
    }
    for (const entry of Deno.readDirSync(root))
        ownersOf(`${root}/${entry.name}`, uid, owners);
});
var modeOf = (function (info) {
    return ((info.mode ?? 0) % 0o10000).toString(8).padStart(4, "0");
});
var openToOthers = (function (info) {
    const mode = info.mode ?? 0;
    return (mode & 0o022) !== 0 && (mode & 0o1000) === 0;
});
var checkLendable = (function (root, madeByRoot = false) {
    let entry = root;
    for (let dir = dirname(root);; dir = dirname(dir)) {
        const info = lstatSyncOrNull(dir);
        if (!info?.isDirectory)
            throw new LendError(`${dir} is not a folder Capibara can check`);
        if (info.uid !== 0)
            throw new LendError(`${dir} belongs to uid ${info.uid}`);
        const mode = info.mode ?? 0;
        if ((mode & 0o022) !== 0) {
            const sticky = (mode & 0o1000) !== 0;
            const rootsEntry = (entry === root && madeByRoot) || lstatSyncOrNull(entry)?.uid === 0;
            if (!sticky || !rootsEntry) {
                throw new LendError(`${dir} is a folder others may write to (mode ${modeOf(info)})`);
            }
        }
        if (dirname(dir) === dir)
            return;
        entry = dir;
    }
});
var ownIds = (function () {
    return { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
});
var ownerToRecord = (function (info, uid) {
    const owner = info.uid === uid ? ownIds() : { uid: info.uid ?? 0, gid: info.gid ?? 0 };
    return { ...owner, inode: inodeOf(info), mode: (info.mode ?? 0) & 0o7777 };
});
var lendTree = (function (fs, root, uid, gid, owners) {
    const info = lstatSyncOrNull(root);
    if (!info || info.isSymlink)
        return;
    owners.set(root, ownerToRecord(info, uid));
    if (!fs) {
        if (info.isDirectory) {
            for (const entry of Deno.readDirSync(root)) {
                lendTree(fs, `${root}/${entry.name}`, uid, gid, owners);
            }
        }
        Deno.chownSync(root, uid, gid);
        return;
    }
    if (!chownSame(fs, root, info, uid, gid)) {
        throw new LendError(`${root} changed while it was being lent`);
    }
    if (!info.isDirectory)
        return;
    if (openToOthers(info)) {
        throw new LendError(`${root} is a folder others may write to (mode ${modeOf(info)})`);
    }
    for (const entry of Deno.readDirSync(root)) {
        lendTree(fs, `${root}/${entry.name}`, uid, gid, owners);
    }
});
var chownSame = (function (fs, path, info, uid, gid) {
    try {
        fs.lchownSync(path, uid, gid);
    }
    catch {
        return null;
    }
    return stillThere(path, info);
});
var stillThere = (function (path, info) {
    const now = lstatSyncOrNull(path);
    return now !== null && !now.isSymlink && inodeOf(now) === inodeOf(info) ? now : null;
});
export var returnTree = (function (fs, root, owners, lentTo) {
    const rootOwner = owners.get(root);
    if (!rootOwner || lentTo === undefined)
        return;
    const self = ownIds();
    const byInode = new Map();
    for (const [path, { uid, gid, inode }] of owners) {
        if (inode)
            byInode.set(inode, { uid, gid, path });
    }
    const ownerOf = ((path, info, inherited) => {
        const inode = inodeOf(info);
        const recorded = owners.get(path);
        if (recorded && (recorded.inode === undefined || recorded.inode === inode))
            return recorded;
        const file = byInode.get(inode);
        if (file && (file.uid === self.uid || file.uid === 0))
            return { uid: file.uid, gid: file.gid };
        if (file && (info.nlink ?? 1) > 1) {
            const there = lstatSyncOrNull(file.path);
            if (there && !there.isSymlink && inodeOf(there) === inode)
                return file;
        }
        return inherited;
    });
    const order = [];
    const take = ((path, inherited) => {
        const info = lstatSyncOrNull(path);
        if (!info || info.isSymlink)
            return;
        if (info.uid !== lentTo)
            return;
        if (path === root && (rootOwner.inode === undefined || rootOwner.inode !== inodeOf(info))) {
            return;
        }
        const to = ownerOf(path, info, inherited);
        const taken = takeBack(fs, path, info, self);
        if (!taken)
            return;
        order.push([path, to]);
        const mode = (taken.mode ?? 0) & 0o7777;
        if (!info.isDirectory) {
            if ((mode & 0o002) !== 0) {
                try {
                    Deno.chmodSync(path, mode & 0o775);
                }
                catch {
                }
            }
            return;
        }
        const closing = owners.has(path) ? 0o022 : 0o2022;
        if ((mode & closing) !== 0) {
            try {
                Deno.chmodSync(path, mode & ~closing);
            }
            catch {
                return;
            }
        }
        let entries = [];
        try {
            entries = [...Deno.readDirSync(path)];
        }
        catch {
            return;
        }
        if (!namesReachable(path, entries.map(((entry) => entry.name)))) {
            try {
                Deno.chmodSync(path, (mode & ~closing) & ~0o077);
            }
            catch {
            }
        }
        for (const entry of entries)
            take(`${path}/${entry.name}`, to);
    });
    take(root, rootOwner);
    for (const [path, to] of order.reverse()) {
        const info = lstatSyncOrNull(path);
        if (!info || info.isSymlink)
            continue;
        const recorded = owners.get(path);
        const shared = info.isDirectory && recorded?.mode !== undefined &&
            recorded.inode === inodeOf(info) && (recorded.mode & 0o1000) !== 0 &&
            (recorded.mode & 0o022) !== 0;
        if (to.uid !== self.uid || to.gid !== self.gid) {
            try {
                Deno.chownSync(path, to.uid, to.gid);
            }
            catch {
                continue;
            }
        }
        if (shared) {
            try {
                Deno.chmodSync(path, recorded.mode);
            }
            catch {
            }
        }
    }
});
var takeBack = (function (fs, path, info, self) {
    if (fs)
        return chownSame(fs, path, info, self.uid, self.gid);
    try {
        Deno.chownSync(path, self.uid, self.gid);
    }
    catch {
        return null;
    }
    return stillThere(path, info);
});
var closedError = (function (path, uid, why) {
    return new PermissionError(`Cannot let the sandbox read "${path}": only root may read it, and the sandbox runs as ` +
        `uid ${uid}, never as root (${why})`, {
        hint: `Make it readable to others (chmod o+rX "${path}"), or move what the script needs ` +
            "into a folder others may read",
        details: { path },
    });
});
var copyClosed = (async function (source, target, drop, budget, shown) {
    const info = await lstatOrNull(source);
    if (!info)
        return;
    if (++budget.files > MAX_COPY_FILES) {
        throw closedError(shown, drop.uid, `more than ${MAX_COPY_FILES} files to copy`);
    }
    if (info.isSymlink) {
        await Deno.symlink(await Deno.readLink(source), target);
        return;
    }
    if (info.isDirectory) {
        await Deno.mkdir(target, { mode: 0o500 });
        for await (const entry of Deno.readDir(source)) {
            await copyClosed(`${source}/${entry.name}`, `${target}/${entry.name}`, drop, budget, shown);
        }
    }
    else if (info.isFile) {
        using file = await Deno.open(source, { read: true });
        const opened = await file.stat();
        if (!opened.isFile || opened.ino !== info.ino || opened.dev !== info.dev) {
            throw closedError(shown, drop.uid, "it changed while it was copied");
        }
        budget.bytes += opened.size;
        if (budget.bytes > MAX_COPY_BYTES) {
            throw closedError(shown, drop.uid, `more than ${MAX_COPY_BYTES >> 20} MiB to copy`);
        }
        using out = await Deno.open(target, { write: true, createNew: true, mode: 0o400 });
        let left = opened.size;
        const buffer = new Uint8Array(1 << 16);
        while (left > 0) {
            const n = await file.read(buffer.subarray(0, Math.min(buffer.length, left)));
            if (n === null)
                break;
            let written = 0;
            while (written < n)
                written += await out.write(buffer.subarray(written, n));
            left -= n;
        }
    }
    else {
        return;
    }
    await Deno.chown(target, drop.uid, drop.gid);
    await Deno.chmod(target, info.isDirectory ? 0o500 : 0o400);
});
var substituteClosed = (async function (policy, drop, stateDir, substitutes) {
    const budget = { bytes: 0, files: 0 };
    const copies = `${stateDir}/copies`;
    if (drop) {
        for (const path of policy.read) {
            const real = realPathSyncOrNull(path);
            if (real === null || readableBy(real, drop.uid, drop.gid))
                continue;
            refuseHidden(path, true);
            if (substitutes.size === 0)
                Deno.mkdirSync(copies, { mode: 0o711 });
            const copy = `${copies}/${substitutes.size}`;
            await copyClosed(real, copy, drop, budget, path);
            substitutes.set(path, copy);
        }
    }
    const workdir = realPathSyncOrNull(policy.workdir);
    if (workdir === null)
        return;
    const inside = [
        ...policy.read.map(((path) => ({ path, source: substitutes.get(path) ?? path }))),
        ...[...policy.write, policy.tmpDir].map(((path) => ({ path, source: path }))),
        ...(policy.stage ?? []).map((({ source, target }) => ({ path: target, source }))),
    ].filter((({ path }) => isInside(path, policy.workdir) && path !== policy.workdir));
    const granted = [...policy.read, ...policy.write, policy.tmpDir].some(((path) => isInside(policy.workdir, path)));
    let closed = !granted || (drop !== undefined && !readableBy(workdir, drop.uid, drop.gid));
    for (const { path } of inside) {
        if (closed || !drop)
            break;
        for (let dir = dirname(path); dir !== policy.workdir && isInside(dir, policy.workdir);) {
            if (!readableBy(dir, drop.uid, drop.gid, 0o1)) {
                closed = true;
                break;
            }
            dir = dirname(dir);
        }
    }
    if (!closed || substitutes.has(policy.workdir))
        return;
    const hidden = `${stateDir}/skeleton`;
    Deno.mkdirSync(hidden, { mode: 0o700 });
    Deno.chmodSync(hidden, 0o700);
    const empty = `${hidden}/workdir`;
    const openFolder = ((dir) => {
        if (lstatSyncOrNull(dir))
            return;
        openFolder(dirname(dir));
        Deno.mkdirSync(dir);
        Deno.chmodSync(dir, 0o755);
    });
    openFolder(empty);
    for (const { path, source } of inside) {
        const point = empty + path.slice(policy.workdir.length);
        const info = statSyncOrNull(source);
        if (!info)
            continue;
        openFolder(info.isDirectory ? point : dirname(point));
        if (!info.isDirectory)
            Deno.writeFileSync(point, new Uint8Array(), { create: true });
    }
    substitutes.set(policy.workdir, empty);
});
var sharedMemoryFolder = (function () {
    const info = lstatSyncOrNull("/dev/shm");
    const sticky = info?.isDirectory && info.uid === 0 && ((info.mode ?? 0) & 0o1777) === 0o1777;
    return sticky ? "/dev/shm" : undefined;
});
var enterableBy = (function (folder, uid, gid) {
    for (let path = folder;; path = dirname(path)) {
        if (!readableBy(path, uid, gid, 0o1))
            return false;
        if (path === "/")
            return true;
    }
});
var rootOnly = (function (folder) {
    try {
        checkLendable(join(folder, "capibara-sbx"), true);
        return true;
    }
    catch (error) {
        if (error instanceof LendError)
            return false;
        throw error;
    }
});
var stateDirBase = (function (dropTo) {
    const shm = sharedMemoryFolder();
    const chosen = Deno.env.get("TMPDIR") ? realTmpDir() : shm ?? realTmpDir();
    if (!dropTo)
        return chosen;
    for (const candidate of [chosen, shm, "/tmp"]) {
        const real = candidate === undefined ? null : realPathSyncOrNull(candidate);
        if (real !== null && enterableBy(real, dropTo.uid, dropTo.gid) && rootOnly(real))
            return real;
    }
    throw new PermissionError(`A root run's sandbox cannot keep its set-up in the temp dir "${chosen}", nor /dev/shm or ` +
        `/tmp: its uid (${dropTo.uid}) must pass through it, and only root may change it or a ` +
        "folder above it", {
        hint: "Set TMPDIR to a folder of root's that others may pass through (mode 0711 or 0755, " +
            "and so every folder above it)",
    });
});
var stateDirFolders = (function (base) {
    const set = Deno.env.get("TMPDIR") ? realPathSyncOrNull(tmpDir()) : null;
    return set === null || set === base ? [base] : [base, set];
});
var probeRun = (function (program, args) {
    return execCommand({ program, args, env: { PATH: DEFAULT_PATH }, cwd: "/" }, {
        timeoutMs: 10_000,
    });
});
var systemArgs = (function () {
    const args = [];
    for (const path of SYSTEM_PATHS) {
        const info = lstatSyncOrNull(path);
        if (!info)
            continue;
        if (info.isSymlink)
            args.push("--symlink", Deno.readLinkSync(path), path);
        else if (info.isDirectory)
            args.push("--ro-bind", path, path);
    }
    return args;
});
var namespaceArgs = (function (probe) {
    const args = ["--unshare-all", "--die-with-parent", "--new-session"];
    if (probe.userns || Deno.uid() === 0)
        args.push("--cap-drop", "ALL");
    if (probe.userns) {
        args.push("--unshare-user");
        if (probe.features?.disableUserns)
            args.push("--disable-userns");
    }
    return args;
});
var probeBwrap = (async function (bwrapOption, sandboxUid) {
    const bwrap = await which(bwrapOption ?? "bwrap");
    const disabled = "or pass --no-sandbox to run without protection";
    if (!bwrap) {
        return {
            userns: false,
            availability: {
                ok: false,
                reason: "bwrap (bubblewrap) was not found on PATH",
                fix: `Install bubblewrap (\`apt-get install bubblewrap\`, \`dnf install bubblewrap\`), ${disabled}`,
            },
        };
    }
    const help = await probeRun(bwrap, ["--help"]).catch((() => ({ code: 1, stdout: "", stderr: "" })));
    const text = help.stdout + help.stderr;
    if (!text.includes("--cap-drop")) {
        return {
            bwrap,
            userns: false,
            availability: {
                ok: false,
                reason: "This bubblewrap is too old: it has no --cap-drop",
                fix: `Install bubblewrap 0.4 or newer, ${disabled}`,
            },
        };
    }
    const features = {
        disableUserns: text.includes("--disable-userns"),
        size: text.includes("--size"),
        remountRo: text.includes("--remount-ro"),
    };
    const system = systemArgs();
    const layout = [
        ...system,
        ...["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev"],
        ...["--tmpfs", "/tmp", ...(features.remountRo ? ["--remount-ro", "/"] : []), "true"],
    ];
    let firstError = "";
    for (const userns of [true, false]) {
        const probe = { bwrap, features, userns, availability: { ok: true } };
        const result = await probeRun(bwrap, [...namespaceArgs(probe), ...layout]).catch(((error) => ({
            code: 1,
            stdout: "",
            stderr: String(error),
        })));
        if (result.code === 0) {
            if (userns && Deno.uid() === 0 && sandboxUid !== 0) {
                await probeDrop(probe, layout, sandboxUid);
            }
            return probe;
        }
        firstError ||= tail(result.stderr, 500) || `bwrap exited with code ${result.code}`;
    }
    return {
        bwrap,
        features,
        userns: false,
        availability: {
            ok: false,
            reason: `bwrap cannot create a sandbox here: ${firstError}`,
            fix: "Enable unprivileged user namespaces (`sysctl -w kernel.unprivileged_userns_clone=1`, " +
                "or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` on Ubuntu 24.04+), " +
                "or run outside this unprivileged container (Docker needs `--security-opt " +
                `seccomp=unconfined --security-opt apparmor=unconfined\` or --privileged), ${disabled}`,
        },
    };
});
var probeDrop = (async function (probe, layout, uid) {
    const [unshare, setpriv, mount] = await Promise.all(["unshare", "setpriv", "mount"].map(((name) => which(name))));
    if (!unshare || !setpriv || !mount) {
        probe.dropError = "unshare, setpriv or mount (util-linux) was not found";
        return;
    }
    const drop = { uid, gid: uid, unshare, setpriv, mount };
    let base;
    try {
        base = stateDirBase({ uid, gid: uid });
    }
    catch (error) {
        probe.dropError = error instanceof Error ? error.message : String(error);
        probe.dropFailed = true;
        return;
    }
    const dir = await Deno.makeTempDir({ prefix: "capibara-probe-", dir: base });
    try {
        await Deno.mkdir(`${dir}/point`);
        await Deno.chmod(dir, 0o711);
        await Deno.writeTextFile(`${dir}/binds`, bindTable([["/usr", `${dir}/point`]]));
        const { program, args } = launchCommand({
            seccompFile: "/dev/null",
            etcFiles: ETC_FDS.map((() => "/dev/null")),
            joinFiles: [],
            drop: { drop, table: `${dir}/binds` },
            command: [
                probe.bwrap,
                ...namespaceArgs(probe),
                ...["--uid", String(SANDBOX_ID), "--gid", String(SANDBOX_ID)],
                ...["--ro-bind", `${dir}/point`, "/capibara-probe"],
                ...layout,
            ],
        });
        const result = await probeRun(program, args)
            .catch(((error) => ({ code: 1, stdout: "", stderr: String(error) })));
        if (result.code === 0)
            probe.drop = drop;
        else {
            probe.dropError = tail(result.stderr, 300) || `exit code ${result.code}`;
            probe.dropFailed = true;
        }
    }
    finally {
        await Deno.remove(dir, { recursive: true }).catch((() => { }));
    }
});
var cgroupMounts = (async function () {
    const text = await readTextSyncOrNull("/proc/self/mountinfo") ?? "";
    const mounts = [];
    for (const line of text.split("\n")) {
        const [left, right] = line.split(" - ");
        if (!left || !right)
            continue;
        const fields = left.split(" ");
        const [fsType, , superOptions = ""] = right.split(" ");
        const root = fields[3]?.replaceAll("\\040", " ");
        const mountPoint = fields[4]?.replaceAll("\\040", " ");
        if (!root || !mountPoint)
            continue;
        if (fsType === "cgroup2")
            mounts.push({ root, mountPoint, version: 2, controllers: [] });
        if (fsType === "cgroup") {
            mounts.push({ root, mountPoint, version: 1, controllers: superOptions.split(",") });
        }
    }
    return mounts;
});
var ownDir = (function (mount, ownPath) {
    if (!isInside(ownPath, mount.root))
        return undefined;
    const rest = mount.root === "/" ? ownPath : ownPath.slice(mount.root.length);
    return (mount.mountPoint + rest).replace(/\/+$/, "") || "/";
});
var tryWrite = (function (path, value) {
    try {
        Deno.writeTextFileSync(path, value, { create: false });
        return true;
    }
    catch {
        return false;
    }
});
var canCreateCgroup = (function (parent, limitFiles) {
    const dir = `${parent}/capibara-probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    try {
        Deno.mkdirSync(dir);
    }
    catch {
        return false;
    }
    try {
        for (const file of limitFiles) {
            const value = /^memory\..*limit_in_bytes$/.test(file) ? "1073741824" : "max";
            if (!tryWrite(`${dir}/${file}`, value))
                return false;
        }
        return true;
    }
    finally {
        try {
            Deno.removeSync(dir);
        }
        catch {
        }
    }
});
var planCgroups = (async function (prlimit) {
    const mounts = await cgroupMounts();
    const own = new Map();
    for (const line of (await readTextSyncOrNull("/proc/self/cgroup") ?? "").split("\n")) {
        const match = /^(\d+):([^:]*):(.*)$/.exec(line);
        if (!match)
            continue;
        if (match[1] === "0" && match[2] === "")
            own.set("unified", match[3]);
        for (const controller of match[2].split(","))
            if (controller)
                own.set(controller, match[3]);
    }
    const plan = {
        prlimit,
        info: { memory: "none", processes: "none", processesEffective: false, summary: "" },
    };
    const notes = [];
    const v2 = mounts.find(((m) => m.version === 2));
    const ownV2 = own.get("unified");
    if (v2 && ownV2 !== undefined) {
        const mine = ownDir(v2, ownV2);
        if (mine) {
            const candidates = mine === v2.mountPoint
                ? [mine]
                : [mine, mine.slice(0, mine.lastIndexOf("/"))];
            for (const parent of candidates) {
                if (!isInside(parent, v2.mountPoint))
                    continue;
                let subtree = (await readTextSyncOrNull(`${parent}/cgroup.subtree_control`)) ?? "";
                const available = (await readTextSyncOrNull(`${parent}/cgroup.controllers`)) ?? "";
                const wanted = ["pids", "memory"];
                if (!wanted.every(((c) => subtree.split(/\s+/).includes(c)))) {
                    if (parent !== v2.mountPoint || !wanted.every(((c) => available.split(/\s+/).includes(c)))) {
                        continue;
                    }
                    await tryWrite(`${parent}/cgroup.subtree_control`, "+pids +memory");
                    subtree = (await readTextSyncOrNull(`${parent}/cgroup.subtree_control`)) ?? "";
                    if (!wanted.every(((c) => subtree.split(/\s+/).includes(c))))
                        continue;
                }
                if (await canCreateCgroup(parent, ["pids.max", "memory.max"])) {
                    plan.v2 = parent;
                    break;
                }
            }
        }
    }
    if (plan.v2) {
        plan.info = {
            memory: "cgroup-v2",
            processes: "cgroup-v2",
            processesEffective: true,
            summary: `memory and processes: cgroup v2 (per-run cgroups under ${plan.v2}; the memory ` +
                "bound counts socket buffers)",
        };
        return plan;
    }
    for (const controller of ["pids", "memory"]) {
        const mount = mounts.find(((m) => m.version === 1 && m.controllers.includes(controller)));
        const ownPath = own.get(controller);
        if (!mount || ownPath === undefined)
            continue;
        const parent = ownDir(mount, ownPath);
        if (!parent)
            continue;
        if (controller === "pids") {
            if (await canCreateCgroup(parent, ["pids.max"]))
                plan.v1Pids = parent;
            continue;
        }
        if (await canCreateCgroup(parent, ["memory.limit_in_bytes", V1_TCP_LIMIT])) {
            plan.v1Memory = parent;
            plan.v1MemoryTcp = true;
        }
        else if (await canCreateCgroup(parent, ["memory.limit_in_bytes"]))
            plan.v1Memory = parent;
    }
    const root = Deno.uid() === 0;
    if (plan.v1Memory) {
        plan.info.memory = "cgroup-v1";
        notes.push(`memory: cgroup v1 memory controller (per-run cgroups under ${plan.v1Memory}); ` +
            (plan.v1MemoryTcp
                ? "TCP socket buffers bounded apart at the same amount (memory.kmem.tcp.limit_in_bytes)"
                : "TCP socket buffers NOT bounded (no writable memory.kmem.tcp.limit_in_bytes)"));
    }
    else if (prlimit) {
        plan.info.memory = "rlimit";
        notes.push("memory: RLIMIT_AS via prlimit (no writable memory cgroup); for Deno, RLIMIT_DATA at the " +
            "limit and its own reservations (≈ 600 MiB) and --max-old-space-size (Deno reserves " +
            "more address space than any limit); TCP socket buffers NOT bounded (kernel memory, " +
            "which no rlimit counts)");
    }
    else {
        notes.push("memory: not limited (no writable memory cgroup, no prlimit)");
    }
    if (plan.v1Pids) {
        plan.info.processes = "cgroup-v1";
        plan.info.processesEffective = true;
        notes.push(`processes: cgroup v1 pids controller (per-run cgroups under ${plan.v1Pids})`);
    }
    else if (prlimit) {
        plan.info.processes = "rlimit";
        plan.info.processesEffective = !root;
        notes.push(root
            ? "processes: NOT limited — RLIMIT_NPROC does not bind root and no pids cgroup is writable"
            : "processes: RLIMIT_NPROC via prlimit (no writable pids cgroup)");
    }
    else {
        notes.push("processes: not limited (no writable pids cgroup, no prlimit)");
    }
    plan.info.summary = notes.join("; ");
    return plan;
});
var readNumber = (async function (path) {
    const text = await readTextSyncOrNull(path);
    if (text === null)
        return undefined;
    const value = Number(text.trim());
    return Number.isFinite(value) ? value : undefined;
});
var readKey = (async function (path, key) {
    const text = await readTextSyncOrNull(path) ?? "";
    const match = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
    return match ? Number(match[1]) : 0;
});
var removeCgroup = (function (dir) {
    const procs = readTextSyncOrNull(`${dir}/cgroup.procs`) ?? "";
    const pids = procs.split("\n").filter(Boolean).map(Number);
    if (pids.length === 0) {
        try {
            Deno.removeSync(dir);
            return true;
        }
        catch (error) {
            if (error instanceof Deno.errors.NotFound)
                return true;
        }
    }
    for (const pid of pids) {
        try {
            Deno.kill(pid, "SIGKILL");
        }
        catch {
        }
    }
    return false;
});
var destroyCgroup = (async function (dir) {
    tryWrite(`${dir}/cgroup.kill`, "1");
    for (let attempt = 0, pause = 1; attempt < 500; attempt++, pause = Math.min(pause * 2, 10)) {
        if (removeCgroup(dir))
            return;
        await sleep(pause);
    }
});
var destroyCgroupSync = (function (dir) {
    tryWrite(`${dir}/cgroup.kill`, "1");
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let attempt = 0; attempt < 50; attempt++) {
        if (removeCgroup(dir))
            return;
        Atomics.wait(pause, 0, 0, 10);
    }
});
var privateStampFolder = (function () {
    const folder = runnerFolder();
    try {
        Deno.mkdirSync(folder, { mode: 0o700 });
    }
    catch {
    }
    return privateFolder(folder) ? folder : undefined;
});
var sweepStaleCgroups = (function (parent) {
    if (!sweepsByPid())
        return;
    const namespace = pidNamespace();
    let names;
    try {
        names = [...Deno.readDirSync(parent)].map(((entry) => entry.name));
    }
    catch {
        return;
    }
    const stale = new Set(staleEntries(parent, RUN_CGROUP_NAME));
    for (const name of names) {
        const match = RUN_CGROUP_NAME.exec(name);
        if (!match)
            continue;
        const dir = `${parent}/${name}`;
        if (stale.has(name))
            destroyCgroupSync(dir);
        else if (match[2] !== namespace) {
            try {
                Deno.removeSync(dir);
            }
            catch {
            }
        }
    }
});
var writeJournal = (function (stateDir, tmpDir, lent, lentUid) {
    const journal = {
        tmpDir,
        ...lentUid === undefined ? {} : { uid: lentUid },
        lent: [...lent].map((([root, owners]) => [
            root,
            [...owners].map((([path, owner]) => owner.inode === undefined
                ? [path, owner.uid, owner.gid]
                : owner.mode === undefined
                    ? [path, owner.uid, owner.gid, owner.inode]
                    : [path, owner.uid, owner.gid, owner.inode, owner.mode])),
        ])),
    };
    Deno.writeTextFileSync(`${stateDir}/${JOURNAL_FILE}`, JSON.stringify(journal), { mode: 0o600 });
});
var readJournal = (function (stateDir, uid) {
    const path = `${stateDir}/${JOURNAL_FILE}`;
    const info = lstatSyncOrNull(path);
    if (!info?.isFile || info.uid !== uid || (info.mode ?? 0) % 0o1000 !== 0o600 || info.nlink !== 1) {
        return undefined;
    }
    let value;
    try {
        value = JSON.parse(Deno.readTextFileSync(path));
    }
    catch {
        return undefined;
    }
    const journal = value;
    const int = ((n) => Number.isInteger(n) && n >= 0);
    const wellFormed = typeof value === "object" && value !== null &&
        typeof journal.tmpDir === "string" && Array.isArray(journal.lent) &&
        (journal.uid === undefined || int(journal.uid)) &&
        journal.lent.every(((item) => Array.isArray(item) && typeof item[0] === "string" && item[0].startsWith("/") &&
            Array.isArray(item[1]) &&
            item[1].every(((o) => Array.isArray(o) && typeof o[0] === "string" && isInside(o[0], item[0]) && int(o[1]) &&
                int(o[2]) && (o[3] === undefined || typeof o[3] === "string") &&
                (o[4] === undefined || (int(o[4]) && o[4] <= 0o7777))))));
    return wellFormed ? journal : undefined;
});
var sweepStaleStateDirs = (async function (base) {
    const uid = Deno.uid() ?? 0;
    let fs;
    for (const name of staleEntries(base, STATE_DIR_NAME)) {
        const found = join(base, name);
        const info = lstatSyncOrNull(found);
        const mode = (info?.mode ?? 0) % 0o10000;
        if (!info?.isDirectory || info.uid !== uid || (mode !== 0o700 && mode !== 0o711))
            continue;
        const stateDir = join(base, `capibara-sbx-${Deno.pid}-ns${pidNamespace()}-swept-${crypto.randomUUID().slice(0, 8)}`);
        try {
            Deno.renameSync(found, stateDir);
        }
        catch {
            continue;
        }
        const claimed = lstatSyncOrNull(stateDir);
        if (!claimed?.isDirectory || inodeOf(claimed) !== inodeOf(info))
            continue;
        const journal = readJournal(stateDir, uid);
        if (journal) {
            if (journal.lent.length > 0)
                fs ??= await import("node:fs");
            for (const [root, owners] of journal.lent) {
                returnTree(fs, root, new Map(owners.map((([path, u, g, inode, mode]) => [path, { uid: u, gid: g, inode, mode }]))), journal.uid);
            }
            const tmp = lstatSyncOrNull(journal.tmpDir);
            if (RUN_DIR_NAME.test(basename(journal.tmpDir)) && tmp?.isDirectory && !tmp.isSymlink &&
                tmp.uid === uid) {
                try {
                    removeIfExistsSync(journal.tmpDir);
                }
                catch {
                }
            }
        }
        try {
            Deno.removeSync(stateDir, { recursive: true });
        }
        catch {
        }
    }
});
var createRunCgroup = (async function (plan, policy) {
    if (!plan.v2 && !plan.v1Pids && !plan.v1Memory)
        return undefined;
    const name = `capibara-${Deno.pid}-${++runCounter}-${crypto.randomUUID().slice(0, 8)}-ns${pidNamespace()}`;
    const helpers = HELPER_PROCESSES + (policy.network.length > 0 ? 1 : 0);
    const pidsMax = String(policy.maxProcesses + helpers);
    const memory = String(Math.max(1 << 20, Math.floor(policy.memoryBytes)));
    const created = [];
    async function destroy() {
        await Promise.all(created.map(destroyCgroup));
    }
    function destroySync() {
        for (const dir of created)
            destroyCgroupSync(dir);
    }
    function make(dir, limits) {
        Deno.mkdirSync(dir);
        created.push(dir);
        for (const [file, value, required] of limits) {
            if (!tryWrite(`${dir}/${file}`, value) && required) {
                throw new PermissionError(`Cannot set the sandbox limit ${dir}/${file}`);
            }
        }
    }
    try {
        if (plan.v2) {
            const dir = `${plan.v2}/${name}`;
            await make(dir, [
                ["pids.max", pidsMax, true],
                ["memory.max", memory, true],
                ["memory.swap.max", "0", false],
                ["memory.oom.group", "1", false],
            ]);
            return {
                joinFiles: [`${dir}/cgroup.procs`],
                async usage() {
                    return {
                        peakMemoryBytes: await readNumber(`${dir}/memory.peak`),
                        memoryLimitHit: (await readKey(`${dir}/memory.events`, "oom_kill")) > 0,
                        processLimitHit: (await readKey(`${dir}/pids.events`, "max")) > 0,
                    };
                },
                destroy,
                destroySync,
            };
        }
        const pidsDir = plan.v1Pids ? `${plan.v1Pids}/${name}` : undefined;
        const memoryDir = plan.v1Memory ? `${plan.v1Memory}/${name}` : undefined;
        if (pidsDir)
            await make(pidsDir, [["pids.max", pidsMax, true]]);
        if (memoryDir) {
            await make(memoryDir, [
                ["memory.limit_in_bytes", memory, true],
                ["memory.memsw.limit_in_bytes", memory, false],
                ...plan.v1MemoryTcp ? [[V1_TCP_LIMIT, memory, true]] : [],
            ]);
        }
        return {
            joinFiles: created.map(((dir) => `${dir}/tasks`)),
            async usage() {
                return {
                    peakMemoryBytes: memoryDir
                        ? await readNumber(`${memoryDir}/memory.max_usage_in_bytes`)
                        : undefined,
                    memoryLimitHit: memoryDir
                        ? (await readKey(`${memoryDir}/memory.oom_control`, "oom_kill")) > 0
                        : false,
                    processLimitHit: pidsDir ? (await readKey(`${pidsDir}/pids.events`, "max")) > 0 : false,
                };
            },
            destroy,
            destroySync,
        };
    }
    catch (error) {
        await destroy();
        throw error;
    }
});
var checkGrant = (function (path, what) {
    if (!path.startsWith("/")) {
        throw new ValidationError(`Sandbox ${what} path must be absolute: "${path}"`);
    }
    if (path === "/" || FORBIDDEN_GRANTS.some(((forbidden) => isInside(path, forbidden)))) {
        throw new ValidationError(`Refusing to grant "${path}" to the sandbox: it would expose the host`);
    }
    const real = realPathSyncOrNull(path);
    if (real !== null && FORBIDDEN_GRANTS.some(((forbidden) => isInside(real, forbidden)))) {
        throw new ValidationError(`Refusing to grant "${path}" to the sandbox: it leads to "${real}", which would expose ` +
            "the host");
    }
    refuseHidden(path, false, real);
});
var refuseHidden = (function (path, holding, real = realPathSyncOrNull(path)) {
    const resolved = resolve(path);
    const paths = real === null || real === resolved ? [resolved] : [resolved, real];
    for (const hidden of [...SENSITIVE_PATHS, ...runnerFolders()]) {
        for (const p of paths) {
            const lies = isInside(p, hidden);
            if (lies || (holding && isInside(hidden, p))) {
                throw new ValidationError(`Refusing to grant "${path}" to the sandbox: it ${lies ? "lies in" : "holds"} ${hidden}, which is never shown to scripts`, { hint: "Grant a folder that neither is, holds nor lies in it" });
            }
        }
    }
});
export var linkFolders = (function (policy) {
    const folders = [
        { path: policy.tmpDir, source: policy.tmpDir },
        { path: "/tmp" },
        { path: "/dev/shm" },
        ...(policy.stage ?? []).map((({ source, target }) => ({ path: target, source }))),
    ];
    const found = [];
    for (const { path, source } of folders) {
        if (policy.write.some(((written) => isInside(written, path))))
            continue;
        if (source === undefined) {
            found.push(`:${path}`);
            continue;
        }
        const info = lstatSyncOrNull(source);
        if (info?.isDirectory)
            found.push(`${info.dev}:${info.ino}:${path}`);
    }
    return found;
});
var policyArgs = (async function (policy, features, via = ((source) => Promise.resolve(source)), substitutes = new Map()) {
    const writable = [...policy.write, policy.tmpDir];
    const binds = new Map();
    const sources = new Map();
    const workdirHeld = !substitutes.has(policy.workdir) &&
        realPathSyncOrNull(policy.workdir) === policy.workdir &&
        writable.some(((dir) => dir !== policy.workdir && isInside(policy.workdir, dir)));
    for (const path of workdirHeld ? policy.read : [...policy.read, policy.workdir]) {
        const real = realPathSyncOrNull(path);
        if (real === null)
            continue;
        refuseHidden(real, false, real);
        if (real !== path && writable.some(((dir) => isInside(path, dir)))) {
            throw new ValidationError(`Refusing to grant "${path}": it leads to "${real}" through a symlink in a writable path`);
        }
        binds.set(path, "ro");
        sources.set(path, substitutes.get(path) ?? real);
    }
    for (const path of writable) {
        const real = realPathSyncOrNull(path);
        if (real !== null)
            refuseHidden(real, false, real);
        if (real !== path) {
            throw new ValidationError(`Sandbox write path "${path}" is not resolved (it leads to "${real}"): grant the real path`);
        }
        binds.set(path, "rw");
        sources.set(path, real);
    }
    for (const { source, target } of policy.stage ?? []) {
        if (!isInside(source, policy.tmpDir) || (realPathSyncOrNull(source)) !== source) {
            throw new ValidationError(`Sandbox staging path "${source}" is not a resolved path inside the run's temp dir`);
        }
        binds.set(target, "rw");
        sources.set(target, source);
    }
    const protect = policy.protect.filter(((path) => realPathSyncOrNull(path) === path));
    const pinned = workdirHeld
        ? [...pinnedFolders([...protect, policy.workdir], writable), policy.workdir]
        : pinnedFolders(protect, writable);
    for (const dir of pinned) {
        if (binds.has(dir))
            continue;
        const holder = [...binds.keys()].filter(((path) => isInside(dir, path)))
            .sort(((a, b) => depth(b) - depth(a)))[0];
        if (holder === undefined)
            continue;
        binds.set(dir, binds.get(holder));
        sources.set(dir, (sources.get(holder) ?? holder) + dir.slice(holder.length));
    }
    const args = [];
    const ordered = [...binds].sort(((a, b) => depth(a[0]) - depth(b[0])));
    for (const [path, mode] of ordered) {
        const source = sources.get(path) ?? path;
        if (mode === "ro")
            args.push("--ro-bind-try", await via(source), path);
        else
            args.push("--bind", await via(source), path);
    }
    for (const path of [...protect].sort(((a, b) => depth(a) - depth(b)))) {
        if (!writable.some(((dir) => isInside(path, dir))))
            continue;
        args.push("--ro-bind", await via(path), path);
    }
    const runners = runnerFolders();
    for (const [path, source] of sources) {
        for (const sensitive of [...SENSITIVE_PATHS, ...runners]) {
            if (!isInside(sensitive, source))
                continue;
            if (runners.includes(sensitive) && !lstatSyncOrNull(sensitive)) {
                try {
                    Deno.mkdirSync(sensitive, { mode: 0o700 });
                }
                catch {
                }
            }
            const info = lstatSyncOrNull(sensitive);
            if (!info)
                continue;
            if (runners.includes(sensitive) && !info.isDirectory)
                continue;
            const inside = path + sensitive.slice(source.length);
            if (info.isDirectory) {
                args.push("--tmpfs", inside);
                if (features?.remountRo)
                    args.push("--remount-ro", inside);
            }
            else {
                args.push("--ro-bind", "/dev/null", inside);
            }
        }
    }
    return args;
});
var fakeEtc = (function (uid, gid, home) {
    return {
        passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\n` +
            (uid === 0 ? "" : `capibara:x:${uid}:${gid}:capibara:${home}:/bin/sh\n`) +
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        group: "root:x:0:\n" + (gid === 0 ? "" : `capibara:x:${gid}:\n`) + "nogroup:x:65534:\n",
        hosts: "127.0.0.1\tlocalhost\n127.0.1.1\tcapibara\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    };
});
import { basename, dirname, join, resolve, tmpDir } from "../_path.js";
import { fileIdentity, inodeOf, isInside, lstatOrNull, lstatSyncOrNull, namesReachable, pidNamespace, readTextSyncOrNull, realPathSyncOrNull, realTmpDir, removeIfExistsSync, RUN_DIR_NAME, staleEntries, statSyncOrNull, sweepDue, sweepLeftRunDirs, sweepsByPid, } from "../_fs.js";
import { recallSync, rememberSync } from "../_json_file.js";
import { DEFAULT_PATH, which } from "../_which.js";
import { execCommand, GATE_PASSED } from "../exec.js";
import { PermissionError, tail, ValidationError } from "../errors.js";
import { bareCommand, inheritsDescriptors, landlockCommand } from "./landlock.js";
import { privateFolder, runnerFolder, runnerFolders } from "../_runner_folder.js";
import { SECCOMP_BPF } from "./seccomp_bpf.js";
import { pinnedFolders } from "./policy.js";
import { sleep } from "../_timer.js";
const HELPER_PROCESSES = 2;
const PROXY_PORT = 3128;
const PROXY_DIR_INSIDE = "/capibara-proxy";
const SANDBOX_ID = 1000;
const DEFAULT_SANDBOX_HOST_ID = 65534;
const LOADER_VARIABLE = /^(LD_\w*|GCONV_PATH|GETCONF_DIR|GLIBC_TUNABLES|HOSTALIASES|LOCALDOMAIN|LOCPATH|MALLOC_\w*|NIS_PATH|NLSPATH|RESOLV_HOST_CONF|RES_OPTIONS|TZDIR)$/;
const SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
const ETC_ENTRIES = [
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "ld.so.preload",
    "alternatives",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "mime.types",
    "locale.alias",
    "locale.conf",
    "default/locale",
    "os-release",
    "lsb-release",
    "debian_version",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "pki/tls/certs",
    "pki/ca-trust",
    "crypto-policies",
    "fonts",
    "mtab",
];
const SENSITIVE_PATHS = [
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssl/private",
    "/etc/ssh",
];
const FORBIDDEN_GRANTS = ["/proc", "/sys", "/dev"];
const SECCOMP_FD = 9;
const ETC_FDS = [3, 4, 5];
const HELD_FD = 6;
const SIGN_FD = 7;
const HELD_SCRIPT = `read -r _ <&${HELD_FD} || exit 125; exec ${HELD_FD}<&-; ` +
    `printf '\\${GATE_PASSED.toString(8).padStart(3, "0")}' >&${SIGN_FD} || exit 125; exec ${SIGN_FD}>&-; exec "$@"`;
const LAUNCH_SCRIPT = 'umask "$1" && ulimit -n "$2" || exit 125; shift 2; ' +
    `exec ${SECCOMP_FD}<"$1" ${ETC_FDS.map(((fd, i) => `${fd}<"$${i + 2}"`)).join(" ")} ` +
    `|| exit 125; shift ${ETC_FDS.length + 1}; ` +
    `if [ "$1" = --held ]; then exec ${HELD_FD}<&0 </dev/null ${SIGN_FD}>"$2" || exit 125; ` +
    "shift 2; fi; " +
    'binding=; if [ "$1" = --mount ]; then "$2" --all --fstab "$3" & binding=$!; shift 3; fi; ' +
    'while [ "$1" != -- ]; do ' +
    'echo 0 > "$1" || { echo "capibara: cannot join cgroup $1" >&2; exit 125; }; shift; ' +
    "done; shift; " +
    'if [ -n "$binding" ] && ! wait "$binding"; then ' +
    'echo "capibara: cannot bind the granted paths" >&2; exit 125; fi; exec "$@"';
;
export const SANDBOX_NOFILE = 4096;
;
;
;
const PROXY_LOCAL_ADDRESS = "0100007F:" + PROXY_PORT.toString(16).toUpperCase().padStart(4, "0");
const PROXY_SCRIPT = `socat="$1"; shift
"$socat" TCP-LISTEN:${PROXY_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${PROXY_DIR_INSIDE}/proxy.sock 2>/dev/null ${HELD_FD}<&- ${SIGN_FD}>&- &
listening() {
  while read -r _ local _ state _; do
    if [ "$local" = ${PROXY_LOCAL_ADDRESS} ] && [ "$state" = 0A ]; then return 0; fi
  done < /proc/net/tcp
  return 1
}
i=0
until listening; do
  i=$((i + 1))
  if [ "$i" -gt 500 ]; then echo "capibara: the network proxy did not start" >&2; exit 125; fi
  sleep 0.01
done
unset socat i
exec "$@"`;
let runCounter = 0;
;
const FSTAB_PLAIN = /^[0-9A-Za-z/._+,:@=~%-]$/;
;
;
;
const RUN_IDS_START = 0x70000000;
const RUN_IDS_COUNT = 1 << 20;
;
let runIdsMappedMemo;
;
;
;
;
class LendError extends Error {
}
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
const MAX_COPY_BYTES = 64 * 1024 ** 2;
const MAX_COPY_FILES = 1_000;
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
;
;
const V1_TCP_LIMIT = "memory.kmem.tcp.limit_in_bytes";
;
;
;
;
;
;
const RUN_CGROUP_NAME = /^capibara-(\d+)-\d+-[0-9a-f]{8}(?:-ns(\d+))?$/;
;
const JOURNAL_FILE = "undo.json";
const STATE_DIR_NAME = /^capibara-sbx-(\d+)-ns(\d+)-/;
;
;
;
;
;
;
;
;
;
export class BubblewrapBackend {
    name = "bubblewrap";
    stagesOutputs = true;
    holds = true;
    proxyAddress = {
        hostname: "127.0.0.1",
        port: PROXY_PORT,
    };
    #options;
    #sandboxUid;
    #perRun;
    #probe;
    #plan;
    #swept = false;
    constructor(options = {}) {
        this.#options = options;
        const asked = sandboxUidOf(options.sandboxUid);
        this.#perRun = asked === undefined && Deno.build.os === "linux" && runIdsMapped();
        this.#sandboxUid = asked ?? (this.#perRun ? RUN_IDS_START : DEFAULT_SANDBOX_HOST_ID);
    }
    useProbeCache(where) {
        if (this.#options.probeCache || this.#probe || this.#plan)
            return;
        const probeCache = where();
        if (probeCache)
            this.#options = { ...this.#options, probeCache };
    }
    #getProbe() {
        this.#probe ??= this.#cachedProbe().then(((probe) => {
            if (!this.#perRun || probe.drop || !probe.availability.ok || Deno.uid() !== 0)
                return probe;
            this.#perRun = false;
            this.#sandboxUid = DEFAULT_SANDBOX_HOST_ID;
            return this.#cachedProbe();
        }));
        return this.#probe;
    }
    async #cachedProbe() {
        const file = this.#options.probeCache;
        const keyOf = ((probe) => {
            const programs = [probe.bwrap, probe.drop?.unshare, probe.drop?.setpriv, probe.drop?.mount];
            return [
                "5",
                ...programs.map(((program) => program === undefined ? "-" : fileIdentity(program))),
                Deno.osRelease(),
                Deno.uid(),
                this.#sandboxUid,
            ].join("|");
        });
        const saved = file ? recallSync(file) : undefined;
        if (saved?.probe?.bwrap) {
            let key;
            try {
                key = keyOf(saved.probe);
            }
            catch {
                key = undefined;
            }
            if (saved.key === key)
                return saved.probe;
        }
        const probe = await probeBwrap(this.#options.bwrap, this.#sandboxUid);
        if (file && probe.availability.ok && probe.bwrap && !probe.dropFailed) {
            rememberSync(file, { key: keyOf(probe), probe });
        }
        return probe;
    }
    #getPlan() {
        this.#plan ??= this.#cachedPlan();
        return this.#plan;
    }
    #planFile() {
        const probe = this.#options.probeCache;
        return probe ? `${dirname(probe)}/cgroup-plan.json` : undefined;
    }
    async #cachedPlan(fresh = false) {
        const file = this.#planFile();
        const key = JSON.stringify(["3", Deno.uid(), readTextSyncOrNull("/proc/self/cgroup")]);
        const saved = file && !fresh ? recallSync(file) : undefined;
        const limitedByCgroups = ((plan) => plan.v2 !== undefined || (plan.v1Memory !== undefined && plan.v1Pids !== undefined));
        let prlimit;
        if (saved?.plan && saved.key === key) {
            if (limitedByCgroups(saved.plan))
                return saved.plan;
            prlimit = await which("prlimit");
            if (prlimit === saved.plan.prlimit)
                return saved.plan;
        }
        else
            prlimit = await which("prlimit");
        const plan = await planCgroups(prlimit);
        if (file)
            rememberSync(file, { key, plan });
        return plan;
    }
    async available() {
        return (await this.#getProbe()).availability;
    }
    async proxyAvailable() {
        if (await which(this.#options.socat ?? "socat"))
            return { ok: true };
        return {
            ok: false,
            reason: "socat was not found on PATH (needed to reach granted hosts from the sandbox)",
            fix: "Install socat (`apt-get install socat`, `dnf install socat`), or grant no network",
        };
    }
    async describeIdentity() {
        const uid = Deno.uid() ?? 0;
        if (uid !== 0)
            return { uid, summary: `runs as your own uid (${uid})` };
        const probe = await this.#getProbe();
        if (probe.drop && this.#perRun) {
            return {
                uid: probe.drop.uid,
                summary: `root's runs map each to a uid of their own (${RUN_IDS_START} and up), not ` +
                    `root; those that write beyond their temp dir share ${RUN_IDS_START} ` +
                    "(CAPIBARA_SANDBOX_UID picks one for all); inputs only root may read are passed in " +
                    "as copies",
            };
        }
        if (probe.drop) {
            return {
                uid: probe.drop.uid,
                summary: `root's runs map to uid ${probe.drop.uid}, not root (CAPIBARA_SANDBOX_UID); ` +
                    "inputs only root may read are passed in as copies",
            };
        }
        const why = this.#sandboxUid === 0
            ? "CAPIBARA_SANDBOX_UID=0"
            : `dropping to uid ${this.#sandboxUid} does not work here: ${probe.dropError ?? "no user namespace"}`;
        return { uid: 0, summary: `root's runs map to root (${why})` };
    }
    async describeLimits() {
        return { ...(await this.#getPlan()).info };
    }
    async wrap(spec, policy, options = {}) {
        const held = options.held === true;
        const selfGated = held && options.selfGated === true;
        const heldFd = held && !selfGated ? HELD_FD : undefined;
        const probe = await this.#getProbe();
        if (!probe.availability.ok || !probe.bwrap) {
            throw new PermissionError(`The bubblewrap sandbox is unavailable: ${probe.availability.reason}`, { hint: probe.availability.fix });
        }
        const filter = seccompProgram();
        if (!filter) {
            throw new PermissionError(`Cannot sandbox scripts on ${Deno.build.arch}: Capibara has no seccomp filter for it`, { hint: "Run on x86_64 or aarch64, or pass --no-sandbox to run unprotected" });
        }
        for (const path of policy.read)
            checkGrant(path, "read");
        for (const path of policy.write)
            checkGrant(path, "write");
        for (const { target } of policy.stage ?? [])
            checkGrant(target, "output");
        checkGrant(policy.workdir, "workdir");
        checkGrant(policy.tmpDir, "temp dir");
        let socat;
        if (policy.network.length > 0) {
            socat = await which(this.#options.socat ?? "socat");
            if (!socat) {
                const proxy = await this.proxyAvailable();
                throw new PermissionError(`Cannot grant network access: ${proxy.reason}`, {
                    hint: proxy.fix,
                });
            }
        }
        const plan = await this.#getPlan();
        for (const dir of [...policy.write, policy.tmpDir]) {
            Deno.mkdirSync(dir, { recursive: true, mode: dir === policy.tmpDir ? 0o700 : 0o755 });
        }
        const uid = Deno.uid() ?? 0;
        const gid = Deno.gid() ?? 0;
        const probed = uid === 0 ? probe.drop : undefined;
        const id = probed && this.#perRun && policy.write.length === 0 ? newRunId() : undefined;
        const drop = probed && id !== undefined ? { ...probed, uid: id, gid: id } : probed;
        const base = stateDirBase(drop);
        if (!this.#swept) {
            this.#swept = true;
            const stamps = this.#options.probeCache
                ? dirname(this.#options.probeCache)
                : privateStampFolder();
            for (const parent of [plan.v2, plan.v1Pids, plan.v1Memory]) {
                if (parent)
                    sweepStaleCgroups(parent);
            }
            for (const folder of stateDirFolders(base)) {
                const stamp = stamps &&
                    `${stamps}/state-dirs-swept-${encodeURIComponent(folder).slice(-200)}`;
                if (sweepDue(folder, stamp, 60_000))
                    await sweepStaleStateDirs(folder);
            }
            if (stamps)
                sweepLeftRunDirs(`${stamps}/run-dirs-swept`);
        }
        const stateDir = Deno.makeTempDirSync({
            prefix: `capibara-sbx-${Deno.pid}-ns${pidNamespace()}-`,
            dir: base,
        });
        let proxy;
        let cgroup;
        let closed;
        const lent = new Map();
        let lentTo;
        let lendFs;
        const removeState = (() => {
            for (const [root, owners] of lent)
                returnTree(lendFs, root, owners, lentTo);
            try {
                Deno.removeSync(stateDir, { recursive: true });
            }
            catch {
            }
        });
        const close = (() => {
            closed ??= (async () => {
                await cgroup?.destroy();
                await proxy?.close();
                removeState();
            })();
            return closed;
        });
        const abandon = (() => {
            if (closed)
                return;
            closed = Promise.resolve();
            cgroup?.destroySync();
            removeState();
        });
        try {
            const substitutes = new Map();
            if (drop)
                Deno.chmodSync(stateDir, 0o711);
            await substituteClosed(policy, drop, stateDir, substitutes);
            const mounts = [];
            const via = ((source) => {
                if (!drop)
                    return Promise.resolve(source);
                let info;
                try {
                    info = Deno.statSync(source);
                }
                catch {
                    return Promise.resolve(source);
                }
                const point = `${stateDir}/src/${mounts.length}`;
                if (info.isDirectory)
                    Deno.mkdirSync(point);
                else
                    Deno.writeFileSync(point, new Uint8Array());
                mounts.push([source, point]);
                return Promise.resolve(point);
            });
            if (drop) {
                Deno.mkdirSync(`${stateDir}/src`, { mode: 0o711 });
                Deno.chmodSync(`${stateDir}/src`, 0o711);
                const before = new Map();
                const roots = [...new Set([...policy.write, policy.tmpDir])];
                for (const dir of roots.filter(((dir) => !roots.some(((other) => other !== dir && isInside(dir, other)))))) {
                    refuseHidden(dir, true);
                    const owners = new Map();
                    try {
                        checkLendable(dir);
                        ownersOf(dir, drop.uid, owners);
                    }
                    catch (error) {
                        if (!(error instanceof LendError))
                            throw error;
                        throw new PermissionError(`Cannot lend "${dir}" to the sandbox uid for this run: ${error.message}`, {
                            hint: "A run as root writes into a folder only when no other user can change it " +
                                "or a folder on its way; run Capibara as the folder's owner, or grant a folder " +
                                "only root controls",
                        });
                    }
                    before.set(dir, owners);
                }
                lentTo = drop.uid;
                writeJournal(stateDir, policy.tmpDir, before, drop.uid);
                const userFolders = [...before.keys()].some(((dir) => dir !== policy.tmpDir));
                const fs = lendFs = userFolders || id === undefined ? await import("node:fs") : undefined;
                for (const dir of before.keys()) {
                    const owners = new Map();
                    lent.set(dir, owners);
                    try {
                        lendTree(dir === policy.tmpDir ? undefined : fs, dir, drop.uid, drop.gid, owners);
                    }
                    catch (error) {
                        if (!(error instanceof LendError))
                            throw error;
                        throw new PermissionError(`Cannot lend "${dir}" to the sandbox uid for this run: ${error.message}`, { hint: "Another user changed the folder while it was being lent; run again" });
                    }
                }
            }
            else
                writeJournal(stateDir, policy.tmpDir, lent);
            const sandboxUid = probe.userns && uid === 0 ? SANDBOX_ID : uid;
            const sandboxGid = probe.userns && gid === 0 ? SANDBOX_ID : gid;
            const args = [...namespaceArgs(probe)];
            if (probe.userns && sandboxUid !== uid) {
                args.push("--uid", String(sandboxUid), "--gid", String(sandboxGid));
            }
            args.push("--hostname", "capibara");
            args.push(...systemArgs());
            args.push("--dir", "/etc");
            for (const entry of ETC_ENTRIES) {
                const path = `/etc/${entry}`;
                const info = lstatSyncOrNull(path);
                if (!info)
                    continue;
                if (info.isSymlink)
                    args.push("--symlink", Deno.readLinkSync(path), path);
                else
                    args.push("--ro-bind", path, path);
            }
            Deno.mkdirSync(`${stateDir}/etc`, { mode: 0o700 });
            const etcFiles = [];
            const fake = Object.entries(fakeEtc(sandboxUid, sandboxGid, policy.tmpDir));
            for (const [i, [name, text]] of fake.entries()) {
                Deno.writeTextFileSync(`${stateDir}/etc/${name}`, text, { mode: 0o600 });
                etcFiles.push(`${stateDir}/etc/${name}`);
                args.push("--perms", "0444", "--file", String(ETC_FDS[i]), `/etc/${name}`);
            }
            args.push("--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys");
            for (const path of ["/proc/fs", "/proc/mtrr", "/proc/pressure"]) {
                if (lstatSyncOrNull(path))
                    args.push("--ro-bind-try", path, path);
            }
            args.push("--dev", "/dev");
            if (probe.features?.size && probe.features.remountRo) {
                const size = String(Math.floor(policy.memoryBytes / 2));
                args.push("--size", size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev");
            }
            if (probe.features?.size)
                args.push("--size", String(Math.floor(policy.memoryBytes)));
            args.push("--tmpfs", "/tmp");
            args.push(...await policyArgs(policy, probe.features, via, substitutes));
            const env = {
                ...spec.env,
                HOME: policy.tmpDir,
                TMPDIR: policy.tmpDir,
            };
            const inner = [];
            if (!plan.v2 && !plan.v1Memory && plan.prlimit) {
                const reserving = policy.reservesAddressSpace;
                if (reserving) {
                    Object.assign(env, reserving.env);
                    inner.push(`--data=${Math.floor(reserving.dataBytes)}`);
                }
                else
                    inner.push(`--as=${Math.floor(policy.memoryBytes)}`);
            }
            if (!plan.v2 && !plan.v1Pids && plan.prlimit)
                inner.push(`--nproc=${policy.maxProcesses}`);
            const command = inner.length > 0 && plan.prlimit
                ? [plan.prlimit, ...inner, "--"]
                : [];
            if (socat) {
                await Deno.mkdir(`${stateDir}/proxy`, { mode: 0o700 });
                const { proxyEnv, startProxy } = await import("./proxy.js");
                proxy = startProxy({
                    socketPath: `${stateDir}/proxy/proxy.sock`,
                    allow: policy.network,
                    privateAllow: policy.privateNetwork,
                    connect: this.#options.connect,
                });
                if (drop) {
                    await Deno.chown(`${stateDir}/proxy`, drop.uid, drop.gid);
                    await Deno.chown(`${stateDir}/proxy/proxy.sock`, drop.uid, drop.gid);
                }
                args.push("--ro-bind", `${stateDir}/proxy`, PROXY_DIR_INSIDE);
                if (!isInside(socat, "/usr"))
                    args.push("--ro-bind", await via(socat), socat);
                Object.assign(env, proxyEnv(`http://127.0.0.1:${PROXY_PORT}`));
                command.push("/bin/sh", "-c", PROXY_SCRIPT, "capibara-network", socat);
            }
            if (probe.features?.remountRo)
                args.push("--remount-ro", "/");
            const filterFile = `${stateDir}/seccomp.bpf`;
            Deno.writeFileSync(filterFile, filter, { mode: 0o600 });
            args.push("--seccomp", String(SECCOMP_FD));
            const gate = heldFd === undefined ? undefined : { gate: heldFd, sign: SIGN_FD };
            const signFile = `${stateDir}/gate`;
            const program = policy.readsScopedByProgram
                ? policy.write.length > 0
                    ? bareCommand(spec.program, spec.args, gate, spec.env, linkFolders(policy))
                    : inheritsDescriptors()
                        ? bareCommand(spec.program, spec.args, gate, spec.env)
                        : undefined
                : landlockCommand(spec.program, spec.args, gate, spec.env, linkFolders(policy));
            for (const name of Object.keys(env)) {
                if (!LOADER_VARIABLE.test(name))
                    continue;
                args.push("--setenv", name, env[name]);
                delete env[name];
            }
            args.push("--chdir", policy.workdir, "--", ...command);
            if (!program && heldFd !== undefined) {
                args.push("/bin/sh", "-c", HELD_SCRIPT, "capibara-held");
            }
            args.push(...program ?? [spec.program, ...spec.args]);
            let table;
            if (drop) {
                table = `${stateDir}/binds`;
                Deno.writeTextFileSync(table, bindTable(mounts), { mode: 0o600 });
            }
            try {
                cgroup = await createRunCgroup(plan, policy);
            }
            catch (error) {
                if (!this.#planFile())
                    throw error;
                this.#plan = this.#cachedPlan(true);
                const fresh = await this.#plan;
                if (fresh.info.memory !== plan.info.memory || fresh.info.processes !== plan.info.processes) {
                    throw new PermissionError("The machine's cgroups changed since the last run; the new plan is saved", { cause: error, hint: "Run the command again" });
                }
                cgroup = await createRunCgroup(fresh, policy);
            }
            const wrapped = {
                ...launchCommand({
                    seccompFile: filterFile,
                    etcFiles,
                    joinFiles: cgroup?.joinFiles ?? [],
                    drop: drop && table ? { drop, table } : undefined,
                    held: heldFd !== undefined ? { signFile } : undefined,
                    command: [probe.bwrap, ...args],
                }),
                env,
                cwd: "/",
            };
            const runCgroup = cgroup;
            return {
                spec: wrapped,
                held,
                ...heldFd !== undefined ? { gateSign: signFile } : {},
                copies: [...substitutes.keys()].some(((path) => path !== policy.workdir)),
                abandon,
                close,
                hostUid: drop?.uid ?? uid,
                usage: (() => runCgroup?.usage() ??
                    Promise.resolve({ memoryLimitHit: false, processLimitHit: false })),
            };
        }
        catch (error) {
            await close();
            throw error;
        }
    }
}
