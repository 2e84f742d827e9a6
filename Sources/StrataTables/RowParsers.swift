import Foundation
import StrataPlatform

/// A table's on-disk format, as declared or guessed from its extension.
public enum TableFormat: String, Sendable, Codable, CaseIterable {
    /// RFC 4180 comma-separated values with a header row.
    case csv
    /// Tab-separated values with a header row (quotes honoured as in CSV).
    case tsv
    /// One JSON object per line; columns are the objects' top-level keys.
    case jsonl
    /// Apache Parquet (flat schemas): read row group by row group from a spooled copy.
    case parquet
    /// A Delta Lake table folder (found by its `_delta_log/` anyway; declaring one gives it a key and a description).
    case delta
    /// An Apache Iceberg table folder (found by its `metadata/*.metadata.json` anyway; declared for its key).
    case iceberg

    /// Whether the table is a folder (Delta, Iceberg) rather than one file of rows.
    public var isFolder: Bool { self == .delta || self == .iceberg }

    /// The format a path's extension suggests, if any.
    public static func guess(_ path: String) -> TableFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return .tsv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
        if lower.hasSuffix(".parquet") { return .parquet }
        return nil
    }
}

/// A row: values by column name (columns a row lacks are absent).
public typealias Row = [String: String]

/// A push parser: bytes go in as they are read (any split), complete rows come out. The first record of a delimited
/// file is its header; a UTF-8 byte order mark is skipped; CRLF and LF both end records; quoted fields may hold
/// separators, quotes (doubled) and line breaks.
public struct RowParser {
    let format: TableFormat
    /// The header (delimited formats), or every key seen so far in order of appearance (JSONL).
    public private(set) var columns: [String] = []
    /// The record splitter (CSV and TSV), shared with the fast keyed diff.
    var splitter: DelimitedSplitter
    var line: [UInt8] = []
    var lineNumber = 0
    /// JSON pointers (`/org/id`) resolved into columns of that name (JSONL keys on nested values).
    let pointers: [String]
    /// Column types, for formats that declare them (Parquet): name → type (`int64`, `string`, `date`, `decimal(9,2)`…).
    public private(set) var types: [String: String] = [:]
    /// Parquet: the bytes are spooled to this file (its footer comes last), then read with pread.
    var spool: (fd: Int32, path: String)?

    /// A parser for `format`; `pointers` are JSON pointers to resolve for JSONL (e.g. nested key columns).
    public init(format: TableFormat, pointers: [String] = []) {
        self.format = format
        self.pointers = pointers.filter { $0.hasPrefix("/") }
        splitter = DelimitedSplitter(format: format)
    }

    /// Feeds bytes; `emit` receives every row completed by them.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Row) throws -> Void) throws {
        if format == .parquet {
            if spool == nil {
                let path = NSTemporaryDirectory() + "strata-parquet-" + Posix.randomHex(8)
                let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if fd < 0 { throw PosixError("create", path) }
                spool = (fd, path)
            }
            try Posix.writeAll(spool!.fd, bytes, path: spool!.path)
            return
        }
        var i = 0
        if format == .jsonl {
            while i < bytes.count {
                if let nl = (i..<bytes.count).first(where: { bytes[$0] == 10 }) {
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<nl]))
                    try endLine(emit)
                    i = nl + 1
                } else {
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i...])); i = bytes.count
                }
            }
            return
        }
        // The splitter is taken out while it runs, as `endRecord` updates `columns` on this same value.
        var split = DelimitedSplitter(format: format)
        swap(&split, &splitter)
        defer { swap(&split, &splitter) }
        try split.feed(bytes) { b, ends in try endRecord(b, ends, emit) }
    }

    /// Ends the input: a last record without a line break is emitted.
    public mutating func finish(_ emit: (Row) throws -> Void) throws {
        if format == .parquet {
            guard let s = spool else { return }  // no bytes: an absent table
            spool = nil
            defer { close(s.fd); unlink(s.path) }
            let reader = try ParquetReader(path: s.path)
            defer { reader.closeFile() }
            columns = reader.columns.map(\.name)
            types = Dictionary(reader.columns.map { ($0.name, $0.typeName) }, uniquingKeysWith: { a, _ in a })
            try reader.rows(emit)
            return
        }
        if format == .jsonl {
            if !line.isEmpty { try endLine(emit) }
            return
        }
        // The splitter is taken out while it runs, as `endRecord` updates `columns` on this same value.
        var split = DelimitedSplitter(format: format)
        swap(&split, &splitter)
        defer { swap(&split, &splitter) }
        try split.finish { b, ends in try endRecord(b, ends, emit) }
    }

    mutating func endRecord(_ bytes: [UInt8], _ ends: [Int], _ emit: (Row) throws -> Void) throws {
        if columns.isEmpty {
            columns = ends.indices.map { String(decoding: DelimitedSplitter.field(bytes, ends, $0), as: UTF8.self) }
            return
        }
        var row: Row = [:]
        row.reserveCapacity(ends.count)
        for i in ends.indices {
            let name = i < columns.count ? columns[i] : "#\(i + 1)"  // extra fields keep a positional name
            row[name] = String(decoding: DelimitedSplitter.field(bytes, ends, i), as: UTF8.self)
        }
        try emit(row)
    }

    mutating func endLine(_ emit: (Row) throws -> Void) throws {
        lineNumber += 1
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == 13 { line.removeLast() }
        if lineNumber == 1 && line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        if line.allSatisfy({ $0 == 32 || $0 == 9 }) { return }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw TableError.malformed(line: lineNumber, reason: "not a JSON object")
        }
        var row: Row = [:]
        for k in obj.keys.sorted() {
            if !columns.contains(k) { columns.append(k) }
            row[k] = RowParser.canonical(obj[k]!)
        }
        for p in pointers { if let v = RowParser.resolve(p, in: obj) { row[p] = RowParser.canonical(v) } }
        try emit(row)
    }

    /// The value a JSON pointer (RFC 6901, `/org/id`) names in an object, if any.
    static func resolve(_ pointer: String, in obj: [String: Any]) -> Any? {
        var cur: Any? = obj
        for part in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let d = cur as? [String: Any] {
                cur = d[token]
            } else if let a = cur as? [Any], let i = Int(token), i < a.count {
                cur = a[i]
            } else {
                cur = nil
            }
        }
        return cur
    }

    /// A JSON value as compact text with sorted keys (strings as they are, unquoted).
    static func canonical(_ v: Any) -> String {
        if let s = v as? String { return s }
        if v is NSNull { return "null" }
        if let d = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) {
            return String(decoding: d, as: UTF8.self)
        }
        return "\(v)"
    }
}
