"""Apache Iceberg fixtures for the tests, written with pyiceberg (SQL catalog on SQLite, warehouse ./lake).

    iceberg_fixture.py step N      applies step N to crm.orgs (create + append, append, delete, rename a column,
                                   then merge-on-read: a position delete, an equality delete, an append)
    iceberg_fixture.py rows        the rows of the table as its newest metadata file in lake/crm/orgs/metadata
                                   describes it (pyiceberg StaticTable: no catalog), as JSON sorted by id
    iceberg_fixture.py summary     the current snapshot's summary
"""
import glob, json, os, sys, uuid
import pyarrow as pa
import pyarrow.parquet as pq
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
    elif n == 4:  # merge-on-read: a position delete of the row id 4
        files = [task.file.file_path for task in t.scan().plan_files()]
        for f in files:
            ids = pq.read_table(f.removeprefix("file://")).column("id").to_pylist()
            if 4 in ids:
                delete_file(t, 1, pa.table({"file_path": pa.array([f], pa.string()), "pos": pa.array([ids.index(4)], pa.int64())},
                                           schema=pa.schema([pa.field("file_path", pa.string(), False, {b"PARQUET:field_id": b"2147483546"}),
                                                             pa.field("pos", pa.int64(), False, {b"PARQUET:field_id": b"2147483545"})])))
    elif n == 5:  # merge-on-read: an equality delete of the rows whose org_name is Karoo (field id 2)
        delete_file(t, 2, pa.table({"org_name": ["Karoo"]}, schema=pa.schema([pa.field("org_name", pa.string(), True, {b"PARQUET:field_id": b"2"})])),
                    equality_ids=[2])
    elif n == 6:  # written after the equality delete: a new Karoo row stays (its sequence number is higher)
        t.append(pa.table({"id": [9], "org_name": ["Karoo"]}))


def delete_file(t, content, table, equality_ids=None):
    """Commits a snapshot that adds one delete file (content 1: positions, 2: equality) in a delete manifest, as
    Spark or Flink write them in merge-on-read mode (pyiceberg itself only writes copy-on-write deletes)."""
    import pyiceberg.table.update.snapshot as snapshot
    from pyiceberg.manifest import DataFile, DataFileContent, FileFormat, ManifestContent
    from pyiceberg.table.snapshots import Operation
    from pyiceberg.typedef import Record
    path = f"{t.location().removeprefix('file://')}/data/delete-{uuid.uuid4()}.parquet"
    pq.write_table(table, path)
    df = DataFile.from_args(content=DataFileContent(content), file_path="file://" + path, file_format=FileFormat.PARQUET, partition=Record(),
                            record_count=table.num_rows, file_size_in_bytes=os.path.getsize(path), equality_ids=equality_ids)
    original = snapshot.write_manifest

    def deletes(*args, **kwargs):
        writer = original(*args, **kwargs)
        writer.content = lambda: ManifestContent.DELETES
        return writer
    snapshot.write_manifest = deletes
    try:
        with t.transaction() as tx:
            producer = snapshot._FastAppendFiles(operation=Operation.DELETE, transaction=tx, io=t.io)
            producer.append_data_file(df)
            producer.commit()
    finally:
        snapshot.write_manifest = original


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
