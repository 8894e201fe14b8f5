/**
 * A Python environment being built when the command is interrupted:
 *
 * 1. Ctrl-C while pip installs ends the command at once (130, `Interrupted`), pip with it, where
 *    it had waited for pip (up to the install's 30-minute limit). Here the index answers after
 *    20 s.
 * 2. SIGKILL while pip installs: the install's temp folder (pip's downloads and unpacked builds)
 *    is removed by the next run's sweep, as a killed run's is, and the next run builds the
 *    environment and succeeds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleReply, startFakeLLM } from "../helpers/fake_llm.ts";
import { CLI, cliEnv, fakeServerEnv, OS_SANDBOX, runCli, testCache } from "../helpers/cli.ts";
import { withTmpDir } from "../helpers/tmp.ts";
import { buildWheel } from "../helpers/wheel.ts";
import { commandLines } from "../helpers/processes.ts";
import { sha256 } from "../../src/_hash.ts";

const CACHE = await testCache("install_interrupted_cache_");

/**
 * A PEP 503 index serving one wheel; its first page request hangs for `hangMs` (a slow mirror)
 * and says when it arrived, so a test can signal the command while pip waits.
 */
async function slowIndex(wheelDir: string, hangMs: number) {
  const wheel = await buildWheel(wheelDir, {
    name: "slowpkg",
    version: "1.0.0",
    module: { "slowpkg.py": "VALUE = 7\n" },
  });
  const bytes = await Deno.readFile(wheel);
  const file = "slowpkg-1.0.0-py3-none-any.whl";
  const page = `<a href="/files/${file}#sha256=${await sha256(bytes)}">${file}</a>\n`;
  let arrived!: () => void;
  const firstRequest = new Promise<void>((resolve) => arrived = resolve);
  const stop = new AbortController();
  let pages = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/simple/slowpkg")) {
      if (pages++ === 0) {
        arrived();
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, hangMs);
          stop.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
      return new Response(page, { headers: { "content-type": "text/html" } });
    }
    if (path === `/files/${file}`) return new Response(bytes);
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/simple/`,
    firstRequest,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.shutdown();
    },
  };
}

function spawnRun(cwd: string, env: Record<string, string>, prompt: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, "run", prompt, "--json"],
    cwd,
    clearEnv: true,
    env: cliEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, output: child.output() };
}

const REPLY = bundleReply({
  requirements: ["slowpkg==1.0.0"],
  imports: ["slowpkg"],
  body: 'return {"output": {"value": slowpkg.VALUE}}',
  outputs: { value: "int" },
});

Deno.test({
  name: "Ctrl-C while pip installs ends the command promptly (130), pip included",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using index = await slowIndex(join(tmp.path, "wheels"), 20_000);
    await using llm = startFakeLLM({ replies: [REPLY] });
    const work = join(tmp.path, "work");
    await Deno.mkdir(work);
    // The command's temp folder, this test's alone (removed with it; open like /tmp).
    const temp = join(tmp.path, "temp");
    await Deno.mkdir(temp);
    await Deno.chmod(temp, 0o1777);
    const env = fakeServerEnv(llm.url, CACHE, {
      PIP_INDEX_URL: index.url,
      PIP_RETRIES: "0",
      TMPDIR: temp,
    });
    const { child, output } = spawnRun(work, env, "Use slowpkg (interrupted)");
    await index.firstRequest; // pip is installing, inside the sandbox
    const sent = performance.now();
    child.kill("SIGINT");
    let ended = false;
    const deadline = setTimeout(() => {
      if (!ended) child.kill("SIGKILL"); // keep the test short when the bug is there
    }, 6_000);
    const out = await output;
    ended = true;
    clearTimeout(deadline);
    const seconds = (performance.now() - sent) / 1000;
    const stdout = new TextDecoder().decode(out.stdout);
    assert.ok(
      seconds < 5,
      `the command ran on ${seconds.toFixed(1)} s after Ctrl-C (it waited for pip); ` +
        `exit ${out.code}`,
    );
    assert.equal(out.code, 130, new TextDecoder().decode(out.stderr));
    assert.equal(JSON.parse(stdout).error.type, "Interrupted");
    const pip = commandLines().filter(({ line }) => line.includes("__pip-runner__"));
    assert.deepEqual(pip, [], "pip outlived the interrupted command");
  },
});

Deno.test({
  name: "SIGKILL while pip installs leaves no temp folder of it after the next run",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    await using index = await slowIndex(join(tmp.path, "wheels"), 20_000);
    await using llm = startFakeLLM({ replies: [REPLY] });
    const work = join(tmp.path, "work");
    await Deno.mkdir(work);
    // The command's temp folder, this test's alone (open like /tmp: a root run's sandbox is
    // another user).
    const temp = join(tmp.path, "temp");
    await Deno.mkdir(temp);
    await Deno.chmod(temp, 0o1777);
    const cache = join(tmp.path, "cache");
    const env = fakeServerEnv(llm.url, cache, {
      PIP_INDEX_URL: index.url,
      PIP_RETRIES: "0",
      TMPDIR: temp,
    });
    const { child, output } = spawnRun(work, env, "Use slowpkg (killed)");
    await index.firstRequest;
    child.kill("SIGKILL");
    await output;
    // The next run builds the environment again (the index answers at once now) and succeeds.
    const again = await runCli(["run", "Use slowpkg (killed)", "--json"], { cwd: work, env });
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.deepEqual((again.json as { output: unknown }).output, { value: 7 });
    // Whatever its name: nothing of Capibara's is left in the temp folder.
    const left = [...Deno.readDirSync(temp)].map((e) => e.name)
      .filter((name) => name.startsWith("capibara"));
    assert.deepEqual(left, [], "the killed install's temp folder is left for good");
  },
});
