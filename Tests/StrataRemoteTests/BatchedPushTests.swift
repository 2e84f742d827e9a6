import Foundation
import Testing
import StrataModel
import StrataPlatform
import StrataRepository
@testable import StrataRemote

/// A push sends its objects a batch at a time (packs, then that batch's index fragment), so that its memory does not
/// grow with the number of objects. Batches must not change what the remote ends up with.
@Suite("Batched push") struct BatchedPushTests {
    func folder(_ what: String) throws -> String {
        let p = NSTemporaryDirectory() + "\(what)-\(Posix.randomHex(6))"
        try Posix.makeDirectories(p)
        return Posix.realpath(p) ?? p
    }

    func commit(_ repo: Repository, _ message: String) throws -> ObjectID {
        var o = CommitOptions(message: message)
        o.author = try Signature(name: "Test", email: "test@example.org")
        return try repo.commit(o).id
    }

    /// A store of 60 files in 6 folders, some sharing contents, pushed with batches of 7 objects and, to a second
    /// remote, in one batch: both send every object exactly once, the batched one in several fragments; a store that
    /// fetches from the batched remote gets the whole history (fsck clean, the same files). A later push of one
    /// changed file sends only that file, the commit and the trees on its path.
    @Test func batchesSendEachObjectOnce() throws {
        let root = try folder("pusher")
        let repo = try Repository.initialize(at: root)
        for i in 0..<60 {
            try Posix.makeDirectories(root + "/d\(i % 6)")
            try Posix.writeAtomically(root + "/d\(i % 6)/f\(i).json", Array("{\"v\": \(i % 45)}\n".utf8))
        }
        let first = try commit(repo, "first")
        let batched = try folder("remote-batched"), whole = try folder("remote-whole")
        var sent: [Int] = []
        for (dir, batch) in [(batched, 7), (whole, 1 << 20)] {
            let sync = try RemoteSync(repo: repo, name: dir == batched ? "batched" : "whole", backend: try FolderBackend(root: dir))
            sync.pushBatch = batch
            sent.append(try sync.push(["refs/heads/main"]).objects)
        }
        // 1 commit, 7 trees, 45 distinct contents.
        #expect(sent == [53, 53])
        let fragments = try FolderBackend(root: batched).list(prefix: "index/").count
        #expect(fragments >= 53 / 7)
        #expect(try FolderBackend(root: whole).list(prefix: "index/").count == 1)

        let other = try Repository.initialize(at: try folder("fetcher"))
        _ = try RemoteSync(repo: other, name: "origin", backend: try FolderBackend(root: batched)).fetch()
        #expect(try other.ref("refs/remotes/origin/main") == first)
        _ = try other.checkout("refs/remotes/origin/main")
        #expect(try other.fsck().isClean)
        #expect(try other.flatten(tree: try other.commit(first).tree) == (try repo.flatten(tree: try repo.commit(first).tree)))

        try Posix.writeAtomically(root + "/d3/f3.json", Array("{\"v\": \"changed\"}\n".utf8))
        _ = try commit(repo, "second")
        let again = try RemoteSync(repo: repo, name: "batched", backend: try FolderBackend(root: batched))
        again.pushBatch = 7
        #expect(try again.push(["refs/heads/main"]).objects == 4)  // the file, its folder, the root, the commit
    }
}

/// A folder remote whose writes of index fragments fail after the first `allowed`: a push killed between batches.
final class FragmentLimit: RemoteBackend, @unchecked Sendable {
    let inner: FolderBackend
    var allowed: Int
    init(_ inner: FolderBackend, allowed: Int) { self.inner = inner; self.allowed = allowed }
    struct Killed: Error {}
    var displayName: String { inner.displayName }
    func get(_ key: String) throws -> StoredObject? { try inner.get(key) }
    func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] { try inner.getRange(key, offset: offset, length: length) }
    func head(_ key: String) throws -> String? { try inner.head(key) }
    func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome {
        if key.hasPrefix("index/") {
            if allowed == 0 { throw Killed() }
            allowed -= 1
        }
        return try inner.create(key, bytes)
    }
    func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome { try inner.put(key, bytes, ifMatch: etag) }
    func list(prefix: String) throws -> [String] { try inner.list(prefix: prefix) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome {
        try inner.createFile(key, path: path, sha256: sha256, size: size)
    }
    func listDetailed(prefix: String) throws -> [ListedObject] { try inner.listDetailed(prefix: prefix) }
}

