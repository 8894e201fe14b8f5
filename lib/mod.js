// Generated from src/mod.ts by scripts/build_js.ts (sha256 430994e7850a6bfc035a453d5e3ea71107855de3f871e10b83ef767a05a12c71): do not edit; `deno task build:js` writes it.
export { Capibara } from "./capibara.js";
export { applySelect } from "./run/result.js";
export { CapibaraError, DependencyError, ExecError, EXIT_CODES, IntegrityError, NetworkError, PermissionError, TemplateError, ValidationError, } from "./errors.js";
export { fingerprint, normalizePrompt, } from "./fingerprint.js";
export { OpenAIGenerator } from "./generate/openai.js";
export { LANGUAGES, } from "./types.js";
