/**
 * The Core's bearer tokens: a file of `<token> <rights>` lines (rights a comma-separated subset of
 * `read,gen,publish`; `#` starts a comment), compared in constant time. A token is never logged:
 * logs name it by its id, a short hash.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { sha256 } from "../_hash.ts";
import { ValidationError } from "../errors.ts";
import { readPrivateFile } from "./_private_file.ts";

/** What a token may do. */
export type Right = "read" | "gen" | "publish";

/** Every right, in the order the token file lists them. */
export const RIGHTS: readonly Right[] = ["read", "gen", "publish"];

/** A token that was presented and matched. */
export interface TokenIdentity {
  /** A short hash of the token: what logs and rate limits name it by. */
  id: string;
  /** Its rights. */
  rights: ReadonlySet<Right>;
}

interface TokenRecord extends TokenIdentity {
  /** The hex sha256 of the token, as bytes. */
  digest: Uint8Array;
}

const encoder = new TextEncoder();

async function digestOf(token: string): Promise<Uint8Array> {
  return encoder.encode(await sha256(token));
}

/** The id of a token in logs: `tok_` and the first 12 hex digits of its sha256. */
export async function tokenId(token: string): Promise<string> {
  return "tok_" + (await sha256(token)).slice(0, 12);
}

/**
 * Parses a token file's text.
 *
 * @throws {ValidationError} naming the line of a malformed entry (the token itself is never quoted)
 */
export async function parseTokens(text: string, path = "tokens file"): Promise<TokenRecord[]> {
  const records: TokenRecord[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const fail = (why: string) =>
      new ValidationError(`Cannot read ${path}: line ${i + 1} ${why}`, {
        hint:
          "Each line is <token> <rights>, rights a comma-separated subset of read,gen,publish " +
          "(e.g. s3cr3t-token read,gen); # starts a comment",
      });
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw fail("is not a token followed by its rights");
    const [token, list] = parts as [string, string];
    if (token.length < 16) throw fail("holds a token shorter than 16 characters");
    const rights = new Set<Right>();
    for (const right of list.split(",")) {
      if (!RIGHTS.includes(right as Right)) {
        throw fail(`names an unknown right "${right.slice(0, 20)}"`);
      }
      rights.add(right as Right);
    }
    const hex = await sha256(token);
    if (seen.has(hex)) throw fail("repeats a token listed above");
    seen.add(hex);
    records.push({ id: "tok_" + hex.slice(0, 12), rights, digest: encoder.encode(hex) });
  }
  return records;
}

/** The tokens of a file, replaceable as a whole (on SIGHUP). */
export class TokenTable {
  #records: TokenRecord[];

  /** A table of parsed records (see {@linkcode loadTokens}). */
  constructor(records: TokenRecord[]) {
    this.#records = records;
  }

  /** How many tokens the table holds. */
  get size(): number {
    return this.#records.length;
  }

  /** Replaces every token at once. */
  replace(other: TokenTable): void {
    this.#records = other.#records;
  }

  /**
   * The identity of a presented token, or undefined. Every known token is compared, each in
   * constant time over sha256 digests, so the time taken says nothing about which bytes matched.
   */
  async authenticate(token: string): Promise<TokenIdentity | undefined> {
    const digest = await digestOf(token);
    let found: TokenRecord | undefined;
    for (const record of this.#records) {
      if (timingSafeEqual(record.digest, digest)) found = record;
    }
    return found ? { id: found.id, rights: found.rights } : undefined;
  }
}

/**
 * Reads a token file.
 *
 * @throws {ValidationError} when it cannot be read, is open to other users, is malformed, or lists
 *   no token
 */
export async function loadTokens(path: string): Promise<TokenTable> {
  const text = await readPrivateFile(
    path,
    "tokens file",
    "Pass --tokens <file> with one <token> <rights> line per client",
  );
  const records = await parseTokens(text, `tokens file "${path}"`);
  if (records.length === 0) {
    throw new ValidationError(`Cannot use tokens file "${path}": it lists no token`, {
      hint: "Add a line such as <token> read,gen (generate a token with openssl rand -hex 32)",
    });
  }
  return new TokenTable(records);
}
