/**
 * The Python runtime: a pool of virtual environments, one per (Python version, requirement set),
 * built once in the machine-local cache and shared by every script that needs that set.
 *
 * An environment is created with `python -m venv --without-pip`, then one pip process (the host's
 * pip, `--python <venv>/bin/python`) installs the requirements into it inside the sandbox: the
 * system and the base Python read-only, the environment writable, a private home and temp dir,
 * and network only to the package index that pip's own configuration names. Only wheels are
 * accepted unless the project opts into source builds, whose build scripts then run in that same
 * sandbox.
 *
 * @module
 */
import { basename, delimiter, dirname, join, resolve, sep } from "../_path.ts";
import * as z from "../_shape.ts";
import { DependencyError, tail } from "../errors.ts";
import { sha256 } from "../_hash.ts";
import {
  exists,
  isInside,
  makeRunDir,
  realPathLoose,
  realPathSyncOrNull,
  removeIfExists,
  statSyncOrNull,
} from "../_fs.ts";
import { Memo, once } from "../_memo.ts";
import { readRecordsFor, rememberSync } from "../_json_file.ts";
import { DEFAULT_PATH, which } from "../_which.ts";
import { type CommandSpec, execCommand, type ExecResult } from "../exec.ts";
import type { Manifest } from "../schema.ts";
import type { SandboxBackend, SandboxPolicy } from "../sandbox/types.ts";
import { buildOnce, markerFile, readReady } from "./_build_once.ts";
import { probePython, type PythonProbe, pythonReason, spawnFailure } from "./_python_probe.ts";
import { INSTALL_DISK_LIMITS, installCancelled, runInstall } from "./_install.ts";
import type { StagingLimits } from "../sandbox/copy_out.ts";
import { normalisedPython } from "./_requirements.ts";
import type { PreparedRuntime, PrepareOptions, Runtime } from "./types.ts";

/** Name of the file written last into a finished environment. */
export const READY_MARKER = ".capibara-ready";
/** Name of the requirements file pip installs from, kept in the environment for inspection. */
const REQUIREMENTS_FILE = "capibara-requirements.txt";
/** Version of the marker's JSON shape. */
const MARKER_FORMAT = 1;

const PROBE_TIMEOUT_MS = 30_000;
const VENV_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_INSTALL_TIMEOUT_MS = 30 * 60_000;
/** Limits of one sandboxed install (source builds may compile with many processes). */
const INSTALL_MEMORY_BYTES = 4 * 1024 ** 3;
const INSTALL_MAX_PROCESSES = 512;
/** Output kept from pip (its verbose log goes to a file, see `--log`). */
const INSTALL_MAX_OUTPUT_BYTES = 8 * 1024 ** 2;
/** The index pip uses when its configuration names none, and the host its files live on. */
const PYPI_INDEX = "https://pypi.org/simple";
const PYPI_FILES_HOST = "files.pythonhosted.org";

/** Names of the user's environment variables pip and the interpreter need to work as usual. */
const PASS_THROUGH = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "TMPDIR",
  "TEMP",
  "TMP",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  "XDG_DATA_HOME",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "NETRC",
  "SYSTEMROOT",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
]);
/** Prefixes of passed-through variables: pip's own configuration, pyenv shims, locale. */
const PASS_THROUGH_PREFIXES = ["PIP_", "PYENV", "LC_"];

/**
 * What starts a script in an environment, before the sandbox's Landlock step, as one comparable
 * text: the `bin` folder itself, each `bin/python*` and `bin/pyvenv.cfg` entry, and the root's
 * `pyvenv.cfg` (Python reads it, or `bin/pyvenv.cfg` when it cannot, to find its standard library),
 * each by `lstat`: a symlink by its target, a file by its identity and its content. Nothing here
 * follows a link an install may have planted.
 */
async function launchSurface(venvDir: string): Promise<string> {
  const describe = async (path: string): Promise<string> => {
    const info = await Deno.lstat(path).catch(() => undefined);
    if (!info) return "absent";
    if (info.isSymlink) return `symlink -> ${await Deno.readLink(path)}`;
    const mode = (info.mode ?? 0).toString(8);
    if (!info.isFile) return info.isDirectory ? `folder ${info.ino} ${mode}` : "other";
    const text = info.size <= 64 * 1024
      ? await Deno.readTextFile(path).catch(() => "(unreadable)")
      : "";
    return `file ${info.ino} ${mode} ${info.size} bytes ${info.mtime?.getTime()} ` +
      JSON.stringify(text);
  };
  const bin = join(venvDir, "bin");
  const lines = [`bin: ${await describe(bin)}`];
  const names: string[] = [];
  if ((await Deno.lstat(bin).catch(() => undefined))?.isDirectory) {
    for await (const entry of Deno.readDir(bin)) {
      if (entry.name.startsWith("python") || entry.name.startsWith("pyvenv")) {
        names.push(entry.name);
      }
    }
  }
  for (const name of names.sort()) lines.push(`bin/${name}: ${await describe(join(bin, name))}`);
  lines.push(`pyvenv.cfg: ${await describe(join(venvDir, "pyvenv.cfg"))}`);
  return lines.join("\n");
}

/** The readiness marker: written last, so its presence means the environment is complete. */
const Marker = z.object({
  format: z.literal(MARKER_FORMAT),
  key: z.string(),
  python: z.string(),
  python_version: z.string(),
  base_prefix: z.string(),
  requirements: z.array(z.string()),
  created_at: z.string(),
  build_id: z.string(),
  /** How the requirements were installed (absent in markers of older builds). */
  install: z.object({ confined: z.boolean(), source_builds: z.boolean() }).optional(),
  /** Where pip's configuration sent the install ({@linkcode pipIndexIdentity}). */
  index: z.string().optional(),
  /**
   * Every configuration file pip read for the install, by its own account, with its contents'
   * stamp ({@linkcode pipConfigStamps}): what {@linkcode pipIndexIdentity} finds without running
   * Python may miss one (the site file of an interpreter reached through a shim).
   */
  pip_config: z.record(z.string()).optional(),
});
/** The parsed readiness marker of a built environment. */
type Marker = z.Infer<typeof Marker>;

