// Generated from src/runtimes/bash.ts by scripts/build_js.ts (sha256 f020e5b556b22e3beb6d5e630963583e663c3b03dd05df50525a018f5fb00750): do not edit; `deno task build:js` writes it.
var isExecutableFile = (async function (path) {
    try {
        const info = await Deno.stat(path);
        return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
    }
    catch {
        return false;
    }
});
import { DependencyError, tail } from "../errors.js";
import { once } from "../_memo.js";
import { which } from "../_which.js";
import { execCommand } from "../exec.js";
const PROBE_TIMEOUT_MS = 30_000;
const INSTALL_HINT = "Install bash (4 or newer) and make sure it is on PATH";
;
export class BashRuntime {
    language = "bash";
    #bash;
    #userEnv;
    #binary;
    #version;
    constructor(options = {}) {
        this.#bash = options.bash;
        this.#userEnv = options.env ?? Deno.env.toObject();
        this.#binary = once((() => this.#findBinary()));
        this.#version = once((() => this.#probeVersion()));
    }
    async describe() {
        return { name: "bash", version: await this.#version() };
    }
    async prepare(manifest, _scriptDir, _options) {
        if (manifest.deps.length) {
            throw new DependencyError(`Cannot install requirements for a bash script: bash scripts have none (got ${manifest.deps.join(", ")})`, {
                hint: "Regenerate the script, or set its manifest's deps to []",
                details: { requirements: manifest.deps },
            });
        }
        return {
            interpreter: await this.#binary(),
            interpreterArgs: ["--noprofile", "--norc"],
            readPaths: [],
            env: {},
        };
    }
    async #findBinary() {
        const name = this.#bash;
        if (name === undefined && await isExecutableFile("/bin/bash"))
            return "/bin/bash";
        const wanted = name ?? "bash";
        const found = await which(wanted, this.#userEnv.PATH ?? "");
        if (found && found.startsWith("/") && await isExecutableFile(found))
            return found;
        throw new DependencyError(`Cannot run bash scripts: "${wanted}" was not found`, {
            hint: INSTALL_HINT,
        });
    }
    async #probeVersion() {
        const bash = await this.#binary();
        let result;
        try {
            result = await execCommand({
                program: bash,
                args: ["--noprofile", "--norc", "-c", 'printf "%s\\n" "$BASH_VERSION"'],
                env: { PATH: this.#userEnv.PATH ?? "/usr/bin:/bin" },
                cwd: "/",
            }, { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 64_000 });
        }
        catch (error) {
            throw new DependencyError(`Cannot run bash scripts: "${bash}" does not start`, {
                hint: INSTALL_HINT,
                cause: error,
            });
        }
        const match = /^(\d+)\.(\d+)/.exec(result.stdout.trim());
        if (result.code === 0 && match)
            return `${match[1]}.${match[2]}`;
        throw new DependencyError(`Cannot run bash scripts: "${bash}" does not report a version`, {
            hint: INSTALL_HINT,
            details: { bash, exit_code: result.code, stderr: tail(result.stderr) },
        });
    }
}
