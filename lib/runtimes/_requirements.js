// Generated from src/runtimes/_requirements.ts by scripts/build_js.ts (sha256 c367be259f938993d9eb8c2203535e18cbc82fa8f51bc5804d27ffbebaf2422e): do not edit; `deno task build:js` writes it.
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
