// Generated from src/cli/_options.ts by scripts/build_js.ts (sha256 a55410330c5b3a9154f223f02d9d6d4f9a8988bff521b710f9db86c943309d2b): do not edit; `deno task build:js` writes it.
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
