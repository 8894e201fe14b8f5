/**
 * `capibara runner`: a resident process per user that runs `capibara run` for the command. A hit
 * through it pays neither Deno's start nor its modules (the command only hands the request over a
 * socket, see `_runner_client.ts`), and the runner keeps each repeated request's next sandbox set
 * up ahead (`prestart`), so a hit costs little more than its script.
 *
 * The runner runs each request exactly as the command would in its own process (the same code,
 * the client's folder, environment and streams), with the same sandbox: nothing it holds is shared
 * between runs but the modules and the sandboxes set up ahead, each for one run. It serves only
 * its user (its socket is in a folder of the user's own, 0700, see `_runner_socket.ts`), declines
 * what it cannot run as the command would (the command then runs it itself), exits when its code
 * changes, after `--idle` seconds without a request, on `capibara runner stop` or a signal. It is
 * started by `capibara runner start`, or on demand by `capibara run` (see `_runner_start.ts`).
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { inodeOf } from "../_fs.ts";
import { PermissionError, ValidationError } from "../errors.ts";
import { prestarts } from "../run/prestart.ts";
import { parseRunArgs, runAction } from "./_fast_run.ts";
import { DEFAULT_IDLE_SECONDS, ensureFolder, spawnRunner, startUnderWay } from "./_runner_start.ts";
import {
  connectionWitness,
  connectRunner,
  forbidCoreDumps,
  foreignPeer,
  HANDSHAKE_BYTES,
  keyRecord,
  lines,
  nonce,
  PATH_VARIABLES,
  peerMark,
  processVariableDiffering,
  proof,
  readWitness,
  RUNNER_PROTOCOL,
  runnerAddress,
  runnerAnswers,
  runnerFile,
  runnerFolder,
  runnerKeyFile,
  type RunnerReply,
  type RunnerRequest,
  type RunnerStatus,
  sameProof,
  unseal,
  wearMark,
} from "./_runner_socket.ts";
import {
  type CommandIo,
  type Interruption,
  printJson,
  reportError,
  SIGNAL_EXIT_CODES,
} from "./output.ts";

/** Connections that have not proved themselves yet, at most (each may hold 1 MiB for 5 s). */
const MAX_PENDING = 64;
/**
 * A connection's first line (its hello), at most, and how long it may take while other connections
 * wait for half the places (else it has the 5 s of any connection).
 */
const HELLO_BYTES = 4096;
const HELLO_MS = 1000;

const encoder = new TextEncoder();

/** The folder of this code base (file: URLs only), without its trailing slash. */
function codeBase(): string | undefined {
  const root = new URL("../..", import.meta.url);
  return root.protocol === "file:"
    ? decodeURIComponent(root.pathname).replace(/\/$/, "")
    : undefined;
}

/** The files at the top of the code base that a runner loads, besides `src/`. */
const TOP_FILES = ["main.ts", "cli.ts", "deno.json"];

/** Whether `path` is one a running runner has loaded or could load (see {@linkcode codeStamp}). */
function isCodeFile(base: string, path: string): boolean {
  return TOP_FILES.some((name) => path === `${base}/${name}`) ||
    (path.startsWith(`${base}/src/`) && /\.(ts|py|json)$/.test(path));
}

/**
 * A stamp of the code: the device, inode, size and modification time of every file of this code
 * base that a running runner has loaded or could load, and of every folder under `src/` (a file
 * added, removed or renamed there); the checkout's folder by its identity alone.
 */
function codeStamp(base: string): string {
  const parts: string[] = [];
  const stamp = (path: string) => {
    try {
      const info = Deno.statSync(path);
      parts.push(`${path}:${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`);
    } catch {
      parts.push(`${path}:-`);
    }
  };
  const walk = (dir: string) => {
    stamp(dir);
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (isCodeFile(base, path)) stamp(path);
    }
  };
  parts.push(`${base}:${folderIdentity(base)}`);
  try {
    walk(`${base}/src`);
  } catch {
    parts.push("unreadable");
  }
  for (const name of TOP_FILES) stamp(`${base}/${name}`);
  return parts.join(",");
}

