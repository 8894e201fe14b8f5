// Generated from src/cli/run.ts by scripts/build_js.ts (sha256 15fc0d10d466bbb44b032fadaed5d6169cb6d863758d6eebe4f11d7c24c6e938): do not edit; `deno task build:js` writes it.
var collect = (function (value, previous) {
    return [...previous, ...nonEmptyList(value)];
});
var parseLanguage = (function (value) {
    const lower = value.toLowerCase();
    const language = LANGUAGE_ALIASES[lower] ?? lower;
    if (!LANGUAGES.includes(language)) {
        throw new InvalidArgumentError(`Allowed choices are ${LANGUAGES.join(", ")} (or ${Object.keys(LANGUAGE_ALIASES).join(", ")})`);
    }
    return language;
});
var optionDescription = (function (option) {
    if (Array.isArray(option.defaultValue) && option.defaultValue.length === 0) {
        return option.description;
    }
    return Help.prototype.optionDescription.call(this, option);
});
export var runCommand = (function (setExit) {
    return new Command("run")
        .description("Run a request: reuse its cached script, or generate one once, store it in .capibara/ " +
        "and run it")
        .argument("<prompt>", "what the script should do, in one sentence")
        .option("-c, --context <json|@file>", "JSON object passed to the script (inline, @file, or @- for standard input)")
        .option("-s, --select <keys>", "comma-separated keys of the output to keep (aliases apply)", ((value) => (nonEmptyList(value), value)))
        .option("--refresh", "regenerate the script even when it is cached")
        .option("--force", "with --refresh, overwrite a cached script edited by hand")
        .option("--dry-run", "generate and store the script (or check the cached one); do not run it")
        .option("--timeout <seconds>", "time limit of the script (default 300)")
        .addOption(new Option("--lang <language>", "script language: python (py), typescript (ts) or bash (sh)").argParser(parseLanguage).default("python"))
        .addOption(new Option("--mode <mode>", "strict: a script per prompt and context values; parametric: one per prompt and " +
        "context shape (default: strict, or mode in .capibara/config.json)").choices(["strict", "parametric"]))
        .option("-m, --model <name>", "model to generate with (overrides CAPIBARA_MODEL)", nonEmpty)
        .option("--base-url <url>", "OpenAI-compatible server to generate with (overrides CAPIBARA_BASE_URL)", nonEmpty)
        .option("-v, --verbose", "show each step with its elapsed time, the script's stderr as it arrives, and the " +
        "model's reply when it breaks the contract")
        .option("--allow-net <host>", "grant a host the script needs (repeatable; *.example.com)", collect, [])
        .option("--allow-private-net <ip[:port]>", "grant an exact loopback or private-network address, which --allow-net never reaches " +
        "(repeatable; 127.0.0.1:5432, [fd00::5]:8080)", collect, [])
        .option("--allow-read <path>", "grant reading a path outside the context's inputs (repeatable)", collect, [])
        .option("--allow-write <path>", "grant writing a path besides the outputs (repeatable)", collect, [])
        .option("--allow-env <name>", "pass an environment variable the script needs (repeatable)", collect, [])
        .option("--no-sandbox", "run Python and bash scripts unconfined (prints what is unprotected)")
        .option("--memory <MiB>", "memory limit of the script (default 2048)")
        .option("--max-output <MiB>", "bytes the script may write to its outputs (default 1024)")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .configureHelp({ optionDescription })
        .option("--json", "print exactly one JSON document on stdout (errors included)")
        .addHelpText("after", `
Permissions: a script runs with no network, no environment variables but the basics, and only
its context's files (inputs readable; outputs written to a private copy, and only the reported
regular files moved into the project afterwards). What it needs beyond that must
be granted with --allow-*, or under "allow" in .capibara/config.json.

Examples:
  capibara run "Summarise the sales CSV" --context '{"input": "data/sales.csv"}'
  capibara run "Concatenate these videos at 24fps" \\
    --context '{"inputs": ["a.mp4", "b.mp4"], "output": "final.mp4"}' --json

The first run of a request asks the configured LLM once (CAPIBARA_BASE_URL, CAPIBARA_API_KEY,
CAPIBARA_MODEL); later runs reuse .capibara/scripts/<fingerprint>/ with no LLM call.`)
        .action((async (prompt, opts) => {
        const code = await runAction(prompt, opts);
        if (code !== 0)
            setExit(code);
    }));
});
import { Command, Help, InvalidArgumentError, Option, } from "npm:@commander-js/extra-typings@^15.1.0";
import { LANGUAGES } from "../schema.js";
import { ROOT_HELP } from "./output.js";
import { nonEmpty, nonEmptyList } from "./_options.js";
import { runAction } from "./_fast_run.js";
;
export const LANGUAGE_ALIASES = {
    py: "python",
    ts: "typescript",
    sh: "bash",
};
;
;
;
