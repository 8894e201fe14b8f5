/**
 * `capibara rekey`: move cached scripts written under an older template's prompt rule to their
 * current fingerprints, without calling an LLM.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { EXIT_CODES } from "../errors.ts";
import { type RekeyOutcome, rekeyStore } from "../store/rekey.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";

const VERB: Record<RekeyOutcome["status"], string> = {
  "moved": "moved",
  "would-move": "would move",
  "current": "current",
  "superseded": "superseded",
  "skipped": "skipped",
  "failed": "failed",
};

/** The `rekey` subcommand. */
export function rekeyCommand(setExit: (code: number) => void) {
  return new Command("rekey")
    .description(
      "Move cached scripts keyed under an older template's prompt rule to their new " +
        "fingerprints (no LLM call; each entry is verified first and gets a new revision)",
    )
    .option("--dry-run", "say what would move, and change nothing")
    .option("--root <dir>", ROOT_HELP)
    .option("--json", "print one JSON document on stdout")
    .addHelpText(
      "after",
      `
Examples:
  capibara rekey --dry-run     list the entries that would move
  capibara rekey               move them (then commit .capibara/)
  capibara rekey --json        one JSON document: every entry's from, to and status`,
    )
    .action(async (opts) => {
      const json = opts.json ?? false;
      const dryRun = opts.dryRun ?? false;
      try {
        const store = await (await commandCapibara(opts.root)).store();
        const outcomes = await rekeyStore(store, { dryRun });
        const failed = outcomes.find((o) => o.status === "failed");
        if (json) {
          printJson({
            ok: !failed,
            dry_run: dryRun,
            entries: outcomes.map(({ error: _e, ...o }) => o),
          });
        } else {
          for (const o of outcomes) {
            const to = o.to && o.status !== "current" ? ` → ${o.to}` : "";
            console.log(`${VERB[o.status].padEnd(10)} ${terminalSafe(o.from)}${to}`);
            if (o.reason) console.log(`    ${terminalSafe(o.reason)}`);
          }
          const count = (status: RekeyOutcome["status"]) =>
            outcomes.filter((o) => o.status === status).length;
          console.log(
            outcomes.length === 0
              ? "No cached scripts"
              : dryRun
              ? `${count("would-move")} would move, ${count("current")} already current`
              : `${count("moved")} moved, ${count("current")} already current`,
          );
        }
        if (failed?.error) {
          if (!json) {
            console.error(
              `error[${failed.error.type}]: ${terminalSafe(failed.error.message.split("\n")[0]!)}`,
            );
          }
          setExit(EXIT_CODES[failed.error.type]);
        }
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}
