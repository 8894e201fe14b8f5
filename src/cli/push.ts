/**
 * `capibara push`: publish local entries to the team's Core (`PUT /v1/entries/<fp>`), so that a
 * teammate's or a CI runner's miss gets them instead of a generation.
 *
 * Only entries that verify here (integrity and this machine's trust policy) and carry a signature
 * are sent; the Core then checks the signature against its own keys. With `--key`, an unsigned
 * entry that verifies here and that a person chose (named on the command line, or accepted on this
 * machine) is signed with that key first, in the local store too (what
 * `capibara sign` does), so that the entry committed and the one on the Core are the same bytes.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { basename } from "../_path.ts";
import type { Capibara } from "../capibara.ts";
import { untrustedError } from "../config_trust.ts";
import {
  CapibaraError,
  type ErrorJson,
  IntegrityError,
  NetworkError,
  PermissionError,
  ValidationError,
} from "../errors.ts";
import { CORE_TOKEN_ENV, CORE_URL_ENV, CoreClient } from "../generate/core_client.ts";
import { loadSigningKey } from "../core/sign.ts";
import type { Entry } from "../store/store.ts";
import {
  commandCapibara,
  interruptible,
  printJson,
  reportError,
  reportInterrupted,
  ROOT_HELP,
  terminalSafe,
} from "./output.ts";
import { nonEmpty } from "./_options.ts";
import { signEntry } from "./sign.ts";

/** What happened to one entry. */
export interface PushOutcome {
  fingerprint: string;
  /** `pushed`: the Core stored it; `already_there`: it held the same entry; `refused`: not sent, or the Core refused it. */
  status: "pushed" | "already_there" | "refused";
  /** True when `--key` signed it on the way. */
  signed?: boolean;
  /** Why it was refused. */
  error?: ErrorJson;
}

/** Options of {@linkcode pushEntries}. */
export interface PushOptions {
  /** A private key (`capibara keygen`) to sign unsigned entries with before pushing them. */
  key?: string;
  /** Cancels the push between and during requests. */
  signal?: AbortSignal;
  /** Receives each outcome as it is known. */
  onOutcome?: (outcome: PushOutcome) => void;
}

/** Where entries are pushed, and what happened to each. */
export interface PushReport {
  /** The Core's URL. */
  core: string;
  outcomes: PushOutcome[];
}

/**
 * Publishes entries of a project to its Core: those named (fingerprints or unique prefixes), or
 * every entry. A refusal (of one entry, here or by the Core) is reported and the rest go on; a
 * failure that would refuse every entry (the Core unreachable, a bad token) stops the push.
 *
 * @throws {ValidationError} when no Core is configured, or a fingerprint is unknown
 * @throws {NetworkError} when the Core cannot be reached
 * @throws {PermissionError} when the Core refuses the token
 */
export async function pushEntries(
  cb: Capibara,
  prefixes: string[],
  options: PushOptions = {},
): Promise<PushReport> {
  const config = await cb.config();
  if (!config.core) {
    // A Core named by an untrusted config.json is not used: say so rather than "none".
    if (config.projectTrust.state === "untrusted" && config.projectTrust.request?.coreUrl) {
      throw untrustedError(config.projectTrust);
    }
    throw new ValidationError("Cannot push: no Core is configured", {
      hint: `Set ${CORE_URL_ENV} to the Core's URL and ${CORE_TOKEN_ENV} to a token with the ` +
        `"publish" right (or core.url in .capibara/config.json)`,
    });
  }
  const client = new CoreClient({ url: config.core.url, token: config.core.token });
  const store = await cb.store();
  const key = options.key === undefined ? undefined : await loadSigningKey(options.key);
  const outcomes: PushOutcome[] = [];
  const report = (outcome: PushOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };

  let entries: Entry[];
  if (prefixes.length > 0) {
    entries = [];
    for (const prefix of prefixes) {
      const fp = await store.resolve(prefix);
      const entry = await store.entry(fp).catch((error) => {
        if (!(error instanceof CapibaraError)) throw error;
        report({ fingerprint: fp, status: "refused", error: error.toJSON() });
        return undefined;
      });
      if (entry && !entries.some((e) => e.manifest.fingerprint === fp)) entries.push(entry);
    }
  } else {
    const listed = await store.list();
    for (const b of listed.broken) {
      const error = new IntegrityError(b.reason, { hint: "Restore it with git, or remove it" });
      report({ fingerprint: basename(b.dir), status: "refused", error: error.toJSON() });
    }
    entries = listed.entries;
  }

  for (const found of entries) {
    options.signal?.throwIfAborted();
    const fp = found.manifest.fingerprint;
    let signed = false;
    try {
      // What verifies here (integrity and this machine's policy) is all that may be published.
      const status = await store.verify(found);
      if (found.manifest.signature === undefined) {
        // A key signs on the way only what a person chose: a named entry, or one accepted on this
        // machine. An entry a cloned repository planted is never signed just for being there.
        if (key && prefixes.length === 0 && status.state !== "accepted") {
          throw new PermissionError(
            `Cannot push "${fp}": it is not signed, and --key signs only the scripts named on ` +
              "the command line or accepted on this machine",
            {
              hint: `Review it, then push it by name (capibara push ${fp} --key <file>) or ` +
                `sign it with capibara sign ${fp} --key <file>`,
              details: { fingerprint: fp },
            },
          );
        }
        if (!key) {
          throw new PermissionError(`Cannot push "${fp}": it is not signed`, {
            hint: `Review it, then sign it with capibara sign ${fp} --key <file>, or push it ` +
              "with --key <file> to sign it on the way (the Core accepts its own key's " +
              "signatures and those of the keys it trusts)",
            details: { fingerprint: fp },
          });
        }
        // As capibara sign does: under the lock, verified again, then signed as stored.
        await signEntry(store, fp, key);
        signed = true;
      }
      const wire = await store.readEntry(fp);
      const outcome = await client.putEntry(fp, wire, { signal: options.signal });
      report({
        fingerprint: fp,
        status: outcome === "created" ? "pushed" : "already_there",
        ...(signed ? { signed } : {}),
      });
    } catch (error) {
      if (!(error instanceof CapibaraError)) throw error;
      // Every later entry would fail the same way: stop, and say why.
      if (error instanceof NetworkError || error.details?.status === 401) throw error;
      report({
        fingerprint: fp,
        status: "refused",
        ...(signed ? { signed } : {}),
        error: error.toJSON(),
      });
    }
  }
  return { core: client.url, outcomes };
}

