/**
 * The real CLI facing what a model or a script wrote: terminal control sequences in outputs,
 * stderr, needs and prompts; a final line built to overflow the parser; a `.capibara/` planted
 * below the project root.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { fakeServerEnv, OS_SANDBOX, runCli, testCache } from "../helpers/cli.ts";
import { assertTerminalSafe } from "../helpers/terminal.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { requirementsText } from "../../src/store/entry.ts";
import { forge } from "../store/_fixture.ts";
import { sha256 } from "../../src/_hash.ts";
import { manualCommand } from "../../src/readme.ts";
import { fingerprint } from "../../src/fingerprint.ts";

// Python scripts run inside the OS sandbox; without one those tests skip here, visibly.
if (!OS_SANDBOX) {
  console.warn("SKIPPED: CLI tests that run Python scripts need bubblewrap");
}

/** A test that runs a Python script through the CLI: skipped without the OS sandbox. */
function sandboxTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !OS_SANDBOX, fn });
}

const CACHE = await testCache("capibara_untrusted_cache_");

function envFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return fakeServerEnv(url, CACHE, extra);
}

/**
 * Every sequence the attack used: clipboard write (OSC 52), title (OSC 0), a link (OSC 8), clear
 * the screen, erase the line and return to its start, the same in C1 form, and bidirectional
 * overrides and isolates that reorder what is read.
 */
const EVIL = "\x1b]52;c;aGVsbG8=\x07|\x1b]0;owned\x07|\x1b]8;;https://evil.example/\x1b\\link" +
  "\x1b]8;;\x1b\\|\x1b[2J|\x1b[2K\rhidden|\x9b31m\x9d0;t\x9c|\u202eevil\u202c|\u2066iso\u2069";
/** How each part of EVIL must be shown. */
const SHOWN = [
  "\\u001b]52;c;aGVsbG8=\\u0007",
  "\\u001b]0;owned\\u0007",
  "\\u001b]8;;https://evil.example/\\u001b\\link\\u001b]8;;\\u001b\\",
  "\\u001b[2J",
  "\\u001b[2K\\rhidden",
  "\\u009b31m\\u009d0;t\\u009c",
  "\\u202eevil\\u202c",
  "\\u2066iso\\u2069",
];

