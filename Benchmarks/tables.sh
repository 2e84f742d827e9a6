#!/usr/bin/env bash
# Row-diff benchmark: builds Strata (release), installs daff, csv-diff, pandas and DuckDB in a venv, then runs
# Benchmarks/table_bench.py (arguments are passed on; see --help).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/.."
./dist/install-deps.sh
. dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}
mkdir -p "$ROOT/results"
[ -x "$ROOT/venv-tables/bin/daff" ] || { python3 -m venv "$ROOT/venv-tables"; "$ROOT/venv-tables/bin/pip" install -q duckdb==2.0.1 pandas==3.1.1 csv-diff==1.2 daff==1.4.2; }
PATH="$ROOT/venv-tables/bin:$PATH" exec python3 "$HERE/table_bench.py" --root "$ROOT" --python "$ROOT/venv-tables/bin/python" "$@"
