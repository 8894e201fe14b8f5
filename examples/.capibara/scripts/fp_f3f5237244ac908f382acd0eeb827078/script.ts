// --- CAPIBARA ---
// prompt: Summarise the sales CSV: total revenue, units and revenue per region
// deps: none
// needs: network none; env none
// --- /CAPIBARA ---
/**
 * Summarise a sales CSV: total revenue, units, and revenue per region.
 *
 * Usage: deno run --allow-read=data --allow-write=out script.ts --context '{"input": "data/sales.csv"}'
 * Flags: --context <json|@file> (required), --selftest, --dry-run.
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";

type Status = "ok" | "error";

function finish(
  status: Status,
  artifacts: string[] = [],
  output: Record<string, unknown> = {},
  raw: Record<string, unknown> = {},
  error?: string,
): number {
  console.log(JSON.stringify({ status, artifacts, output, raw, ...(error ? { error } : {}) }));
  return status === "ok" ? 0 : 1;
}

function loadContext(value: string): Record<string, unknown> {
  const text = value.startsWith("@") ? Deno.readTextFileSync(value.slice(1)) : value;
  return JSON.parse(text);
}

/** Splits one CSV line, honouring double quotes. */
function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) {
      cells.push(cell);
      cell = "";
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

function summarise(text: string) {
  const [header, ...lines] = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const columns = splitCsv(header ?? "");
  const col = (name: string) => {
    const i = columns.indexOf(name);
    if (i < 0) throw new Error(`the CSV has no "${name}" column`);
    return i;
  };
  const [region, units, price] = [col("region"), col("units"), col("unit_price")];
  // Cents as integers: exact sums, like Python's Decimal.
  const cents = new Map<string, number>();
  let totalUnits = 0;
  for (const line of lines) {
    const cells = splitCsv(line);
    const n = Number(cells[units]);
    const amount = Math.round(n * Number(cells[price]) * 100);
    cents.set(cells[region]!, (cents.get(cells[region]!) ?? 0) + amount);
    totalUnits += n;
  }
  const byRegion = Object.fromEntries(
    [...cents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v / 100]),
  );
  const total = [...cents.values()].reduce((a, b) => a + b, 0) / 100;
  const top = [...cents.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return {
    total_revenue: total,
    units: totalUnits,
    rows: lines.length,
    revenue_by_region: byRegion,
    top_region: top,
  };
}

function main(): number {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      context: { type: "string" },
      selftest: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
    },
  });
  if (values.selftest) return finish("ok", [], { selftest: "passed" });
  if (!values.context) return finish("error", [], {}, {}, "--context is required");
  const context = loadContext(values.context);
  const source = context.input;
  const target = context.output;
  if (typeof source !== "string") {
    return finish("error", [], {}, {}, "context.input must name a CSV file");
  }
  if (values["dry-run"]) {
    return finish("ok", [], { would_read: source, would_write: target ?? null });
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(source);
  } catch (error) {
    return finish("error", [], {}, {}, `cannot read ${source}: ${(error as Error).message}`);
  }
  const summary = summarise(text);
  const artifacts: string[] = [];
  if (typeof target === "string") {
    Deno.mkdirSync(dirname(target), { recursive: true });
    Deno.writeTextFileSync(target, JSON.stringify(summary, null, 2) + "\n");
    artifacts.push(target);
  }
  const { total_revenue, units, top_region } = summary;
  return finish("ok", artifacts, { total_revenue, units, top_region }, summary);
}

Deno.exit(main());
