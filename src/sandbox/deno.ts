/**
 * Deno's permission flags as a sandbox layer: a policy becomes `deno run` flags (never `-A`),
 * inside the OS sandbox where there is one.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { PermissionError } from "../errors.ts";
import type { CommandSpec } from "../exec.ts";
import { runDenoDir } from "../runtimes/deno.ts";
import type { PreparedRuntime } from "../runtimes/types.ts";
import { type AddressRange, parseHostRules, rangeContains, SPECIAL_RANGES } from "./host_rules.ts";
import type { Availability, SandboxBackend, SandboxPolicy, WrappedCommand } from "./types.ts";

/** Options of {@linkcode denoCommand}. */
export interface DenoCommandOptions {
  /**
   * Names of `env` the script may read. Default: every name of `env`, which holds only the basics
   * and the granted names. Any other variable reads as absent (`--ignore-env`).
   */
  grantedEnv?: string[];
  /** Arguments after `--context @file` (e.g. `--dry-run`). */
  extraArgs?: string[];
}

/** A host and port as a `--allow-net`/`--deny-net` value (`*.x:443`, `[::1]:8080`). */
function netValue(host: string, port: number, wildcard = false): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return `${wildcard ? "*." : ""}${h}:${port}`;
}

/**
 * The special ranges as `--deny-net` values. Deno compares a connection's resolved address with
 * them; it takes IPv4 ranges in CIDR notation but no IPv6 range, so of IPv6 only the single
 * addresses `::` and `::1` can be written.
 */
const DENO_SPECIAL_RANGES: readonly { range: AddressRange; value: string }[] = SPECIAL_RANGES
  .flatMap((range) => {
    if (!range.cidr.includes(":")) return [{ range, value: range.cidr }];
    const [base = "", bits] = range.cidr.split("/");
    return bits === "128" ? [{ range, value: `[${base}]` }] : [];
  });

/** The `--allow-net` and `--deny-net` values of host rules, with the proxy's meaning. */
function netFlags(texts: readonly string[]): { allow: string[]; deny: string[] } {
  const rules = parseHostRules(texts);
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const rule of rules) {
    for (const port of rule.ports) allow.add(netValue(rule.host, port, rule.kind === "wildcard"));
  }
  const exact = rules.filter((rule) => rule.kind !== "wildcard");
  for (const rule of rules.filter((r) => r.kind === "wildcard")) {
    // Deno's `*.x` admits `x` as well; the rule does not.
    for (const port of rule.ports) {
      const apexGranted = exact.some((e) => e.host === rule.host && e.ports.includes(port));
      if (!apexGranted) deny.add(netValue(rule.host, port));
    }
    for (const { range, value } of DENO_SPECIAL_RANGES) {
      // A rule naming a special address (or localhost) exactly is trusted as written.
      const named = exact.some((e) =>
        e.kind === "address"
          ? rangeContains(range, e.host)
          : e.host === "localhost" && range.class === "loopback"
      );
      if (!named) deny.add(value);
    }
  }
  return { allow: [...allow], deny: [...deny] };
}

function checkedPath(path: string, what: string): string {
  if (!isAbsolute(path)) {
    throw new PermissionError(`Cannot grant ${what} path "${path}" to Deno: it is not absolute`, {
      hint: "Sandbox policies hold absolute, resolved paths only",
    });
  }
  // Deno splits permission lists on commas, with no escape: "/a,/" would grant "/".
  if (path.includes(",")) {
    throw new PermissionError(`Cannot grant ${what} path "${path}" to Deno: it contains a comma`, {
      hint: "Rename the file or folder so that its path has no comma",
    });
  }
  return path;
}

function pathList(paths: readonly string[], what: string): string[] {
  return [...new Set(paths.filter((p) => p !== "").map((p) => checkedPath(p, what)))].sort();
}

