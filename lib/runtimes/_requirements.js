// Generated from src/runtimes/_requirements.ts by scripts/build_js.ts: do not edit; `deno task build:js` writes it.
let requirementsModule;
export function requirementsLib() {
    requirementsModule ??= import("../contract/requirements.js");
    return requirementsModule;
}
export async function normalisedPython(requirements) {
    if (requirements.length === 0)
        return [];
    return (await requirementsLib()).normaliseRequirements(requirements);
}
export async function normalisedNpm(requirements) {
    if (requirements.length === 0)
        return [];
    return (await requirementsLib()).normaliseNpmRequirements(requirements);
}
