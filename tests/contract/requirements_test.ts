import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DependencyError } from "../../src/errors.ts";
import { checkBundle, ContractViolation } from "../../src/contract/bundle.ts";
import {
  normaliseNpmRequirements,
  normaliseRequirement,
  normaliseRequirements,
  parseNpmRequirement,
  parseRequirement,
  pinnedVersion,
  pinProblem,
  pipRequirementsFile,
  type PythonRequirement,
  RequirementError,
  serialise,
  splitDepsLine,
} from "../../src/contract/requirements.ts";
import { pep723Blocks, readPep723 } from "../../src/contract/pep723.ts";
import { pick, seededRandom } from "../helpers/random.ts";
import { PythonRuntime } from "../../src/runtimes/python.ts";
import { Manifest } from "../../src/schema.ts";
import { bundleObject, pythonScript } from "../helpers/fake_llm.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheel.ts";

// --- reference data -------------------------------------------------------------------------------

/**
 * Public reference data (pypa/packaging's requirement strings, PEP 723's text) lives beside the
 * clone, in `../shared/peer-testdata`; `PEER_TESTDATA` names another place.
 */
const PEER_TESTDATA = Deno.env.get("PEER_TESTDATA") ??
  fileURLToPath(new URL("../../../shared/peer-testdata/", import.meta.url));