/** Every folder under `dir`, `dir` first (none when it cannot be read). */
function foldersUnder(dir: string): string[] {
  const out = [dir];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) out.push(...foldersUnder(`${dir}/${entry.name}`));
    }
  } catch {
    // gone or unreadable: its stamp says so
  }
  return out;
}

/**
 * The identity and modification time of each of `folders`: a file or folder put in, taken out of
 * or renamed in one changes its time, whether or not its event has reached this process yet.
 */
function foldersStamp(folders: readonly string[]): string {
  return folders.map((path) => {
    try {
      const info = Deno.statSync(path);
      return `${info.dev}:${info.ino}:${info.mtime?.getTime()}`;
    } catch {
      return "-";
    }
  }).join(",");
}

/** A folder's device and inode: another folder put in its place has others. */
function folderIdentity(path: string): string {
  try {
    return inodeOf(Deno.statSync(path));
  } catch {
    return "-";
  }
}

/**
 * Whether the code this runner runs changed since it started. Told first by the kernel's file
 * events (inotify, through `Deno.watchFs`): any event under `src/` (a folder renamed or put in
 * place counts, whatever its files), or on a file at the top; and by the folders themselves: the
 * checkout's and every one under `src/`, by identity and modification time (a folder swapped, a
 * file added, removed or renamed: an event reaches this process a moment after the change, and a
 * request may come first on a busy machine). A request pays a `stat` a folder (≈ 0.1 ms), not a
 * stamp of the hundred files (≈ 1.3 ms). What events miss (a file changed through
 * a hard link elsewhere, events lost when a burst overflows the kernel's queue, which Deno does
 * not report) is caught by {@linkcode codeStamp}, taken again after each run served
 * (`restamp`), off the requests' path: at most one run of stale code. Where no watch can be set
 * (the user's limit of watches reached), each request stamps the files.
 */
function codeWatch(): { changed(): boolean; restamp(): void; close(): void } {
  const base = codeBase();
  if (base === undefined) return { changed: () => false, restamp() {}, close() {} };
  const stamp = codeStamp(base);
  const src = `${base}/src`;
  const folders = [base, ...foldersUnder(src)];
  const folderStamp = foldersStamp(folders);
  const watchers: Deno.FsWatcher[] = [];
  try {
    watchers.push(Deno.watchFs(src, { recursive: true }));
    watchers.push(Deno.watchFs(base, { recursive: false }));
  } catch {
    for (const watcher of watchers) watcher.close();
    return { changed: () => codeStamp(base) !== stamp, restamp() {}, close() {} };
  }
  // A change between the stamp and the watch.
  let changed = codeStamp(base) !== stamp;
  const counts = (path: string) =>
    path === src || path.startsWith(`${src}/`) || isCodeFile(base, path);
  for (const watcher of watchers) {
    (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind !== "access" && event.paths.some(counts)) changed = true;
        }
      } catch {
        // closed
      }
    })();
  }
  return {
    changed: () => changed ||= foldersStamp(folders) !== folderStamp,
    restamp() {
      changed ||= codeStamp(base) !== stamp;
    },
    close() {
      for (const watcher of watchers) {
        try {
          watcher.close();
        } catch {
          // closed
        }
      }
    },
  };
}

/** One line of JSON at a time on a connection, in order. */
function writer(conn: Deno.Conn): { send(reply: RunnerReply): void; flushed(): Promise<void> } {
  let chain = Promise.resolve();
  return {
    send(reply) {
      const bytes = encoder.encode(JSON.stringify(reply) + "\n");
      chain = chain.then(async () => {
        for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
      }).catch(() => {});
    },
    flushed: () => chain,
  };
}

/** Writes a new random key for the runner (0600), atomically; returns it. */
function writeKey(file: string): Uint8Array {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const temp = `${file}.${crypto.randomUUID()}`;
  Deno.writeFileSync(temp, keyRecord(key), { createNew: true, mode: 0o600 });
  Deno.renameSync(temp, file);
  return key;
}

