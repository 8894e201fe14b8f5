/**
 * README's CLI section against the real program: the install line works as written (and is the
 * one CI runs), and the command table names every command and every option `--help` lists.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const README = await Deno.readTextFile(join(REPO, "README.md"));
/** README's CLI section, up to the next section. */
const CLI = README.slice(
  README.indexOf("\n## CLI\n"),
  README.indexOf("\n## ", README.indexOf("\n## CLI\n") + 1),
);

Deno.test("README's CLI table names every command and option of the program", async () => {
  await using tmp = await withTmpDir();
  // The completion script lists every subcommand with its options, from the program itself.
  const bash = await runCli(["completions", "bash"], { cwd: tmp.path, env: {} });
  assert.equal(bash.code, 0, bash.stderr);
  const commands = [
    ...bash.stdout.matchAll(/^ {4}([a-z]+)\) COMPREPLY=\(\$\(compgen -W "([^"]*)"/gm),
  ]
    .map(([, name, words]) => ({ name: name!, options: words!.split(" ").filter((w) => w) }));
  assert.ok(commands.length >= 14, bash.stdout);
  const rows = [...CLI.matchAll(/^\| `capibara ([a-z]+)([^`]*)`/gm)].map(([, name, rest]) => ({
    name: name!,
    text: rest!,
  }));
  const missing: string[] = [];
  for (const command of commands) {
    const text = rows.filter((r) => r.name === command.name).map((r) => r.text).join(" ");
    if (text === "" && !rows.some((r) => r.name === command.name)) {
      missing.push(`capibara ${command.name}`);
      continue;
    }
    for (const option of command.options) {
      // --help is everywhere; --root is described once under the table.
      if (option === "--help" || option === "--root") continue;
      const escaped = option.replace(/-/g, "\\-");
      if (!new RegExp(`(^|[\\s\\[|])${escaped}(?![\\w-])`).test(text)) {
        missing.push(`capibara ${command.name} ${option}`);
      }
    }
  }
  for (const row of rows) {
    if (!commands.some((c) => c.name === row.name)) missing.push(`no command "${row.name}"`);
  }
  assert.deepEqual(missing, [], "README's CLI table and the program differ");
});

Deno.test("README's install line works as written, without --config, and CI runs the same", async () => {
  await using tmp = await withTmpDir();
  const line = CLI.split("\n").find((l) => l.startsWith("deno install "));
  assert.ok(line, "README's CLI section shows how to install the command");
  const args = line.replace(/#.*$/, "").trim().split(/\s+/).slice(1);
  assert.ok(!args.includes("--config"), "deno install finds deno.json by itself");
  // CI installs exactly so, into a throwaway --root.
  const ci = await Deno.readTextFile(join(REPO, ".ci", "run"));
  const ciLine = ci.split("\n").find((l) => l.startsWith("$DENO install "));
  assert.equal(
    ciLine?.replace(' --root "$INSTALL_ROOT"', "").replace("$DENO ", "deno "),
    `deno ${args.join(" ")}`,
  );
  // As written, from a checkout, into a throwaway root; the command then runs from elsewhere.
  const root = join(tmp.path, "install");
  const install = await new Deno.Command(Deno.execPath(), {
    args: [...args.slice(0, -1), "--root", root, args.at(-1)!],
    cwd: REPO,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const version = await new Deno.Command(join(root, "bin", "capibara"), {
    args: ["--version"],
    cwd: tmp.path,
    env: { PATH: `${join(Deno.execPath(), "..")}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
  }).output();
  assert.equal(version.code, 0, new TextDecoder().decode(version.stderr));
  assert.match(new TextDecoder().decode(version.stdout), /^\d+\.\d+\.\d+\n$/);
});
