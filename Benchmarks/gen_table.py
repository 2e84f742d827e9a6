"""Generates the table benchmark's data: gen_table.py ROWS OUT writes OUT/v1.csv (ROWS x 12 columns, quoted fields
with commas and line breaks), OUT/v2.csv (1 % of rows modified, 0.5 % deleted, 0.5 % appended, spread over the file)
and OUT/v3.csv (v1 with 1 % of rows modified in one contiguous block: a local change)."""
import random, sys, os
random.seed(7)
n = int(sys.argv[1]); out = sys.argv[2]
cols = ["id","name","reg","province","status","score","city","phone_hash","sector","employees","founded","note"]
def row(i, v=0):
    r = random.Random(i * 7919 + v)
    return [str(i), f"Org {i}", f"20{i%100:02d}/{i:06d}/07", ["GP","WC","KZN","EC"][i%4], ["active","dormant"][i%2],
            f"{r.random():.3f}", ["Cape Town","Durban","Pretoria","\"Port, Elizabeth\""][i%4], f"{r.getrandbits(64):016x}",
            ["agri","mining","retail"][i%3], str(r.randint(1,5000)), str(1900 + i % 120), "ok" if i % 5 else "\"multi\nline\""]
with open(out + "/v1.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(n): f.write(",".join(row(i)) + "\n")
rnd = random.Random(1)
mod = set(rnd.sample(range(n), n // 100)); dele = set(rnd.sample(range(n), n // 200))
with open(out + "/v2.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(n):
        if i in dele: continue
        f.write(",".join(row(i, 1 if i in mod else 0) if i in mod else row(i)) + "\n")
    for i in range(n, n + n // 200): f.write(",".join(row(i)) + "\n")
lo = n // 2
with open(out + "/v3.csv", "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(n): f.write(",".join(row(i, 1) if lo <= i < lo + n // 100 else row(i)) + "\n")
