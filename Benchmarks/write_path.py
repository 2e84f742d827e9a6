#!/usr/bin/env python3
"""The write path in alternating pairs: per-file sha256sum of the workspace, then a strata commit of it, then the
reference again, and so on, so both see the same machine load. The ratio is the median of the per-pair ratios.

    Benchmarks/write_path.py [--scale S] [--pairs N] [--root DIR] [--binary BIN]

v1: each pair commits the v1 workspace into a fresh store (the first commit: everything is read, hashed, chunked
and compressed). v2: each pair starts from a copy of the v1 store and commits the v2 workspace (only changed files
are read; unchanged chunks of a changed file are not compressed again). Data: ../shared/bench/gen_dataset.py, as
Benchmarks/run.sh makes it. Targets (issue "Scale"): v1 <= 0.6x, v2 <= 0.2x.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SHARED = os.environ.get("STRATA_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
GEN = os.path.join(SHARED, "bench", "gen_dataset.py")
SYNC = os.path.join(SHARED, "bench", "sync_tree.py")
REF = "find tables evidence -type f -print0 | xargs -0 sha256sum > /dev/null"


def run(cmd, cwd, env=None):
    subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def timed(cmd, cwd, env=None):
    """Wall seconds of one command (page cache warm: each is run once untimed first by the caller)."""
    t0 = time.perf_counter()
    run(cmd, cwd, env)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--root", default=os.environ.get("STRATA_BENCH_ROOT", "/tmp/strata-bench"))
    ap.add_argument("--binary", default=os.path.join(TOP, ".build", "release", "strata"))
    a = ap.parse_args()
    data = os.path.join(a.root, "data")
    marker = os.path.join(data, "scale")
    if not (os.path.exists(marker) and open(marker).read().strip() == str(a.scale)):
        for v in (1, 2):
            print(f"generating v{v} at scale {a.scale}", file=sys.stderr, flush=True)
            run(f"python3 '{GEN}' --out '{data}/v{v}' --version {v} --scale {a.scale} --force --quiet", "/")
        open(marker, "w").write(str(a.scale))
    env = dict(os.environ, STRATA_AUTHOR="Bench <bench@example.org>")
    base = os.path.join(a.root, "runs", "write-path")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    ws = os.path.join(base, "ws")
    run(f"cp -a '{data}/v1' '{ws}'", "/")
    S = f"'{a.binary}'"
    run(REF, ws)  # warm the page cache once
    results = {}
    # v1: a fresh store each pair.
    pairs = []
    for _ in range(a.pairs):
        ref = timed(REF, ws)
        run("rm -rf .strata", ws)
        run(f"{S} init -q", ws, env)
        t = timed(f"{S} commit -q -m v1", ws, env)
        pairs.append((ref, t))
    results["v1"] = pairs
    # v2: from a copy of the v1 store each pair.
    run(f"cp -a '{ws}/.strata' '{base}/v1-store'", "/")
    run(f"python3 '{SYNC}' --keep .strata '{data}/v2' '{ws}'", "/")
    run(REF, ws)
    pairs = []
    for _ in range(a.pairs):
        ref = timed(REF, ws)
        run(f"rm -rf '{ws}/.strata' && cp -a '{base}/v1-store' '{ws}/.strata'", "/")
        t = timed(f"{S} commit -q -m v2", ws, env)
        pairs.append((ref, t))
    results["v2"] = pairs
    print("| commit | pairs | sha256sum s (median) | strata s (median) | ratio (median of pairs) | ratios |")
    print("|---|---:|---:|---:|---:|---|")
    for v, ps in results.items():
        ratios = [t / r for r, t in ps]
        print(
            f"| {v} | {len(ps)} | {statistics.median(r for r, _ in ps):.2f} | {statistics.median(t for _, t in ps):.2f} | "
            f"{statistics.median(ratios):.2f} | {', '.join(f'{x:.2f}' for x in ratios)} |")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
