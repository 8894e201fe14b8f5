/**
 * One attack's run in a process of its own (see `underUmask` in `_escape.ts`): what the process
 * holds for all of it (its umask) is then the attack's alone, never the files running beside it.
 * Reads `{ options, bundle, prompt, context, language }` as JSON on standard input and prints
 * `{ output }` or `{ error: { name, message } }`.
 */
import { Capibara } from "../../src/capibara.ts";
import { fixedGenerator } from "../helpers/fake_llm.ts";

const input = JSON.parse(await new Response(Deno.stdin.readable).text());
const cb = new Capibara({
  ...input.options,
  generator: fixedGenerator(input.bundle),
  warn: () => {},
});
try {
  const result = await cb.run(input.prompt, { context: input.context, language: input.language });
  console.log(JSON.stringify({ output: result.output }));
} catch (error) {
  const { name, message } = error instanceof Error
    ? error
    : { name: "Error", message: String(error) };
  console.log(JSON.stringify({ error: { name, message } }));
}
