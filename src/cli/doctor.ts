/**
 * `capibara doctor`: what works on this machine, and why not.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { Capibara } from "../capibara.ts";
import { type CoreSettings, discoversModel, type ResolvedConfig } from "../config.ts";
import { CapibaraError, EXIT_CODES, ValidationError } from "../errors.ts";
import { checkCoreUrl, CORE_TOKEN_ENV, CORE_URL_ENV } from "../generate/core_client.ts";
import { checkBaseUrl, shownUrl } from "../generate/openai.ts";
import {
  keyIdOf,
  REQUIRE_SIGNATURE_ENV,
  type SignaturePolicy,
  TRUSTED_KEYS_ENV,
} from "../store/trust.ts";
import { BubblewrapBackend } from "../sandbox/linux.ts";
import { landlockAbi, SYSTEM_PYTHON, systemPythonInside } from "../sandbox/landlock.ts";
import { platformBackend } from "../sandbox/mod.ts";
import { DEFAULT_PATH, which } from "../_which.ts";
import { execCommand } from "../exec.ts";
import { readBounded } from "../_body.ts";
import { describeRequest, TRUST_ENV } from "../config_trust.ts";
import { commandCapibara, printJson, reportError, ROOT_HELP, terminalSafe } from "./output.ts";
import { nonEmpty } from "./_options.ts";

/** One check of `capibara doctor`. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /**
   * Present (true) on a passed check that still deserves attention, e.g. no generator on a fresh
   * machine: cached scripts run, new requests fail. It never fails `doctor`.
   */
  warning?: boolean;
  /** The exit code when this check fails (default 3: something the machine lacks). */
  exit_code?: number;
  /** The Core token check: the rights the token holds (`read`, `gen`, `publish`). */
  rights?: Right[];
  /** The signature policy check: the policy in force. */
  policy?: { required: boolean; source: "project" | "machine"; key_ids: string[] };
}

/** A right a token may hold on a Core. */
type Right = "read" | "gen" | "publish";

/** How long `doctor` waits for the generator's server. */
const SERVER_TIMEOUT_MS = 5_000;

/**
 * Contacts the generator's server (`GET <base URL>/models`, bounded in time) and checks that it
 * answers, accepts the credentials and lists the model. The base URL is one `checkBaseUrl`
 * accepts (`doctorChecks` refuses any other first, as a run does).
 */
export async function serverCheck(generator: ResolvedConfig["generator"]): Promise<Check> {
  const name = "generator server";
  const where = shownUrl(generator.baseUrl);
  const fail = (detail: string, fix: string): Check => ({
    name,
    ok: false,
    detail,
    fix,
    exit_code: 4,
  });
  const url = new URL(`${generator.baseUrl.replace(/\/+$/, "")}/models`);
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
  const text = await boundedText(response);
  if (response.status === 401 || response.status === 403) {
    return fail(
      `${where} refused the credentials (HTTP ${response.status})`,
      "Check CAPIBARA_API_KEY (or OPENAI_API_KEY)",
    );
  }
  if (!response.ok) {
    return fail(
      `${shownUrl(String(url))} answered HTTP ${response.status}`,
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
      `${shownUrl(String(url))} did not answer with a model list (content type ${contentType}, ` +
        "starting with " +
        `${JSON.stringify(text.slice(0, 60))})`,
      "Point CAPIBARA_BASE_URL at an OpenAI-compatible API, usually ending in /v1",
    );
  }
  const listed = models.length === 0 ? "none" : models.slice(0, 10).join(", ");
  if (discoversModel(generator)) {
    // No model set, and not OpenAI's server: a run uses the server's only model.
    if (models.length === 1) {
      return { name, ok: true, detail: `${where} answers and lists one model, "${models[0]}"` };
    }
    return fail(
      `${where} lists ${models.length === 0 ? "no model" : `several models (${listed})`}, and ` +
        "none is set",
      "Set CAPIBARA_MODEL (or generator.model) to one of the listed models",
    );
  }
  if (!models.includes(generator.model)) {
    return fail(
      `${where} does not list the model "${generator.model}" (it lists: ${listed})`,
      "Set CAPIBARA_MODEL (or generator.model) to one of the listed models",
    );
  }
  return { name, ok: true, detail: `${where} answers and lists "${generator.model}"` };
}

