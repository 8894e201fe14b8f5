/**
 * The escape suite's shared harness: the host each `escape_*_test.ts` file attacks (a fake HOME
 * with secrets, another project, a service on loopback), the script templates, and the runner.
 * Each file imports this module afresh (test files run in their own isolates), so each gets its
 * own host, cache and services, and the files run in parallel without seeing each other's runs.
 *
 * Hostile scripts reach the runner through an in-process generator, so the static checks (which
 * would refuse most of them before they are stored) are not what is tested here: the sandbox is.
 * Each file ends with `escape suite (<part>): N attacks, N blocked`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Capibara, type CapibaraOptions } from "../../src/capibara.ts";
import * as errors from "../../src/errors.ts";
import { CapibaraError } from "../../src/errors.ts";
import type { Bundle, Language } from "../../src/schema.ts";
import { OS_SANDBOX } from "../helpers/cli.ts";
import { fixedGenerator } from "../helpers/fake_llm.ts";
import { PYTHON_PATH } from "../helpers/python.ts";
import { commandLines } from "../helpers/processes.ts";

/**
 * `CAPIBARA_ESCAPE_NO_SANDBOX=1` runs the Python and bash attacks, and the TypeScript attacks
 * only the OS layer stops (`osLayer`), with the OS sandbox switched off (TypeScript then runs under
 * Deno's flags alone), to show that the suite can fail: those attacks must then report breaches.
 */
export const NO_SANDBOX = Deno.env.get("CAPIBARA_ESCAPE_NO_SANDBOX") === "1";
/** `CAPIBARA_ESCAPE_ONLY=<text>` runs only the attacks whose name holds the text. */
export const ONLY = Deno.env.get("CAPIBARA_ESCAPE_ONLY");
export { OS_SANDBOX };
if (!OS_SANDBOX) {
  console.warn(
    "SKIPPED: Python and bash escape tests need bubblewrap (apt-get install bubblewrap socat)",
  );
}

/**
 * A token of this process alone: markers that are looked for among all the machine's processes
 * carry it, so that other escape files and other test runs on the machine cannot be mistaken for
 * a survivor of this one.
 */
export const RUN_ID = String(crypto.getRandomValues(new Uint32Array(1))[0]).padStart(10, "0");

export const CACHE = await Deno.makeTempDir({ prefix: "capibara_escape_cache_" });
export const ROOT = await Deno.realPath(await Deno.makeTempDir({ prefix: "capibara_escape_" }));
globalThis.addEventListener("unload", () => {
  Deno.removeSync(CACHE, { recursive: true });
  Deno.removeSync(ROOT, { recursive: true });
});

// The host: a fake HOME with secrets, another project, and a service on loopback.
export const HOME = join(ROOT, "home");
export const OTHER = join(ROOT, "other-project");
export const PROJECT = join(ROOT, "project");
export const SSH_KEY = join(HOME, ".ssh", "id_rsa");
export const SSH_SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- hunter2";
export const OTHER_SECRET = "other project's secret";
export const ENV_SECRET = "sk-live-do-not-leak-0123456789";
await Deno.mkdir(join(HOME, ".ssh"), { recursive: true });
await Deno.writeTextFile(SSH_KEY, SSH_SECRET);
await Deno.mkdir(OTHER, { recursive: true });
await Deno.writeTextFile(join(OTHER, "secret.txt"), OTHER_SECRET);
await Deno.mkdir(join(PROJECT, "data"), { recursive: true });
await Deno.mkdir(join(PROJECT, ".git", "hooks"), { recursive: true });
await Deno.writeTextFile(join(PROJECT, ".git", "config"), "[core]\n");
await Deno.writeTextFile(join(PROJECT, "data", "in.txt"), "input data\n");
await Deno.symlink(join(OTHER, "secret.txt"), join(PROJECT, "data", "link.txt"));
await Deno.mkdir(join(PROJECT, "nested-repo", ".git"), { recursive: true });

/** A file scripts refused before running would write: it must never appear. */
export const ranMarker = join(ROOT, "ran-marker");
/** Asserts that a refused script never ran. */
export const neverRan = async (): Promise<void> =>
  assert.equal(await exists(ranMarker), false, "the script ran");

/** Requests the host service answered (a live binding: importers see the count). */
export let serviceHits = 0;
const service = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
  serviceHits++;
  return new Response("host service says hi");
});
/** The port of the host's service on loopback. */
export const SERVICE_PORT = service.addr.port;
globalThis.addEventListener("unload", () => void service.shutdown());

/** The attacks of this file, in order; one test runs them all as steps and counts them itself. */
const suite: Deno.TestStepDefinition[] = [];

export { fixedGenerator };

