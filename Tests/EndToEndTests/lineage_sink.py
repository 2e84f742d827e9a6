#!/usr/bin/env python3
"""Test helper: a tiny OpenLineage HTTP backend on 127.0.0.1 (random port, printed on stdout).

    lineage_sink.py OUT.jsonl API_KEY FAIL_FIRST MAX_SECONDS

Accepts POST /api/v1/lineage with `Authorization: Bearer API_KEY` (401 otherwise), gunzips bodies, answers 503 to
the first FAIL_FIRST requests and 201 afterwards, appends accepted events to OUT.jsonl, stops after MAX_SECONDS.
"""
import gzip
import http.server
import sys
import threading

out, key, fail_first, max_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
state = {"seen": 0}


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        state["seen"] += 1
        if self.headers.get("Authorization") != "Bearer " + key:
            self.send_response(401); self.end_headers(); return
        if state["seen"] <= fail_first:
            self.send_response(503); self.end_headers(); return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with open(out, "ab") as f:
            f.write(body.strip() + b"\n")
        self.send_response(201); self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
threading.Timer(max_seconds, srv.shutdown).start()
srv.serve_forever()
