/**
 * `capibara show`: one cached script's manifest, files and how to run it by hand.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { join, relative } from "../_path.ts";
import { IntegrityError, ValidationError } from "../errors.ts";
import { readEntryFile } from "../store/integrity.ts";
import type { Store } from "../store/store.ts";
import { manualCommand } from "../readme.ts";
import { normaliseRequirements } from "../contract/requirements.ts";
import { describeSignature, entryStanding } from "./list.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";
import { nonEmpty } from "./_options.ts";

/** A list of untrusted strings on one line, each terminal-safe. */
function items(list: string[], none: string): string {
  return list.map((item) => terminalSafe(item)).join(", ") || none;
}

/**
 * The fingerprint `query` names: a fingerprint or its prefix, else the one entry whose prompt
 * holds the text (case-insensitive).
 *
 * @throws {ValidationError} when nothing or more than one entry matches.
 */
async function resolveOrSearch(store: Store, query: string): Promise<string> {
  if (/^(fp_)?[0-9a-f]+$/i.test(query)) {
    try {
      return await store.resolve(query);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
    }
  }
  const wanted = query.toLowerCase();
  const matches = (await store.list()).entries.filter((e) =>
    e.manifest.prompt.toLowerCase().includes(wanted)
  );
  if (matches.length === 1) return matches[0]!.manifest.fingerprint;
  if (matches.length === 0) {
    throw new ValidationError(`No cached script matches "${query}"`, {
      hint: `Give a fingerprint, or words of its prompt; see capibara list (${store.scripts})`,
    });
  }
  throw new ValidationError(
    `"${query}" matches ${matches.length} cached scripts: ${
      matches.slice(0, 5).map((e) => e.manifest.fingerprint).join(", ")
    }`,
    { hint: "Give its fingerprint (see capibara list), or more words of the prompt" },
  );
}

/** The `show` subcommand. */
export function showCommand(setExit: (code: number) => void) {
  return new Command("show")
    .description(
      "Show a cached script: manifest, files, integrity, signature state, and how to run it by hand",
    )
    .argument(
      "<fingerprint|text...>",
      "a fingerprint or a unique prefix of one (fp_ optional), or words of the prompt (quoted " +
        "or not)",
    )
    .option("--script", "print the script itself (terminal-safe)")
    .option("--root <dir>", ROOT_HELP, nonEmpty)
    .option("--json", "print one JSON document on stdout")
    .action(async (words, opts) => {
      const json = opts.json ?? false;
      const prefix = words.join(" ");
      try {
        const store = await (await commandCapibara(opts.root)).store();
        const fp = await resolveOrSearch(store, prefix);
        const entry = await store.entry(fp);
        // One verification, as run's: integrity, then the signature policy.
        const { integrity, signature } = await entryStanding(store, entry);
        const m = entry.manifest;
        if (opts.script) {
          // The manifest names the script: never a path out of the folder, nor a symlink.
          const bytes = await readEntryFile(entry.dir, m.entry);
          if (typeof bytes === "string") {
            throw new IntegrityError(`Cannot show the script of "${fp}": ${m.entry} ${bytes}`, {
              hint: "Restore the entry from version control, or regenerate it with " +
                "capibara run --refresh --force",
            });
          }
          const script = new TextDecoder().decode(bytes);
          if (json) {
            printJson({ fingerprint: m.fingerprint, entry: m.entry, script, integrity, signature });
          } // A script is untrusted text: every control character shows escaped.
          else console.log(terminalSafe(script, { multiline: true }).replace(/\n$/, ""));
          return;
        }
        // A repository's requirements, checked before they reach a command: named, pinned
        // packages, passed to pip as arguments (its requirements.txt could hold pip's options).
        let packages: string[] | undefined;
        try {
          packages = normaliseRequirements(m.deps);
        } catch {
          packages = undefined;
        }
        const run = manualCommand(m, packages);
        if (json) {
          printJson({ dir: entry.dir, manifest: m, integrity, signature, run_by_hand: run });
          return;
        }
        // Every field of a manifest is untrusted text (a model's choice, or a cloned repository's
        // file), and so are the file names and the integrity verdict that names them: each is
        // escaped on its own line, so none can hide or rewrite another.
        const safe = (text: string) => terminalSafe(text);
        const where = safe(relative(Deno.cwd(), entry.dir) || ".");
        console.log(`${m.fingerprint}  (revision ${m.revision}, ${safe(m.created_at)})`);
        console.log(`prompt:     ${safe(m.prompt)}`);
        if (m.context !== undefined) console.log(`context:    ${safe(JSON.stringify(m.context))}`);
        console.log(
          `language:   ${safe(m.language)} (${safe(m.runtime.name)} ${safe(m.runtime.version)})`,
        );
        console.log(
          `generator:  ${safe(m.generator.kind)}${
            m.generator.model ? ` (${safe(m.generator.model)})` : ""
          }`,
        );
        console.log(`deps:       ${items(m.deps, "none")}`);
        console.log(
          `needs:      network: ${items(m.needs.network, "none")}; env: ${
            items(m.needs.env, "none")
          }`,
        );
        console.log(
          `allowed:    network: ${items(m.allow.network, "none")}; env: ${
            items(m.allow.env, "none")
          }; read: ${items(m.allow.fs.read, "inputs only")}; write: ${
            items(m.allow.fs.write, "outputs only")
          }`,
        );
        console.log(`integrity:  ${safe(integrity)}`);
        console.log(`signature:  ${describeSignature(signature)}`);
        console.log(`folder:     ${where}`);
        for (const [name, hash] of Object.entries(m.files)) {
          console.log(`  ${join(where, safe(name))}  ${safe(hash.slice(0, 19))}…`);
        }
        console.log(
          integrity === "ok"
            ? `\nRun it by hand, outside the sandbox, from the project root (${safe(store.root)}):`
            : "\nDo not run it by hand: it fails its integrity check (above), so it is not the " +
              "script its manifest records. Restore it from version control, or regenerate it " +
              "(capibara run --refresh). Its command, for review only:",
        );
        // The entry's name is escaped before the command is built: its only line breaks are ours.
        const byHand = manualCommand({ ...m, entry: safe(m.entry) }, packages);
        console.log("  " + terminalSafe(byHand, { multiline: true }).split("\n").join("\n  "));
      } catch (error) {
        setExit(reportError(error, json, undefined, { root: opts.root }));
      }
    });
}
