/**
 * Signing keys and signing: `capibara keygen` writes a key pair, `capibara sign` and the Core sign
 * entries with the private key. Verification, and what a signature covers, live in
 * `store/trust.ts`.
 *
 * The private key is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`, what `openssl genpkey
 * -algorithm ed25519` writes), mode 0600; the public key is the base64 of its raw 32 bytes, the form
 * `.capibara/config.json`'s `trust.keys` lists.
 *
 * @module
 */
import { join, resolve } from "../_path.ts";
import { lstatSyncOrNull } from "../_fs.ts";
import { ValidationError } from "../errors.ts";
import { readPrivateFile } from "./_private_file.ts";
import { keyIdOf, type Signature, SIGNATURE_ALG, signedMessage } from "../store/trust.ts";

/** File names `capibara keygen` writes in its output folder. */
export const KEY_FILES = {
  private: "capibara_signing_key.pem",
  public: "capibara_signing_key.pub",
};

const PEM_LABEL = "PRIVATE KEY";

/** A private key ready to sign, with what names it. */
export interface SigningKey {
  /** Key id of its public key (see `keyIdOf`). */
  keyId: string;
  /** Base64 of the raw 32-byte public key. */
  publicKey: string;
  /** The private key (WebCrypto, not extractable). */
  privateKey: CryptoKey;
}

/** What {@linkcode writeKeyPair} wrote. */
export interface KeyPairFiles {
  /** Key id of the public key. */
  key_id: string;
  /** Base64 of the raw 32-byte public key. */
  public_key: string;
  /** Absolute path of the private key file (mode 0600). */
  private_key_path: string;
  /** Absolute path of the public key file. */
  public_key_path: string;
}

/**
 * Generates an Ed25519 key pair and writes it into `dir` (created when missing): the private key
 * with mode 0600, created exclusively so that an existing key is never overwritten.
 *
 * @throws {ValidationError} when a key file already exists there
 */
export async function writeKeyPair(dir: string): Promise<KeyPairFiles> {
  const pair = await crypto.subtle.generateKey(SIGNATURE_ALG, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)).toBase64();
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const folder = resolve(dir);
  await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
  const privatePath = join(folder, KEY_FILES.private);
  const publicPath = join(folder, KEY_FILES.public);
  const exists = () =>
    new ValidationError(`Cannot write a key pair: a key already exists in ${folder}`, {
      hint: "Choose another --out folder; an existing key is never overwritten",
    });
  if (lstatSyncOrNull(privatePath) !== null || lstatSyncOrNull(publicPath) !== null) throw exists();
  // The pair, whole or not at all: both written under names of their own, then each linked into
  // place (a link never replaces a file), the public half first. A private key is never left
  // without its public half; a refusal or a failure removes what this call placed.
  const staged = join(folder, `.keygen-${crypto.randomUUID()}`);
  const placed: string[] = [];
  try {
    await Deno.writeTextFile(`${staged}.pub`, publicKey + "\n", { createNew: true, mode: 0o644 });
    await Deno.writeTextFile(`${staged}.pem`, pem(pkcs8), { createNew: true, mode: 0o600 });
    for (const [from, to] of [[`${staged}.pub`, publicPath], [`${staged}.pem`, privatePath]]) {
      await Deno.link(from!, to!);
      placed.push(to!);
    }
  } catch (error) {
    for (const path of placed) await Deno.remove(path).catch(() => {});
    if (error instanceof Deno.errors.AlreadyExists) throw exists();
    throw error;
  } finally {
    for (const suffix of [".pub", ".pem"]) await Deno.remove(staged + suffix).catch(() => {});
  }
  return {
    key_id: await keyIdOf(publicKey),
    public_key: publicKey,
    private_key_path: privatePath,
    public_key_path: publicPath,
  };
}

/**
 * Reads a private key file written by {@linkcode writeKeyPair} (or `openssl genpkey -algorithm
 * ed25519`).
 *
 * @throws {ValidationError} when the file is missing, readable by others, or not an Ed25519 key
 */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  const file = resolve(path);
  const bad = () =>
    new ValidationError(`Cannot use signing key ${file}: it is not an Ed25519 private key`, {
      hint: "Give the .pem file that capibara keygen (or openssl genpkey -algorithm ed25519) wrote",
    });
  const pem = new RegExp(
    `-----BEGIN ${PEM_LABEL}-----([A-Za-z0-9+/=\\s]+)-----END ${PEM_LABEL}-----`,
  );
  const text = await readPrivateFile(
    file,
    "signing key",
    "Give the private key file that capibara keygen wrote",
    (text) => {
      if (!pem.test(text)) throw bad();
    },
  );
  const match = text.match(pem);
  if (!match?.[1]) throw bad();
  let jwk: JsonWebKey;
  let privateKey: CryptoKey;
  try {
    const der = Uint8Array.fromBase64(match[1].replace(/\s+/g, "")) as Uint8Array<ArrayBuffer>;
    const extractable = await crypto.subtle.importKey("pkcs8", der, SIGNATURE_ALG, true, ["sign"]);
    jwk = await crypto.subtle.exportKey("jwk", extractable);
    privateKey = await crypto.subtle.importKey("pkcs8", der, SIGNATURE_ALG, false, ["sign"]);
  } catch {
    throw bad();
  }
  if (!jwk.x) throw bad();
  const publicKey = Uint8Array.fromBase64(jwk.x, { alphabet: "base64url" }).toBase64();
  return { keyId: await keyIdOf(publicKey), publicKey, privateKey };
}

/** Signs a manifest: a signature over its canonical form (any `signature` in it is ignored). */
export async function signManifest(manifest: object, key: SigningKey): Promise<Signature> {
  const bytes = await crypto.subtle.sign(SIGNATURE_ALG, key.privateKey, signedMessage(manifest));
  return { alg: SIGNATURE_ALG, key_id: key.keyId, value: new Uint8Array(bytes).toBase64() };
}

function pem(der: Uint8Array): string {
  const lines = der.toBase64().match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${PEM_LABEL}-----\n${lines.join("\n")}\n-----END ${PEM_LABEL}-----\n`;
}
