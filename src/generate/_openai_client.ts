/**
 * The OpenAI client library, in a module of its own so that `openai.ts` loads it with a template
 * specifier (out of Deno's start-up module graph, see README › Architecture): a cache hit never
 * resolves the package.
 *
 * @module
 */
export * from "npm:openai@^7.57.0";
export { default } from "npm:openai@^7.57.0";
