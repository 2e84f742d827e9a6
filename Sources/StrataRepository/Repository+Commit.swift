import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataWorkspace

/// What a commit recorded.
public struct CommitResult: Sendable {
    /// The new commit.
    public var id: ObjectID
    /// Its branch (nil when HEAD is detached).
    public var branch: BranchName?
    /// How many paths changed since the parent, by kind of change.
    public var counts: [Change.Status: Int]
    /// The changes, when the commit kept them in memory; nil for a first commit, which is streamed (every file of its
    /// tree is an addition). `Repository.forEachChange(of:)` reads them either way.
    var listed: [Change]?
    /// New objects written.
    public var objectsWritten: Int
    /// Bytes written to packs.
    public var bytesWritten: Int64

    /// Number of changed paths.
    public var changeCount: Int { counts.values.reduce(0, +) }
}

/// Options of `commit`.
public struct CommitOptions: Sendable {
    /// Message.
    public var message: String
    /// Author (default: `defaultAuthor()`).
    public var author: Signature?
    /// Commit time in seconds since the epoch (default: now).
    public var time: Int64?
    /// Time-zone offset in minutes (default: the machine's).
    public var timeZoneOffsetMinutes: Int?
    /// Record a commit even when nothing changed.
    public var allowEmpty = false
    /// Commit only these workspace paths (nil = everything).
    public var paths: [String]?
    /// Conclude the merge in progress: the commit gets its second parent (MERGE_HEAD) and the merge state goes in
    /// the same transaction. Without it, a commit during a merge is refused.
    public var concludeMerge = false
    /// The only paths that may differ from HEAD, as a file-system monitor vouches (`MonitorWorkflow`): the commit
    /// compares those alone and keeps every other path as HEAD has it. Nil: the whole workspace is compared.
    public var candidates: [String]?

    /// Creates options with a message.
    public init(message: String) { self.message = message }
}

extension Repository {
    /// Snapshots the workspace (or only `options.paths`) onto the current branch.
    public func commit(_ options: CommitOptions, progress: ProgressHandler? = nil) throws -> CommitResult {
        try withWriteLock {
            let branch = try currentBranch()
            let parent = try refs.headCommit()
            let merging = try mergeState()
            if let merging {
                guard options.concludeMerge else { throw RepositoryError.mergeInProgress("a plain commit") }
                let open = merging.unresolved.map(\.path)
                if !open.isEmpty { throw RepositoryError.unresolvedConflicts(open) }
                guard parent == merging.origHead, options.paths == nil else {
                    throw RepositoryError.invalidArgument("HEAD moved during the merge; run 'strata merge --abort'")
                }
            } else if options.concludeMerge {
                throw RepositoryError.noMergeInProgress
            }
            let parentTree = try parent.map { try commit($0).tree }
            let session = objects.beginWrite()
            do {
                let paths = try options.paths.map { try $0.map { try relativePath($0) } }
                var changes: [Change]?, counts: [Change.Status: Int], updates: [(String, StatCacheEntry)] = [], spilled: StatCacheSpill?
                let treeID: ObjectID, unchanged: Bool
                if parent == nil && paths == nil {
                    // A first commit of the whole workspace: streamed, trees stored as the walk leaves each folder; its
                    // changes are read back from its tree when asked for.
                    let snapshot = try streamedFirstSnapshot(session: session, progress: progress)
                    (treeID, counts, spilled, unchanged) = (
                        snapshot.tree, snapshot.files > 0 ? [.added: snapshot.files] : [:], snapshot.cacheUpdates, snapshot.files == 0
                    )
                } else {
                    let listed: [Change]
                    if let candidates = options.candidates, paths == nil, merging == nil, let parent {
                        (listed, updates) = try candidateChanges(candidates, head: parent, session: session, progress: progress)
                    } else if let paths {
                        // Only the selected paths: their files now, against HEAD's files under them.
                        let (scanned, refresh) = try snapshot(paths: paths, session: session, progress: progress)
                        let base = try parentTree.map { try flatten(tree: $0) } ?? [:]
                        var listing = base.filter { p, _ in !paths.contains { sel in sel.isEmpty || p == sel || p.hasPrefix(sel + "/") } }
                        listing.merge(scanned) { _, new in new }
                        (listed, updates) = (TreeDiff.diff(flat: base, listing), refresh)
                    } else {
                        // The whole workspace: one streamed walk against HEAD (memory and work grow with the change).
                        (listed, updates) = try changesSinceHead(parent, session: session, progress: progress)
                    }
                    // A first commit of some paths builds every tree from its files; later ones edit HEAD's trees on the
                    // changed paths only, every other folder keeping its id unread.
                    treeID =
                        parentTree == nil
                        ? try Repository.buildTree(
                            Dictionary(uniqueKeysWithValues: listed.compactMap { c in c.new.map { (c.path, $0) } }), session: session)
                        : try Repository.applying(listed, to: parentTree, session: session) { try self.tree($0) }
                    (changes, counts, spilled) = (listed, Dictionary(grouping: listed, by: \.status).mapValues(\.count), nil)
                    unchanged = treeID == parentTree || (parent == nil && listed.isEmpty)
                }
                if unchanged && !options.allowEmpty && merging == nil {
                    session.abort()
                    try? statCache.update(updates)
                    if let spilled { try? statCache.update(from: spilled) }
                    throw RepositoryError.nothingToCommit(branch: branch?.rawValue ?? "detached HEAD")
                }
                return try record(
                    treeID, changes: changes, counts: counts, updates: updates, spilled: spilled, parent: parent, merging: merging, branch: branch,
                    options: options, session: session)
            } catch {
                session.abort()
                throw error
            }
        }
    }

