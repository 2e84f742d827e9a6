import Foundation
import StrataPlatform

/// Failures of table operations, naming the table, column or line, with a next step.
public enum TableError: StrataError {
    /// A line or record that does not parse.
    case malformed(line: Int, reason: String)
    /// A key column the table does not have.
    case keyNotFound(column: String, table: String)
    /// Duplicate keys with `--strict-keys`.
    case duplicateKeys(table: String, count: Int, examples: [String])
    /// A path that is not a table Strata can read.
    case notATable(String)
    /// A bad declaration or argument.
    case invalid(String)
    /// A Delta table whose log strata cannot replay (the folder, and why).
    case delta(String, String)
    /// An Iceberg table whose metadata strata cannot read (the folder, and why).
    case iceberg(String, String)

    public var code: String {
        switch self {
        case .delta: "table.delta-unsupported"
        case .iceberg: "table.iceberg-unsupported"
        case .malformed: "table.malformed"
        case .keyNotFound: "table.key-not-found"
        case .duplicateKeys: "table.duplicate-keys"
        case .notATable: "table.unsupported"
        case .invalid: "table.invalid"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .malformed, .duplicateKeys: .integrity
        case .keyNotFound, .notATable: .notFound
        case .invalid, .delta, .iceberg: .usage
        }
    }
    public var message: String {
        switch self {
        case .malformed(let l, let r): "line \(l) of the table does not parse: \(r)"
        case .keyNotFound(let c, let t): "key column '\(c)' is not in the header of \(t)"
        case .duplicateKeys(let t, let n, let ex): "\(t) has \(n) duplicated key\(n == 1 ? "" : "s") (e.g. \(ex.prefix(3).joined(separator: "; ")))"
        case .notATable(let p): "'\(p)' is not a table file strata can read (csv, tsv, jsonl, parquet), nor a Delta or Iceberg table folder"
        case .invalid(let m): m
        case .delta(let p, let why): "the Delta table \(p) cannot be read: \(why)"
        case .iceberg(let p, let why): "the Iceberg table \(p) cannot be read: \(why)"
        }
    }
    public var nextStep: String? {
        switch self {
        case .malformed: "fix the file, or diff it by file with 'strata diff'"
        case .keyNotFound: "give the right key with --key, or declare it: strata table add PATH --key COLUMN"
        case .duplicateKeys: "make the key unique, or drop --strict-keys to diff those rows as multisets"
        case .notATable:
            "declare its format with 'strata table add PATH --format csv|tsv|jsonl|parquet'; a Delta or Iceberg folder is diffed by 'strata table diff A B FOLDER'"
        case .invalid: nil
        case .delta, .iceberg: "compare it by file with 'strata diff'"
        }
    }
}

/// Streams a table's bytes to a sink (a file of a commit, or the workspace's).
public typealias ByteSource = ((UnsafeRawBufferPointer) throws -> Void) throws -> Void

/// How to diff two versions of a table.
public struct TableDiffOptions: Sendable {
    /// Key columns (names, or JSON pointers for JSONL); empty: keyless (rows compared as multisets).
    public var key: [String] = []
    /// Memory the row sets may take before they are partitioned to spill files.
    public var memoryBudget: Int = 256 << 20
    /// Duplicate keys are an error instead of being diffed as multisets.
    public var strictKeys = false
    /// Declared column types (CSV, TSV, JSONL): they decide when two cells of a keyed row are equal.
    public var types: [String: ColumnType] = [:]
    /// Whether two cells of `column` hold the same value (by its declared type; else as text).
    func same(_ column: String, _ a: String?, _ b: String?) -> Bool {
        guard let t = types[column] else { return a == b }
        return t.same(a, b)
    }
    /// Creates default options.
    public init() {}
}

/// One changed row. JSON Lines form: `{"op", "key", "before", "after", "changed", "duplicate_key"}`.
public struct RowChange: Sendable, Codable, Equatable {
    /// What happened to the row.
    public enum Op: String, Sendable, Codable { case added, removed, modified }
    /// What happened.
    public var op: Op
    /// The key columns' values (nil for a keyless table).
    public var key: [String: String]?
    /// The row before (removed, modified).
    public var before: Row?
    /// The row after (added, modified).
    public var after: Row?
    /// Columns whose value changed (modified).
    public var changed: [String]?
    /// The row's key is duplicated on one side; its group was diffed as a multiset.
    public var duplicateKey: Bool?

    enum CodingKeys: String, CodingKey {
        case op, key, before, after, changed
        case duplicateKey = "duplicate_key"
    }
}

