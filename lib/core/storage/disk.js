// Generated from src/core/storage/disk.ts by scripts/build_js.ts (sha256 fd213bf10c9d3270b2afff1692299f5a8e66a465108f68caef8c823151b9baf7): do not edit; `deno task build:js` writes it.
import { join, resolve } from "../../_path.js";
import { ValidationError } from "../../errors.js";
import { lockFingerprint } from "../../store/lock.js";
import { entryKey } from "./mod.js";
export class DiskStorage {
    dir;
    description;
    constructor(dir) {
        this.dir = dir;
        this.description = `disk:${dir}`;
    }
    static async open(dir) {
        const absolute = resolve(dir);
        try {
            await Deno.mkdir(join(absolute, "entries"), { recursive: true, mode: 0o750 });
        }
        catch (error) {
            throw new ValidationError(`Cannot use the store folder "${dir}": ${error.message}`, {
                cause: error,
                hint: "Pass --store a folder the Core may create and write (its entries/ inside it)",
                details: { store: dir },
            });
        }
        return new DiskStorage(absolute);
    }
    async get(fingerprint) {
        try {
            return await Deno.readFile(join(this.dir, entryKey(fingerprint)));
        }
        catch (error) {
            if (error instanceof Deno.errors.NotFound)
                return undefined;
            throw error;
        }
    }
    async lock(fingerprint) {
        entryKey(fingerprint);
        return await lockFingerprint(fingerprint, { lockDir: join(this.dir, "locks"), root: this.dir });
    }
    async put(fingerprint, body) {
        const final = join(this.dir, entryKey(fingerprint));
        const temp = join(this.dir, "entries", `.${fingerprint}.${crypto.randomUUID()}.tmp`);
        try {
            using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o640 });
            let written = 0;
            while (written < body.length)
                written += await file.write(body.subarray(written));
            await file.syncData();
        }
        catch (error) {
            await Deno.remove(temp).catch((() => { }));
            throw error;
        }
        try {
            await Deno.rename(temp, final);
        }
        catch (error) {
            await Deno.remove(temp).catch((() => { }));
            throw error;
        }
    }
}
