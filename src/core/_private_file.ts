/**
 * Files that hold secrets (a signing key, the Core's tokens): readable by their owner only, as ssh
 * requires of a private key. One rule for both.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/**
 * Reads a secret file's text, refusing one that other users may read or write.
 *
 * @param path the file
 * @param what what it is, for messages (e.g. `signing key`)
 * @param hint what to give instead when it cannot be read
 * @throws {ValidationError} when it is missing, unreadable, or open to other users
 */
export async function readPrivateFile(path: string, what: string, hint: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new ValidationError(
        `Cannot use ${what} ${path}: other users may read it (mode ` +
          `${(info.mode & 0o777).toString(8).padStart(4, "0")})`,
        { hint: `Restrict it with chmod 600 ${path}` },
      );
    }
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`Cannot read ${what} ${path}: ${(error as Error).message}`, {
      cause: error,
      hint,
    });
  }
}
