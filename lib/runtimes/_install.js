// Generated from src/runtimes/_install.ts by scripts/build_js.ts (sha256 f426ea636191e2e93a96c80670c4f7261632268226901e524aa42cba55113d8b): do not edit; `deno task build:js` writes it.
export var installCancelled = (function () {
    return new DependencyError("The install was cancelled: nothing was kept of it", {
        hint: "Run the command again to install the script's packages",
    });
});
export var runInstall = (async function (sandbox, spec, policy, options) {
    const limits = options.limits ?? INSTALL_DISK_LIMITS;
    const roots = [...policy.write, policy.tmpDir];
    const before = roots.map(((root) => measureTree(root, undefined, { reopen: true })));
    const usage = ((reopen = false) => {
        let bytes = 0;
        let files = 0;
        roots.forEach(((root, i) => {
            const was = before[i];
            const now = measureTree(root, {
                bytes: was.bytes + limits.bytes,
                files: was.files + limits.files,
            }, { reopen });
            bytes += Math.max(0, now.bytes - was.bytes);
            files += Math.max(0, now.files - was.files);
        }));
        return { bytes, files };
    });
    const wrapped = await sandbox.wrap(spec, policy);
    let exceeded;
    let result;
    try {
        const processes = { devices: devicesOf(roots) };
        const watch = watchUsage((() => usage()), limits, INSTALL_SAMPLE_MS, undefined, processes);
        try {
            result = await execCommand(wrapped.spec, {
                timeoutMs: options.timeoutMs,
                maxOutputBytes: options.maxOutputBytes,
                signal: options.signal ? AbortSignal.any([watch.signal, options.signal]) : watch.signal,
                onSpawn: ((pid) => processes.pid = pid),
            });
        }
        finally {
            exceeded = await watch.end();
        }
        const after = usage(true);
        if (pastBounds(after, limits))
            exceeded ??= after;
    }
    finally {
        await wrapped.close();
    }
    if (options.signal?.aborted)
        throw installCancelled();
    if (exceeded && unmeasurable(exceeded)) {
        throw new DependencyError("Cannot install the script's packages: the install made what it wrote impossible to " +
            "measure (a folder that cannot be listed, or a removed file it holds that cannot be " +
            "looked at; it was stopped)", { hint: "A package that closes its own folders to reading is refused; pick other packages" });
    }
    if (exceeded) {
        const gib = ((bytes) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`);
        throw new DependencyError(`Cannot install the script's packages: the install wrote ${gib(exceeded.bytes)} in ` +
            `${exceeded.files.toLocaleString("en-US")} files, past its bound of ` +
            `${gib(limits.bytes)} and ${limits.files.toLocaleString("en-US")} files (it was stopped)`, {
            hint: "A package that unpacks to this much is refused; pick other packages, or check " +
                "what the requirements name",
            details: { bytes: exceeded.bytes, files: exceeded.files },
        });
    }
    return result;
});
import { execCommand } from "../exec.js";
import { DependencyError } from "../errors.js";
import { devicesOf, measureTree, pastBounds, unmeasurable, watchUsage, } from "../sandbox/copy_out.js";
export const INSTALL_DISK_LIMITS = { bytes: 10 * 1024 ** 3, files: 500_000 };
;
export const INSTALL_SAMPLE_MS = 250;
;
