/**
 * The folder of the user's runner sockets (`capibara runner`), and the one rule for trusting it.
 * A leaf: the runner, its client and the sandbox (which hides it from every script) share it.
 *
 * @module
 */

/** The folder of the user's runner sockets (not checked: see {@linkcode privateFolder}). */
export function runnerFolder(env: Record<string, string | undefined>): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && runtime.startsWith("/")) return `${runtime.replace(/\/+$/, "")}/capibara`;
  const tmp = (env.TMPDIR || env.TMP || env.TEMP || "/tmp").replace(/(.)\/+$/, "$1");
  return `${tmp}/capibara-${Deno.uid() ?? "user"}`;
}

/**
 * Every folder a runner of this user could listen in, whatever the environment it was started
 * with: the sandbox hides each of them from scripts (a script that reached a runner could ask it
 * for any run).
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
  const uid = Deno.uid();
  try {
    const info = Deno.lstatSync(folder);
    if (!info.isDirectory || info.uid !== uid || ((info.mode ?? 0o777) & 0o077) !== 0) {
      return false;
    }
    for (
      let dir = folder.replace(/\/[^/]*$/, "") || "/";;
      dir = dir.replace(/\/[^/]*$/, "") || "/"
    ) {
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
