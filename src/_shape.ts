/**
 * A small checker of JSON shapes with the part of zod's interface Capibara uses: `object` (extra
 * keys dropped, or refused with `strict()`), `string` (`regex`, `min`, `max`), `number` (`int`,
 * `positive`), `boolean`, `literal`, `enum`, `array`, `tuple`, `record` of string keys,
 * `unknown`, `optional()` and `default()`; `parse()` throws, `safeParse()` returns
 * `{ success, data }` or `{ success: false, error: { issues } }` with each issue's `path` and
 * `message`, as zod does. It loads in well under a millisecond, where zod costs ~30 ms per process,
 * which a cache hit (manifest, script output, markers) must not pay.
 *
 * Its verdicts and outputs are zod 4's for the same definitions: tests/_shape_test.ts builds the
 * zod schema of every shape of schema.ts from the same definition and compares them on valid and
 * mutated inputs.
 *
 * @module
 */

/** One reason an input does not have the shape: where (keys and indices) and what. */
export interface ShapeIssue {
  /** Keys and array indices from the root to the offending value. */
  path: (string | number)[];
  /** What is wrong, in zod's words. */
  message: string;
}

/** The outcome of {@linkcode Shape.safeParse}. */
export type ShapeResult<T> =
  | { success: true; data: T; error?: undefined }
  | { success: false; data?: undefined; error: ShapeError };

/** Thrown by {@linkcode Shape.parse}: every issue found. */
export class ShapeError extends Error {
  /** Every issue, in the order found. */
  readonly issues: ShapeIssue[];

  /** An error listing `issues`. */
  constructor(issues: ShapeIssue[]) {
    super(issuesText(issues));
    this.name = "ShapeError";
    this.issues = issues;
  }
}

/**
 * The issues of a failed check (zod's or a shape's), as one line for a person: each one's path
 * (`root` for the value itself) and message, where zod's words would confuse: a number that is
 * not finite (JSON's `1e400`) is "expected number, received number" in zod's.
 *
 * @example
 * ```ts
 * issuesText([{ path: ["generator", "timeout"], message: "Invalid input: expected number, received number" }]);
 * // "generator.timeout: expected a finite number"
 * ```
 */
export function issuesText(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  root = "(root)",
): string {
  return issues.map((issue) => {
    const path = issue.path.length === 0 ? root : issue.path.map(String).join(".");
    const message = /expected number, received number$/.test(issue.message)
      ? "expected a finite number"
      : issue.message;
    return `${path}: ${message}`;
  }).join("; ");
}

/** Marks a failed check (the issues are collected on the side). */
const FAIL: unique symbol = Symbol("fail");
type Out<T> = T | typeof FAIL;
type Path = (string | number)[];

/** What zod calls the type of a value in its messages. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A fresh copy of a default value (JSON data), so no caller shares (and mutates) another's. */
function fresh<T>(value: T): T {
  return typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) : value;
}

/** Sets an own property, whatever its name (`__proto__` included). */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A shape: checks a value and returns its parsed form (defaults filled in, extra keys dropped). */
export abstract class Shape<T> {
  /** The parsed type (types only). */
  declare readonly _output: T;

  /** @internal Checks `value` at `path`, adding to `issues`; FAIL when any was added. */
  abstract run(value: unknown, path: Path, issues: ShapeIssue[]): Out<T>;

  /** The parsed value, or a {@linkcode ShapeError} listing every issue. */
  parse(value: unknown): T {
    const result = this.safeParse(value);
    if (!result.success) throw result.error;
    return result.data;
  }

  /** The parsed value, or every issue; never throws. */
  safeParse(value: unknown): ShapeResult<T> {
    const issues: ShapeIssue[] = [];
    const out = this.run(value, [], issues);
    if (out === FAIL || issues.length > 0) {
      return { success: false, error: new ShapeError(issues) };
    }
    return { success: true, data: out };
  }

  /** The same shape, or absent (`undefined`). */
  optional(): OptionalShape<T> {
    return new OptionalShape(this);
  }

