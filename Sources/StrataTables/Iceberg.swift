import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// An Apache Iceberg table at one revision, from its current `metadata/*.metadata.json` (snapshots with their
/// summaries, schemas with field ids, partition spec); `icebergFiles` reads its manifests (Avro).
public struct IcebergSnapshot: Sendable {
    /// One snapshot: id, parent, sequence number, time, operation and summary counts.
    public struct Snapshot: Sendable {
        public var id: Int64, parent: Int64?, sequence: Int64, timestamp: Int64, operation: String
        public var summary: [String: String]
        /// Where its manifest list is (as written: an absolute URI under the table's location).
        public var manifestList: String?
    }
    /// The table's location as its metadata records it (`file:///…/lake/crm/orgs`), to map written paths into the
    /// table folder.
    public var location = ""
    /// The metadata file read (relative to the table folder).
    public var metadataFile = ""
    /// `format-version`.
    public var formatVersion = 0
    /// The current snapshot id (nil: an empty table).
    public var current: Int64?
    /// Snapshots by id.
    public var snapshots: [Int64: Snapshot] = [:]
    /// The current schema's fields: id, name, type.
    public var schema: [(id: Int64, name: String, type: String)] = []
    /// Partition fields of the default spec (`transform(source)`).
    public var partitioning: [String] = []
    /// Table properties.
    public var properties: [String: String] = [:]

    /// The current snapshot and its ancestors, newest first.
    public var ancestry: [Snapshot] {
        var out: [Snapshot] = []
        var cur = current
        while let id = cur, let s = snapshots[id], !out.contains(where: { $0.id == id }) { out.append(s); cur = s.parent }
        return out
    }

    /// A summary count of the current snapshot (`total-records`, `total-data-files`).
    public func total(_ key: String) -> Int64? { current.flatMap { snapshots[$0]?.summary[key] }.flatMap { Int64($0) } }
}

/// A live file of an Iceberg snapshot (from its manifests): a data file, or a delete file of a merge-on-read table.
public struct IcebergFile: Sendable {
    /// The path inside the workspace, and as the metadata wrote it (position deletes name data files that way).
    public var path: String, written: String
    /// Rows (or deletes) it holds.
    public var records: Int64
    /// 0: data, 1: position deletes, 2: equality deletes.
    public var content: Int
    /// Its data sequence number (inherited from its manifest when the entry leaves it out).
    public var sequence: Int64
    /// The field ids an equality delete compares.
    public var equalityIDs: [Int64]
    /// Its partition tuple, as text (`field=value/…`; empty: unpartitioned).
    public var partition: String

    /// A manifest entry's partition record as text.
    static func partitionText(_ value: AvroValue?) -> String {
        guard case .record(let fields)? = value else { return "" }
        return fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "/")
    }
}

/// The table-level change of an Iceberg table between two revisions.
public struct IcebergDiff: Sendable, Codable {
    public var table: String
    /// Current snapshot ids before and after.
    public var snapshotBefore: Int64?, snapshotAfter: Int64?
    /// Operations of the snapshots in between (`append`, `overwrite`, `delete`, `replace`).
    public var operations: [String]
    /// Data files and records added and deleted, summed from the snapshots' summaries.
    public var filesAdded: Int64, filesDeleted: Int64, recordsAdded: Int64, recordsDeleted: Int64
    /// Records in the table before and after.
    public var recordsBefore: Int64?, recordsAfter: Int64?
    /// Schema changes by field id: added, removed, renamed (`old -> new`), retyped (`name: old -> new`).
    public var columnsAdded: [String], columnsRemoved: [String], renamed: [String], retyped: [String]
    /// Format version and partitioning, when they changed.
    public var formatVersionBefore: Int, formatVersionAfter: Int
    public var partitioningBefore: [String], partitioningAfter: [String]
}

extension TableService {
    /// True when `path` at `revision` (nil: the workspace) is an Iceberg table: a folder whose `metadata/` holds a
    /// `*.metadata.json`.
    public func isIcebergTable(_ revision: String?, _ path: String) throws -> Bool {
        let p = try repo.relativePath(path)
        return try files(revision, p + "/metadata").list.contains { $0.hasSuffix(".metadata.json") }
    }

