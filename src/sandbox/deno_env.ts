/**
 * The environment Capibara gives Deno itself when it runs a TypeScript script, whatever the
 * script's grants. A leaf: the sandbox's backend and the run-by-hand steps (`readme.ts`) share it.
 *
 * @module
 */

/**
 * What every `deno run` of a script is told, whatever its grants: no WebGPU backend. A backend
 * loads the host's GPU libraries into the `deno` process with no permission asked (Vulkan's
 * loader, EGL), and they load the layers and drivers that files under `$HOME/.local/share` name:
 * the run's temp dir, which the script writes. A script made so its own native code run past every
 * flag. `none` names no backend: `navigator.gpu` finds no adapter and loads nothing. Never a
 * script's to grant (see `denoPermissionFlags` in `deno.ts`): Deno reads it when an adapter is
 * asked for, after the script could have changed it.
 */
export const DENO_RUNTIME_ENV: Readonly<Record<string, string>> = Object.freeze({
  DENO_WEBGPU_BACKEND: "none",
});
