// Generated from src/cli/keygen.ts by scripts/build_js.ts (sha256 8b74a673ca00204793692a0f54f1c6359e0848c4e867dc6eebc84c4ed76d8d7d): do not edit; `deno task build:js` writes it.
export var keygenCommand = (function (setExit) {
    return new Command("keygen")
        .description("Write an Ed25519 key pair for signing cached scripts (the private key with mode 0600)")
        .requiredOption("--out <dir>", "folder to write the key pair into (created when missing)", nonEmpty)
        .option("--json", "print {key_id, public_key, private_key_path} on stdout")
        .addHelpText("after", `
The private key (capibara_signing_key.pem) signs; keep it secret, on the signer's machine or the
Core's. The public key and its id go into .capibara/config.json, so that the project trusts it:
  "trust": {"keys": {"<key id>": "<public key>"}, "require_signature": true}
An existing key is never overwritten.

Examples:
  capibara keygen --out ~/.config/capibara/keys
  capibara keygen --out ./core-key --json
  capibara sign --all --key ~/.config/capibara/keys/capibara_signing_key.pem`)
        .action((async (opts) => {
        const json = opts.json ?? false;
        try {
            let pair;
            try {
                pair = await writeKeyPair(opts.out);
            }
            catch (error) {
                if (error instanceof CapibaraError)
                    throw error;
                throw new ValidationError(`Cannot write a key pair in "${opts.out}": ${error.message}`, { cause: error, hint: "Choose a folder you can write to, with --out <dir>" });
            }
            if (json) {
                printJson({
                    key_id: pair.key_id,
                    public_key: pair.public_key,
                    private_key_path: pair.private_key_path,
                });
                return;
            }
            console.log(`key id:       ${pair.key_id}`);
            console.log(`public key:   ${pair.public_key}`);
            console.log(`private key:  ${terminalSafe(pair.private_key_path)} (mode 0600: keep it secret)`);
            console.log(`public file:  ${terminalSafe(pair.public_key_path)}`);
            console.log(`Trust it in .capibara/config.json: "trust": {"keys": {"${pair.key_id}": ` +
                `"${pair.public_key}"}}`);
        }
        catch (error) {
            setExit(reportError(error, json));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { writeKeyPair } from "../core/sign.js";
import { CapibaraError, ValidationError } from "../errors.js";
import { printJson, reportError, terminalSafe } from "./output.js";
import { nonEmpty } from "./_options.js";
;
