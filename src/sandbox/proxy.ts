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
 * A grant names one site, not every site at its address: what a tunnel carries first is read
 * before any of it is relayed ({@linkcode tunnelOpening}), and a TLS server name or a `Host` that
 * names another site is refused (its log entry then says why). A plain request goes up alone,
 * its body as long as it says: nothing pipelined after it reaches the upstream.
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

/**
 * Bytes as text, one character per byte (ISO-8859-1): what is checked is what {@linkcode latin1}
 * writes back. `TextDecoder("latin1")` is windows-1252 by the web's Encoding standard: it read
 * 0x93 as U+201C, which went up as 0x1C past the check of control characters.
 */
function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
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

/**
 * Reads up to the blank line ending a request head, within {@linkcode PROXY_LIMITS}'s
 * `maxHeadBytes`: the proxy's own request, and one a tunnel carries. Null when the client hung
 * up first.
 */
async function readHead(
  buffered: Buffered,
): Promise<{ head: string; rest: Uint8Array } | "too-large" | null> {
  while (true) {
    const view = buffered.view();
    const found = findHeadEnd(view, Math.min(view.byteLength, PROXY_LIMITS.maxHeadBytes));
    if (found) {
      const head = latin1Text(view.subarray(0, found.end)).replace(/\r$/, "");
      return { head, rest: view.slice(found.end + found.skip) };
    }
    if (view.byteLength >= PROXY_LIMITS.maxHeadBytes) return "too-large";
    if (!await buffered.fill(view.byteLength + 1)) return null;
  }
}

