import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataWorkspace

#if canImport(Glibc)
import Glibc
#endif

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
        // The scan and the whole stat cache are let go once the listing is built (they are the largest structures
        // of a status: released here, they no longer add to the peak with what follows).
        let scanned = try Scanner(root: root).scan(only: paths)
        let cache = try statCache.load()
        return try versions(of: scanned, cached: { cache[$0] }, head: { _ in nil }, session: session, progress: progress)
    }

    /// The version of each scanned file: from the stat cache where it vouches (`cached` gives a path's row, `head`
    /// HEAD's version), else hashed (with a session: stored) on all cores. Returns the listing and the stat-cache
    /// entries to write.
    func versions(
        of scanned: [ScannedEntry], cached: (String) throws -> StatCacheEntry?, head: (String) -> FileVersion?, session: WriteSession?,
        progress: ProgressHandler?
    ) throws -> (listing: [String: FileVersion], cacheUpdates: [(String, StatCacheEntry)]) {
        var listing: [String: FileVersion] = [:]
        listing.reserveCapacity(scanned.count)
        var todo: [ScannedEntry] = []
        // One read transaction for the whole loop: a commit checks every cached file's object in the index, and
        // outside a transaction each of those lookups took and released SQLite's file locks (two fcntl calls each;
        // measured: 17 % of a one-file commit at 100,000 files).
        try db.transaction(deferred: true) {
            for e in scanned {
                if let c = try cached(e.path), try vouches(c, for: e, session: session, head: head(e.path)) {
                    listing[e.path] = FileVersion(kind: e.kind, id: c.id, size: c.size)
                } else {
                    todo.append(e)
                }
            }
        }
        var updates: [(String, StatCacheEntry)] = []
        let previous = Dictionary(todo.compactMap { e in head(e.path).map { (e.path, $0) } }, uniquingKeysWith: { a, _ in a })
        for (p, v, e) in try hash(todo, previous: previous, session: session, progress: progress) {
            listing[p] = v
            if let e { updates.append((p, e)) }
        }
        return (listing, updates)
    }

    /// Whether a stat-cache entry vouches for a scanned file's bytes: the stat matches (and is not racily clean), and
    /// it is no symlink (those are always read). A commit (`session`) also needs the object in the store with all
    /// its parts, since a status may have hashed the file without storing it: dedup must never record a file whose
    /// chunks are gone. HEAD's own version (`head`) is there already, reachable from HEAD.
    func vouches(_ c: StatCacheEntry, for e: ScannedEntry, session: WriteSession?, head: FileVersion?) throws -> Bool {
        guard e.kind != .symlink, c.matches(e.stat) else { return false }
        return try session == nil || (c.id == head?.id && c.size == head?.size) || objects.hasAllParts(c.id)
    }

    /// Hashes (with a session: stores) files the stat cache could not vouch for, on all cores, largest first:
    /// their versions, and the stat-cache entries to write.
    /// `previous` holds HEAD's versions of the paths it knows: a grown file's unchanged start is then not chunked again.
    func hash(_ todo: [ScannedEntry], previous: [String: FileVersion] = [:], session: WriteSession?, progress: ProgressHandler?) throws -> [(
        String, FileVersion, StatCacheEntry?
    )] {
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
                if let session { try session.put(.blob, target, id: id) }
                version = FileVersion(kind: .symlink, id: id, size: size)
            } else if let session {
                let s = try session.storeFile(path: full, previous: previous[e.path].map(\.id))
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
        return results.get
    }

    /// Compares the workspace with HEAD (refreshing the stat cache for files it had to hash).
    public func status(progress: ProgressHandler? = nil) throws -> WorkspaceStatus {
        let head = try refs.headCommit()
        let (changes, updates) = try changesSinceHead(head, progress: progress)
        try? statCache.update(updates)
        return WorkspaceStatus(branch: try currentBranch(), head: head, changes: changes, merge: try mergeState())
    }

    /// The changes from HEAD to the workspace among `candidates` only: the paths a file-system monitor reported
    /// changed, and those that differed at the last status. Every other path is taken to be as the last status saw
    /// it; the caller vouches for that (`StatusWorkflow` asks the monitor, and scans everything when it cannot). A
    /// candidate folder is compared whole (what is below it on disk with what is below it in HEAD). Files the stat
    /// cache vouches for are not read; the others are hashed and the cache refreshed, as a full status does.
    public func status(candidates: [String], progress: ProgressHandler? = nil) throws -> WorkspaceStatus {
        let head = try refs.headCommit()
        let (changes, updates) = try candidateChanges(candidates, head: head, session: nil, progress: progress)
        try? statCache.update(updates)
        return WorkspaceStatus(branch: try currentBranch(), head: head, changes: changes, merge: try mergeState())
    }

    /// The changes among `candidates` (see `status(candidates:)`); with a session, new files are stored as a commit
    /// stores them. Returns the stat-cache entries to write.
    func candidateChanges(_ candidates: [String], head: ObjectID?, session: WriteSession?, progress: ProgressHandler?) throws
        -> (changes: [Change], updates: [(String, StatCacheEntry)])
    {
        let scanner = Scanner(root: root)
        // A file candidate is stat'ed alone, not listed with its siblings. For a name with non-ASCII bytes its folder is
        // listed too, so that a sibling equal to it under Unicode normalization is refused, as a full scan refuses it
        // (Swift's String equality would otherwise take the two for one path: the monitor's status reported the new
        // NFD file as a change to the committed NFC one, and a commit replaced it).
        var bad: [String] = []
        var folders: [[UInt8]: Void] = [:]
        for c in candidates where c.utf8.contains(where: { $0 >= 0x80 }) {
            let folder = Posix.dirname(c.slashSeparated().joined(separator: "/"))
            if folders.updateValue((), forKey: Array(folder.utf8)) == nil { _ = try scanner.children(folder, &bad) }
        }
        if !bad.isEmpty { throw WorkspaceError.unversionableNames(bad.sorted()) }
        // Normalised, and nothing below another candidate folder twice.
        var picked: [String] = []
        for c in Set(candidates.map { $0.slashSeparated().joined(separator: "/") }).filter({ !$0.isEmpty }).sorted() {
            if let last = picked.last, c.hasPrefix(last + "/") { continue }
            picked.append(c)
        }
        if picked.isEmpty { return ([], []) }
        var before: [String: FileVersion] = [:]
        if let head {
            // Candidates share folders (a commit of 1,000 files in 10 folders): each tree is read once.
            var trees: [ObjectID: Tree] = [:]
            func entry(_ path: String, in root: ObjectID) throws -> TreeEntry? {
                var cur = TreeEntry(name: "", kind: .directory, id: root, size: 0)
                for part in path.slashSeparated() {
                    guard cur.kind == .directory else { return nil }
                    let t = try trees[cur.id] ?? self.tree(cur.id)
                    trees[cur.id] = t
                    guard let e = t.entry(named: String(part)) else { return nil }
                    cur = e
                }
                return cur
            }
            let rootTree = try commit(head).tree
            for p in picked {
                guard let e = try entry(p, in: rootTree) else { continue }
                if e.kind == .directory {
                    for x in try flatten(tree: e.id) { before[p + "/" + x.key] = x.value }
                } else {
                    before[p] = FileVersion(kind: e.kind, id: e.id, size: e.size)
                }
            }
        }
        let (listing, updates) = try versions(
            of: try scanner.scan(only: picked), cached: { try statCache.entry(for: $0) }, head: { before[$0] }, session: session,
            progress: progress)
        return (TreeDiff.diff(flat: before, listing), updates)
    }

    /// The changes from HEAD to the workspace, in memory that grows with the change, not the workspace. Folders and
    /// their files are visited in byte order of paths, each folder's listing merge-joined with HEAD's tree of that
    /// folder (read when reached) and with the stat cache (a cursor in the same order). The folders near the root
    /// are visited first, until there are enough subtrees to share out; the subtrees are then walked on all cores,
    /// each with its own cursor over its range of the cache. Only files the cache cannot vouch for are kept, then
    /// hashed on all cores; a folder HEAD has and the workspace lacks is flattened for its deletions. Returns the
    /// changes (renames paired) and the stat-cache entries to write.
    /// With a session (a commit), files it hashes are stored too, and a cache hit counts only when the object is in
    /// the store with all its parts.
    /// `spread` is how many subtrees to wait for before walking them in parallel (tests vary it).
    func changesSinceHead(_ head: ObjectID?, session: WriteSession? = nil, progress: ProgressHandler?, spread: Int = 16) throws -> (
        changes: [Change], cacheUpdates: [(String, StatCacheEntry)]
    ) {
        let walker = WorkspaceWalk(repo: self, scanner: Scanner(root: root), session: session)
        // The walk only reads: one snapshot of the stat cache and the object index for all of it (SQLite takes its
        // read lock once, not per lookup).
        var found = try db.readSnapshot { try walk(walker, head, spread: spread) }
        if !found.bad.isEmpty { throw WorkspaceError.unversionableNames(found.bad.sorted()) }
        // Folders read afresh are recorded for the next walk (a cache: a failed write only means reading them again).
        try? FolderCache(db: db).update(found.folders)
        var updates: [(String, StatCacheEntry)] = []
        for (p, v, e) in try hash(found.todo, previous: found.headOfTodo, session: session, progress: progress) {
            if let e { updates.append((p, e)) }
            let was = found.headOfTodo[p]
            if v != was {
                found.new[p] = v
                if let was { found.old[p] = was }
            }
        }
        return (TreeDiff.diff(flat: found.old, found.new), updates)
    }

    /// The walk of `changesSinceHead`: near the root one folder at a time, then the subtrees on all cores.
    func walk(_ walker: WorkspaceWalk, _ head: ObjectID?, spread: Int) throws -> WorkspaceWalk.Found {
        var found = WorkspaceWalk.Found()
        // Near the root: folders one at a time (their own files by point lookups in the cache), until at least 16
        // subtrees are waiting or none is left.
        var waiting: [(path: String, tree: ObjectID?)] = [("", try head.map { try commit($0).tree })]
        var visited = 0
        while visited < 64, let next = waiting.first, waiting.count < spread {
            waiting.removeFirst()
            visited += 1
            // Point lookups for a folder's first files; a folder with many (a flat workspace) switches to a cursor
            // from where it has got to, so a million files at the root are not a million B-tree searches.
            var asked = 0
            var cursor: StatCacheCursor?
            let folder = next.path
            try walker.folder(
                folder, next.tree,
                cache: { path in
                    asked += 1
                    if asked <= 256 { return try self.statCache.entry(for: path) }
                    if cursor == nil { cursor = try self.statCache.cursor(below: folder, from: path) }
                    return try cursor!.entry(for: path)
                }, skip: { try cursor?.skip(to: $0) }, listing: { try FolderCache(db: self.db).entry(for: $0) }, into: &found
            ) { p, t, _ in waiting.append((p, t)) }
        }
        let subtrees = waiting
        let results = Locked<[WorkspaceWalk.Found]>([])
        let failure = Locked<Error?>(nil)
        let each: @Sendable (Int) -> Void = { i in
            do {
                var local = WorkspaceWalk.Found()
                let cursor = try self.statCache.cursor(below: subtrees[i].path)
                let folders = try FolderCache(db: self.db).cursor(below: subtrees[i].path)
                try walker.subtree(
                    subtrees[i].path, subtrees[i].tree, cache: { try cursor.entry(for: $0) }, skip: { try cursor.skip(to: $0) },
                    listing: { try folders.entry(for: FolderCache.key($0)) }, into: &local)
                results.with { $0.append(local) }
            } catch {
                failure.with { if $0 == nil { $0 = error } }
            }
        }
        DispatchQueue.concurrentPerform(iterations: subtrees.count, execute: each)
        if let e = failure.get { throw e }
        for r in results.get { found.merge(r) }
        return found
    }
}

