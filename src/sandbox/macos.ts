/**
 * The macOS backend: `sandbox-exec` with a generated SBPL profile.
 *
 * NOTE: this file cannot run on the Linux machines it is developed on. Only
 * {@linkcode sbplProfile} (pure text generation) is unit-tested there; the backend itself is
 * untested until it runs on macOS. `sandbox-exec` is deprecated by Apple but still shipped and used
 * (Chromium, Bazel, Codex); SBPL evaluates rules in order and the last matching rule wins, which is
 * how `protect` denials override the write grants placed before them.
 *
 * Limits: macOS has no cgroups, and its RLIMIT_NPROC counts every process of the user (a low value
 * breaks the first fork of a busy desktop), so only wall time and output size (enforced by
 * `execCommand`) apply here; memory and process limits are not enforced by this backend.
 *
 * @module
 */
import type { CommandSpec } from "../exec.ts";
import { PermissionError } from "../errors.ts";
import type { ProxyConnect, RunningProxy } from "./proxy.ts";
import { pinnedFolders } from "./policy.ts";
import type { Availability, SandboxBackend, SandboxPolicy, WrappedCommand } from "./types.ts";

const SANDBOX_EXEC = "/usr/bin/sandbox-exec";

/** System locations every interpreter needs to read. */
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
  // /usr/bin/python3 is a shim that runs the Command Line Tools' (or Xcode's) interpreter.
  "/Library/Developer/CommandLineTools",
  "/Applications/Xcode.app/Contents/Developer",
  "/private/var/select",
];

/** Device files scripts may write (stdout redirections, `/dev/null`). */
const DEVICE_WRITE = ["/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper"];

/** A string literal in SBPL (a Scheme-like string: backslash and double quote escaped). */
function sbplString(text: string): string {
  return '"' + text.replaceAll("\\", "\\\\").replaceAll('"', '\\"') + '"';
}

function subpaths(paths: readonly string[]): string {
  return paths.map((path) => `  (subpath ${sbplString(path)})`).join("\n");
}

/**
 * The SBPL profile confining one run: deny by default; read the system, `policy.read` and the
 * workdir; write `policy.write` and the temp dir, except `policy.protect`; network only to the
 * proxy on `localhost:proxyPort` when given, else none.
 *
 * @example
 * ```ts ignore
 * const profile = sbplProfile(policy, 3128);
 * new Deno.Command("sandbox-exec", { args: ["-p", profile, "python3", "script.py"] });
 * ```
 */
export function sbplProfile(policy: SandboxPolicy, proxyPort?: number): string {
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
    // Stat-ing path components is needed by realpath() and interpreters' import machinery; it
    // reveals names and sizes, never contents.
    "(allow file-read-metadata)",
    "(allow file-read*",
    subpaths(read),
    '  (literal "/"))',
    "(allow file-write*",
    subpaths(write),
    DEVICE_WRITE.map((path) => `  (literal ${sbplString(path)})`).join("\n") + ")",
  ];
  if (policy.protect.length > 0) {
    lines.push("(deny file-write*", subpaths(policy.protect) + ")");
    // The folders a protected path hangs from may not be renamed or removed themselves; what
    // lies in them stays writable.
    const pinned = pinnedFolders(policy.protect, write);
    if (pinned.length > 0) {
      lines.push(
        "(deny file-write*",
        pinned.map((path) => `  (literal ${sbplString(path)})`).join("\n") + ")",
      );
    }
  }
  if (proxyPort !== undefined) {
    lines.push(`(allow network-outbound (remote ip ${sbplString(`localhost:${proxyPort}`)}))`);
  }
  return lines.join("\n") + "\n";
}

/** Options of {@linkcode SandboxExecBackend}. */
export interface SandboxExecOptions {
  /** Upstream connector for the network proxy (tests). */
  connect?: ProxyConnect;
}

/** The macOS backend, built on `sandbox-exec`. */
export class SandboxExecBackend implements SandboxBackend {
  /** The backend's name, as `capibara doctor` prints it. */
  readonly name: string = "sandbox-exec";
  #options: SandboxExecOptions;
  #availability?: Promise<Availability>;

  /** A backend; nothing is probed until {@linkcode available}. */
  constructor(options: SandboxExecOptions = {}) {
    this.#options = options;
  }

  /** Ok only on macOS with `/usr/bin/sandbox-exec`. */
  available(): Promise<Availability> {
    this.#availability ??= (async (): Promise<Availability> => {
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
      } catch {
        return {
          ok: false,
          reason: `${SANDBOX_EXEC} was not found`,
          fix: "Run on a macOS that ships sandbox-exec, or pass --no-sandbox",
        };
      }
    })();
    return this.#availability;
  }

  /** Wraps `spec` as `sandbox-exec -p <profile> …`, with a proxy when hosts are granted. */
  async wrap(spec: CommandSpec, policy: SandboxPolicy): Promise<WrappedCommand> {
    const availability = await this.available();
    if (!availability.ok) {
      throw new PermissionError(`The sandbox-exec sandbox is unavailable: ${availability.reason}`, {
        hint: availability.fix,
      });
    }
    let proxy: RunningProxy | undefined;
    const env: Record<string, string> = {
      ...spec.env,
      HOME: policy.tmpDir,
      TMPDIR: policy.tmpDir,
    };
    let proxyPort: number | undefined;
    if (policy.network.length > 0) {
      // Loaded only when hosts are granted: a run without network never pays for it.
      const { proxyEnv, startProxy } = await import("./proxy.ts");
      proxy = startProxy({
        port: 0,
        allow: policy.network,
        privateAllow: policy.privateNetwork,
        connect: this.#options.connect,
      });
      proxyPort = (proxy.address as Deno.NetAddr).port;
      Object.assign(env, proxyEnv(`http://127.0.0.1:${proxyPort}`));
    }
    const profile = sbplProfile(policy, proxyPort);
    let closed: Promise<void> | undefined;
    return {
      spec: {
        program: SANDBOX_EXEC,
        args: ["-p", profile, spec.program, ...spec.args],
        env,
        cwd: policy.workdir,
      },
      close(): Promise<void> {
        closed ??= proxy ? proxy.close() : Promise.resolve();
        return closed;
      },
    };
  }
}
