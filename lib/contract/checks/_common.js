// Generated from src/contract/checks/_common.ts by scripts/build_js.ts (sha256 f5334825cd3f1427226e274643eb292c9c8ff4622f2d33bbb380068c0f80e57a): do not edit; `deno task build:js` writes it.
export var dedupe = (function (findings) {
    const seen = new Set();
    const unique = findings.filter(((f) => {
        const key = `${f.rule}\u0000${f.line}\u0000${f.message}`;
        if (seen.has(key))
            return false;
        seen.add(key);
        return true;
    }));
    return unique
        .map(((f, i) => ({ f, i })))
        .sort(((a, b) => (a.f.line ?? 0) - (b.f.line ?? 0) || a.i - b.i))
        .map((({ f }) => f));
});
export var lineIndex = (function (text) {
    const starts = [0];
    for (let i = 0; i < text.length; i++)
        if (text[i] === "\n")
            starts.push(i + 1);
    return ((offset) => {
        let lo = 0;
        let hi = starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if ((starts[mid] ?? 0) <= offset)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo + 1;
    });
});
export var checkEnvRead = (function (ctx, name, line) {
    if (BASIC_ENV.has(name) || ctx.env.has(name))
        return;
    ctx.add("env", `environment variable ${name} is read but not declared: list it in needs.env, or do not ` +
        `read it`, line);
});
export var checkCredentialPath = (function (ctx, text, line) {
    for (const [pattern, what] of CREDENTIAL_PATHS) {
        if (pattern.test(text)) {
            ctx.add("credential-path", `credential file (${what}) must not be read or written: secrets come only from ` +
                `environment variables listed in needs.env`, line);
            return;
        }
    }
});
export var checkSecrets = (function (ctx) {
    const lineAt = lineIndex(ctx.script);
    for (const { pattern, what, check } of SECRETS) {
        for (const m of ctx.script.matchAll(pattern)) {
            if (check && !check(m[0]))
                continue;
            ctx.add("secret", `hard-coded secret (${what}, "${m[0].slice(0, 4)}…"): never write secrets into a script; ` +
                `read them from an environment variable listed in needs.env`, lineAt(m.index ?? 0));
        }
    }
});
export var riskyPath = (function (head, fragments) {
    if (head && /^(?:\/|~|[A-Za-z]:[\\/]|\\\\|\$HOME\b|\$\{HOME\})/.test(head))
        return head;
    for (const f of fragments) {
        if (/(?:^|[\\/])\.\.(?:[\\/]|$)/.test(f) || f.startsWith("~"))
            return f;
    }
    return null;
});
export var deleteMessage = (function (what, path) {
    const target = path === "~" ? "a path in the home directory" : JSON.stringify(path);
    return `deleting ${target} (${what}) is not allowed: delete only the outputs ` +
        `and temporary files named by the context, by relative paths`;
});
export var blank = (function (chars, from, to) {
    for (let k = from; k < to && k < chars.length; k++)
        if (chars[k] !== "\n")
            chars[k] = " ";
});
export const DOES_NOT_PARSE = "the script does not parse: ";
;
;
const BASIC_ENV = new Set(["HOME", "TMPDIR", "PATH", "LANG", "TZ"]);
;
const CREDENTIAL_PATHS = [
    [/\.ssh\b/, "~/.ssh"],
    [/\bid_(?:rsa|dsa|ecdsa|ed25519)\b/, "an SSH private key"],
    [/\.aws[/\\](?:credentials|config)\b/, "~/.aws/credentials"],
    [/\.netrc\b/, "~/.netrc"],
    [/\.git-credentials\b/, "~/.git-credentials"],
    [/\.docker[/\\]config\.json\b/, "~/.docker/config.json"],
    [/\/etc\/(?:g?shadow)\b/, "/etc/shadow"],
    [/\.kube[/\\]config\b/, "~/.kube/config"],
    [/\.gnupg\b/, "~/.gnupg"],
    [/\.pgpass\b/, "~/.pgpass"],
    [/\.pypirc\b/, "~/.pypirc"],
];
;
const SECRETS = [
    { pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, what: "an API key", check: ((m) => /\d/.test(m)) },
    { pattern: /\bgh[pousr]_[A-Za-z0-9]{36}/g, what: "a GitHub token" },
    { pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/g, what: "a GitHub token" },
    { pattern: /\bAKIA[0-9A-Z]{16}\b/g, what: "an AWS access key id" },
    { pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}/g, what: "a Slack token" },
    { pattern: /\bAIza[0-9A-Za-z_-]{35}/g, what: "a Google API key" },
    { pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, what: "a private key" },
];
;
;
;
;
