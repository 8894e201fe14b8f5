// Generated from src/store/store.ts by scripts/build_js.ts (sha256 4b01204507822da34e14d1f58cf818c77d9078a18dc734dabadcd4b782f960b2): do not edit; `deno task build:js` writes it.
var makeStaging = (async function (tmpRoot, prefix) {
    for (let attempt = 1;; attempt++) {
        try {
            await Deno.mkdir(tmpRoot, { recursive: true, mode: 0o755 });
            return await Deno.makeTempDir({ dir: tmpRoot, prefix });
        }
        catch (error) {
            const raced = error instanceof Deno.errors.NotFound ||
                error instanceof Deno.errors.AlreadyExists;
            if (!raced || attempt >= 100)
                throw error;
        }
    }
});
var sweepStaging = (async function (tmpRoot) {
    let items;
    try {
        items = await Array.fromAsync(Deno.readDir(tmpRoot));
    }
    catch {
        return;
    }
    const now = Date.now();
    for (const item of items) {
        if (!item.isDirectory || item.name.includes("-old-"))
            continue;
        const path = join(tmpRoot, item.name);
        const info = await lstatOrNull(path);
        if (info?.isDirectory && info.mtime && now - info.mtime.getTime() > STALE_STAGING_MS) {
            await Deno.remove(path, { recursive: true }).catch((() => { }));
        }
    }
});
export var findRoot = (function (cwd, options = {}) {
    return promised((() => findRootNow(cwd, options)));
});
var findRootNow = (function (cwd, options) {
    const start = resolve(cwd);
    const below = [];
    for (let dir = start;; dir = dirname(dir)) {
        const listed = entriesNamed(dir, [".git", STORE_DIR]).map(((path) => basename(path).toLowerCase()));
        if (listed.includes(".git") && existsSync(join(dir, ".git"))) {
            for (const ignored of below) {
                options.warn?.(`warning: ignoring ${join(ignored, STORE_DIR)}: the store is the one at the git root ` +
                    `(${join(dir, STORE_DIR)}); a .capibara/ below it could have been written by a ` +
                    `script. Pass --root ${ignored} to use it on purpose`);
            }
            return dir;
        }
        if (listed.includes(STORE_DIR) && existsSync(join(dir, STORE_DIR)))
            below.push(dir);
        if (dirname(dir) === dir)
            return start;
    }
});
var readManifestText = (function (dir) {
    return new TextDecoder().decode(readRegularFileSync(join(dir, MANIFEST_FILE), MAX_IMPORT_BYTES));
});
var unreadableEntry = (function (fingerprint, error) {
    if (!(error instanceof FileRefused))
        return error;
    return new IntegrityError(`Cannot read cached script "${fingerprint}": ${basename(error.path)} ${error.reason}`, {
        hint: "Remove the folder (capibara clear), or regenerate it with capibara run --refresh --force",
        details: { fingerprint },
    });
});
var parseManifest = (function (text, path) {
    let json;
    try {
        json = JSON.parse(text);
    }
    catch (error) {
        throw new IntegrityError(`Cannot read manifest "${path}": it is not valid JSON`, {
            cause: error,
            hint: "Restore it with git, or remove the folder and run again",
        });
    }
    if (nestsDeeperThan(json, MAX_MANIFEST_DEPTH)) {
        throw new IntegrityError(`Cannot read manifest "${path}": it nests deeper than ${MAX_MANIFEST_DEPTH} levels`, { hint: "Restore it with git, or remove the folder and run again" });
    }
    const parsed = Manifest.safeParse(json);
    if (!parsed.success) {
        throw new IntegrityError(`Cannot read manifest "${path}": ${issuesText(parsed.error.issues)}`, { hint: `Restore it with git, or remove it with capibara clear ${basename(dirname(path))}` });
    }
    return parsed.data;
});
var checkWireEntry = (function (entry, options) {
    const bad = ((why) => new ValidationError(`Cannot import entry: ${why}`, {
        hint: "An entry is {manifest, files} as a Core serves it; fetch it again",
    }));
    const isObject = ((value) => typeof value === "object" && value !== null && !Array.isArray(value));
    if (!isObject(entry) || !isObject(entry.manifest) || !isObject(entry.files)) {
        throw bad("expected an object {manifest, files}");
    }
    const manifest = entry.manifest;
    const files = entry.files;
    if (nestsDeeperThan(manifest, MAX_MANIFEST_DEPTH)) {
        throw bad(`its manifest nests deeper than ${MAX_MANIFEST_DEPTH} levels`);
    }
    const fp = manifest.fingerprint;
    if (typeof fp !== "string" || !FINGERPRINT_FORM.test(fp)) {
        throw bad('field "fingerprint" of its manifest is not a fingerprint');
    }
    if (options.fingerprint !== undefined && fp !== options.fingerprint) {
        throw bad(`it is "${fp}", not the "${options.fingerprint}" asked for`);
    }
    const language = manifest.language;
    if (typeof language !== "string" || !LANGUAGES.includes(language)) {
        throw bad('field "language" of its manifest is not a language');
    }
    const wanted = entryFileNames(language);
    const names = Object.keys(files).sort();
    if (names.join("\n") !== wanted.join("\n")) {
        throw bad(`a ${language} entry holds ${wanted.join(", ")} (got ${names.map(((n) => JSON.stringify(n))).join(", ") || "nothing"})`);
    }
    let bytes = 0;
    for (const name of names) {
        const text = files[name];
        if (typeof text !== "string")
            throw bad(`file ${name} is not text`);
        bytes += new TextEncoder().encode(text).length;
    }
    const max = options.maxBytes ?? MAX_IMPORT_BYTES;
    if (bytes > max)
        throw bad(`it takes over the ${max} bytes allowed`);
    let text;
    try {
        text = serialiseManifest(manifest);
    }
    catch {
        throw bad("its manifest is not plain JSON");
    }
    bytes += new TextEncoder().encode(text).length;
    if (bytes > max)
        throw bad(`it takes ${bytes} bytes, over the ${max} bytes allowed`);
    return { manifest, text, files: files };
});
import { issuesText } from "../_shape.js";
import { FINGERPRINT_FORM } from "../types.js";
import { basename, dirname, join, resolve } from "../_path.js";
import { IntegrityError, PermissionError, ValidationError } from "../errors.js";
import { entriesNamed, exists, existsSync, FileRefused, lstatOrNull, lstatSyncOrNull, promised, readRegularFileSync, realPathOrNull, unwritable, } from "../_fs.js";
import { sha256Tagged } from "../_hash.js";
import { shellWord } from "../readme.js";
import { LANGUAGES, Manifest } from "../schema.js";
import { entryFileNames, MANIFEST_FILE, MAX_MANIFEST_DEPTH, nestsDeeperThan, serialiseManifest, SIGNATURE_FIELD, } from "./entry.js";
import { integrityRecord, MAX_ENTRY_BYTES, verifyEntryDir } from "./integrity.js";
import { lockFingerprint } from "./lock.js";
import { checkSignaturePolicy, manifestHash, NO_SIGNATURE_POLICY, verifySignature, } from "./trust.js";
export const MAX_IMPORT_BYTES = MAX_ENTRY_BYTES;
;
const ENTRY_FILE_MODE = 0o644;
export const STORE_DIR = ".capibara";
const STALE_STAGING_MS = 60 * 60 * 1000;
;
const GITIGNORE = "# Machine-local state of Capibara: never commit\n.tmp/\n";
;
;
export class Store {
    root;
    base;
    scripts;
    signatures;
    #lockDir;
    #acceptances;
    constructor(root, lockDir, options = {}) {
        this.root = resolve(root);
        this.base = join(this.root, STORE_DIR);
        this.scripts = join(this.base, "scripts");
        this.#lockDir = lockDir ?? join(this.base, ".locks");
        this.signatures = options.signatures ?? NO_SIGNATURE_POLICY;
        this.#acceptances = options.acceptances;
    }
    dirOf(fingerprint) {
        if (!FINGERPRINT_FORM.test(fingerprint)) {
            throw new ValidationError(`Invalid fingerprint "${fingerprint}"`, {
                hint: "Fingerprints look like fp_ followed by 32 hex digits; see capibara list",
            });
        }
        return join(this.scripts, fingerprint);
    }
    async lookup(fingerprint) {
        const dir = this.dirOf(fingerprint);
        this.#checkFolders();
        let text;
        try {
            text = readManifestText(dir);
        }
        catch (error) {
            if (!(error instanceof FileRefused && error.reason === "is missing")) {
                throw unreadableEntry(fingerprint, error);
            }
            if (existsSync(dir) || !await this.#restoreInterrupted(fingerprint))
                return undefined;
            return await this.lookup(fingerprint);
        }
        try {
            return { dir, manifest: parseManifest(text, join(dir, MANIFEST_FILE)) };
        }
        catch (error) {
            await this.#verifyDir(dir).catch(((e) => {
                if (e instanceof IntegrityError)
                    throw e;
            }));
            throw error;
        }
    }
    async entry(fingerprint) {
        const found = await this.lookup(fingerprint);
        if (found)
            return found;
        throw unreadableEntry(fingerprint, new FileRefused(join(this.dirOf(fingerprint), MANIFEST_FILE), "is missing"));
    }
    async verify(entry, options = {}) {
        if (options.policy === false || !this.#policyActive()) {
            await this.#verifyDir(entry.dir, entry.manifest);
            return { state: "unsigned" };
        }
        const { raw } = await this.#verifiedRaw(entry.dir, entry.manifest);
        return await this.checkPolicy(raw);
    }
    async checkPolicy(manifest) {
        if (!this.#policyActive())
            return { state: "unsigned" };
        const fp = String(manifest.fingerprint);
        const acceptance = this.#acceptances
            ? await this.#acceptances.get(await this.realRoot(), fp)
            : undefined;
        return await checkSignaturePolicy({ ...manifest, fingerprint: fp }, this.signatures, acceptance);
    }
    #policyActive() {
        return this.signatures.required || this.signatures.keys.length > 0;
    }
    async #verifiedRaw(dir, read) {
        const manifest = await this.#verifyDir(dir, read);
        let raw;
        try {
            raw = JSON.parse(readManifestText(dir));
        }
        catch {
            raw = undefined;
        }
        if (raw === undefined || await manifestHash(raw) !== manifest.integrity?.manifest) {
            throw new IntegrityError(`Cannot trust cached script "${basename(dir)}": ${MANIFEST_FILE} changed while it was read`, { hint: "Run the command again", details: { fingerprint: basename(dir) } });
        }
        return { manifest, raw };
    }
    async accept(manifest) {
        if (!this.#acceptances) {
            throw new Error("Cannot record an acceptance: this store has no acceptance records");
        }
        await this.#acceptances.accept(await this.realRoot(), manifest);
    }
    async realRoot() {
        return await realPathOrNull(this.root) ?? this.root;
    }
    async #verifyDir(dir, read) {
        return await verifyEntryDir(dir, {
            read,
            restoreHint: ((manifest) => (manifest
                ? `Its ${MANIFEST_FILE} is the store's and cannot be accepted: restore it`
                : `If you edited it on purpose, review the change and keep it with capibara accept ` +
                    `${basename(dir)}; otherwise restore it`) +
                ` with git (git -C ${shellWord(this.root)} checkout -- ${STORE_DIR}/scripts/` +
                `${basename(dir)}, once committed), regenerate it with --refresh --force, or remove it ` +
                `with capibara clear ${basename(dir)}`),
        });
    }
    lock(fingerprint) {
        return lockFingerprint(fingerprint, { lockDir: this.#lockDir, root: this.root });
    }
    async write(manifest, files) {
        const final = this.dirOf(manifest.fingerprint);
        const names = Object.keys(files).sort();
        const wanted = entryFileNames(manifest.language);
        if (names.join("\n") !== wanted.join("\n")) {
            throw new ValidationError(`Cannot write entry "${manifest.fingerprint}": a ${manifest.language} entry holds ` +
                `${wanted.join(", ")} (got ${names.join(", ") || "nothing"})`);
        }
        const undo = await this.#ensureBase();
        try {
            return await this.#write(manifest, files, names, final);
        }
        catch (error) {
            await undo();
            throw error;
        }
    }
    async #write(manifest, files, names, final) {
        const tmpRoot = join(this.base, ".tmp");
        await sweepStaging(tmpRoot);
        await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
        const staging = await makeStaging(tmpRoot, `${manifest.fingerprint}-`);
        await Deno.chmod(staging, 0o755);
        try {
            const hashes = {};
            for (const name of names) {
                const bytes = new TextEncoder().encode(files[name]);
                await Deno.writeFile(join(staging, name), bytes, { mode: ENTRY_FILE_MODE });
                hashes[name] = await sha256Tagged(bytes);
            }
            const { integrity: _i, signature: _s, ...fields } = manifest;
            const plain = JSON.parse(JSON.stringify(Manifest.parse({ ...fields, files: hashes })));
            const stored = { ...plain, integrity: await integrityRecord(plain) };
            await Deno.writeTextFile(join(staging, MANIFEST_FILE), serialiseManifest(stored), {
                mode: ENTRY_FILE_MODE,
            });
            const full = await verifyEntryDir(staging, { fingerprint: manifest.fingerprint });
            await this.#replace(staging, final, tmpRoot, manifest.fingerprint);
            return { dir: final, manifest: full };
        }
        catch (error) {
            await Deno.remove(staging, { recursive: true }).catch((() => { }));
            throw error;
        }
    }
    async importEntry(entry, options = {}) {
        const { manifest, text, files } = checkWireEntry(entry, options);
        const fp = manifest.fingerprint;
        const final = this.dirOf(fp);
        const undo = await this.#ensureBase();
        try {
            return await this.#import(fp, text, files, final);
        }
        catch (error) {
            await undo();
            throw error;
        }
    }
    async #import(fp, text, files, final) {
        const tmpRoot = join(this.base, ".tmp");
        await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
        const staging = await makeStaging(tmpRoot, `${fp}-`);
        await Deno.chmod(staging, 0o755);
        try {
            for (const [name, text] of Object.entries(files)) {
                await Deno.writeTextFile(join(staging, name), text, {
                    createNew: true,
                    mode: ENTRY_FILE_MODE,
                });
            }
            await Deno.writeTextFile(join(staging, MANIFEST_FILE), text, { mode: ENTRY_FILE_MODE });
            const verified = await verifyEntryDir(staging, {
                fingerprint: fp,
                restoreHint: "The entry received is not the one its manifest describes: nothing was " +
                    "stored. Fetch it again, or ask whoever published it",
            });
            await this.checkPolicy(JSON.parse(text));
            await this.#replace(staging, final, tmpRoot, fp);
            return { dir: final, manifest: verified };
        }
        catch (error) {
            await Deno.remove(staging, { recursive: true }).catch((() => { }));
            throw error;
        }
    }
    async readEntry(fingerprint) {
        const dir = this.dirOf(fingerprint);
        this.#checkFolders();
        if (!await exists(dir)) {
            throw new ValidationError(`No cached script "${fingerprint}"`, {
                hint: `See the cached scripts with capibara list (store: ${this.scripts})`,
            });
        }
        const { manifest, raw } = await this.#verifiedRaw(dir);
        const files = {};
        const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
        for (const name of Object.keys(manifest.files).sort()) {
            let bytes;
            try {
                bytes = readRegularFileSync(join(dir, name), MAX_IMPORT_BYTES);
                files[name] = decoder.decode(bytes);
            }
            catch (error) {
                if (error instanceof FileRefused)
                    throw unreadableEntry(fingerprint, error);
                throw new IntegrityError(`Cannot read cached script "${fingerprint}": ${name} is not text`, {
                    cause: error,
                    hint: "Regenerate it with capibara run --refresh --force",
                });
            }
            if (await sha256Tagged(bytes) !== manifest.files[name]) {
                throw new IntegrityError(`Cannot read cached script "${fingerprint}": ${name} changed`, {
                    hint: "Run the command again",
                    details: { fingerprint },
                });
            }
        }
        return { manifest: raw, files };
    }
    async writeSignature(fingerprint, signature, publicKey) {
        const dir = this.dirOf(fingerprint);
        await this.checkWritable();
        const { raw } = await this.#verifiedRaw(dir);
        if (!await verifySignature(raw, signature, publicKey)) {
            throw new IntegrityError(`Cannot sign "${fingerprint}": the signature does not verify over its manifest`, { hint: "Sign the manifest as it is stored now, and try again" });
        }
        const tmpRoot = join(this.base, ".tmp");
        const staging = await makeStaging(tmpRoot, `${fingerprint}-signature-`);
        const tmp = join(staging, MANIFEST_FILE);
        try {
            await Deno.writeTextFile(tmp, serialiseManifest({ ...raw, [SIGNATURE_FIELD]: signature }), {
                createNew: true,
                mode: ENTRY_FILE_MODE,
            });
            await Deno.rename(tmp, join(dir, MANIFEST_FILE));
        }
        finally {
            await Deno.remove(staging, { recursive: true }).catch((() => { }));
        }
        await Deno.remove(tmpRoot).catch((() => { }));
        return { dir, manifest: await this.#verifyDir(dir) };
    }
    async #replace(staging, final, tmpRoot, fp) {
        for (let attempt = 0;; attempt++) {
            const old = await exists(final) ? join(tmpRoot, `${fp}-old-${crypto.randomUUID()}`) : "";
            if (old)
                await Deno.rename(final, old);
            try {
                await Deno.rename(staging, final);
            }
            catch (error) {
                if (attempt < 2 && await exists(final))
                    continue;
                throw error;
            }
            if (old)
                await Deno.remove(old, { recursive: true });
            break;
        }
        await Deno.remove(tmpRoot).catch((() => { }));
    }
    async #restoreInterrupted(fp) {
        const tmpRoot = join(this.base, ".tmp");
        let left;
        try {
            left = (await Array.fromAsync(Deno.readDir(tmpRoot)))
                .filter(((item) => item.isDirectory && item.name.startsWith(`${fp}-old-`)))
                .map(((item) => {
                const path = join(tmpRoot, item.name);
                return { path, at: lstatSyncOrNull(path)?.mtime?.getTime() ?? 0 };
            }));
        }
        catch {
            return false;
        }
        const latest = left.sort(((a, b) => b.at - a.at))[0];
        if (latest === undefined)
            return false;
        try {
            await Deno.mkdir(this.scripts, { recursive: true, mode: 0o755 });
            await Deno.rename(latest.path, this.dirOf(fp));
            return true;
        }
        catch (error) {
            if (await exists(this.dirOf(fp)))
                return true;
            throw new IntegrityError(`Cannot read cached script "${fp}": a replacement of it was interrupted, and it is ` +
                `still at ${latest.path}`, {
                hint: `Move it back: mv ${shellWord(latest.path)} ${shellWord(this.dirOf(fp))}`,
                details: { fingerprint: fp, left: latest.path },
                cause: error,
            });
        }
    }
    async list() {
        const entries = [];
        const broken = [];
        this.#checkFolders();
        let left = [];
        try {
            left = (await Array.fromAsync(Deno.readDir(join(this.base, ".tmp"))))
                .map(((item) => item.name.split("-old-")[0]))
                .filter(((fp) => FINGERPRINT_FORM.test(fp)));
        }
        catch {
        }
        for (const fp of new Set(left)) {
            if (existsSync(this.dirOf(fp)))
                continue;
            await this.#restoreInterrupted(fp).catch(((error) => {
                broken.push({ dir: this.dirOf(fp), reason: error.message });
            }));
        }
        if (!await exists(this.scripts))
            return { entries, broken };
        for await (const item of Deno.readDir(this.scripts)) {
            const dir = join(this.scripts, item.name);
            if (!item.isDirectory || !FINGERPRINT_FORM.test(item.name)) {
                broken.push({
                    dir,
                    reason: `Cannot read "${item.name}": not a cached script folder (${item.isDirectory ? "its name is not a fingerprint" : "not a folder"})`,
                });
                continue;
            }
            try {
                const text = readManifestText(dir);
                entries.push({ dir, manifest: parseManifest(text, join(dir, MANIFEST_FILE)) });
            }
            catch (error) {
                broken.push({ dir, reason: error instanceof Error ? error.message : String(error) });
            }
        }
        entries.sort(((a, b) => a.manifest.created_at.localeCompare(b.manifest.created_at)));
        return { entries, broken };
    }
    async resolve(prefix, options = {}) {
        const lower = prefix.toLowerCase();
        const wanted = lower.startsWith("fp_") ? lower : `fp_${lower}`;
        if (wanted.length < 5) {
            throw new ValidationError(`Fingerprint prefix "${prefix}" is too short`, {
                hint: "Give at least 2 hex digits after fp_",
            });
        }
        const matches = [];
        this.#checkFolders();
        if (await exists(this.scripts)) {
            for await (const item of Deno.readDir(this.scripts)) {
                if ((item.isDirectory || options.anyKind) && item.name.startsWith(wanted)) {
                    matches.push(item.name);
                }
            }
        }
        if (matches.length === 1)
            return matches[0];
        if (matches.length === 0) {
            throw new ValidationError(`No cached script matches "${prefix}"`, {
                hint: `See the cached scripts with capibara list (store: ${this.scripts})`,
            });
        }
        throw new ValidationError(`Fingerprint prefix "${prefix}" is ambiguous: ${matches.join(", ")}`, {
            hint: "Give more digits",
        });
    }
    async remove(fingerprint) {
        const dir = this.dirOf(fingerprint);
        await this.checkWritable();
        await Deno.remove(dir, { recursive: true }).catch(((error) => {
            if (!(error instanceof Deno.errors.NotFound))
                throw error;
        }));
    }
    #checkFolders() {
        for (const dir of [this.base, this.scripts, join(this.base, ".tmp")]) {
            const info = lstatSyncOrNull(dir);
            if (info && !info.isDirectory) {
                throw new IntegrityError(`Cannot use the store: ${dir} is ${info.isSymlink ? "a symlink" : "not a folder"}, and entries are only kept inside the project's own ${STORE_DIR}/ folders`, {
                    hint: `Remove it (a repository may have committed it) and run again; ${STORE_DIR}/ ` +
                        "and its scripts/ are created as real folders when missing",
                    details: { path: dir },
                });
            }
        }
    }
    async checkWritable() {
        this.#checkFolders();
        for (let attempt = 0;; attempt++) {
            const found = await this.#unwritableFolder();
            if (!found)
                return;
            if (found.error instanceof Deno.errors.NotFound && attempt < 3)
                continue;
            const { folder, error } = found;
            throw new PermissionError(`Cannot store scripts in ${this.base}: ${folder} cannot be written by this user`, {
                cause: error,
                hint: "Run from a project folder you can write to, or pass --root with one",
                details: { path: folder },
            });
        }
    }
    async #unwritableFolder() {
        let folder = join(this.base, ".tmp");
        for (const next of [this.base, dirname(this.base)]) {
            if (await lstatOrNull(folder))
                break;
            folder = next;
        }
        const folders = await lstatOrNull(this.scripts) ? [folder, this.scripts] : [folder];
        for (folder of folders) {
            const error = unwritable(folder);
            if (error)
                return { folder, error };
        }
        return undefined;
    }
    async #ensureBase() {
        this.#checkFolders();
        const made = !await exists(this.base);
        await Deno.mkdir(this.base, { recursive: true, mode: 0o755 });
        const ignore = join(this.base, ".gitignore");
        const info = lstatSyncOrNull(ignore);
        if (info === null || (info.isFile && info.size === 0)) {
            const temp = `${ignore}.${crypto.randomUUID()}.tmp`;
            try {
                await Deno.writeTextFile(temp, GITIGNORE, { createNew: true, mode: ENTRY_FILE_MODE });
                await Deno.rename(temp, ignore);
            }
            catch (error) {
                await Deno.remove(temp).catch((() => { }));
                if (made)
                    await this.#unmake();
                throw error;
            }
        }
        return made ? (() => this.#unmake()) : (() => Promise.resolve());
    }
    async #unmake() {
        for (const folder of [join(this.base, ".tmp"), this.scripts]) {
            await Deno.remove(folder).catch((() => { }));
        }
        if (lstatSyncOrNull(this.scripts) !== null)
            return;
        await Deno.remove(join(this.base, ".gitignore")).catch((() => { }));
        await Deno.remove(this.base).catch((() => { }));
    }
}
;
;
;
;
