// Generated from src/store/rekey.ts by scripts/build_js.ts (sha256 f11c3680657e5a2f67401fc11dfb1cfd104cc89eca4a2d22c33fb5ba75e39214): do not edit; `deno task build:js` writes it.
export var findLegacyEntry = (async function (store, request, current) {
    const earlier = [];
    for (const major of Object.keys(EARLIER_PROMPT_RULES)) {
        earlier.push({ templateVersion: major, modeUnhashed: true });
        if (major !== "1" && request.mode === "parametric")
            earlier.push({ templateVersion: major });
    }
    for (const rule of earlier) {
        let legacy;
        try {
            legacy = await fingerprint(request.prompt, request.context, {
                language: request.language,
                mode: request.mode,
                ...rule,
            });
        }
        catch (error) {
            if (error instanceof ValidationError)
                continue;
            throw error;
        }
        const entry = await store.lookup(legacy.fingerprint);
        const { manifest } = entry ?? {};
        if (!manifest || templateMajor(manifest.template_version) !== templateMajor(rule.templateVersion))
            continue;
        if (normalizePrompt(manifest.prompt) === current.prompt_normalized &&
            manifest.context_sha === current.context_sha && manifest.language === request.language &&
            manifest.mode === request.mode)
            return entry;
    }
    return undefined;
});
export var rekeyStore = (async function (store, options = {}) {
    const { entries, broken } = await store.list();
    const outcomes = broken.map(((b) => ({
        from: basename(b.dir),
        status: "failed",
        reason: b.reason,
        error: new IntegrityError(b.reason, { hint: "Restore it with git, or remove it" }),
    })));
    for (const entry of entries) {
        if (options.signal?.aborted)
            break;
        outcomes.push(await rekeyEntry(store, entry, options));
    }
    return outcomes;
});
var rekeyEntry = (async function (store, entry, options) {
    const old = entry.manifest;
    const from = old.fingerprint;
    const major = templateMajor(old.template_version);
    if (major === templateMajor(TEMPLATE_VERSION))
        return { from, status: "current" };
    if (!Object.hasOwn(EARLIER_PROMPT_RULES, major)) {
        return {
            from,
            status: "skipped",
            reason: `template ${old.template_version} is not one this version can re-key`,
        };
    }
    if (old.mode !== "strict") {
        return {
            from,
            status: "skipped",
            reason: "a parametric entry does not store its context, so its new fingerprint cannot be " +
                "computed: regenerate it with capibara run --refresh",
        };
    }
    let files;
    let to;
    let next;
    try {
        await store.verify(entry);
        files = await readVerifiedFiles(entry);
        next = await fingerprint(old.prompt, old.context ?? {}, {
            language: old.language,
            mode: old.mode,
        });
        to = next.fingerprint;
    }
    catch (error) {
        return failure(from, error);
    }
    const revision = old.revision + 1;
    const rekeyed = ((at) => {
        const { files: _f, integrity: _i, signature: _s, ...fields } = old;
        return {
            ...fields,
            fingerprint: to,
            prompt_sha: next.prompt_sha,
            context_sha: next.context_sha,
            template_version: TEMPLATE_VERSION,
            revision,
            history: [...old.history, { revision, at, reason: REKEY_REASON }],
        };
    });
    const movedFiles = retitle(files, from, to);
    if (options.dryRun) {
        const existing = await store.lookup(to).catch((() => undefined));
        if (existing && !await isRekeyed(existing.manifest, rekeyed, movedFiles)) {
            return superseded(from, to);
        }
        return { from, to, status: "would-move" };
    }
    try {
        await store.checkWritable();
    }
    catch (error) {
        return failure(from, error, to);
    }
    const [first, second] = [from, to].sort();
    using _first = await store.lock(first);
    using _second = await store.lock(second);
    try {
        const existing = await store.lookup(to);
        if (existing) {
            await store.verify(existing);
            if (!await isRekeyed(existing.manifest, rekeyed, movedFiles))
                return superseded(from, to);
        }
        else {
            await store.write(rekeyed((options.now?.() ?? new Date()).toISOString()), movedFiles);
        }
        await store.remove(from);
        return { from, to, status: "moved" };
    }
    catch (error) {
        return failure(from, error, to);
    }
});
var readVerifiedFiles = (async function (entry) {
    const files = {};
    for (const name of entryFileNames(entry.manifest.language)) {
        const bytes = await verifiedBytes(join(entry.dir, name), entry.manifest.files[name]);
        try {
            files[name] = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
        }
        catch {
            throw new IntegrityError(`${name} of ${entry.manifest.fingerprint} is not UTF-8 text`, {
                hint: `Restore it with git, or remove it with capibara clear ${entry.manifest.fingerprint}`,
            });
        }
    }
    return files;
});
var retitle = (function (files, from, to) {
    const readme = files[README_FILE];
    if (readme === undefined)
        return files;
    return { ...files, [README_FILE]: readme.replaceAll(from, to) };
});
var isRekeyed = (async function (moved, rekeyed, files) {
    const at = moved.history.at(-1)?.at;
    if (typeof at !== "string")
        return false;
    const { files: movedFiles, integrity: _i, signature: _s, ...fields } = moved;
    const expected = Manifest.parse({ ...rekeyed(at), files: movedFiles });
    const { files: _f, integrity: _ei, signature: _es, ...expectedFields } = expected;
    if (canonicalize(fields) !== canonicalize(expectedFields))
        return false;
    const names = Object.keys(files);
    if (Object.keys(movedFiles).length !== names.length)
        return false;
    for (const name of names) {
        const hash = await sha256Tagged(files[name]);
        if (movedFiles[name] !== hash)
            return false;
    }
    return true;
});
var superseded = (function (from, to) {
    return {
        from,
        to,
        status: "superseded",
        reason: `${to} already holds another entry for this request; this one is never used again: ` +
            `remove it with capibara clear ${from}`,
    };
});
var failure = (function (from, error, to) {
    if (!(error instanceof CapibaraError))
        throw error;
    return { from, ...(to ? { to } : {}), status: "failed", reason: error.message, error };
});
import { basename, join } from "../_path.js";
import { TEMPLATE_VERSION } from "../contract/contract.js";
import { CapibaraError, IntegrityError, ValidationError } from "../errors.js";
import { EARLIER_PROMPT_RULES, fingerprint, normalizePrompt, templateMajor, } from "../fingerprint.js";
import { verifiedBytes } from "./_verified.js";
import canonicalize from "npm:canonicalize@^5.1.0";
import { sha256Tagged } from "../_hash.js";
import { Manifest } from "../schema.js";
import { entryFileNames, README_FILE } from "./entry.js";
export const REKEY_REASON = `re-keyed to template ${templateMajor(TEMPLATE_VERSION)}`;
;
;
;
;
;
;
;
;
