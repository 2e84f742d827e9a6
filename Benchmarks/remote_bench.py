#!/usr/bin/env python3
"""Remotes: Strata against `aws s3 sync`, DVC and restic on one local S3 server (moto, auth mode, 127.0.0.1).

    Benchmarks/remote.sh [--scale S] [--root DIR] [--tools "aws dvc restic"]

Starts moto and, in front of it, the counting proxy of the tests (Tests/StrataRemoteTests/fault_proxy.py, no faults)
so every tool's requests and body bytes are counted the same way. Times, under /usr/bin/time -v (the shared anchors
harness): strata push of v1, a no-op push, clone of v1, push of v2 (incremental), pull of v2; the same push of v1 to a
folder remote (so moto's share of the time shows); `aws s3 sync` of the raw v1 workspace up and down; `dvc push` and
`dvc pull` to an S3 remote; `restic backup` and `restic restore` to an S3 repository. Prints a Markdown table and
writes ROOT/results/remote.jsonl.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SHARED = os.environ.get("STRATA_SHARED", os.path.join(os.path.dirname(TOP), "shared"))
GEN = os.path.join(SHARED, "bench", "gen_dataset.py")
SYNC = os.path.join(SHARED, "bench", "sync_tree.py")
FIXTURES = os.path.join(TOP, "Tests", "StrataRemoteTests")


def sh(cmd, cwd="/", env=None):
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, check=True, stdout=subprocess.PIPE).stdout.decode()


class Fixture:
    """A fixture script that prints one JSON line and runs until its stdin closes."""

    def __init__(self, *args):
        self.p = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.info = json.loads(self.p.stdout.readline())

    def stop(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--root", default=os.environ.get("STRATA_BENCH_ROOT", "/tmp/strata-bench"))
    ap.add_argument("--binary", default=os.path.join(TOP, ".build", "release", "strata"))
    ap.add_argument("--tools", default="aws dvc restic")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(SHARED, "bench", "anchors"))
    import anchors as A
    os.makedirs(os.path.join(a.root, "results"), exist_ok=True)
    results = os.path.join(a.root, "results", "remote.jsonl")
    open(results, "w").close()
    A.ARGS = argparse.Namespace(root=a.root, results=results, scale=a.scale, runs=1, reps=1)
    A.RESULTS = results
    for v in (1, 2):
        if not os.path.exists(f"{a.root}/data/v{v}/.complete-{a.scale}"):
            print(f"generating v{v} at scale {a.scale}", file=sys.stderr, flush=True)
            sh(f"python3 '{GEN}' --out '{a.root}/data/v{v}' --version {v} --scale {a.scale} --force --quiet")
            open(f"{a.root}/data/v{v}/.complete-{a.scale}", "w").close()
    os.environ["MOTO_S3_DEFAULT_MAX_KEYS"] = "1000"  # S3's page size (the tests use 5 to exercise pagination)
    moto = Fixture(os.path.join(FIXTURES, "moto_fixture.py"))
    proxy = Fixture(os.path.join(FIXTURES, "fault_proxy.py"), moto.info["endpoint"])
    ep = proxy.info["endpoint"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=moto.info["access_key"], AWS_SECRET_ACCESS_KEY=moto.info["secret_key"],
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", STRATA_AUTHOR="Bench <bench@example.org>",
               RESTIC_PASSWORD="bench-only", AWS_EC2_METADATA_DISABLED="true")
    rows = []

    def stats(reset=False):
        req = urllib.request.Request(ep + "/__stats", method="POST" if reset else "GET")
        return json.loads(urllib.request.urlopen(req).read())

    def step(tool, name, cmd, cwd, **extra):
        stats(reset=True)
        r = A.timed(cmd, cwd, env)
        s = stats()
        rec = A.record(tool, 1, name, r, cmd=cmd, requests=s["requests"], bytes_up=s["bytes_up"], bytes_down=s["bytes_down"], **extra)
        rec["stdout"] = r["stdout"]
        rows.append(rec)
        return rec

    base = os.path.join(a.root, "runs", "remote")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    S = f"'{a.binary}'"
    v1 = f"{a.root}/data/v1"
    try:
        # Strata.
        ws = os.path.join(base, "ws")
        sh(f"cp -a '{v1}' '{ws}' && rm -f '{ws}'/.complete-*")
        sh(f"{S} init -q && {S} commit -q -m v1 && {S} remote add origin s3://strata-test/strata --endpoint {ep} >/dev/null", ws, env)
        sh(f"{S} remote add folder file://{base}/folder-remote >/dev/null", ws, env)
        p1 = step("strata", "push v1", f"{S} push origin --json", ws)
        step("strata", "push v1 (folder remote)", f"{S} push folder main --json", ws)
        step("strata", "no-op push", f"{S} push origin --json", ws)
        step("strata", "clone v1", f"{S} clone s3://strata-test/strata '{base}/clone' --endpoint {ep} -q", base)
        sh(f"python3 '{SYNC}' --keep .strata '{a.root}/data/v2' '{ws}' >/dev/null && rm -f '{ws}'/.complete-*")
        sh(f"{S} commit -q -m v2", ws, env)
        p2 = step("strata", "push v2", f"{S} push origin --json", ws)
        step("strata", "pull v2", f"{S} pull -q", f"{base}/clone")
        for rec in (p1, p2):
            rec["packs"] = json.loads(rec["stdout"])["packs"]
        # aws s3 sync: just copy the files.
        if "aws" in a.tools.split():
            step("aws", "aws s3 sync up (v1)", f"aws s3 sync . s3://strata-test/raw --endpoint-url {ep} --only-show-errors", v1)
            os.makedirs(f"{base}/aws-down")
            step("aws", "aws s3 sync down (v1)", f"aws s3 sync s3://strata-test/raw . --endpoint-url {ep} --only-show-errors", f"{base}/aws-down")
        # DVC: the workspace as one tracked folder, an S3 remote with this endpoint.
        if "dvc" in a.tools.split():
            dvc = os.path.join(a.root, "venv", "bin", "dvc")
            d = os.path.join(base, "dvc")
            os.makedirs(d)
            sh(f"cp -a '{v1}' '{d}/data' && rm -f '{d}'/data/.complete-* && git init -q && {dvc} init -q && {dvc} add -q data"
               f" && {dvc} remote add -d s3 s3://strata-test/dvc && {dvc} remote modify s3 endpointurl {ep}"
               f" && git add -A && git -c user.email=b@example.org -c user.name=b commit -qm v1", d, env)
            step("dvc", "dvc push (v1)", f"{dvc} push -q", d)
            sh(f"git clone -q '{d}' '{base}/dvc-clone'")
            step("dvc", "dvc pull (v1)", f"{dvc} pull -q || {dvc} pull -v 2>&1 | grep -i error | head -5 >&2; exit ${{PIPESTATUS[0]}}", f"{base}/dvc-clone")
        # restic: a backup of the raw workspace to an S3 repository, and a restore.
        if "restic" in a.tools.split():
            repo = f"s3:{ep}/strata-test/restic"
            sh(f"restic -r {repo} init -q", base, env)
            step("restic", "restic backup (v1)", f"restic -r {repo} backup -q .", v1)
            step("restic", "restic restore (v1)", f"restic -r {repo} restore latest -q --target '{base}/restic-down'", base)
    finally:
        proxy.stop()
        moto.stop()
    by = {(r["tool"], r["step"]): r for r in rows}
    out = ["| step | seconds | requests | MB up | MB down | peak RSS MB | ratio |", "|---|---:|---:|---:|---:|---:|---|"]
    up = by.get(("aws", "aws s3 sync up (v1)"))
    down = by.get(("aws", "aws s3 sync down (v1)"))
    for r in rows:
        ratio = ""
        if r["tool"] == "strata" and r["step"] in ("push v1", "push v1 (folder remote)", "push v2") and up:
            ratio = f"{r['wall'] / up['wall']:.2f}× aws s3 sync up"
        if r["step"] in ("clone v1",) and down:
            ratio = f"{r['wall'] / down['wall']:.2f}× aws s3 sync down"
        if r["step"] == "push v2":
            ratio += f"; {r['bytes_up'] / max(1, by[('strata', 'push v1')]['bytes_up']) * 100:.1f} % of v1's bytes; {r['requests'] - r.get('packs', 0)} requests besides {r.get('packs', 0)} data packs"
        out.append(f"| {r['tool']}: {r['step']} | {r['wall']:.2f} | {r['requests']} | {r['bytes_up'] / 1e6:.1f} | {r['bytes_down'] / 1e6:.1f} | {r['rss_mb']} | {ratio} |")
    f = by.get(("strata", "push v1 (folder remote)"))
    s3 = by.get(("strata", "push v1"))
    if f and s3:
        out.append(f"\nmoto + proxy share of `strata push v1`: {max(0.0, 1 - f['wall'] / s3['wall']) * 100:.0f} % (the same push to a folder remote took {f['wall']:.2f} s)")
    text = "\n".join(out)
    print(text)
    open(os.path.join(a.root, "results", "remote.md"), "w").write(text + "\n")


if __name__ == "__main__":
    main()
