/**
 * `_shape.ts` against zod: every schema of schema.ts is turned into the zod schema of the same
 * definition, and both must agree on valid inputs and on their mutations (each field removed, of
 * another type, or beside an extra key): same verdict, same parsed value (key order included),
 * and issues at the same paths.
 */
import assert from "node:assert/strict";
import { z } from "npm:zod@^4.6.7";
import {
  ArrayShape,
  BooleanShape,
  ChoiceShape,
  DefaultShape,
  NumberShape,
  ObjectShape,
  OptionalShape,
  RecordShape,
  type Shape,
  ShapeError,
  StringShape,
  tuple,
  TupleShape,
  UnknownShape,
} from "../src/_shape.ts";
import * as schemas from "../src/schema.ts";

/** The zod schema of the same definition. */
function toZod(shape: Shape<unknown>): z.ZodType {
  if (shape instanceof StringShape) {
    let out = z.string();
    if (shape.checks.min !== undefined) out = out.min(shape.checks.min);
    if (shape.checks.max !== undefined) out = out.max(shape.checks.max);
    for (const { pattern, message } of shape.checks.patterns) out = out.regex(pattern, message);
    return out;
  }
  if (shape instanceof NumberShape) {
    let out = z.number();
    if (shape.checks.int) out = out.int();
    if (shape.checks.positive) out = out.positive();
    return out;
  }
  if (shape instanceof BooleanShape) return z.boolean();
  if (shape instanceof UnknownShape) return z.unknown();
  if (shape instanceof ChoiceShape) {
    return shape.literal
      ? z.literal(shape.values[0] as string)
      : z.enum(shape.values as [string, ...string[]]);
  }
  if (shape instanceof ArrayShape) return z.array(toZod(shape.item));
  if (shape instanceof TupleShape) {
    return z.tuple(shape.items.map(toZod) as unknown as [z.ZodType, ...z.ZodType[]]);
  }
  if (shape instanceof RecordShape) {
    return z.record(
      (shape.key ? toZod(shape.key) : z.string()) as z.ZodString,
      toZod(shape.value),
    );
  }
  if (shape instanceof ObjectShape) {
    const fields = Object.fromEntries(
      Object.entries(shape.shape as Record<string, Shape<unknown>>).map(([k, v]) => [k, toZod(v)]),
    );
    return shape.isStrict ? z.object(fields).strict() : z.object(fields);
  }
  if (shape instanceof OptionalShape) return toZod(shape.inner).optional();
  if (shape instanceof DefaultShape) return toZod(shape.inner).default(shape.value as never);
  throw new Error(`no zod schema for ${shape.constructor.name}`);
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  "",
  "x",
  "fp_0123",
  true,
  [],
  ["x"],
  [1],
  {},
  { a: "b" },
  { a: 1 },
];

/** `value` and its mutations: each field (to depth 3) removed, replaced, or given a sibling. */
function mutations(value: unknown, depth = 3): unknown[] {
  const out: unknown[] = [value, ...ODD_VALUES];
  if (depth === 0) return out;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      for (const m of mutations(item, depth - 1)) out.push(value.map((v, j) => (i === j ? m : v)));
    });
    out.push([...value, "extra"]);
  } else if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    out.push({ ...record, zz_extra: 1 });
    for (const key of Object.keys(record)) {
      const { [key]: _, ...without } = record;
      out.push(without);
      for (const m of mutations(record[key], depth - 1)) out.push({ ...record, [key]: m });
    }
  }
  return out;
}

function issuePaths(issues: { path: PropertyKey[] }[]): string[] {
  return [...new Set(issues.map((i) => JSON.stringify(i.path)))].sort();
}

function assertAgree(name: string, shape: Shape<unknown>, samples: unknown[]): number {
  const zod = toZod(shape);
  let count = 0;
  for (const sample of samples) {
    for (const input of mutations(sample)) {
      count++;
      const ours = shape.safeParse(structuredClone(input));
      const theirs = zod.safeParse(structuredClone(input));
      const shown = `${name} of ${JSON.stringify(input)}`;
      assert.equal(ours.success, theirs.success, `verdict on ${shown}`);
      if (ours.success && theirs.success) {
        assert.deepEqual(ours.data, theirs.data, `parsed ${shown}`);
        assert.equal(JSON.stringify(ours.data), JSON.stringify(theirs.data), `key order ${shown}`);
      } else if (!ours.success && !theirs.success) {
        assert.deepEqual(issuePaths(ours.error.issues), issuePaths(theirs.error.issues), shown);
      }
    }
  }
  return count;
}