/// How the columns changed.
public struct SchemaDiff: Sendable, Codable, Equatable {
    /// Columns before and after, in order.
    public var before: [String] = []
    /// Columns after.
    public var after: [String] = []
    /// Columns only after (renames excluded).
    public var added: [String] = []
    /// Columns only before (renames excluded).
    public var removed: [String] = []
    /// Renames shown by evidence: a column removed and one added at the same position with identical values in every
    /// paired row.
    public var renamed: [[String]] = []
    /// The shared columns changed order.
    public var reordered = false
    /// Shared columns whose type changed (`name: old -> new`): the types of formats that carry them (Parquet, Delta),
    /// else types inferred from a sample of each side (`name: integer -> string (inferred)`) for undeclared columns.
    public var retyped: [String] = []
    /// True when nothing changed.
    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && renamed.isEmpty && !reordered && retyped.isEmpty }
}

/// Counts of a table diff.
public struct TableDiffSummary: Sendable, Codable, Equatable {
    /// Schema changes.
    public var schema = SchemaDiff()
    /// Rows added, removed, modified and unchanged.
    public var added = 0, removed = 0, modified = 0, unchanged = 0
    /// Changed values per column (modified rows).
    public var columns: [String: Int] = [:]
    /// Keys found more than once on either side, and a few of them.
    public var duplicateKeys = 0
    /// Example duplicated keys.
    public var duplicateExamples: [String] = []
    /// Partitions the rows were spilled to (1: all in memory).
    public var partitions = 1
    /// Chunks both versions share, skipped without being parsed (record-aligned chunk lists), and their bytes. The
    /// rows in them are unchanged but not counted in `unchanged`.
    public var identicalChunks = 0
    /// Bytes of those chunks.
    public var identicalBytes: Int64 = 0
    /// Where the rows of a Delta table's diff came from: `change data feed` or `changed data files` (nil for a file).
    public var source: String?
    /// True when no row changed and the schema did not.
    public var isEmpty: Bool { added == 0 && removed == 0 && modified == 0 && schema.isEmpty }

    enum CodingKeys: String, CodingKey {
        case schema, added, removed, modified, unchanged, columns
        case duplicateKeys = "duplicate_keys"
        case duplicateExamples = "duplicate_examples"
        case partitions
        case identicalChunks = "identical_chunks"
        case identicalBytes = "identical_bytes"
        case source
    }
}

/// Row-level diff of two versions of a table, in bounded memory: rows are hash-partitioned by key into spill files
/// when both sides would not fit the budget, and each partition is joined on its own. Keyed rows are paired by key;
/// a key present more than once on a side makes its group a multiset diff (never paired by position), flagged;
/// keyless tables are multisets of rows (Dolt's semantics). Changes come out sorted by key within each partition.
public enum TableDiffer {
    /// Memory a row takes in the join, roughly, per byte of its text (dictionary and string overhead).
    static let overhead: Int64 = 8

    /// Diffs `a` against `b` (both `format`); `sizeHint` is their total size in bytes (it sets the partition count).
    public static func diff(
        format: TableFormat, a: ByteSource, b: ByteSource, sizeHint: Int64, options: TableDiffOptions, scratch: String, table: String,
        emit: (RowChange) throws -> Void
    ) throws -> TableDiffSummary {
        // Unique keys of a delimited table that fits the budget (about 80 bytes per row, roughly one per 60-100
        // bytes of text): the fast keyed diff. It gives up before emitting anything when a key repeats.
        if (format == .csv || format == .tsv) && !options.key.isEmpty && !options.strictKeys && sizeHint <= Int64(options.memoryBudget) {
            do {
                return try KeyedDiff.diff(format: format, a: a, b: b, sizeHint: sizeHint, options: options, scratch: scratch, table: table, emit: emit)
            } catch is KeyedDiff.Unsuitable {}
        }
        return try withoutActuallyEscaping(a) { a in
            try withoutActuallyEscaping(b) { b in
                try diff(
                    rowsA: rows(format, a, options), rowsB: rows(format, b, options), sizeHint: sizeHint, options: options, scratch: scratch,
                    table: table, emit: emit)
            }
        }
    }

    /// Rows from somewhere else than one file's bytes (the changed data files of a Delta table): each source emits its
    /// rows and returns its columns. Always the general, partitioned diff.
    public typealias RowSource = (_ emit: (Row) throws -> Void) throws -> (columns: [String], types: [String: String])

