import assert from "node:assert/strict";
import { parseTokens, tokenId, TokenTable } from "../../src/core/tokens.ts";
import { ValidationError } from "../../src/errors.ts";

const A = "alpha-token-0123456789";
const B = "bravo-token-0123456789";

Deno.test("parseTokens() reads rights, skips comments and blank lines", async () => {
  const table = new TokenTable(
    await parseTokens(`# team\n\n${A} read,gen  # laptop\n${B} publish\n`),
  );
  assert.equal(table.size, 2);
  assert.deepEqual([...(await table.authenticate(A))!.rights], ["read", "gen"]);
  assert.deepEqual([...(await table.authenticate(B))!.rights], ["publish"]);
  assert.equal((await table.authenticate(A))!.id, await tokenId(A));
  assert.match(await tokenId(A), /^tok_[0-9a-f]{12}$/);
});

Deno.test("TokenTable.authenticate() refuses a wrong, shortened or extended token", async () => {
  const table = new TokenTable(await parseTokens(`${A} read\n`));
  for (const wrong of ["", A.slice(0, -1), A + "x", A.toUpperCase(), B]) {
    assert.equal(await table.authenticate(wrong), undefined, wrong);
  }
});

Deno.test("parseTokens() refuses unknown rights, short tokens and repeats without quoting the token", async () => {
  for (const text of [`${A} read,admin`, "short read", `${A}`, `${A} read\n${A} gen`]) {
    await assert.rejects(parseTokens(text), (error: Error) => {
      assert.ok(error instanceof ValidationError);
      assert.ok(!error.message.includes(A), error.message);
      return true;
    });
  }
});
