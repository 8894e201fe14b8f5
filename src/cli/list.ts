/**
 * `capibara list`: the cached scripts of this project.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";

/**
 * A one-line summary of a stored context, telling apart the entries of one prompt: its keys and
 * scalar values (`input=a.csv, n=3`), or "" without one (parametric mode stores none).
 */
export function contextSummary(context: unknown): string {
  if (context === null || typeof context !== "object" || Array.isArray(context)) return "";
  return Object.entries(context).map(([key, value]) =>
    value !== null && typeof value === "object" ? `${key}=…` : `${key}=${String(value)}`
  ).join(", ");
}

/** The `list` subcommand. */
export function listCommand(setExit: (code: number) => void) {
  return new Command("list")
    .description("List the cached scripts of this project (.capibara/scripts/)")
    .option("--root <dir>", ROOT_HELP)
    .option("--json", "print one JSON document on stdout")
    .action(async (opts) => {
      const json = opts.json ?? false;
      try {
        const store = await (await commandCapibara(opts.root)).store();
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
              context: contextSummary(m.context),
            })),
            broken,
          });
          return;
        }
        if (entries.length === 0 && broken.length === 0) {
          console.log(`No cached scripts in ${terminalSafe(store.scripts)}`);
          return;
        }
        console.log(`${terminalSafe(store.scripts)}:`);
        // A manifest is untrusted text (a cloned repository's, a model's prompt): every field is
        // escaped, the prompt before it is cut.
        for (const { manifest: m } of entries) {
          const safe = terminalSafe(m.prompt);
          const prompt = safe.length > 60 ? safe.slice(0, 59) + "…" : safe;
          const created = terminalSafe(m.created_at.slice(0, 10));
          const context = terminalSafe(contextSummary(m.context));
          console.log(
            `${m.fingerprint}  ${
              terminalSafe(m.language).padEnd(10)
            } r${m.revision}  ${created}  ` +
              `${prompt}${
                context ? `  [${context.length > 50 ? context.slice(0, 49) + "…" : context}]` : ""
              }`,
          );
        }
        for (const b of broken) console.log(`! ${terminalSafe(b.dir)}: ${terminalSafe(b.reason)}`);
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}
