/**
 * The TypeScript checks. Deno's own parser reads the script: `ts_plugin.ts`, a `deno lint` plugin,
 * reports every import specifier, every use of `Deno` (aliases, computed members and
 * `globalThis.Deno` included), `eval`, `Function`, network calls, environment reads and string
 * literals, with their lines; comments are never code and strings never names. The deno binary
 * runs it on a private copy of the script, with an empty environment and a configuration of its
 * own. The rules below judge those facts.
 *
 * @module
 */
import { basename, join } from "../../_path.ts";
import PLUGIN from "./ts_plugin.ts" with { type: "text" };
import type { Fact as PluginFact } from "./ts_plugin.ts";
import { execCommand } from "../../exec.ts";
import { tail } from "../../errors.ts";
import { removeIfExists } from "../../_fs.ts";
import { DEFAULT_PATH, which } from "../../_which.ts";
import { ALLOWED_IMPORTS, NETWORK_IMPORTS } from "../contract.ts";
import { type NpmRequirement, parseNpmRequirement, RequirementError } from "../requirements.ts";
import { type CheckContext, checkCredentialPath, checkEnvRead, DOES_NOT_PARSE } from "./_common.ts";

/** Options of {@linkcode checkTypeScript}. */
export interface TypeScriptCheckOptions {
  /** The deno binary that parses the script (default: this one, else `deno` on `env.PATH`). */
  deno?: string;
  /** Time limit of the analysis in milliseconds. */
  timeoutMs: number;
  /** The caller's environment: its PATH finds deno; nothing of it reaches the analysis. */
  env: Readonly<Record<string, string | undefined>>;
}

/** A fact the plugin reports (see `ts_plugin.ts`), with its line. */
type Fact = PluginFact & { line: number };

/** The plugin's rule, as `deno lint --json` names it. */
const PLUGIN_CODE = "capibara/facts";
/** Any spelling of an ignore directive (`deno-lint-ignore`, `-file`): neutralised in the copy. */
const IGNORE_DIRECTIVE = /deno-lint-ignore/gi;

const NETWORK_MEMBERS = new Set([
  "connect",
  "connectTls",
  "listen",
  "listenTls",
  "listenDatagram",
  "startTls",
  "serve",
  "resolveDns",
]);

function isDenoBinary(path: string): boolean {
  const name = basename(path).toLowerCase();
  return name === "deno" || name === "deno.exe";
}

async function denoBinary(options: TypeScriptCheckOptions): Promise<string | undefined> {
  if (options.deno !== undefined) {
    return await which(options.deno, options.env.PATH ?? DEFAULT_PATH);
  }
  if (isDenoBinary(Deno.execPath())) return Deno.execPath();
  return await which("deno", options.env.PATH ?? DEFAULT_PATH);
}

