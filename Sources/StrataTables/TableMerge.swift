import Foundation
import StrataRepository
import StrataPlatform

/// How conflicting rows or cells are settled without asking (`strata merge --strategy`, as `git merge -X ours`).
public enum MergeStrategy: String, Sendable, Codable, CaseIterable {
    /// Our value wins every conflict.
    case ours
    /// Their value wins every conflict.
    case theirs
}

/// How to merge three versions of one table.
public struct TableMergeOptions: Sendable {
    /// Key columns (names, or JSON pointers for JSONL). Empty only for append-only logs.
    public var key: [String] = []
    /// An append-only log: both sides' appended records are kept, each once.
    public var appendOnly = false
    /// Settles conflicts automatically (nil: they are recorded).
    public var strategy: MergeStrategy?
    /// The base version's size in bytes, if known (sizes the key index up front).
    public var baseBytes: Int64 = 0
    /// Creates default options.
    public init() {}
}

/// What a table merge did.
public struct TableMergeSummary: Sendable, Codable, Equatable {
    /// The merged header (CSV/TSV), in output order.
    public var columns: [String] = []
    /// Rows taken as they are on their side (changed only there).
    public var fromTheirs = 0
    /// Rows changed on both sides, in different cells, merged cell by cell.
    public var cellMerged = 0
    /// Rows their side added, appended after ours.
    public var appended = 0
    /// Rows their side removed (and we left alone), dropped.
    public var removed = 0
    /// Conflicting rows, recorded in the conflict file.
    public var conflicts = 0
    /// Conflicts settled by `--strategy`.
    public var settled = 0
    /// Rows written.
    public var rows = 0

    enum CodingKeys: String, CodingKey {
        case columns, appended, removed, conflicts, settled, rows
        case fromTheirs = "from_theirs"
        case cellMerged = "cell_merged"
    }
}

/// A table that cannot be merged row by row, so it conflicts as a whole (the reason names the table and why).
public struct WholeTableConflict: Error, Sendable, Equatable {
    /// `schema`, `duplicate-keys`, `not-append-only` or `encoding`.
    public var kind: String
    /// Why, in one line.
    public var detail: String
}

/// The keyed three-way merge of a table (CSV, TSV, JSONL) and the append-only merge of logs.
///
/// Keyed: one pass over the base keeps, per key, a 128-bit hash of the row and where the row was spilled; one pass over
/// their version keeps the rows they changed or added (memory ∝ their change); one pass over our version writes the
/// result as it goes: our rows in our order, their change applied where only they changed a row, cell by cell where
/// both did, then their additions in their order. Conflicting cells keep our value in the table and are recorded
/// (base, ours, theirs) in the conflict stream, one JSON object per row.
public enum TableMerge {
    /// A row: values by column (canonical text), with the JSON object and raw line for JSONL.
    struct MRow {
        var values: [String: String]
        var object: [String: Any]?
        var raw: [UInt8]?
    }

    /// One row as read: its hash over the compared columns, its key, and its raw fields (CSV/TSV) or parsed row (JSONL).
    struct Rec {
        var h1: UInt64, h2: UInt64
        var bytes: [UInt8]
        var ends: [Int]
        /// CSV/TSV: the key columns' field numbers (the key is read from the fields); else empty and the key is `keyText`.
        var keyFields: [Int]
        var keyText: [UInt8]
        var parsed: MRow?

