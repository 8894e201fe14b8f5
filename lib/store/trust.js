// Generated from src/store/trust.ts by scripts/build_js.ts (sha256 26cf18e93f13404bb65b85579eba1b3b3b30799620a3719f6ce3ef37b0941a24): do not edit; `deno task build:js` writes it.
export var keyIdOf = (async function (publicKey) {
    return (await sha256(publicKeyBytes(publicKey))).slice(0, 16);
});
export var publicKeyBytes = (function (publicKey) {
    const bytes = strictBase64(publicKey);
    if (bytes?.length !== PUBLIC_KEY_BYTES) {
        throw new TypeError("Cannot read public key: expected base64 of 32 bytes (an Ed25519 key)");
    }
    return bytes;
});
export var signedMessage = (function (manifest) {
    return new TextEncoder().encode(canonicalManifest(manifest));
});
export var verifySignature = (async function (manifest, signature, publicKey) {
    if (!isWellFormedSignature(signature))
        return false;
    let key;
    try {
        if (signature.key_id !== await keyIdOf(publicKey))
            return false;
        key = await crypto.subtle.importKey("raw", publicKeyBytes(publicKey), SIGNATURE_ALG, false, [
            "verify",
        ]);
    }
    catch {
        return false;
    }
    const value = strictBase64(signature.value);
    return await crypto.subtle.verify(SIGNATURE_ALG, key, value, signedMessage(manifest));
});
export var isWellFormedSignature = (function (value) {
    return isSignatureShape(value) && value.alg === SIGNATURE_ALG &&
        KEY_ID.test(value.key_id) && strictBase64(value.value)?.length === SIGNATURE_BYTES;
});
export var isSignatureShape = (function (value) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
        return false;
    const keys = Object.keys(value).sort();
    const record = value;
    return keys.join(",") === "alg,key_id,value" &&
        typeof record.alg === "string" && typeof record.key_id === "string" &&
        typeof record.value === "string";
});
var strictBase64 = (function (text) {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
        return undefined;
    }
    try {
        const bytes = Uint8Array.fromBase64(text);
        return bytes.toBase64() === text ? bytes : undefined;
    }
    catch {
        return undefined;
    }
});
var machineSwitch = (function (env) {
    const value = (env[REQUIRE_SIGNATURE_ENV] ?? "").trim().toLowerCase();
    if (["", "0", "false", "no", "off"].includes(value))
        return false;
    if (["1", "true", "yes", "on"].includes(value))
        return true;
    throw new ValidationError(`Invalid ${REQUIRE_SIGNATURE_ENV} "${env[REQUIRE_SIGNATURE_ENV]}"`, {
        hint: `Set ${REQUIRE_SIGNATURE_ENV}=1 to require signatures on this machine, or unset it`,
    });
});
var machineKeys = (function (env) {
    const keys = (env[TRUSTED_KEYS_ENV] ?? "").split(/[\s,]+/).filter(((k) => k !== ""));
    for (const key of keys) {
        try {
            publicKeyBytes(key);
        }
        catch {
            throw new ValidationError(`Invalid ${TRUSTED_KEYS_ENV}: "${key}" is not a public key (base64 of 32 bytes)`, { hint: "List the public keys capibara keygen printed, separated by commas or spaces" });
        }
    }
    return keys;
});
export var resolveSignaturePolicy = (function (project, env) {
    const required = machineSwitch(env);
    const keys = machineKeys(env);
    if (required)
        return { required, keys: [...new Set(keys)], source: "machine" };
    return {
        required: project?.require_signature === true,
        keys: [...new Set([...keys, ...Object.values(project?.keys ?? {})])],
        source: "project",
    };
});
export var checkProjectKeys = (async function (project, where) {
    for (const [id, key] of Object.entries(project?.keys ?? {})) {
        let actual;
        try {
            actual = await keyIdOf(key);
        }
        catch {
            throw new ValidationError(`Cannot read "${where}": trust.keys["${id}"] is not a public key (base64 of 32 bytes)`, {
                hint: "Copy the public key capibara keygen printed",
                details: { key: `trust.keys.${id}` },
            });
        }
        if (actual !== id) {
            throw new ValidationError(`Cannot read "${where}": trust.keys["${id}"] is mislabelled: that public key's id is ` +
                `"${actual}"`, {
                hint: `List it as "${actual}": "${key}" (capibara keygen prints both)`,
                details: { key: `trust.keys.${id}`, key_id: actual },
            });
        }
    }
});
export var manifestHash = (async function (manifest) {
    return await sha256Tagged(canonicalManifest(manifest));
});
var trustedKey = (async function (policy, keyId) {
    for (const key of policy.keys) {
        let id = keyIds.get(key);
        if (id === undefined) {
            id = keyIdOf(key).catch((() => ""));
            keyIds.set(key, id);
        }
        if (await id === keyId)
            return key;
    }
    return undefined;
});
export var checkSignaturePolicy = (async function (manifest, policy, acceptance) {
    const fp = manifest.fingerprint;
    const signature = manifest.signature;
    const key = isWellFormedSignature(signature)
        ? await trustedKey(policy, signature.key_id)
        : undefined;
    if (key !== undefined) {
        const keyId = signature.key_id;
        if (await verifySignature(manifest, signature, key))
            return { state: "signed", key_id: keyId };
        const problem = `its signature by trusted key ${keyId} does not verify`;
        throw new IntegrityError(`Cannot trust cached script "${fp}": ${problem} (the entry changed after it was signed, ` +
            `or the signature was made for another entry)`, {
            hint: "Restore the entry from version control (or fetch it again), or review the change, " +
                `keep it with capibara accept ${fp} and sign it again with capibara sign ${fp} ` +
                "--key <file>",
            details: { fingerprint: fp, key_id: keyId, problems: [problem] },
        });
    }
    if (acceptance !== undefined && acceptance.manifest === await manifestHash(manifest)) {
        return { state: "accepted", accepted_at: acceptance.accepted_at };
    }
    if (!policy.required)
        return { state: "unsigned" };
    const why = policy.source === "machine"
        ? `this machine requires signatures (${REQUIRE_SIGNATURE_ENV})`
        : "this project requires signatures (trust.require_signature in .capibara/config.json)";
    const other = isWellFormedSignature(signature)
        ? ` (it is signed by key ${signature.key_id}, which is not trusted here)`
        : "";
    const changed = acceptance !== undefined
        ? "; it was accepted on this machine, but changed since"
        : "";
    const problem = `it is not signed by a trusted key${other}, and ${why}${changed}`;
    const list = policy.source === "machine"
        ? `${TRUSTED_KEYS_ENV} lists its public key`
        : `trust.keys in .capibara/config.json lists it ("<key id>": "<public key>")`;
    throw new IntegrityError(`Cannot trust cached script "${fp}": ${problem}`, {
        hint: `Review it (capibara show ${fp} --script), then accept it on this machine with ` +
            `capibara accept ${fp}; or have it signed by a trusted key: capibara keygen --out <dir> ` +
            `makes a key pair, ${list}, and capibara sign ${fp} --key <dir>/capibara_signing_key.pem ` +
            "signs it",
        details: {
            fingerprint: fp,
            problems: [problem],
            ...(other ? { key_id: signature.key_id } : {}),
        },
    });
});
var projectsOf = (function (json) {
    const projects = json?.projects;
    if (typeof projects !== "object" || projects === null || Array.isArray(projects))
        return {};
    return projects;
});
import { join } from "../_path.js";
import { IntegrityError, ValidationError } from "../errors.js";
import { sha256, sha256Tagged } from "../_hash.js";
import { readRecordsFor, updateJsonFile } from "../_json_file.js";
import { canonicalManifest } from "./entry.js";
import { ownCacheFolder } from "../_cache_folder.js";
export const SIGNATURE_ALG = "Ed25519";
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const KEY_ID = /^[0-9a-f]{16}$/;
;
;
;
;
;
;
;
export const REQUIRE_SIGNATURE_ENV = "CAPIBARA_REQUIRE_SIGNATURE";
export const TRUSTED_KEYS_ENV = "CAPIBARA_TRUSTED_KEYS";
export const ACCEPTANCE_FILE = "accepted.json";
export const NO_SIGNATURE_POLICY = {
    required: false,
    keys: [],
    source: "project",
};
;
;
;
;
;
const keyIds = new Map();
;
;
export class AcceptanceStore {
    path;
    constructor(cacheDir) {
        this.path = join(ownCacheFolder(cacheDir), ACCEPTANCE_FILE);
    }
    async get(root, fingerprint) {
        const projects = projectsOf(await readRecordsFor(this.path, root));
        const record = projects[root]?.[fingerprint];
        if (typeof record !== "object" || record === null)
            return undefined;
        if (typeof record.manifest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(record.manifest)) {
            return undefined;
        }
        return {
            manifest: record.manifest,
            accepted_at: typeof record.accepted_at === "string" ? record.accepted_at : "",
        };
    }
    async accept(root, manifest) {
        const record = {
            manifest: await manifestHash(manifest),
            accepted_at: new Date().toISOString(),
        };
        await updateJsonFile(this.path, ((current) => {
            const projects = projectsOf(current);
            const earlier = projects[root];
            projects[root] = {
                ...(typeof earlier === "object" && earlier !== null && !Array.isArray(earlier)
                    ? earlier
                    : {}),
                [manifest.fingerprint]: record,
            };
            return { version: 1, projects };
        }));
        return record;
    }
}
;
