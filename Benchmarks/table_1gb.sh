#!/usr/bin/env bash
# The 1 GB row diff under a small memory budget: Benchmarks/gen_table.py writes a ROWS-row, 12-column table (default
# 10,000,000 rows, about 1 GB) and its v2 (1 % modified, 0.5 % deleted, 0.5 % appended); both are committed, then
# `strata table diff v1 v2 --stat` runs under /usr/bin/time with each BUDGET (default 64MB and 256MB). Needs about
# 3.5 GB of scratch disk. Figures go to Benchmarks/README.md ("Tables").
#
#   Benchmarks/table_1gb.sh [ROWS] [BUDGET ...]     (STRATA_BENCH_ROOT sets the scratch folder)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-10000000}; shift || true
BUDGETS=("$@"); [ ${#BUDGETS[@]} -gt 0 ] || BUDGETS=(64MB 256MB)
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}/table-1gb
S="$HERE/.build/release/strata"
(cd "$HERE" && . dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1)
mkdir -p "$ROOT/data"
[ -s "$ROOT/data/v2.csv" ] && [ "$(head -c 20 "$ROOT/data/.rows" 2>/dev/null)" = "$ROWS" ] || {
  python3 "$HERE/Benchmarks/gen_table.py" "$ROWS" "$ROOT/data"; rm -f "$ROOT/data/v3.csv"; echo "$ROWS" > "$ROOT/data/.rows"; }
rm -rf "$ROOT/ws" && mkdir -p "$ROOT/ws/tables" && cd "$ROOT/ws"
"$S" init -q
"$S" table add tables/orgs.csv --key id
echo "table: $(du -h "$ROOT/data/v1.csv" | cut -f1), $ROWS rows"
for v in v1 v2; do
  cp "$ROOT/data/$v.csv" tables/orgs.csv
  /usr/bin/time -f "commit $v: %e s, %M KB peak RSS" "$S" commit -q -m "$v" >/dev/null
  "$S" tag "$v"
done
for b in "${BUDGETS[@]}"; do
  /usr/bin/time -f "table diff --memory $b: %e s, %M KB peak RSS" "$S" table diff v1 v2 tables/orgs.csv --stat --memory "$b"
done
