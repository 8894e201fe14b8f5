/**
 * CoreClient against a tiny server on loopback: the wire format, the mapping of every failure to
 * the taxonomy, bounded bodies, no redirects, and a token that never shows.
 */
import assert from "node:assert/strict";
import {
  checkCoreUrl,
  checkEntryIdentity,
  CoreClient,
  type WireEntry,
  wireProblem,
} from "../../src/generate/core_client.ts";
import {
  type CapibaraError,
  IntegrityError,
  NetworkError,
  PermissionError,
  TemplateError,
  ValidationError,
} from "../../src/errors.ts";

const TOKEN = "core-token-never-shown-5f3a9c";
const FP = "fp_" + "ab".repeat(16);
/** What a Core may send: a manifest is whatever it says until the store verifies it. */
function wire(manifest: Record<string, unknown>, files: Record<string, string> = {}): WireEntry {
  return { manifest, files } as unknown as WireEntry;
}
const ENTRY = wire({ fingerprint: FP, language: "python" }, {
  "script.py": "print(1)\n",
  "README.md": "# x\n",
});

type Handler = (req: Request) => Response | Promise<Response>;

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  body: string;
}

/** One loopback server for the whole file; each test sets its handler. */
const seen: Seen[] = [];
let handler: Handler = () => new Response("unset", { status: 500 });
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  seen.push({
    method: req.method,
    path: new URL(req.url).pathname,
    authorization: req.headers.get("authorization"),
    body: await req.text(),
  });
  return handler(req);
});
const URL_ = `http://127.0.0.1:${server.addr.port}`;
globalThis.addEventListener("unload", () => void server.shutdown());

function serve(h: Handler): void {
  seen.length = 0;
  handler = h;
}

function client(options: { token?: string | null; url?: string } = {}): CoreClient {
  return new CoreClient({
    url: options.url ?? URL_,
    ...(options.token === null ? {} : { token: options.token ?? TOKEN }),
    maxBodyBytes: 64 * 1024,
  });
}

/** Asserts the error is of the class, and that the token shows nowhere in it. */
async function rejects<E extends CapibaraError>(
  promise: Promise<unknown>,
  ErrorClass: new (...args: never[]) => E,
): Promise<E> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ErrorClass, `expected ${ErrorClass.name}, got ${caught}`);
  const text = JSON.stringify(caught.toJSON()) + caught.message + caught.hint;
  assert.ok(!text.includes(TOKEN), "the token shows in the error");
  return caught;
}

const coreError = (status: number, type: string, message: string, hint = "", headers = {}) =>
  Response.json({ error: { type, message, hint } }, { status, headers });

Deno.test("CoreClient.getEntry() sends the bearer token and returns the wire entry; 404 is a miss", async () => {
  serve((req) =>
    new URL(req.url).pathname.endsWith(FP)
      ? Response.json(ENTRY)
      : coreError(404, "NotFoundError", "no such entry")
  );
  assert.deepEqual(await client().getEntry(FP), ENTRY);
  assert.deepEqual(seen[0], {
    method: "GET",
    path: `/v1/entries/${FP}`,
    authorization: `Bearer ${TOKEN}`,
    body: "",
  });
  assert.equal(await client().getEntry("fp_" + "cd".repeat(16)), undefined);
});

Deno.test("CoreClient keeps the URL's path prefix", async () => {
  serve(() => Response.json(ENTRY));
  await client({ url: `${URL_}/capibara` }).getEntry(FP);
  assert.equal(seen[0]!.path, `/capibara/v1/entries/${FP}`);
});

Deno.test("CoreClient.generate() posts the request and reports the Core's cache header", async () => {
  serve(() => Response.json(ENTRY, { headers: { "x-capibara-cache": "miss" } }));
  const result = await client().generate({
    prompt: "Say hi",
    context: { a: 1 },
    language: "python",
    mode: "strict",
  });
  assert.deepEqual(result, { entry: ENTRY, cache: "miss" });
  assert.equal(seen[0]!.method, "POST");
  assert.equal(seen[0]!.path, "/v1/gen");
  assert.deepEqual(JSON.parse(seen[0]!.body), {
    prompt: "Say hi",
    context: { a: 1 },
    language: "python",
    mode: "strict",
  });
});

