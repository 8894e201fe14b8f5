// Generated from src/core/storage/s3.ts by scripts/build_js.ts (sha256 de65175ba16ac471ba503866dbc237c9373ea3cc1d36207e34f53065690469db): do not edit; `deno task build:js` writes it.
import { AwsClient } from "npm:aws4fetch@^1.0.20";
import { NetworkError, ValidationError } from "../../errors.js";
import { entryKey } from "./mod.js";
export class S3Storage {
    description;
    #client;
    #base;
    constructor(base, client) {
        this.#base = base;
        this.#client = client;
        this.description = `s3:${base}`;
    }
    static fromUrl(url, env) {
        let parsed;
        try {
            parsed = new URL(url);
        }
        catch {
            parsed = new URL("invalid:");
        }
        const path = parsed.pathname.replace(/^\/+|\/+$/g, "");
        if (!/^https?:$/.test(parsed.protocol) || path === "" || parsed.search || parsed.hash) {
            throw new ValidationError(`Invalid S3 bucket URL "${url}"`, {
                hint: "Give the endpoint and the bucket, path style, e.g. --s3 http://127.0.0.1:9000/capibara",
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
    async get(fingerprint) {
        const response = await this.#send("GET", fingerprint);
        if (response.status === 404) {
            const text = await response.text().catch((() => ""));
            if (!/<Code>NoSuchBucket<\/Code>/.test(text))
                return undefined;
            throw this.#failure("read", fingerprint, response.status, text);
        }
        if (!response.ok) {
            throw this.#failure("read", fingerprint, response.status, await response.text().catch((() => "")));
        }
        return new Uint8Array(await response.arrayBuffer());
    }
    async put(fingerprint, body) {
        const response = await this.#send("PUT", fingerprint, body);
        const text = await response.text().catch((() => ""));
        if (!response.ok)
            throw this.#failure("write", fingerprint, response.status, text);
    }
    async #send(method, fingerprint, body) {
        const url = this.#base + entryKey(fingerprint);
        try {
            return await this.#client.fetch(url, {
                method,
                body: body,
                headers: body ? { "content-type": "application/json" } : {},
            });
        }
        catch (error) {
            throw new NetworkError(`Cannot reach the S3 storage at ${this.#base}: ${error}`, {
                cause: error,
                hint: "Check --s3 and that the object store is up",
            });
        }
    }
    #failure(what, fingerprint, status, body) {
        const code = /<Code>([^<]{1,80})<\/Code>/.exec(body)?.[1] ?? "";
        return new NetworkError(`Cannot ${what} "${fingerprint}" in the S3 storage: HTTP ${status} ${code}`.trim(), { hint: "Check the bucket, the credentials (AWS_ACCESS_KEY_ID…) and AWS_REGION" });
    }
}
