import assert from "node:assert/strict";
import { SandboxExecBackend, sbplProfile } from "../../src/sandbox/macos.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";

// sandbox-exec exists only on macOS: here only the profile text and availability are tested.

const policy: SandboxPolicy = {
  network: [],
  read: ["/Users/dev/data/in.csv", '/Users/dev/odd "name"\\dir'],
  write: ["/Users/dev/project/out"],
  protect: ["/Users/dev/project/out/.git"],
  workdir: "/Users/dev/project",
  tmpDir: "/private/var/folders/xy/capibara-tmp",
  memoryBytes: 512 * 1024 * 1024,
  maxProcesses: 64,
};

Deno.test("sbplProfile() denies by default and grants exactly the policy's paths", () => {
  const profile = sbplProfile(policy);
  assert.match(profile, /^\(version 1\)\n\(deny default\)\n/);
  const read = profile.slice(
    profile.indexOf("(allow file-read*"),
    profile.indexOf("(allow file-write*"),
  );
  assert.match(read, /\(subpath "\/Users\/dev\/data\/in\.csv"\)/);
  assert.match(read, /\(subpath "\/Users\/dev\/project"\)/);
  assert.match(read, /\(subpath "\/usr"\)/);
  assert.doesNotMatch(read, /\(subpath "\/Users\/dev"\)/);
  const write = profile.slice(profile.indexOf("(allow file-write*"));
  assert.match(write, /\(subpath "\/Users\/dev\/project\/out"\)/);
  assert.match(write, /\(subpath "\/private\/var\/folders\/xy\/capibara-tmp"\)/);
  assert.doesNotMatch(
    write.slice(0, write.indexOf("(deny")),
    /\(subpath "\/Users\/dev\/project"\)/,
  );
});

Deno.test("sbplProfile() denies protect paths after the write grants, so the denial wins", () => {
  const profile = sbplProfile(policy);
  const allowWrite = profile.indexOf("(allow file-write*");
  const denyWrite = profile.indexOf('(deny file-write*\n  (subpath "/Users/dev/project/out/.git")');
  assert.ok(allowWrite >= 0 && denyWrite > allowWrite);
});

Deno.test("sbplProfile() denies writing the folders a protected path hangs from, not what is in them", () => {
  const profile = sbplProfile({
    ...policy,
    write: ["/Users/dev"],
    protect: ["/Users/dev/Library/Caches/capibara"],
  });
  const deny = profile.slice(profile.indexOf("(deny file-write*"));
  assert.match(deny, /\(subpath "\/Users\/dev\/Library\/Caches\/capibara"\)/);
  assert.match(deny, /\(literal "\/Users\/dev\/Library"\)/);
  assert.match(deny, /\(literal "\/Users\/dev\/Library\/Caches"\)/);
  assert.doesNotMatch(deny, /\(subpath "\/Users\/dev\/Library"\)/);
  assert.doesNotMatch(sbplProfile(policy), /\(literal "\/Users\/dev\/project"\)/);
});

Deno.test("sbplProfile() escapes quotes and backslashes in paths", () => {
  assert.ok(sbplProfile(policy).includes('(subpath "/Users/dev/odd \\"name\\"\\\\dir")'));
});

Deno.test("sbplProfile() allows network only to the proxy port, and none without one", () => {
  assert.doesNotMatch(sbplProfile(policy), /network/);
  const profile = sbplProfile({ ...policy, network: ["api.example.com"] }, 41234);
  const network = profile.split("\n").filter((line) => line.includes("network"));
  assert.deepEqual(network, ['(allow network-outbound (remote ip "localhost:41234"))']);
});

Deno.test("SandboxExecBackend.available() is ok only on macOS", async () => {
  const availability = await new SandboxExecBackend().available();
  if (Deno.build.os === "darwin") return;
  assert.equal(availability.ok, false);
  assert.match(availability.reason ?? "", /macOS/);
  assert.match(availability.fix ?? "", /--no-sandbox/);
});
