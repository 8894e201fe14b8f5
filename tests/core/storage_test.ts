/**
 * One suite for every backend of the Core's storage: on disk, and in a real S3-compatible server
 * on loopback (s3rver from npm, in a process of its own with its own lockfile, see
 * helpers/s3_server.ts: a free port, a fresh folder and one bucket; requests are signed as for
 * AWS).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DiskStorage } from "../../src/core/storage/disk.ts";
import { type EntryStorage, openStorage } from "../../src/core/storage/mod.ts";
import { NetworkError, ValidationError } from "../../src/errors.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** s3rver started in a process of its own on `folder`; undefined with why when it cannot start. */
async function startS3rver(
  folder: string,
): Promise<{ port: number; close(): Promise<void> } | { failed: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--lock=tests/helpers/s3_server.lock",
      "tests/helpers/s3_server.ts",
      folder,
    ],
    cwd: REPO,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const close = async () => {
    await stdin.close().catch(() => {});
    await child.status;
  };
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = Number((JSON.parse(text.split("\n")[0] || "{}") as { port?: number }).port);
  if (!Number.isInteger(port) || port <= 0) {
    await close();
    return { failed: (await stderr).trim().split("\n").slice(-3).join(" ") || "no port" };
  }
  stderr.catch(() => {});
  return { port, close };
}

const FP = "fp_" + "1".repeat(32);
const OTHER = "fp_" + "2".repeat(32);
const bytes = (text: string) => new TextEncoder().encode(text);

/** The suite every backend passes. */
async function storageSuite(t: Deno.TestContext, storage: EntryStorage): Promise<void> {
  const kind = storage.description.split(":")[0];
  await t.step(
    `${kind}: get() of a missing entry is undefined`,
    async () => {
      assert.equal(await storage.get(FP), undefined);
    },
  );
  await t.step(
    `${kind}: put() then get() returns the same bytes`,
    async () => {
      const body = bytes(
        JSON.stringify({ manifest: { fingerprint: FP }, files: { "é.txt": "ü\n" } }),
      );
      await storage.put(FP, body);
      assert.deepEqual(await storage.get(FP), body);
      assert.equal(await storage.get(OTHER), undefined);
    },
  );
  await t.step(`${kind}: put() replaces an entry wholly`, async () => {
    await storage.put(FP, bytes("x".repeat(100_000)));
    await storage.put(FP, bytes('{"short":true}'));
    assert.deepEqual(await storage.get(FP), bytes('{"short":true}'));
  });
  await t.step({
    name: `${kind}: concurrent put()s leave one whole entry`,
    fn: async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => bytes(String(i).repeat(50_000 + i)));
      await Promise.all(bodies.map((b) => storage.put(OTHER, b)));
      const stored = await storage.get(OTHER);
      assert.ok(
        stored &&
          bodies.some((b) => b.length === stored.length && b.every((x, i) => x === stored[i])),
      );
    },
  });
  await t.step(
    `${kind}: a key that is not a fingerprint is refused`,
    async () => {
      await assert.rejects(storage.get("../../etc/passwd"), ValidationError);
      await assert.rejects(storage.put("fp_../x", bytes("{}")), ValidationError);
    },
  );
}

Deno.test("DiskStorage passes the storage suite and leaves no temporary file", async (t) => {
  await using tmp = await withTmpDir();
  const storage = await DiskStorage.open(join(tmp.path, "core"));
  await storageSuite(t, storage);
  const names = [...Deno.readDirSync(join(tmp.path, "core", "entries"))].map((e) => e.name).sort();
  assert.deepEqual(names, [`${FP}.json`, `${OTHER}.json`]);
});

Deno.test("S3Storage passes the storage suite against s3rver on loopback", async (t) => {
  await using tmp = await withTmpDir();
  const server = await startS3rver(tmp.path);
  if ("failed" in server) {
    await t.step({
      name: `skipped: s3rver cannot start here (${server.failed})`,
      ignore: true,
      fn() {},
    });
    return;
  }
  const { port } = server;
  try {
    const env = {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
    };
    const storage = await openStorage({ s3: `http://127.0.0.1:${port}/capibara/team`, env });
    await storageSuite(t, storage);
    await t.step("s3: each entry is one object, <prefix>/entries/<fingerprint>.json", async () => {
      await storage.put(OTHER, bytes("{}"));
      // s3rver keeps an object's bytes in "<key>._S3rver_object".
      const objects = [...Deno.readDirSync(join(tmp.path, "capibara", "team", "entries"))]
        .map((e) => e.name).filter((n) => n.endsWith("._S3rver_object")).sort();
      assert.deepEqual(objects, [`${FP}.json._S3rver_object`, `${OTHER}.json._S3rver_object`]);
    });
    await t.step("s3: a missing bucket fails at start with a NetworkError", async () => {
      await assert.rejects(
        openStorage({ s3: `http://127.0.0.1:${port}/nobucket`, env }),
        NetworkError,
      );
    });
    await t.step("s3: no credentials or no bucket in the URL is a ValidationError", async () => {
      await assert.rejects(
        openStorage({ s3: `http://127.0.0.1:${port}/capibara`, env: {} }),
        ValidationError,
      );
      await assert.rejects(openStorage({ s3: `http://127.0.0.1:${port}/`, env }), ValidationError);
    });
  } finally {
    await server.close();
  }
});
