// Generated from src/runtimes/_requirements.ts by scripts/build_js.ts (sha256 a6987f6be4e69f94bbad1d0b3fd0f982a203c6d1ebc2c88d05943293fd76b44a): do not edit; `deno task build:js` writes it.
export var requirementsLib = (function () {
    requirementsModule ??= import("../contract/requirements.js");
    return requirementsModule;
});
export var normalisedPython = (async function (requirements) {
    if (requirements.length === 0)
        return [];
    return (await requirementsLib()).normaliseRequirements(requirements);
});
export var normalisedNpm = (async function (requirements) {
    if (requirements.length === 0)
        return [];
    return (await requirementsLib()).normaliseNpmRequirements(requirements);
});
let requirementsModule;
;
;
;
