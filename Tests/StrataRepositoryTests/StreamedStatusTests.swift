import Foundation
import Testing
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataWorkspace

@testable import StrataRepository

/// The streamed status (one walk merge-joining folders, HEAD's trees and the stat cache) against a from-scratch
/// answer: every file hashed afresh, compared with HEAD's full listing.
@Suite("Streamed status") struct StreamedStatusTests {
    /// HEAD's listing against the workspace hashed from scratch (no stat cache).
    func fromScratch(_ repo: Repository) throws -> [Change] { TreeDiff.diff(flat: try repo.headListing(), try scratchListing(repo)) }

    /// The workspace hashed from scratch.
    func scratchListing(_ repo: Repository) throws -> [String: FileVersion] {
        var now: [String: FileVersion] = [:]
        for e in try Scanner(root: repo.root).scan() {
            let full = repo.root + "/" + e.path
            if e.kind == .symlink {
                let (id, size, _) = try ContentHasher.hashSymlink(full)
                now[e.path] = FileVersion(kind: .symlink, id: id, size: size)
            } else if let (id, size, st) = try ContentHasher.hashFile(full) {
                now[e.path] = FileVersion(kind: st.isExecutable ? .executable : .file, id: id, size: size)
            }
        }
        return now
    }

    /// Random creations, modifications (same-size rewrites within the same second: the racy case), deletions (of
    /// files and of whole folders), renames, folder moves, a file turned into a folder and back, executable bits and
    /// symlinks, with commits in between: status always equals the from-scratch answer, and after a commit it is
    /// clean.
    @Test(arguments: 0..<16) func agreesWithAFullRehash(seed: Int) throws {
        var random = SeededRandom(seed: seed, stream: 7)
        func next(_ n: Int) -> Int { random.next(n) }
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        var files: [String] = []
        for i in 0..<40 {
            let p = ["a", "a-b", "a.b", "a/b", "b"][next(5)] + "/f\(i)" + ["", ".txt", "-x"][next(3)]
            files.append(p)
            try write(root, p, "v0 \(i)")
        }
        #expect(try repo.status().changes == (try fromScratch(repo)))
        _ = try repo.commit(options("v0"))
        for round in 1...8 {
            for _ in 0..<next(5) + 1 {
                let i = next(files.count)
                let full = root + "/" + files[i]
                if try Posix.lstat(full)?.isDirectory == true { continue }
                if next(12) == 0 {  // a whole folder goes (HEAD's subtree becomes deletions)
                    try? FileManager.default.removeItem(atPath: root + "/" + ["a.b", "a/b", "c", "d"][next(4)])
                    continue
                }
                switch next(8) {
                case 0: try write(root, files[i], "v\(round) \(i)")
                case 1:
                    if try Posix.lstat(full) != nil {
                        try write(root, files[i], String(repeating: "z", count: (try Posix.lstat(full)?.size).map(Int.init) ?? 1))
                    }
                case 2: try? Posix.unlink(full)
                case 3:
                    let p = ["a", "c", "a/b/c"][next(3)] + "/n\(round)-\(i)"
                    if try Posix.lstat(root + "/" + Posix.dirname(p))?.isDirectory == false { continue }
                    try write(root, p, "new \(round)")
                    files.append(p)
                case 4:
                    if try Posix.lstat(full) != nil {
                        let p = ["a", "b", "d/e"][next(3)] + "/moved-\(round)-\(i)"
                        try Posix.makeDirectories(Posix.dirname(root + "/" + p))
                        try Posix.rename(full, root + "/" + p)
                        files.append(p)
                    }
                case 5:
                    if try Posix.lstat(full) != nil { chmod(full, 0o755) }
                case 6:
                    let p = "links/l\(round)-\(i)"
                    try Posix.makeDirectories(root + "/links")
                    symlink("../" + files[i], root + "/" + p)
                default:
                    // A file becomes a folder of the same name (and the folder's files are new).
                    if try Posix.lstat(full)?.isRegular == true {
                        try Posix.unlink(full)
                        try write(root, files[i] + "/inside", "was a file")
                        files.append(files[i] + "/inside")
                    }
                }
            }
            // Now and then a change to the ignore rules (every folder-cache row stops holding).
            if next(6) == 0 { try write(root, ".strataignore", ["*-x\n", "links/\n", "", "a.b/\n"][next(4)]) }
            let expected = try fromScratch(repo)
            #expect(try repo.status().changes == expected, "seed \(seed) round \(round)")
            // Now and then everything is aged past the racy window, as a workspace at rest is: the next walks take
            // the names of every folder not changed since from the folder cache.
            if next(2) == 0 {
                try ageEverything(root)
                #expect(try repo.status().changes == expected, "seed \(seed) round \(round): aged")
            }
            // Every folder below the root walked by cursors, or every one by point lookups: the same answer.
            let head = try repo.refs.headCommit()
            for spread in [1, 1000] { #expect(try repo.changesSinceHead(head, progress: nil, spread: spread).changes == expected, "spread \(spread)") }
            // An older commit against the workspace: a → HEAD from the trees composed with HEAD → workspace.
            if let older = try? repo.resolve("HEAD~1") {
                let want = TreeDiff.diff(flat: try repo.flatten(tree: try repo.commit(older).tree), try scratchListing(repo))
                #expect(try repo.diff(older.hex) == want, "seed \(seed) round \(round): diff HEAD~1")
            }
            if next(2) == 0, (try? repo.commit(options("v\(round)"))) != nil {
                #expect(try repo.status().isClean, "seed \(seed) round \(round)")
            }
        }
    }
}

/// Sets the mtime of every file and folder of the workspace (not the store) a minute back, as at rest.
func ageEverything(_ root: String) throws {
    var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
    func age(_ rel: String) throws {
        let full = rel.isEmpty ? root : root + "/" + rel
        guard let st = try Posix.lstat(full) else { return }
        if st.isDirectory {
            for name in try FileManager.default.contentsOfDirectory(atPath: full) where !(rel.isEmpty && name == ".strata") {
                try age(rel.isEmpty ? name : rel + "/" + name)
            }
        }
        #expect(utimensat(AT_FDCWD, full, &times, AT_SYMLINK_NOFOLLOW) == 0)
    }
    try age("")
}

extension StreamedStatusTests {
    /// The folder cache (git's untracked cache): once folders are at rest, a walk reads none of them; an added,
    /// removed or renamed name, a folder's mtime set back by hand, a folder replaced by another, and a change to the
    /// ignore rules each make the walk read that folder (or all of them) again, and the answer stays the from-scratch
    /// one. Untracked, ignored and missing tracked files are all kept in a row.
    @Test func foldersAtRestAreNotReadAgain() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for p in ["a/x", "a/y", "a/b/z", "c/w", "top.txt", "d/e/f/g"] { try write(root, p, "content of \(p)") }
        _ = try repo.commit(options("v1"))
        try write(root, "a/untracked", "new")
        try write(root, "c/scratch.tmp", "ignored")
        try write(root, ".strataignore", "*.tmp\n")
        try Posix.unlink(root + "/a/y")
        try ageEverything(root)
        func walk() throws -> WorkspaceWalk.Found {
            try repo.db.readSnapshot {
                try repo.walk(WorkspaceWalk(repo: repo, scanner: Scanner(root: root), session: nil), try repo.refs.headCommit(), spread: 16)
            }
        }
        #expect(try repo.status().changes == (try fromScratch(repo)))
        #expect(try walk().read == 0, "every folder is at rest and recorded")
        #expect(try repo.status().changes.map(\.path) == [".strataignore", "a/untracked", "a/y"])

