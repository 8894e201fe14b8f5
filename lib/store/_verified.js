// Generated from src/store/_verified.ts by scripts/build_js.ts (sha256 41d5785df426ce13f250096d818fce1741041ee48268b236feb1551402f73875): do not edit; `deno task build:js` writes it.
export var verifiedBytes = (async function (path, expected) {
    const refuse = ((why) => new IntegrityError(`Cannot trust cached script file ${basename(path)}: ${why}`, {
        hint: "Run again: the entry is checked anew. If it keeps changing, something else writes " +
            "in the project's .capibara folder",
        details: { path },
    }));
    let bytes;
    try {
        bytes = readRegularFileSync(path, MAX_ENTRY_BYTES);
    }
    catch (error) {
        if (error instanceof FileRefused)
            throw refuse(`it ${error.reason}`);
        throw error;
    }
    if (expected === undefined || await sha256Tagged(bytes) !== expected) {
        throw refuse("it changed after it was checked");
    }
    return bytes;
});
import { basename } from "../_path.js";
import { FileRefused, readRegularFileSync } from "../_fs.js";
import { sha256Tagged } from "../_hash.js";
import { IntegrityError } from "../errors.js";
export const MAX_ENTRY_BYTES = 4 * 1024 ** 2;
;
