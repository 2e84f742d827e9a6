"""Summarises the curated tables: row counts as metrics (JSON) and a Markdown page."""
import json
import os

tables = ["organisations", "contacts", "sources"]
counts = {t: sum(1 for _ in open(f"curated/{t}.csv", encoding="utf-8")) - 1 for t in tables}
os.makedirs("reports", exist_ok=True)
with open("reports/summary.json", "w", encoding="utf-8") as f:
    json.dump({"rows": counts}, f, sort_keys=True)
with open("reports/summary.md", "w", encoding="utf-8") as f:
    f.write("# Curated tables\n\n" + "".join(f"- {t}: {n} rows\n" for t, n in counts.items()))
