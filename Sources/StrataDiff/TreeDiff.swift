import StrataModel
import StrataPlatform

/// One side of a changed path: what was there.
public struct FileVersion: Sendable, Equatable, Hashable, Codable {
    /// File, executable or symlink.
    public var kind: EntryKind
    /// Content id.
    public var id: ObjectID
    /// Size in bytes.
    public var size: UInt64
    /// Creates a version.
    public init(kind: EntryKind, id: ObjectID, size: UInt64) { self.kind = kind; self.id = id; self.size = size }
}

/// A file-level change between two snapshots.
public struct Change: Sendable, Equatable {
    /// What happened to the path.
    public enum Status: String, Sendable, Codable {
        case added, deleted, modified, renamed
    }
    /// What happened.
    public var status: Status
    /// Path in the new snapshot (the old path for deletions).
    public var path: String
    /// Old path, for renames.
    public var oldPath: String?
    /// Before (nil for additions).
    public var old: FileVersion?
    /// After (nil for deletions).
    public var new: FileVersion?

    /// Creates a change.
    public init(status: Status, path: String, oldPath: String? = nil, old: FileVersion? = nil, new: FileVersion? = nil) {
        self.status = status; self.path = path; self.oldPath = oldPath; self.old = old; self.new = new
    }
}

/// File-level diff of trees and flat listings.
public enum TreeDiff {
    /// Diffs two trees, descending only into subtrees whose ids differ, and pairs deletions with identical
    /// additions as renames. `paths` limits the result to those paths and whatever lies below them.
    public static func diff(_ a: ObjectID?, _ b: ObjectID?, paths: [String] = [], load: (ObjectID) throws -> Tree) throws -> [Change] {
        var out: [Change] = []
        try walk(a, b, prefix: "", paths: normalize(paths), load: load) { out.append($0) }
        return detectRenames(out)
    }

    /// The changes between two trees handed to `body` one at a time, depth first, holding only the trees on the
    /// current path (a diff of a million files without a million values). Renames are not paired: a moved file comes
    /// as a deletion and an addition.
    public static func forEachChange(_ a: ObjectID?, _ b: ObjectID?, load: (ObjectID) throws -> Tree, _ body: (Change) throws -> Void) throws {
        try walk(a, b, prefix: "", paths: [], load: load, body)
    }

    static func normalize(_ paths: [String]) -> [String] {
        paths.map { $0.slashSeparated().joined(separator: "/") }.filter { !$0.isEmpty }
    }

    /// True when `path` is selected by `filters` (or is an ancestor folder of a selected path).
    static func selected(_ path: String, _ filters: [String], isDirectory: Bool) -> Bool {
        if filters.isEmpty { return true }
        for f in filters {
            if path == f || path.hasPrefix(f + "/") { return true }
            if isDirectory && f.hasPrefix(path + "/") { return true }
        }
        return false
    }

    static func walk(
        _ a: ObjectID?, _ b: ObjectID?, prefix: String, paths: [String], load: (ObjectID) throws -> Tree, _ out: (Change) throws -> Void
    ) throws {
        if a == b { return }
        let ta = try a.map(load) ?? Tree.empty
        let tb = try b.map(load) ?? Tree.empty
        var i = 0, j = 0
        let ea = ta.entries, eb = tb.entries
        while i < ea.count || j < eb.count {
            let x: TreeEntry? = i < ea.count ? ea[i] : nil
            let y: TreeEntry? = j < eb.count ? eb[j] : nil
            if let x, let y, x.name == y.name {
                try pair(x, y, prefix: prefix, paths: paths, load: load, out); i += 1; j += 1
            } else if let x, y == nil || Tree.less(x.name, y!.name) {
                try pair(x, nil, prefix: prefix, paths: paths, load: load, out); i += 1
            } else {
                try pair(nil, y, prefix: prefix, paths: paths, load: load, out); j += 1
            }
        }
    }

    static func pair(
        _ x: TreeEntry?, _ y: TreeEntry?, prefix: String, paths: [String], load: (ObjectID) throws -> Tree, _ out: (Change) throws -> Void
    ) throws {
        let name = (x ?? y)!.name
        let path = prefix.isEmpty ? name : prefix + "/" + name
        let xDir = x?.kind == .directory, yDir = y?.kind == .directory
        if !selected(path, paths, isDirectory: xDir || yDir) { return }
        if xDir || yDir {
            // A folder on either side: recurse for the folder part, and treat the non-folder side as a file.
            try walk(xDir ? x?.id : nil, yDir ? y?.id : nil, prefix: path, paths: paths, load: load, out)
            if let x, !xDir { try out(Change(status: .deleted, path: path, old: version(x), new: nil)) }
            if let y, !yDir { try out(Change(status: .added, path: path, old: nil, new: version(y))) }
            return
        }
        switch (x, y) {
        case let (x?, y?):
            if x.id != y.id || x.kind != y.kind { try out(Change(status: .modified, path: path, old: version(x), new: version(y))) }
        case let (x?, nil): try out(Change(status: .deleted, path: path, old: version(x), new: nil))
        case let (nil, y?): try out(Change(status: .added, path: path, old: nil, new: version(y)))
        default: break
        }
    }

    static func version(_ e: TreeEntry) -> FileVersion { FileVersion(kind: e.kind, id: e.id, size: e.size) }

    /// Diffs two flat listings (path → version).
    public static func diff(flat a: [String: FileVersion], _ b: [String: FileVersion], paths: [String] = []) -> [Change] {
        let filters = normalize(paths)
        var out: [Change] = []
        for (p, x) in a where filters.isEmpty || selected(p, filters, isDirectory: false) {
            if let y = b[p] {
                if x != y { out.append(Change(status: .modified, path: p, old: x, new: y)) }
            } else {
                out.append(Change(status: .deleted, path: p, old: x, new: nil))
            }
        }
        for (p, y) in b where a[p] == nil && selected(p, filters, isDirectory: false) {
            out.append(Change(status: .added, path: p, old: nil, new: y))
        }
        return detectRenames(out)
    }

    /// Pairs each deletion with an addition of identical content (and kind) as a rename; output sorted by path.
    public static func detectRenames(_ changes: [Change]) -> [Change] {
        // Nothing deleted, nothing renamed (a first commit: no table of every addition).
        guard changes.contains(where: { $0.status == .deleted }) else { return changes.sorted { Tree.less($0.path, $1.path) } }
        var addedByID: [FileVersion: [Int]] = [:]
        for (i, c) in changes.enumerated() where c.status == .added { addedByID[c.new!, default: []].append(i) }
        var consumed = Set<Int>()
        var out: [Change] = []
        for (i, c) in changes.enumerated() where c.status == .deleted {
            if var list = addedByID[c.old!], !list.isEmpty, c.old!.size > 0 {
                let j = list.removeFirst(); addedByID[c.old!] = list
                consumed.insert(i); consumed.insert(j)
                out.append(Change(status: .renamed, path: changes[j].path, oldPath: c.path, old: c.old, new: changes[j].new))
            }
        }
        for (i, c) in changes.enumerated() where !consumed.contains(i) { out.append(c) }
        return out.sorted { Tree.less($0.path, $1.path) }
    }
}
