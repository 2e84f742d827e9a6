import Foundation
import StrataPlatform

/// Thrift compact protocol output, for Parquet's footer and page headers.
struct ThriftWriter {
    var out: [UInt8] = []
    var lastField: [Int16] = [0]

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func field(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            out.append(UInt8(delta) << 4 | type)
        } else {
            out.append(type)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }
    mutating func i32(_ id: Int16, _ v: Int64) { field(id, 5); zigzag(v) }
    mutating func i64(_ id: Int16, _ v: Int64) { field(id, 6); zigzag(v) }
    mutating func byte(_ id: Int16, _ v: Int8) { field(id, 3); out.append(UInt8(bitPattern: v)) }
    mutating func bool(_ id: Int16, _ v: Bool) { field(id, v ? 1 : 2) }
    mutating func binary(_ id: Int16, _ b: [UInt8]) { field(id, 8); varint(UInt64(b.count)); out += b }
    mutating func string(_ id: Int16, _ s: String) { binary(id, Array(s.utf8)) }
    mutating func beginStruct(_ id: Int16) { field(id, 12); lastField.append(0) }
    mutating func endStruct() { out.append(0); lastField.removeLast() }
    /// A list header; the elements follow (structs: `beginElement`/`endStruct`).
    mutating func list(_ id: Int16, _ elementType: UInt8, count: Int) {
        field(id, 9)
        if count < 15 { out.append(UInt8(count) << 4 | elementType) } else { out.append(0xF0 | elementType); varint(UInt64(count)) }
    }
    mutating func beginElement() { lastField.append(0) }
}

/// Writes a flat Parquet file as it goes: the given columns (their physical and logical types as read), every column
/// optional, PLAIN values with RLE/bit-packed definition levels in uncompressed v1 data pages, a row group per
/// `rowsPerGroup` rows; the footer comes last. Values arrive as the text the reader renders (dates, timestamps and
/// decimals included) and are turned back into their physical form; one that does not fit its column's type is an
/// error naming both.
struct ParquetWriter {
    /// A value or column this writer cannot write.
    struct Unwritable: Error { var reason: String }

    let columns: [ParquetReader.Column]
    let rowsPerGroup: Int
    var pending: [[String?]]
    var groups: [(columns: [(offset: Int64, size: Int64, values: Int64)], rows: Int64, bytes: Int64)] = []
    var offset: Int64 = 0
    var totalRows: Int64 = 0

    init(columns: [ParquetReader.Column], rowsPerGroup: Int = 65_536) throws {
        for c in columns {
            switch c.type {
            case 0, 1, 2, 4, 5, 6: break
            case 7 where c.isDecimal && (1...8).contains(c.typeLength): break  // decimals up to 18 digits
            default: throw Unwritable(reason: "column '\(c.name)' is \(c.typeName), which strata cannot write to Parquet yet")
            }
        }
        self.columns = columns
        self.rowsPerGroup = rowsPerGroup
        pending = Array(repeating: [], count: columns.count)
    }

    /// The file's first bytes.
    mutating func start(into out: inout [UInt8]) {
        out += Array("PAR1".utf8)
        offset = 4
    }

    /// Adds a row (values by column name; a missing one is null).
    mutating func add(_ row: [String: String], into out: inout [UInt8]) throws {
        for (i, c) in columns.enumerated() { pending[i].append(row[c.name]) }
        if pending[0].count >= rowsPerGroup { try flush(into: &out) }
    }

    /// Writes the buffered rows as one row group.
    mutating func flush(into out: inout [UInt8]) throws {
        let n = pending.first?.count ?? 0
        guard n > 0 else { return }
        var chunks: [(offset: Int64, size: Int64, values: Int64)] = []
        var groupBytes: Int64 = 0
        for (i, c) in columns.enumerated() {
            let values = pending[i]
            var body: [UInt8] = []
            // Definition levels (bit width 1): one bit-packed run, 4-byte length first.
            var levels: [UInt8] = []
            var header = ThriftWriter()
            header.varint(UInt64(((n + 7) / 8) << 1 | 1))
            levels += header.out
            var packed = [UInt8](repeating: 0, count: (n + 7) / 8)
            for (k, v) in values.enumerated() where v != nil { packed[k / 8] |= 1 << UInt8(k % 8) }
            levels += packed
            withUnsafeBytes(of: UInt32(levels.count).littleEndian) { body += $0 }
            body += levels
            try encode(values.compactMap { $0 }, c, into: &body)
            var page = ThriftWriter()
            page.i32(1, 0)  // DATA_PAGE
            page.i32(2, Int64(body.count))
            page.i32(3, Int64(body.count))
            page.beginStruct(5)
            page.i32(1, Int64(n)); page.i32(2, 0); page.i32(3, 3); page.i32(4, 3)  // PLAIN values, RLE levels
            page.endStruct()
            page.out.append(0)
            let size = Int64(page.out.count + body.count)
            chunks.append((offset, size, Int64(n)))
            out += page.out; out += body
            offset += size; groupBytes += size
        }
        groups.append((chunks, Int64(n), groupBytes))
        totalRows += Int64(n)
        pending = Array(repeating: [], count: columns.count)
    }

