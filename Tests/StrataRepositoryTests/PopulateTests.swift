import Foundation
import Testing
import StrataModel
import StrataObjects
import StrataPlatform
@testable import StrataRepository

/// Filling an empty workspace (a clone's checkout, or `reset --hard` after every file was deleted) streams the tree a
/// batch at a time instead of listing every path as a forced checkout does.
@Suite("Populate") struct PopulateTests {
    /// Everything in the workspace but the store, removed.
    func empty(_ root: String) throws {
        for n in try Posix.listDirectory(root) where n != Repository.storeFolder { Posix.removeTree(root + "/" + n) }
    }

    /// Random layouts (nested folders, names sorting around each other, executables, symlinks, shared contents), any
    /// batch size: the filled workspace hashes afresh to exactly the committed tree, modes and link targets included,
    /// and status is clean from the stat cache the fill wrote.
    @Test(arguments: 0..<6) func aFilledWorkspaceIsTheCommittedTree(seed: Int) throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        var rng = SeededRandom(seed: seed, stream: 29)
        let names = ["a", "a.b", "a-b", "b", "ab", "z"]
        for i in 0..<(10 + rng.next(120)) {
            var parts: [String] = []
            for _ in 0...rng.next(3) { parts.append(names[rng.next(names.count)]) }
            let path = parts.joined(separator: "/") + "/f\(i)"
            if (try? write(root, path, "{\"i\": \(i % 5)}")) == nil { continue }
            if rng.next(4) == 0 { chmod(root + "/" + path, 0o755) }
        }
        symlink("a/../b", root + "/link")
        let head = try repo.commit(options("v1")).id
        let tree = try repo.commit(head).tree
        let committed = try repo.flatten(tree: tree)
        for batch in [1, 3, 1000] {
            try empty(root)
            let r = try repo.populate(tree, commit: head, progress: nil, batchSize: batch)
            #expect(r.written == committed.count)
            #expect(try repo.snapshot(paths: nil, session: nil, progress: nil).listing == committed)
            #expect(try repo.status().isClean)
        }
        // The public verbs take this path for an empty workspace.
        try empty(root)
        _ = try repo.reset("HEAD", hard: true)
        #expect(try repo.snapshot(paths: nil, session: nil, progress: nil).listing == committed)
        #expect(try Posix.readlink(root + "/link") == Array("a/../b".utf8))
        #expect(try repo.fsck().isClean)
    }

    /// An object missing half-way (found only when its batch comes) stops the fill, and every file placed before it is
    /// removed again with its folders: the workspace is as empty as it was, and nothing is recorded in the stat cache.
    @Test func aFailedFillLeavesTheWorkspaceEmpty() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for i in 0..<12 { try write(root, "d\(i % 3)/f\(i).csv", "row \(i)\n") }
        let head = try repo.commit(options("v1")).id
        let tree = try repo.commit(head).tree
        let last = try #require(try repo.flatten(tree: tree)["d2/f11.csv"])
        try repo.objects.db.run("DELETE FROM objects WHERE id = ?", [.blob(last.id.bytes)])
        repo.objects.dropCaches()
        try empty(root)
        #expect(throws: (any Error).self) { try repo.populate(tree, commit: head, progress: nil, batchSize: 2) }
        #expect(try Posix.listDirectory(root) == [Repository.storeFolder])
        #expect(try repo.statCache.entry(for: "d0/f0.csv") == nil)
    }
}
