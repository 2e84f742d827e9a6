#!/usr/bin/env bash
# The main job end to end on the embedded default (SQLite metadata, local object folder):
# build, init a store, commit generated tables and evidence logs, change them, commit, status,
# diff, log, check out the first version and come back, repro a sample pipeline, prune, gc, fsck.
#
#   ./dist/demo.sh [WORKDIR]      (default: a new temporary folder; DEMO_ROWS sets the table size)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
./dist/install-deps.sh
echo "== building strata (release)"
swift build -c release 2>&1 | tail -1
STRATA="$HERE/.build/release/strata"
WORK=${1:-$(mktemp -d /tmp/strata-demo.XXXXXX)}
WS="$WORK/workspace"
rm -rf "$WS"
python3 dist/sample_data.py --out "$WS" --version 1 --rows "${DEMO_ROWS:-200000}"
cd "$WS"
export STRATA_AUTHOR="${STRATA_AUTHOR:-Demo Curator <curator@example.org>}"
step() { echo; echo "\$ strata $*"; "$STRATA" "$@"; }

step init
step status
step commit -m "v1: curated organisations, contacts and evidence"
step tag v1
python3 "$HERE/dist/sample_data.py" --out "$WS" --version 2 --rows "${DEMO_ROWS:-200000}"
step status
step diff --stat
step commit -m "v2: appended rows, re-scored a block, new evidence"
step log
step diff v1 HEAD
echo; echo "\$ strata ls HEAD tables --json | head -12"; "$STRATA" ls HEAD tables --json | head -12
echo; echo "\$ sha256sum tables/organisations.csv"; sha256sum tables/organisations.csv
step checkout v1
echo; echo "\$ sha256sum tables/organisations.csv   # the v1 bytes are back"; sha256sum tables/organisations.csv
step checkout main
step status

echo; echo "== a pipeline declared in Swift (Pipeline.swift), reproduced only where something changed"
cp -R "$HERE/dist/sample-pipeline/." "$WS/"
echo; echo "\$ cat Pipeline.swift"; cat Pipeline.swift
step dag
step repro
step repro                        # nothing changed: nothing runs
echo "2,late row,2026/000002/07,GP,0.950,active" >> raw/organisations.csv
step status                       # lists the out-of-date stages
step repro                        # only extract, curate-organisations and report run
step commit -m "v3: pipeline outputs"
step log --oneline

echo; echo "== retention: keep the newest commit (v1 stays too: it is tagged), then collect what v2 alone held"
step prune --keep-last 1 --dry-run
step prune --keep-last 1
step gc --grace 0s
step log --oneline
step fsck
echo
echo "Demo workspace: $WS (store: $WS/.strata, $(du -sh "$WS/.strata" | cut -f1))"