/** Options of {@linkcode PythonRuntime}. */
export interface PythonRuntimeOptions {
  /** Base interpreter that creates the environments (name on PATH or absolute). Default `python3`. */
  python?: string;
  /**
   * The user's environment (PATH, HOME, `PIP_*`, `CAPIBARA_INDEX_URL`, proxies…). Default
   * `Deno.env.toObject()`.
   */
  env?: Record<string, string | undefined>;
  /** Time limit of one `pip install`, in milliseconds. Default 30 minutes. */
  installTimeoutMs?: number;
  /** What one install may write, in bytes and files (default {@linkcode INSTALL_DISK_LIMITS}). */
  installLimits?: StagingLimits;
}

/** One environment of the pool, as listed by {@linkcode listVenvs}. */
export interface VenvInfo {
  /** Directory name, `py<version>-<key>`. */
  name: string;
  /** Absolute path of the environment. */
  path: string;
  /** True when the readiness marker is present and valid (false: a half-built leftover). */
  ready: boolean;
  /** Python major.minor the environment was built with (from the marker or the name). */
  pythonVersion?: string;
  /** Normalised requirements installed (only when ready). */
  requirements?: string[];
  /** When the build finished, ISO 8601 (only when ready). */
  createdAt?: string;
}

/** What the interpreter said of itself (see `_python_probe.ts`). */
type Probe = PythonProbe;

/** How long pip's answer is reused at most: a long-lived process (the runner, a Core) asks again. */
const PIP_REUSE_MS = 60_000;

/** pip's answer kept for the process, and when it was asked. */
interface SharedPipInfo {
  info: PipInfo;
  at: number;
}

/** pip's answers of this process, per interpreter and environment. */
const PIP_INFOS = new Memo<string, SharedPipInfo>();

/**
 * Whether pip's answer still holds: asked within a minute, and every file it read (its
 * configuration files, there or not, and pip itself) is as it was. An answer that does not say
 * what it read is asked again.
 */
async function stillRead(known: SharedPipInfo): Promise<boolean> {
  const read = known.info.read;
  if (!read || Date.now() - known.at > PIP_REUSE_MS) return false;
  for (const [path, stamp] of Object.entries(read)) {
    let now = "";
    try {
      const s = await Deno.stat(path);
      const ctime = s.ctime ? Math.floor(s.ctime.getTime() / 1000) : undefined;
      now = [s.dev, s.ino, s.size, s.mtime?.getTime(), ctime].join(":");
    } catch {
      // not there
    }
    if (now !== stamp) return false;
  }
  return true;
}

/** The project a script folder belongs to: the folder above its `.capibara` (else itself). */
function projectOf(scriptDir: string): string {
  const parts = resolve(scriptDir).split(sep);
  const at = parts.lastIndexOf(".capibara");
  return at > 0 ? parts.slice(0, at).join(sep) || sep : resolve(scriptDir);
}

/** Where pip's configuration sends an install: what {@linkcode pipSettings} reads. */
export interface PipSettings {
  /** The main index, or undefined with `noIndex`. */
  indexUrl?: string;
  /** Further indexes (`--extra-index-url`). */
  extraIndexUrls: string[];
  /** `--find-links` entries: URLs, or absolute local paths. */
  findLinks: string[];
  /** No index at all (`--no-index`): only the find-links locations. */
  noIndex: boolean;
  /** Hosts pip may reach over plain http or without a valid certificate (`--trusted-host`). */
  trustedHosts: string[];
  /** CA bundle file. */
  cert?: string;
  /** Constraint files. */
  constraints: string[];
  /** Socket timeout in seconds (`--timeout`). */
  timeout?: string;
  /** Connection retries (`--retries`). */
  retries?: string;
  /** pip's cache disabled by its configuration. */
  noCacheDir: boolean;
}

/** What the sandbox must let an install reach, derived from {@linkcode PipSettings}. */
export interface IndexAccess {
  /** Exact `host:port` rules: the index hosts (they may be on loopback or a private network). */
  hosts: string[];
  /** Local paths pip reads: `file:` indexes, local find-links, the CA bundle, constraints. */
  paths: string[];
}

/**
 * The key of the environment for a Python version and a requirement set: the first 16 hex
 * digits of the sha256 of the version and the normalised, sorted requirements (and whether
 * packages' build scripts may run to install them).
 *
 * @example Same set, any order or spelling, same key
 * ```ts
 * import { venvKey } from "./python.ts";
 * await venvKey("3.11", ["Pillow==10.0.0", "numpy==1.26.4"]) ===
 *   await venvKey("3.11", ["numpy == 1.26.4", "pillow==10.0.0"]); // true
 * ```
 */
export async function venvKey(
  pythonVersion: string,
  requirements: readonly string[],
  install: { sourceBuilds?: boolean; index?: string } = {},
): Promise<string> {
  // What identifies an environment: the version, then the normalised requirements, a line each,
  // and lines no requirement can be: when packages' build scripts ran to make it (a project that
  // allows no source build never gets what one built), and where pip's configuration sent the
  // install (an environment built from one index is never another index's: the same pins from a
  // public index and a private one are different packages).
  const lines = [pythonVersion, ...await normalisedPython(requirements)];
  if (install.sourceBuilds) lines.push("# source builds");
  if (install.index) lines.push(`# index ${install.index}`);
  return (await sha256(lines.join("\n"))).slice(0, 16);
}

/**
 * pip's settings that change nothing of where an install's packages come from: its variables
 * (`PIP_<NAME>`, any case, `_` for `-`, as pip reads them) of every other name count.
 */
const PIP_COSMETIC_SETTINGS = new Set([
  "disable-pip-version-check",
  "default-timeout",
  "timeout",
  "retries",
  "no-cache-dir",
  "cache-dir",
  "progress-bar",
  "no-color",
  "verbose",
  "quiet",
  "root-user-action",
  "no-input",
  "log",
  "no-python-version-warning",
  "require-virtualenv",
]);

