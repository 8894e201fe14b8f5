/**
 * Host rules: the one grammar of network grants, read the same way by the proxy, by the Deno
 * permission flags and by the policy that meets a script's needs with the user's grants.
 *
 * A rule is one of:
 * - `api.example.com`: exactly that name, on ports 80 and 443.
 * - `*.example.com`: every subdomain at any depth (`api.example.com`, `a.b.example.com`), but
 *   neither the apex `example.com` nor a look-alike such as `evil-example.com`.
 * - `host:8443`, `*.example.com:8080`, `[::1]:8080`: that port only, instead of 80 and 443.
 * - An IPv4 or IPv6 address (`10.0.0.5`, `::1`, `[::1]`): that address only. Wildcards never match
 *   an address. Numeric IPv4 spellings (`0x7f.1`, `2130706433`, `127.1`) mean the address they
 *   spell, as a URL parser reads them.
 *
 * Names are read as a URL's host is (WHATWG URL, as `fetch` reads it): case is ignored, one
 * trailing dot is dropped and international names become their ASCII (punycode) form, so
 * `Bücher.Example.` and `xn--bcher-kva.example` are the same rule. A bare `*`, user info, paths,
 * percent escapes, empty labels and labels that start or end with a hyphen are refused with a
 * reason: {@linkcode parseHostRule} says why, {@linkcode parseHostRules} throws a ValidationError
 * naming the rule.
 *
 * The special address ranges (loopback, private, link-local, unique-local, shared, multicast,
 * unspecified, reserved; IPv4-mapped, IPv4-compatible and NAT64 forms of them) are defined here
 * once too: a name admitted by a wildcard must never lead to one of them.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** What kind of host a rule names. */
export type HostRuleKind = "name" | "wildcard" | "address";

/** A valid host rule, in canonical form. */
export interface HostRule {
  /** The rule as it was written. */
  readonly text: string;
  /** An exact name, a wildcard over subdomains, or an IP address. */
  readonly kind: HostRuleKind;
  /**
   * Canonical host: lower-case ASCII (punycode) without a trailing dot for names; the suffix
   * without `*.` for wildcards; dotted decimal for IPv4; the shortest form without brackets
   * for IPv6.
   */
  readonly host: string;
  /** The ports admitted: the rule's explicit port, or 80 and 443. */
  readonly ports: readonly number[];
}

/** The outcome of {@linkcode parseHostRule}: a rule, or why the text is not one. */
export type HostRuleParse =
  | { readonly ok: true; readonly rule: HostRule }
  | { readonly ok: false; readonly reason: string };

/** A host in canonical form (see {@linkcode canonicalHost}). */
export interface CanonicalHost {
  /** Lower-case ASCII name, dotted-decimal IPv4, or IPv6 without brackets. */
  readonly host: string;
  /** 4 or 6 for an address, 0 for a name. */
  readonly ip: 0 | 4 | 6;
}

/** The verdict of {@linkcode matchHost}. */
export interface HostMatch {
  /** Whether a rule admits the host on that port. */
  readonly allowed: boolean;
  /** Why it was refused (a sentence for a `403`), when it was. */
  readonly reason?: string;
  /** True when an exact name or address rule admitted it (not a wildcard). */
  readonly exact?: boolean;
}

/** The class of an IP address: `public`, or one of the special ranges. */
export type AddressClass =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "reserved"
  | "host";

/** A special address range. */
export interface AddressRange {
  /** The range in CIDR notation (`127.0.0.0/8`, `fc00::/7`). */
  readonly cidr: string;
  /** What the range is for. */
  readonly class: Exclude<AddressClass, "public" | "host">;
}

/** Ports a rule without an explicit port admits. */
export const DEFAULT_PORTS: readonly number[] = [80, 443];

/**
 * The special address ranges: what a name admitted by a wildcard rule must never lead to (the
 * host's own services, the local network, a cloud metadata endpoint).
 */
