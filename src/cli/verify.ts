/**
 * `capibara verify`: integrity and contract/static checks of stored scripts.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { basename } from "../_path.ts";
import { CapibaraError, EXIT_CODES, IntegrityError, TemplateError } from "../errors.ts";
import { checkBundle, ContractViolation } from "../contract/bundle.ts";
import { readEntryFile } from "../store/integrity.ts";
import type { Entry } from "../store/store.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";
import { nonEmpty } from "./_options.ts";

/** The verdict on one stored script. */
export interface Verdict {
  fingerprint: string;
  ok: boolean;
  integrity: string;
  checks: string;
}

/** Checks one entry: file hashes, then the generation contract and the static checks. */
export async function verifyEntry(
  entry: Entry,
  verify: (e: Entry) => Promise<unknown>,
): Promise<{ verdict: Verdict; error?: CapibaraError }> {
  const m = entry.manifest;
  let integrity = "ok";
  let checks = "ok";
  let error: CapibaraError | undefined;
  try {
    await verify(entry);
  } catch (e) {
    if (!(e instanceof CapibaraError)) throw e;
    integrity = e.message;
    error = e;
  }
  try {
    // The manifest names the script: never a path out of the folder, nor a symlink.
    const bytes = await readEntryFile(entry.dir, m.entry);
    if (typeof bytes === "string") throw new ContractViolation(`${m.entry} ${bytes}`);
    const script = new TextDecoder().decode(bytes);
    await checkBundle({
      language: m.language,
      script,
      requirements: m.deps,
      outputs: m.outputs,
      aliases: m.aliases,
      needs: m.needs,
      readme: "",
    }, { language: m.language });
  } catch (e) {
    if (!(e instanceof ContractViolation)) throw e;
    checks = e.reason;
    error ??= new TemplateError(`Stored script "${m.fingerprint}" fails its checks: ${checks}`, {
      hint: "Regenerate it with capibara run --refresh, or fix it and review the change",
    });
  }
  return { verdict: { fingerprint: m.fingerprint, ok: !error, integrity, checks }, error };
}

/** The `verify` subcommand. */
export function verifyCommand(setExit: (code: number) => void) {
  return new Command("verify")
    .description(
      "Check stored scripts: file hashes against the manifest, the generation contract, and the " +
        "static checks (imports, shell execution, credential reads, hard-coded secrets…)",
    )
    .argument("[fingerprint]", "a fingerprint or unique prefix; omit to check every script")
    .option("--root <dir>", ROOT_HELP, nonEmpty)
    .option("--json", "print one JSON document on stdout")
    .action(async (prefix, opts) => {
      const json = opts.json ?? false;
      try {
        const store = await (await commandCapibara(opts.root)).store();
        const { entries, broken } = prefix === undefined
          ? await store.list()
          : { entries: [await store.entry(await store.resolve(prefix))], broken: [] };
        const verdicts: Verdict[] = [];
        let worst: CapibaraError | undefined;
        // What run and list refuse (an unreadable manifest, a stray folder) fails verify too.
        for (const b of broken) {
          verdicts.push({
            fingerprint: basename(b.dir),
            ok: false,
            integrity: b.reason,
            checks: "",
          });
          worst = new IntegrityError(b.reason, { hint: "Restore it with git, or remove it" });
        }
        for (const entry of entries) {
          const { verdict, error } = await verifyEntry(entry, (e) => store.verify(e));
          verdicts.push(verdict);
          if (error && (!worst || error instanceof IntegrityError)) worst = error;
        }
        if (json) {
          printJson({ ok: !worst, scripts: verdicts });
        } else {
          // Folder names, verdicts and check findings quote untrusted text: all terminal-safe.
          for (const v of verdicts) {
            console.log(`${v.ok ? "✓" : "✗"} ${terminalSafe(v.fingerprint)}`);
            if (v.integrity !== "ok") {
              console.log(`    integrity: ${terminalSafe(v.integrity)}`);
            }
            if (v.checks !== "ok" && v.checks !== "") {
              const checks = terminalSafe(v.checks, { multiline: true });
              console.log(`    checks: ${checks.split("\n").join("\n      ")}`);
            }
          }
          if (verdicts.length === 0) {
            // Said with the folder looked in: a check run from the wrong folder is seen as such.
            console.log(`No cached scripts to verify in ${terminalSafe(store.scripts)}`);
          }
        }
        if (worst) {
          if (!json) {
            console.error(`error[${worst.type}]: ${terminalSafe(worst.message.split("\n")[0]!)}`);
          }
          setExit(EXIT_CODES[worst.type]);
        }
      } catch (error) {
        setExit(reportError(error, json, undefined, { root: opts.root }));
      }
    });
}
