#!/usr/bin/env python3
"""Strata against the anchors (git with SHA-256 objects, DVC, restic, borg) on the same generated data.

    Benchmarks/run.sh [--scale S] [--anchors "git dvc restic borg"] [--root DIR] [--keep]

Generates v1, v2, v3 with ../shared/bench/gen_dataset.py, moves one working copy between them with
../shared/bench/sync_tree.py, and times every step under /usr/bin/time -v through the shared anchors
harness (../shared/bench/anchors/anchors.py), so Strata and the anchors are measured the same way in the
same run. Before each version step the reference (per-file sha256sum of the workspace) is timed; every
step is reported as seconds, ratio to that reference, peak RSS and store bytes. Prints a Markdown report
and writes the raw records to ROOT/results/results.jsonl.
"""
import argparse
import json
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


def sh(cmd, cwd="/", env=None):
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, check=True, stdout=subprocess.PIPE).stdout.decode()


def ensure_data(root, scale):
    marker = os.path.join(root, "data", "scale")
    if os.path.exists(marker) and open(marker).read().strip() == str(scale):
        return
    for v in (1, 2, 3):
        print(f"generating v{v} at scale {scale}", file=sys.stderr, flush=True)
        sh(f"python3 '{GEN}' --out '{root}/data/v{v}' --version {v} --scale {scale} --force --quiet")
    open(marker, "w").write(str(scale))


def part_strata(A, binary, runk):
    T = "strata"
    base, ws = A.fresh(T, runk)
    env = dict(os.environ, STRATA_AUTHOR="Bench <bench@example.org>")
    store = os.path.join(ws, ".strata")
    S = f"'{binary}'"

    def step(name, cmd, ref=None, reps=1, cwd=ws, **extra):
        res = None
        for _ in range(reps):
            res = A.timed(cmd, cwd, env)
            A.record(T, runk, name, res, ref=ref, cmd=cmd, **extra)
        return res

    def sync(v):
        return json.loads(sh(f"python3 '{SYNC}' --keep .strata '{A.ARGS.root}/data/{v}' '{ws}'"))

    sh(f"{S} init -q", ws, env)
    ref = A.ref_time(ws, T, runk, "v1")
    step("v1: strata commit", f"{S} commit -q -m v1", ref)
    A.record(T, runk, "store after v1", {"wall": 0, "rss_mb": None, "user": None, "sys": None}, storage=A.du(store))
    sh(f"{S} tag v1", ws, env)
    step("no-op strata status (after v1)", f"{S} status", ref, reps=5)
    sync("v2")
    ref = A.ref_time(ws, T, runk, "v2")
    step("v2: strata commit", f"{S} commit -q -m v2", ref)
    A.record(T, runk, "store after v2", {"wall": 0, "rss_mb": None, "user": None, "sys": None}, storage=A.du(store))
    sync("v3")
    ref = A.ref_time(ws, T, runk, "v3")
    step("v3: strata commit", f"{S} commit -q -m v3", ref)
    A.record(T, runk, "store after v3", {"wall": 0, "rss_mb": None, "user": None, "sys": None}, storage=A.du(store))
    sh(f"{S} tag v3", ws, env)
    step("no-op strata status (after v3)", f"{S} status", ref, reps=5)
    step("strata diff v1 v3", f"{S} diff v1 v3 > /dev/null", ref, reps=5)
    step("strata fsck", f"{S} fsck -q", ref)
    # Checkout of v1 into an empty folder: a copy of the store (not timed) and no files.
    co = os.path.join(base, "co")
    os.makedirs(co)
    sh(f"cp -a '{store}' '{co}/.strata'")
    step("checkout v1 into an empty folder", f"{S} checkout -q v1", ref, cwd=co)
    step("cp -r v1 (reference for checkout)", f"cp -r '{A.ARGS.root}/data/v1' '{base}/cp-copy'", ref)
    # Retention: keep only v3 and collect.
    if "prune" in sh(f"{S} --help", ws, env):
        step("prune --keep-last 1 + gc", f"{S} tag -d v1 -q; {S} prune -q --keep-last 1 && {S} gc -q --grace 0s", ref)
        A.record(T, runk, "store after prune + gc", {"wall": 0, "rss_mb": None, "user": None, "sys": None}, storage=A.du(store))
    shutil.rmtree(base)