    /// The partitioned diff of two row sources under the memory budget.
    public static func diff(
        rowsA: RowSource, rowsB: RowSource, sizeHint: Int64, options: TableDiffOptions, scratch: String, table: String,
        emit: (RowChange) throws -> Void
    ) throws -> TableDiffSummary {
        // The budget is for the whole process: the binary, the verified object stream and the spill buffers take about
        // 60 MB of it (measured on the 1 GB table: 331 MB peak under a 256 MB budget before this was subtracted).
        let whole = Int64(max(1 << 20, options.memoryBudget))
        let need = sizeHint * overhead, budget = whole > 128 << 20 ? whole - (64 << 20) : whole / 2
        let parts = need <= budget ? 1 : Int(need / budget) + 1
        var summary = TableDiffSummary()
        summary.partitions = parts
        let spillA = try Spill(parts: parts, dir: scratch, side: "a"), spillB = try Spill(parts: parts, dir: scratch, side: "b")
        defer { spillA.remove(); spillB.remove() }
        var sampleA = TypeSample(), sampleB = TypeSample()
        let (colsA, typesA) = try load(rowsA, options, table, into: spillA, sample: &sampleA)
        let (colsB, typesB) = try load(rowsB, options, table, into: spillB, sample: &sampleB)
        summary.schema = schemaDiff(colsA, colsB, keyless: options.key.isEmpty)
        summary.schema.retyped = colsB.compactMap { c in
            guard let a = typesA[c], let b = typesB[c], a != b else { return nil }
            return "\(c): \(a) -> \(b)"
        }
        // Text formats carry no types: a type change is inferred from a sample of each side, unless declared.
        if typesA.isEmpty && typesB.isEmpty {
            summary.schema.retyped = TypeSample.changes(sampleA.types, sampleB.types, columns: colsB, declared: options.types)
        }
        let shared = colsA.filter { colsB.contains($0) }
        let candidates = renameCandidates(colsA, colsB)
        var candidateEqual = Array(repeating: true, count: candidates.count)
        var candidatePaired = Array(repeating: false, count: candidates.count)
        for p in 0..<parts {
            let groupsA = try spillA.read(p), groupsB = try spillB.read(p)
            for key in Set(groupsA.keys).union(groupsB.keys).sorted() {
                let ra = groupsA[key] ?? [], rb = groupsB[key] ?? []
                if options.key.isEmpty {
                    let same = min(ra.count, rb.count)
                    summary.unchanged += same
                    for r in ra.dropFirst(same) { summary.removed += 1; try emit(RowChange(op: .removed, before: r)) }
                    for r in rb.dropFirst(same) { summary.added += 1; try emit(RowChange(op: .added, after: r)) }
                    continue
                }
                let keyValues = Dictionary(uniqueKeysWithValues: options.key.map { ($0, (ra.first ?? rb.first)?[$0] ?? "") })
                if ra.count <= 1 && rb.count <= 1 {
                    switch (ra.first, rb.first) {
                    case (let x?, let y?):
                        for (i, c) in candidates.enumerated() {
                            candidatePaired[i] = true
                            if x[c.0] != y[c.1] { candidateEqual[i] = false }
                        }
                        let changed = shared.filter { !options.same($0, x[$0], y[$0]) }
                        if changed.isEmpty {
                            summary.unchanged += 1
                        } else {
                            summary.modified += 1
                            for c in changed { summary.columns[c, default: 0] += 1 }
                            try emit(RowChange(op: .modified, key: keyValues, before: x, after: y, changed: changed))
                        }
                    case (let x?, nil): summary.removed += 1; try emit(RowChange(op: .removed, key: keyValues, before: x))
                    case (nil, let y?): summary.added += 1; try emit(RowChange(op: .added, key: keyValues, after: y))
                    default: break
                    }
                    continue
                }
                // A duplicated key: the group is a multiset; equal rows cancel, the rest are removed or added.
                summary.duplicateKeys += 1
                if summary.duplicateExamples.count < 5 {
                    summary.duplicateExamples.append(options.key.map { "\($0)=\(keyValues[$0] ?? "")" }.joined(separator: ","))
                }
                if options.strictKeys { continue }
                var left = rb.map { identity($0, shared) }
                var unmatchedB = rb
                for r in ra {
                    let id = identity(r, shared)
                    if let j = left.firstIndex(of: id) {
                        left.remove(at: j); unmatchedB.remove(at: j); summary.unchanged += 1
                    } else {
                        summary.removed += 1; try emit(RowChange(op: .removed, key: keyValues, before: r, duplicateKey: true))
                    }
                }
                for r in unmatchedB { summary.added += 1; try emit(RowChange(op: .added, key: keyValues, after: r, duplicateKey: true)) }
            }
        }
        if options.strictKeys && summary.duplicateKeys > 0 {
            throw TableError.duplicateKeys(table: table, count: summary.duplicateKeys, examples: summary.duplicateExamples)
        }
        for (i, c) in candidates.enumerated() where candidateEqual[i] && candidatePaired[i] {
            summary.schema.renamed.append([c.0, c.1])
            summary.schema.added.removeAll { $0 == c.1 }
            summary.schema.removed.removeAll { $0 == c.0 }
        }
        return summary
    }

