import assert from "node:assert/strict";
import type { Bundle, Language } from "../../src/schema.ts";
import {
  type Finding,
  formatFindings,
  MAX_SCRIPT_BYTES,
  staticChecks,
} from "../../src/contract/checks/mod.ts";
import { checkBundle, ContractViolation } from "../../src/contract/bundle.ts";
import { reviewTextProblem } from "../../src/contract/contract.ts";
import { pipedDownloads } from "../../src/contract/checks/bash.ts";
import { pick, seededRandom } from "../helpers/random.ts";
import { bundleObject } from "../helpers/fake_llm.ts";
import { PYTHON } from "../helpers/python.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { platformBackend } from "../../src/sandbox/mod.ts";
import { PythonRuntime } from "../../src/runtimes/python.ts";
import type { SandboxBackend, SandboxPolicy } from "../../src/sandbox/types.ts";

interface Extra {
  requirements?: string[];
  network?: string[];
  env?: string[];
}

function bundle(language: Language, script: string, extra: Extra = {}): Bundle {
  return {
    language,
    script,
    requirements: extra.requirements ?? [],
    outputs: {},
    aliases: {},
    needs: { network: extra.network ?? [], env: extra.env ?? [] },
    readme: "",
  };
}

function check(language: Language, script: string, extra: Extra = {}): Promise<Finding[]> {
  return staticChecks(bundle(language, script, extra));
}

function describe(findings: Finding[]): string {
  return formatFindings(findings) || "(no findings)";
}

/** Asserts a finding of `rule` (on `line`, when given) whose message matches `message`. */
function assertFinding(findings: Finding[], rule: string, line?: number, message?: RegExp): void {
  const hit = findings.find((f) =>
    f.rule === rule && (line === undefined || f.line === line) &&
    (message === undefined || message.test(f.message))
  );
  assert.ok(hit, `expected ${rule} at line ${line ?? "?"}, got:\n${describe(findings)}`);
  assert.equal(hit.severity, "error");
}

function assertClean(findings: Finding[]): void {
  assert.deepEqual(findings, [], describe(findings));
}

// --- python ----------------------------------------------------------------------------------

Deno.test("staticChecks() flags shell execution in python", async () => {
  const bad = await check("python", 'import json\nimport subprocess\nsubprocess.run(["ls"])\n');
  assertFinding(bad, "shell-execution", 2, /import subprocess/);
  assertFinding(bad, "shell-execution", 3, /shell execution \(subprocess\.run\) is not allowed/);

  const aliased = await check(
    "python",
    'import os as o\nfrom subprocess import run as r\nr("ls")\no.system("ls")\n' +
      'getattr(o, "popen")("ls")\n',
  );
  assertFinding(aliased, "shell-execution", 3, /subprocess\.run/);
  assertFinding(aliased, "shell-execution", 4, /os\.system/);
  assertFinding(aliased, "shell-execution", 5, /os\.popen via getattr/);

  assertClean(await check("python", "import json\nimport os\nprint(json.dumps(os.sep))\n"));
});

Deno.test("staticChecks() flags python imports outside the template and the requirements", async () => {
  const bad = await check("python", "import json\nimport requests\n");
  assertFinding(bad, "import", 2, /import of requests is not allowed/);
  assert.equal(bad.length, 1, describe(bad));

  assertClean(await check("python", "import requests\n", { requirements: ["requests==2.31.0"] }));
  assertClean(
    await check(
      "python",
      "import PIL.Image\nimport yaml\nimport cv2\nfrom bs4 import BeautifulSoup\n",
      {
        requirements: [
          "Pillow==10.3.0",
          "PyYAML==6.0.1",
          "opencv-python==4.9.0.80",
          "beautifulsoup4==4.12.3",
        ],
      },
    ),
  );
  assertClean(
    await check(
      "python",
      "from __future__ import annotations\nimport os.path\nfrom urllib import parse\n" +
        "import xml.etree.ElementTree as ET\nfrom collections.abc import Mapping\n",
    ),
  );
  assertFinding(await check("python", "from xml.dom import minidom\n"), "import", 1);
  assertFinding(await check("python", "from . import helpers\n"), "import", 1, /relative/);
});

Deno.test("staticChecks() allows python network modules only with needs.network", async () => {
  const bad = await check("python", "import urllib.request\nfrom urllib import parse, request\n");
  assertFinding(bad, "network", 1, /urllib\.request.*needs\.network/);
  assertFinding(bad, "network", 2, /urllib\.request.*needs\.network/);
  assert.equal(bad.length, 2, describe(bad));
  assertClean(await check("python", "import urllib.request\n", { network: ["example.com"] }));
});

