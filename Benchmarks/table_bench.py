#!/usr/bin/env python3
"""Row diff: Strata against daff, csv-diff, a pandas merge and DuckDB on the same two CSV versions.

    Benchmarks/tables.sh [--rows N] [--root DIR] [--timeout S]

v1 -> v2 (1 % of rows modified, 0.5 % deleted, 0.5 % appended, spread over the file) is diffed by every tool; Strata
also diffs v1 -> v3 (1 % of rows modified in one block), where its record-aligned chunks let identical chunks cancel
unparsed. Every step runs under /usr/bin/time -v (seconds, peak RSS). Prints a Markdown table; raw records in
ROOT/results/tables.jsonl.
"""
import argparse, json, os, re, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

PANDAS = r'''
import sys, pandas as pd
a = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
b = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
m = a.merge(b, on="id", how="outer", suffixes=("_a", "_b"), indicator=True)
both = m[m["_merge"] == "both"]
cols = [c for c in a.columns if c != "id" and c in b.columns]
changed = (both[[c + "_a" for c in cols]].values != both[[c + "_b" for c in cols]].values).any(axis=1)
print(f"added {(m['_merge'] == 'right_only').sum()} removed {(m['_merge'] == 'left_only').sum()} modified {changed.sum()}")
'''
DUCKDB = r'''
import sys, duckdb
con = duckdb.connect()
con.execute(f"CREATE TABLE a AS SELECT * FROM read_csv('{sys.argv[1]}', all_varchar=true, header=true)")
con.execute(f"CREATE TABLE b AS SELECT * FROM read_csv('{sys.argv[2]}', all_varchar=true, header=true)")
cols = [r[0] for r in con.execute("DESCRIBE a").fetchall() if r[0] != "id"]
cond = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in cols)
added = con.execute("SELECT count(*) FROM b ANTI JOIN a USING (id)").fetchone()[0]
removed = con.execute("SELECT count(*) FROM a ANTI JOIN b USING (id)").fetchone()[0]
modified = con.execute(f"SELECT count(*) FROM a JOIN b USING (id) WHERE {cond}").fetchone()[0]
print(f"added {added} removed {removed} modified {modified}")
'''


def timed(cmd, cwd, timeout):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["/usr/bin/time", "-v", "bash", "-c", cmd], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"wall": None, "rss_mb": None, "out": f"timeout after {timeout} s"}
    wall = time.perf_counter() - t0
    m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return {"wall": round(wall, 2), "rss_mb": round(int(m.group(1)) / 1024, 1) if m else None, "rc": p.returncode,
            "out": p.stdout.decode(errors="replace")[-300:].strip().splitlines()[-1:] if p.stdout else []}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--root", default=os.environ.get("STRATA_BENCH_ROOT", "/tmp/strata-bench"))
    ap.add_argument("--binary", default=os.path.join(TOP, ".build", "release", "strata"))
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args()
    data = os.path.join(a.root, "tables")
    os.makedirs(data, exist_ok=True)
    marker = os.path.join(data, f".rows-{a.rows}")
    if not os.path.exists(marker):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_table.py"), str(a.rows), data], check=True)
        open(marker, "w").close()
    ws = os.path.join(data, "ws")
    subprocess.run(["rm", "-rf", ws]); os.makedirs(ws + "/tables")
    S = a.binary
    for v in ("v1", "v2", "v3"):
        if v == "v3":
            subprocess.run(f"'{S}' checkout -q v1 -- tables/orgs.csv", shell=True, cwd=ws, check=True)
        if v == "v1":
            subprocess.run(f"'{S}' init -q", shell=True, cwd=ws, check=True)
        subprocess.run(f"cp '{data}/{v}.csv' tables/orgs.csv && '{S}' commit -q -m {v} >/dev/null && '{S}' tag {v}", shell=True, cwd=ws, check=True,
                       env=dict(os.environ, STRATA_AUTHOR="Bench <bench@example.org>"))
    size = os.path.getsize(f"{data}/v1.csv")
    for name, text in (("pandas_diff.py", PANDAS), ("duckdb_diff.py", DUCKDB)):
        open(os.path.join(data, name), "w").write(text)
    steps = [
        ("strata table diff --stat (v1 -> v2)", f"'{S}' table diff v1 v2 tables/orgs.csv --key id --stat", ws),
        ("strata table diff --json (v1 -> v2)", f"'{S}' table diff v1 v2 tables/orgs.csv --key id --json > /dev/null", ws),
        ("strata table diff, text (v1 -> v2)", f"'{S}' table diff v1 v2 tables/orgs.csv --key id > /dev/null", ws),
        ("strata table diff --stat (v1 -> v3, local change)", f"'{S}' table diff v1 v3 tables/orgs.csv --key id --stat", ws),
        ("strata table diff --stat, 64 MB budget (v1 -> v2)", f"'{S}' table diff v1 v2 tables/orgs.csv --key id --stat --memory 64MB --strict-keys", ws),
        ("DuckDB join diff (v1 -> v2)", f"'{a.python}' duckdb_diff.py v1.csv v2.csv", data),
        ("pandas merge diff (v1 -> v2)", f"'{a.python}' pandas_diff.py v1.csv v2.csv", data),
        ("csv-diff --key id (v1 -> v2)", "csv-diff v1.csv v2.csv --key id > /dev/null", data),
        ("daff --id id (v1 -> v2)", "daff diff --id id v1.csv v2.csv > /dev/null", data),
    ]
    rows = []
    with open(os.path.join(a.root, "results", "tables.jsonl"), "w") as out:
        for name, cmd, cwd in steps:
            r = timed(cmd, cwd, a.timeout)
            r["step"] = name
            rows.append(r)
            out.write(json.dumps(r) + "\n")
            if r.get("rc", 0) != 0:
                r["out"] = [f"failed, exit {r['rc']}"]
            print(f"{name}: {r['wall']} s, {r['rss_mb']} MB {r.get('out')}", file=sys.stderr, flush=True)
    lines = [f"{a.rows:,} rows x 12 columns, {size / 1e6:.0f} MB per version", "", "| step | seconds | peak RSS MB | output |", "|---|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['wall'] if r['wall'] is not None else 'timeout'} | {r['rss_mb']} | {' '.join(r.get('out') or [])[:120]} |")
    text = "\n".join(lines)
    print(text)
    open(os.path.join(a.root, "results", "tables.md"), "w").write(text + "\n")


if __name__ == "__main__":
    main()
