import Foundation
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
    /// `schema`, `duplicate-keys` or `not-append-only`.
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

    /// One row as read: its key, its hash over the compared columns, and its raw fields (CSV/TSV) or parsed row (JSONL).
    struct Rec {
        var key: String
        var h1: UInt64, h2: UInt64
        var bytes: [UInt8]
        var ends: [Int]
        var parsed: MRow?
    }

    struct BaseEntry {
        var h1: UInt64, h2: UInt64
        var offset: Int64, length: Int32
        var seenTheirs = false, seenOurs = false
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
        guard format == .csv || format == .tsv || format == .jsonl else {
            throw WholeTableConflict(kind: "unsupported", detail: "strata merges \(format.rawValue) tables by file only (it cannot write them)")
        }
        if options.appendOnly { return try appendOnly(format: format, base: base, ours: ours, theirs: theirs, output: output) }
        guard !options.key.isEmpty else { throw WholeTableConflict(kind: "unsupported", detail: "the table has no key columns") }
        var summary = TableMergeSummary()
        var columns: [String]? = nil  // merged header (delimited formats)
        var headers: [String: [String]] = [:]
        if format != .jsonl {
            let b = try KeyedDiff.header(format, base), o = try KeyedDiff.header(format, ours), t = try KeyedDiff.header(format, theirs)
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

        /// Streams one side's rows as `Rec`s. CSV/TSV rows stay raw fields (hashed as bytes over the merged columns)
        /// until a row is needed whole; JSONL rows are parsed objects.
        func scan(_ source: ByteSource, side: String, _ body: (Rec) throws -> Void) throws {
            guard let columns else {
                try readRows(format, source, pointers: keyColumns) { r in
                    let (h1, h2) = hash(r)
                    try body(Rec(key: try key(r, side: side), h1: h1, h2: h2, bytes: [], ends: [], parsed: r))
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
                    if first { first = false; return }
                    let k =
                        keyIdx.count == 1
                        ? String(decoding: DelimitedSplitter.field(bytes, ends, keyIdx[0]), as: UTF8.self)
                        : keyIdx.map { String(decoding: DelimitedSplitter.field(bytes, ends, $0), as: UTF8.self) }.joined(separator: "\u{1F}")
                    let (h1, h2) = DelimitedSplitter.hashes(bytes, ends, map)
                    try body(Rec(key: k, h1: h1, h2: h2, bytes: bytes, ends: ends, parsed: nil))
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

        // Base: key → hash and spill position.
        try Posix.makeDirectories(scratch)
        let spillPath = scratch + "/base.rows"
        let fd = open(spillPath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", spillPath) }
        defer { close(fd); unlink(spillPath) }
        var index: [String: BaseEntry] = [:]
        index.reserveCapacity(Int(min(Int64(1 << 24), max(1024, options.baseBytes / 48))))
        var pending: [UInt8] = []
        var offset: Int64 = 0
        var duplicates: [String] = []
        try scan(base, side: "base") { r in
            let k = r.key
            let before = pending.count
            if let p = r.parsed { spill(p, into: &pending) } else { DelimitedSplitter.encode(r.bytes, r.ends, into: &pending) }
            let length = pending.count - before
            if index.updateValue(BaseEntry(h1: r.h1, h2: r.h2, offset: offset, length: Int32(length)), forKey: k) != nil {
                duplicates.append("base: " + k)
            }
            offset += Int64(length)
            if pending.count >= 1 << 20 { try Posix.writeAll(fd, pending, path: spillPath); pending.removeAll(keepingCapacity: true) }
        }
        try Posix.writeAll(fd, pending, path: spillPath)
        pending = []
        func baseRow(_ e: BaseEntry) throws -> MRow {
            var buf = [UInt8](repeating: 0, count: Int(e.length))
            _ = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: e.offset, path: spillPath) }
            if format == .jsonl { return try unspill(buf, format: format, pointers: keyColumns) }
            let fields = KeyedDiff.decode(buf), header = headers["base"] ?? []
            var values: [String: String] = [:]
            for (i, v) in fields.enumerated() { values[i < header.count ? header[i] : "#\(i + 1)"] = v }
            return MRow(values: values)
        }

        // Theirs: what they changed or added (in their order).
        var theirChanged: [String: MRow] = [:]
        var theirAdded: [String: MRow] = [:]
        var theirAddedOrder: [String] = []
        try scan(theirs, side: "theirs") { rec in
            let k = rec.key
            if let i = index.index(forKey: k) {
                let e = index.values[i]
                if e.seenTheirs { duplicates.append("theirs: " + k); return }
                index.values[i].seenTheirs = true
                if rec.h1 != e.h1 || rec.h2 != e.h2 { theirChanged[k] = row(rec, side: "theirs") }
            } else {
                if theirAdded.updateValue(row(rec, side: "theirs"), forKey: k) != nil { duplicates.append("theirs: " + k); return }
                theirAddedOrder.append(k)
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
        var ourAdded = Set<String>()
        var consumed = Set<String>()
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
        func write(_ r: MRow) throws {
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
        try scan(ours, side: "ours") { rec in
            let k = rec.key
            if let i = index.index(forKey: k) {
                let e = index.values[i]
                if e.seenOurs { duplicates.append("ours: " + k); return }
                index.values[i].seenOurs = true
                let oursChanged = rec.h1 != e.h1 || rec.h2 != e.h2
                lazy var o = row(rec, side: "ours")  // built only when the row must be merged or recorded
                if !e.seenTheirs {  // they removed it
                    if oursChanged {
                        try record("modify-delete", k, columns: [], base: try baseRow(e), ours: o, theirs: nil)
                        if strategy != .theirs { try writeOurs(rec) }
                    } else {
                        summary.removed += 1
                    }
                } else if let t = theirChanged[k] {
                    if !oursChanged {
                        try write(t); summary.fromTheirs += 1
                    } else {
                        let b = try baseRow(e)
                        let (merged, clashes) = cellMerge(base: b, ours: o, theirs: t, columns: columns, strategy: strategy)
                        if !clashes.isEmpty { try record("cell", k, columns: clashes, base: b, ours: o, theirs: t) }
                        if clashes.isEmpty || strategy != nil { summary.cellMerged += 1 }
                        try write(merged)
                    }
                } else {
                    try writeOurs(rec)
                }
            } else {
                if !ourAdded.insert(k).inserted { duplicates.append("ours: " + k); return }
                if let t = theirAdded[k] {
                    consumed.insert(k)
                    let o = row(rec, side: "ours")
                    let (merged, clashes) = cellMerge(base: nil, ours: o, theirs: t, columns: columns, strategy: strategy)
                    if !clashes.isEmpty { try record("add-add", k, columns: clashes, base: nil, ours: o, theirs: t) }
                    try write(merged)
                } else {
                    try writeOurs(rec)
                }
            }
        }
        try refuseDuplicates()
        // Rows we removed: fine unless they changed them.
        for (k, e) in index where !e.seenOurs {
            guard e.seenTheirs, let t = theirChanged[k] else { continue }
            try record("delete-modify", k, columns: [], base: try baseRow(e), ours: nil, theirs: t)
            if strategy == .theirs { try write(t) }
        }
        for k in theirAddedOrder where !consumed.contains(k) {
            try write(theirAdded[k]!)
            summary.appended += 1
        }
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
        let header = format == .jsonl ? nil : try KeyedDiff.header(format, source)
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

    /// A JSONL line as a row.
    static func jsonRow(_ line: [UInt8], line number: Int, pointers: [String]) throws -> MRow {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw TableError.malformed(line: number, reason: "not a JSON object")
        }
        var values: [String: String] = [:]
        for (k, v) in obj { values[k] = RowParser.canonical(v) }
        for p in pointers where p.hasPrefix("/") {
            var cur: Any? = obj
            for part in p.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
                let token = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                if let d = cur as? [String: Any] {
                    cur = d[token]
                } else if let a = cur as? [Any], let i = Int(token), i < a.count {
                    cur = a[i]
                } else {
                    cur = nil
                }
            }
            if let cur { values[p] = RowParser.canonical(cur) }
        }
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