        /// Calls `body` with the key's bytes.
        func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            guard !keyFields.isEmpty else { return try keyText.withUnsafeBytes(body) }
            return try DelimitedSplitter.withKey(bytes, ends, keyFields, body)
        }
    }

    /// Merges `base`, `ours` and `theirs` into `output`; conflicting rows go to `conflict` as JSON lines.
    /// Throws `WholeTableConflict` (before writing anything) when the table cannot be merged by rows.
    public static func merge(
        format: TableFormat, base: ByteSource, ours: ByteSource, theirs: ByteSource, options: TableMergeOptions, scratch: String,
        table: String, output: (UnsafeRawBufferPointer) throws -> Void, conflict: ([UInt8]) throws -> Void
    ) throws -> TableMergeSummary {
        try withoutActuallyEscaping(output) { output in
            try withoutActuallyEscaping(conflict) { conflict in
                try merge(
                    format: format, base: base, ours: ours, theirs: theirs, options: options, scratch: scratch, table: table, escaping: output,
                    conflict: conflict)
            }
        }
    }

    static func merge(
        format: TableFormat, base: ByteSource, ours: ByteSource, theirs: ByteSource, options: TableMergeOptions, scratch: String,
        table: String, escaping output: @escaping (UnsafeRawBufferPointer) throws -> Void, conflict: @escaping ([UInt8]) throws -> Void
    ) throws -> TableMergeSummary {
        guard format == .csv || format == .tsv || format == .jsonl || format == .parquet else {
            throw WholeTableConflict(kind: "unsupported", detail: "strata merges \(format.rawValue) tables by file only (it cannot write them)")
        }
        if options.appendOnly { return try appendOnly(format: format, base: base, ours: ours, theirs: theirs, output: output) }
        guard !options.key.isEmpty else { throw WholeTableConflict(kind: "unsupported", detail: "the table has no key columns") }
        var summary = TableMergeSummary()
        var columns: [String]? = nil  // merged header (delimited formats)
        var headers: [String: [String]] = [:]
        if format == .csv || format == .tsv {
            let b = try KeyedDiff.header(format, base).columns, o = try KeyedDiff.header(format, ours).columns, t = try KeyedDiff.header(format, theirs).columns
            columns = try mergeColumns(base: b, ours: o, theirs: t, key: options.key, table: table)
            summary.columns = columns!
            headers = ["base": b, "ours": o, "theirs": t]
            for (side, h) in headers where !h.isEmpty {
                for k in options.key where !h.contains(k) { throw TableError.keyNotFound(column: k, table: "\(table) (\(side))") }
            }
        }
        let keyColumns = options.key
        func key(_ r: MRow, side: String) throws -> String {
            var parts: [String] = []
            for k in keyColumns {
                guard let v = r.values[k] else { throw TableError.keyNotFound(column: k, table: "\(table) (\(side))") }
                parts.append(v)
            }
            return parts.joined(separator: "\u{1F}")
        }
        // The columns a row is compared on: the merged header, or (JSONL) every top-level key.
        func hash(_ r: MRow) -> (UInt64, UInt64) {
            var h1: UInt64 = 0x9E37_79B9_7F4A_7C15, h2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
            func mix(_ s: String?) {
                guard let s else {
                    h1 = (h1 ^ 0xFF) &* 0x100_0000_01B3; h2 = (h2 ^ 0xFE) &* 0xFF51_AFD7_ED55_8CCD
                    return
                }
                var n: UInt64 = 0
                for b in s.utf8 {
                    h1 = (h1 ^ UInt64(b)) &* 0x100_0000_01B3; h2 = (h2 ^ UInt64(b)) &* 0xFF51_AFD7_ED55_8CCD; n += 1
                }
                h1 = (h1 ^ n ^ 0x5555) &* 0x100_0000_01B3; h2 = (h2 ^ n ^ 0xAAAA) &* 0xFF51_AFD7_ED55_8CCD
            }
            if let columns {
                for c in columns { mix(r.values[c]) }
            } else {
                for k in r.values.keys.sorted() where !k.hasPrefix("/") { mix(k); mix(r.values[k]) }
            }
            h1 ^= h1 >> 29; h1 = h1 &* 0xBF58_476D_1CE4_E5B9; h1 ^= h1 >> 32
            h2 ^= h2 >> 31; h2 = h2 &* 0x94D0_49BB_1331_11EB; h2 ^= h2 >> 29
            return (h1, h2)
        }

        let parquetColumns = Locked<[String: [ParquetReader.Column]]>([:])
        /// Streams one side's rows as `Rec`s. CSV/TSV rows stay raw fields (hashed as bytes over the merged columns;
        /// the key read in place) until a row is needed whole; JSONL rows are parsed objects.
        func scan(_ source: ByteSource, side: String, _ body: (Rec) throws -> Void) throws {
            if format == .parquet {
                // Parquet keeps its footer last: the version is spooled, its schema kept for the writer, then read.
                let spool = scratch + "/\(side).parquet"
                let fd = try Posix.createFile(spool)
                do {
                    try source { try Posix.writeAll(fd, $0, path: spool) }
                    close(fd)
                } catch {
                    close(fd)
                    throw error
                }
                defer { try? Posix.unlink(spool) }
                guard (try Posix.lstat(spool))?.size ?? 0 > 0 else { return }  // absent on this side
                let reader = try ParquetReader(path: spool)
                defer { reader.closeFile() }
                parquetColumns.with { $0[side] = reader.columns }
                try reader.rows { row in
                    let r = MRow(values: row)
                    let (h1, h2) = hash(r)
                    try body(Rec(h1: h1, h2: h2, bytes: [], ends: [], keyFields: [], keyText: Array(try key(r, side: side).utf8), parsed: r))
                }
                return
            }
            guard let columns else {
                try readRows(format, source, pointers: keyColumns) { r in
                    let (h1, h2) = hash(r)
                    let k = try key(r, side: side)
                    try body(Rec(h1: h1, h2: h2, bytes: [], ends: [], keyFields: [], keyText: Array(k.utf8), parsed: r))
                }
                return
            }
            let header = headers[side] ?? []
            let map = columns.map { header.firstIndex(of: $0) ?? Int.max }
            let keyIdx = keyColumns.map { header.firstIndex(of: $0) ?? Int.max }
            var split = DelimitedSplitter(format: format)
            var first = true
            try withoutActuallyEscaping(body) { body in
                let take: ([UInt8], [Int]) throws -> Void = { bytes, ends in
                    try TableMerge.requireUTF8(bytes, side: side)
                    if first { first = false; return }
                    let (h1, h2) = DelimitedSplitter.hashes(bytes, ends, map)
                    try body(Rec(h1: h1, h2: h2, bytes: bytes, ends: ends, keyFields: keyIdx, keyText: [], parsed: nil))
                }
                try source { try split.feed($0, take) }
                try split.finish(take)
            }
        }
        /// A row as values by column (CSV/TSV: named by that side's header).
        func row(_ r: Rec, side: String) -> MRow {
            if let p = r.parsed { return p }
            let header = headers[side] ?? []
            var values: [String: String] = [:]
            for i in r.ends.indices {
                values[i < header.count ? header[i] : "#\(i + 1)"] = String(decoding: DelimitedSplitter.field(r.bytes, r.ends, i), as: UTF8.self)
            }
            return MRow(values: values)
        }

        // Base and theirs are indexed at once, on two threads: key → row hash and spill position, in byte-keyed
        // open-addressing indexes (no string per row). Then their changes are found by looking their keys up in the
        // base index, reading back only the rows they changed or added.
        try Posix.makeDirectories(scratch)
        let capacity = Int(min(Int64(1 << 24), max(1024, options.baseBytes / 48)))
        let baseSide = try SideIndex(path: scratch + "/base.rows", capacity: capacity, keyBytes: options.baseBytes / 6)
        let theirSide = try SideIndex(path: scratch + "/theirs.rows", capacity: capacity, keyBytes: options.baseBytes / 6)
        func fill(_ side: SideIndex, _ name: String, _ source: ByteSource) throws {
            var pending: [UInt8] = []
            var offset: Int64 = 0
            try scan(source, side: name) { r in
                let (e, inserted) = r.withKey { side.index.insert($0) }
                guard inserted else { side.duplicates.append("\(name): " + side.index.text(e)); return }
                let before = pending.count
                if let p = r.parsed { spill(p, into: &pending) } else { DelimitedSplitter.encode(r.bytes, r.ends, into: &pending) }
                side.h1.append(r.h1); side.h2.append(r.h2)
                side.offsets.append(offset); side.lengths.append(Int32(pending.count - before))
                offset += Int64(pending.count - before)
                if pending.count >= 1 << 20 { try side.write(pending); pending.removeAll(keepingCapacity: true) }
            }
            try side.write(pending)
        }
        try bothAtOnce({ try fill(baseSide, "base", base) }, { try fill(theirSide, "theirs", theirs) })
        let index = baseSide.index
        let rowHash1 = baseSide.h1, rowHash2 = baseSide.h2
        var duplicates = baseSide.duplicates + theirSide.duplicates
        func decode(_ buf: [UInt8], _ side: String) throws -> MRow {
            if format == .jsonl || format == .parquet { return try unspill(buf, format: format, pointers: keyColumns) }
            let fields = KeyedDiff.decode(buf), header = headers[side] ?? []
            var values: [String: String] = [:]
            for (i, v) in fields.enumerated() { values[i < header.count ? header[i] : "#\(i + 1)"] = v }
            return MRow(values: values)
        }
        func baseRow(_ e: Int) throws -> MRow { try decode(try baseSide.read(e), "base") }
        var seenTheirs = [Bool](repeating: false, count: index.count), seenOurs = [Bool](repeating: false, count: index.count)
        var theirChange = [Int32](repeating: -1, count: index.count)  // per base row: index into `theirChanged`, or -1
        var theirChanged: [MRow] = []
        var theirAdded = KeyIndex(capacity: 1024)
        var theirAddedRows: [MRow] = []
        for t in 0..<theirSide.index.count {
            let found = theirSide.index.withKey(t) { index.find($0) }
            if let e = found {
                seenTheirs[e] = true
                if theirSide.h1[t] != rowHash1[e] || theirSide.h2[t] != rowHash2[e] {
                    theirChange[e] = Int32(theirChanged.count)
                    theirChanged.append(try decode(try theirSide.read(t), "theirs"))
                }
            } else {
                _ = theirSide.index.withKey(t) { theirAdded.insert($0) }
                theirAddedRows.append(try decode(try theirSide.read(t), "theirs"))
            }
        }
        // Duplicates on our side are found while writing; the caller discards the output when this throws.
        func refuseDuplicates() throws {
            guard !duplicates.isEmpty else { return }
            let shown = duplicates.prefix(3).map { $0.replacingOccurrences(of: "\u{1F}", with: ",") }.joined(separator: "; ")
            throw WholeTableConflict(
                kind: "duplicate-keys",
                detail:
                    "\(duplicates.count) duplicated key\(duplicates.count == 1 ? "" : "s") (\(shown)): rows cannot be paired, so the table conflicts as a whole"
            )
        }
        try refuseDuplicates()

        var writer = RowWriter(format: format, columns: columns)
        writer.header()
        var ourAdded = KeyIndex(capacity: 1024)
        var consumed = Set<Int>()
        let strategy = options.strategy
        func record(_ kind: String, _ k: String, columns cs: [String], base b: MRow?, ours o: MRow?, theirs t: MRow?) throws {
            summary.conflicts += 1
            if strategy != nil { summary.settled += 1; return }
            var keyObject: [String: Any] = [:]
            let parts = k.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            for (i, c) in keyColumns.enumerated() { keyObject[c] = i < parts.count ? parts[i] : "" }
            let obj: [String: Any] = [
                "kind": kind, "key": keyObject, "columns": cs,
                "base": b.map { jsonRow($0, columns) } ?? NSNull(), "ours": o.map { jsonRow($0, columns) } ?? NSNull(),
                "theirs": t.map { jsonRow($0, columns) } ?? NSNull(),
            ]
            var line = Array(try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]))
            line.append(10)
            try conflict(line)
        }
        /// Parquet: the writer starts with the merged schema once our version's is known.
        func startParquet() throws {
            guard format == .parquet, writer.parquet == nil else { return }
            let cols = parquetColumns.get
            let merged = try mergeParquetColumns(base: cols["base"] ?? [], ours: cols["ours"] ?? [], theirs: cols["theirs"] ?? [], table: table)
            summary.columns = merged.map(\.name)
            var p: ParquetWriter
            do { p = try ParquetWriter(columns: merged) } catch let e as ParquetWriter.Unwritable {
                throw WholeTableConflict(kind: "unsupported", detail: e.reason)
            }
            var head: [UInt8] = []
            p.start(into: &head)
            writer.buffer += head
            writer.parquet = p
        }
        func write(_ r: MRow) throws {
            try startParquet()
            try writer.row(r)
            summary.rows += 1
            if writer.buffer.count >= 1 << 20 { try writer.drain(output) }
        }
        let oursMap = columns.map { cols in cols.map { (headers["ours"] ?? []).firstIndex(of: $0) ?? Int.max } }
        /// Writes our row: raw fields in the merged column order (CSV/TSV), or the parsed row.
        func writeOurs(_ r: Rec) throws {
            if let p = r.parsed { try write(p); return }
            writer.raw(r.bytes, r.ends, oursMap!)
            summary.rows += 1
            if writer.buffer.count >= 1 << 20 { try writer.drain(output) }
        }
        // Reading our version runs on another thread (the copy is joined before this returns).
        try withoutActuallyEscaping(ours) { ours in
            try scan(prefetched(ours), side: "ours") { rec in
                if let e = rec.withKey({ index.find($0) }) {
                    if seenOurs[e] { duplicates.append("ours: " + index.text(e)); return }
                    seenOurs[e] = true
                    let oursChanged = rec.h1 != rowHash1[e] || rec.h2 != rowHash2[e]
                    lazy var o = row(rec, side: "ours")  // built only when the row must be merged or recorded
                    if !seenTheirs[e] {  // they removed it
                        if oursChanged {
                            try record("modify-delete", index.text(e), columns: [], base: try baseRow(e), ours: o, theirs: nil)
                            if strategy != .theirs { try writeOurs(rec) }
                        } else {
                            summary.removed += 1
                        }
                    } else if theirChange[e] >= 0 {
                        let t = theirChanged[Int(theirChange[e])]
                        if !oursChanged {
                            try write(t); summary.fromTheirs += 1
                        } else {
                            let b = try baseRow(e)
                            let (merged, clashes) = cellMerge(base: b, ours: o, theirs: t, columns: columns, strategy: strategy)
                            if !clashes.isEmpty { try record("cell", index.text(e), columns: clashes, base: b, ours: o, theirs: t) }
                            if clashes.isEmpty || strategy != nil { summary.cellMerged += 1 }
                            try write(merged)
                        }
                    } else {
                        try writeOurs(rec)
                    }
                } else {
                    let (a, inserted) = rec.withKey { ourAdded.insert($0) }
                    guard inserted else { duplicates.append("ours: " + ourAdded.text(a)); return }
                    if let t = rec.withKey({ theirAdded.find($0) }) {
                        consumed.insert(t)
                        let o = row(rec, side: "ours")
                        let (merged, clashes) = cellMerge(base: nil, ours: o, theirs: theirAddedRows[t], columns: columns, strategy: strategy)
                        if !clashes.isEmpty { try record("add-add", ourAdded.text(a), columns: clashes, base: nil, ours: o, theirs: theirAddedRows[t]) }
                        try write(merged)
                    } else {
                        try writeOurs(rec)
                    }
                }
            }
        }
        try refuseDuplicates()
        // Rows we removed: fine unless they changed them.
        for e in 0..<index.count where !seenOurs[e] && seenTheirs[e] && theirChange[e] >= 0 {
            let t = theirChanged[Int(theirChange[e])]
            try record("delete-modify", index.text(e), columns: [], base: try baseRow(e), ours: nil, theirs: t)
            if strategy == .theirs { try write(t) }
        }
        for (a, t) in theirAddedRows.enumerated() where !consumed.contains(a) {
            try write(t)
            summary.appended += 1
        }
        try startParquet()
        try writer.finish()
        try writer.drain(output)
        return summary
    }

    /// The merged header: ours when only we changed it (or both the same way), theirs when only they did; when both
    /// did, ours without the columns they removed, plus the columns they added. A key column removed on either side
    /// makes the table conflict as a whole.
    static func mergeColumns(base: [String], ours: [String], theirs: [String], key: [String], table: String) throws -> [String] {
        for (side, cols) in [("base", base), ("ours", ours), ("theirs", theirs)] where !cols.isEmpty {
            if Set(cols).count != cols.count { throw WholeTableConflict(kind: "schema", detail: "the \(side) header of \(table) repeats a column") }
        }
        // An absent side (the file did not exist) has no header: it takes the other's.
        let b = base.isEmpty ? (ours.isEmpty ? theirs : ours) : base
        let o = ours.isEmpty ? b : ours, t = theirs.isEmpty ? b : theirs
        let merged: [String]
        if o == t || t == b {
            merged = o
        } else if o == b {
            merged = t
        } else {
            let removedByThem = Set(b).subtracting(t)
            merged = o.filter { !removedByThem.contains($0) } + t.filter { !b.contains($0) && !o.contains($0) }
        }
        for k in key where !k.hasPrefix("/") && !merged.contains(k) {
            throw WholeTableConflict(kind: "schema", detail: "the key column '\(k)' was removed on one side")
        }
        return merged
    }

    /// The merged Parquet schema: our columns (without those they removed), then the columns they added, each with its
    /// own side's type; a column whose type differs between the sides makes the table conflict as a whole.
    static func mergeParquetColumns(
        base: [ParquetReader.Column], ours: [ParquetReader.Column], theirs: [ParquetReader.Column], table: String
    ) throws -> [ParquetReader.Column] {
        let o = ours.isEmpty ? (theirs.isEmpty ? base : theirs) : ours
        let baseNames = Set(base.map(\.name)), theirNames = Set(theirs.map(\.name))
        var merged = o.filter { theirs.isEmpty || theirNames.contains($0.name) || !baseNames.contains($0.name) }
        for c in theirs where !merged.contains(where: { $0.name == c.name }) && !baseNames.contains(c.name) { merged.append(c) }
        for c in merged {
            for other in [ours, theirs] {
                if let t = other.first(where: { $0.name == c.name }), t.typeName != c.typeName {
                    throw WholeTableConflict(
                        kind: "schema", detail: "column '\(c.name)' of \(table) is \(c.typeName) on one side and \(t.typeName) on the other")
                }
            }
        }
        return merged
    }

    /// Three-way merge of one row's cells: equal, or changed on one side only, merges; changed on both to different
    /// values clashes (our value kept, or the strategy's).
    static func cellMerge(base b: MRow?, ours o: MRow, theirs t: MRow, columns: [String]?, strategy: MergeStrategy?) -> (MRow, [String]) {
        let names: [String]
        if let columns {
            names = columns
        } else {
            var all = Set(o.values.keys).union(t.values.keys)
            if let b { all.formUnion(b.values.keys) }
            names = all.filter { !$0.hasPrefix("/") }.sorted()
        }
        var result = o
        var clashes: [String] = []
        var takeTheirs: [String] = []
        for c in names {
            let bv = b?.values[c], ov = o.values[c], tv = t.values[c]
            if ov == tv || tv == bv { continue }
            if ov == bv {
                takeTheirs.append(c)
            } else {
                clashes.append(c)
                if strategy == .theirs { takeTheirs.append(c) }
            }
        }
        guard !takeTheirs.isEmpty else { return (result, clashes) }
        for c in takeTheirs {
            result.values[c] = t.values[c]
            if result.object != nil { result.object![c] = t.object?[c] }
        }
        result.raw = nil  // rewritten from the merged values
        return (result, clashes)
    }

    /// A row for the conflict file: the JSON object (JSONL), or the values of the merged columns (CSV/TSV).
    static func jsonRow(_ r: MRow, _ columns: [String]?) -> Any {
        if let obj = r.object { return obj }
        var out: [String: Any] = [:]
        for (k, v) in r.values where columns == nil || columns!.contains(k) { out[k] = v }
        return out
    }

    /// Streams a table with the row of key `wanted` replaced by `row` (nil: removed; not found: appended), for
    /// resolving one conflicting row. Other rows keep their values (CSV/TSV re-encoded, JSONL lines as they were).
    public static func replaceRow(
        format: TableFormat, source: ByteSource, key: [String], wanted: [String: String], with row: [String: Any]?,
        output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let header = format == .jsonl ? nil : try KeyedDiff.header(format, source).columns
        var writer = RowWriter(format: format, columns: header)
        writer.header()
        var found = false
        let chosen: MRow? = row.map { r in
            var values: [String: String] = [:]
            for (k, v) in r { values[k] = RowParser.canonical(v) }
            return MRow(values: values, object: format == .jsonl ? r : nil, raw: nil)
        }
        try readRows(format, source, pointers: key) { r in
            let k = Dictionary(uniqueKeysWithValues: key.map { ($0, r.values[$0] ?? "") })
            if k == wanted {
                found = true
                if let chosen { try writer.row(chosen) }
            } else {
                try writer.row(r)
            }
            if writer.buffer.count >= 1 << 20 { try writer.drain(output) }
        }
        if !found, let chosen { try writer.row(chosen) }
        try writer.drain(output)
    }

    // MARK: Append-only logs

    /// Both sides must start with the base's records; the result is ours, then their appended records that we did not
    /// append too.
    static func appendOnly(
        format: TableFormat, base: ByteSource, ours: ByteSource, theirs: ByteSource, output: @escaping (UnsafeRawBufferPointer) throws -> Void
    )
        throws -> TableMergeSummary
    {
        var summary = TableMergeSummary()
        var baseHashes: [Hash128] = []
        try readRecords(format, base) { baseHashes.append(Hash128($0)) }
        var ourAppended = Set<Hash128>()
        var n = 0
        var out: [UInt8] = []
        func flushIfFull() throws {
            if out.count >= 1 << 20 { try out.withUnsafeBytes { try output($0) }; out.removeAll(keepingCapacity: true) }
        }
        try readRecords(format, ours) { rec in
            let h = Hash128(rec)
            if n < baseHashes.count {
                guard baseHashes[n] == h else {
                    throw WholeTableConflict(
                        kind: "not-append-only", detail: "our side changed or removed record \(n + 1) of the base: the log is not append-only")
                }
            } else {
                ourAppended.insert(h)
            }
            n += 1
            out += rec; out.append(10); summary.rows += 1
            try flushIfFull()
        }
        if n < baseHashes.count {
            throw WholeTableConflict(kind: "not-append-only", detail: "our side removed records of the base: the log is not append-only")
        }
        var m = 0
        try readRecords(format, theirs) { rec in
            let h = Hash128(rec)
            defer { m += 1 }
            if m < baseHashes.count {
                guard baseHashes[m] == h else {
                    throw WholeTableConflict(
                        kind: "not-append-only", detail: "their side changed or removed record \(m + 1) of the base: the log is not append-only")
                }
                return
            }
            if ourAppended.remove(h) != nil { return }  // appended on both sides: kept once
            out += rec; out.append(10); summary.rows += 1; summary.appended += 1
            try flushIfFull()
        }
        if m < baseHashes.count {
            throw WholeTableConflict(kind: "not-append-only", detail: "their side removed records of the base: the log is not append-only")
        }
        try out.withUnsafeBytes { try output($0) }
        return summary
    }

    struct Hash128: Hashable {
        var a: UInt64, b: UInt64
        init(_ bytes: [UInt8]) {
            let (x, y) = DelimitedSplitter.hashes(bytes, [bytes.count], [0])
            a = x; b = y
        }
    }

    /// Every record as bytes: JSONL lines without their line break; CSV/TSV records re-encoded (header included).
    static func readRecords(_ format: TableFormat, _ source: ByteSource, _ given: ([UInt8]) throws -> Void) throws {
        try withoutActuallyEscaping(given) { body in try readRecordsEscaping(format, source, body) }
    }

    static func readRecordsEscaping(_ format: TableFormat, _ source: ByteSource, _ body: @escaping ([UInt8]) throws -> Void) throws {
        if format == .jsonl {
            var line: [UInt8] = []
            func end() throws {
                if line.last == 13 { line.removeLast() }
                if !line.allSatisfy({ $0 == 32 || $0 == 9 }) { try body(line) }
                line.removeAll(keepingCapacity: true)
            }
            try source { p in
                for c in p {
                    if c == 10 { try end() } else { line.append(c) }
                }
            }
            if !line.isEmpty { try end() }
            return
        }
        var split = DelimitedSplitter(format: format)
        let sep: UInt8 = format == .tsv ? 9 : UInt8(ascii: ",")
        let take: ([UInt8], [Int]) throws -> Void = { bytes, ends in
            var rec: [UInt8] = []
            RowWriter.encodeRecord(ends.indices.map { DelimitedSplitter.field(bytes, ends, $0) }, sep: sep, into: &rec)
            try body(rec)
        }
        try source { try split.feed($0, take) }
        try split.finish(take)
    }

    // MARK: Reading and spilling rows

    /// Streams the rows of a source (the header of delimited formats is skipped).
    static func readRows(_ format: TableFormat, _ source: ByteSource, pointers: [String], _ given: (MRow) throws -> Void) throws {
        try withoutActuallyEscaping(given) { body in try readRowsEscaping(format, source, pointers: pointers, body) }
    }

    static func readRowsEscaping(_ format: TableFormat, _ source: ByteSource, pointers: [String], _ body: @escaping (MRow) throws -> Void) throws {
        if format == .jsonl {
            var line: [UInt8] = []
            var number = 0
            func end() throws {
                number += 1
                if line.last == 13 { line.removeLast() }
                if number == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
                if !line.allSatisfy({ $0 == 32 || $0 == 9 }) { try body(try jsonRow(line, line: number, pointers: pointers)) }
                line.removeAll(keepingCapacity: true)
            }
            try source { p in
                var i = 0
                while i < p.count {
                    if let nl = (i..<p.count).first(where: { p[$0] == 10 }) {
                        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<nl])); try end(); i = nl + 1
                    } else {
                        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i...])); i = p.count
                    }
                }
            }
            if !line.isEmpty { try end() }
            return
        }
        var split = DelimitedSplitter(format: format)
        var columns: [String]? = nil
        let take: ([UInt8], [Int]) throws -> Void = { bytes, ends in
            try TableMerge.requireUTF8(bytes, side: nil)
            guard let cols = columns else {
                columns = ends.indices.map { String(decoding: DelimitedSplitter.field(bytes, ends, $0), as: UTF8.self) }
                return
            }
            var values: [String: String] = [:]
            values.reserveCapacity(ends.count)
            for i in ends.indices {
                values[i < cols.count ? cols[i] : "#\(i + 1)"] = String(decoding: DelimitedSplitter.field(bytes, ends, i), as: UTF8.self)
            }
            try body(MRow(values: values))
        }
        try source { try split.feed($0, take) }
        try split.finish(take)
    }

    /// Throws a whole-table conflict unless a delimited record is UTF-8 text. Rows are merged as Strings, and decoding
    /// other bytes would repair them (U+FFFD for each bad byte): a merged row, or a row taken from theirs, would have
    /// been written back changed. Such a table merges as a file (`--ours`, `--theirs`, or by hand).
    static func requireUTF8(_ bytes: [UInt8], side: String?) throws {
        let ascii = bytes.withUnsafeBufferPointer { b -> Bool in
            var acc: UInt8 = 0
            for x in b { acc |= x }
            return acc < 0x80
        }
        if ascii || String(validating: bytes, as: UTF8.self) != nil { return }
        throw WholeTableConflict(
            kind: "encoding",
            detail: "a record\(side.map { " of " + $0 } ?? "") is not UTF-8 text; rows and cells are merged only as UTF-8, so merge the file "
                + "with --ours or --theirs, or by hand")
    }

    /// A JSONL line as a row.
    static func jsonRow(_ line: [UInt8], line number: Int, pointers: [String]) throws -> MRow {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw TableError.malformed(line: number, reason: "not a JSON object")
        }
        var values: [String: String] = [:]
        for (k, v) in obj { values[k] = RowParser.canonical(v) }
        for p in pointers where p.hasPrefix("/") { if let v = RowParser.resolve(p, in: obj) { values[p] = RowParser.canonical(v) } }
        return MRow(values: values, object: obj, raw: line)
    }

    /// Spill encoding: JSONL rows as their line; delimited rows as length-prefixed name/value pairs.
    static func spill(_ r: MRow, into out: inout [UInt8]) {
        if let raw = r.raw { out += raw; return }
        for (k, v) in r.values {
            for s in [k, v] {
                let n = s.utf8.count
                out.append(UInt8(truncatingIfNeeded: n >> 24)); out.append(UInt8(truncatingIfNeeded: n >> 16))
                out.append(UInt8(truncatingIfNeeded: n >> 8)); out.append(UInt8(truncatingIfNeeded: n))
                out += s.utf8
            }
        }
    }

    static func unspill(_ b: [UInt8], format: TableFormat, pointers: [String]) throws -> MRow {
        if format == .jsonl { return try jsonRow(b, line: 0, pointers: pointers) }
        let parts = KeyedDiff.decode(b)
        var values: [String: String] = [:]
        var i = 0
        while i + 1 < parts.count { values[parts[i]] = parts[i + 1]; i += 2 }
        return MRow(values: values)
    }
}

