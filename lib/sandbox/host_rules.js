// Generated from src/sandbox/host_rules.ts by scripts/build_js.ts (sha256 0543c2f0747143acb17b471a32431fb3d72d696afd0bfc0f62f85aef429938d2): do not edit; `deno task build:js` writes it.
var isDottedQuad = (function (text) {
    const parts = text.split(".");
    return parts.length === 4 && parts.every(((part) => OCTET.test(part)));
});
var isIPv6Text = (function (text) {
    let hex = text;
    const lastColon = text.lastIndexOf(":");
    if (lastColon < 0)
        return false;
    const last = text.slice(lastColon + 1);
    if (last.includes(".")) {
        if (!isDottedQuad(last))
            return false;
        hex = text.slice(0, lastColon + 1) + "0:0";
    }
    const halves = hex.split("::");
    if (halves.length > 2)
        return false;
    const groups = ((half) => (half === "" ? [] : half.split(":")));
    if (halves.length === 1) {
        const all = groups(hex);
        return all.length === 8 && all.every(((g) => HEX_GROUP.test(g)));
    }
    const [head, tail] = [groups(halves[0]), groups(halves[1])];
    return head.length + tail.length <= 7 && [...head, ...tail].every(((g) => HEX_GROUP.test(g)));
});
export var ipVersion = (function (text) {
    if (isDottedQuad(text))
        return 4;
    return isIPv6Text(text) ? 6 : 0;
});
export var splitHostPort = (function (text) {
    let host = text;
    let portText;
    if (text.startsWith("[")) {
        const end = text.indexOf("]");
        if (end < 0)
            return null;
        host = text.slice(1, end);
        const after = text.slice(end + 1);
        if (after !== "") {
            if (!after.startsWith(":"))
                return null;
            portText = after.slice(1);
        }
    }
    else if (text.split(":").length === 2) {
        const at = text.indexOf(":");
        host = text.slice(0, at);
        portText = text.slice(at + 1);
    }
    if (portText === undefined)
        return { host };
    if (!/^\d{1,5}$/.test(portText))
        return null;
    const port = Number(portText);
    if (port < 1 || port > 65535)
        return null;
    return { host, port };
});
var readHost = (function (raw) {
    let host = raw;
    if (host.startsWith("[") && host.endsWith("]"))
        host = host.slice(1, -1);
    if (host === "")
        return "the host is empty";
    if (host.includes(":")) {
        if (ipVersion(host) !== 6)
            return "it is not a valid IPv6 address";
        try {
            return { host: new URL(`http://[${host}]/`).hostname.slice(1, -1), ip: 6 };
        }
        catch {
            return "it is not a valid IPv6 address";
        }
    }
    const bad = /[\s/\\@?#%:[\]*]/.exec(host);
    if (bad)
        return `it contains ${JSON.stringify(bad[0])}`;
    if (host.endsWith("."))
        host = host.slice(0, -1);
    let parsed;
    try {
        parsed = new URL(`http://${host}/`).hostname;
    }
    catch {
        return "it is not a valid host name";
    }
    if (ipVersion(parsed) === 4)
        return { host: parsed, ip: 4 };
    if (parsed === "" || parsed.length > 253)
        return "it is not a valid host name";
    const label = parsed.split(".").find(((part) => !LABEL.test(part)));
    if (label !== undefined) {
        return label === ""
            ? "it has an empty label"
            : `its label ${JSON.stringify(label)} is not a valid DNS label`;
    }
    return { host: parsed, ip: 0 };
});
export var canonicalHost = (function (raw) {
    const read = readHost(raw);
    return typeof read === "string" ? null : read;
});
export var parseHostRule = (function (text) {
    const refuse = ((reason) => ({ ok: false, reason }));
    const trimmed = text.trim();
    if (trimmed === "")
        return refuse("the rule is empty");
    if (trimmed === "*" || /^\*(:\d*)?$/.test(trimmed)) {
        return refuse("a bare * would admit every host");
    }
    const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(trimmed);
    if (url)
        return refuse(`it is a URL, not a host (grant ${url[1].replace(/^.*@/, "")})`);
    const split = splitHostPort(trimmed);
    if (!split)
        return refuse("its port is not a number from 1 to 65535");
    const ports = split.port === undefined ? DEFAULT_PORTS : [split.port];
    const wildcard = split.host.startsWith("*.");
    const read = readHost(wildcard ? split.host.slice(2) : split.host);
    if (typeof read === "string")
        return refuse(read);
    if (wildcard && read.ip !== 0)
        return refuse("a wildcard cannot cover an IP address");
    const kind = wildcard ? "wildcard" : read.ip === 0 ? "name" : "address";
    return { ok: true, rule: { text, kind, host: read.host, ports } };
});
export var parseHostRules = (function (texts, what = "network rule") {
    return texts.map(((text) => {
        const parsed = parseHostRule(text);
        if (parsed.ok)
            return parsed.rule;
        throw new ValidationError(`Cannot use ${what} ${JSON.stringify(text)}: ${parsed.reason}`, {
            hint: HOST_RULE_HINT,
            details: { rule: text },
        });
    }));
});
var covers = (function (rule, host) {
    if (host.ip !== 0)
        return rule.kind === "address" && rule.host === host.host;
    if (rule.kind === "wildcard")
        return host.host.endsWith("." + rule.host);
    return rule.kind === "name" && rule.host === host.host;
});
export var matchHost = (function (host, port, rules) {
    const canonical = canonicalHost(host);
    if (!canonical)
        return { allowed: false, reason: `Invalid host ${JSON.stringify(host)}` };
    const covering = rules.filter(((rule) => covers(rule, canonical)));
    const admitting = covering.filter(((rule) => rule.ports.includes(port)));
    if (admitting.length > 0) {
        return { allowed: true, exact: admitting.some(((rule) => rule.kind !== "wildcard")) };
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
});
export var hostAllowed = (function (host, port, rules) {
    const valid = rules.map(parseHostRule).flatMap(((parsed) => parsed.ok ? [parsed.rule] : []));
    return matchHost(host, port, valid).allowed;
});
export var hostGranted = (function (need, grants) {
    const [wanted] = parseHostRules([need], "network need");
    const rules = parseHostRules(grants);
    return wanted.ports.every(((port) => {
        if (wanted.kind !== "wildcard")
            return matchHost(wanted.host, port, rules).allowed;
        return rules.some(((rule) => rule.kind === "wildcard" && rule.ports.includes(port) &&
            (wanted.host === rule.host || wanted.host.endsWith("." + rule.host))));
    }));
});
var addressBytes = (function (address) {
    const host = canonicalHost(address);
    if (!host || host.ip === 0)
        return null;
    if (host.ip === 4)
        return Uint8Array.from(host.host.split(".").map(Number));
    const [head = "", tail = ""] = host.host.split("::");
    const groups = ((part) => part === "" ? [] : part.split(":").map(((g) => parseInt(g, 16))));
    const left = groups(head);
    const right = groups(tail);
    const all = host.host.includes("::")
        ? [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
        : left;
    return Uint8Array.from(all.flatMap(((group) => [group >> 8, group & 0xff])));
});
var prefixMatches = (function (bytes, prefix, bits) {
    if (bytes.length !== prefix.length)
        return false;
    for (let i = 0; i < bits; i++) {
        const byte = i >> 3;
        const mask = 0x80 >> (i & 7);
        if ((bytes[byte] & mask) !== (prefix[byte] & mask))
            return false;
    }
    return true;
});
var embeddedIPv4 = (function (bytes) {
    if (bytes.length !== 16)
        return null;
    if (bytes[0] === 0x20 && bytes[1] === 0x02)
        return bytes.slice(2, 6);
    const groups = Array.from({ length: 6 }, ((_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]));
    const embeds = EMBEDDING_PREFIXES.some(((prefix) => prefix.every(((g, i) => groups[i] === g))));
    if (!embeds)
        return null;
    const v4 = bytes.slice(12);
    if (groups.every(((g) => g === 0)) && v4[0] === 0 && v4[1] === 0 && v4[2] === 0 && v4[3] <= 1) {
        return null;
    }
    return v4;
});
var inRange = (function (bytes, range) {
    const [base = "", bits = ""] = range.cidr.split("/");
    const prefix = addressBytes(base);
    return prefix !== null && prefixMatches(bytes, prefix, Number(bits));
});
export var rangeContains = (function (range, address) {
    const bytes = addressBytes(address);
    if (!bytes)
        return false;
    const v4 = embeddedIPv4(bytes);
    return inRange(v4 ?? bytes, range);
});
export var clientNetwork = (function (address) {
    const bytes = addressBytes(address);
    if (!bytes)
        return address;
    const v4 = bytes.length === 4 ? bytes : embeddedIPv4(bytes);
    if (v4)
        return [...v4].join(".");
    const groups = Array.from({ length: 4 }, ((_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16)));
    return `${groups.join(":")}::/64`;
});
export var classifyAddress = (function (address) {
    const bytes = addressBytes(address);
    if (!bytes)
        return undefined;
    const v4 = embeddedIPv4(bytes);
    const special = SPECIAL_RANGES.find(((range) => inRange(v4 ?? bytes, range)))?.class;
    if (special)
        return special;
    return ownLookup().bytes.has((v4 ?? bytes).join(".")) ? "host" : "public";
});
var ownLookup = (function () {
    const now = Date.now();
    if (own && now - own.at < 1000)
        return own;
    const bytes = new Set();
    const texts = [];
    try {
        for (const item of Deno.networkInterfaces()) {
            const text = item.address.replace(/%.*$/, "");
            const parsed = addressBytes(text);
            if (!parsed)
                continue;
            bytes.add((embeddedIPv4(parsed) ?? parsed).join("."));
            texts.push(text);
        }
    }
    catch {
    }
    own = { at: now, bytes, texts };
    return own;
});
export var hostAddresses = (function () {
    return ownLookup().texts.filter(((text) => classifyAddress(text) === "host"));
});
export var isPublicAddress = (function (address) {
    return classifyAddress(address) === "public";
});
export var denoNetValue = (function (host, port, wildcard = false) {
    const h = host.includes(":") ? `[${host}]` : host;
    return `${wildcard ? "*." : ""}${h}${port === 0 ? "" : `:${port}`}`;
});
export var denoNetGrants = (function (rules, admit = (() => true)) {
    const allow = new Set();
    const deny = new Set();
    for (const rule of rules) {
        for (const port of rule.ports) {
            if (admit(rule, port))
                allow.add(denoNetValue(rule.host, port, rule.kind === "wildcard"));
        }
    }
    const exact = rules.filter(((rule) => rule.kind !== "wildcard"));
    for (const rule of rules.filter(((r) => r.kind === "wildcard"))) {
        for (const port of rule.ports) {
            const apexGranted = exact.some(((e) => e.host === rule.host && e.ports.includes(port)));
            if (!apexGranted)
                deny.add(denoNetValue(rule.host, port));
        }
    }
    return { allow: [...allow], deny: [...deny] };
});
import { ValidationError } from "../errors.js";
export const DEFAULT_PORTS = [80, 443];
export const SPECIAL_RANGES = [
    { cidr: "0.0.0.0/8", class: "unspecified" },
    { cidr: "10.0.0.0/8", class: "private" },
    { cidr: "100.64.0.0/10", class: "shared" },
    { cidr: "127.0.0.0/8", class: "loopback" },
    { cidr: "169.254.0.0/16", class: "link-local" },
    { cidr: "172.16.0.0/12", class: "private" },
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
    { cidr: "64:ff9b:1::/48", class: "private" },
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
const EMBEDDING_PREFIXES = [
    [0, 0, 0, 0, 0, 0xffff],
    [0, 0, 0, 0, 0xffff, 0],
    [0, 0, 0, 0, 0, 0],
    [0x64, 0xff9b, 0, 0, 0, 0],
];
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const OCTET = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
;
;
;
;
;
;
;
export const HOST_RULE_HINT = "Write a host as api.example.com, *.example.com (its subdomains), host:8443, 10.0.0.5 or " +
    "[::1]:8080";
;
;
;
;
;
;
;
;
;
;
;
;
let own;
;
;
;
;
;
