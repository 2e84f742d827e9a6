import Foundation
import Testing
import StrataTestSupport
import StrataModel
import StrataObjects
import StrataRefs
import StrataRepository
@testable import StrataMaintenance

/// The invariant of issue 8 as a randomised property: whatever sequence of commits (small and chunked files, old
/// contents coming back), `checkout -- PATH` of old versions, branch switches, prunes with random policies and
/// gc with no grace, after every step fsck is clean and every commit whose data was kept has exactly the bytes
/// that were committed. Seeded; the seed and step are printed on failure. `STRATA_PROPERTY_SEQUENCES` sets the
/// number of sequences (default 50).
@Suite("Never lose data (property)") struct NeverLoseDataPropertyTests {
    static let sequences = Int(ProcessInfo.processInfo.environment["STRATA_PROPERTY_SEQUENCES"] ?? "") ?? 50

    @Test(arguments: Array(1...NeverLoseDataPropertyTests.sequences))
    func randomSequencesNeverLoseCommittedBytes(seed: Int) throws {
        var m = try Model(seed: UInt64(seed))
        defer { m.cleanUp() }
        for step in 0..<30 {
            let what = try m.randomStep()
            let context = "seed \(seed), step \(step) (\(what)); rerun with this seed to reproduce"
            try m.backdateAndRefresh()
            let fsck = try m.repo.fsck()
            #expect(fsck.isClean, "\(context): fsck: \(fsck.problems.map(\.message))")
            let bad = try m.verifyKeptCommits()
            #expect(bad.isEmpty, "\(context): \(bad.prefix(5))")
            if !fsck.isClean || !bad.isEmpty { return }
        }
    }
}

/// The model: a store plus what we know was committed, computed independently of the store.
struct Model {
    var g: SplitMix
    let dir: String
    let repo: Repository
    /// Expected file hashes per commit (from the bytes written, hashed here).
    var expected: [ObjectID: [String: ObjectID]] = [:]
    /// Large-file versions written so far, so that old contents come back (the D1 pattern).
    var bigVersions: [[UInt8]] = []
    var commits: [ObjectID] = []