/// Writes merged rows: a header and RFC 4180 records (quoted when needed, LF line ends) for CSV/TSV, one JSON object
/// per line for JSONL (a row taken whole from one side keeps its original line).
struct RowWriter {
    let format: TableFormat
    let columns: [String]?
    var buffer: [UInt8] = []
    /// Parquet output (set once the merged schema is known).
    var parquet: ParquetWriter?

    init(format: TableFormat, columns: [String]?) {
        self.format = format; self.columns = columns
        buffer.reserveCapacity(1 << 20)
    }

    var sep: UInt8 { format == .tsv ? 9 : UInt8(ascii: ",") }

    mutating func header() {
        guard let columns, format != .jsonl else { return }
        RowWriter.encodeRecord(columns.map { Array($0.utf8)[...] }, sep: sep, into: &buffer)
        buffer.append(10)
    }

    mutating func row(_ r: TableMerge.MRow) throws {
        if format == .parquet {
            // Taken out while it writes into `buffer` (one access to this value at a time).
            var p = parquet!
            parquet = nil
            defer { parquet = p }
            do { try p.add(r.values, into: &buffer) } catch let e as ParquetWriter.Unwritable {
                throw WholeTableConflict(kind: "schema", detail: e.reason)
            }
            return
        }
        if format == .jsonl {
            if let raw = r.raw {
                buffer += raw
            } else {
                let obj = r.object ?? r.values.filter { !$0.key.hasPrefix("/") }
                buffer += Array(try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]))
            }
        } else {
            RowWriter.encodeRecord(columns!.map { Array((r.values[$0] ?? "").utf8)[...] }, sep: sep, into: &buffer)
        }
        buffer.append(10)
    }

    /// Appends a record from raw fields, in the merged column order given by `map` (Int.max: an absent column).
    mutating func raw(_ bytes: [UInt8], _ ends: [Int], _ map: [Int]) {
        RowWriter.encodeRecord(map.map { DelimitedSplitter.field(bytes, ends, $0) }, sep: sep, into: &buffer)
        buffer.append(10)
    }

    /// Ends the output (Parquet: the last row group and the footer).
    mutating func finish() throws {
        guard var p = parquet else { return }
        parquet = nil
        defer { parquet = p }
        do { try p.finish(into: &buffer) } catch let e as ParquetWriter.Unwritable {
            throw WholeTableConflict(kind: "schema", detail: e.reason)
        }
    }

    /// Hands the buffered bytes to `output`.
    mutating func drain(_ output: (UnsafeRawBufferPointer) throws -> Void) throws {
        try buffer.withUnsafeBytes { try output($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// One delimited record: fields holding the separator, a quote or a line break are quoted (quotes doubled).
    static func encodeRecord(_ fields: [ArraySlice<UInt8>], sep: UInt8, into out: inout [UInt8]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(sep) }
            if f.contains(where: { $0 == sep || $0 == 34 || $0 == 10 || $0 == 13 }) {
                out.append(34)
                for c in f {
                    if c == 34 { out.append(34) }
                    out.append(c)
                }
                out.append(34)
            } else {
                out += f
            }
        }
    }
}

