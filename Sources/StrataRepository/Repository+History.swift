import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform

/// A commit with its id, for listings.
public struct CommitInfo: Sendable {
    /// Creates a listing entry.
    public init(id: ObjectID, commit: Commit) { self.id = id; self.commit = commit }
    /// Commit id.
    public var id: ObjectID
    /// The commit.
    public var commit: Commit
}

/// One entry of `ls`.
public struct ListEntry: Sendable {
    /// Workspace-relative path.
    public var path: String
    /// Entry kind.
    public var kind: EntryKind
    /// Size in bytes (folders: total below).
    public var size: UInt64
    /// Content id.
    public var id: ObjectID
}

extension Repository {
    /// Commits reachable from `revision`, newest first (by time, then id), at most `limit`.
    public func log(_ revision: String = "HEAD", limit: Int? = nil) throws -> [CommitInfo] {
        var out: [CommitInfo] = []
        var seen = Set<ObjectID>()
        let start = try resolve(revision)
        var frontier: [CommitInfo] = [CommitInfo(id: start, commit: try commit(start))]
        seen.insert(start)
        while !frontier.isEmpty {
            if let limit, out.count >= limit { break }
            frontier.sort { ($0.commit.time, $0.id) < ($1.commit.time, $1.id) }
            let c = frontier.removeLast()
            out.append(c)
            for p in c.commit.parents where seen.insert(p).inserted {
                frontier.append(CommitInfo(id: p, commit: try commit(p)))
            }
        }
        return out
    }

    /// Commits reachable from `revision` with children always before their parents, the newest ready commit first
    /// (git's `--date-order`), at most `limit`; `firstParent` follows only first parents (the branch's own history).
    public func history(_ revision: String = "HEAD", limit: Int? = nil, firstParent: Bool = false) throws -> [CommitInfo] {
        let start = try resolve(revision)
        var all: [ObjectID: Commit] = [:]
        var children: [ObjectID: Int] = [:]
        var stack = [start]
        while let id = stack.popLast() {
            guard all[id] == nil else { continue }
            let c = try commit(id)
            all[id] = c
            for p in firstParent ? Array(c.parents.prefix(1)) : c.parents {
                children[p, default: 0] += 1
                stack.append(p)
            }
        }
        var ready = [CommitInfo(id: start, commit: all[start]!)]
        var out: [CommitInfo] = []
        while !ready.isEmpty {
            if let limit, out.count >= limit { break }
            ready.sort { ($0.commit.time, $0.id) < ($1.commit.time, $1.id) }
            let c = ready.removeLast()
            out.append(c)
            for p in firstParent ? Array(c.commit.parents.prefix(1)) : c.commit.parents {
                children[p]! -= 1
                if children[p]! == 0 { ready.append(CommitInfo(id: p, commit: all[p]!)) }
            }
        }
        return out
    }

    /// Lists the entries of a folder (or one file) in a commit; recursive lists every file below.
    public func list(_ revision: String, path: String = "", recursive: Bool = false) throws -> [ListEntry] {
        var out: [ListEntry] = []
        try forEachListed(try resolve(revision), revision: revision, path: path, recursive: recursive) { out.append($0) }
        return out
    }

    /// Passes the entries of a folder (or one file) in `commit` to `body` in path order, as they are read: only the
    /// trees on the current path are held, so a recursive listing of a million files takes no more memory than one
    /// of ten. `revision` names the commit in errors.
    public func forEachListed(
        _ commit: ObjectID, revision: String, path: String = "", recursive: Bool = false, _ body: (ListEntry) throws -> Void
    ) throws {
        let clean = path.slashSeparated().joined(separator: "/")
        guard let e = try entry(at: clean, in: commit) else { throw RepositoryError.pathNotFound(clean, revision: revision) }
        if e.kind != .directory { return try body(ListEntry(path: clean, kind: e.kind, size: e.size, id: e.id)) }
        func walk(_ tid: ObjectID, _ prefix: String) throws {
            for c in try tree(tid).entries {
                let p = prefix.isEmpty ? c.name : prefix + "/" + c.name
                if c.kind == .directory && recursive { try walk(c.id, p) } else { try body(ListEntry(path: p, kind: c.kind, size: c.size, id: c.id)) }
            }
        }
        try walk(e.id, clean)
    }

