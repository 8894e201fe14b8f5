import assert from "node:assert/strict";
import { markerFile } from "../../src/runtimes/_build_once.ts";
import { basename, join, relative } from "node:path";
import { DependencyError } from "../../src/errors.ts";
import type { PreparedRuntime } from "../../src/runtimes/types.ts";
import {
  indexAccess,
  listVenvs,
  mayHoldSecret,
  pipIndexIdentity,
  pipSettings,
  PythonRuntime,
  READY_MARKER,
  urlMayCarryToken,
  venvKey,
} from "../../src/runtimes/python.ts";
import { normaliseRequirements } from "../../src/contract/requirements.ts";
import { sha256 } from "../../src/_hash.ts";
import { PYTHON } from "../helpers/python.ts";
import { buildWheel } from "../helpers/wheel.ts";
import {
  building,
  FIXTURE,
  fixture,
  manifest,
  offlineEnv,
  prepareInChild,
  PY_VERSION,
  quiet,
  runImport,
  venvDirs,
  venvOf,
  WHEELS,
} from "./_python.ts";

Deno.test("PythonRuntime.describe() reports the interpreter's major.minor version", async () => {
  const out = await new Deno.Command("python3", {
    args: ["-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
  }).output();
  const expected = new TextDecoder().decode(out.stdout).trim();
  assert.deepEqual(await new PythonRuntime().describe(), { name: "python", version: expected });
});

Deno.test("PythonRuntime.describe() throws DependencyError when Python is missing", async () => {
  for (
    const runtime of [
      new PythonRuntime({ python: "/nonexistent/python3" }),
      new PythonRuntime({ env: { PATH: "/nonexistent" } }),
    ]
  ) {
    const error = await runtime.describe().then(() => undefined, (e) => e);
    assert.ok(error instanceof DependencyError, String(error));
    assert.match(error.hint, /Install Python 3/);
  }
});

Deno.test("PythonRuntime probes an interpreter once for the runtimes of a process, and again once it fails", async () => {
  // A python3 that counts its starts, then runs the real one.
  const dir = await Deno.makeTempDir({ prefix: "capibara_probe_" });
  try {
    const real = PYTHON;
    const log = join(dir, "starts");
    const wrapper = join(dir, "python3");
    await Deno.writeTextFile(wrapper, `#!/bin/sh\necho start >> '${log}'\nexec '${real}' "$@"\n`);
    await Deno.chmod(wrapper, 0o755);
    const starts = async () =>
      (await Deno.readTextFile(log).catch(() => "")).split("\n").length - 1;
    const env = { PATH: `${dir}:/usr/bin:/bin` };

    const first = await new PythonRuntime({ env }).describe();
    assert.equal(await starts(), 1);
    // Another runtime (another SDK instance) of the same command and variables: no new start.
    assert.deepEqual(await new PythonRuntime({ env }).describe(), first);
    assert.equal(await starts(), 1);
    // Other variables are another look-up (pyenv reads its own): probed afresh.
    await new PythonRuntime({ env: { ...env, PYENV_VERSION: "system" } }).describe();
    assert.equal(await starts(), 2);

    // A probe that failed is not kept: the next runtime tries again, and finds the repaired one.
    const broken = { PATH: `${dir}:/usr/bin:/bin`, LANG: "C.broken" };
    await Deno.writeTextFile(wrapper, `#!/bin/sh\necho start >> '${log}'\nexit 3\n`);
    await assert.rejects(() => new PythonRuntime({ env: broken }).describe(), DependencyError);
    await Deno.writeTextFile(wrapper, `#!/bin/sh\necho start >> '${log}'\nexec '${real}' "$@"\n`);
    assert.deepEqual(await new PythonRuntime({ env: broken }).describe(), first);
    assert.equal(await starts(), 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PythonRuntime.prepare() reads pip's configuration again once a file pip read changed", async () => {
  await using fx = await fixture();
  const conf = join(fx.tmp.path, "pip.conf");
  const env = { ...fx.env, PIP_CONFIG_FILE: conf };
  delete (env as Record<string, string>).PIP_FIND_LINKS;
  const options = { cacheDir: fx.cacheDir, ...quiet };
  await Deno.writeTextFile(conf, `[global]\nno-index = true\nfind-links = ${WHEELS}\n`);
  const v1 = await new PythonRuntime({ env }).prepare(
    manifest([`${FIXTURE}==1.0.0`]),
    fx.scriptDir,
    options,
  );
  assert.match(await runImport(v1, fx.scriptDir), /^fixture 1\.0\.0\n/);
  // The user's pip.conf now names a folder without the wheels: the next install in this process
  // (another SDK instance, the runner) must go where it says, not where it said.
  await Deno.writeTextFile(conf, `[global]\nno-index = true\nfind-links = ${fx.tmp.path}/none\n`);
  await assert.rejects(
    () =>
      new PythonRuntime({ env }).prepare(manifest([`${FIXTURE}==2.0.0`]), fx.scriptDir, options),
    DependencyError,
  );
  await Deno.writeTextFile(conf, `[global]\nno-index = true\nfind-links = ${WHEELS}\n`);
  const v2 = await new PythonRuntime({ env }).prepare(
    manifest([`${FIXTURE}==2.0.0`]),
    fx.scriptDir,
    options,
  );
  assert.match(await runImport(v2, fx.scriptDir), /^fixture 2\.0\.0\n/);
});

Deno.test("PythonRuntime.prepare() in a later process takes pip's answer from the cache folder: never one inside the project, never one that may hold a secret", async () => {
  await using fx = await fixture();
  // Each build in a process of its own: nothing is shared in memory.
  const build = async (deps: string[], env: Record<string, string>, cacheDir = fx.cacheDir) => {
    await prepareInChild(fx, deps, { env, cacheDir });
    return await new PythonRuntime({ env }).prepare(manifest(deps), fx.scriptDir, {
      cacheDir,
      ...quiet,
    });
  };
  const kept = async (cacheDir: string) => {
    const dir = join(cacheDir, "python");
    const files = await Array.fromAsync(Deno.readDir(dir)).catch(() => []);
    return files.filter((f) => /^pip-[0-9a-f]{32}\.json$/.test(f.name)).map((f) =>
      join(dir, f.name)
    );
  };
  const conf = join(fx.tmp.path, "pip.conf");
  await Deno.writeTextFile(conf, `[global]\nno-index = true\nfind-links = ${WHEELS}\n`);
  const { PIP_FIND_LINKS: _, ...rest } = fx.env;
  // A proxy's password in the user's variables: part of what the answer is kept for, never
  // written down (the file carries the key's digest, not the key).
  const env = {
    ...rest,
    PIP_CONFIG_FILE: conf,
    HTTPS_PROXY: "http://alice:hunter2@127.0.0.1:9",
  };
  await build([`${FIXTURE}==1.0.0`], env);
  const [file, ...others] = await kept(fx.cacheDir);
  assert.ok(file && others.length === 0, "pip's answer is kept once");
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  assert.ok(!(await Deno.readTextFile(file)).includes("hunter2"), "the proxy's password is kept");
  // Proof that a later process reads it: an answer edited to name another wheelhouse (whose
  // fixture 2.0.0 says so) is the one the next build follows, with no pip query of its own.
  const other = join(fx.tmp.path, "other");
  await buildWheel(other, {
    name: FIXTURE,
    version: "2.0.0",
    module: { "capi_fixture.py": `VALUE = "other 2.0.0"\n` },
  });
  await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replaceAll(WHEELS, other));
  assert.match(
    await runImport(await build([`${FIXTURE}==2.0.0`], env), fx.scriptDir),
    /^other 2\.0\.0\n/,
  );
  // The same answer in a cache folder inside the project (set there for a CI cache) is never
  // read: a repository could have brought it, naming its own index; nor through a link the
  // repository holds there to a folder outside it.
  const inside = join(fx.tmp.path, "project", "ci-cache");
  const outside = join(fx.tmp.path, "outside");
  await Deno.mkdir(outside);
  await Deno.mkdir(inside);
  await Deno.copyFile(file, join(outside, basename(file)));
  await Deno.symlink(outside, join(inside, "python"));
  assert.match(
    await runImport(await build([`${FIXTURE}==2.0.0`], env, inside), fx.scriptDir),
    /^fixture 2\.0\.0\n/,
  );
  // An answer that may hold a credential (a remote index URL, a token in its user part or its
  // path; a proxy's `user:password@` without a scheme) is never written to the cache.
  const secretCache = join(fx.tmp.path, "cache-with-secret");
  await Deno.writeTextFile(
    conf,
    `[global]\nno-index = true\nfind-links = ${WHEELS}\nproxy = bob:pr0xyPass@127.0.0.1:9\n`,
  );
  await build([`${FIXTURE}==1.0.0`], {
    ...env,
    PIP_INDEX_URL: "https://pypi.example/s3cr3t-token/simple",
  }, secretCache);
  assert.deepEqual(await kept(secretCache), []);
});

Deno.test("urlMayCarryToken() finds a user part, a query or a token-like path part, not a public index's path", () => {
  for (
    const url of [
      "https://alice:tok@pypi.example.com/simple/",
      "https://__token__@gitlab.example.com/api/v4/projects/1/packages/pypi/simple",
      "https://dl.example.io/0a1b2c3d4e5f6789/org/repo/python/simple/",
      "https://pypi.example.com/simple/?token=abc",
    ]
  ) {
    assert.equal(urlMayCarryToken(new URL(url)), true, url);
  }
  for (
    const url of [
      "https://pypi.org/simple/",
      "https://pypi.example.com/repository/pypi-internal/simple/",
      "http://127.0.0.1:8080/simple/",
    ]
  ) {
    assert.equal(urlMayCarryToken(new URL(url)), false, url);
  }
});

Deno.test("mayHoldSecret() keeps any remote URL and any user part out of the cache folder, not local paths", () => {
  for (
    const value of [
      "https://user:token@pypi.example/simple",
      "https://pypi.example/s3cr3t-token/simple", // a token in the path, as some hosts put it
      "HTTPS://PYPI.EXAMPLE/simple",
      "bob:pr0xyPass@proxy.corp:3128", // a proxy without a scheme
      "file:///srv/wheels https://pypi.example/simple",
    ]
  ) assert.equal(mayHoldSecret(value), true, value);
  for (const value of ["/srv/wheels", "file:///srv/wheels", "true", "180", "/etc/ssl/cert.pem"]) {
    assert.equal(mayHoldSecret(value), false, value);
  }
});

Deno.test("normaliseRequirements() and venvKey() ignore order, spelling and blanks", async () => {
  assert.deepEqual(
    normaliseRequirements(["Pillow == 10.0.0", "numpy==1.26.4", "pillow==10.0.0", "A_b.C[Z,y]==1"]),
    ["a-b-c[y,z]==1", "numpy==1.26.4", "pillow==10.0.0"],
  );
  // An unpinned requirement installs whatever an index holds that day: refused, as verify does.
  for (const loose of ["requests>=1", "requests", "requests==1.*", "requests~=1.0"]) {
    assert.throws(() => normaliseRequirements([loose]), /not pinned|does not pin/, loose);
  }
  assert.equal(
    await venvKey("3.11", ["Pillow==10.0.0", "numpy==1.26.4"]),
    await venvKey("3.11", ["numpy == 1.26.4", "pillow==10.0.0"]),
  );
  assert.notEqual(
    await venvKey("3.11", ["numpy==1.26.4"]),
    await venvKey("3.12", ["numpy==1.26.4"]),
  );
  assert.notEqual(
    await venvKey("3.11", ["numpy==1.26.4"]),
    await venvKey("3.11", ["numpy==1.26.3"]),
  );
  assert.match(await venvKey("3.11", []), /^[0-9a-f]{16}$/);
  // The key's input, unchanged (environments built before stay found): the version, then the
  // normalised requirements, a line each; without requirements, the version alone.
  assert.equal(await venvKey("3.11", []), (await sha256("3.11")).slice(0, 16));
  assert.equal(
    await venvKey("3.12", ["NumPy == 1.26.4"]),
    (await sha256("3.12\nnumpy==1.26.4")).slice(0, 16),
  );
});

Deno.test("normaliseRequirements() refuses pip options, paths and URLs", () => {
  for (
    const bad of [
      "--index-url=http://evil.example/simple",
      "-r /etc/passwd",
      "./local/pkg",
      "/abs/pkg",
      "pkg @ https://evil.example/pkg.whl",
      "pkg==1\n--extra-index-url http://evil.example",
      "",
    ]
  ) {
    assert.throws(() => normaliseRequirements([bad]), DependencyError, JSON.stringify(bad));
  }
});

Deno.test("pipSettings() reads pip's configuration: environment over install over global", () => {
  assert.deepEqual(pipSettings({}), {
    indexUrl: "https://pypi.org/simple",
    extraIndexUrls: [],
    findLinks: [],
    noIndex: false,
    trustedHosts: [],
    constraints: [],
    noCacheDir: false,
  });
  const items = {
    "global.index-url": "https://global.example/simple",
    "install.index-url": "https://install.example/simple",
    "global.extra-index-url": "file:///opt/pypi/simple  http://127.0.0.1:8765/simple",
    "global.find-links": "/opt/wheels",
    ":env:.find-links": "/srv/wheels https://wheels.example/links",
    "global.cert": "/etc/ca.pem",
    "global.constraint": "/etc/xdg/pip/constraints.txt",
    ":env:.default-timeout": "180",
    ":env:.no-cache-dir": "1",
  };
  const settings = pipSettings(items);
  assert.equal(settings.indexUrl, "https://install.example/simple");
  assert.deepEqual(settings.extraIndexUrls, [
    "file:///opt/pypi/simple",
    "http://127.0.0.1:8765/simple",
  ]);
  assert.deepEqual(settings.findLinks, ["/srv/wheels", "https://wheels.example/links"]);
  assert.equal(settings.cert, "/etc/ca.pem");
  assert.deepEqual(settings.constraints, ["/etc/xdg/pip/constraints.txt"]);
  assert.equal(settings.timeout, "180");
  assert.equal(settings.noCacheDir, true);
  // CAPIBARA_INDEX_URL replaces every index and find-links location.
  const capibara = pipSettings(items, "https://devpi.corp.example:3141/root/pypi/+simple/");
  assert.equal(capibara.indexUrl, "https://devpi.corp.example:3141/root/pypi/+simple/");
  assert.deepEqual([capibara.extraIndexUrls, capibara.findLinks], [[], []]);
  // --no-index drops every index, keeps the find-links.
  const offline = pipSettings({ ":env:.no-index": "yes", ":env:.find-links": "/w" });
  assert.deepEqual([offline.noIndex, offline.indexUrl, offline.findLinks], [true, undefined, [
    "/w",
  ]]);
  assert.equal(pipSettings({ ":env:.no-index": "0" }).noIndex, false);
  // Relative paths are the run's folder's, as pip run there takes them (a resident runner serving
  // the run works in another folder).
  const relative = pipSettings(
    {
      "global.index-url": "mirror/simple",
      "global.find-links": "wheels https://wheels.example/links",
      "global.constraint": "c.txt",
      "global.cert": "ca.pem",
    },
    undefined,
    "/srv/project",
  );
  assert.deepEqual(
    [relative.indexUrl, relative.findLinks, relative.constraints, relative.cert],
    [
      "/srv/project/mirror/simple",
      ["/srv/project/wheels", "https://wheels.example/links"],
      ["/srv/project/c.txt"],
      "/srv/project/ca.pem",
    ],
  );
});

Deno.test("indexAccess() names exactly the index hosts and the local paths pip reads", () => {
  assert.deepEqual(indexAccess(pipSettings({})), {
    hosts: ["pypi.org:443", "files.pythonhosted.org:443"],
    paths: [],
  });
  const access = indexAccess(pipSettings({
    "global.index-url": "http://127.0.0.1:8765/simple/",
    "global.extra-index-url": "file:///opt/pypi/simple https://[::1]:8443/simple " +
      "https://user:secret@artifactory.corp.example/api/pypi/simple",
    "global.find-links": "/opt/wheels http://wheels.example/",
    "global.cert": "/etc/ca.pem",
  }));
  assert.deepEqual(access.hosts, [
    "127.0.0.1:8765",
    "[::1]:8443",
    "artifactory.corp.example:443",
    "wheels.example:80",
  ]);
  // A local mirror's pages link to files beside its `simple` folder.
  assert.deepEqual(access.paths, ["/opt/pypi", "/opt/wheels", "/etc/ca.pem"]);
  assert.deepEqual(indexAccess(pipSettings({ ":env:.no-index": "1" })), { hosts: [], paths: [] });
});

// One environment built for three tests (steps): the install, its reuse, and another set beside it.
Deno.test("PythonRuntime.prepare() builds, reuses and separates environments", async (t) => {
  await using fx = await fixture();
  let built: PreparedRuntime | undefined;

  await t.step(
    "PythonRuntime.prepare() installs requirements importable by the script",
    async () => {
      const runtime = new PythonRuntime({ env: fx.env });
      const progress: string[] = [];
      const warnings: string[] = [];
      const prepared = await runtime.prepare(manifest([`${FIXTURE}==1.0.0`]), fx.scriptDir, {
        cacheDir: fx.cacheDir,
        progress: (m) => progress.push(m),
        warn: (m) => warnings.push(m),
      });
      // No sandbox given: the install says loudly that it runs unconfined.
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /WITHOUT a sandbox/);
      const venv = venvOf(prepared);
      const key = await venvKey(PY_VERSION, [`${FIXTURE}==1.0.0`], {
        index: await pipIndexIdentity(fx.env),
      });
      assert.equal(venv, join(fx.cacheDir, "venvs", `py${PY_VERSION}-${key}`));
      assert.equal(prepared.interpreter, join(venv, "bin", "python"));
      assert.deepEqual(prepared.interpreterArgs, []);
      assert.equal(prepared.env.PYTHONNOUSERSITE, "1");
      assert.equal(prepared.env.PYTHONDONTWRITEBYTECODE, "1");
      assert.equal(prepared.env.PYTHONUNBUFFERED, "1");
      assert.equal(prepared.readPaths[0], venv);
      assert.equal(prepared.readPaths.length, 2);
      assert.deepEqual(progress, ["Installing 1 requirement into a new environment…"]);
      // Never under the script dir nor any .capibara folder.
      assert.ok(relative(fx.scriptDir, venv).startsWith(".."));
      assert.ok(!venv.includes(".capibara"));

      const out = await runImport(prepared, fx.scriptDir);
      assert.deepEqual(out.trim().split("\n"), ["fixture 1.0.0", venv]);
      built = prepared;
    },
  );

  await t.step("PythonRuntime.prepare() reuses a built environment", async () => {
    // The environment the step above built (the same set, the same cache).
    const first = built ?? assert.fail("the install step built nothing");
    const markerPath = markerFile(venvOf(first), READY_MARKER);
    const before = await Deno.stat(markerPath);
    const markerBefore = await Deno.readTextFile(markerPath);

    // A fresh runtime that cannot run any Python: a hit must need no subprocess at all. (The
    // same pip configuration: one that names another index is another environment.)
    const progress: string[] = [];
    const second = await new PythonRuntime({ env: { ...fx.env, PATH: "/nonexistent" } }).prepare(
      manifest(["Capibara_Fixture == 1.0.0"]), // same set, other spelling
      join(fx.tmp.path, "other-script"),
      { cacheDir: fx.cacheDir, ...quiet, progress: (m) => progress.push(m) },
    );
    assert.deepEqual(second, first);
    assert.deepEqual(progress, []);
    const after = await Deno.stat(markerPath);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
    assert.equal(await Deno.readTextFile(markerPath), markerBefore);
    assert.equal((await venvDirs(fx.cacheDir)).length, 1);
  });

  await t.step("PythonRuntime.prepare() gives a different set its own environment", async () => {
    const runtime = new PythonRuntime({ env: fx.env });
    const options = { cacheDir: fx.cacheDir, ...quiet };
    const v1 = await runtime.prepare(manifest([`${FIXTURE}==1.0.0`]), fx.scriptDir, options);
    const v2 = await runtime.prepare(manifest([`${FIXTURE}==2.0.0`]), fx.scriptDir, options);
    const none = await runtime.prepare(manifest([]), fx.scriptDir, options);
    assert.equal(new Set([venvOf(v1), venvOf(v2), venvOf(none)]).size, 3);
    assert.match(await runImport(v1, fx.scriptDir), /^fixture 1\.0\.0\n/);
    assert.match(await runImport(v2, fx.scriptDir), /^fixture 2\.0\.0\n/);

    const listed = await listVenvs(fx.cacheDir);
    assert.equal(listed.length, 3);
    assert.ok(listed.every((v) => v.ready && v.pythonVersion === PY_VERSION));
    assert.deepEqual(listed.map((v) => v.requirements).sort(), [
      [],
      [`${FIXTURE}==1.0.0`],
      [`${FIXTURE}==2.0.0`],
    ]);
  });
});

Deno.test("PythonRuntime.prepare() throws DependencyError quoting pip and leaves no venv", async () => {
  await using fx = await fixture();
  const runtime = new PythonRuntime({ env: fx.env });
  const error = await runtime
    .prepare(manifest(["definitely-not-a-package==1.0.0"]), fx.scriptDir, {
      cacheDir: fx.cacheDir,
      ...quiet,
    })
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof DependencyError, String(error));
  assert.match(error.message, /^Cannot install requirements: /);
  assert.match(error.message, /definitely-not-a-package==1\.0\.0/);
  assert.match(error.message, /No matching distribution found/);
  assert.match(error.hint, /PIP_INDEX_URL/);
  assert.match(error.hint, /PIP_FIND_LINKS/);
  assert.match(String(error.details?.stderr), /ERROR:/);
  assert.deepEqual(await venvDirs(fx.cacheDir), []);
  assert.deepEqual(await listVenvs(fx.cacheDir), []);
});

