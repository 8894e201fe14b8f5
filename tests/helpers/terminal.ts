/**
 * What a terminal must never receive raw from a model or a script.
 *
 * @module
 */
import assert from "node:assert/strict";

// C0 but line feed and tab, DEL, C1, bidirectional controls, line and paragraph separators.
// deno-lint-ignore no-control-regex
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** Fails, naming the character and where it is, when `text` holds a raw control character. */
export function assertTerminalSafe(text: string, what: string): void {
  const found = RAW.exec(text);
  if (!found) return;
  const code = found[0].charCodeAt(0).toString(16).padStart(4, "0");
  const around = JSON.stringify(text.slice(Math.max(0, found.index - 40), found.index + 40));
  assert.fail(`${what} holds a raw U+${code} at ${found.index}: ${around}`);
}