    /// What pairs rows: the key columns' values in key order, or for a keyless table every `column=value`.
    static func rowKey(_ row: Row, key: [String]) -> String {
        key.isEmpty
            ? row.keys.sorted().map { $0 + "=" + row[$0]! }.joined(separator: "\u{1F}") : key.map { row[$0] ?? "" }.joined(separator: "\u{1F}")
    }

    /// A row's identity over `columns` (multiset comparisons).
    static func identity(_ r: Row, _ columns: [String]) -> String {
        columns.map { r[$0] ?? "\u{0}" }.joined(separator: "\u{1F}")
    }

    /// The rows of one file's bytes in `format`; returns its columns.
    static func rows(_ format: TableFormat, _ source: @escaping ByteSource, _ options: TableDiffOptions) -> RowSource {
        { emit in
            var parser = RowParser(format: format, pointers: options.key)
            try source { bytes in try parser.feed(bytes, emit) }
            try parser.finish(emit)
            return (parser.columns, parser.types)
        }
    }

    /// Loads one side into the spill, checking the key columns; returns its columns.
    static func load(_ rows: RowSource, _ options: TableDiffOptions, _ table: String, into spill: Spill, sample: inout TypeSample) throws -> (
        [String], [String: String]
    ) {
        var checked = false
        var sampled = sample
        defer { sample = sampled }
        let (columns, types) = try rows { row in
            sampled.add(row)
            if !checked {
                checked = true
                for k in options.key where row[k] == nil { throw TableError.keyNotFound(column: k, table: table) }
            }
            try spill.add(key: rowKey(row, key: options.key), row: row)
        }
        if !checked {
            for k in options.key where !columns.contains(k) && !columns.isEmpty && !k.hasPrefix("/") { throw TableError.keyNotFound(column: k, table: table) }
        }
        return (columns, types)
    }

    static func schemaDiff(_ a: [String], _ b: [String], keyless: Bool) -> SchemaDiff {
        var s = SchemaDiff(before: a, after: b)
        s.added = b.filter { !a.contains($0) }
        s.removed = a.filter { !b.contains($0) }
        let sharedA = a.filter { b.contains($0) }, sharedB = b.filter { a.contains($0) }
        s.reordered = sharedA != sharedB
        return s
    }

    /// Pairs (removed, added) at the same position: renames, if every paired row agrees.
    static func renameCandidates(_ a: [String], _ b: [String]) -> [(String, String)] {
        var out: [(String, String)] = []
        for (i, c) in a.enumerated() where !b.contains(c) && i < b.count && !a.contains(b[i]) { out.append((c, b[i])) }
        return out
    }
}

/// Rows grouped by key, in memory (one partition) or in per-partition spill files.
final class Spill {
    let parts: Int
    let dir: String
    let side: String
    var memory: [String: [Row]] = [:]
    var files: [Int32] = []

    init(parts: Int, dir: String, side: String) throws {
        self.parts = parts; self.dir = dir; self.side = side
        if parts > 1 {
            try Posix.makeDirectories(dir)
            for p in 0..<parts {
                let path = "\(dir)/\(side)-\(p).rows"
                let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                if fd < 0 { throw PosixError("create", path) }
                files.append(fd)
            }
        }
    }

    static func partition(_ key: String, _ parts: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(parts))
    }

    static func put(_ s: String, _ out: inout [UInt8]) {
        let u = Array(s.utf8)
        for k in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: u.count >> k)) }
        out += u
    }

    func add(key: String, row: Row) throws {
        if parts == 1 { memory[key, default: []].append(row); return }
        var out: [UInt8] = []
        Spill.put(key, &out)
        for k in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: row.count >> k)) }
        for (c, v) in row { Spill.put(c, &out); Spill.put(v, &out) }
        let p = Spill.partition(key, parts)
        try Posix.writeAll(files[p], out, path: "\(dir)/\(side)-\(p).rows")
    }

    /// The rows of partition `p`, grouped by key.
    func read(_ p: Int) throws -> [String: [Row]] {
        if parts == 1 { return memory }
        let path = "\(dir)/\(side)-\(p).rows"
        let bytes = try Posix.readFile(path)
        var i = 0
        func int() -> Int {
            defer { i += 4 }
            return Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        }
        func str() -> String {
            let n = int()
            defer { i += n }
            return String(decoding: bytes[i..<i + n], as: UTF8.self)
        }
        var out: [String: [Row]] = [:]
        while i < bytes.count {
            let key = str()
            let n = int()
            var row: Row = [:]
            for _ in 0..<n { let c = str(); row[c] = str() }
            out[key, default: []].append(row)
        }
        return out
    }

    func remove() {
        for (p, fd) in files.enumerated() { close(fd); unlink("\(dir)/\(side)-\(p).rows") }
        files = []
        _ = Posix.rmdir(dir)
    }
}
