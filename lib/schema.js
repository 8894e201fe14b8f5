// Generated from src/schema.ts by scripts/build_js.ts (sha256 e70f8d5ff49e5ef58dc04b1a5ef5b3195d3155623036737c804c57443b4217e3): do not edit; `deno task build:js` writes it.
import * as z from "./_shape.js";
import { FINGERPRINT_FORM, LANGUAGES, MAX_PROMPT_LENGTH, PROMPT_TEXT, PROMPT_TEXT_RULE, } from "./types.js";
export { LANGUAGES } from "./types.js";
export const ENTRY_FILES = {
    python: "script.py",
    typescript: "script.ts",
    bash: "script.sh",
};
const stringList = z.array(z.string());
const stringMap = z.record(z.string());
export const Needs = z.object({
    network: stringList.default([]),
    env: stringList.default([]),
});
export const Bundle = z.object({
    language: z.enumOf(LANGUAGES),
    script: z.string().min(1),
    requirements: stringList.default([]),
    outputs: stringMap.default({}),
    aliases: stringMap.default({}),
    needs: Needs.default({ network: [], env: [] }),
    readme: z.string().default(""),
});
export const Allow = z.object({
    network: stringList.default([]),
    env: stringList.default([]),
    fs: z.object({
        read: stringList.default([]),
        write: stringList.default([]),
    }).default({ read: [], write: [] }),
});
export const HistoryEntry = z.object({
    revision: z.number().int().positive(),
    at: z.string(),
    reason: z.string(),
});
export const IntegrityRecord = z.object({
    manifest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    fields: z.record(z.string().regex(/^[0-9a-f]{16}$/)),
}).strict();
const manifestObject = z.object({
    fingerprint: z.string().regex(FINGERPRINT_FORM),
    prompt_sha: z.string().regex(/^p_[0-9a-f]{32}$/),
    context_sha: z.string().regex(/^c_[0-9a-f]{32}$/),
    prompt: z.string().max(MAX_PROMPT_LENGTH).regex(PROMPT_TEXT, `Invalid prompt: ${PROMPT_TEXT_RULE}`),
    context: z.unknown().optional(),
    mode: z.enumOf(["strict", "parametric"]).default("strict"),
    language: z.enumOf(LANGUAGES),
    entry: z.string(),
    runtime: z.object({ name: z.string(), version: z.string() }),
    deps: stringList,
    needs: Needs,
    allow: Allow,
    template_version: z.string(),
    generator: z.object({ kind: z.string(), model: z.string().optional() }),
    created_at: z.string(),
    outputs: stringMap.default({}),
    aliases: stringMap.default({}),
    files: stringMap,
    revision: z.number().int().positive().default(1),
    history: z.array(HistoryEntry).default([]),
    integrity: IntegrityRecord.optional(),
    signature: z.object({
        alg: z.literal("Ed25519"),
        key_id: z.string().regex(/^[0-9a-f]{16}$/),
        value: z.string(),
    }).strict().optional(),
});
export const Manifest = manifestObject;
export const MANIFEST_FIELDS = Object.keys(manifestObject.shape);
export const ScriptOutput = z.object({
    status: z.enumOf(["ok", "error"]),
    artifacts: stringList.default([]),
    output: z.record(z.unknown()).default({}),
    raw: z.record(z.unknown()).default({}),
    error: z.string().optional(),
});
export const ProjectConfig = z.object({
    generator: z.object({
        base_url: z.string().optional(),
        model: z.string().optional(),
        timeout: z.number().positive().optional(),
    }).optional(),
    mode: z.enumOf(["strict", "parametric"]).optional(),
    timeout: z.number().positive().optional(),
    allow: z.object({
        network: stringList.optional(),
        private_network: stringList.optional(),
        env: stringList.optional(),
        read: stringList.optional(),
        write: stringList.optional(),
    }).optional(),
    install: z.object({ source_builds: z.boolean().optional() }).strict().optional(),
    max_output_mib: z.number().positive().optional(),
    trust: z.object({
        keys: z.record(z.string().regex(/^[0-9a-f]{16}$/, "a key id is 16 hex digits"), z.string())
            .optional(),
        require_signature: z.boolean().optional(),
    }).strict().optional(),
    core: z.object({ url: z.string().optional() }).strict().optional(),
}).strict();
