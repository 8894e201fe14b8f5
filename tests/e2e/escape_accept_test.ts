/**
 * The escape suite, `capibara accept`: a hand edit whose `--selftest` writes outside, reads
 * ~/.ssh or connects out must be confined like a run. Each attack asserts that the attempt failed
 * AND that the host is unchanged (see _escape.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ExecError, IntegrityError, TemplateError } from "../../src/errors.ts";
import type { Language } from "../../src/schema.ts";
import { acceptEdit } from "../../src/cli/accept.ts";
import { forge } from "../store/_fixture.ts";
import {
  type Attack,
  attack,
  escapeSuite,
  exists,
  HOME,
  OTHER,
  PROJECT,
  SERVICE_PORT,
  serviceHits,
} from "./_escape.ts";

// --- capibara accept: the --selftest of a hand-edited script runs in the sandbox -------------
// A reviewed-looking edit hides its attack in the --selftest branch, written to pass the static
// checks (names built at run time). accept re-runs --selftest before it keeps the edit: that run
// must be confined like a run (no grants, no network, staged outputs never copied out), whatever
// the instance's own `sandbox` option says.
const ACCEPT_PLANT = join(OTHER, "planted-by-selftest.txt");
/** The host service's count before an attack (a granted case above reached it on purpose). */
let hitsBefore = 0;
const SSH_PARTS = `[${JSON.stringify(HOME)}, chr(46) + "s" + "sh", "id_" + "rsa"]`;

/** A script that passes the contract checks; `selftest` is its (hostile) --selftest branch. */
function contractScript(language: Language, selftest: string): string {
  switch (language) {
    case "python":
      return `# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
import argparse
import json
import os
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--context")
    parser.add_argument("--selftest", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    if args.selftest:
${selftest.split("\n").map((l) => "        " + l).join("\n")}
        print(json.dumps({"status": "ok", "artifacts": [], "output": {}, "raw": {}}))
        return 0
    print(json.dumps({"status": "ok", "artifacts": [], "output": {"dry_run": args.dry_run}, "raw": {}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
    case "bash":
      return `#!/usr/bin/env bash
# --- CAPIBARA ---
# deps: none
# --- /CAPIBARA ---
set -u
case "\${1:-}" in
  --selftest)
${selftest}
    echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
  --dry-run) echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
  --context) echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'; exit 0 ;;
esac
echo '{"status":"ok","artifacts":[],"output":{},"raw":{}}'
`;
    case "typescript":
      return `// --- CAPIBARA ---
// deps: none
// --- /CAPIBARA ---
const args = Deno.args;
if (args.includes("--selftest")) {
${selftest}
  console.log(JSON.stringify({ status: "ok", artifacts: [], output: {}, raw: {} }));
} else {
  const dry = args.includes("--dry-run");
  const context = args.includes("--context");
  console.log(JSON.stringify({ status: "ok", artifacts: [], output: { dry, context }, raw: {} }));
}
`;
  }
}

/** Runs the harmless script once (an entry), edits it by hand into `hostile`, then accepts it. */
function throughAccept(language: Language, hostile: string): Attack["via"] {
  return async (cb, prompt) => {
    const first = await cb.run(prompt, { context: {}, language });
    const dir = join(PROJECT, ".capibara", "scripts", first.fingerprint);
    const entry = { python: "script.py", bash: "script.sh", typescript: "script.ts" }[language];
    await Deno.writeTextFile(join(dir, entry), hostile);
    try {
      const accepted = await acceptEdit(cb, first.fingerprint);
      return { breached: false, detail: `accepted revision ${accepted.revision}` };
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
}

const SELFTEST_ATTACKS: Record<Language, { name: string; code: string; check: Partial<Attack> }[]> =
  {
    python: [
      {
        name: "write outside the project",
        code: `open(${JSON.stringify(ACCEPT_PLANT)}, "w").write("planted")`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `sys.stderr.write(open("/".join(${SSH_PARTS})).read())
sys.exit(3)`,
        check: {},
      },
      {
        name: "connect to a host service",
        code: `b = __builtins__
