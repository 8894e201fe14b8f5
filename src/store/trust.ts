/**
 * Signatures of cached entries: what one is, how it is checked, the key ids that name keys, and the
 * trust policy that decides which signed or accepted entries may run.
 *
 * A signature is Ed25519 over the canonical manifest (RFC 8785 of every top-level field but the
 * integrity record and the signature itself, see entry.ts). `files` holds the sha256 of every
 * other file of the entry, so one signature covers the whole entry; it does not change the
 * fingerprint. It is stored in the manifest as `signature: {alg: "Ed25519", key_id, value}`, where
 * `value` is the base64 of the 64 signature bytes and `key_id` names the public key that verifies
 * it ({@linkcode keyIdOf}). Signing itself (keys on disk, the Core's key) lives in `core/sign.ts`.
 *
 * The trust policy ({@linkcode SignaturePolicy}, resolved by `config.ts`) is checked by
 * {@linkcode checkSignaturePolicy} on every verified entry (a run's hit, `verify`, `show`, an
 * imported entry):
 * - an entry signed by a trusted key must verify, or it is an `IntegrityError` naming the key;
 * - an entry signed by any other key counts as unsigned;
 * - when signatures are required, an unsigned entry runs only if a person accepted it on this
 *   machine (`capibara accept`): a record in the machine-local cache ({@linkcode AcceptanceStore}),
 *   for the project's real root, of the fingerprint and the hash of the manifest accepted. Any
 *   later change of the entry changes that hash, and the acceptance no longer holds.
 *
 * Where the policy comes from: `.capibara/config.json`'s `trust: {keys, require_signature}` only
 * narrows what runs (it can refuse entries, never admit one that would not run without it), so it
 * applies without `capibara trust`. A user can require signatures on this machine whatever the
 * repository says: `CAPIBARA_REQUIRE_SIGNATURE=1`, with the keys it trusts in
 * `CAPIBARA_TRUSTED_KEYS`. Under that switch the repository's `trust.keys` are ignored: a key a
 * repository ships with its entries cannot satisfy the user's requirement. Acceptances never come
 * from a repository: they live in the machine-local cache, and a record file inside the project
 * is ignored.
 *
 * @module
 */
import { join } from "../_path.ts";
import { IntegrityError, ValidationError } from "../errors.ts";
import { sha256, sha256Tagged } from "../_hash.ts";
import { readRecordsFor, updateJsonFile } from "../_json_file.ts";
import type { Signature } from "../types.ts";
import { canonicalManifest } from "./entry.ts";
import { ownCacheFolder } from "../_cache_folder.ts";

export type { Signature } from "../types.ts";

/** The one signature algorithm. */
export const SIGNATURE_ALG = "Ed25519";

/** Length of a raw Ed25519 public key, in bytes. */
const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature, in bytes. */
const SIGNATURE_BYTES = 64;
/** A key id: 16 hex digits. */
const KEY_ID = /^[0-9a-f]{16}$/;

/**
 * The key id of a public key: the first 16 hex digits of the sha256 of its raw 32 bytes.
 *
 * @throws {TypeError} when the key is not base64 of 32 bytes
 */
export async function keyIdOf(publicKey: string): Promise<string> {
  return (await sha256(publicKeyBytes(publicKey))).slice(0, 16);
}

/**
 * The raw bytes of a public key given as base64 (standard alphabet, padded).
 *
 * @throws {TypeError} when it is not base64 of exactly 32 bytes
 */
export function publicKeyBytes(publicKey: string): Uint8Array<ArrayBuffer> {
  const bytes = strictBase64(publicKey);
  if (bytes?.length !== PUBLIC_KEY_BYTES) {
    throw new TypeError("Cannot read public key: expected base64 of 32 bytes (an Ed25519 key)");
  }
  return bytes;
}

/** The bytes a signature signs: the canonical manifest, as UTF-8. */
export function signedMessage(manifest: object): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(canonicalManifest(manifest)) as Uint8Array<ArrayBuffer>;
}

/**
 * Whether `signature` is a valid signature of the manifest by `publicKey` (base64, raw 32 bytes).
 * A malformed signature (wrong algorithm, key id that does not name the key, value not 64 bytes of
 * base64) is simply not valid: this never throws for what an attacker can write.
 */