        // A new name in a/b: only a/b is read, and the new file is found.
        try write(root, "a/b/new", "n")
        var found = try walk()
        #expect(found.read == 1)
        #expect(try repo.status().changes == (try fromScratch(repo)))
        // The same folder's mtime set back by hand: its ctime still tells.
        try write(root, "c/another", "m")
        var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, root + "/c", &times, AT_SYMLINK_NOFOLLOW) == 0)
        found = try walk()
        #expect(found.read == 2)
        #expect(try repo.status().changes.map(\.path).contains("c/another"))
        // A folder replaced by another of the same name and files (a new inode).
        try ageEverything(root)
        _ = try repo.status()
        #expect(try walk().read == 0)
        try Posix.rename(root + "/d/e/f", root + "/d/e/old")
        try write(root, "d/e/f/g", "content of d/e/f/g")
        try write(root, "d/e/f/h", "extra")
        try FileManager.default.removeItem(atPath: root + "/d/e/old")
        var old = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        for p in ["d/e", "d/e/f", "d/e/f/g", "d/e/f/h"] { #expect(utimensat(AT_FDCWD, root + "/" + p, &old, AT_SYMLINK_NOFOLLOW) == 0) }
        #expect(try repo.status().changes == (try fromScratch(repo)))
        #expect(try repo.status().changes.map(\.path).contains("d/e/f/h"))
        // New ignore rules: every folder is read again, and the once ignored file shows.
        try write(root, ".strataignore", "")
        var older = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, root, &older, AT_SYMLINK_NOFOLLOW) == 0)
        found = try walk()
        #expect(found.read == 7, "root, a, a/b, c, d, d/e and d/e/f")
        #expect(try repo.status().changes.map(\.path).contains("c/scratch.tmp"))
        // A commit changes HEAD's tree of the folders it touches: those are read once more, then recorded anew.
        _ = try repo.commit(options("v2"))
        try ageEverything(root)
        _ = try repo.status()
        #expect(try walk().read == 0)
        #expect(try repo.status().isClean)
    }

    /// A folder whose files were all found equal to HEAD is vouched for by one digest of their stats: the next walk
    /// looks none of them up in the stat cache. An edit the stat cache would see breaks the digest, and the answer
    /// stays the from-scratch one: a same-size edit with the mtime put back (its ctime tells), a mode change, an edit
    /// inside the racy window. A folder whose files are not all as in HEAD gets no digest.
    @Test func cleanFoldersAreVouchedForByOneDigest() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for p in ["a/x", "a/y", "a/b/z", "c/w", "top.txt"] { try write(root, p, "content of \(p)") }
        _ = try repo.commit(options("v1"))
        func walk() throws -> WorkspaceWalk.Found {
            try repo.db.readSnapshot {
                try repo.walk(WorkspaceWalk(repo: repo, scanner: Scanner(root: root), session: nil), try repo.refs.headCommit(), spread: 16)
            }
        }
        func settle() throws {
            try ageEverything(root)
            #expect(try repo.status().changes == (try fromScratch(repo)))  // hashes the aged files again
            #expect(try repo.status().changes == (try fromScratch(repo)))  // vouched for by the cache: digests recorded
        }
        try settle()
        var found = try walk()
        #expect(found.vouched == 4, "the root, a, a/b and c")
        #expect(found.read == 0 && found.todo.isEmpty)
        #expect(try repo.status().isClean)

        // The same size, written in place (the same inode, the folder untouched), the mtime put back: only the ctime
        // differs.
        let st = try #require(try Posix.lstat(root + "/a/x"))
        let fd = open(root + "/a/x", O_WRONLY | O_TRUNC)
        let bytes = Array("CONTENT of a/x".utf8)
        #expect(fd >= 0 && Glibc.write(fd, bytes, bytes.count) == bytes.count)
        close(fd)
        let mtime = timespec(tv_sec: Int(st.mtimeNs / 1_000_000_000), tv_nsec: Int(st.mtimeNs % 1_000_000_000))
        var times = [mtime, mtime]
        #expect(utimensat(AT_FDCWD, root + "/a/x", &times, AT_SYMLINK_NOFOLLOW) == 0)
        #expect(
            try Posix.lstat(root + "/a/x").map { [$0.mtimeNs, Int64($0.size), Int64(bitPattern: $0.inode)] } == [
                st.mtimeNs, Int64(st.size), Int64(bitPattern: st.inode),
            ])
        found = try walk()
        #expect(found.vouched == 3, "the root, a/b and c")
        #expect(try repo.status().changes.map(\.path) == ["a/x"])
        #expect(try repo.status().changes == (try fromScratch(repo)))

        // A mode change in c.
        chmod(root + "/c/w", 0o755)
        #expect(try walk().vouched == 2)
        #expect(try repo.status().changes.map(\.path) == ["a/x", "c/w"])
        #expect(try repo.status().changes == (try fromScratch(repo)))

        // Committed and at rest again: all four vouched for.
        _ = try repo.commit(options("v2"))
        try settle()
        #expect(try walk().vouched == 4)

        // An edit now (inside the racy window of the next walk): found, and the folder gets no digest until at rest.
        try write(root, "a/b/z", "edited")
        #expect(try repo.status().changes.map(\.path) == ["a/b/z"])
        #expect(try walk().vouched == 3)
        #expect(try repo.status().changes == (try fromScratch(repo)))
        _ = try repo.commit(options("v3"))
        #expect(try repo.status().isClean)
        #expect(try walk().vouched < 4, "a/b was committed inside the racy window: its files are checked one by one")
        #expect(try repo.status().isClean)
    }

    /// A row's listing is the tree's keys without the missing ones and with the extra ones, in path order; the delta
    /// of a listing against the keys gives back the same row (an invariant checked over random sets).
    @Test(arguments: 0..<32) func folderRowsRoundTrip(seed: Int) throws {
        var random = SeededRandom(seed: seed, stream: 11)
        let pool = ["a", "a-b", "a.b", "a/", "a-b/", "b", "b/", "c", "c0", "c/", "z", "é", "é/"]
        let treeKeys = Tree.inPathOrder(pool.filter { _ in random.next(2) == 0 }.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0, $0.hasSuffix("/")) })
            .map(\.key)
        let disk = Tree.inPathOrder(pool.filter { _ in random.next(2) == 0 }.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0, $0.hasSuffix("/")) })
        let (extra, missing) = try #require(FolderCacheEntry.delta(listing: disk, treeKeys: treeKeys))
        let row = FolderCacheEntry(
            stat: FileStat(stat()), rules: 0, tree: nil, extra: extra, missing: missing, writtenNs: 0)
        #expect(row.listing(treeKeys: treeKeys).map(\.key) == disk.map(\.key))
        #expect(row.listing(treeKeys: treeKeys).map(\.isDirectory) == disk.map(\.isDirectory))
    }
}