/** Where the Core's URL came from, in the words a user sets it with. */
function coreSource(core: CoreSettings): string {
  return core.source === "env"
    ? CORE_URL_ENV
    : core.source === "config"
    ? "core.url in .capibara/config.json"
    : "the core option";
}

/** A bounded request to the Core: the response, or why there was none. */
async function coreFetch(
  url: URL,
  init: RequestInit,
): Promise<{ response: Response; text: string } | { error: string }> {
  try {
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      signal: AbortSignal.timeout(SERVER_TIMEOUT_MS),
    });
    const text = await boundedText(response);
    return { response, text };
  } catch (error) {
    return {
      error: error instanceof DOMException && error.name === "TimeoutError"
        ? `no answer within ${SERVER_TIMEOUT_MS} ms`
        : (error as Error).message.slice(0, 300),
    };
  }
}

/**
 * Checks the team's Core: its URL (https://, or http:// to loopback), that it answers
 * `GET /healthz` as a Core, and that the token is accepted, with the rights it holds.
 *
 * Rights are probed without side effects: `GET /v1/updates` (read); `POST /v1/gen` and
 * `PUT /v1/entries/<fp>` with an empty object (gen, publish), which the Core refuses with 403
 * before reading the body when the token lacks the right, and as invalid (400) once it holds it:
 * nothing is generated or stored.
 */
export async function coreChecks(core: CoreSettings): Promise<Check[]> {
  const where = `${core.url} (from ${coreSource(core)})`;
  let base: URL;
  try {
    base = checkCoreUrl(core.url);
  } catch (error) {
    if (!(error instanceof CapibaraError)) throw error;
    return [{
      name: "core",
      ok: false,
      detail: error.message,
      fix: error.hint,
      exit_code: EXIT_CODES[error.type],
    }];
  }
  const health = await coreFetch(new URL("healthz", base), {});
  const unreached = (detail: string, fix: string): Check[] => [
    { name: "core", ok: false, detail, fix, exit_code: 4 },
    { name: "core token", ok: false, detail: "not checked: the Core did not answer", exit_code: 4 },
  ];
  if ("error" in health) {
    return unreached(
      `cannot reach the Core at ${where}: ${health.error}`,
      `Start the Core (capibara serve prints its URL on its first line), or set ${CORE_URL_ENV} ` +
        "to its URL",
    );
  }
  let status: unknown;
  try {
    status = (JSON.parse(health.text) as { status?: unknown }).status;
  } catch {
    status = undefined;
  }
  if (health.response.status !== 200 || status !== "ok") {
    const type = health.response.headers.get("content-type") ?? "no content type";
    return unreached(
      `${new URL("healthz", base)} is not a Capibara Core's health check: it answered HTTP ` +
        `${health.response.status} (${type}), starting with ${
          JSON.stringify(health.text.slice(0, 60))
        }`,
      `Set ${CORE_URL_ENV} to the URL capibara serve prints on its first line`,
    );
  }
  const checks: Check[] = [{ name: "core", ok: true, detail: `${where} answers` }];
  const token = core.token?.trim();
  if (!token) {
    checks.push({
      name: "core token",
      ok: false,
      detail: "no token: the Core refuses every request without one",
      fix: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (its operator ` +
        "issues them)",
      exit_code: 7,
    });
    return checks;
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    checks.push({
      name: "core token",
      ok: false,
      detail: `${CORE_TOKEN_ENV} holds spaces, control or non-ASCII characters`,
      fix: `Set ${CORE_TOKEN_ENV} to the token exactly as the Core's token file lists it`,
      exit_code: 2,
    });
    return checks;
  }
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const probes: [Right, URL, RequestInit][] = [
    ["read", new URL(`v1/updates?since=${new Date().toISOString()}`, base), { headers }],
    ["gen", new URL("v1/gen", base), { method: "POST", headers, body: "{}" }],
    ["publish", new URL(`v1/entries/fp_${"0".repeat(32)}`, base), {
      method: "PUT",
      headers,
      body: "{}",
    }],
  ];
  const rights: Right[] = [];
  for (const [right, url, init] of probes) {
    const answer = await coreFetch(url, init);
    if ("error" in answer) {
      checks.push({
        name: "core token",
        ok: false,
        detail: `cannot check the token: the Core at ${core.url} did not answer: ${answer.error}`,
        exit_code: 4,
      });
      return checks;
    }
    const code = answer.response.status;
    if (code === 401) {
      checks.push({
        name: "core token",
        ok: false,
        detail: `the Core at ${core.url} refused the token (HTTP 401)`,
        fix: `Set ${CORE_TOKEN_ENV} to a token listed in the Core's token file (its operator ` +
          "issues them)",
        exit_code: 7,
      });
      return checks;
    }
    if (code === 429) {
      checks.push({
        name: "core token",
        ok: false,
        detail: `cannot check the token: the Core at ${core.url} limited the requests (HTTP 429)`,
        fix: "Run capibara doctor again in a moment",
        exit_code: 4,
      });
      return checks;
    }
    // 403: the token lacks the right. Anything else: the right was granted, then the probe refused.
    if (code !== 403) rights.push(right);
  }
  const missing = (["read", "gen", "publish"] as const).filter((r) => !rights.includes(r));
  const holds = `accepted; rights: ${rights.join(", ") || "none"}`;
  if (!rights.includes("read")) {
    checks.push({
      name: "core token",
      ok: false,
      detail: `${holds}: without "read", every miss fails (it fetches the shared entry first)`,
      fix: 'Ask the Core\'s operator for a token with the "read" right',
      exit_code: 7,
      rights,
    });
    return checks;
  }
  const note = missing.length === 0
    ? ""
    : ` (not ${missing.join(", ")}${
      missing.includes("gen") ? ": a miss the Core has not stored fails instead of generating" : ""
    })`;
  checks.push({ name: "core token", ok: true, detail: holds + note, rights });
  return checks;
}

/** The signature policy in force: whether signatures are required, by whom, and which keys count. */
export async function signatureCheck(policy: SignaturePolicy): Promise<Check> {
  const keyIds = await Promise.all(policy.keys.map((k) => keyIdOf(k).catch(() => "invalid")));
  const keys = keyIds.length === 0 ? "no trusted keys" : `trusted keys: ${keyIds.join(", ")}`;
  const by = policy.source === "machine"
    ? `required on this machine (${REQUIRE_SIGNATURE_ENV}; only ${TRUSTED_KEYS_ENV} counts)`
    : "required by this project (trust.require_signature in .capibara/config.json)";
  const detail = !policy.required
    ? `not required; ${keys}`
    : `${by}; ${keys}${
      keyIds.length === 0 ? ": only scripts accepted on this machine (capibara accept) run" : ""
    }`;
  return {
    name: "signatures",
    ok: true,
    detail,
    policy: { required: policy.required, source: policy.source, key_ids: keyIds },
  };
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
          `: capibara run stops (exit 7) until it is. It would ${
            trust.request ? describeRequest(trust.request).join("; ") : "grant nothing"
          }`,
        fix: "Review it with `capibara trust --show`, then run `capibara trust`",
      };
  }
}

