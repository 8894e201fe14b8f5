// Generated from src/sandbox/macos.ts by scripts/build_js.ts (sha256 a184574d40e471aaa44a77d4b9838ff47316956aa511d2fcc4eb975f27097d1b): do not edit; `deno task build:js` writes it.
var sbplString = (function (text) {
    return '"' + text.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
});
var subpaths = (function (paths) {
    return paths.map(((path) => `  (subpath ${sbplString(path)})`)).join("\n");
});
export var sbplProfile = (function (policy, proxyPort) {
    const read = [...SYSTEM_READ, ...policy.read, policy.workdir, policy.tmpDir];
    const write = [...policy.write, policy.tmpDir];
    const lines = [
        "(version 1)",
        "(deny default)",
        "(allow process-fork)",
        "(allow process-exec)",
        "(allow signal (target same-sandbox))",
        "(allow process-info* (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow ipc-posix-shm)",
        "(allow ipc-posix-sem)",
        '(allow mach-lookup (global-name "com.apple.system.opendirectoryd.libinfo"))',
        '(allow mach-lookup (global-name "com.apple.system.notification_center"))',
        '(allow mach-lookup (global-name "com.apple.system.logger"))',
        "(allow file-read-metadata)",
        "(allow file-read*",
        subpaths(read),
        '  (literal "/"))',
        "(allow file-write*",
        subpaths(write),
        DEVICE_WRITE.map(((path) => `  (literal ${sbplString(path)})`)).join("\n") + ")",
    ];
    if (policy.protect.length > 0) {
        lines.push("(deny file-write*", subpaths(policy.protect) + ")");
        const pinned = pinnedFolders(policy.protect, write);
        if (pinned.length > 0) {
            lines.push("(deny file-write*", pinned.map(((path) => `  (literal ${sbplString(path)})`)).join("\n") + ")");
        }
    }
    if (proxyPort !== undefined) {
        lines.push(`(allow network-outbound (remote ip ${sbplString(`localhost:${proxyPort}`)}))`);
    }
    return lines.join("\n") + "\n";
});
import { PermissionError } from "../errors.js";
import { pinnedFolders } from "./policy.js";
const SANDBOX_EXEC = "/usr/bin/sandbox-exec";
const SYSTEM_READ = [
    "/usr",
    "/bin",
    "/sbin",
    "/System",
    "/Library/Frameworks",
    "/Library/Apple",
    "/Library/Preferences",
    "/private/etc",
    "/private/var/db/timezone",
    "/opt/homebrew",
    "/usr/local",
    "/dev",
    "/Library/Developer/CommandLineTools",
    "/Applications/Xcode.app/Contents/Developer",
    "/private/var/select",
];
const DEVICE_WRITE = ["/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper"];
;
;
;
export class SandboxExecBackend {
    name = "sandbox-exec";
    #options;
    #availability;
    constructor(options = {}) {
        this.#options = options;
    }
    available() {
        this.#availability ??= (async () => {
            if (Deno.build.os !== "darwin") {
                return {
                    ok: false,
                    reason: "sandbox-exec exists only on macOS",
                    fix: "Use the bubblewrap backend on Linux, or pass --no-sandbox",
                };
            }
            try {
                await Deno.stat(SANDBOX_EXEC);
                return { ok: true };
            }
            catch {
                return {
                    ok: false,
                    reason: `${SANDBOX_EXEC} was not found`,
                    fix: "Run on a macOS that ships sandbox-exec, or pass --no-sandbox",
                };
            }
        })();
        return this.#availability;
    }
    async wrap(spec, policy) {
        const availability = await this.available();
        if (!availability.ok) {
            throw new PermissionError(`The sandbox-exec sandbox is unavailable: ${availability.reason}`, {
                hint: availability.fix,
            });
        }
        let proxy;
        const env = {
            ...spec.env,
            HOME: policy.tmpDir,
            TMPDIR: policy.tmpDir,
        };
        let proxyPort;
        if (policy.network.length > 0) {
            const { proxyEnv, startProxy } = await import("./proxy.js");
            proxy = startProxy({
                port: 0,
                allow: policy.network,
                privateAllow: policy.privateNetwork,
                connect: this.#options.connect,
            });
            proxyPort = proxy.address.port;
            Object.assign(env, proxyEnv(`http://127.0.0.1:${proxyPort}`));
        }
        const profile = sbplProfile(policy, proxyPort);
        let closed;
        return {
            spec: {
                program: SANDBOX_EXEC,
                args: ["-p", profile, spec.program, ...spec.args],
                env,
                cwd: policy.workdir,
            },
            close() {
                closed ??= proxy ? proxy.close() : Promise.resolve();
                return closed;
            },
        };
    }
}