Deno.test("PythonRuntime.prepare() rebuilds a half-built environment", async () => {
  await using fx = await fixture();
  const deps = [`${FIXTURE}==1.0.0`];
  const venv = join(
    fx.cacheDir,
    "venvs",
    `py${PY_VERSION}-${await venvKey(PY_VERSION, deps, {
      index: await pipIndexIdentity(fx.env),
    })}`,
  );
  await Deno.mkdir(join(venv, "bin"), { recursive: true });
  await Deno.writeTextFile(join(venv, "leftover.txt"), "crashed build");
  assert.deepEqual((await listVenvs(fx.cacheDir)).map((v) => v.ready), [false]);

  const progress: string[] = [];
  const prepared = await new PythonRuntime({ env: fx.env }).prepare(manifest(deps), fx.scriptDir, {
    cacheDir: fx.cacheDir,
    ...quiet,
    progress: (m) => progress.push(m),
  });
  assert.equal(venvOf(prepared), venv);
  assert.equal(building(progress).length, 1);
  await assert.rejects(Deno.stat(join(venv, "leftover.txt")), Deno.errors.NotFound);
  assert.match(await runImport(prepared, fx.scriptDir), /^fixture 1\.0\.0\n/);

  // A corrupt marker is not trusted either (an empty set: a cheap rebuild).
  const options = { cacheDir: fx.cacheDir, ...quiet, progress: (m: string) => progress.push(m) };
  const empty = await new PythonRuntime({ env: fx.env }).prepare(
    manifest([]),
    fx.scriptDir,
    options,
  );
  await Deno.writeTextFile(markerFile(venvOf(empty), READY_MARKER), "{not json");
  progress.length = 0;
  await new PythonRuntime({ env: fx.env }).prepare(manifest([]), fx.scriptDir, options);
  assert.deepEqual(building(progress), ["Creating a new Python environment…"]);
  assert.deepEqual((await listVenvs(fx.cacheDir)).map((v) => v.ready), [true, true]);
});

