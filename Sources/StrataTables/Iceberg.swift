import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// An Apache Iceberg table at one revision, from its current `metadata/*.metadata.json` (snapshots with their
/// summaries, schemas with field ids, partition spec). The manifests (Avro) are not read yet.
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

    /// The live data files of the current snapshot, from its manifest list and manifests (Avro): (path inside the
    /// workspace, records). Delete files (merge-on-read) are refused: rows would be misread without applying them.
    public func icebergDataFiles(_ revision: String?, _ raw: String, _ snap: IcebergSnapshot) throws -> [(path: String, records: Int64)] {
        let table = try repo.relativePath(raw)
        guard let current = snap.current, let list = snap.snapshots[current]?.manifestList else { return [] }
        func read(_ local: String) throws -> [UInt8] { try fileBytes(revision, local) }
        var files: [(String, Int64)] = []
        for m in try AvroReader.records(try read(try icebergLocal(list, snap, table: table)), name: table) {
            guard let manifest = m["manifest_path"]?.string else { continue }
            for e in try AvroReader.records(try read(try icebergLocal(manifest, snap, table: table)), name: table) where e["status"]?.int != 2 {
                guard let f = e["data_file"] else { continue }
                if (f["content"]?.int ?? 0) != 0 {
                    throw TableError.iceberg(table, "it has delete files (merge-on-read); rows are not compared until strata applies them")
                }
                if let p = f["file_path"]?.string { files.append((try icebergLocal(p, snap, table: table), f["record_count"]?.int ?? 0)) }
            }
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The row-level change of an Iceberg table: only the data files one snapshot has and the other lacks are read;
    /// columns are named by field id with the current schema's names, so a renamed column compares as itself.
    public func icebergRowDiff(_ a: String, _ b: String?, path raw: String, options given: TableDiffOptions, emit: (RowChange) throws -> Void) throws
        -> TableDiffSummary
    {
        let path = try repo.relativePath(raw)
        var options = given
        if options.key.isEmpty { options.key = try declaration(for: path)?.key ?? [] }
        let before = try (isIcebergTable(a, path) ? icebergSnapshot(a, path) : IcebergSnapshot())
        let after = try icebergSnapshot(b, path)
        let filesA = try icebergDataFiles(a, path, before), filesB = try icebergDataFiles(b, path, after)
        let inA = Set(filesA.map(\.path)), inB = Set(filesB.map(\.path))
        // Both sides are named with the newer schema's names (by field id): a renamed column compares as itself.
        let current = Dictionary((before.schema + after.schema).map { ($0.id, $0.name) }, uniquingKeysWith: { _, b in b })
        func rows(_ revision: String?, _ files: [String], _ snap: IcebergSnapshot) -> TableDiffer.RowSource {
            { emit in
                let names = current
                for f in files {
                    try self.parquetRows(
                        revision, f,
                        adjust: { columns in
                            let rename = Dictionary(columns.map { c in (c.name, c.fieldID.flatMap { names[$0] } ?? c.name) }, uniquingKeysWith: { a, _ in a })
                            return { row in Dictionary(row.map { (rename[$0.key] ?? $0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
                        }, emit)
                }
                return (
                    snap.schema.map { names[$0.id] ?? $0.name },
                    Dictionary(snap.schema.map { (names[$0.id] ?? $0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
                )
            }
        }
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        return try TableDiffer.diff(
            rowsA: rows(a, filesA.map(\.path).filter { !inB.contains($0) }, before), rowsB: rows(b, filesB.map(\.path).filter { !inA.contains($0) }, after),
            sizeHint: (filesA + filesB).reduce(Int64(0)) { $0 + $1.records } * 256, options: options, scratch: scratch, table: path, emit: emit)
    }
}
