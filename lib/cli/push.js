// Generated from src/cli/push.ts by scripts/build_js.ts (sha256 f3d268f3acc15d7173b15b636137caacac213afa8367c4ccff18ad180c953d39): do not edit; `deno task build:js` writes it.
export var pushEntries = (async function (cb, prefixes, options = {}) {
    const config = await cb.config();
    if (!config.core) {
        if (config.projectTrust.state === "untrusted" && config.projectTrust.request?.coreUrl) {
            throw untrustedError(config.projectTrust);
        }
        throw new ValidationError("Cannot push: no Core is configured", {
            hint: `Set ${CORE_URL_ENV} to the Core's URL and ${CORE_TOKEN_ENV} to a token with the ` +
                `"publish" right (or core.url in .capibara/config.json)`,
        });
    }
    const client = new CoreClient({ url: config.core.url, token: config.core.token });
    const store = await cb.store();
    const key = options.key === undefined ? undefined : await loadSigningKey(options.key);
    const outcomes = [];
    const report = ((outcome) => {
        outcomes.push(outcome);
        options.onOutcome?.(outcome);
    });
    let entries;
    if (prefixes.length > 0) {
        entries = [];
        for (const prefix of prefixes) {
            const fp = await store.resolve(prefix);
            const entry = await store.entry(fp).catch(((error) => {
                if (!(error instanceof CapibaraError))
                    throw error;
                report({ fingerprint: fp, status: "refused", error: error.toJSON() });
                return undefined;
            }));
            if (entry && !entries.some(((e) => e.manifest.fingerprint === fp)))
                entries.push(entry);
        }
    }
    else {
        const listed = await store.list();
        for (const b of listed.broken) {
            const error = new IntegrityError(b.reason, { hint: "Restore it with git, or remove it" });
            report({ fingerprint: basename(b.dir), status: "refused", error: error.toJSON() });
        }
        entries = listed.entries;
    }
    for (const found of entries) {
        options.signal?.throwIfAborted();
        const fp = found.manifest.fingerprint;
        let signed = false;
        try {
            const status = await store.verify(found);
            if (found.manifest.signature === undefined) {
                if (key && prefixes.length === 0 && status.state !== "accepted") {
                    throw new PermissionError(`Cannot push "${fp}": it is not signed, and --key signs only the scripts named on ` +
                        "the command line or accepted on this machine", {
                        hint: `Review it, then push it by name (capibara push ${fp} --key <file>) or ` +
                            `sign it with capibara sign ${fp} --key <file>`,
                        details: { fingerprint: fp },
                    });
                }
                if (!key) {
                    throw new PermissionError(`Cannot push "${fp}": it is not signed`, {
                        hint: `Review it, then sign it with capibara sign ${fp} --key <file>, or push it ` +
                            "with --key <file> to sign it on the way (the Core accepts its own key's " +
                            "signatures and those of the keys it trusts)",
                        details: { fingerprint: fp },
                    });
                }
                await signEntry(store, fp, key);
                signed = true;
            }
            const wire = await store.readEntry(fp);
            const outcome = await client.putEntry(fp, wire, { signal: options.signal });
            report({
                fingerprint: fp,
                status: outcome === "created" ? "pushed" : "already_there",
                ...(signed ? { signed } : {}),
            });
        }
        catch (error) {
            if (!(error instanceof CapibaraError))
                throw error;
            if (error instanceof NetworkError || error.details?.status === 401)
                throw error;
            report({
                fingerprint: fp,
                status: "refused",
                ...(signed ? { signed } : {}),
                error: error.toJSON(),
            });
        }
    }
    return { core: client.url, outcomes };
});
export var pushCommand = (function (setExit) {
    return new Command("push")
        .description("Publish signed local scripts to the team's Core (CAPIBARA_CORE_URL), so that other " +
        "machines' misses get them without a generation")
        .argument("[fingerprints...]", "fingerprints or unique prefixes; omit to push every script")
        .option("--key <file>", "sign unsigned scripts that verify here with this private key (capibara keygen) first", nonEmpty)
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .addHelpText("after", `
Examples:
  capibara push                 publish every signed script of this project
  capibara push fp_1a2b --key ~/.capibara/keys/capibara_signing_key.pem
  capibara push --json          {core, results: [{fingerprint, status, error?}]}

The Core's URL and token come from CAPIBARA_CORE_URL and CAPIBARA_CORE_TOKEN (a token with the
"publish" right), or core.url in a trusted .capibara/config.json.`)
        .action((async (prefixes, opts) => {
        const json = opts.json ?? false;
        using interruption = interruptible();
        try {
            const cb = await commandCapibara(opts.root);
            const result = await pushEntries(cb, prefixes, {
                key: opts.key,
                signal: interruption.signal,
                onOutcome: json ? undefined : printOutcome,
            });
            if (interruption.received) {
                setExit(reportInterrupted(interruption.received, "pushing", json));
                return;
            }
            const refused = result.outcomes.find(((o) => o.status === "refused"));
            if (json)
                printJson({ core: result.core, results: result.outcomes });
            else if (result.outcomes.length === 0)
                console.log("No cached scripts to push");
            else {
                const count = ((status) => result.outcomes.filter(((o) => o.status === status)).length);
                console.log(`${count("pushed")} pushed, ${count("already_there")} already there, ` +
                    `${count("refused")} refused (${terminalSafe(result.core)})`);
            }
            if (refused?.error)
                setExit(refused.error.exit_code);
        }
        catch (error) {
            if (interruption.received) {
                setExit(reportInterrupted(interruption.received, "pushing", json));
                return;
            }
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
var printOutcome = (function (outcome) {
    const signed = outcome.signed ? " (signed now)" : "";
    if (outcome.status === "pushed")
        console.log(`✓ pushed ${outcome.fingerprint}${signed}`);
    else if (outcome.status === "already_there") {
        console.log(`= already there ${outcome.fingerprint}${signed}`);
    }
    else {
        console.log(`✗ refused ${terminalSafe(outcome.fingerprint)}${signed}: ${terminalSafe(outcome.error?.message ?? "")}`);
        if (outcome.error?.hint)
            console.log(`    hint: ${terminalSafe(outcome.error.hint)}`);
    }
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { basename } from "../_path.js";
import { untrustedError } from "../config_trust.js";
import { CapibaraError, IntegrityError, NetworkError, PermissionError, ValidationError, } from "../errors.js";
import { CORE_TOKEN_ENV, CORE_URL_ENV, CoreClient } from "../generate/core_client.js";
import { loadSigningKey } from "../core/sign.js";
import { commandCapibara, interruptible, printJson, reportError, reportInterrupted, ROOT_HELP, terminalSafe, } from "./output.js";
import { nonEmpty } from "./_options.js";
import { signEntry } from "./sign.js";
;
;
;
