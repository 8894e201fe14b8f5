/**
 * The error taxonomy: every failure of a run is exactly one of these.
 *
 * @module
 */

/** The kinds of failure, as printed by the CLI (`error[Type]`) and carried in `--json`. */
export type ErrorType =
  | "ValidationError"
  | "DependencyError"
  | "NetworkError"
  | "ExecError"
  | "TemplateError"
  | "PermissionError"
  | "IntegrityError";

/** CLI exit code of each error type. */
export const EXIT_CODES: Readonly<Record<ErrorType, number>> = {
  ValidationError: 2,
  DependencyError: 3,
  NetworkError: 4,
  ExecError: 5,
  TemplateError: 6,
  PermissionError: 7,
  IntegrityError: 8,
};

/** Options shared by every Capibara error. */
export interface CapibaraErrorOptions extends ErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** Extra machine-readable detail (stderr tail, fingerprint, …). */
  details?: Record<string, unknown>;
}

/** The JSON shape of an error, as printed by `--json`. */
export interface ErrorJson {
  /** The kind of failure: tells a caller which error class was thrown. */
  type: ErrorType;
  /** What went wrong, e.g. `Cannot read manifest "fp_ab12…": file does not exist`. */
  message: string;
  /** What the user can do about it (empty when there is nothing to suggest). */
  hint: string;
  /** The CLI's exit code for this type (see {@linkcode EXIT_CODES}). */
  exit_code: number;
  /** Extra machine-readable detail, when the error carries any (stderr tail, fingerprint, …). */
  details?: Record<string, unknown>;
}

/** Base class of the taxonomy. Catch this to catch every Capibara failure. */
export abstract class CapibaraError extends Error {
  /** The taxonomy name of this error. */
  abstract readonly type: ErrorType;
  /** What the user can do about it. */
  readonly hint: string;
  /** Extra machine-readable detail. */
  readonly details?: Record<string, unknown>;

  /**
   * An error of this type; `options.cause` keeps the underlying error for whoever debugs it.
   *
   * @param message what went wrong, e.g. `Cannot read manifest "fp_ab12…": file does not exist`
   * @param options the hint, details and cause
   */
  constructor(message: string, options: CapibaraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint ?? "";
    this.details = options.details;
  }

  /** The CLI exit code of this error. */
  get exitCode(): number {
    return EXIT_CODES[this.type];
  }

