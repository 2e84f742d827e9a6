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
    /// Per version: adds and removes (path, dataChange), to tell logical changes from rewrites.
    var actions: [Int64: (adds: [(String, Bool)], removes: [(String, Bool)])] = [:]

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
        let spool = NSTemporaryDirectory() + "strata-parquet-" + Posix.randomHex(8)
        defer { unlink(spool) }
        if let revision {
            let fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 { throw PosixError("create", spool) }
            defer { close(fd) }
            try repo.cat(revision, path: path) { try Posix.writeAll(fd, $0, path: spool) }
        } else {
            try Posix.writeAtomically(spool, try Posix.readFile(repo.root + "/" + path))
        }
        let reader = try ParquetReader(path: spool)
        defer { reader.closeFile() }
        let change = adjust(reader.columns)
        try reader.rows { try emit(change($0)) }
    }

    /// Replays the Delta log of the table folder `path` at `revision` (nil: the workspace): the JSON commits
    /// 0…N in order. A log whose early commits were cleaned up behind a checkpoint is refused (checkpoints are nested
    /// Parquet, not read yet), as is a reader feature this reader does not know.
    public func deltaSnapshot(_ revision: String?, _ raw: String) throws -> DeltaSnapshot {
        let path = try repo.relativePath(raw)
        let (names, read) = try files(revision, path + "/_delta_log")
        let commits = names.compactMap { n -> Int64? in
            guard n.hasSuffix(".json"), n.count == 25, let v = Int64(n.prefix(20)) else { return nil }
            return v
        }.sorted()
        var snap = DeltaSnapshot()
        guard let last = commits.last else { return snap }
        if commits.first != 0 || commits.count != Int(last) + 1 {
            throw TableError.delta(
                path, "its log starts at a checkpoint (commits before \(commits.first ?? 0) were cleaned up); Delta checkpoints are not read yet")
        }
        for v in commits {
            let bytes = try read(String(format: "%020lld.json", v))
            var adds: [(String, Bool)] = [], removes: [(String, Bool)] = []
            var operation = "", timestamp: Int64?
            for line in bytes.split(separator: 10) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
                guard let action = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw TableError.delta(path, "commit \(v) holds a line that is not a JSON object")
                }
                if let p = action["protocol"] as? [String: Any] {
                    let reader = p["minReaderVersion"] as? Int ?? 1, writer = p["minWriterVersion"] as? Int ?? 1
                    let rf = (p["readerFeatures"] as? [String]) ?? [], wf = (p["writerFeatures"] as? [String]) ?? []
                    if reader >= 3, let unknown = rf.first(where: { !supportedDeltaReaderFeatures.contains($0) }) {
                        throw TableError.delta(path, "version \(v) needs the reader feature '\(unknown)', which strata does not support")
                    }
                    if reader == 2 { throw TableError.delta(path, "version \(v) uses column mapping (minReaderVersion 2), which strata does not support") }
                    snap.protocolText =
                        "reader \(reader), writer \(writer)" + (rf.isEmpty ? "" : " [\(rf.sorted().joined(separator: ","))]")
                        + (wf.isEmpty ? "" : " {\(wf.sorted().joined(separator: ","))}")
                }
                if let m = action["metaData"] as? [String: Any] {
                    snap.partitionColumns = m["partitionColumns"] as? [String] ?? []
                    snap.configuration = (m["configuration"] as? [String: Any] ?? [:]).compactMapValues { "\($0)" }
                    if let s = m["schemaString"] as? String, let schema = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] {
                        snap.schema = ((schema["fields"] as? [[String: Any]]) ?? []).map { f in
                            let t = f["type"]
                            let type =
                                (t as? String)
                                ?? ((try? JSONSerialization.data(withJSONObject: t ?? NSNull(), options: [.sortedKeys])).map {
                                    String(decoding: $0, as: UTF8.self)
                                }
                                    ?? "?")
                            return (f["name"] as? String ?? "", type)
                        }
                    }
                }
                if let a = action["add"] as? [String: Any], let p = a["path"] as? String {
                    let stats = (a["stats"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                    snap.files[p] = DeltaFile(
                        path: p, size: (a["size"] as? NSNumber)?.int64Value ?? 0, records: (stats?["numRecords"] as? NSNumber)?.int64Value,
                        partitionValues: (a["partitionValues"] as? [String: Any] ?? [:]).compactMapValues { $0 is NSNull ? nil : "\($0)" })
                    adds.append((p, a["dataChange"] as? Bool ?? true))
                }
                if let r = action["remove"] as? [String: Any], let p = r["path"] as? String {
                    snap.files[p] = nil
                    removes.append((p, r["dataChange"] as? Bool ?? true))
                }
                if let c = action["commitInfo"] as? [String: Any] {
                    operation = c["operation"] as? String ?? ""
                    timestamp = (c["timestamp"] as? NSNumber)?.int64Value
                }
            }
            snap.history.append((v, operation, timestamp))
            snap.actions[v] = (adds, removes)
            snap.version = v
        }
        return snap
    }

    /// The table-level change of the Delta table at `path` from `a` to `b` (nil: the workspace).
    public func deltaDiff(_ a: String, _ b: String?, path raw: String) throws -> DeltaDiff {
        let path = try repo.relativePath(raw)
        let before = try (isDeltaTable(a, path) ? deltaSnapshot(a, path) : DeltaSnapshot())
        let after = try deltaSnapshot(b, path)
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
            for (p, change) in acts.adds + acts.removes where !change { rewrite.insert(p) }
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
        let after = try deltaSnapshot(b, path)
        let (added, removed, _) = logicalChanges(before, after)
        func rows(_ revision: String?, _ files: [DeltaFile], _ schema: [(name: String, type: String)]) -> TableDiffer.RowSource {
            { emit in
                for f in files {
                    try self.parquetRows(revision, path + "/" + f.path, adjust: { _ in { $0.merging(f.partitionValues) { _, p in p } } }, emit)
                }
                return (schema.map(\.name), Dictionary(schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a }))
            }
        }
        let size = (added + removed).reduce(Int64(0)) { $0 + $1.size } * 4  // Parquet's rows as text: about 3x its bytes
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        return try TableDiffer.diff(
            rowsA: rows(a, removed, before.schema), rowsB: rows(b, added, after.schema), sizeHint: size, options: options, scratch: scratch, table: path,
            emit: emit)
    }
}
