// Generated from src/cli/sign.ts by scripts/build_js.ts (sha256 b60be61767c991037559706a620d016d5a96a3e661bc46955e4543a4294edadb): do not edit; `deno task build:js` writes it.
export var signEntry = (async function (store, fp, key) {
    using _lock = await store.lock(fp);
    const { manifest } = await store.readEntry(fp);
    await checkSignaturePolicy(manifest, { ...store.signatures, required: false });
    const signature = await signManifest(manifest, key);
    const previous = manifest.signature;
    if (previous?.key_id === signature.key_id && previous.value === signature.value &&
        previous.alg === signature.alg) {
        return { fingerprint: fp, key_id: key.keyId, written: false };
    }
    await store.writeSignature(fp, signature, key.publicKey);
    return {
        fingerprint: fp,
        key_id: key.keyId,
        written: true,
        ...(previous && previous.key_id !== key.keyId ? { replaced: previous.key_id } : {}),
    };
});
export var signCommand = (function (setExit) {
    return new Command("sign")
        .description("Sign reviewed cached scripts with a private key (capibara keygen), so that projects " +
        "trusting its public key run them")
        .argument("[fingerprint]", "a fingerprint or a unique prefix of one (fp_ optional)")
        .option("--all", "sign every cached script of this project")
        .requiredOption("--key <file>", "the private key file (capibara_signing_key.pem)", nonEmpty)
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .addHelpText("after", `
A signature covers the whole entry (every manifest field and, through their hashes, every file)
and changes neither its fingerprint nor its integrity record. An entry whose files or manifest
changed since they were stored is never signed.

Examples:
  capibara show fp_1a2b --script                          # review first
  capibara sign fp_1a2b --key ~/.config/capibara/keys/capibara_signing_key.pem
  capibara sign --all --key ./keys/capibara_signing_key.pem --json
  git add .capibara && git commit -m "Signed reviewed scripts"`)
        .action((async (prefix, opts) => {
        const json = opts.json ?? false;
        using interruption = interruptible();
        try {
            if ((prefix === undefined) === (opts.all === undefined)) {
                throw new ValidationError("Give a fingerprint or --all (not both)", {
                    hint: "capibara sign fp_1a2b --key <file>, or capibara sign --all --key <file>",
                });
            }
            const key = await loadSigningKey(opts.key);
            const store = await (await commandCapibara(opts.root)).store();
            const targets = prefix !== undefined
                ? [await store.resolve(prefix)]
                : (await store.list()).entries.map(((e) => e.manifest.fingerprint));
            const signed = [];
            const failed = [];
            let worst;
            for (const fp of targets) {
                if (interruption.received)
                    break;
                try {
                    signed.push(await signEntry(store, fp, key));
                }
                catch (error) {
                    if (!(error instanceof CapibaraError))
                        throw error;
                    if (prefix !== undefined)
                        throw error;
                    failed.push({ fingerprint: fp, error: error.toJSON() });
                    if (!worst || error instanceof IntegrityError)
                        worst = error;
                }
            }
            if (interruption.received) {
                const done = signed.filter(((x) => x.written)).length;
                setExit(reportInterrupted(interruption.received, `signing (${done} of ${targets.length} signed; run it again for the rest)`, json));
                return;
            }
            if (prefix === undefined) {
                for (const b of (await store.list()).broken) {
                    const error = new IntegrityError(b.reason, {
                        hint: "Restore it with git, or remove it",
                    });
                    failed.push({ fingerprint: b.dir, error: error.toJSON() });
                    worst ??= error;
                }
            }
            const trusted = store.signatures.keys.includes(key.publicKey);
            if (json) {
                printJson({ key_id: key.keyId, trusted, signed, failed });
            }
            else {
                for (const s of signed) {
                    console.log(`✓ ${s.fingerprint} ${s.written ? "signed" : "already signed"} by ${s.key_id}${s.replaced ? ` (replacing a signature by ${s.replaced})` : ""}`);
                }
                for (const f of failed) {
                    console.log(`✗ ${terminalSafe(f.fingerprint)}: ${terminalSafe(f.error.message)}`);
                }
                if (targets.length === 0 && failed.length === 0)
                    console.log("No cached scripts to sign");
                if (signed.some(((s) => s.written))) {
                    console.log("Commit .capibara/ to share the signatures");
                }
            }
            if (!trusted && signed.length > 0) {
                printWarning(store.signatures.source === "machine"
                    ? `warning: key ${key.keyId} is not trusted on this machine: its signatures count ` +
                        `once CAPIBARA_TRUSTED_KEYS lists ${key.publicKey}`
                    : `warning: key ${key.keyId} is not trusted by this project: its signatures count ` +
                        `once .capibara/config.json lists it, "trust": {"keys": {"${key.keyId}": ` +
                        `"${key.publicKey}"}}`);
            }
            if (worst) {
                if (!json)
                    console.error(`error[${worst.type}]: ${terminalSafe(worst.message)}`);
                setExit(EXIT_CODES[worst.type]);
            }
        }
        catch (error) {
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { loadSigningKey, signManifest } from "../core/sign.js";
import { CapibaraError, EXIT_CODES, IntegrityError, ValidationError } from "../errors.js";
import { checkSignaturePolicy } from "../store/trust.js";
import { commandCapibara, interruptible, printJson, printWarning, reportError, reportInterrupted, ROOT_HELP, terminalSafe, } from "./output.js";
import { nonEmpty } from "./_options.js";
;
;
