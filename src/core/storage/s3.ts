/**
 * The Core's S3 storage: one object per entry, `<prefix>entries/<fingerprint>.json`, in any
 * S3-compatible object store (AWS S3, MinIO, Ceph, s3rver…), addressed path style. A PUT of one
 * object is atomic, so several Cores behind a load balancer share one cache and never see half an
 * entry.
 *
 * Requests are signed (AWS Signature Version 4) by `aws4fetch`, a small maintained client built on
 * `fetch`: the Core needs GET and PUT of single objects, not the whole AWS SDK.
 *
 * @module
 */
import { AwsClient } from "npm:aws4fetch@^1.0.20";
import { NetworkError, ValidationError } from "../../errors.ts";
import { entryKey, type EntryStorage } from "./mod.ts";

/** Entries as objects in an S3 bucket. */
export class S3Storage implements EntryStorage {
  readonly description: string;
  readonly #client: AwsClient;
  /** `http://host:port/bucket/prefix/`, ending in a slash. */
  readonly #base: string;

  private constructor(base: string, client: AwsClient) {
    this.#base = base;
    this.#client = client;
    this.description = `s3:${base}`;
  }

  /**
   * The storage of a bucket URL (`http://host:port/bucket[/prefix]`), signed with the credentials
   * of `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), in `AWS_REGION`
   * (default `us-east-1`).
   *
   * @throws {ValidationError} when the URL has no bucket or the credentials are missing
   */
  static fromUrl(url: string, env: Record<string, string | undefined>): S3Storage {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      parsed = new URL("invalid:");
    }
    const path = parsed.pathname.replace(/^\/+|\/+$/g, "");
    if (!/^https?:$/.test(parsed.protocol) || path === "" || parsed.search || parsed.hash) {
      throw new ValidationError(`Invalid S3 bucket URL "${url}"`, {
        hint:
          "Give the endpoint and the bucket, path style, e.g. --s3 http://127.0.0.1:9000/capibara",
      });
    }
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new ValidationError("Cannot use S3 storage: no credentials", {
        hint: "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_REGION) for the Core",
      });
    }
    const client = new AwsClient({
      accessKeyId,
      secretAccessKey,
      sessionToken: env.AWS_SESSION_TOKEN || undefined,
      region: env.AWS_REGION || "us-east-1",
      service: "s3",
      retries: 2,
    });
    return new S3Storage(`${parsed.origin}/${path}/`, client);
  }

  async get(fingerprint: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const response = await this.#send("GET", fingerprint);
    if (response.status === 404) {
      const text = await response.text().catch(() => "");
      // A missing bucket is a misconfiguration, not a missing entry.
      if (!/<Code>NoSuchBucket<\/Code>/.test(text)) return undefined;
      throw this.#failure("read", fingerprint, response.status, text);
    }
    if (!response.ok) {
      throw this.#failure(
        "read",
        fingerprint,
        response.status,
        await response.text().catch(() => ""),
      );
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  async put(fingerprint: string, body: Uint8Array): Promise<void> {
    const response = await this.#send("PUT", fingerprint, body);
    const text = await response.text().catch(() => "");
    if (!response.ok) throw this.#failure("write", fingerprint, response.status, text);
  }

  async #send(method: string, fingerprint: string, body?: Uint8Array): Promise<Response> {
    const url = this.#base + entryKey(fingerprint);
    try {
      return await this.#client.fetch(url, {
        method,
        body: body as BodyInit | undefined,
        headers: body ? { "content-type": "application/json" } : {},
      });
    } catch (error) {
      throw new NetworkError(`Cannot reach the S3 storage at ${this.#base}: ${error}`, {
        cause: error,
        hint: "Check --s3 and that the object store is up",
      });
    }
  }

  #failure(what: string, fingerprint: string, status: number, body: string): NetworkError {
    const code = /<Code>([^<]{1,80})<\/Code>/.exec(body)?.[1] ?? "";
    return new NetworkError(
      `Cannot ${what} "${fingerprint}" in the S3 storage: HTTP ${status} ${code}`.trim(),
      { hint: "Check the bucket, the credentials (AWS_ACCESS_KEY_ID…) and AWS_REGION" },
    );
  }
}
