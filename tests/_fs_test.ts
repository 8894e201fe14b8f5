/** The file-system helpers every module shares (`src/_fs.ts`), against a real temp folder. */
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import * as nodePath from "node:path";
import {
  entriesNamed,
  FileRefused,
  isInside,
  lstatSyncOrNull,
  promised,
  readRegularFileSync,
  realPathLooseSync,
  realTmpDir,
  removeIfExists,
  removeIfExistsSync,
  staleEntries,
  sweepDue,
  sweepLeftRunDirs,
} from "../src/_fs.ts";
import { withTmpDir } from "./helpers/tmp.ts";

Deno.test("entriesNamed() lists a folder once, matching names in any case", async () => {
  await using tmp = await withTmpDir();
  await Deno.writeTextFile(join(tmp.path, ".BashRC"), "");
  await Deno.mkdir(join(tmp.path, ".git"));
  await Deno.writeTextFile(join(tmp.path, "other"), "");
  assert.deepEqual(
    entriesNamed(tmp.path, [".bashrc", ".git", ".zshrc"]).sort(),
    [join(tmp.path, ".BashRC"), join(tmp.path, ".git")].sort(),
  );
  // A folder that does not exist holds none of them.
  assert.deepEqual(entriesNamed(join(tmp.path, "missing"), [".git"]), []);
});

/** Counts the calls of `Deno.readDirSync` until `restore()`. */
function countListings(): { count: number; restore(): void } {
  const original = Deno.readDirSync;
  const counter = {
    count: 0,
    restore: () => {
      Deno.readDirSync = original;
    },
  };
  Deno.readDirSync = (path) => {
    counter.count++;
    return original(path);
  };
  return counter;
}

Deno.test("entriesNamed() asks name by name in a large folder, and never hides an error", async () => {
  await using tmp = await withTmpDir();
  for (let i = 0; i < 300; i++) {
    await Deno.writeTextFile(join(tmp.path, `a-file-of-a-larger-folder-${i}`), "");
  }
  await Deno.mkdir(join(tmp.path, ".capibara"));
  // Deno reads a listing whole: a folder larger than one block is not listed at all.
  const listed = countListings();
  try {
    assert.deepEqual(entriesNamed(tmp.path, [".capibara", ".git"]), [join(tmp.path, ".capibara")]);
    assert.ok(Deno.statSync(tmp.path).size > 4096, "300 names take more than one block");
    assert.equal(listed.count, 0);
    // A small one is listed, once.
    assert.deepEqual(entriesNamed(join(tmp.path, ".capibara"), [".git"]), []);
    assert.equal(listed.count, 1);
  } finally {
    listed.restore();
  }
  // A path that cannot be looked up (a symlink loop) is an error, as lstat's, not an absence.
  await Deno.symlink(join(tmp.path, "loop"), join(tmp.path, "loop"));
  assert.throws(() => entriesNamed(join(tmp.path, "loop"), [".git"]));
});

Deno.test("entriesNamed() lists a large folder it cannot search (mode r--) after all", async () => {
  await using tmp = await withTmpDir();
  for (let i = 0; i < 300; i++) {
    await Deno.writeTextFile(join(tmp.path, `a-file-of-a-larger-folder-${i}`), "");
  }
  await Deno.writeTextFile(join(tmp.path, ".bashrc"), "");
  assert.ok(Deno.statSync(tmp.path).size > 4096);
  // What a folder without the search right answers for each name in it (root searches any).
  const original = Deno.lstatSync;
  Deno.lstatSync = (path) => {
    if (String(path).startsWith(tmp.path + "/")) {
      throw new Deno.errors.PermissionDenied(`Permission denied: ${path}`);
    }
    return original(path);
  };
  try {
    assert.deepEqual(entriesNamed(tmp.path, [".bashrc", ".git"]), [join(tmp.path, ".bashrc")]);
  } finally {
    Deno.lstatSync = original;
  }
});

Deno.test("promised() turns a synchronous throw into a rejection", async () => {
  const rejected = promised(() => {
    throw new Error("boom");
  });
  await assert.rejects(rejected, /boom/);
  assert.equal(await promised(() => 7), 7);
});

