// Generated from src/store/entry.ts by scripts/build_js.ts (sha256 e246cfed772e16359585abce5fbf13469c524f5563d2f6ab743805fd17fa62d4): do not edit; `deno task build:js` writes it.
export var requirementsText = (function (deps) {
    return deps.map(((d) => d + "\n")).join("");
});
export var nestsDeeperThan = (function (value, max) {
    const stack = [[value, 0]];
    while (stack.length > 0) {
        const [item, depth] = stack.pop();
        if (typeof item !== "object" || item === null)
            continue;
        if (depth >= max)
            return true;
        for (const child of Object.values(item))
            stack.push([child, depth + 1]);
    }
    return false;
});
export var textNestsDeeperThan = (function (bytes, max) {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i];
        if (inString) {
            if (byte === 0x5c)
                i++;
            else if (byte === 0x22)
                inString = false;
        }
        else if (byte === 0x22)
            inString = true;
        else if (byte === 0x5b || byte === 0x7b) {
            if (++depth > max)
                return true;
        }
        else if (byte === 0x5d || byte === 0x7d)
            depth--;
    }
    return false;
});
export var entryFileNames = (function (language) {
    const names = [ENTRY_FILES[language], README_FILE];
    if (language === "python")
        names.push(REQUIREMENTS_FILE);
    return names.sort();
});
export var entryFiles = (function (manifest, content) {
    const files = {
        [ENTRY_FILES[manifest.language]]: content.script.endsWith("\n")
            ? content.script
            : content.script + "\n",
        [README_FILE]: entryReadme(manifest, content.readme),
    };
    if (manifest.language === "python")
        files[REQUIREMENTS_FILE] = requirementsText(manifest.deps);
    return files;
});
export var canonicalManifest = (function (manifest) {
    return canonicalJson(signedFields(manifest));
});
export var signedFields = (function (manifest) {
    return Object.fromEntries(Object.entries(manifest).filter((([key, value]) => key !== INTEGRITY_FIELD && key !== SIGNATURE_FIELD && value !== undefined)));
});
export var canonicalJson = (function (value) {
    const text = canonicalize(value);
    if (text === undefined)
        throw new TypeError("Cannot canonicalise undefined");
    return text;
});
export var serialiseManifest = (function (manifest) {
    const fields = manifest;
    const known = new Set(MANIFEST_FIELDS);
    const keys = [
        ...MANIFEST_FIELDS.filter(((k) => Object.hasOwn(fields, k))),
        ...Object.keys(fields).filter(((k) => !known.has(k))).sort(compareCodeUnits),
    ];
    const ordered = Object.fromEntries(keys.filter(((key) => fields[key] !== undefined))
        .map(((key) => [key, JSON.parse(canonicalJson(fields[key]))])));
    return JSON.stringify(ordered, null, 2) + "\n";
});
var compareCodeUnits = (function (a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
});
import canonicalize from "npm:canonicalize@^5.1.0";
import { entryReadme } from "../readme.js";
import { ENTRY_FILES, MANIFEST_FIELDS } from "../schema.js";
export const MANIFEST_FILE = "manifest.json";
export const README_FILE = "README.md";
export const REQUIREMENTS_FILE = "requirements.txt";
export const INTEGRITY_FIELD = "integrity";
export const SIGNATURE_FIELD = "signature";
;
export const MAX_MANIFEST_DEPTH = 64;
;
;
;
;
;
;
;
;
;
