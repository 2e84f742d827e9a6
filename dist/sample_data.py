#!/usr/bin/env python3
"""Deterministic sample workspace for the Strata demo: curated tables and evidence logs.

    python3 dist/sample_data.py --out DIR [--version 1|2] [--rows N]

Version 1 writes raw/ (crawled source extracts), tables/ (curated CSVs) and evidence/
(one JSONL log per curation decision).  Version 2 changes an existing version-1 folder
in place the way a curator would: rows appended to every table, a block of rows
re-scored in the middle of organisations.csv, new evidence logs, one log removed.
Standard library only; the same arguments always give the same bytes.
"""
import argparse
import json
import os
import random

PROVINCES = ["GP", "WC", "KZN", "EC", "FS", "LP", "MP", "NW", "NC"]
SUFFIXES = ["(Pty) Ltd", "NPC", "Trust", "CC", "Holdings"]
WORDS = ["Karoo", "Ubuntu", "Sizwe", "Fynbos", "Highveld", "Umoya", "Lekker", "Baobab", "Indaba", "Zenzele"]


def org_rows(rng, start, count):
    for i in range(start, start + count):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)}"
        reg = f"{rng.randint(1990, 2026)}/{i:06d}/07"
        yield [i, name, reg, rng.choice(PROVINCES), f"{rng.random():.3f}", rng.choice(["active", "dormant", "deregistered"])]


def write_csv(path, header, rows, mode="w"):
    with open(path, mode, encoding="utf-8", newline="\n") as f:
        if mode == "w":
            f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(str(x) for x in r) + "\n")


def evidence(path, rng, table, first, n):
    with open(path, "w", encoding="utf-8") as f:
        for k in range(n):
            f.write(json.dumps({
                "record_id": first + k, "table": table,
                "source_url": f"https://registry.example.org/{table}/{first + k}",
                "http_status": 200, "decision": rng.choice(["keep", "merge", "reject"]),
                "confidence": round(rng.random(), 3), "sha": "%064x" % rng.getrandbits(256),
            }, sort_keys=True) + "\n")


def version1(out, rows):
    rng = random.Random(42)
    for d in ["raw", "tables", "evidence/crawl/organisations", "evidence/crawl/contacts"]:
        os.makedirs(os.path.join(out, d), exist_ok=True)
    write_csv(os.path.join(out, "tables/organisations.csv"), ["id", "name", "registration", "province", "score", "status"], org_rows(rng, 1, rows))
    write_csv(os.path.join(out, "tables/contacts.csv"), ["id", "org_id", "role", "channel"],
              ([i, rng.randint(1, rows), rng.choice(["director", "secretary", "auditor"]), rng.choice(["web", "post", "registry"])] for i in range(1, rows // 2)))
    write_csv(os.path.join(out, "tables/sources.csv"), ["id", "url", "fetched"],
              ([i, f"https://registry.example.org/batch/{i}", f"2026-11-{1 + i % 27:02d}"] for i in range(1, 200)))
    write_csv(os.path.join(out, "raw/organisations.csv"), ["id", "name", "registration", "province", "score", "status"], org_rows(random.Random(7), 1, rows // 4))
    write_csv(os.path.join(out, "raw/contacts.csv"), ["id", "org_id", "role", "score"],
              ([i, rng.randint(1, rows), rng.choice(["director", "secretary"]), f"{rng.random():.3f}"] for i in range(1, rows // 20)))
    write_csv(os.path.join(out, "raw/sources.csv"), ["id", "url", "score"],
              ([i, f"https://registry.example.org/batch/{i}", f"{rng.random():.3f}"] for i in range(1, 200)))
    for k in range(40):
        evidence(os.path.join(out, f"evidence/crawl/organisations/ev-{k:04d}.jsonl"), rng, "organisations", k * 25, 25)
    for k in range(10):
        evidence(os.path.join(out, f"evidence/crawl/contacts/ev-{k:04d}.jsonl"), rng, "contacts", k * 25, 25)


def version2(out, rows):
    rng = random.Random(43)
    orgs = os.path.join(out, "tables/organisations.csv")
    with open(orgs, encoding="utf-8") as f:
        lines = f.readlines()
    mid = len(lines) // 2
    for j in range(mid, min(mid + max(1, rows // 100), len(lines))):
        cells = lines[j].rstrip("\n").split(",")
        cells[4] = f"{rng.random():.3f}"
        lines[j] = ",".join(cells) + "\n"
    with open(orgs, "w", encoding="utf-8") as f:
        f.writelines(lines)
    write_csv(orgs, [], org_rows(rng, rows + 1, max(1, rows // 100)), mode="a")
    write_csv(os.path.join(out, "tables/contacts.csv"), [], ([i, rng.randint(1, rows), "director", "web"] for i in range(rows // 2, rows // 2 + 50)), mode="a")
    for k in range(40, 45):
        evidence(os.path.join(out, f"evidence/crawl/organisations/ev-{k:04d}.jsonl"), rng, "organisations", k * 25, 25)
    os.remove(os.path.join(out, "evidence/crawl/contacts/ev-0003.jsonl"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--version", type=int, default=1, choices=[1, 2])
    ap.add_argument("--rows", type=int, default=50000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    (version1 if a.version == 1 else version2)(a.out, a.rows)


if __name__ == "__main__":
    main()
