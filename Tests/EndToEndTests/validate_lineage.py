#!/usr/bin/env python3
"""Test helper: validates Strata's lineage output.

    validate_lineage.py events EVENTS.jsonl STANDARDS_DIR SCHEMAS_DIR
    validate_lineage.py prov FILE.jsonld
    validate_lineage.py dcat FILE.jsonld
    validate_lineage.py shacl FILE.jsonld DCAT_AP_DIR RECOMMENDED.ttl MAX_WARNINGS

events: every line against the official OpenLineage 2-0-2 RunEvent schema and the schemas of every facet
(official ones from STANDARDS_DIR/openlineage/spec, ours from SCHEMAS_DIR), plus the run lifecycle
(exactly one START and one terminal event per runId, UUIDv7 run ids), and parsed with openlineage-python's classes.
prov / dcat: parsed as JSON-LD documents with an inline @context, checked for the required nodes and properties.
shacl: pyshacl against the official DCAT-AP 3.0.1 shapes (DCAT_AP_DIR/dcat-ap-SHACL.ttl: any violation fails) and
the recommended-property shapes (RECOMMENDED.ttl: more than MAX_WARNINGS warnings fail); prints each warning.
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import json
import os
import re
import sys

failures = []


def fail(msg):
    failures.append(msg)


def events(path, standards, schemas):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    docs = {}
    spec = os.path.join(standards, "openlineage", "spec")
    for root, _, files in os.walk(spec):
        for f in files:
            if f.endswith(".json"):
                d = json.load(open(os.path.join(root, f)))
                docs[d["$id"]] = d
    for f in os.listdir(schemas):
        d = json.load(open(os.path.join(schemas, f)))
        docs[d["$id"]] = d
    registry = Registry().with_resources([(k, Resource.from_contents(v)) for k, v in docs.items()])
    main = docs["https://openlineage.io/spec/2-0-2/OpenLineage.json"]
    run_event = Draft202012Validator({"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}, registry=registry)
    lifecycle = {}
    n = 0
    for line in open(path):
        if not line.strip():
            continue
        n += 1
        e = json.loads(line)
        try:
            parse_with_client(e)
        except Exception as err:  # noqa: BLE001 — any refusal by the client's classes is a failure
            fail(f"event {n}: openlineage-python cannot parse it: {type(err).__name__}: {err}")
        for err in run_event.iter_errors(e):
            fail(f"event {n}: {err.message} at {list(err.absolute_path)}")
        facets = []
        facets += [("run", k, v) for k, v in e["run"].get("facets", {}).items()]
        facets += [("job", k, v) for k, v in e["job"].get("facets", {}).items()]
        for ds in e.get("inputs", []) + e.get("outputs", []):
            facets += [("dataset", k, v) for k, v in ds.get("facets", {}).items()]
            facets += [("output", k, v) for k, v in ds.get("outputFacets", {}).items()]
        for where, key, facet in facets:
            url = facet.get("_schemaURL", "")
            base, _, frag = url.partition("#")
            if base not in docs:
                fail(f"event {n}: facet {key} has an unknown schema {url}")
                continue
            v = Draft202012Validator({"$ref": url}, registry=registry)
            for err in v.iter_errors(facet):
                fail(f"event {n}: facet {key}: {err.message}")
        rid = e["run"]["runId"]
        if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", rid):
            fail(f"event {n}: runId {rid} is not a UUIDv7")
        lifecycle.setdefault(rid, []).append(e["eventType"])
        if e["eventType"] in ("COMPLETE",):
            for o in e.get("outputs", []):
                if "version" not in o.get("facets", {}):
                    fail(f"event {n}: output {o['name']} has no version facet")
    for rid, types in lifecycle.items():
        if types.count("START") != 1 or sum(types.count(t) for t in ("COMPLETE", "FAIL", "ABORT")) != 1:
            fail(f"run {rid}: lifecycle {types} is not one START and one terminal event")
    return n


def build(cls, data):
    """An instance of the client's attrs class `cls` from JSON `data`, nested classes built recursively; keys the
    class does not know are an error (strict), so a renamed or misspelt field is caught."""
    import typing
    import attr
    hints = typing.get_type_hints(cls)
    kwargs, known = {}, set()
    for a in attr.fields(cls):
        alias = getattr(a, "alias", None) or a.name.lstrip("_")
        key = a.name if a.name in data else alias
        known.update({a.name, alias})
        if key not in data or not a.init:
            continue
        kwargs[alias] = convert(hints.get(a.name), data[key])
    extra = set(data) - known - {"_producer", "_schemaURL", "_deleted"}
    if extra:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(extra)}")
    return cls(**kwargs)


def convert(hint, value):
    import typing
    import attr
    if value is None or hint is None:
        return value
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return convert(args[0], value) if len(args) == 1 else value
    if origin is list:
        return [convert(args[0], v) for v in value]
    if origin is dict:
        return dict(value)
    if isinstance(hint, type) and attr.has(hint) and isinstance(value, dict):
        return build(hint, value)
    if isinstance(hint, type) and issubclass(hint, __import__("enum").Enum):
        return hint(value)
    return value


def parse_with_client(e):
    """Parses one event with openlineage-python's own classes (event_v2, facet_v2): the run, job and datasets, and
    every standard facet. Strata's custom facets are checked by their JSON schemas instead."""
    from openlineage.client import event_v2 as ev
    from openlineage.client.facet_v2 import (parent_run, processing_engine_run, error_message_run, job_type_job, source_code_job,
                                             datasource_dataset, schema_dataset, symlinks_dataset, dataset_version_dataset,
                                             output_statistics_output_dataset)
    known = {
        "parent": parent_run.ParentRunFacet, "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
        "errorMessage": error_message_run.ErrorMessageRunFacet, "jobType": job_type_job.JobTypeJobFacet,
        "sourceCode": source_code_job.SourceCodeJobFacet, "dataSource": datasource_dataset.DatasourceDatasetFacet,
        "schema": schema_dataset.SchemaDatasetFacet, "symlinks": symlinks_dataset.SymlinksDatasetFacet,
        "version": dataset_version_dataset.DatasetVersionDatasetFacet,
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
    }

    def facets(d):
        out = {}
        for k, v in (d or {}).items():
            if k in known:
                out[k] = build(known[k], v)
        return out

    def dataset(cls, d):
        kw = {"namespace": d["namespace"], "name": d["name"], "facets": facets(d.get("facets"))}
        if "outputFacets" in d:
            kw["outputFacets"] = facets(d["outputFacets"])
        return cls(**kw)

    return ev.RunEvent(
        eventType=ev.RunState(e["eventType"]), eventTime=e["eventTime"], producer=e["producer"],
        run=ev.Run(runId=e["run"]["runId"], facets=facets(e["run"].get("facets"))),
        job=ev.Job(namespace=e["job"]["namespace"], name=e["job"]["name"], facets=facets(e["job"].get("facets"))),
        inputs=[dataset(ev.InputDataset, d) for d in e.get("inputs", [])],
        outputs=[dataset(ev.OutputDataset, d) for d in e.get("outputs", [])])