/// One walk of the workspace against HEAD's trees and the stat cache (`Repository.changesSinceHead`).
struct WorkspaceWalk: Sendable {
    /// True when HEAD's files of a folder (its non-folder entries, in path order) stat in `fd` as they did when
    /// `clean` was folded from them (`FolderCacheEntry.fold`); false at the first that cannot be stat'ed.
    func filesStatAsFolded(_ clean: ObjectID, _ theirs: [(key: String, entry: TreeEntry)], in fd: Int32) throws -> Bool {
        var h = SHA256Hasher()
        var st = stat()
        for (key, e) in theirs where e.kind != .directory {
            guard fstatat(fd, key, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
            FolderCacheEntry.fold(&h, name: key, stat: FileStat(st))
        }
        return h.finalize() == clean
    }

    /// What a walk found: HEAD's and the workspace's versions of changed paths, files to hash (with HEAD's version),
    /// names that cannot be recorded, and the folder-cache rows of folders it had to read.
    struct Found {
        var old: [String: FileVersion] = [:], new: [String: FileVersion] = [:]
        var todo: [ScannedEntry] = [], headOfTodo: [String: FileVersion] = [:]
        var bad: [String] = []
        var folders: [(String, FolderCacheEntry)] = []
        /// Folders whose names were read from the file system (the others came from the folder cache).
        var read = 0
        /// Folders whose files a clean digest vouched for, none of them looked up in the stat cache.
        var vouched = 0

        mutating func merge(_ o: Found) {
            old.merge(o.old) { a, _ in a }
            new.merge(o.new) { a, _ in a }
            todo += o.todo
            headOfTodo.merge(o.headOfTodo) { a, _ in a }
            bad += o.bad
            folders += o.folders
            read += o.read
            vouched += o.vouched
        }
    }

    let repo: Repository
    let scanner: StrataWorkspace.Scanner
    let session: WriteSession?
    /// When the walk started (ns): a folder changed within the racy window before it is not recorded.
    let startNs = Posix.nowNs()

    /// The folder and everything below it, in byte order of paths (`cache` and `listing` are asked in that order).
    func subtree(
        _ rel: String, _ tree: ObjectID?, cache: (String) throws -> StatCacheEntry?, skip: (String) throws -> Void,
        listing: (String) throws -> FolderCacheEntry?, into found: inout Found
    ) throws {
        try folder(rel, tree, cache: cache, skip: skip, listing: listing, into: &found) { path, sub, f in
            try subtree(path, sub, cache: cache, skip: skip, listing: listing, into: &f)
        }
    }

    /// One folder: its files compared with HEAD's entries and the cache (asked in byte order of paths); HEAD's
    /// folders the workspace lacks are flattened into deletions. Each subfolder (with HEAD's tree of it, if any) goes
    /// to `subfolder` at its place in that order, so a caller that descends there keeps the cache's order.
    /// The folder's names come from its folder-cache row (`listing`) when the row still describes it, else from
    /// reading the folder (and a new row is recorded in `found`).
    ///
    /// A row whose names are exactly the tree's may also hold a digest of the folder's files (`FolderCacheEntry.clean`),
    /// recorded when every one of them was vouched for by the stat cache, equal to HEAD and not racily clean. When the
    /// files stat the same again, none is looked up in the stat cache (whose rows for them `skip` passes over) and
    /// only the subfolders are visited.
    func folder(
        _ rel: String, _ tree: ObjectID?, cache: (String) throws -> StatCacheEntry?, skip: (String) throws -> Void,
        listing: (String) throws -> FolderCacheEntry?, into found: inout Found, subfolder: (String, ObjectID?, inout Found) throws -> Void
    ) throws {
        let dirPath = rel.isEmpty ? repo.root : repo.root + "/" + rel
        // The folder's stat is taken before its names are read: a change after it moves the stat away from what is
        // recorded, so it is seen next time.
        let fd = Glibc.open(dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 && errno != ENOENT && errno != ENOTDIR { throw PosixError("open directory", dirPath) }
        defer { if fd >= 0 { close(fd) } }
        var dirStat = stat()
        if fd >= 0 && fstat(fd, &dirStat) != 0 { throw PosixError("stat", dirPath) }
        // Children in byte order of their full paths: a folder sorts as its name plus "/". HEAD's entries come
        // sorted by name, so only its folders may move (a nearly sorted sort).
        let theirs = try tree.map { try repo.tree($0).entriesInPathOrder } ?? []
        let mine: [(key: String, isDirectory: Bool)]
        let st = FileStat(dirStat)
        // Paths are the folder's prefix plus a name: one concatenation per entry.
        let prefix = rel.isEmpty ? "" : rel + "/"
        // The digest of the folder's clean files, folded as they are found (nil once one is not), when the names are
        // the tree's; `row` is the folder-cache row that stands or is recorded now, written again with the digest.
        var digest: SHA256Hasher?
        var row: FolderCacheEntry?
        if fd >= 0, let standing = try listing(rel), standing.matches(st, rules: scanner.rulesFingerprint, tree: tree) {
            if standing.extra.isEmpty && standing.missing.isEmpty {
                if let clean = standing.clean, try filesStatAsFolded(clean, theirs, in: fd) {
                    found.vouched += 1
                    for (_, e) in theirs where e.kind == .directory {
                        let path = prefix + e.name
                        try skip(path + "/")
                        try subfolder(path, e.id, &found)
                    }
                    if !rel.isEmpty { try skip(rel + "0") }
                    return
                }
                digest = SHA256Hasher()
                row = standing
            }
            mine = standing.listing(treeKeys: theirs.map(\.key))
        } else {
            let badBefore = found.bad.count
            guard fd >= 0, let listed = try scanner.children(rel, &found.bad) else {
                if let tree { for (p, v) in try repo.flatten(tree: tree, prefix: rel) { found.old[p] = v } }
                return
            }
            mine = Tree.inPathOrder(listed)
            found.read += 1
            if found.bad.count == badBefore, FolderCacheEntry.recordable(st, nowNs: startNs),
                let (extra, missing) = FolderCacheEntry.delta(listing: mine, treeKeys: theirs.map(\.key))
            {
                let recorded = FolderCacheEntry(
                    stat: st, rules: scanner.rulesFingerprint, tree: tree, extra: extra, missing: missing, writtenNs: startNs)
                if extra.isEmpty && missing.isEmpty {
                    digest = SHA256Hasher()
                    row = recorded
                } else {
                    found.folders.append((rel, recorded))
                }
            }
        }
        // A recorded row is written with the digest, if its files gave one; a standing row only when it changes.
        defer {
            let d = digest?.finalize()
            if var r = row, d != r.clean || r.writtenNs == startNs {
                r.clean = d
                found.folders.append((rel, r))
            }
        }
        var i = 0, j = 0
        while i < mine.count || j < theirs.count {
            let item: (isDirectory: Bool, inWorkspace: Bool, head: TreeEntry?)
            let key: String
            if i < mine.count, j < theirs.count, mine[i].key == theirs[j].key {
                (key, item) = (mine[i].key, (mine[i].isDirectory, true, theirs[j].entry)); i += 1; j += 1
            } else if i < mine.count, j == theirs.count || Tree.less(mine[i].key, theirs[j].key) {
                (key, item) = (mine[i].key, (mine[i].isDirectory, true, nil)); i += 1
            } else {
                (key, item) = (theirs[j].key, (theirs[j].entry.kind == .directory, false, theirs[j].entry)); j += 1
            }
            let name = item.isDirectory ? String(key.dropLast()) : key
            let path = prefix + name
            if item.isDirectory {
                if !item.inWorkspace || item.head == nil { digest = nil }
                if item.inWorkspace {
                    try subfolder(path, item.head?.id, &found)
                } else if let h = item.head {
                    for (p, v) in try repo.flatten(tree: h.id, prefix: path) { found.old[p] = v }
                }
                continue
            }
            let was = item.head.map { FileVersion(kind: $0.kind, id: $0.id, size: $0.size) }
            var seen: ScannedEntry?
            if item.inWorkspace {
                var st = stat()
                if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
                    let fs = FileStat(st)
                    if fs.isSymlink || fs.isRegular {
                        seen = ScannedEntry(path: path, stat: fs, kind: fs.isSymlink ? .symlink : fs.isExecutable ? .executable : .file)
                    }
                } else if errno != ENOENT {
                    throw PosixError("stat", dirPath + "/" + name)
                }
            }
            guard let e = seen else {
                digest = nil
                if let was { found.old[path] = was }
                continue
            }
            if let c = try cache(path), try repo.vouches(c, for: e, session: session, head: was) {
                let now = FileVersion(kind: e.kind, id: c.id, size: c.size)
                if now != was {
                    digest = nil
                    found.new[path] = now
                    if let was { found.old[path] = was }
                } else if digest != nil {
                    if FolderCacheEntry.recordable(e.stat, nowNs: startNs) { FolderCacheEntry.fold(&digest!, name: name, stat: e.stat) } else { digest = nil }
                }
            } else {
                digest = nil
                found.todo.append(e)
                if let was { found.headOfTodo[path] = was }
            }
        }
    }
}
