import CSnappy
import CZlib
import CZstd
import Foundation
import StrataPlatform

/// A value of Parquet's Thrift metadata (compact protocol), parsed generically: structs by field id.
indirect enum Thrift {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case binary([UInt8])
    case list([Thrift])
    case structure([Int16: Thrift])

    subscript(_ id: Int16) -> Thrift? {
        if case .structure(let f) = self { return f[id] }
        return nil
    }
    var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
    var string: String? { if case .binary(let b) = self { return String(decoding: b, as: UTF8.self) }; return nil }
    var list: [Thrift] { if case .list(let l) = self { return l }; return [] }
}

/// Reads the Thrift compact protocol from a byte buffer.
struct ThriftReader {
    let bytes: [UInt8]
    var pos: Int

    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw ParquetError.corrupt("metadata ends early") }
        defer { pos += 1 }
        return bytes[pos]
    }
    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            let b = try byte()
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw ParquetError.corrupt("varint too long") }
        }
    }
    mutating func zigzag() throws -> Int64 { let v = try varint(); return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }

    mutating func value(_ type: UInt8) throws -> Thrift {
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            guard pos + 8 <= bytes.count else { throw ParquetError.corrupt("metadata ends early") }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[pos + i]) << (8 * UInt64(i)) }
            pos += 8
            return .double(Double(bitPattern: bits))
        case 8:
            let n = Int(try varint())
            guard n >= 0, pos + n <= bytes.count else { throw ParquetError.corrupt("string beyond the metadata") }
            defer { pos += n }
            return .binary(Array(bytes[pos..<pos + n]))
        case 9, 10:
            let h = try byte()
            var n = Int(h >> 4)
            if n == 15 { n = Int(try varint()) }
            let t = h & 0x0F
            guard n <= bytes.count else { throw ParquetError.corrupt("list too long") }
            var out: [Thrift] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(t == 1 || t == 2 ? .bool(try byte() == 1) : try value(t)) }
            return .list(out)
        case 11:
            let n = Int(try varint())
            if n == 0 { return .list([]) }
            let kv = try byte()
            var out: [Thrift] = []
            for _ in 0..<n { out.append(try value(kv >> 4)); out.append(try value(kv & 0x0F)) }
            return .list(out)
        case 12: return try structure()
        default: throw ParquetError.corrupt("unknown Thrift type \(type)")
        }
    }

    mutating func structure() throws -> Thrift {
        var fields: [Int16: Thrift] = [:]
        var last: Int16 = 0
        while true {
            let h = try byte()
            if h == 0 { return .structure(fields) }
            let delta = Int16(h >> 4), type = h & 0x0F
            let id = delta == 0 ? Int16(truncatingIfNeeded: try zigzag()) : last + delta
            fields[id] = try value(type)
            last = id
        }
    }
}

/// Why a Parquet file cannot be read; a table diff falls back to the file-level answer with this message.
public enum ParquetError: StrataError {
    /// The bytes are not a valid Parquet file.
    case corrupt(String)
    /// A column uses an encoding, codec or type this reader does not implement.
    case unsupported(column: String, what: String)

    public var code: String {
        switch self {
        case .corrupt: return "table.parquet-corrupt"
        case .unsupported: return "table.parquet-unsupported"
        }
    }
    public var category: ErrorCategory {
        switch self {
        case .corrupt: return .integrity
        case .unsupported: return .usage
        }
    }
    public var message: String {
        switch self {
        case .corrupt(let m): return "not a readable Parquet file: \(m)"
        case .unsupported(let c, let w): return "Parquet column '\(c)' uses \(w), which strata cannot read yet"
        }
    }
    public var nextStep: String? {
        switch self {
        case .corrupt: return "check the store with 'strata fsck'; a file its writer left damaged must be written again (compare by file with 'strata diff')"
        case .unsupported: return "compare the files with 'strata diff' (file level), or rewrite them with PLAIN or dictionary encoding"
        }
    }
}

