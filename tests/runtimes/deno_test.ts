import assert from "node:assert/strict";
import { join } from "../../src/_path.ts";
import { existsSync } from "../../src/_fs.ts";
import { runDenoDir } from "../../src/runtimes/deno.ts";

/** Every file under `dir`, relative. */
function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const rel = prefix + entry.name;
    out.push(rel);
    if (entry.isDirectory) out.push(...walk(join(dir, entry.name), rel + "/"));
  }
  return out;
}

Deno.test("runDenoDir() gives a run's deno no analysis database to write", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-denodir-test-" }));
  try {
    const cache = join(tmp, "cache");
    await Deno.mkdir(cache);
    const own = runDenoDir(cache, join(tmp, "run"));
    const script = join(tmp, "script.ts");
    await Deno.writeTextFile(script, 'const n: number = 41;\nconsole.log("sum", n + 1);\n');
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "--no-code-cache", script],
      env: { DENO_DIR: own, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout), "sum 42\n");
    assert.equal(new TextDecoder().decode(out.stderr), "");
    const written = walk(own);
    assert.deepEqual(
      written.filter((path) => /analysis_cache_v\d+-(wal|shm)$/.test(path)),
      [],
      written.join(", "),
    );
    for (const name of ["dep_analysis_cache_v2", "node_analysis_cache_v2"]) {
      assert.ok(
        Deno.statSync(join(own, name)).isDirectory,
        `${name} is still the folder in the way`,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("runDenoDir() starts a run's code cache as a copy of the seed, only when asked", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-denodir-test-" }));
  try {
    const cache = join(tmp, "cache");
    await Deno.mkdir(cache);
    const seed = join(cache, "v8_code_cache_seed");
    await Deno.writeTextFile(seed, "seed");
    assert.equal(
      existsSync(join(runDenoDir(cache, join(tmp, "plain")), "v8_code_cache_v2")),
      false,
    );
    const own = runDenoDir(cache, join(tmp, "run"), true);
    const copy = join(own, "v8_code_cache_v2");
    assert.equal(await Deno.readTextFile(copy), "seed");
    // The run may change its copy: the seed stays as it was.
    await Deno.writeTextFile(copy, "poisoned");
    assert.equal(await Deno.readTextFile(seed), "seed");
    assert.equal((await Deno.lstat(copy)).isSymlink, false);
    // No seed: a run builds its own.
    await Deno.remove(seed);
    assert.equal(
      existsSync(join(runDenoDir(cache, join(tmp, "bare"), true), "v8_code_cache_v2")),
      false,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
