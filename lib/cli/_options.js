// Generated from src/cli/_options.ts by scripts/build_js.ts (sha256 d65d008c2f26e6d731e07e968ba7f3d1f36ddcf73ba7488229b873350b11aedb): do not edit; `deno task build:js` writes it.
export var nonEmpty = (function (value) {
    if (value.trim() === "")
        throw new InvalidArgumentError(NO_VALUE);
    return value;
});
export var nonEmptyList = (function (value) {
    const values = splitList(value);
    if (values.length === 0)
        throw new InvalidArgumentError(NO_VALUE);
    return values;
});
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@^15.1.0";
import { splitList } from "./_fast_run.js";
const NO_VALUE = "It needs a value; none was given";
;
;