/** Deno, and the interpreters Python and bash scripts need, found on `path`. */
async function toolChecks(path: string | undefined): Promise<Check[]> {
  const python = await version("python3", ["--version"], path);
  const bash = await version("bash", ["--version"], path);
  return [
    {
      name: "deno",
      ok: true,
      detail: `${Deno.version.deno} (TypeScript scripts: Deno permissions)`,
    },
    {
      name: "python3",
      ok: python !== undefined,
      detail: python ?? "not found",
      fix: python ? undefined : "Install Python 3.9+ with the venv module",
    },
    { name: "bash", ok: bash !== undefined, detail: bash ?? "not found" },
    ...pathCheck(path),
  ];
}

/**
 * A warning for PATH entries that are not absolute (`~/.local/bin` written in quotes, `bin`, an
 * empty one): bash reads a leading `~` as home, but `sh`, `env` and the launcher `deno install`
 * writes for `capibara` (which runs `deno` by name) take such an entry from the current folder,
 * where a cloned repository could hold a `deno` of its own. Capibara's own look-ups skip them.
 */
function pathCheck(path: string | undefined): Check[] {
  const relative = (path ?? "").split(":").filter((dir) => !dir.startsWith("/"));
  if (relative.length === 0) return [];
  const shown = [...new Set(relative)].map((dir) => JSON.stringify(dir)).join(", ");
  return [{
    name: "PATH",
    ok: true,
    warning: true,
    detail: `holds entries that are not absolute (${shown}): sh, env and the installed ` +
      "capibara command look in them from the current folder, a cloned repository's",
    fix: 'Write each PATH entry absolute ("$HOME/.local/bin", not "~/.local/bin" in quotes)',
  }];
}

