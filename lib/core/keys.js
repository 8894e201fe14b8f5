// Generated from src/core/keys.ts by scripts/build_js.ts (sha256 14410261d94c1274df3691beaee5d224a08001d4f5ba2fab2d1143b09e9aadf5): do not edit; `deno task build:js` writes it.
export var loadTrustedKeys = (async function (path) {
    const hint = 'Write {"keys": {"<key id>": "<public key>"}} (capibara keygen prints both)';
    const { text } = await readSettingsFile(path, "trusted keys", hint);
    let value;
    try {
        value = JSON.parse(text);
    }
    catch (error) {
        throw new ValidationError(`Cannot read trusted keys ${path}: ${error.message}`, {
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
import { readSettingsFile } from "./_private_file.js";
import { SIGNATURE_FIELD } from "../store/entry.js";
import { checkProjectKeys, isWellFormedSignature } from "../store/trust.js";
;
;