Deno.test("entriesNamed() of a file, or under one, finds nothing and is no error", async () => {
  await using tmp = await withTmpDir();
  const file = join(tmp.path, "final.txt");
  await Deno.writeTextFile(file, "");
  assert.deepEqual(entriesNamed(file, [".git", ".capibara"]), []);
  assert.deepEqual(entriesNamed(join(file, "sub"), [".git"]), []);
});

Deno.test("isInside() answers as the lexical resolution does, for plain and other paths alike", () => {
  // The reference: node's own path resolution, as isInside did before its prefix test.
  const reference = (child: string, parent: string) => {
    const rel = nodePath.relative(parent, child);
    return rel === "" ||
      (rel !== ".." && !rel.startsWith(`..${nodePath.sep}`) && !nodePath.isAbsolute(rel));
  };
  const parts = ["a", "b", "ab", "..", ".", "..b", ".a", "", "a b"];
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const path = () => {
    const n = random(5);
    const picked = Array.from({ length: n }, () => parts[random(parts.length)]!);
    return "/" + picked.join("/") + (random(6) === 0 ? "/" : "");
  };
  for (let i = 0; i < 20_000; i++) {
    const [child, parent] = [path(), path()];
    assert.equal(isInside(child, parent), reference(child, parent), `${child} in ${parent}`);
  }
  for (
    const [child, parent, inside] of [
      ["/a/b", "/a", true],
      ["/ab", "/a", false],
      ["/a", "/a", true],
      ["/a", "/", true],
      ["/", "/a", false],
      ["/a/..b", "/a", true],
      ["/a/../b", "/a", false],
      ["/a/b/", "/a/b", true],
    ] as const
  ) assert.equal(isInside(child, parent), inside, `${child} in ${parent}`);
});

Deno.test("readRegularFileSync() reads a regular file within its bound, never a link, FIFO or device", async () => {
  await using tmp = await withTmpDir();
  const file = join(tmp.path, "f");
  await Deno.writeTextFile(file, "hello");
  assert.equal(new TextDecoder().decode(readRegularFileSync(file, 5)), "hello");
  const refused = (path: string, max: number) => {
    try {
      readRegularFileSync(path, max);
    } catch (error) {
      assert.ok(error instanceof FileRefused, String(error));
      return error.reason;
    }
    return "read";
  };
  assert.equal(refused(file, 4), "is larger than 4 bytes");
  assert.equal(refused(join(tmp.path, "none"), 4), "is missing");
  await Deno.symlink(file, join(tmp.path, "link"));
  assert.equal(refused(join(tmp.path, "link"), 100), "is not a regular file");
  await Deno.symlink("/dev/zero", join(tmp.path, "zero"));
  assert.equal(refused(join(tmp.path, "zero"), 100), "is not a regular file");
  const fifo = join(tmp.path, "fifo");
  if ((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success) {
    assert.equal(refused(fifo, 100), "is not a regular file");
  }
  assert.equal(refused(tmp.path, 100), "is not a regular file");
});

Deno.test({
  name:
    "removeIfExists() and removeIfExistsSync() remove a tree whose writer closed its folders (mode 000), never changing a linked folder",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await withTmpDir();
    // Root enters any folder: the removal runs as an ordinary user (nobody) then.
    const asRoot = Deno.uid() === 0;
    const owner = asRoot ? 65534 : Deno.uid()!;
    await Deno.chmod(tmp.path, 0o755);
    const outside = join(tmp.path, "outside");
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(outside, "keep"), "kept");
    const trees = [join(tmp.path, "async"), join(tmp.path, "sync")];
    for (const tree of trees) {
      await Deno.mkdir(join(tree, "closed", "inner"), { recursive: true });
      await Deno.writeTextFile(join(tree, "closed", "inner", "blob"), "x".repeat(1000));
      let deep = join(tree, "deep");
      for (let i = 0; i < 40; i++) deep = join(deep, "d");
      await Deno.mkdir(deep, { recursive: true });
      await Deno.symlink(outside, join(tree, "closed", "link"));
      if (asRoot) {
        for (const path of [tmp.path, outside, join(outside, "keep"), tree]) {
          await Deno.chown(path, owner, owner);
        }
        await new Deno.Command("chown", { args: ["-hR", `${owner}:${owner}`, tree] }).output();
      }
      // Closed by the script that wrote them: the folders and one deep down.
      await Deno.chmod(join(tree, "deep", "d", "d", "d"), 0o000);
      await Deno.chmod(join(tree, "closed", "inner"), 0o000);
      await Deno.chmod(join(tree, "closed"), 0o000);
    }
    await Deno.chmod(outside, 0o500);
    const [tree, treeSync] = trees as [string, string];
    if (asRoot) {
      const fs = new URL("../src/_fs.ts", import.meta.url).href;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `const m = await import(${JSON.stringify(fs)}); ` +
          "await m.removeIfExists(Deno.args[0]); m.removeIfExistsSync(Deno.args[1]);",
          tree,
          treeSync,
        ],
        env: { DENO_DIR: join(tmp.path, "deno-dir"), PATH: "/usr/bin:/bin", NO_COLOR: "1" },
        clearEnv: true,
        uid: owner,
        gid: owner,
        cwd: "/",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    } else {
      await removeIfExists(tree);
      removeIfExistsSync(treeSync);
    }
    assert.equal(lstatSyncOrNull(tree), null);
    assert.equal(lstatSyncOrNull(treeSync), null);
    // The folder a link in the tree named kept its mode and its file.
    assert.equal((await Deno.lstat(outside)).mode! & 0o777, 0o500);
    await Deno.chmod(outside, 0o700);
    assert.equal(await Deno.readTextFile(join(outside, "keep")), "kept");
    // Absent is fine.
    await removeIfExists(tree);
    removeIfExistsSync(treeSync);
  },
});

