/**
 * Copy-out: a sandboxed script writes its outputs into a private staging area, never into the
 * project; after it exits successfully, Capibara moves into the project only what it may keep.
 *
 * What is moved, all or nothing:
 * - only the artifacts the script reported, and only under the declared output paths;
 * - only regular files (no symlinks, devices, FIFOs or sockets), read without following a link;
 * - no name that a tool executes or trusts ({@linkcode untrustedName}: dot names, file names
 *   without an extension, project, build and configuration files), anywhere below the declared
 *   output folder, unless the file is exactly a declared output path (taken as written);
 * - nothing that overwrites a file git tracks, unless it is exactly a declared output path;
 * - into a destination whose every folder, from the working directory down, is a real folder
 *   (never a symlink), through a temporary name in the destination folder and a rename.
 *
 * The staging area (the run's temp dir, which holds it) is bounded in bytes and files while the
 * script runs: {@linkcode measureTree} is what the executor samples.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "../_path.ts";
import {
  isInside,
  LEFT_PROBE,
  lstatOrNull,
  lstatSyncOrNull,
  pidNamespace,
  promised,
  reopenFolders,
  staleEntries,
} from "../_fs.ts";
import { DEFAULT_PATH } from "../_which.ts";
import { ExecError } from "../errors.ts";
import { execCommand } from "../exec.ts";
import { onTimeout, sleep } from "../_timer.ts";
import { readStream, TooLarge } from "../_body.ts";

/** Shell start-up files: a shell runs them. Never moved out, and read-only in granted folders. */
export const SHELL_RC_FILES: readonly string[] = [
  ".bashrc",
  ".bash_profile",
  ".bash_login",
  ".bash_logout",
  ".profile",
  ".zshrc",
  ".zprofile",
  ".zshenv",
  ".zlogin",
  ".zlogout",
  ".kshrc",
  ".cshrc",
  ".tcshrc",
  ".inputrc",
  ".envrc",
];

/**
 * Names that tools execute or trust when they find them in the folder they work in (or in a
 * parent of it), beyond the classes {@linkcode untrustedName} refuses whole (every dot name, every
 * file name without an extension). Compared as {@linkcode untrustedName} compares: without case.
 *
 * - Python: `sitecustomize.py`, `usercustomize.py`, `conftest.py` (pytest), `setup.py`,
 *   `setup.cfg`, `pyproject.toml` (build backends), `pytest.ini`, `tox.ini`, `noxfile.py`,
 *   `mypy.ini` (plugins), `uv.toml`, `poetry.toml`, `pdm.toml`, `hatch.toml`, `pixi.toml`,
 *   `pip.conf`, `pip.ini`, `pydistutils.cfg`, `pyvenv.cfg`, `pyrightconfig.json`, `ruff.toml`,
 *   `__main__.py`, `__pycache__` (byte code run in place of its source), Sphinx's `conf.py`,
 *   `mkdocs.yml` (hooks), `fabfile.py`, `tasks.py` (Invoke), `dodo.py`, `pavement.py`,
 *   `environment.yml` (conda), `conanfile.py`;
 * - JavaScript: `package.json` (scripts), `node_modules`, `tsconfig.json`, `jsconfig.json`
 *   (language service plugins), `deno.json`, `deno.jsonc` (tasks), `bunfig.toml`,
 *   `pnpm-workspace.yaml`, `pnpmfile.cjs`, `lerna.json`, `nx.json`, `turbo.json`,
 *   `babel.config.json`, `nodemon.json`, `tslint.json`, `biome.json`, `firebase.json`,
 *   `vercel.json`, `netlify.toml`, `wrangler.toml`, `ember-cli-build.js`;
 * - other languages: `config.ru`, `rakefile.rb`, `rakelib`, `mix.exs`, `rebar.config`,
 *   `rebar.config.script`, `stack.yaml`, `cabal.project`, `hie.yaml` (a command HLS runs),
 *   `package.yaml`, `Setup.hs`, `dune-project`, `go.mod`, `go.work`, `Cargo.toml`, `build.rs`,
 *   `rust-toolchain.toml`, `rustfmt.toml`, `clippy.toml`, `Cross.toml`, `Makefile.toml`,
 *   `Trunk.toml`, `build.zig`, `build.zig.zon`, `composer.json`, `phpunit.xml`, `phpstan.neon`,
 *   `php.ini`, `Makefile.PL`, `Build.PL`, `dist.ini`, `_targets.R`, `_quarto.yml`, `_config.yml`,
 *   `Project.toml` (Julia), `config.nims`, `nim.cfg`, `Package.swift`, `pubspec.yaml`,
 *   `dub.json`, `shard.yml`;
 * - build tools and environments: `CMakeLists.txt`, `CMakePresets.json`, `meson.build`,
 *   `configure.ac`, `Makefile.am`, `vcpkg.json`, `build.gradle`, `settings.gradle` (and `.kts`),
 *   `gradle.properties`, `gradle-wrapper.properties`, `gradlew.bat`, `pom.xml`, `mvnw.cmd`,
 *   `build.xml`, `build.sbt`, `build.sc`, `project.clj`, `deps.edn`, `bb.edn`, `nuget.config`,
 *   `global.json`, `Directory.Build.props` (and `.targets`), `MODULE.bazel`, `WORKSPACE.bazel`,
 *   `BUILD.bazel`, `pants.toml`, `Taskfile.yml`, `mise.toml`, `magefile.go`, `shell.nix`,
 *   `default.nix`, `flake.nix`, `devenv.nix`, `devbox.json`, `compose.yaml`, `skaffold.yaml`;
 * - CI and hooks: `azure-pipelines.yml`, `bitbucket-pipelines.yml`, `appveyor.yml`,
 *   `cloudbuild.yaml`, `buildspec.yml`, `lefthook.yml`;
 * - Windows: `desktop.ini`, `autorun.inf` (Explorer reads them in a folder it shows).
 */
