/**
 * An entry's files as they were verified, for the steps that use them after the check.
 *
 * @module
 */
import { basename } from "../_path.ts";
import { FileRefused, readRegularFileSync } from "../_fs.ts";
import { sha256Tagged } from "../_hash.ts";
import { IntegrityError } from "../errors.ts";

/**
 * The most bytes an entry may take, its manifest and files together (an entry imported from a
 * Core), and so the most of any one of its files read: a repository may bring a huge file, or a
 * link to `/dev/zero`.
 */
export const MAX_ENTRY_BYTES = 4 * 1024 ** 2;

/**
 * The bytes of an entry's file exactly as its verified manifest hashes them: read once (never
 * through a link, at most {@linkcode MAX_ENTRY_BYTES}) and refused unless they hash to `expected`
 * (`sha256:<hex>`, the manifest's `files` value). Each step that uses an entry's file after its
 * check (the copy a run executes, Deno's import check) takes the bytes from here, never from the
 * path again: whoever may write in the store (a `.capibara/` that is a link to another user's
 * folder) could change the file between the check and its use.
 *
 * @throws {IntegrityError} when the file is missing, not a regular file, too large, or changed.
 */
export async function verifiedBytes(
  path: string,
  expected: string | undefined,
): Promise<Uint8Array> {
  const refuse = (why: string) =>
    new IntegrityError(`Cannot trust cached script file ${basename(path)}: ${why}`, {
      hint: "Run again: the entry is checked anew. If it keeps changing, something else writes " +
        "in the project's .capibara folder",
      details: { path },
    });
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(path, MAX_ENTRY_BYTES);
  } catch (error) {
    if (error instanceof FileRefused) throw refuse(`it ${error.reason}`);
    throw error;
  }
  if (expected === undefined || await sha256Tagged(bytes) !== expected) {
    throw refuse("it changed after it was checked");
  }
  return bytes;
}