    /// Writes the last row group and the footer.
    mutating func finish(into out: inout [UInt8]) throws {
        try flush(into: &out)
        var m = ThriftWriter()
        m.i32(1, 1)
        m.list(2, 12, count: columns.count + 1)
        m.beginElement(); m.string(4, "schema"); m.i32(5, Int64(columns.count)); m.endStruct()
        for c in columns {
            m.beginElement()
            m.i32(1, c.type)
            if c.type == 7 { m.i32(2, Int64(c.typeLength)) }
            m.i32(3, 1)  // OPTIONAL
            m.string(4, c.name)
            if let conv = c.converted { m.i32(6, conv) }
            if c.isDecimal {
                m.i32(7, Int64(c.decimalScale)); m.i32(8, Int64(c.decimalPrecision))
            }
            if let id = c.fieldID { m.i32(9, id) }
            writeLogical(c, &m)
            m.endStruct()
        }
        m.i64(3, totalRows)
        m.list(4, 12, count: groups.count)
        for g in groups {
            m.beginElement()
            m.list(1, 12, count: g.columns.count)
            for (i, chunk) in g.columns.enumerated() {
                let c = columns[i]
                m.beginElement()
                m.i64(2, chunk.offset)
                m.beginStruct(3)
                m.i32(1, c.type)
                m.list(2, 5, count: 2); m.zigzag(0); m.zigzag(3)  // PLAIN, RLE
                m.list(3, 8, count: 1); m.varint(UInt64(c.name.utf8.count)); m.out += Array(c.name.utf8)
                m.i32(4, 0)  // UNCOMPRESSED
                m.i64(5, chunk.values)
                m.i64(6, chunk.size)
                m.i64(7, chunk.size)
                m.i64(9, chunk.offset)
                m.endStruct()
                m.endStruct()
            }
            m.i64(2, g.bytes)
            m.i64(3, g.rows)
            m.endStruct()
        }
        m.string(6, "strata")
        m.out.append(0)
        out += m.out
        withUnsafeBytes(of: UInt32(m.out.count).littleEndian) { out += $0 }
        out += Array("PAR1".utf8)
    }

    /// The logical types strata reads and renders, written back (others are left to the converted type).
    func writeLogical(_ c: ParquetReader.Column, _ m: inout ThriftWriter) {
        guard let l = c.logical else { return }
        if l[1] != nil {
            m.beginStruct(10); m.beginStruct(1); m.endStruct(); m.endStruct()
        } else if l[6] != nil {
            m.beginStruct(10); m.beginStruct(6); m.endStruct(); m.endStruct()
        } else if l[5] != nil {
            m.beginStruct(10); m.beginStruct(5); m.i32(1, Int64(c.decimalScale)); m.i32(2, Int64(c.decimalPrecision)); m.endStruct(); m.endStruct()
        } else if let ts = l[8] {
            m.beginStruct(10); m.beginStruct(8)
            m.bool(1, ts[1]?.bool ?? true)
            m.beginStruct(2)
            let unit: Int16 = ts[2]?[1] != nil ? 1 : (ts[2]?[2] != nil ? 2 : 3)
            m.beginStruct(unit); m.endStruct()
            m.endStruct()
            m.endStruct(); m.endStruct()
        } else if let i = l[10] {
            m.beginStruct(10); m.beginStruct(10)
            m.byte(1, Int8(truncatingIfNeeded: i[1]?.int ?? 32)); m.bool(2, i[2]?.bool ?? true)
            m.endStruct(); m.endStruct()
        }
    }