export const UNTRUSTED_NAMES: readonly string[] = [
  // Python
  "sitecustomize.py",
  "usercustomize.py",
  "conftest.py",
  "setup.py",
  "setup.cfg",
  "pyproject.toml",
  "pytest.ini",
  "tox.ini",
  "noxfile.py",
  "mypy.ini",
  "pylintrc.toml",
  "package.json5",
  "project.json",
  "build.ninja",
  "gems.rb",
  "uv.toml",
  "poetry.toml",
  "pdm.toml",
  "hatch.toml",
  "pixi.toml",
  "pip.conf",
  "pip.ini",
  "pydistutils.cfg",
  "pyvenv.cfg",
  "pyrightconfig.json",
  "ruff.toml",
  "__main__.py",
  "__pycache__",
  "conf.py",
  "mkdocs.yml",
  "mkdocs.yaml",
  "pelicanconf.py",
  "publishconf.py",
  "fabfile.py",
  "tasks.py",
  "dodo.py",
  "pavement.py",
  "environment.yml",
  "environment.yaml",
  "conanfile.py",
  "conanfile.txt",
  // JavaScript
  "package.json",
  "node_modules",
  "tsconfig.json",
  "jsconfig.json",
  "deno.json",
  "deno.jsonc",
  "bunfig.toml",
  "pnpm-workspace.yaml",
  "pnpm-lock.yaml",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpmfile.js",
  "pnpmfile.cjs",
  "lerna.json",
  "nx.json",
  "turbo.json",
  "rush.json",
  "babel.config.json",
  "jest.config.json",
  "nodemon.json",
  "tslint.json",
  "biome.json",
  "biome.jsonc",
  "dprint.json",
  "cypress.json",
  "firebase.json",
  "vercel.json",
  "netlify.toml",
  "wrangler.toml",
  "wrangler.json",
  "wrangler.jsonc",
  "ember-cli-build.js",
  // Ruby, Elixir and Erlang, Haskell, OCaml
  "config.ru",
  "rakefile.rb",
  "rakelib",
  "mix.exs",
  "rebar.config",
  "rebar.config.script",
  "elvis.config",
  "stack.yaml",
  "cabal.project",
  "cabal.project.local",
  "cabal.config",
  "hie.yaml",
  "package.yaml",
  "setup.hs",
  "setup.lhs",
  "dune-project",
  "dune-workspace",
  // Go, Rust, Zig
  "go.mod",
  "go.sum",
  "go.work",
  "go.work.sum",
  "cargo.toml",
  "build.rs",
  "rust-toolchain.toml",
  "rustfmt.toml",
  "clippy.toml",
  "deny.toml",
  "cross.toml",
  "makefile.toml",
  "trunk.toml",
  "build.zig",
  "build.zig.zon",
  // PHP, Perl, R, Julia, Nim, Swift, Dart, D, Crystal, Fortran
  "composer.json",
  "phpunit.xml",
  "phpunit.xml.dist",
  "phpstan.neon",
  "phpstan.neon.dist",
  "psalm.xml",
  "php.ini",
  "rector.php",
  "ecs.php",
  "deploy.php",
  "robofile.php",
  "makefile.pl",
  "build.pl",
  "dist.ini",
  "cpanfile.snapshot",
  "_targets.r",
  "_drake.r",
  "_quarto.yml",
  "_quarto.yaml",
  "_metadata.yml",
  "_bookdown.yml",
  "_site.yml",
  "_pkgdown.yml",
  "_config.yml",
  "project.toml",
  "manifest.toml",
  "juliaproject.toml",
  "juliamanifest.toml",
  "localpreferences.toml",
  "config.nims",
  "nim.cfg",
  "package.swift",
  "package.resolved",
  "pubspec.yaml",
  "analysis_options.yaml",
  "build.yaml",
  "dub.json",
  "dub.sdl",
  "shard.yml",
  "fpm.toml",
  // C and C++, the JVM, .NET, Bazel and others
  "cmakelists.txt",
  "cmakepresets.json",
  "cmakeuserpresets.json",
  "meson.build",
  "meson.options",
  "meson_options.txt",
  "configure.ac",
  "configure.in",
  "makefile.am",
  "makefile.in",
  "vcpkg.json",
  "vcpkg-configuration.json",
  "build.gradle",
  "build.gradle.kts",
  "settings.gradle",
  "settings.gradle.kts",
  "gradle.properties",
  "gradle-wrapper.properties",
  "gradle-wrapper.jar",
  "gradlew.bat",
  "pom.xml",
  "mvnw.cmd",
  "maven-wrapper.properties",
  "build.xml",
  "build.sbt",
  "build.sc",
  "build.mill",
  "project.clj",
  "deps.edn",
  "bb.edn",
  "shadow-cljs.edn",
  "build.boot",
  "nuget.config",
  "global.json",
  "dotnet-tools.json",
  "directory.build.props",
  "directory.build.targets",
  "directory.build.rsp",
  "directory.packages.props",
  "directory.solution.props",
  "directory.solution.targets",
  "msbuild.rsp",
  "module.bazel",
  "workspace.bazel",
  "workspace.bzlmod",
  "build.bazel",
  "pants.toml",
  "taskfile.yml",
  "taskfile.yaml",
  "taskfile.dist.yml",
  "taskfile.dist.yaml",
  "mise",
  "magefile.go",
  "shell.nix",
  "default.nix",
  "flake.nix",
  "devenv.nix",
  "devenv.yaml",
  "devbox.json",
  "skaffold.yaml",
  // CI and hooks
  "azure-pipelines.yml",
  "azure-pipelines.yaml",
  "bitbucket-pipelines.yml",
  "appveyor.yml",
  "cloudbuild.yaml",
  "cloudbuild.yml",
  "buildspec.yml",
  "buildspec.yaml",
  "codemagic.yaml",
  "bitrise.yml",
  // Windows
  "desktop.ini",
  "autorun.inf",
];

