/**
 * PEP 723 inline script metadata: a script's `# /// script` block, read as the PEP's reference
 * implementation reads it (its regular expression's blocks, then TOML with `smol-toml`). Apart from
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

/**
 * PEP 723's blocks, found as its reference regular expression finds them,
 *   (?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$
 * (Python's `re.finditer`: `^` and `$` see only "\n" as a line end, `.` is anything but "\n"),
 * but line by line, in time linear in the script: the expression takes time quadratic in a run of
 * `# /// script` lines, each the start of an attempt that reads the whole run.
 *
 * Read so: an opening line is exactly `# /// <type>` followed by a line end; the block's content
 * is the comment lines (`#`, or `#` and a space and anything) that follow it, each followed by a
 * line end; it closes at the last line exactly `# ///` that those lines reach (the expression is
 * greedy), with at least one content line before it. An opening that closes nowhere is not a
 * block; the next block is looked for after the closing line.
 */
export function pep723Blocks(script: string): { type: string; content: string }[] {
  const lines = script.split("\n");
  const n = lines.length;
  // Every line but the last has a line end after it.
  const isContent = (i: number) => i < n - 1 && (lines[i] === "#" || lines[i]!.startsWith("# "));
  /** The first line at or after i that is not a content line. */
  const runEnd = new Array<number>(n + 1).fill(n);
  for (let i = n - 1; i >= 0; i--) runEnd[i] = isContent(i) ? runEnd[i + 1]! : i;
  /** The last closing line at or before i (-1: none). */
  const lastClose = new Array<number>(n).fill(-1);
  for (let i = 0, last = -1; i < n; i++) lastClose[i] = last = lines[i] === "# ///" ? i : last;
  const blocks: { type: string; content: string }[] = [];
  for (let open = 0; open < n - 1; open++) {
    const type = /^# \/\/\/ ([a-zA-Z0-9-]+)$/.exec(lines[open]!)?.[1];
    if (type === undefined) continue;
    const close = lastClose[runEnd[open + 1]!]!;
    if (close < open + 2) continue;
    blocks.push({ type, content: lines.slice(open + 1, close).map((l) => l + "\n").join("") });
    open = close;
  }
  return blocks;
}

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
 * expression's blocks, {@linkcode pep723Blocks}, then TOML), and return its `dependencies` and
 * `requires-python`; undefined when the script has no such block.
 *
 * @throws {RequirementError} when there are two `script` blocks, the block is not valid TOML, or
 * `dependencies` is not an array of strings.
 */
export function readPep723(script: string): ScriptMetadata | undefined {
  const blocks = pep723Blocks(script).filter((b) => b.type === "script");
  if (blocks.length > 1) throw new RequirementError("there are several PEP 723 script blocks");
  const block = blocks[0];
  if (block === undefined) return undefined;
  let table: Record<string, unknown>;
  try {
    table = parseToml(blockToml(block.content));
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
