/**
 * Policy: what a script needs meets what the user granted. The effective set is the
 * intersection; a need that is not granted stops the run before it starts.
 *
 * Context values that are paths are resolved here too: every one must stay inside the workdir
 * (`..`, absolute paths elsewhere and symlinks that lead out are refused), inputs become read
 * grants, and outputs are staged and copied out (`copy_out.ts`); an output may not be the
 * project root, `.git/` or `.capibara/`, lie in them or contain them.
 *
 * @module
 */
import {
  basename,
  cacheHome,
  dirname,
  isAbsolute,
  join,
  passwdHome,
  relative,
  resolve,
  sep,
  tmpDir,
} from "../_path.ts";
import {
  entriesNamed,
  inodeOf,
  isInside,
  lstatSyncOrNull,
  namesReachable,
  realPathLoose,
  realPathLooseSync,
  realPathSyncOrNull,
} from "../_fs.ts";
import type { Env } from "../config.ts";
import { PermissionError, ValidationError } from "../errors.ts";
import type { Allow, Needs } from "../schema.ts";
import { sleep } from "../_timer.ts";
import { foldName, SHELL_RC_FILES, untrustedName } from "./copy_out.ts";
import { hostGranted, isPublicAddress, parseHostRule } from "./host_rules.ts";

/** What the user granted (CLI flags, SDK options and `.capibara/config.json`, merged). */
export interface Grants {
  /** Host rules: `api.example.com`, `*.example.com`, `host:8443`. */
  network: string[];
  /**
   * Exact host rules (`127.0.0.1:5432`, `[fd00::5]:8080`, `localhost:8080`; never a wildcard)
   * that may be, or resolve to, a special address (loopback, private, link-local, …), which no
   * other grant reaches. Each also grants its host as `network` does. Present when not empty.
   */
  privateNetwork?: string[];
  /** Environment variable names. */
  env: string[];
  /** Extra readable paths (relative to the workdir, or absolute). */
  read: string[];
  /** Extra writable paths (relative to the workdir, or absolute). */
  write: string[];
}

/** Paths a context names, resolved and classified. */
export interface ContextPaths {
  /** Existing inputs (files or folders), absolute. */
  read: string[];
  /** Folders the outputs go to, absolute. */
  write: string[];
  /** The output paths exactly as declared (files or folders), absolute and resolved. */
  outputs?: string[];
}

/** Folders an output path may never be, nor lie in, nor contain. */
const NEVER_OUTPUT = [".git", ".capibara"];

/**
 * Refuses an output folder that is one of `roots` (the workdir, the project root), lies in or
 * contains `.git/` or `.capibara/`: whatever a script writes there would be trusted later.
 *
 * @throws {ValidationError} naming the context value and the reason.
 */
export function checkOutputFolder(
  folder: string,
  roots: readonly string[],
  what: string,
): void {
  const refuse = (why: string) =>
    new ValidationError(`${what} cannot be an output: ${why}`, {
      hint: "Name an output inside a sub-folder of the project, e.g. out/report.json",
      details: { path: folder },
    });
  if (roots.some((root) => isInside(root, folder))) {
    throw refuse(`its folder "${folder}" is (or holds) the project itself`);
  }
  const base = roots.find((root) => isInside(folder, root)) ?? roots[0] ?? "/";
  for (const part of relative(base, folder).split(sep)) {
    if (NEVER_OUTPUT.includes(part.toLowerCase())) throw refuse(`it lies in ${part}/`);
  }
  const held = entriesNamed(folder, NEVER_OUTPUT)[0];
  if (held) throw refuse(`its folder holds ${basename(held)}/`);
}

const URL_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
const OUTPUT_WORDS = new Set([
  "out",
  "output",
  "outputs",
  "outfile",
  "outdir",
  "dest",
  "destination",
  "target",
  "save",
  "write",
  "export",
]);

/** Whether a context key names an output: one of its words (snake, kebab or camel case) says so. */
export function isOutputKey(key: string): boolean {
  return keyWords(key).some((word) => OUTPUT_WORDS.has(word));
}

/** The words of a context key, in snake, kebab or camel case, lower-cased. */
function keyWords(key: string): string[] {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[\s_\-.]+/);
}

const INPUT_WORDS = new Set([
  "in",
  "input",
  "inputs",
  "infile",
  "file",
  "files",
  "path",
  "paths",
  "src",
  "source",
  "sources",
]);

/** Whether a context key names inputs (`input`, `files`, `sourcePath`…), which must exist. */
export function isInputKey(key: string): boolean {
  return keyWords(key).some((word) => INPUT_WORDS.has(word));
}

/** Merges grant lists, removing duplicates and blanks. */
export function mergeGrants(...sources: (Partial<Grants> | undefined)[]): Grants {
  const merged: Required<Grants> = {
    network: [],
    privateNetwork: [],
    env: [],
    read: [],
    write: [],
  };
  for (const source of sources) {
    if (!source) continue;
    for (const key of ["network", "privateNetwork", "env", "read", "write"] as const) {
      for (const value of source[key] ?? []) {
        const v = value.trim();
        if (v !== "" && !merged[key].includes(v)) merged[key].push(v);
      }
    }
  }
  const { privateNetwork, ...grants } = merged;
  return privateNetwork.length > 0 ? { ...grants, privateNetwork } : grants;
}

/** The kinds of grant (the keys of {@linkcode Grants}). */
export type GrantKind = keyof Grants;

/** An environment variable's name, as a grant names one. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Why one grant is not one, in words (`undefined` when it is): a host rule as the proxy and the
 * flags read it (see `parseHostRule`), a private network one naming one host exactly (a special
 * address is reached only through a rule that names it, never a wildcard), an environment
 * variable's plain name, a path without a NUL byte. The one rule of each: the CLI's flags, the
 * SDK's options and a project's configuration are checked by it.
 */
export function grantProblem(kind: GrantKind, grant: unknown): string | undefined {
  if (typeof grant !== "string") return "it is not a string";
  const text = grant.trim();
  if (text === "") return "it is empty";
  if (kind === "network" || kind === "privateNetwork") {
    const parsed = parseHostRule(text);
    if (!parsed.ok) return parsed.reason;
    if (kind === "privateNetwork" && parsed.rule.kind === "wildcard") {
      return "it is a wildcard (a private network grant names one host exactly)";
    }
    return undefined;
  }
  if (kind === "env") return ENV_NAME.test(text) ? undefined : "it is not a variable's name";
  return text.includes("\0") ? "it holds a NUL byte" : undefined;
}

