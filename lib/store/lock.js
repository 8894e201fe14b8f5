// Generated from src/store/lock.ts by scripts/build_js.ts (sha256 158f666a3e78f0dba5206230039aaa1849961de75fb122f33487c81845ec860d): do not edit; `deno task build:js` writes it.
export var lockFingerprint = (async function (fingerprint, options) {
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
        }
        finally {
            if (!held)
                file.close();
        }
        if (!held)
            continue;
        let released = false;
        const release = (() => {
            if (released)
                return;
            released = true;
            try {
                Deno.removeSync(path);
            }
            catch {
            }
            try {
                file.unlockSync();
            }
            finally {
                file.close();
            }
        });
        return { release, [Symbol.dispose]: release };
    }
});
import { join } from "../_path.js";
import { sha256 } from "../_hash.js";
import { lstatSyncOrNull } from "../_fs.js";
;