/**
 * Patterns of names tools execute or trust, compared as {@linkcode untrustedName} compares (without
 * case): tools' configuration modules, which they import from the folder they run in
 * (`vite.config.ts`, `jest.config.js`, `karma.conf.js`, `webpack.config.babel.js`; run-command
 * files are dot names, but `pylintrc.toml`, listed by name), `Gruntfile.js`, `gulpfile.ts` and
 * their kin, lock files (`yarn.lock`, `Cargo.lock`; their sources are installed as they say),
 * Python's `*.pth` (its `import` lines run at every start), byte code (`*.pyc`) and configuration
 * modules (`gunicorn.conf.py`, `ipython_config.py`, Jupyter's `jupyter_server_config.py`),
 * projects and build scripts (`*.csproj`, `*.sln`, `*.gradle`, `*.sbt`, `*.gemspec`, `*.cabal`,
 * `*.opam`, `*.nimble`, `*.nims`, `*.rockspec`), `mise.local.toml`, Docker Compose files, editor
 * workspaces (`*.code-workspace`, `*.sublime-project`), desktop launchers, and what Windows runs
 * or follows from the folder it works in (`*.exe`, `*.bat`, `*.cmd`, `*.dll`, `*.lnk`, `*.url`).
 */
export const UNTRUSTED_PATTERNS: readonly RegExp[] = [
  /\.app$/i,
  /^(?:build|buck)\.(?:bazel|plz|pants|v2)$/i,
  /\.conf(?:ig)?(?:\.[\w-]+)*\.[cm]?[jt]sx?$/i,
  /^(?:gruntfile|gulpfile|jakefile|brocfile|vitest\.workspace|(?:docker|container)file)\./i,
  /\.lock(?:b|file)?$/i,
  /\.pth$/i,
  /\.py[co]$/i,
  /(?:^|\.)conf\.py$/i,
  /^ipython_(?:kernel_)?config\.py$/i,
  /^jupyter_.*config\.(py|json)$/i,
  /\.(?:cs|fs|vb|vcx|sql|esproj|njs|wix|sh)?proj$/i,
  /\.slnx?$/i,
  /\.gradle(?:\.kts)?$/i,
  /\.sbt$/i,
  /\.gemspec$/i,
  /\.cabal$/i,
  /\.opam$/i,
  /\.nim(?:ble|s)$/i,
  /\.rockspec$/i,
  /^mise\.[\w.-]*toml$/i,
  /^(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$/i,
  /^lefthook(?:-local)?\.(?:ya?ml|json|toml)$/i,
  /\.code-workspace$/i,
  /\.sublime-project$/i,
  /\.desktop$/i,
  /\.(?:exe|bat|cmd|dll|scr|pif|cpl|lnk|url|scf|library-ms|searchconnector-ms)$/i,
];

const UNTRUSTED = new Set(UNTRUSTED_NAMES.map((name) => name.toLowerCase()));

/**
 * The extensions of code that tools find and run, or import, from the folder they work in (see
 * {@linkcode untrustedName}): scripts of the interpreted languages and their test files, shells,
 * Windows's scripts, Go (its tests and `go generate`).
 */
export const CODE_EXTENSIONS: ReadonlySet<string> = new Set([
  "py",
  "pyw",
  "pyi",
  "pyx",
  "pxd",
  "pyz",
  "ipynb",
  "ts",
  "tsx",
  "mts",
  "cts",
  "js",
  "jsx",
  "mjs",
  "cjs",
  "coffee",
  "svelte",
  "vue",
  "sh",
  "bash",
  "zsh",
  "ksh",
  "csh",
  "tcsh",
  "fish",
  "command",
  "ps1",
  "psm1",
  "psd1",
  "bat",
  "cmd",
  "vbs",
  "vbe",
  "js",
  "jse",
  "wsf",
  "wsh",
  "msc",
  "rb",
  "rake",
  "thor",
  "ru",
  "pl",
  "pm",
  "t",
  "php",
  "phar",
  "phtml",
  "go",
  "lua",
  "r",
  "jl",
  "ex",
  "exs",
  "erl",
  "groovy",
  "gvy",
  "kts",
  "sc",
  "scala",
  "swift",
  "tcl",
  "awk",
  "el",
  "vim",
  "nu",
  "raku",
  "rakumod",
  "hx",
  "dart",
  "clj",
  "cljs",
  "cljc",
  "bb",

  // Native code an interpreter loads from the folder it starts in (`socket.so` before the
  // standard library's, Python's `.pyd`, Lua's `./?.so`), and Windows's and macOS's launchers.
  "so",
  "pyd",
  "dylib",
  "com",
  "jar",
  "hta",
  "msi",
  "reg",
  "inf",
  "application",
  "appref-ms",
  "settingcontent-ms",
  "terminal",
  "fileloc",
  "scpt",
  "workflow",
  // Build files by extension, and the sources test runners compile from anywhere below a project.
  "mk",
  "cmake",
  "bzl",
  "star",
  "nix",
  "ninja",
  "cs",
  "java",
  "kt",
  "rs",
  "cr",
]);

/**
 * A name as file systems that ignore case, compatibility forms, marks or invisible characters
 * compare it (APFS, HFS+, NTFS, and case-insensitive ext4 folders), and as Windows keeps it
 * (without trailing dots and spaces): what {@linkcode untrustedName} compares. Over-folding only
 * refuses more.
 */
export function foldName(name: string): string {
  return name.normalize("NFKD").replace(/[\p{M}\p{Default_Ignorable_Code_Point}]/gu, "")
    .toLowerCase().replace(/\u0131/g, "i").replace(/[. ]+$/, "");
}

/**
 * Why a file or folder name may not be moved into the project, or undefined when it may: the one
 * rule of the names that tools execute or trust when they find them in the folder they work in
 * (or in a parent of it). Refused:
 *
 * - every dot name, file or folder (`.git`, `.github`, `.vscode`, `.envrc`, `.env.local`,
 *   `.pylintrc`, `.ghci`, `.iex.exs`, `.ocamlinit`, `.lfsconfig`, `.babelrc`, `.python-version`,
 *   `.pnp.cjs`, `.cargo`, `.ssh`, the shell start-up files of {@linkcode SHELL_RC_FILES}):
 *   start-up files, configuration, hooks, credentials and the folders of version control, CI,
 *   editors and assistants are dot names, more of them than any list holds;
 * - every file name without an extension (`Makefile`, `Snakefile`, `Rakefile`, `Gemfile`,
 *   `Dockerfile`, `Jenkinsfile`, `Procfile`, `Justfile`, `pylintrc`, `gradlew`, `WORKSPACE`,
 *   `BUILD`, `dune`): the build files of most tools are, and so are git's (a folder holding
 *   `HEAD`, `objects/` and `refs/` is a bare repository to git, which runs what its `config`
 *   names on the next `git status` there);
 * - every file of code ({@linkcode CODE_EXTENSIONS}): test runners find and run tests anywhere
 *   below the folder they start in (`test_*.py` for pytest, `*_test.ts` for `deno test`,
 *   `*.test.js` for `node --test`, `*_test.go` for `go test ./...`), and an interpreter started
 *   in the folder imports from it first (a `socket.py` beside a `python -m http.server`): more
 *   names than any list holds;
 * - the names of {@linkcode UNTRUSTED_NAMES} and {@linkcode UNTRUSTED_PATTERNS}.
 *
 * Compared as {@linkcode foldName} folds them: without case, compatibility forms, marks or
 * invisible characters, as file systems that ignore them compare names. Copy-out applies it to
 * every part of an artifact's path below its declared output folder, except where the artifact is
 * exactly a declared output path (the user's own name, taken as written).
 *
 * @param kind `"folder"` for a part of the path above the file: a folder may lack an extension.
 */
export function untrustedName(name: string, kind: "file" | "folder" = "file"): string | undefined {
  const folded = foldName(name);
  if (folded === "") return `"${name}" is only dots and spaces, a name no output needs`;
  if (folded.startsWith(".")) return `"${name}" is a dot name, a name that tools execute or trust`;
  if (kind === "file" && !folded.includes(".")) {
    return `"${name}" has no extension, as many names that tools execute or trust (Makefile, ` +
      "pylintrc): declare its exact path to keep it";
  }
  const extension = folded.slice(folded.lastIndexOf(".") + 1);
  if (kind === "file" && CODE_EXTENSIONS.has(extension)) {
    return `"${name}" is code, which tools execute or trust when they find it where they work ` +
      "(test runners, imports, task runners): declare its exact path to keep it";
  }
  if (UNTRUSTED.has(folded)) return `"${name}" is a name that tools execute or trust`;
  const pattern = UNTRUSTED_PATTERNS.find((p) => p.test(folded));
  if (pattern) return `"${name}" matches ${pattern}, a name that tools execute or trust`;
  return undefined;
}

/** The staging area's bounds: bytes and files (folders count as files). */
export interface StagingLimits {
  /** Bytes the staging area (and the run's temp dir) may hold. */
  bytes: number;
  /** Files and folders it may hold. */
  files: number;
}

/** Default bounds of a run's staging area: 1 GiB and 10,000 files. */
export const DEFAULT_STAGING_LIMITS: Readonly<StagingLimits> = {
  bytes: 1024 ** 3,
  files: 10_000,
};

/**
 * What a tree holds: bytes of its files (their apparent size, so a sparse file counts in full)
 * and its entries. Symlinks are counted, never followed. The walk stops once a limit is passed.
 * A folder in it that cannot be listed (closed to its owner: `chmod 0300`, which still lets files
 * be written and moved through it) holds what cannot be measured: the tree then holds infinite
 * bytes ({@linkcode unmeasurable}), past every bound. With `reopen`, a folder of this user's is
 * first opened again ({@linkcode reopenFolders}) and measured: only where no process that could
 * write the tree runs any more (before or after it ran), since `reopenFolders` changes a path's
 * mode, which a running script could meanwhile point at a file of the user's outside it.
 */
export function measureTree(
  root: string,
  stopAt?: StagingLimits,
  options: { reopen?: boolean } = {},
): StagingLimits {
  const total = { bytes: 0, files: 0 };
  const over = () =>
    stopAt !== undefined && (total.bytes > stopAt.bytes || total.files > stopAt.files);
  try {
    const info = Deno.lstatSync(root);
    if (!info.isDirectory) return { bytes: info.isFile ? info.size : 0, files: 1 };
  } catch {
    return total;
  }
  const gone = (error: unknown) =>
    error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
  const pending = [root];
  while (pending.length > 0 && !over()) {
    const dir = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (error) {
      if (gone(error)) continue; // removed (or replaced) while we looked
      try {
        if (!options.reopen || !reopenFolders(dir)) throw error;
        entries = [...Deno.readDirSync(dir)];
      } catch (again) {
        if (gone(again)) continue;
        total.bytes = Infinity;
        break;
      }
    }
    for (const entry of entries) {
      total.files++;
      const path = join(dir, entry.name);
      if (entry.isDirectory) pending.push(path);
      else if (entry.isFile) {
        try {
          total.bytes += Deno.lstatSync(path).size;
        } catch {
          // removed while we looked
        }
      }
      if (over()) break;
    }
  }
  return total;
}

/** Whether `used` is past `bounds`, in bytes or in entries (or could not be measured). */
export function pastBounds(used: StagingLimits, bounds: StagingLimits): boolean {
  return !(used.bytes <= bounds.bytes && used.files <= bounds.files);
}

/** Whether a measure ({@linkcode measureTree}) met a folder it could not list. */
export function unmeasurable(used: StagingLimits): boolean {
  return !Number.isFinite(used.bytes) || !Number.isFinite(used.files);
}

/**
 * The device number (`st_dev`, as `Deno.FileInfo.dev` gives it) of a device written `major:minor`
 * in hex, as `/proc/<pid>/maps` writes it (glibc's and the kernel's encoding).
 */
export function deviceNumber(text: string): number {
  const [major = NaN, minor = NaN] = text.split(":").map((part) => parseInt(part, 16));
  return (major & 0xfff) * 2 ** 8 + (major - (major & 0xfff)) * 2 ** 32 + (minor & 0xff) +
    (minor - (minor & 0xff)) * 2 ** 12;
}

/** The devices the given paths are on (those that exist). */
export function devicesOf(paths: readonly string[]): Set<number> {
  const devices = new Set<number>();
  for (const path of paths) {
    const info = lstatSyncOrNull(path);
    if (info) devices.add(info.dev);
  }
  return devices;
}

/** `root` and every process below it, from each process's parent in `/proc/<pid>/stat`. */
export function processesBelow(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    } catch {
      continue; // ended meanwhile
    }
    // "pid (name) state ppid …": the name may hold spaces and parentheses, never the last ")".
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ", 2)[1]);
    const siblings = children.get(parent);
    if (siblings) siblings.push(pid);
    else children.set(parent, [pid]);
  }
  const found = [root];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]!) ?? []));
  return found;
}