/// One side's rows indexed by key: row hashes and where each row was spilled (a scratch file, removed with it).
final class SideIndex: @unchecked Sendable {
    var index: KeyIndex
    var h1: [UInt64] = [], h2: [UInt64] = []
    var offsets: [Int64] = [], lengths: [Int32] = []
    var duplicates: [String] = []
    let fd: Int32
    let path: String

    init(path: String, capacity: Int, keyBytes: Int64) throws {
        self.path = path
        fd = try Posix.createFile(path)
        index = KeyIndex(capacity: capacity)
        index.arena.reserveCapacity(Int(min(Int64(1 << 28), keyBytes)))
        h1.reserveCapacity(capacity); h2.reserveCapacity(capacity); offsets.reserveCapacity(capacity); lengths.reserveCapacity(capacity)
    }

    deinit {
        close(fd)
        try? Posix.unlink(path)
    }

    func write(_ bytes: [UInt8]) throws { try Posix.writeAll(fd, bytes, path: path) }

    /// The spilled bytes of entry `e`.
    func read(_ e: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: Int(lengths[e]))
        _ = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offsets[e], path: path) }
        return buf
    }
}

/// Runs two closures at once (this thread and one more); rethrows the first error.
func bothAtOnce(_ a: () throws -> Void, _ b: () throws -> Void) throws {
    try withoutActuallyEscaping(a) { a in
        try withoutActuallyEscaping(b) { b in
            nonisolated(unsafe) let work = [a, b]
            let errors = Locked<[Int: any Error]>([:])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                do { try work[i]() } catch { errors.with { $0[i] = error } }
            }
            if let e = errors.with({ $0[0] ?? $0[1] }) { throw e }
        }
    }
}

