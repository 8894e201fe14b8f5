/**
 * The SDK as a program outside this repository uses it: `src/mod.ts` imported by path from a
 * folder of its own, without `--config`, under the permissions README's SDK section lists.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { platformBackend } from "../src/sandbox/mod.ts";
import { pidNamespace } from "../src/_fs.ts";
import { withTmpDir } from "./helpers/tmp.ts";

const MOD = new URL("../src/mod.ts", import.meta.url).href;
const MAIN = new URL("../main.ts", import.meta.url).href;
const backend = platformBackend();
const ignore = !(backend && (await backend.available()).ok);

/** README's narrowest set: everything but FFI and imports, `--allow-sys` for three names. */
const NARROW = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-net",
  "--allow-sys=osRelease,uid,gid",
];

const PROGRAM = `
import { Capibara } from ${JSON.stringify(MOD)};
import * as cli from ${JSON.stringify(MAIN)};
// Longer than the disk bound's first sample (100 ms): its look at /proc is taken under these
// permissions too.
const script = "sleep 0.25; echo '{\\"status\\":\\"ok\\",\\"artifacts\\":[],\\"output\\":{\\"v\\":1},\\"raw\\":{}}'\\n";
const bundle = {
  language: "bash", script, requirements: [], outputs: {}, aliases: {},
  needs: { network: [], env: [] }, readme: "",
};
const cb = new Capibara({
  root: Deno.cwd(),
  cacheDir: Deno.args[0],
  generator: { kind: "sdk-test", generate: () => Promise.resolve({ bundle, model: "m", attempts: 1 }) },
  warn: () => {},
});
const result = await cb.run("an sdk program outside the repository", { language: "bash" });
console.log(JSON.stringify({ output: result.output, cli: typeof cli }));
`;

async function runProgram(dir: string, flags: string[], env: Record<string, string> = {}) {
  await Deno.writeTextFile(join(dir, "program.ts"), PROGRAM);
  const out = await new Deno.Command(Deno.execPath(), {
    // No --config: bare specifiers would not resolve from here.
    args: ["run", "--no-prompt", "--quiet", ...flags, "program.ts", join(dir, "cache")],
    cwd: dir,
    env,
    // The parent's environment (Deno's cache, certificates, proxies), as a user's shell has it.
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: "src/mod.ts imports from another folder without --config and runs with -A",
  ignore,
  async fn() {
    await using tmp = await withTmpDir("capibara_sdk_");
    const r = await runProgram(tmp.path, ["-A"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").at(-1)!), {
      output: { v: 1 },
      cli: "object",
    });
  },
});

Deno.test({
  name: "src/mod.ts runs a script under README's narrowest permissions, and not without them",
  ignore,
  async fn() {
    await using tmp = await withTmpDir("capibara_sdk_");
    const r = await runProgram(tmp.path, NARROW);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").at(-1)!).output, { v: 1 });
    // Each flag is needed: without the uid, the sandbox cannot be planned.
    const fewer = await runProgram(tmp.path, NARROW.filter((f) => !f.startsWith("--allow-sys")));
    assert.notEqual(fewer.code, 0);
    assert.match(fewer.stderr, /NotCapable: Requires sys access/);
  },
});

Deno.test({
  name: "under README's narrowest permissions, a run never sweeps another live run's folders",
  ignore,
  async fn() {
    await using tmp = await withTmpDir("capibara_sdk_");
    // A temp dir a root run's uid may pass through, so that the state dirs are made (and swept)
    // there, beside a live run's: this process's, which cannot look at /proc without --allow-all.
    await Deno.chmod(tmp.path, 0o711);
    const tmpDir = join(tmp.path, "tmp");
    await Deno.mkdir(tmpDir, { mode: 0o711 });
    await Deno.chmod(tmpDir, 0o711);
    const runDir = join(tmpDir, `capibara-run-${crypto.randomUUID()}`);
    await Deno.mkdir(runDir, { mode: 0o700 });
    // Named in this process's pid namespace, and in the one a program that may not read /proc
    // takes for its own ("0").
    const stateDirs = [pidNamespace(), "0"].map((ns) =>
      join(tmpDir, `capibara-sbx-${Deno.pid}-ns${ns}-0123456789abcdef`)
    );
    for (const stateDir of stateDirs) {
      await Deno.mkdir(stateDir, { mode: 0o700 });
      await Deno.chmod(stateDir, 0o700);
      const journal = join(stateDir, "undo.json");
      await Deno.writeTextFile(journal, JSON.stringify({ tmpDir: runDir, lent: [] }), {
        mode: 0o600,
      });
      await Deno.chmod(journal, 0o600);
    }
    const r = await runProgram(tmp.path, NARROW, { TMPDIR: tmpDir });
    assert.equal(r.code, 0, r.stderr);
    // This process runs: its run's folders stay (the program could not tell, so it kept them).
    assert.ok((await Deno.stat(runDir)).isDirectory, "a live run's temp dir was swept");
    for (const stateDir of stateDirs) {
      assert.ok((await Deno.stat(stateDir)).isDirectory, "a live run's state dir was swept");
    }
  },
});

Deno.test("the SDK run from a folder since removed says so (a ValidationError), not NotFound", async () => {
  await using tmp = await withTmpDir("capibara_sdk_");
  const program = join(tmp.path, "gone.ts");
  await Deno.writeTextFile(
    program,
    `import { Capibara, ValidationError } from ${JSON.stringify(MOD)};
const gone = Deno.makeTempDirSync();
Deno.chdir(gone);
Deno.removeSync(gone);
const error = await new Capibara({ warn: () => {} }).run("anything").catch((e) => e);
console.log(JSON.stringify({ typed: error instanceof ValidationError, message: String(error?.message) }));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", program],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const result = JSON.parse(text.trim().split("\n").at(-1) ?? "{}");
  assert.equal(result.typed, true, text + new TextDecoder().decode(out.stderr));
  assert.match(result.message, /current directory cannot be read/);
});