/**
 * What decides where pip's install of a requirement set fetches its packages, as one hash: the
 * index Capibara is given (`CAPIBARA_INDEX_URL`, the SDK's `indexUrl`), each of pip's variables as
 * pip reads it (`PIP_` then the setting's name in any case, `_` for `-`: `PIP_find_links` is
 * `find-links`) but those that only tune its output and timing
 * ({@linkcode PIP_COSMETIC_SETTINGS}), and the contents of every configuration file pip may read:
 * `PIP_CONFIG_FILE`, the global ones (`$XDG_CONFIG_DIRS/pip/pip.conf`, `/etc/pip.conf`), the
 * user's (`~/.config/pip/pip.conf`, `~/.pip/pip.conf`) and the site one of the interpreter that
 * builds environments (`<prefix>/pip.conf`, the prefix found from its path on `PATH`: an active
 * venv's, or the system's). Read without running pip (a cache hit asks it): it changes with any of
 * them, so an environment built from one index is never used for another (the same pins from a
 * public and a private index are different packages: a dependency confusion would otherwise stay
 * in the shared cache). Credentials in URLs are hashed, never stored.
 */
export async function pipIndexIdentity(
  env: Readonly<Record<string, string | undefined>>,
  indexUrl?: string,
  python = "python3",
): Promise<string> {
  const home = env.HOME ?? "";
  const configHome = env.XDG_CONFIG_HOME || (home && join(home, ".config"));
  const configDirs = (env.XDG_CONFIG_DIRS || "/etc/xdg").split(":").filter((d) => d !== "");
  const interpreter = await which(python, env.PATH ?? "");
  const prefixes = interpreter === undefined ? [] : [
    dirname(dirname(interpreter)),
    dirname(dirname(realPathSyncOrNull(interpreter) ?? interpreter)),
  ];
  const files = [
    ...(env.PIP_CONFIG_FILE ? [env.PIP_CONFIG_FILE] : []),
    ...configDirs.map((dir) => join(dir, "pip", "pip.conf")),
    "/etc/pip.conf",
    ...(home ? [join(home, ".pip", "pip.conf")] : []),
    ...(configHome ? [join(configHome, "pip", "pip.conf")] : []),
    ...prefixes.map((prefix) => join(prefix, "pip.conf")),
  ];
  // The user's and the machine's own files; one that is not there counts for nothing (a PATH
  // without the interpreter names none).
  const contents = Object.fromEntries(
    Object.entries(await pipConfigStamps(files)).filter(([, stamp]) => stamp !== ""),
  );
  const variables = Object.entries(env)
    .filter(([name, value]) =>
      name.startsWith("PIP_") && value !== undefined &&
      !PIP_COSMETIC_SETTINGS.has(name.slice(4).toLowerCase().replaceAll("_", "-"))
    )
    .map(([name, value]) => [name, value!])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const given = indexUrl ?? (env.CAPIBARA_INDEX_URL || "");
  return (await sha256(JSON.stringify({ given, variables, contents }))).slice(0, 16);
}

/** The most of a pip configuration file read for {@linkcode pipConfigStamps}. */
const MAX_PIP_CONFIG_BYTES = 1024 ** 2;

/**
 * The stamp of each of pip's configuration files `files` by what it holds, links followed as pip
 * follows them: the sha256 of its contents, `""` for a file that is not there, `unreadable <size>`
 * for one pip could not read as a file or too large to hash.
 */
async function pipConfigStamps(files: Iterable<string>): Promise<Record<string, string>> {
  const stamps: Record<string, string> = {};
  for (const file of new Set(files)) {
    const info = statSyncOrNull(file);
    stamps[file] = info === null
      ? ""
      : info.isFile && info.size <= MAX_PIP_CONFIG_BYTES
      ? await sha256(readSyncOrEmpty(file))
      : `unreadable ${info.size}`;
  }
  return stamps;
}

/** The configuration files pip's answer says it read (all it read but pip itself). */
function pipConfigFiles(pip: PipInfo): string[] {
  const own = join(pip.dir, "__init__.py");
  return Object.keys(pip.read ?? {}).filter((path) => path !== own);
}

function readSyncOrEmpty(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch {
    return new Uint8Array();
  }
}

/** Directory holding the environments (and their lock files) under a cache directory. */
function venvsRoot(cacheDir: string): string {
  return join(resolve(cacheDir), "venvs");
}

function venvPython(venvDir: string): string {
  return Deno.build.os === "windows"
    ? join(venvDir, "Scripts", "python.exe")
    : join(venvDir, "bin", "python");
}

async function readMarker(venvDir: string): Promise<Marker | undefined> {
  try {
    return Marker.parse(JSON.parse(await Deno.readTextFile(markerFile(venvDir, READY_MARKER))));
  } catch {
    return undefined;
  }
}

/** Accepts a marker of a complete, usable environment for `requirements`. */
function acceptMarker(requirements: readonly string[]) {
  return async (raw: unknown, venvDir: string): Promise<Marker | undefined> => {
    const parsed = Marker.safeParse(raw);
    if (!parsed.success) return undefined;
    const marker = parsed.data;
    if (marker.requirements.join("\n") !== requirements.join("\n")) return undefined;
    try {
      // Follows the interpreter symlink: a removed or upgraded base Python breaks the venv.
      await Deno.stat(venvPython(venvDir));
    } catch {
      return undefined;
    }
    return marker;
  };
}

/** pip's reading of a boolean setting (`strtobool`). */
function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(y|yes|t|true|on|1)$/i.test(value.trim());
}

function words(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(/\s+/).filter((w) => w);
}