/** A Python script: `body` sets `breached = True` (and `detail`) when the attack worked. */
export function py(body: string): string {
  const indented = body.split("\n").map((l) => "    " + l).join("\n");
  return `import json, os, sys
ctx = {}
if "--context" in sys.argv:
    value = sys.argv[sys.argv.index("--context") + 1]
    ctx = json.load(open(value[1:])) if value.startswith("@") else json.loads(value)
breached = False
detail = ""
artifacts = []
try:
${indented}
except BaseException as exc:
    detail = "blocked: " + repr(exc)[:300]
print(json.dumps({"status": "ok", "artifacts": artifacts, "output": {"breached": breached, "detail": detail}, "raw": {}}))
`;
}

/** A bash script: `body` sets `breached=1` when the attack worked. */
export function sh(body: string, artifacts: string[] = []): string {
  return `breached=0
detail=""
${body}
if [ "$breached" = 1 ]; then b=true; else b=false; fi
printf '{"status":"ok","artifacts":${
    JSON.stringify(artifacts)
  },"output":{"breached":%s,"detail":"%s"},"raw":{}}\\n' "$b" "$(printf %s "$detail" | tr -d '"\\\\' | head -c 200)"
`;
}

/** A TypeScript script: `body` sets `breached = true` when the attack worked. */
export function ts(body: string): string {
  return `let breached = false;
let detail = "";
let artifacts: string[] = [];
try {
${body}
} catch (error) {
  detail = "blocked: " + String(error).slice(0, 300);
}
console.log(JSON.stringify({ status: "ok", artifacts, output: { breached, detail }, raw: {} }));
`;
}

/** One hostile script, how it runs and what the host must look like afterwards. */
export interface Attack {
  name: string;
  language: Language;
  script: string;
  context?: Record<string, unknown>;
  needs?: { network?: string[]; env?: string[] };
  allow?: CapibaraOptions["allow"];
  timeout?: number;
  /** Errors that count as blocked (default: any Capibara error). */
  blockedBy?: (new (...args: never[]) => CapibaraError)[];
  /** Host-side check that nothing changed; throws when something did. */
  hostUnchanged?: () => Promise<void>;
  /** For granted cases: what the result must be. */
  granted?: (output: Record<string, unknown>) => void;
  /** A TypeScript attack only the OS sandbox stops (Deno's flags alone let it through). */
  osLayer?: boolean;
  /** Runs first (an earlier run that plants something for this one). */
  before?: () => Promise<void>;
  /** Text that must appear neither in the output nor in the error (a secret's bytes). */
  leaks?: string[];
  /** The script's pinned requirements (default none). */
  requirements?: string[];
  /** The project the run happens in (default the shared one). */
  project?: string;
  /** Options of the instance that replace the suite's. */
  options?: Partial<CapibaraOptions>;
  /**
   * What the attack goes through, in place of `cb.run()` (e.g. `capibara accept` of a hand edit);
   * returns the script's output, if it is seen.
   */
  via?: (cb: Capibara, prompt: string) => Promise<Record<string, unknown> | undefined>;
}

/** Whether anything (a dangling symlink too) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Live processes whose command line matches, after giving killed ones up to 3 s to go. */
export async function processesMatching(pattern: string): Promise<string[]> {
  let found: string[] = [];
  for (let attempt = 0; attempt < 30; attempt++) {
    found = commandLines().filter(({ line }) => new RegExp(pattern).test(line))
      .map(({ pid, line }) => `${pid} ${line}`);
    if (found.length === 0) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

/** A runner in `project` whose generator always replies with `a`'s script. */
/** The bundle the fake model answers an attack with. */
function bundleOf(a: Attack): Bundle {
  return {
    language: a.language,
    script: a.script,
    requirements: a.requirements ?? [],
    outputs: {},
    aliases: {},
    needs: { network: a.needs?.network ?? [], env: a.needs?.env ?? [] },
    readme: "",
  };
}

/** The options of an attack's instance, but its generator and warnings. */
function optionsOf(a: Attack, project: string): CapibaraOptions {
  return {
    root: project,
    cwd: project,
    cacheDir: CACHE,
    env: {
      PATH: PYTHON_PATH,
      HOME,
      SECRET_TOKEN: ENV_SECRET,
      GRANTED_VAR: "granted-value",
    },
    timeout: a.timeout ?? 30,
    memoryBytes: 256 * 1024 ** 2,
    maxProcesses: 64,
    // The staging bounds proven with smaller values than the defaults (1 GiB, 10,000 files).
    maxOutputDiskBytes: 128 * 1024 ** 2,
    maxOutputFiles: 2_000,
    allow: a.allow,
    sandbox: !(NO_SANDBOX && (a.language !== "typescript" || a.osLayer)),
    ...a.options,
  };
}

export function capibaraFor(a: Attack, project = a.project ?? PROJECT): Capibara {
  return new Capibara({
    ...optionsOf(a, project),
    generator: fixedGenerator(bundleOf(a)),
    warn: () => {},
  });
}

/**
 * Runs an attack through the SDK in a child process started with the umask `mask`: a process's
 * umask is all of its threads', and the test files beside this one run in this process. Only for
 * attacks whose options are plain data. Returns the script's output; a Capibara error comes back
 * as one, anything else as a plain error.
 */
export async function underUmask(
  a: Attack,
  mask: number,
): Promise<Record<string, unknown> | undefined> {
  const child = new URL("./_escape_child.ts", import.meta.url).pathname;
  const process = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `umask ${mask.toString(8).padStart(4, "0")} && exec "$@"`,
      "sh",
      Deno.execPath(),
      "run",
      "-A",
      "--no-check",
      child,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = process.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({
    options: optionsOf(a, a.project ?? PROJECT),
    bundle: bundleOf(a),
    prompt: `escape test: ${a.language}: ${a.name}`,
    context: a.context ?? {},
    language: a.language,
  })));
  await writer.close();
  const { code, stdout, stderr } = await process.output();
  const text = new TextDecoder().decode(stdout).trim();
  if (code !== 0 || !text) {
    throw new Error(`the attack's process failed (${code}): ${new TextDecoder().decode(stderr)}`);
  }
  const answer = JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
  if (answer.error) {
    const kind = Object.values(errors).find((value) =>
      typeof value === "function" && value.name === answer.error.name &&
      value.prototype instanceof CapibaraError
    ) as (new (message: string) => CapibaraError) | undefined;
    throw kind ? new kind(answer.error.message) : new Error(answer.error.message);
  }
  return answer.output;
}

