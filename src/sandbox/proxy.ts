/**
 * The sandbox's only way out to the network: an HTTP proxy that admits the granted hosts.
 *
 * It speaks just enough HTTP/1.1 for what scripts send to a proxy: `CONNECT host:port` (a raw
 * tunnel, used for HTTPS) and absolute-URI requests (`GET http://host/path`, plain HTTP). Every
 * request is checked against the rules first; a refusal is a `403` with a one-line reason.
 *
 * The rules are host rules (`api.example.com`, `*.example.com`, `host:8443`, `[::1]:8080`), read by
 * `host_rules.ts`, the grammar the Deno permission flags use too; an invalid rule is refused when
 * the proxy starts.
 *
 * The proxy decides on resolved addresses. It resolves every name itself (on the host) and
 * connects only to the address it checked, so a name cannot be re-resolved in between. Whatever
 * the rule (a wildcard, an exact name, an exact address), an address in a special range
 * (loopback, private, shared, link-local, unique-local, multicast, unspecified, reserved, and the
 * IPv4-mapped, IPv4-compatible and NAT64 forms of these; see `classifyAddress`) is refused unless
 * a private-network rule (`privateAllow`, the user's `--allow-private-net`) names that host or
 * address exactly. So neither `*.example.com` resolving to `127.0.0.1`, nor an exact grant of
 * `127.0.0.1:5432`, nor `localhost` reaches the host's own services, the local network or a cloud
 * metadata endpoint without that separate opt-in.
 *
 * It is bounded against a script that opens connections in a loop: at most
 * {@linkcode PROXY_LIMITS}`.maxConnections` at once and `.maxTotalConnections` over its life
 * (one run); a connection past either bound is closed as soon as it is accepted, with nothing
 * read or buffered. A request head may hold 32 KiB and must arrive within `timeoutMs`; a tunnel
 * with no byte either way for `idleTimeoutMs` is closed. One connection carries one request, so
 * the log holds at most one entry per admitted connection.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import {
  type CanonicalHost,
  canonicalHost,
  classifyAddress,
  type HostRule,
  isPublicAddress,
  matchHost,
  parseHostRules,
  splitHostPort,
} from "./host_rules.ts";

/** Opens the upstream connection for an admitted request: the seam tests use to fake upstreams. */
export type ProxyConnect = (host: string, port: number) => Promise<Deno.Conn>;

/** The bounds of a proxy. */
export interface ProxyLimits {
  /** Client connections open at once; more are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** Client connections over the proxy's life; more are closed as soon as they are accepted. */
  readonly maxTotalConnections: number;
  /** A tunnel or forwarded request with no byte either way for this long is closed. */
  readonly idleTimeoutMs: number;
  /** Time allowed to read a request head, and to resolve and connect upstream. */
  readonly timeoutMs: number;
  /** Largest request head, in bytes. */
  readonly maxHeadBytes: number;
}

/** The bounds of one proxy (one run), unless its options say otherwise. */
export const PROXY_LIMITS: ProxyLimits = {
  maxConnections: 64,
  maxTotalConnections: 1_000,
  idleTimeoutMs: 60_000,
  timeoutMs: 15_000,
  maxHeadBytes: 32 * 1024,
};