extension BatchedPushTests {
    /// A push killed after any number of its batches leaves fragments that are closed: whatever they list, a commit
    /// or a tree, they list everything below it (parents, trees, files). So a later push, which stops walking at a
    /// listed tree or commit, can never publish a ref whose data the remote lacks; it does finish the job, and a
    /// fetch of the result is complete.
    @Test func aPushKilledBetweenBatchesLeavesClosedFragments() throws {
        let root = try folder("pusher")
        let repo = try Repository.initialize(at: root)
        for round in 0..<3 {
            for i in 0..<12 {
                try Posix.makeDirectories(root + "/d\(i % 3)/e\(i % 2)")
                try Posix.writeAtomically(root + "/d\(i % 3)/e\(i % 2)/f\(i).json", Array("{\"v\": \(i + round * 5)}\n".utf8))
            }
            _ = try commit(repo, "round \(round)")
        }
        for allowed in 0..<8 {
            let dir = try folder("remote-killed")
            let sync = try RemoteSync(repo: repo, name: "r\(allowed)", backend: FragmentLimit(try FolderBackend(root: dir), allowed: allowed))
            sync.pushBatch = 5
            #expect(throws: (any Error).self) { try sync.push(["refs/heads/main"]) }
            var listed = Set<ObjectID>()
            let remote = try FolderBackend(root: dir)
            for key in try remote.list(prefix: "index/") {
                let stored = try #require(try remote.get(key))
                let f = try #require(IndexFragment.decode(stored.bytes))
                listed.formUnion(f.entries.map(\.id))
            }
            #expect(listed.count >= allowed * 5)
            for id in listed {
                switch try repo.objects.kind(of: id) {
                case .commit:
                    let c = try repo.commit(id)
                    #expect(listed.contains(c.tree) && c.parents.allSatisfy(listed.contains), "commit \(id.short) after \(allowed) batches")
                case .tree:
                    #expect(try repo.tree(id).entries.allSatisfy { listed.contains($0.id) }, "tree \(id.short) after \(allowed) batches")
                default: break
                }
            }
            // A push that completes from there publishes a complete history.
            let again = try RemoteSync(repo: repo, name: "r\(allowed)", backend: remote)
            _ = try again.push(["refs/heads/main"])
            let other = try Repository.initialize(at: try folder("fetcher"))
            _ = try RemoteSync(repo: other, name: "origin", backend: remote).fetch()
            _ = try other.checkout("refs/remotes/origin/main")
            #expect(try other.fsck().isClean)
        }
    }

    /// Commits go out parents first, for random histories with merges, in any order given.
    @Test(arguments: 0..<20) func parentsComeFirst(seed: Int) throws {
        var state = UInt64(seed) &+ 11
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let ids = (0..<(2 + next(30))).map { ObjectID.hash(Array("c\($0)-\(seed)".utf8)) }
        var parents: [ObjectID: [ObjectID]] = [:]
        for (i, id) in ids.enumerated() where i > 0 {
            parents[id] = (0...next(2)).map { _ in ids[next(i)] }
        }
        var given = ids
        for i in given.indices.reversed() { given.swapAt(i, next(i + 1)) }
        let order = try RemoteSync.parentsFirst(given) { parents[$0] ?? [] }
        #expect(Set(order) == Set(ids) && order.count == ids.count)
        let at = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        for (c, ps) in parents { for p in ps { #expect(at[p]! < at[c]!) } }
    }
}

/// Index fragments are cached as they arrive, their entries inserted while they are decoded.
@Suite("Index fragment cache") struct IndexFragmentCacheTests {
    /// A fragment whose checksum and name are right but whose text goes wrong after its entries (a hostile or broken
    /// remote) is refused as corrupt, and none of the entries decoded before the fault stays in the cache: a later
    /// sync reads it again and refuses it again.
    @Test func aFragmentMalformedAfterItsEntriesLeavesNothingCached() throws {
        let dir = NSTemporaryDirectory() + "remote-hostile-\(Posix.randomHex(6))"
        let backend = try FolderBackend(root: dir)
        let id = ObjectID.hash(Array("a blob".utf8))
        var bytes = RemoteLayout.fragmentMagic + Array("pack \(String(repeating: "ab", count: 32)) 1\n".utf8)
        RemoteLayout.encodeEntry(
            RemoteObject(id: id, kind: .blob, pack: "", frameOffset: 8, frameLength: 40, offset: 0, length: 6), into: &bytes)
        bytes += Array("bogus\n".utf8)
        bytes += ObjectID.hash(bytes).bytes
        _ = try backend.create(RemoteLayout.indexKey(ObjectID.hash(bytes).hex), bytes)
        let repo = try Repository.initialize(at: NSTemporaryDirectory() + "store-\(Posix.randomHex(6))")
        let cache = try RemoteIndexCache(repo: repo, remote: "origin")
        for _ in 0..<2 {
            #expect(throws: RemoteSyncError.self) { try cache.sync(backend, width: 2) }
            #expect(try !cache.has(id))
        }
    }
}