/**
 * The `deno run` permission flags of a sandbox policy. Nothing is granted wholesale: never `-A`,
 * `--allow-all`, `--allow-run`, `--allow-ffi`, `--allow-sys` or `--allow-import`; subprocesses,
 * FFI, system information and remote imports are denied explicitly.
 *
 * - read: `policy.read`, the write dirs and the temp dir. Not the whole workdir: a symlink in it
 *   that leads out would be followed by Deno (it checks paths as written), so only the inputs the
 *   context names (resolved and checked by the policy) are readable.
 * - write: `policy.write` and the temp dir; every `policy.protect` path is `--deny-write`, which
 *   Deno applies before any allow, so a write dir holding `.capibara/` stays writable around it
 *   while `.capibara/` (and the write dir itself as a whole: no recursive delete, no rename) is not.
 * - net: each host rule with the proxy's meaning (`host_rules.ts`: no port means 80 and 443,
 *   names in punycode). A wildcard `*.x` also denies the apex `x` unless granted, and the special
 *   IPv4 ranges (loopback, private, shared, link-local, multicast, unspecified, reserved) and
 *   IPv6 `::` and `::1` that a name resolves to, unless a rule names an address in that range
 *   (or `localhost`, for loopback) exactly.
 * - env: only `grantedEnv`; every other variable reads as absent (`--ignore-env`).
 *
 * Deno checks paths as written, without resolving symlinks: the policy's paths must be resolved,
 * and a symlink that already exists inside a granted folder is followed (scripts cannot create
 * one: `Deno.symlink` needs unscoped read and write).
 *
 * @throws {PermissionError} when a path is not absolute or has a comma, or an env name cannot be
 * written as a Deno permission.
 * @throws {ValidationError} when a host rule of `policy.network` is not valid.
 */
export function denoPermissionFlags(policy: SandboxPolicy, grantedEnv: string[]): string[] {
  const read = pathList([...policy.read, ...policy.write, policy.tmpDir], "read");
  const write = pathList([...policy.write, policy.tmpDir], "write");
  const protect = pathList(policy.protect, "protected");
  const flags = [`--allow-read=${read.join(",")}`, `--allow-write=${write.join(",")}`];
  if (protect.length) flags.push(`--deny-write=${protect.join(",")}`);

  const net = netFlags(policy.network);
  if (net.allow.length) flags.push(`--allow-net=${net.allow.join(",")}`);
  if (net.deny.length) flags.push(`--deny-net=${net.deny.join(",")}`);

  const names = [...new Set(grantedEnv)].sort();
  for (const name of names) {
    if (!/^[^\s,=*]+$/.test(name)) {
      throw new PermissionError(
        `Cannot grant environment variable ${JSON.stringify(name)} to Deno: not a plain name`,
        { hint: "Grant environment variables by their exact names" },
      );
    }
  }
  if (names.length) flags.push(`--allow-env=${names.join(",")}`);
  flags.push("--ignore-env", "--deny-run", "--deny-ffi", "--deny-sys", "--deny-import");
  return flags;
}

/**
 * The command that runs a TypeScript script under `policy`:
 * `deno run <cache-only flags> <permission flags> script --context @contextFile`, in the
 * workdir, with `env` plus the prepared `DENO_DIR` settings. The context file and the prepared
 * read paths are readable whatever the policy says.
 *
 * `env` is the script's whole environment (the basics and the granted names); by default the
 * script may read every name in it and nothing else.
 *
 * @throws {PermissionError} as {@linkcode denoPermissionFlags} does.
 */
export function denoCommand(
  prepared: PreparedRuntime,
  scriptPath: string,
  contextFile: string,
  policy: SandboxPolicy,
  env: Record<string, string>,
  options: DenoCommandOptions = {},
): CommandSpec {
  const readable = { ...policy, read: [...policy.read, ...prepared.readPaths, contextFile] };
  const flags = denoPermissionFlags(readable, options.grantedEnv ?? Object.keys(env));
  return {
    program: prepared.interpreter,
    args: [
      ...prepared.interpreterArgs,
      ...flags,
      scriptPath,
      "--context",
      "@" + contextFile,
      ...(options.extraArgs ?? []),
    ],
    env: { ...env, ...prepared.env },
    cwd: policy.workdir,
  };
}

