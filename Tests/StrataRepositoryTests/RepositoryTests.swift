import Foundation
import Testing
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataSQLite
@testable import StrataRepository

func makeWorkspace() throws -> String {
    let p = NSTemporaryDirectory() + "repo-\(Posix.randomHex(6))"
    try Posix.makeDirectories(p)
    return Posix.realpath(p) ?? p
}

func write(_ root: String, _ rel: String, _ text: String) throws {
    try Posix.makeDirectories(Posix.dirname(root + "/" + rel))
    try Posix.writeAtomically(root + "/" + rel, Array(text.utf8))
}

/// A small deterministic generator for property tests (a 64-bit LCG): the same seed, the same sequence.
struct SeededRandom {
    var state: UInt64
    init(seed: Int, stream: UInt64) { state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ stream }
    /// A number in 0..<n.
    mutating func next(_ n: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(n))
    }
}

func options(_ m: String, time: Int64? = nil) -> CommitOptions {
    var o = CommitOptions(message: m)
    o.author = try! Signature(name: "Test", email: "test@example.org")
    o.time = time
    return o
}

@Suite("Repository") struct RepositoryTests {
    /// The streamed first commit (trees stored as the walk leaves each folder, files stored by workers) records
    /// exactly the trees a listing of the workspace builds, for random layouts: nested and empty folders, files
    /// beside folders whose names sort around them ("a", "a.b", "a/"), executables, symlinks, some files already in
    /// the stat cache. Its changes list every file as added, in byte order of paths.
    @Test(arguments: 0..<8) func streamedFirstCommitMatchesTheListing(seed: Int) throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        var rng = SeededRandom(seed: seed, stream: 17)
        let names = ["a", "a.b", "a-b", "b", "ab", "z", "a0"]
        for i in 0..<(20 + rng.next(200)) {
            var parts: [String] = []
            for _ in 0...rng.next(3) { parts.append(names[rng.next(names.count)]) }
            let path = parts.joined(separator: "/") + "/f\(i)" + (rng.next(2) == 0 ? ".json" : "")
            // A path whose folder is already a file (or the reverse) is skipped.
            if (try? write(root, path, "{\"i\": \(i % 7)}")) == nil { continue }
            if rng.next(5) == 0 { chmod(root + "/" + path, 0o755) }
        }
        try Posix.makeDirectories(root + "/empty/inner")
        symlink("a", root + "/link-\(seed)")
        if seed % 2 == 1 { _ = try repo.status() }  // the stat cache vouches for some files
        let listing = try repo.snapshot(paths: nil, session: nil, progress: nil).listing
        let r = try repo.commit(options("v1"))
        #expect(try repo.commit(r.id).tree == Repository.treeID(of: listing))
        let changes = try repo.changes(recordedBy: r)
        #expect(changes.count == listing.count && r.changeCount == listing.count)
        #expect(changes.allSatisfy { $0.status == .added && $0.new == listing[$0.path] })
        // `show` streams a first commit's changes from its tree: the same list, in the same order, as the diff.
        let diffed = try TreeDiff.diff(nil, try repo.commit(r.id).tree) { try repo.tree($0) }
        #expect(try repo.changes(of: r.id) == diffed && diffed.count == listing.count)
        #expect(try repo.fsck().problems.isEmpty)
        #expect(try repo.status().isClean)
    }

    /// Cost ∝ change: a commit of one changed file writes the file, the trees on its path and the commit, nothing else.
    @Test func oneChangedFileWritesOnlyTheTreesOnItsPath() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for d in 0..<40 { for f in 0..<50 { try write(root, "d\(d)/sub\(f % 5)/f\(f).json", "{\"d\": \(d), \"f\": \(f)}") } }
        let first = try repo.commit(options("v1"))
        #expect(first.objectsWritten > 2_000)
        try write(root, "d17/sub3/f8.json", "{\"changed\": true}")
        let one = try repo.commit(options("v2"))
        #expect(one.objectsWritten == 5)  // the blob, d17/sub3, d17, the root, the commit
        #expect(try repo.changes(recordedBy: one).map(\.path) == ["d17/sub3/f8.json"])
    }

    /// A commit re-encodes only the folders on the path of a change and reuses HEAD's other trees: the result is the
    /// same tree a full rebuild gives, after random edits, deletions, renames and new folders (property).
    @Test(arguments: 0..<12) func commitReusingUnchangedFoldersGivesTheFullRebuildsTree(seed: Int) throws {
        var random = SeededRandom(seed: seed, stream: 1)
        func next(_ n: Int) -> Int { random.next(n) }
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        var files: [String] = []
        for i in 0..<60 {
            let p = "d\(next(4))/e\(next(3))/f\(i).txt"
            files.append(p)
            try write(root, p, "v0 \(i)")
        }
        _ = try repo.commit(options("v0"))
        for round in 1...4 {
            for _ in 0..<next(6) + 1 {
                let i = next(files.count)
                switch next(4) {
                case 0: try write(root, files[i], "v\(round) \(i)")
                case 1: try? Posix.unlink(root + "/" + files[i])
                case 2:
                    let p = "new\(next(3))/g\(round)-\(i).txt"
                    try write(root, p, "new \(round)")
                    files.append(p)
                default:
                    if try Posix.lstat(root + "/" + files[i]) != nil {
                        let p = "d\(next(4))/moved-\(round)-\(i).txt"
                        try Posix.makeDirectories(Posix.dirname(root + "/" + p))
                        try Posix.rename(root + "/" + files[i], root + "/" + p)
                        files.append(p)
                    }
                }
            }
            guard let r = try? repo.commit(options("v\(round)")) else { continue }
            let tree = try repo.commit(r.id).tree
            #expect(tree == (try Repository.treeID(of: try repo.flatten(tree: tree))))
            #expect(try repo.status().isClean)  // the workspace, hashed afresh, is exactly the committed tree
        }
    }

    @Test func commitCheckoutAndRollback() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        try write(root, "tables/a.csv", "id,name\n1,x\n")
        try write(root, "evidence/1.jsonl", "{\"a\":1}\n")
        let c1 = try repo.commit(options("v1")).id
        try write(root, "tables/a.csv", "id,name\n1,x\n2,y\n")
        try Posix.unlink(root + "/evidence/1.jsonl")
        let c2 = try repo.commit(options("v2")).id
        #expect(try repo.resolve("HEAD~1") == c1)
        #expect(try repo.resolve(String(c2.hex.prefix(8))) == c2)
        #expect(try repo.diff("HEAD~1", "HEAD").map(\.status) == [.deleted, .modified])
        #expect(try repo.diff(c1.hex, c1.hex).isEmpty)
        // Time travel and back.
        _ = try repo.checkout(c1.hex)
        #expect(try Posix.readFile(root + "/evidence/1.jsonl") == Array("{\"a\":1}\n".utf8))
        #expect(try repo.status().isClean)
        _ = try repo.checkout("main")
        #expect(try Posix.lstat(root + "/evidence/1.jsonl") == nil)
        // Rollback and undo via the reflog.
        _ = try repo.reset(c1.hex, hard: true)
        #expect(try repo.refs.branch(.main) == c1)
        let undo = try repo.reflog("main").first { $0.new == c2 }
        #expect(undo != nil)
        _ = try repo.reset(c2.hex, hard: true)
        #expect(try repo.status().isClean)
        #expect(try repo.fsck().isClean)
    }

    /// `core.compression` takes zstd's levels 1–19 or 0 (no compression); anything else is refused and leaves the
    /// setting as it was. At 0, new frames are stored raw and read back the same.
    @Test func compressionSettingIsCheckedAndZeroStoresRaw() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for bad in ["fast", "-1", "20", "2.5", ""] {
            #expect(throws: RepositoryError.self) { try repo.setConfig("core.compression", bad) }
        }
        #expect(try repo.config("core.compression") == nil)
        #expect(try Repository.compressionLevel(" 7 ", from: "x") == 7)
        try repo.setConfig("core.compression", " 0")
        #expect(try repo.config("core.compression") == "0")
        let raw = try Repository.open(at: root)
        #expect(raw.objects.compressionLevel == 0)
        let text = String(repeating: "id,name,city\n1,Acme,Durban\n", count: 4_000)
        try write(root, "tables/a.csv", text)
        _ = try raw.commit(options("raw"))
        var packed = 0
        for f in try Posix.listDirectory(raw.objects.packsPath) where f.hasSuffix(".pack") {
            packed += Int(try Posix.lstat(raw.objects.packsPath + "/" + f)?.size ?? 0)
        }
        #expect(packed > text.utf8.count)  // stored raw: the repetitive table did not shrink
        var back: [UInt8] = []
        try raw.cat("HEAD", path: "tables/a.csv") { back.append(contentsOf: $0) }
        #expect(back == Array(text.utf8))
        #expect(try raw.fsck().isClean)
    }

    @Test func nothingToCommitAndPartialCommits() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        #expect(throws: RepositoryError.self) { try repo.commit(options("empty")) }
        try write(root, "a/x.csv", "1"); try write(root, "b/y.csv", "2")
        _ = try repo.commit(options("first"))
        #expect(throws: RepositoryError.self) { try repo.commit(options("again")) }
        var o = options("allowed"); o.allowEmpty = true
        _ = try repo.commit(o)
        try write(root, "a/x.csv", "11"); try write(root, "b/y.csv", "22")
        var partial = options("only a"); partial.paths = [root + "/a"]
        let r = try repo.commit(partial)
        #expect(try repo.changes(recordedBy: r).map(\.path) == ["a/x.csv"])
        #expect(try repo.status().changes.map(\.path) == ["b/y.csv"])
    }

    @Test func checkoutRefusesToOverwriteChanges() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        try write(root, "t.csv", "one")
        let c1 = try repo.commit(options("1")).id
        try write(root, "t.csv", "two")
        _ = try repo.commit(options("2"))
        try write(root, "t.csv", "local edit")
        #expect(throws: RepositoryError.self) { try repo.checkout(c1.hex) }
        #expect(try Posix.readFile(root + "/t.csv") == Array("local edit".utf8))
        _ = try repo.checkout(c1.hex, force: true)
        #expect(try Posix.readFile(root + "/t.csv") == Array("one".utf8))
    }

    @Test func branchesAndTags() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        try write(root, "t.csv", "one")
        let c1 = try repo.commit(options("1")).id
        _ = try repo.switchBranch("dev", create: true)
        try write(root, "t.csv", "dev")
        let c2 = try repo.commit(options("dev work")).id
        _ = try repo.createTag("v1", at: c1.hex, message: "first")
        #expect(try repo.resolve("v1") == c1)
        _ = try repo.switchBranch("main")
        #expect(try Posix.readFile(root + "/t.csv") == Array("one".utf8))
        #expect(throws: (any Error).self) { try repo.deleteBranch("main") }
        _ = try repo.deleteBranch("dev")
        #expect(throws: RepositoryError.self) { try repo.resolve("dev") }
        #expect(try repo.reflog("dev").first?.old == c2)
    }

    /// `TreePathLookup` keeps the trees on its last path; for paths in any order (files, folders, paths through a file,
    /// missing ones) it answers what a walk from the root answers: the listing's entry, or nil.
    @Test(arguments: 0..<4) func treePathLookupAnswersAsAWalk(seed: Int) throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        var rng = SeededRandom(seed: seed, stream: 29)
        let names = ["a", "a.b", "b", "ab", "z"]
        for i in 0..<(30 + rng.next(100)) {
            var parts: [String] = []
            for _ in 0...rng.next(3) { parts.append(names[rng.next(names.count)]) }
            _ = try? write(root, parts.joined(separator: "/") + "/f\(i % 9)", "\(i % 4)")
        }
        let commit = try repo.commit(options("v1")).id
        let tree = try repo.commit(commit).tree
        enum Want {
            case entry(TreeEntry)
            case folder
            case none
        }
        var expected: [String: Want] = [:]
        try repo.forEachListed(commit, revision: "v1", recursive: true) { e in
            let parts = e.path.slashSeparated()
            expected[e.path] = .entry(TreeEntry(name: String(parts.last!), kind: e.kind, id: e.id, size: e.size))
            for k in 1..<parts.count { expected[parts[..<k].joined(separator: "/")] = .folder }
            expected[e.path + "/inside"] = Want.none  // a path through a file
        }
        for n in names where expected[n] == nil { expected[n + "/missing"] = Want.none }
        expected["nowhere"] = Want.none
        var paths = Array(expected.keys)
        for i in paths.indices.reversed() { paths.swapAt(i, rng.next(i + 1)) }
        var lookup = TreePathLookup(repo, root: tree)
        for p in paths + paths.sorted(by: Tree.less) {
            let got = try lookup.entry(at: p)
            switch expected[p]! {
            case .entry(let e): #expect(got == e, "\(p)")
            case .folder: #expect(got?.kind == .directory, "\(p)")
            case .none: #expect(got == nil, "\(p)")
            }
        }
    }

    @Test func goldenStoreStillOpensAndChecksClean() throws {
        // The committed golden store must keep reading in every later version.
        let here = URL(fileURLWithPath: #filePath)
        let golden = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("store/golden-v1").path
        let copy = try makeWorkspace()
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-R", golden + "/.", copy]
        try cp.run(); cp.waitUntilExit()
        let repo = try Repository.open(at: copy)
        let report = try repo.fsck()
        #expect(report.isClean, "\(report.problems)")
        let log = try repo.log("main")
        #expect(log.count == 3)
        #expect(try repo.resolve("v1") == log.last?.id)
        var bytes: [UInt8] = []
        try repo.cat("main", path: "tables/organisations.csv") { bytes.append(contentsOf: $0) }
        #expect(ObjectID.hash(bytes).hex == (try repo.list("main", path: "tables/organisations.csv").first?.id.hex))
    }
}

