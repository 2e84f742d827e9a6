#!/usr/bin/env bash
# One command: build Strata (release), install the anchors (restic, borg, zstd via apt; DVC in a venv),
# generate the data set and time everything in one run. Arguments go to bench.py (see --help).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/.."
./dist/install-deps.sh
. "$(dirname "$0")/../dist/release-flags.sh"
swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1   # the binary dist/ ships
swift build -c release --product strata-supervise 2>&1 | tail -1   # the stage supervisor, found next to strata
missing=""
for b in restic:restic borg:borgbackup zstd:zstd /usr/bin/time:time; do command -v "${b%%:*}" >/dev/null 2>&1 || missing="$missing ${b##*:}"; done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$missing python3-venv"
[ -n "$missing" ] && { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null; }
ROOT=${STRATA_BENCH_ROOT:-/tmp/strata-bench}
if [ ! -x "$ROOT/venv/bin/dvc" ]; then python3 -m venv "$ROOT/venv"; "$ROOT/venv/bin/pip" install -q dvc; fi
exec python3 "$HERE/bench.py" --root "$ROOT" "$@"