/** Whether a run request has the shape the client sends. */
function wellFormed(request: Extract<RunnerRequest, { kind: "run" }>): boolean {
  const strings = (values: unknown[]) => values.every((v) => typeof v === "string");
  return Array.isArray(request.args) && strings(request.args) &&
    typeof request.cwd === "string" && request.cwd.startsWith("/") &&
    typeof request.env === "object" && request.env !== null &&
    strings(Object.values(request.env)) && typeof request.errIsTerminal === "boolean";
}

/** Whether a request names the client's pid and umask, as every kind must (see `foreignPeer`). */
function identified(request: { pid: unknown; umask: unknown }): boolean {
  return Number.isSafeInteger(request.pid) && (request.pid as number) > 0 &&
    Number.isSafeInteger(request.umask) && (request.umask as number) >= 0 &&
    (request.umask as number) <= 0o777;
}

/**
 * Run requests in a row, from environments other than the runner's, after which it stops: its
 * user's commands come from another (see {@linkcode serveRunner}).
 */
export const STRANGERS_BEFORE_STOP = 3;

/** Options of {@linkcode serveRunner}. */
export interface ServeRunnerOptions {
  /** Seconds without a request after which it exits. */
  idleSeconds: number;
  /** Called once it listens. */
  onListen?: (socket: string) => void;
}

/**
 * Runs the runner in this process until it is stopped, idle too long, or its code changed.
 *
 * @throws {PermissionError} when its folder is not private, or another runner already listens.
 */