Deno.test("staticChecks() flags eval and exec of non-literal arguments in python", async () => {
  const bad = await check("python", "def f(user_input):\n    return eval(user_input)\n");
  assertFinding(bad, "dynamic-code", 2, /eval\(\)/);
  assertFinding(await check("python", "exec(open('x').read())\n"), "dynamic-code", 1);
  assertClean(await check("python", 'x = eval("1+1")\nimport re\nre.compile(x)\n'));
  // Literal code is analysed like the rest of the script.
  const literal = await check("python", "import json\nexec(\"import os; os.system('ls')\")\n");
  assertFinding(literal, "shell-execution", 2, /os\.system/);
  // Bytes as Python decodes them for exec(): by their own coding declaration, where `+AAo-` is
  // a line feed under utf-7 and the second "comment" is code (seen running: python3 -c).
  const hidden =
    'exec(b"# coding: utf-7\\n# note +AAo-import os+ADs-os.system(+ACI-echo hi+ACI-)\\n")\n';
  const ran = await new Deno.Command(PYTHON, { args: ["-I", "-S", "-c", hidden], stdout: "piped" })
    .output();
  assert.equal(new TextDecoder().decode(ran.stdout).trim(), "hi");
  assertFinding(await check("python", hidden), "shell-execution", 1, /os\.system/);
  const joined =
    'code = b"# coding: utf-7\\n" + b"+AAo-import os+ADs-os.system(+ACI-x+ACI-)"\nexec(code)\n';
  assertFinding(await check("python", joined), "shell-execution", 2, /os\.system/);
});

Deno.test("staticChecks() flags dynamic imports of computed names in python", async () => {
  const bad = await check("python", "def f(name):\n    return __import__(name)\n");
  assertFinding(bad, "dynamic-import", 2);
  // A literal name is an ordinary import, checked like one.
  assertClean(await check("python", 'json = __import__("json")\n'));
  assertFinding(await check("python", 'sp = __import__("subprocess")\n'), "shell-execution", 1);
});

Deno.test("staticChecks() flags raw sockets in python without needs.network", async () => {
  const bad = await check("python", "import socket\ns = socket.socket()\n");
  assertFinding(bad, "raw-socket", 1, /import socket/);
  assertFinding(bad, "raw-socket", 2, /socket\.socket/);
  assertClean(
    await check("python", "import socket\ns = socket.socket()\n", { network: ["example.com"] }),
  );
});

Deno.test("staticChecks() flags ctypes in python", async () => {
  assertFinding(await check("python", "import ctypes\n"), "native-code", 1);
  assertFinding(await check("python", "from ctypes import CDLL\n"), "native-code", 1);
});

Deno.test("staticChecks() flags python deletions outside the outputs", async () => {
  const script = (line: string) =>
    `import os\nimport shutil\nfrom pathlib import Path\n\ndef f(ctx):\n    ${line}\n`;
  for (
    const line of [
      'os.remove("/etc/passwd")',
      'shutil.rmtree(os.path.join(ctx["out"], "..", ".."))',
      'Path("/etc/hosts").unlink()',
      '(Path.home() / "notes").unlink()',
      'os.unlink(os.path.expanduser("~/notes.txt"))',
      'target = "/var/data"\n    shutil.rmtree(target)',
    ]
  ) {
    assertFinding(await check("python", script(line)), "delete-outside", undefined, /deleting/);
  }
  for (
    const line of [
      'os.remove(ctx["output"])',
      'shutil.rmtree(os.path.join(ctx["out_dir"], "frames"))',
      'Path(ctx["output"]).unlink()',
      "os.remove(f\"{ctx['out']}/part.tmp\")",
    ]
  ) {
    assertClean(await check("python", script(line)));
  }
});

Deno.test("staticChecks() flags credential paths in python strings, not in docstrings", async () => {
  const bad = await check(
    "python",
    'import os\nkey = open(os.path.expanduser("~/.ssh/id_rsa")).read()\n' +
      'creds = "/home/me/.aws/credentials"\n',
  );
  assertFinding(bad, "credential-path", 2, /~\/\.ssh/);
  assertFinding(bad, "credential-path", 3, /\.aws\/credentials/);
  assertClean(
    await check("python", '"""Never reads ~/.ssh."""\nimport os\nopen("data/ssh_hosts.csv")\n'),
  );
});

Deno.test("staticChecks() flags hard-coded secrets without repeating them", async () => {
  const secret = "sk-proj-abcDEF1234567890abcdef1234";
  const bad = await check(
    "python",
    `import os\nKEY = "${secret}"\n# token: ghp_${"a1".repeat(18)}\n`,
  );
  assertFinding(bad, "secret", 2, /API key/);
  assertFinding(bad, "secret", 3, /GitHub token/);
  assert.ok(!formatFindings(bad).includes(secret.slice(6)), formatFindings(bad));
  assertFinding(await check("bash", "echo AKIAIOSFODNN7EXAMPLE\n"), "secret", 1, /AWS/);
  assertFinding(
    await check("typescript", 'const pem = "-----BEGIN RSA PRIVATE KEY-----";\n'),
    "secret",
    1,
    /private key/,
  );
  assertClean(
    await check("python", 'import os\nKEY = os.environ["API_KEY"]\nmode = "sk-test"\n', {
      env: ["API_KEY"],
    }),
  );
});

