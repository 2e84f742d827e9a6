#!/usr/bin/env bash
# The main job end to end on the embedded default (SQLite metadata, local object folder):
# build, init a store, commit generated tables and evidence logs, change them, commit, status,
# diff, log, check out the first version and come back, repro a sample pipeline, prune, gc, fsck; then, as a team,
# push to a local S3 server that this script starts (moto in auth mode, 127.0.0.1), clone from it, pull, and stop it;
# then a team server (strata serve on 127.0.0.1) with its web pages and MCP endpoint, and a static catalogue site.
#
#   ./dist/demo.sh [WORKDIR]      (default: a new temporary folder; DEMO_ROWS sets the table size)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
./dist/install-deps.sh
echo "== building strata (release, as dist/build-release.sh ships it)"
. dist/release-flags.sh
swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1
swift build -c release --product PipelineDescription 2>&1 | tail -1
swift build -c release --product strata-supervise 2>&1 | tail -1
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
echo; echo "== working as a team: push to a local S3 server (moto, auth mode, on 127.0.0.1, started here) and clone from it"
# The pinned moto (requirements-test.txt): an older one already on the machine (5.2.1 was seen) refuses the
# signature of a prefixed ListObjectsV2.
python3 -c "import moto, boto3, flask; assert moto.__version__ == '5.2.5'" 2>/dev/null && command -v moto_server >/dev/null \
  || python3 -m pip install -q -r "$HERE/requirements-test.txt"
coproc MOTO { exec python3 "$HERE/Tests/StrataRemoteTests/moto_fixture.py"; }
MOTO_PID=$MOTO_PID
stop_moto() { { exec {MOTO[1]}>&-; } 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; }
trap stop_moto EXIT
read -r INFO <&"${MOTO[0]}"
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$INFO" "$1"; }
export AWS_ACCESS_KEY_ID=$(field access_key) AWS_SECRET_ACCESS_KEY=$(field secret_key) AWS_REGION=us-east-1
ENDPOINT=$(field endpoint)
echo "(S3 endpoint $ENDPOINT, bucket strata-test; credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never printed)"
step remote add origin s3://strata-test/curation --endpoint "$ENDPOINT"
step push --all --tags
CLONE="$WORK/colleague"
rm -rf "$CLONE"
echo; echo "\$ strata clone s3://strata-test/curation $CLONE --endpoint $ENDPOINT"
"$STRATA" clone s3://strata-test/curation "$CLONE" --endpoint "$ENDPOINT"
echo; echo "\$ sha256sum tables/organisations.csv   # in the clone: the same bytes"
(cd "$CLONE" && sha256sum tables/organisations.csv)
echo "2,a colleague's row,2026/000002/07,GP,0.990,active" >> "$CLONE/raw/organisations.csv"
echo; echo "\$ (in the clone) strata commit && strata push"
(cd "$CLONE" && "$STRATA" commit -m "v4: a colleague's row" && "$STRATA" push)
step pull
step status
step log --oneline

echo; echo "== two curators change the same table on two machines; strata merges it row by row, cell by cell"
# set_cell FILE ID COLUMN VALUE: rewrites one cell of the row with that id (a curator's edit).
set_cell() { python3 - "$@" <<'PY'
import sys
path, key, col, value = sys.argv[1:]
lines = open(path).read().split("\n")
header = lines[0].split(","); c = header.index(col)
for i, l in enumerate(lines[1:], 1):
    f = l.split(",")
    if f[0] == key: f[c] = value; lines[i] = ",".join(f)
open(path, "w").write("\n".join(lines))
PY
}
step table add tables/organisations.csv --key id
set_cell "$CLONE/tables/organisations.csv" 3 score 0.999
echo; echo "\$ (in the clone) strata commit && strata push    # the colleague re-scores organisation 3"
(cd "$CLONE" && "$STRATA" commit -q -m "v5: re-score organisation 3" && "$STRATA" push)
set_cell tables/organisations.csv 3 status dormant
set_cell tables/organisations.csv 5 name "Renamed Holdings"
step commit -m "v5: organisation 3 dormant, organisation 5 renamed"
step fetch
step merge origin/main --dry-run
step merge origin/main
echo; echo "\$ grep -E '^(3|5),' tables/organisations.csv   # both curators' cells, in one row"; grep -E '^(3|5),' tables/organisations.csv
step log --graph -n 4
step fsck
stop_moto
trap - EXIT

