import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// One data file of a Delta table version (an `add` action that is live).
public struct DeltaFile: Sendable, Codable, Equatable {
    /// Path relative to the table folder.
    public var path: String
    /// Bytes.
    public var size: Int64
    /// Rows, from the file's statistics (`stats.numRecords`), when recorded.
    public var records: Int64?
    /// Partition column values.
    public var partitionValues: [String: String]
}

/// A Delta Lake table at one version, replayed from its `_delta_log` (protocol, metadata, live files, history).
public struct DeltaSnapshot: Sendable {
    /// The table version (the last commit file's number), -1 for no log.
    public var version: Int64 = -1
    /// The checkpoint the replay started from, if any (history before it may be gone).
    public var checkpoint: Int64?
    /// Live data files by path.
    public var files: [String: DeltaFile] = [:]
    /// Fields of the schema: name and type (Delta's type names; nested types as JSON).
    public var schema: [(name: String, type: String)] = []
    /// Partition columns.
    public var partitionColumns: [String] = []
    /// `minReaderVersion`, `minWriterVersion`, reader and writer features.
    public var protocolText = ""
    /// Table properties (`delta.*`).
    public var configuration: [String: String] = [:]
    /// Per version: the operation of its commitInfo and when.
    public var history: [(version: Int64, operation: String, timestamp: Int64?)] = []
    /// Per version whose JSON commit the log holds: files added and removed (to tell logical changes from rewrites)
    /// and its Change Data Feed files.
    var actions: [Int64: DeltaVersionActions] = [:]

    /// Rows of the live files (nil when some file has no statistics).
    public var rows: Int64? {
        var n: Int64 = 0
        for f in files.values { guard let r = f.records else { return nil }; n += r }
        return n
    }
}

/// The table-level change of a Delta table between two snapshots.
public struct DeltaDiff: Sendable, Codable {
    /// The folder.
    public var table: String
    /// Versions before and after (-1: absent).
    public var versionBefore: Int64, versionAfter: Int64
    /// Operations of the versions in between (`WRITE`, `DELETE`, `MERGE`, `OPTIMIZE`, …).
    public var operations: [String]
    /// Data files logically added and removed (`dataChange: true`).
    public var filesAdded: Int, filesRemoved: Int
    /// Files added and removed only as rewrites (`dataChange: false`, e.g. OPTIMIZE).
    public var filesRewritten: Int
    /// Rows in the logically added and removed files (from their statistics), when every file has them.
    public var rowsAdded: Int64?, rowsRemoved: Int64?
    /// Schema fields added and removed, and fields whose type changed (`name: old -> new`).
    public var columnsAdded: [String], columnsRemoved: [String], typeChanges: [String]
    /// Protocol and table properties, when they changed.
    public var protocolBefore: String?, protocolAfter: String?
    /// Table properties that changed (`key: old -> new`).
    public var configurationChanges: [String]
    /// Partitions whose files were added or removed (`col=value/...`).
    public var partitionsTouched: [String]
}

/// Reader features this reader handles (others are refused: the rows would not be read correctly).
let supportedDeltaReaderFeatures: Set<String> = ["timestampNtz", "vacuumProtocolCheck", "v2Checkpoint", "typeWidening", "typeWidening-preview"]

extension TableService {
    /// True when `path` at `revision` (nil: the workspace) is a Delta table: a folder holding `_delta_log/`.
    public func isDeltaTable(_ revision: String?, _ path: String) throws -> Bool {
        let p = try repo.relativePath(path)
        if let revision {
            return try repo.entry(at: p + "/_delta_log", in: try repo.resolve(revision))?.kind == .directory
        }
        return try Posix.lstat(repo.root + "/" + p + "/_delta_log")?.isDirectory ?? false
    }

    /// The bytes of a (small) file at a revision, or in the workspace (nil).
    func fileBytes(_ revision: String?, _ path: String) throws -> [UInt8] {
        guard let revision else { return try Posix.readFile(repo.root + "/" + path) }
        var out: [UInt8] = []
        try repo.cat(revision, path: path) { out.append(contentsOf: $0) }
        return out
    }

