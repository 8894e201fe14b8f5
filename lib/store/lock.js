// Generated from src/store/lock.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export var lockFingerprint = (async function (fingerprint, options) {
    await Deno.mkdir(options.lockDir, { recursive: true });
    const project = (await sha256(options.root)).slice(0, 12);
    const file = await Deno.open(join(options.lockDir, `${project}-${fingerprint}.lock`), {
        create: true,
        write: true,
    });
    await file.lock(true);
    let released = false;
    const release = (() => {
        if (released)
            return;
        released = true;
        try {
            file.unlockSync();
        }
        finally {
            file.close();
        }
    });
    return { release, [Symbol.dispose]: release };
});
import { join } from "../_path.js";
import { sha256 } from "../_hash.js";
;