Deno.test("realPathLooseSync() gives what a walk up to the nearest folder that exists gives, links and missing parts included", async () => {
  await using tmp = await withTmpDir();
  const root = Deno.realPathSync(tmp.path);
  // The rule as it was first written: a lookup of each folder up, nearest first.
  const walkUp = (path: string): string => {
    const rest: string[] = [];
    let current = path;
    for (;;) {
      try {
        const real = Deno.realPathSync(current);
        return rest.length ? join(real, ...rest.reverse()) : real;
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        const parent = dirname(current);
        if (parent === current) return path;
        rest.push(basename(current));
        current = parent;
      }
    }
  };
  await Deno.mkdir(join(root, "a", "b", "c"), { recursive: true });
  await Deno.symlink(join(root, "a", "b"), join(root, "link"));
  await Deno.symlink(join(root, "nowhere"), join(root, "dangling"));
  const cases = [
    "a",
    "a/b/c",
    "a/b/c/d",
    "a/b/c/d/e/f",
    "link/c/x",
    "link/x/y",
    "dangling/x",
    "missing/a/b",
    "a/" + "x/".repeat(500) + "y",
  ];
  for (const rel of cases) {
    const path = join(root, rel);
    assert.equal(realPathLooseSync(path), walkUp(path), rel);
    // Looked up from a folder that holds it, the same.
    assert.equal(realPathLooseSync(path, root), walkUp(path), `${rel} within the root`);
    assert.equal(realPathLooseSync(path, join(root, "a")), walkUp(path), `${rel} within a/`);
  }
  assert.equal(realPathLooseSync(join(root, "a", "b", "c")), join(root, "a", "b", "c"));
});

