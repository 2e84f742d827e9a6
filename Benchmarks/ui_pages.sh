#!/usr/bin/env bash
# Web UI page times: a store of FILES small JSON files (100 folders) and a 100,000-row table, committed, then every
# file and 1 % of the table's rows changed and committed again (a commit of FILES+1 changed files). `strata ui`
# (release build) serves it on 127.0.0.1; each page is fetched 11 times with curl and the median and the slowest
# of the last 10 are printed (curl's total time on loopback: server time plus well under a millisecond). Figures go to
# Benchmarks/README.md ("Web UI pages").
#
#   Benchmarks/ui_pages.sh [FILES]     (default 10000; STRATA_BENCH_ROOT sets the scratch folder)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
FILES=${1:-10000}
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}/ui
S="$HERE/.build/release/strata"
(cd "$HERE" && . dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1)
export STRATA_AUTHOR="Bench <bench@example.org>"
rm -rf "$ROOT" && mkdir -p "$ROOT" && cd "$ROOT"
gen() {
  python3 - "$FILES" "$1" <<'PY'
import os, sys
n, v = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    d = f"evidence/d{i % 100:03d}"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/e{i:07d}.json", "w").write('{"n": %d, "v": %d}\n' % (i, v))
os.makedirs("tables", exist_ok=True)
with open("tables/orgs.csv", "w") as f:
    f.write("id,name,score\n")
    for i in range(100000):
        f.write(f"{i},Org {i},{(i * 7919 + (v if i % 100 == 0 else 0)) % 1000 / 1000:.3f}\n")
PY
}
"$S" init >/dev/null
gen 1 && "$S" commit -q -m v1 && "$S" tag v1
gen 2 && "$S" commit -q -m v2
exec 3< <(exec "$S" ui --port 0)
UI_PID=$!
trap 'kill $UI_PID 2>/dev/null || true' EXIT
read -r line <&3
URL=${line#strata ui: open }
time_page() {
  local name=$1 path=$2 times=()
  for i in $(seq 0 10); do times+=("$(curl -s -o /dev/null -w '%{time_total}' "$URL$path")"); done
  printf '%s\n' "${times[@]:1}" | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "%-28s median %6.1f ms   slowest %6.1f ms\n", n, a[int((NR+1)/2)]*1000, a[NR]*1000}'
}
echo "strata ui, $FILES files + a 100,000-row table; commit v2 changes $((FILES + 1)) files"
time_page "commits (timeline)" ""
time_page "commit page (v2)" "commit/HEAD"
time_page "diff v1..v2 (file list)" "diff?from=v1&to=HEAD"
time_page "row diff (first 100 rows)" "rows?from=v1&to=HEAD&path=tables/orgs.csv&key=id"
time_page "folder listing" "tree/HEAD?path=evidence/d000"
time_page "table preview" "tree/HEAD?path=tables/orgs.csv"
time_page "lineage of v2" "lineage?commit=HEAD"
time_page "retention preview" "retention?rules=--keep-last+1"
