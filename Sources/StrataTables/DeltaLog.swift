import Foundation
import StrataModel
import StrataPlatform

/// A data file an `add`, `remove` or `cdc` action names, with its partition values and whether it changes data.
struct DeltaFileAction: Sendable {
    var path: String
    var dataChange: Bool
    var partitionValues: [String: String]
}

/// What one JSON commit of a Delta log did to the table's files: added, removed, and its Change Data Feed files.
struct DeltaVersionActions: Sendable {
    var adds: [DeltaFileAction] = []
    var removes: [DeltaFileAction] = []
    var changeData: [DeltaFileAction] = []
}

/// The actions of one Delta log entry (a JSON commit, or a checkpoint's rows) applied to a snapshot in order, with
/// what the history needs: the operation, when, and which files were added and removed with or without a data change.
struct DeltaActions {
    let version: Int64
    let table: String
    var files = DeltaVersionActions()
    var operation = ""
    var timestamp: Int64?

    init(version: Int64, table: String) { self.version = version; self.table = table }

    /// The JSON objects of a commit file, one per line (blank lines skipped); anything else is a corrupt log.
    static func lines(_ bytes: [UInt8], version: Int64, table: String, _ each: ([String: Any]) throws -> Void) throws {
        for line in bytes.split(separator: 10) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
            guard let action = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw TableError.delta(table, "commit \(version) holds a line that is not a JSON object")
            }
            try each(action)
        }
    }

    /// An action's `partitionValues` (null values left out).
    static func partitions(_ value: Any?) -> [String: String] {
        (value as? [String: Any] ?? [:]).compactMapValues { $0 is NSNull ? nil : "\($0)" }
    }

    /// Applies one action (`protocol`, `metaData`, `add`, `remove`, `commitInfo`; others change nothing read here).
    mutating func apply(_ action: [String: Any], to snap: inout DeltaSnapshot) throws {
        if let p = action["protocol"] as? [String: Any] {
            let reader = p["minReaderVersion"] as? Int ?? 1, writer = p["minWriterVersion"] as? Int ?? 1
            let rf = (p["readerFeatures"] as? [String]) ?? [], wf = (p["writerFeatures"] as? [String]) ?? []
            if reader >= 3, let unknown = rf.first(where: { !supportedDeltaReaderFeatures.contains($0) }) {
                throw TableError.delta(table, "version \(version) needs the reader feature '\(unknown)', which strata does not support")
            }
            if reader == 2 { throw TableError.delta(table, "version \(version) uses column mapping (minReaderVersion 2), which strata does not support") }
            snap.protocolText =
                "reader \(reader), writer \(writer)" + (rf.isEmpty ? "" : " [\(rf.sorted().joined(separator: ","))]")
                + (wf.isEmpty ? "" : " {\(wf.sorted().joined(separator: ","))}")
        }
        if let m = action["metaData"] as? [String: Any] {
            snap.partitionColumns = m["partitionColumns"] as? [String] ?? []
            snap.configuration = (m["configuration"] as? [String: Any] ?? [:]).compactMapValues { $0 is NSNull ? nil : "\($0)" }
            if let s = m["schemaString"] as? String, let schema = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] {
                snap.schema = ((schema["fields"] as? [[String: Any]]) ?? []).map { f in
                    let t = f["type"]
                    let type =
                        (t as? String)
                        ?? ((try? JSONSerialization.data(withJSONObject: t ?? NSNull(), options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
                            ?? "?")
                    return (f["name"] as? String ?? "", type)
                }
            }
        }
        if let a = action["add"] as? [String: Any], let p = a["path"] as? String {
            let stats = (a["stats"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            snap.files[p] = DeltaFile(
                path: p, size: (a["size"] as? NSNumber)?.int64Value ?? 0, records: (stats?["numRecords"] as? NSNumber)?.int64Value,
                partitionValues: DeltaActions.partitions(a["partitionValues"]))
            files.adds.append(DeltaFileAction(path: p, dataChange: a["dataChange"] as? Bool ?? true, partitionValues: snap.files[p]!.partitionValues))
        }
        if let r = action["remove"] as? [String: Any], let p = r["path"] as? String {
            files.removes.append(
                DeltaFileAction(
                    path: p, dataChange: r["dataChange"] as? Bool ?? true,
                    partitionValues: snap.files[p]?.partitionValues ?? DeltaActions.partitions(r["partitionValues"])))
            snap.files[p] = nil
        }
        if let c = action["cdc"] as? [String: Any], let p = c["path"] as? String {
            files.changeData.append(DeltaFileAction(path: p, dataChange: false, partitionValues: DeltaActions.partitions(c["partitionValues"])))
        }
        if let c = action["commitInfo"] as? [String: Any] {
            operation = c["operation"] as? String ?? ""
            timestamp = (c["timestamp"] as? NSNumber)?.int64Value
        }
    }
}

/// A Delta checkpoint: the table's whole state at one version in Parquet (one file, several parts, or a V2
/// checkpoint whose sidecars hold the file actions), read with strata's Parquet reader.
struct DeltaCheckpoint {
    /// The version it describes.
    var version: Int64
    /// Its files in `_delta_log` (every part of a multi-part checkpoint, in order).
    var files: [String]

    /// The checkpoints of a log listing that are complete: a classic `N.checkpoint.parquet`, a V2
    /// `N.checkpoint.UUID.parquet|json`, or a multi-part one with every part `N.checkpoint.K.M.parquet` present.
    static func complete(_ names: [String]) -> [DeltaCheckpoint] {
        var found: [DeltaCheckpoint] = []
        var parts: [Int64: [Int: String]] = [:], totals: [Int64: Int] = [:]
        for n in names {
            guard n.count > 32, let v = Int64(n.prefix(20)), n.dropFirst(20).hasPrefix(".checkpoint.") else { continue }
            let rest = n.dropFirst(32)
            if rest == "parquet" {
                found.append(DeltaCheckpoint(version: v, files: [n]))
                continue
            }
            let fields = rest.split(separator: ".")
            if fields.count == 3, fields[2] == "parquet", fields[0].count == 10, fields[1].count == 10, let k = Int(fields[0]), let m = Int(fields[1]),
                k >= 1, k <= m
            {
                parts[v, default: [:]][k] = n
                totals[v] = m
            } else if fields.count == 2, fields[0].count == 36, fields[1] == "parquet" || fields[1] == "json" {
                found.append(DeltaCheckpoint(version: v, files: [n]))
            }
        }
        for (v, p) in parts where p.count == totals[v] { found.append(DeltaCheckpoint(version: v, files: (1...p.count).compactMap { p[$0] })) }
        return found
    }

    /// The actions of a checkpoint file (or a sidecar), shaped as the JSON commits shape them, so one replay applies
    /// both. A JSON V2 checkpoint is read line by line.
    static func actions(_ file: String, _ json: Bool, _ each: ([String: Any]) throws -> Void) throws {
        if json { return try DeltaActions.lines(try Posix.readFile(file), version: -1, table: file, each) }
        let reader = try ParquetReader(path: file, nested: true)
        defer { reader.closeFile() }
        let scalars: [(action: String, field: String)] = [
            ("add", "path"), ("add", "size"), ("add", "dataChange"), ("add", "stats"), ("remove", "path"), ("remove", "dataChange"),
            ("metaData", "schemaString"), ("protocol", "minReaderVersion"), ("protocol", "minWriterVersion"), ("sidecar", "path"),
        ]
        let maps: [(action: String, field: String)] = [("add", "partitionValues"), ("metaData", "configuration")]
        let lists: [(action: String, field: String)] = [("metaData", "partitionColumns"), ("protocol", "readerFeatures"), ("protocol", "writerFeatures")]
        // Leaves inside maps and lists are named by their writer (`key_value.key`, `list.element`, `array`, …):
        // found under the field's path.
        func leaves(_ a: String, _ f: String) -> [[String]] { reader.columns.map(\.path).filter { $0.count > 2 && $0[0] == a && $0[1] == f } }
        var mapLeaves: [String: (key: String, value: String)] = [:], listLeaves: [String: String] = [:]
        for (a, f) in maps {
            let l = leaves(a, f)
            if let k = l.first(where: { $0.last == "key" }), let v = l.first(where: { $0.last == "value" }) {
                mapLeaves[a + "." + f] = (k.joined(separator: "."), v.joined(separator: "."))
            }
        }
        for (a, f) in lists { if let l = leaves(a, f).first { listLeaves[a + "." + f] = l.joined(separator: ".") } }
        var wanted = Set(scalars.map { $0.action + "." + $0.field })
        wanted.insert("add.stats_parsed.numRecords")
        for (k, v) in mapLeaves.values { wanted.insert(k); wanted.insert(v) }
        wanted.formUnion(listLeaves.values)
        try reader.records(wanted) { record in
            func one(_ p: String) -> String? { record[p]?.first ?? nil }
            var actions: [String: [String: Any]] = [:]
            for (a, f) in scalars {
                guard let v = one(a + "." + f) else { continue }
                let value: Any =
                    switch f {
                    case "size": NSNumber(value: Int64(v) ?? 0)
                    case "dataChange": v == "true"
                    case "minReaderVersion", "minWriterVersion": Int(v) ?? 1
                    default: v
                    }
                actions[a, default: [:]][f] = value
            }
            // Only the action the row holds: its key scalar is set (a row's other actions are null).
            for a in Array(actions.keys) where actions[a]?[a == "metaData" ? "schemaString" : a == "protocol" ? "minReaderVersion" : "path"] == nil {
                actions[a] = nil
            }
            for (name, leaf) in mapLeaves {
                let parts = name.split(separator: ".").map(String.init)
                guard actions[parts[0]] != nil, let keys = record[leaf.key], let values = record[leaf.value] else { continue }
                var map: [String: Any] = [:]
                for (k, v) in zip(keys, values) { if let k { map[k] = v ?? NSNull() } }
                actions[parts[0]]?[parts[1]] = map
            }
            for (name, leaf) in listLeaves {
                let parts = name.split(separator: ".").map(String.init)
                guard actions[parts[0]] != nil, let values = record[leaf] else { continue }
                actions[parts[0]]?[parts[1]] = values.compactMap { $0 }
            }
            if actions["add"] != nil, actions["add"]?["stats"] == nil, let n = one("add.stats_parsed.numRecords") {
                actions["add"]?["stats"] = "{\"numRecords\":\(n)}"
            }
            for (a, body) in actions { try each([a: body]) }
        }
    }
}
