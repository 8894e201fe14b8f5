// Generated from src/cli/serve.ts by scripts/build_js.ts (sha256 da954d90c8093ee2b795399372dfbce305e8b82cc41f29e431c1b25f0edb91e3): do not edit; `deno task build:js` writes it.
var numberIn = (function (name, min, max, decimals = false) {
    return ((value) => {
        const n = Number(value);
        if (!(decimals ? /^\d+(\.\d+)?$/ : /^\d+$/).test(value) || n < min || n > max) {
            throw new ValidationError(`Invalid --${name} "${value}": expected a ${decimals ? "number" : "whole number"} from ${min} to ${max}`, { hint: "See capibara serve --help" });
        }
        return n;
    });
});
export var serveCommand = (function (setExit) {
    return new Command("serve")
        .description("Run the Core: one service that generates (with its own LLM settings), signs and shares " +
        "entries for a team")
        .option("--host <address>", "address to listen on", nonEmpty, "127.0.0.1")
        .option("--port <port>", "port to listen on (0 picks a free one)", numberIn("port", 0, 65535), 8787)
        .requiredOption("--tokens <file>", "the tokens file: one '<token> <rights>' line per client", nonEmpty)
        .requiredOption("--signing-key <file>", "the private key that signs entries (capibara keygen)", nonEmpty)
        .option("--store <dir>", "keep entries in this folder (the default storage)", nonEmpty)
        .option("--s3 <bucket-url>", "keep entries in an S3 bucket, e.g. http://127.0.0.1:9000/capibara")
        .option("--trust-keys <file>", 'other keys a PUT may be signed by: {"keys": {"<id>": "<key>"}}', nonEmpty)
        .option("--updates <dir>", "folder of update files that GET /v1/updates lists", nonEmpty)
        .option("--rate <n>", "requests per second per token", numberIn("rate", 0.001, 1e9, true), 20)
        .option("--burst <n>", "requests at once per token", numberIn("burst", 1, 1e9), 100)
        .option("--max-body-bytes <n>", "largest request body", numberIn("max-body-bytes", 1024, 2 ** 31), 1024 * 1024)
        .option("--max-generations <n>", "model requests one token may have in flight at once", numberIn("max-generations", 1, 1e6), 4)
        .addHelpText("after", `
Environment:
  CAPIBARA_BASE_URL, CAPIBARA_API_KEY, CAPIBARA_MODEL   the Core's generator (as for run)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION  credentials of --s3

Signals: SIGHUP re-reads the tokens file; SIGTERM or SIGINT stops accepting, lets requests in
flight finish (35 s at most; a second signal stops at once), and exits 0.

Examples:
  capibara serve --tokens /etc/capibara/tokens --signing-key /etc/capibara/core.key --store /var/lib/capibara
  capibara serve --port 0 --tokens tokens --signing-key key/capibara.key --s3 http://127.0.0.1:9000/capibara`)
        .action((async (opts) => {
        try {
            const { serve } = await import("../core/serve.js");
            setExit(await serve({
                hostname: opts.host,
                port: opts.port,
                tokensFile: opts.tokens,
                signingKeyFile: opts.signingKey,
                store: opts.store,
                s3: opts.s3,
                trustKeysFile: opts.trustKeys,
                updatesDir: opts.updates,
                rate: opts.rate,
                burst: opts.burst,
                maxBodyBytes: opts.maxBodyBytes,
                maxGenerations: opts.maxGenerations,
            }));
        }
        catch (error) {
            setExit(reportError(error, false));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { ValidationError } from "../errors.js";
import { reportError } from "./output.js";
import { nonEmpty } from "./_options.js";
;
;
