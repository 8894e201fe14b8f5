/**
 * The per-fingerprint lock: one writer per fingerprint and project, across processes.
 *
 * The lock is an OS file lock (`flock`), so the kernel releases it when the holder dies; lock files
 * live in a machine-local folder, never inside `.capibara/`, and only while held (a holder that
 * dies leaves its file, which the next holder takes and removes).
 *
 * @module
 */
import { join } from "../_path.ts";
import { sha256 } from "../_hash.ts";
import { lstatSyncOrNull } from "../_fs.ts";

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

/**
 * Takes the exclusive lock of a fingerprint (blocks until free; released if the process dies).
 *
 * The holder removes the lock file as it releases it, so none is left behind per fingerprint
 * ever locked. A waiter may then hold a lock on a file no longer at its name: after taking it,
 * it checks that the name still leads to the file it locked, and starts over when it does not
 * (a later locker made a new file there).
 */
export async function lockFingerprint(fingerprint: string, options: LockOptions): Promise<Lock> {
  await Deno.mkdir(options.lockDir, { recursive: true });
  const project = (await sha256(options.root)).slice(0, 12);
  const path = join(options.lockDir, `${project}-${fingerprint}.lock`);
  for (;;) {
    const file = await Deno.open(path, { create: true, write: true });
    let held = false;
    try {
      await file.lock(true);
      const [locked, named] = [await file.stat(), lstatSyncOrNull(path)];
      held = named !== null && named.ino === locked.ino && named.dev === locked.dev;
    } finally {
      if (!held) file.close();
    }
    if (!held) continue;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      try {
        // Removed while still locked: nobody takes the name's lock in between.
        Deno.removeSync(path);
      } catch {
        // removed already (a folder cleared by hand)
      }
      try {
        file.unlockSync();
      } finally {
        file.close();
      }
    };
    return { release, [Symbol.dispose]: release };
  }
}
