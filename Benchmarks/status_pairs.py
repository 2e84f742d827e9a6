#!/usr/bin/env python3
"""The no-change status of the 10,000-file workspace in alternating runs: strata status, then git status (SHA-256
objects), then strata again, and so on, so both see the same machine load. Also `strata --version` (the process's
start and exit) in the same rotation. Prints each median and the median of the per-pair ratios.

    Benchmarks/status_pairs.py [--scale S] [--pairs N] [--warmup N] [--root DIR] [--binary BIN ...]

Several --binary flags compare builds in one rotation (the first is the one the ratio names). Data:
../shared/bench/gen_dataset.py v1 (scale 1: 10,016 files in 27 folders), committed once by each tool; the workspace
is made once under --root and reused. Targets (issue "Scale"): <= 0.04 s and <= 1.2x git.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SHARED = os.environ.get("STRATA_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
GEN = os.path.join(SHARED, "bench", "gen_dataset.py")
ENV = dict(
    os.environ, STRATA_AUTHOR="Bench <bench@example.org>", OPENLINEAGE_DISABLED="true", GIT_AUTHOR_NAME="Bench",
    GIT_AUTHOR_EMAIL="bench@example.org", GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org")


def quiet(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(cmd, cwd):
    """Wall milliseconds of one run (no shell between: the child is the tool itself)."""
    t0 = time.perf_counter()
    quiet(cmd, cwd)
    return (time.perf_counter() - t0) * 1000


def prepare(root, scale, binary):
    ws, gitws = os.path.join(root, "strata"), os.path.join(root, "git")
    if not os.path.isdir(os.path.join(ws, ".strata")):
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        quiet(["python3", GEN, "--out", ws, "--version", "1", "--scale", str(scale), "--quiet"], root)
        # The same files (mtimes kept) for git.
        quiet(["cp", "-a", ws, gitws], root)
        quiet([binary, "init", "-q"], ws)
        quiet([binary, "commit", "-q", "-m", "v1"], ws)
        quiet(["git", "init", "-q", "--object-format=sha256"], gitws)
        quiet(["git", "add", "-A"], gitws)
        quiet(["git", "commit", "-q", "-m", "v1"], gitws)
    return ws, gitws


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--pairs", type=int, default=70)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--root", default=os.path.join(os.environ.get("STRATA_BENCH_ROOT", "/tmp/strata-bench"), "status"))
    ap.add_argument("--binary", action="append", help="strata binary (default .build/release/strata)")
    a = ap.parse_args()
    binaries = [os.path.abspath(b) for b in (a.binary or [os.path.join(TOP, ".build", "release", "strata")])]
    ws, gitws = prepare(a.root, a.scale, binaries[0])
    steps = [(f"status {b}", [b, "status"], ws) for b in binaries]
    steps += [("git status", ["git", "status"], gitws)]
    steps += [(f"--version {b}", [b, "--version"], ws) for b in binaries]
    times = {name: [] for name, _, _ in steps}
    for i in range(a.warmup + a.pairs):
        # Alternate the order each round, so neither tool always runs right after the other.
        for name, cmd, cwd in steps if i % 2 == 0 else reversed(steps):
            t = timed(cmd, cwd)
            if i >= a.warmup:
                times[name].append(t)
    git = times["git status"]
    print(f"{a.pairs} rounds after {a.warmup} warm-up rounds; {ws}")
    for name, v in times.items():
        line = f"{name:60s} median {statistics.median(v):6.1f} ms  (p25 {statistics.quantiles(v, n=4)[0]:6.1f})"
        if name.startswith("status"):
            pairs = statistics.median(s / g for s, g in zip(v, git))
            line += f"  {statistics.median(v) / statistics.median(git):.2f}x git (per round {pairs:.2f}x)"
        print(line)


if __name__ == "__main__":
    main()