export const SPECIAL_RANGES: readonly AddressRange[] = [
  { cidr: "0.0.0.0/8", class: "unspecified" },
  { cidr: "10.0.0.0/8", class: "private" },
  { cidr: "100.64.0.0/10", class: "shared" },
  { cidr: "127.0.0.0/8", class: "loopback" },
  { cidr: "169.254.0.0/16", class: "link-local" },
  { cidr: "172.16.0.0/12", class: "private" },
  // IANA's special-purpose ranges that no public service uses: protocol assignments,
  // documentation (TEST-NET-1 to 3, which a lab may give its hosts), benchmarking, 6to4 relays.
  { cidr: "192.0.0.0/24", class: "reserved" },
  { cidr: "192.0.2.0/24", class: "reserved" },
  { cidr: "192.88.99.0/24", class: "reserved" },
  { cidr: "192.168.0.0/16", class: "private" },
  { cidr: "198.18.0.0/15", class: "reserved" },
  { cidr: "198.51.100.0/24", class: "reserved" },
  { cidr: "203.0.113.0/24", class: "reserved" },
  { cidr: "224.0.0.0/4", class: "multicast" },
  { cidr: "240.0.0.0/4", class: "reserved" },
  { cidr: "::/128", class: "unspecified" },
  { cidr: "::1/128", class: "loopback" },
  // Local-use NAT64 (RFC 8215): a site's own translator, to whatever IPv4 it reaches.
  { cidr: "64:ff9b:1::/48", class: "private" },
  // Discard-only, Teredo (its IPv4 addresses obfuscated), benchmarking, documentation, ORCHIDv2,
  // the newer documentation range, SRv6 segment identifiers.
  { cidr: "100::/64", class: "reserved" },
  { cidr: "2001::/32", class: "reserved" },
  { cidr: "2001:2::/48", class: "reserved" },
  { cidr: "2001:db8::/32", class: "reserved" },
  { cidr: "2001:20::/28", class: "reserved" },
  { cidr: "3fff::/20", class: "reserved" },
  { cidr: "5f00::/16", class: "reserved" },
  { cidr: "fc00::/7", class: "unique-local" },
  { cidr: "fe80::/10", class: "link-local" },
  { cidr: "fec0::/10", class: "private" },
  { cidr: "ff00::/8", class: "multicast" },
];

/**
 * IPv6 prefixes whose last 32 bits are an IPv4 address that decides the class: IPv4-mapped
 * (`::ffff:0:0/96`), IPv4-translated (`::ffff:0:0:0/96`), IPv4-compatible (`::/96`, but for `::`
 * and `::1`) and NAT64 (`64:ff9b::/96`). A 6to4 address (`2002::/16`) carries its IPv4 address in
 * bits 16 to 47 (see {@linkcode embeddedIPv4}).
 */
const EMBEDDING_PREFIXES: readonly number[][] = [
  [0, 0, 0, 0, 0, 0xffff],
  [0, 0, 0, 0, 0xffff, 0],
  [0, 0, 0, 0, 0, 0],
  [0x64, 0xff9b, 0, 0, 0, 0],
];

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** One decimal octet of a dotted-quad IPv4 address: 0 to 255, no leading zero. */
const OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
/** One group of an IPv6 address: 1 to 4 hex digits. */
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function isDottedQuad(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((part) => OCTET.test(part));
}

function isIPv6Text(text: string): boolean {
  let hex = text;
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return false;
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    // An IPv4 address in the last 32 bits (`::ffff:127.0.0.1`) counts as two groups.
    if (!isDottedQuad(last)) return false;
    hex = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = hex.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  if (halves.length === 1) {
    const all = groups(hex);
    return all.length === 8 && all.every((g) => HEX_GROUP.test(g));
  }
  const [head, tail] = [groups(halves[0]!), groups(halves[1]!)];
  return head.length + tail.length <= 7 && [...head, ...tail].every((g) => HEX_GROUP.test(g));
}

