// Generated from src/store/integrity.ts by scripts/build_js.ts (sha256 b16b7781ca61da6887511f58b6d36c2810c45eda2d8bbe0f5824b896d517893b): do not edit; `deno task build:js` writes it.
export var integrityRecord = (async function (manifest) {
    const fields = signedFields(manifest);
    const keys = Object.keys(fields).sort();
    const [whole, ...digests] = await Promise.all([
        sha256(canonicalManifest(manifest)),
        ...keys.map(((key) => fieldDigest(fields[key]))),
    ]);
    return {
        manifest: "sha256:" + whole,
        fields: Object.fromEntries(keys.map(((key, i) => [key, digests[i]]))),
    };
});
var fieldDigest = (async function (value) {
    return (await sha256(canonicalJson(value))).slice(0, 16);
});
export var verifyEntryDir = (async function (dir, options = {}) {
    const fingerprint = options.fingerprint ?? basename(dir);
    const problems = [];
    const fail = ((manifest = true) => {
        const restore = options.restoreHint;
        throw new IntegrityError(`Cannot trust cached script "${fingerprint}": ${problems.join("; ")}`, {
            hint: typeof restore === "function"
                ? restore(manifest)
                : restore ?? "Restore it from version control or regenerate it",
            details: { fingerprint, problems },
        });
    });
    const folder = lstatSyncOrNull(dir);
    if (!folder?.isDirectory) {
        problems.push(`${dir} is ${folder ? "not a folder" : "missing"}`);
        fail();
    }
    const raw = readRawManifest(join(dir, MANIFEST_FILE), problems);
    if (raw === undefined)
        return fail();
    if (!Object.hasOwn(raw.value, INTEGRITY_FIELD)) {
        throw new IntegrityError(`Cannot trust cached script "${fingerprint}": its manifest has no integrity record ` +
            `(an older format, or the record was removed)`, {
            hint: "Regenerate it with capibara run --refresh (the same prompt and context), or " +
                "restore it from version control",
            details: { fingerprint, problems: [`field "${INTEGRITY_FIELD}" is missing`] },
        });
    }
    problems.push(...await manifestEdits(raw.text, raw.value));
    const parsed = Manifest.safeParse(raw.value);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            problems.push(`field "${issue.path.join(".")}" is invalid: ${issue.message}`);
        }
        return fail();
    }
    const manifest = parsed.data;
    if (manifest.fingerprint !== fingerprint) {
        problems.push(`field "fingerprint" (${manifest.fingerprint}) does not name this folder`);
    }
    await checkRequest(manifest, problems);
    if (options.read && canonicalManifest(options.read) !== canonicalManifest(manifest)) {
        problems.push(`${MANIFEST_FILE} changed after it was read`);
    }
    const manifestProblems = problems.length;
    await checkFiles(dir, manifest, problems);
    if (problems.length > 0)
        fail(manifestProblems > 0);
    return manifest;
});
var readRawManifest = (function (path, problems) {
    const info = lstatSyncOrNull(path);
    if (!info?.isFile) {
        problems.push(`${MANIFEST_FILE} is ${info ? "not a regular file" : "missing"}`);
        return undefined;
    }
    let text;
    let value;
    try {
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(readRegularFileSync(path, MAX_ENTRY_BYTES));
        value = JSON.parse(text);
    }
    catch {
        problems.push(`${MANIFEST_FILE} is not valid JSON`);
        return undefined;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problems.push(`${MANIFEST_FILE} is not a JSON object`);
        return undefined;
    }
    if (nestsDeeperThan(value, MAX_MANIFEST_DEPTH)) {
        problems.push(`${MANIFEST_FILE} nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
        return undefined;
    }
    return { text, value: value };
});
export var manifestEdits = (async function (text, raw) {
    const problems = [];
    await checkRecord(raw, problems);
    if (text !== serialiseManifest(raw)) {
        problems.push(`${MANIFEST_FILE} is not in the form the store writes (whitespace, key order or escapes ` +
            `were edited)`);
    }
    return problems;
});
var checkRecord = (async function (raw, problems) {
    const record = IntegrityRecord.safeParse(raw[INTEGRITY_FIELD]);
    if (!record.success) {
        problems.push(`field "${INTEGRITY_FIELD}" is malformed`);
        return;
    }
    const actual = await integrityRecord(raw);
    const expected = record.data.fields;
    const named = [];
    for (const [key, digest] of Object.entries(actual.fields)) {
        if (!Object.hasOwn(expected, key))
            named.push(`field "${key}" was added`);
        else if (expected[key] !== digest)
            named.push(`field "${key}" was changed`);
    }
    for (const key of Object.keys(expected)) {
        if (!Object.hasOwn(actual.fields, key))
            named.push(`field "${key}" was removed`);
    }
    if (actual.manifest !== record.data.manifest) {
        problems.push(...(named.length ? named : [`field "${INTEGRITY_FIELD}" was changed`]));
    }
    else if (named.length) {
        problems.push(`field "${INTEGRITY_FIELD}" was changed (${named.join(", ")})`);
    }
    if (Object.hasOwn(raw, SIGNATURE_FIELD) && !isWellFormedSignature(raw[SIGNATURE_FIELD])) {
        problems.push(`field "${SIGNATURE_FIELD}" is malformed (expected {alg: "Ed25519", key_id: 16 hex ` +
            `digits, value: base64 of 64 bytes})`);
    }
});
var checkRequest = (async function (manifest, problems) {
    let expected;
    try {
        expected = await fingerprint(manifest.prompt, manifest.context ?? {}, {
            language: manifest.language,
            mode: manifest.mode,
            templateVersion: manifest.template_version,
        });
    }
    catch {
        problems.push(`fields "prompt" and "context" cannot be fingerprinted`);
        return;
    }
    if (expected.prompt_sha !== manifest.prompt_sha) {
        problems.push(`field "prompt_sha" does not match field "prompt"`);
    }
    if (manifest.mode !== "strict")
        return;
    if (expected.context_sha !== manifest.context_sha) {
        problems.push(`field "context_sha" does not match field "context"`);
    }
    if (expected.fingerprint !== manifest.fingerprint) {
        problems.push(`field "fingerprint" does not match the prompt, context and language`);
    }
});
var checkFiles = (async function (dir, manifest, problems) {
    const expectedEntry = ENTRY_FILES[manifest.language];
    if (manifest.entry !== expectedEntry) {
        problems.push(`field "entry" must be ${expectedEntry} for a ${manifest.language} script`);
    }
    const wanted = new Set(entryFileNames(manifest.language));
    const listed = new Set(Object.keys(manifest.files));
    for (const name of wanted) {
        if (!listed.has(name))
            problems.push(`file ${name} is not hashed in field "files"`);
    }
    const contents = new Map();
    for (const [name, hash] of Object.entries(manifest.files)) {
        if (!wanted.has(name)) {
            problems.push(`file ${name} is listed in field "files" but is not part of an entry`);
            continue;
        }
        const bytes = await readEntryFile(dir, name);
        if (typeof bytes === "string") {
            problems.push(`file ${name} ${bytes}`);
            continue;
        }
        contents.set(name, bytes);
        if (await sha256Tagged(bytes) !== hash)
            problems.push(`file ${name} was modified`);
    }
    for (const item of Deno.readDirSync(dir)) {
        if (item.name !== MANIFEST_FILE && !listed.has(item.name)) {
            problems.push(`file ${item.name}${item.isDirectory ? "/" : ""} is not in the manifest`);
        }
    }
    const requirements = contents.get(REQUIREMENTS_FILE);
    if (requirements !== undefined && !sameBytes(requirements, requirementsText(manifest.deps))) {
        problems.push(`file ${REQUIREMENTS_FILE} does not match field "deps"`);
    }
    const bytes = contents.get(ENTRY_FILES[manifest.language]);
    const entry = bytes && new TextDecoder().decode(bytes);
    const breaks = entry && reviewTextProblem(entry);
    if (breaks)
        problems.push(`file ${ENTRY_FILES[manifest.language]}: ${breaks}`);
    const declared = manifest.language === "python" && entry && declaredEncoding(entry);
    if (declared) {
        problems.push(`file ${ENTRY_FILES.python} declares the source encoding "${declared.slice(0, 40)}": ` +
            "Python would run it as that, not as the UTF-8 it is shown and reviewed in");
    }
});
var declaredEncoding = (function (script) {
    const head = script.split(/\r\n|\r|\n/, 2);
    for (const line of head) {
        const name = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/.exec(line)?.[1];
        if (name === undefined)
            continue;
        const normal = name.toLowerCase().replaceAll("_", "-");
        return normal === "utf-8" || normal === "utf8" || normal.startsWith("utf-8-")
            ? undefined
            : name;
    }
    return undefined;
});
export var readEntryFile = (function (dir, name) {
    return promised((() => {
        if (name !== basename(name) || name === "." || name === "..")
            return "is not a file name";
        if (!lstatSyncOrNull(dir)?.isDirectory)
            return "is in a folder that is not a real folder";
        const path = join(dir, name);
        try {
            return readRegularFileSync(path, MAX_ENTRY_BYTES);
        }
        catch (error) {
            if (error instanceof FileRefused)
                return error.reason;
            throw error;
        }
    }));
});
var sameBytes = (function (bytes, text) {
    const expected = new TextEncoder().encode(text);
    return bytes.length === expected.length && bytes.every(((b, i) => b === expected[i]));
});
import { basename, join } from "../_path.js";
import { IntegrityError } from "../errors.js";
import { FileRefused, lstatSyncOrNull, promised, readRegularFileSync } from "../_fs.js";
import { sha256, sha256Tagged } from "../_hash.js";
import { fingerprint } from "../fingerprint.js";
import { ENTRY_FILES, IntegrityRecord, Manifest } from "../schema.js";
import { canonicalJson, canonicalManifest, entryFileNames, INTEGRITY_FIELD, MANIFEST_FILE, MAX_MANIFEST_DEPTH, nestsDeeperThan, REQUIREMENTS_FILE, requirementsText, serialiseManifest, SIGNATURE_FIELD, signedFields, } from "./entry.js";
import { isWellFormedSignature } from "./trust.js";
import { reviewTextProblem } from "../contract/contract.js";
import { MAX_ENTRY_BYTES } from "./_verified.js";
export { MAX_ENTRY_BYTES };
;
;
;
;
;
;
;
;
;
;
;
