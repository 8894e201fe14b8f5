/**
 * `capibara run`: turn a prompt and a context into a result.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { join, relative } from "node:path";
import { exists } from "../_fs.ts";
import { TemplateError, ValidationError } from "../errors.ts";
import type { Capibara } from "../capibara.ts";
import { type Language, LANGUAGES } from "../schema.ts";
import {
  commandCapibara,
  formatValue,
  interruptible,
  parseContext,
  printJson,
  progressReporter,
  reportError,
  reportInterrupted,
  ROOT_HELP,
  terminalSafe,
} from "./output.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...previous ?? [], ...value.split(",").map((v) => v.trim()).filter((v) => v !== "")];
}

/** Short names accepted by `--lang`. */
const LANGUAGE_ALIASES: Readonly<Record<string, Language>> = {
  py: "python",
  ts: "typescript",
  sh: "bash",
};

function parseLanguage(value: string): Language {
  const language = LANGUAGE_ALIASES[value] ?? value;
  if (!(LANGUAGES as readonly string[]).includes(language)) {
    throw new InvalidArgumentError(
      `Allowed choices are ${LANGUAGES.join(", ")} (or ${
        Object.keys(LANGUAGE_ALIASES).join(", ")
      })`,
    );
  }
  return language as Language;
}

/**
 * Notes on a miss: the other entries of the same prompt, and the context keys whose values differ
 * (a sign that parametric mode would have reused one).
 */
async function samePromptNotes(
  cb: Capibara,
  prompt: string,
  fingerprint: string,
  context: Record<string, unknown>,
): Promise<string[]> {
  const { entries } = await (await cb.store()).list();
  const notes: string[] = [];
  for (const { manifest: m } of entries) {
    if (m.prompt !== prompt || m.fingerprint === fingerprint) continue;
    const other = (m.context ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(context), ...Object.keys(other)])].filter((k) =>
      JSON.stringify(context[k]) !== JSON.stringify(other[k])
    );
    notes.push(
      `note: ${m.fingerprint} has the same prompt (${m.language}); the context differs in: ${
        terminalSafe(keys.join(", ") || "nothing (another language or mode)")
      } (--mode parametric reuses one script across context values)`,
    );
  }
  return notes.slice(0, 3);
}

