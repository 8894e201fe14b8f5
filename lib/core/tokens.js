// Generated from src/core/tokens.ts by scripts/build_js.ts (sha256 6303f852aba0618dfe292fc159db978b81bc2b51bab5682a387f097b080fbdef): do not edit; `deno task build:js` writes it.
var digestOf = (async function (token) {
    return encoder.encode(await sha256(token));
});
export var tokenId = (async function (token) {
    return "tok_" + (await sha256(token)).slice(0, 12);
});
export var parseTokens = (async function (text, path = "tokens file") {
    const records = [];
    const seen = new Set();
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
        const line = raw.replace(/#.*$/, "").trim();
        if (line === "")
            continue;
        const fail = ((why) => new ValidationError(`Cannot read ${path}: line ${i + 1} ${why}`, {
            hint: "Each line is <token> <rights>, rights a comma-separated subset of read,gen,publish " +
                "(e.g. s3cr3t-token read,gen); # starts a comment",
        }));
        const parts = line.split(/\s+/);
        if (parts.length !== 2)
            throw fail("is not a token followed by its rights");
        const [token, list] = parts;
        if (token.length < 16)
            throw fail("holds a token shorter than 16 characters");
        const rights = new Set();
        for (const right of list.split(",")) {
            if (!RIGHTS.includes(right)) {
                throw fail(`names an unknown right "${right.slice(0, 20)}"`);
            }
            rights.add(right);
        }
        const hex = await sha256(token);
        if (seen.has(hex))
            throw fail("repeats a token listed above");
        seen.add(hex);
        records.push({ id: "tok_" + hex.slice(0, 12), rights, digest: encoder.encode(hex) });
    }
    return records;
});
export var loadTokens = (async function (path) {
    const text = await readPrivateFile(path, "tokens file", "Pass --tokens <file> with one <token> <rights> line per client");
    const records = await parseTokens(text, `tokens file "${path}"`);
    if (records.length === 0) {
        throw new ValidationError(`Cannot use tokens file "${path}": it lists no token`, {
            hint: "Add a line such as <token> read,gen (generate a token with openssl rand -hex 32)",
        });
    }
    return new TokenTable(records);
});
import { timingSafeEqual } from "node:crypto";
import { sha256 } from "../_hash.js";
import { ValidationError } from "../errors.js";
import { readPrivateFile } from "./_private_file.js";
export const RIGHTS = ["read", "gen", "publish"];
const encoder = new TextEncoder();
;
;
;
export class TokenTable {
    #records;
    constructor(records) {
        this.#records = records;
    }
    get size() {
        return this.#records.length;
    }
    replace(other) {
        this.#records = other.#records;
    }
    async authenticate(token) {
        const digest = await digestOf(token);
        let found;
        for (const record of this.#records) {
            if (timingSafeEqual(record.digest, digest))
                found = record;
        }
        return found ? { id: found.id, rights: found.rights } : undefined;
    }
}
;
