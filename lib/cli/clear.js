// Generated from src/cli/clear.ts by scripts/build_js.ts (sha256 70086b9161da0e82dfa4d2f69d3c8c458dc6eed90fc70a3c7a2943827e5be5b7): do not edit; `deno task build:js` writes it.
export var clearCommand = (function (setExit) {
    return new Command("clear")
        .description("Remove one cached script, or all of them (they are regenerated on next run)")
        .argument("[fingerprint]", "a fingerprint or unique prefix; omit to remove every script")
        .option("-y, --yes", "do not ask for confirmation")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .action((async (prefix, opts) => {
        const json = opts.json ?? false;
        try {
            const store = await (await commandCapibara(opts.root)).store();
            const listed = prefix === undefined ? await store.list() : undefined;
            const targets = listed
                ? [
                    ...new Set([...listed.entries.map(((e) => e.dir)), ...listed.broken.map(((b) => b.dir))]
                        .map(((dir) => basename(dir))).filter(((name) => FINGERPRINT_FORM.test(name)))),
                ]
                : [await store.resolve(prefix, { anyKind: true })];
            const prompts = new Map();
            for (const fp of targets) {
                const entry = await store.lookup(fp).catch((() => undefined));
                if (entry)
                    prompts.set(fp, entry.manifest.prompt);
            }
            if (targets.length > 0 && !opts.yes) {
                if (!Deno.stdin.isTerminal()) {
                    throw new ValidationError(`Refusing to remove ${targets.length} cached script(s) without confirmation`, { hint: "Add --yes" });
                }
                const answer = prompt(`Remove ${targets.length} cached script(s) from ${terminalSafe(store.scripts)}? [y/N]`);
                if (!/^y(es)?$/i.test(answer ?? "")) {
                    if (json)
                        printJson({ removed: [] });
                    else
                        console.log("Nothing removed");
                    return;
                }
            }
            for (const fp of targets)
                await store.remove(fp);
            if (json)
                printJson({ removed: targets });
            else if (targets.length === 0)
                console.log("No cached scripts to remove");
            else {
                console.log(`Removed ${targets.length} cached script(s):`);
                for (const fp of targets) {
                    console.log(`  ${fp}  ${terminalSafe(prompts.get(fp) ?? "(unreadable manifest)")}`);
                }
            }
        }
        catch (error) {
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { basename } from "../_path.js";
import { ValidationError } from "../errors.js";
import { FINGERPRINT_FORM } from "../types.js";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.js";
import { nonEmpty } from "./_options.js";
;
