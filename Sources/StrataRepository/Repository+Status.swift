import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataWorkspace

/// The workspace compared with HEAD.
public struct WorkspaceStatus: Sendable {
    /// Current branch (nil when detached).
    public var branch: BranchName?
    /// HEAD commit (nil on an unborn branch).
    public var head: ObjectID?
    /// Changes from HEAD to the workspace.
    public var changes: [Change]
    /// The merge in progress, if any.
    public var merge: MergeState?
    /// True when nothing changed.
    public var isClean: Bool { changes.isEmpty }
}

extension Repository {
    /// The flat listing of HEAD's tree (empty on an unborn branch).
    public func headListing() throws -> [String: FileVersion] {
        guard let h = try refs.headCommit() else { return [:] }
        return try flatten(tree: try commit(h).tree)
    }

    /// Hashes (and, with a session, stores) the workspace files below `paths` (all when nil), using the stat cache.
    /// Returns the listing and the stat-cache entries to write.
    func snapshot(paths: [String]?, session: WriteSession?, progress: ProgressHandler?) throws
        -> (listing: [String: FileVersion], cacheUpdates: [(String, StatCacheEntry)])
    {
        var listing: [String: FileVersion] = [:]
        var todo: [ScannedEntry] = []
        // The scan and the whole stat cache are let go once the listing is built (they are the largest structures
        // of a status: released here, they no longer add to the peak with what follows).
        do {
            let scanned = try Scanner(root: root).scan(only: paths)
            let cache = try statCache.load()
            listing.reserveCapacity(scanned.count)
            // One read transaction for the whole loop: a commit checks every cached file's object in the index, and
            // outside a transaction each of those lookups took and released SQLite's file locks (two fcntl calls each;
            // measured: 17 % of a one-file commit at 100,000 files).
            try db.transaction(deferred: true) {
                for e in scanned {
                    // A cache hit vouches for the bytes; a commit also needs the object with all its parts (status only
                    // hashes, never stores): dedup must never record a file whose chunks are gone.
                    if let c = cache[e.path], c.matches(e.stat), e.kind != .symlink, try session == nil || objects.hasAllParts(c.id) {
                        listing[e.path] = FileVersion(kind: e.kind, id: c.id, size: c.size)
                    } else {
                        todo.append(e)
                    }
                }
            }
        }
        // Largest first, so the two workers finish together.
        let work = todo.sorted { $0.stat.size > $1.stat.size }
        let totalBytes = work.reduce(UInt64(0)) { $0 + $1.stat.size }
        let results = Locked<[(String, FileVersion, StatCacheEntry?)]>([])
        let done = Locked<(Int, UInt64)>((0, 0))
        let root = self.root
        let now = Posix.nowNs()
        try parallelForEach(work.count) { i in
            let e = work[i]
            let full = root + "/" + e.path
            var version: FileVersion
            var entry: StatCacheEntry?
            if e.kind == .symlink {
                let (id, size, target) = try ContentHasher.hashSymlink(full)
                if let session { try session.put(.blob, Array(target.utf8), id: id) }
                version = FileVersion(kind: .symlink, id: id, size: size)
            } else if let session {
                let s = try session.storeFile(path: full)
                version = FileVersion(kind: s.stat.isExecutable ? .executable : .file, id: s.id, size: s.size)
                entry = StatCacheEntry(stat: s.stat, id: s.id, writtenNs: now)
            } else {
                var r = try ContentHasher.hashFile(full)
                if r == nil { r = try ContentHasher.hashFile(full) }
                guard let (id, size, st) = r else { throw ObjectError.unstableFile(full) }
                version = FileVersion(kind: st.isExecutable ? .executable : .file, id: id, size: size)
                entry = StatCacheEntry(stat: st, id: id, writtenNs: now)
            }
            results.with { $0.append((e.path, version, entry)) }
            let (f, b) = done.with { d -> (Int, UInt64) in
                d.0 += 1; d.1 += e.stat.size; return d
            }
            progress?(ProgressReport(phase: session == nil ? "hashing" : "storing", files: f, totalFiles: work.count, bytes: b, totalBytes: totalBytes))
        }
        var updates: [(String, StatCacheEntry)] = []
        for (p, v, e) in results.get {
            listing[p] = v
            if let e { updates.append((p, e)) }
        }
        return (listing, updates)
    }

    /// Compares the workspace with HEAD (refreshing the stat cache for files it had to hash).
    public func status(progress: ProgressHandler? = nil) throws -> WorkspaceStatus {
        let head = try refs.headCommit()
        // The workspace first, then HEAD: the scan's structures are gone before HEAD's listing is built.
        let (listing, updates) = try snapshot(paths: nil, session: nil, progress: progress)
        let base = try headListing()
        try? statCache.update(updates)
        return WorkspaceStatus(branch: try currentBranch(), head: head, changes: TreeDiff.diff(flat: base, listing), merge: try mergeState())
    }
}