    /// Streams the bytes of `path` in `revision` (verified) to `sink`.
    public func cat(_ revision: String, path: String, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let id = try resolve(revision)
        let clean = path.slashSeparated().joined(separator: "/")
        guard let e = try entry(at: clean, in: id), !clean.isEmpty else { throw RepositoryError.pathNotFound(clean, revision: revision) }
        guard e.kind != .directory else { throw RepositoryError.notAFile(clean, revision: revision) }
        if e.kind != .symlink, !(try objects.hasAllParts(e.id)) { try withWriteLock { try supplyMissing([e.id]) } }
        if e.kind != .symlink, !(try objects.hasAllParts(e.id)) {
            let present = try objects.contains(e.id)
            if !present || (try? prunedCommits().contains(id)) == true { throw collectedError(path: clean, id: e.id, commit: id) }
        }
        // The bytes stream out before the whole-file hash can be checked: a late mismatch says the output is invalid.
        var wrote = false
        do {
            try objects.streamFile(e.id) {
                wrote = true; try sink($0)
            }
        } catch let error as ObjectError where wrote {
            throw RepositoryError.outputInvalid(path: clean, reason: error.description)
        }
    }

    /// File-level changes from `a` to `b`; `b` nil means the workspace. Renames have unchanged content.
    public func diff(_ a: String = "HEAD", _ b: String? = nil, paths: [String] = []) throws -> [Change] {
        let rel = try paths.map { try relativePath($0) }
        let aID = try resolve(a)
        let aTree = try commit(aID).tree
        let bID = try b.map { try resolve($0) }
        // A path known to neither side is a mistake (git: "did not match any file"), never a silent empty diff.
        for p in rel where !p.isEmpty {
            let inB = try bID.map { try entry(at: p, in: $0) != nil } ?? (try Posix.lstat(root + "/" + p) != nil)
            if try entry(at: p, in: aID) == nil && !inB { throw RepositoryError.pathNotFound(p, revision: a) }
        }
        if let bID {
            let bTree = try commit(bID).tree
            return try TreeDiff.diff(aTree, bTree, paths: rel) { try self.tree($0) }
        }
        if rel.isEmpty {
            // The whole workspace: HEAD → workspace by the streamed walk, composed with a → HEAD from the trees, so
            // only the paths either changed are looked at (cost ∝ change).
            let head = try refs.headCommit()
            let (local, updates) = try changesSinceHead(head, progress: nil)
            try? statCache.update(updates)
            let headTree = try head.map { try commit($0).tree }
            if headTree == aTree { return local }
            let between = try TreeDiff.diff(aTree, headTree) { try self.tree($0) }
            // Each change as per-path versions on its two sides (a rename: its old path leaves, its new path comes).
            func sides(_ changes: [Change]) -> (before: [String: FileVersion?], after: [String: FileVersion?]) {
                var before: [String: FileVersion?] = [:], after: [String: FileVersion?] = [:]
                for c in changes {
                    if let o = c.oldPath {
                        before[o] = .some(c.old); after[o] = .some(nil)
                        before[c.path] = .some(nil); after[c.path] = .some(c.new)
                    } else {
                        before[c.path] = .some(c.status == .added ? nil : c.old)
                        after[c.path] = .some(c.status == .deleted ? nil : c.new)
                    }
                }
                return (before, after)
            }
            let (aSide, headFromA) = sides(between), (headFromWork, workSide) = sides(local)
            var old: [String: FileVersion] = [:], new: [String: FileVersion] = [:]
            for p in Set(aSide.keys).union(headFromWork.keys) {
                // a's version: from a → HEAD when it changed there, else HEAD's (the old side of the local change).
                if let v = aSide[p] ?? headFromWork[p] ?? nil { old[p] = v }
                // The workspace's: from the local change when there is one, else HEAD's (the new side of a → HEAD).
                if let v = workSide[p] ?? headFromA[p] ?? nil { new[p] = v }
            }
            return TreeDiff.diff(flat: old, new)
        }
        let base = try flatten(tree: aTree)
        let (work, updates) = try snapshot(paths: rel, session: nil, progress: nil)
        try? statCache.update(updates)
        return TreeDiff.diff(flat: base, work, paths: rel)
    }

    /// The changes a commit made against its first parent.
    public func changes(of id: ObjectID) throws -> [Change] {
        var out: [Change] = []
        try forEachChange(ofCommit: id) { out.append($0) }
        return out
    }

    /// Passes the changes commit `id` made to its first parent to `body`, in byte order of paths. A first commit's
    /// are all its files, added: they are streamed from its tree, holding only the trees on the current path (a
    /// first commit of a million files is a million changes); any other commit's come from the diff with its parent.
    public func forEachChange(ofCommit id: ObjectID, _ body: (Change) throws -> Void) throws {
        let c = try commit(id)
        guard let parent = c.parents.first else {
            return try forEachFile(inTree: c.tree) { path, version in try body(Change(status: .added, path: path, oldPath: nil, old: nil, new: version)) }
        }
        for change in try TreeDiff.diff(try commit(parent).tree, c.tree, load: { try self.tree($0) }) { try body(change) }
    }
}
