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
  await assert.rejects(Deno.stat(join(dir, ".ready")), Deno.errors.NotFound);
  open();
  const markers = await Promise.all(callers);
  assert.equal(spec.builds(), 1);
  assert.equal(new Set(markers.map((m) => m.build)).size, 1);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, ".ready"))), markers[0]);
  // Done: later calls read the marker, they do not build.
  assert.deepEqual(await buildOnce(spec), markers[0]);
  assert.equal(spec.builds(), 1);
  // The lock file sits beside the target; no temporary marker is left.
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(join(tmp.path, "envs")), (e) => e.name)).sort(),
    ["a", "a.lock"],
  );
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort(),
    [".ready", "content.txt"],
  );
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

  await Deno.writeTextFile(join(dir, ".ready"), "{not json");
  await buildOnce(spec);
  assert.equal(spec.builds(), 2);
  await Deno.writeTextFile(join(dir, ".ready"), '{"other": 1}');
  await buildOnce(spec);
  assert.equal(spec.builds(), 3);
});

Deno.test("buildOnce() replaces, never follows, a planted temporary marker", async () => {
  await using tmp = await withTmpDir();
  const dir = join(tmp.path, "a");
  const victim = join(tmp.path, "victim.txt");
  await Deno.writeTextFile(victim, "untouched");
  const spec = fakeSpec(dir);
  const build = spec.build;
  spec.build = async (target) => {
    const marker = await build(target);
    await Deno.symlink(victim, join(target, ".ready.tmp")); // what a hostile build could do
    return marker;
  };
  const marker = await buildOnce(spec);
  assert.equal(await Deno.readTextFile(victim), "untouched");
  assert.deepEqual(await readReady(spec), marker);
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
