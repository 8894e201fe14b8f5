// Generated from src/core/_private_file.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export var readPrivateFile = (async function (path, what, hint, checkForm = (() => { })) {
    let info;
    let text;
    try {
        info = await Deno.stat(path);
        if (!info.isFile)
            throw new Error("it is not a regular file");
        if (info.size > MAX_PRIVATE_BYTES) {
            throw new Error(`it is larger than ${MAX_PRIVATE_BYTES} bytes`);
        }
        text = await Deno.readTextFile(path);
    }
    catch (error) {
        throw new ValidationError(`Cannot read ${what} ${path}: ${error.message}`, {
            cause: error,
            hint,
        });
    }
    checkForm(text);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
        throw new ValidationError(`Cannot use ${what} ${path}: other users may read it (mode ` +
            `${(info.mode & 0o777).toString(8).padStart(4, "0")})`, { hint: `Restrict it with chmod 600 ${path}` });
    }
    return text;
});
import { ValidationError } from "../errors.js";
const MAX_PRIVATE_BYTES = 1 << 20;
;