def shacl(path, dcat_ap, recommended, max_warnings):
    from pyshacl import validate
    from rdflib import Graph
    from rdflib.namespace import SH
    data = Graph().parse(path, format="json-ld")
    official = Graph().parse(os.path.join(dcat_ap, "dcat-ap-SHACL.ttl"), format="turtle")
    conforms, report, text = validate(data, shacl_graph=official, inference="none")
    if not conforms:
        fail(f"{path}: DCAT-AP 3.0.1 violations:\n{text}")
    _, report, _ = validate(data, shacl_graph=Graph().parse(recommended, format="turtle"), inference="none", allow_warnings=True)
    warnings = []
    for r in report.subjects(SH.resultSeverity, SH.Warning):
        warnings.append(f"{report.value(r, SH.focusNode)} lacks {report.value(r, SH.resultPath)}")
    for w in sorted(warnings):
        print("warning:", w)
    if len(warnings) > int(max_warnings):
        fail(f"{path}: {len(warnings)} recommended-property warnings (at most {max_warnings} expected)")
    print(f"warnings: {len(warnings)}")
    return 1


def jsonld(path):
    d = json.load(open(path))
    if not isinstance(d.get("@context"), dict):
        fail(f"{path}: no inline @context")
    return d


def nodes(d):
    out = []
    def walk(x):
        if isinstance(x, dict):
            if "@type" in x:
                out.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(d)
    return out


