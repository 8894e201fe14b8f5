/**
 * `GET /v1/updates`: invalidations read from a folder of JSON files that an operator (or a job)
 * maintains. Each `*.json` file holds one update, a list of updates, or `{"updates": [...]}`; an
 * update is `{fingerprint | requirement, reason, id?, at}` with `at` in RFC 3339. A file that is
 * not valid is skipped, and said so in the log.
 *
 * @module
 */
import { issuesText } from "../_shape.ts";
import { FINGERPRINT_FORM } from "../types.ts";
import { join } from "../_path.ts";
import { z } from "npm:zod@^4.6.7";

/** One invalidation. */
export const Update = z.strictObject({
  fingerprint: z.string().regex(FINGERPRINT_FORM).optional(),
  requirement: z.string().min(1).max(500).optional(),
  reason: z.string().min(1).max(2000),
  id: z.string().min(1).max(200).optional(),
  at: z.iso.datetime({ offset: true }),
}).refine((u) => (u.fingerprint === undefined) !== (u.requirement === undefined), {
  message: "an update names exactly one of fingerprint or requirement",
});

/** One invalidation, as `/v1/updates` lists it. */
export type Update = z.infer<typeof Update>;

const UpdateFile = z.union([
  Update,
  z.array(Update),
  z.strictObject({ updates: z.array(Update) }),
]);

/**
 * The updates of every valid file in `dir` later than `since` (all when undefined), oldest first.
 * `skip` receives each file that was left out and why.
 */
export async function readUpdates(
  dir: string,
  since: number | undefined,
  skip: (file: string, reason: string) => void,
): Promise<Update[]> {
  const updates: Update[] = [];
  let names: string[];
  try {
    names = [];
    for await (const item of Deno.readDir(dir)) {
      if (item.isFile && item.name.endsWith(".json")) names.push(item.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const name of names.sort()) {
    let parsed;
    try {
      parsed = UpdateFile.safeParse(JSON.parse(await Deno.readTextFile(join(dir, name))));
    } catch (error) {
      skip(name, `not valid JSON (${(error as Error).message.slice(0, 200)})`);
      continue;
    }
    if (!parsed.success) {
      skip(name, issuesText(parsed.error.issues));
      continue;
    }
    const data = parsed.data;
    const list = Array.isArray(data) ? data : "updates" in data ? data.updates : [data];
    updates.push(...list.filter((u) => since === undefined || Date.parse(u.at) > since));
  }
  return updates.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
