/**
 * PEP 723 inline script metadata: a script's `# /// script` block, read as the PEP's reference
 * implementation reads it (its regular expression, then TOML with `smol-toml`). Apart from
 * `requirements.ts` so that a cache hit, which never reads the block, never loads the TOML parser.
 *
 * @module
 */
import { parse as parseToml } from "npm:smol-toml@^1.9.1";
import { RequirementError } from "./requirements.ts";

/** What a script's PEP 723 `script` block declares. */
export interface ScriptMetadata {
  /** The `dependencies` array (empty when the key is missing). */
  dependencies: string[];
  /** The `requires-python` value, when present. */
  requiresPython?: string;
}

// PEP 723's reference regular expression,
//   (?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$
// with Python's meaning of each piece spelled out: `^` and `$` (multi-line) see only "\n" as a
// line end, `.` is anything but "\n", and `\s` is Python's set of Unicode blanks.
const PY_BLANK = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a" +
  "\\u2028\\u2029\\u202f\\u205f\\u3000]";
const BOL = "(?<![^\\n])";
const EOL = "(?![^\\n])";
const PEP723_BLOCK = new RegExp(
  `${BOL}# /// (?<type>[a-zA-Z0-9-]+)${EOL}${PY_BLANK}` +
    `(?<content>(?:${BOL}#(?:| [^\\n]*)${EOL}${PY_BLANK})+)${BOL}# ///${EOL}`,
  "g",
);
/** The line boundaries of Python's `str.splitlines()`. */
const PY_LINE_END = "\\n\\r\\x0b\\x0c\\x1c-\\x1e\\x85\\u2028\\u2029";
/** One line with its ending, as Python's `str.splitlines(keepends=True)` cuts them. */
const PY_LINE = new RegExp(`[^${PY_LINE_END}]*(?:\\r\\n|[${PY_LINE_END}])?`, "g");

/** The TOML text of a block's content, as the reference reader strips the comment leaders. */
function blockToml(content: string): string {
  const lines = (content.match(PY_LINE) ?? []).filter((line) => line !== "");
  return lines.map((line) => {
    const chars = Array.from(line);
    return chars.slice(line.startsWith("# ") ? 2 : 1).join("");
  }).join("");
}

/**
 * Read a script's PEP 723 `script` block as PEP 723's reference implementation does (its regular
 * expression, then TOML), and return its `dependencies` and `requires-python`; undefined when
 * the script has no such block.
 *
 * @throws {RequirementError} when there are two `script` blocks, the block is not valid TOML, or
 * `dependencies` is not an array of strings.
 */
export function readPep723(script: string): ScriptMetadata | undefined {
  const blocks = [...script.matchAll(PEP723_BLOCK)].filter((m) => m.groups?.type === "script");
  if (blocks.length > 1) throw new RequirementError("there are several PEP 723 script blocks");
  const block = blocks[0];
  if (block === undefined) return undefined;
  let table: Record<string, unknown>;
  try {
    table = parseToml(blockToml(block.groups?.content ?? ""));
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new RequirementError(`the PEP 723 block is not valid TOML: ${detail}`, {
      cause: error,
    });
  }
  const { dependencies = [], "requires-python": requiresPython } = table;
  if (!Array.isArray(dependencies) || !dependencies.every((d) => typeof d === "string")) {
    throw new RequirementError("the PEP 723 dependencies are not an array of strings");
  }
  if (requiresPython !== undefined && typeof requiresPython !== "string") {
    throw new RequirementError('the PEP 723 "requires-python" is not a string');
  }
  return {
    dependencies,
    ...(requiresPython === undefined ? {} : { requiresPython }),
  };
}