/** A Python string literal of `text`, in ASCII (no raw control character in the script). */
function pyString(text: string): string {
  return '"' + [...text].map((c) => {
    const code = c.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f && c !== '"' && c !== "\\") return c;
    return code > 0xffff
      ? `\\U${code.toString(16).padStart(8, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  }).join("") + '"';
}

function assertShown(text: string, what: string): void {
  assertTerminalSafe(text, what);
  for (const part of SHOWN) assert.ok(text.includes(part), `${what} lacks ${part}:\n${text}`);
}

/** Writes `script` as an entry's script.py with its integrity record made to match (a forgery). */
async function plantScript(dir: string, script: string): Promise<void> {
  await Deno.writeTextFile(join(dir, "script.py"), script);
  await forge(dir, async (manifest) => {
    (manifest.files as Record<string, string>)["script.py"] = "sha256:" + await sha256(script);
  });
}

interface ErrorDoc {
  error: { type: string; message: string; hint: string; details?: Record<string, unknown> };
}

sandboxTest(
  "capibara run, list, show, verify and doctor escape control characters; --json is exact",
  async () => {
    await using tmp = await withTmpDir();
    const body = [
      `evil = ${pyString(EVIL)}`,
      'if ctx.get("fail"):',
      '    sys.stderr.buffer.write(("boom " + evil + "\\n").encode("utf-8"))',
      "    sys.stderr.flush()",
      "    sys.exit(3)",
      'return {"output": {"value": evil, "list": [evil], evil: 1}, "artifacts": []}',
    ].join("\n");
    await using llm = startFakeLLM({
      replies: (request) =>
        JSON.stringify(request).includes("Need it")
          ? bundleReply({ needs: { env: [`TOKEN${EVIL}`] }, readme: `Notes ${EVIL}` })
          : JSON.stringify(request).includes("Need that")
          ? bundleReply({ needs: { env: ["TOKEN"] }, readme: `Notes ${EVIL}` })
          : bundleReply({ body, outputs: { value: "str" }, readme: `Notes ${EVIL}` }),
    });
    const env = envFor(llm.url, { CAPIBARA_MODEL: `model${EVIL}` });
    const prompt = `Echo ${EVIL} back`;

    // Output values and keys.
    const ok = await runCli(["run", prompt], { cwd: tmp.path, env });
    assert.equal(ok.code, 0, ok.stderr);
    assertShown(ok.stdout, "run's stdout");
    assertTerminalSafe(ok.stderr, "run's stderr");
    const okJson = await runCli(["run", prompt, "--json"], { cwd: tmp.path, env });
    assert.equal(okJson.code, 0, okJson.stderr);
    assert.deepEqual((okJson.json as { output: unknown }).output, {
      value: EVIL,
      list: [EVIL],
      [EVIL]: 1,
    });
    assertTerminalSafe(okJson.stdout, "run's --json stdout");

    // The stderr tail of an ExecError.
    const fail = await runCli(["run", prompt, "--context", '{"fail": true}'], {
      cwd: tmp.path,
      env,
    });
    assert.equal(fail.code, 5, fail.stderr);
    assert.match(fail.stderr, /^error\[ExecError\]: Script exited with code 3\n {2}boom /m);
    assertShown(fail.stderr, "the ExecError");
    const failJson = await runCli(["run", prompt, "--context", '{"fail": true}', "--json"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(failJson.code, 5);
    const failDoc = failJson.json as ErrorDoc;
    assert.ok(failDoc.error.message.endsWith(`boom ${EVIL}`), failDoc.error.message);
    assert.equal(failDoc.error.details?.stderr, `boom ${EVIL}`);
    assertTerminalSafe(failJson.stdout, "the ExecError's --json");

    // Needs chosen by the model that no grant could allow: the contract refuses them, named
    // escaped, and nothing is stored.
    const invalid = await runCli(["run", "Need it"], { cwd: tmp.path, env });
    assert.equal(invalid.code, 6, invalid.stderr);
    assert.match(invalid.stderr, /no grant can allow: "TOKEN\\u001b\]52;c;/);
    assertShown(invalid.stderr, "the TemplateError");
    // Such needs in a stored entry (a repository's, its record made to match): refused at the
    // run, named escaped.
    const stored = await runCli(["run", "Need that", "--dry-run", "--json"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(stored.code, 0, stored.stderr);
    const needyDir = join(
      tmp.path,
      ".capibara",
      "scripts",
      (stored.json as { fingerprint: string }).fingerprint,
    );
    await forge(needyDir, (manifest) => {
      (manifest.needs as { env: string[] }).env = [`TOKEN${EVIL}`];
    });
    const needs = await runCli(["run", "Need that"], { cwd: tmp.path, env });
    assert.equal(needs.code, 7, needs.stderr);
    assert.match(needs.stderr, /--allow-env TOKEN\\u001b\]52;c;/);
    assertShown(needs.stderr, "the PermissionError");
    const needsJson = await runCli(["run", "Need that", "--json"], { cwd: tmp.path, env });
    const needsDoc = needsJson.json as ErrorDoc;
    assert.deepEqual(needsDoc.error.details?.missing, [`--allow-env TOKEN${EVIL}`]);

    // list, show and verify of the stored entries.
    const list = await runCli(["list"], { cwd: tmp.path, env });
    assert.equal(list.code, 0, list.stderr);
    assertTerminalSafe(list.stdout + list.stderr, "list");
    assert.match(list.stdout, /Echo \\u001b\]52;c;aGVsbG8=\\u0007\|/);
    const listJson = await runCli(["list", "--json"], { cwd: tmp.path, env });
    type Listed = { scripts: { fingerprint: string; prompt: string; needs: { env: string[] } }[] };
    const listed = (listJson.json as Listed).scripts;
    // Two entries echo (two contexts), one needs.
    assert.deepEqual(listed.map((s) => s.prompt).sort(), [prompt, prompt, "Need that"]);
    assertTerminalSafe(listJson.stdout, "list --json");
    const needy = listed.find((s) => s.prompt === "Need that")!;
    assert.deepEqual(needy.needs.env, [`TOKEN${EVIL}`]);
    const echo = listed.find((s) => s.prompt === prompt)!;

    const show = await runCli(["show", needy.fingerprint], { cwd: tmp.path, env });
    assert.equal(show.code, 0, show.stderr);
    // The need is on its own line, whole and visible: nothing after it can erase or hide it.
    const needsLine = show.stdout.split("\n").find((l) => l.startsWith("needs:"));
    assert.equal(needsLine, `needs:      network: none; env: TOKEN${SHOWN.join("|")}`);
    assertShown(show.stdout, "show");
    const showEcho = await runCli(["show", echo.fingerprint], { cwd: tmp.path, env });
    assert.match(showEcho.stdout, /^prompt: {5}Echo \\u001b\]52;c;aGVsbG8=\\u0007\|/m);
    assertShown(showEcho.stdout, "show");
    const showJson = await runCli(["show", needy.fingerprint, "--json"], { cwd: tmp.path, env });
    type Shown = { manifest: { needs: { env: string[] }; prompt: string } };
    assert.deepEqual((showJson.json as Shown).manifest.needs.env, [`TOKEN${EVIL}`]);
    assertTerminalSafe(showJson.stdout, "show --json");

    // verify names the forged needs as failing the contract, escaped.
    const verify = await runCli(["verify"], { cwd: tmp.path, env });
    assert.equal(verify.code, 6, verify.stdout + verify.stderr);
    assertTerminalSafe(verify.stdout + verify.stderr, "verify");
    assert.match(verify.stdout + verify.stderr, /no grant can allow: "TOKEN\\u001b\]52;c;/);

    // The configuration the doctor reports (here the model's name from the environment).
    const doctor = await runCli(["doctor"], { cwd: tmp.path, env });
    assertTerminalSafe(doctor.stdout + doctor.stderr, "doctor");
    assert.match(doctor.stdout, /\(model model\\u001b\]52;c;aGVsbG8=/);
    const doctorJson = await runCli(["doctor", "--json"], { cwd: tmp.path, env });
    type Doctor = { checks: { name: string; detail: string }[] };
    const generator = (doctorJson.json as Doctor).checks.find((c) => c.name === "generator")!;
    assert.ok(generator.detail.endsWith(`(model model${EVIL})`), generator.detail);
  },
);

sandboxTest("capibara run: a final line nested 100,000 deep is an ExecError (exit 5)", async () => {
  await using tmp = await withTmpDir();
  const body = [
    'deep = "[" * 100000 + "]" * 100000',
    'print(\'{"status": "ok", "output": {"v": \' + deep + "}}", flush=True)',
    "sys.exit(0)",
  ].join("\n");
  await using llm = startFakeLLM({ replies: [bundleReply({ body })] });
  const human = await runCli(["run", "Nest deeply"], { cwd: tmp.path, env: envFor(llm.url) });
  assert.equal(human.code, 5, human.stderr);
  assert.match(
    human.stderr,
    /^error\[ExecError\]: Script broke the output contract: its last line is nested deeper than 64 levels$/m,
  );
  const json = await runCli(["run", "Nest deeply", "--json"], {
    cwd: tmp.path,
    env: envFor(llm.url),
  });
  assert.equal(json.code, 5);
  assert.equal((json.json as ErrorDoc).error.type, "ExecError");
  assert.match((json.json as ErrorDoc).error.message, /nested deeper than 64 levels/);
});

sandboxTest(
  "capibara run: a .capibara/ planted below the git root is ignored, with a warning; --root uses it",
  async () => {
    await using tmp = await withTmpDir();
    await Deno.mkdir(join(tmp.path, ".git"));
    // The folder's name carries a control sequence too: the warning names it, escaped.
    const subName = "sub\x1b]0;t\x07";
    const sub = join(tmp.path, subName);
    await Deno.mkdir(sub);
    const who = (name: string) => bundleReply({ body: `return {"output": {"who": "${name}"}}` });
    await using llm = startFakeLLM({ replies: [who("planted"), who("project")] });
    const env = envFor(llm.url);
    const args = ["run", "Who runs here", "--json"];

    // A script's planting, done here by an explicit --root: an entry for the same request.
    const planted = await runCli([...args, "--root", subName], { cwd: tmp.path, env });
    assert.equal(planted.code, 0, planted.stderr);
    assert.deepEqual((planted.json as { output: unknown }).output, { who: "planted" });
    const fp = (planted.json as { fingerprint: string }).fingerprint;
    assert.ok((await Deno.stat(join(sub, ".capibara", "scripts", fp))).isDirectory);
    // ... and a config that would break every run it applied to.
    await Deno.writeTextFile(join(sub, ".capibara", "config.json"), '{"timeout": 0.001}\n');

    // From sub/, the store is the git root's: the planted entry never runs, its config never
    // applies, and the warning names it.
    const fromSub = await runCli(args, { cwd: sub, env });
    assert.equal(fromSub.code, 0, fromSub.stderr);
    assert.deepEqual((fromSub.json as { output: unknown }).output, { who: "project" });
    assert.equal((fromSub.json as { cached: boolean }).cached, false);
    assert.equal(llm.requests, 2);
    assert.ok((await Deno.stat(join(tmp.path, ".capibara", "scripts", fp))).isDirectory);
    assertTerminalSafe(fromSub.stderr, "the warning");
    const ignored = join(tmp.path, "sub\\u001b]0;t\\u0007", ".capibara");
    assert.ok(fromSub.stderr.includes(`warning: ignoring ${ignored}: `), fromSub.stderr);
    const list = await runCli(["list", "--json"], { cwd: sub, env });
    assert.equal((list.json as { root: string }).root, tmp.path);

    // --root names the store on purpose: there, the planted config applies (and times out).
    const rooted = await runCli([...args, "--root", "."], { cwd: sub, env });
    assert.equal(rooted.code, 5, rooted.stderr);
    assert.match((rooted.json as ErrorDoc).error.message, /timed out/);
    assert.doesNotMatch(rooted.stderr, /warning: ignoring/);
    assert.equal(llm.requests, 2);

    const missing = await runCli(["list", "--root", "nowhere"], { cwd: tmp.path, env });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot use --root "nowhere": it is not a directory/);
  },
);

Deno.test("capibara list: outside a git repository the store is the current directory's", async () => {
  await using tmp = await withTmpDir();
  const work = join(tmp.path, "work");
  await Deno.mkdir(join(tmp.path, ".capibara", "scripts"), { recursive: true });
  await Deno.mkdir(work);
  const env = { CAPIBARA_CACHE_DIR: CACHE };
  const here = await runCli(["list", "--json"], { cwd: work, env });
  assert.equal(here.code, 0, here.stderr);
  assert.equal((here.json as { root: string }).root, work);
  const up = await runCli(["list", "--json", "--root", ".."], { cwd: work, env });
  assert.equal(up.code, 0, up.stderr);
  assert.equal((up.json as { root: string }).root, tmp.path);
});

Deno.test("capibara trust --show --root: a committed config's text and grants are shown escaped", async () => {
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "project");
  await Deno.mkdir(join(project, ".capibara"), { recursive: true });
  const config = { generator: { model: `m${EVIL}` }, allow: { env: [`X${EVIL}`] } };
  // ESC is a JSON escape in the file; C1 and bidirectional characters are raw, as JSON allows.
  const text = JSON.stringify(config, null, 2);
  await Deno.writeTextFile(join(project, ".capibara", "config.json"), text + "\n");
  const env = { CAPIBARA_CACHE_DIR: await Deno.makeTempDir({ dir: tmp.path }) };
  const show = await runCli(["trust", "--show", "--root", "project"], { cwd: tmp.path, env });
  assert.equal(show.code, 0, show.stderr);
  assertTerminalSafe(show.stdout + show.stderr, "trust --show");
  assert.match(show.stdout, /use the model "m\\u001b\]52;c;aGVsbG8=\\u0007\|/);
  assert.ok(show.stdout.includes("\\u009b31m\\u009d0;t\\u009c|\\u202eevil\\u202c"), show.stdout);
  const json = await runCli(["trust", "--show", "--root", "project", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(json.code, 0, json.stderr);
  assertTerminalSafe(json.stdout, "trust --show --json");
  const doc = json.json as { model: string; grants: { env: string[] } };
  assert.equal(doc.model, `m${EVIL}`);
  assert.deepEqual(doc.grants.env, [`X${EVIL}`]);
  // The run refuses the untrusted file; its error names the grants, escaped.
  const run = await runCli(["run", "Anything", "--root", "project"], { cwd: tmp.path, env });
  assert.equal(run.code, 7, run.stderr);
  assertTerminalSafe(run.stderr, "the untrusted config's PermissionError");
  assert.match(run.stderr, /X\\u001b\]52;c;/);
});

Deno.test("a committed config that only grants a private address or a longer time limit needs trust: run refuses it", async () => {
  // Both were counted as no grant: a repository's own entry read a loopback service's secret,
  // and held its runs for weeks (an attacker's review).
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "project");
  await Deno.mkdir(join(project, ".capibara"), { recursive: true });
  const config = { allow: { private_network: ["127.0.0.1:18080"] }, timeout: 2_000_000 };
  await Deno.writeTextFile(join(project, ".capibara", "config.json"), JSON.stringify(config));
  const env = { CAPIBARA_CACHE_DIR: await Deno.makeTempDir({ dir: tmp.path }) };
  const show = await runCli(["trust", "--show", "--root", "project"], { cwd: tmp.path, env });
  assert.equal(show.code, 0, show.stderr);
  assert.doesNotMatch(show.stdout, /needs no trust/);
  assert.match(show.stdout, /"127\.0\.0\.1:18080"/);
  assert.match(show.stdout, /up to 2000000 s/);
  const run = await runCli(["run", "Anything", "--root", "project", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(run.code, 7, run.stderr);
  const error = (run.json as { error: { details: { grants: { private_network: string[] } } } })
    .error;
  assert.deepEqual(error.details.grants.private_network, ["127.0.0.1:18080"]);
});

sandboxTest(
  "a repository's manifest or configuration that is a link to /dev/zero, a FIFO or huge: refused at once, never read",
  async () => {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    const args = ["run", "Echo the context back", "--context", '{"n": 1}', "--json"];
    const first = await runCli(args, { cwd: tmp.path, env });
    assert.equal(first.code, 0, first.stderr);
    const fp = (first.json as { fingerprint: string }).fingerprint;
    const manifest = join(tmp.path, ".capibara", "scripts", fp, "manifest.json");
    const text = await Deno.readTextFile(manifest);
    const plant = async (what: "zero" | "fifo" | "huge") => {
      await Deno.remove(manifest);
      if (what === "zero") await Deno.symlink("/dev/zero", manifest);
      else if (what === "huge") await Deno.writeTextFile(manifest, " ".repeat(8 * 1024 ** 2));
      else await new Deno.Command("mkfifo", { args: [manifest] }).output();
    };
    try {
      for (const what of ["zero", "fifo", "huge"] as const) {
        await plant(what);
        for (const command of [args, ["list", "--json"], ["show", fp, "--json"], ["verify"]]) {
          // A read of /dev/zero or the FIFO would fill memory or block: the time limit shows it.
          const result = await runCli(command, { cwd: tmp.path, env, timeoutMs: 30_000 });
          // `list` reports a broken entry and goes on; the others fail, with a typed error.
          if (command[0] !== "list") {
            assert.notEqual(result.code, 0, `${what}: ${command[0]} passed`);
          }
          assert.notEqual(result.code, 1, `${what}: ${command[0]}: ${result.stdout}`);
          assert.match(
            result.stdout + result.stderr,
            /manifest\.json (is not a regular file|is larger than)/,
            `${what}: ${command[0]}`,
          );
        }
      }
    } finally {
      await Deno.remove(manifest).catch(() => {});
      await Deno.writeTextFile(manifest, text);
    }
    // The project's configuration, the same.
    const config = join(tmp.path, ".capibara", "config.json");
    await Deno.symlink("/dev/zero", config);
    const result = await runCli(args, { cwd: tmp.path, env, timeoutMs: 30_000 });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /config\.json: it is not a regular file/);
  },
);

Deno.test("capibara show: a repository's requirements holding pip's options give no install command to run by hand", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const env = envFor(llm.url);
  const made = await runCli(["run", "Echo the context back", "--dry-run", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(made.code, 0, made.stdout + made.stderr);
  const fp = (made.json as { fingerprint: string }).fingerprint;
  const dir = join(tmp.path, ".capibara", "scripts", fp);
  // What the repository's author commits: deps with pip's options, the file to match, and the
  // manifest's hashes and integrity record made anew (an sdist to build sits in vendor/).
  const deps = ["--no-binary=evilpkg", "--find-links=vendor", "evilpkg==1.0"];
  const requirements = requirementsText(deps);
  await Deno.writeTextFile(join(dir, "requirements.txt"), requirements);
  await forge(dir, async (manifest) => {
    manifest.deps = deps;
    (manifest.files as Record<string, string>)["requirements.txt"] = "sha256:" +
      await sha256(requirements);
  });
  for (const args of [["show", fp], ["show", fp, "--json"]]) {
    const shown = await runCli(args, { cwd: tmp.path, env });
    assert.equal(shown.code, 0, shown.stdout + shown.stderr);
    const command = args.includes("--json")
      ? (shown.json as { run_by_hand: string }).run_by_hand
      : shown.stdout.slice(shown.stdout.indexOf("Run it by hand"));
    assert.doesNotMatch(command, /pip .*install|requirements\.txt|--find-links|--no-binary/);
    assert.match(command, /none is installed by hand/);
  }
});

/**
 * Two entries made by dry runs, the first broken by `breakEntry` (given its folder): list, show and
 * verify name `problem` for it (exit 8), and the other entry stays whole. `then` runs more
 * commands in the project before that last check.
 */
async function oneBrokenEntry(
  breakEntry: (dir: string) => Promise<void>,
  problem: RegExp,
  then?: (cwd: string, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply(), bundleReply(), bundleReply()] });
  const env = envFor(llm.url);
  const made = [];
  for (const prompt of ["Echo the context back", "Echo it again"]) {
    const result = await runCli(["run", prompt, "--dry-run", "--json"], { cwd: tmp.path, env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    made.push((result.json as { fingerprint: string }).fingerprint);
  }
  const [broken, fine] = made as [string, string];
  await breakEntry(join(tmp.path, ".capibara", "scripts", broken));
  const list = await runCli(["list", "--json"], { cwd: tmp.path, env });
  assert.equal(list.code, 0, list.stdout + list.stderr);
  assert.match(list.stdout, new RegExp(fine));
  assert.match(list.stdout, problem);
  for (const args of [["show", broken, "--json"], ["verify", broken]]) {
    const result = await runCli(args, { cwd: tmp.path, env });
    assert.equal(result.code, 8, `${args[0]}: ${result.stdout}${result.stderr}`);
    assert.match(result.stdout + result.stderr, problem);
  }
  await then?.(tmp.path, env);
  assert.equal((await runCli(["verify", fine], { cwd: tmp.path, env })).code, 0);
}

Deno.test("a manifest nested 200,000 levels deep breaks its own entry only: list, show and verify name it", async () => {
  await oneBrokenEntry(async (dir) => {
    const path = join(dir, "manifest.json");
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(
      path,
      text.replace(/}\s*$/, `, "x": ${"[".repeat(200_000)}${"]".repeat(200_000)}}\n`),
    );
  }, /nests deeper than 64 levels/);
});

Deno.test("a manifest whose prompt is a million characters breaks its own entry only: list, show and verify name it at once", async () => {
  // Normalising such a prompt took time quadratic in its length (minutes, past Ctrl-C's reach):
  // now a stored prompt is bounded, and the rule reads only its ends.
  await oneBrokenEntry(
    (dir) =>
      forge(dir, (raw) => {
        raw.prompt = "please ".repeat(50_000) + ".".repeat(500_000) + "x, please";
      }),
    /prompt.*Too big: expected string to have <=16384 characters/,
    async (cwd, env) => {
      // A miss looks for near requests among the stored prompts: the long one is skipped.
      const near = await runCli(["run", "Echo the context back again", "--dry-run", "--json"], {
        cwd,
        env,
      });
      assert.equal(near.code, 0, near.stdout + near.stderr);
    },
  );
});

Deno.test("a Python script that declares a source encoding other than UTF-8 is refused: what runs would not be what is shown", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const env = envFor(llm.url);
  const args = ["run", "Echo the context back", "--json"];
  const made = await runCli([...args, "--dry-run"], { cwd: tmp.path, env });
  assert.equal(made.code, 0, made.stdout + made.stderr);
  const fp = (made.json as { fingerprint: string }).fingerprint;
  const dir = join(tmp.path, ".capibara", "scripts", fp);
  for (
    const declaration of [
      "# -*- coding: utf-7 -*-",
      "#!/usr/bin/env python3\n# vim: set fileencoding=latin-1 :",
      // Python reads the whole first line for it, however long.
      `# ${"-".repeat(1100)} coding: utf-7`,
    ]
  ) {
    await plantScript(dir, `${declaration}\n${await Deno.readTextFile(join(dir, "script.py"))}`);
    for (const command of [args, ["verify", fp], ["show", fp, "--json"]]) {
      const result = await runCli(command, { cwd: tmp.path, env });
      // show shows the entry, with the integrity check's verdict; run and verify refuse it.
      if (command[0] !== "show") {
        assert.equal(result.code, 8, `${command[0]}: ${result.stdout}${result.stderr}`);
      }
      assert.match(result.stdout + result.stderr, /declares the source encoding/, command[0]);
    }
  }
});

