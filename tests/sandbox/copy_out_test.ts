/**
 * copyOut(): staged artifacts into the project, all or nothing, regular files only, no trusted
 * names, no tracked file overwritten, never through a symlink. Real files, real FIFOs, real git.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ExecError } from "../../src/errors.ts";
import {
  copyOut,
  type CopyOutOptions,
  deviceNumber,
  devicesOf,
  gitTracked,
  heldRemovedFiles,
  makeFolders,
  measureTree,
  type OutputStage,
  processesBelow,
  SHELL_RC_FILES,
  untrustedName,
  watchUsage,
} from "../../src/sandbox/copy_out.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { lstatSyncOrNull, pidNamespace } from "../../src/_fs.ts";

interface Fixture extends AsyncDisposable {
  work: string;
  out: string;
  staging: string;
  root: string;
  options(extra?: Partial<CopyOutOptions>): CopyOutOptions;
  stage(rel: string, text: string): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const tmp = await withTmpDir("capibara_copy_out_");
  const root = await Deno.realPath(tmp.path);
  const work = join(root, "work");
  const out = join(work, "out");
  const staging = join(root, "run", "outputs", "0");
  await Deno.mkdir(out, { recursive: true });
  await Deno.mkdir(staging, { recursive: true });
  const outputs: OutputStage[] = [{ target: out, kind: "dir", staging }];
  return {
    work,
    out,
    staging,
    root,
    options: (extra = {}) => ({
      workdir: work,
      outputs,
      stagingRoot: join(root, "run"),
      declared: [out],
      tracked: () => Promise.resolve(new Set<string>()),
      ...extra,
    }),
    async stage(rel, text) {
      await Deno.mkdir(join(staging, rel, ".."), { recursive: true });
      await Deno.writeTextFile(join(staging, rel), text);
    },
    [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
  };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    out.push(entry.name);
    if (entry.isDirectory) {
      for (const sub of await listTree(join(dir, entry.name))) out.push(`${entry.name}/${sub}`);
    }
  }
  return out.sort();
}

Deno.test("copyOut() moves reported regular files, and only those", async () => {
  await using fx = await fixture();
  await fx.stage("a.txt", "A");
  await fx.stage("deep/b.txt", "B");
  await fx.stage("unreported.txt", "U");
  const moved = await copyOut(["out/a.txt", join(fx.out, "deep", "b.txt")], fx.options());
  assert.deepEqual(moved, ["out/a.txt", join(fx.out, "deep", "b.txt")]);
  assert.equal(await Deno.readTextFile(join(fx.out, "a.txt")), "A");
  assert.equal(await Deno.readTextFile(join(fx.out, "deep", "b.txt")), "B");
  assert.deepEqual(await listTree(fx.out), ["a.txt", "deep", "deep/b.txt"]);
  // Moved files are plain files: no execute bit carried over.
  assert.equal((await Deno.stat(join(fx.out, "a.txt"))).mode! & 0o111, 0);
});

Deno.test("copyOut() moves a file larger than its buffer whole, byte for byte", async () => {
  await using fx = await fixture();
  // 3 MiB and 7 bytes of varied content: several reads, a last partial one.
  const text = Array.from(
    { length: 3 * 1024 * 1024 + 7 },
    (_, i) => String.fromCharCode(97 + (i * 7919) % 26),
  )
    .join("");
  await fx.stage("big.txt", text);
  assert.deepEqual(await copyOut(["out/big.txt"], fx.options()), ["out/big.txt"]);
  assert.equal(await Deno.readTextFile(join(fx.out, "big.txt")), text);
  assert.deepEqual(await listTree(fx.out), ["big.txt"]);
});

Deno.test("copyOut() refuses every name class tools execute or trust, and moves nothing", async () => {
  const planted = [
    ".git/config",
    ".git/hooks/pre-commit",
    ".capibara/config.json",
    "sub/.capibara/scripts/fp/script.py",
    ".github/workflows/ci.yml",
    ".gitlab-ci.yml",
    ".vscode/tasks.json",
    ".idea/workspace.xml",
    ".envrc",
    ".env",
    ".env.local",
    ...SHELL_RC_FILES,
    ".bashrc.d/x.sh",
    "sitecustomize.py",
    "usercustomize.py",
    "conftest.py",
    "pkg/evil.pth",
    "Makefile",
    "GNUmakefile",
    "package.json",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "pyproject.toml",
    "setup.py",
    "deno.json",
    "proj.code-workspace",
    ".GIT/config",
    // A bare repository's marks (git runs its config's fsmonitor in the folder), other version
    // control, start-up files of other tools, JavaScript tools' configuration modules.
    "HEAD",
    "sub/head",
    "gitdir",
    ".jj/repo/config.toml",
    "_darcs/prefs/defaults",
    ".Rprofile",
    ".irbrc",
    ".justfile",
    ".claude/settings.json",
    ".mcp.json",
    ".pdbrc",
    "node_modules/x/index.js",
    "eslint.config.js",
    "vite.config.mts",
    ".eslintrc.cjs",
    "jupyter_server_config.py",
    "Cargo.toml",
    "flake.nix",
    // The class, not a list: an attacker's review planted start-up files the list lacked.
    ".pylintrc",
    "pylintrc",
    "mypy.ini",
    ".ghci",
    ".iex.exs",
    ".ocamlinit",
    "Gruntfile.js",
    "gulpfile.js",
    ".lfsconfig",
    // Every dot name, file or folder, at any depth.
    ".babelrc",
    ".python-version",
    ".pnp.cjs",
    ".unheard-of-tool.toml",
    "a/.hidden/report.json",
    "a/b/.yarn/plugins/x.cjs",
    // Every file name without an extension.
    "Snakefile",
    "Dockerfile",
    "Procfile",
    "Justfile",
    "Brewfile",
    "cpanfile",
    "sub/BUILD",
    "sub/config",
    // Named project, build and configuration files, and their patterns.
    "mix.exs",
    "go.work",
    "go.mod",
    "uv.toml",
    "setup.cfg",
    "tox.ini",
    "pytest.ini",
    "noxfile.py",
    "tsconfig.json",
    "jsconfig.json",
    "composer.json",
    "pom.xml",
    "build.gradle",
    "app/App.csproj",
    "Directory.Build.props",
    "rust-toolchain.toml",
    "Package.swift",
    "stack.yaml",
    "hie.yaml",
    "dune-project",
    "conf.py",
    "gunicorn.conf.py",
    "__pycache__/report.cpython-312.pyc",
    "vite.config.ts",
    "jest.config.js",
    "karma.conf.js",
    "webpack.config.babel.js",
    "pylintrc.toml",
    // Code, which test runners find anywhere below where they start, and interpreters import
    // from the folder they start in.
    "evil_test.ts",
    "test_evil.py",
    "evil.test.js",
    "x_test.go",
    "socket.py",
    "__init__.py",
    "manage.py",
    "x.thor",
    "gems.rb",
    "package.json5",
    "project.json",
    "BUILD.plz",
    "BUCK.v2",
    "BUILD.pants",
    "socket.so",
    "socket.cpython-311-x86_64-linux-gnu.so",
    "socket.pyd",
    "build.ninja",
    "rules.mk",
    "git.com",
    "Installer.app/Contents/MacOS/run.txt",
    "tests/integration.rs",
    // Names file systems that ignore case, marks or invisible characters take for refused ones.
    "tsconf\u0131g.json",
    "package\u200c.json",
    "Make\u0301file.json".replace(".json", ""),
    "gulpfile.babel.js",
    "yarn.lock",
    "Cargo.lock",
    "compose.yaml",
    "docker-compose.override.yml",
    "x.gemspec",
    "pkg.cabal",
    "mise.local.toml",
    "git.exe",
    "tool.bat",
    "desktop.ini",
    // Case-insensitive file systems, Windows's trailing dots and spaces, compatibility forms.
    "MYPY.INI",
    "GRUNTFILE.JS",
    "Pyproject.Toml",
    "Makefile.",
    "setup.py. ",
    "\u017Fetup.py",
  ];
  for (const path of planted) {
    await using fx = await fixture();
    await fx.stage("fine.txt", "ok");
    await fx.stage(path, "evil");
    await assert.rejects(
      copyOut(["out/fine.txt", `out/${path}`], fx.options()),
      (error: unknown) => {
        assert.ok(error instanceof ExecError, path);
        assert.match(error.message, /tools execute or trust/, path);
        assert.ok(error.message.includes(`out/${path}`), `${path}: ${error.message}`);
        return true;
      },
    );
    assert.deepEqual(await listTree(fx.out), [], `${path}: something was moved`);
  }
  for (
    const name of [
      "report.json",
      "data.csv",
      "notes.md",
      "env.txt",
      "make.log",
      "header.csv",
      "config.json",
      "objects.json",
      "site.config.json",
      "summary.json",
      "report.csv",
      "final.mp4",
      "chart.png",
      "notes.txt",
      "data.parquet",
      "index.html",
      "model.onnx",
      "src.json",
      "calc.yaml",
      "user_config.json",
      "app_settings.yaml",
    ]
  ) {
    assert.equal(untrustedName(name), undefined, name);
  }
  // A folder may lack an extension, and be named as a domain is.
  for (const name of ["charts", "2024", "src", "data", "example.com", "v1.2"]) {
    assert.equal(untrustedName(name, "folder"), undefined, name);
  }
  assert.match(untrustedName(".cache", "folder") ?? "", /dot name/);
  assert.match(untrustedName("node_modules", "folder") ?? "", /tools execute or trust/);
  // Legitimate artifacts, nested in folders without an extension, are moved.
  await using fx = await fixture();
  const legit = [
    "summary.json",
    "report.csv",
    "final.mp4",
    "chart.png",
    "notes.txt",
    "data.parquet",
    "charts/2024/chart.png",
    "src/notes.md",
    "example.com/report.json",
    "site.config.json",
  ];
  for (const path of legit) await fx.stage(path, "ok");
  assert.deepEqual(
    await copyOut(legit.map((path) => `out/${path}`), fx.options()),
    legit.map((path) => `out/${path}`),
  );
  for (const path of legit) assert.equal(await Deno.readTextFile(join(fx.out, path)), "ok", path);
});

Deno.test("copyOut() never reads through a staging copy, or the folder holding it, swapped for a link", async () => {
  // The script owns its temp dir: it may rename its staging copy (or `outputs`) away and put a
  // link to a host folder in its place, then report a file of that folder as an artifact (one with
  // an extension: a name without one is refused as such).
  for (const swapped of ["staging", "outputs"] as const) {
    await using fx = await fixture();
    const secrets = join(fx.root, "home", ".ssh");
    await Deno.mkdir(join(secrets, "0"), { recursive: true });
    await Deno.writeTextFile(join(secrets, "id_rsa.pem"), "PRIVATE KEY");
    await Deno.writeTextFile(join(secrets, "0", "id_rsa.pem"), "PRIVATE KEY");
    const place = swapped === "staging" ? fx.staging : join(fx.staging, "..");
    await Deno.rename(place, `${place}.away`);
    await Deno.symlink(secrets, place);
    await assert.rejects(
      copyOut(["out/id_rsa.pem"], fx.options()),
      (error: unknown) =>
        error instanceof ExecError && /is a symlink, not a folder/.test(error.message) &&
        error.message.includes("out/id_rsa.pem"),
      swapped,
    );
    assert.equal(
      lstatSyncOrNull(join(fx.out, "id_rsa.pem")),
      null,
      `${swapped}: the key was copied`,
    );
  }
  // A single-file output: its staging copy is a file of the same folder.
  await using fx = await fixture();
  const secrets = join(fx.root, "home", ".ssh");
  await Deno.mkdir(secrets, { recursive: true });
  await Deno.writeTextFile(join(secrets, "1"), "PRIVATE KEY");
  const outputs = join(fx.staging, "..");
  await Deno.rename(outputs, `${outputs}.away`);
  await Deno.symlink(secrets, outputs);
  const target = join(fx.work, "report.txt");
  await assert.rejects(
    copyOut(
      ["report.txt"],
      fx.options({
        outputs: [{ target, kind: "file", staging: join(outputs, "1") }],
        declared: [target],
      }),
    ),
    ExecError,
  );
  assert.equal(lstatSyncOrNull(target), null, "the key was copied into the project");
  // A staging copy outside the run's temp dir is refused as such.
  await assert.rejects(
    copyOut(
      ["report.txt"],
      fx.options({
        outputs: [{ target, kind: "file", staging: join(secrets, "1") }],
        declared: [target],
      }),
    ),
    (error: unknown) =>
      error instanceof ExecError && /not in the run's temp dir/.test(error.message),
  );
});

Deno.test("copyOut() takes a declared output path as written", async () => {
  await using fx = await fixture();
  const names = ["package.json", "Dockerfile", ".dockerignore", "conf/.env.example"];
  for (const name of names) await fx.stage(name, "{}");
  const declared = [fx.out, ...names.map((name) => join(fx.out, name))];
  assert.deepEqual(
    await copyOut(names.map((name) => `out/${name}`), fx.options({ declared })),
    names.map((name) => `out/${name}`),
  );
  for (const name of names) assert.equal(await Deno.readTextFile(join(fx.out, name)), "{}");
  // Only the exact path: the same names elsewhere in the folder are still refused.
  await fx.stage("sub/Dockerfile", "{}");
  await assert.rejects(
    copyOut(["out/sub/Dockerfile"], fx.options({ declared })),
    (error: unknown) => error instanceof ExecError && /has no extension/.test(error.message),
  );
});

Deno.test("copyOut() refuses symlinks, FIFOs and folders in the staging area", async () => {
  await using fx = await fixture();
  const secret = join(fx.root, "secret.txt");
  await Deno.writeTextFile(secret, "host secret");
  await Deno.symlink(secret, join(fx.staging, "link.txt"));
  await Deno.mkdir(join(fx.root, "elsewhere"));
  await Deno.writeTextFile(join(fx.root, "elsewhere", "x.txt"), "host file");
  await Deno.symlink(join(fx.root, "elsewhere"), join(fx.staging, "dirlink"));
  const mkfifo = await new Deno.Command("mkfifo", { args: [join(fx.staging, "pipe.csv")] })
    .output();
  assert.ok(mkfifo.success);
  await fx.stage("folder.csv/x.txt", "x");
  for (
    const [artifact, why] of [
      ["out/link.txt", /a symlink/],
      ["out/dirlink/x.txt", /a symlink, not a folder/],
      ["out/pipe.csv", /a FIFO/],
      ["out/folder.csv", /a folder/],
      ["out/missing.txt", /did not write it/],
      ["out", /output folder itself/],
      ["data/elsewhere.txt", /not under a declared output/],
      ["../secret.txt", /not under a declared output/],
    ] as const
  ) {
    await assert.rejects(copyOut([artifact], fx.options()), why, artifact);
  }
  assert.deepEqual(await listTree(fx.out), []);
});

Deno.test("copyOut() never writes through a symlink in the project", async () => {
  await using fx = await fixture();
  const elsewhere = join(fx.root, "elsewhere");
  await Deno.mkdir(elsewhere);
  // A link planted where a folder of the destination would be (another run, an old version).
  await Deno.symlink(elsewhere, join(fx.out, "sub"));
  await Deno.symlink(join(elsewhere, "target.txt"), join(fx.out, "file.txt"));
  await fx.stage("sub/x.txt", "x");
  await fx.stage("file.txt", "y");
  await assert.rejects(copyOut(["out/sub/x.txt"], fx.options()), /"out\/sub" .*a symlink/);
  await assert.rejects(copyOut(["out/file.txt"], fx.options()), /already has a symlink/);
  assert.deepEqual(await listTree(elsewhere), [], "a file was written through a link");
});

Deno.test("copyOut() refuses to overwrite a tracked file unless it is a declared output", async () => {
  await using fx = await fixture();
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: fx.work, stdout: "null", stderr: "null" }).output();
  assert.ok((await git("init", "-q")).success);
  await Deno.writeTextFile(join(fx.out, "notes.txt"), "print('user code')\n");
  await Deno.writeTextFile(join(fx.out, "declared.txt"), "old\n");
  assert.ok((await git("add", "out/notes.txt", "out/declared.txt")).success);
  assert.deepEqual(
    await gitTracked(fx.work, ["out/notes.txt", "out/new.txt", "out/declared.txt"]),
    new Set(["out/notes.txt", "out/declared.txt"]),
  );
  await fx.stage("notes.txt", "import os; os.system('evil')\n");
  await fx.stage("declared.txt", "new\n");
  await fx.stage("new.txt", "fresh\n");
  const options = fx.options({
    declared: [fx.out, join(fx.out, "declared.txt")],
    tracked: undefined, // ask git
  });
  await assert.rejects(
    copyOut(["out/new.txt", "out/notes.txt"], options),
    /"out\/notes.txt": it would overwrite a file git tracks/,
  );
  assert.equal(await Deno.readTextFile(join(fx.out, "notes.txt")), "print('user code')\n");
  assert.equal(await lstatOrNull(join(fx.out, "new.txt")), null, "all or nothing");
  assert.deepEqual(await copyOut(["out/declared.txt", "out/new.txt"], options), [
    "out/declared.txt",
    "out/new.txt",
  ]);
  assert.equal(await Deno.readTextFile(join(fx.out, "declared.txt")), "new\n");
});

Deno.test("gitTracked() never takes a committed folder shaped as a bare repository for the project's", async () => {
  await using fx = await fixture();
  const git = (...args: string[]) =>
    new Deno.Command("git", { args, cwd: fx.work, stdout: "null", stderr: "null" }).output();
  assert.ok((await git("init", "-q")).success);
  // The project tracks sub/notes.txt; sub/ also holds what git takes for a repository of its own
  // with sub/ as its worktree and no index: through it, nothing would be tracked.
  const sub = join(fx.work, "sub");
  await Deno.mkdir(join(sub, "objects"), { recursive: true });
  await Deno.mkdir(join(sub, "refs"));
  await Deno.writeTextFile(join(sub, "HEAD"), "ref: refs/heads/main\n");
  await Deno.writeTextFile(join(sub, "config"), "[core]\n\tbare = false\n\tworktree = .\n");
  await Deno.writeTextFile(join(sub, "notes.txt"), "the user's\n");
  assert.ok((await git("add", "sub/notes.txt")).success);
  assert.deepEqual(await gitTracked(sub, ["notes.txt"]), new Set(["notes.txt"]));
});

Deno.test("copyOut() replaces a destination by rename, leaving no temporary file", async () => {
  await using fx = await fixture();
  await Deno.writeTextFile(join(fx.out, "r.txt"), "old");
  const before = await Deno.lstat(join(fx.out, "r.txt"));
  // A hard link to the old file keeps its content: an in-place write would change it too.
  await Deno.link(join(fx.out, "r.txt"), join(fx.root, "old-link"));
  await fx.stage("r.txt", "new");
  await copyOut(["out/r.txt"], fx.options());
  const after = await Deno.lstat(join(fx.out, "r.txt"));
  assert.notEqual(after.ino, before.ino, "the file was rewritten in place, not renamed over");
  assert.equal(await Deno.readTextFile(join(fx.out, "r.txt")), "new");
  assert.equal(await Deno.readTextFile(join(fx.root, "old-link")), "old");
  assert.deepEqual(await listTree(fx.out), ["r.txt"]);
});

Deno.test("copyOut() removes the empty probe folders a killed Capibara left where it moves outputs", async () => {
  await using fx = await fixture();
  // A process that has ended: its pid names what it left.
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  const ns = pidNamespace();
  const live = `.capibara-probe-${Deno.pid}-ns${ns}-0a1b2c3d`;
  const left = `.capibara-probe-${gone.pid}-ns${ns}-0a1b2c3d`;
  const kept = `.capibara-probe-${gone.pid}-ns${ns}-ffffffff`;
  // Another pid namespace's (a container sharing the folder): its pid says nothing here.
  const theirs = `.capibara-probe-${gone.pid}-ns1-0a1b2c3d`;
  for (const name of [live, left, kept, theirs]) await Deno.mkdir(join(fx.out, name));
  await Deno.writeTextFile(join(fx.out, kept, "mine.txt"), "not a probe's"); // not empty: kept
  await fx.stage("r.txt", "new");
  await copyOut(["out/r.txt"], fx.options());
  assert.deepEqual(
    await listTree(fx.out),
    [
      live,
      kept,
      `${kept}/mine.txt`,
      theirs,
      "r.txt",
    ].sort(),
  );
});

Deno.test("copyOut() removes the temporary copies a killed Capibara of its pid namespace left, only those", async () => {
  await using fx = await fixture();
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  const ns = pidNamespace();
  const uuid = crypto.randomUUID();
  const left = `.r.txt.capibara-${gone.pid}-ns${ns}-${uuid}`;
  const live = `.r.txt.capibara-${Deno.pid}-ns${ns}-${uuid}`;
  // Another namespace's copy in progress (a container's Capibara writing the same folder).
  const theirs = `.r.txt.capibara-${gone.pid}-ns1-${uuid}`;
  // A folder at such a name is not a copy Capibara wrote: never removed.
  const folder = `.q.txt.capibara-${gone.pid}-ns${ns}-${uuid}`;
  for (const name of [left, live, theirs]) await Deno.writeTextFile(join(fx.out, name), "part");
  await Deno.mkdir(join(fx.out, folder));
  await fx.stage("r.txt", "new");
  await copyOut(["out/r.txt"], fx.options());
  assert.deepEqual(await listTree(fx.out), [live, theirs, folder, "r.txt"].sort());
});

Deno.test("copyOut() keeps artifacts of folders granted for writing as reported", async () => {
  await using fx = await fixture();
  const granted = join(fx.work, "scratch");
  assert.deepEqual(
    await copyOut(["scratch/x.txt"], fx.options({ inPlace: [granted] })),
    ["scratch/x.txt"],
  );
});

Deno.test("copyOut() moves a single staged file to a file declared at the top", async () => {
  await using fx = await fixture();
  const staged = join(fx.root, "run", "outputs", "1");
  await Deno.writeTextFile(staged, "video");
  const target = join(fx.work, "final.mp4");
  const options = fx.options({
    outputs: [{ target, kind: "file", staging: staged }],
    declared: [target],
  });
  assert.deepEqual(await copyOut(["final.mp4"], options), ["final.mp4"]);
  assert.equal(await Deno.readTextFile(target), "video");
  await assert.rejects(copyOut(["other.mp4"], options), /not under a declared output/);
});

Deno.test("makeFolders() creates folders one by one and refuses a symlink on the way", async () => {
  await using fx = await fixture();
  await makeFolders(fx.work, join(fx.out, "a", "b"));
  assert.ok((await Deno.lstat(join(fx.out, "a", "b"))).isDirectory);
  await Deno.symlink(fx.root, join(fx.out, "link"));
  await assert.rejects(makeFolders(fx.work, join(fx.out, "link", "c")), /a symlink/);
  assert.equal(await lstatOrNull(join(fx.root, "c")), null);
});

Deno.test("measureTree() counts bytes and entries, stopping past a bound", async () => {
  await using fx = await fixture();
  await fx.stage("a.txt", "12345");
  await fx.stage("d/b.txt", "123");
  await Deno.symlink("/etc/passwd", join(fx.staging, "link"));
  assert.deepEqual(measureTree(fx.staging), { bytes: 8, files: 4 });
  const stopped = measureTree(fx.staging, { bytes: 1_000, files: 1 });
  assert.ok(
    stopped.files === 2,
    `the walk stops at the first entry past the bound: ${stopped.files}`,
  );
});

Deno.test({
  name:
    "measureTree() counts a folder its owner closed to reading (chmod 0300) as past every bound while a run may still change it, measures it once opened again, and counts one it still cannot list as past every bound",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await withTmpDir();
    // Root lists any folder: the measure runs as an ordinary user (nobody) then.
    const asRoot = Deno.uid() === 0;
    const owner = asRoot ? 65534 : Deno.uid()!;
    await Deno.chmod(tmp.path, 0o755);
    const own = join(tmp.path, "own");
    await Deno.mkdir(join(own, "hide"), { recursive: true });
    await Deno.writeTextFile(join(own, "hide", "blob"), "x".repeat(5000));
    // A folder another user closed, which the measuring user can neither list nor open again.
    const foreign = join(tmp.path, "foreign");
    await Deno.mkdir(join(foreign, "theirs"), { recursive: true });
    if (asRoot) {
      await new Deno.Command("chown", { args: ["-R", `${owner}:${owner}`, own, foreign] })
        .output();
      await Deno.chown(join(foreign, "theirs"), 0, 0);
    }
    await Deno.chmod(join(own, "hide"), 0o300);
    await Deno.chmod(join(foreign, "theirs"), 0o300);
    const measure = async (tree: string, reopen = true) => {
      const module = new URL("../../src/sandbox/copy_out.ts", import.meta.url).href;
      const code = `const m = await import(${JSON.stringify(module)}); ` +
        `const used = m.measureTree(Deno.args[0], undefined, { reopen: ${reopen} }); ` +
        "console.log(JSON.stringify({ ...used, unmeasurable: m.unmeasurable(used) }));";
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", code, tree],
        env: { DENO_DIR: join(tmp.path, "deno-dir"), PATH: "/usr/bin:/bin", NO_COLOR: "1" },
        clearEnv: true,
        ...(asRoot ? { uid: owner, gid: owner } : {}),
        cwd: "/",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      return JSON.parse(new TextDecoder().decode(out.stdout));
    };
    // While the run's processes may still swap the folder for a link, no mode is changed.
    const during = await measure(own, false);
    assert.equal(during.unmeasurable, true, JSON.stringify(during));
    assert.equal((await Deno.lstat(join(own, "hide"))).mode! & 0o777, 0o300);
    const measured = await measure(own);
    assert.equal(measured.bytes, 5000, "the closed folder's file was not counted");
    assert.equal(measured.unmeasurable, false);
    if (asRoot) {
      const closed = await measure(foreign);
      assert.equal(closed.unmeasurable, true, JSON.stringify(closed));
    }
    await Deno.chmod(join(own, "hide"), 0o700).catch(() => {});
    await Deno.chmod(join(foreign, "theirs"), 0o700).catch(() => {});
  },
});

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  return await Deno.lstat(path).catch(() => null);
}

Deno.test("deviceNumber() reads /proc/<pid>/maps's major:minor as Deno's stat gives st_dev", () => {
  if (Deno.build.os !== "linux") return;
  const binary = Deno.realPathSync(Deno.execPath());
  const line = Deno.readTextFileSync("/proc/self/maps").split("\n").find((l) =>
    l.endsWith(" " + binary)
  );
  assert.ok(line, "the deno binary is mapped");
  const [, , , device, inode] = line.split(/\s+/);
  const info = Deno.statSync(binary);
  assert.equal(deviceNumber(device!), info.dev);
  assert.equal(Number(inode), info.ino);
  // The kernel's encoding of large numbers (glibc's makedev).
  assert.equal(deviceNumber("103:10005"), 0x103 * 2 ** 8 + 0x05 + 0x10000 * 2 ** 12);
  assert.equal(deviceNumber("1234:5"), 0x234 * 2 ** 8 + 0x1000 * 2 ** 32 + 5);
});

Deno.test({
  name:
    "heldRemovedFiles() counts removed files a process tree holds open or mapped on the measured devices (a mapped one the kernel does not show, past every bound)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await withTmpDir("capibara_held_");
    const dir = await Deno.realPath(tmp.path);
    // A parent that holds a removed 3 MiB file open, and a child that maps a removed 2 MiB one
    // and closes its descriptor.
    const script = `import mmap, os, subprocess, sys, time
def removed(name, size):
    fd = os.open(os.path.join(sys.argv[1], name), os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"x" * size)
    os.unlink(os.path.join(sys.argv[1], name))
    return fd
if sys.argv[2] == "parent":
    held = removed("open", 3 << 20)
    kid = subprocess.Popen([sys.executable, "-c", sys.argv[3], sys.argv[1], "child", sys.argv[3]])
    kid.wait()
else:
    fd = removed("mapped", 2 << 20)
    keep = mmap.mmap(fd, 4096)
    os.close(fd)
    print("ready", flush=True)
    time.sleep(30)
`;
    await using process = await startReady(
      new Deno.Command("python3", { args: ["-c", script, dir, "parent", script], stdout: "piped" }),
    );
    assert.ok(processesBelow(process.pid).length >= 2, "the child is found below its parent");
    const held = await heldRemovedFiles(process.pid, devicesOf([dir]));
    if (held.bytes !== Infinity) {
      assert.deepEqual(held, { bytes: 5 << 20, files: 2 });
    } else {
      // Where the kernel lets only root look at a mapped file, it cannot be measured.
      assert.notEqual(Deno.uid(), 0, "root measures a mapped file");
    }
    // Files on other devices are not the measured folders' (a memfd, another file system).
    assert.deepEqual(await heldRemovedFiles(process.pid, new Set()), { bytes: 0, files: 0 });
  },
});

Deno.test({
  name:
    "heldRemovedFiles() looks at a bounded number of descriptors, past every bound beyond it, and lets the event loop turn meanwhile",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // Eight threads sharing 600 descriptors: 4,800 looks, each thread's table read on its own.
    const script = `import os, threading, time
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(600)]
stop = threading.Event()
for _ in range(7):
    threading.Thread(target=stop.wait, daemon=True).start()
print("ready", flush=True)
time.sleep(30)
`;
    await using process = await startReady(
      new Deno.Command("python3", { args: ["-c", script], stdout: "piped" }),
    );
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const measured = await heldRemovedFiles(process.pid, new Set([0]));
    clearInterval(timer);
    assert.deepEqual(measured, { bytes: 0, files: 0 });
    assert.ok(turns > 0, "the event loop stood still for the whole measure");
    const past = await heldRemovedFiles(process.pid, new Set([0]), 4_000);
    assert.equal(past.bytes, Infinity, "more descriptors than the budget were measured");
  },
});

/**
 * Starts `command` (its standard output piped) and waits until it prints `ready`; disposing it
 * kills it.
 */