imp = b["__imp" + "ort__"] if isinstance(b, dict) else getattr(b, "__imp" + "ort__")
s = imp("so" + "cket").create_connection(("127.0.0.1", ${SERVICE_PORT}), timeout=3)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
s.recv(100)`,
        check: {},
      },
    ],
    bash: [
      {
        name: "write outside the project",
        code: `    echo planted > ${ACCEPT_PLANT}`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `    d=.s; k=id_; cat ${HOME}/\${d}sh/\${k}rsa >&2 && exit 3`,
        check: {},
      },
      {
        name: "connect to a host service",
        code:
          `    t=/dev/t; exec 3<>\${t}cp/127.0.0.1/${SERVICE_PORT} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3`,
        check: {},
      },
    ],
    typescript: [
      {
        name: "write outside the project",
        code: `  Deno.writeTextFileSync(${JSON.stringify(ACCEPT_PLANT)}, "planted");`,
        check: {},
      },
      {
        name: "read ~/.ssh/id_rsa",
        code: `  console.error(Deno.readTextFileSync([${
          JSON.stringify(HOME)
        }, "." + "ssh", "id_" + "rsa"].join("/")));
  Deno.exit(3);`,
        check: {},
      },
      {
        name: "connect to a host service",
        // fetch handed on in an array: the static checks follow the global object, not this.
        code: `  const get = [fetch][0];
  await (await get("http://127.0.0.1:${SERVICE_PORT}/")).text();`,
        check: {},
      },
    ],
  };

for (const language of ["python", "bash", "typescript"] as const) {
  for (const { name, code } of SELFTEST_ATTACKS[language]) {
    attack({
      name: `capibara accept of a hand edit whose --selftest tries to ${name}`,
      language,
      script: contractScript(language, ""),
      via: throughAccept(language, contractScript(language, code)),
      // A refusal by the static checks would not test the sandbox: only the self-test's failure
      // (or an accepted edit that did nothing) counts.
      blockedBy: [ExecError],
      leaks: ["hunter2"],
      before: () => Promise.resolve(void (hitsBefore = serviceHits)),
      async hostUnchanged() {
        const planted = await exists(ACCEPT_PLANT);
        await Deno.remove(ACCEPT_PLANT).catch(() => {});
        assert.equal(planted, false, "the self-test wrote outside");
        assert.equal(serviceHits, hitsBefore, "the self-test reached the host service");
      },
    });
  }
}

// A hand edit Python's parser reads and its compiler refuses (a nonlocal with no binding): the
// checks compile it, in the analysis's sandbox, and refuse it before its --selftest could run.
attack({
  name: "capibara accept of a hand edit that parses but does not compile (its --selftest plants)",
  language: "python",
  script: contractScript("python", ""),
  via: async (cb, prompt) => {
    const first = await cb.run(prompt, { context: {}, language: "python" });
    const dir = join(PROJECT, ".capibara", "scripts", first.fingerprint);
    const hostile = contractScript(
      "python",
      `nonlocal planted\nplanted = open(${JSON.stringify(ACCEPT_PLANT)}, "w").write("planted")`,
    );
    try {
      await Deno.writeTextFile(join(dir, "script.py"), hostile);
      const refused = await acceptEdit(cb, first.fingerprint).then(() => undefined, (e) => e);
      if (!(refused instanceof TemplateError)) {
        return { breached: true, detail: `accepted, or refused otherwise: ${refused}` };
      }
      assert.match(JSON.stringify(refused.details ?? {}) + refused.message, /does not compile/);
      throw refused;
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
  blockedBy: [TemplateError],
  async hostUnchanged() {
    const planted = await exists(ACCEPT_PLANT);
    await Deno.remove(ACCEPT_PLANT).catch(() => {});
    assert.equal(planted, false, "the edit's --selftest ran");
  },
});

// The static checks' TypeScript parser (`deno lint`) runs on the host, and its memory grows with
// what it reads: 15 MB of string literals took it 3.5 GiB. A script past the checks' bound is
// refused before any parser reads it.
attack({
  name: "capibara accept of a hand edit too large for the checks (600 KiB of TypeScript literals)",
  language: "typescript",
  script: contractScript("typescript", ""),
  via: async (cb, prompt) => {
    const first = await cb.run(prompt, { context: {}, language: "typescript" });
    const dir = join(PROJECT, ".capibara", "scripts", first.fingerprint);
    const hostile = contractScript("typescript", "'a';\n".repeat(120_000));
    try {
      await Deno.writeTextFile(join(dir, "script.ts"), hostile);
      const refused = await acceptEdit(cb, first.fingerprint).then(() => undefined, (e) => e);
      if (!(refused instanceof TemplateError)) {
        return { breached: true, detail: `accepted, or refused otherwise: ${refused}` };
      }
      assert.match(
        JSON.stringify(refused.details ?? {}) + refused.message,
        /more than the 512 KiB/,
      );
      throw refused;
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
  blockedBy: [TemplateError],
});

/** The manifest's fields the attacks below edit. */
type Editable = { allow: { network: string[] }; needs: { network: string[] }; outputs: unknown[] };

/**
 * Runs the harmless script once (an entry), lets `tamper` edit its manifest, edits the script
 * harmlessly, then accepts: a breach when the edit is accepted as a revision.
 */
function throughManifestEdit(
  tamper: (dir: string, manifestPath: string) => Promise<void>,
): Attack["via"] {
  return async (cb, prompt) => {
    const first = await cb.run(prompt, { context: {}, language: "python" });
    const dir = join(PROJECT, ".capibara", "scripts", first.fingerprint);
    const manifestPath = join(dir, "manifest.json");
    try {
      await tamper(dir, manifestPath);
      await Deno.writeTextFile(join(dir, "script.py"), contractScript("python", "pass"));
      const accepted = await acceptEdit(cb, first.fingerprint).catch((error) => error);
      const after = JSON.parse(await Deno.readTextFile(manifestPath));
      if (!(accepted instanceof Error) || after.revision !== 1) {
        return { breached: true, detail: `accepted as revision ${after.revision}` };
      }
      throw accepted;
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
}

// A repository's edit of the manifest itself (its grants, needs, outputs), beside a harmless
// edit of the script: accepted, it would carry the grants into a revision as if reviewed.
for (
  const [field, edit] of [
    ["allow", (m: Editable) => void (m.allow.network = ["evil.example.com"])],
    ["needs", (m: Editable) => void (m.needs.network = ["evil.example.com"])],
    ["outputs", (m: Editable) => void (m.outputs = [{ key: "x", path: "/etc/x" }])],
  ] as const
) {
  attack({
    name: `capibara accept of a hand edit that also changes the manifest's ${field}`,
    language: "python",
    script: contractScript("python", ""),
    via: throughManifestEdit(async (_dir, manifestPath) => {
      const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
      edit(manifest);
      await Deno.writeTextFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
    }),
    blockedBy: [IntegrityError],
    hostUnchanged: () => Promise.resolve(),
  });
}

// The manifest's grants changed with a record to match, behind a key given twice: a reviewer
// reads the first "needs", JSON.parse keeps the last. Refused: not the form the store writes.
attack({
  name: "capibara accept of a manifest that gives a key twice (a reviewer sees the first)",
  language: "python",
  script: contractScript("python", ""),
  via: throughManifestEdit(async (dir, manifestPath) => {
    const shown = JSON.stringify(JSON.parse(await Deno.readTextFile(manifestPath)).needs);
    await forge(dir, (m) => void ((m.needs as Editable["needs"]).network = ["evil.example"]));
    const text = await Deno.readTextFile(manifestPath);
    await Deno.writeTextFile(manifestPath, text.replace("{\n", `{\n  "needs": ${shown},\n`));
  }),
  blockedBy: [IntegrityError],
  hostUnchanged: () => Promise.resolve(),
});

Deno.test(escapeSuite("capibara accept", { atLeast: { sandbox: 15, noSandbox: 4 } }));
