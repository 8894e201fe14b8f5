/**
 * The `capibara serve` process: opens the storage and the keys, starts the Core, prints the one
 * line that says where it listens, and handles the signals (SIGHUP re-reads the tokens, SIGTERM and
 * SIGINT shut down gracefully).
 *
 * @module
 */
import { loadSigningKey } from "./sign.ts";
import { startCore } from "./server.ts";
import { openStorage } from "./storage/mod.ts";
import { loadTrustedKeys } from "./keys.ts";
import { statSyncOrNull } from "../_fs.ts";
import { ValidationError } from "../errors.ts";

/** How long a stop waits for the requests in flight (a body's own bound is 30 s). */
export const SHUTDOWN_GRACE_MS = 35_000;

/** Options of {@linkcode serve}: the command line's. */
export interface ServeOptions {
  hostname: string;
  port: number;
  tokensFile: string;
  signingKeyFile: string;
  /** Storage folder (default `./capibara-core` when no `s3` is given). */
  store?: string;
  s3?: string;
  trustKeysFile?: string;
  updatesDir?: string;
  rate?: number;
  burst?: number;
  maxBodyBytes?: number;
  maxGenerations?: number;
}

/** Runs the Core until SIGTERM or SIGINT; resolves with the exit code (0 after a clean stop). */
export async function serve(options: ServeOptions): Promise<number> {
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
  // A folder, or none yet (listed as empty until it is made): a file there failed every request.
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
  // A stop lets the requests in flight finish for SHUTDOWN_GRACE_MS at most (a client that stalls
  // its body or never reads its answer held the Core up for good), and a second signal ends it
  // at once.
  const forced = Promise.withResolvers<void>();
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (graceTimer !== undefined) {
      forced.resolve();
      return;
    }
    graceTimer = setTimeout(() => forced.resolve(), SHUTDOWN_GRACE_MS);
    void core.shutdown();
  };
  // Listening to the signals before saying where it listens: a SIGTERM sent on that line stops it
  // gracefully too.
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGHUP", () => void core.reloadTokens()],
    ["SIGTERM", stop],
    ["SIGINT", stop],
  ];
  for (const [signal, listener] of listeners) {
    try {
      Deno.addSignalListener(signal, listener);
    } catch {
      // A signal this platform cannot listen to (SIGHUP on Windows) is skipped.
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
    core.finished.then(() => true),
    forced.promise.then(() => false),
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
    } catch {
      // Never added.
    }
  }
  return 0;
}