Deno.test("staticChecks() flags python reads of undeclared environment variables", async () => {
  const script = 'import os\na = os.environ.get("API_TOKEN")\nb = os.getenv("API_TOKEN")\n' +
    'c = os.environ["API_TOKEN"]\nh = os.environ["HOME"]\n';
  const bad = await check("python", script);
  for (const line of [2, 3, 4]) assertFinding(bad, "env", line, /API_TOKEN.*needs\.env/);
  assert.equal(bad.length, 3, describe(bad));
  assertClean(await check("python", script, { env: ["API_TOKEN"] }));
});

Deno.test("staticChecks() reports a python script that does not parse", async () => {
  const bad = await check("python", "def f(:\n    pass\n");
  assertFinding(bad, "syntax", 1, /does not parse/);
});

Deno.test("staticChecks() falls back to a token scan when no python is available", async () => {
  const script = 'import json\nimport subprocess\nsubprocess.run(["ls"])\nos.remove("/etc/x")\n';
  const bad = await staticChecks(bundle("python", script), { python: "/nonexistent/python3" });
  assertFinding(bad, "shell-execution", 2);
  assertFinding(bad, "shell-execution", 3, /subprocess\.run/);
  assertFinding(bad, "delete-outside", 4);
  const clean = await staticChecks(bundle("python", "import json\nprint(json.dumps({}))\n"), {
    python: "/nonexistent/python3",
  });
  assertClean(clean);
});

/**
 * Writes a stand-in python interpreter (a shell script) into `dir/bin`: it answers the interpreter
 * probe (`-I -S -c`) as a Python 3.11 whose prefix is `dir/bin`, then reports `module(...)` as the module of
 * an import on line 1, so that what the analyser process saw shows up as a finding.
 */
async function fakePython(dir: string, module: string): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  const path = `${bin}/python3`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
case "$3 $4" in "-c import json, os, sys; print(json.dumps([sys.version_info"*)
  printf '[3, 11, "%s", "%s", "%s", "%s"]\\n' "${bin}" "${bin}" "${path}" "${path}"
  exit 0
esac
${module}
printf '{"imports": [{"module": "%s", "line": 1}], "calls": [], "strings": [], "env": []}' "$module"
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

const sandboxAvailable = (await platformBackend()?.available())?.ok ?? false;

Deno.test({
  name:
    "staticChecks() runs the python analyser inside the sandbox: host files and home are hidden",
  ignore: !sandboxAvailable,
  async fn() {
    await using tmp = await withTmpDir();
    const marker = `${tmp.path}/host_secret.txt`;
    await Deno.writeTextFile(marker, "private\n");
    const home = Deno.env.get("HOME") ?? "/root";
    assert.ok((await Deno.stat(home)).isDirectory, `the host's home ${home} must exist`);
    const python = await fakePython(
      tmp.path,
      `if [ -e "${marker}" ]; then file=seen; else file=hidden; fi
if [ -d "${home}" ]; then home=seen; else home=hidden; fi
module="file_\${file}_home_\${home}"`,
    );
    const confined = await staticChecks(bundle("python", "import json\n"), { python });
    assertFinding(confined, "import", 1, /import of file_hidden_home_hidden/);
    // The same interpreter without the sandbox sees both: the check above can fail.
    const bare = await staticChecks(bundle("python", "import json\n"), { python, sandbox: null });
    assertFinding(bare, "import", 1, /import of file_seen_home_seen/);
  },
});

Deno.test({
  name: "staticChecks() runs the real python analyser through the sandbox backend's wrap()",
  ignore: !sandboxAvailable,
  async fn() {
    const real = platformBackend()!;
    const policies: SandboxPolicy[] = [];
    const recording: SandboxBackend = {
      name: "recording",
      available: () => real.available(),
      wrap(spec, policy) {
        policies.push(policy);
        return real.wrap(spec, policy);
      },
    };
    const bad = await staticChecks(
      bundle("python", "import subprocess\nsubprocess.run(['ls'])\n"),
      { sandbox: recording, env: { PATH: "/usr/bin:/bin" } },
    );
    assertFinding(bad, "shell-execution", 2, /subprocess\.run/);
    // The analysis, confined: no network, nothing writable but its temp dir. It worked, so no
    // probe of the sandbox was needed.
    assert.equal(policies.length, 1);
    for (const policy of policies) {
      assert.deepEqual(policy.network, []);
      assert.deepEqual(policy.write, []);
      assert.ok(policy.maxProcesses <= 16 && policy.memoryBytes <= 1024 ** 3);
    }
  },
});

