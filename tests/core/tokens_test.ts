import assert from "node:assert/strict";
import { parseTokens, tokenId, TokenTable } from "../../src/core/tokens.ts";
import { ValidationError } from "../../src/errors.ts";

const A = "alpha-token-0123456789";
const B = "bravo-token-0123456789";

Deno.test("parseTokens() reads rights, skips comments and blank lines", () => {
  const table = new TokenTable(parseTokens(`# team\n\n${A} read,gen  # laptop\n${B} publish\n`));
  assert.equal(table.size, 2);
  assert.deepEqual([...table.authenticate(A)!.rights], ["read", "gen"]);
  assert.deepEqual([...table.authenticate(B)!.rights], ["publish"]);
  assert.equal(table.authenticate(A)!.id, tokenId(A));
  assert.match(tokenId(A), /^tok_[0-9a-f]{12}$/);
});

Deno.test("TokenTable.authenticate() refuses a wrong, shortened or extended token", () => {
  const table = new TokenTable(parseTokens(`${A} read\n`));
  for (const wrong of ["", A.slice(0, -1), A + "x", A.toUpperCase(), B]) {
    assert.equal(table.authenticate(wrong), undefined, wrong);
  }
});

Deno.test("parseTokens() refuses unknown rights, short tokens and repeats without quoting the token", () => {
  for (const text of [`${A} read,admin`, "short read", `${A}`, `${A} read\n${A} gen`]) {
    assert.throws(() => parseTokens(text), (error: Error) => {
      assert.ok(error instanceof ValidationError);
      assert.ok(!error.message.includes(A), error.message);
      return true;
    });
  }
});
