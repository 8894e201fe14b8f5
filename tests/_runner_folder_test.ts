import assert from "node:assert/strict";
import { privateFolder, runnerFolder, runnerFolders } from "../src/_runner_folder.ts";
import { withTmpDir } from "./helpers/tmp.ts";

Deno.test("runnerFolder() is the session's runtime folder when it is the user's alone, else /tmp's", () => {
  const uid = Deno.uid();
  assert.deepEqual(runnerFolders(), [`/run/user/${uid}/capibara`, `/tmp/capibara-${uid}`]);
  let session = false;
  try {
    const info = Deno.lstatSync(`/run/user/${uid}`);
    session = info.isDirectory && info.uid === uid && ((info.mode ?? 0o777) & 0o077) === 0;
  } catch {
    // no session folder
  }
  assert.equal(runnerFolder(), runnerFolders()[session ? 0 : 1]);
});

Deno.test({
  name: "privateFolder() trusts only a 0700 folder of the user's that nobody else can swap",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using tmp = await withTmpDir();
    await Deno.chmod(tmp.path, 0o755);
    const folder = `${tmp.path}/capibara`;
    await Deno.mkdir(folder, { mode: 0o700 });
    assert.equal(privateFolder(folder), true);
    await Deno.chmod(folder, 0o750);
    assert.equal(privateFolder(folder), false, "open to its group");
    await Deno.chmod(folder, 0o700);
    // A folder above it that another user owns could swap it between the check and the connect.
    await Deno.chown(tmp.path, 65534, 65534);
    assert.equal(privateFolder(folder), false, "its parent is another user's");
    await Deno.chown(tmp.path, 0, 0);
    await Deno.chmod(tmp.path, 0o777);
    assert.equal(privateFolder(folder), false, "its parent is writable by all, not sticky");
    await Deno.chmod(tmp.path, 0o1777);
    assert.equal(privateFolder(folder), true, "sticky, as /tmp");
    await Deno.chmod(tmp.path, 0o755);
    await Deno.remove(folder);
    await Deno.symlink(tmp.path, folder);
    assert.equal(privateFolder(folder), false, "a link");
    // Only a plain absolute path: what a path's "..", "." or empty parts point to may change.
    await Deno.remove(folder);
    await Deno.mkdir(folder, { mode: 0o700 });
    assert.equal(privateFolder(folder), true);
    for (
      const path of [
        "capibara",
        `${folder}/`,
        `${folder}/.`,
        `${tmp.path}//capibara`,
        `${tmp.path}/./capibara`,
        `${folder}/../capibara`,
      ]
    ) assert.equal(privateFolder(path), false, path);
  },
});
