"""Delta Lake fixtures for the tests, written and read with delta-rs (the `deltalake` package).

    delta_fixture.py step N            applies step N to ./lake/events (appends, overwrite, delete, update, schema
                                       evolution, compaction, checkpoint)
    delta_fixture.py feed N            applies step N to ./lake/feed, a table with the Change Data Feed on (update,
                                       delete, append, merge, a wide update)
    delta_fixture.py cleanup           deletes the JSON commits older than the newest checkpoint (what log retention
                                       does once they expire)
    delta_fixture.py rows [VERSION]    the table's rows (at VERSION, else the newest) as JSON, sorted by id
    delta_fixture.py version           the newest version
    delta_fixture.py changes A B       rows added / removed / modified between versions A and B, keyed by id (pandas)
    delta_fixture.py multiset A B      rows only in A and only in B, as multisets of whole rows (a keyless diff)
The table is ./lake/events unless DELTA_TABLE names another.
"""
import json, os, sys
import pandas as pd
from deltalake import DeltaTable, write_deltalake

P = os.environ.get("DELTA_TABLE", "lake/events")


def step(n):
    if n == 0:
        write_deltalake(P, pd.DataFrame({"id": [1, 2, 3], "name": ["Karoo", "Ubuntu", "Sable"], "region": ["GP", "WC", "GP"]}), partition_by=["region"])
    elif n == 1:
        write_deltalake(P, pd.DataFrame({"id": [4, 5], "name": ["Fynbos", "Baobab"], "region": ["EC", "GP"]}), mode="append")
    elif n == 2:
        DeltaTable(P).delete("id = 2")
    elif n == 3:
        DeltaTable(P).update({"name": "'Karoo Data'"}, predicate="id = 1")
    elif n == 4:
        write_deltalake(P, pd.DataFrame({"id": [6], "name": ["Protea"], "region": ["WC"], "score": [0.75]}), mode="append", schema_mode="merge")
    elif n == 5:
        DeltaTable(P).optimize.compact()
        DeltaTable(P).create_checkpoint()
    elif n == 6:
        write_deltalake(P, pd.DataFrame({"id": [7, 8], "name": ["Aloe", "Cycad"], "region": ["GP", "GP"], "score": [1.0, 2.0]}), mode="overwrite")


def feed(n):
    if n == 0:
        ids = list(range(1, 201))
        write_deltalake(P, pd.DataFrame({"id": ids, "name": [f"org {i}" for i in ids], "score": [i / 10 for i in ids]}),
                        configuration={"delta.enableChangeDataFeed": "true"})
    elif n == 1:
        DeltaTable(P).update({"name": "'Karoo Data'"}, predicate="id = 5")
    elif n == 2:
        DeltaTable(P).delete("id = 7 OR id = 8")
    elif n == 3:
        write_deltalake(P, pd.DataFrame({"id": [500, 501], "name": ["Aloe", "Cycad"], "score": [1.5, 2.5]}), mode="append")
    elif n == 4:
        src = pd.DataFrame({"id": [5, 9, 600], "name": ["Karoo", "Sable Data", "Protea"], "score": [0.5, 0.9, 60.0]})
        (DeltaTable(P).merge(src, "s.id = t.id", source_alias="s", target_alias="t")
         .when_matched_update_all().when_not_matched_insert_all().execute())
    elif n == 5:
        DeltaTable(P).update({"score": "score + 1"}, predicate="id % 10 = 0")
    elif n == 6:
        DeltaTable(P).update({"name": "'Karoo'"}, predicate="id = 9")  # id 9 back to... a new value; id 5 stays


def cleanup():
    log = P + "/_delta_log"
    checkpoints = [int(n[:20]) for n in os.listdir(log) if ".checkpoint." in n]
    for n in os.listdir(log):
        if n.endswith(".json") and len(n) == 25 and int(n[:20]) < max(checkpoints):
            os.remove(os.path.join(log, n))


def multiset(a, b):
    ra = [json.dumps(r, sort_keys=True, default=str) for r in rows(a)]
    rb = [json.dumps(r, sort_keys=True, default=str) for r in rows(b)]
    from collections import Counter
    ca, cb = Counter(ra), Counter(rb)
    return {"removed": sum((ca - cb).values()), "added": sum((cb - ca).values())}


def rows(version=None):
    dt = DeltaTable(P, version=version) if version is not None else DeltaTable(P)
    df = dt.to_pandas().sort_values("id")
    return [{k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()} for r in df.to_dict("records")]


def changes(a, b):
    ra = {r["id"]: r for r in rows(a)}
    rb = {r["id"]: r for r in rows(b)}
    cols = set().union(*[r.keys() for r in list(ra.values()) + list(rb.values())]) if ra or rb else set()
    modified = sum(1 for k in ra.keys() & rb.keys() if any(ra[k].get(c) != rb[k].get(c) for c in cols))
    return {"added": len(rb.keys() - ra.keys()), "removed": len(ra.keys() - rb.keys()), "modified": modified}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "step":
        step(int(sys.argv[2]))
    elif cmd == "feed":
        feed(int(sys.argv[2]))
    elif cmd == "cleanup":
        cleanup()
    elif cmd == "multiset":
        print(json.dumps(multiset(int(sys.argv[2]), int(sys.argv[3])), sort_keys=True))
    elif cmd == "rows":
        print(json.dumps(rows(int(sys.argv[2]) if len(sys.argv) > 2 else None), sort_keys=True, default=str))
    elif cmd == "version":
        print(DeltaTable(P).version())
    elif cmd == "changes":
        print(json.dumps(changes(int(sys.argv[2]), int(sys.argv[3])), sort_keys=True))
