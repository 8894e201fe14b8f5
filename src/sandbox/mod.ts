/**
 * Picks the sandbox backend of this platform and turns its unavailability into a clear refusal.
 *
 * @module
 */
import { join } from "../_path.ts";
import { cacheFolderIsOwn } from "../_cache_folder.ts";
import { PermissionError } from "../errors.ts";
import type { Language } from "../schema.ts";
import { BubblewrapBackend } from "./linux.ts";
import { SandboxExecBackend } from "./macos.ts";
import type { Availability, SandboxBackend } from "./types.ts";

let linux: BubblewrapBackend | undefined;
let macos: SandboxExecBackend | undefined;

/**
 * The OS-level backend of this platform (bubblewrap on Linux, sandbox-exec on macOS), if any.
 * With a cache directory, a successful probe is remembered there across processes.
 */
export function platformBackend(cacheDir?: string): SandboxBackend | undefined {
  switch (Deno.build.os) {
    case "linux":
      linux ??= new BubblewrapBackend();
      // The probe names the programs a run starts: remembered only in a cache folder of the
      // user's alone (see _cache_folder.ts), else probed afresh. The folder is looked at only
      // while the backend may still take it (it has neither one nor a probe).
      if (cacheDir) {
        linux.useProbeCache(() =>
          cacheFolderIsOwn(cacheDir) ? join(cacheDir, "sandbox", "bwrap-probe.json") : undefined
        );
      }
      return linux;
    case "darwin":
      return macos ??= new SandboxExecBackend();
    default:
      return undefined;
  }
}

/** How a language's scripts are confined: Deno's own permissions, or an OS-level backend. */
export function confinementOf(language: Language): "deno-permissions" | "os" {
  return language === "typescript" ? "deno-permissions" : "os";
}

/** The backend for a script, or a `PermissionError` saying why none can run and what to do. */
export async function requireBackend(
  language: Language,
  cacheDir?: string,
): Promise<SandboxBackend> {
  const backend = platformBackend(cacheDir);
  const availability: Availability = backend ? await backend.available() : {
    ok: false,
    reason: `no sandbox backend exists for ${Deno.build.os}`,
    fix: "Run Python and bash scripts on Linux (bubblewrap) or macOS (sandbox-exec)",
  };
  if (!backend || !availability.ok) {
    throw new PermissionError(
      `Cannot sandbox this ${language} script: ${
        availability.reason ?? "the sandbox is unavailable"
      }`,
      {
        hint: `${availability.fix ?? "Install bubblewrap"}; or pass --no-sandbox to run it ` +
          "unprotected (see capibara doctor)",
      },
    );
  }
  return backend;
}

/** What `--no-sandbox` leaves unprotected, printed before such a run. */
export const NO_SANDBOX_WARNING: string =
  "warning: --no-sandbox: the script runs with YOUR permissions: it can read and write every " +
  "file you can (~/.ssh included), reach any host, and start any process. Only time and output " +
  "size are limited.";
