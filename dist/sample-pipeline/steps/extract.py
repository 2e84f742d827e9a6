"""Copies the crawled extracts in raw/ to staging/, normalising line endings and dropping blank rows."""
import os
import sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in sorted(os.listdir(src)):
    with open(os.path.join(src, name), encoding="utf-8") as f:
        rows = [line.rstrip("\r\n") for line in f if line.strip()]
    with open(os.path.join(dst, name), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
