/**
 * The Core's disk storage: `<dir>/entries/<fingerprint>.json`, each written to a temporary file in
 * the same folder, flushed, then renamed into place, so a reader (or a crash) never sees half an
 * entry.
 *
 * @module
 */
import { join, resolve } from "../../_path.ts";
import { ValidationError } from "../../errors.ts";
import { lockFingerprint } from "../../store/lock.ts";
import { entryKey, type EntryStorage } from "./mod.ts";

/** Entries as files in a folder. */
export class DiskStorage implements EntryStorage {
  /** The folder holding `entries/`. */
  readonly dir: string;
  readonly description: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.description = `disk:${dir}`;
  }

  /** Opens (and creates when missing) the storage folder. */
  static async open(dir: string): Promise<DiskStorage> {
    const absolute = resolve(dir);
    try {
      await Deno.mkdir(join(absolute, "entries"), { recursive: true, mode: 0o750 });
    } catch (error) {
      throw new ValidationError(
        `Cannot use the store folder "${dir}": ${(error as Error).message}`,
        {
          cause: error,
          hint: "Pass --store a folder the Core may create and write (its entries/ inside it)",
          details: { store: dir },
        },
      );
    }
    return new DiskStorage(absolute);
  }

  async get(fingerprint: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
    try {
      return await Deno.readFile(join(this.dir, entryKey(fingerprint)));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  async lock(fingerprint: string): Promise<Disposable> {
    entryKey(fingerprint);
    return await lockFingerprint(fingerprint, { lockDir: join(this.dir, "locks"), root: this.dir });
  }

  async put(fingerprint: string, body: Uint8Array): Promise<void> {
    const final = join(this.dir, entryKey(fingerprint));
    const temp = join(this.dir, "entries", `.${fingerprint}.${crypto.randomUUID()}.tmp`);
    try {
      using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o640 });
      let written = 0;
      while (written < body.length) written += await file.write(body.subarray(written));
      await file.syncData();
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
    try {
      await Deno.rename(temp, final);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw error;
    }
  }
}
