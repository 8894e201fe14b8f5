// Generated from src/_which.ts by scripts/build_js.ts (sha256 b33a3b8653a35216b2b49b106546195b60c8362cebe7e27b71595b0450764ca1): do not edit; `deno task build:js` writes it.
export var which = (async function (name, path) {
    if (name.includes("/") || isAbsolute(name)) {
        try {
            await Deno.lstat(name);
            return name;
        }
        catch {
            return undefined;
        }
    }
    let search = path;
    if (search === undefined) {
        try {
            search = Deno.env.get("PATH") ?? DEFAULT_PATH;
        }
        catch {
            search = DEFAULT_PATH;
        }
    }
    for (const dir of search.split(delimiter)) {
        if (!dir)
            continue;
        const candidate = join(dir, name);
        try {
            const info = await Deno.stat(candidate);
            if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0)
                return candidate;
        }
        catch {
        }
    }
    return undefined;
});
import { delimiter, isAbsolute, join } from "./_path.js";
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
;
