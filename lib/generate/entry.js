// Generated from src/generate/entry.ts by scripts/build_js.ts (sha256 121ab950fe59657054079f699c0e6ca9a7af082aed8f17df3a3008835a8751a1): do not edit; `deno task build:js` writes it.
export var generatedEntry = (function (input) {
    const { fp, request, result, previous } = input;
    const { bundle } = result;
    const now = input.now ?? new Date().toISOString();
    const revision = (previous?.revision ?? 0) + 1;
    const manifest = {
        fingerprint: fp.fingerprint,
        prompt_sha: fp.prompt_sha,
        context_sha: fp.context_sha,
        prompt: request.prompt,
        ...(request.mode === "strict" ? { context: request.context } : {}),
        mode: request.mode,
        language: request.language,
        entry: ENTRY_FILES[request.language],
        runtime: input.runtime,
        deps: bundle.requirements,
        needs: bundle.needs,
        allow: requestedAllow(bundle.needs, request.mode === "strict" ? input.paths : { read: [], write: [] }, input.workdir),
        template_version: TEMPLATE_VERSION,
        generator: { kind: input.generatorKind, model: result.model },
        created_at: previous?.created_at ?? now,
        outputs: bundle.outputs,
        aliases: bundle.aliases,
        revision,
        history: [
            ...(previous?.history ?? []),
            { revision, at: now, reason: previous ? "refresh requested" : "generated" },
        ],
    };
    return {
        manifest,
        files: entryFiles(manifest, { script: bundle.script, readme: bundle.readme }),
    };
});
import { TEMPLATE_VERSION } from "../contract/contract.js";
import { requestedAllow } from "../sandbox/policy.js";
import { ENTRY_FILES } from "../schema.js";
import { entryFiles } from "../store/entry.js";
;
