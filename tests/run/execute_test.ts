import assert from "node:assert/strict";
import { backendFor, DENO_ONLY_WARNING } from "../../src/run/execute.ts";
import { platformBackend } from "../../src/sandbox/mod.ts";
import { withTmpDir } from "../helpers/tmp.ts";

const os = platformBackend();
const OS_SANDBOX = Deno.build.os === "linux" && os !== undefined && (await os.available()).ok;

Deno.test({
  name: "backendFor() wraps TypeScript in bubblewrap on Linux, Deno's flags inside",
  ignore: !OS_SANDBOX,
  async fn() {
    await using tmp = await withTmpDir();
    const warnings: string[] = [];
    const backend = await backendFor("typescript", {
      sandbox: true,
      cacheDir: tmp.path,
      warn: (m) => warnings.push(m),
    });
    assert.equal(backend.name, "deno-permissions+bubblewrap");
    assert.deepEqual(warnings, []);
  },
});

Deno.test("backendFor() runs TypeScript under Deno's flags alone with --no-sandbox", async () => {
  await using tmp = await withTmpDir();
  const warnings: string[] = [];
  const backend = await backendFor("typescript", {
    sandbox: false,
    cacheDir: tmp.path,
    warn: (m) => warnings.push(m),
  });
  assert.equal(backend.name, "deno-permissions");
  assert.ok((await backend.available()).ok);
  assert.ok(!warnings.includes(DENO_ONLY_WARNING));
});