/** Parses the script with Deno's parser; a string is why it could not be analysed. */
async function scriptFacts(
  script: string,
  options: TypeScriptCheckOptions,
): Promise<Fact[] | { syntax: string; line?: number } | string> {
  const deno = await denoBinary(options);
  if (!deno) return "no deno binary was found to parse it";
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_checks_" }));
  try {
    // An ignore directive would hide facts: the copy spells it differently, at the same offsets.
    await Deno.writeTextFile(
      join(dir, "script.ts"),
      script.replace(IGNORE_DIRECTIVE, (m) => "x" + m.slice(1)),
    );
    await Deno.writeTextFile(join(dir, "ts_plugin.ts"), PLUGIN);
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({ lint: { plugins: ["./ts_plugin.ts"], rules: { tags: [] } } }),
    );
    await Deno.mkdir(join(dir, "deno_dir"));
    const out = await execCommand({
      program: deno,
      args: ["lint", "--config", join(dir, "deno.json"), "--json", join(dir, "script.ts")],
      env: {
        DENO_DIR: join(dir, "deno_dir"),
        HOME: dir,
        NO_COLOR: "1",
        DENO_NO_UPDATE_CHECK: "1",
        DENO_NO_PACKAGE_JSON: "1",
      },
      cwd: dir,
    }, { timeoutMs: options.timeoutMs, maxOutputBytes: 64_000_000 });
    if (out.timedOut) {
      return `the typescript analysis did not finish within ${options.timeoutMs} ms`;
    }
    let report: {
      diagnostics?: { code?: string; message?: string; range?: { start?: { line?: number } } }[];
      errors?: { message?: string }[];
    };
    try {
      report = JSON.parse(out.stdout);
    } catch {
      return `the typescript analysis failed: ${
        tail(out.stderr || out.stdout, 300) || "no output"
      }`;
    }
    const error = report.errors?.[0]?.message;
    if (error !== undefined && !/^SyntaxError\b/.test(error)) {
      return `the typescript analysis failed: ${tail(error, 300)}`;
    }
    if (error !== undefined) {
      const at = /:(\d+):\d+\s*$/.exec(error);
      const first = error.split("\n")[0] ?? error;
      return {
        syntax: first.replace(/^SyntaxError:\s*/, ""),
        line: at ? Number(at[1]) : undefined,
      };
    }
    const facts: Fact[] = [];
    let end: number | undefined;
    for (const diagnostic of report.diagnostics ?? []) {
      if (diagnostic.code !== PLUGIN_CODE) continue;
      let fact;
      try {
        fact = JSON.parse(diagnostic.message ?? "");
      } catch {
        return `the typescript analysis reported an unreadable fact: ${diagnostic.message}`;
      }
      if (fact.k === "end") end = fact.n;
      else facts.push({ ...fact, line: diagnostic.range?.start?.line ?? 0 });
    }
    if (end === undefined) {
      return "the typescript analysis did not report its end (deno lint plugins need Deno 2.2 " +
        "or newer)" +
        (out.stderr.trim() ? `: ${tail(out.stderr, 300)}` : "");
    }
    if (end !== facts.length) {
      return `the typescript analysis lost facts (${facts.length} of ${end} arrived)`;
    }
    return facts;
  } finally {
    await removeIfExists(dir);
  }
}