/**
 * Whether a process runs as root while this one does not: a set-user-ID helper's, not a script's.
 */
function privilegedHelper(pid: number): boolean {
  if (Deno.uid() === 0) return false;
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return /^Uid:\s+\d+\s+0\s/m.test(status);
  } catch {
    return false;
  }
}

/**
 * Whether a task (`/proc/<pid>` or `/proc/<pid>/task/<tid>`) has ended or is ending: gone, a
 * zombie, or without its memory any more (an exiting one). Its descriptors are then closed or
 * closing (or, for a thread group's leader, its other threads' to show), and `/proc` shows them to
 * root only.
 */
function ending(task: string): boolean {
  try {
    const status = Deno.readTextFileSync(`${task}/status`);
    return /^State:\s+[ZXx]/m.test(status) || !/^VmSize:/m.test(status);
  } catch {
    return true;
  }
}

/**
 * The descriptors and mappings one measure of {@linkcode heldRemovedFiles} looks at, at most: a
 * process tree holding more is past every bound. Sixty-four threads sharing a thousand
 * descriptors is 64,000 looks; a sandbox's tree holds at most its process bound of tasks.
 */
export const HELD_LOOK_BUDGET = 100_000;
/**
 * The bytes of `/proc/<pid>/maps` one measure of {@linkcode heldRemovedFiles} reads, at most: a
 * process tree whose mappings say more is past every bound. A Python process's say 30-100 KiB, a
 * Deno's or Node's 200-400 KiB.
 */
