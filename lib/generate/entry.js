// Generated from src/generate/entry.ts by scripts/build_js.ts (sha256 c22a991bf372ad0a815a3736ea5c099bf0afe07bd873527c063aac5e22d3e0bf): do not edit; `deno task build:js` writes it.
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
        allow: requestedAllow(bundle.needs, input.paths, input.workdir),
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
