// Generated from src/cli/rekey.ts by scripts/build_js.ts (sha256 b64112cec3db899d954a8f0b48cd37a950ef5f5dd3f3fe81c545928060f5ecef): do not edit; `deno task build:js` writes it.
export var rekeyCommand = (function (setExit) {
    return new Command("rekey")
        .description("Move cached scripts keyed under an older template's prompt rule to their new " +
        "fingerprints (no LLM call; each entry is verified first and gets a new revision)")
        .option("--dry-run", "say what would move, and change nothing")
        .option("--key <file>", "sign each moved entry with this private key, as capibara sign does (a new fingerprint " +
        "voids the old signature)", nonEmpty)
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .addHelpText("after", `
Examples:
  capibara rekey --dry-run     list the entries that would move
  capibara rekey               move them (then commit .capibara/)
  capibara rekey --key ./keys/capibara_signing_key.pem   move them and sign them again
  capibara rekey --json        one JSON document: every entry's from, to and status`)
        .action((async (opts) => {
        const json = opts.json ?? false;
        const dryRun = opts.dryRun ?? false;
        using interruption = interruptible();
        try {
            const key = opts.key === undefined ? undefined : await loadSigningKey(opts.key);
            const store = await (await commandCapibara(opts.root)).store();
            const before = (await store.list()).entries;
            const signedBefore = new Map(before.flatMap((({ manifest: m }) => isWellFormedSignature(m.signature) ? [[m.fingerprint, m.signature.key_id]] : [])));
            const vouched = new Set();
            for (const entry of key ? before : []) {
                const m = entry.manifest;
                const ownSignature = await verifySignature(m, m.signature, key.publicKey);
                const accepted = ownSignature ||
                    (await store.verify(entry).catch((() => undefined)))?.state === "accepted";
                if (ownSignature || accepted)
                    vouched.add(m.fingerprint);
            }
            const outcomes = await rekeyStore(store, { dryRun, signal: interruption.signal });
            if (interruption.received) {
                const moved = outcomes.filter(((o) => o.status === "moved")).length;
                setExit(reportInterrupted(interruption.received, `re-keying (${moved} moved; run it again for the rest)`, json));
                return;
            }
            const required = store.signatures.required;
            const signing = new Map();
            let signError;
            for (const o of outcomes) {
                if ((o.status !== "moved" && o.status !== "would-move") || o.to === undefined)
                    continue;
                const was = signedBefore.get(o.from);
                if (key !== undefined && !vouched.has(o.from)) {
                    signing.set(o.from, {
                        unsigned: `${dryRun ? "would come out" : "comes out"} unsigned: --key signs again ` +
                            "only what this key signed before, or what was accepted on this machine; review " +
                            `it, then capibara sign ${o.to} --key <file>`,
                    });
                }
                else if (key !== undefined && !dryRun) {
                    try {
                        signing.set(o.from, { signed_by: (await signEntry(store, o.to, key)).key_id });
                    }
                    catch (error) {
                        if (!(error instanceof CapibaraError))
                            throw error;
                        signing.set(o.from, { unsigned: `not signed: ${error.message}` });
                        signError ??= error;
                    }
                }
                else if (key !== undefined) {
                    signing.set(o.from, { signed_by: key.keyId });
                }
                else if (was !== undefined || required) {
                    signing.set(o.from, {
                        unsigned: `${dryRun ? "would come out" : "comes out"} unsigned${was !== undefined
                            ? ` (its signature by key ${was} covered the old fingerprint)`
                            : ""}${required ? ": run refuses it here until it is signed or accepted" : ""}`,
                    });
                }
            }
            const failed = outcomes.find(((o) => o.status === "failed"));
            if (json) {
                printJson({
                    ok: !failed && !signError,
                    dry_run: dryRun,
                    entries: outcomes.map((({ error: _e, ...o }) => {
                        const s = signing.get(o.from);
                        return {
                            ...o,
                            ...(s?.signed_by ? { signed_by: s.signed_by } : {}),
                            ...(s?.unsigned ? { unsigned: true } : {}),
                        };
                    })),
                });
            }
            else {
                for (const o of outcomes) {
                    const to = o.to && o.status !== "current" ? ` → ${o.to}` : "";
                    console.log(`${VERB[o.status].padEnd(10)} ${terminalSafe(o.from)}${to}`);
                    if (o.reason)
                        console.log(`    ${terminalSafe(o.reason)}`);
                    const s = signing.get(o.from);
                    if (s?.signed_by) {
                        console.log(`    ${dryRun ? "would be signed" : "signed"} by key ${s.signed_by}`);
                    }
                    if (s?.unsigned)
                        console.log(`    ${terminalSafe(s.unsigned)}`);
                }
                const count = ((status) => outcomes.filter(((o) => o.status === status)).length);
                console.log(outcomes.length === 0
                    ? "No cached scripts"
                    : dryRun
                        ? `${count("would-move")} would move, ${count("current")} already current`
                        : `${count("moved")} moved, ${count("current")} already current`);
                const unsigned = [...signing.entries()].filter((([, s]) => s.unsigned !== undefined));
                if (unsigned.length > 0 && key === undefined) {
                    const one = outcomes.find(((o) => o.from === unsigned[0][0]))?.to ?? "<fingerprint>";
                    console.log(`${unsigned.length} re-keyed ${unsigned.length === 1 ? "entry is" : "entries are"} ` +
                        `unsigned: review and sign ${unsigned.length === 1 ? "it" : "them"} with capibara sign ${unsigned.length === 1 ? one : "--all"} --key <file> (or ` +
                        `rekey with --key <file>)${required ? `; or accept each on this machine: capibara accept ${one}` : ""}`);
                }
            }
            const worst = failed?.error ?? signError;
            if (worst) {
                if (!json) {
                    console.error(`error[${worst.type}]: ${terminalSafe(worst.message.split("\n")[0])}`);
                }
                setExit(EXIT_CODES[worst.type]);
            }
        }
        catch (error) {
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { loadSigningKey } from "../core/sign.js";
import { CapibaraError, EXIT_CODES } from "../errors.js";
import { rekeyStore } from "../store/rekey.js";
import { isWellFormedSignature, verifySignature } from "../store/trust.js";
import { commandCapibara, interruptible, printJson, reportError, reportInterrupted, ROOT_HELP, terminalSafe, } from "./output.js";
import { nonEmpty } from "./_options.js";
import { signEntry } from "./sign.js";
const VERB = {
    "moved": "moved",
    "would-move": "would move",
    "current": "current",
    "superseded": "superseded",
    "skipped": "skipped",
    "failed": "failed",
};
;
