#!/usr/bin/env bash
# Remotes benchmark: builds Strata (release), installs moto/boto3 (requirements-test.txt), DVC with its S3 plugin in a
# venv, restic and /usr/bin/time, then runs Benchmarks/remote_bench.py (arguments are passed on; see --help).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/.."
./dist/install-deps.sh
. dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1
missing=""
for b in restic:restic /usr/bin/time:time; do command -v "${b%%:*}" >/dev/null 2>&1 || missing="$missing ${b##*:}"; done
[ -n "$missing" ] && { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null; }
command -v aws >/dev/null || python3 -m pip install -q awscli
python3 -c "import moto, boto3, flask; assert moto.__version__ == '5.2.5'" 2>/dev/null && command -v moto_server >/dev/null || python3 -m pip install -q -r requirements-test.txt
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}
[ -x "$ROOT/venv/bin/dvc" ] || { python3 -m venv "$ROOT/venv"; "$ROOT/venv/bin/pip" install -q dvc; }
"$ROOT/venv/bin/python" -c "import dvc_s3" 2>/dev/null || "$ROOT/venv/bin/pip" install -q dvc-s3
exec python3 "$HERE/remote_bench.py" --root "$ROOT" "$@"