PIPELINE = """import PipelineDescription

// The chain-and-fan DAG of ../shared/bench/anchors/gen_pipeline.py (10 leaves, chains of 3): 50 stages.
let leaves = 10, chain = 3
func two(_ i: Int) -> String { i < 10 ? "0\\(i)" : "\\(i)" }

var stages: [Stage] = []
var ends: [String] = []
for i in 0..<leaves {
    let src = "inputs/leaf_\\(two(i)).txt"
    var prev = "data/ingest_\\(two(i)).txt"
    stages.append(.stage(name: "ingest_\\(two(i))", command: "cp \\(src) \\(prev)", inputs: [Input(src)], outputs: [.file(prev)]))
    for c in 1...chain {
        let out = "data/chain_\\(two(i))_\\(c).txt"
        stages.append(.stage(name: "chain_\\(two(i))_\\(c)", command: "(cat \\(prev); echo chain_\\(two(i))_\\(c)) > \\(out)",
                             inputs: [Input(prev)], outputs: [.file(out)]))
        prev = out
    }
    ends.append(prev)
}
var merges: [String] = []
for j in 0..<(leaves / 2) {
    let out = "data/merge_\\(two(j)).txt", deps = [ends[2 * j], ends[2 * j + 1]]
    stages.append(.stage(name: "merge_\\(two(j))", command: "cat \\(deps.joined(separator: " ")) > \\(out)", inputs: deps.map { Input($0) }, outputs: [.file(out)]))
    merges.append(out)
}
let half = (merges.count + 1) / 2
var m2: [String] = []
for (k, part) in [Array(merges[..<half]), Array(merges[half...])].enumerated() {
    let out = "data/merge2_\\(k).txt"
    stages.append(.stage(name: "merge2_\\(k)", command: "cat \\(part.joined(separator: " ")) > \\(out)", inputs: part.map { Input($0) }, outputs: [.file(out)]))
    m2.append(out)
}
stages.append(.stage(name: "final", command: "cat \\(m2.joined(separator: " ")) > data/final.txt", inputs: m2.map { Input($0) }, outputs: [.file("data/final.txt")]))
stages.append(.stage(name: "report_wc", command: "wc -l data/final.txt > data/report_wc.txt", inputs: ["data/final.txt"], outputs: [.file("data/report_wc.txt")]))
stages.append(.stage(name: "report_sha", command: "sha256sum data/final.txt > data/report_sha.txt", inputs: ["data/final.txt"], outputs: [.file("data/report_sha.txt")]))

let pipeline = Pipeline(name: "chain-and-fan", stages: stages)
"""


def part_strata_repro(A, binary, runk):
    T = "strata-repro"
    base = os.path.join(A.ARGS.root, "runs", f"strata-repro-r{runk}")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    info = json.loads(sh(f"python3 '{os.path.join(SHARED, 'bench', 'anchors', 'gen_pipeline.py')}' '{base}'"))
    os.remove(os.path.join(base, "dvc.yaml"))
    open(os.path.join(base, "Pipeline.swift"), "w").write(PIPELINE)
    env = dict(os.environ, STRATA_AUTHOR="Bench <bench@example.org>")
    S = f"'{binary}'"
    sh(f"{S} init -q", base, env)
    n = info["stages"]
    r = A.timed(f"{S} stages -q > /dev/null", base, env)
    A.record(T, runk, "cold manifest evaluation (compile Pipeline.swift)", r, cmd="strata stages")
    r = A.timed(f"{S} repro -q", base, env)
    A.record(T, runk, f"first full strata repro ({n} stages)", r, cmd="strata repro", stages=n)
    for _ in range(5):
        A.record(T, runk, "no-op strata repro (warm)", A.timed(f"{S} repro -q", base, env), cmd="strata repro")
    sh(f"echo 'changed in run {runk}' >> {info['leaf_to_change']}", base)
    r = A.timed(f"{S} repro -q", base, env)
    A.record(T, runk, f"strata repro after changing one leaf ({info['affected']} stages re-run)", r, cmd="strata repro", stages=info["affected"])
    shutil.rmtree(base)


