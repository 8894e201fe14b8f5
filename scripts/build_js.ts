/**
 * Builds `lib/`: every module of `src/` as JavaScript, at the same place under `lib/` (committed),
 * which the installed command (`cli.ts`) loads instead of the TypeScript.
 *
 *   deno task build:js            # writes lib/
 *   deno task build:js --check    # exit 1 when lib/ is not what src/ makes
 *   deno task build:js --transpile src/x.ts < text   # one module's JavaScript
 *
 * Why (README, Architecture, "The installed command loads JavaScript"): Deno checks a TypeScript
 * module's transpiled copy in its cache before each load, ≈ 0.2 ms a module here; a hit in a
 * process of its own loads about fifty. The sources stay the one definition: the SDK, the runner
 * (`main.ts`), the tests and `deno check` use them; `tests/cli/command_js_test.ts` fails when a
 * module of `lib/` was not built from its source as it is (the digest on its first line, see
 * `_lib_digest.ts`), and CI's `--check` when `lib/` is not byte for byte what they make.
 *
 * Each module is transpiled alone (TypeScript's `transpileModule`, as Deno's own emit: types and
 * imports used only as types go), with its relative imports pointed at the other modules of `lib/`
 * (`.ts` → `.js`), and its imports of files that are not modules (`with { type: "text" }`,
 * `"json"`) pointed at the original files: nothing but JavaScript is copied. `lib/x/y.js` lies as
 * deep as `src/x/y.ts`, so what a module finds by `import.meta.url` (`../..`: the checkout) is the
 * same from both.
 *
 * Each module's functions are then written so that V8 compiles them with the module and Deno's code
 * cache keeps them (`eagerFunctions`, scripts/_eager.ts): a hit in a process of its own calls a few
 * hundred of them once each, which V8 otherwise compiled on each first call, in every run.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { eagerFunctions } from "./_eager.ts";
import {
  filesBelow,
  libHeader,
  libSources,
  MIRROR_DIR,
  mirrorOf,
  SOURCE_DIR,
} from "./_lib_digest.ts";

/**
 * TypeScript's compiler, loaded by a computed specifier: it is a build tool, kept out of the
 * project's lockfile (a first run from a checkout caches every package that lockfile names), and
 * locked in `scripts/build.lock` by the task and the test that run this script.
 */
const TYPESCRIPT = ["npm:typescript", "5.6.3"].join("@");
// deno-lint-ignore no-explicit-any
type Ts = any;
const ts: Ts = (await import(TYPESCRIPT)).default;

const REPO = resolve(import.meta.dirname!, "..");
/** Whether a relative `specifier` names a module of `src/` (no import attributes, `.ts`). */
function mirrored(target: string, withAttributes: boolean): boolean {
  const rel = relative(join(REPO, SOURCE_DIR), target);
  return !withAttributes && target.endsWith(".ts") && !rel.startsWith("..");
}

/** `path` as a relative specifier from the folder `from`. */
function specifierFrom(from: string, path: string): string {
  const rel = relative(from, path);
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/**
 * The JavaScript of the source `source` (repository-relative, under `src/`) with text `text`, as
 * `lib/` holds it.
 */
export function transpile(source: string, text: string): string {
  const sourceDir = dirname(join(REPO, source));
  const mirrorDir = dirname(join(REPO, MIRROR_DIR, relative(SOURCE_DIR, source)));
  const file = ts.createSourceFile(source, text, ts.ScriptTarget.ESNext, true);
  const edits: { start: number; end: number; text: string }[] = [];
  const rewrite = (literal: Ts, withAttributes: boolean) => {
    if (!ts.isStringLiteral(literal)) return;
    const specifier = literal.text;
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) return;
    const target = resolve(sourceDir, specifier);
    const to = mirrored(target, withAttributes)
      ? join(REPO, MIRROR_DIR, relative(join(REPO, SOURCE_DIR), target)).replace(/\.ts$/, ".js")
      : target;
    edits.push({
      start: literal.getStart(file),
      end: literal.getEnd(),
      text: JSON.stringify(specifierFrom(mirrorDir, to)),
    });
  };
  const visit = (node: Ts) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
    ) {
      rewrite(node.moduleSpecifier, node.attributes !== undefined);
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0]
    ) {
      rewrite(node.arguments[0], node.arguments.length > 1);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  let edited = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    edited = edited.slice(0, edit.start) + edit.text + edited.slice(edit.end);
  }
  const output = ts.transpileModule(edited, {
    fileName: source,
    compilerOptions: {
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      useDefineForClassFields: true,
      removeComments: true,
      newLine: ts.NewLineKind.LineFeed,
    },
    reportDiagnostics: true,
  });
  const errors = (output.diagnostics ?? []).filter((d: Ts) =>
    d.category === ts.DiagnosticCategory.Error
  );
  if (errors.length > 0) {
    const message = ts.flattenDiagnosticMessageText(errors[0]!.messageText, "\n");
    throw new Error(`${source}: ${message}`);
  }
  return eagerFunctions(output.outputText, { header: libHeader(REPO, source, text), nested: true });
}

/** `lib/`'s files as the sources make them now: repository-relative path → text. */
export function buildMirror(): Map<string, string> {
  const built = new Map<string, string>();
  for (const source of libSources(REPO)) {
    built.set(mirrorOf(source), transpile(source, Deno.readTextFileSync(join(REPO, source))));
  }
  return built;
}

/** Every file now under `lib/` (repository-relative), with its text. */
function committed(): Map<string, string> {
  return new Map(
    filesBelow(REPO, MIRROR_DIR).map((path) => [path, Deno.readTextFileSync(join(REPO, path))]),
  );
}

/** The files of `lib/` that differ from what the sources make (missing, stale or extra). */
export function staleFiles(): string[] {
  const built = buildMirror();
  const now = committed();
  const stale = [...built].filter(([path, text]) => now.get(path) !== text).map(([p]) => p);
  const extra = [...now.keys()].filter((path) => !built.has(path));
  return [...stale, ...extra].sort();
}

if (import.meta.main) {
  if (Deno.args[0] === "--transpile" && Deno.args[1]) {
    // One module's JavaScript, its source on standard input (tests/cli/command_js_test.ts).
    const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
    await Deno.stdout.write(new TextEncoder().encode(transpile(Deno.args[1], text)));
    Deno.exit(0);
  }
  if (Deno.args.includes("--check")) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(
        `${MIRROR_DIR}/ is not what ${SOURCE_DIR}/ makes (${stale.join(", ")}): ` +
          "run deno task build:js",
      );
      Deno.exit(1);
    }
    console.log(`${MIRROR_DIR}/ is up to date`);
  } else {
    const built = buildMirror();
    // Each file written whole, then renamed: never a half-written module where the command
    // loads it; then what no source makes any more goes.
    for (const [path, text] of built) {
      const target = join(REPO, path);
      Deno.mkdirSync(dirname(target), { recursive: true });
      const staging = `${target}.tmp`;
      Deno.writeTextFileSync(staging, text);
      Deno.renameSync(staging, target);
    }
    for (const path of committed().keys()) {
      if (!built.has(path)) Deno.removeSync(join(REPO, path));
    }
    console.log(`wrote ${built.size} modules to ${MIRROR_DIR}/`);
  }
}