    init(seed: UInt64) throws {
        g = SplitMix(seed: seed &* 0x9E37_79B9)
        dir = NSTemporaryDirectory() + "strata-prop-\(seed)-\(UUID().uuidString.prefix(6))"
        repo = try Repository.initialize(at: dir)
        try repo.setConfig("user.name", "Property")
        try repo.setConfig("user.email", "p@example.org")
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: dir) }

    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &g) }

    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n / 8 + 1).flatMap { _ in withUnsafeBytes(of: g.next()) { Array($0) } }.prefix(n).map { $0 } }

    /// A new large file (just over the chunking threshold): fresh, an edited old one, or an old one verbatim.
    mutating func bigFile() -> [UInt8] {
        if !bigVersions.isEmpty && int(0...2) == 0 { return bigVersions[int(0...bigVersions.count - 1)] }
        var b: [UInt8]
        if !bigVersions.isEmpty && int(0...1) == 0 {
            b = bigVersions[int(0...bigVersions.count - 1)]
            let at = int(0...b.count - 4096)
            b.replaceSubrange(at..<at + 4096, with: bytes(4096))
        } else {
            b = bytes(Chunker.threshold + int(1...400_000))
        }
        bigVersions.append(b)
        return b
    }

    func write(_ rel: String, _ b: [UInt8]) throws {
        let url = URL(fileURLWithPath: dir + "/" + rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(b).write(to: url)
    }

    /// Hashes of every workspace file, read back from disk.
    func workspace() throws -> [String: ObjectID] {
        var out: [String: ObjectID] = [:]
        let fm = FileManager.default
        for rel in try fm.subpathsOfDirectory(atPath: dir) where !rel.hasPrefix(".strata") {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = ObjectID.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + rel))))
            }
        }
        return out
    }

    mutating func commit() throws {
        let files = try workspace()
        do {
            let r = try repo.commit(CommitOptions(message: "step"))
            expected[r.id] = files
            commits.append(r.id)
        } catch RepositoryError.nothingToCommit {}
    }

    mutating func randomStep() throws -> String {
        switch int(0...9) {
        case 0...3:
            for _ in 0..<int(1...3) {
                switch int(0...3) {
                case 0: try write("big\(int(0...1)).bin", bigFile())
                case 1: try write("small/s\(int(0...4)).txt", Array("v\(int(0...6))\n".utf8))
                case 2: try write("small/n\(int(0...99)).txt", bytes(int(0...300)))
                default:
                    let victims = try workspace().keys.sorted()
                    if let v = victims.randomElement(using: &g) { try FileManager.default.removeItem(atPath: dir + "/" + v) }
                }
            }
            try commit()
            return "edit and commit"
        case 4, 5:
            guard let c = commits.randomElement(using: &g), let files = expected[c], let p = files.keys.sorted().randomElement(using: &g) else {
                return "nothing to restore"
            }
            let before = try workspace()
            do {
                _ = try repo.checkoutPaths(c.hex, paths: [dir + "/" + p], force: true)
                let now = try workspace()
                #expect(now[p] == files[p], "checkout -- \(p) of \(c.short) gave other bytes")
            } catch RepositoryError.dataCollected {
                #expect(try workspace() == before, "a refused checkout -- \(p) changed the workspace")
            }
            if int(0...1) == 0 { try commit() }
            return "checkout \(c.short) -- \(p)"
        case 6:
            let name = ["main", "b1", "b2"][int(0...2)]
            let exists = (try? repo.refs.branch(try BranchName(name))) != nil
            let before = try workspace()
            do {
                _ = try repo.switchBranch(name, create: !exists && name != "main", force: int(0...1) == 0)
            } catch RepositoryError.uncommittedChanges {
                #expect(try workspace() == before, "a refused switch changed the workspace")
            } catch RefError.notFound {}
            return "switch \(name)"
        case 7, 8:
            var p = RetentionPolicy()
            p.keepLast = int(1...3)
            let expire = try RetentionDuration(parsing: int(0...1) == 0 ? "0s" : "30d")
            _ = try Retention(repo: repo).prune(policies: [p], now: Date(), timeZone: TimeZone(identifier: "UTC")!, reflogExpire: expire, dryRun: false)
            _ = try GarbageCollector(repo: repo).run(grace: try RetentionDuration(parsing: "0s"), dryRun: false)
            return "prune --keep-last \(p.keepLast!) --reflog-expire \(expire) + gc --grace 0s"
        default:
            _ = try GarbageCollector(repo: repo).run(grace: try RetentionDuration(parsing: "0s"), dryRun: false)
            return "gc --grace 0s"
        }
    }

    /// Makes every workspace file look old and lets status refresh the stat cache, so later commits trust it
    /// (the path by which D1 recorded a file whose chunks were gone).
    func backdateAndRefresh() throws {
        let past = Date().addingTimeInterval(-30)
        for rel in try FileManager.default.subpathsOfDirectory(atPath: dir) where !rel.hasPrefix(".strata") {
            try? FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: dir + "/" + rel)
        }
        _ = try repo.status()
    }

    /// Every commit whose data is kept lists exactly the committed files, and each reads back byte-identical.
    func verifyKeptCommits() throws -> [String] {
        var bad: [String] = []
        let pruned = try repo.prunedCommits()
        var verified = Set<ObjectID>()
        for c in commits where !pruned.contains(c) {
            let listing = try repo.flatten(tree: try repo.commit(c).tree).mapValues(\.id)
            if listing != expected[c] { bad.append("commit \(c.short) lists other files than were committed"); continue }
            for (p, id) in listing where verified.insert(id).inserted {
                var h = SHA256Hasher()
                do {
                    try repo.cat(c.hex, path: p) { h.update($0) }
                    if h.finalize() != id { bad.append("\(c.short):\(p) reads back other bytes") }
                } catch { bad.append("\(c.short):\(p) cannot be read: \(error)") }
            }
        }
        return bad
    }
}
