/** Signing keys, signatures and their verification (src/core/sign.ts, src/store/trust.ts). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ValidationError } from "../../src/errors.ts";
import { KEY_FILES, loadSigningKey, signManifest, writeKeyPair } from "../../src/core/sign.ts";
import { keyIdOf, verifySignature } from "../../src/store/trust.ts";
import { which } from "../../src/_which.ts";
import { withTmpDir } from "../helpers/tmp.ts";

// Keys in RFC 8785 order, so that JSON.stringify() of it is its canonical form.
const manifest = { files: { "script.py": "sha256:00" }, fingerprint: "fp_" + "a".repeat(32) };

Deno.test("writeKeyPair() writes a 0600 PKCS#8 key that loadSigningKey() reads back", async () => {
  await using dir = await withTmpDir();
  const pair = await writeKeyPair(join(dir.path, "keys"));
  assert.equal((await Deno.stat(pair.private_key_path)).mode! & 0o777, 0o600);
  assert.equal(pair.key_id, await keyIdOf(pair.public_key));
  assert.match(pair.key_id, /^[0-9a-f]{16}$/);
  assert.equal(Uint8Array.fromBase64(pair.public_key).length, 32);
  const key = await loadSigningKey(pair.private_key_path);
  assert.equal(key.publicKey, pair.public_key);
  assert.equal(key.keyId, pair.key_id);
  assert.equal(
    (await Deno.readTextFile(join(dir.path, "keys", KEY_FILES.public))).trim(),
    pair.public_key,
  );
});

Deno.test("writeKeyPair() never overwrites an existing key", async () => {
  await using dir = await withTmpDir();
  const first = await writeKeyPair(dir.path);
  const before = await Deno.readTextFile(first.private_key_path);
  await assert.rejects(writeKeyPair(dir.path), ValidationError);
  assert.equal(await Deno.readTextFile(first.private_key_path), before);
  // Half a pair there (a team's public key kept beside; a private key whose public half moved):
  // refused, and nothing is added, so no private key is left without its public half.
  for (
    const [name, text] of [[KEY_FILES.public, "AAAA-the-team-key\n"], [KEY_FILES.private, "x"]]
  ) {
    await using half = await withTmpDir();
    await Deno.writeTextFile(join(half.path, name!), text!);
    await assert.rejects(writeKeyPair(half.path), ValidationError);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(half.path), (e) => e.name), [name]);
    assert.equal(await Deno.readTextFile(join(half.path, name!)), text);
  }
});

Deno.test("loadSigningKey() refuses a key readable by others, and a file that is not a key", async () => {
  await using dir = await withTmpDir();
  const pair = await writeKeyPair(dir.path);
  await Deno.chmod(pair.private_key_path, 0o644);
  await assert.rejects(loadSigningKey(pair.private_key_path), /other users may read it/);
  const junk = join(dir.path, "junk.pem");
  await Deno.writeTextFile(junk, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", {
    mode: 0o600,
  });
  await assert.rejects(loadSigningKey(junk), /not an Ed25519 private key/);
  // A file that is no key at all, readable by others: that it is no key is what is said (the
  // advice to chmod it would only mislead), and a FIFO is never read.
  const passwd = join(dir.path, "passwd");
  await Deno.writeTextFile(passwd, "root:x:0:0:root:/root:/bin/sh\n", { mode: 0o644 });
  await Deno.chmod(passwd, 0o644);
  await assert.rejects(loadSigningKey(passwd), /not an Ed25519 private key/);
  await assert.rejects(loadSigningKey(pair.public_key_path), /not an Ed25519 private key/);
  const fifo = join(dir.path, "fifo");
  await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
  await assert.rejects(loadSigningKey(fifo), /not a regular file/);
});

Deno.test("verifySignature() accepts the signer's signature and refuses every alteration", async () => {
  await using dir = await withTmpDir();
  const key = await loadSigningKey((await writeKeyPair(dir.path)).private_key_path);
  const other = await loadSigningKey((await writeKeyPair(join(dir.path, "b"))).private_key_path);
  const signature = await signManifest(manifest, key);
  assert.equal(signature.alg, "Ed25519");
  assert.equal(signature.key_id, key.keyId);
  assert.ok(await verifySignature(manifest, signature, key.publicKey));
  // The signature field itself and the integrity record are not signed.
  assert.ok(
    await verifySignature({ ...manifest, signature, integrity: {} }, signature, key.publicKey),
  );

  const changed = { ...manifest, files: { "script.py": "sha256:01" } };
  assert.equal(await verifySignature(changed, signature, key.publicKey), false, "changed field");
  assert.equal(await verifySignature({ ...manifest, x: 1 }, signature, key.publicKey), false);
  assert.equal(await verifySignature(manifest, signature, other.publicKey), false, "other key");
  const truncated = { ...signature, value: signature.value.slice(0, -8) };
  assert.equal(await verifySignature(manifest, truncated, key.publicKey), false, "truncated");
  const flipped = Uint8Array.fromBase64(signature.value);
  flipped[0]! ^= 1;
  assert.equal(
    await verifySignature(manifest, { ...signature, value: flipped.toBase64() }, key.publicKey),
    false,
  );
  for (
    const bad of [
      null,
      "ed25519:AAAA",
      { ...signature, alg: "RS256" },
      { ...signature, key_id: other.keyId },
      { ...signature, extra: 1 },
      { ...signature, value: signature.value.replace(/=*$/, "") }, // unpadded spelling
    ]
  ) {
    assert.equal(await verifySignature(manifest, bad, key.publicKey), false, JSON.stringify(bad));
  }
  assert.equal(await verifySignature(manifest, signature, "not base64!"), false);
});

Deno.test("signManifest() signs the canonical manifest as openssl verifies it", async () => {
  if (!await which("openssl")) {
    console.log("SKIP: openssl is not on PATH");
    return;
  }
  await using dir = await withTmpDir();
  const pair = await writeKeyPair(dir.path);
  const signature = await signManifest(manifest, await loadSigningKey(pair.private_key_path));
  const message = join(dir.path, "m.json");
  const sig = join(dir.path, "m.sig");
  const pub = join(dir.path, "pub.pem");
  await Deno.writeTextFile(message, JSON.stringify(manifest));
  await Deno.writeFile(sig, Uint8Array.fromBase64(signature.value));
  const run = (args: string[]) =>
    new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok((await run(["pkey", "-in", pair.private_key_path, "-pubout", "-out", pub])).success);
  const verified = await run([
    "pkeyutl",
    "-verify",
    "-pubin",
    "-inkey",
    pub,
    "-rawin",
    "-in",
    message,
    "-sigfile",
    sig,
  ]);
  assert.ok(verified.success, new TextDecoder().decode(verified.stderr));
});
