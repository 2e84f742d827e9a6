#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every test target (unit, property, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
./dist/install-deps.sh
# Python helpers of the lineage tests (JSON Schema validation of OpenLineage events).
python3 -c "import jsonschema, referencing" 2>/dev/null || python3 -m pip install -q jsonschema referencing
swift build
# Layering: every import declared in Package.swift and allowed by docs/layering.json (a forbidden arrow fails).
python3 scripts/check-layering.py
# Formatting: the tree follows .swift-format (swift format ships with the toolchain).
swift format lint --strict -r -p Sources Tests Package.swift Benchmarks/GCMemory
mkdir -p .build
status=0
swift test 2>&1 | tee .build/test-output.txt || status=$?
passed=$(grep -E '^✔ Test .* passed after' .build/test-output.txt | grep -vc '^✔ Test run with' || true)
failed=$(grep -E '^✘ Test .* failed after' .build/test-output.txt | grep -vc '^✘ Test run with' || true)
echo "tests: ${passed} passed, ${failed} failed"
exit $status
