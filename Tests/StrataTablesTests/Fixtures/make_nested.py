"""Writes nested.parquet, the nested-Parquet fixture of ParquetNestedTests (checked in; rerun to regenerate):
a struct with a list, a map and a nested struct, with null structs, null and empty lists, null elements and null map
values, over two row groups, written once with data page v1 (Snappy) and once with v2 (zstd) by pyarrow."""
import pyarrow as pa, pyarrow.parquet as pq

rows = [
    {"add": {"path": "a.parquet", "tags": ["x", "y"], "pv": [("region", "GP"), ("year", None)], "dv": {"n": 3}}, "id": 1},
    {"add": None, "id": 2},
    {"add": {"path": "b.parquet", "tags": [], "pv": [], "dv": None}, "id": 3},
    {"add": {"path": "c.parquet", "tags": None, "pv": [("k", "v")], "dv": {"n": None}}, "id": 4},
    {"add": {"path": "d.parquet", "tags": [None, "z"], "pv": None, "dv": {"n": 7}}, "id": None},
]
schema = pa.schema([
    ("add", pa.struct([("path", pa.string()), ("tags", pa.list_(pa.string())), ("pv", pa.map_(pa.string(), pa.string())),
                       ("dv", pa.struct([("n", pa.int64())]))])),
    ("id", pa.int64()),
])
table = pa.Table.from_pylist(rows, schema=schema)
pq.write_table(table, "nested.parquet", row_group_size=2, compression="snappy", data_page_version="1.0")
pq.write_table(table, "nested-v2.parquet", row_group_size=3, compression="zstd", data_page_version="2.0")