/// The schema migrator: older stores upgrade in one transaction, newer ones are refused untouched.
@Suite("Schema migrations") struct SchemaMigrationTests {
    func scratch() -> String { NSTemporaryDirectory() + "mig-\(Posix.randomHex(5))" }

    @Test func newStoreIsStampedAndRecordsEveryModule() throws {
        let repo = try Repository.initialize(at: scratch())
        let (version, modules) = try repo.schemaState()
        #expect(version == Repository.schemaVersion)
        #expect(modules == ["objects": 2, "refs": 1, "workspace": 3, "repository": 2])
    }

    @Test func storeNewerThanThisBuildIsRefusedUnchanged() throws {
        let dir = scratch()
        _ = try Repository.initialize(at: dir)
        let db = try Database(path: dir + "/.strata/strata.db")
        try db.execute("PRAGMA user_version = \(Repository.schemaVersion + 1)")
        let before = try Posix.readFile(dir + "/.strata/strata.db")
        #expect(throws: RepositoryError.self) { _ = try Repository.open(at: dir) }
        #expect(try Posix.readFile(dir + "/.strata/strata.db") == before)
        // A module whose recorded migrations are newer than this build's is refused too.
        try db.execute("PRAGMA user_version = \(Repository.schemaVersion)")
        try db.run("INSERT INTO schema_migrations (owner, version, summary, applied) VALUES ('objects', 99, 'future', 0)")
        #expect(throws: RepositoryError.self) { _ = try Repository.open(at: dir) }
        // The message names the module's numbers (not the store stamp) and says what to do once.
        do { _ = try Repository.open(at: dir) } catch let e as RepositoryError {
            #expect(e.description.contains("version 99 (objects tables), newer than this strata knows (2)"), "\(e.description)")
            #expect(e.description.components(separatedBy: "upgrade strata").count == 2, "\(e.description)")
        }
    }

    @Test func storeFromBeforeMigrationsIsUpgradedInOneStep() throws {
        let dir = scratch()
        _ = try Repository.initialize(at: dir)
        let db = try Database(path: dir + "/.strata/strata.db")
        try db.execute("DROP TABLE schema_migrations; PRAGMA user_version = 0;")
        let repo = try Repository.open(at: dir)
        #expect(try repo.schemaState().version == Repository.schemaVersion)
        #expect(try repo.schemaState().modules["objects"] == 2)
    }
}
