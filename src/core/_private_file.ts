/**
 * Files that hold secrets (a signing key, the Core's tokens): readable by their owner only, as ssh
 * requires of a private key. One rule for both, on the one read of every file the Core is given
 * at its start ({@linkcode readSettingsFile}: the keys it trusts too).
 *
 * @module
 */
import { ValidationError } from "../errors.ts";
import { FileRefused, readRegularFileSync } from "../_fs.ts";

/** The largest secret file read (a key or a token file is a few kilobytes). */
const MAX_PRIVATE_BYTES = 1 << 20;

/**
 * Reads a secret file's text, refusing one that other users may read or write, or that another
 * user owns (as ssh refuses a private key). What is not even the secret asked for (`checkForm`
 * throws for it: a public key, `/etc/passwd`) is said so first: the advice to restrict a file
 * that is the wrong one would only mislead. The file is opened once (its links followed: a key
 * may be linked from elsewhere); its type, size, mode and owner are the opened file's own, and a
 * FIFO or a device is never read.
 *
 * @param path the file
 * @param what what it is, for messages (e.g. `signing key`)
 * @param hint what to give instead when it cannot be read
 * @param checkForm throws when the text is not what `what` is
 * @throws {ValidationError} when it is missing, unreadable, not a regular file, not of its form,
 *   open to other users or another user's
 */
export async function readPrivateFile(
  path: string,
  what: string,
  hint: string,
  checkForm: (text: string) => void = () => {},
): Promise<string> {
  const { text, opened } = await readSettingsFile(path, what, hint);
  checkForm(text);
  const mode = opened?.mode ?? null;
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new ValidationError(
      `Cannot use ${what} ${path}: other users may read it (mode ` +
        `${(mode & 0o777).toString(8).padStart(4, "0")})`,
      { hint: `Restrict it with chmod 600 ${path}` },
    );
  }
  const owner = opened?.uid ?? null;
  if (owner !== null && owner !== Deno.uid()) {
    throw new ValidationError(`Cannot use ${what} ${path}: it belongs to uid ${owner}`, {
      hint: `Use a ${what} of this user's own (uid ${Deno.uid()})`,
    });
  }
  return text;
}

/**
 * A file the Core is given at its start (a key, its tokens, the keys it trusts): its text and
 * the opened file's own information, its links followed, a regular file of at most 1 MiB (a
 * FIFO, a device or `/dev/zero` would block or fill memory).
 *
 * @throws {ValidationError} naming `what` when it is missing, unreadable or not such a file
 */
export async function readSettingsFile(
  path: string,
  what: string,
  hint: string,
): Promise<{ text: string; opened?: Deno.FileInfo }> {
  let opened: Deno.FileInfo | undefined;
  try {
    const real = await Deno.realPath(path);
    const bytes = readRegularFileSync(real, MAX_PRIVATE_BYTES, (info) => opened = info);
    return { text: new TextDecoder().decode(bytes), opened };
  } catch (error) {
    const why = error instanceof FileRefused ? `it ${error.reason}` : (error as Error).message;
    throw new ValidationError(`Cannot read ${what} ${path}: ${why}`, { cause: error, hint });
  }
}
