// Generated from src/core/sign.ts by scripts/build_js.ts (sha256 440c91fc258816ef493fdf041d7af797916f8754358e088d3cc9579d4690a880): do not edit; `deno task build:js` writes it.
export var writeKeyPair = (async function (dir) {
    const pair = await crypto.subtle.generateKey(SIGNATURE_ALG, true, [
        "sign",
        "verify",
    ]);
    const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)).toBase64();
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const folder = resolve(dir);
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    const privatePath = join(folder, KEY_FILES.private);
    const publicPath = join(folder, KEY_FILES.public);
    const exists = (() => new ValidationError(`Cannot write a key pair: a key already exists in ${folder}`, {
        hint: "Choose another --out folder; an existing key is never overwritten",
    }));
    if (lstatSyncOrNull(privatePath) !== null || lstatSyncOrNull(publicPath) !== null)
        throw exists();
    const staged = join(folder, `.keygen-${crypto.randomUUID()}`);
    const placed = [];
    try {
        await Deno.writeTextFile(`${staged}.pub`, publicKey + "\n", { createNew: true, mode: 0o644 });
        await Deno.writeTextFile(`${staged}.pem`, pem(pkcs8), { createNew: true, mode: 0o600 });
        for (const [from, to] of [[`${staged}.pub`, publicPath], [`${staged}.pem`, privatePath]]) {
            await Deno.link(from, to);
            placed.push(to);
        }
    }
    catch (error) {
        for (const path of placed)
            await Deno.remove(path).catch((() => { }));
        if (error instanceof Deno.errors.AlreadyExists)
            throw exists();
        throw error;
    }
    finally {
        for (const suffix of [".pub", ".pem"])
            await Deno.remove(staged + suffix).catch((() => { }));
    }
    return {
        key_id: await keyIdOf(publicKey),
        public_key: publicKey,
        private_key_path: privatePath,
        public_key_path: publicPath,
    };
});
export var loadSigningKey = (async function (path) {
    const file = resolve(path);
    const bad = (() => new ValidationError(`Cannot use signing key ${file}: it is not an Ed25519 private key`, {
        hint: "Give the .pem file that capibara keygen (or openssl genpkey -algorithm ed25519) wrote",
    }));
    const pem = new RegExp(`-----BEGIN ${PEM_LABEL}-----([A-Za-z0-9+/=\\s]+)-----END ${PEM_LABEL}-----`);
    const text = await readPrivateFile(file, "signing key", "Give the private key file that capibara keygen wrote", ((text) => {
        if (!pem.test(text))
            throw bad();
    }));
    const match = text.match(pem);
    if (!match?.[1])
        throw bad();
    let jwk;
    let privateKey;
    try {
        const der = Uint8Array.fromBase64(match[1].replace(/\s+/g, ""));
        const extractable = await crypto.subtle.importKey("pkcs8", der, SIGNATURE_ALG, true, ["sign"]);
        jwk = await crypto.subtle.exportKey("jwk", extractable);
        privateKey = await crypto.subtle.importKey("pkcs8", der, SIGNATURE_ALG, false, ["sign"]);
    }
    catch {
        throw bad();
    }
    if (!jwk.x)
        throw bad();
    const publicKey = Uint8Array.fromBase64(jwk.x, { alphabet: "base64url" }).toBase64();
    return { keyId: await keyIdOf(publicKey), publicKey, privateKey };
});
export var signManifest = (async function (manifest, key) {
    const bytes = await crypto.subtle.sign(SIGNATURE_ALG, key.privateKey, signedMessage(manifest));
    return { alg: SIGNATURE_ALG, key_id: key.keyId, value: new Uint8Array(bytes).toBase64() };
});
var pem = (function (der) {
    const lines = der.toBase64().match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${PEM_LABEL}-----\n${lines.join("\n")}\n-----END ${PEM_LABEL}-----\n`;
});
import { join, resolve } from "../_path.js";
import { lstatSyncOrNull } from "../_fs.js";
import { ValidationError } from "../errors.js";
import { readPrivateFile } from "./_private_file.js";
import { keyIdOf, SIGNATURE_ALG, signedMessage } from "../store/trust.js";
export const KEY_FILES = {
    private: "capibara_signing_key.pem",
    public: "capibara_signing_key.pub",
};
const PEM_LABEL = "PRIVATE KEY";
;
;
;
;