/// A flat Parquet file read row group by row group, with pread: the footer's schema, then each column chunk's pages
/// (data page v1 and v2, dictionary pages), encodings PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY and RLE (levels,
/// booleans), codecs uncompressed, Snappy (libsnappy), gzip (zlib) and zstd. Values are rendered as text the way the
/// row diff compares them: strings as UTF-8, dates and timestamps as ISO 8601, decimals scaled, floats shortest.
struct ParquetReader {
    /// A leaf column of the (flat) schema.
    struct Column {
        var name: String
        var type: Int64
        var typeLength: Int
        var optional: Bool
        var converted: Int64?
        var logical: Thrift?
        var scale: Int
        var precision: Int = 0
        /// The writer's field id (Iceberg writes them; the current name of a renamed column is found by it).
        var fieldID: Int64?
        /// The names from the root to this leaf (one name for a flat column).
        var path: [String] = []
        /// Dremel levels: the highest definition and repetition levels, and the definition level at which an element
        /// of the innermost repeated ancestor exists (0 when there is none).
        var maxDefinition = 0, maxRepetition = 0, elementDefinition = 0

        /// A decimal (converted type DECIMAL or the logical type).
        var isDecimal: Bool { converted == 5 || logical?[5] != nil }
        /// A decimal's scale and precision (the logical type's, else the schema element's).
        var decimalScale: Int { Int(logical?[5]?[1]?.int ?? Int64(scale)) }
        var decimalPrecision: Int { Int(logical?[5]?[2]?.int ?? Int64(precision)) }
        /// A timestamp's units per second: converted TIMESTAMP_MILLIS / MICROS, or the logical type's unit
        /// (1 ms, 2 µs, 3 ns); nil for other columns.
        var timestampUnitsPerSecond: Int64? {
            if let ts = logical?[8] { return ts[2]?[1] != nil ? 1000 : (ts[2]?[2] != nil ? 1_000_000 : 1_000_000_000) }
            return converted == 9 ? 1000 : converted == 10 ? 1_000_000 : nil
        }

        /// The column's type as the schema diff names it: the logical type when there is one, else the physical.
        var typeName: String {
            if isDecimal { return "decimal(\(decimalPrecision),\(decimalScale))" }
            if converted == 6 || logical?[6] != nil { return "date" }
            if converted == 9 || converted == 10 || logical?[8] != nil { return "timestamp" }
            if converted == 0 || logical?[1] != nil { return "string" }
            if logical?[14] != nil { return "uuid" }
            return ["boolean", "int32", "int64", "int96", "float", "double", "binary", "fixed_len_byte_array"][Int(max(0, min(7, type)))]
        }
    }

    let fd: Int32
    let path: String
    let size: Int64
    var columns: [Column] = []
    var rowGroups: [Thrift] = []

