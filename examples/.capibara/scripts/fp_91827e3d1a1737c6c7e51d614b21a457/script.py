# --- CAPIBARA ---
# prompt: Summarise the sales CSV: total revenue, units and revenue per region
# deps: none
# needs: network none; env none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
"""Summarise a sales CSV: total revenue, units, and revenue per region."""
import argparse
import csv
import json
import os
import sys
from collections import defaultdict
from decimal import Decimal


def load_context(value):
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(value)


def summarise(path):
    revenue = defaultdict(Decimal)
    units = 0
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            amount = Decimal(row["units"]) * Decimal(row["unit_price"])
            revenue[row["region"]] += amount
            units += int(row["units"])
            rows += 1
    total = sum(revenue.values(), Decimal(0))
    return {
        "total_revenue": float(total),
        "units": units,
        "rows": rows,
        "revenue_by_region": {k: float(v) for k, v in sorted(revenue.items())},
        "top_region": max(revenue, key=revenue.get) if revenue else None,
    }


def finish(status, artifacts=(), output=None, raw=None, error=None):
    line = {"status": status, "artifacts": list(artifacts), "output": output or {}, "raw": raw or {}}
    if error:
        line["error"] = error
    print(json.dumps(line))
    return 0 if status == "ok" else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--context", required=True, help="JSON or @file.json")
    parser.add_argument("--selftest", action="store_true", help="check the environment and exit")
    parser.add_argument("--dry-run", action="store_true", help="validate the context only")
    args = parser.parse_args()
    if args.selftest:
        return finish("ok", output={"selftest": "passed"})
    context = load_context(args.context)
    source = context.get("input")
    if not isinstance(source, str) or not os.path.isfile(source):
        return finish("error", error=f"context.input must name an existing CSV file, got {source!r}")
    target = context.get("output")
    if args.dry_run:
        return finish("ok", output={"would_read": source, "would_write": target})
    summary = summarise(source)
    artifacts = []
    if isinstance(target, str):
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(summary, handle, indent=2)
        artifacts.append(target)
    output = {k: summary[k] for k in ("total_revenue", "units", "top_region")}
    return finish("ok", artifacts, output, raw=summary)


if __name__ == "__main__":
    sys.exit(main())
