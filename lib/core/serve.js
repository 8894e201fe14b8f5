// Generated from src/core/serve.ts by scripts/build_js.ts (sha256 6ac04d783515bbc84eaabc3cfd81fd297390aae14ae82eb8846d8eaaf650ef88): do not edit; `deno task build:js` writes it.
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
    const forced = Promise.withResolvers();
    let graceTimer;
    const stop = (() => {
        if (graceTimer !== undefined) {
            forced.resolve();
            return;
        }
        graceTimer = setTimeout((() => forced.resolve()), SHUTDOWN_GRACE_MS);
        void core.shutdown();
    });
    const listeners = [
        ["SIGHUP", (() => void core.reloadTokens())],
        ["SIGTERM", stop],
        ["SIGINT", stop],
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
    const ended = await Promise.race([
        core.finished.then((() => true)),
        forced.promise.then((() => false)),
    ]);
    clearTimeout(graceTimer);
    if (!ended) {
        console.error(JSON.stringify({
            at: new Date().toISOString(),
            event: "stopped",
            forced: true,
            why: "requests still in flight past the grace period, or a second signal",
        }));
    }
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
export const SHUTDOWN_GRACE_MS = 35_000;
;