Deno.test("CoreClient.putEntry() says created (201) or identical (200); 409 is an IntegrityError", async () => {
  let status = 201;
  serve(() =>
    status === 409
      ? coreError(409, "IntegrityError", "another entry is stored under this fingerprint")
      : Response.json({ fingerprint: FP }, { status })
  );
  assert.equal(await client().putEntry(FP, ENTRY), "created");
  assert.equal(seen[0]!.method, "PUT");
  assert.deepEqual(JSON.parse(seen[0]!.body), ENTRY);
  status = 200;
  assert.equal(await client().putEntry(FP, ENTRY), "identical");
  status = 409;
  const error = await rejects(client().putEntry(FP, ENTRY), IntegrityError);
  assert.match(error.message, /another entry is stored/);
});

Deno.test("CoreClient: an unreachable Core is a NetworkError (exit 4) naming the URL", async () => {
  const closed = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const url = `http://127.0.0.1:${closed.addr.port}`;
  await closed.shutdown();
  const error = await rejects(client({ url }).getEntry(FP), NetworkError);
  assert.equal(error.exitCode, 4);
  assert.ok(error.message.includes(url), error.message);
  assert.match(error.hint, /CAPIBARA_CORE_URL/);
});

Deno.test("CoreClient: a Core that does not answer in time is a NetworkError", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  serve(async () => {
    await release;
    return Response.json(ENTRY);
  });
  const slow = new CoreClient({ url: URL_, token: TOKEN, timeoutMs: 100 });
  const error = await rejects(slow.getEntry(FP), NetworkError);
  resolve();
  assert.match(error.message, /no answer within 0\.1 s/);
});

Deno.test("CoreClient: 401 is a PermissionError whose hint names CAPIBARA_CORE_TOKEN", async () => {
  serve(() => coreError(401, "PermissionError", "invalid token"));
  const wrong = await rejects(client().getEntry(FP), PermissionError);
  assert.match(wrong.message, /refused the token \(HTTP 401\)/);
  assert.match(wrong.hint, /CAPIBARA_CORE_TOKEN/);
  const none = await rejects(client({ token: null }).getEntry(FP), PermissionError);
  assert.match(none.message, /no token was sent/);
  assert.equal(seen.at(-1)!.authorization, null);
});

Deno.test("CoreClient: 403 is a PermissionError naming the right the token lacks", async () => {
  serve(() => Response.json({ error: { type: "PermissionError" } }, { status: 403 }));
  const read = await rejects(client().getEntry(FP), PermissionError);
  assert.match(read.message, /lacks the "read" right/);
  const gen = await rejects(
    client().generate({ prompt: "x", context: {}, language: "python", mode: "strict" }),
    PermissionError,
  );
  assert.match(gen.message, /lacks the "gen" right/);
  assert.match(gen.hint, /"gen" right/);
  // The Core's own reason, when it gives one (an unsigned entry, say).
  serve(() => coreError(403, "PermissionError", "the entry is not signed", "Sign it first"));
  const put = await rejects(client().putEntry(FP, ENTRY), PermissionError);
  assert.match(put.message, /publish .*: the entry is not signed/);
  assert.equal(put.hint, "Sign it first");
  assert.equal(put.details?.right, "publish");
});

Deno.test("CoreClient: 429 is a NetworkError with Retry-After in the hint; a short one is retried", async () => {
  serve(() => coreError(429, "NetworkError", "slow down", "", { "retry-after": "120" }));
  const error = await rejects(client().getEntry(FP), NetworkError);
  assert.match(error.hint, /Retry after 120 s/);
  assert.equal(seen.length, 1, "a long Retry-After is not waited for");

  let n = 0;
  serve(() =>
    ++n === 1
      ? coreError(429, "NetworkError", "slow down", "", { "retry-after": "0" })
      : Response.json(ENTRY)
  );
  assert.deepEqual(await client().getEntry(FP), ENTRY);
  assert.equal(seen.length, 2);
});

Deno.test("CoreClient: the Core's error JSON becomes the same taxonomy error with its message", async () => {
  serve(() =>
    coreError(502, "TemplateError", "the model kept breaking the contract", "Rephrase the prompt")
  );
  const error = await rejects(
    client().generate({ prompt: "x", context: {}, language: "python", mode: "strict" }),
    TemplateError,
  );
  assert.match(error.message, /the model kept breaking the contract/);
  assert.ok(error.message.includes(URL_));
  assert.equal(error.hint, "Rephrase the prompt");
  // A type outside the taxonomy is a NetworkError.
  serve(() => coreError(500, "InternalError", "boom"));
  await rejects(client().getEntry(FP), NetworkError);
});

