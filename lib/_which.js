// Generated from src/_which.ts by scripts/build_js.ts (sha256 c6cdec44cc056080d7e1bd8803bab89e8c84e2229e12083b40c2dda20b9cce8a): do not edit; `deno task build:js` writes it.
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
    for (let dir of search.split(delimiter)) {
        if (dir === "~" || dir.startsWith("~/")) {
            const home = homeFolder();
            if (home === undefined)
                continue;
            dir = home + dir.slice(1);
        }
        if (!isAbsolute(dir))
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
var homeFolder = (function () {
    try {
        const home = Deno.env.get("HOME");
        return home && isAbsolute(home) ? home : undefined;
    }
    catch {
        return undefined;
    }
});
import { delimiter, isAbsolute, join } from "./_path.js";
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
;
;
