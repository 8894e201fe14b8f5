/**
 * What one cached entry is made of: its files (from a bundle) and its manifest, in the two forms the
 * store uses.
 *
 * - The **canonical manifest** is the RFC 8785 serialisation (JSON Canonicalization Scheme) of every
 *   top-level field but the integrity record and the signature. It is what the integrity record
 *   hashes and what a signature signs; since `files` holds the sha256 of every other file, it covers
 *   the whole entry.
 * - The **stored form** is what `manifest.json` holds, byte for byte: the top-level fields in the
 *   schema's order, every nested object's keys sorted as in RFC 8785, two-space indentation and a
 *   final newline. It is a function of the manifest's value alone, so any edit of the file that does
 *   not change a value (whitespace, key order, escapes, number spelling) is detected too.
 *
 * @module
 */
import canonicalize from "npm:canonicalize@^5.1.0";
import { entryReadme } from "../readme.ts";
import { ENTRY_FILES, type Language, type Manifest, MANIFEST_FIELDS } from "../schema.ts";

/** The manifest's file name inside an entry folder. */
export const MANIFEST_FILE = "manifest.json";
/** The README written beside every script. */
export const README_FILE = "README.md";
/** The pinned requirements of a Python entry, one per line: exactly the manifest's `deps`. */
export const REQUIREMENTS_FILE = "requirements.txt";
/** The manifest field holding the integrity record. */
export const INTEGRITY_FIELD = "integrity";
/** The manifest field holding a signature over the canonical manifest. */
export const SIGNATURE_FIELD = "signature";

/** Files of an entry, by name, with their text (the manifest excluded: the store writes it). */
export type EntryFiles = Record<string, string>;

/** The fields of a manifest that its writer chooses: the store adds `files` and `integrity`. */
export type ManifestInput = Omit<Manifest, "files" | "integrity" | "signature">;

/** The text of `requirements.txt` for a list of requirements: one per line. */
export function requirementsText(deps: readonly string[]): string {
  return deps.map((d) => d + "\n").join("");
}

/**
 * The deepest a manifest's JSON may nest. Its fields nest three or four levels; every reader
 * (the canonical form, the schema) walks it recursively, and a repository's manifest of 200,000
 * nested arrays overflowed the stack of `list`, `show` and `verify` for the whole store.
 */
export const MAX_MANIFEST_DEPTH = 64;

/** Whether `value` (parsed JSON) nests deeper than `max` levels; walked without recursion. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Whether JSON text nests deeper than `max` arrays and objects, read before it is parsed: a parser
 * builds every level it reads (a 16 MiB body of `[[[…` took a client ≈ 900 MiB). Brackets inside
 * strings do not count.
 */
export function textNestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // a backslash: the next byte is escaped
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/** The names of the files an entry of this language holds besides `manifest.json`, sorted. */
export function entryFileNames(language: Language): string[] {
  const names = [ENTRY_FILES[language], README_FILE];
  if (language === "python") names.push(REQUIREMENTS_FILE);
  return names.sort();
}

/** The content of an entry: its script and the text of its README. */
export interface EntryContent {
  /** The whole script (a final newline is added when missing). */
  script: string;
  /** Free text for the README, below the generated sections. */
  readme: string;
}

/**
 * The files of an entry: the script under the language's entry name, the README, and for Python
 * `requirements.txt` written from the manifest's `deps`, so the two can never disagree.
 */
export function entryFiles(manifest: ManifestInput, content: EntryContent): EntryFiles {
  const files: EntryFiles = {
    [ENTRY_FILES[manifest.language]]: content.script.endsWith("\n")
      ? content.script
      : content.script + "\n",
    [README_FILE]: entryReadme(manifest, content.readme),
  };
  if (manifest.language === "python") files[REQUIREMENTS_FILE] = requirementsText(manifest.deps);
  return files;
}

/**
 * The canonical manifest (RFC 8785) of every top-level field but the integrity record and the
 * signature: the bytes an integrity record hashes and a signature signs.
 */
export function canonicalManifest(manifest: object): string {
  return canonicalJson(signedFields(manifest));
}

/** The top-level fields that the canonical manifest covers, with their values. */
export function signedFields(manifest: object): Record<string, unknown> {
  // fromEntries defines own properties, so even a key such as "__proto__" is kept and covered.
  return Object.fromEntries(
    Object.entries(manifest).filter(([key, value]) =>
      key !== INTEGRITY_FIELD && key !== SIGNATURE_FIELD && value !== undefined
    ),
  );
}

/** RFC 8785 canonical JSON of a JSON value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("Cannot canonicalise undefined");
  return text;
}

/**
 * The stored form of a manifest: the exact text of `manifest.json` (see the module doc). Fields
 * unknown to the schema come last, sorted, so that a manifest read back serialises the same way.
 */
export function serialiseManifest(manifest: object): string {
  const fields = manifest as Readonly<Record<string, unknown>>;
  const known = new Set<string>(MANIFEST_FIELDS);
  const keys = [
    ...MANIFEST_FIELDS.filter((k) => Object.hasOwn(fields, k)),
    ...Object.keys(fields).filter((k) => !known.has(k)).sort(compareCodeUnits),
  ];
  const ordered = Object.fromEntries(
    keys.filter((key) => fields[key] !== undefined)
      .map((key) => [key, JSON.parse(canonicalJson(fields[key]))]),
  );
  return JSON.stringify(ordered, null, 2) + "\n";
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