/** A local path named by a `file:` URL or a plain path, absolute; undefined for other URLs. */
function localPath(location: string): string | undefined {
  if (/^file:/i.test(location)) {
    try {
      return decodeURIComponent(new URL(location).pathname);
    } catch {
      return undefined;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return undefined;
  return resolve(location);
}

/**
 * The index settings of pip's configuration, from the items pip itself reports (`pip config
 * list`: `global.index-url`, `install.find-links`, `:env:.index-url` for `PIP_INDEX_URL`…; the
 * environment wins over the `install` section, which wins over `global`). `indexUrl` (from
 * `CAPIBARA_INDEX_URL`) replaces every index and find-links location. Without any index, pip's
 * default, PyPI.
 */
export function pipSettings(
  items: Record<string, string>,
  indexUrl?: string,
  cwd: string = Deno.cwd(),
): PipSettings {
  const get = (key: string) =>
    items[`:env:.${key}`] ?? items[`install.${key}`] ?? items[`global.${key}`];
  // A location that is a plain path, as pip takes it from the folder it runs in: the run's, which
  // is not this process's where a resident runner serves the run.
  const located = (location: string) =>
    /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : resolve(cwd, location);
  const noIndex = indexUrl === undefined && truthy(get("no-index"));
  const configured = get("index-url");
  const settings: PipSettings = {
    indexUrl: indexUrl ??
      (noIndex ? undefined : configured !== undefined ? located(configured) : PYPI_INDEX),
    extraIndexUrls: indexUrl === undefined && !noIndex
      ? words(get("extra-index-url")).map(located)
      : [],
    findLinks: indexUrl === undefined ? words(get("find-links")).map(located) : [],
    noIndex,
    trustedHosts: words(get("trusted-host")),
    constraints: words(get("constraint")).map((path) => resolve(cwd, path)),
    noCacheDir: get("no-cache-dir") !== undefined &&
      !/^(n|no|f|false|off|0)$/i.test(get("no-cache-dir")!.trim()),
  };
  const cert = get("cert");
  if (cert) settings.cert = resolve(cwd, cert);
  const timeout = get("timeout") ?? get("default-timeout");
  if (timeout && /^\d+(\.\d+)?$/.test(timeout)) settings.timeout = timeout;
  const retries = get("retries");
  if (retries && /^\d+$/.test(retries)) settings.retries = retries;
  return settings;
}

/**
 * The hosts and local paths an install with `settings` needs. A `file:` index ending in
 * `/simple` is a local mirror whose pages link to files beside that folder: its parent is read.
 */
export function indexAccess(settings: PipSettings): IndexAccess {
  const hosts = new Set<string>();
  const paths = new Set<string>();
  const indexes = [
    ...(settings.indexUrl === undefined ? [] : [settings.indexUrl]),
    ...settings.extraIndexUrls,
  ];
  for (const location of [...indexes, ...settings.findLinks]) {
    const local = localPath(location);
    if (local !== undefined) {
      const isIndex = indexes.includes(location);
      paths.add(
        isIndex && basename(local.replace(/\/+$/, "")) === "simple"
          ? dirname(local.replace(/\/+$/, ""))
          : local,
      );
      continue;
    }
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    const port = url.port || (url.protocol === "https:" ? "443" : "80");
    hosts.add(`${url.hostname}:${port}`);
    if (url.hostname === "pypi.org") hosts.add(`${PYPI_FILES_HOST}:443`);
  }
  for (const file of [settings.cert, ...settings.constraints]) {
    if (file !== undefined) paths.add(file);
  }
  return { hosts: [...hosts], paths: [...paths] };
}

/** Whether an install may run packages' build scripts: opted in, and only in the sandbox. */
function sourceBuildsAllowed(options: PrepareOptions): boolean {
  return options.sandbox !== undefined && options.sourceBuilds === true;
}

/**
 * Refuses to hand an index's credentials to packages' build scripts: pip's variables carry the
 * index URLs to everything it starts, a source build's code too, which could read the user name
 * and password and use them against the index (publish to it) or keep them for a later run.
 *
 * @throws {DependencyError} when an index or find-links URL holds a user name or password.
 */
function refuseCredentials(settings: PipSettings): void {
  for (const url of [settings.indexUrl, ...settings.extraIndexUrls, ...settings.findLinks]) {
    let parsed: URL;
    try {
      parsed = new URL(url ?? "");
    } catch {
      continue; // a local path
    }
    if (!urlMayCarryToken(parsed)) continue;
    throw new DependencyError(
      `Cannot build packages from source with the index at ${parsed.host}: its URL may hold ` +
        "credentials (a user part, a query, or a path part that looks like a token), which the " +
        "packages' build scripts would see and could send to that host",
      {
        hint: "Install wheels only (remove install.source_builds), or give source builds an " +
          "index that needs no credentials (CAPIBARA_INDEX_URL)",
        details: { host: parsed.host },
      },
    );
  }
}

/**
 * Whether an index URL may carry a credential a build script could read and send back to its
 * host: a user part (`user:token@`), a query (`?token=`), or a path part that looks like a token
 * (16 or more characters holding both letters and digits, as hosted indexes put one in the path:
 * `/<token>/org/repo/python/simple/`). A public index's path (`/simple/`) holds none.
 */
export function urlMayCarryToken(url: URL): boolean {
  if (url.username !== "" || url.password !== "" || url.search !== "") return true;
  return url.pathname.split("/").some((part) =>
    part.length >= 16 && /[A-Za-z]/.test(part) && /[0-9]/.test(part)
  );
}

/**
 * pip's variables that carry `settings` (pip then reads no configuration file). Variables, not
 * arguments: an index URL may hold credentials, and other users can read a command line.
 */
function settingsEnv(settings: PipSettings): Record<string, string> {
  const env: Record<string, string> = { PIP_CONFIG_FILE: "/dev/null" };
  const set = (name: string, values: (string | undefined)[]) => {
    const present = values.filter((v): v is string => v !== undefined);
    if (present.length) env[name] = present.join(" ");
  };
  if (settings.noIndex) env.PIP_NO_INDEX = "1";
  else set("PIP_INDEX_URL", [settings.indexUrl]);
  set("PIP_EXTRA_INDEX_URL", settings.extraIndexUrls);
  set("PIP_FIND_LINKS", settings.findLinks);
  set("PIP_TRUSTED_HOST", settings.trustedHosts);
  set("PIP_CONSTRAINT", settings.constraints);
  set("PIP_CERT", [settings.cert]);
  set("PIP_TIMEOUT", [settings.timeout]);
  set("PIP_RETRIES", [settings.retries]);
  return env;
}

/** Reads pip's location and version and its configuration items, as the host's pip sees them. */
const PIP_INFO_CODE = `
import json, os, sys
import pip
def stamp(path):
    # What the query read, as its caller compares it later: another file there, or another
    # content (size, times), differs; "" is a file that is not there.
    try:
        s = os.stat(path)
    except OSError:
        return ""
    # Milliseconds of the modification time, seconds of the change time (what Deno's stat has).
    return "%d:%d:%d:%d:%d" % (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns // 1000000,
                               s.st_ctime_ns // 1000000000)
try:
    # What \`pip config list\` prints, without parsing its text.
    from pip._internal.configuration import Configuration
    configuration = Configuration(isolated=False)
    files = [path for _, paths in configuration.iter_config_files() for path in paths]
    read = {path: stamp(path) for path in files + [pip.__file__]}
    configuration.load()
    items = {key: str(value) for key, value in configuration.items()}
except Exception:
    read = None
    import ast, subprocess
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True, check=True).stdout
    items = {}
    for line in listed.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            items[key] = str(ast.literal_eval(value))
info = {
    "version": pip.__version__,
    "dir": os.path.dirname(os.path.abspath(pip.__file__)),
    "items": items,
}
if read is not None:
    info["read"] = read
print(json.dumps(info))
`;

const PipInfo = z.object({
  version: z.string(),
  dir: z.string(),
  items: z.record(z.string()),
  /** The files the query read (pip's configuration files and pip itself), with their stamps. */
  read: z.record(z.string()).optional(),
});
type PipInfo = z.Infer<typeof PipInfo>;

/** How long pip's answer kept in the cache folder is reused at most. */
const PIP_KEPT_MS = 3_600_000;

/**
 * pip's answer as a later process finds it in the cache folder, with the sha256 of its key (the
 * key itself holds the user's variables, a proxy's password among them, and is never written).
 */
const KeptPipInfo = z.object({ key_sha256: z.string(), at: z.number(), info: PipInfo });

/**
 * An item that may carry a secret, never written to the cache folder: any URL but a local
 * `file:` one (a token may sit in its user part or its path, as some hosted indexes put it), or
 * an `@` (a proxy's `user:password@host` needs no scheme).
 */
export function mayHoldSecret(value: string): boolean {
  return value.includes("@") || /[a-z][a-z0-9+.-]*:\/\//i.test(value.replace(/\bfile:\/\//gi, ""));
}

/**
 * pip's answer kept in `file` by an earlier process for the same interpreter and variables (the
 * key's sha256 `keyHash`): undefined when there is none, it lies inside the `project` (or is
 * reached through a folder there), it is older than an hour, it does not say what it read with
 * pip's own files among it, or a file it read is not as it was (pip's configuration files, there
 * or not, and pip itself).
 */
async function keptPipInfo(
  file: string,
  keyHash: string,
  project: string,
): Promise<SharedPipInfo | undefined> {
  // Never a file inside the project (a cache folder set there for a CI cache): a repository
  // could have brought it, naming its own index.
  const kept = KeptPipInfo.safeParse(await readRecordsFor(file, await realPathLoose(project)));
  if (!kept.success || kept.data.key_sha256 !== keyHash) return undefined;
  const age = Date.now() - kept.data.at;
  if (age < 0 || age > PIP_KEPT_MS) return undefined;
  const { info } = kept.data;
  const ownFiles = Object.entries(info.read ?? {})
    .filter(([path, stamp]) => dirname(path) === info.dir && stamp !== "");
  if (ownFiles.length === 0) return undefined;
  const known = { info, at: Date.now() };
  return await stillRead(known) ? known : undefined;
}

/**
 * Keeps pip's answer in `file` for later processes, when it says what it read and no item of it
 * may hold a secret (CI caches upload the cache folder): a configuration that names a remote
 * index is asked again by each process.
 */
function keepPipInfo(file: string, keyHash: string, known: SharedPipInfo): SharedPipInfo {
  const secret = Object.values(known.info.items).some(mayHoldSecret);
  if (known.info.read && !secret) {
    rememberSync(file, { key_sha256: keyHash, at: known.at, info: known.info });
  }
  return known;
}

/** Whether pip `version` is at least 22.3, which has `--python`. */
function pipHasPythonOption(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map((part) => parseInt(part, 10));
  return major > 22 || (major === 22 && minor >= 3);
}

/** The name pip refused because only a source distribution exists, read from its verbose log. */
async function sdistOnly(logFile: string): Promise<string | undefined> {
  let text: string;
  try {
    const file = await Deno.open(logFile);
    try {
      const buffer = new Uint8Array(INSTALL_MAX_OUTPUT_BYTES);
      const n = await file.read(buffer);
      text = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    } finally {
      file.close();
    }
  } catch {
    return undefined;
  }
  return /No sources permitted for ([A-Za-z0-9._-]+)/.exec(text)?.[1];
}

/**
 * Python scripts run in a shared pool of virtual environments under `<cacheDir>/venvs/`, one per
 * (Python major.minor, normalised requirement set), built once and reused.
 *
 * A cache hit costs a marker read and a stat: no subprocess. Concurrent builds of one set (in
 * this process or others) wait for one build (see `_build_once.ts`).
 */
export class PythonRuntime implements Runtime {
  /** Always `"python"`. */
  readonly language = "python" as const;
  readonly #python: string;
  readonly #userEnv: Record<string, string | undefined>;
  readonly #installTimeoutMs: number;
  readonly #installLimits: StagingLimits;
  readonly #probe: () => Promise<Probe>;
  #probed?: Probe;

  /** A runtime using `options.python` (default `python3`) with the user's `options.env`. */
  constructor(options: PythonRuntimeOptions = {}) {
    this.#python = options.python ?? "python3";
    this.#userEnv = options.env ?? Deno.env.toObject();
    this.#installTimeoutMs = options.installTimeoutMs ?? DEFAULT_INSTALL_TIMEOUT_MS;
    this.#installLimits = options.installLimits ?? INSTALL_DISK_LIMITS;
    // A failed probe is not cached: the user may install Python and retry in a long-lived process.
    this.#probe = once(async () => this.#probed = await probePython(this.#python, this.#userEnv));
  }

  /**
   * The base interpreter's name and major.minor version, e.g. `{ name: "python", version: "3.11" }`.
   * Runs the interpreter once per instance.
   *
   * @throws {DependencyError} when the interpreter is missing or broken.
   */
  async describe(): Promise<{ name: string; version: string }> {
    const { version } = await this.#probe();
    return { name: "python", version };
  }

  /**
   * Build (or reuse) the environment of `manifest.deps` and return how to run scripts in it.
   * `scriptDir` is only checked: the environment never lives under it.
   *
   * @throws {DependencyError} when the interpreter is missing, a requirement is refused or pip
   * fails (the half-built environment is removed).
   */
  async prepare(
    manifest: Manifest,
    scriptDir: string,
    options: PrepareOptions,
  ): Promise<PreparedRuntime> {
    const requirements = await normalisedPython(manifest.deps);
    // What the install may run: the environment's key and marker say so (see venvKey).
    const install = {
      sourceBuilds: sourceBuildsAllowed(options),
      // An environment without requirements installs nothing: no index counts for it.
      index: requirements.length === 0
        ? ""
        : await pipIndexIdentity(this.#userEnv, options.indexUrl, this.#python),
    };
    const given = venvsRoot(options.cacheDir);
    if (given.split(sep).includes(".capibara") || isInside(given, resolve(scriptDir))) {
      throw new DependencyError(
        `Cannot use cache directory "${options.cacheDir}": it is inside the project's .capibara folder or the script folder`,
        { hint: "Set CAPIBARA_CACHE_DIR to a machine-local directory outside the project" },
      );
    }
    // Environments hard-code their path, and the sandbox binds them where they really are.
    const root = await realPathLoose(given);

    // Fast path without running Python: the version already probed, else the one the manifest
    // recorded. The marker names the interpreter command, so an explicit `python` option that
    // differs from the builder's falls through to the probe.
    const guess = this.#probed?.version ??
      (manifest.runtime.name === "python" && /^\d+\.\d+$/.test(manifest.runtime.version)
        ? manifest.runtime.version
        : undefined);
    if (guess !== undefined) {
      const hit = await this.#lookup(root, guess, requirements, install);
      if (hit) return hit;
    }

    const probe = await this.#probe();
    if (probe.version !== guess) {
      const hit = await this.#lookup(root, probe.version, requirements, install);
      if (hit) return hit;
    }
    const key = await venvKey(probe.version, requirements, install);
    const name = `py${probe.version}-${key}`;
    const venvDir = join(root, name);
    const marker = await buildOnce({
      dir: venvDir,
      lockFile: join(root, `${name}.lock`),
      marker: READY_MARKER,
      accept: this.#accept(requirements, install),
      onWait: () =>
        options.progress?.("Waiting for another process to build the Python environment…"),
      build: (dir) =>
        this.#build(dir, key, probe, requirements, options, install.index, projectOf(scriptDir)),
    });
    return prepared(venvDir, marker);
  }

  #accept(requirements: readonly string[], install: { sourceBuilds: boolean; index: string }) {
    const accept = acceptMarker(requirements);
    return async (raw: unknown, dir: string) => {
      const marker = await accept(raw, dir);
      // Built by packages' build scripts, for a project that allows none: not its environment.
      if (marker?.install?.source_builds && !install.sourceBuilds) return undefined;
      // Built from another index (or before the index was recorded): not its environment.
      if (marker?.index !== install.index) return undefined;
      // A configuration file pip read for the install has changed since: it may name another
      // index, which the identity above cannot see when the file is found only by running Python.
      if (marker?.pip_config !== undefined) {
        const now = await pipConfigStamps(Object.keys(marker.pip_config));
        if (Object.entries(marker.pip_config).some(([file, stamp]) => now[file] !== stamp)) {
          return undefined;
        }
      } else if (marker?.install !== undefined) {
        return undefined; // installed before pip's files were recorded
      }
      return marker?.python === this.#python ? marker : undefined;
    };
  }

  async #lookup(
    root: string,
    version: string,
    requirements: string[],
    install: { sourceBuilds: boolean; index: string },
  ): Promise<PreparedRuntime | undefined> {
    const venvDir = join(root, `py${version}-${await venvKey(version, requirements, install)}`);
    const marker = await readReady({
      dir: venvDir,
      marker: READY_MARKER,
      accept: this.#accept(requirements, install),
    });
    return marker ? prepared(venvDir, marker) : undefined;
  }

  async #build(
    venvDir: string,
    key: string,
    probe: Probe,
    requirements: string[],
    options: PrepareOptions,
    index: string,
    project: string,
  ): Promise<Marker> {
    options.progress?.(
      requirements.length
        ? `Installing ${requirements.length} requirement${
          requirements.length === 1 ? "" : "s"
        } into a new environment…`
        : "Creating a new Python environment…",
    );
    const env = this.#baseEnv();
    // pip's configuration is read while the environment is created: both are quick, and
    // independent.
    const [created, pip] = await Promise.all([
      this.#run(probe.executable, ["-I", "-m", "venv", "--without-pip", venvDir], env, {
        cwd: dirname(venvDir),
        timeoutMs: VENV_TIMEOUT_MS,
      }),
      requirements.length ? this.#pipInfo(probe, options.cacheDir, project) : undefined,
    ]);
    if (created.code !== 0) {
      throw new DependencyError(
        `Cannot create a virtual environment: ${pythonReason(created.stderr || created.stdout)}`,
        {
          hint: "Check that Python's venv module works (on Debian or Ubuntu: apt install " +
            "python3-venv) and that the cache directory is writable",
          details: { python: this.#python, stderr: tail(created.stderr) },
        },
      );
    }
    // What starts every script, before the sandbox's Landlock step has run: the interpreter links
    // and pyvenv.cfg that venv wrote. A wheel can overwrite them (`*.data/scripts/python`,
    // `*.data/data/pyvenv.cfg`), so an install that changed them is refused.
    const surface = pip ? await launchSurface(venvDir) : "";
    // Stamped before the install: a file changed during it makes the next lookup build again.
    const pipConfig = pip ? await pipConfigStamps(pipConfigFiles(pip)) : undefined;
    const install = pip
      ? await this.#install(venvDir, probe, pip, requirements, options)
      : undefined;
    if (pip) {
      const after = await launchSurface(venvDir);
      if (after !== surface) {
        throw new DependencyError(
          "A requirement replaced the environment's interpreter or its pyvenv.cfg: refused",
          {
            hint: "Review the script's requirements: a package that overwrites bin/python or " +
              "pyvenv.cfg could run code before the sandbox's last step",
            details: { before: surface, after },
          },
        );
      }
    }
    return {
      format: MARKER_FORMAT,
      key,
      python: this.#python,
      python_version: probe.version,
      base_prefix: probe.basePrefix,
      requirements,
      created_at: new Date().toISOString(),
      build_id: crypto.randomUUID(),
      ...(install ? { install } : {}),
      index,
      ...(pipConfig ? { pip_config: pipConfig } : {}),
    };
  }

  /** One pip process installs `requirements` into the new environment, in the sandbox if any. */
  async #install(
    venvDir: string,
    probe: Probe,
    pip: PipInfo,
    requirements: string[],
    options: PrepareOptions,
  ): Promise<{ confined: boolean; source_builds: boolean }> {
    if (!pipHasPythonOption(pip.version) || !(await exists(join(pip.dir, "__pip-runner__.py")))) {
      throw new DependencyError(
        `Cannot install requirements: pip ${pip.version} is too old (22.3 or newer is needed)`,
        { hint: `Upgrade pip: ${this.#python} -m pip install --upgrade pip` },
      );
    }
    const sandbox = options.sandbox;
    const warn = options.warn ?? console.error;
    if (!sandbox) {
      warn(
        "warning: installing Python requirements WITHOUT a sandbox: pip runs with your " +
          "permissions, files and network. Only wheels are accepted, so no package's build " +
          "script runs" + (options.sourceBuilds ? " (install.source_builds is ignored)" : "") + ".",
      );
    }
    const sourceBuilds = sourceBuildsAllowed(options);
    const settings = pipSettings(
      pip.items,
      options.indexUrl ?? (this.#userEnv.CAPIBARA_INDEX_URL || undefined),
      options.cwd,
    );
    if (sourceBuilds) refuseCredentials(settings);
    const access = indexAccess(settings);
    // A shared cache is written only by pip itself: a source build is untrusted code.
    const cacheDir = settings.noCacheDir || sourceBuilds
      ? undefined
      : join(dirname(dirname(venvDir)), "pip");

    const reqFile = join(venvDir, REQUIREMENTS_FILE);
    await Deno.writeTextFile(reqFile, requirements.join("\n") + "\n");
    // Named as a run's: a sweep removes it when this process was killed during the install.
    const tmp = await makeRunDir();
    const logFile = join(tmp, "pip.log");
    // The host's pip, run by the new environment's interpreter: what `pip --python <venv>` does
    // (pip >= 22.3 re-runs its own `__pip-runner__.py` so), without a first interpreter that
    // only starts the second.
    const args = [
      join(pip.dir, "__pip-runner__.py"),
      "install",
      "--no-input",
      "--disable-pip-version-check",
      "--no-color",
      "--progress-bar",
      "off",
      "--no-warn-script-location",
      "--log",
      logFile,
      ...(cacheDir ? ["--cache-dir", cacheDir] : ["--no-cache-dir"]),
      ...(sourceBuilds ? [] : ["--only-binary", ":all:"]),
      "-r",
      reqFile,
    ];
    const spec: CommandSpec = {
      program: venvPython(venvDir),
      args,
      env: {
        PATH: `${dirname(venvPython(venvDir))}${delimiter}${DEFAULT_PATH}`,
        // Unconfined, pip keeps the user's home (`.netrc`, keyring): no untrusted code runs there.
        HOME: sandbox ? tmp : this.#userEnv.HOME ?? tmp,
        TMPDIR: tmp,
        LANG: "C.UTF-8",
        PYTHONNOUSERSITE: "1",
        ...settingsEnv(settings),
        ...(sandbox ? {} : this.#proxyEnv()),
      },
      cwd: venvDir,
    };

    let result: ExecResult;
    try {
      if (sandbox) {
        if (cacheDir) await Deno.mkdir(cacheDir, { recursive: true, mode: 0o700 });
        const policy: SandboxPolicy = {
          network: access.hosts,
          privateNetwork: access.hosts,
          read: [
            ...new Set([
              probe.basePrefix,
              dirname(probe.executable),
              dirname(probe.realExecutable),
              dirname(pip.dir),
              ...access.paths,
            ]),
          ],
          write: [venvDir, ...(cacheDir ? [cacheDir] : [])],
          protect: [],
          workdir: venvDir,
          tmpDir: tmp,
          memoryBytes: INSTALL_MEMORY_BYTES,
          maxProcesses: INSTALL_MAX_PROCESSES,
        };
        result = await this.#runWrapped(sandbox, spec, policy, options.signal);
      } else {
        result = await this.#exec(spec, this.#installTimeoutMs, options.signal);
      }
      if (result.code !== 0) {
        throw await this.#installFailure(result, requirements, probe, logFile, {
          sourceBuilds,
          confined: sandbox !== undefined,
        });
      }
    } finally {
      await removeIfExists(tmp);
    }
    return { confined: sandbox !== undefined, source_builds: sourceBuilds };
  }

  async #runWrapped(
    sandbox: SandboxBackend,
    spec: CommandSpec,
    policy: SandboxPolicy,
    signal: AbortSignal | undefined,
  ): Promise<ExecResult> {
    try {
      return await runInstall(sandbox, spec, policy, {
        timeoutMs: this.#installTimeoutMs,
        maxOutputBytes: INSTALL_MAX_OUTPUT_BYTES,
        limits: this.#installLimits,
        signal,
      });
    } catch (error) {
      throw spawnFailure(error, spec.program) ?? error;
    }
  }

  async #exec(
    spec: CommandSpec,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ExecResult> {
    let result: ExecResult;
    try {
      result = await execCommand(spec, {
        timeoutMs,
        maxOutputBytes: INSTALL_MAX_OUTPUT_BYTES,
        signal,
      });
    } catch (error) {
      throw spawnFailure(error, spec.program) ?? error;
    }
    if (signal?.aborted) throw installCancelled();
    return result;
  }

  async #installFailure(
    result: ExecResult,
    requirements: string[],
    probe: Probe,
    logFile: string,
    { sourceBuilds, confined }: { sourceBuilds: boolean; confined: boolean },
  ): Promise<DependencyError> {
    const reason = result.timedOut
      ? `pip did not finish within ${Math.round(this.#installTimeoutMs / 1000)} s`
      : pythonReason(result.stderr);
    const sdist = !sourceBuilds && /No matching distribution/i.test(reason)
      ? await sdistOnly(logFile)
      : undefined;
    const hint = sdist !== undefined
      ? `"${sdist}" publishes no wheel for this platform, only a source distribution, whose ` +
        "build script would run: to allow that inside the sandbox, set install.source_builds " +
        '("install": {"source_builds": true} in .capibara/config.json)' +
        (confined ? "" : " and run with the sandbox on (never with --no-sandbox)") +
        ", or pick a version with wheels"
      : `Check that the pinned versions exist for Python ${probe.version} on your ` +
        "package index; pip uses your configuration (CAPIBARA_INDEX_URL, pip.conf, " +
        "PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS for an offline wheelhouse)";
    return new DependencyError(`Cannot install requirements: ${reason}`, {
      hint,
      details: {
        requirements,
        python_version: probe.version,
        exit_code: result.code,
        stderr: tail(result.stderr),
        ...(sdist !== undefined ? { source_only: sdist } : {}),
      },
    });
  }

  /**
   * The host's pip: its version, where it lives, and its configuration items. Shared by the
   * runtimes of a process, and kept in the cache folder for later processes (see
   * {@linkcode keptPipInfo}): a generation in a process of its own asks pip once an hour at most,
   * while nothing pip read has changed.
   */
  async #pipInfo(probe: Probe, cacheDir: string, project: string): Promise<PipInfo> {
    const env = this.#baseEnv();
    // Sorted: the order of a process's variables is not the same from one process to the next.
    const key = JSON.stringify([probe.executable, Object.entries(env).sort()]);
    const keyHash = await sha256(key);
    const file = join(resolve(cacheDir), "python", `pip-${keyHash.slice(0, 32)}.json`);
    const compute = async () =>
      await keptPipInfo(file, keyHash, project) ??
        keepPipInfo(file, keyHash, await this.#pipInfoNow(probe, env));
    return (await PIP_INFOS.getWhile(key, compute, stillRead)).info;
  }

  /**
   * pip's answer now. The query costs a new environment about 0.3 s (pip imports most of itself
   * to read its configuration); the runtimes of a process share it while nothing it read changed.
   */
  async #pipInfoNow(probe: Probe, env: Record<string, string>): Promise<SharedPipInfo> {
    // Isolated (-I: no script or current directory on sys.path, no PYTHON* variables, no user
    // site) from a neutral directory: a `json.py` a script left in the project is never imported.
    // pip's own variables (PIP_*, HOME for pip.conf) stay: they are what this query reads.
    const result = await this.#run(probe.executable, ["-I", "-c", PIP_INFO_CODE], env, {
      cwd: "/",
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (result.code === 0) {
      try {
        const info = PipInfo.parse(JSON.parse(result.stdout.trim().split("\n").at(-1) ?? ""));
        return { info, at: Date.now() };
      } catch {
        // reported below
      }
    }
    throw new DependencyError(
      `Cannot install requirements: pip does not run: ${
        pythonReason(result.stderr || result.stdout)
      }`,
      {
        hint: `Install pip for this Python: ${this.#python} -m ensurepip --upgrade`,
        details: { python: probe.executable, exit_code: result.code, stderr: tail(result.stderr) },
      },
    );
  }

  /** Run a command; a missing interpreter becomes a DependencyError. */
  async #run(
    program: string,
    args: string[],
    env: Record<string, string>,
    options: { cwd: string; timeoutMs: number },
  ): Promise<ExecResult> {
    try {
      return await execCommand({ program, args, env, cwd: options.cwd }, {
        timeoutMs: options.timeoutMs,
      });
    } catch (error) {
      throw spawnFailure(error, program) ?? error;
    }
  }

  /** The user's variables pip and Python need; never PYTHONPATH/PYTHONHOME, which break venvs. */
  #baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#userEnv)) {
      if (value === undefined) continue;
      if (PASS_THROUGH.has(name) || PASS_THROUGH_PREFIXES.some((p) => name.startsWith(p))) {
        env[name] = value;
      }
    }
    env.PYTHONDONTWRITEBYTECODE ??= "1";
    return env;
  }

  /** The user's own proxy settings, for an unconfined install. */
  #proxyEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of ["http_proxy", "https_proxy", "no_proxy", "all_proxy"]) {
      for (const spelling of [name, name.toUpperCase()]) {
        const value = this.#userEnv[spelling];
        if (value !== undefined) env[spelling] = value;
      }
    }
    for (const name of ["SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "NETRC"]) {
      const value = this.#userEnv[name];
      if (value !== undefined) env[name] = value;
    }
    return env;
  }
}

