// Generated from src/cli/_options.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
export var nonEmpty = (function (value) {
    if (value.trim() === "")
        throw new InvalidArgumentError("It needs a value; none was given");
    return value;
});
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@^15.1.0";
;
