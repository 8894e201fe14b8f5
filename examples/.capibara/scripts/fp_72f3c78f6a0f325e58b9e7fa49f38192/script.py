# --- CAPIBARA ---
# prompt: Search MercadoLibre for the query and return the first result's title and price
# deps: none
# needs: network api.mercadolibre.com; env none
# --- /CAPIBARA ---
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
"""Query MercadoLibre's public search API and report the first result."""
import argparse
import json
import sys
import urllib.parse
import urllib.request


def load_context(value):
    if value.startswith("@"):
        with open(value[1:], encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(value)


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
    query = context.get("query")
    site = context.get("site", "MLA")
    if not isinstance(query, str) or not query.strip():
        return finish("error", error="context.query must be a non-empty string")
    url = f"https://api.mercadolibre.com/sites/{urllib.parse.quote(site)}/search?" + \
        urllib.parse.urlencode({"q": query, "limit": 1})
    if args.dry_run:
        return finish("ok", output={"would_fetch": url})
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            data = json.load(response)
    except OSError as error:
        return finish("error", error=f"cannot reach api.mercadolibre.com: {error}")
    results = data.get("results") or []
    if not results:
        return finish("error", error=f"no results for {query!r}")
    first = results[0]
    return finish(
        "ok",
        output={"titulo": first.get("title"), "precio": first.get("price"),
                "moneda": first.get("currency_id"), "link": first.get("permalink")},
        raw={"total": data.get("paging", {}).get("total"), "id": first.get("id")},
    )


if __name__ == "__main__":
    sys.exit(main())
