/**
 * The digest a module of `lib/` carries in its first line: of its source and of the build that
 * made it (`scripts/build_js.ts`, `scripts/_eager.ts`). `tests/cli/command_js_test.ts` compares
 * it with the sources as they are, at the cost of reading them: a change to `src/` (or to the
 * build) without `deno task build:js` fails the suite. That `lib/` is byte for byte what the build
 * makes (no hand edit) is CI's gate, `deno task build:js --check`, which transpiles everything.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** The files whose text makes `lib/` what it is, besides each module's source. */
const BUILD_FILES = ["scripts/build_js.ts", "scripts/_eager.ts"];

/**
 * `sha256` (hex) of the build's files under `repo` and of the module `source` (its
 * repository-relative path) whose text is `text`.
 */
export function libDigest(repo: string, source: string, text: string): string {
  const hash = createHash("sha256");
  for (const file of BUILD_FILES) {
    hash.update(`${file}\0${Deno.readTextFileSync(join(repo, file))}\0`);
  }
  hash.update(`${source}\0${text}`);
  return hash.digest("hex");
}

/** The first line of the module of `lib/` made from `source` (whose text is `text`). */
export function libHeader(repo: string, source: string, text: string): string {
  return `// Generated from ${source} by scripts/build_js.ts (sha256 ${
    libDigest(repo, source, text)
  }): do not edit; \`deno task build:js\` writes it.\n`;
}

/** The digest a module's first line carries; undefined when it carries none. */
export function headerDigest(js: string): string | undefined {
  return /^\/\/ Generated from \S+ by scripts\/build_js\.ts \(sha256 ([0-9a-f]{64})\)/.exec(js)
    ?.[1];
}
