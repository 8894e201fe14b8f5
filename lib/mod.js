// Generated from src/mod.ts by scripts/build_js.ts (sha256 9cbdf3236e61f933b935e495d3d0f2811ac2ac4bbab439f964483985ac960ad9): do not edit; `deno task build:js` writes it.
export { Capibara } from "./capibara.js";
export { applySelect } from "./run/result.js";
export { CapibaraError, DependencyError, ExecError, EXIT_CODES, IntegrityError, NetworkError, PermissionError, TemplateError, ValidationError, } from "./errors.js";
export { fingerprint, normalizePrompt, } from "./fingerprint.js";
export { OpenAIGenerator } from "./generate/openai.js";
export { LANGUAGES, } from "./types.js";
