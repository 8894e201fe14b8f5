/**
 * `capibara show`: one cached script's manifest, files and how to run it by hand.
 *
 * @module
 */
import { Command } from "@commander-js/extra-typings";
import { join, relative } from "node:path";
import { Capibara } from "../capibara.ts";
import { CapibaraError } from "../errors.ts";
import { manualCommand } from "../readme.ts";
import { printJson, reportError } from "./output.ts";

/** The `show` subcommand. */
export function showCommand(setExit: (code: number) => void) {
  return new Command("show")
    .description("Show a cached script: manifest, files, integrity, and how to run it by hand")
    .argument("<fingerprint>", "a fingerprint or a unique prefix of one (fp_ optional)")
    .option("--json", "print one JSON document on stdout")
    .action(async (prefix, opts) => {
      const json = opts.json ?? false;
      try {
        const store = await new Capibara().store();
        const fp = await store.resolve(prefix);
        const entry = (await store.lookup(fp))!;
        let integrity = "ok";
        try {
          await store.verify(entry);
        } catch (error) {
          if (!(error instanceof CapibaraError)) throw error;
          integrity = error.message;
        }
        const m = entry.manifest;
        const run = manualCommand(m);
        if (json) {
          printJson({ dir: entry.dir, manifest: m, integrity, run_by_hand: run });
          return;
        }
        const where = relative(Deno.cwd(), entry.dir) || ".";
        console.log(`${m.fingerprint}  (revision ${m.revision}, ${m.created_at})`);
        console.log(`prompt:     ${m.prompt}`);
        if (m.context !== undefined) console.log(`context:    ${JSON.stringify(m.context)}`);
        console.log(`language:   ${m.language} (${m.runtime.name} ${m.runtime.version})`);
        console.log(
          `generator:  ${m.generator.kind}${m.generator.model ? ` (${m.generator.model})` : ""}`,
        );
        console.log(`deps:       ${m.deps.join(", ") || "none"}`);
        console.log(
          `needs:      network: ${m.needs.network.join(", ") || "none"}; env: ${
            m.needs.env.join(", ") || "none"
          }`,
        );
        console.log(
          `allowed:    network: ${m.allow.network.join(", ") || "none"}; env: ${
            m.allow.env.join(", ") || "none"
          }; read: ${m.allow.fs.read.join(", ") || "inputs only"}; write: ${
            m.allow.fs.write.join(", ") || "outputs only"
          }`,
        );
        console.log(`integrity:  ${integrity}`);
        console.log(`folder:     ${where}`);
        for (const [name, hash] of Object.entries(m.files)) {
          console.log(`  ${join(where, name)}  ${hash.slice(0, 19)}…`);
        }
        console.log("\nRun it by hand (from the folder above):");
        console.log("  " + run.split("\n").join("\n  "));
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}
