"""Apache Iceberg fixtures for the tests, written with pyiceberg (SQL catalog on SQLite, warehouse ./lake).

    iceberg_fixture.py step N      applies step N to crm.orgs (create + append, append, delete, rename a column)
    iceberg_fixture.py rows        the rows of the table as its newest metadata file in lake/crm/orgs/metadata
                                   describes it (pyiceberg StaticTable: no catalog), as JSON sorted by id
    iceberg_fixture.py summary     the current snapshot's summary
"""
import glob, json, os, sys
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import StaticTable

META = "lake/crm/orgs/metadata"


def catalog():
    os.makedirs("lake", exist_ok=True)
    return SqlCatalog("default", uri=f"sqlite:///{os.path.abspath('catalog.db')}", warehouse=f"file://{os.path.abspath('lake')}")


def step(n):
    cat = catalog()
    if n == 0:
        cat.create_namespace("crm")
        t = cat.create_table("crm.orgs", schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
        t.append(pa.table({"id": [1, 2, 3], "name": ["Karoo", "Ubuntu", "Sable"]}))
        return
    t = cat.load_table("crm.orgs")
    if n == 1:
        t.append(pa.table({"id": [4], "name": ["Fynbos"]}))
    elif n == 2:
        t.delete("id = 2")
    elif n == 3:
        with t.update_schema() as u:
            u.rename_column("name", "org_name")


def newest():
    def number(p):
        return int(os.path.basename(p).split("-")[0].lstrip("v").split(".")[0])
    return max(glob.glob(META + "/*.metadata.json"), key=number)


def rows():
    t = StaticTable.from_metadata(os.path.abspath(newest()))
    return sorted(t.scan().to_arrow().to_pylist(), key=lambda r: r["id"])


if __name__ == "__main__":
    if sys.argv[1] == "step":
        step(int(sys.argv[2]))
    elif sys.argv[1] == "rows":
        print(json.dumps(rows(), sort_keys=True))
    elif sys.argv[1] == "summary":
        t = StaticTable.from_metadata(os.path.abspath(newest()))
        print(json.dumps(t.current_snapshot().summary.additional_properties | {"operation": t.current_snapshot().summary.operation.value}, sort_keys=True))
