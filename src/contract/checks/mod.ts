/**
 * Static checks of generated scripts, run before a script is stored (and on demand on stored
 * ones). They are defence in depth, not the boundary: the sandbox is. A finding names the rule, the
 * line and what to do instead, phrased for the model that wrote the script.
 *
 * How each language is read:
 * - python (`python.ts`): Python's own `ast` module, in `py_analyzer.py`, which only parses the
 *   script (it never runs it) and prints imports, calls, string literals and environment reads as
 *   JSON. It runs through the platform's sandbox backend, as scripts do (no network, no host files
 *   but the interpreter's), else as `python3 -I` with an empty environment. Without any python, a
 *   token scan stands in.
 * - typescript (`typescript.ts`): Deno's own parser, through a `deno lint` plugin
 *   (`ts_plugin.ts`) that reports imports, uses of `Deno` (aliases such as `const d = Deno`,
 *   computed members and `globalThis.Deno` included) and string literals with their lines.
 * - bash (`bash.ts`): a token scan that finds the command word of each simple command (after
 *   assignments, keywords and wrappers such as `env`, `xargs` or `sudo`) and checks its arguments.
 *   Code built at run time (`bash -c "$x"`) is not followed.
 *
 * The checks read no environment of their own: the caller's (`env`) finds python and deno.
 *
 * Rules (the `rule` of a {@linkcode Finding}): `import` (python modules outside the template's
 * list and the requirements; TS specifiers other than listed `node:` built-ins and pinned `npm:`
 * requirements, and relative files imported as data), `network` (network modules, calls or tools
 * without `needs.network`), `shell-execution`, `native-code` (ctypes, `Deno.dlopen`),
 * `dynamic-code` (eval/exec of computed code, `new Function`, bash `eval`, computed `Deno[…]`,
 * `Deno` handed on as a value), `dynamic-import`, `raw-socket`, `delete-outside` (deleting
 * absolute, `..` or `~` paths), `credential-path`, `secret` (API-key-shaped literals, anywhere in
 * the file), `env` (reads of variables not in `needs.env`), `remote-access`,
 * `privilege-escalation`, `persistence`, `git-config`, `git-hooks`, `shell-startup`,
 * `remote-code` (bash); `syntax` and `analysis` when the script cannot be analysed.
 *
 * @module
 */
import type { Bundle } from "../../schema.ts";
import { platformBackend } from "../../sandbox/mod.ts";
import type { SandboxBackend } from "../../sandbox/types.ts";
import { checkSecrets, dedupe, type Finding } from "./_common.ts";
import { checkBash } from "./bash.ts";
import { checkPython } from "./python.ts";
import { checkTypeScript } from "./typescript.ts";

export type { Finding } from "./_common.ts";
export { DOES_NOT_PARSE } from "./_common.ts";

/** Options of {@linkcode staticChecks}. */
export interface StaticChecksOptions {
  /** Python interpreter that parses python scripts (default `python3` on `env.PATH`). */
  python?: string;
  /** The deno binary that parses TypeScript scripts (default: the running one, else `deno`). */
  deno?: string;
  /** Time limit of each analysis in milliseconds (default 15000). */
  timeoutMs?: number;
  /**
   * The caller's environment (default: none, so PATH is `/usr/local/bin:/usr/bin:/bin`). Its
   * PATH finds python and deno, and the python look-up sees `HOME`, `PYENV_ROOT`, `PYENV_VERSION`
   * (pyenv shims); the analyses themselves run with an empty environment.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The backend that confines the python analysis (default: the platform's, as for scripts);
   * `null` runs it unconfined, as where no backend works.
   */
  sandbox?: SandboxBackend | null;
}

/**
 * The largest script the checks analyse, in bytes (UTF-8): generated scripts are a few kilobytes,
 * and a parser's memory grows with what it reads (the TypeScript analysis runs on the host).
 */
export const MAX_SCRIPT_BYTES = 512 * 1024;

/**
 * Runs the static checks of `bundle.script` for its language and returns what they found (empty
 * when the script passes). Never throws for a bad script: a script the checker cannot analyse is a
 * finding.
 */
export async function staticChecks(
  bundle: Bundle,
  options: StaticChecksOptions = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const ctx = {
    script: bundle.script,
    requirements: bundle.requirements,
    network: bundle.needs.network.length > 0,
    env: new Set(bundle.needs.env),
    add: (rule: string, message: string, line?: number) =>
      findings.push({ rule, message, ...(line === undefined ? {} : { line }), severity: "error" }),
  };
  const env = options.env ?? {};
  const timeoutMs = options.timeoutMs ?? 15_000;
  // A parser's memory grows with its input (`deno lint` of a 15 MB script of string literals took
  // 3.5 GiB on the host in its 15 s): a script past the bound is not analysed at all.
  const bytes = new TextEncoder().encode(bundle.script).length;
  if (bytes > MAX_SCRIPT_BYTES) {
    ctx.add(
      "script-size",
      `the script is ${Math.ceil(bytes / 1024)} KiB, more than the ${
        MAX_SCRIPT_BYTES / 1024
      } KiB a script may be: write a shorter one`,
    );
    return findings;
  }
  if (bundle.language === "python") {
    await checkPython(ctx, {
      python: options.python ?? "python3",
      timeoutMs,
      env,
      backend: options.sandbox === undefined ? platformBackend() : options.sandbox ?? undefined,
    });
  } else if (bundle.language === "typescript") {
    await checkTypeScript(ctx, { deno: options.deno, timeoutMs, env });
  } else {
    checkBash(ctx);
  }
  checkSecrets(ctx);
  return dedupe(findings);
}

const MAX_LISTED = 30;

/** One line per finding (`line 12: shell execution (subprocess.run) is not allowed`). */
export function formatFindings(findings: readonly Finding[]): string {
  const lines = findings.slice(0, MAX_LISTED).map((f) =>
    f.line === undefined ? f.message : `line ${f.line}: ${f.message}`
  );
  if (findings.length > MAX_LISTED) {
    lines.push(`… and ${findings.length - MAX_LISTED} more findings`);
  }
  return lines.join("\n");
}
