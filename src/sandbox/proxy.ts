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
 * Names are resolved by the proxy (on the host), and a name admitted by a wildcard rule that
 * resolves to a special address (loopback, private, shared, link-local, unique-local, multicast,
 * unspecified; see `classifyAddress`) is refused, so a wildcard grant cannot be turned against the
 * host's own services (`127.0.0.1.nip.io`), the local network or a cloud metadata endpoint. An
 * exact name rule (say `localhost:8080`) is trusted as written.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import {
  canonicalHost,
  isPublicAddress,
  matchHost,
  parseHostRules,
  splitHostPort,
} from "./host_rules.ts";

/** Opens the upstream connection for an admitted request: the seam tests use to fake upstreams. */
export type ProxyConnect = (host: string, port: number) => Promise<Deno.Conn>;

/** Options of {@linkcode startProxy}. */
export interface ProxyOptions {
  /** Listen on this unix socket path (a stale socket there is replaced). */
  socketPath?: string;
  /** Listen on this loopback TCP port instead (0 = any free port). Ignored when `socketPath` is set. */
  port?: number;
  /** Host rules, in the grammar of `host_rules.ts`. */
  allow: string[];
  /**
   * Exact `host:port` rules (a name or an address, never a wildcard) that are admitted even when
   * they are, or resolve to, a loopback or private address: a package index on this machine or
   * the company network. A separate list, so that no ordinary grant reaches such addresses by
   * accident.
   */
  privateAllow?: string[];
  /** Opens upstream connections; by default resolves the name and connects over TCP. */
  connect?: ProxyConnect;
  /** Resolves names for the default `connect` (default: the system resolver, `getaddrinfo`). */
  resolve?: (host: string) => Promise<string[]>;
  /** Milliseconds allowed to read a request head and to connect upstream (default 15,000). */
  timeoutMs?: number;
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

/** A running proxy. */
export interface RunningProxy {
  /** Where it listens (a unix socket or a loopback TCP address). */
  readonly address: Deno.Addr;
  /** Every request, in order. */
  readonly log: ProxyLogEntry[];
  /** Stops listening, cuts open tunnels and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

const MAX_HEAD_BYTES = 32 * 1024;

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

class ProxyRefusal extends Error {
  override readonly name = "ProxyRefusal";
}

/** The normalised spelling of a host for logs (falls back to lower case when it is not valid). */
function displayHost(host: string): string {
  return canonicalHost(host)?.host ?? host.toLowerCase();
}

/** Resolves a name with the system resolver (honours /etc/hosts and nsswitch, like curl would). */
async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}

/** Resolves `host` on the host machine and connects to the first acceptable address. */
async function defaultConnect(
  host: string,
  port: number,
  allowInternal: boolean,
  resolve: (host: string) => Promise<string[]>,
): Promise<Deno.Conn> {
  if (isIP(host)) return await Deno.connect({ hostname: host, port });
  const addresses = await resolve(host);
  const usable = allowInternal ? addresses : addresses.filter(isPublicAddress);
  if (usable.length === 0) {
    throw new ProxyRefusal(`Host "${host}" resolves to a local address`);
  }
  let lastError: unknown;
  for (const address of usable) {
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
  const buffer = new Uint8Array(MAX_HEAD_BYTES);
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

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      await writeAll(to, buffer.subarray(0, n));
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
 * @throws {ValidationError} when a rule of `allow` is not a valid host rule.
 */
export function startProxy(options: ProxyOptions): RunningProxy {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const resolve = options.resolve ?? systemResolve;
  const rules = parseHostRules(options.allow);
  // Wildcards never reach private addresses, not even through this list.
  const privateRules = parseHostRules(options.privateAllow ?? [], "private network rule")
    .filter((rule) => rule.kind !== "wildcard");
  const log: ProxyLogEntry[] = [];
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

  async function admit(
    client: Deno.Conn,
    rawHost: string,
    port: number,
  ): Promise<Deno.Conn | null> {
    const host = displayHost(rawHost);
    const privateVerdict = matchHost(rawHost, port, privateRules);
    const verdict = privateVerdict.allowed ? privateVerdict : matchHost(rawHost, port, rules);
    if (!verdict.allowed) {
      log.push({ host, port, allowed: false, reason: verdict.reason });
      await writeAll(client, response(403, "Forbidden", verdict.reason ?? "Not granted"));
      return null;
    }
    const connect = options.connect ??
      ((h: string, p: number) =>
        defaultConnect(h, p, privateVerdict.allowed || verdict.exact === true, resolve));
    const connecting = connect(host, port);
    try {
      const upstream = await withTimeout(
        connecting,
        timeoutMs,
        `Timed out connecting to ${host}:${port}`,
      );
      log.push({ host, port, allowed: true });
      return upstream;
    } catch (error) {
      // A connection that completes after the timeout is closed, not leaked.
      connecting.then((late) => late.close(), () => {});
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof ProxyRefusal) {
        log.push({ host, port, allowed: false, reason });
        await writeAll(client, response(403, "Forbidden", reason));
      } else {
        log.push({ host, port, allowed: true, reason });
        await writeAll(client, response(502, "Bad Gateway", `Cannot reach ${host}:${port}`));
      }
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
        await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
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
      const toClient = pipe(upstream, client);
      pipe(client, upstream).catch(() => {});
      await toClient;
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
        open.add(conn);
        const task = handle(conn);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // listener closed
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    address: listener.addr,
    log,
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
