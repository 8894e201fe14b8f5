/**
 * The machine's processes as /proc shows them, for tests that look for a survivor.
 *
 * @module
 */

/**
 * Every live process's command line (its arguments joined by spaces, as `pgrep -af` shows it),
 * this process's aside. Read from /proc whole: `pgrep` matches only a command line's first 4 kB,
 * and a Python sandbox's last step holds its program's text before the script's path.
 */
export function commandLines(): { pid: number; line: string }[] {
  const found: { pid: number; line: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const line = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replace(/\0$/, "")
        .replaceAll("\0", " ");
      if (line !== "") found.push({ pid: Number(entry.name), line });
    } catch {
      // gone
    }
  }
  return found;
}