/**
 * The private-network grants as host rules, refusing a wildcard: a special address is reached
 * only through a rule that names it.
 *
 * @throws {ValidationError} when a grant is not a valid host rule, or is a wildcard.
 */
export function privateNetworkRules(grants: Grants): string[] {
  const list = grants.privateNetwork ?? [];
  for (const rule of list) {
    const problem = grantProblem("privateNetwork", rule);
    if (problem === undefined) continue;
    throw new ValidationError(
      `Cannot use private network grant ${JSON.stringify(rule)}: ${problem}`,
      {
        hint: "Name the address (and port) exactly, e.g. --allow-private-net 10.0.0.5:5432",
        details: { rule },
      },
    );
  }
  return [...list];
}

function looksLikePath(value: string): boolean {
  if (URL_LIKE.test(value) || value.includes("\n")) return false;
  return isAbsolute(value) || value.startsWith("~") || value.startsWith(".") ||
    value.includes("/") || value.includes("\\") ||
    /^[^\s]+\.[A-Za-z0-9]{1,8}$/.test(value);
}

/**
 * What keeps a path from being resolved, in words: a file where a folder should be, a folder on
 * its way that cannot be read, links that loop, a name too long; else the system's own message.
 */
function unresolvable(error: unknown): string {
  if (error instanceof Deno.errors.NotADirectory) return "a part of it is a file, not a folder";
  if (error instanceof Deno.errors.PermissionDenied) return "a folder on its way cannot be read";
  if (error instanceof Deno.errors.FilesystemLoop) return "its symlinks lead round in a loop";
  return error instanceof Error ? error.message : String(error);
}

/** The hint of a path that cannot be resolved. */
const UNRESOLVABLE_HINT = "Check the path: each part but the last must be a folder you can read";

/** Resolves a path the user or a script named, refusing anything that leaves the workdir. */
export function resolveInside(
  value: string,
  workdir: string,
  what: string,
): string {
  const realWorkdir = Deno.realPathSync(workdir);
  const refuse = (why: string) =>
    new ValidationError(`${what} "${value}" ${why}`, {
      hint: "Paths in the context must stay inside the working directory " +
        `(${workdir}): copy or move the file into it, or run from a folder that contains ` +
        "both the project and the file",
      details: { path: value },
    });
  if (value.startsWith("~")) throw refuse("points into a home directory");
  const absolute = resolve(workdir, value);
  if (!isInside(absolute, resolve(workdir))) {
    throw refuse(
      isAbsolute(value) ? "is outside the working directory" : "leaves the working directory",
    );
  }
  let real: string;
  try {
    real = realPathLooseSync(absolute, workdir);
  } catch (error) {
    throw new ValidationError(`${what} "${value}" cannot be used: ${unresolvable(error)}`, {
      cause: error,
      hint: UNRESOLVABLE_HINT,
      details: { path: value },
    });
  }
  if (!isInside(real, realWorkdir)) {
    throw refuse("is a symlink that leads out of the working directory");
  }
  return real;
}

/**
 * Refuses an input reached through a symlink that leads to the workdir itself (or a folder above
 * it) or into its `.git/` or `.capibara/`: a repository's `data -> .` would have a context naming
 * `data/` show the whole project (its `.env`, its `.git/config`) to the script. A path named
 * without a link is the user's own choice, and stays allowed.
 */
