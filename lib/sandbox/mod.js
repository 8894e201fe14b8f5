// Generated from src/sandbox/mod.ts by scripts/build_js.ts (sha256 5a99cc3422696807a4dc028f8d1f59f5f71b9762832fe8789d4e1ed2b85b6bf7): do not edit; `deno task build:js` writes it.
export var platformBackend = (function (cacheDir) {
    switch (Deno.build.os) {
        case "linux":
            linux ??= new BubblewrapBackend();
            if (cacheDir) {
                linux.useProbeCache((() => cacheFolderIsOwn(cacheDir) ? join(cacheDir, "sandbox", "bwrap-probe.json") : undefined));
            }
            return linux;
        case "darwin":
            return macos ??= new SandboxExecBackend();
        default:
            return undefined;
    }
});
export var confinementOf = (function (language) {
    return language === "typescript" ? "deno-permissions" : "os";
});
export var requireBackend = (async function (language, cacheDir) {
    const backend = platformBackend(cacheDir);
    const availability = backend ? await backend.available() : {
        ok: false,
        reason: `no sandbox backend exists for ${Deno.build.os}`,
        fix: "Run Python and bash scripts on Linux (bubblewrap) or macOS (sandbox-exec)",
    };
    if (!backend || !availability.ok) {
        throw new PermissionError(`Cannot sandbox this ${language} script: ${availability.reason ?? "the sandbox is unavailable"}`, {
            hint: `${availability.fix ?? "Install bubblewrap"}; or pass --no-sandbox to run it ` +
                "unprotected (see capibara doctor)",
        });
    }
    return backend;
});
import { join } from "../_path.js";
import { cacheFolderIsOwn } from "../_cache_folder.js";
import { PermissionError } from "../errors.js";
import { BubblewrapBackend } from "./linux.js";
import { SandboxExecBackend } from "./macos.js";
let linux;
let macos;
;
;
;
export const NO_SANDBOX_WARNING = "warning: --no-sandbox: the script runs with YOUR permissions: it can read and write every " +
    "file you can (~/.ssh included), reach any host, and start any process. Only time and output " +
    "size are limited.";
