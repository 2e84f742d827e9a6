#!/usr/bin/env bash
# Scale: a workspace of FILES small JSON files in 1,000 folders (evidence logs at the scale a year of crawling makes;
# deterministic), versioned by strata and by git (SHA-256 objects) in the same run. Each step is timed with its peak
# RSS under /usr/bin/time: first commit, no-change status (twice), status and commit with 1 changed file, commit of
# 1,000 changed files in 10 folders, diff of the last two commits, checkout of the previous commit, and status with
# the file-system monitor (strata watch): seeding, no change (twice), 1 changed file, a commit and a checkout through
# it. DVC (in a venv, as Benchmarks/run.sh installs it) runs the same steps on the workspace as one tracked folder
# (`dvc add data`), each stopped after 10 minutes. Figures go to Benchmarks/README.md ("Scale").
#
#   Benchmarks/scale.sh [--files N] [--strata BINARY] [--no-git] [--no-dvc]
#   (default 1000000; STRATA_BENCH_ROOT: scratch folder)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
FILES=1000000; S="$HERE/.build/release/strata"; GIT=1; DVC=1
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES=$2; shift 2 ;;
    --strata) S=$2; shift 2 ;;
    --no-git) GIT=0; shift ;;
    --no-dvc) DVC=0; shift ;;
    *) echo "usage: $0 [--files N] [--strata BINARY] [--no-git] [--no-dvc]" >&2; exit 64 ;;
  esac
done
[ "$S" = "$HERE/.build/release/strata" ] && (cd "$HERE" && . dist/release-flags.sh && swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata 2>&1 | tail -1)
BENCH=${STRATA_BENCH_ROOT:-/tmp/strata-bench}
ROOT=$BENCH/scale
if [ "$DVC" = 1 ] && [ ! -x "$BENCH/venv/bin/dvc" ]; then
  mkdir -p "$BENCH" && python3 -m venv "$BENCH/venv" && "$BENCH/venv/bin/pip" install -q dvc || DVC=0
fi
export STRATA_AUTHOR="Bench <bench@example.org>" OPENLINEAGE_DISABLED=true GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.org \
  GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.org