async function startReady(command: Deno.Command): Promise<{ pid: number } & AsyncDisposable> {
  const process = command.spawn();
  const stop = async () => {
    // Its children first (a child that sleeps would outlive the test), then the process.
    for (const pid of processesBelow(process.pid).slice(1)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    process.kill("SIGKILL");
    await process.status;
    await process.stdout.cancel().catch(() => {});
  };
  try {
    const reader = process.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /ready/);
    reader.releaseLock();
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: process.pid, [Symbol.asyncDispose]: stop };
}

/**
 * `heldRemovedFiles()` of a Python process that runs `script` (given a folder of its own as
 * `sys.argv[1]`; it prints `ready` once it holds what it holds), both as an ordinary user: nobody
 * where the test runs as root, who sees every process's descriptors. `before` runs once it is
 * ready, with its pid.
 */
async function heldByUser(
  script: string,
  before?: (pid: number) => Promise<void>,
): Promise<unknown> {
  await using tmp = await withTmpDir("capibara_held_user_");
  const user = Deno.uid() === 0 ? { uid: 65534, gid: 65534 } : {};
  const dir = await Deno.realPath(tmp.path);
  await Deno.chmod(dir, 0o777);
  // The system's interpreter: one under root's home is not nobody's to run.
  const python =
    ["/usr/bin/python3", "/usr/local/bin/python3"].find((path) => lstatSyncOrNull(path) !== null) ??
      "python3";
  await using process = await startReady(
    new Deno.Command(python, { args: ["-c", script, dir], stdout: "piped", ...user }),
  );
  await before?.(process.pid);
  const module = new URL("../../src/sandbox/copy_out.ts", import.meta.url).href;
  const code = `const m = await import(${JSON.stringify(module)}); ` +
    "console.log(JSON.stringify(await m.heldRemovedFiles(Number(Deno.args[0]), " +
    "m.devicesOf([Deno.args[1]]))));";
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code, String(process.pid), dir],
    env: { DENO_DIR: join(dir, "deno-dir"), PATH: "/usr/bin:/bin", NO_COLOR: "1" },
    clearEnv: true,
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
    ...user,
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name:
    "heldRemovedFiles() of an ordinary user: a zombie child is ended, not unmeasurable, and a removed file reached by a path longer than PATH_MAX counts",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const held = await heldByUser(`import os, subprocess, sys, time
os.chdir(sys.argv[1])
for i in range(20):
    name = ("d%02d" % i) * 80
    os.mkdir(name)
    os.chdir(name)
fd = os.open("f", os.O_CREAT | os.O_RDWR, 0o600)
os.unlink("f")
os.write(fd, b"x" * (3 << 20))
zombie = subprocess.Popen(["true"])
time.sleep(0.3)
print("ready", flush=True)
time.sleep(30)
`);
    assert.deepEqual(held, { bytes: 3 << 20, files: 1 });
  },
});

