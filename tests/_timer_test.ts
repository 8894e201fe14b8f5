import assert from "node:assert/strict";
import { onTimeout, sleep } from "../src/_timer.ts";

Deno.test("onTimeout() calls its function once, after the delay", async () => {
  let calls = 0;
  await new Promise<void>((resolve) =>
    onTimeout(20, () => {
      calls++;
      resolve();
    })
  );
  await sleep(30);
  assert.equal(calls, 1);
});

Deno.test("onTimeout() cancelled: never calls, and does not keep the process alive", async () => {
  // A child process: a pending timer would print "fired" before the process could end.
  const code = `
    import { onTimeout } from ${JSON.stringify(new URL("../src/_timer.ts", import.meta.url).href)};
    const cancel = onTimeout(1500, () => console.log("fired"));
    cancel();
    console.log("done");
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "done\n");
});
