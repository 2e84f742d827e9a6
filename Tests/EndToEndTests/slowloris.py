"""Slowloris against a strata server on loopback: N connections trickle a request's headers (or a body) one byte at
a time while a normal client keeps asking /healthz. Prints JSON: how many slow connections the server closed, and
the normal client's worst latency and failures."""
import json, socket, sys, threading, time, urllib.request

host, port, n, mode, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
token = sys.argv[6] if len(sys.argv) > 6 else ""
closed = 0
lock = threading.Lock()

def slow():
    global closed
    s = socket.create_connection((host, port))
    if mode == "headers":
        start = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    else:
        start = (b"PUT /dev/store/packs/" + b"a" * 64 + b".pack HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nIf-None-Match: *\r\n"
                 + b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")
    s.sendall(start)
    s.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            s.sendall(b"X" if mode == "body" else b"X-A: b\r\n"[:1])
            data = s.recv(1)
            if data == b"":
                with lock:
                    closed += 1
                return
        except socket.timeout:
            pass
        except OSError:
            with lock:
                closed += 1
            return
        time.sleep(0.5)
    s.close()

threads = [threading.Thread(target=slow) for _ in range(n)]
for t in threads:
    t.start()
worst, failures, served = 0.0, 0, 0
end = time.time() + seconds
while time.time() < end:
    t0 = time.time()
    try:
        urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5).read()
        served += 1
    except Exception:
        failures += 1
    worst = max(worst, time.time() - t0)
    time.sleep(0.1)
for t in threads:
    t.join()
print(json.dumps({"closed": closed, "worst": worst, "failures": failures, "served": served}))