  /** The error as the CLI prints it with `--json`. */
  toJSON(): ErrorJson {
    return {
      type: this.type,
      message: this.message,
      hint: this.hint,
      exit_code: this.exitCode,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Bad prompt, context or options; a path outside the workdir; an unknown fingerprint. */
export class ValidationError extends CapibaraError {
  /** Always `"ValidationError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "ValidationError" as const;
  /** Always `"ValidationError"`, as stack traces and `console.error` print it. */
  override readonly name = "ValidationError";
}

/** The environment for the requirements could not be built. */
export class DependencyError extends CapibaraError {
  /** Always `"DependencyError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "DependencyError" as const;
  /** Always `"DependencyError"`, as stack traces and `console.error` print it. */
  override readonly name = "DependencyError";
}

/** The generator, Core or package index was unreachable, timed out or refused. */
export class NetworkError extends CapibaraError {
  /** Always `"NetworkError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "NetworkError" as const;
  /** Always `"NetworkError"`, as stack traces and `console.error` print it. */
  override readonly name = "NetworkError";
}

/** The script failed, timed out or broke the output contract. */
export class ExecError extends CapibaraError {
  /** Always `"ExecError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "ExecError" as const;
  /** Always `"ExecError"`, as stack traces and `console.error` print it. */
  override readonly name = "ExecError";
}

/** The model's reply broke the generation contract after the allowed retries. */
export class TemplateError extends CapibaraError {
  /** Always `"TemplateError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "TemplateError" as const;
  /** Always `"TemplateError"`, as stack traces and `console.error` print it. */
  override readonly name = "TemplateError";
}

/** A need was not granted, or the sandbox is unavailable. */
export class PermissionError extends CapibaraError {
  /** Always `"PermissionError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "PermissionError" as const;
  /** Always `"PermissionError"`, as stack traces and `console.error` print it. */
  override readonly name = "PermissionError";
}

/** A cached file no longer matches its manifest hash or signature. */
export class IntegrityError extends CapibaraError {
  /** Always `"IntegrityError"`, also after serialisation (see {@linkcode ErrorJson}). */
  readonly type = "IntegrityError" as const;
  /** Always `"IntegrityError"`, as stack traces and `console.error` print it. */
  override readonly name = "IntegrityError";
}

/** The last `max` characters of `text`, prefixed with an ellipsis when cut. */
export function tail(text: string, max = 2000): string {
  const trimmed = text.trimEnd();
  return trimmed.length <= max ? trimmed : "…" + trimmed.slice(trimmed.length - max);
}

/** Who reads a hint: a CLI user (flags), or an SDK caller (options). */
export type HintAudience = "cli" | "sdk";

/** The `allow` option's key of each grant flag. */
const GRANT_KEYS: Readonly<Record<string, string>> = {
  net: "network",
  "private-net": "privateNetwork",
  env: "env",
  read: "read",
  write: "write",
};

/**
 * A run of grant flags with their values, e.g. `--allow-net a.com --allow-env TOKEN`. A value is
 * a word that does not start another flag nor stand alone as a separator (`--allow-read /
 * --allow-write` names two flags, not a grant of `/`).
 */
const GRANT_RUN =
  /--allow-(?:private-net|net|env|read|write)[ =](?![-/|](?:\s|$))[^\s,;)]+(?:\s+--allow-(?:private-net|net|env|read|write)[ =](?![-/|](?:\s|$))[^\s,;)]+)*/g;

/** The other flags hints name, in SDK terms (most specific first). */
const SDK_TERMS: readonly [RegExp, string][] = [
  [/capibara run --refresh --force/g, "run(prompt, { refresh: true, force: true })"],
  [/capibara run --refresh/g, "run(prompt, { refresh: true })"],
  [/--refresh --force/g, "{ refresh: true, force: true }"],
  [/--refresh/g, "{ refresh: true }"],
  [/--no-sandbox/g, "sandbox: false"],
  [/--timeout <seconds>/g, "the timeout option (seconds)"],
  [/--memory <MiB>/g, "the memoryBytes option"],
  [/--max-output <MiB>/g, "the maxOutputDiskBytes option"],
  [/capibara run ("[^"]*")/g, "run($1)"],
  [/ \(run --base-url for once\)/g, " (or pass a generator to new Capibara())"],
  [/, generator\.model or --model picks/g, " or generator.model picks"],
  [/(in|name another in) --context/g, "$1 the context option"],
];

/**
 * A hint written for the CLI (it names flags: `--allow-net api.x`, `--no-sandbox`, `--refresh`…)
 * in the terms of an SDK caller (`allow: { network: ["api.x"] }`, `sandbox: false`,
 * `{ refresh: true }`…). Text without such flags is returned as it is.
 */
export function sdkHint(hint: string): string {
  let out = hint.replace(GRANT_RUN, (run) => {
    const allow = new Map<string, string[]>();
    for (const [, flag = "", value = ""] of run.matchAll(/--allow-([a-z-]+)[ =](\S+)/g)) {
      const key = GRANT_KEYS[flag] ?? flag;
      const values = allow.get(key);
      if (values) values.push(value);
      else allow.set(key, [value]);
    }
    const fields = [...allow].map(([key, values]) =>
      `${key}: [${values.map((v) => JSON.stringify(v)).join(", ")}]`
    );
    return `allow: { ${fields.join(", ")} } to run()`;
  });
  for (const [pattern, replacement] of SDK_TERMS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * What a failure of the machine rather than of Capibara (a full disk, a read-only file system,
 * too many open files) is as a typed error: `undefined` for any other error, which stays what it
 * is. Deno names the system's error by its `code` (`ENOSPC`…).
 */
export function systemError(error: unknown): CapibaraError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !(error instanceof Error)) return undefined;
  const options = (hint: string) => ({ hint, cause: error, details: { code } });
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new ExecError(
        `No space left: ${error.message}`,
        options(
          "Free some space (the project's folder, the cache folder, the temp folder) and run " +
            "again: nothing was stored half-written",
        ),
      );
    case "EROFS":
      return new PermissionError(
        `A file system is read-only: ${error.message}`,
        options("Run where the project, the cache folder and the temp folder can be written"),
      );
    case "EMFILE":
    case "ENFILE":
      return new ExecError(
        `Too many open files: ${error.message}`,
        options("Raise the limit of open files (ulimit -n), or run fewer commands at once"),
      );
    default:
      return undefined;
  }
}

/**
 * The error with its hint for `audience`: unchanged for the CLI, in SDK terms (see
 * {@linkcode sdkHint}) for an SDK caller. The same object is returned (class, stack, cause).
 */
export function forAudience<E>(error: E, audience: HintAudience): E {
  if (audience === "sdk" && error instanceof CapibaraError && error.hint !== "") {
    (error as { hint: string }).hint = sdkHint(error.hint);
  }
  return error;
}