/**
 * Runs every check, with the configuration `capibara run` would use (options > environment >
 * `.capibara/config.json` > defaults).
 */
export async function doctorChecks(cb: Capibara = new Capibara()): Promise<Check[]> {
  let config: ResolvedConfig;
  try {
    config = await cb.config();
  } catch (error) {
    // A setting that stops every run (a cache folder others may write, a value that is none) is
    // a failed check among the others, not the end of the report.
    if (!(error instanceof CapibaraError)) throw error;
    return [
      ...await toolChecks(Deno.env.get("PATH")),
      {
        name: "configuration",
        ok: false,
        detail: error.message,
        fix: error.hint,
        exit_code: EXIT_CODES[error.type],
      },
    ];
  }
  const checks: Check[] = await toolChecks(config.env.PATH);

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
      const abi = systemPythonInside() ? await landlockAbi() : undefined;
      checks.push({
        name: "landlock",
        ok: (abi ?? 0) > 0,
        detail: abi === undefined
          ? `${SYSTEM_PYTHON} was not found under /usr: bash scripts run without the rule set ` +
            "that closes /proc's mount tables (Python scripts apply it themselves)"
          : abi > 0
          ? `ABI ${abi}: scripts cannot read /proc's mount tables (the host paths of their binds)`
          : "this kernel has no Landlock (Linux 5.13+): scripts can read /proc's mount tables, " +
            "which name the host paths of their binds",
      });
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
  if (config.core) {
    // With a Core, a miss asks it and never an LLM: the local generator is not used.
    checks.push({
      name: "generator",
      ok: true,
      detail: `the team's Core at ${config.core.url}: a miss asks it, never an LLM${
        generator.configured
          ? ` (${shownUrl(generator.baseUrl)} is not used while a Core is set)`
          : ""
      }`,
    });
    checks.push(...await coreChecks(config.core));
  } else {
    // No generator is a choice, not a fault: cached scripts run. A configured one must answer,
    // at a base URL a run would use (another is a setting to correct, exit 2: no server asked).
    let badUrl: ValidationError | undefined;
    try {
      if (generator.configured) checkBaseUrl(generator.baseUrl);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      badUrl = error;
    }
    const detail = !generator.configured
      ? "not configured: cached scripts run, new requests fail (set CAPIBARA_BASE_URL " +
        "and/or CAPIBARA_API_KEY, or generator.base_url in .capibara/config.json; or a team " +
        `Core: ${CORE_URL_ENV} and ${CORE_TOKEN_ENV})`
      : `${shownUrl(generator.baseUrl)} (${
        discoversModel(generator) ? "the server's only model" : `model ${generator.model}`
      })`;
    checks.push(
      badUrl
        ? {
          name: "generator",
          ok: false,
          detail: badUrl.message,
          fix: badUrl.hint,
          exit_code: badUrl.exitCode,
        }
        : {
          name: "generator",
          ok: true,
          ...(generator.configured ? {} : { warning: true }),
          detail,
        },
    );
    if (generator.configured && !badUrl) checks.push(await serverCheck(generator));
  }
  checks.push(await signatureCheck(config.signatures));
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
      "Report which sandbox backend, interpreters, generator or Core work on this machine, and " +
        "the signature policy in force; exits non-zero when a check fails",
    )
    .option("--root <dir>", ROOT_HELP, nonEmpty)
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
          const mark = !c.ok ? "✗" : c.warning ? "!" : "✓";
          console.log(`${mark} ${c.name.padEnd(24)} ${terminalSafe(c.detail)}`);
          if (!c.ok && c.fix) console.log(`  ${"".padEnd(24)} fix: ${terminalSafe(c.fix)}`);
        }
        if (failed) console.error(`error: ${checks.filter((c) => !c.ok).length} check(s) failed`);
      } catch (error) {
        setExit(reportError(error, json));
      }
    });
}

/** The most of a server's answer `doctor` reads (a health check, a model list). */
const MAX_ANSWER_BYTES = 1024 ** 2;

/** A server's answer as text, at most {@linkcode MAX_ANSWER_BYTES} of it ("" past that). */
async function boundedText(response: Response): Promise<string> {
  try {
    return new TextDecoder().decode(await readBounded(response, MAX_ANSWER_BYTES));
  } catch {
    return "";
  }
}