function prepared(venvDir: string, marker: Marker): PreparedRuntime {
  return {
    interpreter: venvPython(venvDir),
    interpreterArgs: [],
    readPaths: [venvDir, marker.base_prefix],
    env: {
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONNOUSERSITE: "1",
      PYTHONUNBUFFERED: "1",
      VIRTUAL_ENV: venvDir,
    },
  };
}

/**
 * The environments under `<cacheDir>/venvs/`, ready or half-built, sorted by name (for
 * `capibara doctor` and cache pruning). An absent directory lists nothing.
 */
export async function listVenvs(cacheDir: string): Promise<VenvInfo[]> {
  const root = venvsRoot(cacheDir);
  const found: VenvInfo[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (!entry.isDirectory || !/^py\d+\.\d+-[0-9a-f]{16}$/.test(entry.name)) continue;
      const path = join(root, entry.name);
      const marker = await readMarker(path);
      found.push(
        marker
          ? {
            name: entry.name,
            path,
            ready: true,
            pythonVersion: marker.python_version,
            requirements: marker.requirements,
            createdAt: marker.created_at,
          }
          : {
            name: entry.name,
            path,
            ready: false,
            pythonVersion: /^py(\d+\.\d+)-/.exec(entry.name)?.[1],
          },
      );
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