/// Keys (byte strings) → dense entry numbers: open addressing over a power-of-two slot table, keys kept in one arena.
/// About 30 bytes per key plus the key itself, and no allocation per lookup, which a `[String: …]` of a million rows
/// spends most of a merge on.
struct KeyIndex {
    var arena: [UInt8] = []
    var starts: [Int] = []
    var lengths: [Int32] = []
    var hashes: [UInt64] = []
    var slots: [Int32]
    var mask: Int

    init(capacity: Int) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = Array(repeating: -1, count: n)
        mask = n - 1
    }

    var count: Int { starts.count }

    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
            i += 8
        }
        while i < p.count {
            h = (h ^ UInt64(p[i])) &* 0x100_0000_01B3
            i += 1
        }
        h ^= h >> 29; h = h &* 0xBF58_476D_1CE4_E5B9; h ^= h >> 32
        return h
    }

    func matches(_ e: Int, _ p: UnsafeRawBufferPointer) -> Bool {
        guard Int(lengths[e]) == p.count else { return false }
        if p.isEmpty { return true }
        return arena.withUnsafeBytes { a in memcmp(a.baseAddress! + starts[e], p.baseAddress!, p.count) == 0 }
    }

    /// The entry of a key, if present.
    func find(_ p: UnsafeRawBufferPointer) -> Int? {
        let h = KeyIndex.hash(p)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { return nil }
            if hashes[e] == h && matches(e, p) { return e }
            i = (i + 1) & mask
        }
    }

    /// The entry of a key, added when new.
    mutating func insert(_ p: UnsafeRawBufferPointer) -> (Int, inserted: Bool) {
        let h = KeyIndex.hash(p)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { break }
            if hashes[e] == h && matches(e, p) { return (e, false) }
            i = (i + 1) & mask
        }
        let e = count
        starts.append(arena.count); lengths.append(Int32(p.count)); hashes.append(h)
        arena.append(contentsOf: p)
        slots[i] = Int32(e)
        if count * 2 > slots.count { grow() }
        return (e, true)
    }

    mutating func grow() {
        let n = slots.count * 2
        slots = Array(repeating: -1, count: n)
        mask = n - 1
        for e in 0..<count {
            var i = Int(truncatingIfNeeded: hashes[e]) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(e)
        }
    }

    /// Calls `body` with the bytes of entry `e`'s key.
    func withKey<R>(_ e: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { a in try body(UnsafeRawBufferPointer(rebasing: a[starts[e]..<(starts[e] + Int(lengths[e]))])) }
    }

    /// A key as text (for messages and conflict records).
    func text(_ e: Int) -> String { String(decoding: arena[starts[e]..<(starts[e] + Int(lengths[e]))], as: UTF8.self) }
}