export async function serveRunner(options: ServeRunnerOptions): Promise<void> {
  if (Deno.build.os !== "linux") {
    throw new PermissionError("The runner needs Linux: its socket is an abstract one", {
      hint: "capibara run works without it",
    });
  }
  // It shows a witness to each client (see connectionWitness), and holds their requests: it dumps
  // no core.
  if (!forbidCoreDumps()) {
    throw new PermissionError(
      "The runner cannot show its witnesses: it needs Deno's FFI permission, and a core size " +
        "limit it may lower",
      { hint: "Run it with -A, as the installed command does; capibara run works without it" },
    );
  }
  const env = Deno.env.toObject();
  ensureFolder(runnerFolder());
  const address = runnerAddress(env);
  const socket = `@${address.slice(1)}`;
  if (await runnerAnswers(env)) {
    throw new PermissionError(`A runner already listens at ${socket}`, {
      hint: "capibara runner status shows it; capibara runner stop ends it (another user's " +
        "process holding that name keeps a runner from starting: it cannot serve you)",
    });
  }
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path: address });
  } catch (error) {
    throw new PermissionError(`Cannot listen at ${socket}: ${(error as Error).message}`, {
      hint: "capibara runner status shows whether a runner already listens",
    });
  }
  const keyFile = runnerKeyFile(env);
  const key = writeKey(keyFile);
  const written = Deno.lstatSync(keyFile);
  const removeKey = () => {
    try {
      // Only the file this runner wrote (a runner started since has its own), known by its inode:
      // nothing there is opened (a FIFO put in its place would block an open for ever).
      const now = Deno.lstatSync(keyFile);
      if (now.ino === written.ino && now.dev === written.dev) Deno.removeSync(keyFile);
    } catch {
      // gone
    }
  };
  const codeChanges = codeWatch();
  // Its clients leave it time between two runs: a request's next sandbox is set up after its run.
  prestarts.nextAfterRun = true;
  const started = performance.now();
  const status = { served: 0, declined: 0 };
  /** Run requests in a row whose environment differed from the runner's. */
  let strangers = 0;
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let idle: number | undefined;
  /** Connections that have not proved themselves yet. */
  const pending = new Set<Deno.Conn>();
  /** Those of them whose hello proved the key (a client of this user's, mid-handshake). */
  const keyHolders = new WeakSet<Deno.Conn>();
  /** The nonces of the connections being served. */
  const helloNonces = new Set<string>();
  const dropConnection = (conn: Deno.Conn) => {
    pending.delete(conn);
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // The key first: once the name is free someone else may take it, and no client may trust
    // it then; nor may a connection that has not proved itself reach this runner any more (it
    // could relay a client's handshake).
    removeKey();
    // The marker of the last hit run without a runner: the next start on demand counts afresh.
    try {
      Deno.removeSync(runnerFile(env, "hit"));
    } catch {
      // none
    }
    try {
      listener.close();
    } catch {
      // already closed
    }
    for (const conn of [...pending]) dropConnection(conn);
  };
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(stop, options.idleSeconds * 1000) as unknown as number;
  };
  rearm();
  // A start on demand (see _runner_start.ts) held its lock until now.
  try {
    Deno.removeSync(runnerFile(env, "starting"));
  } catch {
    // none
  }
  const onSignal = () => stop();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  options.onListen?.(socket);

  const serve = async (conn: Deno.Conn) => {
    const out = writer(conn);
    // A hello is ≈ 110 bytes, and comes at once: a connection's first line may be HELLO_BYTES long
    // and take HELLO_MS; only a hello that proved the key may be followed by a longer one.
    const limit = { max: HELLO_BYTES };
    const incoming = lines(conn, limit);
    // Until it proved itself a connection is dropped at the runner's stop, or after 5 s; at most
    // MAX_PENDING wait at once, so other users' connections bound its memory. The oldest goes,
    // but one whose hello proved the key only when none else waits: any local user may connect,
    // and a flood of connections that never said anything had the user's own clients' evicted
    // (an attacker's review: 5 of 8 runs not served).
    if (pending.size >= MAX_PENDING) {
      const unproved = [...pending].find((waiting) => !keyHolders.has(waiting));
      dropConnection(unproved ?? pending.values().next().value!);
    }
    pending.add(conn);
    const deadline = setTimeout(() => dropConnection(conn), 5000) as unknown as number;
    // Only when half the places are taken: a client's checks before its hello read files whose
    // size another user can grow (an attacker's review made them take 1.5 s).
    const helloDeadline = setTimeout(() => {
      if (pending.size >= MAX_PENDING / 2) dropConnection(conn);
    }, HELLO_MS) as unknown as number;
    let helloNonce: string | undefined;
    /** Whether this connection's client had its run taken (see `{ run: true }`). */
    let running = false;
    /** What this connection's client must see of the runner (see connectionWitness). */
    let witness: ReturnType<typeof connectionWitness>;
    try {
      // The client's nonce, answered first; then its request, with its answer to ours.
      const first = await incoming.next();
      if (first.done) return;
      let hello: RunnerRequest;
      try {
        hello = JSON.parse(first.value);
      } catch {
        return;
      }
      if (
        typeof hello !== "object" || hello === null || !("hello" in hello) ||
        hello.v !== RUNNER_PROTOCOL || typeof hello.hello !== "string" ||
        typeof hello.key !== "string" ||
        !sameProof(hello.key, await proof(key, `hello:${hello.hello}`)) ||
        // A nonce another waiting connection uses (seen in its witness's name by a process of the
        // user's) would show two witnesses to its client, which would then run by itself.
        helloNonces.has(hello.hello)
      ) return;
      clearTimeout(helloDeadline);
      helloNonce = hello.hello;
      helloNonces.add(helloNonce);
      keyHolders.add(conn);
      limit.max = HANDSHAKE_BYTES;
      witness = connectionWitness(hello.hello);
      if (!witness) return;
      const mine = nonce();
      out.send({ nonce: mine, proof: await proof(key, `runner:${hello.hello}:${mine}`) });
      /** The client's next message, when it proves the key over both nonces. */
      const nextSigned = async (): Promise<RunnerRequest | undefined> => {
        const line = await incoming.next();
        if (line.done) return undefined;
        const signed = JSON.parse(line.value) as RunnerRequest;
        if (
          !("body" in signed) || typeof signed.body !== "string" ||
          typeof signed.proof !== "string" || stopping ||
          !sameProof(signed.proof, await proof(key, `client:${hello.hello}:${mine}:${signed.body}`))
        ) {
          return undefined;
        }
        return JSON.parse(signed.body) as RunnerRequest;
      };
      // WebCrypto answers on another thread: what the checks below need is started at once.
      const marking = peerMark(key, address, mine);
      const nonces = `${hello.hello}:${mine}`;
      const expecting = proof(witness.bytes, `client-seen:${nonces}`);
      expecting.catch(() => {});
      const signed = await nextSigned();
      if (!signed) return;
      let request: RunnerRequest = signed;
      pending.delete(conn);
      clearTimeout(deadline);
      if (!("kind" in request)) return;
      const decline = (why: string) => {
        status.declined++;
        out.send({ decline: why });
      };
      // Only a process like the runner itself may have it run, say what it did, or stop.
      if (!identified(request)) return;
      const mark = await marking;
      const foreign = foreignPeer(request.pid, { mark, umask: request.umask });
      if (foreign !== undefined) return decline(foreign);
      // Each sees the other's witness (see ownWitness): the client first (its proof comes with its
      // request), then the runner, whose proof goes with its first answer; the request is sealed
      // for whoever sees the client's witness (see seal).
      const sawIt = request.kind === "sealed" && typeof request.seen === "string" &&
        sameProof(request.seen, await expecting);
      // Seen once: a copy of it (a core dump of this client's, say) is worth nothing from now on.
      witness.close();
      if (!sawIt || request.kind !== "sealed") {
        return decline(
          "it could not see the runner's open files (a Landlock domain, or another security " +
            "module's ptrace rule, may confine it)",
        );
      }
      const theirs = readWitness(request.pid);
      if (!theirs) return decline("the runner could not see its open files");
      const proving = proof(theirs, `runner-seen:${nonces}`);
      const opened = await unseal(theirs, nonces, request.sealed);
      let inner: RunnerRequest | undefined;
      try {
        inner = opened === undefined ? undefined : JSON.parse(opened);
      } catch {
        // not a request
      }
      // The request the process just checked sealed (its mark is still worn): its pid and umask
      // must be the same.
      if (
        typeof inner !== "object" || inner === null || !("kind" in inner) ||
        inner.kind === "sealed" || !identified(inner) || inner.pid !== request.pid ||
        inner.umask !== request.umask
      ) return decline("a malformed request");
      request = inner;
      /** This runner's proof that it saw the client's witness, with its first answer. */
      const seen = { seen: await proving };
      if (request.kind === "status") {
        const report: RunnerStatus = {
          pid: Deno.pid,
          socket,
          key: keyFile,
          uptime: Math.round((performance.now() - started) / 1000),
          served: status.served,
          declined: status.declined,
          prestart: { ...prestarts.stats },
          idleSeconds: options.idleSeconds,
        };
        out.send({ status: report, ...seen });
        return;
      }
      if (request.kind === "stop") {
        out.send({ ok: true, ...seen });
        stop();
        return;
      }
      if (request.kind !== "run") return;
      rearm();
      if (!wellFormed(request)) return decline("a malformed request");
      const differs = processVariableDiffering(request.env, env);
      if (differs !== undefined) {
        decline(`${differs} differs from the runner's`);
        // Started where the user's commands do not run (`deno task`, `npx` change PATH): it would
        // decline every request until it idles out. It goes, and the next hit starts one of theirs.
        if (++strangers >= STRANGERS_BEFORE_STOP) stop();
        return;
      }
      strangers = 0;
      const relative = PATH_VARIABLES.find((name) => {
        const value = request.env[name];
        return value !== undefined && value !== "" && !value.startsWith("/");
      });
      if (relative !== undefined) return decline(`${relative} is a relative path`);
      if (codeChanges.changed()) {
        decline("its code changed since it started");
        stop();
        return;
      }
      const parsed = parseRunArgs(request.args.slice(1));
      if (request.args[0] !== "run" || !parsed) return decline("the full parser handles these");
      // Nothing runs unconfined in the runner: such a run is the command's own, with its warning.
      if (!parsed.options.sandbox) return decline("--no-sandbox runs in the command's process");
      status.served++;
      out.send({ run: true, ...seen });
      running = true;
      const io: CommandIo = {
        out: (line) => out.send({ o: line }),
        err: (line) => out.send({ e: line }),
        errIsTerminal: request.errIsTerminal,
        env: request.env,
        cwd: request.cwd,
        stdin: () => Promise.resolve(""),
      };
      // The client's signals (and its going away) stop the run as the process's own would.
      const controller = new AbortController();
      let received: keyof typeof SIGNAL_EXIT_CODES | undefined;
      const interrupt = (name: keyof typeof SIGNAL_EXIT_CODES) => {
        received ??= name;
        controller.abort(new DOMException(`Interrupted by ${name}`, "AbortError"));
      };
      const listening = (async () => {
        try {
          for await (const line of incoming) {
            const message = JSON.parse(line) as RunnerRequest;
            if ("signal" in message && message.signal in SIGNAL_EXIT_CODES) {
              interrupt(message.signal);
            }
          }
        } catch {
          // a broken connection
        }
        interrupt("SIGINT");
      })();
      const interruption = (): Interruption => ({
        signal: controller.signal,
        get received() {
          return received;
        },
        [Symbol.dispose]() {},
      });
      const code = await runAction(parsed.prompt, parsed.options, io, {
        interruption,
        prestart: true,
      });
      out.send({ x: code });
      await out.flushed();
      conn.closeWrite?.();
      void listening;
      // Off the request's path: what the file events missed is seen before the next run.
      codeChanges.restamp();
    } catch (error) {
      // Said only to a client whose run it took: anyone else gets nothing from this runner.
      if (running) {
        out.send({ e: `error[InternalError]: the runner: ${String(error)}` });
        out.send({ x: 1 });
      }
    } finally {
      witness?.close();
      if (helloNonce !== undefined) helloNonces.delete(helloNonce);
      pending.delete(conn);
      clearTimeout(deadline);
      clearTimeout(helloDeadline);
      await out.flushed();
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  try {
    for await (const conn of listener) {
      const served = serve(conn).finally(() => inFlight.delete(served));
      inFlight.add(served);
    }
  } catch (error) {
    if (!stopping) throw error;
  } finally {
    stop();
    codeChanges.close();
    clearTimeout(idle);
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    await Promise.all(inFlight);
    await prestarts.dispose();
  }
}

/** Sends one control request to the runner; undefined when none answers. */
async function control(
  kind: "status" | "stop",
): Promise<RunnerReply | undefined> {
  const runner = await connectRunner(Deno.env.toObject());
  if (!runner) return undefined;
  if ("unlike" in runner) return { decline: runner.unlike };
  const restoreName = wearMark(runner.mark);
  try {
    if (!restoreName) return undefined;
    const answer = await runner.ask({ kind, pid: Deno.pid, umask: Deno.umask() });
    if ("declined" in answer) return { decline: answer.declined };
    return "reply" in answer ? answer.reply : undefined;
  } catch {
    return undefined;
  } finally {
    restoreName?.();
    try {
      runner.conn.close();
    } catch {
      // already closed
    }
  }
}

function parseIdle(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 604_800) {
    throw new ValidationError(
      `Invalid --idle "${value}": expected whole seconds from 1 to 604800`,
      {
        hint: "See capibara runner --help",
      },
    );
  }
  return n;
}