    /// PLAIN encoding of the non-null values of a column.
    func encode(_ values: [String], _ c: ParquetReader.Column, into out: inout [UInt8]) throws {
        func bad(_ v: String) -> Unwritable { Unwritable(reason: "'\(v.prefix(40))' does not fit column '\(c.name)' (\(c.typeName))") }
        switch c.type {
        case 0:
            var packed = [UInt8](repeating: 0, count: (values.count + 7) / 8)
            for (k, v) in values.enumerated() {
                guard v == "true" || v == "false" else { throw bad(v) }
                if v == "true" { packed[k / 8] |= 1 << UInt8(k % 8) }
            }
            out += packed
        case 1:
            for v in values {
                guard let x = int32(v, c) else { throw bad(v) }
                withUnsafeBytes(of: x.littleEndian) { out += $0 }
            }
        case 2:
            for v in values {
                guard let x = int64(v, c) else { throw bad(v) }
                withUnsafeBytes(of: x.littleEndian) { out += $0 }
            }
        case 4:
            for v in values {
                guard let x = Float(v) else { throw bad(v) }
                withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 }
            }
        case 5:
            for v in values {
                guard let x = Double(v) else { throw bad(v) }
                withUnsafeBytes(of: x.bitPattern.littleEndian) { out += $0 }
            }
        case 7:  // FIXED_LEN_BYTE_ARRAY decimals: the unscaled value, big-endian two's complement
            for v in values {
                guard let x = ParquetWriter.unscaled(v, scale: c.decimalScale), let b = ParquetWriter.bigEndian(x, width: c.typeLength) else { throw bad(v) }
                out += b
            }
        case 6 where c.isDecimal:  // BYTE_ARRAY decimals
            for v in values {
                guard let x = ParquetWriter.unscaled(v, scale: c.decimalScale), let b = ParquetWriter.bigEndian(x, width: 8) else { throw bad(v) }
                withUnsafeBytes(of: UInt32(b.count).littleEndian) { out += $0 }
                out += b
            }
        default:  // BYTE_ARRAY: text as UTF-8; binary rendered as 0x… hex goes back to its bytes
            let isText = c.converted == 0 || c.logical?[1] != nil
            for v in values {
                var b = Array(v.utf8)
                if !isText, v.hasPrefix("0x"), v.count % 2 == 0, let bytes = ParquetWriter.hex(v.dropFirst(2)) { b = bytes }
                withUnsafeBytes(of: UInt32(b.count).littleEndian) { out += $0 }
                out += b
            }
        }
    }

    /// `x` as `width` big-endian two's-complement bytes (nil when it does not fit).
    static func bigEndian(_ x: Int64, width: Int) -> [UInt8]? {
        if width < 8 {
            let limit = Int64(1) << (width * 8 - 1)
            guard x >= -limit && x < limit else { return nil }
        }
        return (0..<width).reversed().map { i in i >= 8 ? (x < 0 ? 0xFF : 0) : UInt8(truncatingIfNeeded: x >> (i * 8)) }
    }

    static func hex(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var it = s.utf8.makeIterator()
        while let h = it.next(), let l = it.next() {
            guard let a = nibble(h), let b = nibble(l) else { return nil }
            out.append(a << 4 | b)
        }
        return out
    }
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }

    func int32(_ v: String, _ c: ParquetReader.Column) -> Int32? {
        if c.converted == 6 || c.logical?[6] != nil { return ParquetWriter.days(v).flatMap { Int32(exactly: $0) } }
        if c.isDecimal { return ParquetWriter.unscaled(v, scale: c.decimalScale).flatMap { Int32(exactly: $0) } }
        if c.converted == 11 || c.converted == 12 || c.converted == 13 { return UInt32(v).map { Int32(bitPattern: $0) } }
        return Int32(v)
    }

    func int64(_ v: String, _ c: ParquetReader.Column) -> Int64? {
        if c.isDecimal { return ParquetWriter.unscaled(v, scale: c.decimalScale) }
        if let p = c.timestampUnitsPerSecond { return ParquetWriter.timestamp(v, perSecond: p) }
        if c.converted == 14 { return UInt64(v).map { Int64(bitPattern: $0) } }
        return Int64(v)
    }

    /// `yyyy-MM-dd` → days since 1970-01-01.
    static func days(_ v: String) -> Int64? {
        let p = v.split(separator: "-", omittingEmptySubsequences: false)
        let neg = v.hasPrefix("-")
        let parts = neg ? Array(p.dropFirst()) : Array(p)
        guard parts.count == 3, var y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        if neg { y = -y }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `yyyy-MM-ddTHH:mm:ss[.fraction]Z` → units since the epoch.
    static func timestamp(_ v: String, perSecond: Int64) -> Int64? {
        guard v.hasSuffix("Z"), let t = v.firstIndex(of: "T"), let day = days(String(v[..<t])) else { return nil }
        let time = v[v.index(after: t)..<v.index(before: v.endIndex)]
        let (hms, frac) = time.firstIndex(of: ".").map { (time[..<$0], String(time[time.index(after: $0)...])) } ?? (time, "")
        let parts = hms.split(separator: ":")
        guard parts.count == 3, let h = Int64(parts[0]), let mi = Int64(parts[1]), let s = Int64(parts[2]) else { return nil }
        let digits = perSecond == 1000 ? 3 : (perSecond == 1_000_000 ? 6 : 9)
        guard frac.count <= digits, frac.allSatisfy(\.isNumber) else { return nil }
        let f = Int64(frac.isEmpty ? "0" : frac + String(repeating: "0", count: digits - frac.count)) ?? 0
        return ((day * 86_400 + h * 3_600 + mi * 60 + s) * perSecond) + f
    }

    /// A decimal's text → its unscaled integer at `scale`.
    static func unscaled(_ v: String, scale: Int) -> Int64? {
        let neg = v.hasPrefix("-")
        let body = neg ? v.dropFirst() : Substring(v)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, whole.allSatisfy(\.isNumber) else { return nil }
        var frac = parts.count == 2 ? String(parts[1]) : ""
        guard frac.allSatisfy(\.isNumber), frac.count <= scale else { return nil }
        frac += String(repeating: "0", count: scale - frac.count)
        guard let x = Int64((whole.isEmpty ? "0" : String(whole)) + frac) else { return nil }
        return neg ? -x : x
    }
}