async function pipe(
  from: Deno.Conn,
  to: Deno.Conn,
  touch: () => void,
  watch?: { decide: (first: Uint8Array) => boolean | undefined; told: (v: boolean) => void },
): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  /** What was relayed so far, until `watch.decide` tells (false when the stream ends first). */
  let first: Uint8Array | undefined = watch && new Uint8Array(0);
  const tell = (verdict: boolean) => {
    if (first === undefined) return;
    watch!.told(verdict);
    first = undefined;
  };
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      touch();
      if (first !== undefined) {
        const joined = new Uint8Array(first.byteLength + n);
        joined.set(first);
        joined.set(buffer.subarray(0, n), first.byteLength);
        first = joined;
        const verdict = watch!.decide(first);
        if (verdict !== undefined) tell(verdict);
        else if (first.byteLength > MAX_CLIENT_HELLO_BYTES) tell(false);
      }
      await writeAll(to, buffer.subarray(0, n));
      touch();
    }
  } catch {
    // Either side went away: the tunnel is over.
  } finally {
    tell(false);
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
 * Relays bytes between `client` and `upstream` until both directions end, or, given `send` (what
 * goes up: one request's body), until the upstream's answer ends; closes both when neither side
 * sent a byte for `idleMs`.
 */
async function relay(
  client: Deno.Conn,
  upstream: Deno.Conn,
  idleMs: number,
  send?: (touch: () => void) => Promise<void>,
): Promise<void> {
  const idle = idleWatch(client, upstream, idleMs);
  try {
    const toClient = pipe(upstream, client, idle.touch);
    if (send) {
      // One request: its body goes up, nothing the client sends after it does.
      send(idle.touch).catch(() => {});
      await toClient;
    } else await Promise.all([toClient, pipe(client, upstream, idle.touch)]);
  } finally {
    idle.stop();
  }
}

/** Closes both connections once neither sent a byte for `idleMs` (`touch` on every byte). */
function idleWatch(
  client: Deno.Conn,
  upstream: Deno.Conn,
  idleMs: number,
): { touch: () => void; stop: () => void } {
  let last = performance.now();
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
  return {
    touch: () => {
      last = performance.now();
    },
    stop: () => clearTimeout(timer),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A TLS record of the handshake protocol, and the handshake message that opens a session. */
const TLS_HANDSHAKE = 0x16;
const TLS_CHANGE_CIPHER_SPEC = 0x14;
const TLS_CLIENT_HELLO = 0x01;
/** The ClientHello extensions read: the server's name, and early data (0-RTT). */
const EXT_SERVER_NAME = 0x0000;
const EXT_EARLY_DATA = 0x002a;
/** An encrypted name: ECH (0xfe0d, and its drafts' 0xfe08-0xfe0c) and ESNI (0xffce). */
function hidesName(type: number): boolean {
  return (type >= 0xfe08 && type <= 0xfe0d) || type === 0xff02 || type === 0xffce;
}
/** A TLS record of application data (a client's early data, before a retry's second hello). */
const TLS_APPLICATION_DATA = 0x17;
/** The largest ClientHello read (post-quantum key shares make one ≈ 2 KiB). */
const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/** Bytes of a connection read on demand, after those already read. */
class Buffered {
  bytes: Uint8Array;
  length: number;
  constructor(readonly conn: Deno.Conn, first: Uint8Array) {
    this.bytes = new Uint8Array(Math.max(4096, first.byteLength));
    this.bytes.set(first);
    this.length = first.byteLength;
  }
  /** Reads until at least `n` bytes are there; false when the client ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n) {
      if (this.length === this.bytes.byteLength) {
        const grown = new Uint8Array(this.bytes.byteLength * 2);
        grown.set(this.bytes);
        this.bytes = grown;
      }
      const read = await this.conn.read(this.bytes.subarray(this.length));
      if (read === null) return false;
      this.length += read;
    }
    return true;
  }
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** What the first bytes a tunnel carries are (see {@linkcode tunnelOpening}). */
type Opening =
  | { kind: "tls"; hello: ClientHello; end: number }
  | { kind: "http"; head: string; rest: Uint8Array }
  | { kind: "other" }
  | { kind: "refused"; reason: string };

/** What a ClientHello says of the site it asks for. */
interface ClientHello {
  serverName: string | null;
  /** An encrypted name (ECH, ESNI) is offered. */
  ech: boolean;
  /** Early data (0-RTT) follows it. */
  earlyData: boolean;
}

/** The server name and ECH flag of a ClientHello's body; throws on a malformed one. */
function readClientHello(body: Uint8Array): ClientHello {
  let p = 0;
  const need = (n: number) => {
    if (p + n > body.byteLength) throw new RangeError("truncated ClientHello");
  };
  const u8 = () => (need(1), body[p++]!);
  const u16 = () => (need(2), p += 2, (body[p - 2]! << 8) | body[p - 1]!);
  const skip = (n: number) => (need(n), p += n);
  skip(2 + 32); // legacy version, random
  skip(u8()); // session id
  skip(u16()); // cipher suites
  skip(u8()); // compression methods
  let serverName: string | null = null;
  let ech = false;
  let earlyData = false;
  if (p === body.byteLength) return { serverName, ech, earlyData };
  const end = u16() + p;
  if (end > body.byteLength) throw new RangeError("truncated extensions");
  const names = new Set<number>();
  while (p < end) {
    const type = u16();
    const length = u16();
    need(length);
    const data = body.subarray(p, p + length);
    p += length;
    if (names.has(type)) throw new RangeError("an extension given twice");
    names.add(type);
    if (hidesName(type)) ech = true;
    if (type === EXT_EARLY_DATA) earlyData = true;
    if (type !== EXT_SERVER_NAME) continue;
    // server_name_list: a 2-byte length, then (type, 2-byte length, name) entries; host_name
    // (0) is the only type there is, and one name the most a server reads.
    let q = 2;
    const listEnd = 2 + ((data[0]! << 8) | data[1]!);
    if (data.byteLength < 2 || listEnd !== data.byteLength) throw new RangeError("bad server_name");
    while (q < listEnd) {
      if (q + 3 > listEnd) throw new RangeError("bad server_name");
      const kind = data[q]!;
      const size = (data[q + 1]! << 8) | data[q + 2]!;
      q += 3;
      if (q + size > listEnd) throw new RangeError("bad server_name");
      if (kind !== 0 || serverName !== null) throw new RangeError("an unknown or second name");
      serverName = latin1Text(data.subarray(q, q + size));
      q += size;
    }
  }
  // Nothing after the extensions either: a lenient server could read a second name there.
  if (p !== end || end !== body.byteLength) throw new RangeError("trailing bytes");
  return { serverName, ech, earlyData };
}

/**
 * Reads one TLS handshake message from the client's records at `offset`: it must be a ClientHello
 * that fills its records exactly (a record holding more would carry a second ClientHello past the
 * check). Given `afterRetry` (the second hello, after a HelloRetryRequest), the one-byte
 * ChangeCipherSpec records TLS 1.3 sends for middleboxes are skipped first, and the early data
 * records the first hello announced (which the server drops after a retry). Returns what it asks
 * for and where its records end.
 */
async function readHandshake(
  buffered: Buffered,
  offset: number,
  afterRetry?: { earlyData: boolean },
): Promise<{ hello: ClientHello; end: number } | { refused: string }> {
  const truncated = { refused: "Truncated TLS" };
  const expected = { refused: "A TLS ClientHello was expected" };
  let handshake = new Uint8Array(0);
  let wanted = 4;
  while (handshake.byteLength < wanted) {
    if (!await buffered.fill(offset + 5)) return truncated;
    const view = buffered.view();
    const type = view[offset]!;
    const length = (view[offset + 3]! << 8) | view[offset + 4]!;
    if (offset + 5 + length > MAX_CLIENT_HELLO_BYTES) {
      return { refused: "The TLS ClientHello is too large" };
    }
    if (!await buffered.fill(offset + 5 + length)) return truncated;
    const payload = buffered.view().subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if (type === TLS_CHANGE_CIPHER_SPEC && afterRetry && handshake.byteLength === 0) {
      if (length !== 1 || payload[0] !== 1) return expected;
      continue;
    }
    if (type === TLS_APPLICATION_DATA && afterRetry?.earlyData && handshake.byteLength === 0) {
      continue;
    }
    if (type !== TLS_HANDSHAKE) return expected;
    const joined = new Uint8Array(handshake.byteLength + payload.byteLength);
    joined.set(handshake);
    joined.set(payload, handshake.byteLength);
    handshake = joined;
    if (handshake.byteLength >= 4) {
      if (handshake[0] !== TLS_CLIENT_HELLO) return expected;
      wanted = 4 + ((handshake[1]! << 16) | (handshake[2]! << 8) | handshake[3]!);
    }
  }
  if (handshake.byteLength !== wanted) {
    return { refused: "A TLS record holds more than the ClientHello" };
  }
  try {
    return { hello: readClientHello(handshake.subarray(4, wanted)), end: offset };
  } catch {
    return { refused: "A malformed TLS ClientHello" };
  }
}

/** The `random` of a ServerHello that is a HelloRetryRequest (RFC 8446, 4.1.3). */
const HELLO_RETRY_RANDOM = Uint8Array.fromHex(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c",
);

/**
 * Whether a server's first bytes are a HelloRetryRequest (a ServerHello with its random), read
 * through records however small a server cuts them; undefined until they tell.
 */
function helloRetryIn(first: Uint8Array): boolean | undefined {
  // The handshake's type, length, version and random: 38 bytes.
  const handshake = new Uint8Array(38);
  let have = 0;
  let offset = 0;
  while (have < handshake.byteLength) {
    if (first.byteLength < offset + 5) return undefined;
    if (first[offset] !== TLS_HANDSHAKE) return false;
    const length = (first[offset + 3]! << 8) | first[offset + 4]!;
    const payload = first.subarray(offset + 5, offset + 5 + length);
    const taken = payload.subarray(0, handshake.byteLength - have);
    handshake.set(taken, have);
    have += taken.byteLength;
    if (have < handshake.byteLength && payload.byteLength < length) return undefined;
    offset += 5 + length;
  }
  if (handshake[0] !== 2) return false;
  return HELLO_RETRY_RANDOM.every((byte, i) => handshake[6 + i] === byte);
}

/**
 * Reads what a tunnel's client sends first, before anything of it is relayed: a TLS ClientHello
 * (its server name), an HTTP/1 request head, or anything else (a protocol with no name in it).
 * A front end shared by many sites (a CDN, a shared host) routes by the TLS server name or the
 * `Host` header, not by the name the tunnel was granted for, so both are checked against it.
 */
async function tunnelOpening(buffered: Buffered): Promise<Opening> {
  if (!await buffered.fill(1)) return { kind: "refused", reason: "The client sent nothing" };
  const first = buffered.view()[0]!;
  if (first === TLS_HANDSHAKE) {
    const read = await readHandshake(buffered, 0);
    return "refused" in read ? { kind: "refused", reason: read.refused } : { kind: "tls", ...read };
  }
  // An SSLv2-format hello (high bit set) carries no server name; a TLS record of another type
  // first (a warning alert, which rustls skips before the ClientHello it then reads) hides it.
  if (first >= 0x80) return { kind: "refused", reason: "An SSLv2-format hello is refused" };
  if (first >= 0x14 && first <= 0x18) {
    return { kind: "refused", reason: "A TLS record other than a ClientHello came first" };
  }
  // Text: an HTTP request (servers skip empty lines before it; Python's, any whitespace
  // `str.split` knows: \v, \f, \x1c-\x1f) is read to its head's end.
  if ((first >= 0x09 && first <= 0x0d) || (first >= 0x1c && first < 0x7f)) {
    // Text that is no HTTP/1 request (a line too long to be one, another protocol) is never
    // relayed: a server may read it as one all the same.
    const read = await readHead(buffered);
    if (read === null) return { kind: "refused", reason: "Truncated request head" };
    if (read === "too-large") return { kind: "refused", reason: "Request head too large" };
    return { kind: "http", head: read.head.replace(/^[\r\n]+/, ""), rest: read.rest };
  }
  return { kind: "other" };
}

/** Whether `line` holds a control character other than a tab. */
function hasControl(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** A request line in origin form (`GET /path HTTP/1.1`), the only one the proxy forwards. */
const ORIGIN_REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (\/\S*|\*) HTTP\/1\.[01]$/;

/**
 * The one request a connection carries, as forwarded: its head with the hop-by-hop fields
 * dropped and `Connection: close`, and how many body bytes follow (its `Content-Length`); or why
 * it is refused. A chunked body is refused: the request would not end where the proxy thinks,
 * and a second request after it would reach the upstream unchecked.
 */
function oneRequest(
  requestLine: string,
  host: string,
  headerLines: readonly string[],
): { head: string; bodyBytes: number } | { refused: string } {
  let bodyBytes: number | undefined;
  const kept: string[] = [];
  // A bare CR (or another control character) is a line break to some servers: a second Host.
  if ([requestLine, ...headerLines].some(hasControl)) {
    return { refused: "A control character in the request head" };
  }
  if (!ORIGIN_REQUEST_LINE.test(requestLine)) {
    return { refused: "A request line must be METHOD /path HTTP/1.x" };
  }
  for (const line of headerLines) {
    // A field name is a token, right before its colon: a line a server does not take for a field
    // (a space in the name, a folded line) ends its head there, and what follows, the body, was
    // read as a second request naming another site.
    const colon = line.indexOf(":");
    if (colon <= 0 || !FIELD_NAME.test(line.slice(0, colon))) {
      return { refused: "A malformed header line" };
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding") {
      return { refused: "Chunked request bodies are not relayed: send a Content-Length" };
    }
    if (name === "content-length") {
      if (!/^\d{1,15}$/.test(value) || bodyBytes !== undefined) {
        return { refused: "A request needs one valid Content-Length" };
      }
      bodyBytes = Number(value);
      continue;
    }
    if (!dropped(name)) kept.push(line);
  }
  // What frames the request first, in the proxy's own words.
  const head = [
    requestLine,
    `Host: ${host}`,
    "Connection: close",
    ...bodyBytes === undefined ? [] : [`Content-Length: ${bodyBytes}`],
    ...kept,
    "",
    "",
  ].join("\r\n");
  return { head, bodyBytes: bodyBytes ?? 0 };
}

/**
 * Whether a field never goes up: a hop-by-hop one, or one naming another host as a front end
 * behind a proxy may read it (`X-Forwarded-Host`, `Forwarded`, `X-HTTP-Host-Override`…), its
 * underscores read as dashes as WSGI's servers read them (`X_Forwarded_Host`).
 */
function dropped(name: string): boolean {
  const dashed = name.toLowerCase().replaceAll("_", "-");
  return HOP_BY_HOP.has(dashed) || /host|forwarded|^x-original/.test(dashed);
}

/** An HTTP field name: a token (RFC 9110, 5.1). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Writes `bodyBytes` of the client's body upstream: `rest` first, then what it sends next. */
async function sendBody(
  client: Deno.Conn,
  upstream: Deno.Conn,
  rest: Uint8Array,
  bodyBytes: number,
  touch: () => void,
): Promise<void> {
  let left = bodyBytes;
  const first = rest.subarray(0, Math.min(left, rest.byteLength));
  if (first.byteLength > 0) await writeAll(upstream, first);
  left -= first.byteLength;
  const buffer = new Uint8Array(64 * 1024);
  while (left > 0) {
    const n = await client.read(buffer.subarray(0, Math.min(left, buffer.byteLength)));
    if (n === null) return;
    touch();
    await writeAll(upstream, buffer.subarray(0, n));
    left -= n;
  }
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

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/**
 * Whether a name as a server will read it (a TLS server name, a `Host`) is `granted`, spelled as
 * the grant's canonical form is, but for case and one trailing dot: what a parser would change (a
 * soft hyphen `new URL` drops, `0x7f.1` for `127.0.0.1`) leaves the server a name it does not
 * know, and its default site, another one, answers.
 */
function namesGranted(raw: string, granted: CanonicalHost): boolean {
  const name = raw.toLowerCase().replace(/\.$/, "");
  if (granted.ip === 0) return /^[a-z0-9.-]+$/.test(name) && name === granted.host;
  return name === granted.host;
}

/**
 * Why a ClientHello asks for another site than `granted`: a server name that is not it (none
 * only for a tunnel to an address), or an encrypted ClientHello, which hides the name; else
 * undefined.
 */
function helloRefusal(hello: ClientHello, granted: CanonicalHost): string | undefined {
  if (hello.ech) return "An encrypted ClientHello (ECH) hides the server's name: refused";
  if (hello.serverName === null) {
    return granted.ip !== 0 ? undefined : "The TLS ClientHello names no server";
  }
  if (!namesGranted(hello.serverName, granted)) {
    return `The TLS ClientHello names "${displayHost(hello.serverName)}", ` +
      `not the host the tunnel was granted for ("${granted.host}")`;
  }
  return undefined;
}

/**
 * Relays a TLS tunnel whose first ClientHello (the records up to `end` of what the client sent)
 * passed {@linkcode helloRefusal}. Nothing more goes up until the server's first message is seen
 * on its way down: a HelloRetryRequest asks the client for a second ClientHello, which a server
 * (OpenSSL's) may take a new name from, so that one must pass the same check. Returns why the
 * tunnel was cut, when it was.
 */
async function relayTls(
  client: Deno.Conn,
  upstream: Deno.Conn,
  buffered: Buffered,
  first: { end: number; earlyData: boolean },
  granted: CanonicalHost,
  idleMs: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const { end, earlyData } = first;
  const idle = idleWatch(client, upstream, idleMs);
  try {
    await writeAll(upstream, buffered.view().slice(0, end));
    let told!: (retry: boolean) => void;
    const retry = new Promise<boolean>((resolve) => told = resolve);
    const toClient = pipe(upstream, client, idle.touch, { decide: helloRetryIn, told });
    if (await withTimeout(retry, timeoutMs, "No answer to the ClientHello")) {
      const second = await withTimeout(
        readHandshake(buffered, end, { earlyData }),
        timeoutMs,
        "No second ClientHello",
      );
      const refused = "refused" in second ? second.refused : helloRefusal(second.hello, granted);
      if (refused !== undefined) return refused;
    }
    // What the client sent meanwhile (the second ClientHello, early data) goes up, then the rest.
    const held = buffered.view().slice(end);
    if (held.byteLength > 0) await writeAll(upstream, held);
    await Promise.all([toClient, pipe(client, upstream, idle.touch)]);
    return undefined;
  } finally {
    idle.stop();
  }
}

/**
 * Whether a tunnel's opening names only the host it was `granted` for (as the CONNECT line gave
 * it): a TLS server name equal to it (none only for a tunnel to an address), never an encrypted
 * ClientHello, which hides the name; an HTTP/1 request with one `Host` naming it, which then goes
 * up as the tunnel's one request (with what followed its head). Anything else carries no name and
 * goes up as it is.
 */
function tunnelChecked(
  opening: Opening,
  granted: CanonicalHost,
): { refused: string } | { request?: { head: string; bodyBytes: number; rest: Uint8Array } } {
  if (opening.kind === "refused") return { refused: opening.reason };
  if (opening.kind === "other") return {};
  if (opening.kind === "tls") {
    const refused = helloRefusal(opening.hello, granted);
    return refused === undefined ? {} : { refused };
  }
  const [requestLine = "", ...headerLines] = opening.head.split(/\r?\n/);
  const hosts = headerLines.filter((line) => /^host\s*:/i.test(line));
  const value = hosts.length === 1 ? hosts[0]!.slice(hosts[0]!.indexOf(":") + 1).trim() : "";
  const request = oneRequest(requestLine, value, headerLines);
  if ("refused" in request) return request;
  const named = splitHostPort(value);
  if (!named || !namesGranted(named.host, granted)) {
    return {
      refused: `A tunnelled request must name the host the tunnel was granted for ` +
        `("${granted.host}") in one Host header`,
    };
  }
  return { request: { ...request, rest: opening.rest } };
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
  ): Promise<{ upstream: Deno.Conn; entry: ProxyLogEntry } | null> {
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
      const entry: ProxyLogEntry = { host, port, allowed: true };
      log.push(entry);
      return { upstream, entry };
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
      const read = await withTimeout(
        readHead(new Buffered(client, new Uint8Array(0))),
        timeoutMs,
        "Request head timed out",
      );
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
        const admitted = await admit(client, split.host, split.port);
        if (!admitted) return;
        upstream = admitted.upstream;
        open.add(upstream);
        await writeAll(
          client,
          new TextEncoder().encode(`${version} 200 Connection established\r\n\r\n`),
        );
        // Nothing goes up before the tunnel's first bytes are read and found to name no other
        // site than the one granted (a protocol whose server speaks first is not relayed).
        const buffered = new Buffered(client, read.rest);
        const opening = await withTimeout(
          tunnelOpening(buffered),
          timeoutMs,
          "Tunnel opening timed out",
        );
        // Admitted: the host is one the rules read.
        const granted = canonicalHost(split.host)!;
        const checked = tunnelChecked(opening, granted);
        if ("refused" in checked) {
          admitted.entry.allowed = false;
          admitted.entry.reason = checked.refused;
          if (opening.kind === "http") {
            await writeAll(client, response(403, "Forbidden", checked.refused));
          }
          return;
        }
        if (opening.kind === "tls") {
          const cut = await relayTls(
            client,
            upstream,
            buffered,
            { end: opening.end, earlyData: opening.hello.earlyData },
            granted,
            idleTimeoutMs,
            timeoutMs,
          );
          if (cut !== undefined) {
            admitted.entry.allowed = false;
            admitted.entry.reason = cut;
          }
        } else if (checked.request) {
          await writeAll(upstream, latin1(checked.request.head));
          const { bodyBytes, rest } = checked.request;
          await relay(
            client,
            upstream,
            idleTimeoutMs,
            (touch) => sendBody(client, upstream!, rest, bodyBytes, touch),
          );
        } else {
          await writeAll(upstream, buffered.view());
          await relay(client, upstream, idleTimeoutMs);
        }
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
      const request = oneRequest(
        `${method} ${url.pathname}${url.search} ${version}`,
        url.host,
        headerLines,
      );
      if ("refused" in request) {
        await writeAll(client, response(400, "Bad Request", request.refused));
        return;
      }
      const port = url.port === "" ? 80 : Number(url.port);
      const admitted = await admit(client, url.hostname, port);
      if (!admitted) return;
      upstream = admitted.upstream;
      open.add(upstream);
      await writeAll(upstream, latin1(request.head));
      // One request per connection, its body as long as it says: a request pipelined after it
      // (naming another site at the same address) never goes up. The upstream closes after its
      // answer, and so do we.
      const { bodyBytes } = request;
      await relay(
        client,
        upstream,
        idleTimeoutMs,
        (touch) => sendBody(client, upstream!, read.rest, bodyBytes, touch),
      );
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
