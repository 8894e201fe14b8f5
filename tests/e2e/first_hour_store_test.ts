/**
 * The first hour through the real CLI, the store: `accept` of a hand edit, `--dry-run`, `list`
 * and `show` by prompt, `--mode parametric`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { CLI, cliEnv, runCli } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { forge } from "../store/_fixture.ts";
import { CONTEXT, examplesIn, PROMPT } from "../helpers/runner.ts";
import { envFor, type ErrorDoc, OS_SANDBOX } from "./_first_hour.ts";

Deno.test({
  name: "capibara accept keeps a reviewed hand edit as a new revision; --refresh needs --force",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    const args = ["run", "Echo the context back", "--context", '{"n": 1}', "--json"];
    const first = await runCli(args, { cwd: tmp.path, env });
    assert.equal(first.code, 0, first.stderr);
    const fp = (first.json as { fingerprint: string }).fingerprint;
    const dir = join(tmp.path, ".capibara", "scripts", fp);
    const scriptPath = join(dir, "script.py");
    const original = await Deno.readTextFile(scriptPath);
    const edit = (from: string, to: string) => {
      assert.ok(original.includes(from), from);
      return Deno.writeTextFile(scriptPath, original.replace(from, to));
    };
    await edit('return {"output": {"context": ctx}}', 'return {"output": {"edited": True}}');

    const refused = await runCli(args, { cwd: tmp.path, env });
    assert.equal(refused.code, 8, refused.stdout);
    assert.match((refused.json as ErrorDoc).error.hint, new RegExp(`capibara accept ${fp}`));
    // --refresh does not overwrite the edit without --force.
    const refresh = await runCli([...args, "--refresh"], { cwd: tmp.path, env });
    assert.equal(refresh.code, 8, refresh.stdout);
    assert.match((refresh.json as ErrorDoc).error.hint, /capibara accept .*--force/);
    assert.equal(llm.requests, 1);
    assert.match(await Deno.readTextFile(scriptPath), /"edited": True/);

    const accepted = await runCli(["accept", fp.slice(0, 10), "--json"], { cwd: tmp.path, env });
    assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
    const { asks, ...outcome } = accepted.json as { asks: { needs: unknown } };
    assert.deepEqual(outcome, {
      fingerprint: fp,
      accepted: true,
      revision: 2,
      changed: ["script.py"],
      dropped: [],
      revised: true,
    });
    // What the accepted revision asks for is part of what is accepted, and said.
    assert.deepEqual(asks.needs, { network: [], env: [] });
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, "manifest.json")));
    assert.equal(manifest.revision, 2);
    assert.deepEqual(
      manifest.history.map((h: { reason: string }) => h.reason),
      ["generated", "edited by hand"],
    );
    const after = await runCli(args, { cwd: tmp.path, env });
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.deepEqual((after.json as { output: unknown }).output, { edited: true });
    assert.equal((await runCli(["verify"], { cwd: tmp.path, env })).code, 0);

    // An edit that fails the static checks, or whose self-test fails, is not accepted.
    await edit("import argparse\n", "import argparse\nimport subprocess\nsubprocess.run(['id'])\n");
    const unsafe = await runCli(["accept", fp, "--json"], { cwd: tmp.path, env });
    assert.equal(unsafe.code, 6, unsafe.stdout + unsafe.stderr);
    await edit('emit("ok", output={"selftest": True})', "raise SystemExit(3)");
    const broken = await runCli(["accept", fp, "--json"], { cwd: tmp.path, env });
    assert.equal(broken.code, 5, broken.stdout + broken.stderr);
    assert.match((broken.json as ErrorDoc).error.message, /--selftest exited with code 3/);
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "manifest.json"))).revision, 2);

    // --refresh --force regenerates over the edit.
    const forced = await runCli([...args, "--refresh", "--force"], { cwd: tmp.path, env });
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.equal(llm.requests, 2);
    assert.equal(await Deno.readTextFile(scriptPath), original);

    // So does a manifest that cannot even be read, as the error's hint says.
    await Deno.writeTextFile(join(dir, "manifest.json"), '{"fingerprint": ');
    const unreadable = await runCli(args, { cwd: tmp.path, env });
    assert.equal(unreadable.code, 8, unreadable.stdout + unreadable.stderr);
    assert.match((unreadable.json as ErrorDoc).error.hint, /--refresh --force/);
    const replaced = await runCli([...args, "--refresh", "--force", "--dry-run"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(replaced.code, 0, replaced.stdout + replaced.stderr);
    assert.equal(llm.requests, 3);
    assert.equal((await runCli(["verify", fp], { cwd: tmp.path, env })).code, 0);
  },
});

Deno.test({
  name: "capibara run --dry-run stores without running; a miss says where and to review it",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const body = 'raise RuntimeError("ran")';
    await using llm = startFakeLLM({ replies: [bundleReply({ body })] });
    const env = envFor(llm.url);
    const dry = await runCli(["run", "Fail when run", "--dry-run"], { cwd: tmp.path, env });
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    const fp = dry.stdout.match(/fp_[0-9a-f]{32}/)![0];
    assert.match(dry.stdout, /\(generated, not run: --dry-run, /);
    // The first write outside a git repository says where the store went.
    const base = join(await Deno.realPath(tmp.path), ".capibara");
    assert.ok(
      dry.stdout.includes(`created the store ${base} in the current folder: no git repository`),
      dry.stdout,
    );
    assert.match(dry.stdout, new RegExp(`stored in \\.capibara/scripts/${fp}/`));
    assert.match(dry.stdout, new RegExp(`review it \\(capibara show ${fp} --script\\) and commit`));
    const script = await runCli(["show", fp, "--script"], { cwd: tmp.path, env });
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /raise RuntimeError\("ran"\)/);
    // Run for real, the script fails: the dry run did not run it.
    const real = await runCli(["run", "Fail when run"], { cwd: tmp.path, env });
    assert.equal(real.code, 5, real.stdout + real.stderr);
    assert.equal(llm.requests, 1);
  },
});

Deno.test({
  name: "capibara list tells entries of one prompt apart; show finds a script by its prompt",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    for (const n of [1, 2]) {
      const r = await runCli(["run", "Echo the number", "-c", `{"n": ${n}}`], {
        cwd: tmp.path,
        env,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const list = await runCli(["list"], { cwd: tmp.path, env });
    assert.equal(list.code, 0, list.stderr);
    const scripts = await Deno.realPath(join(tmp.path, ".capibara", "scripts"));
    assert.equal(list.stdout.split("\n")[0], `${scripts}:`);
    assert.match(list.stdout, /python {5}r1 .*Echo the number {2}\[n=1\]/);
    assert.match(list.stdout, /Echo the number {2}\[n=2\]/);
    const ambiguous = await runCli(["show", "echo the"], { cwd: tmp.path, env });
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /matches 2 cached scripts/);
    const other = await runCli(["run", "Reverse the words", "--dry-run"], { cwd: tmp.path, env });
    assert.equal(other.code, 0, other.stderr);
    const show = await runCli(["show", "reverse"], { cwd: tmp.path, env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /prompt: {5}Reverse the words/);
    // Words of the prompt need no quotes.
    const unquoted = await runCli(["show", "reverse", "the"], { cwd: tmp.path, env });
    assert.equal(unquoted.code, 0, unquoted.stderr);
    assert.match(unquoted.stdout, /prompt: {5}Reverse the words/);
  },
});

Deno.test({
  name: "capibara run --mode parametric reuses a script across values; a strict miss says why",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply()] });
    const env = envFor(llm.url);
    const run = (n: number, ...extra: string[]) =>
      runCli(["run", "Echo the count", "-c", `{"n": ${n}, "unit": "kg"}`, ...extra], {
        cwd: tmp.path,
        env,
      });
    assert.equal((await run(1)).code, 0);
    const second = await run(2);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /note: fp_[0-9a-f]{32} has the same prompt \(python\); the context differs in: n \(--mode parametric/,
    );
    assert.equal(llm.requests, 2);
    // A third context: one note naming both, not a note per entry.
    const third = await run(5);
    assert.equal(third.code, 0, third.stderr);
    const notes = third.stdout.split("\n").filter((l) => l.startsWith("note: "));
    assert.equal(notes.length, 1, third.stdout);
    assert.match(
      notes[0]!,
      /^note: 2 cached scripts have the same prompt: fp_\w+ \(python; differs in: n\), fp_\w+ /,
    );
    const p1 = await run(3, "--mode", "parametric", "--json");
    assert.equal(p1.code, 0, p1.stderr);
    const p2 = await run(4, "--mode", "parametric", "--json");
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal((p2.json as { cached: boolean }).cached, true);
    assert.deepEqual((p2.json as { output: unknown }).output, { context: { n: 4, unit: "kg" } });
    assert.equal(llm.requests, 4);
  },
});

Deno.test({
  name:
    "clear and sign in a project whose store cannot be changed: a PermissionError (exit 7), no stack trace",
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply({ body: 'return {"output": {}}' })] });
    const made = await runCli(["run", "Count the rows", "--dry-run", "--json"], {
      cwd: tmp.path,
      env: envFor(llm.url),
    });
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const fp = (made.json as { fingerprint: string }).fingerprint;
    const keys = join(tmp.path, "keys");
    const keygen = await runCli(["keygen", "--out", keys, "--json"], { cwd: tmp.path });
    assert.equal(keygen.code, 0, keygen.stdout + keygen.stderr);
    const key = join(keys, "capibara_signing_key.pem");
    const store = join(tmp.path, ".capibara");
    const folders = [store, join(store, "scripts")];
    // Immutable folders: nothing may be made or removed in them, not even by root.
    const locked = await new Deno.Command("chattr", { args: ["+i", ...folders] }).output()
      .catch(() => undefined);
    if (!locked?.success) {
      console.warn("first_hour_store_test: chattr +i is not available here; not tried");
      return;
    }
    try {
      for (const args of [["clear", "--yes", fp], ["sign", fp, "--key", key]]) {
        const result = await runCli([...args, "--json"], { cwd: tmp.path, env: envFor(llm.url) });
        assert.equal(result.code, 7, `${args[0]}: ${result.stdout}${result.stderr}`);
        const doc = JSON.parse(result.stdout) as ErrorDoc;
        assert.equal(doc.error.type, "PermissionError", args[0]);
        assert.match(doc.error.message, /cannot be written by this user/);
      }
    } finally {
      await new Deno.Command("chattr", { args: ["-i", ...folders] }).output();
    }
    assert.ok((await Deno.lstat(join(store, "scripts", fp))).isDirectory, "the entry is kept");
  },
});

Deno.test({
  name:
    "a miss in a project whose store cannot be written: a PermissionError before the model is asked, no stack trace",
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({ replies: [bundleReply({ body: 'return {"output": {}}' })] });
    // An immutable folder: nothing may be made in it, not even by root (ext4 and its kin).
    const locked = await new Deno.Command("chattr", { args: ["+i", tmp.path] }).output()
      .catch(() => undefined);
    if (!locked?.success) {
      console.warn("first_hour_store_test: chattr +i is not available here; not tried");
      return;
    }
    try {
      const result = await runCli(["run", "Count the rows", "--json"], {
        cwd: tmp.path,
        env: envFor(llm.url),
      });
      assert.equal(result.code, 7, result.stdout + result.stderr);
      const doc = JSON.parse(result.stdout) as ErrorDoc;
      assert.equal(doc.error.type, "PermissionError");
      assert.match(doc.error.message, /Cannot store scripts in/);
      assert.equal(llm.requests, 0, "the model was asked for a script that could not be stored");
    } finally {
      await new Deno.Command("chattr", { args: ["-i", tmp.path] }).output();
    }
    // A store whose scripts/ folder cannot take an entry (where it is renamed to in the end).
    const scripts = join(tmp.path, ".capibara", "scripts");
    await Deno.mkdir(scripts, { recursive: true });
    await new Deno.Command("chattr", { args: ["+i", scripts] }).output();
    try {
      const result = await runCli(["run", "Count the rows", "--json"], {
        cwd: tmp.path,
        env: envFor(llm.url),
      });
      assert.equal(result.code, 7, result.stdout + result.stderr);
      assert.match((JSON.parse(result.stdout) as ErrorDoc).error.message, /scripts/);
      assert.equal(llm.requests, 0, "the model was asked for a script that could not be stored");
    } finally {
      await new Deno.Command("chattr", { args: ["-i", scripts] }).output();
    }
  },
});

Deno.test({
  name:
    "a run whose output folder cannot be written: a PermissionError before the script runs, not once its work is done",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({
        body: 'print("the script ran", file=__import__("sys").stderr)\n' +
          'with open(ctx["output"], "w") as fh:\n    fh.write("{}")\n' +
          'return {"output": {}, "artifacts": [ctx["output"]]}',
      })],
    });
    const out = join(tmp.path, "out");
    await Deno.mkdir(out);
    // An immutable folder: nothing may be made in it, not even by root (ext4 and its kin).
    const locked = await new Deno.Command("chattr", { args: ["+i", out] }).output()
      .catch(() => undefined);
    if (!locked?.success) {
      console.warn("first_hour_store_test: chattr +i is not available here; not tried");
      return;
    }
    const args = [
      "run",
      "Write an empty report",
      "--context",
      '{"output": "out/r.json"}',
      "--json",
    ];
    try {
      const result = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
      assert.equal(result.code, 7, result.stdout + result.stderr);
      const doc = JSON.parse(result.stdout) as ErrorDoc;
      assert.equal(doc.error.type, "PermissionError");
      assert.match(doc.error.message, /Cannot write the outputs into "out"/);
      assert.doesNotMatch(result.stderr, /the script ran/);
      // Found before the model was asked for a script it could not use.
      assert.equal(llm.requests, 0);
      // A folder still to be made below it: the same, never "remove what is in its way".
      const below = await runCli(
        ["run", "Write an empty report", "--context", '{"output": "out/x/r.json"}', "--json"],
        { cwd: tmp.path, env: envFor(llm.url) },
      );
      assert.equal(below.code, 7, below.stdout + below.stderr);
      assert.match(
        (JSON.parse(below.stdout) as ErrorDoc).error.message,
        /Cannot write the outputs into "out\/x".*\(in "out"\)/,
      );
    } finally {
      await new Deno.Command("chattr", { args: ["-i", out] }).output();
    }
    // Writable again: the stored script runs, and its output lands.
    const again = await runCli(args, { cwd: tmp.path, env: envFor(llm.url) });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(await Deno.readTextFile(join(out, "r.json")), "{}");
    assert.equal(llm.requests, 1);
  },
});

Deno.test({
  name:
    "a cached entry in the folder of another request (a parametric one's, whose fingerprint is not checked) never runs for it",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [
        bundleReply({ body: 'return {"output": {"who": "planted"}}' }),
        bundleReply({ body: 'return {"output": {"who": "the request\'s own"}}' }),
      ],
    });
    const env = envFor(llm.url);
    const planted = await runCli(
      ["run", "Say hello", "-c", '{"n": 1}', "--mode", "parametric", "--json"],
      { cwd: tmp.path, env },
    );
    assert.equal(planted.code, 0, planted.stderr);
    const target = ["run", "Count the lines", "-c", '{"n": 1}', "--json"];
    const own = await runCli(target, { cwd: tmp.path, env });
    assert.equal(own.code, 0, own.stderr);
    // The repository brings the parametric entry in the strict request's folder.
    const scripts = join(tmp.path, ".capibara", "scripts");
    const folder = (doc: unknown) => join(scripts, (doc as { fingerprint: string }).fingerprint);
    // Its manifest names the folder it was moved to, and its integrity record is made anew: a
    // repository's author can do both; only what the manifest says it answers tells.
    await Deno.remove(folder(own.json), { recursive: true });
    await Deno.rename(folder(planted.json), folder(own.json));
    await forge(folder(own.json), (manifest) => {
      manifest.fingerprint = (own.json as { fingerprint: string }).fingerprint;
    });
    const result = await runCli(target, { cwd: tmp.path, env });
    assert.equal(result.code, 8, result.stdout + result.stderr);
    const doc = JSON.parse(result.stdout) as ErrorDoc;
    assert.equal(doc.error.type, "IntegrityError");
    assert.match(doc.error.message, /the entry of another request \(.*prompt_sha differs/);
    assert.doesNotMatch(result.stdout, /planted/);
  },
});

Deno.test({
  name:
    "a script that reads a project file its context does not name fails with a hint naming it (never a hidden one)",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({
        body: 'open(".env").close() if False else None\n' +
          "import sys\nprint(\"No such file or directory: '.env'\", file=sys.stderr)\n" +
          'print("No such file or directory: \'id_" + "rsa\'", file=sys.stderr)\n' +
          "print(\"No such file or directory: 'notes.txt'\", file=sys.stderr)\n" +
          'with open("data/extra.json") as fh:\n    fh.read()\nreturn {"output": {}}',
      })],
    });
    await Deno.mkdir(join(tmp.path, "data"));
    await Deno.writeTextFile(join(tmp.path, "data", "in.csv"), "a\n1\n");
    await Deno.writeTextFile(join(tmp.path, "data", "extra.json"), "{}");
    await Deno.writeTextFile(join(tmp.path, ".env"), "TOKEN=x");
    // What a script's errors may name but a hint never suggests granting: a key, a link to .env.
    await Deno.writeTextFile(join(tmp.path, "id_rsa"), "KEY");
    await Deno.symlink(".env", join(tmp.path, "notes.txt"));
    const result = await runCli(
      ["run", "Sum the column", "--context", '{"input": "data/in.csv"}', "--json"],
      { cwd: tmp.path, env: envFor(llm.url) },
    );
    assert.equal(result.code, 5, result.stdout + result.stderr);
    const doc = JSON.parse(result.stdout) as ErrorDoc & {
      error: { details: { not_given?: string[] } };
    };
    assert.deepEqual(doc.error.details.not_given, ["data/extra.json"], result.stdout);
    assert.match(doc.error.hint, /errors name "data\/extra\.json".*--allow-read data\/extra\.json/);
    assert.doesNotMatch(doc.error.hint, /\.env/);
  },
});

Deno.test({
  name:
    "a script whose granted host cannot be reached fails with a hint on the proxy, not on regenerating it",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using llm = startFakeLLM({
      replies: [bundleReply({
        body: 'import urllib.request\nurllib.request.urlopen("https://nowhere.example.test/", ' +
          'timeout=10).read()\nreturn {"output": {}}',
        needs: { network: ["nowhere.example.test"] },
      })],
    });
    const result = await runCli(
      ["run", "Fetch the page", "--allow-net", "nowhere.example.test", "--json"],
      { cwd: tmp.path, env: envFor(llm.url) },
    );
    assert.equal(result.code, 5, result.stdout + result.stderr);
    const doc = JSON.parse(result.stdout) as ErrorDoc;
    assert.match(doc.error.hint, /failed at Capibara's proxy: the host could not be resolved/);
    assert.doesNotMatch(doc.error.hint, /--refresh/);
  },
});

Deno.test("a store that is no folder is named (exit 8); clear removes broken entries", async () => {
  await using tmp = await withTmpDir();
  const env = { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") };
  const cli = (...args: string[]) => runCli([...args, "--json"], { cwd: tmp.path, env });
  // A repository that commits .capibara as a file: every command says so, none crashes.
  await Deno.writeTextFile(join(tmp.path, ".capibara"), "not a folder\n");
  for (const args of [["list"], ["verify"], ["show", "fp_ab"], ["clear", "--yes"], ["rekey"]]) {
    const result = await cli(...args);
    assert.equal(result.code, 8, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    const error = (result.json as ErrorDoc).error;
    assert.equal(error.type, "IntegrityError", args.join(" "));
    assert.match(error.message, /\.capibara is not a folder/);
  }
  // Broken entries: an unreadable manifest, a file in an entry's place. verify names them, and
  // clear removes them (it skipped both before).
  await Deno.remove(join(tmp.path, ".capibara"));
  const scripts = join(tmp.path, ".capibara", "scripts");
  const unreadable = "fp_" + "2".repeat(32);
  const file = "fp_" + "1".repeat(32);
  await Deno.mkdir(join(scripts, unreadable), { recursive: true });
  await Deno.writeTextFile(join(scripts, unreadable, "manifest.json"), "{bad");
  await Deno.writeTextFile(join(scripts, file), "x");
  assert.equal((await cli("verify")).code, 8);
  // Its hint never offers `accept`, which keeps no manifest.
  const shown = await cli("show", unreadable);
  assert.equal(shown.code, 8, shown.stdout + shown.stderr);
  const hint = (shown.json as ErrorDoc).error.hint;
  assert.match(hint, /manifest\.json is the store's and cannot be accepted/);
  assert.doesNotMatch(hint, /capibara accept/);
  const one = await cli("clear", file.slice(0, 8), "--yes");
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.deepEqual(one.json, { removed: [file] });
  const all = await cli("clear", "--yes");
  assert.equal(all.code, 0, all.stdout + all.stderr);
  assert.deepEqual(all.json, { removed: [unreadable] });
  assert.equal((await cli("verify")).code, 0);
});

Deno.test("--context @- from a folder or a descriptor not open for reading is a ValidationError", async () => {
  await using tmp = await withTmpDir();
  for (const redirect of ["< /", `0> ${join(tmp.path, "written")}`]) {
    const shell = await new Deno.Command("sh", {
      args: [
        "-c",
        `exec "$0" run -A --quiet "$1" run "Echo it" --context @- --json ${redirect}`,
        Deno.execPath(),
        CLI,
      ],
      cwd: tmp.path,
      clearEnv: true,
      env: cliEnv({ CAPIBARA_CACHE_DIR: join(tmp.path, "cache") }),
    }).output();
    const stdout = new TextDecoder().decode(shell.stdout);
    assert.equal(shell.code, 2, stdout + new TextDecoder().decode(shell.stderr));
    const error = (JSON.parse(stdout) as ErrorDoc).error;
    assert.equal(error.type, "ValidationError");
    assert.match(error.message, /standard input/);
  }
});

Deno.test("a hint's commands carry the --root the command was given, and git's path works from anywhere", async () => {
  await using tmp = await withTmpDir();
  const work = await examplesIn(tmp.path);
  // The committed Python example, its README edited; run from another folder that has its input.
  const fp = "fp_91827e3d1a1737c6c7e51d614b21a457";
  await Deno.writeTextFile(join(work, ".capibara", "scripts", fp, "README.md"), "edited\n");
  await Deno.mkdir(join(tmp.path, "data"));
  await Deno.copyFile(join(work, "data", "sales.csv"), join(tmp.path, "data", "sales.csv"));
  const run = await runCli(["run", PROMPT, "--context", CONTEXT, "--root", work, "--json"], {
    cwd: tmp.path,
    env: { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") },
  });
  assert.equal(run.code, 8, run.stdout + run.stderr);
  // Without --root, its commands would act on the current folder's store, or find nothing.
  const hint = (run.json as ErrorDoc).error.hint;
  assert.ok(hint.includes(`capibara clear ${fp}`), hint);
  assert.ok(
    hint.endsWith(`(give each capibara command here --root ${work}, as this one had)`),
    hint,
  );
  assert.ok(hint.includes(`git -C ${work} checkout -- .capibara/scripts/${fp}`), hint);
});

Deno.test("a --root whose name holds a command is never spliced into a hint's quoted paths", async () => {
  await using tmp = await withTmpDir();
  const root = join(tmp.path, "p capibara list $(touch PWNED)");
  await Deno.mkdir(root);
  await Deno.rename(await examplesIn(tmp.path), join(root, "work"));
  const work = join(root, "work");
  const fp = "fp_91827e3d1a1737c6c7e51d614b21a457";
  await Deno.writeTextFile(join(work, ".capibara", "scripts", fp, "README.md"), "edited\n");
  const run = await runCli(["run", PROMPT, "--context", CONTEXT, "--root", work, "--json"], {
    cwd: work,
    env: { CAPIBARA_CACHE_DIR: join(tmp.path, "cache") },
  });
  assert.equal(run.code, 8, run.stdout + run.stderr);
  const hint = (run.json as ErrorDoc).error.hint;
  // Each of its shell words, as a shell reads them: the git command's stays one quoted path.
  const quoted = `'${work}'`;
  assert.ok(hint.includes(`git -C ${quoted} checkout -- .capibara/scripts/${fp}`), hint);
  const sh = await new Deno.Command("sh", {
    args: [
      "-c",
      `set -- ${hint.slice(hint.indexOf("git -C"), hint.indexOf(" checkout"))}; echo "$3"`,
    ],
    cwd: tmp.path,
  }).output();
  assert.equal(new TextDecoder().decode(sh.stdout).trim(), work);
  assert.equal(await Deno.stat(join(tmp.path, "PWNED")).catch(() => null), null);
});