Deno.test({
  name:
    "heldRemovedFiles() counts a removed file a process's threads hold after its main thread has ended (a zombie leader)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // The main thread ends (pthread_exit) while another keeps the process and its descriptors.
    const held = await heldByUser(
      `import ctypes, os, sys, threading, time
path = os.path.join(sys.argv[1], "f")
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
os.unlink(path)
os.write(fd, b"x" * (3 << 20))
threading.Thread(target=time.sleep, args=(30,)).start()
print("ready", flush=True)
ctypes.CDLL(None).pthread_exit(None)
`,
      async (pid) => {
        const status = () => Deno.readTextFileSync(`/proc/${pid}/status`);
        for (let i = 0; i < 100 && !/^State:\s+Z/m.test(status()); i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.match(status(), /^State:\s+Z/m);
      },
    );
    assert.deepEqual(held, { bytes: 3 << 20, files: 1 });
  },
});

Deno.test("watchUsage(): a measure that throws stops the run as past its bounds, never an unhandled rejection", async () => {
  const watch = watchUsage(
    () => {
      throw new Error("a measure failed its own way");
    },
    { bytes: 100, files: 10 },
    5,
  );
  await new Promise((resolve) => watch.signal.addEventListener("abort", resolve, { once: true }));
  const exceeded = await watch.end();
  assert.equal(exceeded?.bytes, Infinity);
});
