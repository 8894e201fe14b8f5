/**
 * What the runner's tests share: the request they run, attackers' clients and impostors, and the
 * installed command's entry.
 */
import { join } from "node:path";
import {
  keyRecord,
  runnerAddress,
  runnerFolder,
  runnerKeyFile,
} from "../../src/cli/_runner_socket.ts";
import { ensureFolder } from "../../src/cli/_runner_start.ts";
import { CLI, type CliResult, REPO, runCli } from "./cli.ts";

export const PROMPT = "Summarise the sales CSV: total revenue, units and revenue per region";

export const CONTEXT = '{"input": "data/sales.csv", "output": "out/summary.json"}';

/**
 * A run whose input is missing: the command says so (exit 2), whoever runs it, which is how a test
 * tells that a command facing an impostor ran by itself.
 */
export const MISSING_INPUT_RUN: readonly string[] = [
  "run",
  "Summarise",
  "--context",
  '{"input": "missing.csv"}',
];

/**
 * An attacker's client: reads the runner's key itself, proves it, names itself with the runner's
 * mark and asks `Deno.args[0]` ("run" of `args[1]` with context `args[2]`, or "stop"); prints
 * the runner's answer.
 */
export const ATTACKER = `import * as socket from ${
  JSON.stringify(join(REPO, "src", "cli", "_runner_socket.ts"))
};
// The umask as the installed command sets it (cli.ts): a test that changes the test process's
// umask meanwhile (files run in parallel in one process) must not be what declines this client.
const mask = Deno.umask();
if ((mask & 0o022) !== 0o022) Deno.umask(mask | 0o022);
const env = Deno.env.toObject();
const encode = (text) => new TextEncoder().encode(text + "\\n");
const key = Deno.readFileSync(socket.runnerKeyFile(env)).slice(0, 32);
const conn = await Deno.connect({ transport: "unix", path: socket.runnerAddress(env) });
const mine = socket.nonce();
const helloKey = await socket.proof(key, "hello:" + mine);
await conn.write(encode(JSON.stringify({ v: socket.RUNNER_PROTOCOL, hello: mine, key: helloKey })));
const replies = socket.lines(conn, socket.HANDSHAKE_BYTES);
const hello = JSON.parse((await replies.next()).value);
socket.wearMark(await socket.peerMark(key, socket.runnerAddress(env), hello.nonce));
const [kind, prompt, context] = Deno.args;
const ids = { pid: Deno.pid, umask: Deno.umask() };
const send = async (body) => {
  const signed = await socket.proof(key, "client:" + mine + ":" + hello.nonce + ":" + body);
  await conn.write(encode(JSON.stringify({ v: socket.RUNNER_PROTOCOL, proof: signed, body })));
};
const body = JSON.stringify(kind === "run"
  ? { kind, args: ["run", prompt, "--context", context], cwd: Deno.cwd(), env, errIsTerminal: false, ...ids }
  : { kind, ...ids });
// The witness proof: the runner's witness seen, if this process can (see ownWitness), and the
// request sealed for the runner to open with what it sees of this one's.
const record = Deno.readFileSync(socket.runnerKeyFile(env)).subarray(32);
const runnerPid = Number(new TextDecoder().decode(record).split(" ")[0]);
const bytes = socket.readWitness(runnerPid, mine);
const seen = bytes ? await socket.proof(bytes, "client-seen:" + mine + ":" + hello.nonce) : "";
const sealed = await socket.seal(socket.ownWitness(), mine + ":" + hello.nonce, body);
await send(JSON.stringify({ kind: "sealed", ...ids, seen, sealed }));
console.log((await replies.next()).value);
conn.close();
`;

/**
 * Runs `argv[1:]` in a Landlock domain that restricts no file access (every file under `/` may be
 * read), without `no_new_privs`, as a process holding `CAP_SYS_ADMIN` may: /proc shows no sign of
 * it. Exits 125 when the kernel has no Landlock.
 */
export const LANDLOCK_NO_NNP = `import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
attr = struct.pack("Q", 1 << 2)
ruleset = libc.syscall(444, ctypes.create_string_buffer(attr), len(attr), 0)
if ruleset < 0: sys.exit(125)
root = os.open("/", os.O_PATH)
rule = ctypes.create_string_buffer(struct.pack("=Qi", 1 << 2, root))
if libc.syscall(445, ruleset, 1, rule, 0) != 0 or libc.syscall(446, ruleset, 0) != 0: sys.exit(125)
os.execvp(sys.argv[1], sys.argv[1:])
`;

/** A runner of the test's own (its key in the user's folder, its name apart from any other). */

export function testName(): string {
  return `test-${crypto.randomUUID()}`;
}

/** `capibara <args>` through the installed command's entry, which hands runs to a runner. */

export function capibara(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<CliResult> {
  return runCli(args, { cwd, env: { CAPIBARA_RUNNER: "1", ...env }, entry: CLI });
}

/** What `capibara runner status --json` says, for the runner of `env`. */

export async function runnerStatus(cwd: string, env: Record<string, string>) {
  return JSON.parse((await capibara(["runner", "status", "--json"], cwd, env)).stdout);
}

/**
 * An impostor: the runner's name held by a listener that does not hold the key the client
 * trusts (a fresh one, written where the client reads it). Dispose it to remove both.
 */
export function holdName(env: Record<string, string>): Deno.UnixListener & AsyncDisposable {
  ensureFolder(runnerFolder());
  // The impostor runs (this process), so its key names a live process.
  Deno.writeFileSync(runnerKeyFile(env), keyRecord(crypto.getRandomValues(new Uint8Array(32))), {
    mode: 0o600,
  });
  const listener = Deno.listen({ transport: "unix", path: runnerAddress(env) });
  return Object.assign(listener, {
    async [Symbol.asyncDispose]() {
      try {
        listener.close();
      } catch {
        // closed
      }
      await Deno.remove(runnerKeyFile(env)).catch(() => {});
    },
  });
}

export async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A command that must end: a hit that waited for the runner it started would never end. */

export async function ends(result: Promise<CliResult>, what: string): Promise<CliResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end`)), 60_000);
  });
  try {
    return await Promise.race([result, hung]);
  } finally {
    clearTimeout(timer);
  }
}

export function printed(child: Deno.ChildProcess): { seen: string[]; done: Promise<void> } {
  const seen: string[] = [];
  const done = (async () => {
    let buffered = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (buffered + text).split("\n");
      buffered = parts.pop()!;
      seen.push(...parts);
    }
  })();
  return { seen, done };
}

/** A copy of the repository's examples (with their committed cache) in `root`/work; its path. */
export async function examplesIn(root: string): Promise<string> {
  const work = join(root, "work");
  const copied = await new Deno.Command("cp", { args: ["-r", join(REPO, "examples"), work] })
    .output();
  if (!copied.success) throw new Error(new TextDecoder().decode(copied.stderr));
  return work;
}
