import Foundation
import StrataTestSupport
import Testing
import StrataModel
import StrataObjects
import StrataRepository

@Suite("End to end: robustness", .serialized) struct RobustnessTests {
    @Test func largeChunkedFileAndByteIdenticalCheckout() throws {
        let s = try StrataCLI()
        try s.run("init")
        // 70 MiB of CSV-like rows: above the chunking threshold and the 64 MiB mark.
        var rows = Data(capacity: 72 << 20)
        var i = 0
        while rows.count < 70 << 20 {
            rows.append(contentsOf: "\(i),org-\(i % 977),\(i &* 2654435761 % 1000003),ZA,2026-11-\(i % 28 + 1)\n".utf8)
            i += 1
        }
        try s.write("tables/big.csv", rows)
        let c1 = try s.run("commit", "-m", "big", "--json")
        #expect(c1.status == 0, "\(c1.stderr)")
        let before = try s.hashes()
        // Edit a block in the middle: only a few chunks are new.
        var edited = rows
        edited.replaceSubrange(35_000_000..<35_000_100, with: Data(repeating: UInt8(ascii: "Z"), count: 100))
        try s.write("tables/big.csv", edited)
        let c2 = try s.run("commit", "-m", "edit", "--json")
        let obj = try JSONSerialization.jsonObject(with: Data(c2.stdout.utf8)) as! [String: Any]
        #expect((obj["bytes_written"] as! Int) < 2 << 20, "an edit in the middle stored \(obj["bytes_written"]!) bytes")
        #expect(try s.run("checkout", "HEAD~1").status == 0)
        #expect(try s.hashes() == before)
        #expect(try s.run("fsck").status == 0)
    }

    /// A compression setting that is not a level is refused with its code, and the setting stays as it was; an
    /// environment override that is not a level is refused too, rather than ignored.
    @Test func badCompressionSettingIsRefused() throws {
        let s = try StrataCLI()
        try s.run("init")
        #expect(try s.run("config", "core.compression", "1").status == 0)
        let bad = try s.run("config", "core.compression", "fast")
        #expect(bad.status != 0 && bad.stderr.contains("core.compression must be a whole number"), "\(bad.stderr)")
        #expect(try s.run("config", "core.compression").stdout == "1\n")
        try s.write("a.txt", Data("a\n".utf8))
        let env = try s.run("commit", "-m", "a", env: ["STRATA_COMPRESSION": "99"])
        #expect(env.status != 0 && env.stderr.contains("STRATA_COMPRESSION must be"), "\(env.stderr)")
        #expect(try s.run("commit", "-m", "a").status == 0)
    }

    @Test func corruptedPackIsReportedByFsckAndCat() throws {
        let s = try StrataCLI()
        try s.run("init")
        var data = Data()
        for k in 0..<40_000 { data.append(contentsOf: "\(k * 7919 % 100_003)\n".utf8) }
        try s.write("t.csv", data)
        try s.run("commit", "-m", "1")
        let packs = try FileManager.default.contentsOfDirectory(atPath: s.path(".strata/objects/packs")).filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 1)
        let packPath = s.path(".strata/objects/packs/" + packs[0])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: packPath))
        bytes[200] ^= 0x55
        chmod(packPath, 0o644)
        try bytes.write(to: URL(fileURLWithPath: packPath))
        let fsck = try s.run("fsck")
        #expect(fsck.status == 12)
        #expect(fsck.stdout.contains("corrupt"))
        #expect(fsck.stdout.contains(packs[0]))
        let cat = try s.run("cat", "HEAD:t.csv")
        #expect(cat.status == 12)
        #expect(cat.stderr.contains("is corrupt"))
    }

    @Test func craftedTreeEntryIsRefused() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("ok.csv", "1")
        try s.run("commit", "-m", "honest")
        // Craft a commit whose tree holds "../x" through the library, bypassing validation.
        try s.craftCommit(branch: "evil") { session in
            let payload = Array("escaped\n".utf8)
            let blob = try session.put(.blob, payload)
            let inner = Tree(uncheckedEntries: [TreeEntry(name: "x", kind: .file, id: blob, size: UInt64(payload.count))])
            let innerID = try session.put(.tree, inner.encoded())
            return try session.put(.tree, Tree(uncheckedEntries: [TreeEntry(name: "..", kind: .directory, id: innerID, size: 0)]).encoded())
        }
        let parent = URL(fileURLWithPath: s.directory).deletingLastPathComponent().appendingPathComponent("x").path
        let r = try s.run("checkout", "evil")
        #expect(r.status != 0)
        #expect(r.stderr.contains("unsafe") || r.stderr.contains("refusing"))
        #expect(!FileManager.default.fileExists(atPath: parent))
        let fsck = try s.run("fsck")
        #expect(fsck.status == 12)
        #expect(fsck.stdout.contains("unsafe-name"))
    }

    @Test func killedCommitsLeaveTheStoreConsistent() throws {
        let s = try StrataCLI()
        try s.run("init")
        for k in 0..<40 { try s.write("evidence/e\(k).jsonl", String(repeating: "{\"k\":\(k)}\n", count: 200)) }
        try s.run("commit", "-m", "base")
        let baseline = try s.run("log", "-n", "1", "--oneline").stdout
        var rng = SystemRandomNumberGenerator()
        for round in 0..<8 {
            var blob = Data()
            for k in 0..<300_000 { blob.append(contentsOf: "\(round),\(k),\(k &* 31 % 977)\n".utf8) }
            try s.write("tables/t.csv", blob)
            let p = try s.start(["commit", "-m", "round \(round)"])
            usleep(UInt32.random(in: 1_000...120_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let fsck = try s.run("fsck")
            #expect(fsck.status == 0, "round \(round): \(fsck.stdout)\(fsck.stderr)")
            let log = try s.run("log", "--oneline").stdout
            #expect(log.hasSuffix(baseline), "round \(round): history lost")
        }
        // The store still takes commits.
        try s.write("after.txt", "ok")
        #expect(try s.run("commit", "-m", "after").status == 0)
        #expect(try s.run("fsck").status == 0)
    }

    @Test func concurrentCommitsBothLandOrOneFailsCleanly() throws {
        let s = try StrataCLI()
        try s.run("init")
        try s.write("a.csv", "a"); try s.run("commit", "-m", "base")
        for k in 0..<20 { try s.write("f\(k).csv", String(repeating: "row \(k)\n", count: 5000)) }
        let p1 = try s.start(["commit", "-m", "one"])
        let p2 = try s.start(["commit", "-m", "two", "--allow-empty"])
        p1.waitUntilExit(within: Watchdog.defaultLimit); p2.waitUntilExit(within: Watchdog.defaultLimit)
        let statuses = [p1.terminationStatus, p2.terminationStatus]
        #expect(statuses.allSatisfy { $0 == 0 || $0 == 2 || $0 == 11 }, "\(statuses)")
        #expect(statuses.contains(0))
        let log = try s.run("log", "--oneline").stdout.split(separator: "\n")
        #expect(log.count == 1 + statuses.filter { $0 == 0 }.count)
        #expect(try s.run("fsck").status == 0)
        #expect(try s.run("status").stdout.contains("nothing to commit"))
    }
}