export const HELD_MAPS_BYTES_BUDGET = 32 * 1024 ** 2;
/** How many looks {@linkcode heldRemovedFiles} makes between two turns of the event loop. */
const HELD_LOOKS_PER_TURN = 1_000;

/**
 * What the processes from `root` down hold of files removed from every folder, on `devices` (the
 * devices of the measured folders): a file deleted while a descriptor or a mapping holds it keeps
 * its blocks until the last goes, and no folder shows it. Read from each process's descriptors
 * (`/proc/<pid>/fd`: a regular file without a link left) and mappings (`/proc/<pid>/maps`, each
 * removed one measured through `/proc/<pid>/map_files`). A process whose descriptors or mappings
 * cannot be read (a script that made itself not dumpable; a mapped file, for a user other than
 * root, whom the kernel does not let look) counts as past every bound (bytes: Infinity), as a
 * folder that cannot be listed does, unless it is ending (its descriptors go with it) or a
 * set-user-ID helper's. Not seen: a descriptor in flight on a unix socket (sent, not received).
 * Linux only: elsewhere nothing is counted, and so where this process may not look at /proc at
 * all (a Deno without `--allow-all`).
 *
 * A script chooses how much there is to look at (thousands of descriptors in each of hundreds of
 * threads, each thread's table read on its own: a thread may have a table of its own). So one
 * measure looks at {@linkcode HELD_LOOK_BUDGET} descriptors and mappings at most, and reads
 * {@linkcode HELD_MAPS_BYTES_BUDGET} of mapping lists, and a tree that holds more is past every
 * bound; and it lets the event loop turn every
 * {@linkcode HELD_LOOKS_PER_TURN} of them, so that the run's time limit, its other watches and the
 * rest of the process (an SDK program, the runner's other clients) go on meanwhile. Measured once
 * looking at every descriptor synchronously: a script with 19,000 descriptors in 250 threads held
 * the process for 16-46 s a measure, past its time limit and its disk bound. With `stop`, asked at
 * each turn, the measure ends early (with what it counted) once it says so: the watch asks whether
 * the folders are past their bounds meanwhile, which a script writing at disk speed during a long
 * measure otherwise passed by gigabytes.
 */
