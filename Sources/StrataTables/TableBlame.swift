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
}

extension TableService {
    /// For every row of the table at `revision`: the commit that last added or changed it, found by walking
    /// first-parent history back from `revision` and diffing each version of the table against its parent's (only
    /// commits that changed the file cost anything; record-aligned versions skip their shared chunks). A row present
    /// since the table's first commit is attributed to that commit. `onlyKey` limits the answer to one row.
    public func blame(_ revision: String, path raw: String, options given: TableDiffOptions, onlyKey: [String: String]? = nil) throws -> [RowBlame] {
        let path = try repo.relativePath(raw)
        let decl = try declaration(for: path)
        guard let format = decl?.format ?? TableFormat.guess(path) else { throw TableError.notATable(path) }
        var options = given
        if options.key.isEmpty { options.key = decl?.key ?? [] }
        let keyed = !options.key.isEmpty
        func keyOf(_ r: Row) -> [String: String] {
            keyed ? Dictionary(uniqueKeysWithValues: options.key.map { ($0, r[$0] ?? "") }) : r
        }
        func id(_ k: [String: String]) -> String { k.keys.sorted().map { "\($0)=\(k[$0]!)" }.joined(separator: "\u{1F}") }
        // The rows still to attribute: every row of the table at `revision`.
        var pending: [String: [String: String]] = [:]
        let start = try repo.resolve(revision)
        guard let startEntry = try repo.entry(at: path, in: start), startEntry.kind != .directory else {
            throw RepositoryError.pathNotFound(path, revision: revision)
        }
        var parser = RowParser(format: format, pointers: options.key)
        let (source, _) = try self.source(start.hex, path)
        let collect: (Row) throws -> Void = { r in
            let k = keyOf(r)
            if let onlyKey, k != onlyKey { return }
            pending[id(k)] = k
        }
        try source { b in try parser.feed(b, collect) }
        try parser.finish(collect)
        var out: [RowBlame] = []
        var cur = start
        var curVersion = startEntry.id
        while !pending.isEmpty {
            let commit = try repo.commit(cur)
            guard let parent = commit.parents.first, let pe = try repo.entry(at: path, in: parent), pe.kind != .directory else {
                // The table's first version: what is left came with it.
                for (_, k) in pending { out.append(RowBlame(key: k, commit: cur, version: curVersion)) }
                break
            }
            if pe.id != curVersion {
                _ = try diff(parent.hex, cur.hex, path: path, options: options) { change in
                    guard change.op != .removed, let after = change.after else { return }
                    let k = id(keyOf(after))
                    if let key = pending.removeValue(forKey: k) { out.append(RowBlame(key: key, commit: cur, version: curVersion)) }
                }
            }
            cur = parent
            curVersion = pe.id
        }
        return out.sorted { id($0.key) < id($1.key) }
    }
}