  /** The same shape; absent (`undefined`) reads as a copy of `value`. */
  default(value: NoInfer<T>): DefaultShape<T> {
    return new DefaultShape(this, value);
  }
}

/** The parsed type of a shape. */
export type Infer<S extends Shape<unknown>> = S["_output"];

/** See {@linkcode Shape.optional}. */
export class OptionalShape<T> extends Shape<T | undefined> {
  /** Marks a field that may be absent from a parsed object. */
  readonly isOptional = true as const;
  /** The shape when present. */
  readonly inner: Shape<T>;
  /** @internal */
  constructor(inner: Shape<T>) {
    super();
    this.inner = inner;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<T | undefined> {
    return value === undefined ? undefined : this.inner.run(value, path, issues);
  }
}

/** See {@linkcode Shape.default}. */
export class DefaultShape<T> extends Shape<T> {
  /** The shape when present. */
  readonly inner: Shape<T>;
  /** What an absent value reads as. */
  readonly value: T;
  /** @internal */
  constructor(inner: Shape<T>, value: T) {
    super();
    this.inner = inner;
    this.value = value;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<T> {
    return value === undefined ? fresh(this.value) : this.inner.run(value, path, issues);
  }
}

/** A pattern a string must match, and the message when it does not. */
export interface PatternCheck {
  /** The pattern. */
  pattern: RegExp;
  /** The issue's message (default: zod's). */
  message?: string;
}

/** A string: see {@linkcode string}. */
export class StringShape extends Shape<string> {
  /** The patterns it must match, and the least and greatest length. */
  readonly checks: { patterns: PatternCheck[]; min?: number; max?: number };
  /** @internal */
  constructor(
    checks: { patterns: PatternCheck[]; min?: number; max?: number } = { patterns: [] },
  ) {
    super();
    this.checks = checks;
  }
  /** The same, matching `pattern` too (`message` says why when it does not). */
  regex(pattern: RegExp, message?: string): StringShape {
    return new StringShape({
      ...this.checks,
      patterns: [...this.checks.patterns, { pattern, message }],
    });
  }
  /** The same, at least `length` characters long. */
  min(length: number): StringShape {
    return new StringShape({ ...this.checks, min: length });
  }
  /** The same, at most `length` characters long. */
  max(length: number): StringShape {
    return new StringShape({ ...this.checks, max: length });
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<string> {
    if (typeof value !== "string") {
      issues.push({ path, message: `Invalid input: expected string, received ${typeName(value)}` });
      return FAIL;
    }
    let ok = true;
    if (this.checks.min !== undefined && value.length < this.checks.min) {
      issues.push({
        path,
        message: `Too small: expected string to have >=${this.checks.min} characters`,
      });
      ok = false;
    }
    if (this.checks.max !== undefined && value.length > this.checks.max) {
      issues.push({
        path,
        message: `Too big: expected string to have <=${this.checks.max} characters`,
      });
      ok = false;
    }
    for (const { pattern, message } of this.checks.patterns) {
      pattern.lastIndex = 0;
      if (!pattern.test(value)) {
        issues.push({ path, message: message ?? `Invalid string: must match pattern ${pattern}` });
        ok = false;
      }
    }
    return ok ? value : FAIL;
  }
}

/** A finite number: see {@linkcode number}. */
export class NumberShape extends Shape<number> {
  /** Whether it must be a (safe) integer, and greater than 0. */
  readonly checks: { int?: boolean; positive?: boolean };
  /** @internal */
  constructor(checks: { int?: boolean; positive?: boolean } = {}) {
    super();
    this.checks = checks;
  }
  /** The same, a safe integer. */
  int(): NumberShape {
    return new NumberShape({ ...this.checks, int: true });
  }
  /** The same, greater than 0. */
  positive(): NumberShape {
    return new NumberShape({ ...this.checks, positive: true });
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<number> {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      issues.push({ path, message: `Invalid input: expected number, received ${typeName(value)}` });
      return FAIL;
    }
    if (this.checks.int && !Number.isSafeInteger(value)) {
      issues.push({ path, message: "Invalid input: expected int, received number" });
      return FAIL;
    }
    if (this.checks.positive && !(value > 0)) {
      issues.push({ path, message: "Too small: expected number to be >0" });
      return FAIL;
    }
    return value;
  }
}

/** `true` or `false`: see {@linkcode boolean}. */
export class BooleanShape extends Shape<boolean> {
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<boolean> {
    if (typeof value === "boolean") return value;
    issues.push({ path, message: `Invalid input: expected boolean, received ${typeName(value)}` });
    return FAIL;
  }
}

/** Anything, passed through as it is: see {@linkcode unknown}. */
export class UnknownShape extends Shape<unknown> {
  /** @internal */
  run(value: unknown): Out<unknown> {
    return value;
  }
}

/** One of a few strings or numbers: see {@linkcode enumOf} and {@linkcode literal}. */
export class ChoiceShape<T extends string | number> extends Shape<T> {
  /** The values admitted. */
  readonly values: readonly T[];
  /** Whether it was declared as a literal (for messages). */
  readonly literal: boolean;
  /** @internal */
  constructor(values: readonly T[], literal: boolean) {
    super();
    this.values = values;
    this.literal = literal;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<T> {
    if (this.values.includes(value as T)) return value as T;
    const shown = this.values.map((v) => JSON.stringify(v));
    issues.push({
      path,
      message: this.literal
        ? `Invalid input: expected ${shown.join(" | ")}`
        : `Invalid option: expected one of ${shown.join("|")}`,
    });
    return FAIL;
  }
}

/** A list of one shape: see {@linkcode array}. */
export class ArrayShape<T> extends Shape<T[]> {
  /** The shape of each item. */
  readonly item: Shape<T>;
  /** @internal */
  constructor(item: Shape<T>) {
    super();
    this.item = item;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<T[]> {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `Invalid input: expected array, received ${typeName(value)}` });
      return FAIL;
    }
    const out: T[] = [];
    let ok = true;
    for (let i = 0; i < value.length; i++) {
      const item = this.item.run(value[i], [...path, i], issues);
      if (item === FAIL) ok = false;
      else out.push(item);
    }
    return ok ? out : FAIL;
  }
}

type TupleOut<S extends readonly Shape<unknown>[]> = { [K in keyof S]: Infer<S[K]> };

/** A list of a fixed length, a shape per place: see {@linkcode tuple}. */
export class TupleShape<S extends readonly Shape<unknown>[]> extends Shape<TupleOut<S>> {
  /** The shape of each place. */
  readonly items: S;
  /** @internal */
  constructor(items: S) {
    super();
    this.items = items;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<TupleOut<S>> {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `Invalid input: expected tuple, received ${typeName(value)}` });
      return FAIL;
    }
    if (value.length !== this.items.length) {
      const more = value.length > this.items.length;
      issues.push({
        path,
        message: `Too ${more ? "big" : "small"}: expected array to have ${
          more ? "<=" : ">="
        }${this.items.length} items`,
      });
      return FAIL;
    }
    const out: unknown[] = [];
    let ok = true;
    for (const [i, shape] of this.items.entries()) {
      const item = shape.run(value[i], [...path, i], issues);
      if (item === FAIL) ok = false;
      else out.push(item);
    }
    return ok ? out as TupleOut<S> : FAIL;
  }
}

