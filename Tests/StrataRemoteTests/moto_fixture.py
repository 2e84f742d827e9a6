"""Starts a moto S3 server on 127.0.0.1 in auth mode for the remote tests, and stops it when stdin closes.

Auth mode (INITIAL_NO_AUTH_ACTION_COUNT=3): the first three requests create an IAM user, its inline s3:* policy and
an access key; every later request must carry a valid SigV4 signature of that key. Prints one JSON line:
{"endpoint", "access_key", "secret_key", "bucket"}.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import boto3

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
# Small pages, so that listing must paginate (the benchmark asks for S3's usual 1000 by setting the variable).
env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3", MOTO_S3_DEFAULT_MAX_KEYS=os.environ.get("MOTO_S3_DEFAULT_MAX_KEYS", "5"))
# Its own process group, so that the server and anything it started are stopped together, by PID.
server = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env, start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
endpoint = f"http://127.0.0.1:{port}"
try:
    # moto_server imports Flask and all of moto before it listens: 2-3 s on an idle machine, but more than the 10 s
    # first allowed here when the test run's other suites kept both cores busy (seen: every S3 test failed with the
    # connection refused). Up to 120 s then, and a server that exits is reported at once.
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if server.poll() is not None:
                sys.exit(f"moto_server exited with status {server.returncode} before listening on port {port}")
            if time.monotonic() > deadline:
                sys.exit(f"moto_server did not listen on port {port} within 120 s")
            time.sleep(0.05)
    anon = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **anon)
    iam.create_user(UserName="strata-test")
    iam.put_user_policy(UserName="strata-test", PolicyName="strata-s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="strata-test")["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    s3.create_bucket(Bucket="strata-test")
    print(json.dumps({"endpoint": endpoint, "access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"],
                      "bucket": "strata-test"}), flush=True)
    sys.stdin.read()
finally:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
            server.wait(timeout=3)
            break
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue
