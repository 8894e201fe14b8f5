/**
 * The command-line program.
 *
 * @module
 */
import {
  Command,
  CommanderError,
  type CommandUnknownOpts,
} from "npm:@commander-js/extra-typings@^15.1.0";
import denoJson from "../../deno.json" with { type: "json" };
import { ValidationError } from "../errors.ts";
import { acceptCommand } from "./accept.ts";
import { clearCommand } from "./clear.ts";
import { completionsCommand } from "./completions.ts";
import { doctorCommand } from "./doctor.ts";
import { keygenCommand } from "./keygen.ts";
import { listCommand } from "./list.ts";
import { printJson, reportError } from "./output.ts";
import { rekeyCommand } from "./rekey.ts";
import { runCommand } from "./run.ts";
import { runnerCommand } from "./runner.ts";
import { pushCommand } from "./push.ts";
import { serveCommand } from "./serve.ts";
import { showCommand } from "./show.ts";
import { signCommand } from "./sign.ts";
import { trustCommand } from "./trust.ts";
import { verifyCommand } from "./verify.ts";

/** Examples shown under each subcommand's help (those that write their own are left out). */
const EXAMPLES: Readonly<Record<string, string>> = {
  list: `
Examples:
  capibara list                 the cached scripts, newest last
  capibara list --json | jq '.scripts[].fingerprint'`,
  show: `
Examples:
  capibara show fp_1a2b         a script's manifest, files and how to run it by hand
  capibara show 1a2b --json`,
  clear: `
Examples:
  capibara clear fp_1a2b --yes  remove one cached script
  capibara clear --yes          remove every cached script of this project`,
  verify: `
Examples:
  capibara verify               check every stored script (exit 8 when one fails: a CI gate)
  capibara verify fp_1a2b --json`,
  doctor: `
Examples:
  capibara doctor               what works here: sandbox, interpreters, the generator's server
  capibara doctor --json        the same as one JSON document (exit non-zero when a check fails)`,
};

/**
 * The arguments with a `--json` given before the subcommand (or the word in its place) moved after
 * it, so that `capibara --json list` means `capibara list --json`.
 */
function jsonAfterCommand(args: string[], commands: string[]): string[] {
  // A command mistyped (`capibara --json rnu`) is still the command: its error says so, not
  // that --json is unknown.
  const known = args.findIndex((a) => commands.includes(a));
  const at = known >= 0 ? known : args.findIndex((a) => !a.startsWith("-"));
  const json = args.indexOf("--json");
  if (at < 0 || json < 0 || json > at) return args;
  const rest = args.filter((_, i) => i !== json);
  // Last (before a `--`), so that it reaches a sub-subcommand too (`capibara --json runner
  // status`), whose parent takes no --json.
  const end = rest.indexOf("--");
  rest.splice(end >= 0 ? end : rest.length, 0, "--json");
  return rest;
}

/** Runs the CLI with `args` (without the program name) and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command()
    .name("capibara")
    .description(
      "Turn a sentence into a reviewed, cached, sandboxed script.\n\n" +
        "The first run of a request generates a script once with an LLM and stores it in\n" +
        ".capibara/scripts/<fingerprint>/ (commit it); every later run reuses it offline.",
    )
    .version(denoJson.version, "-V, --version")
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addCommand(runCommand(setExit))
    .addCommand(listCommand(setExit))
    .addCommand(showCommand(setExit))
    .addCommand(clearCommand(setExit))
    .addCommand(verifyCommand(setExit))
    .addCommand(acceptCommand(setExit))
    .addCommand(doctorCommand(setExit))
    .addCommand(trustCommand(setExit))
    .addCommand(rekeyCommand(setExit))
    .addCommand(runnerCommand(setExit))
    .addCommand(serveCommand(setExit))
    .addCommand(pushCommand(setExit))
    .addCommand(keygenCommand(setExit))
    .addCommand(signCommand(setExit))
    .addHelpText(
      "after",
      `
Environment:
  CAPIBARA_BASE_URL   OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio…)
  CAPIBARA_API_KEY    its API key (or OPENAI_API_KEY)
  CAPIBARA_MODEL      model name
  CAPIBARA_CACHE_DIR  machine-local cache (virtual environments, trust records)
  CAPIBARA_TRUST_CONFIG  sha256 of a .capibara/config.json to trust (CI; see capibara trust)
  CAPIBARA_CORE_URL   the team's Core (capibara serve): a miss asks it, never an LLM
  CAPIBARA_CORE_TOKEN its bearer token
  CAPIBARA_REQUIRE_SIGNATURE  1: run only scripts signed by CAPIBARA_TRUSTED_KEYS or accepted here
  CAPIBARA_TRUSTED_KEYS  public keys this machine trusts (capibara keygen), comma-separated
  CAPIBARA_TIMINGS    1: after a run, print on stderr how long each of its steps took
  CAPIBARA_RUNNER     0: never use a resident runner (capibara runner); unset: a second hit
                      within a minute starts one (not in CI); 1: in CI too

Exit codes: 0 ok, 2 ValidationError, 3 DependencyError, 4 NetworkError, 5 ExecError,
6 TemplateError, 7 PermissionError, 8 IntegrityError.`,
    );
  program.addCommand(completionsCommand(() => program.commands));
  const names = program.commands.map((c) => c.name());
  // Every command's parse error, a subcommand's too (`runner status --idle 5`), is a
  // ValidationError (exit 2) in the one format, never commander's own message and exit 1.
  const overridden = (command: CommandUnknownOpts): void => {
    command.exitOverride().configureOutput({ outputError: () => {} });
    command.commands.forEach(overridden);
  };
  for (const command of program.commands) {
    overridden(command);
    const examples = EXAMPLES[command.name()];
    if (examples) command.addHelpText("after", examples);
  }
  if (args.length === 0) {
    program.outputHelp();
    return 0;
  }
  // `capibara --json --version`: one JSON document, as --json promises.
  const version = args.includes("-V") || args.includes("--version");
  if (
    version && args.includes("--json") &&
    args.every((a) => a === "--json" || a === "-V" || a === "--version")
  ) {
    printJson({ version: denoJson.version });
    return 0;
  }
  // `capibara help <command>` of a command there is not: the user's mistake (exit 2), where
  // commander prints the general help and exits 0.
  if (args[0] === "help" && args[1] !== undefined && !names.includes(args[1])) {
    return reportError(
      new ValidationError(`Unknown command "${args[1]}"`, { hint: "See capibara --help" }),
      args.includes("--json"),
    );
  }
  args = jsonAfterCommand(args, names);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return 0;
      }
      const json = args.includes("--json");
      const command = args.find((a) => names.includes(a));
      // `capibara --json` and nothing else: no command was given, whatever commander says.
      const message = args.length > 0 && args.every((a) => a === "--json")
        ? "No command given"
        : error.message.replace(/^error: /, "");
      return reportError(
        new ValidationError(message.charAt(0).toUpperCase() + message.slice(1), {
          hint: command ? `See capibara ${command} --help` : "See capibara --help",
        }),
        json,
      );
    }
    return reportError(error, args.includes("--json"));
  }
  return exitCode;
}