Deno.test("staticChecks() analyses unconfined where the interpreter cannot start in the sandbox, and tells that from a script's failure", async () => {
  // A backend that says it is there, and in which nothing starts (not bwrap's own refusal).
  let wraps = 0;
  const dead: SandboxBackend = {
    name: "dead",
    available: () => Promise.resolve({ ok: true }),
    wrap(spec) {
      wraps++;
      return Promise.resolve({
        spec: { ...spec, program: "/bin/sh", args: ["-c", "echo cannot start >&2; exit 127"] },
        close: () => Promise.resolve(),
      });
    },
  };
  const env = { PATH: "/usr/bin:/bin" };
  const script = bundle("python", "import subprocess\nsubprocess.run(['ls'])\n");
  // The analysis fails there; a probe (one import) fails too: so it is the sandbox, and the
  // analysis runs as where none exists, and still finds what the script does.
  assertFinding(await staticChecks(script, { sandbox: dead, env }), "shell-execution", 2);
  assert.equal(wraps, 2);
  // Known for the process: the next analysis does not try the sandbox again.
  assertFinding(await staticChecks(script, { sandbox: dead, env }), "shell-execution", 2);
  assert.equal(wraps, 2);
});

Deno.test({
  name:
    "staticChecks() never analyses unconfined once the sandbox worked in the process: a failure there refuses the script",
  ignore: !sandboxAvailable,
  async fn() {
    const real = platformBackend()!;
    let mode: "work" | "fail" | "throw" = "work";
    let wraps = 0;
    const flaky: SandboxBackend = {
      name: "flaky",
      available: () => real.available(),
      async wrap(spec, policy) {
        wraps++;
        if (mode === "throw") throw new Error("cannot set the sandbox up");
        const wrapped = await real.wrap(spec, policy);
        if (mode === "work") return wrapped;
        // The analyser killed (a script that floods its output, say): no bwrap message.
        return {
          ...wrapped,
          spec: { ...wrapped.spec, program: "/bin/sh", args: ["-c", "exit 1"] },
        };
      },
    };
    const env = { PATH: "/usr/bin:/bin" };
    const shell = bundle("python", "import subprocess\nsubprocess.run(['ls'])\n");
    assertFinding(await staticChecks(shell, { sandbox: flaky, env }), "shell-execution", 2);
    assert.equal(wraps, 1);
    for (const failing of ["fail", "throw"] as const) {
      mode = failing;
      const found = await staticChecks(shell, { sandbox: flaky, env });
      // Refused as not analysed; an analysis run outside the sandbox would have found the call.
      assert.deepEqual(found.map((f) => f.rule), ["analysis"], JSON.stringify(found));
    }
    // One wrap each, no probe: the sandbox is known to work here.
    assert.equal(wraps, 3);
  },
});

Deno.test("staticChecks() looks for python again after a look-up that found none", async () => {
  await using tmp = await withTmpDir();
  // A python3 that fails its first start, then runs the real one.
  const bin = `${tmp.path}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/python3`,
    `#!/bin/sh\nif [ ! -e '${tmp.path}/once' ]; then : > '${tmp.path}/once'; exit 1; fi\n` +
      `exec '${PYTHON}' "$@"\n`,
  );
  await Deno.chmod(`${bin}/python3`, 0o755);
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const script = bundle("python", "return 1\n");
  // The first look-up failed: the token scan stands in (it compiles nothing).
  assert.deepEqual((await staticChecks(script, { env, sandbox: null })).map((f) => f.rule), []);
  // The next analysis finds the interpreter, and the compiler's refusal.
  assertFinding(
    await staticChecks(script, { env, sandbox: null }),
    "syntax",
    1,
    /outside function/,
  );
});

Deno.test("staticChecks() and the runtime start the interpreter once between them to find it", async () => {
  await using tmp = await withTmpDir();
  // A python3 that counts its starts, then runs the real one.
  const bin = `${tmp.path}/bin`;
  const log = `${tmp.path}/starts`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/python3`,
    `#!/bin/sh\necho "$*" >> '${log}'\nexec '${PYTHON}' "$@"\n`,
  );
  await Deno.chmod(`${bin}/python3`, 0o755);
  const starts = async () => (await Deno.readTextFile(log).catch(() => "")).split("\n").length - 1;
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp.path };
  // What a generation does: the runtime tells the model its version, then the checks parse the
  // reply (unconfined here: the analyser itself starts the real interpreter, not the name).
  const version = (await new PythonRuntime({ env }).describe()).version;
  assert.equal(await starts(), 1);
  const script = bundle("python", "import subprocess\nsubprocess.run(['ls'])\n");
  assertFinding(await staticChecks(script, { env, sandbox: null }), "shell-execution", 2);
  // The checks found the interpreter from the runtime's probe: no start of their own.
  assert.equal(await starts(), 1, await Deno.readTextFile(log));
  assert.match(version, /^3\.\d+$/);
});

