// Generated from src/cli/trust.ts by scripts/build_js.ts (sha256 cd1626c33d4d77c16a6b71909ed2ae9f44338ae810a225e5ce0c8a4ec77545a8): do not edit; `deno task build:js` writes it.
var stateLine = (function (trust, recordedAt) {
    switch (trust.state) {
        case "absent":
            return "no configuration file";
        case "harmless":
            return "needs no trust (it grants nothing and keeps the default generator)";
        case "trusted":
            return trust.by === "record"
                ? `trusted on this machine${recordedAt ? ` since ${recordedAt}` : ""}`
                : trust.by === "env"
                    ? `trusted by ${TRUST_ENV}`
                    : "trusted by the SDK option trustProjectConfig";
        case "untrusted":
            return trust.changed
                ? "NOT trusted: it changed since it was trusted on this machine"
                : "NOT trusted on this machine";
    }
});
export var trustCommand = (function (setExit) {
    return new Command("trust")
        .description("Trust this project's .capibara/config.json on this machine (its grants and generator)")
        .option("--show", "show the file, its sha256 and what it grants; record nothing")
        .option("--revoke", "remove this project's trust")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .addHelpText("after", `
A committed .capibara/config.json that grants scripts anything (allow), sets the generator
(generator.base_url, generator.model: where your API key is sent) or allows source builds
takes effect only once trusted here. Trust is recorded for the file's sha256 and the project's
path in the machine-local cache: a changed file needs trust again.

Examples:
  capibara trust --show     review what the file would grant, and where it sends your key
  capibara trust            trust it as it is now
  capibara trust --revoke   stop trusting it

In CI, set ${TRUST_ENV} to the file's sha256 (shown by --show) instead.`)
        .action((async (opts) => {
        const json = opts.json ?? false;
        try {
            if (opts.show && opts.revoke) {
                throw new ValidationError("Cannot combine --show and --revoke", {
                    hint: "Run capibara trust --show, or capibara trust --revoke",
                });
            }
            const cb = await commandCapibara(opts.root);
            const storeRoot = await cb.store().then(((store) => store.root), ((error) => opts.revoke
                ? (opts.root !== undefined
                    ? resolve(opts.root)
                    : findRoot(cb.cwd, { warn: printWarning }))
                : Promise.reject(error)));
            const root = await realPathOrNull(storeRoot) ?? storeRoot;
            const trustStore = new TrustStore(cb.cacheDir);
            if (opts.revoke) {
                const revoked = await trustStore.revoke(root);
                if (json) {
                    printJson({ action: "revoke", root, revoked });
                }
                else {
                    console.log(revoked
                        ? `Revoked trust of ${terminalSafe(join(root, STORE_DIR, "config.json"))}`
                        : `Nothing to revoke: ${terminalSafe(root)} was not trusted on this machine`);
                }
                return;
            }
            const file = await loadProjectFile(root);
            const trust = await evaluateTrust(file, {
                cacheDir: cb.cacheDir,
                env: Deno.env.toObject(),
            });
            const record = file ? await trustStore.get(file.root) : undefined;
            const would = trust.request ? describeRequest(trust.request) : [];
            const act = !opts.show && trust.request !== undefined;
            const recorded = act && file ? await trustStore.trust(file) : undefined;
            if (json) {
                printJson({
                    action: opts.show ? "show" : "trust",
                    root,
                    config: file?.path ?? null,
                    sha256: file?.sha256 ?? null,
                    state: recorded ? "trusted" : trust.state,
                    ...(recorded ? { by: "record" } : trust.by ? { by: trust.by } : {}),
                    ...(trust.changed && !recorded ? { changed: true } : {}),
                    needs_trust: trust.request !== undefined,
                    would,
                    grants: {
                        network: trust.request?.network ?? [],
                        env: trust.request?.env ?? [],
                        read: trust.request?.read ?? [],
                        write: trust.request?.write ?? [],
                    },
                    base_url: trust.request?.baseUrl ?? null,
                    model: trust.request?.model ?? null,
                    source_builds: trust.request?.sourceBuilds ?? false,
                    recorded: recorded !== undefined,
                });
                return;
            }
            if (!file) {
                console.log(`No ${join(STORE_DIR, "config.json")} in ${terminalSafe(root)}: nothing to trust`);
                return;
            }
            console.log(`config:  ${terminalSafe(file.path)}`);
            console.log(`sha256:  ${file.sha256}`);
            console.log(`state:   ${recorded
                ? `trusted on this machine now (was: ${stateLine(trust, record?.trusted_at)})`
                : stateLine(trust, record?.trusted_at)}`);
            if (would.length) {
                console.log("\nIt would:");
                for (const clause of would)
                    console.log(`  - ${terminalSafe(clause)}`);
            }
            if (opts.show) {
                console.log("\n--- file ---");
                console.log(terminalSafe(file.text.replace(/\n$/, ""), { multiline: true }));
                console.log("--- end ---");
                if (trust.state === "untrusted") {
                    console.log(`\nTrust it with: capibara trust   (in CI: ${TRUST_ENV}=${file.sha256})`);
                }
                return;
            }
            console.log(recorded
                ? `\nTrusted on this machine for ${terminalSafe(root)}; a changed file needs trust again.`
                : "\nNothing to record: this file needs no trust.");
        }
        catch (error) {
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { join, resolve } from "../_path.js";
import { loadProjectFile } from "../config.js";
import { describeRequest, evaluateTrust, TRUST_ENV, TrustStore, } from "../config_trust.js";
import { ValidationError } from "../errors.js";
import { realPathOrNull } from "../_fs.js";
import { findRoot, STORE_DIR } from "../store/store.js";
import { commandCapibara, printJson, printWarning, reportError, ROOT_HELP, terminalSafe, } from "./output.js";
import { nonEmpty } from "./_options.js";
;
;
