/**
 * Planning a run: (entry, context, grants, configuration, prepared runtime, temp dir) → the
 * sandbox policy, the command (argv, environment, working directory) and the effective
 * permissions. Pure but for reading the file system (context paths are resolved with realpath,
 * protected paths looked up): nothing is written, nothing is spawned.
 *
 * A need that is not granted, or a context path that leaves the workdir, stops the run here,
 * before anything starts.
 *
 * @module
 */
import { basename, dirname, join } from "../_path.ts";
import { realPathSyncOrNull } from "../_fs.ts";
import { IntegrityError, PermissionError } from "../errors.ts";
import { pathProblem } from "../_cache_folder.ts";
import type { ResolvedConfig } from "../config.ts";
import type { CommandSpec } from "../exec.ts";
import { type PreparedRuntime, scriptCommand } from "../runtimes/types.ts";
import type { OutputStage } from "../sandbox/copy_out.ts";
import {
  checkOutputFolder,
  checkOwnPaths,
  type ContextPaths,
  contextPaths,
  effectiveAllow,
  enclosingFolders,
  type Grants,
  homeFolders,
  ownPaths,
  protectedPaths,
  resolveGrantedPaths,
} from "../sandbox/policy.ts";
import { confinementOf } from "../sandbox/mod.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";
import type { Allow, Manifest } from "../schema.ts";

/** `PATH` of every script: system directories only. */
export const SCRIPT_PATH = "/usr/local/bin:/usr/bin:/bin";

/** How a plan's command must be confined: by Deno's permissions, or by the OS sandbox. */
export type Confinement = ReturnType<typeof confinementOf>;

/** What a plan is made from. */
export interface PlanInput {
  /** The entry to run: its folder and manifest. */
  entry: { dir: string; manifest: Manifest };
  /** The request's context (written to `<tmpDir>/context.json` by the executor). */
  context: unknown;
  /** What the user and the project granted, merged. */
  grants: Grants;
  /**
   * The resolved configuration: limits, the environment granted variables are read from (and
   * where Capibara's own folders are found, see `ownPaths`), and the cache folder.
   */
  config: Pick<ResolvedConfig, "memoryBytes" | "maxProcesses" | "env" | "cacheDir">;
  /**
   * The cache folder as it was given (`config.cacheDir` is its real path): each run finds it again
   * by this way, which no script may re-point (see `checkOwnPaths`).
   */
  givenCacheDir?: string;
  /** The environment prepared for the entry's requirements. */
  prepared: PreparedRuntime;
  /** The run's private temp dir, absolute and resolved (created by the executor). */
  tmpDir: string;
  /** The scripts' working directory; context paths are relative to it. */
  workdir: string;
  /** The project root holding `.capibara/` (protected from writes). */
  storeRoot: string;
}

/** Everything needed to run an entry, decided before anything runs. */
export interface Plan {
  /** What the sandbox allows. */
  policy: SandboxPolicy;
  /** The script's command, before a backend wraps it. */
  command: CommandSpec;
  /** The effective permissions: needs met by grants, and the paths, relative to the workdir. */
  allow: Allow;
  /** How the command must be confined. */
  confinement: Confinement;
  /** Where the executor writes the context. */
  contextFile: string;
  /** The context, as the script reads it. */
  contextJson: string;
  /** Folders the outputs go to: the executor creates them before the run. */
  outputDirs: string[];
  /**
   * The declared outputs and their private staging copies under the temp dir. The policy does
   * not make them writable: the executor binds the staging copies in their place (copy-out), or,
   * for backends that cannot, grants the outputs themselves.
   */
  outputs: OutputStage[];
  /** The output paths exactly as the context declares them, resolved. */
  declaredOutputs: string[];
  /** Every writable place (outputs and granted folders): artifacts must lie inside one. */
  writeDirs: string[];
  /** The interpreter's name, for a hint when it cannot start. */
  runtimeName: string;
  /**
   * The entry's script: `source`, its file in the store; `sha256`, its hash in the verified
   * manifest; `copy`, where the executor writes those very bytes in the temp dir (see
   * `verifiedBytes`). The command runs the copy, never the store's file, which whoever may write
   * in the store could change between the check and the run.
   */
  script: { source: string; sha256: string; copy: string };
}

/** Variables every script gets, besides the granted ones. */
export function baseEnv(tmpDir: string): Record<string, string> {
  return {
    PATH: SCRIPT_PATH,
    HOME: tmpDir,
    TMPDIR: tmpDir,
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    TZ: "UTC",
    // Threads count against the process limit: keep numeric libraries' pools modest.
    OMP_NUM_THREADS: "4",
    OPENBLAS_NUM_THREADS: "4",
    MKL_NUM_THREADS: "4",
  };
}

/**
 * Checks, before anything is installed or run, that every need of a script is granted; returns
 * the effective permissions.
 *
 * @throws {PermissionError} naming the flag to add for each need not granted.
 */
export function checkPermissions(
  needs: Manifest["needs"],
  options: { grants: Grants; paths: ContextPaths; workdir: string },
): Allow {
  return effectiveAllow(needs, options.grants, options.paths, options.workdir);
}

/**
 * Refuses a run whose workdir, inputs, read grants or written folders another user could make
 * lead elsewhere ({@linkcode pathProblem}): a folder on the way, or the folder itself, that they
 * may change. Between these checks and the sandbox's set-up (its binds follow the paths as they
 * are then), such a user could swap a folder on the way for one holding a link to a file only
 * this user (or root) may read, and the sandbox would show that file as the input; what the
 * host does in the project afterwards (outputs moved in, entries stored) would follow them too.
 *
 * @throws {PermissionError} naming the path and the folder others may change.
 */
