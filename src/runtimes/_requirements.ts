/**
 * The requirements module (the PEP 508 grammar, npm requirements and PEP 440), loaded only for a
 * script that has requirements: a hit of a script without any never evaluates it (≈ 4 ms, most
 * of it PEP 440).
 *
 * @module
 */
type Requirements = typeof import("../contract/requirements.ts");
let requirementsModule: Promise<Requirements> | undefined;

/** The requirements module, imported on first use. */
export function requirementsLib(): Promise<Requirements> {
  requirementsModule ??= import("../contract/requirements.ts");
  return requirementsModule;
}

/** Python requirements normalised, deduplicated and sorted (`normaliseRequirements()`). */
export async function normalisedPython(requirements: readonly string[]): Promise<string[]> {
  if (requirements.length === 0) return [];
  return (await requirementsLib()).normaliseRequirements(requirements);
}

/** npm requirements normalised, deduplicated and sorted (`normaliseNpmRequirements()`). */
export async function normalisedNpm(requirements: readonly string[]): Promise<string[]> {
  if (requirements.length === 0) return [];
  return (await requirementsLib()).normaliseNpmRequirements(requirements);
}
