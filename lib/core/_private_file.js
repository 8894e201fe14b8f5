// Generated from src/core/_private_file.ts by scripts/build_js.ts (sha256 c0a900c4aee7f93c3069c9d44aad0a031db045c9b5636e791acc9c1e0db74b51): do not edit; `deno task build:js` writes it.
export var readPrivateFile = (async function (path, what, hint, checkForm = (() => { })) {
    const { text, opened } = await readSettingsFile(path, what, hint);
    checkForm(text);
    const mode = opened?.mode ?? null;
    if (mode !== null && (mode & 0o077) !== 0) {
        throw new ValidationError(`Cannot use ${what} ${path}: other users may read it (mode ` +
            `${(mode & 0o777).toString(8).padStart(4, "0")})`, { hint: `Restrict it with chmod 600 ${path}` });
    }
    const owner = opened?.uid ?? null;
    if (owner !== null && owner !== Deno.uid()) {
        throw new ValidationError(`Cannot use ${what} ${path}: it belongs to uid ${owner}`, {
            hint: `Use a ${what} of this user's own (uid ${Deno.uid()})`,
        });
    }
    return text;
});
export var readSettingsFile = (async function (path, what, hint) {
    let opened;
    try {
        const real = await Deno.realPath(path);
        const bytes = readRegularFileSync(real, MAX_PRIVATE_BYTES, ((info) => opened = info));
        return { text: new TextDecoder().decode(bytes), opened };
    }
    catch (error) {
        const why = error instanceof FileRefused ? `it ${error.reason}` : error.message;
        throw new ValidationError(`Cannot read ${what} ${path}: ${why}`, { cause: error, hint });
    }
});
import { ValidationError } from "../errors.js";
import { FileRefused, readRegularFileSync } from "../_fs.js";
const MAX_PRIVATE_BYTES = 1 << 20;
;
;
