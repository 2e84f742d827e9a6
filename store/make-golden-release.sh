#!/usr/bin/env bash
# Makes store/golden-release-1: a small store written by the first release's binary (commit a9840f5, before schema
# migrations existed), with every kind of table that release wrote: objects, refs, reflog, stat cache, config,
# a prune record, a saved retention policy, the pipeline run cache and lineage runs and events. Tests upgrade a copy
# of it. Like golden-v1, it is never regenerated once committed.
set -euo pipefail
S=${1:?usage: store/make-golden-release.sh PATH/TO/strata-of-a9840f5 [DIR]}
OUT=$(cd "$(dirname "$0")" && pwd)/golden-release-1
# Built at a neutral path (lineage records the store's location), then moved into the repository.
DIR=/tmp/strata-golden/golden-release-1
rm -rf "$DIR" "$OUT"; mkdir -p "$DIR"; cd "$DIR"
export STRATA_AUTHOR="Golden Store <golden@strata.invalid>" OPENLINEAGE_DISABLED=
"$S" init -q
mkdir -p raw
python3 - <<'PY'
import random
r = random.Random(7)
open('raw/orgs.csv', 'w').write('id,name,score\n' + ''.join(f'{i},Org {i},{r.random():.3f}\n' for i in range(1, 2001)))
open('raw/big.bin', 'wb').write(bytes(r.getrandbits(8) for _ in range(1_300_000)))
PY
cat > Pipeline.swift <<'SWIFT'
import PipelineDescription
let pipeline = Pipeline(name: "golden", stages: [
    .stage(name: "curate", command: "head -n 1001 raw/orgs.csv > curated.csv", inputs: ["raw/orgs.csv"], outputs: [.file("curated.csv")]),
])
SWIFT
"$S" commit -q -m "v1: raw data and a pipeline" --date 2026-02-01T10:00:00Z
"$S" tag v1
"$S" repro -q
"$S" commit -q -m "v2: curated" --date 2026-02-02T10:00:00Z
printf '2001,Org late,0.5\n' >> raw/orgs.csv
python3 -c "open('raw/big.bin','r+b').write(b'changed')"
"$S" repro -q
"$S" commit -q -m "v3: one more row" --date 2026-02-03T10:00:00Z
"$S" retention set weekly --keep-last 2
"$S" prune --keep-last 1 --reflog-expire 0s
"$S" fsck
rm -f .strata/locks/*.lock
rm -rf .strata/cache
cd /; mv "$DIR" "$OUT"; rmdir /tmp/strata-golden