export async function verifySignature(
  manifest: object,
  signature: unknown,
  publicKey: string,
): Promise<boolean> {
  if (!isWellFormedSignature(signature)) return false;
  let key: CryptoKey;
  try {
    if (signature.key_id !== await keyIdOf(publicKey)) return false;
    key = await crypto.subtle.importKey("raw", publicKeyBytes(publicKey), SIGNATURE_ALG, false, [
      "verify",
    ]);
  } catch {
    return false;
  }
  const value = strictBase64(signature.value)!;
  return await crypto.subtle.verify(SIGNATURE_ALG, key, value, signedMessage(manifest));
}

/**
 * Whether a value is a well-formed signature: `{alg: "Ed25519", key_id, value}` with a key id of 16
 * hex digits and a value that is the padded base64 of 64 bytes, and nothing else. Whether it
 * verifies, and whether its key counts, is {@linkcode checkSignaturePolicy}'s business.
 */
export function isWellFormedSignature(value: unknown): value is Signature {
  return isSignatureShape(value) && value.alg === SIGNATURE_ALG &&
    KEY_ID.test(value.key_id) && strictBase64(value.value)?.length === SIGNATURE_BYTES;
}

/** Whether a value has the shape of a {@linkcode Signature} (three strings, nothing else). */
export function isSignatureShape(value: unknown): value is Signature {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value).sort();
  const record = value as Record<string, unknown>;
  return keys.join(",") === "alg,key_id,value" &&
    typeof record.alg === "string" && typeof record.key_id === "string" &&
    typeof record.value === "string";
}

