#!/usr/bin/env bash
# Blame at scale: a ROWS-row, 12-column table (Benchmarks/gen_table.py v1) committed, then changed in COMMITS-1 further
# commits of 1,000 rows each (a name column rewritten); times `strata blame` (text, --json, --prov, one row) under
# /usr/bin/time. Figures go to Benchmarks/README.md ("Tables").
#
#   Benchmarks/blame.sh [ROWS] [COMMITS]     (default 1000000 100; STRATA_BENCH_ROOT sets the scratch folder)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-1000000}; COMMITS=${2:-100}
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}/blame
S="$HERE/.build/release/strata"
(cd "$HERE" && . dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1)
rm -rf "$ROOT" && mkdir -p "$ROOT/data" "$ROOT/ws/tables"
python3 "$HERE/Benchmarks/gen_table.py" "$ROWS" "$ROOT/data"
cd "$ROOT/ws"
"$S" init -q
cp "$ROOT/data/v1.csv" tables/orgs.csv
"$S" table add tables/orgs.csv --key id >/dev/null
"$S" commit -q -m v0 >/dev/null
t0=$(date +%s.%N)
for k in $(seq 1 $((COMMITS - 1))); do
  python3 - "$k" "$ROWS" <<'PY'
import sys
k, rows = int(sys.argv[1]), int(sys.argv[2])
lines = open("tables/orgs.csv", newline="").read().split("\n")
lo = 1 + ((k * 7919) % max(1, rows // 1000 - 100)) * 1000
n, i = 0, lo
while n < 1000 and i < len(lines):
    parts = lines[i].split(",", 2)
    if len(parts) == 3 and parts[0].isdigit() and parts[1].startswith("Org "):
        lines[i] = parts[0] + "," + parts[1].split(" v")[0] + f" v{k}," + parts[2]
        n += 1
    i += 1
open("tables/orgs.csv", "w", newline="").write("\n".join(lines))
PY
  "$S" commit -q -m "v$k" >/dev/null
done
echo "$((COMMITS - 1)) commits of 1,000 changed rows in $(echo "$(date +%s.%N) - $t0" | bc) s"
/usr/bin/time -f "blame (text): %e s, peak RSS %M KB" "$S" blame tables/orgs.csv >/dev/null
/usr/bin/time -f "blame --json: %e s, peak RSS %M KB" "$S" blame --json tables/orgs.csv >/dev/null
/usr/bin/time -f "blame --prov: %e s, peak RSS %M KB" "$S" blame --prov tables/orgs.csv >"$ROOT/rows.jsonld"
/usr/bin/time -f "blame --key (one row): %e s, peak RSS %M KB" "$S" blame tables/orgs.csv --key $((ROWS / 2)) >/dev/null