function linkedInput(
  real: string,
  realWorkdir: string,
  what: string,
  named = real,
): void {
  const hidden = (path: string) =>
    relative(realWorkdir, path).split(sep).some((part) => part.startsWith("."));
  const into = isInside(realWorkdir, real)
    ? "the working directory itself"
    : NEVER_OUTPUT.find((name) => isInside(real, join(realWorkdir, name))) ??
      // A hidden file or folder the name does not show (`notes.txt -> .env`).
      (hidden(real) && !hidden(named) ? "a hidden file" : undefined);
  if (into === undefined) return;
  throw new ValidationError(
    `${what} leads through a symlink to ${
      into === "the working directory itself" || into === "a hidden file"
        ? into
        : `the project's ${into}/`
    }`,
    {
      hint: "Name the files the script needs, not a link to the whole project or its " +
        "repository; a link a repository brings must not widen what a script reads",
      details: { path: real },
    },
  );
}

/**
 * The most paths one context may name. Each is resolved and looked at here (a Core does it before
 * it asks its model, on its one event loop: 65,000 of them held it for 3 s) and bound into the
 * sandbox on its own; a script that works on many files is given their folder.
 */
export const MAX_CONTEXT_PATHS = 1_000;

/**
 * The most parts (`a/b/c`: three) one context path may have: each that does not exist is looked
 * up while the path is resolved, and a Core resolved 1,000 paths of 480 parts each in 7 s.
 */
export const MAX_PATH_PARTS = 128;

/**
 * Finds, checks and classifies the paths a context names (at most
 * {@linkcode MAX_CONTEXT_PATHS}). An output's folder may not be the workdir, lie in or contain
 * `.git/` or `.capibara/` ({@linkcode checkOutputFolder}).
 *
 * With `requireInputs`, a path under an input key (`input`, `files`, `source`…, see
 * {@linkcode isInputKey}) that does not exist is refused too.
 *
 * @throws {ValidationError} when a path leaves the workdir, an output's folder is refused, the
 * context names more than {@linkcode MAX_CONTEXT_PATHS} paths, or (with `requireInputs`) an input
 * does not exist.
 */
export async function contextPaths(
  context: unknown,
  workdir: string,
  options: { requireInputs?: boolean } = {},
): Promise<ContextPaths> {
  const read = new Set<string>();
  const write = new Set<string>();
  const outputs = new Set<string>();
  const realWorkdir = Deno.realPathSync(workdir);
  let named = 0;
  async function visit(
    value: unknown,
    keyPath: string,
    output: boolean,
    input = false,
  ): Promise<void> {
    if (typeof value === "string") {
      if (!looksLikePath(value)) return;
      if (value.length > 4096 || value.split("/").length > MAX_PATH_PARTS) {
        throw new ValidationError(
          `Context value ${keyPath} is a path of more than ${MAX_PATH_PARTS} parts or 4,096 ` +
            "characters, which no file of the project has",
          { hint: "Name a file or folder of the project by its path from the working directory" },
        );
      }
      if (++named > MAX_CONTEXT_PATHS) {
        throw new ValidationError(
          `The context names more than ${MAX_CONTEXT_PATHS} paths: each is resolved, checked and ` +
            "shown to the script on its own",
          {
            hint: "Name the folder that holds them (one input, or one output folder) instead " +
              "of each file",
            details: { max: MAX_CONTEXT_PATHS },
          },
        );
      }
      const real = resolveInside(value, workdir, `Context value ${keyPath}`);
      let stat: Deno.FileInfo | undefined;
      try {
        stat = Deno.statSync(real);
      } catch {
        stat = undefined;
      }
      // The path as the context names it (inside the real workdir), links on the way not followed.
      const asNamed = join(realWorkdir, relative(resolve(workdir), resolve(workdir, value)));
      if (output) {
        const what = `Context value ${keyPath} ("${value}")`;
        // An output is written where its path says, never through a link on the way: one a
        // repository brings (`out -> .github`, `report.json -> package.json`) would have the
        // script's files land where the user never named, past copy-out's rules for names.
        if (asNamed !== real) {
          const target = relative(realWorkdir, real) || ".";
          throw new ValidationError(
            `${what} leads through a symlink to "${target}": an output is written only where ` +
              "its path names, never through a link",
            {
              hint: `Name the real path ("${target}") if that is where the output goes, or ` +
                "remove the link; a link a repository brings must not move what a script writes",
              details: { path: value, real: target },
            },
          );
        }
        const folder = stat?.isDirectory || value.endsWith("/") ? real : dirname(real);
        // A single file at the top of the project is staged on its own: its folder is not.
        if (folder !== real && folder === realWorkdir) {
          if (stat && !stat.isFile) {
            throw new ValidationError(`${what} cannot be an output: it is not a regular file`);
          }
          if (NEVER_OUTPUT.includes(basename(real).toLowerCase())) {
            throw new ValidationError(`${what} cannot be an output: it is ${basename(real)}`);
          }
        } else {
          checkOutputFolder(folder, [realWorkdir], what);
        }
        write.add(folder);
        outputs.add(real);
      } else if (stat) {
        read.add(real);
        // Named through a symlink (inside the workdir, checked above): the sandbox shows the
        // workdir holding only what the run is given, so the path as named is given too (bound
        // to the same file), and the script finds its input by the name in its context.
        if (asNamed !== real) {
          linkedInput(real, realWorkdir, `Context value ${keyPath} ("${value}")`, asNamed);
          read.add(asNamed);
        }
      } else if (input && options.requireInputs) {
        throw new ValidationError(`Context value ${keyPath} ("${value}") does not exist`, {
          hint: `Check the path: inputs are read relative to ${workdir}`,
          details: { path: value },
        });
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        await visit(item, `${keyPath}[${i}]`, output, input);
      }
      return;
    }
    if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const isOutput = output || isOutputKey(key);
        await visit(
          item,
          keyPath ? `${keyPath}.${key}` : key,
          isOutput,
          !isOutput && (input || isInputKey(key)),
        );
      }
    }
  }
  await visit(context, "", false);
  return { read: [...read], write: [...write], outputs: [...outputs] };
}

/**
 * The permissions a reviewer sees in a manifest, written once at generation: what the script
 * needs (hosts, environment names) and the paths its context names, relative to the workdir.
 * Grants are not part of it: what a run was granted is reported in the run's result.
 */
export function requestedAllow(needs: Needs, paths: ContextPaths, workdir: string): Allow {
  const rel = (p: string) => relative(workdir, p) || ".";
  return {
    network: [...needs.network],
    env: [...needs.env],
    fs: { read: paths.read.map(rel), write: paths.write.map(rel) },
  };
}

/** The flag that grants a needed host: a special address needs the private-network opt-in. */
function networkFlag(need: string): string {
  const parsed = parseHostRule(need);
  const special = parsed.ok && parsed.rule.kind === "address" && !isPublicAddress(parsed.rule.host);
  return special ? "--allow-private-net" : "--allow-net";
}

/**
 * A host rule as a person should read it before granting it: with the name it stands for when it
 * holds other than ASCII letters (`api.gіthub.com`, a Cyrillic `і`, is `api.xn--gthub-n2e.com`:
 * another domain, which anyone may register).
 */
function shownHost(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const parsed = parseHostRule(text);
  if (!parsed.ok) return text;
  const { kind, host } = parsed.rule;
  return `${text} (that is ${kind === "wildcard" ? "*." : ""}${host}, not ASCII as written)`;
}

/** The effective permissions, or a `PermissionError` naming the first flag to add. */
export function effectiveAllow(
  needs: Needs,
  grants: Grants,
  paths: ContextPaths,
  workdir: string,
): Allow {
  const missing: string[] = [];
  // A private-network grant grants its host too.
  const network = [...grants.network, ...privateNetworkRules(grants)];
  for (const host of needs.network) {
    if (!hostGranted(host, network)) missing.push(`${networkFlag(host)} ${host}`);
  }
  for (const name of needs.env) {
    if (!grants.env.includes(name)) missing.push(`--allow-env ${name}`);
  }
  if (missing.length > 0) {
    const what = [
      ...needs.network.filter((h) => !hostGranted(h, network)).map((h) =>
        `network access to ${shownHost(h)}`
      ),
      ...needs.env.filter((n) => !grants.env.includes(n)).map((n) =>
        `the environment variable ${n}`
      ),
    ];
    throw new PermissionError(`The script needs ${what.join(" and ")}, which was not granted`, {
      hint: `Review the script, then add ${missing.join(" ")} ` +
        `(or list it under "allow" in .capibara/config.json)`,
      details: { missing },
    });
  }
  const rel = (p: string) => relative(workdir, p) || ".";
  return {
    network: [...needs.network],
    env: [...needs.env],
    fs: {
      read: [...paths.read.map(rel), ...grants.read],
      write: [...paths.write.map(rel), ...grants.write],
    },
  };
}

/** Resolves user-granted paths (relative to the workdir; absolute ones are taken as granted). */
export async function resolveGrantedPaths(paths: string[], workdir: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const absolute = resolve(workdir, p);
    try {
      out.push(await realPathLoose(absolute));
    } catch (error) {
      throw new ValidationError(`Granted path "${p}" cannot be used: ${unresolvable(error)}`, {
        cause: error,
        hint: UNRESOLVABLE_HINT,
        details: { path: p },
      });
    }
  }
  return out;
}

/**
 * Refuses a path `.capibara/config.json` grants that lies in the project but leads out of it: its
 * trust covers the file's text, not what a path in the repository is, and a link committed later
 * (`data` → `~/.ssh`) would take the grant with it. A path outside the project, written as such,
 * is what the trusted text says; a user's own `--allow-read` follows links as typed.
 *
 * @throws {ValidationError} naming the grant and where it leads.
 */
export async function checkProjectPaths(
  paths: { read: string[]; write: string[] },
  workdir: string,
  root: string,
): Promise<void> {
  // Most projects grant no path: then nothing is looked up on the run's way.
  if (paths.read.length === 0 && paths.write.length === 0) return;
  const project = await realPathLoose(root);
  for (const path of [...paths.read, ...paths.write]) {
    const absolute = resolve(workdir, path.trim());
    if (!isInside(absolute, project) && !isInside(absolute, root)) continue;
    const real = await realPathLoose(absolute);
    if (!isInside(real, project)) {
      throw new ValidationError(
        `.capibara/config.json grants "${path}", which leads out of the project to "${real}"`,
        {
          hint: "A repository's grant stays inside it: remove the link, or grant the place " +
            "yourself: --allow-read <path> or --allow-write <path>",
        },
      );
    }
  }
}

/**
 * Paths that stay read-only even inside a writable folder: the `.capibara`, `.git` and shell
 * start-up files of `roots` and `writeDirs`, and `held` (real paths: the own paths a writable
 * grant holds, from {@linkcode checkOwnPaths}).
 */
export function protectedPaths(
  roots: string[],
  writeDirs: string[],
  held: readonly string[] = [],
): string[] {
  const existing = new Set<string>();
  for (const dir of new Set([...roots, ...writeDirs])) {
    // Absent paths need no protection.
    for (const path of entriesNamed(dir, [".capibara", ".git", ...SHELL_RC_FILES])) {
      existing.add(realPathSyncOrNull(path) ?? path);
    }
  }
  for (const path of held) existing.add(path);
  return [...existing].sort();
}

/** Names a later command trusts in a folder: git's repository, Capibara's store, shell files. */
const TRUSTED_NAMES: readonly string[] = [".git", ".capibara", ...SHELL_RC_FILES];

/**
 * The places a run could make a trusted name that is not there yet ({@linkcode TRUSTED_NAMES}:
 * a `.git` whose `core.fsmonitor` runs on the user's next `git status`, a `.capibara` a later run
 * takes for the store, a shell start-up file): in each folder the run writes in place (`write`),
 * and in the workdir and each folder between it and the writable folder that holds it. A protected
 * path keeps what is there; these are looked at again after the run ({@linkcode checkUnplanted}).
 */
export function plantablePaths(policy: { write: readonly string[]; workdir: string }): string[] {
  if (policy.write.length === 0) return [];
  const folders = new Set(policy.write);
  const top = policy.write.filter((dir) => isInside(policy.workdir, dir))
    .sort((a, b) => a.length - b.length)[0];
  if (top !== undefined) {
    for (let dir = policy.workdir; isInside(dir, top); dir = dirname(dir)) {
      folders.add(dir);
      if (dir === top) break;
    }
  }
  const out: string[] = [];
  for (const folder of folders) {
    for (const name of TRUSTED_NAMES) {
      const path = join(folder, name);
      if (lstatSyncOrNull(path) === null) out.push(path);
    }
  }
  return out;
}

/**
 * After a run, with every process of it gone: moves aside each of `absent` (from
 * {@linkcode plantablePaths}, taken before the run) that is there now, as
 * `<name>.made-by-a-run-<time>`, and refuses the run naming them.
 *
 * @throws {PermissionError} naming what the script made and where it was moved.
 */
export function checkUnplanted(absent: readonly string[]): void {
  const moved: string[] = [];
  const stamp = Date.now();
  for (const path of absent) {
    if (lstatSyncOrNull(path) === null) continue;
    const aside = `${path}.made-by-a-run-${stamp}`;
    try {
      Deno.renameSync(path, aside);
      moved.push(`${path} (now ${basename(aside)})`);
    } catch {
      moved.push(`${path} (could not be moved: remove it)`);
    }
  }
  if (moved.length === 0) return;
  throw new PermissionError(
    `The script made what later commands trust, in a folder it could write: ${moved.join(", ")}`,
    {
      hint: "A .git there would run its settings on your next git command there, a .capibara " +
        "would be taken for the store, a shell file would run in your shell: review the script " +
        "(capibara show), and delete what was moved aside",
      details: { paths: [...absent].filter((p) => moved.some((m) => m.startsWith(p))) },
    },
  );
}

/**
 * After a run, with every process of it gone: refuses what it made or changed, at any depth of a
 * folder it wrote in place, under a name that tools execute or trust when they find it there.
 * Outputs written in place (`places.outputs`, as every output of a TypeScript run under Deno's
 * flags alone) hold to the rule copy-out applies to what it moves into the project
 * ({@linkcode untrustedName}: a `.git`, a folder shaped as a bare repository (its `HEAD`), whose
 * `core.fsmonitor` runs on the user's next `git status` there, a `.envrc`, a `Makefile`, a test
 * file a runner finds…). A folder the user granted for writing (`places.grants`) takes what the
 * script writes there, but never a repository or a store: a `.git` or a `.capibara` at any
 * depth, a folder shaped as a bare repository, or a shell start-up file
 * ({@linkcode TRUSTED_NAMES}). `changed` are the entries {@linkcode closeToOthers} found changed
 * since `since`; a declared output's exact path is the user's own name and is taken as written,
 * and what the sandbox shows read-only (`protect`) and the folders on the way to it are not the
 * script's. What the run made is moved aside, as `<name>.made-by-a-run-<time>`; what it changed
 * that was there before stays (it is named).
 *
 * @throws {PermissionError} naming each path.
 */
export function checkMadeInPlace(
  changed: readonly { path: string; opaque?: boolean }[],
  places: { outputs: readonly string[]; grants: readonly string[] },
  declared: readonly string[],
  protect: readonly string[],
  since: number,
): void {
  const roots = [...places.outputs, ...places.grants];
  const found = new Map<string, string>();
  const hidden: string[] = [];
  for (const { path, opaque } of changed) {
    if (opaque) {
      // What it holds cannot be looked at: the run made it so, or changed what it holds.
      if (protect.some((kept) => isInside(path, kept) || isInside(kept, path))) continue;
      if (roots.includes(path)) hidden.push(path);
      else {
        found.set(
          path,
          `"${basename(path)}" is a folder the run changed whose entries cannot be looked at ` +
            "(closed, or another user's)",
        );
      }
      continue;
    }
    if (declared.includes(path)) continue;
    const root = roots.filter((dir) => isInside(path, dir) && path !== dir)
      .sort((a, b) => b.length - a.length)[0];
    if (root === undefined) continue;
    const granted = !places.outputs.includes(root);
    const parts = path.slice(root.length).split("/").filter((part) => part !== "");
    let at = root;
    for (const [i, part] of parts.entries()) {
      at = join(at, part);
      // What the sandbox shows read-only (Capibara's own folders a grant holds, `.capibara`,
      // `.git`) the script cannot change, and the folders on the way to it Capibara may make.
      if (protect.some((kept) => isInside(at, kept))) break;
      if (protect.some((kept) => isInside(kept, at))) continue;
      const last = i === parts.length - 1;
      const info = last ? lstatSyncOrNull(at) : null;
      const kind = last && !info?.isDirectory ? "file" : "folder";
      const why = granted ? repositoryName(part, kind) : untrustedName(part, kind);
      if (why === undefined) continue;
      if (!declared.includes(at) && !found.has(at)) found.set(at, why);
      break;
    }
  }
  if (found.size === 0 && hidden.length === 0) return;
  // Only the outermost of nested ones is moved: what it holds goes with it.
  const tops = [...found.keys()].filter((path) =>
    ![...found.keys()].some((other) => other !== path && isInside(path, other))
  );
  const stamp = Date.now();
  const named = hidden.map((path) =>
    `${path} (the folder itself, whose entries cannot be looked at: open it and look)`
  );
  for (const path of tops) {
    const info = lstatSyncOrNull(path);
    if (info === null) continue;
    // Born before the run began (no slack: a coarse clock then names what the run made, and
    // still refuses it, rather than move the user's own file). Where the file system keeps no
    // birth time, nothing is moved: a change time is one a script can renew on a file of the
    // user's (a link, a mode), and the user's file would be moved aside.
    const born = info.birthtime?.getTime();
    // A file with more than one name changed during the run: a name it was given (a hard link
    // to a file older than the run), moved aside without touching its other names.
    const linked = info.isFile && (info.nlink ?? 1) > 1;
    if (born === undefined && !linked) {
      named.push(`${path} (made or changed by the run: remove it if it is not yours)`);
      continue;
    }
    if (born !== undefined && born < since && !linked) {
      named.push(`${path} (it was there before the run, which changed it)`);
      continue;
    }
    const aside = `${path}.made-by-a-run-${stamp}`;
    try {
      Deno.renameSync(path, aside);
      named.push(`${path} (now ${basename(aside)})`);
    } catch {
      named.push(`${path} (could not be moved: remove it)`);
    }
  }
  if (named.length === 0) return;
  throw new PermissionError(
    `The script made what tools execute or trust, in a folder it wrote in place: ${
      named.join(", ")
    }`,
    {
      hint: "A .git (or a folder shaped as a repository) there runs its settings on your next " +
        "git command there, and other names there run in the tools that find them: review the " +
        "script (capibara show), and delete what was moved aside; to keep such a name, declare " +
        "its exact path as an output",
      details: {
        paths: [...hidden, ...tops],
        reasons: [
          ...hidden.map(() => "its entries cannot be looked at"),
          ...tops.map((path) => found.get(path)),
        ],
      },
    },
  );
}

/**
 * Why a name in a folder granted for writing makes it a repository, a store or a shell's start-up
 * (see {@linkcode checkMadeInPlace}), or undefined: one of {@linkcode TRUSTED_NAMES} (without
 * case), or a file git reads a repository from (`HEAD`, `commondir`, `gitdir`): a folder holding
 * them is a repository of its own to git.
 */
function repositoryName(name: string, kind: "file" | "folder"): string | undefined {
  const folded = foldName(name);
  if (TRUSTED_NAMES.some((trusted) => trusted.toLowerCase() === folded)) {
    return `"${name}" is a name that git, Capibara or a shell trusts`;
  }
  // Git takes a folder for a repository from its HEAD, with objects/ and refs/ beside it or
  // where a `commondir` file says; a `gitdir` file is a worktree's link to one.
  if (kind === "file" && ["head", "commondir", "gitdir"].includes(folded)) {
    return `"${name}" is a file git reads a repository from`;
  }
  return undefined;
}

/** How many entries {@linkcode closeToOthers} looks at between two turns of the event loop. */
const WALK_ENTRIES_PER_TURN = 2_000;

/** `O_PATH` (Linux): a descriptor that names a file without opening it. */
const O_PATH = 0o10000000;
/** Write permission for every other user of the machine. */
const WRITE_OTHERS = 0o002;
/** Every permission of every other user. */
const ALL_OTHERS = 0o007;
/** A folder whose entries only their owners may rename or remove. */
const STICKY = 0o1000;
/**
 * How long before a run began an entry may have changed and still count as the run's: file
 * systems stamp change times with a coarse clock (some to the second).
 */
const CHANGE_CLOCK_SLACK_MS = 2000;

/**
 * After a run, with every process of it gone: takes write for other users off every file, folder,
 * FIFO and socket in the folders it could write (`roots`) that changed since the run began
 * (`since`, ms since the epoch). A script cannot set that bit itself (the sandbox's seccomp filter
 * refuses it), but one that clears its umask makes new entries so, and under Deno's permissions
 * alone a script may set it; another local user could then change what the user runs or reads
 * later. Entries the run did not change keep their modes.
 *
 * Each entry is changed through a descriptor of the very file that was looked at, never through a
 * link, and only ever loses permissions. Folders are closed before they are listed, and only this
 * process's user's and root's are listed: another user's folder (a granted folder's owner's too,
 * in a root run) is theirs to change at any moment, names and links included, and could lead the
 * walk anywhere. A root run's granted folders, lent to the sandbox's uid, are closed as they are
 * given back (see the Linux backend's `returnTree`). A folder that stays open to others (one that
 * could not be closed and is not sticky) is not listed either. A changed folder whose entries cannot all be reached by name (it
 * cannot be listed, a name is not UTF-8, an entry cannot be looked at, or a path is longer than
 * the system takes) is closed to others entirely, so that nothing below it is within their reach.
 *
 * What this does not undo: another local user who, while the script ran, opened one of its files
 * for writing, made an entry in a folder it opened to them, or moved into such a folder, keeps
 * what they hold; write for the group is kept.
 *
 * With `onChanged`, each entry below the roots that changed since the run began is also passed to
 * it, as the walk finds it ({@linkcode checkMadeInPlace} looks at their names), and each changed
 * folder (a root too) whose entries the walk does not list, as `opaque`: another user's (a
 * script run as root under Deno's flags alone may hand one over) or closed. Of a changed folder
 * holding names that cannot all be reached, the entries it shows are passed, not what they hold.
 *
 * @returns the paths it closed
 */
export async function closeToOthers(
  roots: readonly string[],
  since: number,
  onChanged?: (path: string, opaque?: boolean) => void,
): Promise<string[]> {
  if (Deno.build.os === "windows" || roots.length === 0) return [];
  const closed: string[] = [];
  const from = since - CHANGE_CLOCK_SLACK_MS;
  /** Node's file calls, loaded when a first entry needs closing (its compatibility layer is slow
   * to load, and most runs have nothing to close). */
  let fs: typeof import("node:fs") | undefined;
  const close = async (path: string, info: Deno.FileInfo, bits: number): Promise<boolean> => {
    fs ??= await import("node:fs");
    if (!closeEntry(fs, path, info, bits)) return false;
    closed.push(path);
    return true;
  };
  // Whose folders may be listed: this process's user's and root's. No one else may rename what is
  // in them (a granted folder's owner could swap a folder for a link between its listing and a
  // look at what it held, and lead the walk anywhere: as root, to /tmp).
  const owners = new Set<number>([Deno.uid() ?? -1, 0]);
  const seen = new Set<string>();
  let visited = 0;
  // Depth first, with a stack of its own: a script may nest folders deeper than any call stack.
  const stack: { path: string; info: Deno.FileInfo | null }[] = [...roots].reverse()
    .map((path) => ({ path, info: lstatSyncOrNull(path) }));
  while (stack.length > 0) {
    // Each entry as its folder's listing found it (one look at each, ≈ 6 µs here).
    const { path, info } = stack.pop()!;
    // The event loop turns now and then: a granted folder may hold millions of entries.
    if (++visited % WALK_ENTRIES_PER_TURN === 0) await sleep(0);
    if (!info || info.isSymlink) continue;
    const kinds = info.isFile || info.isDirectory || info.isFifo || info.isSocket;
    if (!kinds) continue;
    const changed = (info.ctime?.getTime() ?? Infinity) >= from;
    // Every name, before the look by inode below: a second name of a file (a hard link the run
    // made) is a name of its own.
    if (changed && onChanged !== undefined && !roots.includes(path)) onChanged(path);
    // A folder held by two grants, or reached twice (a bind mount of a folder above): once.
    const key = inodeOf(info);
    if (seen.has(key)) continue;
    seen.add(key);
    const mode = info.mode ?? 0;
    let open = (mode & WRITE_OTHERS) !== 0;
    if (changed && open && await close(path, info, WRITE_OTHERS)) open = false;
    if (!info.isDirectory) continue;
    if (!owners.has(info.uid ?? -1) || (open && (mode & STICKY) === 0)) {
      if (changed) onChanged?.(path, true);
      continue;
    }
    let names: string[] | undefined;
    try {
      names = [...Deno.readDirSync(path)].map((entry) => entry.name);
    } catch {
      names = undefined;
    }
    // Every entry must be reachable by its name (see namesReachable), and looked at: a folder its
    // owner may list but not enter hides what it holds.
    let children: { path: string; info: Deno.FileInfo | null }[] | undefined;
    if (names !== undefined && namesReachable(path, names)) {
      children = [];
      for (const name of names) {
        const child = join(path, name);
        const found = lstatSyncOrNull(child);
        if (!found) {
          children = undefined;
          break;
        }
        children.push({ path: child, info: found });
      }
    }
    if (!children) {
      if (changed && (mode & ALL_OTHERS) !== 0) await close(path, info, ALL_OTHERS);
      if (changed && names === undefined) onChanged?.(path, true);
      else if (onChanged !== undefined && names !== undefined) {
        // Names that cannot all be reached (one not UTF-8, two read back alike, a path past the
        // longest the system takes): the folder is closed to others entirely, and the walk goes
        // on below the names it can reach, for what the run made there. A folder it cannot
        // reach by its name hides what it holds (a folder's link count tells how many it
        // holds, where the file system keeps it so): the folder is reported as opaque.
        let folders = 0;
        let unnamed = false;
        const count = new Map<string, number>();
        for (const name of names) count.set(name, (count.get(name) ?? 0) + 1);
        for (const name of names) {
          if (name.includes("\uFFFD") || count.get(name)! > 1) {
            unnamed = true;
            continue;
          }
          const child = join(path, name);
          const found = lstatSyncOrNull(child);
          if (found?.isDirectory) folders++;
          if (found) stack.push({ path: child, info: found });
        }
        if (changed && unnamed && info.nlink !== 2 + folders) onChanged(path, true);
      }
      continue;
    }
    for (const child of children.reverse()) stack.push(child);
  }
  return closed;
}

/**
 * Takes `bits` of the other users' permissions off the entry at `path`, when it is still the file
 * `info` describes: opened without following a link, checked by device and inode, changed through
 * the descriptor (Linux: an `O_PATH` descriptor, changed through `/proc/self/fd`, which reaches a
 * file its owner may not even read; elsewhere, one opened for reading). Its mode is read from the
 * descriptor, so only those bits are ever taken. False when it could not be done (the entry is
 * then left alone, and a folder's entries are not listed).
 */
function closeEntry(
  fs: typeof import("node:fs"),
  path: string,
  info: Deno.FileInfo,
  bits: number,
): boolean {
  const { O_CLOEXEC = 0, O_NOFOLLOW, O_NONBLOCK, O_RDONLY } = fs.constants as Record<
    string,
    number
  >;
  // Linux: an O_PATH descriptor, changed through /proc/self/fd (it reaches a file its owner may
  // not even read); where that path may not be written (Deno's permissions: the SDK's narrowest
  // set), or elsewhere, one opened for reading.
  const ways = Deno.build.os === "linux" ? ["path", "read"] : ["read"];
  for (const way of ways) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(
        path,
        (way === "path" ? O_PATH : O_RDONLY! | O_NONBLOCK!) | O_NOFOLLOW! | O_CLOEXEC,
      );
      const opened = fs.fstatSync(fd);
      if (
        opened.ino !== info.ino || opened.dev !== info.dev ||
        !(opened.isFile() || opened.isDirectory() || opened.isFIFO() || opened.isSocket())
      ) return false;
      const mode = (opened.mode & 0o7777) & ~bits;
      if (way === "path") Deno.chmodSync(`/proc/self/fd/${fd}`, mode);
      else fs.fchmodSync(fd, mode);
      return true;
    } catch {
      // the next way, if any
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return false;
}

/**
 * The folders a protected path inside a writable folder hangs from: each one strictly between the
 * outermost writable folder that holds it and the path. A read-only path does not stop a script
 * from renaming a folder above it (`mv ~/.cache ~/old`) and making a new one in its place, which
 * the next run would take for the original: every backend keeps these from being moved (bubblewrap
 * binds each onto itself, a mount point cannot be renamed; Deno's flags deny writing the topmost;
 * macOS denies writing each folder itself).
 */
export function pinnedFolders(protect: readonly string[], writable: readonly string[]): string[] {
  const pinned = new Set<string>();
  for (const path of protect) {
    const top = writable.filter((dir) => isInside(path, dir) && dir !== path)
      .sort((a, b) => a.length - b.length)[0];
    if (top === undefined) continue;
    for (let dir = dirname(path); dir !== top && isInside(dir, top); dir = dirname(dir)) {
      pinned.add(dir);
    }
  }
  return [...pinned].sort();
}

/** Deno's cache folder as `deno` finds it (`DENO_DIR`, else the platform's cache folder). */
function denoDir(env: Env): string {
  return env.DENO_DIR || join(cacheHome(env), "deno");
}

/** The files of a checkout that Capibara runs from, besides `src/` and `lib/`. */
const CODE_FILES = ["main.ts", "cli.ts", "deno.json", "deno.lock"];

/** The folder a checkout of Capibara runs from, when it runs from files (not a compiled binary). */
function checkoutRoot(): string | undefined {
  const code = new URL("../../", import.meta.url);
  return code.protocol === "file:" ? decodeURIComponent(code.pathname) : undefined;
}

/**
 * Every home folder a later command of the user's may start from: `HOME` as Capibara was given it
 * and as this process has it, the one `/etc/passwd` gives this process's user, and, under `sudo`,
 * the invoking user's (`sudo -E` keeps their `HOME` for root).
 */
export function homeFolders(env: Env): string[] {
  const out = new Set<string>();
  const uid = Deno.build.os === "windows" ? null : Deno.uid();
  for (
    const home of [
      env.HOME,
      Deno.env.get("HOME"),
      uid === null ? undefined : passwdHome({ uid }),
      env.SUDO_USER ? passwdHome({ name: env.SUDO_USER }) : undefined,
    ]
  ) {
    if (home && home.startsWith("/") && home !== "/") out.add(home);
  }
  return [...out];
}

/**
 * The folders on `PATH` (the environment's and this process's), where a program started by name
 * is found, and the prefix each belongs to when it is a Python environment's or `node_modules`'
 * (the interpreter and packages its commands run): a script that made a new name there, or a
 * `.pth` file in the environment, would run in a later command outside any sandbox. An entry
 * written with `~` is taken in every home folder (a shell expands it); a relative one from the
 * workdir (where the user's next command is likely to start). `.` (or an empty entry) is the
 * workdir itself: {@linkcode enclosingFolders} keeps any grant from being or holding it.
 */
function pathFolders(env: Env, workdir: string | undefined, homes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const entry of new Set(pathEntries(env))) {
    let dirs: string[];
    if (entry === "~" || entry.startsWith("~/")) dirs = homes.map((h) => h + entry.slice(1));
    else if (entry.startsWith("/")) dirs = [entry];
    else if (workdir !== undefined && entry !== "" && entry !== ".") {
      dirs = [resolve(workdir, entry)];
    } else continue;
    for (const dir of dirs) {
      if (dir === "/") continue;
      out.add(dir);
      const prefix = dirname(dir);
      if (prefix === "/") continue;
      if (basename(prefix) === "node_modules" || lstatSyncOrNull(join(prefix, "pyvenv.cfg"))) {
        out.add(prefix);
      }
    }
  }
  return [...out];
}

/** The entries of `PATH`, the environment's and this process's (a variable not set has none). */
function pathEntries(env: Env): string[] {
  return [env.PATH, Deno.env.get("PATH")].flatMap((list) => list?.split(":") ?? []);
}

/**
 * Capibara's own paths on this machine, as they are found (not resolved): what Capibara itself
 * or the user runs or trusts later, outside any sandbox. Its cache folder (`cacheDir`:
 * environments, runtimes, trust records, acceptances, the sandbox's probe); Deno's cache folder
 * (the npm packages Capibara runs and their compiled code); the folder of the `deno` binary and the
 * one `deno install` puts commands in; the folders on `PATH` ({@linkcode pathFolders}); the
 * user's settings, local programs and keys (`~/.config`, `~/.local`, `~/.ssh`, `~/.gnupg`, in every
 * home folder, and `XDG_CONFIG_HOME`, `XDG_DATA_HOME`); and, run from a checkout, its code.
 */
export function ownPaths(
  cacheDir: string,
  env: Env,
  workdir?: string,
  homes: readonly string[] = homeFolders(env),
): string[] {
  const paths = [
    cacheDir,
    denoDir(env),
    dirname(Deno.execPath()),
    ...pathFolders(env, workdir, homes),
  ];
  if (env.DENO_INSTALL_ROOT) paths.push(join(env.DENO_INSTALL_ROOT, "bin"));
  if (env.XDG_CONFIG_HOME) paths.push(env.XDG_CONFIG_HOME);
  if (env.XDG_DATA_HOME) paths.push(env.XDG_DATA_HOME);
  // Where programs read their settings and keep what they run (git's config and hooks, systemd
  // user units, autostart entries, the user's site-packages and commands).
  for (const home of homes) {
    paths.push(
      join(home, ".deno", "bin"),
      join(home, ".config"),
      join(home, ".local"),
      // Who may log in (authorized_keys) and what is signed or decrypted as the user.
      join(home, ".ssh"),
      join(home, ".gnupg"),
    );
  }
  const root = checkoutRoot();
  if (root !== undefined) {
    for (const name of ["src", "lib", ...CODE_FILES]) paths.push(join(root, name));
  }
  return paths;
}

/**
 * Folders no writable grant may be or hold, each with what it is: every home folder of the user
 * (every place a program of theirs starts from: shell start-up files, `~/.local/bin`,
 * `~/.config`), the temp folder the runs and their sandboxes keep their state in (a state dir
 * planted there would be taken for a killed run's, and its journal followed), the checkout
 * Capibara runs from (a `deno.json` put above its files would re-map its modules), and the workdir
 * when `PATH` names the current folder (a name made there would run in the user's next command).
 */
export function enclosingFolders(
  env: Env,
  workdir?: string,
  homes: readonly string[] = homeFolders(env),
): { path: string; what: string }[] {
  const out = homes.map((path) => ({ path, what: "your home folder" }));
  out.push({ path: tmpDir(), what: "the temp folder runs keep their state in" });
  const root = checkoutRoot();
  if (root !== undefined) out.push({ path: root, what: "the checkout Capibara runs from" });
  if (workdir !== undefined && pathEntries(env).some((entry) => entry === "" || entry === ".")) {
    out.push({ path: workdir, what: "the working folder, which PATH names (.)" });
  }
  return out;
}

/**
 * Refuses, before anything runs, a run whose script could change what Capibara or the user runs
 * or trusts later (`own`, see {@linkcode ownPaths}):
 * - a writable grant that is or holds one of `places.enclosing` ({@linkcode enclosingFolders});
 * - a writable grant inside one of the own paths, and an output folder in or holding one (what a
 *   script writes there is copied out); a writable grant that holds one that is not there yet (no
 *   read-only bind can keep a path that is not there: the script would make it);
 * - a link on the way to one of them inside a writable grant: each run finds them again by that
 *   way, and a script could point it elsewhere.
 * A writable grant that holds one keeps it read-only ({@linkcode protectedPaths}) and the folders
 * above it in place ({@linkcode pinnedFolders}): returned are the real paths of those, for
 * `protectedPaths`.
 *
 * @throws {ValidationError} naming the place and what it would reach.
 */
export function checkOwnPaths(
  own: readonly string[],
  places: {
    granted: readonly string[];
    outputs: readonly string[];
    enclosing?: readonly { path: string; what: string }[];
  },
): string[] {
  if (places.granted.length === 0 && places.outputs.length === 0) return [];
  const held = new Set<string>();
  const refuse = (what: string, path: string, how: string, target: string) =>
    new ValidationError(`${what} "${path}" ${how} "${target}", which no script may change`, {
      hint: "Grant or name a folder that neither holds nor lies in it: Capibara and the " +
        "programs you run later start from there (Capibara's and Deno's caches, the folders on " +
        "PATH with their environments, your settings and keys, the checkout Capibara runs from)",
      details: { path, reaches: target },
    });
  for (const { path: folder, what } of places.enclosing ?? []) {
    const real = realPathSyncOrNull(folder) ?? resolve(folder);
    for (const path of places.granted) {
      if (isInside(real, path)) {
        throw refuse("The writable grant", path, `is or holds ${what}`, real);
      }
    }
  }
  for (const given of own) {
    const found = realPathSyncOrNull(given);
    const real = found ?? resolve(given);
    for (const path of places.granted) {
      if (isInside(path, real)) {
        throw refuse("The writable grant", path, path === real ? "is" : "lies in", real);
      }
      if (isInside(real, path)) {
        if (found === null) {
          throw refuse("The writable grant", path, "holds the place, not made yet, of", real);
        }
        held.add(real);
      }
    }
    for (const path of places.outputs) {
      if (isInside(path, real) || isInside(real, path)) {
        throw refuse("The output folder", path, isInside(path, real) ? "lies in" : "holds", real);
      }
    }
    if (places.granted.length === 0) continue;
    // The way as it is walked: each part resolved before the next is looked up.
    let here = "/";
    for (const part of resolve(given).split("/").filter(Boolean)) {
      const next = here === "/" ? `/${part}` : `${here}/${part}`;
      const grant = places.granted.find((dir) => isInside(next, dir) && next !== dir);
      if (grant !== undefined && lstatSyncOrNull(next)?.isSymlink === true) {
        throw refuse("The writable grant", grant, "holds a link on the way to", given);
      }
      here = realPathSyncOrNull(next) ?? next;
    }
  }
  return [...held];
}

/** Checks that every reported artifact lies inside the write set; returns them relative. */
export async function checkArtifacts(
  artifacts: string[],
  workdir: string,
  writeDirs: string[],
): Promise<string[]> {
  const out: string[] = [];
  for (const artifact of artifacts) {
    const real = await realPathLoose(resolve(workdir, artifact));
    if (!writeDirs.some((dir) => isInside(real, dir))) {
      throw new ValidationError(
        `The script reported an artifact outside its outputs: "${artifact}"`,
        {
          hint: "Artifacts must be inside the output folders the context names; " +
            "regenerate the script with --refresh if it is wrong",
          details: { artifact },
        },
      );
    }
    out.push(artifact);
  }
  return out;
}