/** Decodes standard, padded base64, refusing any other spelling (so one value has one form). */
function strictBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    return undefined;
  }
  try {
    const bytes = Uint8Array.fromBase64(text) as Uint8Array<ArrayBuffer>;
    return bytes.toBase64() === text ? bytes : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The trust policy

/** The environment variable that requires signatures on this machine, whatever a project says. */
export const REQUIRE_SIGNATURE_ENV = "CAPIBARA_REQUIRE_SIGNATURE";
/** The environment variable listing the public keys this machine trusts (comma- or space-separated). */
export const TRUSTED_KEYS_ENV = "CAPIBARA_TRUSTED_KEYS";
/** The name of the acceptance records' file inside the machine-local cache. */
export const ACCEPTANCE_FILE = "accepted.json";

/** `.capibara/config.json`'s `trust`: the keys a project trusts and whether it requires them. */
export interface ProjectSignatureSettings {
  /** Key id → public key (base64 of the raw 32 bytes), as `capibara keygen` prints them. */
  keys?: Record<string, string>;
  /** Refuse an entry that is neither signed by one of `keys` nor accepted on this machine. */
  require_signature?: boolean;
}

/** Which signatures count, and whether one (or a local acceptance) is required: resolved once. */
export interface SignaturePolicy {
  /** Whether an entry must be signed by one of `keys`, or accepted on this machine, to be used. */
  required: boolean;
  /** The public keys whose signatures count (base64 of the raw 32 bytes). */
  keys: readonly string[];
  /**
   * Who set it: `machine` (`CAPIBARA_REQUIRE_SIGNATURE`: only the machine's keys count, the
   * project's are ignored) or `project` (`.capibara/config.json`, plus any machine keys).
   */
  source: "machine" | "project";
}

/** The policy when nothing is configured: no signature is required, none counts. */
export const NO_SIGNATURE_POLICY: SignaturePolicy = {
  required: false,
  keys: [],
  source: "project",
};

type Env = Readonly<Record<string, string | undefined>>;

function machineSwitch(env: Env): boolean {
  const value = (env[REQUIRE_SIGNATURE_ENV] ?? "").trim().toLowerCase();
  if (["", "0", "false", "no", "off"].includes(value)) return false;
  if (["1", "true", "yes", "on"].includes(value)) return true;
  throw new ValidationError(`Invalid ${REQUIRE_SIGNATURE_ENV} "${env[REQUIRE_SIGNATURE_ENV]}"`, {
    hint: `Set ${REQUIRE_SIGNATURE_ENV}=1 to require signatures on this machine, or unset it`,
  });
}

function machineKeys(env: Env): string[] {
  const keys = (env[TRUSTED_KEYS_ENV] ?? "").split(/[\s,]+/).filter((k) => k !== "");
  for (const key of keys) {
    try {
      publicKeyBytes(key);
    } catch {
      throw new ValidationError(
        `Invalid ${TRUSTED_KEYS_ENV}: "${key}" is not a public key (base64 of 32 bytes)`,
        { hint: "List the public keys capibara keygen printed, separated by commas or spaces" },
      );
    }
  }
  return keys;
}

/**
 * The signature policy of a run, from the environment (`CAPIBARA_REQUIRE_SIGNATURE`,
 * `CAPIBARA_TRUSTED_KEYS`) and the project's `trust` settings (already checked by
 * {@linkcode checkProjectKeys}). The machine's switch wins: with it, signatures are required and only
 * the machine's keys count; without it, the project decides, and the machine's keys count too.
 *
 * @throws {ValidationError} when a variable holds something else than its documented values.
 */
export function resolveSignaturePolicy(
  project: ProjectSignatureSettings | undefined,
  env: Env,
): SignaturePolicy {
  const required = machineSwitch(env);
  const keys = machineKeys(env);
  if (required) return { required, keys: [...new Set(keys)], source: "machine" };
  return {
    required: project?.require_signature === true,
    keys: [...new Set([...keys, ...Object.values(project?.keys ?? {})])],
    source: "project",
  };
}

/**
 * Checks a project's `trust.keys`: every value a public key, every key id the one that names it.
 *
 * @throws {ValidationError} naming the first mislabelled or malformed key.
 */
export async function checkProjectKeys(
  project: ProjectSignatureSettings | undefined,
  where: string,
): Promise<void> {
  for (const [id, key] of Object.entries(project?.keys ?? {})) {
    let actual: string;
    try {
      actual = await keyIdOf(key);
    } catch {
      throw new ValidationError(
        `Cannot read "${where}": trust.keys["${id}"] is not a public key (base64 of 32 bytes)`,
        {
          hint: "Copy the public key capibara keygen printed",
          details: { key: `trust.keys.${id}` },
        },
      );
    }
    if (actual !== id) {
      throw new ValidationError(
        `Cannot read "${where}": trust.keys["${id}"] is mislabelled: that public key's id is ` +
          `"${actual}"`,
        {
          hint: `List it as "${actual}": "${key}" (capibara keygen prints both)`,
          details: { key: `trust.keys.${id}`, key_id: actual },
        },
      );
    }
  }
}

/** How an entry passed the policy. */
export type SignatureStatus =
  | { state: "signed"; key_id: string }
  | { state: "accepted"; accepted_at: string }
  | { state: "unsigned" };

/** One acceptance: a person kept this entry, as it was then, on this machine. */
export interface Acceptance {
  /** `sha256:` + hex sha256 of the canonical manifest accepted (see {@linkcode manifestHash}). */
  manifest: string;
  /** When (ISO 8601). */
  accepted_at: string;
}

/**
 * The hash an acceptance is recorded for: the sha256 of the canonical manifest, which covers every
 * field and, through `files`, every file (for a verified entry, its integrity record's hash).
 */
export async function manifestHash(manifest: object): Promise<string> {
  return await sha256Tagged(canonicalManifest(manifest));
}

const keyIds = new Map<string, Promise<string>>();

/** The trusted key (base64) named by a key id, if the policy lists one. */
async function trustedKey(policy: SignaturePolicy, keyId: string): Promise<string | undefined> {
  for (const key of policy.keys) {
    let id = keyIds.get(key);
    if (id === undefined) {
      id = keyIdOf(key).catch(() => "");
      keyIds.set(key, id);
    }
    if (await id === keyId) return key;
  }
  return undefined;
}

/**
 * Applies the trust policy to an entry whose integrity was verified: a signature by a trusted key
 * must verify; one by another key counts as unsigned; and when signatures are required, an
 * unsigned entry needs an acceptance of this very manifest.
 *
 * @param manifest the verified manifest (as stored: with its `signature`, if any)
 * @param policy the resolved policy
 * @param acceptance this machine's acceptance of the entry's fingerprint, if any
 * @returns how the entry passed
 * @throws {IntegrityError} when a trusted key's signature does not verify, or when an entry that
 *   must be signed or accepted is neither
 */
export async function checkSignaturePolicy(
  manifest: { fingerprint: string; signature?: unknown },
  policy: SignaturePolicy,
  acceptance?: Acceptance,
): Promise<SignatureStatus> {
  const fp = manifest.fingerprint;
  const signature = manifest.signature;
  const key = isWellFormedSignature(signature)
    ? await trustedKey(policy, signature.key_id)
    : undefined;
  if (key !== undefined) {
    const keyId = (signature as Signature).key_id;
    if (await verifySignature(manifest, signature, key)) return { state: "signed", key_id: keyId };
    const problem = `its signature by trusted key ${keyId} does not verify`;
    throw new IntegrityError(
      `Cannot trust cached script "${fp}": ${problem} (the entry changed after it was signed, ` +
        `or the signature was made for another entry)`,
      {
        hint: "Restore the entry from version control (or fetch it again), or review the change, " +
          `keep it with capibara accept ${fp} and sign it again with capibara sign ${fp} ` +
          "--key <file>",
        details: { fingerprint: fp, key_id: keyId, problems: [problem] },
      },
    );
  }
  if (acceptance !== undefined && acceptance.manifest === await manifestHash(manifest)) {
    return { state: "accepted", accepted_at: acceptance.accepted_at };
  }
  if (!policy.required) return { state: "unsigned" };
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
      ...(other ? { key_id: (signature as Signature).key_id } : {}),
    },
  });
}