Deno.test("staticChecks() finds python on the env option's PATH, never on the process's", async () => {
  await using tmp = await withTmpDir();
  await fakePython(tmp.path, "module=from_the_env_path");
  const script = "import json\nprint(json.dumps({}))\n";
  // Only the process's PATH names the stand-in, in a child process: changing this process's
  // environment would reach the test files that run beside this one.
  const child = `import { staticChecks } from ${
    JSON.stringify(new URL("../../src/contract/checks/mod.ts", import.meta.url).href)
  };
const bundle = ${JSON.stringify(bundle("python", script))};
const found = [...await staticChecks(bundle), ...await staticChecks(bundle, { env: { PATH: "/usr/bin:/bin" } })];
console.log(JSON.stringify(found));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", child],
    env: { PATH: `${tmp.path}/bin:${Deno.env.get("PATH") ?? ""}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), []);
  // The env option's PATH is the one used.
  assertFinding(
    await staticChecks(bundle("python", script), { env: { PATH: `${tmp.path}/bin` } }),
    "import",
    1,
    /import of from_the_env_path/,
  );
});

// --- typescript ------------------------------------------------------------------------------

Deno.test("staticChecks() flags process execution in typescript, not in comments or strings", async () => {
  const bad = await check(
    "typescript",
    'const out = new Deno.Command("ls").outputSync();\nDeno.run({ cmd: ["ls"] });\n' +
      'import cp from "node:child_process";\nDeno.dlopen("libc.so.6", {});\n' +
      "const { Command } = Deno;\n",
  );
  assertFinding(bad, "shell-execution", 1, /Deno\.Command/);
  assertFinding(bad, "shell-execution", 2, /Deno\.run/);
  assertFinding(bad, "shell-execution", 3, /node:child_process/);
  assertFinding(bad, "native-code", 4, /dlopen/);
  assertFinding(bad, "shell-execution", 5, /Deno\.Command/);
  assertClean(
    await check(
      "typescript",
      '// never use Deno.Command here\n/* nor Deno.run */\nconsole.log("Deno.Command is off");\n',
    ),
  );
});

Deno.test("staticChecks() flags eval and new Function in typescript", async () => {
  const bad = await check("typescript", 'eval(code);\nconst f = new Function("return 1");\n');
  assertFinding(bad, "dynamic-code", 1);
  assertFinding(bad, "dynamic-code", 2);
  assertClean(await check("typescript", "const evaluation = retrieval(1);\nobj.evaluate();\n"));
});

Deno.test("staticChecks() follows Function, the global object and a function's constructor however they are reached in typescript", async () => {
  const cases: [string, number][] = [
    ['const d: any = Reflect.get(globalThis, "Deno");\n', 1],
    ["const g: any = globalThis;\ng.Deno.exit(1);\n", 1],
    ['const k = "De" + "no";\n(globalThis as any)[k].exit(1);\n', 2],
    ['const F = (() => {}).constructor as FunctionConstructor;\nF("return 1")();\n', 1],
    ['(async () => {}).constructor("return 1")();\n', 1],
    ['const F = Function;\nF("return 1")();\n', 1],
    ['Reflect.construct(globalThis.Function, ["return 1"]);\n', 1],
  ];
  for (const [script, line] of cases) {
    assertFinding(await check("typescript", script), "dynamic-code", line);
  }
  // Members by name, a constructor's name or comparison, Function as a type: nothing.
  assertClean(
    await check(
      "typescript",
      "const t = globalThis.structuredClone({});\nconsole.log(t.constructor.name);\n" +
        "if (t.constructor === Object) console.log(1);\n" +
        "const f: Function = () => 1;\nconsole.log(f);\n",
    ),
  );
});

Deno.test("staticChecks() gives no requirement a standard network module, whatever its name", async () => {
  for (const requirement of ["http-tools==1.0.0", "urllib-helpers==2.0.0", "ssl-utils==1.0.0"]) {
    const bad = await check("python", "import http.client\nimport urllib.request\nimport ssl\n", {
      requirements: [requirement],
    });
    assertFinding(bad, "network", 1);
    assertFinding(bad, "network", 2);
    assertFinding(bad, "network", 3);
  }
  // Its own module still is.
  assertClean(
    await check("python", "import http_tools\n", { requirements: ["http-tools==1.0.0"] }),
  );
});

