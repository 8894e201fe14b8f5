/**
 * The folder of the user's runner key (`capibara runner`), and the one rule for trusting it. A
 * leaf: the runner, its client and the sandbox (which hides it from every script) share it.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "./_path.ts";

/**
 * The folder of the user's runner key (not checked: see {@linkcode privateFolder}):
 * `$XDG_RUNTIME_DIR/capibara`, else `<temp dir>/capibara-<uid>`; only absolute variables count.
 */
export function runnerFolder(env: Record<string, string | undefined>): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return resolve(runtime, "capibara");
  const tmp = [env.TMPDIR, env.TMP, env.TEMP].find((value) => value && isAbsolute(value));
  return resolve(tmp ?? "/tmp", `capibara-${Deno.uid() ?? "user"}`);
}

/**
 * The folders a runner of this user usually keeps its key in, whatever the environment: the
 * sandbox hides them from scripts (the runner's socket is out of every sandbox's reach anyway).
 */
export function runnerFolders(env: Record<string, string | undefined>): string[] {
  const uid = Deno.uid() ?? "user";
  return [...new Set([runnerFolder(env), `/tmp/capibara-${uid}`, `/run/user/${uid}/capibara`])];
}

/**
 * Whether `folder` is a real folder of this user's that no other user can enter, change or swap:
 * mode 0700, and every folder above it this user's or root's, and writable by others only when
 * sticky (as `/tmp`), so that nobody else can rename it away between this check and its use.
 */
export function privateFolder(folder: string): boolean {
  if (!isAbsolute(folder) || resolve(folder) !== folder) return false;
  const uid = Deno.uid();
  try {
    const info = Deno.lstatSync(folder);
    if (!info.isDirectory || info.uid !== uid || ((info.mode ?? 0o777) & 0o077) !== 0) {
      return false;
    }
    for (let dir = dirname(folder);; dir = dirname(dir)) {
      const above = Deno.lstatSync(dir);
      const mode = above.mode ?? 0o777;
      if (!above.isDirectory || (above.uid !== uid && above.uid !== 0)) return false;
      if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) return false;
      if (dir === "/") return true;
    }
  } catch {
    return false;
  }
}
