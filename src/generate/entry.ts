/**
 * The step from a generated bundle to a cached entry's manifest and files: one function, used by
 * local generation (`capibara.ts`) and by the Core's `/v1/gen` (`core/server.ts`), so both write
 * exactly the same entry for the same reply.
 *
 * @module
 */
import { TEMPLATE_VERSION } from "../contract/contract.ts";
import type { Fingerprint } from "../fingerprint.ts";
import { type ContextPaths, requestedAllow } from "../sandbox/policy.ts";
import { ENTRY_FILES, type Language, type Manifest, type Mode } from "../schema.ts";
import { type EntryFiles, entryFiles, type ManifestInput } from "../store/entry.ts";
import type { GenerateResult } from "./types.ts";

/** Input of {@linkcode generatedEntry}. */
export interface GeneratedEntryInput {
  /** The request's fingerprint. */
  fp: Fingerprint;
  /** The request as asked. */
  request: { prompt: string; context: unknown; language: Language; mode: Mode };
  /** The generator's checked result. */
  result: GenerateResult;
  /** The generator's kind (`openai`, a test double's name), recorded in the manifest. */
  generatorKind: string;
  /** The runtime the script will run with (`runtime.describe()`). */
  runtime: { name: string; version: string };
  /** The paths the context names, classified (see `contextPaths`). */
  paths: ContextPaths;
  /** The folder `paths` are relative to. */
  workdir: string;
  /** The entry this one replaces (a refresh): its creation date, revision and history carry on. */
  previous?: Manifest;
  /** The time of the generation (default: now), RFC 3339. */
  now?: string;
}

/**
 * The manifest (without `files`, `integrity` and `signature`: the store computes those) and the
 * files of a freshly generated entry. Pure: it reads nothing and writes nothing.
 */
export function generatedEntry(
  input: GeneratedEntryInput,
): { manifest: ManifestInput; files: EntryFiles } {
  const { fp, request, result, previous } = input;
  const { bundle } = result;
  const now = input.now ?? new Date().toISOString();
  const revision = (previous?.revision ?? 0) + 1;
  const manifest: ManifestInput = {
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
    // What the reviewer sees: the script's needs and the paths its context names. A parametric
    // entry serves any context of its shape: the paths of the request that missed are no part of
    // it (through a Core, they were another member's), and `show` says "inputs only".
    allow: requestedAllow(
      bundle.needs,
      request.mode === "strict" ? input.paths : { read: [], write: [] },
      input.workdir,
    ),
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
}
