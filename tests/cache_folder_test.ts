/**
 * The cache folder is the user's alone (src/_cache_folder.ts): what it holds decides what runs
 * start and what this machine trusts, so a folder another user may write is refused before a run
 * reads anything in it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cacheFolderIsOwn, ownCacheFolder } from "../src/_cache_folder.ts";
import { Capibara } from "../src/capibara.ts";
import { PermissionError } from "../src/errors.ts";
import { runCli } from "./helpers/cli.ts";
import { withTmpDir } from "./helpers/tmp.ts";

const posix = Deno.build.os !== "windows";
const root = Deno.uid() === 0;

Deno.test({
  name: "ownCacheFolder() makes a missing folder 0700 and closes one of the user's others read",
  ignore: !posix,
  async fn() {
    await using tmp = await withTmpDir();
    const base = await Deno.realPath(tmp.path);
    const fresh = join(base, "a", "cache");
    assert.equal(ownCacheFolder(fresh), fresh);
    assert.equal((await Deno.stat(fresh)).mode! & 0o777, 0o700);
    assert.ok(cacheFolderIsOwn(fresh));

    const readable = join(base, "readable");
    await Deno.mkdir(readable);
    await Deno.chmod(readable, 0o755);
    assert.equal(cacheFolderIsOwn(readable), false);
    assert.equal(ownCacheFolder(readable), readable);
    assert.equal((await Deno.stat(readable)).mode! & 0o777, 0o700);
  },
});

Deno.test({
  name: "ownCacheFolder() refuses a folder others may write, or one in a folder others may change",
  ignore: !posix,
  async fn() {
    await using tmp = await withTmpDir();
    const base = await Deno.realPath(tmp.path);
    const open = join(base, "open");
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    const error = (() => {
      try {
        ownCacheFolder(open);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof PermissionError, String(error));
    assert.match(error.message, /other users may write in it \(mode 777\)/);
    // Left as it was: what another user may have put there is not made the user's.
    assert.equal((await Deno.stat(open)).mode! & 0o777, 0o777);

    const shared = join(base, "shared");
    await Deno.mkdir(join(shared, "cache"), { recursive: true });
    await Deno.chmod(shared, 0o777);
    assert.throws(() => ownCacheFolder(join(shared, "cache")), /may be changed by other users/);
    assert.equal(cacheFolderIsOwn(join(shared, "cache")), false);
  },
});

Deno.test({
  name: "ownCacheFolder() refuses another user's folder, with what another user planted in it",
  ignore: !posix || !root,
  async fn() {
    await using tmp = await withTmpDir();
    const base = await Deno.realPath(tmp.path);
    const theirs = join(base, "theirs");
    await Deno.mkdir(join(theirs, "sandbox"), { recursive: true });
    await Deno.chmod(theirs, 0o700);
    // As another user would leave it: a trust record and a sandbox probe naming their program.
    await Deno.writeTextFile(join(theirs, "trust.json"), "{}");
    await Deno.writeTextFile(join(theirs, "sandbox", "bwrap-probe.json"), "{}");
    await new Deno.Command("chown", { args: ["-R", "65534:65534", theirs] }).output();
    assert.throws(() => ownCacheFolder(theirs), /belongs to uid 65534, not to you/);
    assert.equal(cacheFolderIsOwn(theirs), false);
  },
});

Deno.test({
  name: "capibara run refuses a cache folder others may write (exit 7), before it reads one entry",
  ignore: !posix,
  async fn() {
    await using tmp = await withTmpDir();
    const cache = join(tmp.path, "cache");
    await Deno.mkdir(cache);
    await Deno.chmod(cache, 0o777);
    const project = join(tmp.path, "project");
    await Deno.mkdir(join(project, ".capibara"), { recursive: true });
    const result = await runCli(["run", "anything", "--json"], {
      cwd: project,
      env: { CAPIBARA_CACHE_DIR: cache, CAPIBARA_RUNNER: "0" },
    });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stdout + result.stderr, /Cannot use the cache folder/);
    assert.match(result.stdout + result.stderr, /other users may write in it/);
    assert.doesNotMatch(result.stderr, /^\s+at /m, "a stack trace");
  },
});

Deno.test({
  name:
    "ownCacheFolder() refuses a path through another user's link, even to the user's own folder",
  ignore: !posix || !root,
  async fn() {
    await using tmp = await withTmpDir();
    const base = await Deno.realPath(tmp.path);
    // A shared sticky folder (as /tmp), the user's private cache, and another user's link to it
    // that could be pointed elsewhere between a check and a use.
    const shared = join(base, "shared");
    await Deno.mkdir(shared);
    await Deno.chmod(shared, 0o1777);
    const mine = join(base, "mine");
    await Deno.mkdir(mine, { mode: 0o700 });
    const link = join(shared, "capibara-cache");
    await Deno.symlink(mine, link);
    await new Deno.Command("chown", { args: ["-h", "65534:65534", link] }).output();
    assert.throws(() => ownCacheFolder(link), /capibara-cache belongs to uid 65534/);
    assert.equal(cacheFolderIsOwn(link), false);
    assert.ok(cacheFolderIsOwn(mine));
    // Nothing is made through it either: the missing folders below the link stay unmade.
    assert.throws(() => ownCacheFolder(join(link, "sub", "deeper")), /belongs to uid 65534/);
    assert.equal(await Deno.lstat(join(mine, "sub")).catch(() => null), null);
  },
});

Deno.test({
  name: "a run uses the cache folder by the real path it checked, not by the link it was given",
  ignore: !posix,
  async fn() {
    await using tmp = await withTmpDir();
    const base = await Deno.realPath(tmp.path);
    const real = join(base, "real-cache");
    await Deno.mkdir(real, { mode: 0o700 });
    const link = join(base, "cache-link");
    await Deno.symlink(real, link);
    const project = join(base, "project");
    await Deno.mkdir(join(project, ".capibara"), { recursive: true });
    const cb = new Capibara({ root: project, cwd: project, cacheDir: link, warn: () => {} });
    assert.equal((await cb.config()).cacheDir, real);
  },
});