def report(results, out):
    recs = [json.loads(l) for l in open(results) if l.strip()]
    by = {}
    for r in recs:
        if "step" not in r:
            continue
        by.setdefault((r["tool"], r["step"]), []).append(r)
    refs = {}
    for (tool, step), rs in by.items():
        if step.startswith("ref sha256sum"):
            refs.setdefault(tool, []).extend(x["wall"] for x in rs)
    lines = ["| tool | step | median s | n | ratio to sha256sum | peak RSS MB | store bytes |", "|---|---|---:|---:|---:|---:|---:|"]
    for (tool, step), rs in by.items():
        if step.startswith("ref sha256sum"):
            continue
        walls = [x["wall"] for x in rs]
        ratios = [x["wall"] / x["ref_sha256"] for x in rs if x.get("ref_sha256")]
        rss = max((x["rss_mb"] or 0) for x in rs)
        storage = next((x.get("storage") or x.get("repo_bytes") for x in rs if x.get("storage") or x.get("repo_bytes")), None)
        timing = f"{statistics.median(walls):.3f}" if any(walls) else "–"
        storage = f"{storage:,}" if storage else None
        lines.append(f"| {tool} | {step} | {timing} | {len(rs)} | {statistics.median(ratios):.3f} |" if ratios else f"| {tool} | {step} | {timing} | {len(rs)} | – |")
        lines[-1] += f" {rss or '–'} | {storage if storage else '–'} |"
    for tool, ws in refs.items():
        lines.append(f"| {tool} | reference: sha256sum per file | {statistics.median(ws):.3f} | {len(ws)} | 1 | – | – |")
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--anchors", default="dvc restic borg git repro", help="anchor parts to run in the same run ('' for none; 'repro' is DVC's pipeline)")
    ap.add_argument("--root", default=os.environ.get("STRATA_BENCH_ROOT", "/tmp/strata-bench"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--binary", default=os.path.join(TOP, ".build", "release", "strata"))
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    ap.add_argument("--only-repro", action="store_true", help="only the pipeline benchmark (anchor: --anchors repro)")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.root, "results"), exist_ok=True)
    os.environ.setdefault("ANCHORS_VENV", os.path.join(a.root, "venv"))
    sys.path.insert(0, os.path.join(SHARED, "bench", "anchors"))
    import anchors as A  # the shared harness: same timing, RSS and reference as ANCHORS.md
    results = os.path.join(a.root, "results", "results.jsonl")
    open(results, "w").close()
    A.ARGS = argparse.Namespace(root=a.root, results=results, scale=a.scale, runs=a.runs, reps=3)
    A.RESULTS = results
    if not a.only_repro:
        ensure_data(a.root, a.scale)
    for k in range(1, a.runs + 1):
        if not a.only_repro:
            part_strata(A, a.binary, k)
        part_strata_repro(A, a.binary, k)
    for tool in a.anchors.split():
        t0 = time.time()
        try:
            for k in range(1, a.runs + 1):
                getattr(A, f"part_{tool}")(k)
        except Exception as e:
            print(f"anchor {tool} failed: {e}", file=sys.stderr)
        print(f"{tool} took {time.time() - t0:.0f}s", file=sys.stderr)
    report(results, os.path.join(a.root, "results", "report.md"))
    if not a.keep:
        shutil.rmtree(os.path.join(a.root, "data"), ignore_errors=True)
        shutil.rmtree(os.path.join(a.root, "runs"), ignore_errors=True)


if __name__ == "__main__":
    main()