Deno.test("a script with a line break but a line feed, a control or an invisible character is refused, stored or generated: what runs would not be what a review reads", async () => {
  await using tmp = await withTmpDir();
  // Python ends a line at a lone carriage return, JavaScript at one and at U+2028 and U+2029;
  // `show --script` prints each as an escape, on the comment's line: the statement after one runs.
  const hidden = 'ctx["n"] = "changed by a line the review never saw"';
  await using llm = startFakeLLM({
    replies: [
      bundleReply(),
      bundleReply({
        body: `# echoed back unchanged\r    ${hidden}\nreturn {"output": {"context": ctx}}`,
      }),
    ],
  });
  const env = envFor(llm.url);
  const args = ["run", "Echo the context back", "--json"];
  const made = await runCli([...args, "--dry-run"], { cwd: tmp.path, env });
  assert.equal(made.code, 0, made.stdout + made.stderr);
  const fp = (made.json as { fingerprint: string }).fingerprint;
  const dir = join(tmp.path, ".capibara", "scripts", fp);
  const original = await Deno.readTextFile(join(dir, "script.py"));
  // A repository's entry, its integrity record made to match.
  // And a form feed (Python resets a line's indentation there), an invisible character a name
  // may hold: what the review reads as dead code or as one name is not.
  for (const brk of ["\r", "\r\n", "\u2028", "\u2029", "\f", "\ufe00", "\u200d"]) {
    await plantScript(dir, original.replace("\n", `  # note${brk}${hidden}\n`));
    for (const command of [args, ["verify", fp]]) {
      const result = await runCli(command, { cwd: tmp.path, env });
      assert.equal(
        result.code,
        8,
        `${JSON.stringify(brk)} ${command[0]}: ${result.stdout}${result.stderr}`,
      );
      assert.match(result.stdout + result.stderr, /line \d+ holds .*write it as an escape/);
    }
  }
  // A hand edit offered for review: accept refuses it, and the entry stays as it was.
  await Deno.writeTextFile(join(dir, "script.py"), original.replace("\n", `  # note\r${hidden}\n`));
  const accepted = await runCli(["accept", fp, "--json"], { cwd: tmp.path, env });
  // (the edited script fails the generation contract's checks, as a model's reply would)
  assert.equal(accepted.code, 6, accepted.stdout + accepted.stderr);
  assert.match(accepted.stdout, /a carriage return, .*lines must end with a line feed alone/);
  // The model's reply: never stored.
  const other = await runCli(["run", "Echo it back once more", "--dry-run", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.notEqual(other.code, 0, other.stdout + other.stderr);
  assert.match(other.stdout + other.stderr, /carriage return/);
  const stored = [...Deno.readDirSync(join(tmp.path, ".capibara", "scripts"))].map((e) => e.name);
  assert.deepEqual(stored, [fp]);
});

Deno.test("an entry folder without manifest.json: show and verify of its fingerprint name it (exit 8), never an InternalError", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".git"));
  const fp = "fp_0123456789abcdef0123456789abcdef";
  const dir = join(tmp.path, ".capibara", "scripts", fp);
  await Deno.mkdir(dir, { recursive: true });
  // git keeps no empty folder: a repository commits a file in it.
  await Deno.writeTextFile(join(dir, "README.md"), "# hello\n");
  const env = { CAPIBARA_CACHE_DIR: CACHE };
  for (
    const command of [["show", fp], ["show", "fp_0123"], ["verify", fp], ["show", fp, "--json"]]
  ) {
    const result = await runCli(command, { cwd: tmp.path, env });
    const out = result.stdout + result.stderr;
    assert.doesNotMatch(out, /InternalError|TypeError| {4}at /, `${command.join(" ")}:\n${out}`);
    assert.equal(result.code, 8, `${command.join(" ")}: exit ${result.code}\n${out}`);
    assert.match(out, /manifest\.json is missing/);
  }
});