echo; echo "== a team server: strata serve on 127.0.0.1 (started here), tokens, a protected main, the audit log"
export STRATA_SERVER_ROOT="$WORK/server"
"$STRATA" namespace add dev
"$STRATA" user add curator
"$STRATA" policy set curator writer '**' --namespace dev
"$STRATA" protect main --namespace dev
STRATA_TOKEN=$("$STRATA" token create curator --expires 1d 2>/dev/null); export STRATA_TOKEN
coproc SERVE { exec "$STRATA" serve --listen 127.0.0.1:0 2>>"$WORK/server.log"; }
SERVE_PID=$!
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; }
trap stop_serve EXIT
read -r -u "${SERVE[0]}" ready; SERVER_URL=${ready##* }
echo "$ready"
step remote add team "$SERVER_URL/dev"
step push team main
TEAM_CLONE="$WORK/team-clone"
echo; echo "\$ strata clone $SERVER_URL/dev $TEAM_CLONE"
"$STRATA" clone "$SERVER_URL/dev" "$TEAM_CLONE"
echo; echo "\$ (in the clone) strata reset --hard HEAD~1 && strata push --force-with-lease   # refused: main is protected"
(cd "$TEAM_CLONE" && "$STRATA" reset -q --hard HEAD~1 && { "$STRATA" push --force-with-lease || echo "(exit $?: refused, as it should be)"; })
echo; echo "\$ strata audit log --last 3 && strata audit verify"
"$STRATA" audit log --last 3
"$STRATA" audit verify

echo; echo "== looking at it: the server's web pages (strata ui serves the same locally), MCP for agents, a static site"
auth() { printf 'header = "Authorization: Bearer %s"\n' "$STRATA_TOKEN"; }   # the token stays off the command line
echo "\$ curl $SERVER_URL/dev/ui/commit/main"
auth | curl -s -K - "$SERVER_URL/dev/ui/commit/main" | grep -o '<h1>[^<]*</h1>\|<p class="stat">[^<]*</p>' | sed 's/<[^>]*>//g'
echo "\$ curl -X POST $SERVER_URL/dev/mcp   # tools/list, then tools/call lineage_graph"
MCP_HEADERS=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" -H "MCP-Protocol-Version: 2025-06-18")
auth | curl -s -K - "${MCP_HEADERS[@]}" -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' "$SERVER_URL/dev/mcp" \
  | python3 -c 'import json, sys; print("tools:", ", ".join(t["name"] for t in json.load(sys.stdin)["result"]["tools"]))'
auth | curl -s -K - "${MCP_HEADERS[@]}" -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"lineage_graph","arguments":{"rev":"main","dataset":"curated/organisations.csv"}}}' "$SERVER_URL/dev/mcp" \
  | python3 -c 'import json, sys; g = json.load(sys.stdin)["result"]["structuredContent"]; print("lineage of curated/organisations.csv:", len(g["nodes"]), "nodes,", len(g["edges"]), "edges;", ", ".join(sorted({n["job"] + " " + n["status"] for n in g["nodes"] if n["kind"] == "run"})))'
stop_serve
trap - EXIT
unset STRATA_TOKEN STRATA_SERVER_ROOT
step site --out "$WORK/site"
echo "(open $WORK/site/index.html in a browser: the catalogue, each dataset's page, the lineage graph, every run)"
echo
echo "Demo workspace: $WS (store: $WS/.strata, $(du -sh "$WS/.strata" | cut -f1))"
