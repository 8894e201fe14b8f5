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

/** The part of s3rver's API used here. */
interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
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
const { port } = await server.run();
console.log(JSON.stringify({ port }));
// Until the test closes our standard input.
for await (const _ of Deno.stdin.readable) {
  // nothing is read but the end
}
await server.close();
Deno.exit(0);