Deno.test("the by-hand command run from the project root imports no venv.py or pip/ the repository holds", async () => {
  await using tmp = await withTmpDir();
  const marker = join(tmp.path, "host-code-ran");
  const plant = `open(${JSON.stringify(marker)}, "a").write(__name__ + "\\n")\n`;
  await Deno.writeTextFile(join(tmp.path, "venv.py"), plant);
  await Deno.mkdir(join(tmp.path, "pip"));
  await Deno.writeTextFile(join(tmp.path, "pip", "__init__.py"), plant);
  await Deno.writeTextFile(join(tmp.path, "pip", "__main__.py"), plant);
  const command = manualCommand({
    language: "python",
    entry: "script.py",
    context: {},
    fingerprint: `fp_${"0".repeat(32)}`,
    deps: ["six==1.16.0"],
    allow: { network: [], env: [], fs: { read: [], write: [] } },
  }, ["six==1.16.0"]);
  await new Deno.Command("sh", {
    args: ["-c", command],
    cwd: tmp.path,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", PIP_NO_INDEX: "1" },
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(
    await Deno.readTextFile(marker).catch(() => "nothing"),
    "nothing",
    "a module of the project ran on the host",
  );
});

Deno.test("capibara run: a committed scripts/ link and a left-over replacement in .tmp/ move nothing out of the project", async () => {
  // A repository brings `.capibara/scripts` as a link to a folder of the user's (a Vim plugin
  // folder: code it loads runs outside any sandbox) and a "replacement cut short" of the entry
  // its README asks to run. Putting it back through the link moved the plugin there.
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "project");
  const plugins = join(tmp.path, "home", ".vim", "pack", "plugins", "start");
  await Deno.mkdir(join(project, ".git"), { recursive: true });
  await Deno.mkdir(plugins, { recursive: true });
  const prompt = "Summarise the csv";
  const { fingerprint: fp } = await fingerprint(prompt, {}, { language: "python" });
  const leftOver = join(project, ".capibara", ".tmp", `${fp}-old-1`, "plugin");
  await Deno.mkdir(leftOver, { recursive: true });
  await Deno.writeTextFile(join(leftOver, "evil.vim"), "call system('id')\n");
  await Deno.symlink(plugins, join(project, ".capibara", "scripts"));
  const run = await runCli(["run", prompt, "--context", "{}", "--json"], {
    cwd: project,
    env: { CAPIBARA_CACHE_DIR: CACHE },
  });
  assert.equal(run.code, 8, run.stdout + run.stderr);
  assert.match(JSON.stringify(run.json), /IntegrityError/);
  assert.deepEqual([...Deno.readDirSync(plugins)], [], "the left-over folder was moved out");
});

Deno.test("capibara run in a project other users may write is refused before any sandbox is shown it, and runs once it is the user's alone", async () => {
  // Another user who may write a folder on the way could swap the input's folder for one holding
  // a link to a file only this user may read while the sandbox is set up: the sandbox then showed
  // that file as the input, and the output, in the shared project, carried it to them.
  await using tmp = await withTmpDir();
  const project = join(tmp.path, "shared", "project");
  const examples = new URL("../../examples/", import.meta.url).pathname;
  await Deno.mkdir(project, { recursive: true });
  await Deno.mkdir(join(project, ".git"));
  await new Deno.Command("cp", {
    args: ["-r", join(examples, ".capibara"), join(examples, "data"), project],
  }).output();
  const args = [
    "run",
    "Summarise the sales CSV: total revenue, units and revenue per region",
    "--lang",
    "typescript",
    "--context",
    JSON.stringify({ input: "data/sales.csv", output: "out/summary.json" }),
    "--json",
  ];
  const options = { cwd: project, env: { CAPIBARA_CACHE_DIR: CACHE } };
  for (const [folder, mode] of [[join(tmp.path, "shared"), 0o777], [project, 0o777]] as const) {
    await Deno.chmod(folder, mode);
    const refused = await runCli(args, options);
    assert.equal(refused.code, 7, refused.stdout + refused.stderr);
    assert.match(JSON.stringify(refused.json), /PermissionError/);
    assert.match(JSON.stringify(refused.json), /may be changed by other users/);
    assert.equal(await Deno.lstat(join(project, "out")).catch(() => null), null, "nothing ran");
    await Deno.chmod(folder, 0o755);
  }
  const run = await runCli(args, options);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal((run.json as { status: string }).status, "ok");
});

Deno.test("capibara show of an entry that fails its integrity check says not to run it by hand", async () => {
  await using tmp = await withTmpDir();
  await using llm = startFakeLLM({ replies: [bundleReply()] });
  const env = envFor(llm.url);
  const made = await runCli(["run", "Echo the context back", "--dry-run", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(made.code, 0, made.stdout + made.stderr);
  const fp = (made.json as { fingerprint: string }).fingerprint;
  const script = join(tmp.path, ".capibara", "scripts", fp, "script.py");
  await Deno.writeTextFile(script, "import os\nos.system('id')\n", { append: true });
  const shown = await runCli(["show", fp], { cwd: tmp.path, env });
  assert.match(shown.stdout, /integrity: +Cannot trust/);
  assert.match(shown.stdout, /Do not run it by hand: it fails its integrity check/);
  assert.doesNotMatch(shown.stdout, /Run it by hand, outside the sandbox/);
});