generate() {
  python3 - "$1" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = max(1, n // 1000)
for i in range(n):
    d = f"{root}/f{i // per:04d}"
    if i % per == 0: os.makedirs(d, exist_ok=True)
    with open(f"{d}/ev-{i:07d}.json", "w") as f:
        f.write('{"record_id": %d, "source": "crawl-%d", "decision": "%s", "score": %.3f}\n' % (i, i % 97, ("keep", "drop")[i % 2], (i * 7919 % 1000) / 1000))
PY
}
t() {  # t LABEL COMMAND...: times one step
  local label=$1; shift
  /usr/bin/time -o "$ROOT/.time" -f "%e %M" "$@" >/dev/null 2>&1 || true
  read -r secs kb < <(grep -v "Command exited" "$ROOT/.time" | tail -1)
  printf "  %-34s %8s s  %7s MB\n" "$label" "$secs" "$((kb / 1024))"
}
LIMIT=600
tl() {  # tl LABEL COMMAND...: times one step, stopped after LIMIT seconds; fails when it was stopped
  local label=$1; shift
  local rc=0
  /usr/bin/time -o "$ROOT/.time" -f "%e %M" timeout "$LIMIT" "$@" >/dev/null 2>&1 || rc=$?
  read -r secs kb < <(grep -v "Command exited\|Command terminated" "$ROOT/.time" | tail -1)
  if [ "$rc" = 124 ]; then printf "  %-34s   > %s s  (stopped: did not finish)\n" "$label" "$LIMIT"; return 1; fi
  printf "  %-34s %8s s  %7s MB\n" "$label" "$secs" "$((kb / 1024))"
}
touch_one() { echo '{"changed": true}' >> "$1/f0500/ev-$(printf %07d $((500 * FILES / 1000)))".json; }
# 1,000 changed files at any scale of 10^5 files or more: the first 100 files of each of 10 folders (at 10^6 files a
# folder holds 1,000, at 10^7 10,000); below that, every file of the 10 folders.
touch_many() {
  local per=$((FILES / 1000)) d i n=100
  [ "$per" -lt 1 ] && per=1
  [ "$per" -lt "$n" ] && n=$per
  for d in 100 200 300 400 500 600 700 800 900 999; do
    for i in $(seq $((d * per)) $((d * per + n - 1))); do echo '{"v": 2}' >> "$1/f$(printf %04d "$d")/ev-$(printf %07d "$i").json"; done
  done
}

rm -rf "$ROOT" && mkdir -p "$ROOT"
echo "== $FILES files in 1,000 folders ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
for tool in strata git dvc; do
  [ "$tool" = git ] && [ "$GIT" = 0 ] && continue
  [ "$tool" = dvc ] && [ "$DVC" = 0 ] && continue
  W="$ROOT/$tool"; mkdir -p "$W"
  if [ "$tool" = dvc ]; then mkdir -p "$W/data"; generate "$W/data"; else generate "$W"; fi
  cd "$W"; sync
  echo "$tool:"
  if [ "$tool" = strata ]; then
    "$S" init -q
    t "first commit" "$S" commit -q -m v1
    sleep 2  # past the stat cache's racy window, as a workspace at rest is
    t "no-change status" "$S" status
    t "no-change status (again)" "$S" status
    touch_one "$W"; sleep 2
    t "status, 1 changed file" "$S" status
    t "commit of 1 changed file" "$S" commit -q -m v2
    touch_many "$W"; sleep 2
    t "commit of 1,000 files in 10 folders" "$S" commit -q -m v3
    t "diff HEAD~1 HEAD" "$S" diff HEAD~1 HEAD
    t "checkout of the previous commit" "$S" checkout -q HEAD~1
    # The file-system monitor (core.fsmonitor): the first status seeds it with a full scan, later ones compare only
    # what it reports changed.
    "$S" config core.fsmonitor true
    t "start the monitor (strata watch)" "$S" watch -q
    t "status with the monitor (seeds it)" "$S" status
    t "no-change status, monitor" "$S" status
    t "no-change status, monitor (again)" "$S" status
    touch_one "$W"
    t "status, 1 changed file, monitor" "$S" status
    t "commit of 1 changed file, monitor" "$S" commit -q -m v4
    t "checkout of the previous commit, monitor" "$S" checkout -q HEAD~1
    "$S" watch stop -q
    du -sh "$W/.strata" | awk '{print "  store size " $1}'
  elif [ "$tool" = git ]; then
    git init -q --object-format=sha256
    t "first commit (add -A + commit)" sh -c 'git add -A && git commit -qm v1'
    sleep 2
    t "no-change status" git status
    t "no-change status (again)" git status
    touch_one "$W"; sleep 2
    t "status, 1 changed file" git status
    t "commit of 1 changed file (commit -a)" git commit -qam v2
    touch_many "$W"; sleep 2
    t "commit of 1,000 files (commit -a)" git commit -qam v3
    t "diff HEAD~1 HEAD" git diff --stat HEAD~1 HEAD
    t "checkout of the previous commit" git checkout -q HEAD~1
    du -sh "$W/.git" | awk '{print "  store size " $1}'
  else
    D="$BENCH/venv/bin/dvc"
    "$D" init -q --no-scm
    # Each step runs only if the one before finished.
    tl "first commit (dvc add data)" "$D" add -q data && cp data.dvc "$ROOT/v1.dvc" && sleep 2 &&
      tl "no-change status" "$D" status &&
      tl "no-change status (again)" "$D" status &&
      { touch_one "$W/data"; sleep 2; tl "status, 1 changed file" "$D" status; } &&
      tl "commit of 1 changed file (dvc add)" "$D" add -q data &&
      { touch_many "$W/data"; sleep 2; tl "commit of 1,000 files (dvc add)" "$D" add -q data; } &&
      { cp "$ROOT/v1.dvc" data.dvc; tl "checkout of the first commit" "$D" checkout -q --force data.dvc; } || true
    du -sh "$W/.dvc" | awk '{print "  store size " $1}'
  fi
  cd "$HERE"
done
