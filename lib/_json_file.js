// Generated from src/_json_file.ts by scripts/build_js.ts (sha256 ae7148ce380f4b8d026f517ebfe6e1b36373bef6de5c59d83c1d649d9bad4ea3): do not edit; `deno task build:js` writes it.
export var recallSync = (function (file) {
    try {
        return JSON.parse(Deno.readTextFileSync(file));
    }
    catch {
        return undefined;
    }
});
export var rememberSync = (function (file, value) {
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    try {
        Deno.mkdirSync(dirname(file), { recursive: true });
        Deno.writeTextFileSync(tmp, JSON.stringify(value), { mode: 0o600, createNew: true });
        Deno.renameSync(tmp, file);
    }
    catch {
        try {
            Deno.removeSync(tmp);
        }
        catch {
        }
    }
});
export var readJsonFile = (async function (path) {
    let text;
    try {
        text = await Deno.readTextFile(path);
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            return undefined;
        throw error;
    }
    try {
        return JSON.parse(text);
    }
    catch {
        return undefined;
    }
});
export var readRecordsFor = (async function (path, root) {
    for (let at = resolve(path);; at = dirname(at)) {
        if (isInside(await realPathLoose(at), root))
            return undefined;
        if (dirname(at) === at)
            break;
    }
    return await readJsonFile(path);
});
export var updateJsonFile = (async function (path, change) {
    const dir = dirname(path);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    using lock = await Deno.open(`${path}.lock`, { create: true, write: true, mode: 0o600 });
    await lock.lock(true);
    const next = await change(await readJsonFile(path));
    const tmp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
    try {
        await Deno.writeTextFile(tmp, JSON.stringify(next, null, 2) + "\n", {
            mode: 0o600,
            createNew: true,
        });
        await Deno.chmod(tmp, 0o600);
        await Deno.rename(tmp, path);
    }
    catch (error) {
        await Deno.remove(tmp).catch((() => { }));
        throw error;
    }
});
import { basename, dirname, join, resolve } from "./_path.js";
import { isInside, realPathLoose } from "./_fs.js";
;
;
;
;
;
