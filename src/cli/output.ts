/**
 * Human and machine output of the CLI.
 *
 * @module
 */
import { CapibaraError, type ErrorJson, ValidationError } from "../errors.ts";
import type { Progress } from "../runtimes/types.ts";

/** Prints one JSON document on stdout. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Prints an error (human on stderr, or JSON on stdout) and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  if (!(error instanceof CapibaraError)) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (json) {
      printJson({ type: "InternalError", message: String(error), hint: "", exit_code: 1 });
    } else {
      console.error(`error[InternalError]: ${message}`);
      console.error("hint: this is a bug in Capibara; please report it with the command you ran");
    }
    return 1;
  }
  if (json) {
    printJson({ error: error.toJSON() satisfies ErrorJson });
  } else {
    console.error(`error[${error.type}]: ${error.message}`);
    if (error.hint) console.error(`hint: ${error.hint}`);
  }
  return error.exitCode;
}

/** A progress reporter: a spinner on stderr when it is a terminal, silent otherwise. */
export function progressReporter(): { progress: Progress; done(ok: boolean): void } {
  if (!Deno.stderr.isTerminal()) return { progress: () => {}, done: () => {} };
  let spinner: import("nanospinner").Spinner | undefined;
  let pending = "";
  // The spinner library loads on the first long step only: a cache hit never pays for it.
  let loading: Promise<unknown> | undefined;
  return {
    progress(message) {
      pending = message;
      if (spinner) {
        spinner.update({ text: message });
        return;
      }
      loading ??= import("nanospinner").then(({ createSpinner }) => {
        spinner = createSpinner(pending).start();
      });
    },
    done(ok) {
      if (!spinner) return;
      if (ok) spinner.clear();
      else spinner.stop();
      spinner = undefined;
    },
  };
}

/** Parses `--context`: inline JSON, or `@path` to a JSON file. */
export async function parseContext(value: string | undefined): Promise<Record<string, unknown>> {
  if (value === undefined) return {};
  let text = value;
  let where = "--context";
  if (value.startsWith("@")) {
    where = value.slice(1);
    try {
      text = await Deno.readTextFile(where);
    } catch (error) {
      throw new ValidationError(
        `Cannot read context file "${where}": ${(error as Error).message}`,
        {
          hint: "Pass --context @path/to/context.json with an existing file, or inline JSON",
        },
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Invalid JSON in ${where}: ${(error as Error).message}`, {
      hint: `Quote the JSON for your shell, e.g. --context '{"input": "data.csv"}'`,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`The context in ${where} must be a JSON object`, {
      hint: `Wrap values in an object, e.g. --context '{"inputs": ["a.mp4", "b.mp4"]}'`,
    });
  }
  return parsed as Record<string, unknown>;
}

/** Formats a JSON value for people: scalars inline, structures as indented JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return String(value);
  return JSON.stringify(value, null, 2).split("\n").join("\n    ");
}