/** The `runner` subcommand. */
export function runnerCommand(setExit: (code: number) => void) {
  const runner = new Command("runner")
    .description(
      "Keep a resident runner for this user: `capibara run` hands it its request, and a cache " +
        "hit then costs little more than the script (no Deno start, sandboxes set up ahead)",
    )
    .addHelpText(
      "after",
      `
Examples:
  capibara runner start           start it in the background (it exits after 15 idle minutes)
  capibara run "…" --context …    now served by the runner when it can (CAPIBARA_RUNNER=0: never;
                                  a second hit within a minute starts one; in CI only with
                                  CAPIBARA_RUNNER=1)
  capibara runner status --json   its pid, socket, runs served and sandboxes set up ahead
  capibara runner stop`,
    );
  runner.command("start")
    .addHelpText(
      "after",
      `
Examples:
  capibara runner start         start one now (a second hit within a minute starts one anyway)
  capibara runner start --idle 3600 --json`,
    )
    .description("start the runner in the background, if none runs")
    .option(
      "--idle <seconds>",
      "exit after this long without a request",
      String(DEFAULT_IDLE_SECONDS),
    )
    .option("--json", "machine-readable output")
    .action(async (options) => {
      try {
        const idle = parseIdle(options.idle);
        const env = Deno.env.toObject();
        ensureFolder(runnerFolder());
        const socket = `@${runnerAddress(env).slice(1)}`;
        const report = (started: boolean, pid?: number) => {
          if (options.json) printJson({ running: true, started, socket, pid });
          else {console.log(
              started
                ? `runner started (pid ${pid}, ${socket})`
                : `a runner already listens at ${socket}`,
            );}
        };
        const already = await control("status");
        if (already && "status" in already) return report(false, already.status.pid);
        const child = spawnRunner(idle);
        for (let i = 0; i < 200; i++) {
          const reply = await control("status");
          if (reply && "status" in reply) return report(true, reply.status.pid);
          const ended = await Promise.race([
            child.status.then(() => true),
            new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
          ]);
          if (ended) break;
        }
        throw new PermissionError("The runner did not start", {
          hint: "Run it in the foreground to see why: capibara runner serve",
        });
      } catch (error) {
        setExit(reportError(error, options.json ?? false));
      }
    });
  runner.command("serve")
    .addHelpText(
      "after",
      `
Examples:
  capibara runner serve         in the foreground, e.g. under a process supervisor
  capibara runner serve --idle 600`,
    )
    .description("run the runner in the foreground (what start runs in the background)")
    .option(
      "--idle <seconds>",
      "exit after this long without a request",
      String(DEFAULT_IDLE_SECONDS),
    )
    .action(async (options) => {
      try {
        await serveRunner({
          idleSeconds: parseIdle(options.idle),
          onListen: (socket) => console.error(`runner listening at ${socket} (pid ${Deno.pid})`),
        });
      } catch (error) {
        setExit(reportError(error, false));
      }
    });
  runner.command("status")
    .addHelpText(
      "after",
      `
Examples:
  capibara runner status        whether one listens, and the runs it served or declined
  capibara runner status --json`,
    )
    .description("whether a runner listens, and what it did")
    .option("--json", "machine-readable output")
    .action(async (options) => {
      const reply = await control("status");
      const status = reply && "status" in reply ? reply.status : undefined;
      const declined = reply && "decline" in reply ? reply.decline : undefined;
      if (options.json) {
        printJson(
          status
            ? { running: true, ...status }
            : declined
            ? { running: true, serves: false, why: declined }
            : { running: false },
        );
        return;
      }
      if (declined) {
        console.log(`a runner listens, but serves no process like this one: ${declined}`);
        return;
      }
      if (!status) {
        console.log("no runner: capibara run runs in its own process (capibara runner start)");
        return;
      }
      console.log(`runner pid ${status.pid}, up ${status.uptime} s, at ${status.socket}`);
      console.log(
        `runs served ${status.served}, declined ${status.declined} (run by the command itself)`,
      );
      const p = status.prestart;
      console.log(
        `sandboxes set up ahead: ${p.started}, used ${p.used}, thrown away ${p.discarded}`,
      );
      console.log(`exits after ${status.idleSeconds} s without a request`);
    });
  runner.command("stop")
    .addHelpText(
      "after",
      `
Examples:
  capibara runner stop          stop it (the next hits run by themselves)
  capibara runner stop --json`,
    )
    .description("stop the runner (runs under way finish first)")
    .option("--json", "machine-readable output")
    .action(async (options) => {
      const env = Deno.env.toObject();
      // A runner being started on demand (its lock is fresh) is waited for, then stopped. It
      // removes its lock once it serves: it listens before it writes its key, so a runner that
      // merely answers may not be ready to take an order yet.
      for (let i = 0; i < 200 && startUnderWay(env); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const reply = await control("stop");
      const stopped = reply !== undefined && "ok" in reply;
      if (stopped) {
        // Gone once nothing listens at its address.
        for (let i = 0; i < 600 && await runnerAnswers(Deno.env.toObject()); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      const declined = reply && "decline" in reply ? reply.decline : undefined;
      if (options.json) printJson(declined ? { stopped, why: declined } : { stopped });
      else if (declined) {
        console.log(`the runner takes no orders from a process like this one: ${declined}`);
      } else console.log(stopped ? "runner stopped" : "no runner was running");
    });
  return runner;
}
