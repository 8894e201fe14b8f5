// Generated from src/contract/pep723.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
var blockToml = (function (content) {
    const lines = (content.match(PY_LINE) ?? []).filter(((line) => line !== ""));
    return lines.map(((line) => {
        const chars = Array.from(line);
        return chars.slice(line.startsWith("# ") ? 2 : 1).join("");
    })).join("");
});
export var readPep723 = (function (script) {
    const blocks = [...script.matchAll(PEP723_BLOCK)].filter(((m) => m.groups?.type === "script"));
    if (blocks.length > 1)
        throw new RequirementError("there are several PEP 723 script blocks");
    const block = blocks[0];
    if (block === undefined)
        return undefined;
    let table;
    try {
        table = parseToml(blockToml(block.groups?.content ?? ""));
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
const PY_BLANK = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a" +
    "\\u2028\\u2029\\u202f\\u205f\\u3000]";
const BOL = "(?<![^\\n])";
const EOL = "(?![^\\n])";
const PEP723_BLOCK = new RegExp(`${BOL}# /// (?<type>[a-zA-Z0-9-]+)${EOL}${PY_BLANK}` +
    `(?<content>(?:${BOL}#(?:| [^\\n]*)${EOL}${PY_BLANK})+)${BOL}# ///${EOL}`, "g");
const PY_LINE_END = "\\n\\r\\x0b\\x0c\\x1c-\\x1e\\x85\\u2028\\u2029";
const PY_LINE = new RegExp(`[^${PY_LINE_END}]*(?:\\r\\n|[${PY_LINE_END}])?`, "g");
;
;
