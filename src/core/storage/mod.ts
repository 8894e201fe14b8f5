/**
 * Where the Core keeps its entries: a small interface with one file per backend (`disk.ts`, the
 * default, and `s3.ts`). An entry is stored as one object, its wire JSON (`{manifest, files}`), so a
 * reader sees all of it or nothing: never half an entry.
 *
 * @module
 */
import { FINGERPRINT_FORM } from "../../types.ts";
import { ValidationError } from "../../errors.ts";

/** The key of an entry's object: `entries/<fingerprint>.json`. */
export function entryKey(fingerprint: string): string {
  if (!FINGERPRINT_FORM.test(fingerprint)) {
    throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
      hint: "Fingerprints look like fp_ followed by 32 hex digits",
    });
  }
  return `entries/${fingerprint}.json`;
}

/** A place to keep entries, by fingerprint. Implementations must write each entry atomically. */
export interface EntryStorage {
  /** What it is, for logs and `/healthz`-style output (`disk:/srv/core`, `s3:http://…/bucket`). */
  readonly description: string;
  /** The stored wire JSON of a fingerprint, byte for byte, or undefined when none is stored. */
  get(fingerprint: string): Promise<Uint8Array<ArrayBuffer> | undefined>;
  /** Stores (or replaces) the wire JSON of a fingerprint, all or nothing. */
  put(fingerprint: string, body: Uint8Array): Promise<void>;
  /**
   * Takes the fingerprint's lock across every Core that shares this storage, when the backend has
   * one (disk: an OS file lock; released when the holder dies): then Cores sharing it make one LLM
   * call per new fingerprint between them, not one each.
   */
  lock?(fingerprint: string): Promise<Disposable>;
}

/** Options of {@linkcode openStorage}. */
export interface OpenStorageOptions {
  /** A folder for the disk backend. */
  store?: string;
  /** An S3 bucket URL, path style (`http://host:port/bucket[/prefix]`), for the S3 backend. */
  s3?: string;
  /** Environment holding `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`. */
  env?: Record<string, string | undefined>;
}

/**
 * The storage the options name: S3 with `s3`, else the disk folder `store`.
 *
 * @throws {ValidationError} when both or neither are given, or the S3 URL or credentials are bad
 */
export async function openStorage(options: OpenStorageOptions): Promise<EntryStorage> {
  if (options.s3 !== undefined && options.store !== undefined) {
    throw new ValidationError("Cannot use both --store and --s3", {
      hint: "Choose one: a folder on this machine, or a bucket several Cores share",
    });
  }
  if (options.s3 !== undefined) {
    const { S3Storage } = await import("./s3.ts");
    const storage = S3Storage.fromUrl(options.s3, options.env ?? Deno.env.toObject());
    // One read at start: a wrong endpoint, bucket or key fails now, not on the first request.
    await storage.get("fp_" + "0".repeat(32));
    return storage;
  }
  if (options.store === undefined) {
    throw new ValidationError("Cannot open the Core's storage: no folder given", {
      hint: "Pass --store <dir> (or --s3 <bucket-url>)",
    });
  }
  const { DiskStorage } = await import("./disk.ts");
  return await DiskStorage.open(options.store);
}
