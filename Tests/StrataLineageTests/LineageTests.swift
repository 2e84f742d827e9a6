import Foundation
import StrataModel
import StrataTestSupport
import Testing
@testable import StrataLineage

@Suite("Lineage units") struct LineageUnitTests {
    let r = Redactor(salt: "salt", patterns: ["Project Falcon"])

    @Test func redactsPersonalData() {
        let text = "by thandi.nkosi@example.co.za (+27 82 555 1234, 082-555-1234, 0215551234), ID 8001015009087, about Project Falcon"
        let out = r.redact(text)
        for secret in ["thandi.nkosi@example.co.za", "+27 82 555 1234", "082-555-1234", "0215551234", "8001015009087", "Project Falcon"] {
            #expect(!out.contains(secret), "\(secret) survived: \(out)")
        }
        #expect(out.contains("[email]") && out.contains("[phone]") && out.contains("[id-number]"))
        // Ordinary numbers, hashes and dates are left alone.
        let plain = "rows 12345, sha 3f2a9c, 2026-11-27, registration 2019/123456/07"
        #expect(r.redact(plain) == plain)
    }

    /// Names and catalogue lists in config split at commas and at every line break, Windows "\r\n" included (one
    /// Character in Swift, equal to neither "\r" nor "\n"); patterns split at line breaks only.
    @Test func configListsSplitAtEveryLineBreak() {
        for sep in ["\n", "\r\n", "\r", ", ", ","] {
            let names = ConfigList.items(PersonalData.names.joined(separator: sep) + sep)
            #expect(names == PersonalData.names, "separator \(sep.debugDescription)")
            let red = Redactor(salt: "s", names: names)
            for n in PersonalData.names { #expect(!red.redact("reviewed by \(n) today").contains(n), "\(n), separator \(sep.debugDescription)") }
        }
        #expect(ConfigList.lines("REF-[0-9]{1,6}\r\nProject Falcon\rX\n") == ["REF-[0-9]{1,6}", "Project Falcon", "X"])
    }

    /// A name is redacted whichever Unicode normalization it is written in. Before, "Andr\u{E9} Botha" configured in
    /// NFC (as typed) did not match "Andre\u{301} Botha" in NFD (as file names from a Mac are), in text or in a path.
    @Test func namesAreRedactedInEveryNormalization() {
        let nfc = "Andr\u{E9} Botha", nfd = "Andre\u{301} Botha"
        #expect(nfc == nfd && !nfc.utf8.elementsEqual(nfd.utf8))
        for configured in [nfc, nfd] {
            let red = Redactor(salt: "s", names: [configured])
            for written in [nfc, nfd, "ANDR\u{C9} BOTHA", "andre\u{301}_botha"] {
                let text = red.redact("reviewed by \(written) today")
                #expect(text == "reviewed by [name] today", "\(configured.unicodeScalars.count) scalars configured, \(Array(written.unicodeScalars))")
                let path = red.redactPath("evidence/\(written.replacingOccurrences(of: " ", with: "-")).jsonl")
                #expect(path.hasPrefix("evidence/redacted-") && path.hasSuffix(".jsonl"), "\(path)")
            }
            // Text with nothing to redact comes back byte for byte, in its own normalization.
            let other = "caf\u{E9} and cafe\u{301}"
            #expect(red.redact(other).utf8.elementsEqual(other.utf8))
            #expect(red.redactPath("d/cafe\u{301}.csv").utf8.elementsEqual("d/cafe\u{301}.csv".utf8))
        }
    }

    /// Property: planted personal data of every kind, in free text, in path segments and percent-encoded in IRIs, never
    /// survives `redact`, `redactPath` or `scrub`; content hashes and run ids in the same strings are never altered.
    @Test func plantedPersonalDataNeverSurvives() throws {
        let red = Redactor(salt: "s", names: PersonalData.names)
        var g = SplitMix(seed: 0x5EED_0015)
        for i in 0..<400 {
            let kind = i % 4
            let pii: String
            switch kind {
            case 0: pii = PersonalData.idNumber(&g)
            case 1: pii = PersonalData.phone(&g, form: i % 6)
            case 2: pii = PersonalData.email(&g)
            default: pii = PersonalData.names[Int.random(in: 0..<PersonalData.names.count, using: &g)]
            }
            let hash = ObjectID.hash(Array("x\(i)".utf8)).hex
            let uuid = UUIDv7.make(Date())
            let variants = [pii, pii.lowercased(), pii.uppercased(), pii.replacingOccurrences(of: " ", with: "_")]
            for v in variants where kind == 3 || v == pii {
                let text = "run \(uuid) wrote \(hash): see \(v), then stop"
                let out = red.redact(text)
                #expect(!out.lowercased().contains(pii.lowercased()), "\(pii) survived: \(out)")
                #expect(out.contains(hash) && out.contains(uuid), "a hash or run id was altered: \(out)")
                let path = "evidence/review-\(v)/\(v).jsonl"
                let p = red.redactPath(path)
                #expect(!p.lowercased().contains(pii.lowercased()), "\(pii) survived in a path: \(p)")
                #expect(p.hasPrefix("evidence/redacted-") && p.hasSuffix(".jsonl"), "\(p)")
                let iri = "urn:strata:version:\(hash)" + ("/" + path).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let scrubbed = String(decoding: red.scrubJSON(Data("{\"@id\": \"\(iri)\"}".utf8)), as: UTF8.self)
                #expect(!(scrubbed.removingPercentEncoding ?? scrubbed).lowercased().contains(pii.lowercased()), "\(pii) survived in an IRI: \(scrubbed)")
            }
        }
        // Distinct files stay distinct, and the pseudonym is stable.
        #expect(red.redactPath("a/x-thabo nkosi.csv") != red.redactPath("a/x-naledi dlamini.csv"))
        #expect(red.redactPath("a/x-thabo nkosi.csv") == red.redactPath("a/x-thabo nkosi.csv"))
        #expect(red.redactPath("/home/ws/curated/orgs.csv") == "/home/ws/curated/orgs.csv")
    }

    /// Property: 5,000 random hashes, UUIDs and sizes pass through untouched (no false positive corrupts an id).
    @Test func identifiersAreNeverRedacted() {
        let red = Redactor(salt: "s", names: PersonalData.names)
        var g = SplitMix(seed: 42)
        for _ in 0..<5000 {
            let hash = ObjectID.hash(Array(String(g.next()).utf8)).hex
            let uuid = UUIDv7.make(Date(timeIntervalSince1970: Double(g.next() % 2_000_000_000)))
            let text = "\(hash) \(uuid) \(hash.prefix(12)) size \(g.next() % 10_000_000_000)"
            #expect(red.redact(text) == text, "\(text) → \(red.redact(text))")
        }
    }

    @Test func pseudonymsAreStableAndOpaque() {
        #expect(r.pseudonym("A@b.org") == r.pseudonym("a@b.org"))
        #expect(r.pseudonym("a@b.org") != Redactor(salt: "other").pseudonym("a@b.org"))
        #expect(!r.pseudonym("a@b.org").contains("a@b"))
    }

    @Test func uuidv7IsTimeOrdered() {
        let a = UUIDv7.make(Date(timeIntervalSince1970: 1_800_000_000)), b = UUIDv7.make(Date(timeIntervalSince1970: 1_800_000_001))
        #expect(a < b)
        #expect(a.count == 36 && a[a.index(a.startIndex, offsetBy: 14)] == "7")
    }

    @Test func configFollowsClientConventions() throws {
        let dir = NSTemporaryDirectory() + "olcfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try
            "transport:\n  type: http\n  url: http://localhost:5000\n  endpoint: api/v1/lineage\n  auth:\n    type: api_key\n    apiKey: k1\n  compression: gzip\n"
            .write(toFile: dir + "/openlineage.yml", atomically: true, encoding: .utf8)
        let c = try LineageConfig.load(storePath: dir + "/.strata", workspace: dir, environment: ["OPENLINEAGE_NAMESPACE": "curation"])
        #expect(c.namespace == "curation")
        #expect(c.transports == [.http(url: "http://localhost:5000", endpoint: "api/v1/lineage", apiKey: "k1", timeout: 5, retries: 5, gzip: true)])
        // `#` inside quotes is not a comment; `${VAR}` comes from the environment passed in.
        try "transport:\n  type: http # the backend\n  url: \"http://h:5000/#x\"\n  auth:\n    type: api_key\n    apiKey: ${OL_KEY}\n"
            .write(toFile: dir + "/openlineage.yml", atomically: true, encoding: .utf8)
        let e = try LineageConfig.load(storePath: dir + "/.strata", workspace: dir, environment: ["OL_KEY": "from-env"])
        #expect(e.transports == [.http(url: "http://h:5000/#x", endpoint: "api/v1/lineage", apiKey: "from-env", timeout: 5, retries: 5, gzip: false)])
        let d = try LineageConfig.load(storePath: "/s", workspace: "/nowhere/ws", environment: ["OPENLINEAGE_DISABLED": "true"])
        #expect(d.disabled && d.transports.isEmpty && d.namespace == "ws")
    }

    /// The client's precedence: the config file, then `OPENLINEAGE__*`, then `OPENLINEAGE_URL`; only the first is
    /// used. Composite, file, kafka and noop transports parse as the client names them; an unknown type is an error.
    @Test func transportsResolveLikeTheClient() throws {
        let dir = NSTemporaryDirectory() + "olcfg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func load(_ env: [String: String]) throws -> LineageConfig {
            try LineageConfig.load(storePath: dir + "/.strata", workspace: dir, environment: env.merging(["HOME": dir + "/home"]) { a, _ in a })
        }
        // Nothing configured: Strata's per-run files in the store.
        #expect(try load([:]).transports == [.runFiles(directory: dir + "/.strata/lineage/events")])
        // OPENLINEAGE_URL alone.
        let url = try load(["OPENLINEAGE_URL": "http://u:1", "OPENLINEAGE_API_KEY": "k"])
        #expect(url.transports == [.http(url: "http://u:1", endpoint: "api/v1/lineage", apiKey: "k", timeout: 5, retries: 5, gzip: false)])
        // Structured variables win over OPENLINEAGE_URL; names lower-cased, JSON values parsed; a higher-level one wins.
        let structured = try load([
            "OPENLINEAGE_URL": "http://u:1", "OPENLINEAGE__TRANSPORT__TYPE": "file", "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": "/tmp/ol.jsonl",
            "OPENLINEAGE__TRANSPORT__APPEND": "true",
        ])
        #expect(structured.transports == [.file(path: "/tmp/ol.jsonl", append: true)])
        let json = try load([
            "OPENLINEAGE__TRANSPORT": #"{"type": "kafka", "topic": "ol", "config": {"bootstrap.servers": "127.0.0.1:9092"}, "flush": false}"#,
            "OPENLINEAGE__TRANSPORT__TYPE": "console",
        ])
        #expect(json.transports == [.kafka(.init(topic: "ol", properties: ["bootstrap.servers": "127.0.0.1:9092"], messageKey: nil, flush: false))])
        // Compression alone completes the legacy URL transport.
        let gz = try load(["OPENLINEAGE_URL": "http://u:1", "OPENLINEAGE__TRANSPORT__COMPRESSION": "gzip"])
        #expect(gz.transports == [.http(url: "http://u:1", endpoint: "api/v1/lineage", apiKey: nil, timeout: 5, retries: 5, gzip: true)])
        // The config file wins over both; composite with a list, file without append, noop.
        try """
        transport:
          type: composite
          continue_on_failure: false
          transports:
            - type: file
              log_file_path: /tmp/events
            - type: kafka
              topicName: lineage
              properties:
                bootstrap.servers: 127.0.0.1:9092
                acks: all
              messageKey: fixed
            - type: noop
        """.write(toFile: dir + "/openlineage.yml", atomically: true, encoding: .utf8)
        let file = try load(["OPENLINEAGE_URL": "http://u:1", "OPENLINEAGE__TRANSPORT__TYPE": "console"])
        #expect(
            file.transports == [
                .composite(
                    [
                        .file(path: "/tmp/events", append: false),
                        .kafka(.init(topic: "lineage", properties: ["bootstrap.servers": "127.0.0.1:9092", "acks": "all"], messageKey: "fixed", flush: true)),
                        .noop,
                    ], continueOnFailure: false)
            ])
        // Unknown or incomplete transports are errors, never a fallback.
        for bad in ["transport:\n  type: carrier-pigeon\n", "transport:\n  type: kafka\n  topic: t\n", "transport:\n  type: file\n", "transport: {}\n"] {
            try bad.write(toFile: dir + "/openlineage.yml", atomically: true, encoding: .utf8)
            #expect(throws: LineageError.self) { try load([:]) }
        }
        try FileManager.default.removeItem(atPath: dir + "/openlineage.yml")
        #expect(throws: LineageError.self) { try load(["OPENLINEAGE__TRANSPORT__TYPE": "smoke-signals"]) }
        #expect(throws: LineageError.self) { try load(["OPENLINEAGE_CONFIG": dir + "/missing.yml"]) }
    }
}