Deno.test("staticChecks() flags a module's shell function taken without a call or from its namespace in python", async () => {
  for (
    const [script, line] of [
      ['import os\nvars(os)["system"]("echo hi")\n', 2],
      ['import os\nos.__dict__["popen"]("echo hi")\n', 2],
      ['import os\nrun = os.system\nrun("echo hi")\n', 2],
      ["import os as o\nfor f in (o.execv,):\n    pass\n", 2],
    ] as const
  ) {
    assertFinding(await check("python", script), "shell-execution", line);
  }
  assertClean(await check("python", "import os\nprint(sorted(['a'], key=os.path.basename))\n"));
});

Deno.test("staticChecks() checks typescript imports against the template and the requirements", async () => {
  const bad = await check(
    "typescript",
    'import { join } from "jsr:@std/path";\nimport pad from "npm:left-pad@1.3.0";\n' +
      'import { z } from "npm:zod@3.22.0";\nimport vm from "node:vm";\n' +
      "const m = await import(name);\n",
    { requirements: ["zod==3.23.8"] },
  );
  assertFinding(bad, "import", 1, /jsr:@std\/path/);
  assertFinding(bad, "import", 2, /not in requirements/);
  assertFinding(bad, "import", 3, /npm:zod@3\.23\.8/);
  assertFinding(bad, "import", 4, /node:vm/);
  assertFinding(bad, "dynamic-import", 5);
  assertClean(
    await check(
      "typescript",
      'import { z } from "npm:zod@3.23.8";\nimport { parseArgs } from "node:util";\n' +
        'import * as fs from "node:fs/promises";\nimport type { X } from "./types.ts";\n',
      { requirements: ["zod==3.23.8"] },
    ),
  );
});

Deno.test("staticChecks() flags typescript network access without needs.network", async () => {
  const script = 'import net from "node:net";\nconst c = await Deno.connect({ port: 80 });\n' +
    'await fetch("https://example.com");\n';
  const bad = await check("typescript", script);
  for (const line of [1, 2, 3]) assertFinding(bad, "network", line);
  assertClean(await check("typescript", script, { network: ["example.com"] }));
});

Deno.test("staticChecks() flags typescript reads of undeclared environment variables", async () => {
  const script = 'const t = Deno.env.get("API_TOKEN");\nconst h = Deno.env.get("HOME");\n';
  assertFinding(await check("typescript", script), "env", 1, /API_TOKEN/);
  assertClean(await check("typescript", script, { env: ["API_TOKEN"] }));
});

Deno.test("staticChecks() flags credential paths in typescript strings", async () => {
  const bad = await check(
    "typescript",
    "const k = await Deno.readTextFile(`${home}/.ssh/id_rsa`);\n",
  );
  assertFinding(bad, "credential-path", 1);
  assertClean(await check("typescript", 'const k = await Deno.readTextFile("data/keys.csv");\n'));
});

Deno.test("staticChecks() reads typescript with Deno's parser: Deno.Command only in code counts", async () => {
  assertClean(
    await check(
      "typescript",
      '/* Deno.Command("sh") */\nconst help = "use Deno.Command(\\"sh\\") never";\n' +
        'const t = `Deno.run and Deno["Command"] ${1 + 1}`;\nconst re = /Deno.Command/;\n' +
        "// const d = Deno; d.Command\n",
    ),
  );
  const bad = await check(
    "typescript",
    'const d = Deno;\nnew d.Command("sh");\nconst e = d;\ne.run({ cmd: ["ls"] });\n' +
      'Deno["Command"];\nglobalThis.Deno.dlopen("x", {});\nconst name = "Command";\n' +
      "Deno[name];\nconst { Command: C } = Deno;\n(Deno as any).Command;\nrun(Deno);\n",
  );
  assertFinding(bad, "shell-execution", 2, /Deno\.Command/);
  assertFinding(bad, "shell-execution", 4, /Deno\.run/);
  assertFinding(bad, "shell-execution", 5, /Deno\.Command/);
  assertFinding(bad, "native-code", 6, /dlopen/);
  assertFinding(bad, "dynamic-code", 8, /computed access to Deno/);
  assertFinding(bad, "shell-execution", 9, /Deno\.Command/);
  assertFinding(bad, "shell-execution", 10, /Deno\.Command/);
  assertFinding(bad, "dynamic-code", 11, /Deno handed on as a value/);
});

