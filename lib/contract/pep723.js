// Generated from src/contract/pep723.ts by scripts/build_js.ts (sha256 290a01f2af7d4a742a04b5ea31aa44ea7491b8c55c290b66bcdbdf0e38a26fd0): do not edit; `deno task build:js` writes it.
export var pep723Blocks = (function (script) {
    const lines = script.split("\n");
    const n = lines.length;
    const isContent = ((i) => i < n - 1 && (lines[i] === "#" || lines[i].startsWith("# ")));
    const runEnd = new Array(n + 1).fill(n);
    for (let i = n - 1; i >= 0; i--)
        runEnd[i] = isContent(i) ? runEnd[i + 1] : i;
    const lastClose = new Array(n).fill(-1);
    for (let i = 0, last = -1; i < n; i++)
        lastClose[i] = last = lines[i] === "# ///" ? i : last;
    const blocks = [];
    for (let open = 0; open < n - 1; open++) {
        const type = /^# \/\/\/ ([a-zA-Z0-9-]+)$/.exec(lines[open])?.[1];
        if (type === undefined)
            continue;
        const close = lastClose[runEnd[open + 1]];
        if (close < open + 2)
            continue;
        blocks.push({ type, content: lines.slice(open + 1, close).map(((l) => l + "\n")).join("") });
        open = close;
    }
    return blocks;
});
var blockToml = (function (content) {
    const lines = (content.match(PY_LINE) ?? []).filter(((line) => line !== ""));
    return lines.map(((line) => {
        const chars = Array.from(line);
        return chars.slice(line.startsWith("# ") ? 2 : 1).join("");
    })).join("");
});
export var readPep723 = (function (script) {
    const blocks = pep723Blocks(script).filter(((b) => b.type === "script"));
    if (blocks.length > 1)
        throw new RequirementError("there are several PEP 723 script blocks");
    const block = blocks[0];
    if (block === undefined)
        return undefined;
    let table;
    try {
        table = parseToml(blockToml(block.content));
    }
    catch (error) {
        const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new RequirementError(`the PEP 723 block is not valid TOML: ${detail}`, {
            cause: error,
        });
    }
    const { dependencies = [], "requires-python": requiresPython } = table;
    if (!Array.isArray(dependencies) || !dependencies.every(((d) => typeof d === "string"))) {
        throw new RequirementError("the PEP 723 dependencies are not an array of strings");
    }
    if (requiresPython !== undefined && typeof requiresPython !== "string") {
        throw new RequirementError('the PEP 723 "requires-python" is not a string');
    }
    return {
        dependencies,
        ...(requiresPython === undefined ? {} : { requiresPython }),
    };
});
import { parse as parseToml } from "npm:smol-toml@^1.9.1";
import { RequirementError } from "./requirements.js";
;
const PY_LINE_END = "\\n\\r\\x0b\\x0c\\x1c-\\x1e\\x85\\u2028\\u2029";
const PY_LINE = new RegExp(`[^${PY_LINE_END}]*(?:\\r\\n|[${PY_LINE_END}])?`, "g");
;
;
