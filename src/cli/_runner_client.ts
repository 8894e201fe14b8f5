/**
 * The client side of the resident runner: `capibara run` hands its request to the user's runner
 * when one listens (started with `capibara runner start`), and prints what it answers. Loaded
 * before anything else on each command, so it imports nothing but the socket's module: without a
 * runner it costs one `lstat` of the runner's folder.
 *
 * The runner may decline (other values of the variables its own process reads, arguments only
 * the full parser handles, its code changed since it started): the command then runs in its own
 * process, as it does with `CAPIBARA_RUNNER=0`, when the context is read from standard input, or
 * when no runner listens.
 *
 * The `capibara` command loads the client and what it imports as one compiled file
 * (`src/cli/_runner_client.bundle.js`): after a change here, `deno task build:client` (a test
 * fails until then).
 *
 * @module
 */
import { EXIT_CODES } from "../errors.ts";
import { connectRunner, type RunnerReply, runnerSetting, wearMark } from "./_runner_socket.ts";

const encoder = new TextEncoder();

function writeAll(stream: typeof Deno.stdout, text: string): void {
  const bytes = encoder.encode(text + "\n");
  for (let done = 0; done < bytes.length;) done += stream.writeSync(bytes.subarray(done));
}

/** Whether the arguments read standard input (`--context @-`), which the runner does not relay. */
function readsStdin(args: readonly string[]): boolean {
  return args.some((arg, i) =>
    arg === "--context=@-" || ((arg === "-c" || arg === "--context") && args[i + 1] === "@-")
  );
}

/**
 * What became of a command offered to the runner: its exit code when the runner ran it; else why
 * the command runs in this process: `"off"` (not a `run` it takes, or `CAPIBARA_RUNNER=0`),
 * `"absent"` (no runner of this user's answered), `"declined"` (the runner sent it back).
 */
export type RunnerOutcome = number | "off" | "absent" | "declined";

/** Runs `capibara <args>` through the user's runner, when one listens and takes it. */
export async function viaRunner(args: readonly string[]): Promise<RunnerOutcome> {
  if (args[0] !== "run" || readsStdin(args)) return "off";
  let env: Record<string, string>;
  try {
    env = Deno.env.toObject();
  } catch {
    return "off";
  }
  if (runnerSetting(env) === "off") return "off";
  const runner = await connectRunner(env);
  if (!runner) return "absent";
  if ("unlike" in runner) {
    // A runner runs, but not one this process may use (another cgroup, limits, filters…).
    if (env.CAPIBARA_TIMINGS === "1") writeAll(Deno.stderr, `runner not used: ${runner.unlike}`);
    return "declined";
  }
  const { conn } = runner;
  const send = (message: unknown) =>
    conn.write(encoder.encode(JSON.stringify(message) + "\n")).catch(() => {});
  const declined = (why: string): "declined" => {
    // Why a hit pays its own process: part of where the time goes.
    if (env.CAPIBARA_TIMINGS === "1") writeAll(Deno.stderr, `runner declined: ${why}`);
    return "declined";
  };
  // The runner checks that this very process asks (see wearMark), then the name goes back.
  const restoreName = wearMark(runner.mark);
  /** The runner took the request: from then on, it is never run a second time here. */
  let accepted = false;
  let signals = 0;
  const onSignal = (name: "SIGINT" | "SIGTERM") => () => {
    // Before the runner took the request, or at a second signal, this client ends at once (the
    // runner stops whatever it began when the connection closes); else the first asks the runner
    // to stop the run and clean up.
    if (!accepted || ++signals > 1) {
      restoreName?.();
      Deno.exit(name === "SIGINT" ? 130 : 143);
    }
    void send({ signal: name });
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  // Whatever holds the name must take or decline the request in time. The request is sealed and
  // signed on WebCrypto's thread: the handlers are installed meanwhile, before it is sent.
  const answering = restoreName
    ? runner.ask({
      kind: "run",
      args: [...args],
      cwd: Deno.cwd(),
      env,
      errIsTerminal: Deno.stderr.isTerminal(),
      pid: Deno.pid,
      umask: Deno.umask(),
    })
    : undefined;
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);
  try {
    if (!answering) return "declined";
    const answer = await answering;
    if ("declined" in answer) return declined(answer.declined);
    if ("gone" in answer) {
      // A runner stopping, or one whose pending connections another user's flood took over.
      if (env.CAPIBARA_TIMINGS === "1") {
        writeAll(Deno.stderr, "runner not used: it closed the connection before it answered");
      }
      return "absent";
    }
    if (!("run" in answer.reply)) return declined("the runner's answer is not one");
    accepted = true;
    restoreName?.();
    for await (const line of runner.replies) {
      const reply = JSON.parse(line) as RunnerReply;
      if ("o" in reply) writeAll(Deno.stdout, reply.o);
      else if ("e" in reply) writeAll(Deno.stderr, reply.e);
      else if ("x" in reply) return reply.x;
    }
  } catch {
    // The connection broke: handled below.
  } finally {
    restoreName?.();
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  // A runner that went away before it took the request (it was stopping): as if none listened.
  if (!accepted) return "absent";
  // Killed while it ran the script (the OOM killer, kill -9): the run failed, as any run whose
  // process died does, and is reported as every error is, JSON with --json.
  const message = "The resident runner stopped during the run: the script may not have finished";
  const hint = "Run the command again; capibara runner stop ends the runner, " +
    "CAPIBARA_RUNNER=0 runs without it";
  const code = EXIT_CODES.ExecError;
  const options = args.slice(0, args.includes("--") ? args.indexOf("--") : args.length);
  if (options.includes("--json")) {
    writeAll(
      Deno.stdout,
      JSON.stringify({ error: { type: "ExecError", message, hint, exit_code: code } }, null, 2),
    );
  } else writeAll(Deno.stderr, `error[ExecError]: ${message}\nhint: ${hint}`);
  return code;
}
