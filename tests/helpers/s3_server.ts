/**
 * A real S3-compatible server on loopback for the Core's storage tests: s3rver, from npm, with one
 * bucket (`capibara`) in the folder given, on a free port. Prints `{"port": N}` on a line once it
 * listens, and stops when its standard input closes.
 *
 * Run in a process of its own, with a lockfile of its own (`tests/helpers/s3_server.lock`): s3rver
 * and its hundred-odd packages stay out of `deno.lock`, whose every package a checkout's first run
 * (`deno task demo`) downloads. The specifier is computed for the same reason: `deno check` of the
 * tests does not resolve it.
 *
 *     deno run -A --lock=tests/helpers/s3_server.lock tests/helpers/s3_server.ts <folder>
 */

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { concatBytes } from "../../src/_body.ts";

/** An object as s3rver's store receives it. */
interface S3rverObject {
  bucket: string;
  key: string;
  content: Uint8Array | Readable;
  metadata: Record<string, string>;
}

/** The part of s3rver's filesystem store used here. */
interface S3rverStore {
  getResourcePath(bucket: string, key: string, kind: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/** The part of s3rver's API used here. */
interface S3rverServer {
  store: S3rverStore;
  run(): Promise<{ port: number }>;
}

const SPECIFIER = ["npm:s3rver", "^3.7.1"].join("@");
const { default: S3rver } = await import(SPECIFIER) as {
  default: new (options: Record<string, unknown>) => S3rverServer;
};

const directory = Deno.args[0];
if (!directory) {
  console.error("usage: s3_server.ts <folder>");
  Deno.exit(2);
}
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: "capibara" }],
});
// s3rver answers a PUT once the request's body has been read, before its file is written (its
// promise waits for the hashing stream, not the file's), and writes in place: a GET right after a
// PUT could read an empty or a half-written object, which S3 never serves. Here a PUT answers once
// its object is wholly written, and takes its place by a rename, as S3 keeps one whole PUT.
server.store.putObject = async function (this: S3rverStore, object: S3rverObject) {
  const path = this.getResourcePath(object.bucket, object.key, "object");
  await Deno.mkdir(dirname(path), { recursive: true });
  let content: Uint8Array;
  if (object.content instanceof Uint8Array) {
    content = object.content;
  } else {
    const chunks: Uint8Array[] = [];
    for await (const chunk of object.content) chunks.push(chunk as Uint8Array);
    content = concatBytes(chunks);
  }
  const md5 = createHash("md5").update(content).digest("hex");
  const staged = `${path}.${crypto.randomUUID()}.partial`;
  await Deno.writeFile(staged, content);
  await Deno.rename(staged, path);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size: content.length, md5 };
};
const { port } = await server.run();
console.log(JSON.stringify({ port }));
// Until the test closes our standard input.
for await (const _ of Deno.stdin.readable) {
  // nothing is read but the end
}
// Exit without server.close(): it waits for every keep-alive connection to end, and the test's
// fetch keeps its pooled ones open while it waits for this process, so both would wait minutes.
// s3rver holds nothing that is not already in its folder.
Deno.exit(0);
