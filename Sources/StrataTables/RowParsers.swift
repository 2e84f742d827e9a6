import Foundation

/// A table's on-disk format, as declared or guessed from its extension.
public enum TableFormat: String, Sendable, Codable, CaseIterable {
    /// RFC 4180 comma-separated values with a header row.
    case csv
    /// Tab-separated values with a header row (quotes honoured as in CSV).
    case tsv
    /// One JSON object per line; columns are the objects' top-level keys.
    case jsonl

    /// The format a path's extension suggests, if any.
    public static func guess(_ path: String) -> TableFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return .tsv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl }
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
    let separator: UInt8
    /// The header (delimited formats), or every key seen so far in order of appearance (JSONL).
    public private(set) var columns: [String] = []
    var field: [UInt8] = []
    var record: [String] = []
    var quoted = false, wasQuoted = false, quotePending = false, crPending = false
    var line: [UInt8] = []
    var lineNumber = 0
    /// JSON pointers (`/org/id`) resolved into columns of that name (JSONL keys on nested values).
    let pointers: [String]

    /// A parser for `format`; `pointers` are JSON pointers to resolve for JSONL (e.g. nested key columns).
    public init(format: TableFormat, pointers: [String] = []) {
        self.format = format
        self.pointers = pointers.filter { $0.hasPrefix("/") }
        separator = format == .tsv ? 9 : UInt8(ascii: ",")
    }

    /// Feeds bytes; `emit` receives every row completed by them.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Row) throws -> Void) throws {
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
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if crPending {
                crPending = false
                if c == 10 { continue }
            }
            if quotePending {
                quotePending = false
                if c == UInt8(ascii: "\"") { field.append(c); continue }
                quoted = false
            }
            if quoted {
                if c == UInt8(ascii: "\"") { quotePending = true } else { field.append(c) }
                continue
            }
            switch c {
            case UInt8(ascii: "\""):
                if field.isEmpty && !wasQuoted { quoted = true; wasQuoted = true } else { field.append(c) }
            case separator:
                endField()
            case 13:
                endField(); try endRecord(emit); crPending = true
            case 10:
                endField(); try endRecord(emit)
            default:
                field.append(c)
            }
        }
    }

    /// Ends the input: a last record without a line break is emitted.
    public mutating func finish(_ emit: (Row) throws -> Void) throws {
        if format == .jsonl {
            if !line.isEmpty { try endLine(emit) }
            return
        }
        if quotePending { quotePending = false; quoted = false }
        if !field.isEmpty || !record.isEmpty || wasQuoted {
            endField(); try endRecord(emit)
        }
    }

    mutating func endField() {
        record.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true); wasQuoted = false
    }

    mutating func endRecord(_ emit: (Row) throws -> Void) throws {
        defer { record.removeAll(keepingCapacity: true) }
        if record.count == 1 && record[0].isEmpty { return }  // a blank line
        if columns.isEmpty {
            columns = record
            if let first = columns.first, first.hasPrefix("\u{FEFF}") { columns[0] = String(first.dropFirst()) }  // a byte order mark
            return
        }
        var row: Row = [:]
        row.reserveCapacity(record.count)
        for (i, v) in record.enumerated() {
            let name = i < columns.count ? columns[i] : "#\(i + 1)"  // extra fields keep a positional name
            row[name] = v
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
        for p in pointers {
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
            if let cur { row[p] = RowParser.canonical(cur) }
        }
        try emit(row)
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
