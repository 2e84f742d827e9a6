import Foundation
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
        let c = LineageConfig.load(storePath: dir + "/.strata", workspace: dir, environment: ["OPENLINEAGE_NAMESPACE": "curation"])
        #expect(c.namespace == "curation")
        #expect(c.transports == [.http(url: "http://localhost:5000", endpoint: "api/v1/lineage", apiKey: "k1", timeout: 5, retries: 5, gzip: true)])
        // `#` inside quotes is not a comment; `${VAR}` comes from the environment passed in.
        try "transport:\n  type: http # the backend\n  url: \"http://h:5000/#x\"\n  auth:\n    type: api_key\n    apiKey: ${OL_KEY}\n"
            .write(toFile: dir + "/openlineage.yml", atomically: true, encoding: .utf8)
        let e = LineageConfig.load(storePath: dir + "/.strata", workspace: dir, environment: ["OL_KEY": "from-env"])
        #expect(e.transports == [.http(url: "http://h:5000/#x", endpoint: "api/v1/lineage", apiKey: "from-env", timeout: 5, retries: 5, gzip: false)])
        let d = LineageConfig.load(storePath: "/s", workspace: "/nowhere/ws", environment: ["OPENLINEAGE_DISABLED": "true"])
        #expect(d.disabled && d.transports == [.file(directory: "/s/lineage/events")] && d.namespace == "ws")
    }
}
