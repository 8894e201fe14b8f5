// Generated from src/core/storage/mod.ts by scripts/build_js.ts (sha256 9882aa1c08b686ea11bc0053e338ca8321961b60c7c473a8d30d9058d6103dd2): do not edit; `deno task build:js` writes it.
export var entryKey = (function (fingerprint) {
    if (!FINGERPRINT_FORM.test(fingerprint)) {
        throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
            hint: "Fingerprints look like fp_ followed by 32 hex digits",
        });
    }
    return `entries/${fingerprint}.json`;
});
export var openStorage = (async function (options) {
    if (options.s3 !== undefined && options.store !== undefined) {
        throw new ValidationError("Cannot use both --store and --s3", {
            hint: "Choose one: a folder on this machine, or a bucket several Cores share",
        });
    }
    if (options.s3 !== undefined) {
        const { S3Storage } = await import("./s3.js");
        const storage = S3Storage.fromUrl(options.s3, options.env ?? Deno.env.toObject());
        await storage.get("fp_" + "0".repeat(32));
        return storage;
    }
    if (options.store === undefined) {
        throw new ValidationError("Cannot open the Core's storage: no folder given", {
            hint: "Pass --store <dir> (or --s3 <bucket-url>)",
        });
    }
    const { DiskStorage } = await import("./disk.js");
    return await DiskStorage.open(options.store);
});
import { FINGERPRINT_FORM } from "../../types.js";
import { ValidationError } from "../../errors.js";
;
;
