// Generated from src/cli/list.ts by scripts/build_js.ts (sha256 e1cbaa0f00addf0d4b374a3241985703f27b8cb7a4eae3d8758b46d9fe50ac40): do not edit; `deno task build:js` writes it.
export var entryStanding = (async function (store, entry) {
    try {
        const status = await store.verify(entry);
        if (status.state !== "unsigned")
            return { integrity: "ok", signature: status };
        const signature = entry.manifest.signature;
        return {
            integrity: "ok",
            signature: isWellFormedSignature(signature)
                ? { state: "unsigned", key_id: signature.key_id }
                : { state: "unsigned" },
        };
    }
    catch (error) {
        if (!(error instanceof CapibaraError))
            throw error;
        try {
            await store.verify(entry, { policy: false });
        }
        catch (integrity) {
            if (!(integrity instanceof CapibaraError))
                throw integrity;
            return {
                integrity: integrity.message,
                signature: { state: "refused", reason: "its files or manifest changed since stored" },
            };
        }
        return { integrity: "ok", signature: { state: "refused", reason: error.message } };
    }
});
export var describeSignature = (function (signature) {
    switch (signature.state) {
        case "signed":
            return `signed by key ${terminalSafe(signature.key_id)}`;
        case "accepted":
            return `accepted on this machine (${terminalSafe(signature.accepted_at)})`;
        case "unsigned":
            return signature.key_id === undefined
                ? "unsigned"
                : `unsigned here: signed by key ${terminalSafe(signature.key_id)}, not trusted here`;
        case "refused":
            return `refused: ${terminalSafe(signature.reason)}`;
    }
});
var standings = (async function (store, entries) {
    const out = new Array(entries.length);
    let next = 0;
    const worker = (async () => {
        while (next < entries.length) {
            const i = next++;
            out[i] = await entryStanding(store, entries[i]);
        }
    });
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
    return out;
});
var shortSignature = (function (signature) {
    return signature.state === "signed"
        ? `signed:${terminalSafe(signature.key_id)}`
        : signature.state;
});
export var contextSummary = (function (context) {
    if (context === null || typeof context !== "object" || Array.isArray(context))
        return "";
    return Object.entries(context).map((([key, value]) => value !== null && typeof value === "object" ? `${key}=…` : `${key}=${String(value)}`)).join(", ");
});
export var listCommand = (function (setExit) {
    return new Command("list")
        .description("List the cached scripts of this project (.capibara/scripts/), each verified: signed by " +
        "a trusted key, accepted on this machine, unsigned, or refused (and why)")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .action((async (opts) => {
        const json = opts.json ?? false;
        try {
            const store = await (await commandCapibara(opts.root)).store();
            const { entries, broken } = await store.list();
            const standing = await standings(store, entries);
            if (json) {
                printJson({
                    root: store.root,
                    scripts: entries.map((({ manifest: m }, i) => ({
                        fingerprint: m.fingerprint,
                        prompt: m.prompt,
                        language: m.language,
                        deps: m.deps,
                        needs: m.needs,
                        generator: m.generator,
                        created_at: m.created_at,
                        revision: m.revision,
                        context: contextSummary(m.context),
                        integrity: standing[i].integrity,
                        signature: standing[i].signature,
                    }))),
                    broken,
                });
                return;
            }
            if (entries.length === 0 && broken.length === 0) {
                console.log(`No cached scripts in ${terminalSafe(store.scripts)}`);
                return;
            }
            console.log(`${terminalSafe(store.scripts)}:`);
            for (const [i, { manifest: m }] of entries.entries()) {
                const { integrity, signature } = standing[i];
                const safe = terminalSafe(m.prompt);
                const prompt = safe.length > 60 ? safe.slice(0, 59) + "…" : safe;
                const created = terminalSafe(m.created_at.slice(0, 10));
                const context = terminalSafe(contextSummary(m.context));
                console.log(`${m.fingerprint}  ${terminalSafe(m.language).padEnd(10)} r${m.revision}  ${created}  ${shortSignature(signature).padEnd(9)}  ` +
                    `${prompt}${context ? `  [${context.length > 50 ? context.slice(0, 49) + "…" : context}]` : ""}`);
                if (integrity !== "ok")
                    console.log(`    integrity: ${terminalSafe(integrity)}`);
                else if (signature.state === "refused") {
                    console.log(`    ${describeSignature(signature)}`);
                }
            }
            for (const b of broken)
                console.log(`! ${terminalSafe(b.dir)}: ${terminalSafe(b.reason)}`);
        }
        catch (error) {
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { CapibaraError } from "../errors.js";
import { isWellFormedSignature } from "../store/trust.js";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.js";
import { nonEmpty } from "./_options.js";
;
;
const CONCURRENCY = 8;
;
;
;
;