Deno.test("PythonRuntime.prepare() builds a set once for concurrent callers", async () => {
  await using fx = await fixture();
  const deps = [`${FIXTURE}==2.0.0`];
  const progress: string[] = [];
  const results = await Promise.all(
    [0, 1, 2].map(() =>
      new PythonRuntime({ env: fx.env }).prepare(manifest(deps), fx.scriptDir, {
        cacheDir: fx.cacheDir,
        ...quiet,
        progress: (m) => progress.push(m),
      })
    ),
  );
  assert.equal(building(progress).length, 1, progress.join("\n"));
  assert.equal(new Set(results.map(venvOf)).size, 1);
  assert.deepEqual(await venvDirs(fx.cacheDir), [
    `py${PY_VERSION}-${await venvKey(PY_VERSION, deps, {
      index: await pipIndexIdentity(fx.env),
    })}`,
  ]);
});

Deno.test("PythonRuntime.prepare() builds a set once for concurrent processes", async () => {
  await using fx = await fixture();
  const outputs = await Promise.all(
    [0, 1].map(() => prepareInChild(fx, [`${FIXTURE}==1.0.0`])),
  );
  assert.equal(outputs.flatMap((o) => building(o.progress)).length, 1);
  assert.equal(new Set(outputs.map((o) => o.venv)).size, 1);
  assert.equal(new Set(outputs.map((o) => o.build)).size, 1);
});