    /// Lists the names in `folder` and reads files, at a revision or in the workspace.
    func files(_ revision: String?, _ folder: String) throws -> (list: [String], read: (String) throws -> [UInt8]) {
        let names: [String]
        if let revision {
            names =
                try repo.entry(at: folder, in: try repo.resolve(revision)).map { e in e.kind == .directory ? try repo.tree(e.id).entries.map(\.name) : [] }
                ?? []
        } else {
            names = (try? FileManager.default.contentsOfDirectory(atPath: repo.root + "/" + folder)) ?? []
        }
        return (names, { name in try self.fileBytes(revision, folder + "/" + name) })
    }

    /// The rows of one Parquet data file of a table, at a revision or in the workspace, spooled to a temporary file
    /// and read row group by row group; `adjust` sees the file's columns and returns what to do with each row
    /// (rename columns by field id, put partition values back).
    func parquetRows(_ revision: String?, _ path: String, adjust: ([ParquetReader.Column]) -> (Row) -> Row, _ emit: (Row) throws -> Void) throws {
        try withLocalFile(revision, path) { local in
            let reader = try ParquetReader(path: local)
            defer { reader.closeFile() }
            let change = adjust(reader.columns)
            try reader.rows { try emit(change($0)) }
        }
    }

    /// A file of a revision (or of the workspace: nil) as a local path for `body`: a revision's file is spooled to a
    /// private temporary file first (verified as it is read), removed afterwards.
    func withLocalFile<T>(_ revision: String?, _ path: String, _ body: (String) throws -> T) throws -> T {
        guard let revision else { return try body(repo.root + "/" + path) }
        let spool = NSTemporaryDirectory() + "strata-parquet-" + Posix.randomHex(8)
        defer { unlink(spool) }
        let fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", spool) }
        do {
            try repo.cat(revision, path: path) { try Posix.writeAll(fd, $0, path: spool) }
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        return try body(spool)
    }

    /// Replays the Delta log of the table folder `path` at `revision` (nil: the workspace), as the Delta protocol
    /// says: while the log holds every JSON commit from version 0 they replay in order (the state a checkpoint would
    /// give, plus the whole history); once early commits are cleaned up, the newest complete checkpoint (classic,
    /// multi-part, or V2 with its sidecars) gives the state, then the JSON commits after it, which must follow on
    /// without a gap. History (operations, and which files were rewritten without a data change) comes from the JSON
    /// commits the log still holds; `historyAfter` asks for those after that version too, where they are older than
    /// the checkpoint. A reader feature this reader does not know is refused.
    public func deltaSnapshot(_ revision: String?, _ raw: String, historyAfter: Int64? = nil) throws -> DeltaSnapshot {
        let path = try repo.relativePath(raw)
        let log = path + "/_delta_log"
        let (names, read) = try files(revision, log)
        let commits = Set(
            names.compactMap { n -> Int64? in
                guard n.hasSuffix(".json"), n.count == 25, let v = Int64(n.prefix(20)) else { return nil }
                return v
            })
        var snap = DeltaSnapshot()
        let checkpoints = DeltaCheckpoint.complete(names)
        guard let last = ([commits.max()] + checkpoints.map { Optional($0.version) }).compactMap({ $0 }).max() else { return snap }
        // The whole JSON log from version 0 while the log still holds it (the same state, and the history too), else
        // the newest checkpoint that the JSON commits after it reach from.
        let complete = (0...last).allSatisfy { commits.contains($0) }
        let base =
            complete
            ? nil
            : checkpoints.sorted { $0.version > $1.version }.first { c in c.version == last || (c.version + 1...last).allSatisfy { commits.contains($0) } }
        let first: Int64
        if let base {
            var apply = DeltaActions(version: base.version, table: path)
            for file in base.files {
                // A damaged checkpoint is named (the Parquet reader only knows its scratch copy).
                do { try readCheckpoint(file) } catch ParquetError.corrupt(let why) {
                    throw ParquetError.corrupt("the Delta checkpoint \(log)/\(file): \(why)")
                }
            }
            func readCheckpoint(_ file: String) throws {
                try withLocalFile(revision, log + "/" + file) { local in
                    try DeltaCheckpoint.actions(local, file.hasSuffix(".json")) { action in
                        if let sidecar = (action["sidecar"] as? [String: Any])?["path"] as? String {
                            let name = sidecar.split(separator: "/").last.map(String.init) ?? sidecar
                            guard !name.contains(".."), name.hasSuffix(".parquet") else {
                                throw TableError.delta(path, "checkpoint \(base.version) names a sidecar outside _delta_log/_sidecars: \(sidecar)")
                            }
                            try withLocalFile(revision, log + "/_sidecars/" + name) { side in
                                try DeltaCheckpoint.actions(side, false) { try apply.apply($0, to: &snap) }
                            }
                        } else {
                            try apply.apply(action, to: &snap)
                        }
                    }
                }
            }
            snap.checkpoint = base.version
            snap.version = base.version
            first = base.version + 1
        } else {
            guard commits.contains(0) else {
                throw TableError.delta(
                    path, "its log starts at version \(commits.min() ?? 0) and holds no checkpoint to start from (commits before it were cleaned up)")
            }
            first = 0
        }
        /// Replays JSON commit `v` onto `state`: its history entry and its file actions.
        func replay(_ v: Int64, onto state: inout DeltaSnapshot) throws -> (
            entry: (version: Int64, operation: String, timestamp: Int64?), files: DeltaVersionActions
        ) {
            var apply = DeltaActions(version: v, table: path)
            try DeltaActions.lines(try read(String(format: "%020lld.json", v)), version: v, table: path) { try apply.apply($0, to: &state) }
            return ((v, apply.operation, apply.timestamp), apply.files)
        }
        if first <= last {
            for v in first...last {
                guard commits.contains(v) else { throw TableError.delta(path, "commit \(v) is missing from _delta_log (the log has a gap)") }
                let (entry, files) = try replay(v, onto: &snap)
                snap.history.append(entry)
                snap.actions[v] = files
                snap.version = v
            }
        }
        // Older history that the log still holds, for a diff from an earlier version: operations and rewrites only.
        if let after = historyAfter, let c = snap.checkpoint, after < c {
            var scratch = DeltaSnapshot()
            var older: [(version: Int64, operation: String, timestamp: Int64?)] = []
            for v in (after + 1)...c where commits.contains(v) {
                let (entry, files) = try replay(v, onto: &scratch)
                older.append(entry)
                snap.actions[v] = files
            }
            snap.history = older + snap.history
        }
        return snap
    }

    /// The table-level change of the Delta table at `path` from `a` to `b` (nil: the workspace).
    public func deltaDiff(_ a: String, _ b: String?, path raw: String) throws -> DeltaDiff {
        let path = try repo.relativePath(raw)
        let before = try (isDeltaTable(a, path) ? deltaSnapshot(a, path) : DeltaSnapshot())
        let after = try deltaSnapshot(b, path, historyAfter: before.version)
        let (added, removed, rewritten) = logicalChanges(before, after)
        func records(_ files: [DeltaFile]) -> Int64? {
            var n: Int64 = 0
            for f in files { guard let r = f.records else { return nil }; n += r }
            return n
        }
        let typesA = Dictionary(before.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        let typesB = Dictionary(after.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        var config: [String] = []
        for k in Set(before.configuration.keys).union(after.configuration.keys).sorted() where before.configuration[k] != after.configuration[k] {
            config.append("\(k): \(before.configuration[k] ?? "-") -> \(after.configuration[k] ?? "-")")
        }
        let partitions = Set(
            (added + removed).compactMap { f -> String? in
                guard !f.partitionValues.isEmpty else { return nil }
                return f.partitionValues.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "/")
            })
        return DeltaDiff(
            table: path, versionBefore: before.version, versionAfter: after.version,
            operations: after.history.filter { $0.version > before.version }.map(\.operation).filter { !$0.isEmpty },
            filesAdded: added.count, filesRemoved: removed.count, filesRewritten: rewritten,
            rowsAdded: records(added), rowsRemoved: records(removed),
            columnsAdded: after.schema.map(\.name).filter { typesA[$0] == nil },
            columnsRemoved: before.schema.map(\.name).filter { typesB[$0] == nil },
            typeChanges: after.schema.compactMap { f in typesA[f.name].flatMap { $0 != f.type ? "\(f.name): \($0) -> \(f.type)" : nil } },
            protocolBefore: before.protocolText != after.protocolText ? before.protocolText : nil,
            protocolAfter: before.protocolText != after.protocolText ? after.protocolText : nil,
            configurationChanges: config, partitionsTouched: partitions.sorted())
    }

    /// Files logically added (live after, not before, added with a data change), logically removed, and the number
    /// rewritten without a data change (compaction), between two snapshots of one table.
    func logicalChanges(_ before: DeltaSnapshot, _ after: DeltaSnapshot) -> (added: [DeltaFile], removed: [DeltaFile], rewritten: Int) {
        var rewrite = Set<String>()
        for (v, acts) in after.actions where v > before.version {
            for f in acts.adds + acts.removes where !f.dataChange { rewrite.insert(f.path) }
        }
        let added = after.files.values.filter { before.files[$0.path] == nil && !rewrite.contains($0.path) }.sorted { $0.path < $1.path }
        let removed = before.files.values.filter { after.files[$0.path] == nil && !rewrite.contains($0.path) }.sorted { $0.path < $1.path }
        return (added, removed, rewrite.count)
    }

    /// The row-level change of a Delta table: only the data files logically removed (side a) and added (side b) are
    /// read — files both versions share cancel unread — with partition values put back as columns.
    public func deltaRowDiff(_ a: String, _ b: String?, path raw: String, options given: TableDiffOptions, emit: (RowChange) throws -> Void) throws
        -> TableDiffSummary
    {
        let path = try repo.relativePath(raw)
        var options = given
        if options.key.isEmpty { options.key = try declaration(for: path)?.key ?? [] }
        let before = try (isDeltaTable(a, path) ? deltaSnapshot(a, path) : DeltaSnapshot())
        let after = try deltaSnapshot(b, path, historyAfter: before.version)
        let (added, removed, _) = logicalChanges(before, after)
        func rows(_ revision: String?, _ files: [DeltaFile], _ schema: [(name: String, type: String)]) -> TableDiffer.RowSource {
            { emit in
                for f in files {
                    try self.parquetRows(revision, path + "/" + f.path, adjust: { _ in { $0.merging(f.partitionValues) { _, p in p } } }, emit)
                }
                return (schema.map(\.name), Dictionary(schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a }))
            }
        }
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        let schemaB = (after.schema.map(\.name), Dictionary(after.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a }))
        if let feed = try changeFeed(a, b, path, before, after, key: options.key) {
            var summary = try TableDiffer.diff(
                rowsA: { emit in
                    for r in feed.before { try emit(r) }
                    return (before.schema.map(\.name), Dictionary(before.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a }))
                },
                rowsB: { emit in
                    for r in feed.after { try emit(r) }
                    return schemaB
                }, sizeHint: feed.bytes, options: options, scratch: scratch, table: path, emit: emit)
            summary.source = "change data feed"
            return summary
        }
        let size = (added + removed).reduce(Int64(0)) { $0 + $1.size } * 4  // Parquet's rows as text: about 3x its bytes
        var summary = try TableDiffer.diff(
            rowsA: rows(a, removed, before.schema), rowsB: rows(b, added, after.schema), sizeHint: size, options: options, scratch: scratch, table: path,
            emit: emit)
        summary.source = "changed data files"
        return summary
    }

    /// The rows that changed from `before` to `after` by the table's Change Data Feed: per version its `cdc` files
    /// (`_change_type` insert, delete, update_preimage, update_postimage), or for a version that wrote none its
    /// logically added and removed files whole, as the protocol says. With a key, each key's changes are netted over
    /// the versions (its first old row, its last new one), so only rows that differ at the ends reach the diff;
    /// without one, the removed and inserted rows are compared as multisets. Memory grows with the change, not the
    /// table. Nil, and the caller reads the changed data files instead, when the feed cannot answer: the table does
    /// not record one, a commit in between is gone from the log, no version in between wrote `cdc` files, a file it
    /// names is missing, or a key repeats.
    func changeFeed(_ a: String, _ b: String?, _ path: String, _ before: DeltaSnapshot, _ after: DeltaSnapshot, key: [String]) throws
        -> (before: [Row], after: [Row], bytes: Int64)?
    {
        guard before.version >= 0, after.version > before.version, after.configuration["delta.enableChangeDataFeed"] == "true" else { return nil }
        let versions = (before.version + 1)...after.version
        guard versions.allSatisfy({ after.actions[$0] != nil }), versions.contains(where: { !(after.actions[$0]?.changeData.isEmpty ?? true) }) else {
            return nil
        }
        // Each file from the newer revision, else the older one (a removed file may be gone after a vacuum).
        func revision(of file: String) throws -> String?? {
            let full = path + "/" + file
            if let b {
                if try repo.entry(at: full, in: try repo.resolve(b)) != nil { return .some(b) }
            } else if try Posix.lstat(repo.root + "/" + full) != nil {
                return .some(nil)
            }
            return try repo.entry(at: full, in: try repo.resolve(a)) != nil ? .some(a) : nil
        }
        var removedRows: [Row] = [], insertedRows: [Row] = []
        var net: [String: (before: Row?, after: Row?)] = [:]
        var bytes: Int64 = 0
        for v in versions {
            let acts = after.actions[v]!
            var removals: [Row] = [], insertions: [Row] = []
            func read(_ f: DeltaFileAction, _ each: (Row) -> Void) throws -> Bool {
                guard let rev = try revision(of: f.path) else { return false }
                try parquetRows(rev, path + "/" + f.path, adjust: { _ in { $0.merging(f.partitionValues) { _, p in p } } }) { each($0) }
                return true
            }
            if acts.changeData.isEmpty {
                for f in acts.removes where f.dataChange { guard try read(f, { removals.append($0) }) else { return nil } }
                for f in acts.adds where f.dataChange { guard try read(f, { insertions.append($0) }) else { return nil } }
            } else {
                for f in acts.changeData {
                    let ok = try read(f) { row in
                        var r = row
                        switch r.removeValue(forKey: "_change_type") {
                        case "delete", "update_preimage": removals.append(r)
                        case "insert", "update_postimage": insertions.append(r)
                        default: break
                        }
                    }
                    guard ok else { return nil }
                }
            }
            for r in removals + insertions { for (k, v) in r { bytes += Int64(k.utf8.count + v.utf8.count + 16) } }
            if key.isEmpty {
                removedRows += removals
                insertedRows += insertions
                continue
            }
            // Netted by key: a key's first old row and its last new one. A key that repeats cannot be netted.
            var touched = Set<String>()
            for r in removals {
                let k = TableDiffer.rowKey(r, key: key)
                guard touched.insert(k).inserted else { return nil }
                if let seen = net[k] {
                    guard seen.after != nil else { return nil }
                    net[k]!.after = nil
                } else {
                    net[k] = (r, nil)
                }
            }
            var inserted = Set<String>()
            for r in insertions {
                let k = TableDiffer.rowKey(r, key: key)
                guard inserted.insert(k).inserted else { return nil }
                if let seen = net[k] {
                    guard seen.after == nil else { return nil }
                    net[k]!.after = r
                } else {
                    net[k] = (nil, r)
                }
            }
        }
        if key.isEmpty { return (removedRows, insertedRows, bytes) }
        return (net.values.compactMap(\.before), net.values.compactMap(\.after), bytes)
    }
}
