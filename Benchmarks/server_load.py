#!/usr/bin/env python3
"""Load on a `strata serve` on 127.0.0.1: 32 concurrent readers (wrk, against `cat` and `log` of the JSON API)
while 4 clients push to their own branches and 2 push to the same branch, for --duration seconds.

Checks, and exits non-zero when one fails:
  - nothing is lost: each own-branch client's last successful push is its branch's tip on the server;
  - one winner per contested push: every push to the shared branch that succeeded is in the branch's final history,
    and every one that failed was told so (exit 4) and left nothing visible;
  - a fresh clone, the server's mirror and the audit log are clean (fsck, audit verify).
Prints the readers' throughput and p50/p99 latency (wrk), and the pushes per client.

Usage: server_load.py [--strata BIN] [--duration 60] [--json]"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("--strata", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "strata"))
ap.add_argument("--duration", type=float, default=60)
ap.add_argument("--json", action="store_true")
ap.add_argument("--connections", type=int, default=32)
args = ap.parse_args()
strata = os.path.abspath(args.strata)
if not os.path.exists(strata):
    strata = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "strata"))
work = tempfile.mkdtemp(prefix="strata-load-")
root = os.path.join(work, "root")
env = dict(os.environ, STRATA_SERVER_ROOT=root, STRATA_AUTHOR="Load Tester <load@example.org>")


def run(cmd, cwd=None, extra=None, check=True):
    e = dict(env, **(extra or {}))
    p = subprocess.run([strata] + cmd, cwd=cwd, env=e, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"strata {' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    return p


os.makedirs(root)
run(["namespace", "add", "dev"])
run(["user", "add", "load"])
token = run(["token", "create", "load"]).stdout.strip()
run(["policy", "set", "load", "admin", "**"])
server = subprocess.Popen([strata, "serve", "--listen", "127.0.0.1:0", root], env=env, stdout=subprocess.PIPE,
                          stderr=open(os.path.join(work, "server.log"), "w"), text=True)
line = server.stdout.readline()
url = re.search(r"listening on (\S+)", line).group(1)
tok = {"STRATA_TOKEN": token}

# The seed: a table of 20,000 rows and an evidence log, pushed as main.
seed = os.path.join(work, "seed")
os.makedirs(os.path.join(seed, "tables"))
run(["init"], cwd=seed)
with open(os.path.join(seed, "tables", "orgs.csv"), "w") as f:
    f.write("id,name,province\n")
    for i in range(20000):
        f.write(f"{i},Org {i},P{i % 9}\n")
run(["commit", "-m", "seed"], cwd=seed)
run(["remote", "add", "origin", url + "/dev"], cwd=seed, extra=tok)
run(["push", "origin", "main"], cwd=seed, extra=tok)

stop = time.time() + args.duration
results = {}
lock = threading.Lock()


def clone(name):
    d = os.path.join(work, name)
    run(["clone", url + "/dev", d], extra=tok)
    return d


def own_branch(i):
    d = clone(f"own{i}")
    branch = f"load/b{i}"
    run(["switch", "-c", branch], cwd=d)
    ok, last = 0, None
    n = 0
    while time.time() < stop:
        n += 1
        with open(os.path.join(d, f"evidence-{i}.jsonl"), "a") as f:
            f.write(json.dumps({"client": i, "n": n}) + "\n")
        run(["commit", "-q", "-m", f"b{i} {n}"], cwd=d)
        p = run(["push", "origin", branch], cwd=d, extra=tok, check=False)
        if p.returncode == 0:
            ok += 1
            last = run(["log", "--json", "-n", "1"], cwd=d).stdout
        else:
            with lock:
                results.setdefault("errors", []).append(f"own {i}: {p.returncode} {p.stderr.strip()}")
    head = json.loads(last)["commits"][0]["id"] if last else None
    with lock:
        results[f"own{i}"] = {"pushes": ok, "tip": head, "branch": branch}


def contested(i):
    d = clone(f"shared{i}")
    run(["switch", "-c", "load/shared"], cwd=d)
    won, lost, wins = 0, 0, []
    n = 0
    while time.time() < stop:
        n += 1
        with open(os.path.join(d, f"shared-{i}.jsonl"), "a") as f:
            f.write(json.dumps({"client": i, "n": n}) + "\n")
        run(["commit", "-q", "-m", f"shared {i} {n}"], cwd=d)
        p = run(["push", "origin", "load/shared"], cwd=d, extra=tok, check=False)
        if p.returncode == 0:
            won += 1
            wins.append(json.loads(run(["log", "--json", "-n", "1"], cwd=d).stdout)["commits"][0]["id"])
        elif p.returncode == 4:
            lost += 1
            # The loser takes the winner's branch and goes on from there (its own commit is dropped, as after a
            # rejected git push and a reset).
            run(["fetch", "origin"], cwd=d, extra=tok)
            run(["reset", "--hard", "origin/load/shared"], cwd=d, check=False)
        else:
            with lock:
                results.setdefault("errors", []).append(f"shared {i}: {p.returncode} {p.stderr.strip()}")
    with lock:
        results[f"shared{i}"] = {"won": won, "lost": lost, "wins": wins}


lua = os.path.join(work, "readers.lua")
with open(lua, "w") as f:
    f.write(f"""