async function storedManifests(): Promise<unknown[]> {
  const scripts = new URL("../examples/.capibara/scripts/", import.meta.url);
  const manifests: unknown[] = [];
  for await (const entry of Deno.readDir(scripts)) {
    manifests.push(
      JSON.parse(await Deno.readTextFile(new URL(`${entry.name}/manifest.json`, scripts))),
    );
  }
  assert.ok(manifests.length > 0, "the examples hold stored manifests");
  return manifests;
}

Deno.test("Manifest.safeParse() agrees with zod on stored manifests and their mutations", async () => {
  const manifests = await storedManifests();
  const signed = {
    ...(manifests[0] as object),
    signature: { alg: "Ed25519", key_id: "0123456789abcdef", value: "c2ln" },
    history: [{ revision: 1, at: "2026-01-01T00:00:00Z", reason: "generated" }],
  };
  const count = assertAgree("Manifest", schemas.Manifest, [...manifests, signed]);
  assert.ok(count > 1000, `only ${count} inputs`);
});

Deno.test("the other schemas' safeParse() agree with zod on samples and their mutations", () => {
  const cases: [string, Shape<unknown>, unknown[]][] = [
    ["Bundle", schemas.Bundle, [
      {
        language: "python",
        script: "print(1)",
        requirements: ["a==1.0"],
        outputs: { total: "float" },
        aliases: { suma: "total" },
        needs: { network: ["api.example.com"], env: ["TOKEN"] },
        readme: "# x",
      },
      { language: "bash", script: "echo" },
    ]],
    ["ScriptOutput", schemas.ScriptOutput, [
      { status: "ok", artifacts: ["out/a.json"], output: { n: 1 }, raw: { n: 1, m: [2] } },
      { status: "error", error: "no input" },
    ]],
    ["ProjectConfig", schemas.ProjectConfig, [
      {
        generator: { base_url: "http://localhost:11434/v1", model: "m", timeout: 30 },
        mode: "parametric",
        timeout: 60,
        allow: { network: ["a.example"], private_network: [], env: ["X"], read: [], write: [] },
        install: { source_builds: true },
        max_output_mib: 512,
        trust: {
          keys: { "0123456789abcdef": "-----BEGIN PUBLIC KEY-----" },
          require_signature: true,
        },
        core: { url: "http://core.example:8080" },
      },
      { trust: { keys: { "not-a-key-id": "x", "0123456789abcdef": "y" } } },
      {},
    ]],
    ["IntegrityRecord", schemas.IntegrityRecord, [
      { manifest: "sha256:" + "0".repeat(64), fields: { prompt: "0123456789abcdef" } },
    ]],
    ["HistoryEntry", schemas.HistoryEntry, [{ revision: 2, at: "now", reason: "refresh" }]],
    ["Allow", schemas.Allow, [{ network: [], env: [], fs: { read: ["a"], write: [] } }, {}]],
    ["a tuple", tuple([new NumberShape(), new StringShape()]), [[3, "x"]]],
  ];
  for (const [name, shape, samples] of cases) assertAgree(name, shape, samples);
});

Deno.test("Shape.parse() throws a ShapeError naming each issue's path", () => {
  assert.throws(
    () => schemas.HistoryEntry.parse({ revision: 0, at: 1, reason: "x" }),
    (error: unknown) =>
      error instanceof ShapeError &&
      issuePaths(error.issues).join() === '["at"],["revision"]' &&
      /revision/.test(error.message),
  );
});

Deno.test("Shape defaults are fresh copies: a parsed value never shares another's", () => {
  const a = schemas.ScriptOutput.parse({ status: "ok" });
  a.artifacts.push("x");
  assert.deepEqual(schemas.ScriptOutput.parse({ status: "ok" }).artifacts, []);
});