/** Options of {@linkcode startProxy}. */
export interface ProxyOptions {
  /** Listen on this unix socket path (a stale socket there is replaced). */
  socketPath?: string;
  /** Listen on this loopback TCP port instead (0 = any free port). Ignored when `socketPath` is set. */
  port?: number;
  /** Host rules, in the grammar of `host_rules.ts`. */
  allow: string[];
  /**
   * Exact rules (a name or an address, with or without a port; never a wildcard) whose host may
   * be, or resolve to, a special address (loopback, private, link-local, …): a package index on
   * this machine, a database on the company network. A request must still be admitted by
   * `allow`; this list only lifts the address check for what it names. A separate list, so that
   * no ordinary grant reaches such addresses by accident.
   */
  privateAllow?: string[];
  /**
   * Opens upstream connections in place of connecting to the checked addresses (a test seam).
   * Unless `resolve` is given too, names are then not resolved: the seam stands in for the
   * network. Addresses written as such are checked whatever the seam.
   */
  connect?: ProxyConnect;
  /** Resolves names (default: the system resolver, `getaddrinfo`). */
  resolve?: (host: string) => Promise<string[]>;
  /** Milliseconds allowed to read a request head and to resolve and connect upstream. */
  timeoutMs?: number;
  /** Milliseconds a tunnel may stay silent both ways before it is closed. */
  idleTimeoutMs?: number;
  /** Client connections open at once (default {@linkcode PROXY_LIMITS}`.maxConnections`). */
  maxConnections?: number;
  /** Client connections over the proxy's life (default `PROXY_LIMITS.maxTotalConnections`). */
  maxTotalConnections?: number;
}

/** One request the proxy answered. */
export interface ProxyLogEntry {
  /** The requested host, normalised (lower case, no trailing dot, no brackets). */
  host: string;
  /** The requested port. */
  port: number;
  /** Whether the rules admitted it (an admitted request may still fail upstream: see `reason`). */
  allowed: boolean;
  /** Why it was refused or failed, when it was. */
  reason?: string;
}

/** Connection counts of a running proxy. */
export interface ProxyStats {
  /** Client connections open now. */
  open: number;
  /** The most client connections that were open at once. */
  peakOpen: number;
  /** Client connections accepted and served. */
  accepted: number;
  /** Client connections closed unread because a bound was reached. */
  refused: number;
}

/** A running proxy. */
export interface RunningProxy {
  /** Where it listens (a unix socket or a loopback TCP address). */
  readonly address: Deno.Addr;
  /** Every request, in order (at most one per accepted connection). */
  readonly log: ProxyLogEntry[];
  /** Connection counts, now. */
  stats(): ProxyStats;
  /** Stops listening, cuts open tunnels and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

/** Environment variables HTTP clients (curl, pip, requests, npm, Deno) read their proxy from. */
const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "http_proxy",
  "https_proxy",
  "ALL_PROXY",
  "all_proxy",
  "npm_config_proxy",
  "npm_config_https_proxy",
  "PIP_PROXY",
];

/**
 * The environment pointing every HTTP client at the proxy listening at `url`, with no host
 * exempted (`NO_PROXY` empty).
 *
 * @example
 * ```ts
 * import { proxyEnv } from "./proxy.ts";
 * proxyEnv("http://127.0.0.1:3128").HTTPS_PROXY; // "http://127.0.0.1:3128"
 * ```
 */
export function proxyEnv(url: string): Record<string, string> {
  const env: Record<string, string> = { NO_PROXY: "", no_proxy: "" };
  for (const name of PROXY_VARIABLES) env[name] = url;
  return env;
}

/** The normalised spelling of a host for logs (falls back to lower case when it is not valid). */
function displayHost(host: string): string {
  return canonicalHost(host)?.host ?? host.toLowerCase();
}

/** `host:port` as a rule spells it (IPv6 in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Resolves a name with the system resolver (honours /etc/hosts and nsswitch, like curl would). */
async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}

