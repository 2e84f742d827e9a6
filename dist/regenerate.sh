#!/usr/bin/env bash
# Regenerates the committed shell completions and man page from the command definitions.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product strata
for sh in bash zsh fish; do .build/release/strata --generate-completion-script $sh > dist/completions/strata.$sh; done
swift package --allow-writing-to-package-directory generate-manual --date "$(date +%Y-%m-%d)" --authors "The Strata developers"
cp .build/plugins/GenerateManual/outputs/strata/strata.1 dist/man/strata.1
python3 dist/embed_dsl.py
