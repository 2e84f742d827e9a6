#!/usr/bin/env python3
"""Checks the module layering: every `import` in Sources/ (and Benchmarks/ executables) must be declared as a
dependency of its target in Package.swift and allowed by docs/layering.json; every declared dependency must be
allowed too. Prints each violation and exits 1 when there is any. Usage: scripts/check-layering.py [--dump FILE]"""
import json, os, re, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
layering = json.load(open(os.path.join(root, "docs/layering.json")))
allowed = layering["allowed"]
system = set(layering["system"])

if len(sys.argv) > 2 and sys.argv[1] == "--dump":
    package = json.load(open(sys.argv[2]))
else:
    out = subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout
    package = json.loads(out)

def dep_names(target):
    names = []
    for d in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in d:
                names.append(d[kind][0])
    return names

problems = []
layer_of = {m: i for i, l in enumerate(layering["layers"]) for m in l["modules"]}
import_re = re.compile(r"^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)?import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)
for t in package["targets"]:
    name, kind = t["name"], t["type"]
    if kind == "test":
        continue
    if name not in allowed:
        problems.append(f"{name}: not listed in docs/layering.json")
        continue
    declared = set(dep_names(t))
    for d in sorted(declared - set(allowed[name])):
        problems.append(f"{name}: Package.swift declares a dependency on {d}, which docs/layering.json does not allow")
    path = t.get("path") or os.path.join("Sources", name)
    folder = os.path.join(root, path)
    for dirpath, _, files in os.walk(folder):
        for f in files:
            if not f.endswith(".swift"):
                continue
            text = open(os.path.join(dirpath, f), encoding="utf-8").read()
            for m in import_re.finditer(text):
                mod = m.group(1)
                if mod in system or mod == name:
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if mod not in allowed[name]:
                    problems.append(f"{rel}: imports {mod}, which docs/layering.json does not allow for {name}")
                elif mod not in declared:
                    problems.append(f"{rel}: imports {mod}, which Package.swift does not declare for {name}")

for p in problems:
    print("layering:", p)
print(f"layering: {len(problems)} problem(s) in {sum(1 for t in package['targets'] if t['type'] != 'test')} targets")
sys.exit(1 if problems else 0)
