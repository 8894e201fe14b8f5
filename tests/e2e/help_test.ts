/**
 * The CLI's help, usage errors and small conveniences, through the real CLI.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const CACHE = await Deno.makeTempDir({ prefix: "capibara_help_cache_" });
globalThis.addEventListener("unload", () => Deno.removeSync(CACHE, { recursive: true }));
const env = { CAPIBARA_CACHE_DIR: CACHE };

interface ErrorDoc {
  error: { type: string; message: string; hint: string; exit_code: number };
}

Deno.test("capibara usage errors print the error and a --help pointer, not the help", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["run"], { cwd: tmp.path, env });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    "error[ValidationError]: Missing required argument 'prompt'\nhint: See capibara run --help\n",
  );
});

Deno.test("capibara with no arguments prints its help on stdout", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli([], { cwd: tmp.path, env });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: capibara/);
  assert.equal(r.stderr, "");
});

Deno.test("capibara run --help shows no empty defaults; every subcommand has examples", async () => {
  await using tmp = await withTmpDir();
  const run = await runCli(["run", "--help"], { cwd: tmp.path, env });
  assert.doesNotMatch(run.stdout, /default: \[\]/);
  const commands = [
    ...["run", "list", "show", "clear", "verify", "accept", "doctor", "trust", "sign", "push"],
    ...["rekey", "keygen", "serve", "completions", "runner"],
    ...["runner start", "runner stop", "runner status", "runner serve"],
  ];
  await Promise.all(commands.map(async (command) => {
    const help = await runCli([...command.split(" "), "--help"], { cwd: tmp.path, env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /\nExamples:\n {2}\S/, command);
  }));
  // Help on a command there is not is a mistake (exit 2), not the general help.
  const nothing = await runCli(["help", "nonexist"], { cwd: tmp.path, env });
  assert.equal(nothing.code, 2, nothing.stdout);
});

Deno.test("capibara --version and --json before the subcommand work", async () => {
  await using tmp = await withTmpDir();
  const version = await runCli(["--version"], { cwd: tmp.path, env });
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const list = await runCli(["--json", "list"], { cwd: tmp.path, env });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((list.json as { scripts: unknown[] }).scripts, []);
  // A mistyped command after --json is named as such, in JSON.
  const typo = await runCli(["--json", "rnu"], { cwd: tmp.path, env });
  assert.equal(typo.code, 2, typo.stderr);
  assert.match((typo.json as ErrorDoc).error.message, /Unknown command 'rnu'[\s\S]*run/);
  // --json and no command: that is what it says, in JSON, not that --json is unknown.
  const alone = await runCli(["--json"], { cwd: tmp.path, env });
  assert.equal(alone.code, 2, alone.stderr);
  assert.equal((alone.json as ErrorDoc).error.message, "No command given");
  const unknown = await runCli(["--bogus"], { cwd: tmp.path, env });
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  // --json before a subcommand's own subcommand, and with --version: one JSON document each.
  const status = await runCli(["--json", "runner", "status"], { cwd: tmp.path, env });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.equal(typeof (status.json as { running: boolean }).running, "boolean");
  const jsonVersion = await runCli(["--json", "--version"], { cwd: tmp.path, env });
  assert.match((jsonVersion.json as { version: string }).version, /^\d+\.\d+\.\d+$/);
  // --force without --refresh would be ignored: it is a mistake, said so.
  const force = await runCli(["run", "Echo it", "--force", "--json"], { cwd: tmp.path, env });
  assert.equal(force.code, 2, force.stdout + force.stderr);
  assert.match((force.json as ErrorDoc).error.message, /--force goes with --refresh/);
});

Deno.test("capibara run accepts py/ts/sh for --lang and refuses others", async () => {
  await using tmp = await withTmpDir();
  for (const lang of ["py", "ts", "sh", "TS", "Python"]) {
    // No generator is configured: the request gets past option parsing to the generator.
    const r = await runCli(["run", "Say hi", "--lang", lang, "--json"], { cwd: tmp.path, env });
    assert.equal(r.code, 2);
    assert.match((r.json as ErrorDoc).error.message, /No generator is configured/);
  }
  const bad = await runCli(["run", "Say hi", "--lang", "rust", "--json"], { cwd: tmp.path, env });
  assert.equal(bad.code, 2);
  assert.match((bad.json as ErrorDoc).error.message, /python, typescript, bash/);
});

Deno.test("capibara run -c: a file name without @ gets a hint; @- reads standard input", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["run", "Say hi", "-c", "missing.json", "--json"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(r.code, 2);
  assert.match((r.json as ErrorDoc).error.hint, /--context @missing\.json/);

  // A context from standard input is parsed (here its input is then found missing).
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "run", "Count lines", "-c", "@-", "--json"],
    cwd: tmp.path,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode('{"input": "nowhere.csv"}'));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 2);
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as ErrorDoc;
  assert.match(doc.error.message, /input \("nowhere\.csv"\) does not exist/);
});

Deno.test("capibara clear names what it removed", async () => {
  await using tmp = await withTmpDir();
  await Deno.mkdir(join(tmp.path, ".capibara", "scripts"), { recursive: true });
  const none = await runCli(["clear", "--yes"], { cwd: tmp.path, env });
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "No cached scripts to remove\n");
});

Deno.test("capibara completions prints a script for bash, zsh and fish", async () => {
  await using tmp = await withTmpDir();
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runCli(["completions", shell], { cwd: tmp.path, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /accept/);
    assert.match(r.stdout, /allow-net/);
  }
  const bash = await runCli(["completions", "bash"], { cwd: tmp.path, env });
  const check = await new Deno.Command("bash", { args: ["-n", "-c", bash.stdout] }).output();
  assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
});

Deno.test("capibara run's no-generator hint names .capibara/config.json; unknown keys name the nearest", async () => {
  await using tmp = await withTmpDir();
  const r = await runCli(["run", "Say hi", "--json"], { cwd: tmp.path, env });
  assert.equal(r.code, 2);
  assert.match((r.json as ErrorDoc).error.hint, /generator\.base_url in \.capibara\/config\.json/);
  await Deno.mkdir(join(tmp.path, ".capibara"));
  await Deno.writeTextFile(
    join(tmp.path, ".capibara", "config.json"),
    JSON.stringify({ generator: { baseUrl: "http://localhost:11434/v1" } }),
  );
  const bad = await runCli(["run", "Say hi", "--json"], { cwd: tmp.path, env });
  assert.equal(bad.code, 2);
  assert.match((bad.json as ErrorDoc).error.message, /unknown key "generator\.baseUrl"/);
  assert.match((bad.json as ErrorDoc).error.hint, /"generator\.base_url"/);
});

Deno.test("a usage error of a subcommand's own subcommand (runner status) is a ValidationError, exit 2, in the one format", async () => {
  await using tmp = await withTmpDir();
  for (const args of [["runner", "status", "--idle", "5"], ["runner", "status", "extra"]]) {
    const result = await runCli([...args, "--json"], { cwd: tmp.path, env });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    const doc = JSON.parse(result.stdout) as { error: { type: string; hint: string } };
    assert.equal(doc.error.type, "ValidationError");
    assert.match(doc.error.hint, /capibara runner --help/);
  }
});

Deno.test("capibara run takes numbers in decimal only: --timeout 0x10 or 1e3, --memory 1e9 are usage errors", async () => {
  await using tmp = await withTmpDir();
  for (
    const args of [["--timeout", "0x10"], ["--timeout", "1e3"], ["--memory", "1e9"], [
      "--max-output",
      "",
    ]]
  ) {
    const result = await runCli(["run", "Count the rows", ...args, "--json"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    const { error } = JSON.parse(result.stdout) as { error: { type: string; message: string } };
    assert.equal(error.type, "ValidationError");
    assert.match(error.message, new RegExp(`Invalid ${args[0]}`));
  }
});

Deno.test("an empty option value is a usage error that says so, not the default in silence", async () => {
  await using tmp = await withTmpDir();
  for (
    const args of [
      ["run", "Count rows", "--allow-net", "", "--json"],
      ["run", "Count rows", "--allow-env=,", "--json"],
      ["run", "Count rows", "-m", " ", "--json"],
      ["run", "Count rows", "--root=", "--json"],
      ["run", "Count rows", "--select", ",", "--json"],
      ["list", "--root", "", "--json"],
      ["rekey", "--key", "", "--json"],
    ]
  ) {
    const r = await runCli(args, { cwd: tmp.path, env });
    assert.equal(r.code, 2, `${JSON.stringify(args)}: ${r.stderr}`);
    const { error } = r.json as ErrorDoc;
    assert.equal(error.type, "ValidationError");
    assert.match(error.message, /needs a value; none was given/);
  }
});
