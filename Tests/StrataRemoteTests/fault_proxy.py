"""A fault-injecting HTTP proxy for the remote tests, on 127.0.0.1 in front of an S3 server.

Usage: fault_proxy.py UPSTREAM_URL. Prints {"endpoint": ...} and serves until stdin closes. POST /__faults with a
comma-separated plan (e.g. "503,500,drop,truncate,delay,412") makes the next requests fail that way, one fault per
request, then requests pass through unchanged (headers included, so SigV4 signatures stay valid). GET /__stats returns
the requests and body bytes counted so far (by method), POST /__stats resets them (the benchmark's request counts).
"""
import http.client
import http.server
import json
import socket
import sys
import threading
import time
import urllib.parse

upstream = urllib.parse.urlparse(sys.argv[1])
plan = []
lock = threading.Lock()
stats = {"requests": 0, "bytes_up": 0, "bytes_down": 0, "by_method": {}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # A streamed body (aiohttp, as DVC's s3fs sends): forwarded with a Content-Length instead.
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
            del self.headers["Transfer-Encoding"]
            self.headers["Content-Length"] = str(len(body))
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        if self.path == "/__faults" and self.command == "POST":
            with lock:
                plan[:] = [f for f in body.decode().split(",") if f]
            self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
            return
        if self.path == "/__stats":
            with lock:
                if self.command == "POST":
                    stats.update(requests=0, bytes_up=0, bytes_down=0, by_method={})
                text = json.dumps(stats).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(text))); self.end_headers(); self.wfile.write(text)
            return
        with lock:
            fault = plan.pop(0) if plan else None
            stats["requests"] += 1
            stats["bytes_up"] += len(body)
            stats["by_method"][self.command] = stats["by_method"].get(self.command, 0) + 1
        if fault in ("500", "503"):
            text = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" if fault == "503" else b"<Error><Code>InternalError</Code></Error>"
            self.send_response(int(fault)); self.send_header("Content-Length", str(len(text))); self.end_headers(); self.wfile.write(text)
            return
        if fault == "412":
            text = b"<Error><Code>PreconditionFailed</Code></Error>"
            self.send_response(412); self.send_header("Content-Length", str(len(text))); self.end_headers(); self.wfile.write(text)
            return
        if fault == "drop":
            self.connection.shutdown(socket.SHUT_RDWR); self.close_connection = True
            return
        if fault == "delay":
            time.sleep(1.0)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=body if body or self.command == "PUT" else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        with lock:
            stats["bytes_down"] += len(data)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        # A HEAD answer has no body but tells the object's length.
        self.send_header("Content-Length", resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if fault == "truncate" and len(data) > 1:
            self.wfile.write(data[: len(data) // 2]); self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR); self.close_connection = True
            return
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
sys.stdin.read()
server.shutdown()
