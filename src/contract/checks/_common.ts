/**
 * What every language's checks share: findings and their context, line numbers, the environment
 * rule, credential paths, secrets, and risky deletion targets.
 *
 * @module
 */

/** One problem found in a script. */
export interface Finding {
  /** Machine-readable rule name (`import`, `shell-execution`, `secret`, …). */
  rule: string;
  /** What is wrong and what to do instead, phrased for the model. */
  message: string;
  /** 1-based line of the script, when known. */
  line?: number;
  /** Every finding blocks the script. */
  severity: "error";
}

/** How a `syntax` finding's message starts; the parser's own words follow. */
export const DOES_NOT_PARSE = "the script does not parse: ";

/** What a language's checks read and where they report. */
export interface CheckContext {
  /** The script's text. */
  script: string;
  /** The bundle's requirements (`name==version`). */
  requirements: string[];
  /** Whether the bundle declares network hosts. */
  network: boolean;
  /** The environment variables the bundle declares. */
  env: Set<string>;
  /** Records a finding. */
  add(rule: string, message: string, line?: number): void;
}

/** The findings without repeats, ordered by line (a finding without a line first). */
export function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    const key = `${f.rule}\u0000${f.line}\u0000${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.line ?? 0) - (b.f.line ?? 0) || a.i - b.i)
    .map(({ f }) => f);
}

/** 1-based line of each offset of `text`. */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Environment variables every script may read. */
const BASIC_ENV = new Set(["HOME", "TMPDIR", "PATH", "LANG", "TZ"]);

/** The `env` rule: a read of a variable that is neither basic nor declared in needs.env. */
export function checkEnvRead(ctx: CheckContext, name: string, line: number): void {
  if (BASIC_ENV.has(name) || ctx.env.has(name)) return;
  ctx.add(
    "env",
    `environment variable ${name} is read but not declared: list it in needs.env, or do not ` +
      `read it`,
    line,
  );
}

/** Files holding someone's credentials: a script has no reason to name them. */
const CREDENTIAL_PATHS: readonly [RegExp, string][] = [
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

/** The `credential-path` rule on one string (or line) of the script. */
export function checkCredentialPath(ctx: CheckContext, text: string, line: number): void {
  for (const [pattern, what] of CREDENTIAL_PATHS) {
    if (pattern.test(text)) {
      ctx.add(
        "credential-path",
        `credential file (${what}) must not be read or written: secrets come only from ` +
          `environment variables listed in needs.env`,
        line,
      );
      return;
    }
  }
}

/** Shapes of well-known secrets. Matched on the whole script, comments included. */
const SECRETS: readonly { pattern: RegExp; what: string; check?: (m: string) => boolean }[] = [
  { pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, what: "an API key", check: (m) => /\d/.test(m) },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36}/g, what: "a GitHub token" },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/g, what: "a GitHub token" },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/g, what: "an AWS access key id" },
  { pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}/g, what: "a Slack token" },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}/g, what: "a Google API key" },
  { pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g, what: "a private key" },
];

/** The `secret` rule, on the whole script (comments included). */
export function checkSecrets(ctx: CheckContext): void {
  const lineAt = lineIndex(ctx.script);
  for (const { pattern, what, check } of SECRETS) {
    for (const m of ctx.script.matchAll(pattern)) {
      if (check && !check(m[0])) continue;
      ctx.add(
        "secret",
        `hard-coded secret (${what}, "${m[0].slice(0, 4)}…"): never write secrets into a script; ` +
          `read them from an environment variable listed in needs.env`,
        lineAt(m.index ?? 0),
      );
    }
  }
}

/** A path argument that points outside what the context names: absolute, `..` or `~`. */
export function riskyPath(
  head: string | null | undefined,
  fragments: readonly string[],
): string | null {
  if (head && /^(?:\/|~|[A-Za-z]:[\\/]|\\\\|\$HOME\b|\$\{HOME\})/.test(head)) return head;
  for (const f of fragments) {
    if (/(?:^|[\\/])\.\.(?:[\\/]|$)/.test(f) || f.startsWith("~")) return f;
  }
  return null;
}

/** The message of a `delete-outside` finding. */
export function deleteMessage(what: string, path: string): string {
  const target = path === "~" ? "a path in the home directory" : JSON.stringify(path);
  return `deleting ${target} (${what}) is not allowed: delete only the outputs ` +
    `and temporary files named by the context, by relative paths`;
}

/** Replaces `[from, to)` with spaces, keeping newlines so that offsets and lines stay put. */
export function blank(chars: string[], from: number, to: number): void {
  for (let k = from; k < to && k < chars.length; k++) if (chars[k] !== "\n") chars[k] = " ";
}
