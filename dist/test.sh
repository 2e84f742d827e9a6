#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every test target (unit, property, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
./dist/install-deps.sh
# Python helpers of the lineage tests (JSON Schema validation of OpenLineage events).
python3 -c "import jsonschema, referencing" 2>/dev/null || python3 -m pip install -q jsonschema referencing
swift build
swift test 2>&1 | tee .build/test-output.txt