/**
 * 4 for a dotted-quad IPv4 address, 6 for an IPv6 address (without brackets or zone), else 0:
 * the literals `node:net`'s `isIP` accepts, without its zone ids, and without loading `node:net`.
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (isDottedQuad(text)) return 4;
  return isIPv6Text(text) ? 6 : 0;
}

/** Splits `host[:port]` (IPv6 in brackets when a port follows). Null when malformed. */
export function splitHostPort(text: string): { host: string; port?: number } | null {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return null;
    host = text.slice(1, end);
    const after = text.slice(end + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return null;
      portText = after.slice(1);
    }
  } else if (text.split(":").length === 2) {
    const at = text.indexOf(":");
    host = text.slice(0, at);
    portText = text.slice(at + 1);
  }
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  return { host, port };
}

/** Why `raw` is not a host, or its canonical form. */
function readHost(raw: string): CanonicalHost | string {
  let host = raw;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "") return "the host is empty";
  if (host.includes(":")) {
    if (ipVersion(host) !== 6) return "it is not a valid IPv6 address";
    try {
      return { host: new URL(`http://[${host}]/`).hostname.slice(1, -1), ip: 6 };
    } catch {
      return "it is not a valid IPv6 address";
    }
  }
  // Refuse what a URL parser would read as more than a host, or would silently rewrite.
  const bad = /[\s/\\@?#%:[\]*]/.exec(host);
  if (bad) return `it contains ${JSON.stringify(bad[0])}`;
  if (host.endsWith(".")) host = host.slice(0, -1);
  let parsed: string;
  try {
    parsed = new URL(`http://${host}/`).hostname;
  } catch {
    return "it is not a valid host name";
  }
  if (ipVersion(parsed) === 4) return { host: parsed, ip: 4 };
  if (parsed === "" || parsed.length > 253) return "it is not a valid host name";
  const label = parsed.split(".").find((part) => !LABEL.test(part));
  if (label !== undefined) {
    return label === ""
      ? "it has an empty label"
      : `its label ${JSON.stringify(label)} is not a valid DNS label`;
  }
  return { host: parsed, ip: 0 };
}

/**
 * The canonical form of a host as a client names it: lower case, one trailing dot dropped, IPv6
 * without brackets and in its shortest form, IPv4 in dotted decimal (whatever spelling it came
 * in), international names as punycode. Null for anything that is not a plain host or address.
 *
 * @example
 * ```ts
 * import { canonicalHost } from "./host_rules.ts";
 * canonicalHost("Bücher.Example."); // { host: "xn--bcher-kva.example", ip: 0 }
 * canonicalHost("0x7f.1"); // { host: "127.0.0.1", ip: 4 }
 * ```
 */
export function canonicalHost(raw: string): CanonicalHost | null {
  const read = readHost(raw);
  return typeof read === "string" ? null : read;
}

/**
 * Reads one host rule. Never throws: an invalid rule comes back with the reason.
 *
 * @example
 * ```ts
 * import { parseHostRule } from "./host_rules.ts";
 * parseHostRule("*.Example.com:8080");
 * // { ok: true, rule: { text: "*.Example.com:8080", kind: "wildcard", host: "example.com", ports: [8080] } }
 * parseHostRule("*"); // { ok: false, reason: "a bare * would admit every host" }
 * ```
 */
