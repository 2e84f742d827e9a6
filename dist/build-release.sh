#!/usr/bin/env bash
# Release build: a statically linked Swift runtime and C libraries (needs only libc, libm and libgcc_s at run time, and
# libcurl once an HTTP request is made, librdkafka once a Kafka event is sent), the DSL library for Pipeline.swift, shell
# completions and the man page.
#   ./dist/build-release.sh [OUTDIR]     (default dist/out)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-dist/out}
./dist/install-deps.sh
. dist/release-flags.sh
swift build "${STRATA_RELEASE_FLAGS[@]}" --product strata
needed=$(readelf -d .build/release/strata)
# libcurl is loaded by the first HTTP request, not by every start (Sources/CStrataCurlLazy).
if grep -q 'libcurl' <<<"$needed"; then echo "warning: strata links libcurl at start" >&2; fi
# The C libraries come from their static archives (dist/release-flags.sh); one whose archive is missing stays shared.
for lib in "${STRATA_STATIC_LIBS[@]}"; do
  if grep -q "\[lib$lib\." <<<"$needed"; then echo "note: lib$lib is linked as a shared library (no static archive found)" >&2; fi
done
swift build -c release --product PipelineDescription
swift build -c release --product strata-supervise
mkdir -p "$OUT/lib/strata/Modules" "$OUT/bin" "$OUT/share/man/man1" "$OUT/share/bash-completion/completions" "$OUT/share/zsh/site-functions" "$OUT/share/fish/vendor_completions.d"
cp .build/release/strata "$OUT/bin/strata"
strip "$OUT/bin/strata" || true
# The supervisor every stage command runs under (found next to strata or in ../lib/strata).
cp .build/release/strata-supervise "$OUT/lib/strata/strata-supervise"
strip "$OUT/lib/strata/strata-supervise" || true
# The DSL that Pipeline.swift manifests import, built by the same compiler (the embedded source is the fallback).
cp .build/release/libPipelineDescription.so "$OUT/lib/strata/"
cp -R .build/release/Modules/PipelineDescription.swiftmodule "$OUT/lib/strata/Modules/"
"$OUT/bin/strata" --generate-completion-script bash > "$OUT/share/bash-completion/completions/strata"
"$OUT/bin/strata" --generate-completion-script zsh > "$OUT/share/zsh/site-functions/_strata"
"$OUT/bin/strata" --generate-completion-script fish > "$OUT/share/fish/vendor_completions.d/strata.fish"
cp dist/man/strata.1 "$OUT/share/man/man1/strata.1"
echo "release tree in $OUT"
