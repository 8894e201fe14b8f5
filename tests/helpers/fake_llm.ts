/**
 * A fake OpenAI-compatible server on loopback, for tests: real HTTP, programmable replies.
 *
 * @module
 */

import type { Generator } from "../../src/generate/types.ts";
import type { Bundle } from "../../src/schema.ts";

/** An HTTP error reply. */
export interface ErrorReply {
  /** HTTP status. */
  status: number;
  /** JSON body (default: an OpenAI-style `{error: {message}}`). */
  body?: unknown;
  /** Extra response headers (e.g. `retry-after-ms` to keep client retries fast). */
  headers?: Record<string, string>;
}

/** A successful reply with options. */
export interface ContentReply {
  /** The assistant message's content. */
  content: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** `finish_reason` of the choice (default `stop`). */
  finishReason?: string;
}

/** A reply sent verbatim: a body that is not a chat completion (an HTML page, plain text). */
export interface RawReply {
  /** The body, as is. */
  raw: string;
  /** Its content type (default `text/html`). */
  contentType?: string;
  /** HTTP status (default 200). */
  status?: number;
}

/** One reply: the message content, an HTTP error, content with options, or a raw body. */
export type ReplySpec = string | ErrorReply | ContentReply | RawReply;

/** Options of {@linkcode startFakeLLM}. */
export interface FakeLLMOptions {
  /**
   * Replies, consumed in order (the last one repeats), or a function of the request body and the
   * 1-based number of the chat completion request.
   */
  replies: ReplySpec[] | ((body: unknown, n: number) => ReplySpec);
  /** Answer 400 whenever a request carries `response_format`. */
  rejectResponseFormat?: boolean;
  /** Model names listed by `GET /v1/models` (default `["fake-model"]`). */
  models?: string[];
  /** Answer `GET /v1/models` with this HTTP error status instead of the list. */
  modelsStatus?: number;
}

