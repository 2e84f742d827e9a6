import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// The commit that last changed one row.
public struct RowBlame: Sendable, Equatable {
    /// The row's key values (for a keyless table: the row itself).
    public var key: [String: String]
    /// The commit that last added or changed the row.
    public var commit: ObjectID
    /// That commit's table version (file id), to find the run that produced it.
    public var version: ObjectID
    /// For a changed row: the table version before that commit (the row's previous version is the row as it was
    /// there); nil for a row the commit added, or that came with the table's first version.
    public var previous: ObjectID?
}

extension TableService {
    /// For every row of the table at `revision`: the commit that last added or changed it, found by walking
    /// first-parent history back from `revision` and diffing each version of the table against its parent's (only
    /// commits that changed the file cost anything; record-aligned versions skip their shared chunks). A row present
    /// since the table's first commit is attributed to that commit. `onlyKey` limits the answer to one row.
    public func blame(_ revision: String, path raw: String, options given: TableDiffOptions, onlyKey: [String: String]? = nil) throws -> [RowBlame] {
        var out: [RowBlame] = []
        try blame(revision, path: raw, options: given, onlyKey: onlyKey) { out.append($0) }
        return out
    }

    /// The same, streamed in key order: each row's answer is built only when `each` receives it, so memory holds the
    /// keys and their attributions, not a dictionary per row.
    public func blame(
        _ revision: String, path raw: String, options given: TableDiffOptions, onlyKey: [String: String]? = nil, each: (RowBlame) throws -> Void
    ) throws {
        let path = try repo.relativePath(raw)
        let decl = try declaration(for: path)
        guard let format = decl?.format ?? TableFormat.guess(path), !format.isFolder else { throw TableError.notATable(path) }
        var options = given
        if options.key.isEmpty { options.key = decl?.key ?? [] }
        if options.types.isEmpty { options.types = decl?.types ?? [:] }
        let keyed = !options.key.isEmpty
        let keyColumns = options.key
        func id(_ r: Row) -> String { TableDiffer.rowKey(r, key: keyColumns) }
        func key(_ id: String) -> [String: String] {
            let parts = id.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            if keyed { return Dictionary(uniqueKeysWithValues: zip(keyColumns, parts + Array(repeating: "", count: max(0, keyColumns.count - parts.count)))) }
            var out: [String: String] = [:]
            for p in parts { if let eq = p.firstIndex(of: "=") { out[String(p[..<eq])] = String(p[p.index(after: eq)...]) } }
            return out
        }
        let only = onlyKey.map(id)
        // The rows still to attribute: every row of the table at `revision`.
        var pending = Set<String>()
        let start = try repo.resolve(revision)
        guard let startEntry = try repo.entry(at: path, in: start), startEntry.kind != .directory else {
            throw RepositoryError.pathNotFound(path, revision: revision)
        }
        var parser = RowParser(format: format, pointers: options.key)
        let (source, _) = try self.source(start.hex, path)
        let collect: (Row) throws -> Void = { r in
            let i = id(r)
            if let only, i != only { return }
            pending.insert(i)
        }
        try source { b in try parser.feed(b, collect) }
        try parser.finish(collect)
        // Attributions are few (one or two per commit that changed the table): rows hold an index into them, so a
        // million rows cost their key and four bytes each.
        var attributions: [(commit: ObjectID, version: ObjectID, previous: ObjectID?)] = []
        func attribution(_ c: ObjectID, _ v: ObjectID, _ p: ObjectID?) -> UInt32 {
            if let i = attributions.lastIndex(where: { $0.commit == c && $0.version == v && $0.previous == p }) { return UInt32(i) }
            attributions.append((c, v, p))
            return UInt32(attributions.count - 1)
        }
        var found: [(id: String, attribution: UInt32)] = []
        found.reserveCapacity(pending.count)
        var cur = start
        var curVersion = startEntry.id
        while !pending.isEmpty {
            let commit = try repo.commit(cur)
            guard let parent = commit.parents.first, let pe = try repo.entry(at: path, in: parent), pe.kind != .directory else {
                // The table's first version: what is left came with it.
                let a = attribution(cur, curVersion, nil)
                for i in pending { found.append((i, a)) }
                break
            }
            if pe.id != curVersion {
                let added = attribution(cur, curVersion, nil), modified = attribution(cur, curVersion, pe.id)
                _ = try diff(parent.hex, cur.hex, path: path, options: options) { change in
                    guard change.op != .removed, let after = change.after else { return }
                    let i = id(after)
                    if pending.remove(i) != nil { found.append((i, change.op == .modified ? modified : added)) }
                }
            }
            cur = parent
            curVersion = pe.id
        }
        pending = []
        found.sort { $0.id < $1.id }
        for f in found {
            let a = attributions[Int(f.attribution)]
            try each(RowBlame(key: key(f.id), commit: a.commit, version: a.version, previous: a.previous))
        }

    }
}