    /// The table's current metadata at `revision`: `version-hint.text` when present, else the metadata file with the
    /// highest version number (`00003-<uuid>.metadata.json`, `v3.metadata.json`).
    public func icebergSnapshot(_ revision: String?, _ raw: String) throws -> IcebergSnapshot {
        let path = try repo.relativePath(raw)
        let (names, read) = try files(revision, path + "/metadata")
        func number(_ n: String) -> Int64? {
            let digits = (n.hasPrefix("v") ? n.dropFirst() : Substring(n)).prefix { $0.isNumber }
            return digits.isEmpty ? nil : Int64(digits)
        }
        var candidates = names.filter { $0.hasSuffix(".metadata.json") }
        if names.contains("version-hint.text"),
            let hint = Int64(String(decoding: try read("version-hint.text"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        {
            candidates = candidates.filter { number($0) == hint }
        }
        guard let file = candidates.max(by: { (number($0) ?? -1, $0) < (number($1) ?? -1, $1) }) else {
            throw TableError.iceberg(path, "no metadata/*.metadata.json")
        }
        guard let m = try? JSONSerialization.jsonObject(with: Data(try read(file))) as? [String: Any] else {
            throw TableError.iceberg(path, "\(file) is not a JSON object")
        }
        var snap = IcebergSnapshot()
        snap.metadataFile = "metadata/" + file
        snap.formatVersion = m["format-version"] as? Int ?? 1
        snap.current = (m["current-snapshot-id"] as? NSNumber)?.int64Value
        if snap.current == -1 { snap.current = nil }
        for s in (m["snapshots"] as? [[String: Any]]) ?? [] {
            guard let id = (s["snapshot-id"] as? NSNumber)?.int64Value else { continue }
            let summary = (s["summary"] as? [String: Any] ?? [:]).compactMapValues { "\($0)" }
            snap.snapshots[id] = .init(
                id: id, parent: (s["parent-snapshot-id"] as? NSNumber)?.int64Value, sequence: (s["sequence-number"] as? NSNumber)?.int64Value ?? 0,
                timestamp: (s["timestamp-ms"] as? NSNumber)?.int64Value ?? 0, operation: summary["operation"] ?? "", summary: summary,
                manifestList: s["manifest-list"] as? String)
        }
        let schemaID = (m["current-schema-id"] as? NSNumber)?.int64Value ?? 0
        let schemas = (m["schemas"] as? [[String: Any]]) ?? ((m["schema"] as? [String: Any]).map { [$0] } ?? [])
        let schema = schemas.first { (($0["schema-id"] as? NSNumber)?.int64Value ?? 0) == schemaID } ?? schemas.last ?? [:]
        snap.schema = ((schema["fields"] as? [[String: Any]]) ?? []).map { f in
            let t = f["type"]
            let type =
                (t as? String)
                ?? ((try? JSONSerialization.data(withJSONObject: t ?? NSNull(), options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "?")
            return ((f["id"] as? NSNumber)?.int64Value ?? -1, f["name"] as? String ?? "", type)
        }
        let specID = (m["default-spec-id"] as? NSNumber)?.int64Value ?? 0
        let spec = ((m["partition-specs"] as? [[String: Any]]) ?? []).first { (($0["spec-id"] as? NSNumber)?.int64Value ?? 0) == specID }
        let fieldNames = Dictionary(snap.schema.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        snap.partitioning = ((spec?["fields"] as? [[String: Any]]) ?? []).map { f in
            "\(f["transform"] as? String ?? "?")(\(fieldNames[(f["source-id"] as? NSNumber)?.int64Value ?? -1] ?? "?"))"
        }
        snap.properties = (m["properties"] as? [String: Any] ?? [:]).compactMapValues { "\($0)" }
        snap.location = m["location"] as? String ?? ""
        return snap
    }

    /// The table-level change of the Iceberg table at `path` from `a` to `b` (nil: the workspace).
    public func icebergDiff(_ a: String, _ b: String?, path raw: String) throws -> IcebergDiff {
        let path = try repo.relativePath(raw)
        let before = try (isIcebergTable(a, path) ? icebergSnapshot(a, path) : IcebergSnapshot())
        let after = try icebergSnapshot(b, path)
        let seen = Set(before.ancestry.map(\.id))
        let new = after.ancestry.filter { !seen.contains($0.id) }.reversed()
        func sum(_ key: String) -> Int64 { new.reduce(Int64(0)) { $0 + (Int64($1.summary[key] ?? "") ?? 0) } }
        let byIDBefore = Dictionary(before.schema.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let byIDAfter = Dictionary(after.schema.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return IcebergDiff(
            table: path, snapshotBefore: before.current, snapshotAfter: after.current, operations: new.map(\.operation),
            filesAdded: sum("added-data-files"), filesDeleted: sum("deleted-data-files"), recordsAdded: sum("added-records"),
            recordsDeleted: sum("deleted-records"), recordsBefore: before.total("total-records"), recordsAfter: after.total("total-records"),
            columnsAdded: after.schema.filter { byIDBefore[$0.id] == nil }.map(\.name),
            columnsRemoved: before.schema.filter { byIDAfter[$0.id] == nil }.map(\.name),
            renamed: after.schema.compactMap { f in byIDBefore[f.id].flatMap { $0.name != f.name ? "\($0.name) -> \(f.name)" : nil } },
            retyped: after.schema.compactMap { f in byIDBefore[f.id].flatMap { $0.type != f.type ? "\(f.name): \($0.type) -> \(f.type)" : nil } },
            formatVersionBefore: before.formatVersion, formatVersionAfter: after.formatVersion,
            partitioningBefore: before.partitioning, partitioningAfter: after.partitioning)
    }

    /// A path the table's metadata wrote (absolute, under its `location`) as a path inside the table folder.
    func icebergLocal(_ written: String, _ snap: IcebergSnapshot, table: String) throws -> String {
        func strip(_ s: String) -> String { s.hasPrefix("file://") ? String(s.dropFirst("file://".count)) : s }
        let w = strip(written), loc = strip(snap.location)
        guard !loc.isEmpty, w.hasPrefix(loc + "/") else { throw TableError.iceberg(table, "'\(written)' is outside the table's location '\(snap.location)'") }
        return table + "/" + w.dropFirst(loc.count + 1)
    }

    /// The live files of the current snapshot, from its manifest list and manifests (Avro): data files and the delete
    /// files of merge-on-read tables (position deletes and equality deletes), each with its data sequence number.
    public func icebergFiles(_ revision: String?, _ raw: String, _ snap: IcebergSnapshot) throws -> [IcebergFile] {
        let table = try repo.relativePath(raw)
        guard let current = snap.current, let list = snap.snapshots[current]?.manifestList else { return [] }
        func read(_ local: String) throws -> [UInt8] { try fileBytes(revision, local) }
        var files: [IcebergFile] = []
        for m in try AvroReader.records(try read(try icebergLocal(list, snap, table: table)), name: table) {
            guard let manifest = m["manifest_path"]?.string else { continue }
            let manifestSequence = m["sequence_number"]?.int ?? 0
            for e in try AvroReader.records(try read(try icebergLocal(manifest, snap, table: table)), name: table) where e["status"]?.int != 2 {
                guard let f = e["data_file"], let written = f["file_path"]?.string else { continue }
                let content = Int(f["content"]?.int ?? 0)
                if content != 0, let format = f["file_format"]?.string, format.uppercased() != "PARQUET" {
                    throw TableError.iceberg(table, "it has \(format) delete files (deletion vectors), which strata does not read yet")
                }
                var ids: [Int64] = []
                if case .array(let values)? = f["equality_ids"] { ids = values.compactMap(\.int) }
                files.append(
                    IcebergFile(
                        path: try icebergLocal(written, snap, table: table), written: written, records: f["record_count"]?.int ?? 0, content: content,
                        sequence: e["sequence_number"]?.int ?? manifestSequence, equalityIDs: ids, partition: IcebergFile.partitionText(f["partition"])))
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// The row-level change of an Iceberg table: only the data files one snapshot has and the other lacks are read,
    /// with the delete files that apply to them (position deletes with a sequence number at least the data file's,
    /// equality deletes with a higher one, in the same partition or unpartitioned); a data file both snapshots share
    /// with the same deletes cancels unread. Columns are named by field id with the current schema's names, so a
    /// renamed column compares as itself.
    public func icebergRowDiff(_ a: String, _ b: String?, path raw: String, options given: TableDiffOptions, emit: (RowChange) throws -> Void) throws
        -> TableDiffSummary
    {
        let path = try repo.relativePath(raw)
        var options = given
        if options.key.isEmpty { options.key = try declaration(for: path)?.key ?? [] }
        let before = try (isIcebergTable(a, path) ? icebergSnapshot(a, path) : IcebergSnapshot())
        let after = try icebergSnapshot(b, path)
        let filesA = try icebergFiles(a, path, before), filesB = try icebergFiles(b, path, after)
        // Both sides are named with the newer schema's names (by field id): a renamed column compares as itself.
        let current = Dictionary((before.schema + after.schema).map { ($0.id, $0.name) }, uniquingKeysWith: { _, b in b })
        func renaming(_ columns: [ParquetReader.Column]) -> (Row) -> Row {
            let rename = Dictionary(columns.map { c in (c.name, c.fieldID.flatMap { current[$0] } ?? c.name) }, uniquingKeysWith: { a, _ in a })
            return { row in Dictionary(row.map { (rename[$0.key] ?? $0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        }
        /// Each data file with the delete files that apply to it; its identity for cancelling is both.
        func units(_ files: [IcebergFile]) -> [(data: IcebergFile, deletes: [IcebergFile], id: String)] {
            let deletes = files.filter { $0.content != 0 }
            return files.filter { $0.content == 0 }.map { d in
                let apply = deletes.filter { x in
                    (x.partition == d.partition || x.partition.isEmpty)
                        && (x.content == 1 ? x.sequence >= d.sequence : x.sequence > d.sequence)
                }
                return (d, apply, ([d.path] + apply.map(\.path)).joined(separator: "\u{1F}"))
            }
        }
        let unitsA = units(filesA), unitsB = units(filesB)
        let idsA = Set(unitsA.map(\.id)), idsB = Set(unitsB.map(\.id))
        func rows(_ revision: String?, _ chosen: [(data: IcebergFile, deletes: [IcebergFile], id: String)], _ snap: IcebergSnapshot)
            -> TableDiffer.RowSource
        {
            { emit in
                for u in chosen {
                    // Positions of this file deleted, and the value tuples deleted by equality (by field id).
                    var positions = Set<Int64>()
                    var equality: [(names: [String], tuples: Set<[String?]>)] = []
                    for x in u.deletes {
                        if x.content == 1 {
                            try self.withLocalFile(revision, x.path) { local in
                                let reader = try ParquetReader(path: local, nested: true)
                                defer { reader.closeFile() }
                                try reader.records(["file_path", "pos"]) { r in
                                    if r["file_path"]?.first == .some(u.data.written), let p = r["pos"]?.first.flatMap({ $0 }).flatMap({ Int64($0) }) {
                                        positions.insert(p)
                                    }
                                }
                            }
                        } else {
                            let names = x.equalityIDs.compactMap { current[$0] }
                            guard names.count == x.equalityIDs.count, !names.isEmpty else {
                                throw TableError.iceberg(path, "an equality delete file names field ids \(x.equalityIDs) that the schema lacks")
                            }
                            var tuples = Set<[String?]>()
                            try self.parquetRows(revision, x.path, adjust: renaming) { r in tuples.insert(names.map { r[$0] }) }
                            equality.append((names, tuples))
                        }
                    }
                    var position: Int64 = -1
                    try self.parquetRows(revision, u.data.path, adjust: renaming) { row in
                        position += 1
                        if positions.contains(position) { return }
                        for e in equality where e.tuples.contains(e.names.map { row[$0] }) { return }
                        try emit(row)
                    }
                }
                return (
                    snap.schema.map { current[$0.id] ?? $0.name },
                    Dictionary(snap.schema.map { (current[$0.id] ?? $0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
                )
            }
        }
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        return try TableDiffer.diff(
            rowsA: rows(a, unitsA.filter { !idsB.contains($0.id) }, before), rowsB: rows(b, unitsB.filter { !idsA.contains($0.id) }, after),
            sizeHint: (filesA + filesB).reduce(Int64(0)) { $0 + $1.records } * 256, options: options, scratch: scratch, table: path, emit: emit)
    }
}