/// Streams `source` on another thread through a queue of a few buffers, so that reading (decompressing and verifying
/// stored bytes) overlaps with parsing. An error on either side stops both and is rethrown.
func prefetched(_ source: @escaping ByteSource) -> ByteSource {
    { sink in
        let queue = ChunkQueue(limit: 8)
        let box = SourceBox(source)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do {
                try box.source? { b in try queue.push(Array(b)) }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
            box.source = nil  // released before the caller returns (it may be a non-escaping closure made escaping)
            done.signal()
        }
        defer {
            queue.cancel()
            done.wait()
        }
        while let chunk = try queue.pop() { try chunk.withUnsafeBytes { try sink($0) } }
    }
}

/// Holds a source for the reading thread, which lets go of it when done.
final class SourceBox: @unchecked Sendable {
    var source: ByteSource?
    init(_ s: @escaping ByteSource) { source = s }
}

/// A bounded producer/consumer queue of byte chunks (`lock` guards everything).
final class ChunkQueue: @unchecked Sendable {
    struct Cancelled: Error {}
    private let lock = NSCondition()
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func push(_ c: [UInt8]) throws {
        lock.lock(); defer { lock.unlock() }
        while chunks.count >= limit && !cancelled { lock.wait() }
        if cancelled { throw Cancelled() }
        chunks.append(c)
        lock.broadcast()
    }

    func finish(_ error: (any Error)?) {
        lock.lock(); finished = true; failure = error; lock.broadcast(); lock.unlock()
    }

    func cancel() {
        lock.lock(); cancelled = true; lock.broadcast(); lock.unlock()
    }

    /// The next chunk; nil at the end; throws the producer's error.
    func pop() throws -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        while chunks.isEmpty && !finished { lock.wait() }
        if !chunks.isEmpty {
            let c = chunks.removeFirst()
            lock.broadcast()
            return c
        }
        if let failure, !(failure is Cancelled) { throw failure }
        return nil
    }
}
