/**
 * The per-fingerprint lock: one writer per fingerprint and project, across processes.
 *
 * The lock is an OS file lock (`flock`), so the kernel releases it when the holder dies; lock files
 * live in a machine-local folder, never inside `.capibara/`.
 *
 * @module
 */
import { join } from "../_path.ts";
import { sha256 } from "../_hash.ts";

/** A held lock; release it with `using` or `release()`. */
export interface Lock extends Disposable {
  release(): void;
}

/** Options of {@linkcode lockFingerprint}. */
export interface LockOptions {
  /** Folder of the lock files (created when missing). */
  lockDir: string;
  /** The project root: one lock file per project and fingerprint, wherever `lockDir` is shared. */
  root: string;
}

/** Takes the exclusive lock of a fingerprint (blocks until free; released if the process dies). */
export async function lockFingerprint(fingerprint: string, options: LockOptions): Promise<Lock> {
  await Deno.mkdir(options.lockDir, { recursive: true });
  const project = (await sha256(options.root)).slice(0, 12);
  const file = await Deno.open(join(options.lockDir, `${project}-${fingerprint}.lock`), {
    create: true,
    write: true,
  });
  await file.lock(true);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  };
  return { release, [Symbol.dispose]: release };
}