extension StreamedStatusTests {
    /// Files and folders mixed in one folder (`a.txt`, `b/…`, `c.txt`): the walk asks the stat cache in byte order
    /// of paths, so after a commit every file is vouched for by the cache and nothing is hashed again.
    @Test(arguments: [1, 1000]) func cachedFilesAreNotHashedAgain(spread: Int) throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for p in ["a.txt", "b/x", "b/y/z", "b-c", "b.d/e", "c.txt", "d/a.txt", "d/b/c", "d/c.txt"] { try write(root, p, "content of \(p)") }
        // Older than the cache's racy window, as files at rest are.
        for e in try Scanner(root: root).scan() {
            var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, root + "/" + e.path, &times, AT_SYMLINK_NOFOLLOW) == 0)
        }
        _ = try repo.commit(options("v1"))
        let hashed = Locked(0)
        let (changes, _) = try repo.changesSinceHead(try repo.refs.headCommit(), progress: { _ in hashed.with { $0 += 1 } }, spread: spread)
        #expect(changes.isEmpty)
        #expect(hashed.get == 0)
    }
}

extension StreamedStatusTests {
    /// A folder walked near the root with many files (600 at the root, beside folders): its first files are point
    /// lookups in the cache, the rest come from a cursor started where the walk has got to. Every file stays cached
    /// after a commit, and a change on either side of the switch is found.
    @Test func aFlatFolderSwitchesFromPointLookupsToACursor() throws {
        let root = try makeWorkspace()
        let repo = try Repository.initialize(at: root)
        for i in 0..<600 { try write(root, String(format: "r%04d.txt", i), "root \(i)") }
        for p in ["a/x", "r0100/inside", "z/y"] { try write(root, p, "in \(p)") }
        for e in try Scanner(root: root).scan() {
            var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, root + "/" + e.path, &times, AT_SYMLINK_NOFOLLOW) == 0)
        }
        _ = try repo.commit(options("v1"))
        for spread in [16, 1000] {
            let hashed = Locked(0)
            let (changes, _) = try repo.changesSinceHead(try repo.refs.headCommit(), progress: { _ in hashed.with { $0 += 1 } }, spread: spread)
            #expect(changes.isEmpty && hashed.get == 0, "spread \(spread): \(changes.count) changes, \(hashed.get) hashed")
        }
        try write(root, "r0010.txt", "changed early")
        try write(root, "r0500.txt", "changed late")
        try Posix.unlink(root + "/r0550.txt")
        #expect(try repo.status().changes.map(\.path) == ["r0010.txt", "r0500.txt", "r0550.txt"])
        #expect(try repo.status().changes == (try fromScratch(repo)))
    }
}