    /// Writes the commit of `treeID`, then moves the branch (compare-and-swap) and writes the stat cache in one
    /// transaction.
    func record(
        _ treeID: ObjectID, changes: [Change]?, counts: [Change.Status: Int], updates: [(String, StatCacheEntry)], spilled: StatCacheSpill?,
        parent: ObjectID?, merging: MergeState?, branch: BranchName?, options: CommitOptions, session: WriteSession
    ) throws -> CommitResult {
        let author = try options.author ?? defaultAuthor()
        let time = options.time ?? Posix.nowNs() / 1_000_000_000
        let tz = options.timeZoneOffsetMinutes ?? TimeZone.current.secondsFromGMT() / 60
        let c = Commit(
            tree: treeID, parents: (parent.map { [$0] } ?? []) + (merging.map { [$0.mergeHead] } ?? []), author: author, time: time,
            timeZoneOffsetMinutes: tz, message: options.message)
        let id = try session.put(.commit, c.encoded())
        try session.finishPacks()
        let summary = options.message.textLines(omittingEmpty: true).first.map(String.init) ?? ""
        try db.transaction {
            try session.recordIndex()
            let now = Posix.nowNs() / 1_000_000_000
            if let branch {
                try refs.updateBranch(
                    branch, expected: parent, new: id,
                    message: (parent == nil ? "commit (initial): " : merging == nil ? "commit: " : "commit (merge): ") + summary, time: now)
            } else {
                try refs.setHead(.detached(id), message: (merging == nil ? "commit: " : "commit (merge): ") + summary, time: now)
            }
            try statCache.update(updates)
            if let spilled { try statCache.update(from: spilled) }
            if merging != nil { try clearMergeState() }
        }
        return CommitResult(
            id: id, branch: branch, counts: counts, listed: changes, objectsWritten: session.objectsWritten, bytesWritten: session.bytesWritten)
    }

    /// Every change a commit recorded, without holding them all when it did not keep them (a streamed first commit:
    /// each file of its tree, as an addition, in byte order of paths, one tree read at a time).
    public func forEachChange(of result: CommitResult, _ body: (Change) throws -> Void) throws {
        if let listed = result.listed {
            for c in listed { try body(c) }
            return
        }
        try forEachFile(inTree: try commit(result.id).tree) { path, version in
            try body(Change(status: .added, path: path, oldPath: nil, old: nil, new: version))
        }
    }

    /// The changes a commit recorded, as a list (`forEachChange(of:)` streams them).
    public func changes(recordedBy result: CommitResult) throws -> [Change] {
        var out: [Change] = []
        try forEachChange(of: result) { out.append($0) }
        return out
    }

    /// Every file below a tree with its path, depth first in byte order of paths, holding only the trees on the
    /// current path.
    public func forEachFile(inTree id: ObjectID, prefix: String = "", _ body: (String, FileVersion) throws -> Void) throws {
        for (_, e) in try tree(id).entriesInPathOrder {
            let p = prefix.isEmpty ? e.name : prefix + "/" + e.name
            if e.kind == .directory {
                try forEachFile(inTree: e.id, prefix: p, body)
            } else {
                try body(p, FileVersion(kind: e.kind, id: e.id, size: e.size))
            }
        }
    }

