#!/usr/bin/env bash
# Recreates store/golden-v1 with the given strata binary. Only for a NEW format version's golden store:
# an existing golden store is never regenerated, it is what later versions must keep reading.
set -euo pipefail
S=${1:?usage: store/make-golden.sh PATH/TO/strata [DIR]}
DIR=${2:-$(dirname "$0")/golden-v1}
rm -rf "$DIR"; mkdir -p "$DIR"; cd "$DIR"
export STRATA_AUTHOR="Golden Store <golden@strata.invalid>"
"$S" init -q
mkdir -p tables evidence/run-001
python3 - <<'PY'
rows = ['id,name,registration,province,score']
for i in range(1, 30001):
    rows.append(f'{i},Org {i%613} (Pty) Ltd,{2000+i%25}/{i:06d}/07,{["GP","WC","KZN","EC"][i%4]},{(i*37)%100/100:.2f}')
open('tables/organisations.csv', 'w').write('\n'.join(rows) + '\n')
for k in range(5):
    open(f'evidence/run-001/ev-{k:06d}.jsonl', 'w').write(''.join(f'{{"record_id":{k*10+j},"decision":"keep","confidence":0.9}}\n' for j in range(10)))
PY
"$S" commit -q -m "v1: first curated tables" --date 2026-01-05T12:00:00Z
"$S" tag v1 -m "first release"
printf '30001,Org late (Pty) Ltd,2026/030001/07,GP,0.50\n' >> tables/organisations.csv
ln -s ../tables/organisations.csv evidence/orgs
"$S" commit -q -m "v2: appended rows" --date 2026-01-06T12:00:00+02:00
rm evidence/run-001/ev-000004.jsonl
printf '#!/bin/sh\necho curate\n' > curate.sh; chmod +x curate.sh
"$S" commit -q -m "v3: removed one evidence log, added a step" --date 2026-01-07T12:00:00Z
"$S" fsck
rm -f .strata/locks/write.lock
