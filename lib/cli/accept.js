// Generated from src/cli/accept.ts by scripts/build_js.ts (sha256 1e3413e99bed459705d11e9c825d7a27d3d2318752c84a340a9c5794d5c4fe28): do not edit; `deno task build:js` writes it.
var asksOf = (function (manifest) {
    return { needs: manifest.needs, allow: manifest.allow, deps: manifest.deps };
});
var requirementLines = (function (text) {
    return text.split("\n").map(((line) => line.trim())).filter(((line) => line !== "" && !line.startsWith("#")));
});
var selftest = (async function (cb, entry, options) {
    const config = await cb.config();
    const store = await cb.store();
    const manifest = { ...entry.manifest, needs: { network: [], env: [] } };
    const warn = printWarning;
    const [backend, prepared] = await Promise.all([
        backendFor(manifest.language, { sandbox: true, cacheDir: config.cacheDir, warn }),
        runtimeFor(manifest.language, config.env).prepare(manifest, entry.dir, {
            cacheDir: config.cacheDir,
            progress: options.progress,
            sandbox: platformBackend(config.cacheDir),
            sourceBuilds: config.sourceBuilds,
            warn,
            signal: options.signal,
        }),
    ]);
    const plan = await planRun({
        entry: { dir: entry.dir, manifest },
        context: {},
        grants: { network: [], env: [], read: [], write: [] },
        config,
        prepared,
        tmpDir: runDirPath(),
        workdir: cb.cwd,
        storeRoot: store.root,
        givenCacheDir: cb.cacheDir,
    });
    plan.command = { ...plan.command, args: [...plan.command.args, "--selftest"] };
    options.progress?.(`Running ${manifest.fingerprint} --selftest`);
    const { exec } = await execute(plan, backend, {
        timeoutMs: config.timeoutSeconds * 1000,
        maxOutputBytes: config.maxOutputBytes,
        signal: options.signal,
        staging: config.staging,
    });
    const last = exec.stdout.trim().split("\n").at(-1) ?? "";
    let status;
    try {
        status = JSON.parse(last).status;
    }
    catch {
        status = undefined;
    }
    if (exec.code !== 0 || status !== "ok") {
        const tail = exec.stderr.trim().split("\n").slice(-5).join("\n");
        throw new ExecError(`Cannot accept "${manifest.fingerprint}": its --selftest ${exec.code !== 0 ? `exited with code ${exec.code}` : 'did not report status "ok"'}${tail ? `:\n${tail}` : ""}`, {
            hint: "Fix the script so that `--selftest` passes offline, then run capibara accept again",
            details: { fingerprint: manifest.fingerprint, code: exec.code },
        });
    }
});
export var acceptEdit = (async function (cb, prefix, options = {}) {
    assertTrusted((await cb.config()).projectTrust);
    const store = await cb.store();
    const fp = await store.resolve(prefix);
    using _lock = await store.lock(fp);
    const dir = store.dirOf(fp);
    let text;
    let raw;
    try {
        const bytes = await readEntryFile(dir, MANIFEST_FILE);
        if (typeof bytes === "string")
            throw new Error(`it ${bytes}`);
        text = new TextDecoder().decode(bytes);
        raw = JSON.parse(text);
    }
    catch (error) {
        throw new IntegrityError(`Cannot accept "${fp}": its ${MANIFEST_FILE} cannot be read (${error.message})`, {
            hint: "Only the script, README.md and requirements.txt can be accepted after an edit: " +
                "restore manifest.json from version control, or regenerate with --refresh --force",
        });
    }
    const edits = await manifestEdits(text, raw);
    if (edits.length > 0) {
        throw new IntegrityError(`Cannot accept "${fp}": its ${MANIFEST_FILE} was edited (${edits.join("; ")})`, {
            hint: "Only the script, README.md and requirements.txt can be accepted after an edit: " +
                "restore manifest.json from version control, or regenerate with --refresh --force",
            details: { fingerprint: fp, problems: edits },
        });
    }
    const parsed = Manifest.safeParse(raw);
    if (!parsed.success) {
        throw new IntegrityError(`Cannot accept "${fp}": its ${MANIFEST_FILE} is not a manifest`, {
            hint: "Restore manifest.json from version control, or regenerate with --refresh --force",
        });
    }
    const previous = parsed.data;
    let stored;
    try {
        await store.verify({ dir, manifest: previous }, { policy: false });
        stored = (await store.readEntry(fp)).manifest;
        await checkSignaturePolicy(stored, { ...store.signatures, required: false });
    }
    catch (error) {
        if (!(error instanceof IntegrityError))
            throw error;
        stored = undefined;
    }
    if (stored !== undefined) {
        const passes = await store.checkPolicy(stored).then((() => true), ((error) => {
            if (!(error instanceof IntegrityError))
                throw error;
            return false;
        }));
        if (passes) {
            return {
                fingerprint: fp,
                accepted: false,
                revision: previous.revision,
                changed: [],
                dropped: [],
                revised: false,
                asks: asksOf(previous),
            };
        }
    }
    const names = entryFileNames(previous.language);
    const files = {};
    for (const name of names) {
        const bytes = await readEntryFile(dir, name);
        if (typeof bytes === "string") {
            throw new IntegrityError(`Cannot accept "${fp}": ${name} ${bytes}`, {
                hint: "Restore the file, or regenerate the script with capibara run --refresh --force",
            });
        }
        files[name] = new TextDecoder().decode(bytes);
    }
    const deps = previous.language === "python"
        ? requirementLines(files[REQUIREMENTS_FILE] ?? "")
        : previous.deps;
    if (previous.language === "python") {
        files[REQUIREMENTS_FILE] = deps.map(((d) => d + "\n")).join("");
    }
    const script = files[previous.entry] ?? "";
    options.progress?.(`Checking ${fp}`);
    try {
        await checkBundle({
            language: previous.language,
            script,
            requirements: deps,
            outputs: previous.outputs,
            aliases: previous.aliases,
            needs: previous.needs,
            readme: "",
        }, { language: previous.language });
    }
    catch (error) {
        if (!(error instanceof ContractViolation))
            throw error;
        throw new TemplateError(`Cannot accept "${fp}": the edited script fails its checks`, {
            hint: `Fix it and run capibara accept again: ${error.reason}`,
            details: { fingerprint: fp, reason: error.reason },
        });
    }
    const dropped = [];
    for await (const item of Deno.readDir(dir)) {
        if (item.name !== MANIFEST_FILE && !names.includes(item.name))
            dropped.push(item.name);
    }
    const changed = [];
    const hashes = {};
    for (const name of names) {
        const hash = await sha256Tagged(files[name]);
        hashes[name] = hash;
        if (previous.files[name] !== hash)
            changed.push(name);
    }
    const revision = previous.revision + 1;
    const now = new Date().toISOString();
    const { files: _files, integrity: _integrity, signature: _signature, ...fields } = previous;
    const next = {
        ...fields,
        deps,
        revision,
        history: [...previous.history, { revision, at: now, reason: EDITED_BY_HAND }],
    };
    const staging = await makeRunDir();
    try {
        for (const name of names)
            await Deno.writeTextFile(join(staging, name), files[name]);
        await selftest(cb, { dir: staging, manifest: { ...previous, deps, files: hashes } }, options);
    }
    finally {
        await Deno.remove(staging, { recursive: true }).catch((() => { }));
    }
    if (stored !== undefined) {
        await store.accept(stored);
        return {
            fingerprint: fp,
            accepted: true,
            revision: previous.revision,
            changed: [],
            dropped: [],
            accepted_locally: true,
            revised: false,
            asks: asksOf(stored),
        };
    }
    await store.checkWritable();
    await store.write(next, files);
    const required = store.signatures.required;
    if (required)
        await store.accept((await store.readEntry(fp)).manifest);
    return {
        fingerprint: fp,
        accepted: true,
        revision,
        changed,
        dropped,
        ...(required ? { accepted_locally: true } : {}),
        ...(previous.signature ? { signature_removed: previous.signature.key_id } : {}),
        revised: true,
        asks: asksOf(next),
    };
});
export var acceptCommand = (function (setExit) {
    return new Command("accept")
        .description("Keep a reviewed hand edit of a cached script: re-check it (static checks, --selftest in " +
        'the sandbox) and store it as its next revision ("edited by hand" in its history); ' +
        "where signatures are required, accept an unsigned script on this machine")
        .argument("<fingerprint>", "a fingerprint or a unique prefix of one (fp_ optional)")
        .option("--root <dir>", ROOT_HELP, nonEmpty)
        .option("--json", "print one JSON document on stdout")
        .addHelpText("after", `
Examples:
  $EDITOR .capibara/scripts/fp_1a2b…/script.py    # review and edit
  capibara accept fp_1a2b                            # re-check and keep the edit
  git add .capibara && git commit -m "Reviewed fp_1a2b"

Where .capibara/config.json has "trust": {"require_signature": true} (or CAPIBARA_REQUIRE_SIGNATURE=1
is set), an unsigned script runs only once accepted here (recorded in the machine-local cache, for
this project and this exact content) or signed by a trusted key (capibara sign):
  capibara show fp_1a2b --script && capibara accept fp_1a2b`)
        .action((async (prefix, opts) => {
        const json = opts.json ?? false;
        using interruption = interruptible();
        let step = "";
        try {
            const cb = await commandCapibara(opts.root);
            const result = await acceptEdit(cb, prefix, {
                signal: interruption.signal,
                progress: ((text) => step = text),
            });
            if (json) {
                printJson(result);
                return;
            }
            if (!result.accepted) {
                console.log(`✓ ${result.fingerprint} is intact: nothing to accept`);
                return;
            }
            const { needs, allow, deps } = result.asks;
            const list = ((items) => items.length > 0 ? terminalSafe(items.join(", ")) : "none");
            const asks = [
                `it asks for network: ${list(needs.network)}; environment: ${list(needs.env)}`,
                `it was granted network: ${list(allow.network)}; environment: ${list(allow.env)}; ` +
                    `read: ${list(allow.fs.read)}; write: ${list(allow.fs.write)}`,
                `requirements: ${list(deps)}`,
            ];
            if (!result.revised) {
                console.log(`✓ ${result.fingerprint} accepted on this machine (revision ${result.revision}, ` +
                    "unsigned): it runs here until it changes");
                for (const line of asks)
                    console.log(line);
                return;
            }
            console.log(`✓ ${result.fingerprint} accepted as revision ${result.revision} (edited by hand)` +
                (result.accepted_locally ? ", and on this machine" : ""));
            for (const line of asks)
                console.log(line);
            if (result.signature_removed) {
                console.log(`its signature by ${result.signature_removed} no longer holds: sign the new revision ` +
                    `with capibara sign ${result.fingerprint} --key <file>`);
            }
            console.log(result.changed.length > 0
                ? `changed: ${terminalSafe(result.changed.join(", "))}`
                : "changed: no file of the entry: what it asks is above, and git diff shows its manifest's change");
            if (result.dropped.length > 0) {
                console.log(`left out (not part of an entry): ${terminalSafe(result.dropped.join(", "))}`);
            }
            console.log("Commit .capibara/ to keep the reviewed revision");
        }
        catch (error) {
            if (interruption.received) {
                setExit(reportInterrupted(interruption.received, step, json));
                return;
            }
            setExit(reportError(error, json, undefined, { root: opts.root }));
        }
    }));
});
import { Command } from "npm:@commander-js/extra-typings@^15.1.0";
import { join } from "../_path.js";
import { assertTrusted } from "../config_trust.js";
import { checkBundle, ContractViolation } from "../contract/bundle.js";
import { ExecError, IntegrityError, TemplateError } from "../errors.js";
import { backendFor, execute, runDirPath } from "../run/execute.js";
import { makeRunDir } from "../_fs.js";
import { planRun } from "../run/plan.js";
import { runtimeFor } from "../runtimes/mod.js";
import { platformBackend } from "../sandbox/mod.js";
import { sha256Tagged } from "../_hash.js";
import { Manifest } from "../schema.js";
import { entryFileNames, MANIFEST_FILE, REQUIREMENTS_FILE } from "../store/entry.js";
import { manifestEdits, readEntryFile } from "../store/integrity.js";
import { checkSignaturePolicy } from "../store/trust.js";
import { commandCapibara, interruptible, printJson, printWarning, reportError, reportInterrupted, ROOT_HELP, terminalSafe, } from "./output.js";
import { nonEmpty } from "./_options.js";
export const EDITED_BY_HAND = "edited by hand";
;
;
;
;
;
