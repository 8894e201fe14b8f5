/**
 * Files that hold secrets (a signing key, the Core's tokens): readable by their owner only, as ssh
 * requires of a private key. One rule for both.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** The largest secret file read (a key or a token file is a few kilobytes). */
const MAX_PRIVATE_BYTES = 1 << 20;

/**
 * Reads a secret file's text, refusing one that other users may read or write. What is not even
 * the secret asked for (`checkForm` throws for it: a public key, `/etc/passwd`) is said so first:
 * the advice to restrict a file that is the wrong one would only mislead.
 *
 * @param path the file
 * @param what what it is, for messages (e.g. `signing key`)
 * @param hint what to give instead when it cannot be read
 * @param checkForm throws when the text is not what `what` is
 * @throws {ValidationError} when it is missing, unreadable, not a regular file, not of its form,
 *   or open to other users
 */
export async function readPrivateFile(
  path: string,
  what: string,
  hint: string,
  checkForm: (text: string) => void = () => {},
): Promise<string> {
  let info: Deno.FileInfo;
  let text: string;
  try {
    info = await Deno.stat(path);
    // Never a FIFO or a device, whose read would not end.
    if (!info.isFile) throw new Error("it is not a regular file");
    if (info.size > MAX_PRIVATE_BYTES) {
      throw new Error(`it is larger than ${MAX_PRIVATE_BYTES} bytes`);
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ValidationError(`Cannot read ${what} ${path}: ${(error as Error).message}`, {
      cause: error,
      hint,
    });
  }
  checkForm(text);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new ValidationError(
      `Cannot use ${what} ${path}: other users may read it (mode ` +
        `${(info.mode & 0o777).toString(8).padStart(4, "0")})`,
      { hint: `Restrict it with chmod 600 ${path}` },
    );
  }
  return text;
}
