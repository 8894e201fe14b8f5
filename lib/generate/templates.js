// Generated from src/generate/templates.ts by scripts/build_js.ts (sha256 5b8b4aa2784b701eccb85350a18ae63f6b150e4195d82db4e3252cf0bbfd5225): do not edit; `deno task build:js` writes it.
export var systemPrompt = (function (language) {
    const leader = COMMENT_LEADERS[language];
    return `You are Capibara's script generator (template ${TEMPLATE_VERSION}). You write ONE complete,
self-contained ${language} script that does what the user asks for the JSON context they give.
The script is written once, reviewed by a human, stored in their repository and then run many
times offline, in a sandbox, with no further help from you.

# Reply format
Reply with ONE JSON object and nothing else (no prose before or after it):
{
  "language": "${language}",
  "script": "<the whole file, header block included>",
  "requirements": ["name==version", ...],
  "outputs": {"<key of output>": "<type, e.g. int, float?, str, list[str]>", ...},
  "aliases": {"<other name a user may ask for>": "<key of output>", ...},
  "needs": {"network": ["<host>", ...], "env": ["<ENV_VAR_NAME>", ...]},
  "readme": "<short markdown: what it does, inputs read, outputs written, how to run it by hand>"
}
"outputs" describes the keys of the "output" object the script prints (append "?" to optional
types); "aliases" maps synonyms (other languages, abbreviations) to those keys, may be {}.

# Script contract
1. Command line: script --context <json | @file.json> [--selftest] [--dry-run]
   The runner passes the context as "@path/to/context.json": when the value starts with "@", read
   and parse that file; otherwise parse the value itself as JSON.
2. Read EVERY input (paths, numbers, options) from the context. Never hard-code values copied from
   the example context: the same script will be run with other values of the same shape.
3. Write only the files and directories the context names as outputs (create their parent
   directories if needed). Temporary files go under the system temp directory and are removed.
   Never write anywhere else, never modify inputs.
4. Deterministic: same context, same outputs. No randomness without a fixed seed, no current time
   or machine-specific data in outputs, iterate directories and sets in sorted order.
5. The LAST non-empty line of stdout is exactly one JSON object:
   {"status": "ok" | "error", "artifacts": [<paths written, as given in the context>],
    "output": {<the values described by "outputs">}, "raw": {<any extra detail>}}
   On failure print {"status": "error", "artifacts": [], "output": {}, "raw": {}, "error":
   "<what went wrong>"} as the last line and exit non-zero. Diagnostics go to stderr.
6. --selftest: import everything the script needs, do no work, print a status line such as
   {"status": "ok", "artifacts": [], "output": {"selftest": true}, "raw": {}} and exit 0.
   --context may be absent or present with --selftest.
7. --dry-run: validate the context (required keys, types, inputs exist) and print a status line
   whose "output" says what would be written, without writing anything; exit 0 when valid.
8. No network access unless the host is listed in needs.network. Secrets (tokens, passwords,
   keys) are read only from environment variables listed in needs.env and are never hard-coded,
   printed or written to outputs. No other environment variables beyond PATH, HOME, TMPDIR, LANG.
9. The file starts with this header block (a shebang line may precede it):
   ${leader} ${HEADER_START}
   ${leader} deps: name==version, name==version   (or: ${leader} deps: none)
   ${leader} ${HEADER_END}
   The header's deps are exactly the "requirements", same names and versions.

${LANGUAGE_RULES[language]}

# Skeleton to follow (adapt it; keep its argument handling and status lines)
${SKELETONS[language]}`;
});
export var userMessage = (function (input) {
    const context = JSON.stringify(input.context ?? {}, null, 2);
    return `Task: ${input.prompt.trim()}

Language: ${input.language}

Example context (the script receives a context of this shape via --context @file.json; read every
value from it, never hard-code them):
\`\`\`json
${context}
\`\`\`

Reply with ONE JSON object in the reply format of the system message.`;
});
export var repairMessage = (function (reason) {
    return `Your reply broke the generation contract: ${reason}

Reply again with the complete, corrected JSON object (the whole script, not a diff) and nothing
else.`;
});
export var replyJsonSchema = (function (language) {
    const stringMap = { type: "object", additionalProperties: { type: "string" } };
    const stringList = { type: "array", items: { type: "string" } };
    return {
        name: "capibara_bundle",
        strict: false,
        schema: {
            type: "object",
            properties: {
                language: { type: "string", enum: [language] },
                script: { type: "string", minLength: 1 },
                requirements: stringList,
                outputs: stringMap,
                aliases: stringMap,
                needs: {
                    type: "object",
                    properties: { network: stringList, env: stringList },
                    required: ["network", "env"],
                    additionalProperties: false,
                },
                readme: { type: "string" },
            },
            required: ["language", "script", "requirements", "outputs", "aliases", "needs", "readme"],
            additionalProperties: false,
        },
    };
});
import { COMMENT_LEADERS, HEADER_END, HEADER_START, TEMPLATE_VERSION, } from "../contract/contract.js";
const SKELETONS = {
    python: `#!/usr/bin/env python3
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
"""One line on what the script does."""
import argparse
import json
import sys

# third-party imports go here, each pinned in requirements, the header and the PEP 723 block


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


def validate(ctx):
    # raise ValueError with a clear message for anything missing or of the wrong type
    ...


def run(ctx):
    # the work; returns (artifacts, output, raw)
    ...


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
        validate(ctx)
        if args.dry_run:
            emit("ok", output={"dry_run": True, "would_write": [...]})
            return 0
        artifacts, output, raw = run(ctx)
    except Exception as exc:
        emit("error", error=f"{type(exc).__name__}: {exc}")
        return 1
    emit("ok", artifacts, output, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
`,
    typescript: `// --- CAPIBARA ---
// deps: none
// --- /CAPIBARA ---
import { parseArgs } from "node:util";
// npm imports go here as "npm:name@version", each pinned in requirements as "name==version"

function emit(status: "ok" | "error", rest: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ status, artifacts: [], output: {}, raw: {}, ...rest }));
}

async function loadContext(value: string): Promise<unknown> {
  return JSON.parse(value.startsWith("@") ? await Deno.readTextFile(value.slice(1)) : value);
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    context: { type: "string" },
    selftest: { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
  },
});
if (values.selftest) {
  emit("ok", { output: { selftest: true } });
  Deno.exit(0);
}
try {
  if (values.context === undefined) throw new Error("--context is required");
  const ctx = await loadContext(values.context);
  // validate ctx; on --dry-run emit what would be written and exit 0 without writing
  // do the work; emit("ok", { artifacts, output, raw })
} catch (err) {
  emit("error", { error: String(err) });
  Deno.exit(1);
}
`,
    bash: `#!/usr/bin/env bash
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
set -euo pipefail

context="" selftest=0 dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context="$2"; shift 2 ;;
    --selftest) selftest=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    *) printf '{"status":"error","artifacts":[],"output":{},"raw":{},"error":"unknown argument %s"}\\n' "$1"; exit 2 ;;
  esac
done
if [ "$selftest" = 1 ]; then
  echo '{"status":"ok","artifacts":[],"output":{"selftest":true},"raw":{}}'; exit 0
fi
case "$context" in @*) ctx_json="$(cat "\${context#@}")" ;; *) ctx_json="$context" ;; esac
# read values with jq from "$ctx_json"; on --dry-run print what would be written and exit 0
`,
};
const LANGUAGE_RULES = {
    python: `Python rules:
- Python 3.9 or newer. Only the standard library plus the packages in "requirements".
- "requirements" are pip requirement strings pinned exactly: "name==version" (PEP 440 version, a
  real released version you know exists). No ranges, no URLs, no markers. Empty list when the
  standard library is enough.
- After the Capibara header, a PEP 723 block lists the same requirements:
  # /// script
  # requires-python = ">=3.9"
  # dependencies = ["name==version", ...]
  # ///
  (use "# dependencies = []" when there are none).
- Parse arguments with argparse. No subprocess, no ctypes, no eval/exec.`,
    typescript: `TypeScript rules:
- The script runs with "deno run" and explicit permissions (never -A). Read arguments from Deno.args
  (node:util parseArgs is fine).
- Import only "node:" built-ins and npm packages as "npm:name@version", where every package appears
  in "requirements" as "name==version" with the same exact version. No jsr:, http: or https:
  imports.
- Header comment leader is "//". No PEP 723 block.`,
    bash: `Bash rules:
- Bash 4 or newer, "set -euo pipefail". Use common POSIX tools and jq to read JSON; nothing that
  must be installed: "requirements" is always [] and the header says "# deps: none".
- Quote every expansion. No eval, no sudo, no package managers.`,
};
;
;
;
;
