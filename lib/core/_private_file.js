// Generated from src/core/_private_file.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export var readPrivateFile = (async function (path, what, hint) {
    try {
        const info = await Deno.stat(path);
        if (info.mode !== null && (info.mode & 0o077) !== 0) {
            throw new ValidationError(`Cannot use ${what} ${path}: other users may read it (mode ` +
                `${(info.mode & 0o777).toString(8).padStart(4, "0")})`, { hint: `Restrict it with chmod 600 ${path}` });
        }
        return await Deno.readTextFile(path);
    }
    catch (error) {
        if (error instanceof ValidationError)
            throw error;
        throw new ValidationError(`Cannot read ${what} ${path}: ${error.message}`, {
            cause: error,
            hint,
        });
    }
});
import { ValidationError } from "../errors.js";
;
