/**
 * planRun(): (entry, context, grants, config, prepared runtime, temp dir) → policy, command,
 * allow. No subprocess runs here: plans are checked as data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isInside } from "../../src/_fs.ts";
import { groupAlone } from "../../src/_runner_folder.ts";
import { PermissionError, ValidationError } from "../../src/errors.ts";
import { checkPermissions, type PlanInput, planRun, SCRIPT_PATH } from "../../src/run/plan.ts";
import type { PreparedRuntime } from "../../src/runtimes/types.ts";
import { DenoPermissionsBackend } from "../../src/sandbox/deno.ts";
import { mergeGrants, pinnedFolders } from "../../src/sandbox/policy.ts";
import { ENTRY_FILES, type Language, type Manifest } from "../../src/schema.ts";
import { withTmpDir } from "../helpers/tmp.ts";

function manifest(language: Language, needs: Partial<Manifest["needs"]> = {}): Manifest {
  return {
    fingerprint: "fp_" + "0".repeat(32),
    prompt_sha: "p_" + "0".repeat(32),
    context_sha: "c_" + "0".repeat(32),
    prompt: "test",
    mode: "strict",
    language,
    entry: ENTRY_FILES[language],
    runtime: { name: language === "typescript" ? "deno" : language, version: "1" },
    deps: [],
    needs: { network: needs.network ?? [], env: needs.env ?? [] },
    allow: { network: [], env: [], fs: { read: [], write: [] } },
    template_version: "1.0.0",
    generator: { kind: "test" },
    created_at: "2026-01-01T00:00:00Z",
    outputs: {},
    aliases: {},
    files: { [ENTRY_FILES[language]]: "sha256:" + "a".repeat(64) },
    revision: 1,
    history: [],
  };
}

const PREPARED: Record<Language, PreparedRuntime> = {
  python: {
    interpreter: "/venv/bin/python",
    interpreterArgs: ["-I"],
    readPaths: ["/venv"],
    env: { VIRTUAL_ENV: "/venv" },
  },
  bash: {
    interpreter: "/bin/bash",
    interpreterArgs: ["--noprofile", "--norc"],
    readPaths: [],
    env: {},
  },
  typescript: {
    interpreter: "/usr/bin/deno",
    interpreterArgs: ["run", "--no-prompt", "--cached-only"],
    readPaths: ["/cache/deno/abc"],
    env: { DENO_DIR: "/cache/deno/abc", NPM_CONFIG_REGISTRY: "https://user:tok@registry/" },
  },
};

interface Fixture extends AsyncDisposable {
  root: string;
  work: string;
  entryDir: string;
  input: (
    over: Partial<PlanInput> & { language?: Language; needs?: Partial<Manifest["needs"]> },
  ) => PlanInput;
}

async function fixture(): Promise<Fixture> {
  const tmp = await withTmpDir("capibara_plan_");
  const root = await Deno.realPath(tmp.path);
  const work = join(root, "work");
  await Deno.mkdir(join(work, "data"), { recursive: true });
  await Deno.writeTextFile(join(work, "data", "in.csv"), "a,b\n");
  const entryDir = join(work, ".capibara", "scripts", "fp_" + "0".repeat(32));
  await Deno.mkdir(entryDir, { recursive: true });
  await Deno.mkdir(join(work, ".git"));
  return {
    root,
    work,
    entryDir,
    input: ({ language = "python", needs, ...over }) => ({
      entry: { dir: entryDir, manifest: manifest(language, needs) },
      context: {},
      grants: mergeGrants(),
      config: {
        memoryBytes: 256 * 1024 ** 2,
        maxProcesses: 64,
        env: { SECRET: "host-secret", TOKEN: "t0k", PATH: "/host/bin", HOME: "/root" },
        cacheDir: join(root, "cache"),
      },
      prepared: PREPARED[language],
      tmpDir: join(root, "run-tmp"),
      workdir: work,
      storeRoot: work,
      ...over,
    }),
    [Symbol.asyncDispose]: () => tmp[Symbol.asyncDispose](),
  };
}

Deno.test("planRun() refuses a need that was not granted, naming the flag", async () => {
  await using fx = await fixture();
  await assert.rejects(
    planRun(fx.input({ needs: { network: ["api.example.com"] } })),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.match(error.hint, /--allow-net api\.example\.com/);
      return true;
    },
  );
  await assert.rejects(
    planRun(fx.input({ needs: { env: ["TOKEN"] } })),
    (error: unknown) => {
      assert.ok(error instanceof PermissionError);
      assert.match(error.hint, /--allow-env TOKEN/);
      return true;
    },
  );
  // A wildcard grant covers a subdomain, not a wildcard need.
  const plan = await planRun(fx.input({
    needs: { network: ["api.example.com"] },
    grants: mergeGrants({ network: ["*.example.com"] }),
  }));
  assert.deepEqual(plan.allow.network, ["api.example.com"]);
  assert.throws(
    () =>
      checkPermissions(
        { network: ["*.example.com"], env: [] },
        {
          grants: mergeGrants({ network: ["api.example.com"] }),
          paths: { read: [], write: [] },
          workdir: fx.work,
        },
      ),
    PermissionError,
  );
});

Deno.test("planRun() gives the script the basics and the granted names only", async () => {
  await using fx = await fixture();
  const plan = await planRun(fx.input({
    needs: { env: ["TOKEN"] },
    grants: mergeGrants({ env: ["TOKEN", "SECRET_NOT_NEEDED"] }),
  }));
  const { env } = plan.command;
  assert.equal(env.TOKEN, "t0k");
  assert.equal(env.SECRET, undefined, "a host variable that was not needed leaked");
  assert.equal(env.SECRET_NOT_NEEDED, undefined);
  assert.equal(env.PATH, SCRIPT_PATH, "the host PATH leaked");
  assert.equal(env.HOME, plan.policy.tmpDir);
  assert.equal(env.TMPDIR, plan.policy.tmpDir);
  assert.equal(env.VIRTUAL_ENV, "/venv", "the runtime's own variables are set");
  assert.deepEqual(plan.allow.env, ["TOKEN"]);
  // The script may read the basics and the granted names, not the runtime's variables.
  assert.ok(plan.policy.env?.includes("TOKEN"));
  assert.ok(!plan.policy.env?.includes("VIRTUAL_ENV"));
  assert.ok(!plan.policy.env?.includes("SECRET"));
});

Deno.test("planRun() refuses context paths outside the workdir", async () => {
  await using fx = await fixture();
  await Deno.writeTextFile(join(fx.root, "outside.txt"), "secret");
  await Deno.symlink(join(fx.root, "outside.txt"), join(fx.work, "link.txt"));
  await Deno.symlink(fx.root, join(fx.work, "uplink"));
  for (
    const context of [
      { input: "../outside.txt" },
      { input: join(fx.root, "outside.txt") },
      { input: "link.txt" },
      { output: "uplink/out.json" },
      { nested: { list: ["data/in.csv", "~/.ssh/id_rsa"] } },
    ]
  ) {
    await assert.rejects(planRun(fx.input({ context })), ValidationError, JSON.stringify(context));
  }
});

Deno.test("planRun() reads inputs, and stages the outputs instead of granting them", async () => {
  await using fx = await fixture();
  const plan = await planRun(fx.input({
    context: { input: "data/in.csv", output: "out/report.json", url: "https://example.com/a.csv" },
    grants: mergeGrants({ write: ["scratch"] }),
  }));
  const out = join(fx.work, "out");
  assert.ok(plan.policy.read.includes(join(fx.work, "data", "in.csv")));
  assert.ok(!plan.policy.read.includes(fx.work), "the whole workdir must not be readable");
  assert.deepEqual(plan.outputDirs, [out]);
  assert.deepEqual(plan.outputs, [
    { target: out, kind: "dir", staging: join(plan.policy.tmpDir, "outputs", "0") },
  ]);
  assert.deepEqual(plan.declaredOutputs, [join(out, "report.json")]);
  assert.deepEqual(plan.writeDirs, [out, join(fx.work, "scratch")]);
  // Only the granted folder is writable in place: the output is not part of the write set.
  assert.deepEqual(plan.policy.write, [join(fx.work, "scratch")]);
  assert.deepEqual(plan.allow.fs, { read: ["data/in.csv"], write: ["out", "scratch"] });
  // The runtime's files are readable; the temp dir is the run's own. The entry's folder is not
  // shown: the script runs from the copy of its verified bytes that the executor writes there.
  assert.ok(plan.policy.read.includes("/venv"));
  assert.ok(!plan.policy.read.some((path) => isInside(path, fx.entryDir)));
  assert.deepEqual(plan.script, {
    source: join(fx.entryDir, "script.py"),
    sha256: "sha256:" + "a".repeat(64),
    copy: join(fx.root, "run-tmp", "entry", "script.py"),
  });
  assert.equal(plan.policy.tmpDir, join(fx.root, "run-tmp"));
  assert.equal(plan.contextFile, join(fx.root, "run-tmp", "context.json"));
  assert.deepEqual(JSON.parse(plan.contextJson), {
    input: "data/in.csv",
    output: "out/report.json",
    url: "https://example.com/a.csv",
  });
  // Planning writes nothing.
  assert.equal(await Deno.lstat(out).catch(() => null), null);
  assert.equal(await Deno.lstat(plan.policy.tmpDir).catch(() => null), null);
});

Deno.test("planRun() keeps .capibara, .git and shell start-up files read-only", async () => {
  await using fx = await fixture();
  await Deno.writeTextFile(join(fx.work, ".bashrc"), "");
  const plan = await planRun(fx.input({ grants: mergeGrants({ write: ["."] }) }));
  assert.deepEqual(plan.writeDirs, [fx.work]);
  for (const name of [".capibara", ".git", ".bashrc"]) {
    assert.ok(plan.policy.protect.includes(join(fx.work, name)), name);
  }
  assert.ok(!plan.policy.protect.includes(join(fx.work, ".zshrc")), "absent files are skipped");
});

Deno.test("planRun() keeps Capibara's own folder read-only in a grant that holds it, and refuses one inside it", async () => {
  await using fx = await fixture();
  const state = join(fx.work, "home", ".cache", "capibara");
  await Deno.mkdir(join(state, "venvs"), { recursive: true });
  const config = { ...fx.input({}).config, cacheDir: state };
  // A grant that holds it: the grant stands, the folder stays read-only.
  const plan = await planRun(fx.input({ config, grants: mergeGrants({ write: ["home"] }) }));
  assert.deepEqual(plan.writeDirs, [join(fx.work, "home")]);
  assert.ok(plan.policy.protect.includes(state), JSON.stringify(plan.policy.protect));
  // Not protected where no grant holds it (a bind there would show it).
  const plain = await planRun(fx.input({ config, grants: mergeGrants({ write: ["data"] }) }));
  assert.ok(!plain.policy.protect.includes(state));
  // Reached through a link: the real path is what the grant holds.
  await Deno.symlink(join(fx.work, "home"), join(fx.work, "home-link"));
  const linked = await planRun(fx.input({
    config: { ...config, cacheDir: join(fx.work, "home-link", ".cache", "capibara") },
    grants: mergeGrants({ write: ["home"] }),
  }));
  assert.ok(linked.policy.protect.includes(state));
  // A grant or an output inside it, an output folder holding it: refused before anything runs.
  for (
    const over of [
      { grants: mergeGrants({ write: ["home/.cache/capibara/venvs"] }) },
      { grants: mergeGrants({ write: ["home/.cache/capibara"] }) },
      { context: { output: "home/.cache/capibara/venvs/x.txt" } },
      { context: { output: "home/.cache/x.txt" } },
      { context: { out_dir: "home/" } },
    ]
  ) {
    await assert.rejects(
      planRun(fx.input({ config, ...over })),
      ValidationError,
      JSON.stringify(over),
    );
  }
  // An output beside it is planned as before.
  const beside = await planRun(fx.input({ config, context: { output: "home/out/x.txt" } }));
  assert.deepEqual(beside.writeDirs, [join(fx.work, "home", "out")]);
});

Deno.test("planRun() refuses a writable grant of the home folder, and one holding a link on the way to Capibara's own paths", async () => {
  await using fx = await fixture();
  const home = join(fx.work, "home");
  const denoDir = join(fx.work, "tools", "deno");
  const store = join(fx.work, "store", "capibara");
  for (const dir of [join(home, "docs"), denoDir, store]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  await Deno.symlink("../store", join(fx.work, "tools", "link"));
  const base = fx.input({}).config;
  const config = { ...base, cacheDir: store, env: { ...base.env, HOME: home, DENO_DIR: denoDir } };
  // The home folder, or a folder holding it: refused; a folder inside it: granted.
  for (const write of ["home", ".", "home/"]) {
    await assert.rejects(
      planRun(fx.input({ config, grants: mergeGrants({ write: [write] }) })),
      ValidationError,
      "home folder",
    );
  }
  // The temp folder (runs' state) and the checkout Capibara runs from: refused likewise.
  for (
    const [write, what] of [
      [Deno.env.get("TMPDIR") || "/tmp", "temp folder"],
      [join(new URL("../../", import.meta.url).pathname, ".."), "checkout"],
    ]
  ) {
    await assert.rejects(
      planRun(fx.input({ config, grants: mergeGrants({ write: [write!] }) })),
      ValidationError,
      what,
    );
  }
  // The user's settings and local programs: a grant inside them is refused.
  await Deno.mkdir(join(home, ".config", "app"), { recursive: true });
  await Deno.mkdir(join(home, ".local", "bin"), { recursive: true });
  await Deno.mkdir(join(home, ".ssh"), { recursive: true });
  for (const write of ["home/.config/app", "home/.local/bin", "home/.ssh"]) {
    await assert.rejects(
      planRun(fx.input({ config, grants: mergeGrants({ write: [write] }) })),
      ValidationError,
      write === "home/.ssh" ? '" is "' : "lies in",
    );
  }
  // The home /etc/passwd gives this user counts too, whatever HOME says (sudo -E, an SDK's env).
  const real = Deno.uid() === 0 ? "/root" : undefined;
  if (real && (await Deno.lstat(real).catch(() => null))) {
    await assert.rejects(
      planRun(fx.input({ config, grants: mergeGrants({ write: [real] }) })),
      ValidationError,
      "home folder",
    );
  }
  // PATH written with ~ or relative: taken in the home folder, and from the workdir; `.` makes the
  // workdir one no grant may be or hold.
  await Deno.mkdir(join(home, "bin"), { recursive: true });
  await Deno.mkdir(join(fx.work, "node_modules", ".bin"), { recursive: true });
  const pathEnv = (PATH: string) => ({ ...config, env: { ...config.env, PATH } });
  for (
    const [PATH, write] of [
      ["~/bin:/usr/bin", "home/bin"],
      ["node_modules/.bin:/usr/bin", "node_modules/.bin"],
      ["/usr/bin:.", "."],
    ]
  ) {
    await assert.rejects(
      planRun(fx.input({ config: pathEnv(PATH!), grants: mergeGrants({ write: [write!] }) })),
      ValidationError,
      PATH,
    );
  }
  const out = await planRun(fx.input({
    config: pathEnv("/usr/bin:."),
    grants: mergeGrants({ write: ["data"] }),
  }));
  assert.deepEqual(out.writeDirs, [join(fx.work, "data")]);
  const docs = await planRun(fx.input({ config, grants: mergeGrants({ write: ["home/docs"] }) }));
  assert.deepEqual(docs.writeDirs, [join(home, "docs")]);
  // Deno's cache folder is one of Capibara's own: read-only in a grant that holds it.
  const tools = await planRun(fx.input({ config, grants: mergeGrants({ write: ["tools"] }) }));
  assert.ok(tools.policy.protect.includes(denoDir), JSON.stringify(tools.policy.protect));
  // The cache folder found through a link inside a writable grant: a script could re-point it.
  await assert.rejects(
    planRun(fx.input({
      config,
      givenCacheDir: join(fx.work, "tools", "link", "capibara"),
      grants: mergeGrants({ write: ["tools"] }),
    })),
    ValidationError,
    "link on the way",
  );
  // The same link with no grant holding it: planned.
  await planRun(fx.input({
    config,
    givenCacheDir: join(fx.work, "tools", "link", "capibara"),
    grants: mergeGrants({ write: ["home/docs"] }),
  }));
});

Deno.test("pinnedFolders(): the folders between the outermost writable folder and each protected path", () => {
  assert.deepEqual(
    pinnedFolders(["/h/.cache/capibara", "/h/code/p/.git", "/w/.capibara", "/elsewhere/x"], [
      "/h",
      "/h/code",
      "/w",
    ]),
    ["/h/.cache", "/h/code", "/h/code/p"],
  );
  assert.deepEqual(pinnedFolders(["/h/.cache/capibara"], ["/h/.cache"]), []);
  assert.deepEqual(pinnedFolders(["/h/.cache/capibara"], []), []);
});

Deno.test("planRun() refuses an output at the project root, in or holding .git or .capibara", async () => {
  await using fx = await fixture();
  await Deno.mkdir(join(fx.work, "nested", ".git"), { recursive: true });
  await Deno.mkdir(join(fx.work, ".git"), { recursive: true });
  for (
    const context of [
      { output: "./" },
      { output: "." },
      { out_dir: fx.work },
      { output: ".capibara/scripts/x/script.py" },
      { output: ".git/config" },
      { output: ".git" },
      { output: ".GIT/hooks/" },
      { output: "nested/" },
      { output: "nested/report.json" },
      { dest: "sub/.capibara/config.json" },
    ]
  ) {
    await assert.rejects(planRun(fx.input({ context })), ValidationError, JSON.stringify(context));
  }
});

Deno.test("planRun() stages a file declared at the top of the workdir on its own", async () => {
  await using fx = await fixture();
  const plan = await planRun(fx.input({ context: { output: "final.mp4" } }));
  assert.deepEqual(plan.outputs, [
    {
      target: join(fx.work, "final.mp4"),
      kind: "file",
      staging: join(plan.policy.tmpDir, "outputs", "0"),
    },
  ]);
  assert.deepEqual(plan.outputDirs, [], "the workdir itself is never an output folder");
  assert.deepEqual(plan.policy.write, []);
});

Deno.test("planRun() gives Python and bash the plain argv", async () => {
  await using fx = await fixture();
  for (const language of ["python", "bash"] as const) {
    const plan = await planRun(fx.input({ language }));
    assert.equal(plan.confinement, "os");
    assert.equal(plan.command.program, PREPARED[language].interpreter);
    assert.deepEqual(plan.command.args, [
      ...PREPARED[language].interpreterArgs,
      join(plan.policy.tmpDir, "entry", ENTRY_FILES[language]),
      "--context",
      "@" + plan.contextFile,
    ]);
    assert.equal(plan.command.cwd, fx.work);
    assert.ok(!plan.command.args.some((a) => a.startsWith("--allow")));
  }
});

Deno.test("planRun() confines TypeScript with Deno flags built from the plan's policy", async () => {
  await using fx = await fixture();
  const plan = await planRun(fx.input({
    language: "typescript",
    needs: { network: ["api.example.com"], env: ["TOKEN"] },
    grants: mergeGrants({ network: ["api.example.com"], env: ["TOKEN"] }),
    context: { input: "data/in.csv", output: "out/r.json" },
  }));
  assert.equal(plan.confinement, "deno-permissions");
  const script = join(plan.policy.tmpDir, "entry", "script.ts");
  // As the executor gives it: the staged output, shown at its own path.
  const policy = {
    ...plan.policy,
    stage: plan.outputs.map((o) => ({ source: o.staging, target: o.target })),
  };
  const { spec } = await new DenoPermissionsBackend().wrap(plan.command, policy);
  const flags = spec.args.slice(0, spec.args.indexOf(script));
  const value = (name: string) =>
    flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3).split(",") ?? [];
  assert.equal(spec.args[0], "run");
  assert.deepEqual(spec.args.slice(spec.args.indexOf(script)), [
    script,
    "--context",
    "@" + plan.contextFile,
  ]);
  assert.ok(value("allow-read").includes(join(fx.work, "data", "in.csv")));
  assert.ok(value("allow-read").includes("/cache/deno/abc"));
  assert.ok(!value("allow-read").includes(fx.work));
  assert.deepEqual(value("allow-write").sort(), [join(fx.work, "out"), plan.policy.tmpDir].sort());
  assert.deepEqual(value("allow-net").sort(), ["api.example.com:443", "api.example.com:80"]);
  assert.ok(value("allow-env").includes("TOKEN"));
  assert.ok(!value("allow-env").includes("DENO_DIR"));
  assert.ok(!value("allow-env").includes("NPM_CONFIG_REGISTRY"), "registry credentials leak");
  for (const flag of flags) assert.ok(flag !== "-A" && !flag.startsWith("--allow-all"), flag);
  assert.ok(flags.includes("--deny-run"));
  // The run's own DENO_DIR, in its temp dir: not the shared cache.
  assert.equal(spec.env.DENO_DIR, join(plan.policy.tmpDir, ".deno"));
});

Deno.test("DenoPermissionsBackend.wrap() refuses a command that grants permissions itself", async () => {
  const backend = new DenoPermissionsBackend();
  const policy = {
    network: [],
    read: [],
    write: [],
    protect: [],
    workdir: "/w",
    tmpDir: "/t",
    memoryBytes: 1,
    maxProcesses: 1,
  };
  const base = { program: "deno", env: {}, cwd: "/w" };
  for (const args of [["run", "-A", "s.ts"], ["run", "--allow-all", "s.ts"], ["eval", "1"]]) {
    await assert.rejects(backend.wrap({ ...base, args }, policy), PermissionError, args.join(" "));
  }
  // The script's own arguments are not Deno's flags.
  const ok = await backend.wrap({ ...base, args: ["run", "s.ts", "--allow-all"] }, policy);
  assert.deepEqual(ok.spec.args.slice(-2), ["s.ts", "--allow-all"]);
  assert.ok(!ok.spec.args.includes("--allow-env"), "no env name is readable without policy.env");
});

Deno.test("planRun() plans again when a top-level output file or a granted file already exists", async () => {
  await using fx = await fixture();
  // A second run: the first one wrote the output at the top of the project.
  await Deno.writeTextFile(join(fx.work, "final.mp4"), "old");
  const plan = await planRun(fx.input({ context: { output: "final.mp4" } }));
  assert.equal(plan.outputs[0]?.kind, "file");
  // A file granted for writing is a write path, not a folder to look into.
  await Deno.writeTextFile(join(fx.work, "log.txt"), "old");
  const granted = await planRun(fx.input({ grants: mergeGrants({ write: ["log.txt"] }) }));
  assert.ok(granted.policy.write.includes(join(fx.work, "log.txt")));
});

Deno.test("planRun() refuses a project, input or output folder another user could change, and takes this user's own group as this user's", async () => {
  await using fx = await fixture();
  const uid = Deno.uid()!;
  const gid = Deno.gid()!;
  // Someone else's group: the group of another account, or one with members.
  const other = Deno.readTextFileSync("/etc/group").split("\n").map((l) => l.split(":"))
    .find((f) => f.length >= 4 && Number(f[2]) !== gid && f[0] !== "root")!;
  const otherGid = Number(other[2]);
  const context = { input: "data/in.csv", output: "out/result.json" };
  const refused = async (why: string, pattern = /may be changed by other users/) => {
    const error = await planRun(fx.input({ context })).then(() => undefined, (e) => e);
    assert.ok(error instanceof PermissionError, `${why}: ${error}`);
    assert.match(error.message, pattern, why);
    assert.ok(error.hint, why);
  };
  await planRun(fx.input({ context }));
  // Writable by others: the workdir, a folder above it, an input's folder, an output's folder.
  for (const folder of [fx.work, fx.root, join(fx.work, "data")]) {
    await Deno.chmod(folder, 0o777);
    await refused(`${folder} 0777`);
    await Deno.chmod(folder, 0o755);
  }
  await Deno.mkdir(join(fx.work, "out"));
  await Deno.chmod(join(fx.work, "out"), 0o777);
  await refused("the output's folder 0777");
  await Deno.chmod(join(fx.work, "out"), 0o755);
  // The store the entry is read from and entries are written into.
  for (const folder of [join(fx.work, ".capibara"), join(fx.work, ".capibara", "scripts")]) {
    await Deno.chmod(folder, 0o777);
    await refused(`${folder} 0777`);
    await Deno.chmod(folder, 0o755);
  }
  // Sticky and writable by others (as /tmp): nobody replaces what is not theirs.
  await Deno.chmod(fx.root, 0o1777);
  await planRun(fx.input({ context }));
  await Deno.chmod(fx.root, 0o755);
  // Writable by another group, then by this user's own group (a user private group).
  await Deno.chown(join(fx.work, "data"), uid, otherGid);
  await Deno.chmod(join(fx.work, "data"), 0o775);
  await refused(`data 0775, group ${other[0]}`);
  await Deno.chown(join(fx.work, "data"), uid, gid);
  await planRun(fx.input({ context }));
  // Another user's folder on the way.
  if (uid === 0) {
    await Deno.chown(join(fx.work, "data"), 65534, gid);
    await Deno.chmod(join(fx.work, "data"), 0o755);
    await refused("data owned by uid 65534", /belongs to uid 65534/);
  }
});

Deno.test("groupAlone() takes a group for one user's own only when nobody else has it, however the files name it", () => {
  const passwd = "root:x:0:0::/root:/bin/sh\nana:x:1000:1000::/home/ana:/bin/sh\n" +
    "bo:x:1001:1001::/home/bo:/bin/sh\nsvc:x:998:100::/:/usr/sbin/nologin\n";
  const own = "root:x:0:\nana:x:1000:\nbo:x:1001:\nusers:x:100:\n";
  assert.equal(groupAlone(passwd, own, 1000, 1000), true);
  assert.equal(groupAlone(passwd, "root:x:0:\nana:x:1000:ana\n", 1000, 1000), true);
  // Another member listed, spaced, or added by a second line with the same number.
  assert.equal(groupAlone(passwd, "ana:x:1000:ana,bo\n", 1000, 1000), false);
  assert.equal(groupAlone(passwd, "ana:x:1000: bo\n", 1000, 1000), false);
  assert.equal(groupAlone(passwd, own + "staff:x:1000:bo\n", 1000, 1000), false);
  // Another account's own group, or a group the files do not name.
  assert.equal(groupAlone(passwd, own, 1000, 100), false);
  assert.equal(groupAlone(passwd, "root:x:0:\n", 1000, 1000), false);
  // An account the files do not name.
  assert.equal(groupAlone(passwd, own, 4242, 1000), false);
});
