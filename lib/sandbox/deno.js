// Generated from src/sandbox/deno.ts by scripts/build_js.ts (sha256 14d1f0542a1dc7416e322aeb41fb6fe8e5d526696bce3e730ec7d04b4c2b2c30): do not edit; `deno task build:js` writes it.
var systemResolve = (async function (name) {
    const { lookup } = await import("node:dns/promises");
    let timer;
    const timeout = new Promise(((_, reject) => {
        timer = setTimeout((() => reject(new Error("timed out"))), RESOLVE_TIMEOUT_MS);
    }));
    try {
        const found = await Promise.race([lookup(name, { all: true, verbatim: true }), timeout]);
        return found.map(((a) => a.address));
    }
    catch {
        return [];
    }
    finally {
        clearTimeout(timer);
    }
});
var mappedIPv4 = (function (canonical) {
    const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (!m)
        return undefined;
    const [high, low] = [parseInt(m[1], 16), parseInt(m[2], 16)];
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
});
export var resolvedDenials = (async function (policy, resolve = systemResolve) {
    const names = parseHostRules(policy.network).filter(((rule) => rule.kind === "name"));
    const privateRules = parseHostRules(policy.privateNetwork ?? [], "private network rule")
        .filter(((rule) => rule.kind !== "wildcard"));
    const found = await Promise.all(names.map(((rule) => resolve(rule.host).catch((() => [])))));
    const denied = new Set();
    for (const [i, addresses] of found.entries()) {
        for (const address of addresses) {
            const canonical = canonicalHost(address)?.host;
            if (canonical === undefined || !canonical.includes(":") || isPublicAddress(canonical)) {
                continue;
            }
            const asV4 = mappedIPv4(canonical);
            const ports = names[i].ports.filter(((port) => !matchHost(canonical, port, privateRules).allowed &&
                (asV4 === undefined || !matchHost(asV4, port, privateRules).allowed)));
            if (ports.length === 0)
                continue;
            if (canonical.startsWith("::ffff:")) {
                throw new PermissionError(`Cannot run the script under Deno's permissions alone: "${names[i].host}" resolves ` +
                    `to ${address}, an IPv4-mapped address of a private or special range, which ` +
                    `Deno's --deny-net does not hold back`, {
                    hint: "Run it in the OS sandbox (bubblewrap), whose proxy checks every address; " +
                        "grant the address with allow.private_network only if it is meant",
                    details: { host: names[i].host, address },
                });
            }
            denied.add(netValue(canonical, 0));
            for (const port of ports)
                denied.add(netValue(canonical, port));
        }
    }
    return [...denied].sort();
});
var ipv4Number = (function (address) {
    return address.split(".").reduce(((n, part) => n * 256 + Number(part)), 0);
});
var ipv4Text = (function (n) {
    return [24, 16, 8, 0].map(((shift) => Math.floor(n / 2 ** shift) % 256)).join(".");
});
var ipv4RangeWithout = (function (cidr, excluded) {
    const [base = "", bits = "32"] = cidr.split("/");
    const blocks = [];
    const visit = ((start, prefix) => {
        const size = 2 ** (32 - prefix);
        if (!excluded.some(((x) => x >= start && x < start + size))) {
            blocks.push(`${ipv4Text(start)}/${prefix}`);
        }
        else if (prefix < 32) {
            visit(start, prefix + 1);
            visit(start + size / 2, prefix + 1);
        }
    });
    visit(ipv4Number(base), Number(bits));
    return blocks;
});
var specialDenials = (function (privateRules, proxyHost) {
    const named = new Set(proxyHost === undefined ? [] : [proxyHost]);
    for (const rule of privateRules) {
        if (rule.kind === "address")
            named.add(rule.host);
        if (rule.kind === "name" && rule.host === "localhost")
            named.add("127.0.0.1").add("::1");
    }
    const v4 = [...named].filter(((a) => !a.includes(":"))).map(ipv4Number);
    return [
        ...SPECIAL_RANGES.flatMap(((range) => {
            if (!range.cidr.includes(":"))
                return ipv4RangeWithout(range.cidr, v4);
            const [base = "", bits] = range.cidr.split("/");
            return bits === "128" && !named.has(base) ? [`[${base}]`] : [];
        })),
        ...hostAddresses().filter(((address) => !named.has(address))).map(((address) => address.includes(":") ? `[${address}]` : address)),
    ];
});
var netFlags = (function (texts, privateTexts, proxy) {
    const rules = parseHostRules(texts);
    const privateRules = parseHostRules(privateTexts, "private network rule")
        .filter(((rule) => rule.kind !== "wildcard"));
    const grants = denoNetGrants(rules, ((rule, port) => !(rule.kind === "address" && !isPublicAddress(rule.host) &&
        !matchHost(rule.host, port, privateRules).allowed)));
    const allow = new Set(grants.allow);
    const deny = new Set(grants.deny);
    if (allow.size === 0)
        return { allow: [], deny: [...deny] };
    const proxyHost = proxy === undefined ? undefined : canonicalHost(proxy.hostname)?.host;
    for (const value of specialDenials(privateRules, proxyHost))
        deny.add(value);
    if (proxy !== undefined && proxyHost !== undefined) {
        const ports = new Set(rules.flatMap(((rule) => rule.ports)));
        if (ports.has(proxy.port)) {
            throw new PermissionError(`Cannot route the script's network through the proxy at port ${proxy.port}: ` +
                "a rule grants that port", { hint: "Run again: the proxy listens on another port each time" });
        }
        for (const port of ports) {
            if (!matchHost(proxyHost, port, privateRules).allowed)
                deny.add(netValue(proxyHost, port));
        }
    }
    return { allow: [...allow], deny: [...deny] };
});
var checkedPath = (function (path, what) {
    if (!isAbsolute(path)) {
        throw new PermissionError(`Cannot grant ${what} path "${path}" to Deno: it is not absolute`, {
            hint: "Sandbox policies hold absolute, resolved paths only",
        });
    }
    if (path.includes(",")) {
        throw new PermissionError(`Cannot grant ${what} path "${path}" to Deno: it contains a comma`, {
            hint: "Rename the file or folder so that its path has no comma",
        });
    }
    return path;
});
var pathList = (function (paths, what) {
    return [...new Set(paths.filter(((p) => p !== "")).map(((p) => checkedPath(p, what))))].sort();
});
export var denoPermissionFlags = (function (policy, grantedEnv, options = {}) {
    const staged = (policy.stage ?? []).map(((s) => s.target));
    const read = pathList([...policy.read, ...policy.write, ...staged, policy.tmpDir], "read");
    const write = pathList([...policy.write, ...staged, policy.tmpDir], "write");
    const pinned = pinnedFolders(policy.protect, write)
        .filter(((dir) => !write.some(((place) => isInside(place, dir)))));
    const protect = pathList([
        ...policy.protect,
        ...pinned.filter(((dir) => !pinned.some(((other) => other !== dir && isInside(dir, other))))),
    ], "protected");
    const flags = [`--allow-read=${read.join(",")}`, `--allow-write=${write.join(",")}`];
    if (protect.length)
        flags.push(`--deny-write=${protect.join(",")}`);
    const net = netFlags(policy.network, policy.privateNetwork ?? [], options.proxy);
    if (net.allow.length > 0) {
        for (const value of options.denyNet ?? [])
            net.deny.push(value);
    }
    if (net.allow.length)
        flags.push(`--allow-net=${net.allow.join(",")}`);
    if (net.deny.length)
        flags.push(`--deny-net=${net.deny.join(",")}`);
    const names = [...new Set(grantedEnv)].sort();
    for (const name of names) {
        if (!/^[^\s,=*]+$/.test(name)) {
            throw new PermissionError(`Cannot grant environment variable ${JSON.stringify(name)} to Deno: not a plain name`, { hint: "Grant environment variables by their exact names" });
        }
        if (Object.hasOwn(DENO_RUNTIME_ENV, name)) {
            throw new PermissionError(`Cannot grant environment variable ${name} to a TypeScript script: the sandbox sets it ` +
                "for Deno itself", { hint: `Remove --allow-env ${name}` });
        }
    }
    if (names.length)
        flags.push(`--allow-env=${names.join(",")}`);
    flags.push("--ignore-env", "--deny-run", "--deny-ffi", "--deny-sys", "--deny-import");
    return flags;
});
export var denoCommand = (function (prepared, scriptPath, contextFile, policy, env, options = {}) {
    const readable = { ...policy, read: [...policy.read, ...prepared.readPaths, contextFile] };
    const flags = denoPermissionFlags(readable, options.grantedEnv ?? Object.keys(env));
    return {
        program: prepared.interpreter,
        args: [
            ...prepared.interpreterArgs,
            ...flags,
            scriptPath,
            "--context",
            "@" + contextFile,
            ...(options.extraArgs ?? []),
        ],
        env: { ...env, ...prepared.env, ...DENO_RUNTIME_ENV },
        cwd: policy.workdir,
    };
});
var writableAbove = (function (policy, path) {
    const real = realPathSyncOrNull(path) ?? path;
    const writable = [...policy.write, ...(policy.stage ?? []).map(((s) => s.target))];
    return writable.some(((grant) => {
        const target = realPathSyncOrNull(grant) ?? grant;
        return [path, real].some(((p) => isInside(p, grant) || isInside(p, target)));
    }));
});
export var refuseLinksOut = (function (policy, budget = LINK_WALK_BUDGET) {
    const real = ((path) => realPathSyncOrNull(path) ?? path);
    const granted = [...policy.read, ...policy.write, policy.tmpDir].map(real);
    const writable = [...policy.write, policy.tmpDir].map(real);
    const protect = policy.protect.map(real);
    const within = ((path, roots) => roots.some(((root) => isInside(path, root))));
    const refuse = ((path, target, why) => new PermissionError(`Cannot run under Deno's permissions alone: "${path}" is a link to "${target}", ${why}, ` +
        "and Deno would follow it", {
        hint: "Remove the link, name what it leads to in the context, or install " +
            "bubblewrap (capibara doctor), under which a link leads only to what is granted",
        details: { path, target },
    }));
    const walk = ((folder) => {
        let entries;
        try {
            entries = [...Deno.readDirSync(folder)];
        }
        catch {
            return;
        }
        for (const entry of entries) {
            if (--budget < 0) {
                throw new PermissionError(`Cannot run under Deno's permissions alone: the granted folders hold more than ` +
                    `${LINK_WALK_BUDGET} entries, too many to look through for links Deno would follow`, {
                    hint: "Name narrower folders in the context, or install bubblewrap " +
                        "(capibara doctor), under which a link leads only to what is granted",
                    details: { folder },
                });
            }
            const path = join(folder, entry.name);
            if (entry.isSymlink) {
                const target = realPathSyncOrNull(path);
                if (target === null) {
                    if (!within(folder, writable))
                        continue;
                    let text = "";
                    try {
                        text = Deno.readLinkSync(path);
                    }
                    catch {
                    }
                    throw refuse(path, text, "which leads nowhere yet, in a folder the run may write");
                }
                if (!within(target, granted))
                    throw refuse(path, target, "which the run was not given");
                if (within(folder, writable) && (!within(target, writable) || within(target, protect))) {
                    throw refuse(path, target, "in a folder the run may write, to what it may not write");
                }
            }
            else if (entry.isDirectory)
                walk(path);
        }
    });
    const workdir = real(policy.workdir);
    for (const root of new Set([...policy.read, ...policy.write].map(real))) {
        if (isInside(root, workdir) && lstatSyncOrNull(root)?.isDirectory)
            walk(root);
    }
});
import { isAbsolute, join } from "../_path.js";
import { isInside, lstatSyncOrNull, realPathSyncOrNull } from "../_fs.js";
import { PermissionError } from "../errors.js";
import { GATE_PASSED } from "../exec.js";
import { DENO_RUNTIME_ENV } from "./deno_env.js";
import { denoAddressSpace, NO_CODE_CACHE, runDenoDir, usesCodeCache } from "../runtimes/deno.js";
import { canonicalHost, denoNetGrants, denoNetValue, hostAddresses, isPublicAddress, matchHost, parseHostRules, SPECIAL_RANGES, } from "./host_rules.js";
import { pinnedFolders } from "./policy.js";
const netValue = denoNetValue;
;
;
const RESOLVE_TIMEOUT_MS = 3_000;
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
const WIDENING_FLAG = /^(?:-A|--allow-|--unsafely-|-[A-Za-z]*A)/;
export const LINK_WALK_BUDGET = 20_000;
;
export const DENO_GATE = "data:text/javascript," + encodeURIComponent("const b=new Uint8Array(1);if(Deno.stdin.readSync(b)!==1||b[0]!==10)Deno.exit(125);" +
    `try{if(Deno.stderr.writeSync(new Uint8Array([${GATE_PASSED}]))!==1)Deno.exit(125)}` +
    "catch{Deno.exit(125)}");
