import assert from "node:assert/strict";
import { join } from "node:path";
import { execCommand } from "../../src/exec.ts";
import { buildOnce, type BuildOnceSpec, readReady } from "../../src/runtimes/_build_once.ts";
import { withTmpDir } from "../helpers/tmp.ts";

interface Marker {
  build: string;
}

/** A spec whose builder writes `content.txt`, counts its calls and waits for `gate`. */
function fakeSpec(
  dir: string,
  options: { fail?: boolean; gate?: Promise<void>; started?: () => void; seen?: string[] } = {},
): BuildOnceSpec<Marker> & { builds: () => number } {
  let builds = 0;
  return {
    dir,
    marker: ".ready",
    accept: (raw) =>
      typeof raw === "object" && raw !== null && typeof (raw as Marker).build === "string"
        ? raw as Marker
        : undefined,
    async build(target) {
      builds++;
      options.seen?.push(...(await Array.fromAsync(Deno.readDir(target), (e) => e.name)));
      await Deno.writeTextFile(join(target, "content.txt"), "built");
      options.started?.();
      await options.gate;
      if (options.fail) throw new Error("builder failed");
      return { build: crypto.randomUUID() };
    },
    builds: () => builds,
  };
}

Deno.test("buildOnce() builds once for concurrent callers and writes the marker last", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "envs", "a");
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  let started!: () => void;
  const building = new Promise<void>((resolve) => started = resolve);
  const spec = fakeSpec(dir, { gate, started });
  const callers = [0, 1, 2].map(() => buildOnce(spec));
  // While the builder runs, the directory exists without its marker.
  await building;
  assert.equal(await readReady(spec), undefined);
  await assert.rejects(Deno.stat(`${dir}.ready`), Deno.errors.NotFound);
  open();
  const markers = await Promise.all(callers);
  assert.equal(spec.builds(), 1);
  assert.equal(new Set(markers.map((m) => m.build)).size, 1);
  // Beside the target, never in it (which a build's untrusted code may write).
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}.ready`)), markers[0]);
  // Done: later calls read the marker, they do not build.
  assert.deepEqual(await buildOnce(spec), markers[0]);
  assert.equal(spec.builds(), 1);
  // The lock file and the marker sit beside the target; no temporary marker is left.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(join(tmp.path, "envs")), (e) => e.name)).sort(),
    ["a", "a.lock", "a.ready"],
  );
  assert.deepEqual((await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort(), [
    "content.txt",
  ]);
});

Deno.test("buildOnce() leaves nothing after a failure, and the next call retries", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "a");
  const failing = fakeSpec(dir, { fail: true });
  await assert.rejects(
    Promise.all([buildOnce(failing), buildOnce(failing)]),
    /builder failed/,
  );
  assert.equal(failing.builds(), 1);
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  // The failure is not remembered.
  await assert.rejects(buildOnce(failing), /builder failed/);
  assert.equal(failing.builds(), 2);
  const working = fakeSpec(dir);
  const marker = await buildOnce(working);
  assert.equal(working.builds(), 1);
  assert.deepEqual(await readReady(working), marker);
});

Deno.test("buildOnce() rebuilds a half-built leftover and a marker it does not accept", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "a");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(join(dir, "leftover.txt"), "crashed build");
  const seen: string[] = [];
  const spec = fakeSpec(dir, { seen });
  await buildOnce(spec);
  assert.equal(spec.builds(), 1);
  assert.deepEqual(seen, [], "the builder starts from an empty directory");
  await assert.rejects(Deno.stat(join(dir, "leftover.txt")), Deno.errors.NotFound);

  await Deno.writeTextFile(`${dir}.ready`, "{not json");
  await buildOnce(spec);
  assert.equal(spec.builds(), 2);
  await Deno.writeTextFile(`${dir}.ready`, '{"other": 1}');
  await buildOnce(spec);
  assert.equal(spec.builds(), 3);
});

// A source build runs a package's code with its target writable: a marker it wrote there was
// taken for finished by every lookup made while it still ran (which takes no lock), and another
// entry ran in the half-built environment, with what the forged marker named.
Deno.test("buildOnce() never takes a marker its builder wrote in the target, while or after it builds", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "a");
  const victim = join(tmp.path, "victim.txt");
  await Deno.writeTextFile(victim, "untouched");
  const spec = fakeSpec(dir);
  const build = spec.build;
  let seenWhileBuilding: unknown = "not asked";
  spec.build = async (target) => {
    // What a hostile build could do: a finished-looking marker, and a link at the temporary name.
    await Deno.writeTextFile(join(target, ".ready"), JSON.stringify({ build: "forged" }));
    await Deno.symlink(victim, join(target, ".ready.tmp"));
    seenWhileBuilding = await readReady(spec);
    return await build(target);
  };
  const marker = await buildOnce(spec);
  assert.equal(seenWhileBuilding, undefined);
  assert.notEqual(marker.build, "forged");
  assert.deepEqual(await readReady(spec), marker);
  assert.equal(await Deno.readTextFile(victim), "untouched");
});

Deno.test("buildOnce() builds once for concurrent processes", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "a");
  const log = join(tmp.path, "builds.log");
  const worker = join(tmp.path, "worker.ts");
  const helper = new URL("../../src/runtimes/_build_once.ts", import.meta.url).href;
  await Deno.writeTextFile(
    worker,
    `import { buildOnce } from ${JSON.stringify(helper)};
const [dir, log] = Deno.args;
const marker = await buildOnce({
  dir,
  marker: ".ready",
  accept: (raw) => raw,
  async build() {
    await Deno.writeTextFile(log, "build\\n", { append: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { build: crypto.randomUUID() };
  },
});
console.log(JSON.stringify(marker));
`,
  );
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const runs = await Promise.all([0, 1].map(() =>
    execCommand({
      program: Deno.execPath(),
      args: ["run", "-A", "--config", config, worker, dir, log],
      env: { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? tmp.path },
      cwd: tmp.path,
    }, { timeoutMs: 60_000 })
  ));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(log), "build\n");
  assert.equal(new Set(runs.map((r) => r.stdout.trim())).size, 1);
});