/** An object of string keys, one shape for every value: see {@linkcode record}. */
export class RecordShape<T> extends Shape<Record<string, T>> {
  /** The shape of each key (any string when absent). */
  readonly key?: Shape<string>;
  /** The shape of each value. */
  readonly value: Shape<T>;
  /** @internal */
  constructor(value: Shape<T>, key?: Shape<string>) {
    super();
    this.value = value;
    this.key = key;
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<Record<string, T>> {
    if (!isPlainObject(value)) {
      issues.push({ path, message: `Invalid input: expected record, received ${typeName(value)}` });
      return FAIL;
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const key of Object.keys(value)) {
      if (this.key) {
        const keyIssues: ShapeIssue[] = [];
        if (this.key.run(key, [...path, key], keyIssues) === FAIL) {
          issues.push({
            path: [...path, key],
            message: `Invalid key in record: ${keyIssues.map((i) => i.message).join("; ")}`,
          });
          ok = false;
          continue;
        }
      }
      const item = this.value.run(value[key], [...path, key], issues);
      if (item === FAIL) ok = false;
      else define(out, key, item);
    }
    return ok ? out : FAIL;
  }
}

/** The fields of an object shape. */
export type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { isOptional: true } ? K : never;
}[keyof F];
type Flat<T> = { [K in keyof T]: T[K] } & unknown;
/** The parsed type of an object of `F`: optional fields may be absent. */
export type ObjectOut<F extends Fields> = Flat<
  & { [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> }
  & { [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/** An object of named fields: see {@linkcode object}. */
export class ObjectShape<F extends Fields> extends Shape<ObjectOut<F>> {
  /** Its fields, in order: the parsed object has its keys in this order. */
  readonly shape: F;
  /** Whether a key that is not a field is refused (else it is dropped). */
  readonly isStrict: boolean;
  /** @internal */
  constructor(shape: F, strict = false) {
    super();
    this.shape = shape;
    this.isStrict = strict;
  }
  /** The same fields; any other key is refused. */
  strict(): ObjectShape<F> {
    return new ObjectShape(this.shape, true);
  }
  /** @internal */
  run(value: unknown, path: Path, issues: ShapeIssue[]): Out<ObjectOut<F>> {
    if (!isPlainObject(value)) {
      issues.push({ path, message: `Invalid input: expected object, received ${typeName(value)}` });
      return FAIL;
    }
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const [key, shape] of Object.entries(this.shape)) {
      const present = Object.hasOwn(value, key);
      const item = shape.run(present ? value[key] : undefined, [...path, key], issues);
      if (item === FAIL) ok = false;
      else if (item !== undefined || present) define(out, key, item);
    }
    if (this.isStrict) {
      const extra = Object.keys(value).filter((key) => !Object.hasOwn(this.shape, key));
      if (extra.length > 0) {
        issues.push({
          path,
          message: `Unrecognized key${extra.length > 1 ? "s" : ""}: ${
            extra.map((k) => JSON.stringify(k)).join(", ")
          }`,
        });
        ok = false;
      }
    }
    return ok ? out as ObjectOut<F> : FAIL;
  }
}

/** A string; `.regex(pattern)` and `.min(length)` narrow it. */
export function string(): StringShape {
  return new StringShape();
}

/** A finite number; `.int()` and `.positive()` narrow it. */
export function number(): NumberShape {
  return new NumberShape();
}

/** `true` or `false`. */
export function boolean(): BooleanShape {
  return new BooleanShape();
}

/** Any value, kept as it is. */
export function unknown(): UnknownShape {
  return new UnknownShape();
}

/** Exactly `value`. */
export function literal<const T extends string | number>(value: T): ChoiceShape<T> {
  return new ChoiceShape([value], true);
}

/** One of `values`. */
export function enumOf<const T extends string>(values: readonly T[]): ChoiceShape<T> {
  return new ChoiceShape(values, false);
}

/** A list whose every item is `item`. */
export function array<T>(item: Shape<T>): ArrayShape<T> {
  return new ArrayShape(item);
}

/** A list of exactly `items.length` items, each of its own shape. */
export function tuple<const S extends readonly Shape<unknown>[]>(items: S): TupleShape<S> {
  return new TupleShape(items);
}

/**
 * An object of string keys whose every value is `value`: `record(value)`, or
 * `record(key, value)` when each key must have the shape `key` too.
 */
export function record<T>(value: Shape<T>): RecordShape<T>;
export function record<T>(key: Shape<string>, value: Shape<T>): RecordShape<T>;
export function record<T>(first: Shape<unknown>, second?: Shape<T>): RecordShape<T> {
  return second === undefined
    ? new RecordShape(first as Shape<T>)
    : new RecordShape(second, first as Shape<string>);
}

/** An object with `fields` (other keys dropped; `.strict()` refuses them). */
export function object<F extends Fields>(fields: F): ObjectShape<F> {
  return new ObjectShape(fields);
}
