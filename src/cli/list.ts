/**
 * `capibara list`: the cached scripts of this project.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { CapibaraError } from "../errors.ts";
import type { Entry, Store } from "../store/store.ts";
import { isWellFormedSignature } from "../store/trust.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";
import { nonEmpty } from "./_options.ts";

/** How an entry stands under this machine's signature policy, as `show` and `list` report it. */
export type SignatureState =
  /** Signed by a key trusted here, and the signature verifies. */
  | { state: "signed"; key_id: string }
  /** Accepted on this machine (`capibara accept`), as it is now. */
  | { state: "accepted"; accepted_at: string }
  /** Neither; `key_id` names the key of a signature that does not count here (not trusted). */
  | { state: "unsigned"; key_id?: string }
  /** `run` would refuse it: its files changed, or the policy refuses it (`reason` says which). */
  | { state: "refused"; reason: string };

/** What one verification of an entry found: its integrity and its signature state. */
export interface EntryStanding {
  /** "ok", or why the entry's files or manifest do not match its integrity record. */
  integrity: string;
  signature: SignatureState;
}

/**
 * Verifies an entry once, as `run` would (integrity, then the signature policy), and says how it
 * stands. Only when that fails is the integrity checked alone, to tell a changed entry from one
 * the policy refuses.
 */
export async function entryStanding(store: Store, entry: Entry): Promise<EntryStanding> {
  try {
    const status = await store.verify(entry);
    if (status.state !== "unsigned") return { integrity: "ok", signature: status };
    const signature = entry.manifest.signature;
    return {
      integrity: "ok",
      signature: isWellFormedSignature(signature)
        ? { state: "unsigned", key_id: signature.key_id }
        : { state: "unsigned" },
    };
  } catch (error) {
    if (!(error instanceof CapibaraError)) throw error;
    try {
      await store.verify(entry, { policy: false });
    } catch (integrity) {
      if (!(integrity instanceof CapibaraError)) throw integrity;
      return {
        integrity: integrity.message,
        signature: { state: "refused", reason: "its files or manifest changed since stored" },
      };
    }
    return { integrity: "ok", signature: { state: "refused", reason: error.message } };
  }
}

/** A signature state in words (untrusted parts escaped). */
export function describeSignature(signature: SignatureState): string {
  switch (signature.state) {
    case "signed":
      return `signed by key ${terminalSafe(signature.key_id)}`;
    case "accepted":
      return `accepted on this machine (${terminalSafe(signature.accepted_at)})`;
    case "unsigned":
      return signature.key_id === undefined
        ? "unsigned"
        : `unsigned here: signed by key ${terminalSafe(signature.key_id)}, not trusted here`;
    case "refused":
      return `refused: ${terminalSafe(signature.reason)}`;
  }
}

/** Entries verified at once by `list`. */
const CONCURRENCY = 8;

/** {@linkcode entryStanding} of every entry, a few at a time, in order. */
async function standings(store: Store, entries: Entry[]): Promise<EntryStanding[]> {
  const out: EntryStanding[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await entryStanding(store, entries[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  return out;
}

/** The short form of a signature state in `list`'s rows. */
function shortSignature(signature: SignatureState): string {
  return signature.state === "signed"
    ? `signed:${terminalSafe(signature.key_id)}`
    : signature.state;
}

/**
 * A one-line summary of a stored context, telling apart the entries of one prompt: its keys and
 * scalar values (`input=a.csv, n=3`), or "" without one (parametric mode stores none).
 */
export function contextSummary(context: unknown): string {
  if (context === null || typeof context !== "object" || Array.isArray(context)) return "";
  return Object.entries(context).map(([key, value]) =>
    value !== null && typeof value === "object" ? `${key}=…` : `${key}=${String(value)}`
  ).join(", ");
}

/** The `list` subcommand. */
export function listCommand(setExit: (code: number) => void) {
  return new Command("list")
    .description(
      "List the cached scripts of this project (.capibara/scripts/), each verified: signed by " +
        "a trusted key, accepted on this machine, unsigned, or refused (and why)",
    )
    .option("--root <dir>", ROOT_HELP, nonEmpty)
    .option("--json", "print one JSON document on stdout")
    .action(async (opts) => {
      const json = opts.json ?? false;
      try {
        const store = await (await commandCapibara(opts.root)).store();
        const { entries, broken } = await store.list();
        const standing = await standings(store, entries);
        if (json) {
          printJson({
            root: store.root,
            scripts: entries.map(({ manifest: m }, i) => ({
              fingerprint: m.fingerprint,
              prompt: m.prompt,
              language: m.language,
              deps: m.deps,
              needs: m.needs,
              generator: m.generator,
              created_at: m.created_at,
              revision: m.revision,
              context: contextSummary(m.context),
              integrity: standing[i]!.integrity,
              signature: standing[i]!.signature,
            })),
            broken,
          });
          return;
        }
        if (entries.length === 0 && broken.length === 0) {
          console.log(`No cached scripts in ${terminalSafe(store.scripts)}`);
          return;
        }
        console.log(`${terminalSafe(store.scripts)}:`);
        // A manifest is untrusted text (a cloned repository's, a model's prompt): every field is
        // escaped, the prompt before it is cut.
        for (const [i, { manifest: m }] of entries.entries()) {
          const { integrity, signature } = standing[i]!;
          const safe = terminalSafe(m.prompt);
          const prompt = safe.length > 60 ? safe.slice(0, 59) + "…" : safe;
          const created = terminalSafe(m.created_at.slice(0, 10));
          const context = terminalSafe(contextSummary(m.context));
          console.log(
            `${m.fingerprint}  ${terminalSafe(m.language).padEnd(10)} r${m.revision}  ${created}  ${
              shortSignature(signature).padEnd(9)
            }  ` +
              `${prompt}${
                context ? `  [${context.length > 50 ? context.slice(0, 49) + "…" : context}]` : ""
              }`,
          );
          if (integrity !== "ok") console.log(`    integrity: ${terminalSafe(integrity)}`);
          else if (signature.state === "refused") {
            console.log(`    ${describeSignature(signature)}`);
          }
        }
        for (const b of broken) console.log(`! ${terminalSafe(b.dir)}: ${terminalSafe(b.reason)}`);
      } catch (error) {
        setExit(reportError(error, json, undefined, { root: opts.root }));
      }
    });
}