export function parseHostRule(text: string): HostRuleParse {
  const refuse = (reason: string): HostRuleParse => ({ ok: false, reason });
  const trimmed = text.trim();
  if (trimmed === "") return refuse("the rule is empty");
  if (trimmed === "*" || /^\*(:\d*)?$/.test(trimmed)) {
    return refuse("a bare * would admit every host");
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(trimmed);
  if (url) return refuse(`it is a URL, not a host (grant ${url[1]!.replace(/^.*@/, "")})`);
  const split = splitHostPort(trimmed);
  if (!split) return refuse("its port is not a number from 1 to 65535");
  const ports = split.port === undefined ? DEFAULT_PORTS : [split.port];
  const wildcard = split.host.startsWith("*.");
  const read = readHost(wildcard ? split.host.slice(2) : split.host);
  if (typeof read === "string") return refuse(read);
  if (wildcard && read.ip !== 0) return refuse("a wildcard cannot cover an IP address");
  const kind: HostRuleKind = wildcard ? "wildcard" : read.ip === 0 ? "name" : "address";
  return { ok: true, rule: { text, kind, host: read.host, ports } };
}

/** How a host rule is written, for the hint of one that is not one. */
export const HOST_RULE_HINT =
  "Write a host as api.example.com, *.example.com (its subdomains), host:8443, 10.0.0.5 or " +
  "[::1]:8080";

/**
 * Reads host rules the user (or a script's declared needs) gave, refusing the first invalid one.
 *
 * @throws {ValidationError} naming the rule and saying why it is not one.
 */
export function parseHostRules(texts: readonly string[], what = "network rule"): HostRule[] {
  return texts.map((text) => {
    const parsed = parseHostRule(text);
    if (parsed.ok) return parsed.rule;
    throw new ValidationError(`Cannot use ${what} ${JSON.stringify(text)}: ${parsed.reason}`, {
      hint: HOST_RULE_HINT,
      details: { rule: text },
    });
  });
}

/** Whether a rule's host part covers the canonical `host`. */
function covers(rule: HostRule, host: CanonicalHost): boolean {
  if (host.ip !== 0) return rule.kind === "address" && rule.host === host.host;
  if (rule.kind === "wildcard") return host.host.endsWith("." + rule.host);
  return rule.kind === "name" && rule.host === host.host;
}

/**
 * Whether `host:port` is admitted by `rules`, and if not why (for a `403`). `host` is read as
 * {@linkcode canonicalHost} reads it; a malformed host is refused.
 */
export function matchHost(host: string, port: number, rules: readonly HostRule[]): HostMatch {
  const canonical = canonicalHost(host);
  if (!canonical) return { allowed: false, reason: `Invalid host ${JSON.stringify(host)}` };
  const covering = rules.filter((rule) => covers(rule, canonical));
  const admitting = covering.filter((rule) => rule.ports.includes(port));
  if (admitting.length > 0) {
    // An exact rule is trusted as written, whatever order the rules come in.
    return { allowed: true, exact: admitting.some((rule) => rule.kind !== "wildcard") };
  }
  if (covering.length > 0) {
    return { allowed: false, reason: `Port ${port} of host "${canonical.host}" is not granted` };
  }
  if (canonical.ip !== 0) {
    return {
      allowed: false,
      reason: `Address "${canonical.host}" is not granted (raw addresses need an exact rule)`,
    };
  }
  return { allowed: false, reason: `Host "${canonical.host}" is not granted` };
}

/**
 * Whether `host:port` is admitted by `rules` (see the module documentation for the grammar).
 * A rule that is not valid admits nothing; {@linkcode parseHostRules} refuses such rules loudly.
 *
 * @example Wildcards admit subdomains, not the apex
 * ```ts
 * import { hostAllowed } from "./host_rules.ts";
 * hostAllowed("api.example.com", 443, ["*.example.com"]); // true
 * hostAllowed("example.com", 443, ["*.example.com"]); // false
 * ```
 */
export function hostAllowed(host: string, port: number, rules: readonly string[]): boolean {
  const valid = rules.map(parseHostRule).flatMap((parsed) => parsed.ok ? [parsed.rule] : []);
  return matchHost(host, port, valid).allowed;
}

/**
 * Whether one needed host rule is covered by the granted rules: every host and port the need
 * admits is admitted by the grants. A wildcard need is covered only by a wildcard grant over the
 * same or a wider domain.
 *
 * @example
 * ```ts
 * import { hostGranted } from "./host_rules.ts";
 * hostGranted("api.example.com", ["*.example.com"]); // true
 * hostGranted("api.example.com", ["api.example.com:443"]); // false: port 80 is not granted
 * ```
 *
 * @throws {ValidationError} when the need or a grant is not a valid rule.
 */
export function hostGranted(need: string, grants: readonly string[]): boolean {
  const [wanted] = parseHostRules([need], "network need");
  const rules = parseHostRules(grants);
  return wanted!.ports.every((port) => {
    if (wanted!.kind !== "wildcard") return matchHost(wanted!.host, port, rules).allowed;
    return rules.some((rule) =>
      rule.kind === "wildcard" && rule.ports.includes(port) &&
      (wanted!.host === rule.host || wanted!.host.endsWith("." + rule.host))
    );
  });
}

/** The sixteen bytes of an IPv6 address, or the four of an IPv4 one. Null for non-addresses. */
function addressBytes(address: string): Uint8Array | null {
  const host = canonicalHost(address);
  if (!host || host.ip === 0) return null;
  if (host.ip === 4) return Uint8Array.from(host.host.split(".").map(Number));
  const [head = "", tail = ""] = host.host.split("::");
  const groups = (part: string) => part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const left = groups(head);
  const right = groups(tail);
  const all = host.host.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
    : left;
  return Uint8Array.from(all.flatMap((group) => [group >> 8, group & 0xff]));
}

function prefixMatches(bytes: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  if (bytes.length !== prefix.length) return false;
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte]! & mask) !== (prefix[byte]! & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address embeds (mapped, compatible or NAT64), if it embeds one. */
function embeddedIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  // 6to4: 2002:AABB:CCDD::/48 is the site of the IPv4 address AA.BB.CC.DD.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  const groups = Array.from({ length: 6 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  const embeds = EMBEDDING_PREFIXES.some((prefix) => prefix.every((g, i) => groups[i] === g));
  if (!embeds) return null;
  const v4 = bytes.slice(12);
  // `::` and `::1` are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
  if (groups.every((g) => g === 0) && v4[0] === 0 && v4[1] === 0 && v4[2] === 0 && v4[3]! <= 1) {
    return null;
  }
  return v4;
}