/** Adds a step of this file's suite as it is (for attacks that are not one run). */
export function step(definition: Deno.TestStepDefinition): void {
  suite.push(definition);
}

/** Adds an attack to this file's suite: it must fail, or report no breach, and leave the host. */
export function attack(a: Attack): void {
  const needsOs = a.language !== "typescript";
  suite.push({
    name: `escape: ${a.language}: ${a.name}`,
    ignore: (needsOs || a.osLayer === true) && !OS_SANDBOX,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await a.before?.();
      const cb = capibaraFor(a);
      let output: Record<string, unknown> | undefined;
      let error: unknown;
      const prompt = `escape test: ${a.language}: ${a.name}`;
      try {
        output = a.via ? await a.via(cb, prompt) : (await cb.run(prompt, {
          context: a.context ?? {},
          language: a.language,
        })).output;
      } catch (e) {
        error = e;
      }
      const seen = JSON.stringify(output ?? {}) + String(error) +
        JSON.stringify(error instanceof CapibaraError ? error.details ?? {} : {});
      for (const secret of a.leaks ?? []) {
        assert.ok(!seen.includes(secret), `BREACH: the result holds ${JSON.stringify(secret)}`);
      }
      if (a.granted) {
        assert.equal(error, undefined, `granted case failed: ${error}`);
        a.granted(output!);
      } else if (error !== undefined) {
        const kinds = a.blockedBy ?? [CapibaraError];
        assert.ok(
          kinds.some((k) => error instanceof k),
          `unexpected failure: ${error instanceof Error ? error.stack : error}`,
        );
        // A script whose last line is not the contract's JSON says nothing of the attack: it is
        // the attack that is broken (a detail with a line break in a bash printf, say), and it
        // would pass whatever the sandbox let through.
        assert.ok(
          a.blockedBy !== undefined || !/broke the output contract/.test(String(error)),
          `the attack's script is broken, not blocked: ${error}`,
        );
      } else {
        assert.equal(output?.breached, false, `BREACH: ${JSON.stringify(output)}`);
      }
      await a.hostUnchanged?.();
    },
  });
}

/** Options of {@linkcode escapeSuite}. */
export interface EscapeSuiteOptions {
  /** The fewest attacks that must run with the OS sandbox, and without it (TypeScript only). */
  atLeast: { sandbox: number; noSandbox: number };
}

/**
 * The test that runs this file's attacks in order, as steps, and prints
 * `escape suite (<part>): N attacks, N blocked` (for `Deno.test()` in the file, so that reports
 * name the file).
 */
export function escapeSuite(part: string, options: EscapeSuiteOptions): Deno.TestDefinition {
  return {
    name: `escape suite: ${part}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      let attacks = 0;
      let blocked = 0;
      for (const s of suite) {
        if (ONLY !== undefined && !s.name.includes(ONLY)) continue;
        if (s.ignore) {
          await t.step(s); // reported as ignored, with the reason printed at the top
          continue;
        }
        attacks++;
        if (await t.step(s)) blocked++;
      }
      console.log(`escape suite (${part}): ${attacks} attacks, ${blocked} blocked`);
      assert.equal(blocked, attacks, "an attack got through (see the failures above)");
      if (ONLY === undefined) {
        const least = OS_SANDBOX ? options.atLeast.sandbox : options.atLeast.noSandbox;
        assert.ok(attacks >= least, `only ${attacks} attacks ran`);
      }
    },
  };
}
