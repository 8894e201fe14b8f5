/**
 * The spinner library, in a module of its own so that `output.ts` loads it with a template
 * specifier (out of Deno's start-up module graph, see README › Architecture).
 *
 * @module
 */
export { createSpinner, type Spinner } from "npm:nanospinner@^1.2.2";
