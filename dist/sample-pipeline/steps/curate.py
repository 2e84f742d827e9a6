"""Curates one table: keeps rows whose score clears the threshold, logs one evidence record per decision."""
import csv
import json
import os
import sys

table = sys.argv[1]
threshold = float(os.environ.get("STRATA_PARAM_THRESHOLD", "0.8"))
os.makedirs("curated", exist_ok=True)
os.makedirs(f"evidence/{table}", exist_ok=True)
with open(f"staging/{table}.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
fields = list(rows[0].keys()) if rows else ["id"]
kept = []
with open(f"evidence/{table}/decisions.jsonl", "w", encoding="utf-8") as log:
    for r in rows:
        score = float(r.get("score") or 1.0)
        decision = "keep" if score >= 1 - threshold else "reject"
        log.write(json.dumps({"record_id": r.get("id"), "table": table, "decision": decision, "score": score}, sort_keys=True) + "\n")
        if decision == "keep":
            kept.append(r)
with open(f"curated/{table}.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(kept)
