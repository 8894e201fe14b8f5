/**
 * What the full parser's commands share in checking an option's value. Never on a hit's path:
 * it loads the argument parser.
 *
 * @module
 */
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@^15.1.0";
import { splitList } from "./_fast_run.ts";

const NO_VALUE = "It needs a value; none was given";

/**
 * An option's value, which may not be empty: `--root ''` or `-m ''` would silently mean the
 * default, so it is a usage error (exit 2) that says so.
 */
export function nonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError(NO_VALUE);
  return value;
}

/** A comma-separated option's values, of which there must be one (`--allow-env ,` has none). */
export function nonEmptyList(value: string): string[] {
  const values = splitList(value);
  if (values.length === 0) throw new InvalidArgumentError(NO_VALUE);
  return values;
}