Deno.test("sweepLeftRunDirs() removes the run dirs of Capibara processes that are gone, at most once per period", async () => {
  await using scratch = await withTmpDir();
  const stamp = join(scratch.path, "run-dirs-swept");
  // A process that has ended: its pid names what it left.
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  const tmp = realTmpDir();
  const namespace = /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))![1];
  const name = (pid: number | string, ns = namespace) =>
    `capibara-run-${pid}-ns${ns}-${crypto.randomUUID()}`;
  const left = join(tmp, name(gone.pid));
  const mine = join(tmp, name(Deno.pid));
  const unnamed = join(tmp, `capibara-run-${crypto.randomUUID()}`);
  const file = join(tmp, name(gone.pid));
  const later = join(tmp, name(gone.pid));
  // Another pid namespace's (a container sharing the temp dir): its pid says nothing here.
  const foreign = join(tmp, name(gone.pid, "1"));
  try {
    for (const dir of [left, mine, unnamed, foreign]) {
      await Deno.mkdir(join(dir, "outputs"), { recursive: true });
    }
    await Deno.writeTextFile(join(left, "outputs", "big.bin"), "staged output");
    await Deno.writeTextFile(file, "a file of that name is not a run's folder");
    sweepLeftRunDirs(stamp);
    const there = (path: string) => lstatSyncOrNull(path) !== null;
    assert.equal(there(left), false, "a gone process's run dir stayed");
    for (const kept of [mine, unnamed, file, foreign]) {
      assert.equal(there(kept), true, `${kept} was removed`);
    }
    // Within the period, no second look at the temp dir.
    await Deno.mkdir(later);
    sweepLeftRunDirs(stamp);
    assert.equal(there(later), true, "swept again within the period");
    sweepLeftRunDirs(stamp, 0);
    assert.equal(there(later), false, "not swept once the period was over");
  } finally {
    for (const path of [left, mine, unnamed, file, later, foreign]) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("staleEntries() names only what a gone process of this pid namespace left", async () => {
  await using tmp = await withTmpDir();
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  const namespace = /\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/pid"))![1];
  const pattern = /^left-(\d+)(?:-ns(\d+))?-[a-z]+$/;
  const names = {
    left: `left-${gone.pid}-ns${namespace}-a`,
    again: `left-${gone.pid}-ns${namespace}-b`, // the same pid, looked up once
    live: `left-${Deno.pid}-ns${namespace}-a`,
    parent: `left-${Deno.ppid}-ns${namespace}-a`,
    // Another namespace's, and one that names none (an older Capibara's): a pid there says
    // nothing here.
    foreign: `left-${gone.pid}-ns1-a`,
    unnamed: `left-${gone.pid}-a`,
    other: "unrelated",
  };
  for (const name of Object.values(names)) await Deno.writeTextFile(join(tmp.path, name), "");
  assert.deepEqual(staleEntries(tmp.path, pattern).sort(), [names.left, names.again].sort());
  assert.deepEqual(staleEntries(join(tmp.path, "missing"), pattern), []);
});

Deno.test("sweepDue(): a small folder on every run; a crowded one at most once per period, or on every run where no stamp can be kept", async () => {
  await using tmp = await withTmpDir();
  const folder = join(tmp.path, "shared");
  const stamp = join(tmp.path, "swept");
  await Deno.mkdir(folder);
  await Deno.writeTextFile(join(folder, "one"), "");
  // Small: due each time, and no stamp is kept for it.
  assert.equal(sweepDue(folder, stamp, 60_000), true);
  assert.equal(sweepDue(folder, stamp, 60_000), true);
  assert.equal(lstatSyncOrNull(stamp), null);
  // Crowded, as names another user planted make it: listed once, then not within the period.
  for (let i = 0; (await Deno.stat(folder)).size <= 64 * 1024; i++) {
    await Promise.all(
      Array.from(
        { length: 500 },
        (_, j) => Deno.writeTextFile(join(folder, `capibara-sbx-${i}-${j}-planted`), ""),
      ),
    );
  }
  assert.equal(sweepDue(folder, stamp, 60_000), true);
  assert.equal(sweepDue(folder, stamp, 60_000), false);
  assert.equal(sweepDue(folder, stamp, 0), true);
  // With no stamp to keep, on every run all the same: crowding a folder never stops its sweep.
  assert.equal(sweepDue(folder, undefined, 60_000), true);
  assert.equal(sweepDue(folder, undefined, 60_000), true);
  // A folder that is gone, never.
  assert.equal(sweepDue(join(tmp.path, "missing"), stamp, 0), false);
});

// A Capibara whose /proc is not its pid namespace's (`unshare --pid` with the parent's /proc still
// mounted) or that has none looks pids up among other processes (or nobody's): a live run there
// looked gone, and its temp dir was swept while its script ran. With its own /proc, the same
// program sweeps what a gone process left: the check tells the cases apart.
Deno.test({
  name:
    "staleEntries() and sweepLeftRunDirs() take nothing for gone where /proc is another pid namespace's, or missing",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    if (Deno.uid() !== 0) {
      console.warn("skipped: needs root (unshare --pid, a mount namespace without /proc)");
      return;
    }
    await using tmp = await withTmpDir();
    const fsModule = new URL("../src/_fs.ts", import.meta.url).href;
    const program = join(tmp.path, "sweep.ts");
    // A live run (a sleeping child, its pid in this namespace) and a gone one each left a temp
    // dir named as Capibara names them; then the sweep runs.
    await Deno.writeTextFile(
      program,
      `import { pidNamespace, RUN_DIR_NAME, staleEntries, sweepLeftRunDirs } from ${
        JSON.stringify(fsModule)
      };
const dir = Deno.args[0];
const live = new Deno.Command("sleep", { args: ["30"] }).spawn();
const gone = new Deno.Command("true").spawn();
await gone.status;
const name = (pid) => \`capibara-run-\${pid}-ns\${pidNamespace()}-\${crypto.randomUUID()}\`;
const liveDir = \`\${dir}/\${name(live.pid)}\`;
const goneDir = \`\${dir}/\${name(gone.pid)}\`;
Deno.mkdirSync(liveDir, { mode: 0o700 });
Deno.mkdirSync(goneDir, { mode: 0o700 });
const stale = staleEntries(dir, RUN_DIR_NAME).map((entry) => entry === liveDir.slice(dir.length + 1) ? "live" : "gone");
sweepLeftRunDirs(\`\${dir}/stamp\`, 0);
const kept = (path) => { try { Deno.lstatSync(path); return true; } catch { return false; } };
console.log(JSON.stringify({ stale, live: kept(liveDir), gone: kept(goneDir) }));
live.kill();
await live.status;
`,
    );
    const deno = [Deno.execPath(), "run", "-A", "--no-check", "--no-config", program];
    const pidMax = Number(await Deno.readTextFile("/proc/sys/kernel/pid_max"));
    /** A pid after which the next 50 are free here (the child namespace's pids start there). */
    const freePids = async (max: number) => {
      for (let start = max - 51; start > 300; start -= 50) {
        const taken = await Promise.all(
          Array.from(
            { length: 50 },
            (_, i) => Deno.lstat(`/proc/${start + 1 + i}`).then(() => 1, () => 0),
          ),
        );
        if (taken.every((one) => one === 0)) return start;
      }
      return max - 51;
    };
    const cases = {
      "its own /proc": ["unshare", "--pid", "--fork", "--mount-proc", "--", ...deno],
      // Its pids start high, where the parent namespace has none: looked up in the parent's
      // /proc, a live one is missing there (a low one could name another process by chance).
      "the parent namespace's /proc": [
        "unshare",
        "--pid",
        "--fork",
        "--",
        "sh",
        "-c",
        'echo "$0" > /proc/sys/kernel/ns_last_pid && exec "$@"',
        String(await freePids(pidMax)),
        ...deno,
      ],
      "no /proc": [
        "unshare",
        "--mount",
        "--",
        "sh",
        "-c",
        'umount -l /proc && exec "$@"',
        "sh",
        ...deno,
      ],
    };
    for (const [label, command] of Object.entries(cases)) {
      await t.step(label, async () => {
        const dir = join(tmp.path, label.replaceAll(/\W+/g, "-"));
        await Deno.mkdir(dir);
        const out = await new Deno.Command(command[0]!, {
          args: [...command.slice(1), dir],
          // The folder sweepLeftRunDirs() looks at.
          env: { TMPDIR: dir },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        const seen = JSON.parse(text) as { stale: string[]; live: boolean; gone: boolean };
        assert.equal(seen.live, true, `${label}: a live run's temp dir was swept`);
        if (label === "its own /proc") {
          assert.deepEqual(seen, { stale: ["gone"], live: true, gone: false });
        } else assert.deepEqual(seen, { stale: [], live: true, gone: true });
      });
    }
  },
});