Deno.test("staticChecks() flags static text imports in typescript as imports outside the allowlist", async () => {
  const bad = await check(
    "typescript",
    'import x from "/etc/passwd" with { type: "text" };\n' +
      'import k from "../../.ssh/id_rsa" with { type: "bytes" };\n' +
      'export * from "https://example.com/mod.ts";\nconst fs = require("node:fs");\n' +
      "const m = await import(`jsr:@std/path`);\n",
  );
  assertFinding(bad, "import", 1, /import "\/etc\/passwd" is not allowed/);
  assertFinding(bad, "credential-path", 2);
  assertFinding(bad, "import", 2, /with \{ type: "bytes" \} is not allowed/);
  assertFinding(bad, "import", 3, /https:\/\/example\.com/);
  assertFinding(bad, "import", 5, /jsr:@std\/path/);
  assert.ok(!bad.some((f) => f.line === 4), describe(bad)); // require of an allowed built-in
  // A relative file read through the module graph, which needs no read permission at run time.
  const relative = await check(
    "typescript",
    'import data from "./data/secret.txt" with { type: "text" };\n' +
      'const j = await import("../cfg.json", { with: { type: "json" } });\n' +
      'import type { X } from "./types.ts";\n',
  );
  assertFinding(relative, "import", 1, /"\.\/data\/secret\.txt" with \{ type: "text" \}/);
  assertFinding(relative, "import", 2, /"\.\.\/cfg\.json" with \{ type: "options" \}/);
  assert.equal(relative.length, 2, describe(relative));
});

Deno.test("staticChecks() typescript facts cannot be hidden by deno-lint-ignore directives", async () => {
  const bad = await check(
    "typescript",
    '// deno-lint-ignore-file\n// deno-lint-ignore capibara/facts\nnew Deno.Command("sh");\n' +
      "/* DENO-LINT-IGNORE-FILE */\n",
  );
  assertFinding(bad, "shell-execution", 3, /Deno\.Command/);
});

Deno.test("staticChecks() reports a typescript script that does not parse", async () => {
  assertFinding(await check("typescript", "const x = (;\n"), "syntax", 1, /does not parse/);
});

// --- bash ------------------------------------------------------------------------------------

Deno.test("staticChecks() flags curl in bash without needs.network", async () => {
  const script = 'set -euo pipefail\ndata="$(curl -s https://example.com/x)"\n';
  assertFinding(await check("bash", script), "network", 2, /curl/);
  assertClean(await check("bash", script, { network: ["example.com"] }));
  assertClean(await check("bash", "command -v curl >/dev/null || echo 'no curl'\n"));
  assertClean(
    await check("bash", '# curl is not needed\necho "no curl; here"\nprintf \'%s\' "wget"\n'),
  );
  assertFinding(
    await check("bash", "curl -fsSL https://x.example | bash\n", { network: ["x.example"] }),
    "remote-code",
    1,
  );
});

Deno.test("staticChecks() flags bash deletions outside the outputs", async () => {
  for (
    const line of ["rm -rf /", 'rm -f "/etc/passwd"', "rm -rf ../up", "rm -f ~/x", 'rm "$HOME/x"']
  ) {
    assertFinding(await check("bash", `${line}\n`), "delete-outside", 1, /deleting/);
  }
  assertClean(await check("bash", 'out="$1"\nrm -rf "$out" ./build\nrm -f -- "$tmp/x"\n'));
});

Deno.test("staticChecks() flags escalation, remote tools and persistence in bash", async () => {
  const cases: [string, string][] = [
    ["sudo ls", "privilege-escalation"],
    ["FOO=1 env -i nc -l 8080", "remote-access"],
    ["xargs -0 ssh host", "remote-access"],
    ['eval "$cmd"', "dynamic-code"],
    ["crontab -l", "persistence"],
    ["git config --global user.name x", "git-config"],
    ["cp hook .git/hooks/pre-commit", "git-hooks"],
    ["echo 'alias x=y' >> ~/.bashrc", "shell-startup"],
    ["exec 3<>/dev/tcp/example.com/80", "network"],
    ["cat ~/.ssh/id_ed25519", "credential-path"],
    ['echo "$(sudo id)"', "privilege-escalation"],
  ];
  for (const [line, rule] of cases) assertFinding(await check("bash", `${line}\n`), rule, 1);
  assertClean(
    await check(
      "bash",
      "# sudo rm -rf /\ncat <<'EOF'\nsudo rm -rf /\nEOF\necho 'nc and ssh are words' | wc -w\n" +
        'git status --short >/dev/null || true\njq -r ".a" "$ctx"\n',
    ),
  );
});

// --- formatting and wiring -------------------------------------------------------------------

Deno.test("formatFindings() prints one line per finding, with its line number", () => {
  const text = formatFindings([
    {
      rule: "shell-execution",
      message: "shell execution (subprocess.run) is not allowed",
      line: 12,
      severity: "error",
    },
    { rule: "analysis", message: "the script could not be analysed", severity: "error" },
  ]);
  assert.equal(
    text,
    "line 12: shell execution (subprocess.run) is not allowed\nthe script could not be analysed",
  );
});