Deno.test("CoreClient: a body that is not the wire format is a NetworkError saying what came, not the body", async () => {
  const page = "<html><body>SECRET-PAGE-CONTENT</body></html>";
  serve(() => new Response(page, { headers: { "content-type": "text/html" } }));
  const html = await rejects(client().getEntry(FP), NetworkError);
  assert.match(html.message, /HTTP 200, text\/html, \d+ bytes/);
  assert.doesNotMatch(JSON.stringify(html.toJSON()), /SECRET-PAGE-CONTENT/);
  serve(() => Response.json({ manifest: {}, files: { "../evil.sh": "x" } }));
  const path = await rejects(client().getEntry(FP), NetworkError);
  assert.match(path.message, /not an entry \(a file name that is not a plain name\)/);
  serve(() => new Response("<h1>Bad gateway</h1>", { status: 502 }));
  const gateway = await rejects(client().getEntry(FP), NetworkError);
  assert.match(gateway.message, /HTTP 502, .* not the Core's JSON/);
});

Deno.test("CoreClient: a body over the limit is refused, announced or streamed", async () => {
  const big = JSON.stringify({ manifest: {}, files: { "a.txt": "x".repeat(100 * 1024) } });
  serve(() => new Response(big, { headers: { "content-type": "application/json" } }));
  const announced = await rejects(client().getEntry(FP), NetworkError);
  assert.match(announced.message, /larger than 65536 bytes/);
  serve(() => {
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "application/json" } });
  });
  const streamed = await rejects(client().getEntry(FP), NetworkError);
  assert.match(streamed.message, /larger than 65536 bytes/);
});

Deno.test("CoreClient: a redirect is not followed (the token stays with the Core)", async () => {
  let elsewhere = 0;
  const other = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    elsewhere++;
    return Response.json(ENTRY);
  });
  try {
    serve(() =>
      new Response(null, {
        status: 302,
        headers: { location: `http://127.0.0.1:${other.addr.port}/v1/entries/${FP}` },
      })
    );
    const error = await rejects(client().getEntry(FP), NetworkError);
    assert.match(error.message, /redirect \(HTTP 302\)/);
    assert.equal(elsewhere, 0);
  } finally {
    await other.shutdown();
  }
});

Deno.test("checkCoreUrl() takes https and loopback http only, without user info", () => {
  for (const ok of ["https://core.example.com", "http://127.0.0.1:8787", "http://localhost:1/x"]) {
    assert.ok(checkCoreUrl(ok).pathname.endsWith("/"), ok);
  }
  for (
    const bad of [
      "http://core.example.com",
      "http://10.0.0.5:8787",
      "ftp://core.example.com",
      "core.example.com",
      "https://user:pass@core.example.com",
      "https://core.example.com/?token=x",
      // A name below .localhost goes to DNS on many machines: its token in clear text.
      "http://core.localhost:8787",
    ]
  ) {
    assert.throws(() => checkCoreUrl(bad), ValidationError, bad);
  }
  assert.throws(
    () => checkCoreUrl("https://user:hunter2@core.example.com"),
    (error: ValidationError) => !JSON.stringify(error.toJSON()).includes("hunter2"),
  );
});

Deno.test("checkEntryIdentity() refuses an entry of another request", () => {
  const expected = {
    fingerprint: FP,
    prompt_sha: "p_" + "1".repeat(32),
    context_sha: "c_" + "2".repeat(32),
    language: "python" as const,
    mode: "strict" as const,
  };
  const entry = wire({ ...expected });
  checkEntryIdentity(entry, expected, URL_);
  const other = wire({ ...expected, fingerprint: "fp_" + "9".repeat(32) });
  assert.throws(() => checkEntryIdentity(other, expected, URL_), IntegrityError);
  const moved = wire({ ...expected, context_sha: "c_" + "3".repeat(32) });
  assert.throws(
    () => checkEntryIdentity(moved, expected, URL_),
    (error: IntegrityError) => /context_sha differs/.test(error.message),
  );
});

Deno.test("wireProblem() accepts the wire format only", () => {
  assert.equal(wireProblem(ENTRY), undefined);
  assert.equal(wireProblem([]), "the body is not a JSON object");
  assert.equal(wireProblem({ files: {} }), 'no "manifest" object');
  assert.equal(wireProblem({ manifest: {}, files: { "a.py": 1 } }), "file a.py is not text");
  assert.match(wireProblem({ manifest: {}, files: { "..": "" } })!, /plain name/);
});

Deno.test("new CoreClient() refuses a token a header cannot carry, without quoting it", () => {
  for (const token of ["sec ret-hunter2", "hunter2\nx", "hunter2é"]) {
    assert.throws(
      () => new CoreClient({ url: URL_, token }),
      (error: ValidationError) =>
        error instanceof ValidationError && !JSON.stringify(error.toJSON()).includes("hunter2"),
      JSON.stringify(token),
    );
  }
});
