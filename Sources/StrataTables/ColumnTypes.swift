import Foundation

/// A column type of a text table (CSV, TSV, JSONL), declared (`--type score=decimal`, `types:` in Pipeline.swift) or
/// inferred from a sample of its values. A declared type decides when two cells of a keyed row hold the same value
/// (`1.50` and `1.5` as decimals, `TRUE` and `true` as booleans, `…T12:00:00+02:00` and `…T10:00:00Z` as
/// timestamps); a cell that does not parse as its type compares as text. Inferred types name type changes in the
/// schema diff.
public enum ColumnType: String, Sendable, Codable, CaseIterable {
    /// Text, compared byte for byte.
    case string
    /// A whole number (64-bit): `007` equals `7`.
    case integer
    /// An exact decimal number: `1.50` equals `1.5`; no rounding.
    case decimal
    /// A binary floating-point number: equal when the doubles are (`1e3` equals `1000`).
    case double
    /// `true`/`false` in any case, `t`/`f`, `yes`/`no`, `1`/`0`.
    case boolean
    /// An ISO 8601 calendar date, `YYYY-MM-DD`.
    case date
    /// An ISO 8601 date and time with an offset (`Z` or `±hh:mm`; none is UTC): the same instant is the same value.
    case timestamp

    /// The names `--type` accepts, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Parses a declaration such as `score=decimal,founded=integer` (or one `COLUMN=TYPE`).
    public static func parse(_ text: String) throws -> [String: ColumnType] {
        var out: [String: ColumnType] = [:]
        for item in text.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw TableError.invalid("a column type is given as COLUMN=TYPE, not '\(item)'")
            }
            guard let t = ColumnType(rawValue: parts[1].lowercased()) else {
                throw TableError.invalid("column '\(parts[0])' has the unknown type '\(parts[1])'; use one of \(names)")
            }
            out[parts[0]] = t
        }
        return out
    }

    /// The declaration's text form, `column=type,…` sorted by column.
    public static func text(_ types: [String: ColumnType]) -> String {
        types.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
    }

    /// Whether two cells hold the same value of this type (missing equals only missing).
    public func same(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        if a == b { return true }
        guard self != .string, let x = canonical(a), let y = canonical(b) else { return false }
        return x == y
    }

    /// The value a text stands for, as comparable text; nil when it does not parse.
    func canonical(_ raw: String) -> String? {
        let v = raw.trimmingCharacters(in: .whitespaces)
        switch self {
        case .string: return raw
        case .integer: return Int64(v.hasPrefix("+") ? String(v.dropFirst()) : v).map(String.init)
        case .decimal: return ColumnType.decimal(v)
        case .double: return Double(v).map { $0 == 0 ? "0" : "\($0)" }
        case .boolean:
            switch v.lowercased() {
            case "true", "t", "yes", "y", "1": return "true"
            case "false", "f", "no", "n", "0": return "false"
            default: return nil
            }
        case .date: return ColumnType.isDate(v) ? v : nil
        case .timestamp: return ColumnType.instant(v)
        }
    }

    /// `[+-]digits[.digits]` without leading or trailing zeros; nil for anything else.
    static func decimal(_ v: String) -> String? {
        var s = Substring(v)
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !s.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            !(parts[0].isEmpty && (parts.count == 1 || parts[1].isEmpty))
        else { return nil }
        var whole = parts[0].drop { $0 == "0" }
        var fraction = parts.count == 2 ? parts[1] : ""
        while fraction.last == "0" { fraction = fraction.dropLast() }
        if whole.isEmpty { whole = "0" }
        let text = fraction.isEmpty ? String(whole) : whole + "." + fraction
        return (negative && text != "0" ? "-" : "") + text
    }

    static func isDate(_ v: String) -> Bool {
        let u = Array(v.utf8)
        guard u.count == 10, u[4] == 45, u[7] == 45 else { return false }
        for i in [0, 1, 2, 3, 5, 6, 8, 9] where !(48...57).contains(u[i]) { return false }
        let month = Int(u[5] - 48) * 10 + Int(u[6] - 48), day = Int(u[8] - 48) * 10 + Int(u[9] - 48)
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// An ISO 8601 date-time as UTC seconds and fraction (`YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm]`, `T` or a space).
    static func instant(_ v: String) -> String? {
        let u = Array(v.utf8)
        guard u.count >= 19, isDate(String(decoding: u[0..<10], as: UTF8.self)), u[10] == 84 || u[10] == 32, u[13] == 58, u[16] == 58 else {
            return nil
        }
        func two(_ i: Int) -> Int? { (48...57).contains(u[i]) && (48...57).contains(u[i + 1]) ? Int(u[i] - 48) * 10 + Int(u[i + 1] - 48) : nil }
        guard let h = two(11), let m = two(14), let s = two(17), h < 24, m < 60, s < 61 else { return nil }
        var i = 19
        var fraction = ""
        if i < u.count, u[i] == 46 {
            i += 1
            while i < u.count, (48...57).contains(u[i]) { fraction.append(Character(UnicodeScalar(u[i]))); i += 1 }
            while fraction.last == "0" { fraction.removeLast() }
        }
        var offset = 0
        if i < u.count {
            if u[i] == 90 && i + 1 == u.count {
                i += 1
            } else if u[i] == 43 || u[i] == 45, u.count == i + 6, u[i + 3] == 58, let oh = two(i + 1), let om = two(i + 4) {
                offset = (oh * 60 + om) * 60 * (u[i] == 45 ? -1 : 1)
                i += 6
            } else {
                return nil
            }
        }
        var c = DateComponents()
        c.year = Int(String(decoding: u[0..<4], as: UTF8.self))
        c.month = two(5); c.day = two(8); c.hour = h; c.minute = m; c.second = s
        c.timeZone = TimeZone(identifier: "UTC")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: c) else { return nil }
        return String(Int64(date.timeIntervalSince1970) - Int64(offset)) + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// The narrowest type every text fits (booleans, integers, decimals, doubles, dates, timestamps, else string).
    static func kind(of v: String) -> ColumnType {
        switch v.lowercased() {
        case "true", "false": return .boolean
        default: break
        }
        if Int64(v) != nil { return .integer }
        if decimal(v) != nil { return .decimal }
        if let d = Double(v), d.isFinite, v.contains(where: { $0 == "e" || $0 == "E" }) { return .double }
        if isDate(v) { return .date }
        if instant(v) != nil { return .timestamp }
        return .string
    }

    /// The type two kinds widen to: integers into decimals into doubles, dates into timestamps, else string.
    static func widen(_ a: ColumnType, _ b: ColumnType) -> ColumnType {
        if a == b { return a }
        let numbers: [ColumnType] = [.integer, .decimal, .double]
        if let i = numbers.firstIndex(of: a), let j = numbers.firstIndex(of: b) { return numbers[max(i, j)] }
        if Set([a, b]) == [.date, .timestamp] { return .timestamp }
        return .string
    }
}

/// Infers column types from the first rows of one side of a diff (1,000 by default): per column the narrowest type
/// all its non-empty sample values fit.
struct TypeSample {
    var remaining: Int
    var types: [String: ColumnType] = [:]

    init(rows: Int = 1000) { remaining = rows }

    /// Looks at one row (name → text) while the sample lasts.
    mutating func add(_ row: Row) {
        guard remaining > 0 else { return }
        remaining -= 1
        for (column, value) in row where !value.isEmpty {
            let k = ColumnType.kind(of: value)
            types[column] = types[column].map { ColumnType.widen($0, k) } ?? k
        }
    }

    /// Type changes between two samples (`column: old -> new (inferred)`) for shared columns that are not declared.
    static func changes(_ a: [String: ColumnType], _ b: [String: ColumnType], columns: [String], declared: [String: ColumnType]) -> [String] {
        columns.compactMap { c in
            guard declared[c] == nil, let x = a[c], let y = b[c], x != y else { return nil }
            return "\(c): \(x.rawValue) -> \(y.rawValue) (inferred)"
        }
    }
}