async function readPeer(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(join(PEER_TESTDATA, path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

const PEP508_CASES = await readPeer("packaging/pep508_cases.json");
const PEP723_TEXT = await readPeer("pep723/pep-0723.rst");

/** A test that needs a file of the reference data, shown as ignored (with why) when it is absent. */
function peerTest(name: string, data: string | undefined, fn: () => Promise<void> | void): void {
  const missing = data === undefined;
  Deno.test({
    name: missing ? `${name} (skipped: no reference data in ${PEER_TESTDATA})` : name,
    ignore: missing,
    fn,
  });
}

async function python(code: string, input: string): Promise<{ code: number; stdout: string }> {
  const child = new Deno.Command("python3", {
    args: ["-c", code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

function refusal(fn: () => unknown): RequirementError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RequirementError, `expected a RequirementError, got ${error}`);
    return error;
  }
  assert.fail("expected a RequirementError, got none");
}

// --- PEP 508 against pypa/packaging ---------------------------------------------------------------

interface Pep508Case {
  req: string;
  from: string;
  valid: boolean;
  url?: boolean;
  marker?: boolean;
  extras?: number;
  specs?: [string, string][];
  pinned?: boolean;
  operator?: string | null;
}

/**
 * Requirements packaging accepts that are refused on purpose, with the reason. (Every direct URL
 * reference is refused too, and checked to be refused as one.)
 */
const REFUSED_ON_PURPOSE: Record<string, string> = {
  "pkg-1.0-py3-none-any.whl": "a valid name for packaging, but pip installs it as a local file",
  'demo; \'a" == os_name or python_version >= "0" or "b\' == os_name':
    "a marker value with blanks, which pip's requirements-file syntax could split into options",
};

function pep508Cases(): Pep508Case[] {
  return (JSON.parse(PEP508_CASES!) as { cases: Pep508Case[] }).cases;
}

peerTest(
  "parseRequirement() accepts what pypa/packaging accepts and refuses what it refuses",
  PEP508_CASES,
  () => {
    const cases = pep508Cases();
    assert.ok(cases.length > 5000, `only ${cases.length} cases`);
    const wrong: string[] = [];
    const seenOnPurpose = new Set<string>();
    for (const c of cases) {
      let parsed: PythonRequirement | undefined;
      let reason = "";
      try {
        parsed = parseRequirement(c.req);
        assert.equal(normaliseRequirement(serialise(parsed)), serialise(parsed));
      } catch (error) {
        if (!(error instanceof RequirementError)) throw error;
        reason = error.reason;
      }
      const label = JSON.stringify(c.req);
      if (c.req in REFUSED_ON_PURPOSE) {
        seenOnPurpose.add(c.req);
        if (parsed) wrong.push(`${label}: accepted, but refused on purpose`);
        continue;
      }
      if (!c.valid) {
        if (parsed) wrong.push(`${label}: packaging refuses it, accepted as ${serialise(parsed)}`);
        continue;
      }
      if (c.url) {
        if (parsed || !/direct URL/.test(reason)) {
          wrong.push(`${label}: a direct URL reference, not refused as one (${reason})`);
        }
        continue;
      }
      if (!parsed) {
        wrong.push(`${label}: packaging accepts it, refused: ${reason}`);
        continue;
      }
      if (parsed.extras.length > (c.extras ?? 0)) wrong.push(`${label}: extras ${parsed.extras}`);
      if ((parsed.marker !== undefined) !== c.marker) wrong.push(`${label}: marker`);
      const clauses = new Set((c.specs ?? []).map(([op, v]) => op + v)).size;
      if (parsed.clauses.length > clauses || (clauses > 0) !== (parsed.clauses.length > 0)) {
        wrong.push(`${label}: ${parsed.clauses.length} clauses, packaging ${clauses}`);
      }
      // packaging's label counts `===` as pinned; here only `==` pins (=== compares strings).
      const pinned = pinnedVersion(parsed) !== undefined;
      if (pinned !== (c.pinned === true && c.operator !== "===")) {
        wrong.push(`${label}: pinned ${pinned}, packaging ${c.pinned} (${c.operator})`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.deepEqual([...seenOnPurpose].sort(), Object.keys(REFUSED_ON_PURPOSE).sort());
  },
);

/** Compares each requirement with its serialised form through pip's own copy of packaging. */
const SAME_MEANING = String.raw`
import json, sys
try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name
envs = [{}]
for key, values in {
    "python_version": ["2.7", "3.3", "3.8", "3.12"],
    "python_full_version": ["3.8.0", "3.12.1"],
    "sys_platform": ["linux", "win32"],
    "os_name": ["posix", "nt"],
    "platform_python_implementation": ["CPython", "PyPy"],
    "extra": ["", "oursql", "a", "quux"],
}.items():
    envs += [{key: v} for v in values]
def outcome(marker, env):
    if marker is None:
        return True
    try:
        return marker.evaluate({"extra": "", **env})
    except Exception as exc:
        return type(exc).__name__
wrong = []
checked = 0
for original, ours in json.load(sys.stdin):
    try:
        a = Requirement(original)
    except Exception:
        continue  # newer syntax than this copy of packaging reads
    if a.marker is None and ";" in original:
        continue  # an older copy (pip 23.0's) reads "===x;marker" as one arbitrary string
    b = Requirement(ours)
    checked += 1
    if canonicalize_name(a.name) != b.name:
        wrong.append([original, ours, "name"])
    if sorted({canonicalize_name(e) for e in a.extras}) != sorted(b.extras):
        wrong.append([original, ours, "extras"])
    if a.specifier != b.specifier:
        wrong.append([original, ours, "specifier"])
    # Markers packaging prints alike are one tree: only those it prints differently are evaluated.
    if str(a.marker) != str(b.marker) and \
            any(outcome(a.marker, e) != outcome(b.marker, e) for e in envs):
        wrong.append([original, ours, "marker"])
print(json.dumps({"checked": checked, "wrong": wrong}))
`;

peerTest(
  "serialise() keeps the name, extras, specifier and marker meaning for packaging",
  PEP508_CASES,
  async () => {
    const pairs: [string, string][] = [];
    for (const c of pep508Cases()) {
      try {
        pairs.push([c.req, normaliseRequirement(c.req)]);
      } catch (error) {
        if (!(error instanceof RequirementError)) throw error;
      }
    }
    const out = JSON.parse((await python(SAME_MEANING, JSON.stringify(pairs))).stdout) as {
      checked: number;
      wrong: string[][];
    };
    assert.ok(out.checked > 2000, `only ${out.checked} compared`);
    assert.deepEqual(out.wrong, []);
  },
);

// --- PEP 508: the bugs this module fixes --------------------------------------------------------

Deno.test("parseRequirement() normalises name, extras, specifier and marker", () => {
  const parsed = parseRequirement(
    ` Foo_Bar.baz [ Socks , security,SOCKS ] ( >= 1.0-alpha , ==1.0.*, >=1.0a0 ) ;` +
      `python_version>='3.8' and(os_name=="nt" or sys.platform == 'linux')`,
  );
  assert.deepEqual(parsed, {
    name: "foo-bar-baz",
    extras: ["security", "socks"],
    specifier: "==1.0.*,>=1.0a0",
    clauses: [{ operator: "==", version: "1.0.*" }, { operator: ">=", version: "1.0a0" }],
    marker: 'python_version >= "3.8" and (os_name == "nt" or sys_platform == "linux")',
  });
  assert.equal(
    serialise(parsed),
    'foo-bar-baz[security,socks]==1.0.*,>=1.0a0; python_version >= "3.8" and ' +
      '(os_name == "nt" or sys_platform == "linux")',
  );
});

Deno.test("parseRequirement() refuses invalid versions instead of rewriting them", () => {
  for (const bad of ["pkg==french toast", "pkg==1.0 a1", "pkg==banana", "pkg==1..0"]) {
    refusal(() => parseRequirement(bad));
    assert.throws(() => normaliseRequirements([bad]), DependencyError, JSON.stringify(bad));
  }
});

Deno.test("parseRequirement() refuses pip options, URLs, paths and several lines", () => {
  const cases: [string, RegExp][] = [
    ['pkg==1.0; python_version > "3" --config-settings=a=b', /pip options/],
    ["pkg==1.0 --hash=sha256:0000", /pip options/],
    ["--index-url https://evil.example/simple", /pip options/],
    ["-r other.txt", /pip options/],
    ["pkg @ https://evil.example/pkg.whl", /direct URL/],
    ["pkg[x]@file:///tmp/pkg", /direct URL/],
    ["./pkg", /paths/],
    ["/abs/pkg", /paths/],
    ["pkg-1.0.tar.gz", /local archive/],
    ["pkg==1.0+local.zip", /local archive/],
    ["pkg===1.0.whl", /local archive/],
    ["pkg[x]==1.0+b.tar", /local archive/],
    ["pkg==1.0\n--extra-index-url http://evil.example", /several lines/],
    ['pkg==1.0; os_name == "a --index-url=http://evil.example"', /blank/],
    ["pkg==1.0 # comment", /expected/],
    ["pkg===${HOME}", /expected/],
    ["", /empty/],
  ];
  for (const [bad, reason] of cases) {
    assert.match(refusal(() => parseRequirement(bad)).reason, reason, JSON.stringify(bad));
  }
});

Deno.test("serialise() refuses a parsed form that was altered", () => {
  const parsed = parseRequirement("pkg==1.0");
  for (
    const altered of [
      { ...parsed, specifier: "==1.0 --index-url=http://evil.example" },
      { ...parsed, name: "pkg @ https://evil.example/x.whl" },
      { ...parsed, marker: 'os_name == "posix"\n-r /etc/passwd' },
      { ...parsed, name: "Pkg" },
    ]
  ) {
    refusal(() => serialise(altered));
  }
});

Deno.test("pinProblem() and pinnedVersion() accept exactly one == clause with a PEP 440 version", () => {
  for (const ok of ["a==1.0", "a == 1.0", "a[x,y]==1.0", 'a==1.0+local; os_name == "nt"']) {
    assert.equal(pinProblem(ok), undefined, ok);
  }
  for (const bad of ["a", "a>=1", "a==1.*", "a==1.0,<2", "a===1.0", "a~=1.0", "a==x y"]) {
    assert.match(pinProblem(bad) ?? "", /pin|valid requirement/, bad);
  }
});

Deno.test("name == 1.0 with blanks is one requirement everywhere", async () => {
  const spaced = "requests == 2.31.0";
  assert.equal(pinProblem(spaced), undefined);
  assert.deepEqual(normaliseRequirements([spaced, "Requests==2.31.0"]), ["requests==2.31.0"]);
  // Header, requirements and PEP 723 spelled three ways; the import counts as provided.
  const bundle = await checkBundle(
    bundleObject({
      requirements: [spaced],
      headerDeps: ["requests==2.31.0"],
      pep723Deps: ["Requests ==2.31.0"],
      imports: ["requests"],
    }),
    { language: "python" },
  );
  assert.deepEqual(bundle.requirements, [spaced]);
});

// --- the contract, end to end ---------------------------------------------------------------------

Deno.test("checkBundle() accepts pinned requirements with extras in the header and PEP 723", async () => {
  const requirements = ["requests[security]==2.31.0", "a[x,y]==1.0"];
  const bundle = await checkBundle(
    bundleObject({ requirements, imports: ["requests"] }),
    { language: "python" },
  );
  assert.deepEqual(bundle.requirements, requirements);
  // The header lists them comma-separated, and its commas inside brackets do not split.
  assert.match(bundle.script, /# deps: requests\[security\]==2\.31\.0, a\[x,y\]==1\.0/);
});

Deno.test("checkBundle() compares extras: a missing extra is a difference", async () => {
  const err = await checkBundle(
    bundleObject({ requirements: ["a[x,y]==1.0"], headerDeps: ["a[x]==1.0"] }),
    { language: "python" },
  ).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ContractViolation, String(err));
  assert.match(err.reason, /header's deps \(a\[x\]==1\.0\) differ/);
});

Deno.test("checkBundle() refuses invalid and option-carrying requirements", async () => {
  for (
    const bad of [
      "pkg==french toast",
      'pkg==1.0; python_version > "3" --config-settings=a=b',
      "pkg @ https://evil.example/pkg.whl",
    ]
  ) {
    const err = await checkBundle(bundleObject({ requirements: [bad] }), { language: "python" })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ContractViolation, `${bad}: ${err}`);
    assert.match(err.reason, /pinned/, bad);
    assert.ok(err.reason.includes(bad), bad);
  }
});

Deno.test("checkBundle() refuses a script with two PEP 723 script blocks", async () => {
  // A second block after a line of code (adjacent comment lines would make one block).
  const docstring = '"""A test script written by tests/fake_llm.ts."""\n';
  const script = pythonScript({ requirements: ["a==1.0"] }).replace(
    docstring,
    docstring + '# /// script\n# dependencies = ["evil==6.6.6"]\n# ///\n',
  );
  assert.ok(script.includes("evil"));
  const err = await checkBundle(
    bundleObject({ script, requirements: ["a==1.0"] }),
    { language: "python" },
  ).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ContractViolation, String(err));
  assert.match(err.reason, /PEP 723 block cannot be read: there are several/);
});

// --- the header's deps line -----------------------------------------------------------------------

Deno.test("splitDepsLine() splits on the commas between requirements only", () => {
  assert.deepEqual(splitDepsLine(" none "), []);
  assert.deepEqual(splitDepsLine(""), []);
  assert.deepEqual(
    splitDepsLine(
      `requests[security, socks]==2.31.0, a>=1,<2 , b (>=1, <2), c==1; os_name in "a,b", d==1`,
    ),
    [
      "requests[security, socks]==2.31.0",
      "a>=1,<2",
      "b (>=1, <2)",
      'c==1; os_name in "a,b"',
      "d==1",
    ],
  );
  assert.deepEqual(splitDepsLine("zod==3.23.8, @scope/pkg==1.0.0"), [
    "zod==3.23.8",
    "@scope/pkg==1.0.0",
  ]);
});

// --- npm ------------------------------------------------------------------------------------------

Deno.test("parseNpmRequirement() takes exact semver versions and scoped names", () => {
  assert.deepEqual(parseNpmRequirement(" @scope/pkg == 1.2.3-rc.1 "), {
    name: "@scope/pkg",
    version: "1.2.3-rc.1",
  });
  for (const bad of ["zod==^3.23.8", "zod==3.23", "zod", "zod==1.0.0==2.0.0", "../x==1.0.0"]) {
    refusal(() => parseNpmRequirement(bad));
  }
  assert.deepEqual(normaliseNpmRequirements(["b == 1.0.0", "a==2.0.0", "b==1.0.0"]), [
    "a==2.0.0",
    "b==1.0.0",
  ]);
  assert.throws(() => normaliseNpmRequirements(["zod==latest"]), DependencyError, "zod==latest");
});

// --- pip's requirements file ----------------------------------------------------------------------

Deno.test("pipRequirementsFile() holds exactly the serialised forms, sorted", () => {
  assert.equal(
    pipRequirementsFile(['Foo_Bar [Z, y] == 1.0 ; python_version>="3"', "b==2", "B==2"]),
    'b==2\nfoo-bar[y,z]==1.0; python_version >= "3"\n',
  );
  assert.equal(pipRequirementsFile([]), "");
  assert.throws(
    () => pipRequirementsFile(['pkg==1.0; python_version > "3" --config-settings=a=b']),
    DependencyError,
  );
});

function manifest(deps: string[], version: string): Manifest {
  return Manifest.parse({
    fingerprint: "fp_" + "0".repeat(32),
    prompt_sha: "p_" + "0".repeat(32),
    context_sha: "c_" + "0".repeat(32),
    prompt: "test",
    language: "python",
    entry: "script.py",
    runtime: { name: "python", version },
    deps,
    needs: { network: [], env: [] },
    allow: {},
    template_version: "1",
    generator: { kind: "manual" },
    created_at: new Date().toISOString(),
    files: {},
  });
}

Deno.test("PythonRuntime.prepare() gives pip exactly the serialised requirements", async () => {
  await using tmp = await withTmpDir();
  const wheels = join(tmp.path, "wheels");
  await buildWheel(wheels, {
    name: "capibara-fixture",
    version: "1.0.0",
    module: { "capi_fixture.py": "VALUE = 1\n" },
  });
  const env = {
    ...Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([name]) => !name.startsWith("PIP_")),
    ),
    PIP_CONFIG_FILE: "/dev/null",
    PIP_NO_INDEX: "1",
    PIP_FIND_LINKS: wheels,
    PIP_NO_CACHE_DIR: "1",
  };
  const runtime = new PythonRuntime({ env });
  const { version } = await runtime.describe();
  const cacheDir = join(tmp.path, "cache");
  const scriptDir = join(tmp.path, "script");
  await Deno.mkdir(scriptDir);

  const refused = await runtime.prepare(
    manifest(['capibara-fixture==1.0.0; python_version > "3" --config-settings=a=b'], version),
    scriptDir,
    { cacheDir },
  ).then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof DependencyError, String(refused));
  assert.match(refused.message, /pip options are not allowed/);

  const deps = ['Capibara_Fixture [ Z , y ] == 1.0.0 ; python_version >= "3"'];
  const prepared = await runtime.prepare(manifest(deps, version), scriptDir, { cacheDir });
  const venv = prepared.env.VIRTUAL_ENV ?? assert.fail("no VIRTUAL_ENV");
  const written = await Deno.readTextFile(join(venv, "capibara-requirements.txt"));
  assert.equal(written, pipRequirementsFile(deps));
  assert.equal(written, 'capibara-fixture[y,z]==1.0.0; python_version >= "3"\n');
});

// --- PEP 723 against its reference implementation -------------------------------------------------

/** The Python code of PEP 723's "Reference Implementation" section (its first code block). */
function referenceReader(rst: string): string {
  const section = rst.slice(rst.indexOf("Reference Implementation\n====="));
  const start = section.indexOf(".. code:: python\n\n") + ".. code:: python\n\n".length;
  const lines: string[] = [];
  for (const line of section.slice(start).split("\n")) {
    if (line !== "" && !line.startsWith("   ")) break;
    lines.push(line.slice(3));
  }
  const code = lines.join("\n");
  assert.match(code, /def read\(script: str\)/);
  assert.match(code, /tomllib\.loads/);
  return code;
}

const RUN_REFERENCE = String.raw`
import json, sys
namespace = {}
exec(sys.argv[1], namespace)
out = []
for script in json.load(sys.stdin):
    try:
        metadata = namespace["read"](script)
    except Exception as exc:
        out.append({"error": type(exc).__name__})
        continue
    if metadata is None:
        out.append({"none": True})
    else:
        out.append({"dependencies": metadata.get("dependencies", []),
                    "requires_python": metadata.get("requires-python")})
print(json.dumps(out))
`;

const block = (...lines: string[]) =>
  `#!/usr/bin/env python3\n# /// script\n${lines.map((l) => `# ${l}\n`).join("")}# ///\n` +
  `import sys\n`;

/** Scripts on which a hand-written reader and the reference reader have disagreed. */
const PEP723_SCRIPTS: Record<string, string> = {
  "plain": block('requires-python = ">=3.9"', 'dependencies = ["requests==2.31.0"]'),
  "extras with commas": block(
    'dependencies = ["requests[security,socks]==2.31.0", "a[x, y]==1.0"]',
  ),
  "escaped quotes": block(String.raw`dependencies = ["a==1.0; os_name == \"posix\""]`),
  "unicode escapes": block(String.raw`dependencies = ["\u0072equests==2.31.0"]`),
  "literal strings": block("dependencies = ['requests[socks]==2.31.0', '''b==1.0''']"),
  "] in a comment": block(
    "dependencies = [",
    '  "a==1.0",  # see [docs] ]',
    '  "b==2.0",',
    "]",
  ),
  "[tool] table after": block(
    'dependencies = ["a==1.0"]',
    "",
    "[tool.capibara]",
    'dependencies = ["evil==6.6.6"]',
  ),
  "[tool] table first": block("[tool.capibara]", 'dependencies = ["evil==6.6.6"]'),
  "two script blocks": block('dependencies = ["a==1.0"]') +
    block('dependencies = ["evil==6.6.6"]'),
  "a script block and another type": block('dependencies = ["a==1.0"]') +
    "# /// pyproject\n# x = 1\n# ///\n",
  "trailing space after the opening": block('dependencies = ["a==1.0"]').replace(
    "# /// script\n",
    "# /// script \n",
  ),
  "trailing space after the closing": block('dependencies = ["a==1.0"]').replace(
    "# ///\nimport",
    "# /// \nimport",
  ),
  "closing later": block('dependencies = ["a==1.0"]').replace(
    "# ///\nimport",
    "# /// \n#\n# ///\n",
  ),
  "CRLF line ends": block('dependencies = ["a==1.0"]').replaceAll("\n", "\r\n"),
  "no blank after #": '# /// script\n#dependencies = ["a==1.0"]\n# ///\n',
  "indented": '  # /// script\n  # dependencies = ["a==1.0"]\n  # ///\n',
  "empty comment lines": block("", 'dependencies = ["a==1.0"]', ""),
  "U+2028 in a comment": block('dependencies = ["a==1.0"]  # x\u2028y'),
  "form feed after the array": block('dependencies = ["a==1.0"]\f'),
  "unclosed array": block('dependencies = ["a==1.0"'),
  "duplicate key": block('dependencies = ["a==1.0"]', 'dependencies = ["b==1.0"]'),
  "no dependencies key": block('requires-python = ">=3.9"'),
  "no block": "import sys\n",
};

/**
 * Scripts on which smol-toml (TOML 1.1) and Python 3.11's tomllib (TOML 1.0) differ: TOML 1.1
 * added `\x` and `\e` escapes and newlines in inline tables. The block is still read the same way;
 * only the TOML version differs, and the dependencies are checked as requirements either way.
 */
const TOML_11_SCRIPTS: Record<string, string> = {
  "\\x escape (TOML 1.1)": block(String.raw`dependencies = ["\x61==1.0"]`),
};

type Outcome = { error: string } | { none: true } | {
  dependencies: string[];
  requires_python: string | null;
};

function ours(script: string): Outcome {
  try {
    const metadata = readPep723(script);
    if (metadata === undefined) return { none: true };
    return {
      dependencies: metadata.dependencies,
      requires_python: metadata.requiresPython ?? null,
    };
  } catch (error) {
    if (!(error instanceof RequirementError)) throw error;
    return { error: "refused" };
  }
}

async function reference(code: string, scripts: string[]): Promise<Outcome[]> {
  const child = new Deno.Command("python3", {
    args: ["-c", RUN_REFERENCE, code],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(scripts)));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

peerTest("readPep723() agrees with PEP 723's reference reader", PEP723_TEXT, async () => {
  const code = referenceReader(PEP723_TEXT!);
  const names = Object.keys(PEP723_SCRIPTS);
  const expected = await reference(code, Object.values(PEP723_SCRIPTS));
  const disagreements: string[] = [];
  names.forEach((name, i) => {
    const want = expected[i]!;
    const got = ours(PEP723_SCRIPTS[name]!);
    const same = "error" in want ? "error" in got : JSON.stringify(got) === JSON.stringify(want);
    if (!same) {
      disagreements.push(`${name}: reference ${JSON.stringify(want)}, ours ${JSON.stringify(got)}`);
    }
  });
  assert.deepEqual(disagreements, []);
  // The table exercises each kind of outcome.
  assert.ok(expected.some((o) => "error" in o));
  assert.ok(expected.some((o) => "none" in o));
  assert.deepEqual(ours(PEP723_SCRIPTS["extras with commas"]!), {
    dependencies: ["requests[security,socks]==2.31.0", "a[x, y]==1.0"],
    requires_python: null,
  });
  assert.deepEqual(ours(PEP723_SCRIPTS["[tool] table after"]!), {
    dependencies: ["a==1.0"],
    requires_python: null,
  });

  // Known difference: the TOML version. Asserted, so that a change on either side is seen.
  const [toml11] = await reference(code, Object.values(TOML_11_SCRIPTS));
  assert.ok(toml11 && "error" in toml11, JSON.stringify(toml11));
  assert.deepEqual(ours(Object.values(TOML_11_SCRIPTS)[0]!), {
    dependencies: ["a==1.0"],
    requires_python: null,
  });
});

Deno.test("pep723Blocks() finds the blocks PEP 723's regular expression finds, on generated scripts", () => {
  // The reference expression, as Python's re reads it (see pep723.ts), run by JavaScript's engine.
  const blank = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a" +
    "\\u2028\\u2029\\u202f\\u205f\\u3000]";
  const [bol, eol] = ["(?<![^\\n])", "(?![^\\n])"];
  const expression = new RegExp(
    `${bol}# /// (?<type>[a-zA-Z0-9-]+)${eol}${blank}` +
      `(?<content>(?:${bol}#(?:| [^\\n]*)${eol}${blank})+)${bol}# ///${eol}`,
    "g",
  );
  const pieces = [
    "# /// script",
    "# /// pyproject",
    "# ///",
    "# /// ",
    "#",
    "# x = 1",
    "#x",
    "  # ///",
    "import sys",
    "",
    "# /// script\r",
    "#\u2028",
  ];
  const next = seededRandom(11);
  let found = 0;
  for (let i = 0; i < 20_000; i++) {
    const count = 1 + Math.floor(next() * 10);
    const lines = Array.from({ length: count }, () => pick(pieces, next));
    const script = lines.join("\n") + (next() < 0.5 ? "\n" : "");
    const expected = [...script.matchAll(expression)].map((m) => ({
      type: m.groups!.type!,
      content: m.groups!.content!,
    }));
    assert.deepEqual(pep723Blocks(script), expected, JSON.stringify(script));
    found += expected.length;
  }
  assert.ok(found > 500, `only ${found} blocks in the generated scripts`);
});

Deno.test("parseRequirement() refuses a marker nested past 32 parentheses with a RequirementError, not a stack overflow", () => {
  const nested = (depth: number) =>
    `a==1.0; ${"(".repeat(depth)}python_version > "3"${")".repeat(depth)}`;
  parseRequirement(nested(32));
  assert.throws(() => parseRequirement(nested(33)), /at most 32 nested parentheses/);
  assert.throws(() => parseRequirement("a;" + "(".repeat(16_000)), RequirementError);
});
