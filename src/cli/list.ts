/**
 * `capibara list`: the cached scripts of this project.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { relative } from "node:path";
import { Capibara } from "../capibara.ts";
import { printJson, reportError } from "./output.ts";

/** The `list` subcommand. */
export function listCommand(setExit: (code: number) => void) {
  return new Command("list")
    .description("List the cached scripts of this project (.capibara/scripts/)")
    .option("--json", "print one JSON document on stdout")
    .action(async (opts) => {
      const json = opts.json ?? false;
      try {
        const store = await new Capibara().store();
        const { entries, broken } = await store.list();
        if (json) {
          printJson({
            root: store.root,
            scripts: entries.map(({ manifest: m }) => ({
              fingerprint: m.fingerprint,
              prompt: m.prompt,
              language: m.language,
              deps: m.deps,
              needs: m.needs,
              generator: m.generator,
              created_at: m.created_at,
              revision: m.revision,
            })),
            broken,
          });
          return;
        }
        if (entries.length === 0 && broken.length === 0) {
          console.log(`No cached scripts in ${relative(Deno.cwd(), store.scripts) || "."}`);
          return;
        }
        for (const { manifest: m } of entries) {
          const prompt = m.prompt.length > 60 ? m.prompt.slice(0, 59) + "…" : m.prompt;
          console.log(
            `${m.fingerprint}  ${m.language.padEnd(10)} ${m.created_at.slice(0, 10)}  ${prompt}`,
          );
        }
        for (const b of broken) console.log(`! ${b.dir}: ${b.reason}`);
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}