/** Connects to the first of `addresses` that answers. */
async function connectFirst(addresses: readonly string[], port: number): Promise<Deno.Conn> {
  let lastError: unknown = new Error("no address");
  for (const address of addresses) {
    try {
      return await Deno.connect({ hostname: address, port });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function response(status: number, text: string, reason: string): Uint8Array {
  const body = new TextEncoder().encode(reason + "\n");
  const head = `HTTP/1.1 ${status} ${text}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${body.byteLength}\r\n` +
    "X-Capibara-Proxy: 1\r\n" +
    "Connection: close\r\n\r\n";
  const bytes = new Uint8Array(head.length + body.byteLength);
  bytes.set(new TextEncoder().encode(head));
  bytes.set(body, head.length);
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await conn.write(bytes.subarray(offset));
}

function findHeadEnd(bytes: Uint8Array, length: number): { end: number; skip: number } | null {
  for (let i = 0; i + 1 < length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return { end: i, skip: 2 };
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return { end: i, skip: 3 };
  }
  return null;
}

/** Reads up to the blank line ending the request head. Null when the client hung up first. */
async function readHead(
  conn: Deno.Conn,
): Promise<{ head: string; rest: Uint8Array } | "too-large" | null> {
  const buffer = new Uint8Array(PROXY_LIMITS.maxHeadBytes);
  let length = 0;
  while (length < buffer.byteLength) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) return null;
    length += n;
    const found = findHeadEnd(buffer, length);
    if (found) {
      const head = new TextDecoder("latin1").decode(buffer.subarray(0, found.end))
        .replace(/\r$/, "");
      return { head, rest: buffer.slice(found.end + found.skip, length) };
    }
  }
  return "too-large";
}

async function pipe(from: Deno.Conn, to: Deno.Conn, touch: () => void): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      touch();
      await writeAll(to, buffer.subarray(0, n));
      touch();
    }
  } catch {
    // Either side went away: the tunnel is over.
  }
  try {
    await to.closeWrite();
  } catch {
    // already closed
  }
}

function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch {
    // already closed
  }
}

/**
 * Relays bytes between `client` and `upstream` until `untilUpstreamEnds` (only the answer
 * matters) or both directions end; closes both when neither side sent a byte for `idleMs`.
 */
