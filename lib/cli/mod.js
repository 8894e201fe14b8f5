// Generated from src/cli/mod.ts by scripts/build_js.ts (sha256 d10481778b8f67a6a503c2c682fe401c2339d54e925965d1cb5a338ac4023da0): do not edit; `deno task build:js` writes it.
var jsonAfterCommand = (function (args, commands) {
    const known = args.findIndex(((a) => commands.includes(a)));
    const at = known >= 0 ? known : args.findIndex(((a) => !a.startsWith("-")));
    const json = args.indexOf("--json");
    if (at < 0 || json < 0 || json > at)
        return args;
    const rest = args.filter(((_, i) => i !== json));
    const end = rest.indexOf("--");
    rest.splice(end >= 0 ? end : rest.length, 0, "--json");
    return rest;
});
export var main = (async function (args) {
    let exitCode = 0;
    const setExit = ((code) => {
        exitCode = code;
    });
    const program = new Command()
        .name("capibara")
        .description("Turn a sentence into a reviewed, cached, sandboxed script.\n\n" +
        "The first run of a request generates a script once with an LLM and stores it in\n" +
        ".capibara/scripts/<fingerprint>/ (commit it); every later run reuses it offline.")
        .version(denoJson.version, "-V, --version")
        .exitOverride()
        .configureOutput({ outputError: (() => { }) })
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
        .addHelpText("after", `
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
6 TemplateError, 7 PermissionError, 8 IntegrityError.`);
    program.addCommand(completionsCommand((() => program.commands)));
    const names = program.commands.map(((c) => c.name()));
    const overridden = ((command) => {
        command.exitOverride().configureOutput({ outputError: (() => { }) });
        command.commands.forEach(overridden);
    });
    for (const command of program.commands) {
        overridden(command);
        const examples = EXAMPLES[command.name()];
        if (examples)
            command.addHelpText("after", examples);
    }
    if (args.length === 0) {
        program.outputHelp();
        return 0;
    }
    const version = args.includes("-V") || args.includes("--version");
    if (version && args.includes("--json") &&
        args.every(((a) => a === "--json" || a === "-V" || a === "--version"))) {
        printJson({ version: denoJson.version });
        return 0;
    }
    if (args[0] === "help" && args[1] !== undefined && !names.includes(args[1])) {
        return reportError(new ValidationError(`Unknown command "${args[1]}"`, { hint: "See capibara --help" }), args.includes("--json"));
    }
    args = jsonAfterCommand(args, names);
    try {
        await program.parseAsync(args, { from: "user" });
    }
    catch (error) {
        if (error instanceof CommanderError) {
            if (error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
                error.code === "commander.help") {
                return 0;
            }
            const json = args.includes("--json");
            const command = args.find(((a) => names.includes(a)));
            const message = args.length > 0 && args.every(((a) => a === "--json"))
                ? "No command given"
                : error.message.replace(/^error: /, "");
            return reportError(new ValidationError(message.charAt(0).toUpperCase() + message.slice(1), {
                hint: command ? `See capibara ${command} --help` : "See capibara --help",
            }), json);
        }
        return reportError(error, args.includes("--json"));
    }
    return exitCode;
});
import { Command, CommanderError, } from "npm:@commander-js/extra-typings@^15.1.0";
import denoJson from "../../deno.json" with { type: "json" };
import { ValidationError } from "../errors.js";
import { acceptCommand } from "./accept.js";
import { clearCommand } from "./clear.js";
import { completionsCommand } from "./completions.js";
import { doctorCommand } from "./doctor.js";
import { keygenCommand } from "./keygen.js";
import { listCommand } from "./list.js";
import { printJson, reportError } from "./output.js";
import { rekeyCommand } from "./rekey.js";
import { runCommand } from "./run.js";
import { runnerCommand } from "./runner.js";
import { pushCommand } from "./push.js";
import { serveCommand } from "./serve.js";
import { showCommand } from "./show.js";
import { signCommand } from "./sign.js";
import { trustCommand } from "./trust.js";
import { verifyCommand } from "./verify.js";
const EXAMPLES = {
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
;
;