Deno.test("checkBundle() rejects a script that imports subprocess with a ContractViolation", async () => {
  const raw = bundleObject({ imports: ["subprocess"], body: 'subprocess.run(["ls"])\nreturn {}' });
  const err = await checkBundle(raw, { language: "python" }).catch((e: unknown) => e);
  assert.ok(err instanceof ContractViolation, String(err));
  assert.match(err.reason, /^static checks failed:\n/);
  assert.match(err.reason, /line \d+: shell execution \(import subprocess\) is not allowed/);
  assert.match(err.reason, /line \d+: shell execution \(subprocess\.run\) is not allowed/);
});

Deno.test("reviewTextProblem() refuses what a review would read otherwise than Python or Deno runs it, and nothing else", () => {
  const refused: [string, RegExp][] = [
    ["# note\r    x = 1\n", /line 1 holds a carriage return/],
    ["a = 1\r\n", /carriage return/],
    ["// note\u2028x = 1\n", /U\+2028, where Python or JavaScript would end a line/],
    ["if x:\n        \f    y = 1\n", /line 2 holds the control character U\+000C \(a form feed\)/],
    ["x = '\x1b[31m'\n", /control character U\+001B/],
    ["x = 1\x7f\n", /U\+007F/],
    ["note\ufe00 = 1\n", /the invisible character U\+FE00/],
    ["a\u200db = 1\n", /U\+200D/],
    ["\u3164 = 1\n", /U\+3164/],
    ["\ufeffimport os\n", /U\+FEFF/],
  ];
  for (const [script, reason] of refused) {
    assert.match(reviewTextProblem(script) ?? "(none)", reason, JSON.stringify(script));
  }
  for (
    const script of [
      "def f():\n\treturn 'é 日本 😀 \\u200d \\x0c'\n",
      "# ünïcödé comment\nprint('naïve')\n",
      "",
    ]
  ) {
    assert.equal(reviewTextProblem(script), undefined, JSON.stringify(script));
  }
});

Deno.test("checkBundle() refuses needs no grant could meet (by the grants' own rule), and keeps those one can", async () => {
  for (
    const needs of [
      { network: ["https://api.example.com/v1"] },
      { network: ["api.example.com/path"] },
      { network: [""] },
      { env: ["NOT A NAME"] },
      { env: ["A=B"] },
    ]
  ) {
    const raw = { ...bundleObject(), needs: { network: [], env: [], ...needs } };
    const err = await checkBundle(raw, { language: "python" }).catch((e: unknown) => e);
    assert.ok(err instanceof ContractViolation, `${JSON.stringify(needs)}: ${err}`);
    assert.match(err.reason, /"needs" lists what no grant can allow/);
  }
  const raw = {
    ...bundleObject({ imports: ["urllib.request"] }),
    needs: { network: ["api.example.com", "*.example.org", "10.0.0.5:5432"], env: ["API_TOKEN"] },
  };
  const bundle = await checkBundle(raw, { language: "python" });
  assert.deepEqual(bundle.needs.env, ["API_TOKEN"]);
});

Deno.test("pipedDownloads() finds what the curl | sh expression finds, in time linear in the code", () => {
  const expression = /\b(?:curl|wget)\b[^\n;]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b/g;
  const pieces = [
    "curl",
    "wget ",
    " ",
    "|",
    "| ",
    "\n",
    ";",
    "sh",
    "sudo ",
    "bash",
    "x",
    "zsh -s",
    "curl -fsSL u | ",
  ];
  const next = seededRandom(5);
  let found = 0;
  for (let i = 0; i < 20_000; i++) {
    let code = "";
    const count = 1 + Math.floor(next() * 14);
    for (let j = 0; j < count; j++) code += pick(pieces, next);
    const expected = [...code.matchAll(expression)].map((m) => m.index);
    assert.deepEqual(pipedDownloads(code), expected, JSON.stringify(code));
    found += expected.length;
  }
  assert.ok(found > 1000, `only ${found} matches in the generated code`);
});

Deno.test("staticChecks() analyses no script past MAX_SCRIPT_BYTES, in any language, and never starts the parser for one", async () => {
  // Past the bound by one byte: refused without a parser (the TypeScript one runs on the host,
  // and its memory grows with its input); at the bound, analysed as usual.
  const line = "'a';\n";
  const over = line.repeat(Math.floor(MAX_SCRIPT_BYTES / line.length) + 1);
  for (const language of ["typescript", "python", "bash"] as const) {
    // No parser exists at these paths: one started would be a finding of its own.
    const findings = await staticChecks(bundle(language, over), {
      deno: "/nonexistent/deno",
      python: "/nonexistent/python3",
      sandbox: null,
    });
    assertFinding(findings, "script-size", undefined, /more than the 512 KiB/);
    assert.equal(findings.length, 1, describe(findings));
  }
  assertClean(await check("typescript", "console.log(JSON.stringify({}));\n"));
});