local paths = {{"/dev/api/file/main?path=tables/orgs.csv", "/dev/api/log?rev=main&limit=20"}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % 2) + 1], {{["Authorization"] = "Bearer {token}"}})
end
done = function(summary, latency, requests)
  io.write(string.format("JSON %d %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""")
threads = [threading.Thread(target=own_branch, args=(i,)) for i in range(4)]
threads += [threading.Thread(target=contested, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
wrk = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{int(args.duration)}s", "--latency", "-s", lua, url],
                     capture_output=True, text=True)
for t in threads:
    t.join()

m = re.search(r"JSON (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", wrk.stdout)
requests, duration_us, p50, p99, bad_status, socket_errors = (int(x) for x in m.groups()) if m else (0, 1, 0, 0, 0, 0)
problems = list(results.get("errors", []))
if not m:
    problems.append("wrk failed: " + wrk.stderr)
if bad_status:
    with open(os.path.join(work, "server.log")) as f:
        failed = [l.strip() for l in f if "kind=api" in l and re.search(r"status=(?!2)\d", l)]
    problems.append(f"readers got {bad_status} non-2xx answers: " + " | ".join(failed[:5]))

# Nothing lost: each own branch's tip on the server is its client's last successful push.
refs = {r["name"]: r["target"] for r in json.loads(subprocess.run(
    ["curl", "-s", "-H", "Authorization: Bearer " + token, url + "/dev/api/refs"], capture_output=True, text=True).stdout)["refs"]}
for i in range(4):
    r = results.get(f"own{i}", {})
    if r.get("tip") and refs.get("refs/heads/" + r["branch"]) != r["tip"]:
        problems.append(f"{r['branch']}: the server has {refs.get('refs/heads/' + r['branch'])}, the client last pushed {r['tip']}")
# One winner per contested push: every win is in the shared branch's final history.
history = set(c["id"] for c in json.loads(subprocess.run(
    ["curl", "-s", "-H", "Authorization: Bearer " + token, url + "/dev/api/log?rev=load/shared&limit=10000"],
    capture_output=True, text=True).stdout).get("commits", []))
wins = sum((results.get(f"shared{i}", {}).get("wins", []) for i in range(2)), [])
lost_wins = [w for w in wins if w not in history]
if lost_wins:
    problems.append(f"{len(lost_wins)} successful pushes to load/shared are not in its history")
# Clean afterwards: a fresh clone, the mirror, the audit log.
check = os.path.join(work, "check")
if run(["clone", url + "/dev", check], extra=tok, check=False).returncode != 0 or run(["fsck"], cwd=check, check=False).returncode != 0:
    problems.append("a fresh clone is not clean")
server.terminate()
server.wait()
if run(["fsck"], cwd=os.path.join(root, "ns", "dev", "mirror"), check=False).returncode != 0:
    problems.append("the server's mirror fails fsck")
if run(["audit", "verify"], check=False).returncode != 0:
    problems.append("the audit log does not verify")

report = {
    "duration_s": args.duration, "readers": args.connections,
    "reads": requests, "reads_per_s": round(requests / (duration_us / 1e6), 1) if duration_us else 0,
    "read_p50_ms": round(p50 / 1000, 2), "read_p99_ms": round(p99 / 1000, 2), "read_socket_errors": socket_errors,
    "own_branch_pushes": [results.get(f"own{i}", {}).get("pushes", 0) for i in range(4)],
    "shared_pushes_won": [results.get(f"shared{i}", {}).get("won", 0) for i in range(2)],
    "shared_pushes_lost": [results.get(f"shared{i}", {}).get("lost", 0) for i in range(2)],
    "problems": problems,
}
if args.json:
    print(json.dumps(report))
else:
    print(f"readers: {report['readers']} connections, {report['reads']} reads in {args.duration:.0f} s = {report['reads_per_s']}/s, "
          f"p50 {report['read_p50_ms']} ms, p99 {report['read_p99_ms']} ms")
    print(f"pushes: own branches {report['own_branch_pushes']}, shared branch won {report['shared_pushes_won']} "
          f"lost {report['shared_pushes_lost']}")
    print("checks: " + ("all passed" if not problems else "; ".join(problems)))
shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if problems else 0)