function checkTsImport(ctx: CheckContext, specifier: string, line: number): void {
  if (/^\.{1,2}\//.test(specifier)) return;
  if (specifier.startsWith("node:")) {
    const base = specifier.split("/")[0] ?? specifier;
    if (base === "node:child_process") {
      ctx.add("shell-execution", `shell execution (import "${specifier}") is not allowed`, line);
      return;
    }
    const allowed = ALLOWED_IMPORTS.typescript;
    if (allowed.includes(specifier) || allowed.includes(base)) return;
    if (NETWORK_IMPORTS.typescript.includes(base)) {
      if (!ctx.network) {
        ctx.add(
          "network",
          `network access (import "${specifier}") needs the hosts listed in needs.network`,
          line,
        );
      }
      return;
    }
    ctx.add(
      "import",
      `import "${specifier}" is not allowed: use only ${allowed.join(", ")}`,
      line,
    );
    return;
  }
  if (specifier.startsWith("npm:")) {
    const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?/.exec(specifier);
    const name = m?.[1] ?? "";
    const pinned = ctx.requirements.map(npmRequirementOrUndefined).find((r) => r?.name === name);
    if (!pinned) {
      ctx.add(
        "import",
        `import "${specifier}" is not in requirements: add it pinned as "${name}==version"`,
        line,
      );
    } else if (m?.[2] !== pinned.version) {
      ctx.add(
        "import",
        `import "${specifier}" must name the pinned version exactly: "npm:${name}@${pinned.version}"`,
        line,
      );
    }
    return;
  }
  if (ALLOWED_IMPORTS.typescript.includes(`node:${specifier.split("/")[0]}`)) {
    ctx.add("import", `import "${specifier}" is not allowed: write "node:${specifier}"`, line);
    return;
  }
  if (specifier === "child_process") {
    ctx.add("shell-execution", `shell execution (import "${specifier}") is not allowed`, line);
    return;
  }
  ctx.add(
    "import",
    `import "${specifier}" is not allowed: import only "node:" built-ins and "npm:" packages ` +
      `listed in requirements`,
    line,
  );
}

/** Runs the TypeScript rules on `ctx.script`. */
export async function checkTypeScript(
  ctx: CheckContext,
  options: TypeScriptCheckOptions,
): Promise<void> {
  const facts = await scriptFacts(ctx.script, options);
  if (typeof facts === "string") {
    ctx.add("analysis", `the script could not be analysed: ${facts}`);
    return;
  }
  if (!Array.isArray(facts)) {
    ctx.add("syntax", DOES_NOT_PARSE + facts.syntax, facts.line);
    return;
  }
  for (const fact of facts) {
    const { line } = fact;
    switch (fact.k) {
      case "import":
        if (fact.s === null) {
          ctx.add(
            "dynamic-import",
            "import() of a computed specifier is not allowed: import modules by name",
            line,
          );
        } else if (fact.a !== undefined && /^\.{1,2}\//.test(fact.s)) {
          // A relative file imported as data joins the module graph, which Deno loads without
          // asking for read permission: a way around the paths a run is granted. (Other
          // specifiers are judged as any import is, below.)
          ctx.add(
            "import",
            `import "${fact.s}" with { type: "${fact.a}" } is not allowed: read the files the ` +
              "context names with Deno.readTextFile",
            line,
          );
        } else {
          checkTsImport(ctx, fact.s, line);
        }
        break;
      case "deno":
        if (fact.m === "Command" || fact.m === "run") {
          ctx.add("shell-execution", `shell execution (Deno.${fact.m}) is not allowed`, line);
        } else if (fact.m === "dlopen") {
          ctx.add("native-code", "native code (Deno.dlopen) is not allowed", line);
        } else if (fact.m !== null && NETWORK_MEMBERS.has(fact.m)) {
          if (!ctx.network) {
            ctx.add(
              "network",
              `network access (Deno.${fact.m}) needs the hosts listed in needs.network`,
              line,
            );
          }
        } else if (fact.m === null) {
          ctx.add(
            "dynamic-code",
            "computed access to Deno (Deno[…]) is not allowed: write the member name out",
            line,
          );
        }
        break;
      case "deno-value":
        ctx.add(
          "dynamic-code",
          "Deno handed on as a value (passed, stored or spread) cannot be checked: use " +
            "Deno.<member> directly",
          line,
        );
        break;
      case "eval":
        ctx.add("dynamic-code", "eval is not allowed: write the code out", line);
        break;
      case "function":
        ctx.add(
          "dynamic-code",
          "Function (new Function, a function's constructor) is not allowed: write the code out",
          line,
        );
        break;
      case "global-value":
        ctx.add(
          "dynamic-code",
          "the global object handed on as a value, or read by a computed name, cannot be " +
            "checked: use its members by name",
          line,
        );
        break;
      case "fetch":
      case "new":
        if (!ctx.network) {
          ctx.add(
            "network",
            `network access (${fact.k === "new" ? fact.c : "fetch"}) needs the hosts listed in ` +
              "needs.network",
            line,
          );
        }
        break;
      case "env":
        checkEnvRead(ctx, fact.name, line);
        break;
      case "string":
        checkCredentialPath(ctx, fact.v, line);
        break;
    }
  }
}

/** The parsed npm requirement, or undefined for one the contract refuses on its own. */
function npmRequirementOrUndefined(requirement: string): NpmRequirement | undefined {
  try {
    return parseNpmRequirement(requirement);
  } catch (error) {
    if (error instanceof RequirementError) return undefined;
    throw error;
  }
}
