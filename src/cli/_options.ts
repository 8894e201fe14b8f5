/**
 * What the full parser's commands share in checking an option's value. Never on a hit's path:
 * it loads the argument parser.
 *
 * @module
 */
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@^15.1.0";

/**
 * An option's value, which may not be empty: `--root ''` or `-m ''` would silently mean the
 * default, so it is a usage error (exit 2) that says so.
 */
export function nonEmpty(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("It needs a value; none was given");
  return value;
}
