"""An independent keyed row diff for the tests (Python's csv module): table_diff_reference.py A.csv B.csv KEY.

Prints {"added": [keys], "removed": [keys], "modified": {key: [changed columns shared by both headers]}}.
"""
import csv
import json
import sys

def load(path, key):
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = csv.DictReader(f)
        return r.fieldnames, {row[key]: row for row in r}

cols_a, a = load(sys.argv[1], sys.argv[3])
cols_b, b = load(sys.argv[2], sys.argv[3])
shared = [c for c in cols_a if c in cols_b]
print(json.dumps({
    "added": sorted(set(b) - set(a)),
    "removed": sorted(set(a) - set(b)),
    "modified": {k: [c for c in shared if a[k][c] != b[k][c]] for k in sorted(set(a) & set(b)) if any(a[k][c] != b[k][c] for c in shared)},
}))
