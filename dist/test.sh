#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every test target (unit, property, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
./dist/install-deps.sh
swift build
swift test 2>&1 | tee .build/test-output.txt
