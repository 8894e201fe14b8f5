/**
 * The command-line program.
 *
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import denoJson from "../../deno.json" with { type: "json" };
import { ValidationError } from "../errors.ts";
import { clearCommand } from "./clear.ts";
import { doctorCommand } from "./doctor.ts";
import { listCommand } from "./list.ts";
import { reportError } from "./output.ts";
import { rekeyCommand } from "./rekey.ts";
import { runCommand } from "./run.ts";
import { showCommand } from "./show.ts";
import { trustCommand } from "./trust.ts";
import { verifyCommand } from "./verify.ts";

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
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addCommand(runCommand(setExit))
    .addCommand(listCommand(setExit))
    .addCommand(showCommand(setExit))
    .addCommand(clearCommand(setExit))
    .addCommand(verifyCommand(setExit))
    .addCommand(doctorCommand(setExit))
    .addCommand(trustCommand(setExit))
    .addCommand(rekeyCommand(setExit))
    .addHelpText(
      "after",
      `
Environment:
  CAPIBARA_BASE_URL   OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio…)
  CAPIBARA_API_KEY    its API key (or OPENAI_API_KEY)
  CAPIBARA_MODEL      model name
  CAPIBARA_CACHE_DIR  machine-local cache (virtual environments, trust records)
  CAPIBARA_TRUST_CONFIG  sha256 of a .capibara/config.json to trust (CI; see capibara trust)

Exit codes: 0 ok, 2 ValidationError, 3 DependencyError, 4 NetworkError, 5 ExecError,
6 TemplateError, 7 PermissionError, 8 IntegrityError.`,
    );
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ outputError: () => {} }).showHelpAfterError();
  }
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
      const message = error.message.replace(/^error: /, "");
      return reportError(
        new ValidationError(message.charAt(0).toUpperCase() + message.slice(1), {
          hint: "See capibara --help, or capibara <command> --help",
        }),
        json,
      );
    }
    return reportError(error, args.includes("--json"));
  }
  return exitCode;
}
