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
