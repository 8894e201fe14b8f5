// Generated from src/_body.ts by scripts/build_js.ts (sha256 56b4ccd6d43019a15971c4b2625bc2fe5bb431c5df904ba27cb909f20a7db826): do not edit; `deno task build:js` writes it.
export var readBounded = (async function (response, max) {
    const announced = Number(response.headers.get("content-length") ?? "");
    if (Number.isFinite(announced) && announced > max) {
        await response.body?.cancel().catch((() => { }));
        throw new TooLarge();
    }
    if (!response.body)
        return new Uint8Array();
    return await readStream(response.body, max);
});
export var readStream = (async function (body, max, options = {}) {
    const chunks = [];
    let size = 0;
    const reader = body.getReader();
    const stop = (() => reader.cancel().catch((() => { })));
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
        for (;;) {
            const { done, value } = await reader.read();
            if (done)
                break;
            size += value.length;
            if (size > max)
                throw new TooLarge();
            options.take?.(value.length);
            chunks.push(value);
        }
    }
    catch (error) {
        await stop();
        throw error;
    }
    finally {
        options.signal?.removeEventListener("abort", stop);
        reader.releaseLock();
    }
    return concatBytes(chunks);
});
export var concatBytes = (function (chunks) {
    const out = new Uint8Array(chunks.reduce(((n, chunk) => n + chunk.byteLength), 0));
    let at = 0;
    for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.byteLength;
    }
    return out;
});
export class TooLarge extends Error {
}
;
;
;