/** A running fake server. */
export interface FakeLLM extends AsyncDisposable {
  /** Base URL, ending in `/v1`. */
  readonly url: string;
  /** How many chat completion requests arrived. */
  readonly requests: number;
  /** The JSON bodies of the chat completion requests, in order. */
  readonly bodies: unknown[];
  /** Stops the server. */
  close(): Promise<void>;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function errorType(status: number): string {
  if (status === 401) return "invalid_request_error";
  if (status === 429) return "rate_limit_exceeded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Starts a fake OpenAI-compatible server on 127.0.0.1 and a free port. */
export function startFakeLLM(opts: FakeLLMOptions): FakeLLM {
  const bodies: unknown[] = [];
  let count = 0;
  let created = 1_700_000_000;
  const stopping = new AbortController();

  function replyFor(body: unknown, n: number): ReplySpec {
    if (typeof opts.replies === "function") return opts.replies(body, n);
    const list = opts.replies;
    const spec = list[Math.min(n, list.length) - 1];
    if (spec === undefined) throw new Error("The fake LLM has no replies configured");
    return spec;
  }

  async function chat(req: Request): Promise<Response> {
    let body: Record<string, unknown>;
    try {
      body = await req.json();
    } catch {
      return json({ error: { message: "Invalid JSON body", type: "invalid_request_error" } }, 400);
    }
    count++;
    bodies.push(body);
    if (opts.rejectResponseFormat && body.response_format !== undefined) {
      return json({
        error: {
          message: "response_format is not supported",
          type: "invalid_request_error",
          param: "response_format",
          code: null,
        },
      }, 400);
    }
    const spec = replyFor(body, count);
    if (typeof spec !== "string" && "raw" in spec) {
      return new Response(spec.raw, {
        status: spec.status ?? 200,
        headers: { "content-type": spec.contentType ?? "text/html" },
      });
    }
    if (typeof spec !== "string" && "status" in spec) {
      return json(
        spec.body ?? {
          error: { message: `Fake error ${spec.status}`, type: errorType(spec.status), code: null },
        },
        spec.status,
        spec.headers,
      );
    }
    const reply: ContentReply = typeof spec === "string" ? { content: spec } : spec;
    if (reply.delayMs) await sleep(reply.delayMs, stopping.signal);
    const model = typeof body.model === "string" ? body.model : "fake-model";
    return json({
      id: `chatcmpl-fake${count}`,
      object: "chat.completion",
      created: created++,
      model,
      system_fingerprint: "fp_fake",
      choices: [{
        index: 0,
        message: { role: "assistant", content: reply.content, refusal: null },
        logprobs: null,
        finish_reason: reply.finishReason ?? "stop",
      }],
      usage: {
        prompt_tokens: 100,
        completion_tokens: Math.ceil(reply.content.length / 4),
        total_tokens: 100 + Math.ceil(reply.content.length / 4),
      },
    });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    if (req.method === "POST" && path === "/v1/chat/completions") return chat(req);
    if (req.method === "GET" && path === "/v1/models") {
      if (opts.modelsStatus !== undefined) {
        const status = opts.modelsStatus;
        return json(
          { error: { message: `Fake error ${status}`, type: errorType(status) } },
          status,
        );
      }
      return json({
        object: "list",
        data: (opts.models ?? ["fake-model"]).map((id) => ({
          id,
          object: "model",
          created: 1_700_000_000,
          owned_by: "capibara-tests",
        })),
      });
    }
    return json({ error: { message: `Unknown route ${req.method} ${path}` } }, 404);
  });

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    if (!closed) {
      stopping.abort();
      closed = server.shutdown();
    }
    return closed;
  }

  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    get requests() {
      return count;
    },
    bodies,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Options of {@linkcode pythonScript} and {@linkcode bundleReply}. */
export interface ScriptOptions {
  /**
   * Python statements, the body of `run(ctx)`: `ctx` is the parsed context; return a dict with any
   * of `artifacts`, `output`, `raw`. Default: echo the context as `output.context`.
   */
  body?: string;
  /** Extra `import` lines' modules, placed at the top (e.g. `["time", "numpy as np"]`). */
  imports?: string[];
  /** Pinned requirements (`name==version`). */
  requirements?: string[];
  /** The header's deps when they should differ from `requirements`. */
  headerDeps?: string[];
  /** The PEP 723 dependencies when they should differ from `requirements`; null omits the block. */
  pep723Deps?: string[] | null;
}

/** Options of {@linkcode bundleReply}: a script's options plus the other reply fields. */
export interface BundleReplyOptions extends ScriptOptions {
  /** The whole script, replacing the generated one. */
  script?: string;
  language?: string;
  outputs?: Record<string, string>;
  aliases?: Record<string, string>;
  needs?: { network?: string[]; env?: string[] };
  readme?: string;
  /** Extra or replacement top-level fields of the reply. */
  extra?: Record<string, unknown>;
}

function indent(code: string, prefix: string): string {
  return code.split("\n").map((line) => (line.trim() === "" ? "" : prefix + line)).join("\n");
}

/**
 * A small, runnable Python script that satisfies every contract check: header block, PEP 723
 * block, argparse with `--context` (JSON or `@file`), `--selftest` and `--dry-run`, and the final
 * status line (`status: "error"` and exit 1 when the body raises).
 */
export function pythonScript(opts: ScriptOptions = {}): string {
  const requirements = opts.requirements ?? [];
  const headerDeps = opts.headerDeps ?? requirements;
  const pep723 = opts.pep723Deps === undefined ? requirements : opts.pep723Deps;
  const pep723Block = pep723 === null ? "" : [
    "# /// script",
    '# requires-python = ">=3.9"',
    `# dependencies = [${pep723.map((d) => JSON.stringify(d)).join(", ")}]`,
    "# ///",
    "",
  ].join("\n");
  const imports = (opts.imports ?? []).map((m) => `import ${m}\n`).join("");
  const body = opts.body ?? 'return {"output": {"context": ctx}}';
  return `#!/usr/bin/env python3
# --- CAPIBARA ---
# deps: ${headerDeps.length === 0 ? "none" : headerDeps.join(", ")}
# --- /CAPIBARA ---
${pep723Block}"""A test script written by tests/fake_llm.ts."""
import argparse
import json
import sys
${imports}

def load_context(value):
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as fh:
            return json.load(fh)
    return json.loads(value)


def emit(status, artifacts=None, output=None, raw=None, error=None):
    line = {"status": status, "artifacts": artifacts or [], "output": output or {}, "raw": raw or {}}
    if error is not None:
        line["error"] = error
    print(json.dumps(line, sort_keys=True), flush=True)


def run(ctx):
${indent(body, "    ")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--context")
    parser.add_argument("--selftest", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if args.selftest:
        emit("ok", output={"selftest": True})
        return 0
    try:
        if args.context is None:
            raise ValueError("--context is required")
        ctx = load_context(args.context)
        if not isinstance(ctx, dict):
            raise ValueError("the context must be a JSON object")
        if args.dry_run:
            emit("ok", output={"dry_run": True, "context_keys": sorted(ctx)})
            return 0
        result = run(ctx) or {}
    except Exception as exc:
        emit("error", error=f"{type(exc).__name__}: {exc}")
        return 1
    emit("ok", result.get("artifacts"), result.get("output"), result.get("raw"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
}

/** The reply object for {@linkcode bundleReply}, before serialisation. */
export function bundleObject(opts: BundleReplyOptions = {}): Record<string, unknown> {
  return {
    language: opts.language ?? "python",
    script: opts.script ?? pythonScript(opts),
    requirements: opts.requirements ?? [],
    outputs: opts.outputs ?? { context: "dict" },
    aliases: opts.aliases ?? {},
    needs: { network: opts.needs?.network ?? [], env: opts.needs?.env ?? [] },
    readme: opts.readme ?? "A test script.",
    ...opts.extra,
  };
}

/** A model reply (message content, JSON) carrying a valid python bundle built from `opts`. */
export function bundleReply(opts: BundleReplyOptions = {}): string {
  return JSON.stringify(bundleObject(opts), null, 2);
}

/** A generator, in process, that always replies with `bundle` (no server: the SDK's own seam). */
export function fixedGenerator(bundle: Bundle, kind = "fixed"): Generator {
  return {
    kind,
    generate() {
      return Promise.resolve({ bundle, model: "fixed", attempts: 1 });
    },
  };
}
