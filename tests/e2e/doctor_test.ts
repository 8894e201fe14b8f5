/**
 * `capibara doctor` with a team's Core, and the Core errors a newcomer meets first, through the
 * real CLI against a real `capibara serve` on loopback (one Core for every step).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeKeyPair } from "../../src/core/sign.ts";
import { cliEnv, runCli } from "../helpers/cli.ts";
import { startCore } from "../helpers/core.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const FULL = "doctor-full-token-0123456789";
const READER = "doctor-read-token-0123456789";
const GEN_ONLY = "doctor-gen-token-01234567890";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  rights?: string[];
  warning?: boolean;
  policy?: { required: boolean; source: string; key_ids: string[] };
}
interface Doctor {
  ok: boolean;
  checks: Check[];
}
interface ErrorDoc {
  error: { type: string; message: string; hint: string };
}

Deno.test("capibara doctor checks the Core, its token's rights and the signature policy", async (t) => {
  await using tmp = await withTmpDir();
  await using core = await startCore(tmp.path, {
    [FULL]: "read,gen,publish",
    [READER]: "read",
    [GEN_ONLY]: "gen",
  });
  const env = (extra: Record<string, string>) => ({ CAPIBARA_CACHE_DIR: tmp.path, ...extra });
  const doctor = async (extra: Record<string, string>) => {
    const r = await runCli(["doctor", "--json"], { cwd: tmp.path, env: env(extra) });
    const doc = r.json as Doctor;
    assert.ok(doc, r.stdout + r.stderr);
    const check = (name: string) => doc.checks.find((c) => c.name === name);
    return { code: r.code, doc, check };
  };
  const withCore = (token?: string, url = core.url) => ({
    CAPIBARA_CORE_URL: url,
    ...(token ? { CAPIBARA_CORE_TOKEN: token } : {}),
  });

  await t.step("a working Core and token: exit 0, rights listed, no 'not configured'", async () => {
    const [full, reader] = await Promise.all([
      doctor(withCore(FULL)),
      doctor(withCore(READER)),
    ]);
    assert.equal(full.code, 0, JSON.stringify(full.doc));
    assert.equal(full.doc.ok, true);
    assert.equal(full.check("core")?.ok, true);
    assert.deepEqual(full.check("core token")?.rights, ["read", "gen", "publish"]);
    assert.doesNotMatch(full.check("generator")!.detail, /not configured/);
    assert.match(full.check("generator")!.detail, /Core/);
    assert.equal(full.check("generator")!.warning, undefined);
    // A read-only token (CI's) works: a miss the Core has not stored fails, and it says so.
    assert.equal(reader.code, 0, JSON.stringify(reader.doc));
    assert.deepEqual(reader.check("core token")?.rights, ["read"]);
    assert.match(reader.check("core token")!.detail, /not gen, publish/);
  });

  await t.step(
    "no token, a wrong one, one without read, an unreachable Core: non-zero",
    async () => {
      const closed = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        () => new Response("<html>not a Core</html>", { status: 404 }),
      );
      const notCore = `http://127.0.0.1:${closed.addr.port}`;
      const [none, wrong, genOnly, html, remote] = await Promise.all([
        doctor(withCore()),
        doctor(withCore("doctor-wrong-token-0123456789")),
        doctor(withCore(GEN_ONLY)),
        doctor(withCore(FULL, notCore)),
        doctor(withCore(FULL, "http://core.example.com:8787")),
      ]);
      await closed.shutdown();
      assert.equal(none.code, 7);
      assert.match(none.check("core token")!.detail, /no token/);
      assert.match(none.check("core token")!.fix!, /CAPIBARA_CORE_TOKEN/);
      assert.equal(wrong.code, 7);
      assert.match(wrong.check("core token")!.detail, /refused the token \(HTTP 401\)/);
      assert.equal(genOnly.code, 7);
      assert.deepEqual(genOnly.check("core token")?.rights, ["gen"]);
      assert.equal(html.code, 4);
      assert.match(html.check("core")!.detail, /not a Capibara Core.*HTTP 404/);
      // Plain http to a remote host is refused before anything is sent.
      assert.equal(remote.code, 2);
      assert.match(remote.check("core")!.detail, /plain http:\/\/ is only allowed to a loopback/);
      for (const r of [none, wrong, genOnly, html, remote]) {
        assert.equal(r.doc.ok, false);
      }
    },
  );

  await t.step("the signature policy in force: by whom, and which keys", async () => {
    const key = await writeKeyPair(`${tmp.path}/machine-key`);
    const [off, machine] = await Promise.all([
      doctor({}),
      doctor({ CAPIBARA_REQUIRE_SIGNATURE: "1", CAPIBARA_TRUSTED_KEYS: key.public_key }),
    ]);
    assert.equal(off.code, 0);
    assert.deepEqual(off.check("signatures")?.policy, {
      required: false,
      source: "project",
      key_ids: [],
    });
    assert.deepEqual(machine.check("signatures")?.policy, {
      required: true,
      source: "machine",
      key_ids: [key.key_id],
    });
    assert.match(machine.check("signatures")!.detail, /CAPIBARA_REQUIRE_SIGNATURE/);
    // Without a generator or a Core, doctor warns and passes: a fresh machine runs cached scripts.
    assert.match(off.check("generator")!.detail, /not configured/);
    assert.equal(off.check("generator")!.warning, true);
  });

  await t.step("capibara run's first Core errors name what to fix", async () => {
    const run = (extra: Record<string, string>) =>
      runCli(["run", "Say hi", "--json"], { cwd: tmp.path, env: env(extra) });
    const [noScheme, withPath, readOnly] = await Promise.all([
      run(withCore(FULL, core.url.replace("http://", ""))),
      run(withCore(FULL, `${core.url}/v1`)),
      run(withCore(READER)),
    ]);
    assert.equal(noScheme.code, 2);
    assert.match((noScheme.json as ErrorDoc).error.hint, new RegExp(`Did you mean ${core.url}\\?`));
    assert.equal(withPath.code, 4);
    assert.match((withPath.json as ErrorDoc).error.hint, /base URL .*without \/v1/);
    // A read-only token (CI's) on a request the Core has not stored: what to do about it.
    assert.equal(readOnly.code, 7);
    assert.match(
      (readOnly.json as ErrorDoc).error.hint,
      /Without the "gen" right .* already stores/,
    );
  });
});

Deno.test("capibara doctor lists a setting that stops every run as a failed check among the others, with its exit code", async () => {
  await using tmp = await withTmpDir();
  const file = join(tmp.path, "not-a-folder");
  await Deno.writeTextFile(file, "");
  const r = await runCli(["doctor", "--json"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: file },
  });
  assert.equal(r.code, 7, r.stdout + r.stderr);
  const doc = r.json as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.checks.map((c) => c.name).slice(0, 3), ["deno", "python3", "bash"]);
  const failed = doc.checks.find((c) => !c.ok);
  assert.equal(failed?.name, "configuration");
  assert.match(failed!.detail, /Cannot use the cache folder/);
});

// `sh`, `env` and the launcher `deno install` writes take a PATH entry that is not absolute from
// the current folder: a cloned repository holding `~/.local/bin/deno` ran in place of deno.
Deno.test("capibara doctor warns of PATH entries that are not absolute, and only of them", async () => {
  await using tmp = await withTmpDir();
  const doctor = async (path: string) => {
    const r = await runCli(["doctor", "--json"], { cwd: tmp.path, env: { PATH: path } });
    const doc = r.json as Doctor;
    return doc.checks.find((check) => check.name === "PATH");
  };
  const real = cliEnv().PATH!;
  const warned = await doctor(`~/.local/bin:${real}:node_modules/.bin`);
  assert.equal(warned?.ok, true);
  assert.equal(warned?.warning, true);
  assert.match(warned!.detail, /"~\/\.local\/bin", "node_modules\/\.bin"/);
  assert.match(warned!.fix!, /\$HOME\/\.local\/bin/);
  assert.equal(await doctor(real), undefined);
});
