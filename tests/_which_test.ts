/** The one PATH look-up (`src/_which.ts`), against real folders. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTmpDir } from "./helpers/tmp.ts";

// A PATH entry that is not absolute (`~/.local/bin` written with quotes, `node_modules/.bin`) is
// taken by `sh` and `env` from the current folder, a cloned repository's: a tool the repository
// holds at that name was found, and run, in place of the machine's.
Deno.test("which() never looks in a PATH entry that is not absolute, and reads a leading ~ as the home folder", async () => {
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "project");
  const home = join(tmp.path, "home");
  for (const dir of [join(project, "~", "bin"), join(project, "rel"), join(home, "bin")]) {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "tool"), "#!/bin/sh\n", { mode: 0o755 });
  }
  const module = new URL("../src/_which.ts", import.meta.url).href;
  const lookUp = async (path: string, env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { which } from ${JSON.stringify(module)};
console.log(JSON.stringify(await which("tool", ${JSON.stringify(path)}) ?? null));`,
      ],
      cwd: project,
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  // The project's `~/bin/tool` and `rel/tool` are never found; the home folder's is.
  assert.equal(await lookUp("~/bin:rel::/nonexistent", { HOME: home }), join(home, "bin", "tool"));
  assert.equal(await lookUp("rel:~/bin", {}), null);
  assert.equal(await lookUp("rel", { HOME: home }), null);
});
