// Generated from src/core/serve.ts by scripts/build_js.ts (sha256 a6decd8f9722d63ea659d366afb6f8164448aab74633968d2401c54b2b182534): do not edit; `deno task build:js` writes it.
export var serve = (async function (options) {
    const env = Deno.env.toObject();
    const signingKey = await loadSigningKey(options.signingKeyFile);
    const storage = await openStorage({
        store: options.s3 === undefined ? options.store ?? "capibara-core" : options.store,
        s3: options.s3,
        env,
    });
    const trustedKeys = options.trustKeysFile
        ? await loadTrustedKeys(options.trustKeysFile)
        : undefined;
    const updates = options.updatesDir === undefined ? null : statSyncOrNull(options.updatesDir);
    if (updates !== null && !updates.isDirectory) {
        throw new ValidationError(`Cannot use --updates "${options.updatesDir}": it is not a folder`, {
            hint: "Pass --updates the folder that holds the update files (*.json)",
            details: { updates: options.updatesDir },
        });
    }
    const core = await startCore({
        hostname: options.hostname,
        port: options.port,
        tokensFile: options.tokensFile,
        signingKey,
        storage,
        trustedKeys,
        updatesDir: options.updatesDir,
        env,
        rate: options.rate,
        burst: options.burst,
        maxBodyBytes: options.maxBodyBytes,
        maxGenerations: options.maxGenerations,
    });
    const listeners = [
        ["SIGHUP", (() => void core.reloadTokens())],
        ["SIGTERM", (() => void core.shutdown())],
        ["SIGINT", (() => void core.shutdown())],
    ];
    for (const [signal, listener] of listeners) {
        try {
            Deno.addSignalListener(signal, listener);
        }
        catch {
        }
    }
    console.log(`capibara core listening on ${core.url}`);
    console.error(JSON.stringify({
        at: new Date().toISOString(),
        event: "started",
        url: core.url,
        storage: storage.description,
        key_id: signingKey.keyId,
        generator: core.generating ? "configured" : "none: /v1/gen serves stored entries only",
    }));
    await core.finished;
    for (const [signal, listener] of listeners) {
        try {
            Deno.removeSignalListener(signal, listener);
        }
        catch {
        }
    }
    return 0;
});
import { loadSigningKey } from "./sign.js";
import { startCore } from "./server.js";
import { openStorage } from "./storage/mod.js";
import { loadTrustedKeys } from "./keys.js";
import { statSyncOrNull } from "../_fs.js";
import { ValidationError } from "../errors.js";
;