export class DenoPermissionsBackend {
    name;
    #os;
    #resolve;
    stagesOutputs;
    holds;
    constructor(options = {}) {
        this.#os = options.os;
        this.#resolve = options.resolve;
        this.stagesOutputs = options.os?.stagesOutputs === true;
        this.holds = options.os?.holds === true;
        this.name = options.os ? `deno-permissions+${options.os.name}` : "deno-permissions";
    }
    available() {
        return this.#os ? this.#os.available() : Promise.resolve({ ok: true });
    }
    async wrap(spec, policy, options = {}) {
        const [subcommand, ...rest] = spec.args;
        if (subcommand !== "run") {
            throw new PermissionError(`Cannot confine "${spec.program}" with Deno permissions: not deno run`, { hint: "Only TypeScript scripts run under Deno's permissions" });
        }
        const end = rest.findIndex(((arg) => !arg.startsWith("-")));
        const own = end === -1 ? rest : rest.slice(0, end);
        const widening = own.find(((arg) => WIDENING_FLAG.test(arg)));
        if (widening !== undefined) {
            throw new PermissionError(`Cannot confine "${spec.program}" with Deno permissions: it already passes ${widening}`, { hint: "Permissions come from the sandbox policy only" });
        }
        const env = { ...spec.env, ...DENO_RUNTIME_ENV };
        let flagged = policy;
        const codeCache = this.#os !== undefined && usesCodeCache(own) &&
            !writableAbove(policy, policy.tmpDir);
        const body = codeCache || !usesCodeCache(own) ? rest : [NO_CODE_CACHE, ...rest];
        if (env.DENO_DIR !== undefined) {
            env.DENO_DIR = runDenoDir(env.DENO_DIR, policy.tmpDir, codeCache);
            flagged = { ...policy, protect: [...policy.protect, env.DENO_DIR] };
        }
        if (this.#os) {
            const proxy = policy.network.length > 0 ? this.#os.proxyAddress : undefined;
            const flags = denoPermissionFlags(flagged, policy.env ?? [], proxy ? { proxy } : {});
            const gate = options.held ? ["--preload", DENO_GATE] : [];
            const inner = {
                ...spec,
                args: ["run", ...flags, ...gate, ...body],
                env,
            };
            const binary = Deno.realPathSync(spec.program);
            const read = [...new Set([...policy.read, binary, spec.program])].filter(((p) => isAbsolute(p)));
            return await this.#os.wrap(inner, {
                ...policy,
                read,
                readsScopedByProgram: true,
                reservesAddressSpace: denoAddressSpace(policy.memoryBytes),
            }, options.held ? { held: true, selfGated: true } : {});
        }
        refuseLinksOut(policy);
        if (policy.network.length === 0) {
            const flags = denoPermissionFlags(flagged, policy.env ?? []);
            return {
                spec: { ...spec, args: ["run", ...flags, ...body], env },
                close: (async () => { }),
            };
        }
        const { proxyEnv, startProxy } = await import("./proxy.js");
        const denyNet = await resolvedDenials(policy, this.#resolve);
        let lastError;
        for (let attempt = 0; attempt < 5; attempt++) {
            const proxy = startProxy({
                port: 0,
                allow: policy.network,
                privateAllow: policy.privateNetwork,
            });
            const { hostname, port } = proxy.address;
            try {
                const flags = denoPermissionFlags(flagged, policy.env ?? [], {
                    proxy: { hostname, port },
                    denyNet,
                });
                return {
                    spec: {
                        ...spec,
                        args: ["run", ...flags, ...body],
                        env: { ...env, ...proxyEnv(`http://${hostname}:${port}`) },
                    },
                    close: (() => proxy.close()),
                };
            }
            catch (error) {
                lastError = error;
                void proxy.close();
                if (!(error instanceof PermissionError) || !error.message.includes("the proxy"))
                    break;
            }
        }
        throw lastError;
    }
}