    /// Opens `path` and reads its footer. Nested or repeated columns are refused unless `nested` is set (then only
    /// `records(_:)` reads them; `rows` is for flat files).
    init(path: String, nested: Bool = false) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw PosixError("open", path) }
        var st = stat()
        fstat(fd, &st)
        size = Int64(st.st_size)
        guard size >= 12 else { close(fd); throw ParquetError.corrupt("too short (\(size) bytes)") }
        let tail = try read(at: size - 8, count: 8)
        guard tail[4...] == [0x50, 0x41, 0x52, 0x31] else { close(fd); throw ParquetError.corrupt("no PAR1 footer") }
        let metaLength = Int64(tail[0]) | Int64(tail[1]) << 8 | Int64(tail[2]) << 16 | Int64(tail[3]) << 24
        guard metaLength > 0, metaLength <= size - 12 else { close(fd); throw ParquetError.corrupt("footer length \(metaLength)") }
        var r = ThriftReader(bytes: try read(at: size - 8 - metaLength, count: Int(metaLength)), pos: 0)
        let meta = try r.structure()
        let schema = meta[2]?.list ?? []
        guard !schema.isEmpty else { close(fd); throw ParquetError.corrupt("no schema") }
        // The schema is the tree flattened depth first; each group gives its number of children.
        var leaves: [Column] = []
        var at = 1
        func walk(_ parent: [String], definition: Int, repetition: Int, element: Int, children: Int) throws {
            for _ in 0..<children {
                guard at < schema.count else { throw ParquetError.corrupt("the schema ends early") }
                let e = schema[at]
                at += 1
                let kind = e[3]?.int ?? 0, name = e[4]?.string ?? ""
                let d = definition + (kind == 0 ? 0 : 1), rep = repetition + (kind == 2 ? 1 : 0)
                let el = kind == 2 ? d : element
                if let n = e[5]?.int, n > 0 {
                    try walk(parent + [name], definition: d, repetition: rep, element: el, children: Int(n))
                } else {
                    leaves.append(
                        Column(
                            name: name, type: e[1]?.int ?? -1, typeLength: Int(e[2]?.int ?? 0), optional: kind == 1, converted: e[6]?.int,
                            logical: e[10], scale: Int(e[7]?.int ?? 0), precision: Int(e[8]?.int ?? 0), fieldID: e[9]?.int, path: parent + [name],
                            maxDefinition: d, maxRepetition: rep, elementDefinition: el))
                }
            }
        }
        do {
            try walk([], definition: 0, repetition: 0, element: 0, children: Int(schema[0][5]?.int ?? 0))
        } catch {
            close(fd)
            throw error
        }
        if !nested, let deep = leaves.first(where: { $0.path.count > 1 || $0.maxRepetition > 0 }) {
            close(fd)
            throw ParquetError.unsupported(column: deep.path.first ?? deep.name, what: "a nested or repeated type")
        }
        columns = leaves
        rowGroups = meta[4]?.list ?? []
    }

    func closeFile() { close(fd) }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + Int64(count) <= size else { throw ParquetError.corrupt("a read beyond the end of the file") }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 { throw PosixError("read", path) }
            if n == 0 { throw ParquetError.corrupt("file ends early") }
            done += n
        }
        return out
    }

    /// Every row, row group by row group; nulls are left out of the row.
    func rows(_ emit: (Row) throws -> Void) throws {
        for g in rowGroups {
            let n = Int(g[3]?.int ?? 0)
            var values: [[String?]] = []
            for (i, chunk) in (g[1]?.list ?? []).enumerated() where i < columns.count {
                values.append(try columnValues(chunk, columns[i], rows: n))
            }
            for r in 0..<n {
                var row: Row = [:]
                row.reserveCapacity(columns.count)
                for (i, c) in columns.enumerated() where i < values.count { if let v = values[i][r] { row[c.name] = v } }
                try emit(row)
            }
        }
    }

    /// The values of one column chunk of a flat column: one per row, nil for a null.
    func columnValues(_ chunk: Thrift, _ c: Column, rows: Int) throws -> [String?] {
        let values = try columnLevels(chunk, c).values
        guard values.count == rows else { throw ParquetError.corrupt("column \(c.name) has \(values.count) values for \(rows) rows") }
        return values
    }

    /// The bits a level up to `max` takes.
    static func bitWidth(_ max: Int) -> Int { max == 0 ? 0 : Int.bitWidth - max.leadingZeroBitCount }

    /// One column chunk as Dremel triples: per entry its repetition and definition levels and its value (nil unless
    /// the entry is defined at the leaf).
    func columnLevels(_ chunk: Thrift, _ c: Column) throws -> (repetitions: [Int], definitions: [Int], values: [String?]) {
        guard let m = chunk[3] else { throw ParquetError.corrupt("column \(c.name) has no metadata") }
        let codec = m[4]?.int ?? 0, total = Int(m[5]?.int ?? 0)
        var offset = m[11]?.int ?? m[9]?.int ?? 0
        if let dict = m[11]?.int, let data = m[9]?.int { offset = min(dict, data) }
        let end = offset + (m[7]?.int ?? 0)
        let repWidth = ParquetReader.bitWidth(c.maxRepetition), defWidth = ParquetReader.bitWidth(c.maxDefinition)
        var dictionary: [String?] = []
        var out: [String?] = [], reps: [Int] = [], defs: [Int] = []
        out.reserveCapacity(total)
        var pos = offset
        while pos < end && out.count < total {
            // A page header is small: read a window and parse it.
            let window = try read(at: pos, count: Int(min(Int64(64 * 1024), size - pos)))
            var r = ThriftReader(bytes: window, pos: 0)
            let h = try r.structure()
            pos += Int64(r.pos)
            let compressed = Int(h[3]?.int ?? -1), uncompressed = Int(h[2]?.int ?? -1)
            guard compressed >= 0, uncompressed >= 0, pos + Int64(compressed) <= size else { throw ParquetError.corrupt("page of \(c.name)") }
            let raw = try read(at: pos, count: compressed)
            pos += Int64(compressed)
            switch h[1]?.int ?? -1 {
            case 2:  // dictionary page
                let body = try decompress(raw, codec: codec, size: uncompressed, column: c.name)
                let n = Int(h[7]?[1]?.int ?? 0)
                var cur = 0
                dictionary = try plain(body, &cur, count: n, c).map { $0 }
            case 0:  // data page v1: levels (each with a 4-byte length) and values, compressed together
                let dp = h[5]
                let n = Int(dp?[1]?.int ?? 0)
                let body = try decompress(raw, codec: codec, size: uncompressed, column: c.name)
                var cur = 0
                func levels(_ width: Int) throws -> [Int] {
                    guard width > 0 else { return [Int](repeating: 0, count: n) }
                    guard cur + 4 <= body.count else { throw ParquetError.corrupt("levels of \(c.name)") }
                    let len = Int(body[cur]) | Int(body[cur + 1]) << 8 | Int(body[cur + 2]) << 16 | Int(body[cur + 3]) << 24
                    guard cur + 4 + len <= body.count else { throw ParquetError.corrupt("levels of \(c.name)") }
                    defer { cur += 4 + len }
                    return try ParquetReader.hybrid(Array(body[cur + 4..<cur + 4 + len]), bitWidth: width, count: n)
                }
                let rep = try levels(repWidth), def = try levels(defWidth)
                reps += rep
                defs += def
                try values(body, &cur, defined: def.map { $0 == c.maxDefinition }, encoding: dp?[2]?.int ?? 0, dictionary: dictionary, c, into: &out)
            case 3:  // data page v2: levels uncompressed, then the (maybe compressed) values
                let dp = h[8]
                let n = Int(dp?[1]?.int ?? 0)
                let defLen = Int(dp?[5]?.int ?? 0), repLen = Int(dp?[6]?.int ?? 0)
                guard defLen >= 0, repLen >= 0, defLen + repLen <= raw.count else { throw ParquetError.corrupt("levels of \(c.name)") }
                let rep =
                    repWidth > 0 && repLen > 0
                    ? try ParquetReader.hybrid(Array(raw[0..<repLen]), bitWidth: repWidth, count: n) : [Int](repeating: 0, count: n)
                let def =
                    defWidth > 0 && defLen > 0
                    ? try ParquetReader.hybrid(Array(raw[repLen..<repLen + defLen]), bitWidth: defWidth, count: n)
                    : [Int](repeating: c.maxDefinition, count: n)
                reps += rep
                defs += def
                let rest = Array(raw[(repLen + defLen)...])
                let body = (dp?[7]?.bool ?? true) ? try decompress(rest, codec: codec, size: uncompressed - defLen - repLen, column: c.name) : rest
                var cur = 0
                try values(body, &cur, defined: def.map { $0 == c.maxDefinition }, encoding: dp?[4]?.int ?? 0, dictionary: dictionary, c, into: &out)
            default:
                continue  // index pages and others carry no values
            }
        }
        guard out.count == total else { throw ParquetError.corrupt("column \(c.name) has \(out.count) values, its metadata says \(total)") }
        return (reps, defs, out)
    }

    /// The records of a nested file (a Delta checkpoint), row by row: for each wanted leaf (by its dotted path, such
    /// as `add.path` or `add.partitionValues.key_value.key`) the values the row holds. A leaf outside any repeated
    /// field gives one value (nil when it or a parent is null); a leaf inside a list or map gives one value per
    /// element, in order, so a map's keys and values line up.
    func records(_ wanted: Set<String>, _ emit: ([String: [String?]]) throws -> Void) throws {
        let picked = columns.enumerated().filter { wanted.contains($0.element.path.joined(separator: ".")) }
        for g in rowGroups {
            let n = Int(g[3]?.int ?? 0)
            let chunks = g[1]?.list ?? []
            var perRow: [[[String?]]] = Array(repeating: [], count: picked.count)
            for (k, (i, c)) in picked.enumerated() where i < chunks.count {
                let (reps, defs, values) = try columnLevels(chunks[i], c)
                var rows: [[String?]] = []
                rows.reserveCapacity(n)
                for j in values.indices {
                    if reps[j] == 0 { rows.append([]) }
                    guard !rows.isEmpty else { throw ParquetError.corrupt("column \(c.name) starts inside a record") }
                    if c.maxRepetition == 0 {
                        rows[rows.count - 1].append(values[j])
                    } else if defs[j] >= c.elementDefinition {
                        rows[rows.count - 1].append(values[j])
                    }
                }
                guard rows.count == n else { throw ParquetError.corrupt("column \(c.name) has \(rows.count) records for \(n) rows") }
                perRow[k] = rows
            }
            for r in 0..<n {
                var record: [String: [String?]] = [:]
                for (k, (_, c)) in picked.enumerated() where !perRow[k].isEmpty { record[c.path.joined(separator: ".")] = perRow[k][r] }
                try emit(record)
            }
        }
    }

    /// The values of one data page (nulls where not defined).
    func values(
        _ body: [UInt8], _ cur: inout Int, defined: [Bool], encoding: Int64, dictionary: [String?], _ c: Column, into out: inout [String?]
    ) throws {
        let present = defined.filter { $0 }.count
        var decoded: [String?]
        switch encoding {
        case 0:
            decoded = try plain(body, &cur, count: present, c)
        case 2, 8:
            guard cur < body.count || present == 0 else { throw ParquetError.corrupt("dictionary indices of \(c.name)") }
            if present == 0 {
                decoded = []
            } else {
                let width = Int(body[cur])
                let idx = try ParquetReader.hybrid(Array(body[(cur + 1)...]), bitWidth: width, count: present)
                decoded = try idx.map { i in
                    guard i < dictionary.count else { throw ParquetError.corrupt("dictionary index \(i) of \(c.name)") }
                    return dictionary[i]
                }
            }
        case 5 where c.type == 1 || c.type == 2:  // DELTA_BINARY_PACKED integers
            var r = ThriftReader(bytes: body, pos: cur)
            decoded = try ParquetReader.deltaBinaryPacked(&r, count: present).map { c.type == 1 ? render32(Int32(truncatingIfNeeded: $0), c) : render64($0, c) }
            cur = r.pos
        case 6 where c.type == 6:  // DELTA_LENGTH_BYTE_ARRAY
            var r = ThriftReader(bytes: body, pos: cur)
            decoded = try ParquetReader.deltaLengths(&r, count: present).map { renderBytes($0, c) }
            cur = r.pos
        case 7 where c.type == 6 || c.type == 7:  // DELTA_BYTE_ARRAY: shared prefix lengths, then the suffixes
            var r = ThriftReader(bytes: body, pos: cur)
            let prefixes = try ParquetReader.deltaBinaryPacked(&r, count: present)
            let suffixes = try ParquetReader.deltaLengths(&r, count: present)
            var previous: [UInt8] = []
            decoded = []
            for (p, suffix) in zip(prefixes, suffixes) {
                guard p >= 0, Int(p) <= previous.count else { throw ParquetError.corrupt("DELTA_BYTE_ARRAY prefix of \(c.name)") }
                previous = Array(previous[0..<Int(p)]) + suffix
                decoded.append(renderBytes(previous, c))
            }
            cur = r.pos
        case 3 where c.type == 0:  // RLE booleans (data page v2): 4-byte length, then the hybrid
            guard cur + 4 <= body.count else { throw ParquetError.corrupt("booleans of \(c.name)") }
            decoded = try ParquetReader.hybrid(Array(body[(cur + 4)...]), bitWidth: 1, count: present).map { $0 == 1 ? "true" : "false" }
        default:
            let names = [
                0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED", 6: "DELTA_LENGTH_BYTE_ARRAY",
                7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT",
            ]
            throw ParquetError.unsupported(column: c.name, what: "the \(names[Int(encoding)] ?? "#\(encoding)") encoding")
        }
        var k = 0
        for d in defined {
            if d { out.append(decoded[k]); k += 1 } else { out.append(nil) }
        }
    }

    /// `count` PLAIN values of the column's physical type, rendered.
    func plain(_ b: [UInt8], _ cur: inout Int, count: Int, _ c: Column) throws -> [String?] {
        func need(_ n: Int) throws { if cur + n > b.count { throw ParquetError.corrupt("values of \(c.name) end early") } }
        func le(_ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(b[cur + i]) << (8 * UInt64(i)) }
            cur += n
            return v
        }
        var out: [String?] = []
        out.reserveCapacity(count)
        switch c.type {
        case 0:  // BOOLEAN, bit-packed LSB first
            try need((count + 7) / 8)
            for i in 0..<count { out.append((b[cur + i / 8] >> (i % 8)) & 1 == 1 ? "true" : "false") }
            cur += (count + 7) / 8
        case 1:
            try need(4 * count)
            for _ in 0..<count { out.append(render32(Int32(truncatingIfNeeded: le(4)), c)) }
        case 2:
            try need(8 * count)
            for _ in 0..<count { out.append(render64(Int64(bitPattern: le(8)), c)) }
        case 3:  // INT96 (legacy timestamps): nanoseconds of the day, then the Julian day
            try need(12 * count)
            for _ in 0..<count {
                let nanos = Int64(bitPattern: le(8)), day = Int64(le(4))
                out.append(ParquetReader.timestamp(seconds: (day - 2_440_588) * 86_400 + nanos / 1_000_000_000, fraction: nanos % 1_000_000_000, digits: 9))
            }
        case 4:
            try need(4 * count)
            for _ in 0..<count { out.append(ParquetReader.number(Double(Float(bitPattern: UInt32(le(4)))))) }
        case 5:
            try need(8 * count)
            for _ in 0..<count { out.append(ParquetReader.number(Double(bitPattern: le(8)))) }
        case 6:  // BYTE_ARRAY
            for _ in 0..<count {
                try need(4)
                let n = Int(le(4))
                try need(n)
                out.append(renderBytes(Array(b[cur..<cur + n]), c))
                cur += n
            }
        case 7:  // FIXED_LEN_BYTE_ARRAY
            let n = c.typeLength
            try need(n * count)
            for _ in 0..<count {
                out.append(renderBytes(Array(b[cur..<cur + n]), c))
                cur += n
            }
        default:
            throw ParquetError.unsupported(column: c.name, what: "physical type #\(c.type)")
        }
        return out
    }

    var isString: (Column) -> Bool {
        { c in c.converted == 0 || c.converted == 4 || c.converted == 19 || c.logical?[1] != nil || c.logical?[4] != nil || c.logical?[12] != nil }
    }

    func renderBytes(_ bytes: [UInt8], _ c: Column) -> String {
        if c.isDecimal { return ParquetReader.decimal(bigEndian: bytes, scale: c.decimalScale) }
        if c.logical?[14] != nil, bytes.count == 16 {  // UUID
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            let p = Array(hex)
            return String(p[0..<8]) + "-" + String(p[8..<12]) + "-" + String(p[12..<16]) + "-" + String(p[16..<20]) + "-" + String(p[20..<32])
        }
        if isString(c), let s = String(validating: bytes, as: UTF8.self) { return s }
        // Raw bytes read as text when they are UTF-8, unless that text itself starts with "0x": the writer turns a
        // "0x…" value of a raw column back into the bytes it spells, so the text "0xab" would come back as one byte.
        if c.type == 6 && c.converted == nil && c.logical == nil, bytes.prefix(2) != [0x30, 0x78],
            let s = String(validating: bytes, as: UTF8.self)
        {
            return s
        }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    func render32(_ v: Int32, _ c: Column) -> String {
        if c.converted == 6 || c.logical?[6] != nil { return ParquetReader.date(days: Int64(v)) }
        if c.isDecimal { return ParquetReader.decimal(Int64(v), scale: c.decimalScale) }
        if c.converted == 11 || c.converted == 12 || c.converted == 13 { return String(UInt32(bitPattern: v)) }  // UINT_*
        return String(v)
    }

    func render64(_ v: Int64, _ c: Column) -> String {
        if c.isDecimal { return ParquetReader.decimal(v, scale: c.decimalScale) }
        if let p = c.timestampUnitsPerSecond {
            let digits = p == 1000 ? 3 : (p == 1_000_000 ? 6 : 9)
            var s = v / p, f = v % p
            if f < 0 { s -= 1; f += p }
            return ParquetReader.timestamp(seconds: s, fraction: f, digits: digits)
        }
        if c.converted == 14 { return String(UInt64(bitPattern: v)) }
        return String(v)
    }

    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"
    }

    static func date(days: Int64) -> String {
        let t = Date(timeIntervalSince1970: TimeInterval(days * 86_400))
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd"
        return f.string(from: t)
    }

    static func timestamp(seconds: Int64, fraction: Int64, digits: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        var s = f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        if fraction != 0 {
            let text = String(fraction)
            s += "." + String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return s + "Z"
    }

    static func decimal(_ unscaled: Int64, scale: Int) -> String {
        guard scale > 0 else { return String(unscaled) }
        let negative = unscaled < 0
        var digits = String(unscaled.magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        return (negative ? "-" : "") + digits
    }

    /// A big-endian two's-complement unscaled integer of any width (FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY decimals).
    static func decimal(bigEndian b: [UInt8], scale: Int) -> String {
        guard !b.isEmpty else { return "0" }
        let negative = b[0] & 0x80 != 0
        var mag = b
        if negative {  // two's complement: invert and add one
            for i in mag.indices { mag[i] = ~mag[i] }
            var i = mag.count - 1
            while i >= 0 {
                let (v, o) = mag[i].addingReportingOverflow(1)
                mag[i] = v
                if !o { break }
                i -= 1
            }
        }
        var digits: [UInt8] = []
        while mag.contains(where: { $0 != 0 }) {  // repeated division by 10, most significant byte first
            var rem = 0
            for i in mag.indices {
                let cur = rem * 256 + Int(mag[i])
                mag[i] = UInt8(cur / 10)
                rem = cur % 10
            }
            digits.append(UInt8(rem))
        }
        var text = digits.isEmpty ? "0" : String(digits.reversed().map { Character(String($0)) })
        if scale > 0 {
            if text.count <= scale { text = String(repeating: "0", count: scale - text.count + 1) + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
        }
        return (negative ? "-" : "") + text
    }

    /// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value count, first value), then blocks of a
    /// minimum delta and bit-packed miniblocks.
    static func deltaBinaryPacked(_ r: inout ThriftReader, count: Int) throws -> [Int64] {
        let blockSize = Int(try r.varint()), miniblocks = Int(try r.varint()), total = Int(try r.varint())
        var value = try r.zigzag()
        guard miniblocks > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 8 == 0 else { throw ParquetError.corrupt("DELTA_BINARY_PACKED header") }
        let perMini = blockSize / miniblocks
        var out: [Int64] = []
        out.reserveCapacity(total)
        if total > 0 { out.append(value) }
        while out.count < total {
            let minDelta = try r.zigzag()
            var widths: [Int] = []
            for _ in 0..<miniblocks { widths.append(Int(try r.byte())) }
            for w in widths where out.count < total {
                guard w <= 64 else { throw ParquetError.corrupt("DELTA_BINARY_PACKED bit width \(w)") }
                let bytes = perMini * w / 8
                guard r.pos + bytes <= r.bytes.count else { throw ParquetError.corrupt("DELTA_BINARY_PACKED miniblock beyond the page") }
                var bit = 0
                for _ in 0..<perMini {
                    var packed: UInt64 = 0
                    for k in 0..<w where (r.bytes[r.pos + (bit + k) / 8] >> ((bit + k) % 8)) & 1 == 1 { packed |= 1 << UInt64(k) }
                    bit += w
                    if out.count < total {
                        value = value &+ minDelta &+ Int64(bitPattern: packed)
                        out.append(value)
                    }
                }
                r.pos += bytes
            }
        }
        return Array(out.prefix(count))
    }

    /// DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then the bytes back to back.
    static func deltaLengths(_ r: inout ThriftReader, count: Int) throws -> [[UInt8]] {
        let lengths = try deltaBinaryPacked(&r, count: count)
        var out: [[UInt8]] = []
        out.reserveCapacity(lengths.count)
        for n in lengths {
            guard n >= 0, r.pos + Int(n) <= r.bytes.count else { throw ParquetError.corrupt("DELTA_LENGTH_BYTE_ARRAY value beyond the page") }
            out.append(Array(r.bytes[r.pos..<r.pos + Int(n)]))
            r.pos += Int(n)
        }
        return out
    }

    /// The RLE / bit-packed hybrid: `count` values of `bitWidth` bits.
    static func hybrid(_ b: [UInt8], bitWidth: Int, count: Int) throws -> [Int] {
        guard bitWidth >= 0, bitWidth <= 32 else { throw ParquetError.corrupt("bit width \(bitWidth)") }
        var out: [Int] = []
        out.reserveCapacity(count)
        var r = ThriftReader(bytes: b, pos: 0)
        let byteWidth = (bitWidth + 7) / 8
        while out.count < count {
            let header = try r.varint()
            if header & 1 == 0 {
                let run = Int(header >> 1)
                var v = 0
                for i in 0..<byteWidth { v |= Int(try r.byte()) << (8 * i) }
                out.append(contentsOf: repeatElement(v, count: min(run, count - out.count)))
            } else {
                let values = Int(header >> 1) * 8
                let bytes = Int(header >> 1) * bitWidth
                guard r.pos + bytes <= b.count else { throw ParquetError.corrupt("bit-packed run beyond the page") }
                var bit = 0
                for _ in 0..<values {
                    var v = 0
                    for k in 0..<bitWidth {
                        let at = bit + k
                        if (b[r.pos + at / 8] >> (at % 8)) & 1 == 1 { v |= 1 << k }
                    }
                    bit += bitWidth
                    if out.count < count { out.append(v) }
                }
                r.pos += bytes
            }
            if bitWidth == 0 && out.count < count { out.append(contentsOf: repeatElement(0, count: count - out.count)) }
        }
        return out
    }

    /// A page body, decompressed with the chunk's codec.
    func decompress(_ raw: [UInt8], codec: Int64, size: Int, column: String) throws -> [UInt8] {
        switch codec {
        case 0: return raw
        case 1:
            var n = 0
            guard snappy_uncompressed_length(raw, raw.count, &n) == SNAPPY_OK, n == size else { throw ParquetError.corrupt("Snappy page of \(column)") }
            var out = [UInt8](repeating: 0, count: n)
            let ok = out.withUnsafeMutableBufferPointer { o in
                raw.withUnsafeBufferPointer { i in
                    o.baseAddress!.withMemoryRebound(to: CChar.self, capacity: n) { op in
                        i.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { ip in snappy_uncompress(ip, raw.count, op, &n) }
                    }
                }
            }
            guard ok == SNAPPY_OK else { throw ParquetError.corrupt("Snappy page of \(column)") }
            return out
        case 2: return try ParquetReader.gunzip(raw, size: size, column: column)
        case 6:
            var out = [UInt8](repeating: 0, count: size)
            let n = out.withUnsafeMutableBytes { o in raw.withUnsafeBytes { i in ZSTD_decompress(o.baseAddress, size, i.baseAddress, raw.count) } }
            guard ZSTD_isError(n) == 0, n == size else { throw ParquetError.corrupt("zstd page of \(column)") }
            return out
        default:
            let names = [3: "LZO", 4: "BROTLI", 5: "LZ4", 7: "LZ4_RAW"]
            throw ParquetError.unsupported(column: column, what: "the \(names[Int(codec)] ?? "#\(codec)") codec")
        }
    }

    static func gunzip(_ raw: [UInt8], size: Int, column: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetError.corrupt("gzip page of \(column)")
        }
        defer { inflateEnd(&stream) }
        var input = raw
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let r: Int32 = input.withUnsafeMutableBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = i.baseAddress; stream.avail_in = uInt(i.count)
                stream.next_out = o.baseAddress; stream.avail_out = uInt(o.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard r == Z_STREAM_END, Int(stream.total_out) == size else { throw ParquetError.corrupt("gzip page of \(column)") }
        return Array(out[0..<size])
    }
}
