// Generated from src/core/keys.ts by scripts/build_js.ts (sha256 595e53fa36f807e387342790d333b21977538f94bcde5386c58a945fd6a50a97): do not edit; `deno task build:js` writes it.
export var loadTrustedKeys = (async function (path) {
    const hint = 'Write {"keys": {"<key id>": "<public key>"}} (capibara keygen prints both)';
    let value;
    try {
        const real = Deno.realPathSync(path);
        value = JSON.parse(new TextDecoder().decode(readRegularFileSync(real, 1024 ** 2)));
    }
    catch (error) {
        const why = error instanceof FileRefused ? `it ${error.reason}` : error.message;
        throw new ValidationError(`Cannot read trusted keys "${path}": ${why}`, {
            cause: error,
            hint,
        });
    }
    const keys = value?.keys;
    if (typeof keys !== "object" || keys === null || Array.isArray(keys) ||
        Object.values(keys).some(((key) => typeof key !== "string"))) {
        throw new ValidationError(`Cannot read trusted keys "${path}": no "keys" object of strings`, {
            hint,
        });
    }
    const listed = keys;
    await checkProjectKeys({ keys: listed }, path);
    return new Map(Object.entries(listed));
});
export var publisherKey = (function (fp, entry, keys) {
    const manifest = entry?.manifest;
    if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
        throw new ValidationError("Cannot read the entry: expected an object {manifest, files}", {
            hint: "Send the entry as the Core's GET returns it",
        });
    }
    const signature = manifest[SIGNATURE_FIELD];
    if (signature === undefined) {
        throw new PermissionError(`Cannot accept "${fp}": it is not signed`, {
            hint: "Sign it first (capibara sign) with the Core's key or one listed in --trust-keys",
        });
    }
    if (!isWellFormedSignature(signature)) {
        throw new IntegrityError(`Cannot accept "${fp}": its signature is malformed`, {
            hint: "Sign it again with capibara sign",
        });
    }
    if (!keys.has(signature.key_id)) {
        throw new PermissionError(`Cannot accept "${fp}": it is signed by key ${signature.key_id}, which this Core does ` +
            "not trust", { hint: "Add the key to the Core's --trust-keys file, or sign with a trusted key" });
    }
    return signature.key_id;
});
import { IntegrityError, PermissionError, ValidationError } from "../errors.js";
import { FileRefused, readRegularFileSync } from "../_fs.js";
import { SIGNATURE_FIELD } from "../store/entry.js";
import { checkProjectKeys, isWellFormedSignature } from "../store/trust.js";
;
;
