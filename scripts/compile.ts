/**
 * Builds the `capibara` binary for every platform `deno compile` supports:
 *
 *   deno task compile [--target <triple>...]
 *
 * `deno compile` needs the `denort` runtime of each target, which it downloads. Where that
 * download cannot happen (an offline machine), a target is reported as not built: no binary is
 * ever faked. `DENORT_BIN` (honoured by `deno compile` itself) points at a local `denort` for the
 * host's own target, which makes that one build offline.
 *
 * @module
 */
import { join } from "node:path";

const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

const REPO = join(import.meta.dirname!, "..");
const DIST = join(REPO, "dist");

function requested(): string[] {
  const picked: string[] = [];
  for (let i = 0; i < Deno.args.length; i++) {
    if (Deno.args[i] === "--target" && Deno.args[i + 1]) picked.push(Deno.args[++i]!);
  }
  return picked.length > 0 ? picked : [...TARGETS];
}

const hostTarget = Deno.build.target;
const denort = Deno.env.get("DENORT_BIN");
await Deno.mkdir(DIST, { recursive: true });
const results: { target: string; ok: boolean; detail: string }[] = [];
for (const target of requested()) {
  const output = join(DIST, `capibara-${target}${target.includes("windows") ? ".exe" : ""}`);
  const env: Record<string, string> = { NO_COLOR: "1" };
  // DENORT_BIN describes the host's runtime only: never hand it to another target's build.
  if (denort && target === hostTarget) env.DENORT_BIN = denort;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--allow-all",
      "--no-check",
      "--target",
      target,
      "--output",
      output,
      // The installed command's entry; the modules it imports by computed specifiers (lib/, the
      // JavaScript of src/), which deno compile cannot see, are included by name.
      ...["cli/mod.js", "cli/_fast_run.js", "run/remembered.js"].flatMap((module) => [
        "--include",
        join(REPO, "lib", module),
      ]),
      join(REPO, "cli.ts"),
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (out.success) {
    const size = (await Deno.stat(output)).size;
    results.push({ target, ok: true, detail: `${output} (${(size / 1024 ** 2).toFixed(1)} MiB)` });
  } else {
    // deno's error: a headline, then "Caused by:" lines `N: …`; the download failure is the one
    // that says which URL it could not fetch.
    const lines = stderr.split("\n").map((l) => l.trim());
    const causes = lines.filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/^\d+: /, ""));
    const last = (causes.find((l) => l.includes("request for url")) ?? causes.at(-1) ??
      lines.find((l) => l.startsWith("error:")) ?? "deno compile failed").slice(0, 300);
    const hint = target === hostTarget && !denort
      ? " (set DENORT_BIN to a local denort to build this target offline)"
      : "";
    results.push({ target, ok: false, detail: `not built: ${last}${hint}` });
  }
}
for (const r of results) console.log(`${r.ok ? "built  " : "skipped"} ${r.target}: ${r.detail}`);
const built = results.filter((r) => r.ok).length;
console.log(`${built} of ${results.length} binaries built`);
if (built === 0) Deno.exit(1);
