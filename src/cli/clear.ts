/**
 * `capibara clear`: remove cached scripts.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { basename } from "../_path.ts";
import { ValidationError } from "../errors.ts";
import { FINGERPRINT_FORM } from "../types.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";
import { nonEmpty } from "./_options.ts";

/** The `clear` subcommand. */
export function clearCommand(setExit: (code: number) => void) {
  return new Command("clear")
    .description("Remove one cached script, or all of them (they are regenerated on next run)")
    .argument("[fingerprint]", "a fingerprint or unique prefix; omit to remove every script")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--root <dir>", ROOT_HELP, nonEmpty)
    .option("--json", "print one JSON document on stdout")
    .action(async (prefix, opts) => {
      const json = opts.json ?? false;
      try {
        const store = await (await commandCapibara(opts.root)).store();
        // Every entry, broken ones too (an unreadable manifest, a file in an entry's place, which
        // `verify` names), by its folder's name, once: a manifest's fingerprint is the
        // repository's to write, and two folders naming one had one removed twice.
        const listed = prefix === undefined ? await store.list() : undefined;
        const targets = listed
          ? [
            ...new Set(
              [...listed.entries.map((e) => e.dir), ...listed.broken.map((b) => b.dir)]
                .map((dir) => basename(dir)).filter((name) => FINGERPRINT_FORM.test(name)),
            ),
          ]
          : [await store.resolve(prefix!, { anyKind: true })];
        // What each one was for, to say what went (a broken entry has no prompt to show).
        const prompts = new Map<string, string>();
        for (const fp of targets) {
          const entry = await store.lookup(fp).catch(() => undefined);
          if (entry) prompts.set(fp, entry.manifest.prompt);
        }
        if (targets.length > 0 && !opts.yes) {
          if (!Deno.stdin.isTerminal()) {
            throw new ValidationError(
              `Refusing to remove ${targets.length} cached script(s) without confirmation`,
              { hint: "Add --yes" },
            );
          }
          const answer = prompt(
            `Remove ${targets.length} cached script(s) from ${terminalSafe(store.scripts)}? [y/N]`,
          );
          if (!/^y(es)?$/i.test(answer ?? "")) {
            if (json) printJson({ removed: [] });
            else console.log("Nothing removed");
            return;
          }
        }
        for (const fp of targets) await store.remove(fp);
        if (json) printJson({ removed: targets });
        else if (targets.length === 0) console.log("No cached scripts to remove");
        else {
          console.log(`Removed ${targets.length} cached script(s):`);
          // A cloned project's manifest is anyone's: its prompt is shown terminal-safe.
          for (const fp of targets) {
            console.log(`  ${fp}  ${terminalSafe(prompts.get(fp) ?? "(unreadable manifest)")}`);
          }
        }
      } catch (error) {
        setExit(reportError(error, json, undefined, { root: opts.root }));
      }
    });
}
