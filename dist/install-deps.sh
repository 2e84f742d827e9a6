#!/usr/bin/env bash
# Installs the system libraries Strata builds against (Debian/Ubuntu), when any is missing.
set -euo pipefail
need=""
for pc in libcrypto:libssl-dev libzstd:libzstd-dev sqlite3:libsqlite3-dev zlib:zlib1g-dev libcurl:libcurl4-openssl-dev; do
  pkg-config --exists "${pc%%:*}" 2>/dev/null || need="$need ${pc##*:}"
done
# Snappy (Parquet pages), which ships no pkg-config file.
[ -f /usr/include/snappy-c.h ] || need="$need libsnappy-dev"
command -v pkg-config >/dev/null 2>&1 || need="pkg-config $need"
command -v python3 >/dev/null 2>&1 || need="$need python3"
# The Pipeline.swift sandbox (read-only file system, no network); the tests exercise it.
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
# The server tests: curl (requests URLSession would normalise), openssl (a self-signed certificate), wrk (the load test).
command -v curl >/dev/null 2>&1 || need="$need curl"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v wrk >/dev/null 2>&1 || need="$need wrk"
# Headless Chromium: the web UI and static site tests load every page in a real browser (driven by Playwright).
command -v chromium >/dev/null 2>&1 || need="$need chromium"
# GNU time: peak RSS of a command (the scale test and the benchmarks).
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
  echo "installing:$need" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $need >/dev/null
fi