export async function heldRemovedFiles(
  root: number,
  devices: ReadonlySet<number>,
  budget: number = HELD_LOOK_BUDGET,
  stop?: () => boolean,
): Promise<StagingLimits> {
  const total = { bytes: 0, files: 0 };
  if (Deno.build.os !== "linux") return total;
  let looks = 0;
  let mapsBytes = 0;
  /** Whether `stop` said so at a turn: the measure ends with what it counted. */
  let stopped = false;
  /**
   * A task's mappings, read a piece at a time (the event loop turns between pieces); undefined
   * once the measure has read {@linkcode HELD_MAPS_BYTES_BUDGET} of them: a script that maps one
   * file under a long name tens of thousands of times in each of a dozen processes made them
   * hundreds of megabytes, read and split on the caller's thread.
   */
  const readMaps = async (path: string): Promise<string | undefined> => {
    const ended = new AbortController();
    let pieces = 0;
    try {
      const bytes = await readStream(
        (await Deno.open(path)).readable,
        HELD_MAPS_BYTES_BUDGET - mapsBytes,
        {
          take: (read) => {
            mapsBytes += read;
            if (++pieces % 16 === 0 && (stopped ||= stop?.() === true)) ended.abort();
          },
          signal: ended.signal,
        },
      );
      return new TextDecoder().decode(bytes);
    } catch (error) {
      if (error instanceof TooLarge) return undefined;
      throw error;
    }
  };
  /** Counts one look; false once past the budget. Lets the event loop turn now and then. */
  const look = async (): Promise<boolean> => {
    looks++;
    if (looks % HELD_LOOKS_PER_TURN === 0) {
      await sleep(0);
      stopped ||= stop?.() === true;
    }
    return looks <= budget;
  };
  const seen = new Set<string>();
  const count = (dev: number, ino: number | null, size: number) => {
    const key = `${dev}:${ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total.files++;
    total.bytes += size;
  };
  /** Whether an error reading a task's /proc files leaves it unmeasured (past every bound). */
  const unmeasured = (error: unknown, pid: number, task: string) =>
    !(error instanceof Deno.errors.NotFound) && !ending(task) && !privilegedHelper(pid);
  const past = () => ({ bytes: Infinity, files: total.files });
  let pids: number[];
  try {
    pids = processesBelow(root);
  } catch (error) {
    // A Deno without --allow-all may not look at /proc at all (an SDK program under README's
    // narrowest permissions): this measure is not taken there, and the rest of the bound holds.
    if (error instanceof Deno.errors.NotCapable) return total;
    throw error;
  }
  for (const pid of pids) {
    // Each thread: one whose leader has ended (a zombie) keeps the process's descriptors and
    // memory, which the leader's own /proc files no longer show.
    let tids: string[];
    try {
      tids = [...Deno.readDirSync(`/proc/${pid}/task`)].map((entry) => entry.name);
    } catch (error) {
      if (unmeasured(error, pid, `/proc/${pid}`)) return past();
      continue; // ended meanwhile
    }
    let maps = "";
    for (const tid of tids) {
      const task = `/proc/${pid}/task/${tid}`;
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(`${task}/fd`)];
        if (maps === "") {
          const read = await readMaps(`${task}/maps`);
          if (read === undefined) return past();
          if (stopped) return total;
          maps = read;
        }
      } catch (error) {
        if (unmeasured(error, pid, task)) return past();
        continue; // ended meanwhile
      }
      for (const entry of entries) {
        if (!await look()) return past();
        if (stopped) return total;
        let info: Deno.FileInfo;
        try {
          // The descriptor's own file (no path is resolved: one of any length is looked at).
          info = Deno.statSync(`${task}/fd/${entry.name}`);
        } catch (error) {
          if (unmeasured(error, pid, task)) return past();
          continue; // closed meanwhile
        }
        if (info.isFile && info.nlink === 0 && devices.has(info.dev)) {
          count(info.dev, info.ino, info.size);
        }
      }
    }
    for (const line of maps.split("\n")) {
      if (!line.endsWith(" (deleted)")) continue;
      const [range = "", , , device = "", inode = "0"] = line.split(/\s+/, 5);
      const dev = deviceNumber(device);
      if (inode === "0" || !devices.has(dev) || seen.has(`${dev}:${inode}`)) continue;
      if (!await look()) return past();
      if (stopped) return total;
      try {
        const info = Deno.statSync(`/proc/${pid}/map_files/${range}`);
        count(info.dev, info.ino, info.size);
      } catch (error) {
        // Only the leader's /proc shows mapped files: once it has ended while its threads go
        // on, a mapped removed file cannot be looked at.
        if (!(error instanceof Deno.errors.NotFound) || ending(`/proc/${pid}`)) {
          if (!privilegedHelper(pid)) return past();
        }
      }
    }
  }
  return total;
}

/** The processes a watch also looks into (see {@linkcode heldRemovedFiles}). */
export interface WatchedProcesses {
  /** The command's process, once it started. */
  pid?: number;
  /** The devices of the folders measured. */
  devices: ReadonlySet<number>;
}

/** A watch of what a running command writes (see {@linkcode watchUsage}). */
export interface UsageWatch {
  /** Aborted once a measure passed the bounds: the command's signal, which kills it. */
  readonly signal: AbortSignal;
  /** Ends the watch (at once, not at its next sample); what passed the bounds, if anything did. */
  end(): Promise<StagingLimits | undefined>;
}

/**
 * Measures `usage()` every `everyMs` while a command runs and aborts the watch's signal once it
 * passed `bounds` (in bytes or entries): the one rule by which what a script, or an install of its
 * packages, writes is bounded while it runs. With `processes`, each measure also counts the
 * removed files the command's processes still hold ({@linkcode heldRemovedFiles}). `cancel` (the
 * caller's signal) aborts it too.
 */
export function watchUsage(
  usage: () => StagingLimits,
  bounds: StagingLimits,
  everyMs: number,
  cancel?: AbortSignal,
  processes?: WatchedProcesses,
): UsageWatch {
  const stop = new AbortController();
  const onCancel = () => stop.abort();
  cancel?.addEventListener("abort", onCancel, { once: true });
  if (cancel?.aborted) stop.abort();
  let exceeded: StagingLimits | undefined;
  let running = true;
  // The pause between samples ends early when the command does: its end is not delayed.
  let wake = () => {};
  const watch = (async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const cancelTimer = onTimeout(everyMs, resolve);
        wake = () => {
          cancelTimer();
          resolve();
        };
      });
      if (!running) break;
      // The removed files held first: the folders are measured after them, so what the script
      // wrote while they were looked at counts in this measure, not the next.
      const held = processes?.pid === undefined ? { bytes: 0, files: 0 } : await heldRemovedFiles(
        processes.pid,
        processes.devices,
        HELD_LOOK_BUDGET,
        // Between its turns, the folders: a long measure ends as soon as they are past.
        () => pastBounds(usage(), bounds),
      );
      const used = usage();
      used.bytes += held.bytes;
      used.files += held.files;
      if (pastBounds(used, bounds)) {
        exceeded = used;
        stop.abort();
        break;
      }
    }
  })().catch(() => {
    // A measure that failed its own way (not one the measures take for unmeasured) is past the
    // bounds as well, and never an unhandled rejection while the run goes on.
    exceeded = { bytes: Infinity, files: Infinity };
    stop.abort();
  });
  return {
    signal: stop.signal,
    async end() {
      running = false;
      wake();
      cancel?.removeEventListener("abort", onCancel);
      await watch;
      return exceeded;
    },
  };
}

/** One declared output and its staging copy. */
export interface OutputStage {
  /** Where it goes in the project: a folder, or a single file (a declared file at the top). */
  target: string;
  /** `dir`: everything below `target`; `file`: exactly `target`. */
  kind: "dir" | "file";
  /** Its private staging copy (a folder or a file under the run's temp dir). */
  staging: string;
}

/** Options of {@linkcode copyOut}. */
export interface CopyOutOptions {
  /** The working directory, resolved: relative artifacts are relative to it. */
  workdir: string;
  /** The declared outputs and their staging copies. */
  outputs: readonly OutputStage[];
  /**
   * The folder that holds every staging copy (the run's temp dir). Each part from it down to a
   * staged file must be a real folder: the script could rename a staging copy away inside its
   * temp dir and put a link to a host folder in its place.
   */
  stagingRoot: string;
  /** The exact output paths the context declares, resolved (they may overwrite tracked files). */
  declared: readonly string[];
  /** Folders the user granted for writing: artifacts there were written in place, and stay. */
  inPlace?: readonly string[];
  /** Lists which of the given paths (relative to the workdir) git tracks (default: asks git). */
  tracked?: (workdir: string, paths: string[]) => Promise<Set<string>>;
  /**
   * Abandons the move (Ctrl-C) while the files are copied: nothing is moved then. Once every
   * file is copied, the renames that put them in place are not stopped: the move is done.
   */
  signal?: AbortSignal;
}

/**
 * The temporary name an output is copied to, beside its destination:
 * `.<name>.capibara-<pid>-ns<pid namespace>-…`, so that a later move into that folder removes one
 * whose Capibara was killed mid-copy (and never one of a live Capibara in another namespace).
 */
function tempName(dest: string): string {
  return join(
    dirname(dest),
    `.${basename(dest)}.capibara-${Deno.pid}-ns${pidNamespace()}-${crypto.randomUUID()}`,
  );
}

/** Temporary copies ({@linkcode tempName}) a Capibara left in `folder` before it was killed. */
const LEFT_TEMP =
  /^\..+\.capibara-(\d+)-ns(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Removes the temporary copies in `folder` whose Capibara is gone (regular files only), and the
 * empty probe folders of a check of the folder such a Capibara was killed in.
 */
function sweepTemps(folder: string): void {
  for (const name of staleEntries(folder, LEFT_PROBE)) {
    try {
      Deno.removeSync(join(folder, name)); // an empty folder only: never what another put there
    } catch {
      // not empty, or removed by another run meanwhile
    }
  }
  for (const name of staleEntries(folder, LEFT_TEMP)) {
    const path = join(folder, name);
    // Only a regular file it wrote: never follow or remove what else stands at such a name.
    if (lstatSyncOrNull(path)?.isFile) {
      try {
        Deno.removeSync(path);
      } catch {
        // removed by another run meanwhile
      }
    }
  }
}

/** One artifact, checked and ready to move. */
interface Move {
  reported: string;
  source: string;
  dest: string;
  info: Deno.FileInfo;
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symlink";
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a FIFO";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a regular file";
}

/** Why the path from `base` down to `path` (exclusive) is not a chain of real folders. */
function folderChainProblem(base: string, path: string): string | undefined {
  const parts = relative(base, path).split(sep).filter(Boolean);
  let current = base;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    const info = lstatSyncOrNull(current);
    if (!info) return undefined; // created by the move, folder by folder
    if (!info.isDirectory) {
      return `"${relative(base, current)}" on its way is ${kindOf(info)}, not a folder`;
    }
  }
  return undefined;
}

/**
 * The paths (relative to `workdir`) that git tracks among `paths`. Outside a repository, none;
 * when git cannot answer inside one (not installed, refused), every path is taken as tracked.
 * Only a `.git` folder is a repository here: a bare repository found on the way up (a committed
 * folder shaped as one, whose index would say nothing is tracked) is refused, and then every path
 * counts as tracked when a `.git` is above.
 */
export async function gitTracked(workdir: string, paths: string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  let result;
  try {
    result = await execCommand({
      program: "git",
      args: [
        "--literal-pathspecs",
        "-c",
        "core.fsmonitor=false",
        // A folder a repository commits that is shaped as a repository of its own (HEAD,
        // objects/, refs/, a config naming a worktree) is never taken for the project's.
        "-c",
        "safe.bareRepository=explicit",
        "ls-files",
        "-z",
        "--",
        ...paths,
      ],
      env: { PATH: DEFAULT_PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_OPTIONAL_LOCKS: "0" },
      cwd: workdir,
    }, { timeoutMs: 30_000, maxOutputBytes: 16 * 1024 ** 2 });
  } catch {
    result = undefined;
  }
  if (result && result.code === 0) {
    return new Set(result.stdout.split("\0").filter(Boolean));
  }
  if (result && /not a git repository/i.test(result.stderr)) return new Set();
  // No answer: outside a repository nothing is tracked, inside one everything might be.
  for (let dir = workdir;; dir = dirname(dir)) {
    if (await lstatOrNull(join(dir, ".git"))) return new Set(paths);
    if (dirname(dir) === dir) return new Set();
  }
}

/**
 * Creates the folders from `base` down to `dir`, one by one, never through a symlink: each part
 * must be a real folder once it exists. Appends the folders it created to `created`.
 *
 * @throws {Error} when a part of the path is not a folder.
 */
export function makeFolders(base: string, dir: string, created: string[] = []): Promise<void> {
  return promised(() => {
    let current = base;
    for (const part of relative(base, dir).split(sep).filter(Boolean)) {
      current = join(current, part);
      // Most folders exist already: a look first spares a failed mkdir and its error.
      let info = lstatSyncOrNull(current);
      if (!info) {
        try {
          // Open to no other user whatever the umask (an SDK's process may run under 0000).
          Deno.mkdirSync(current, { mode: 0o755 });
          created.push(current);
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        }
        info = Deno.lstatSync(current);
      }
      if (!info.isDirectory) {
        throw new Error(`"${current}" is ${kindOf(info)}, not a folder`);
      }
    }
  });
}

/** Outputs up to this size are copied synchronously (one read and one write). */
const SYNC_COPY_BYTES = 1024 * 1024;

/**
 * Copies one open file into another and closes both: a loop of reads and writes, where a stream
 * pipe costs a small output ≈ 2-3 ms of set-up. A file of at most {@linkcode SYNC_COPY_BYTES}
 * (`size`, as looked at: nothing of the run still writes it) is copied synchronously; a larger one
 * in turns that leave a resident runner's other clients their share, and so is whatever a file
 * holds beyond the size looked at.
 */
async function copyFile(
  input: Deno.FsFile,
  output: Deno.FsFile,
  size: number,
  signal?: AbortSignal,
): Promise<void> {
  try {
    // Sized to the file (a 1 MiB buffer per output cost a small one ≈ 0.2 ms, and the collector).
    const buffer = new Uint8Array(Math.min(SYNC_COPY_BYTES, Math.max(64 * 1024, size + 1)));
    let small = size <= SYNC_COPY_BYTES;
    let copied = 0;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const read = small ? input.readSync(buffer) : await input.read(buffer);
      if (read === null) break;
      copied += read;
      if (copied > size) small = false;
      for (let written = 0; written < read;) {
        const part = buffer.subarray(written, read);
        written += small ? output.writeSync(part) : await output.write(part);
      }
    }
  } finally {
    input.close();
    output.close();
  }
}

function refusal(refused: { artifact: string; why: string }[]): ExecError {
  const list = refused.map((r) => `"${r.artifact}": ${r.why}`).join("; ");
  return new ExecError(
    `Cannot move the script's outputs into the project: ${list}. Nothing was moved`,
    {
      hint: "Outputs must be regular files under the declared output paths, with names no tool " +
        "executes or trusts (declare a file's exact path to keep such a name); regenerate the " +
        "script with --refresh if it is wrong",
      details: { refused },
    },
  );
}

