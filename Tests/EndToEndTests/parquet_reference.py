"""Independent check of strata's Parquet reader: DuckDB reads the same file.

    parquet_reference.py make DIR              writes fixtures (every codec; data page v1 and v2 encodings; row groups)
    parquet_reference.py compare ROWS.jsonl FILE.parquet KEY
                                               ROWS.jsonl: strata's `table diff --json` of FILE against a revision
                                               without it (every row "added"); each value is compared with DuckDB's,
                                               type-aware (numbers by value, timestamps by instant), nulls as absent.
Prints mismatches and exits 1 when any.
"""
import datetime, decimal, json, math, os, sys


def make(out):
    import duckdb
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
     (1, 'Karoo Data', 'GP', 0.5::DOUBLE, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.123456', TRUE, 12.34::DECIMAL(9,2), NULL, 7::TINYINT),
     (2, 'Ubuntu, "Holdings"', 'WC', 1.25::DOUBLE, DATE '1969-12-31', TIMESTAMP '1969-12-31 23:59:59', FALSE, -0.05::DECIMAL(9,2), 'note', -3::TINYINT),
     (3, 'Ünïcödé Ltd', NULL, NULL, NULL, NULL, NULL, NULL, 'multi
    line', NULL)) AS v(id, name, province, score, founded, seen, active, amount, note, tiny)""")
    for codec in ["uncompressed", "snappy", "gzip", "zstd"]:
        con.execute(f"COPY t TO '{out}/small-{codec}.parquet' (FORMAT parquet, COMPRESSION {codec})")
    big = """SELECT range AS id, 'org ' || (range % 1000) AS name, 'n' || range AS uniq, range * 1.5 AS score,
             (range % 7)::INTEGER AS small, CASE WHEN range % 3 = 0 THEN NULL ELSE range END AS maybe,
             (range % 2 = 0) AS flag, (range / 100.0)::DECIMAL(18,3) AS money FROM range(20000)"""
    con.execute(f"COPY ({big}) TO '{out}/big-v1.parquet' (FORMAT parquet, ROW_GROUP_SIZE 5000)")
    con.execute(f"COPY ({big}) TO '{out}/big-v2.parquet' (FORMAT parquet, PARQUET_VERSION V2, ROW_GROUP_SIZE 5000, COMPRESSION zstd)")


def same(ours, ref):
    if ref is None:
        return ours is None
    if ours is None:
        return False
    if isinstance(ref, bool):
        return ours == ("true" if ref else "false")
    if isinstance(ref, (int, decimal.Decimal)):
        return decimal.Decimal(ours) == decimal.Decimal(ref)
    if isinstance(ref, float):
        return math.isclose(float(ours), ref, rel_tol=1e-12)
    if isinstance(ref, datetime.datetime):
        t = datetime.datetime.fromisoformat(ours.replace("Z", "+00:00"))
        return t.replace(tzinfo=None) == ref.replace(tzinfo=None)
    if isinstance(ref, datetime.date):
        return ours == ref.isoformat()
    return ours == str(ref)


def compare(rows_path, parquet, key):
    import duckdb
    con = duckdb.connect()
    rel = con.execute(f"SELECT * FROM read_parquet('{parquet}')")
    cols = [d[0] for d in rel.description]
    ref = {str(r[cols.index(key)]): dict(zip(cols, r)) for r in rel.fetchall()}
    ours = {}
    for line in open(rows_path):
        d = json.loads(line)
        if d.get("op") == "added":
            ours[d["after"][key]] = d["after"]
    bad = []
    if set(ours) != set(ref):
        bad.append(f"keys differ: {len(ours)} ours, {len(ref)} DuckDB's")
    for k, r in ref.items():
        o = ours.get(k, {})
        for c in cols:
            if not same(o.get(c), r[c]):
                bad.append(f"key {k} column {c}: strata {o.get(c)!r}, DuckDB {r[c]!r}")
    for b in bad[:20]:
        print(b)
    print(f"{len(ref)} rows compared, {len(bad)} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    make(sys.argv[2]) if sys.argv[1] == "make" else compare(sys.argv[2], sys.argv[3], sys.argv[4])