    /// The root tree of `base` with `changes` applied, storing only the trees on the changed paths: each folder on
    /// a change's path is read from `base`, edited and stored again; every other folder keeps its id unread. An
    /// emptied folder disappears; an empty result is the empty tree.
    static func applying(_ changes: [Change], to base: ObjectID?, session: WriteSession, read: (ObjectID) throws -> Tree) throws -> ObjectID {
        typealias Edit = (parts: ArraySlice<Substring>, version: FileVersion?)
        var edits: [Edit] = []
        for c in changes {
            if let old = c.oldPath { edits.append((old.slashSeparated()[...], nil)) }
            edits.append((c.path.slashSeparated()[...], c.status == .deleted ? nil : c.new))
        }
        func apply(_ tree: ObjectID?, _ edits: [Edit]) throws -> (id: ObjectID, size: UInt64)? {
            let original = try tree.map { Dictionary(try read($0).entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
            var entries = original
            var below: [String: [Edit]] = [:]
            for e in edits {
                let name = String(e.parts.first!)
                if e.parts.count == 1 {
                    entries[name] = e.version.map { TreeEntry(name: name, kind: $0.kind, id: $0.id, size: $0.size) }
                } else {
                    below[name, default: []].append((e.parts.dropFirst(), e.version))
                }
            }
            for (name, list) in below {
                let folder = original[name].flatMap { $0.kind == .directory ? $0.id : nil }
                if let sub = try apply(folder, list) {
                    entries[name] = TreeEntry(name: name, kind: .directory, id: sub.id, size: sub.size)
                } else if entries[name]?.kind == .directory {
                    entries[name] = nil
                }
            }
            if entries.isEmpty { return nil }
            let t = try Tree(entries: Array(entries.values))
            return (try session.put(.tree, t.encoded()), entries.values.reduce(0) { $0 + $1.size })
        }
        if changes.isEmpty, let base { return base }
        return try apply(base, edits)?.id ?? session.put(.tree, Tree.empty.encoded())
    }

    /// Builds the trees for a flat listing (storing them when a session is given); returns the root tree id.
    func writeTree(_ listing: [String: FileVersion], session: WriteSession?) throws -> ObjectID {
        try Repository.buildTree(listing, session: session)
    }

    /// The root tree id of a flat listing, stored nowhere.
    static func treeID(of listing: [String: FileVersion]) throws -> ObjectID { try buildTree(listing, session: nil) }

    /// Every tree of a flat listing, bottom up (stored when a session is given); returns the root tree id.
    static func buildTree(_ listing: [String: FileVersion], session: WriteSession?) throws -> ObjectID {
        final class Dir {
            let path: String
            var files: [TreeEntry] = []
            var dirs: [String: Dir] = [:]
            init(_ path: String) { self.path = path }
        }
        let top = Dir("")
        for (path, v) in listing {
            var d = top
            let parts = path.slashSeparated().map(String.init)
            for p in parts.dropLast() {
                if let n = d.dirs[p] {
                    d = n
                } else {
                    let n = Dir(d.path.isEmpty ? p : d.path + "/" + p)
                    d.dirs[p] = n
                    d = n
                }
            }
            d.files.append(TreeEntry(name: parts.last!, kind: v.kind, id: v.id, size: v.size))
        }
        func write(_ d: Dir) throws -> (ObjectID, UInt64) {
            var entries = d.files
            for (name, sub) in d.dirs {
                let (id, size) = try write(sub)
                entries.append(TreeEntry(name: name, kind: .directory, id: id, size: size))
            }
            let t = try Tree(entries: entries)
            let bytes = t.encoded()
            let id = try session?.put(.tree, bytes) ?? ObjectID.hash(bytes)
            return (id, entries.reduce(0) { $0 + $1.size })
        }
        return try write(top).0
    }

    /// Turns a user path (relative to the current folder, or absolute) into a workspace-relative path.
    public func relativePath(_ path: String) throws -> String {
        let cwd = Posix.currentDirectory()
        let abs = path.hasPrefix("/") ? path : cwd + "/" + path
        var parts: [Substring] = []
        for p in abs.slashSeparated() {
            if p == "." || p.isEmpty { continue }
            if p == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(p)
        }
        var normalized = "/" + parts.joined(separator: "/")
        // Resolve the workspace root through symlinks the same way it was opened.
        // Compared as bytes: a root and a path that differ only in Unicode normalization are two folders on Linux.
        if !WorkspacePath.isWithin(normalized, root), let real = Posix.realpath(Posix.dirname(normalized)) {
            normalized = real + "/" + (parts.last.map(String.init) ?? "")
        }
        if normalized.utf8.elementsEqual(root.utf8) { return "" }
        guard WorkspacePath.isWithin(normalized, root) else {
            throw RepositoryError.invalidArgument("'\(path)' is outside the workspace '\(root)'")
        }
        let inside = String(Substring(normalized.utf8.dropFirst(root.utf8.count + 1)))
        do { return try WorkspacePath.normalize(inside, allowRoot: true) } catch {
            throw WorkspaceError.unsafePath(path, reason: error.reason)
        }
    }
}