def types(n):
    t = n.get("@type", [])
    return t if isinstance(t, list) else [t]


def prov(path):
    d = jsonld(path)
    ns = nodes(d)
    acts = [n for n in ns if "prov:Activity" in types(n)]
    if not acts:
        fail("prov: no prov:Activity")
    for a in acts:
        for p in ("prov:startedAtTime", "prov:wasAssociatedWith", "dct:identifier"):
            if p not in a:
                fail(f"prov: activity {a.get('@id')} lacks {p}")
    if not any("prov:SoftwareAgent" in types(n) for n in ns):
        fail("prov: no software agent")
    for n in ns:
        if "@id" in n and not re.match(r"^(urn:|https?:)", n["@id"]):
            fail(f"prov: relative @id {n['@id']}")
        if "strata:DatasetVersion" in types(n) and not str(n.get("strata:contentHash", "")).startswith("sha256:"):
            fail(f"prov: version {n['@id']} lacks a content hash")
    return 1


def dcat(path):
    d = jsonld(path)
    graph = d.get("@graph", [d])
    cats = [n for n in graph if n.get("@type") == "dcat:Catalog"]
    if len(cats) != 1:
        fail("dcat: no single dcat:Catalog node")
        return 1
    c = cats[0]
    ids = {n.get("@id") for n in graph}
    for p in ("dct:title", "dct:description", "dct:publisher", "dcat:dataset"):
        if p not in c:
            fail(f"dcat: catalog lacks {p}")
    if c.get("dct:publisher", {}).get("@id") not in ids:
        fail("dcat: the publisher is not described in the graph")
    for ds in c.get("dcat:dataset", []):
        for p in ("dct:title", "dct:description", "dct:identifier", "dcat:distribution", "dcat:version"):
            if p not in ds:
                fail(f"dcat: dataset {ds.get('@id')} lacks {p}")
        if ds.get("dct:identifier") != ds.get("@id"):
            fail("dcat: the dataset identifier is not its stable IRI")
        t = ds.get("dct:temporal")
        if t is not None and (t.get("@type") != "dct:PeriodOfTime" or "dcat:startDate" not in t):
            fail("dcat: temporal is not a PeriodOfTime with a start")
        for dist in ds.get("dcat:distribution", []):
            if "dcat:accessURL" not in dist or ("dcat:mediaType" not in dist and "dct:format" not in dist):
                fail("dcat: distribution lacks accessURL or media type")
            m = dist.get("dcat:mediaType", {}).get("@id", "")
            if m.endswith(("/application/jsonl", "/application/x-ndjson", "/application/x-directory")):
                fail(f"dcat: {m} is not an IANA-registered media type")
            ch = dist.get("spdx:checksum")
            if ch and not re.match(r"^[0-9a-f]{64}$", ch["spdx:checksumValue"]["@value"]):
                fail("dcat: checksum is not lower-case sha256 hex")
    return 1


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "events":
        n = events(*sys.argv[2:5])
    elif kind == "prov":
        n = prov(sys.argv[2])
    elif kind == "shacl":
        n = shacl(*sys.argv[2:6])
    else:
        n = dcat(sys.argv[2])
    for f in failures[:30]:
        print(f)
    print(f"{max(n, 1) if not failures else 0} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)
