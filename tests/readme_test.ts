/** The by-hand command of a cached script: what it grants must be what a run grants, no more. */
import assert from "node:assert/strict";
import { manualCommand } from "../src/readme.ts";

const manifest = (network: string[]) => ({
  language: "typescript" as const,
  entry: "script.ts",
  context: { input: "data.csv" },
  fingerprint: "fp_" + "0".repeat(32),
  deps: [],
  allow: { network, env: ["TOKEN"], fs: { read: ["data.csv"], write: ["out"] } },
});

Deno.test("manualCommand() gives deno the network rules as a run reads them: ports written out, a wildcard's apex taken back", () => {
  const command = manualCommand(manifest(["*.granted.test", "api.other.test:8443"]), []);
  // Deno reads a host without a port as every port, and `*.x` as `x` too.
  assert.match(
    command,
    / --allow-net='\*\.granted\.test:80,\*\.granted\.test:443,api\.other\.test:8443' /,
  );
  assert.match(command, / --deny-net=granted\.test:80,granted\.test:443 /);
  assert.match(command, / --allow-env=TOKEN /);
  assert.match(command, / --allow-read=data\.csv,out --allow-write=out /);
  // An apex granted by its own rule is not taken back.
  const both = manualCommand(manifest(["*.granted.test", "granted.test"]), []);
  assert.doesNotMatch(both, /--deny-net/);
  // A need that is no host rule is granted nothing.
  const bad = manualCommand(manifest(["*", "ok.test"]), []);
  assert.match(bad, / --allow-net=ok\.test:80,ok\.test:443 /);
});

// WebGPU, which asks no permission, let a script's own native code run in deno (see deno_env.ts):
// the by-hand command tells Deno what the sandbox tells it, and never grants that name.
Deno.test("manualCommand() runs deno with no WebGPU backend, and never lets the script change that", () => {
  const command = manualCommand(
    { ...manifest([]), allow: { ...manifest([]).allow, env: ["TOKEN", "DENO_WEBGPU_BACKEND"] } },
    [],
  );
  assert.match(command, /^DENO_WEBGPU_BACKEND=none deno run /);
  assert.match(command, / --allow-env=TOKEN /);
});

Deno.test("manualCommand() grants no path holding a comma, which Deno would read as two (a run refuses it)", () => {
  const command = manualCommand(
    {
      ...manifest([]),
      allow: { ...manifest([]).allow, fs: { read: ["data.csv,/home/u/.ssh"], write: ["out"] } },
    },
    [],
  );
  assert.doesNotMatch(command, /\.ssh/);
  assert.match(command, / --allow-read=out --allow-write=out /);
});
