/**
 * `capibara doctor`: what works on this machine, and why not.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { Capibara } from "../capibara.ts";
import type { ResolvedConfig } from "../config.ts";
import { BubblewrapBackend } from "../sandbox/linux.ts";
import { platformBackend } from "../sandbox/mod.ts";
import { DEFAULT_PATH, which } from "../_which.ts";
import { execCommand } from "../exec.ts";
import { describeRequest, TRUST_ENV } from "../config_trust.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";

/** One check of `capibara doctor`. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** The exit code when this check fails (default 3: something the machine lacks). */
  exit_code?: number;
}

/** How long `doctor` waits for the generator's server. */
const SERVER_TIMEOUT_MS = 5_000;

/**
 * Contacts the generator's server (`GET <base URL>/models`, bounded in time) and checks that it
 * answers, accepts the credentials and lists the model.
 */
export async function serverCheck(generator: ResolvedConfig["generator"]): Promise<Check> {
  const name = "generator server";
  const where = generator.baseUrl;
  const fail = (detail: string, fix: string): Check => ({
    name,
    ok: false,
    detail,
    fix,
    exit_code: 4,
  });
  let url: URL;
  try {
    url = new URL(`${where.replace(/\/+$/, "")}/models`);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
  } catch {
    return fail(
      `"${where}" is not an http:// or https:// URL`,
      "Set CAPIBARA_BASE_URL (or generator.base_url) to a full URL, e.g. http://localhost:11434/v1",
    );
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: generator.apiKey ? { authorization: `Bearer ${generator.apiKey}` } : {},
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
  } catch (error) {
    const why = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer within ${SERVER_TIMEOUT_MS} ms`
      : (error as Error).message;
    return fail(
      `cannot reach ${where}: ${why}`,
      "Start the server, or point CAPIBARA_BASE_URL at a running one",
    );
  }
  const contentType = response.headers.get("content-type") ?? "none";
  const text = await response.text().catch(() => "");
  if (response.status === 401 || response.status === 403) {
    return fail(
      `${where} refused the credentials (HTTP ${response.status})`,
      "Check CAPIBARA_API_KEY (or OPENAI_API_KEY)",
    );
  }
  if (!response.ok) {
    return fail(
      `${url} answered HTTP ${response.status}`,
      "Check that CAPIBARA_BASE_URL ends with the API path (usually /v1)",
    );
  }
  let models: string[] | undefined;
  try {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    if (Array.isArray(data)) {
      models = data.map((m) => (m as { id?: unknown })?.id).filter((id) => typeof id === "string");
    }
  } catch {
    models = undefined;
  }
  if (models === undefined) {
    return fail(
      `${url} did not answer with a model list (content type ${contentType}, starting with ` +
        `${JSON.stringify(text.slice(0, 60))})`,
      "Point CAPIBARA_BASE_URL at an OpenAI-compatible API, usually ending in /v1",
    );
  }
  if (!models.includes(generator.model)) {
    const listed = models.length === 0 ? "none" : models.slice(0, 10).join(", ");
    return fail(
      `${where} does not list the model "${generator.model}" (it lists: ${listed})`,
      "Set CAPIBARA_MODEL (or generator.model) to one of the listed models",
    );
  }
  return { name, ok: true, detail: `${where} answers and lists "${generator.model}"` };
}

async function version(
  cmd: string,
  args: string[],
  path: string | undefined,
): Promise<string | undefined> {
  const program = await which(cmd, path ?? DEFAULT_PATH);
  if (program === undefined) return undefined;
  try {
    const out = await execCommand(
      { program, args, env: { PATH: path ?? DEFAULT_PATH }, cwd: "/" },
      {
        timeoutMs: 10_000,
        maxOutputBytes: 64_000,
      },
    );
    if (out.code !== 0) return undefined;
    return (out.stdout + out.stderr).trim().split("\n")[0];
  } catch {
    return undefined;
  }
}

/** Whether the project's `.capibara/config.json` takes effect, and what it would grant if not. */
function projectConfigCheck(trust: ResolvedConfig["projectTrust"]): Check {
  const path = trust.file?.path ?? ".capibara/config.json";
  switch (trust.state) {
    case "absent":
      return { name: "project config", ok: true, detail: "none" };
    case "harmless":
      return { name: "project config", ok: true, detail: `${path} (needs no trust)` };
    case "trusted":
      return {
        name: "project config",
        ok: true,
        detail: `${path} (trusted ${
          trust.by === "env"
            ? `by ${TRUST_ENV}`
            : trust.by === "option"
            ? "by trustProjectConfig"
            : "on this machine"
        })`,
      };
    case "untrusted":
      return {
        name: "project config",
        ok: false,
        detail:
          `${path} is not trusted${trust.changed ? " (it changed since it was trusted)" : ""}` +
          `; ignored until it is. It would ${
            trust.request ? describeRequest(trust.request).join("; ") : "grant nothing"
          }`,
        fix: "Review it with `capibara trust --show`, then run `capibara trust`",
      };
  }
}

/**
 * Runs every check, with the configuration `capibara run` would use (options > environment >
 * `.capibara/config.json` > defaults).
 */
export async function doctorChecks(cb: Capibara = new Capibara()): Promise<Check[]> {
  const config = await cb.config();
  const checks: Check[] = [];
  checks.push({
    name: "deno",
    ok: true,
    detail: `${Deno.version.deno} (TypeScript scripts: Deno permissions)`,
  });
  const python = await version("python3", ["--version"], config.env.PATH);
  checks.push({
    name: "python3",
    ok: python !== undefined,
    detail: python ?? "not found",
    fix: python ? undefined : "Install Python 3.9+ with the venv module",
  });
  const bash = await version("bash", ["--version"], config.env.PATH);
  checks.push({ name: "bash", ok: bash !== undefined, detail: bash ?? "not found" });

  const backend = platformBackend(config.cacheDir);
  if (!backend) {
    checks.push({
      name: "sandbox",
      ok: false,
      detail: `no backend for ${Deno.build.os}: Python and bash scripts need --no-sandbox`,
    });
  } else {
    const availability = await backend.available();
    checks.push({
      name: `sandbox (${backend.name})`,
      ok: availability.ok,
      detail: availability.ok ? "works" : availability.reason ?? "unavailable",
      fix: availability.fix,
    });
    if (backend instanceof BubblewrapBackend && availability.ok) {
      const limits = await backend.describeLimits();
      checks.push({
        name: "limits",
        ok: limits.processesEffective,
        detail: limits.summary,
      });
      const identity = await backend.describeIdentity();
      checks.push({ name: "sandbox uid", ok: identity.uid !== 0, detail: identity.summary });
      const proxy = await backend.proxyAvailable();
      checks.push({
        name: "network proxy (socat)",
        ok: proxy.ok,
        detail: proxy.ok ? "granted hosts reachable through the proxy" : proxy.reason ?? "",
        fix: proxy.fix,
      });
    }
  }
  const generator = config.generator;
  // No generator is a choice, not a fault: cached scripts run. A configured one must answer.
  checks.push({
    name: "generator",
    ok: true,
    detail: generator.configured
      ? `${generator.baseUrl} (model ${generator.model})`
      : "not configured: cached scripts run, new requests fail (set CAPIBARA_BASE_URL " +
        "and/or CAPIBARA_API_KEY, or generator.base_url in .capibara/config.json)",
  });
  if (generator.configured) checks.push(await serverCheck(generator));
  checks.push({ ...projectConfigCheck(config.projectTrust), exit_code: 7 });
  const store = await cb.store();
  checks.push({ name: "store", ok: true, detail: store.scripts });
  checks.push({ name: "cache", ok: true, detail: config.cacheDir });
  return checks;
}

/** The `doctor` subcommand. */
export function doctorCommand(setExit: (code: number) => void) {
  return new Command("doctor")
    .description(
      "Report which sandbox backend, interpreters and generator work on this machine; " +
        "exits non-zero when a check fails",
    )
    .option("--root <dir>", ROOT_HELP)
    .option("--json", "print one JSON document on stdout")
    .action(async (opts) => {
      const json = opts.json ?? false;
      try {
        const checks = await doctorChecks(await commandCapibara(opts.root));
        const failed = checks.find((c) => !c.ok);
        if (failed) setExit(failed.exit_code ?? 3);
        if (json) {
          printJson({ ok: !failed, checks });
          return;
        }
        // Details quote the project's configuration, tools' output and paths: terminal-safe.
        for (const c of checks) {
          console.log(`${c.ok ? "✓" : "✗"} ${c.name.padEnd(24)} ${terminalSafe(c.detail)}`);
          if (!c.ok && c.fix) console.log(`  ${"".padEnd(24)} fix: ${terminalSafe(c.fix)}`);
        }
        if (failed) console.error(`error: ${checks.filter((c) => !c.ok).length} check(s) failed`);
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}