/** The `push` subcommand. */
export function pushCommand(setExit: (code: number) => void) {
  return new Command("push")
    .description(
      "Publish signed local scripts to the team's Core (CAPIBARA_CORE_URL), so that other " +
        "machines' misses get them without a generation",
    )
    .argument("[fingerprints...]", "fingerprints or unique prefixes; omit to push every script")
    .option(
      "--key <file>",
      "sign unsigned scripts that verify here with this private key (capibara keygen) first",
      nonEmpty,
    )
    .option("--root <dir>", ROOT_HELP, nonEmpty)
    .option("--json", "print one JSON document on stdout")
    .addHelpText(
      "after",
      `
Examples:
  capibara push                 publish every signed script of this project
  capibara push fp_1a2b --key ~/.capibara/keys/capibara_signing_key.pem
  capibara push --json          {core, results: [{fingerprint, status, error?}]}

The Core's URL and token come from CAPIBARA_CORE_URL and CAPIBARA_CORE_TOKEN (a token with the
"publish" right), or core.url in a trusted .capibara/config.json.`,
    )
    .action(async (prefixes, opts) => {
      const json = opts.json ?? false;
      using interruption = interruptible();
      try {
        const cb = await commandCapibara(opts.root);
        const result = await pushEntries(cb, prefixes, {
          key: opts.key,
          signal: interruption.signal,
          onOutcome: json ? undefined : printOutcome,
        });
        if (interruption.received) {
          setExit(reportInterrupted(interruption.received, "pushing", json));
          return;
        }
        const refused = result.outcomes.find((o) => o.status === "refused");
        if (json) printJson({ core: result.core, results: result.outcomes });
        else if (result.outcomes.length === 0) console.log("No cached scripts to push");
        else {
          const count = (status: PushOutcome["status"]) =>
            result.outcomes.filter((o) => o.status === status).length;
          console.log(
            `${count("pushed")} pushed, ${count("already_there")} already there, ` +
              `${count("refused")} refused (${terminalSafe(result.core)})`,
          );
        }
        if (refused?.error) setExit(refused.error.exit_code);
      } catch (error) {
        if (interruption.received) {
          setExit(reportInterrupted(interruption.received, "pushing", json));
          return;
        }
        setExit(reportError(error, json, undefined, { root: opts.root }));
      }
    });
}

/** One human line per entry; what a server or a manifest said is shown terminal-safe. */
function printOutcome(outcome: PushOutcome): void {
  const signed = outcome.signed ? " (signed now)" : "";
  if (outcome.status === "pushed") console.log(`✓ pushed ${outcome.fingerprint}${signed}`);
  else if (outcome.status === "already_there") {
    console.log(`= already there ${outcome.fingerprint}${signed}`);
  } else {
    console.log(
      `✗ refused ${terminalSafe(outcome.fingerprint)}${signed}: ${
        terminalSafe(outcome.error?.message ?? "")
      }`,
    );
    if (outcome.error?.hint) console.log(`    hint: ${terminalSafe(outcome.error.hint)}`);
  }
}