function inRange(bytes: Uint8Array, range: AddressRange): boolean {
  const [base = "", bits = ""] = range.cidr.split("/");
  const prefix = addressBytes(base);
  return prefix !== null && prefixMatches(bytes, prefix, Number(bits));
}

/**
 * Whether `address` lies in `range`; an IPv6 address embedding an IPv4 one (`::ffff:127.0.0.1`)
 * is judged by the IPv4 address. False for anything that is not an address.
 */
export function rangeContains(range: AddressRange, address: string): boolean {
  const bytes = addressBytes(address);
  if (!bytes) return false;
  const v4 = embeddedIPv4(bytes);
  return inRange(v4 ?? bytes, range);
}

/**
 * What a client address is counted as, by one who limits clients: an IPv4 address itself (an
 * IPv6 address that carries one counts as it), an IPv6 address as its /64 (one network chooses
 * among 2^64 addresses of its own). Anything else as given.
 *
 * @example
 * ```ts
 * import { clientNetwork } from "./host_rules.ts";
 * clientNetwork("2001:db8:1:2:aaaa::1"); // "2001:db8:1:2::/64"
 * clientNetwork("::ffff:192.0.2.7"); // "192.0.2.7"
 * ```
 */
export function clientNetwork(address: string): string {
  const bytes = addressBytes(address);
  if (!bytes) return address;
  const v4 = bytes.length === 4 ? bytes : embeddedIPv4(bytes);
  if (v4) return [...v4].join(".");
  const groups = Array.from(
    { length: 4 },
    (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16),
  );
  return `${groups.join(":")}::/64`;
}

