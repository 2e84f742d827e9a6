#!/usr/bin/env bash
# Merge at scale: a ROWS-row, 8-column table committed on main; `ours` (main) changes the score of 1 % of rows and
# `theirs` (a branch) the name of another, disjoint 1 %. In a second scenario both sides also change 100 of the same
# rows in different columns and each appends 100 rows. Times `strata merge` (peak RSS under /usr/bin/time) and
# `git merge` (SHA-256 objects, line-based) on the same commits, checks both results against the expected table
# (computed independently in Python), and counts the rows git marks as conflicts or gets wrong. Figures go to
# Benchmarks/README.md ("Merge").
#
#   Benchmarks/merge.sh [ROWS]     (default 1000000; STRATA_BENCH_ROOT sets the scratch folder)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-1000000}
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}/merge
S="$HERE/.build/release/strata"
(cd "$HERE" && . dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1)
export STRATA_AUTHOR="Bench <bench@example.org>" GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.org \
  GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.org OPENLINEAGE_DISABLED=true

for scenario in disjoint overlapping; do
  cd "$HERE" && rm -rf "$ROOT" && mkdir -p "$ROOT/data"
  python3 - "$ROWS" "$ROOT/data" "$scenario" <<'PY'
import sys
n, out, scenario = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cols = ["id", "name", "reg", "province", "status", "score", "city", "sector"]
def row(i):
    return [str(i), f"Org {i}", f"20{i % 100:02d}/{i:06d}/07", ["GP", "WC", "KZN", "EC"][i % 4], ["active", "dormant"][i % 2],
            f"{(i * 7919) % 1000 / 1000:.3f}", ["Cape Town", "Durban", "Pretoria", "Gqeberha"][i % 4], ["agri", "mining", "retail"][i % 3]]
both = set(range(7, n, max(1, n // 100))) if scenario == "overlapping" else set()  # 100 rows both sides change
def ours_row(i):
    r = row(i)
    if i % 100 == 1: r[5] = "0.999"
    if i in both: r[6] = "Stellenbosch"
    return r
def theirs_row(i):
    r = row(i)
    if i % 100 == 51: r[1] = f"Org {i} (Pty) Ltd"
    if i in both: r[4] = "deregistered"
    return r
def merged_row(i):
    r = ours_row(i); t = theirs_row(i)
    for c in range(len(r)):
        if t[c] != row(i)[c]: r[c] = t[c]
    return r
adds = 100 if scenario == "overlapping" else 0
def write(name, f, extra):
    with open(f"{out}/{name}.csv", "w") as fh:
        fh.write(",".join(cols) + "\n")
        for i in range(n): fh.write(",".join(f(i)) + "\n")
        for i in extra: fh.write(",".join(row(i)) + "\n")
write("base", row, [])
write("ours", ours_row, range(n, n + adds))
write("theirs", theirs_row, range(n + 1000, n + 1000 + adds))
write("expected", merged_row, list(range(n, n + adds)) + list(range(n + 1000, n + 1000 + adds)))
PY
  echo "== $scenario: $ROWS rows; ours changes 1 %, theirs another 1 %$([ "$scenario" = overlapping ] && echo "; 100 rows changed on both sides in different columns; 100 rows appended on each side")"
  for tool in strata git; do
    mkdir -p "$ROOT/$tool" && cd "$ROOT/$tool"
    if [ "$tool" = strata ]; then
      "$S" init -q; cp "$ROOT/data/base.csv" t.csv; "$S" table add t.csv --key id >/dev/null; "$S" commit -q -m base >/dev/null
      "$S" branch feature >/dev/null; "$S" switch -q feature; cp "$ROOT/data/theirs.csv" t.csv; "$S" commit -q -m theirs >/dev/null
      "$S" switch -q main; cp "$ROOT/data/ours.csv" t.csv; "$S" commit -q -m ours >/dev/null
      set +e; /usr/bin/time -o "$ROOT/time" -f "  strata merge: %e s, peak RSS %M KB" "$S" merge feature -q >/dev/null 2>&1; rc=$?; set -e
    else
      git init -q --object-format=sha256 -b main; cp "$ROOT/data/base.csv" t.csv; git add t.csv; git commit -qm base
      git branch feature; git switch -q feature; cp "$ROOT/data/theirs.csv" t.csv; git commit -qam theirs
      git switch -q main; cp "$ROOT/data/ours.csv" t.csv; git commit -qam ours
      set +e; /usr/bin/time -o "$ROOT/time" -f "  git merge: %e s, peak RSS %M KB" git merge -q feature -m merge >/dev/null 2>&1; rc=$?; set -e
    fi
    grep -v "Command exited" "$ROOT/time"
    python3 - "$ROOT/data/expected.csv" t.csv "$tool" "$rc" <<'PY'
import sys
expected = open(sys.argv[1]).read().split("\n"); got = open(sys.argv[2]).read().split("\n")
markers = sum(1 for l in got if l.startswith(("<<<<<<<", "=======", ">>>>>>>")))
hunks = sum(1 for l in got if l.startswith("<<<<<<<"))
rows = [l for l in got if not l.startswith(("<<<<<<<", "=======", ">>>>>>>"))]
exp = set(expected); have = set(rows)
missing = len(exp - have); extra = len(have - exp)
print(f"  {sys.argv[3]}: exit {sys.argv[4]}, conflict hunks {hunks}, rows missing from the expected result {missing}, "
      f"rows not in it {extra}, identical to expected: {got == expected}")
PY
  done
done