/**
 * The acceptances of this machine, in `<cacheDir>/accepted.json` (mode 0600, replaced atomically,
 * updated under a file lock): for each project's real root, fingerprint → {@linkcode Acceptance}.
 * A repository cannot ship one: records are read only from outside the project.
 */
export class AcceptanceStore {
  /** The records' file. */
  readonly path: string;

  /**
   * The records kept in the machine-local cache directory `cacheDir`, which must be this user's
   * alone (see `ownCacheFolder`).
   *
   * @throws {PermissionError} when it is not
   */
  constructor(cacheDir: string) {
    this.path = join(ownCacheFolder(cacheDir), ACCEPTANCE_FILE);
  }

  /**
   * This machine's acceptance of a fingerprint in a project (`root`: its real path), if any. A
   * records file inside the project is ignored: it could have come with the repository.
   */
  async get(root: string, fingerprint: string): Promise<Acceptance | undefined> {
    const projects = projectsOf(await readRecordsFor(this.path, root));
    const record = projects[root]?.[fingerprint] as Partial<Acceptance> | undefined;
    if (typeof record !== "object" || record === null) return undefined;
    if (typeof record.manifest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(record.manifest)) {
      return undefined;
    }
    return {
      manifest: record.manifest,
      accepted_at: typeof record.accepted_at === "string" ? record.accepted_at : "",
    };
  }

  /** Records the acceptance of a manifest (replacing the fingerprint's earlier one). */
  async accept(root: string, manifest: { fingerprint: string } & object): Promise<Acceptance> {
    const record = {
      manifest: await manifestHash(manifest),
      accepted_at: new Date().toISOString(),
    };
    await updateJsonFile(this.path, (current) => {
      const projects = projectsOf(current);
      const earlier = projects[root];
      projects[root] = {
        ...(typeof earlier === "object" && earlier !== null && !Array.isArray(earlier)
          ? earlier
          : {}),
        [manifest.fingerprint]: record,
      };
      return { version: 1, projects };
    });
    return record;
  }
}

/** The projects of an acceptance file's content (`{}` when it is malformed). */
function projectsOf(json: unknown): Record<string, Record<string, Acceptance>> {
  const projects = (json as { projects?: unknown } | null)?.projects;
  if (typeof projects !== "object" || projects === null || Array.isArray(projects)) return {};
  return projects as Record<string, Record<string, Acceptance>>;
}
