/**
 * The Landlock step (src/sandbox/landlock.py): how a program is started under it, and that a
 * Python script run through it behaves as `python script.py` does while the mount tables are
 * closed. Runs the real bootstrap with the host's Python, outside bubblewrap (the escape suite runs
 * it inside).
 */
import assert from "node:assert/strict";
import {
  bareCommand,
  landlockAbi,
  landlockCommand,
  SYSTEM_PYTHON,
} from "../../src/sandbox/landlock.ts";
import { execCommand } from "../../src/exec.ts";
import { join } from "node:path";

const abi = Deno.build.os === "linux" ? await landlockAbi() : undefined;
if (!abi) console.warn("SKIPPED: sandbox/landlock_test's runs need Landlock (Linux 5.13+)");

Deno.test("landlockCommand(): a Python script runs in its own interpreter, others through Python", () => {
  const script = landlockCommand("/venv/bin/python", ["/entry/script.py", "--context", "@c"])!;
  assert.equal(script[0], "/venv/bin/python");
  assert.deepEqual(script.slice(1, 3), ["-I", "-S"]);
  assert.deepEqual(script.slice(5), ["script", "/entry/script.py", "--context", "@c"]);

  // Interpreter options first (pip, -m): the same interpreter restricts itself, then execs.
  const pip = landlockCommand("python3.11", ["-m", "pip", "install", "x"])!;
  assert.deepEqual(pip.slice(5), ["exec", "python3.11", "-m", "pip", "install", "x"]);

  const bash = landlockCommand("/usr/bin/bash", ["--noprofile", "script.sh"]);
  if (bash) {
    assert.equal(bash[0], SYSTEM_PYTHON);
    assert.deepEqual(bash.slice(5), ["exec", "/usr/bin/bash", "--noprofile", "script.sh"]);
  }
  // Not mistaken for a Python: a name that only starts like one.
  const other = landlockCommand("/usr/bin/python-config", ["x.py"]);
  assert.notEqual(other?.[0], "/usr/bin/python-config");
});