Deno.test("PythonRuntime.prepare() refuses a cache directory inside .capibara", async () => {
  await using fx = await fixture();
  const runtime = new PythonRuntime({ env: fx.env });
  for (const cacheDir of [join(fx.tmp.path, "project", ".capibara", "cache"), fx.scriptDir]) {
    await assert.rejects(
      runtime.prepare(manifest([]), fx.scriptDir, { cacheDir, ...quiet }),
      DependencyError,
    );
  }
  assert.deepEqual(await venvDirs(join(fx.tmp.path, "project", ".capibara", "cache")), []);
});

Deno.test("PythonRuntime.prepare() never gives one index's environment to a project whose pip names another (the same pins from two indexes)", async () => {
  await using fx = await fixture();
  // Two wheelhouses with the same name and version, different code: a public index holding an
  // attacker's upload under a private package's name, and the private index.
  const publicIndex = join(fx.tmp.path, "public");
  const privateIndex = join(fx.tmp.path, "private");
  for (const [dir, who] of [[publicIndex, "public"], [privateIndex, "private"]] as const) {
    await buildWheel(dir, {
      name: FIXTURE,
      version: "3.0.0",
      module: { "capi_fixture.py": `VALUE = "${who} build"\n` },
    });
  }
  const deps = [`${FIXTURE}==3.0.0`];
  const built = async (env: Record<string, string>) => {
    const prepared = await new PythonRuntime({ env }).prepare(manifest(deps), fx.scriptDir, {
      cacheDir: fx.cacheDir,
      ...quiet,
    });
    return (await runImport(prepared, fx.scriptDir)).split("\n")[0];
  };
  assert.equal(await built(offlineEnv(publicIndex)), "public build");
  // pip's find-links, then Capibara's own index setting: each is another environment.
  assert.equal(await built(offlineEnv(privateIndex)), "private build");
  // A file: index (PEP 503's layout, a folder per project) with the private build.
  const simple = join(fx.tmp.path, "simple");
  const wheel = await buildWheel(join(simple, FIXTURE), {
    name: FIXTURE,
    version: "3.0.0",
    module: { "capi_fixture.py": `VALUE = "index build"\n` },
  });
  const name = wheel.slice(wheel.lastIndexOf("/") + 1);
  await Deno.writeTextFile(
    join(simple, FIXTURE, "index.html"),
    `<!DOCTYPE html><html><body><a href="${name}">${name}</a></body></html>\n`,
  );
  assert.equal(
    await built({ ...offlineEnv(publicIndex), CAPIBARA_INDEX_URL: `file://${simple}` }),
    "index build",
  );
  // The same configuration again finds its own environment.
  assert.equal(await built(offlineEnv(publicIndex)), "public build");
  assert.equal((await venvDirs(fx.cacheDir)).length, 3);
  // pip reads its variables in any case, `_` for `-`: PIP_find_links is find-links.
  const { PIP_FIND_LINKS: _, ...spelled } = offlineEnv(publicIndex);
  assert.equal(await built({ ...spelled, PIP_find_links: privateIndex }), "private build");
  // The site configuration of the interpreter that builds environments (an active venv's).
  const active = join(fx.tmp.path, "active");
  const made = await new Deno.Command("python3", {
    args: ["-m", "venv", "--without-pip", "--system-site-packages", active],
  }).output();
  assert.ok(made.success, new TextDecoder().decode(made.stderr));
  const site = (links: string) =>
    Deno.writeTextFile(join(active, "pip.conf"), `[global]\nfind-links = ${links}\n`);
  const { PIP_FIND_LINKS: __, PIP_CONFIG_FILE: ___, ...unconfigured } = offlineEnv(publicIndex);
  const activeEnv = { ...unconfigured, PATH: `${join(active, "bin")}:${unconfigured.PATH}` };
  await site(publicIndex);
  assert.equal(await built(activeEnv), "public build");
  await site(privateIndex);
  assert.equal(await built(activeEnv), "private build");
  // The same interpreter reached through a shim on PATH (pyenv's: a script that execs it), whose
  // site file only running Python finds: the environment built while it named the public index
  // is not the one after it names the private index.
  const shims = join(fx.tmp.path, "shims");
  await Deno.mkdir(shims);
  await Deno.writeTextFile(
    join(shims, "python3"),
    `#!/bin/sh\nexec ${join(active, "bin", "python3")} "$@"\n`,
    { mode: 0o755 },
  );
  const shimEnv = { ...unconfigured, PATH: `${shims}:${unconfigured.PATH}` };
  await site(publicIndex);
  assert.equal(await built(shimEnv), "public build");
  await site(privateIndex);
  assert.equal(await built(shimEnv), "private build");
  // Unchanged, the file leaves the environment to later runs (no build: no wheel left to find).
  await Deno.remove(privateIndex, { recursive: true });
  assert.equal(await built(shimEnv), "private build");
});
