// Generated from src/core/updates.ts by scripts/build_js.ts (sha256 c20aa16dbeb46ff7a9247104cd66fb2f13651e8bb86a336a0c9f8b38b4c7dccb): do not edit; `deno task build:js` writes it.
export var readUpdates = (async function (dir, since, skip) {
    const updates = [];
    let names;
    try {
        names = [];
        for await (const item of Deno.readDir(dir)) {
            if (item.isFile && item.name.endsWith(".json"))
                names.push(item.name);
        }
    }
    catch (error) {
        if (error instanceof Deno.errors.NotFound)
            return [];
        throw error;
    }
    for (const name of names.sort()) {
        let parsed;
        try {
            parsed = UpdateFile.safeParse(JSON.parse(await Deno.readTextFile(join(dir, name))));
        }
        catch (error) {
            skip(name, `not valid JSON (${error.message.slice(0, 200)})`);
            continue;
        }
        if (!parsed.success) {
            skip(name, issuesText(parsed.error.issues));
            continue;
        }
        const data = parsed.data;
        const list = Array.isArray(data) ? data : "updates" in data ? data.updates : [data];
        updates.push(...list.filter(((u) => since === undefined || Date.parse(u.at) > since)));
    }
    return updates.sort(((a, b) => Date.parse(a.at) - Date.parse(b.at)));
});
import { issuesText } from "../_shape.js";
import { FINGERPRINT_FORM } from "../types.js";
import { join } from "../_path.js";
import { z } from "npm:zod@^4.6.7";
export const Update = z.strictObject({
    fingerprint: z.string().regex(FINGERPRINT_FORM).optional(),
    requirement: z.string().min(1).max(500).optional(),
    reason: z.string().min(1).max(2000),
    id: z.string().min(1).max(200).optional(),
    at: z.iso.datetime({ offset: true }),
}).refine(((u) => (u.fingerprint === undefined) !== (u.requirement === undefined)), {
    message: "an update names exactly one of fingerprint or requirement",
});
const UpdateFile = z.union([
    Update,
    z.array(Update),
    z.strictObject({ updates: z.array(Update) }),
]);
;
