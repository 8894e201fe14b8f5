/**
 * lib/, the JavaScript of src/ that the installed command loads (scripts/build_js.ts). The build
 * script runs in a process of its own, with its own lockfile (scripts/build.lock): TypeScript's
 * compiler is a build tool, kept out of the project's lockfile.
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { digestStale, headerDigest, libDigest } from "../../scripts/_lib_digest.ts";

const REPO = join(import.meta.dirname!, "..", "..");

/** Runs scripts/build_js.ts with `args` (and `input` on standard input). */
async function buildJs(args: string[], input = ""): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--lock=scripts/build.lock", "scripts/build_js.ts", ...args],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  return await child.output();
}

Deno.test("lib/: each module was built from its source as it is now, by the build as it is now", () => {
  // A change to src/ (or to the build) without `deno task build:js` would leave every installed
  // `capibara` on the old code while the SDK, the runner and the unit tests use the new. That the
  // files are byte for byte what the build makes is CI's gate (`deno task build:js --check`).
  const stale = digestStale(REPO);
  assert.deepEqual(stale, [], `run deno task build:js (${stale.join(", ")})`);
});

Deno.test("lib/: a module's imports lead to lib/'s modules, and its text and JSON to the originals", async () => {
  const input = [
    'import type { Policy } from "./types.ts";',
    'import { join } from "../_path.ts";',
    'import SCRIPT from "./step.py" with { type: "text" };',
    'import PLUGIN from "../contract/checks/ts_plugin.ts" with { type: "text" };',
    'import config from "../../deno.json" with { type: "json" };',
    'export { isInside } from "../_fs.ts";',
    'import "npm:canonicalize@^2.0.0";',
    "export const p: Policy | undefined = undefined;",
    'export const x = [join("a"), SCRIPT, PLUGIN, config, import("./proxy.ts")];',
    'export const url = new URL("../..", import.meta.url);',
  ].join("\n");
  const out = await buildJs(["--transpile", "src/sandbox/example.ts"], input);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const js = new TextDecoder().decode(out.stdout);
  assert.match(js, /^\/\/ Generated from src\/sandbox\/example\.ts/);
  // Its first line carries the digest of its path and text (and of the build), which the suite
  // compares with the sources: another text or another path is another digest.
  const digest = libDigest(REPO, "src/sandbox/example.ts", input);
  assert.equal(headerDigest(js), digest);
  assert.notEqual(libDigest(REPO, "src/sandbox/example.ts", input + " "), digest);
  assert.notEqual(libDigest(REPO, "src/sandbox/other.ts", input), digest);
  // A type-only import is gone, as in Deno's own emit.
  assert.doesNotMatch(js, /types/);
  assert.match(js, /from "\.\.\/_path\.js"/);
  assert.match(js, /from "\.\.\/_fs\.js"/);
  assert.match(js, /import\("\.\/proxy\.js"\)/);
  // Files read as text or JSON are the sources' own (a TypeScript file read as text too).
  assert.match(js, /from "\.\.\/\.\.\/src\/sandbox\/step\.py" with \{ type: "text" \}/);
  assert.match(
    js,
    /from "\.\.\/\.\.\/src\/contract\/checks\/ts_plugin\.ts" with \{ type: "text" \}/,
  );
  assert.match(js, /from "\.\.\/\.\.\/deno\.json" with \{ type: "json" \}/);
  assert.match(js, /import "npm:canonicalize@\^2\.0\.0"/);
  // As deep as its source: `../..` names the checkout from both.
  assert.match(js, /new URL\("\.\.\/\.\.", import\.meta\.url\)/);
});

Deno.test("the project's lockfile names no build tool of lib/ and no test server", async () => {
  // A first run from a checkout caches every npm package deno.lock names: TypeScript's compiler
  // (scripts/build.lock) and s3rver with its hundred-odd packages (tests/helpers/s3_server.lock)
  // are locked in files of their own.
  const lock = JSON.parse(await Deno.readTextFile(join(REPO, "deno.lock")));
  const names = Object.keys(lock.npm ?? {});
  for (const tool of ["typescript", "s3rver", "koa"]) {
    assert.ok(!names.some((name) => name.startsWith(`${tool}@`)), `deno.lock holds ${tool}`);
  }
  assert.ok(names.length <= 20, `deno.lock holds ${names.length} packages: ${names.join(", ")}`);
  const s3 = JSON.parse(await Deno.readTextFile(join(REPO, "tests/helpers/s3_server.lock")));
  assert.ok(Object.keys(s3.npm).some((name) => name.startsWith("s3rver@")));
});
