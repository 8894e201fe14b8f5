/**
 * The digest a module of `lib/` carries in its first line: of its source and of the build that
 * made it (`scripts/build_js.ts`, `scripts/_eager.ts`, this file). `tests/cli/command_js_test.ts` compares
 * it with the sources as they are, at the cost of reading them: a change to `src/` (or to the
 * build) without `deno task build:js` fails the suite. That `lib/` is byte for byte what the build
 * makes (no hand edit) is CI's gate, `deno task build:js --check`, which transpiles everything.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** The TypeScript sources. */
export const SOURCE_DIR = "src";
/** Their JavaScript, which the installed command loads. */
export const MIRROR_DIR = "lib";

/**
 * Every entry below `dir` of `repo` but folders that `keep` takes (repository-relative, sorted;
 * none when `dir` is missing).
 */
export function filesBelow(
  repo: string,
  dir: string,
  keep: (entry: Deno.DirEntry) => boolean = () => true,
): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(join(repo, rel))];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${rel}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (keep(entry)) found.push(path);
    }
  };
  walk(dir);
  return found.sort();
}

/** The modules of `src/` (its `.ts` files, declarations aside), repository-relative. */
export function libSources(repo: string): string[] {
  return filesBelow(
    repo,
    SOURCE_DIR,
    (entry) => entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"),
  );
}

/** Where the JavaScript of the source `source` lies: `src/x/y.ts` → `lib/x/y.js`. */
export function mirrorOf(source: string): string {
  return `${MIRROR_DIR}/${source.slice(SOURCE_DIR.length + 1, -".ts".length)}.js`;
}

/** The files whose text makes `lib/` what it is, besides each module's source. */
const BUILD_FILES = ["scripts/build_js.ts", "scripts/_eager.ts", "scripts/_lib_digest.ts"];

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

/**
 * The files of `lib/` whose first line does not carry the digest of their source as it is now and
 * of the build as it is now (missing or stale), and those no source makes: what `deno task
 * build:js` would change, found by reading, without building.
 */
export function digestStale(repo: string): string[] {
  const sources = libSources(repo);
  const stale = sources.filter((source) => {
    let js = "";
    try {
      js = Deno.readTextFileSync(join(repo, mirrorOf(source)));
    } catch {
      // missing: stale
    }
    return headerDigest(js) !== libDigest(repo, source, Deno.readTextFileSync(join(repo, source)));
  }).map(mirrorOf);
  const made = new Set(sources.map(mirrorOf));
  const extra = filesBelow(repo, MIRROR_DIR).filter((path) => !made.has(path));
  return [...stale, ...extra];
}