/** The host's Python and a scratch folder. */
async function setup() {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara-landlock-" }));
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const PROBE = `import os, sys, json
def readable(path):
    try:
        open(path).read(1)
        return True
    except OSError:
        return False
import subprocess
child = subprocess.run(["cat", "/proc/self/mountinfo"], capture_output=True)
print(json.dumps({
    "name": __name__, "file": __file__, "argv": sys.argv, "path0": sys.path[0],
    "isolated": sys.flags.isolated, "no_site": sys.flags.no_site,
    "dont_write_bytecode": sys.dont_write_bytecode,
    "path": sys.path,
    "mountinfo": readable("/proc/self/mountinfo"), "mounts": readable("/proc/1/mounts"),
    "mtab": readable("/etc/mtab"), "status": readable("/proc/self/status"),
    "cpuinfo": readable("/proc/cpuinfo"), "own_file": readable(__file__),
    "child_mountinfo": child.returncode == 0,
}))
sys.exit(int(sys.argv[1]))
`;

Deno.test({
  name: "landlock.py script: runs as python script.py would, with the mount tables closed",
  ignore: !abi,
  async fn() {
    await using scratch = await setup();
    const script = `${scratch.dir}/probe.py`;
    await Deno.writeTextFile(script, PROBE);
    const command = landlockCommand("python3", [script, "3"])!;
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", PYTHONDONTWRITEBYTECODE: "1" };
    const run = await execCommand({ program: command[0]!, args: command.slice(1), env, cwd: "/" }, {
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 3, run.stderr);
    const seen = JSON.parse(run.stdout);
    assert.equal(seen.name, "__main__");
    assert.equal(seen.file, script);
    assert.deepEqual(seen.argv, [script, "3"]);
    assert.equal(seen.path0, scratch.dir);
    assert.equal(seen.isolated, 0, "child interpreters would inherit -I");
    assert.equal(seen.no_site, 0, "child interpreters would inherit -S");
    assert.equal(seen.dont_write_bytecode, true);
    for (const closed of ["mountinfo", "mounts", "mtab", "child_mountinfo"]) {
      assert.equal(seen[closed], false, `${closed} was readable`);
    }
    for (const open of ["status", "cpuinfo", "own_file"]) {
      assert.equal(seen[open], true, `${open} was not readable`);
    }

    // The probe can tell: run plainly, it reads the mount tables. And the script's sys.path is a
    // plain run's (site-packages or dist-packages included, the script's folder first).
    const plain = await execCommand({ program: command[0]!, args: [script, "0"], env, cwd: "/" }, {
      timeoutMs: 30_000,
    });
    const plainSeen = JSON.parse(plain.stdout);
    assert.equal(plainSeen.mountinfo, true);
    assert.deepEqual(seen.path, plainSeen.path);
  },
});

Deno.test({
  name: "landlock.py exec: the program it becomes cannot read a mount table; failures are exit 127",
  ignore: !abi,
  async fn() {
    const command = landlockCommand("python3", [
      "-c",
      "print(open('/proc/self/mountinfo').read())",
    ])!;
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    const run = await execCommand({ program: command[0]!, args: command.slice(1), env, cwd: "/" }, {
      timeoutMs: 30_000,
    });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /PermissionError/);

    const missing = landlockCommand("python3", ["-c", "pass"])!;
    missing[missing.indexOf("exec") + 1] = "/nonexistent/program";
    const failed = await execCommand({
      program: missing[0]!,
      args: missing.slice(1),
      env,
      cwd: "/",
    }, {
      timeoutMs: 30_000,
    });
    assert.equal(failed.code, 127);
    assert.match(failed.stderr, /capibara: cannot run \/nonexistent\/program/);
  },
});

Deno.test({
  name:
    "landlock.py: symbolic links are made, moved or linked only below the folders given for them, with Deno's reads too",
  ignore: !abi,
  async fn() {
    const probe = `import os, sys
own, shared, moved = sys.argv[1:4]
j = os.path.join
for name, make in (
    ("own", lambda: os.symlink("/etc/passwd", j(own, "l"))),
    ("own_rename", lambda: os.rename(j(own, "l"), j(own, "m"))),
    ("own_move_dir", lambda: os.rename(j(own, "deep", "inner"), j(own, "inner"))),
    ("shared", lambda: os.symlink("/etc/passwd", j(shared, "l"))),
    ("shared_relative", lambda: os.symlink("file", "l2", dir_fd=os.open(shared, os.O_RDONLY))),
    ("shared_rename", lambda: os.rename(j(shared, "old-link"), j(shared, "n"))),
    ("shared_move_link", lambda: os.rename(j(shared, "old-link"), j(shared, "sub", "n"))),
    ("shared_link_link", lambda: os.link(j(shared, "old-link"), j(shared, "sub", "h"),
                                         follow_symlinks=False)),
    ("shared_hardlink", lambda: os.link(j(shared, "file"), j(shared, "h"))),
    ("shared_file", lambda: open(j(shared, "new"), "w").close()),
    ("shared_move_file", lambda: os.rename(j(shared, "new"), j(shared, "sub", "new"))),
    ("shared_move_dir", lambda: os.rename(j(shared, "deep", "inner"), j(shared, "inner"))),
    ("shared_link_file", lambda: os.link(j(shared, "file"), j(shared, "sub", "h"))),
    ("moved", lambda: os.symlink("/etc/passwd", j(moved, "l"))),
):
    try:
        make(); print(name, 0)
    except OSError as e:
        print(name, e.errno)
`;
    // The step before a Python script (reads restricted too), and before a program that scopes its
    // own reads (bare: Deno, whose scoped permissions refuse Deno.symlink but not Deno.rename or
    // Deno.link of a link already in a folder it writes in place).
    for (const mode of ["script", "bare"] as const) {
      await using scratch = await setup();
      const [own, shared] = [join(scratch.dir, "own"), join(scratch.dir, "shared")];
      const [moved, decoy] = [join(scratch.dir, "moved"), join(scratch.dir, "decoy")];
      for (const dir of [own, shared, join(shared, "sub"), moved, decoy]) await Deno.mkdir(dir);
      await Deno.writeTextFile(join(shared, "file"), "x");
      await Deno.symlink("file", join(shared, "old-link"));
      // A folder holding a link (a repository's `deep/inner/up -> ../..`): moved one folder up,
      // the link would lead one folder further out.
      for (const root of [own, shared]) {
        await Deno.mkdir(join(root, "deep", "inner"), { recursive: true });
        await Deno.symlink("../..", join(root, "deep", "inner", "up"));
      }
      // A file among the folders (a staged output that is one file) gets no rule and stops
      // nothing. A folder given with its device and inode gets none when its path leads elsewhere
      // (its place was renamed away, and another folder put there): \`moved\` is given as
      // \`decoy\` is.
      const { dev, ino } = await Deno.lstat(decoy);
      const links = [`:${own}`, `:${join(shared, "file")}`, `${dev}:${ino}:${moved}`];
      const args = ["-c", probe, own, shared, moved];
      const command = mode === "script"
        ? landlockCommand("python3", args, undefined, undefined, links)!
        : bareCommand(SYSTEM_PYTHON, args, undefined, undefined, links)!;
      const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
      const run = await execCommand(
        { program: command[0]!, args: command.slice(1), env, cwd: "/" },
        { timeoutMs: 30_000 },
      );
      assert.equal(run.code, 0, run.stderr);
      const seen = new Map(
        run.stdout.trim().split("\n").map((line) => line.split(" ") as [string, string]),
      );
      for (
        const name of ["own", "own_rename", "own_move_dir", "shared_hardlink", "shared_file"]
      ) {
        assert.equal(seen.get(name), "0", `${mode}: ${name}: ${run.stdout}`);
      }
      // Nothing moves or is hard-linked into another folder of a folder written in place: a
      // folder holding a link would lead elsewhere (mv and shutil.move copy instead).
      for (const name of ["shared_move_file", "shared_move_dir", "shared_link_file"]) {
        assert.equal(
          seen.get(name),
          "18",
          `${mode}: ${name} was not refused (EXDEV): ${run.stdout}`,
        );
      }
      assert.equal((await Deno.lstat(join(shared, "deep", "inner", "up"))).isSymlink, true);
      for (
        const name of [
          "shared",
          "shared_relative",
          "shared_rename",
          "shared_move_link",
          "shared_link_link",
          "moved",
        ]
      ) {
        assert.equal(
          seen.get(name),
          "13",
          `${mode}: ${name} was not refused (EACCES): ${run.stdout}`,
        );
      }
      assert.equal((await Deno.lstat(join(shared, "old-link"))).isSymlink, true);
    }
  },
});

Deno.test({
  name:
    "landlock.py: a step whose output nobody reads any more (its Capibara was killed) runs nothing",
  ignore: !abi,
  async fn() {
    await using scratch = await setup();
    const marker = join(scratch.dir, "ran");
    // The step's standard output: a pipe whose reader is already closed, or one still read.
    const driver = `import os, subprocess, sys
command = sys.argv[2:]
r, w = os.pipe()
if sys.argv[1] == "gone":
    os.close(r)
child = subprocess.Popen(command, stdout=w)
os.close(w)
print(child.wait(), file=sys.stderr)
`;
    for (const mode of ["exec", "script"] as const) {
      const script = join(scratch.dir, "touch.py");
      await Deno.writeTextFile(script, `open(${JSON.stringify(marker)}, "w").close()\n`);
      const command = mode === "exec"
        ? landlockCommand("/bin/touch", [marker])!
        : landlockCommand(SYSTEM_PYTHON, [script])!;
      for (const reader of ["gone", "reading"]) {
        await Deno.remove(marker).catch(() => {});
        const run = await new Deno.Command(SYSTEM_PYTHON, {
          args: ["-c", driver, reader, ...command],
          stderr: "piped",
        }).output();
        const code = new TextDecoder().decode(run.stderr).trim();
        const ran = await Deno.lstat(marker).then(() => true, () => false);
        if (reader === "gone") {
          assert.equal(code, "125", `${mode}: ${code}`);
          assert.equal(ran, false, `${mode}: the program ran for nobody`);
        } else {
          assert.equal(code, "0", `${mode}: ${code}`);
          assert.equal(ran, true, `${mode}: the program did not run`);
        }
      }
    }
  },
});

Deno.test({
  name: "inheritsDescriptors(): a descriptor a program would inherit counts, one on /dev/null not",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using scratch = await setup();
    const file = join(scratch.dir, "secret.txt");
    await Deno.writeTextFile(file, "secret");
    const probe = join(scratch.dir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `import { inheritsDescriptors } from ${
        JSON.stringify(new URL("../../src/sandbox/landlock.ts", import.meta.url).href)
      };\nconsole.log(inheritsDescriptors());`,
    );
    /** What a Deno process started by `sh` with the descriptors `redirects` opens says. */
    const inherits = async (redirects: string) => {
      const out = await new Deno.Command("bash", {
        // What the test's own process inherited is closed first.
        args: [
          "-c",
          `for f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -gt 2 ] && eval "exec $n<&-"; done ` +
          `2>/dev/null; exec ${redirects} "$0" run -A --no-config "$1"`,
          Deno.execPath(),
          probe,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout).trim();
    };
    // Deno itself holds one on /dev/null without close-on-exec: it gives a program nothing.
    assert.equal(await inherits("7</dev/null 8<>/dev/null"), "false");
    assert.equal(await inherits(`7<${JSON.stringify(file)}`), "true");
    // Another device is not the null one.
    assert.equal(await inherits("7</dev/zero"), "true");
  },
});

Deno.test({
  name:
    "landlock.py script, held: the standard library the script imports is loaded while it waits, nothing else",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using scratch = await setup();
    const script = `${scratch.dir}/script.py`;
    await Deno.writeTextFile(
      script,
      [
        "import sys",
        'loaded = [m for m in ("json", "argparse", "decimal", "this") if m in sys.modules]',
        "import json, argparse",
        "from decimal import Decimal",
        "import this  # prints the Zen of Python when imported: never before the release",
        'print("LOADED " + json.dumps(loaded))',
        "",
      ].join("\n"),
    );
    const command = landlockCommand("python3", [script], { gate: 0 })!;
    const child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      cwd: "/",
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    // Held: nothing of the script runs, nor any module it names but those preloaded.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const gate = child.stdin.getWriter();
    await gate.write(new TextEncoder().encode("\n"));
    await gate.close();
    const { code, stdout, stderr } = await output;
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    // The Zen comes once, after the release, from the script's own import: first in the output.
    assert.match(text, /^The Zen of Python/);
    assert.equal(text.match(/The Zen of Python/g)?.length, 1);
    assert.match(text, /LOADED \["json", "argparse", "decimal"\]/);
  },
});

Deno.test({
  name:
    "landlock.py script: a venv's .pth runs as often as under python script.py; held, a module beside the script still shadows the standard library's",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using scratch = await setup();
    const venv = `${scratch.dir}/venv`;
    const made = await new Deno.Command("python3", {
      args: ["-m", "venv", "--without-pip", venv],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    }).output();
    assert.ok(made.success, new TextDecoder().decode(made.stderr));
    const python = `${venv}/bin/python`;
    const purelib = new TextDecoder().decode(
      (await new Deno.Command(python, {
        args: ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        stdout: "piped",
      }).output()).stdout,
    ).trim();
    const counter = `${scratch.dir}/pth-runs.txt`;
    await Deno.writeTextFile(
      `${purelib}/counter.pth`,
      `import os; open(${JSON.stringify(counter)}, "a").write("ran\\n")\n`,
    );
    const folder = `${scratch.dir}/entry`;
    await Deno.mkdir(folder);
    const script = `${folder}/script.py`;
    await Deno.writeTextFile(script, "import json\nprint(json.WHERE)\n");
    await Deno.writeTextFile(`${folder}/json.py`, 'WHERE = "beside the script"\n');
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    const runs = async (args: string[], gate: boolean) => {
      const child = new Deno.Command(args[0]!, {
        args: args.slice(1),
        env,
        cwd: "/",
        stdin: gate ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (gate) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode("\n"));
        await writer.close();
      }
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout).trim();
    };
    const lines = async () => (await Deno.readTextFile(counter)).split("\n").filter((l) => l);
    // As many times as `python script.py` runs it (site may meet a venv's folder twice).
    assert.equal(await runs([python, script], false), "beside the script");
    const plain = (await lines()).length;
    assert.ok(plain >= 1, "python script.py did not run the .pth");
    assert.equal(await runs(landlockCommand(python, [script])!, false), "beside the script");
    assert.equal(
      (await lines()).length,
      2 * plain,
      "the step ran the .pth another number of times",
    );
    assert.equal(
      await runs(landlockCommand(python, [script], { gate: 0 })!, true),
      "beside the script",
    );
    assert.equal((await lines()).length, 3 * plain, "the held step ran it another number of times");
  },
});

Deno.test({
  name:
    "landlock.py script: runs the script as the UTF-8 text it is reviewed as, whatever coding it declares",
  ignore: !abi,
  async fn() {
    await using scratch = await setup();
    const script = `${scratch.dir}/declared.py`;
    // Under utf-7, the third line is code; read as UTF-8, it is the comment it shows as.
    await Deno.writeTextFile(
      script,
      '# -*- coding: utf-7 -*-\nshown = "harmless"\n#+AAo-shown = "HIDDEN"\nprint(shown)\n',
    );
    const command = landlockCommand("python3", [script])!;
    const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
    const run = await execCommand({ program: command[0]!, args: command.slice(1), env, cwd: "/" }, {
      timeoutMs: 30_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "harmless\n");
    // Python itself would run the hidden line.
    const plain = await execCommand({ program: "python3", args: [script], env, cwd: "/" }, {
      timeoutMs: 30_000,
    });
    assert.equal(plain.stdout, "HIDDEN\n");
  },
});