/** Flags that would widen a `deno run` beyond its policy; refused in a command to confine. */
const WIDENING_FLAG = /^(?:-A|--allow-|--unsafely-|-[A-Za-z]*A)/;

/** Options of {@linkcode DenoPermissionsBackend}. */
export interface DenoPermissionsOptions {
  /**
   * The OS sandbox that wraps the confined `deno run` (bubblewrap on Linux): Deno's flags are
   * then the inner layer. Without one, Deno's flags are the only layer.
   */
  os?: SandboxBackend;
}

/**
 * Deno's permission system as a sandbox backend: {@linkcode DenoPermissionsBackend.wrap} turns a
 * policy into `deno run` permission flags (see {@linkcode denoPermissionFlags}), inserted after
 * `run`, then hands that command to the OS backend, when one is given, which wraps it with the
 * same policy plus the deno binary (read-only). The script may read only the environment names in
 * `policy.env`.
 *
 * A command whose environment names a `DENO_DIR` (the entry's package cache) runs with a private
 * one instead, in the run's temp dir (see {@linkcode runDenoDir}): Deno's own state and
 * `localStorage` vanish with the run.
 */
export class DenoPermissionsBackend implements SandboxBackend {
  /** The backend's name, as `capibara doctor` prints it (`deno-permissions+bubblewrap`). */
  readonly name: string;
  readonly #os?: SandboxBackend;

  /** A backend of Deno's flags alone, or inside `options.os`. */
  constructor(options: DenoPermissionsOptions = {}) {
    this.#os = options.os;
    this.name = options.os ? `deno-permissions+${options.os.name}` : "deno-permissions";
  }

  /** Deno's flags are always available; the OS layer, when there is one, says for itself. */
  available(): Promise<Availability> {
    return this.#os ? this.#os.available() : Promise.resolve({ ok: true });
  }

  /**
   * The command with the policy's permission flags, wrapped by the OS backend when there is one.
   * `spec` must be a `deno run` command (`run`, then Deno's own flags, then the script and its
   * arguments) without permission flags of its own. The run's temp dir must exist.
   *
   * @throws {PermissionError} when `spec` is not `deno run`, already grants a permission, or the
   * policy cannot be written as Deno flags (see {@linkcode denoPermissionFlags}); and whatever
   * the OS backend throws.
   */
  async wrap(spec: CommandSpec, policy: SandboxPolicy): Promise<WrappedCommand> {
    const [subcommand, ...rest] = spec.args;
    if (subcommand !== "run") {
      throw new PermissionError(
        `Cannot confine "${spec.program}" with Deno permissions: not deno run`,
        { hint: "Only TypeScript scripts run under Deno's permissions" },
      );
    }
    // Deno's own flags come before the script path, the first argument without a dash.
    const end = rest.findIndex((arg) => !arg.startsWith("-"));
    const own = end === -1 ? rest : rest.slice(0, end);
    const widening = own.find((arg) => WIDENING_FLAG.test(arg));
    if (widening !== undefined) {
      throw new PermissionError(
        `Cannot confine "${spec.program}" with Deno permissions: it already passes ${widening}`,
        { hint: "Permissions come from the sandbox policy only" },
      );
    }
    const flags = denoPermissionFlags(policy, policy.env ?? []);
    const env = { ...spec.env };
    if (env.DENO_DIR !== undefined) env.DENO_DIR = await runDenoDir(env.DENO_DIR, policy.tmpDir);
    const inner: CommandSpec = { ...spec, args: ["run", ...flags, ...rest], env };
    if (!this.#os) return { spec: inner, close: () => Promise.resolve() };
    const binary = await Deno.realPath(spec.program);
    const read = [...new Set([...policy.read, binary, spec.program])].filter((p) => isAbsolute(p));
    return await this.#os.wrap(inner, { ...policy, read });
  }
}
