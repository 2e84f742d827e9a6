#!/usr/bin/env bash
# Builds and installs strata under PREFIX (default /usr/local): binary, man page, completions.
#   ./dist/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
STAGE=$(mktemp -d)
./dist/build-release.sh "$STAGE"
mkdir -p "$PREFIX"
cp -R "$STAGE"/. "$PREFIX"/
rm -rf "$STAGE"
echo "installed: $PREFIX/bin/strata ($("$PREFIX/bin/strata" --version))"