/** The `run` subcommand. */
export function runCommand(setExit: (code: number) => void) {
  return new Command("run")
    .description(
      "Run a request: reuse its cached script, or generate one once, store it in .capibara/ " +
        "and run it",
    )
    .argument("<prompt>", "what the script should do, in one sentence")
    .option(
      "-c, --context <json|@file>",
      "JSON object passed to the script (inline, @file, or @- for standard input)",
    )
    .option("-s, --select <keys>", "comma-separated keys of the output to keep (aliases apply)")
    .option("--refresh", "regenerate the script even when it is cached")
    .option("--force", "with --refresh, overwrite a cached script edited by hand")
    .option("--dry-run", "generate and store the script (or check the cached one); do not run it")
    .option("--timeout <seconds>", "time limit of the script (default 300)")
    .addOption(
      new Option(
        "--mode <mode>",
        "strict: a script per prompt and context values; parametric: one per prompt and " +
          "context shape (default: strict, or mode in .capibara/config.json)",
      ).choices(["strict", "parametric"] as const),
    )
    .option("-m, --model <name>", "model to generate with (overrides CAPIBARA_MODEL)")
    .option(
      "--base-url <url>",
      "OpenAI-compatible server to generate with (overrides CAPIBARA_BASE_URL)",
    )
    .addOption(
      new Option(
        "--lang <language>",
        "script language: python (py), typescript (ts) or bash (sh)",
      ).argParser(parseLanguage).default("python" as Language),
    )
    .option(
      "--allow-net <host>",
      "grant a host the script needs (repeatable; *.example.com)",
      collect,
    )
    .option(
      "--allow-private-net <ip[:port]>",
      "grant an exact loopback or private-network address, which --allow-net never reaches " +
        "(repeatable; 127.0.0.1:5432, [fd00::5]:8080)",
      collect,
    )
    .option(
      "--allow-read <path>",
      "grant reading a path outside the context's inputs (repeatable)",
      collect,
    )
    .option(
      "--allow-write <path>",
      "grant writing a path besides the outputs (repeatable)",
      collect,
    )
    .option(
      "--allow-env <name>",
      "pass an environment variable the script needs (repeatable)",
      collect,
    )
    .option("--no-sandbox", "run Python and bash scripts unconfined (prints what is unprotected)")
    .option("--memory <MiB>", "memory limit of the script (default 2048)")
    .option("--max-output <MiB>", "bytes the script may write to its outputs (default 1024)")
    .option(
      "-v, --verbose",
      "show each step with its elapsed time, and the script's stderr as it arrives",
    )
    .option("--root <dir>", ROOT_HELP)
    .option("--json", "print exactly one JSON document on stdout (errors included)")
    .addHelpText(
      "after",
      `
Permissions: a script runs with no network, no environment variables but the basics, and only
its context's files (inputs readable; outputs written to a private copy, and only the reported
regular files moved into the project afterwards). What it needs beyond that must
be granted with --allow-*, or under "allow" in .capibara/config.json.

Examples:
  capibara run "Summarise the sales CSV" --context '{"input": "data/sales.csv"}'
  capibara run "Concatenate these videos at 24fps" \\
    --context '{"inputs": ["a.mp4", "b.mp4"], "output": "final.mp4"}' --json

The first run of a request asks the configured LLM once (CAPIBARA_BASE_URL, CAPIBARA_API_KEY,
CAPIBARA_MODEL); later runs reuse .capibara/scripts/<fingerprint>/ with no LLM call.`,
    )
    .action(async (prompt, opts) => {
      const json = opts.json ?? false;
      const reporter = progressReporter({ verbose: opts.verbose ?? false });
      using interruption = interruptible();
      try {
        const context = await parseContext(opts.context);
        let timeout: number | undefined;
        if (opts.timeout !== undefined) {
          timeout = Number(opts.timeout);
          if (!Number.isFinite(timeout) || timeout <= 0) {
            throw new ValidationError(`Invalid --timeout "${opts.timeout}"`, {
              hint: "Give a positive number of seconds, e.g. --timeout 60",
            });
          }
        }
        const select = opts.select?.split(",").map((s) => s.trim()).filter((s) => s !== "");
        let memoryBytes: number | undefined;
        if (opts.memory !== undefined) {
          const mib = Number(opts.memory);
          if (!Number.isFinite(mib) || mib < 16) {
            throw new ValidationError(`Invalid --memory "${opts.memory}"`, {
              hint: "Give the limit in MiB, at least 16, e.g. --memory 4096",
            });
          }
          memoryBytes = Math.round(mib * 1024 * 1024);
        }
        let maxOutputDiskBytes: number | undefined;
        if (opts.maxOutput !== undefined) {
          const mib = Number(opts.maxOutput);
          if (!Number.isFinite(mib) || mib < 1) {
            throw new ValidationError(`Invalid --max-output "${opts.maxOutput}"`, {
              hint: "Give the bound in MiB, at least 1, e.g. --max-output 4096",
            });
          }
          maxOutputDiskBytes = Math.round(mib * 1024 * 1024);
        }
        // The flags win over the environment, as options win over variables everywhere.
        const env: Record<string, string | undefined> = Deno.env.toObject();
        if (opts.model !== undefined) env.CAPIBARA_MODEL = opts.model;
        if (opts.baseUrl !== undefined) env.CAPIBARA_BASE_URL = opts.baseUrl;
        const cb = await commandCapibara(opts.root, {
          env,
          maxOutputDiskBytes,
          progress: reporter.progress,
          language: opts.lang,
          mode: opts.mode,
          sandbox: opts.sandbox,
          memoryBytes,
          allow: {
            network: opts.allowNet ?? [],
            privateNetwork: opts.allowPrivateNet ?? [],
            read: opts.allowRead ?? [],
            write: opts.allowWrite ?? [],
            env: opts.allowEnv ?? [],
          },
        });
        const store = await cb.store();
        const storeExisted = await exists(store.base);
        const result = await cb.run(prompt, {
          context,
          select,
          refresh: opts.refresh ?? false,
          force: opts.force ?? false,
          dryRun: opts.dryRun ?? false,
          timeout,
          signal: interruption.signal,
          onStderr: reporter.onStderr,
        });
        reporter.done(true);
        if (interruption.received) {
          setExit(reportInterrupted(interruption.received, reporter.step, json));
          return;
        }
        if (json) {
          printJson(result);
          return;
        }
        const how = result.cached ? "cached" : "generated";
        const ran = opts.dryRun ? ", not run: --dry-run" : "";
        console.log(`✓ ${result.fingerprint} (${how}${ran}, ${result.duration_ms} ms)`);
        if (!result.cached) {
          const dir = join(store.scripts, result.fingerprint);
          if (!storeExisted) {
            const where = (await exists(join(store.root, ".git")))
              ? "at the git root"
              : "in the current folder: no git repository here (--root chooses another)";
            console.log(`created the store ${terminalSafe(store.base)} ${where}`);
          }
          console.log(`stored in ${terminalSafe(relative(Deno.cwd(), dir) || dir)}/`);
          console.log(
            `review it (capibara show ${result.fingerprint} --script) and commit it: it runs ` +
              "on every matching request",
          );
          for (const note of await samePromptNotes(cb, prompt, result.fingerprint, context)) {
            console.log(note);
          }
        }
        const entries = Object.entries(result.output);
        if (entries.length > 0) {
          console.log("output:");
          for (const [key, value] of entries) {
            console.log(`  ${terminalSafe(key)}: ${formatValue(value)}`);
          }
        }
        if (result.artifacts.length > 0) {
          console.log("artifacts:");
          for (const artifact of result.artifacts) console.log(`  ${terminalSafe(artifact)}`);
        }
        if (result.missing) console.log(`missing: ${terminalSafe(result.missing.join(", "))}`);
      } catch (error) {
        reporter.done(false);
        // Whatever the interrupted step threw (an abort, a killed script), the signal is the cause.
        if (interruption.received) {
          setExit(reportInterrupted(interruption.received, reporter.step, json));
          return;
        }
        setExit(reportError(error, json));
        // With --verbose, what the model last answered when it broke the contract.
        const reply = error instanceof TemplateError ? error.details?.reply : undefined;
        if (opts.verbose && !json && typeof reply === "string" && reply !== "") {
          console.error("the model's last reply (start):");
          console.error(
            "  │ " + terminalSafe(reply, { multiline: true }).split("\n").join("\n  │ "),
          );
        }
      }
    });
}
