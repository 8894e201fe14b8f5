/**
 * Deno's permission flags as a sandbox layer: a policy becomes `deno run` flags (never `-A`),
 * inside the OS sandbox where there is one.
 *
 * @module
 */
import { isAbsolute, join } from "../_path.ts";
import { isInside, lstatSyncOrNull, realPathSyncOrNull } from "../_fs.ts";
import { PermissionError } from "../errors.ts";
import { type CommandSpec, GATE_PASSED } from "../exec.ts";
import { DENO_RUNTIME_ENV } from "./deno_env.ts";
import { denoAddressSpace, NO_CODE_CACHE, runDenoDir, usesCodeCache } from "../runtimes/deno.ts";
import type { PreparedRuntime } from "../runtimes/types.ts";
import {
  canonicalHost,
  denoNetGrants,
  denoNetValue,
  hostAddresses,
  type HostRule,
  isPublicAddress,
  matchHost,
  parseHostRules,
  SPECIAL_RANGES,
} from "./host_rules.ts";
import { pinnedFolders } from "./policy.ts";
import type {
  Availability,
  SandboxBackend,
  SandboxPolicy,
  WrapOptions,
  WrappedCommand,
} from "./types.ts";

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

/** Where the proxy that Deno's `fetch` goes through listens (loopback TCP). */
export interface DenoProxy {
  /** Its address, e.g. `127.0.0.1`. */
  hostname: string;
  /** Its port. */
  port: number;
}

/** Options of {@linkcode denoPermissionFlags}. */
export interface DenoPermissionOptions {
  /**
   * The proxy named by the script's `HTTP_PROXY`/`HTTPS_PROXY`: its address is left out of the
   * denied special ranges on its port only (every granted port of that address stays denied).
   */
  proxy?: DenoProxy;
  /**
   * More `--deny-net` values, besides the ranges: the special IPv6 addresses the granted exact
   * names resolved to before the run (see {@linkcode resolvedDenials}).
   */
  denyNet?: readonly string[];
}

const netValue = denoNetValue;

/** Resolves a name to its addresses as a connection would (getaddrinfo); none when it fails. */
export type Resolver = (name: string) => Promise<string[]>;