async function relay(
  client: Deno.Conn,
  upstream: Deno.Conn,
  idleMs: number,
  untilUpstreamEnds: boolean,
): Promise<void> {
  let last = performance.now();
  const touch = () => {
    last = performance.now();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const silent = performance.now() - last;
    if (silent >= idleMs) {
      closeQuietly(client);
      closeQuietly(upstream);
    } else {
      timer = setTimeout(check, idleMs - silent);
    }
  };
  timer = setTimeout(check, idleMs);
  try {
    const toClient = pipe(upstream, client, touch);
    const toUpstream = pipe(client, upstream, touch);
    await (untilUpstreamEnds ? toClient : Promise.all([toClient, toUpstream]));
  } finally {
    clearTimeout(timer);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const HOP_BY_HOP = new Set([
  "proxy-connection",
  "proxy-authorization",
  "connection",
  "keep-alive",
  "host",
  "te",
  "upgrade",
]);

/** A refusal (`403`) or a failure upstream (`502`), with the reason for the client. */
interface Denial {
  status: 403 | 502;
  reason: string;
}

/** Why a special address is refused, with the flag that would admit it. */
function specialReason(what: string, address: string, grant: string): string {
  const kind = classifyAddress(address);
  const article = /^[aeiou]/.test(kind ?? "") ? "an" : "a";
  return `${what} is ${
    kind === "host" ? "one of this machine's own addresses" : `${article} ${kind} address`
  }` +
    `: reaching it needs --allow-private-net ${grant}`;
}

/**
 * The addresses an admitted `host:port` may be reached at, after resolving a name: those outside
 * the special ranges, and those a private rule names (by the host as requested, or by address).
 * Undefined when names are left to the `connect` seam.
 */
async function checkedAddresses(
  host: CanonicalHost,
  port: number,
  privateRules: readonly HostRule[],
  resolve: ((host: string) => Promise<string[]>) | undefined,
  timeoutMs: number,
): Promise<string[] | Denial | undefined> {
  const privateGranted = (h: string) => matchHost(h, port, privateRules).allowed;
  if (host.ip !== 0) {
    if (isPublicAddress(host.host) || privateGranted(host.host)) return [host.host];
    const reason = specialReason(`Address "${host.host}"`, host.host, hostPort(host.host, port));
    return { status: 403, reason };
  }
  if (!resolve) return undefined;
  let addresses: string[];
  try {
    addresses = await withTimeout(resolve(host.host), timeoutMs, "timed out");
  } catch {
    return { status: 502, reason: `Cannot resolve "${host.host}"` };
  }
  if (addresses.length === 0) return { status: 502, reason: `Cannot resolve "${host.host}"` };
  if (privateGranted(host.host)) return addresses;
  const usable = addresses.filter((a) => isPublicAddress(a) || privateGranted(a));
  if (usable.length > 0) return usable;
  // Which address is not said: a script granted a wildcard would map a domain's private names.
  return {
    status: 403,
    reason: `Host "${host.host}" resolves to an address that is not public: reaching it needs ` +
      `--allow-private-net ${hostPort(host.host, port)}`,
  };
}

/**
 * Starts the filtering proxy on a unix socket (`socketPath`) or a loopback TCP port.
 *
 * @example A proxy admitting one API
 * ```ts ignore
 * const proxy = startProxy({ port: 0, allow: ["api.example.com"] });
 * // … point HTTPS_PROXY at it …
 * await proxy.close();
 * ```
 *
 * @throws {ValidationError} when a rule of `allow` or `privateAllow` is not a valid host rule.
 */
export function startProxy(options: ProxyOptions): RunningProxy {
  const timeoutMs = options.timeoutMs ?? PROXY_LIMITS.timeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? PROXY_LIMITS.idleTimeoutMs;
  const maxConnections = options.maxConnections ?? PROXY_LIMITS.maxConnections;
  const maxTotal = options.maxTotalConnections ?? PROXY_LIMITS.maxTotalConnections;
  const resolve = options.resolve ?? (options.connect ? undefined : systemResolve);
  const rules = parseHostRules(options.allow);
  // Wildcards never reach special addresses, not even through this list.
  const privateRules = parseHostRules(options.privateAllow ?? [], "private network rule")
    .filter((rule) => rule.kind !== "wildcard");
  const log: ProxyLogEntry[] = [];
  const stats: ProxyStats = { open: 0, peakOpen: 0, accepted: 0, refused: 0 };
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let listener: Deno.Listener;
  if (options.socketPath !== undefined) {
    try {
      if (Deno.lstatSync(options.socketPath).isSocket) Deno.removeSync(options.socketPath);
    } catch {
      // nothing there
    }
    listener = Deno.listen({ transport: "unix", path: options.socketPath });
  } else {
    listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  }

  async function deny(client: Deno.Conn, host: string, port: number, denial: Denial) {
    log.push({ host, port, allowed: denial.status !== 403, reason: denial.reason });
    await writeAll(
      client,
      denial.status === 403
        ? response(403, "Forbidden", denial.reason)
        : response(502, "Bad Gateway", denial.reason),
    );
  }

  async function admit(
    client: Deno.Conn,
    rawHost: string,
    port: number,
  ): Promise<Deno.Conn | null> {
    const host = displayHost(rawHost);
    const verdict = matchHost(rawHost, port, rules);
    const canonical = canonicalHost(rawHost);
    if (!verdict.allowed || !canonical) {
      await deny(client, host, port, { status: 403, reason: verdict.reason ?? "Not granted" });
      return null;
    }
    const addresses = await checkedAddresses(canonical, port, privateRules, resolve, timeoutMs);
    if (addresses !== undefined && !Array.isArray(addresses)) {
      await deny(client, host, port, addresses);
      return null;
    }
    const connecting = options.connect
      ? options.connect(canonical.host, port)
      : connectFirst(addresses ?? [], port);
    try {
      const upstream = await withTimeout(
        connecting,
        timeoutMs,
        `Timed out connecting to ${host}:${port}`,
      );
      log.push({ host, port, allowed: true });
      return upstream;
    } catch {
      // A connection that completes after the timeout is closed, not leaked.
      connecting.then((late) => late.close(), () => {});
      await deny(client, host, port, { status: 502, reason: `Cannot reach ${host}:${port}` });
      return null;
    }
  }

  async function handle(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn | undefined;
    try {
      const read = await withTimeout(readHead(client), timeoutMs, "Request head timed out");
      if (read === null) return;
      if (read === "too-large") {
        await writeAll(client, response(431, "Request Header Fields Too Large", "Head too large"));
        return;
      }
      const [requestLine = "", ...headerLines] = read.head.split(/\r?\n/);
      const [method = "", target = "", version = "HTTP/1.1"] = requestLine.split(" ");
      if (method.toUpperCase() === "CONNECT") {
        const split = splitHostPort(target);
        if (!split || split.port === undefined) {
          await writeAll(client, response(400, "Bad Request", "CONNECT needs host:port"));
          return;
        }
        const conn = await admit(client, split.host, split.port);
        if (!conn) return;
        upstream = conn;
        open.add(upstream);
        await writeAll(
          client,
          new TextEncoder().encode(`${version} 200 Connection established\r\n\r\n`),
        );
        if (read.rest.byteLength > 0) await writeAll(upstream, read.rest);
        await relay(client, upstream, idleTimeoutMs, false);
        return;
      }
      if (!/^http:\/\//i.test(target)) {
        const reason = /^https:\/\//i.test(target)
          ? "Use CONNECT for https URLs"
          : "Proxy requests need an absolute http:// URL";
        await writeAll(client, response(400, "Bad Request", reason));
        return;
      }
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        await writeAll(client, response(400, "Bad Request", "Invalid URL"));
        return;
      }
      if (url.username || url.password) {
        await writeAll(
          client,
          response(400, "Bad Request", "Credentials in proxy URLs are refused"),
        );
        return;
      }
      const port = url.port === "" ? 80 : Number(url.port);
      const conn = await admit(client, url.hostname, port);
      if (!conn) return;
      upstream = conn;
      open.add(upstream);
      const headers = headerLines.filter((line) => {
        const name = line.slice(0, line.indexOf(":")).trim().toLowerCase();
        return line.includes(":") && !HOP_BY_HOP.has(name);
      });
      const head = [
        `${method} ${url.pathname}${url.search} ${version}`,
        `Host: ${url.host}`,
        ...headers,
        "Connection: close",
        "",
        "",
      ].join("\r\n");
      await writeAll(upstream, Uint8Array.from(head, (c) => c.charCodeAt(0) & 0xff));
      if (read.rest.byteLength > 0) await writeAll(upstream, read.rest);
      // One request per connection: the upstream closes after its answer, and so do we.
      await relay(client, upstream, idleTimeoutMs, true);
    } catch {
      // A broken client or upstream ends this exchange only.
    } finally {
      if (upstream) open.delete(upstream);
      open.delete(client);
      closeQuietly(upstream);
      closeQuietly(client);
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        // Past a bound, the connection is closed unread: nothing is kept for it.
        if (stats.open >= maxConnections || stats.accepted >= maxTotal) {
          stats.refused++;
          closeQuietly(conn);
          continue;
        }
        stats.accepted++;
        stats.open++;
        stats.peakOpen = Math.max(stats.peakOpen, stats.open);
        open.add(conn);
        const task = handle(conn).finally(() => {
          stats.open--;
          tasks.delete(task);
        });
        tasks.add(task);
      }
    } catch {
      // listener closed
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    address: listener.addr,
    log,
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        try {
          listener.close();
        } catch {
          // already closed
        }
        for (const conn of open) closeQuietly(conn);
        await accepting;
        await Promise.allSettled([...tasks]);
        if (options.socketPath !== undefined) {
          await Deno.remove(options.socketPath).catch(() => {});
        }
      })();
      return closed;
    },
  };
}
