"""Parquet tables for the merge test: `write base|ours|theirs FILE` writes one version (pyarrow, typed columns with
nulls); `check FILE` reads strata's merged file with pyarrow and prints OK, or what differs from the expected merge."""
import datetime as dt, decimal, json, sys
import pyarrow as pa, pyarrow.parquet as pq

SCHEMA = pa.schema([
    ("id", pa.int64()), ("name", pa.string()), ("score", pa.float64()), ("day", pa.date32()),
    ("at", pa.timestamp("us", tz="UTC")), ("amount", pa.decimal128(9, 2)), ("flag", pa.bool_()), ("n", pa.int32()),
])

def row(i, **changes):
    r = {"id": i, "name": f"Org {i}", "score": i / 4, "day": dt.date(2026, 1, i), "at": dt.datetime(2026, 1, i, 8, 30, 15, 250 * i, tzinfo=dt.timezone.utc),
         "amount": decimal.Decimal(f"{i}0.{i}5"), "flag": i % 2 == 0, "n": -i}
    r.update(changes)
    return r

BASE = [row(i) for i in range(1, 7)]
OURS = [row(1, name="Acme Ltd")] + [row(3), row(4, score=None), row(5), row(6), row(7, name=None)]
THEIRS = [row(1, amount=decimal.Decimal("99.99")), row(2), row(3, day=dt.date(2027, 5, 17)), row(4), row(5, flag=True), row(6), row(8)]
EXPECTED = [row(1, name="Acme Ltd", amount=decimal.Decimal("99.99")), row(3, day=dt.date(2027, 5, 17)), row(4, score=None),
            row(5, flag=True), row(6), row(7, name=None), row(8)]

if sys.argv[1] == "write":
    rows = {"base": BASE, "ours": OURS, "theirs": THEIRS}[sys.argv[2]]
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), sys.argv[3])
else:
    t = pq.read_table(sys.argv[2])
    types = {f.name: str(f.type) for f in t.schema}
    want = {f.name: str(f.type) for f in SCHEMA}
    got = t.to_pylist()
    if types != want:
        print("schema differs:", json.dumps(types), "expected", json.dumps(want))
    elif got != EXPECTED:
        print("rows differ:\n" + "\n".join(map(str, got)) + "\nexpected:\n" + "\n".join(map(str, EXPECTED)))
    else:
        try:
            import duckdb
        except ImportError:
            duckdb = None
        if duckdb is not None:  # a second, independent reader
            n = duckdb.sql(f"select count(*), sum(amount), count(name) from read_parquet('{sys.argv[2]}')").fetchall()[0]
            want_n = (len(EXPECTED), sum(r["amount"] for r in EXPECTED), sum(1 for r in EXPECTED if r["name"] is not None))
            if n != want_n:
                print("duckdb reads", n)
                sys.exit(0)
        print("OK")