async function systemResolve(name: string): Promise<string[]> {
  const { lookup } = await import("node:dns/promises");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), RESOLVE_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(name, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/** The IPv4 address an IPv4-mapped one (`::ffff:a00:7`, canonical) stands for, else undefined. */
function mappedIPv4(canonical: string): string | undefined {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const [high, low] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** How long one name's lookup before a run may take. */
const RESOLVE_TIMEOUT_MS = 3_000;

/**
 * The special IPv6 addresses (loopback, link-local, ULA, IPv4-mapped, NAT64…; see
 * `host_rules.ts`) that the policy's exact names resolve to now, less those a private-network
 * rule opts in: Deno's `--deny-net` takes single IPv6 addresses but no IPv6 range, so a name
 * granted by its rule that leads to `fd00::1` or `::ffff:127.0.0.1` is denied by that address.
 * Wildcard rules cannot be resolved ahead (any subdomain), and a name that resolves differently
 * when the script connects (a short-lived DNS answer) is not covered.
 *
 * An IPv4-mapped address (`::ffff:127.0.0.1`, `::ffff:169.254.169.254`) is not denied but refused:
 * Deno 2.9 lets a connection to a name that resolves to one through every `--deny-net` (the
 * address with or without a port, in either spelling, and the IPv4 range), so the run is not
 * started.
 *
 * @throws {PermissionError} naming the granted name and the IPv4-mapped special address it
 *   resolves to.
 */
export async function resolvedDenials(
  policy: Pick<SandboxPolicy, "network" | "privateNetwork">,
  resolve: Resolver = systemResolve,
): Promise<string[]> {
  const names = parseHostRules(policy.network).filter((rule) => rule.kind === "name");
  const privateRules = parseHostRules(policy.privateNetwork ?? [], "private network rule")
    .filter((rule) => rule.kind !== "wildcard");
  const found = await Promise.all(names.map((rule) => resolve(rule.host).catch(() => [])));
  const denied = new Set<string>();
  for (const [i, addresses] of found.entries()) {
    for (const address of addresses) {
      const canonical = canonicalHost(address)?.host;
      // IPv4: the special ranges are denied whole already (and the proxy's address must stay).
      if (canonical === undefined || !canonical.includes(":") || isPublicAddress(canonical)) {
        continue;
      }
      // An IPv4-mapped address is the IPv4 address to a private-network rule.
      const asV4 = mappedIPv4(canonical);
      const ports = names[i]!.ports.filter((port) =>
        !matchHost(canonical, port, privateRules).allowed &&
        (asV4 === undefined || !matchHost(asV4, port, privateRules).allowed)
      );
      if (ports.length === 0) continue;
      if (canonical.startsWith("::ffff:")) {
        throw new PermissionError(
          `Cannot run the script under Deno's permissions alone: "${names[i]!.host}" resolves ` +
            `to ${address}, an IPv4-mapped address of a private or special range, which ` +
            `Deno's --deny-net does not hold back`,
          {
            hint: "Run it in the OS sandbox (bubblewrap), whose proxy checks every address; " +
              "grant the address with allow.private_network only if it is meant",
            details: { host: names[i]!.host, address },
          },
        );
      }
      denied.add(netValue(canonical, 0));
      for (const port of ports) denied.add(netValue(canonical, port));
    }
  }
  return [...denied].sort();
}

/** An IPv4 address as a number (0 to 2^32 - 1). */
function ipv4Number(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv4Text(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** An IPv4 range in CIDR notation without the `excluded` addresses, as CIDR blocks. */
function ipv4RangeWithout(cidr: string, excluded: readonly number[]): string[] {
  const [base = "", bits = "32"] = cidr.split("/");
  const blocks: string[] = [];
  const visit = (start: number, prefix: number) => {
    const size = 2 ** (32 - prefix);
    if (!excluded.some((x) => x >= start && x < start + size)) {
      blocks.push(`${ipv4Text(start)}/${prefix}`);
    } else if (prefix < 32) {
      visit(start, prefix + 1);
      visit(start + size / 2, prefix + 1);
    }
  };
  visit(ipv4Number(base), Number(bits));
  return blocks;
}

/**
 * The special ranges as `--deny-net` values, less the addresses a private-network rule names
 * (`localhost` names `127.0.0.1` and `::1`). Deno compares the address a connection resolves to
 * with them. It takes IPv4 ranges in CIDR notation but no IPv6 range, and it does not read an
 * IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 one: of IPv6, only the single
 * addresses `::` and `::1` can be denied. A deny has no port: an address a private rule names is
 * reachable on every port a rule admits.
 */
function specialDenials(privateRules: readonly HostRule[], proxyHost?: string): string[] {
  const named = new Set<string>(proxyHost === undefined ? [] : [proxyHost]);
  for (const rule of privateRules) {
    if (rule.kind === "address") named.add(rule.host);
    if (rule.kind === "name" && rule.host === "localhost") named.add("127.0.0.1").add("::1");
  }
  const v4 = [...named].filter((a) => !a.includes(":")).map(ipv4Number);
  return [
    ...SPECIAL_RANGES.flatMap((range) => {
      if (!range.cidr.includes(":")) return ipv4RangeWithout(range.cidr, v4);
      const [base = "", bits] = range.cidr.split("/");
      return bits === "128" && !named.has(base) ? [`[${base}]`] : [];
    }),
    // This machine's own addresses, each: a raw socket to a service bound to every interface
    // would reach the host itself (the proxy refuses them for fetch, but meets no raw socket).
    ...hostAddresses().filter((address) => !named.has(address)).map((address) =>
      address.includes(":") ? `[${address}]` : address
    ),
  ];
}

/**
 * The `--allow-net` and `--deny-net` values of host rules, with the proxy's meaning as far as
 * Deno can express it (see {@linkcode specialDenials}).
 */
function netFlags(
  texts: readonly string[],
  privateTexts: readonly string[],
  proxy?: DenoProxy,
): { allow: string[]; deny: string[] } {
  const rules = parseHostRules(texts);
  const privateRules = parseHostRules(privateTexts, "private network rule")
    .filter((rule) => rule.kind !== "wildcard");
  // A special address is reachable only through a private-network rule naming it.
  const grants = denoNetGrants(
    rules,
    (rule, port) =>
      !(rule.kind === "address" && !isPublicAddress(rule.host) &&
        !matchHost(rule.host, port, privateRules).allowed),
  );
  const allow = new Set(grants.allow);
  const deny = new Set(grants.deny);
  if (allow.size === 0) return { allow: [], deny: [...deny] };
  // Whatever the rule, a name must not lead to a special address…
  const proxyHost = proxy === undefined ? undefined : canonicalHost(proxy.hostname)?.host;
  for (const value of specialDenials(privateRules, proxyHost)) deny.add(value);
  if (proxy !== undefined && proxyHost !== undefined) {
    // …but for the proxy's port on its address, which Deno must reach: every granted port of
    // that address stays denied, so a name resolving there reaches the proxy and nothing else.
    const ports = new Set(rules.flatMap((rule) => rule.ports));
    if (ports.has(proxy.port)) {
      throw new PermissionError(
        `Cannot route the script's network through the proxy at port ${proxy.port}: ` +
          "a rule grants that port",
        { hint: "Run again: the proxy listens on another port each time" },
      );
    }
    for (const port of ports) {
      if (!matchHost(proxyHost, port, privateRules).allowed) deny.add(netValue(proxyHost, port));
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
 *   names in punycode). A wildcard `*.x` also denies the apex `x` unless granted. For every rule,
 *   the special IPv4 ranges (loopback, private, shared, link-local, multicast, unspecified,
 *   reserved) and IPv6 `::` and `::1` are denied, whether a name resolves to them or a rule names
 *   them, except the addresses `policy.privateNetwork` names (`localhost` names `127.0.0.1` and
 *   `::1`); an address rule in a special range is left out of `--allow-net` unless a private
 *   rule admits it. What Deno cannot express: IPv6 ranges (`fc00::/7`, `fe80::/10`, IPv4-mapped
 *   `::ffff:0:0/96`, …) and ports in a deny, so a name that resolves to such an IPv6 address is
 *   not refused by these flags; `fetch` then goes through the proxy (`options.proxy`), which
 *   refuses it. The proxy's address stays reachable on its own port only.
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
export function denoPermissionFlags(
  policy: SandboxPolicy,
  grantedEnv: string[],
  options: DenoPermissionOptions = {},
): string[] {
  // Staged outputs: inside an OS sandbox their staging copies appear at the targets' paths.
  const staged = (policy.stage ?? []).map((s) => s.target);
  const read = pathList([...policy.read, ...policy.write, ...staged, policy.tmpDir], "read");
  const write = pathList([...policy.write, ...staged, policy.tmpDir], "write");
  // The topmost folder a protected path hangs from is denied too (Deno's deny covers a path and
  // what lies below it, not a folder above it that a script could rename and replace), short of
  // one that holds a writable place: a deny there would take that place's writes away.
  const pinned = pinnedFolders(policy.protect, write)
    .filter((dir) => !write.some((place) => isInside(place, dir)));
  const protect = pathList([
    ...policy.protect,
    ...pinned.filter((dir) => !pinned.some((other) => other !== dir && isInside(dir, other))),
  ], "protected");
  const flags = [`--allow-read=${read.join(",")}`, `--allow-write=${write.join(",")}`];
  if (protect.length) flags.push(`--deny-write=${protect.join(",")}`);

  const net = netFlags(policy.network, policy.privateNetwork ?? [], options.proxy);
  if (net.allow.length > 0) {
    for (const value of options.denyNet ?? []) net.deny.push(value);
  }
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
    if (Object.hasOwn(DENO_RUNTIME_ENV, name)) {
      throw new PermissionError(
        `Cannot grant environment variable ${name} to a TypeScript script: the sandbox sets it ` +
          "for Deno itself",
        { hint: `Remove --allow-env ${name}` },
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
    env: { ...env, ...prepared.env, ...DENO_RUNTIME_ENV },
    cwd: policy.workdir,
  };
}

/** Whether a path the script may write (a grant, a staged output) holds `path`, or its real path. */
function writableAbove(policy: SandboxPolicy, path: string): boolean {
  const real = realPathSyncOrNull(path) ?? path;
  const writable = [...policy.write, ...(policy.stage ?? []).map((s) => s.target)];
  return writable.some((grant) => {
    const target = realPathSyncOrNull(grant) ?? grant;
    return [path, real].some((p) => isInside(p, grant) || isInside(p, target));
  });
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
  /**
   * How granted names are resolved before a run without an OS sandbox, to deny the special
   * addresses they lead to (default: the system's resolver, as connections use it).
   */
  resolve?: Resolver;
}

/** The most entries {@linkcode refuseLinksOut} looks at in the granted folders of one run. */
export const LINK_WALK_BUDGET = 20_000;

/**
 * Where Deno's flags are the only layer (no OS sandbox), refuses a run whose granted folders hold
 * a symlink Deno would follow beyond what it was given: Deno checks the path a script names, then
 * the system follows the link. So a repository's `data/up -> ..` inside a granted `data/` would
 * show the whole project, and `out/hooks -> ../.git/hooks` inside a writable `out/` would write
 * git's hooks (run on the host) where the run may at most read. A link must lead inside what is
 * granted; one in a writable place, inside what is writable and outside every protected path.
 * Under an OS sandbox the link leads to nothing: only what is granted is there, as granted.
 *
 * Only the granted folders inside the working directory are walked (what a repository may bring:
 * Capibara's own folders hold no link of a stranger's, and an npm cache is not walked), and
 * {@linkcode LINK_WALK_BUDGET} entries at most: more, and the run is refused too, since the rest
 * is not looked at.
 *
 * @throws {PermissionError} naming the link, or the folder too large to look through
 */
export function refuseLinksOut(policy: SandboxPolicy, budget = LINK_WALK_BUDGET): void {
  const real = (path: string) => realPathSyncOrNull(path) ?? path;
  const granted = [...policy.read, ...policy.write, policy.tmpDir].map(real);
  const writable = [...policy.write, policy.tmpDir].map(real);
  const protect = policy.protect.map(real);
  const within = (path: string, roots: readonly string[]) =>
    roots.some((root) => isInside(path, root));
  const refuse = (path: string, target: string, why: string) =>
    new PermissionError(
      `Cannot run under Deno's permissions alone: "${path}" is a link to "${target}", ${why}, ` +
        "and Deno would follow it",
      {
        hint: "Remove the link, name what it leads to in the context, or install " +
          "bubblewrap (capibara doctor), under which a link leads only to what is granted",
        details: { path, target },
      },
    );
  const walk = (folder: string): void => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(folder)];
    } catch {
      return; // not a folder, or unreadable: the script cannot list it either
    }
    for (const entry of entries) {
      if (--budget < 0) {
        throw new PermissionError(
          `Cannot run under Deno's permissions alone: the granted folders hold more than ` +
            `${LINK_WALK_BUDGET} entries, too many to look through for links Deno would follow`,
          {
            hint: "Name narrower folders in the context, or install bubblewrap " +
              "(capibara doctor), under which a link leads only to what is granted",
            details: { folder },
          },
        );
      }
      const path = join(folder, entry.name);
      if (entry.isSymlink) {
        const target = realPathSyncOrNull(path);
        if (target === null) {
          // Leads nowhere: nothing to read through it, but a write through it makes its target.
          if (!within(folder, writable)) continue;
          let text = "";
          try {
            text = Deno.readLinkSync(path);
          } catch {
            // gone meanwhile
          }
          throw refuse(path, text, "which leads nowhere yet, in a folder the run may write");
        }
        if (!within(target, granted)) throw refuse(path, target, "which the run was not given");
        if (within(folder, writable) && (!within(target, writable) || within(target, protect))) {
          throw refuse(
            path,
            target,
            "in a folder the run may write, to what it may not write",
          );
        }
      } else if (entry.isDirectory) walk(path);
    }
  };
  const workdir = real(policy.workdir);
  for (const root of new Set([...policy.read, ...policy.write].map(real))) {
    if (isInside(root, workdir) && lstatSyncOrNull(root)?.isDirectory) walk(root);
  }
}

/**
 * The gate of a held Deno start (see `WrapOptions.selfGated`), preloaded before the script: one
 * newline on standard input releases the run; end of input (a discarded start) ends it with 125.
 * A `data:` module: no file a script could have changed, and no permission it needs.
 */
export const DENO_GATE: string = "data:text/javascript," + encodeURIComponent(
  "const b=new Uint8Array(1);if(Deno.stdin.readSync(b)!==1||b[0]!==10)Deno.exit(125);" +
    `try{if(Deno.stderr.writeSync(new Uint8Array([${GATE_PASSED}]))!==1)Deno.exit(125)}` +
    "catch{Deno.exit(125)}",
);

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
 *
 * A script granted hosts also gets Capibara's proxy (`proxy.ts`) on loopback, named by
 * `HTTP_PROXY`/`HTTPS_PROXY`, which Deno's `fetch` honours: the flags check the host (and the
 * IPv4 address it resolves to), then the proxy checks the resolved address again, IPv6 ranges
 * included. Raw connections (`Deno.connect`, `node:net`, WebSocket) bypass the proxy and meet the
 * flags only: without an OS sandbox, the special IPv6 addresses that the granted exact names
 * resolve to when the run starts are denied one by one, and an IPv4-mapped one refuses the run
 * (see {@linkcode resolvedDenials}); wildcard names and a DNS answer that changes during the run
 * are not covered, nor another site at a granted host's address: a raw socket to the host may
 * name any site in its own TLS handshake (`Deno.startTls`) or `Host` header, which the proxy's
 * one-site rule never sees (Deno has no flag granting a host to `fetch` alone).
 * Inside an OS backend, the script's network goes through that backend's own proxy instead (its
 * {@linkcode SandboxBackend.proxyAddress}), which the flags then admit.
 */
export class DenoPermissionsBackend implements SandboxBackend {
  /** The backend's name, as `capibara doctor` prints it (`deno-permissions+bubblewrap`). */
  readonly name: string;
  readonly #os?: SandboxBackend;
  readonly #resolve?: Resolver;

  /** Whether outputs can be staged: only inside an OS backend that stages them. */
  readonly stagesOutputs: boolean;
  /** Whether a command can start held: only inside an OS backend that can. */
  readonly holds: boolean;

  /** A backend of Deno's flags alone, or inside `options.os`. */
  constructor(options: DenoPermissionsOptions = {}) {
    this.#os = options.os;
    this.#resolve = options.resolve;
    this.stagesOutputs = options.os?.stagesOutputs === true;
    this.holds = options.os?.holds === true;
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
  async wrap(
    spec: CommandSpec,
    policy: SandboxPolicy,
    options: WrapOptions = {},
  ): Promise<WrappedCommand> {
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
    const env = { ...spec.env, ...DENO_RUNTIME_ENV };
    /** The policy Deno's flags express: the run's own `DENO_DIR` is never the script's to write. */
    let flagged = policy;
    // A code cache (see runDenoDir) only inside an OS sandbox, where the temp dir is a mount
    // point, and only when no path the script may write holds it: with Deno's flags alone, or
    // through a folder above it that a grant holds, a script could rename it away, change the
    // cache and rename it back (the deny below names the path, not the folder).
    const codeCache = this.#os !== undefined && usesCodeCache(own) &&
      !writableAbove(policy, policy.tmpDir);
    /** Deno's own flags and the script's arguments, without a code cache where there is none. */
    const body = codeCache || !usesCodeCache(own) ? rest : [NO_CODE_CACHE, ...rest];
    if (env.DENO_DIR !== undefined) {
      env.DENO_DIR = runDenoDir(env.DENO_DIR, policy.tmpDir, codeCache);
      // Deno's state, its V8 code cache above all: compiled code V8 loads unchecked, which a
      // script that wrote it could turn into its own in the middle of its run.
      flagged = { ...policy, protect: [...policy.protect, env.DENO_DIR] };
    }
    if (this.#os) {
      // Inside the OS sandbox the network goes through that sandbox's proxy, which it names.
      const proxy = policy.network.length > 0 ? this.#os.proxyAddress : undefined;
      const flags = denoPermissionFlags(flagged, policy.env ?? [], proxy ? { proxy } : {});
      // Held: Deno starts ahead and waits at the gate in a preloaded module, before the script's
      // modules load (its own start, ≈ 20 ms, is then off the run's path).
      const gate = options.held ? ["--preload", DENO_GATE] : [];
      const inner: CommandSpec = {
        ...spec,
        args: ["run", ...flags, ...gate, ...body],
        env,
      };
      const binary = Deno.realPathSync(spec.program);
      const read = [...new Set([...policy.read, binary, spec.program])].filter((p) =>
        isAbsolute(p)
      );
      // Deno's --allow-read list never holds /proc: it is the read guard Landlock would be.
      return await this.#os.wrap(
        inner,
        {
          ...policy,
          read,
          readsScopedByProgram: true,
          reservesAddressSpace: denoAddressSpace(policy.memoryBytes),
        },
        options.held ? { held: true, selfGated: true } : {},
      );
    }
    // Deno's flags alone: Deno follows a link inside a granted folder wherever it leads.
    refuseLinksOut(policy);
    if (policy.network.length === 0) {
      const flags = denoPermissionFlags(flagged, policy.env ?? []);
      return {
        spec: { ...spec, args: ["run", ...flags, ...body], env },
        close: async () => {},
      };
    }
    // Loaded only when hosts are granted: a run without network never pays for it.
    const { proxyEnv, startProxy } = await import("./proxy.ts");
    // `fetch` goes through the proxy, which decides on the address a name resolves to (IPv6
    // ranges included, which Deno's flags cannot deny); the flags still check the host first,
    // and deny the special addresses the granted names resolve to now (raw sockets meet them).
    const denyNet = await resolvedDenials(policy, this.#resolve);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const proxy = startProxy({
        port: 0,
        allow: policy.network,
        privateAllow: policy.privateNetwork,
      });
      const { hostname, port } = proxy.address as Deno.NetAddr;
      try {
        const flags = denoPermissionFlags(flagged, policy.env ?? [], {
          proxy: { hostname, port },
          denyNet,
        });
        return {
          spec: {
            ...spec,
            args: ["run", ...flags, ...body],
            env: { ...env, ...proxyEnv(`http://${hostname}:${port}`) },
          },
          close: () => proxy.close(),
        };
      } catch (error) {
        lastError = error;
        void proxy.close();
        // Only a proxy port that a rule grants is worth another try.
        if (!(error instanceof PermissionError) || !error.message.includes("the proxy")) break;
      }
    }
    throw lastError;
  }
}