/**
 * Moves the reported artifacts from their staging copies into the project, all or nothing, and
 * returns them as moved (relative to the workdir, or absolute when reported absolute). Artifacts
 * in a folder granted for writing were written in place and are returned as reported.
 *
 * @throws {ExecError} naming every refused artifact and why; nothing is moved then.
 */
export async function copyOut(artifacts: readonly string[], options: CopyOutOptions): Promise<
  string[]
> {
  const { workdir, outputs } = options;
  const refused: { artifact: string; why: string }[] = [];
  const moves: Move[] = [];
  const result: string[] = [];
  const seen = new Set<string>();
  for (const reported of artifacts) {
    const refuse = (why: string) => refused.push({ artifact: reported, why });
    const dest = resolve(workdir, reported);
    const stage = outputs
      .filter((o) => o.kind === "dir" ? isInside(dest, o.target) : dest === o.target)
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (!stage) {
      if ((options.inPlace ?? []).some((dir) => isInside(dest, dir))) result.push(reported);
      else refuse("it is not under a declared output path");
      continue;
    }
    if (dest === stage.target && stage.kind === "dir") {
      refuse("it is the output folder itself, not a file in it");
      continue;
    }
    if (seen.has(dest)) continue;
    seen.add(dest);
    const rel = relative(stage.target, dest);
    const source = stage.kind === "dir" ? join(stage.staging, rel) : stage.staging;
    // Names: every part below the declared folder, unless the path is exactly a declared one.
    if (!options.declared.includes(dest)) {
      const parts = rel.split(sep).filter(Boolean);
      const bad = parts.map((part, i) =>
        untrustedName(part, i === parts.length - 1 ? "file" : "folder")
      ).find(Boolean);
      if (bad) {
        refuse(bad);
        continue;
      }
    }
    // The staging copy: real folders from the run's temp dir down to a regular file, the staging
    // copy itself and the folder holding it too (a script may move them in its temp dir).
    if (!isInside(source, options.stagingRoot) || source === options.stagingRoot) {
      refuse("its staging copy is not in the run's temp dir");
      continue;
    }
    const chain = folderChainProblem(options.stagingRoot, source);
    if (chain) {
      refuse(chain);
      continue;
    }
    const info = await lstatOrNull(source);
    if (!info) {
      refuse("the script did not write it");
      continue;
    }
    if (!info.isFile || info.isSymlink) {
      refuse(`it is ${kindOf(info)}`);
      continue;
    }
    // The destination: real folders from the workdir down, and no folder or link at the end.
    const destChain = folderChainProblem(workdir, dest);
    if (destChain) {
      refuse(destChain);
      continue;
    }
    const existing = await lstatOrNull(dest);
    if (existing && (!existing.isFile || existing.isSymlink)) {
      refuse(`the project already has ${kindOf(existing)} there`);
      continue;
    }
    moves.push({ reported, source, dest, info });
    result.push(isAbsolute(reported) ? dest : relative(workdir, dest));
  }

  // Tracked files are overwritten only when they are exactly a declared output.
  const overwrites = [];
  for (const m of moves) {
    if (!options.declared.includes(m.dest) && await lstatOrNull(m.dest)) overwrites.push(m);
  }
  const tracked = await (options.tracked ?? gitTracked)(
    workdir,
    overwrites.map((m) => relative(workdir, m.dest)),
  );
  for (const m of overwrites) {
    if (tracked.has(relative(workdir, m.dest))) {
      refused.push({
        artifact: m.reported,
        why: "it would overwrite a file git tracks, and it is not a declared output path",
      });
    }
  }
  if (refused.length > 0) throw refusal(refused);

  // Write every file under a temporary name next to its destination, then rename them all.
  const created: string[] = [];
  const temps: { temp: string; dest: string }[] = [];
  const swept = new Set<string>();
  try {
    for (const m of moves) {
      if (options.signal?.aborted) throw options.signal.reason;
      await makeFolders(workdir, dirname(m.dest), created);
      if (!swept.has(dirname(m.dest))) sweepTemps(dirname(m.dest));
      swept.add(dirname(m.dest));
      const temp = tempName(m.dest);
      // Opens, looks and renames are synchronous (microseconds each, where each asynchronous
      // call costs a round trip to a worker thread); only a large file's copy is not.
      const input = Deno.openSync(m.source, { read: true });
      let output: Deno.FsFile;
      try {
        // The file opened is the one checked: a swap between the check and the open is refused.
        const opened = input.statSync();
        if (opened.ino !== m.info.ino || opened.dev !== m.info.dev || !opened.isFile) {
          throw new Error(`"${m.reported}" changed while it was being moved`);
        }
        output = Deno.openSync(temp, { write: true, createNew: true, mode: 0o644 });
      } catch (error) {
        input.close();
        throw error;
      }
      temps.push({ temp, dest: m.dest });
      await copyFile(input, output, m.info.size, options.signal);
    }
    // Every file copied: the renames are quick, and done whole (a signal now lets them finish).
    if (options.signal?.aborted) throw options.signal.reason;
    for (const { temp, dest } of temps) Deno.renameSync(temp, dest);
  } catch (error) {
    for (const { temp } of temps) await Deno.remove(temp).catch(() => {});
    for (const dir of created.reverse()) await Deno.remove(dir).catch(() => {});
    if (error instanceof ExecError) throw error;
    throw new ExecError(
      `Cannot move the script's outputs into the project: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error, hint: "Check the output folders; nothing was moved" },
    );
  }
  return result;
}