/**
 * The class of an IP address: `public`, the special range it lies in (IPv4-mapped, -translated,
 * -compatible, NAT64 and 6to4 IPv6 addresses take the class of the IPv4 address they carry), or
 * `host` for one of this machine's own interface addresses outside those ranges. Undefined when
 * `address` is not an IP address.
 *
 * @example
 * ```ts
 * import { classifyAddress } from "./host_rules.ts";
 * classifyAddress("169.254.169.254"); // "link-local"
 * classifyAddress("::ffff:127.0.0.1"); // "loopback"
 * classifyAddress("93.184.216.34"); // "public"
 * ```
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bytes = addressBytes(address);
  if (!bytes) return undefined;
  const v4 = embeddedIPv4(bytes);
  const special = SPECIAL_RANGES.find((range) => inRange(v4 ?? bytes, range))?.class;
  if (special) return special;
  // One of this machine's own addresses, public or not: a service bound to every interface
  // would be the host's own, reached from the host (past any firewall for outside traffic).
  return ownLookup().bytes.has((v4 ?? bytes).join(".")) ? "host" : "public";
}

/** This machine's interface addresses (as byte strings and as text), looked up once a second. */
let own: { at: number; bytes: Set<string>; texts: string[] } | undefined;

function ownLookup(): { bytes: Set<string>; texts: string[] } {
  const now = Date.now();
  if (own && now - own.at < 1000) return own;
  const bytes = new Set<string>();
  const texts: string[] = [];
  try {
    for (const item of Deno.networkInterfaces()) {
      const text = item.address.replace(/%.*$/, "");
      const parsed = addressBytes(text);
      if (!parsed) continue;
      bytes.add((embeddedIPv4(parsed) ?? parsed).join("."));
      texts.push(text);
    }
  } catch {
    // not allowed to look (an SDK under narrow permissions): only the ranges above count
  }
  own = { at: now, bytes, texts };
  return own;
}

/**
 * This machine's own interface addresses that no special range holds (those classify as
 * `host`): what Deno's flags must deny one by one, where they are the only layer.
 */
export function hostAddresses(): string[] {
  return ownLookup().texts.filter((text) => classifyAddress(text) === "host");
}

/** Whether `address` is an IP address outside every special range. False for non-addresses. */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === "public";
}

/** A host and port as a Deno `--allow-net`/`--deny-net` value (`*.x:443`, `[::1]:8080`). */
export function denoNetValue(host: string, port: number, wildcard = false): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return `${wildcard ? "*." : ""}${h}${port === 0 ? "" : `:${port}`}`;
}

/**
 * Host rules as Deno's `--allow-net` and `--deny-net` values with the rules' own meaning: each
 * port written out (Deno reads a host without a port as every port) and a wildcard's apex denied
 * where no exact rule grants it (Deno's `*.x` admits `x` as well). `admit` leaves a rule's port
 * out of the allowed values (a special address the caller does not grant).
 */
export function denoNetGrants(
  rules: readonly HostRule[],
  admit: (rule: HostRule, port: number) => boolean = () => true,
): { allow: string[]; deny: string[] } {
  const allow = new Set<string>();
  const deny = new Set<string>();
  for (const rule of rules) {
    for (const port of rule.ports) {
      if (admit(rule, port)) allow.add(denoNetValue(rule.host, port, rule.kind === "wildcard"));
    }
  }
  const exact = rules.filter((rule) => rule.kind !== "wildcard");
  for (const rule of rules.filter((r) => r.kind === "wildcard")) {
    for (const port of rule.ports) {
      const apexGranted = exact.some((e) => e.host === rule.host && e.ports.includes(port));
      if (!apexGranted) deny.add(denoNetValue(rule.host, port));
    }
  }
  return { allow: [...allow], deny: [...deny] };
}