export function checkUnchangedByOthers(paths: readonly string[]): void {
  if (Deno.build.os === "windows") return;
  for (const path of new Set(paths)) {
    const problem = pathProblem(path, { leaf: "unchanged" });
    if (problem === undefined) continue;
    throw new PermissionError(
      `Refusing to show "${path}" to the sandbox: ${problem}, who could make it lead to a ` +
        "file of yours while the sandbox is set up",
      {
        hint: "Run in a folder only you (and root) can change: move the project, or take write " +
          "away from its group and others (chmod go-w) on the folder named",
        details: { path, problem },
      },
    );
  }
}

/**
 * Plans one run of an entry.
 *
 * - needs not granted → `PermissionError` naming the flag to add;
 * - context paths outside the workdir → `ValidationError`;
 * - inputs become read grants; outputs get a staging copy each (see `Plan.outputs`), and may not
 *   be the project root, `.capibara/` or `.git/`, nor lie in or contain them; granted write
 *   folders stay writable in place, with `.capibara/`, `.git/` and shell start-up files read-only;
 * - the environment holds the basics and the granted names, nothing else.
 *
 * @throws {PermissionError} when a need is not granted.
 * @throws {ValidationError} when a context path leaves the workdir, or an output is refused.
 */
export async function planRun(input: PlanInput): Promise<Plan> {
  const { entry: { dir, manifest }, grants, prepared, tmpDir } = input;
  const workdir = Deno.realPathSync(input.workdir);
  const paths = await contextPaths(input.context, workdir);
  const allow = effectiveAllow(manifest.needs, grants, paths, workdir);
  const [grantedRead, grantedWrite] = await Promise.all([
    resolveGrantedPaths(grants.read, workdir),
    resolveGrantedPaths(grants.write, workdir),
  ]);
  const storeRoot = realPathSyncOrNull(input.storeRoot) ?? input.storeRoot;
  const outputs: OutputStage[] = [];
  for (const folder of paths.write) {
    // A file declared at the top of the workdir is staged alone, never the workdir itself.
    if (folder === workdir) continue;
    checkOutputFolder(folder, [workdir, storeRoot], `Output folder "${folder}"`);
    outputs.push({ target: folder, kind: "dir", staging: "" });
  }
  for (const path of paths.outputs ?? []) {
    if (dirname(path) === workdir && !paths.write.includes(path)) {
      outputs.push({ target: path, kind: "file", staging: "" });
    }
  }
  outputs.forEach((o, i) => o.staging = join(tmpDir, "outputs", String(i)));
  const homes = homeFolders(input.config.env);
  const own = [
    ...ownPaths(input.config.cacheDir, input.config.env, workdir, homes),
    ...(input.givenCacheDir ? [input.givenCacheDir] : []),
  ];
  const heldOwn = checkOwnPaths(own, {
    granted: grantedWrite,
    // A file at the top of the workdir is staged alone: the file, not its folder, is written.
    outputs: outputs.map((o) => o.target),
    enclosing: enclosingFolders(input.config.env, workdir, homes),
  });
  const writeDirs = [...new Set([...outputs.map((o) => o.target), ...grantedWrite])];
  checkUnchangedByOthers([
    workdir,
    ...paths.read,
    ...grantedRead,
    ...writeDirs,
    // The store the host reads the entry from and writes entries into.
    join(storeRoot, ".capibara"),
    join(storeRoot, ".capibara", "scripts"),
  ]);

  const env = baseEnv(tmpDir);
  for (const name of allow.env) {
    const value = input.config.env[name];
    if (value !== undefined) env[name] = value;
  }
  const policy: SandboxPolicy = {
    network: allow.network,
    ...(grants.privateNetwork ? { privateNetwork: grants.privateNetwork } : {}),
    read: [...new Set([...paths.read, ...grantedRead, ...prepared.readPaths])],
    write: grantedWrite,
    protect: protectedPaths([storeRoot, workdir], writeDirs, heldOwn),
    workdir,
    tmpDir,
    memoryBytes: input.config.memoryBytes,
    maxProcesses: input.config.maxProcesses,
    // The script reads the basics and the granted names; the runtime's own variables are not its.
    env: Object.keys(env),
  };
  const contextFile = join(tmpDir, "context.json");
  const hash = manifest.files[manifest.entry];
  if (hash === undefined) {
    throw new IntegrityError(
      `Cannot trust cached script "${manifest.fingerprint}": its manifest lists no hash of ` +
        `${manifest.entry}`,
      { hint: "Restore it from version control or regenerate it" },
    );
  }
  const script = {
    source: join(dir, manifest.entry),
    sha256: hash,
    copy: join(tmpDir, "entry", basename(manifest.entry)),
  };
  const command = scriptCommand(prepared, script.copy, contextFile, {
    cwd: workdir,
    env,
  });
  return {
    policy,
    command,
    allow,
    confinement: confinementOf(manifest.language),
    contextFile,
    contextJson: JSON.stringify(input.context ?? {}),
    outputDirs: outputs.filter((o) => o.kind === "dir").map((o) => o.target),
    outputs,
    declaredOutputs: paths.outputs ?? [],
    writeDirs,
    runtimeName: manifest.runtime.name,
    script,
  };
}
