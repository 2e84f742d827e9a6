import CZlib
import CZstd
import Foundation
import StrataPlatform

/// A decoded Avro datum.
indirect enum AvroValue {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case bytes([UInt8])
    case string(String)
    case array([AvroValue])
    case map([String: AvroValue])
    case record([String: AvroValue])

    subscript(_ field: String) -> AvroValue? {
        if case .record(let f) = self { return f[field] }
        return nil
    }
    var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var string: String? { if case .string(let s) = self { return s }; return nil }
}

/// Reads Avro object container files (the Iceberg manifest lists and manifests): the header with its schema and
/// codec (null, deflate, zstd), then blocks of records decoded by the writer's schema.
struct AvroReader {
    let path: String
    var bytes: [UInt8]
    var pos = 0

    /// The records of the file.
    static func records(_ data: [UInt8], name: String) throws -> [AvroValue] {
        var r = AvroReader(path: name, bytes: data)
        guard data.starts(with: [0x4F, 0x62, 0x6A, 0x01]) else { throw TableError.iceberg(name, "not an Avro object container file") }
        r.pos = 4
        var meta: [String: [UInt8]] = [:]
        while true {
            var count = try r.long()
            if count == 0 { break }
            if count < 0 { count = -count; _ = try r.long() }
            for _ in 0..<count { meta[try r.text()] = try r.blob() }
        }
        let sync = try r.take(16)
        guard let schemaText = meta["avro.schema"], let schema = try? JSONSerialization.jsonObject(with: Data(schemaText), options: [.fragmentsAllowed])
        else { throw TableError.iceberg(name, "its Avro header has no schema") }
        let codec = meta["avro.codec"].map { String(decoding: $0, as: UTF8.self) } ?? "null"
        var named: [String: Any] = [:]
        var out: [AvroValue] = []
        while r.pos < r.bytes.count {
            let n = try r.long(), size = Int(try r.long())
            var block = AvroReader(path: name, bytes: try AvroReader.decompress(try r.take(size), codec: codec, name: name))
            for _ in 0..<n { out.append(try block.value(schema, &named)) }
            guard try r.take(16) == sync else { throw TableError.iceberg(name, "an Avro block ends without its sync marker") }
        }
        return out
    }

    static func decompress(_ b: [UInt8], codec: String, name: String) throws -> [UInt8] {
        switch codec {
        case "null": return b
        case "deflate":  // raw deflate (no zlib header)
            var stream = z_stream()
            guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw TableError.iceberg(name, "deflate") }
            defer { inflateEnd(&stream) }
            var input = b, out: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
            try input.withUnsafeMutableBufferPointer { i in
                stream.next_in = i.baseAddress; stream.avail_in = uInt(i.count)
                while true {
                    let r: Int32 = chunk.withUnsafeMutableBufferPointer { o in
                        stream.next_out = o.baseAddress; stream.avail_out = uInt(o.count)
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                    if r == Z_STREAM_END { break }
                    guard r == Z_OK else { throw TableError.iceberg(name, "a deflate block does not inflate") }
                }
            }
            return out
        case "zstandard":
            let size = b.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, b.count) }
            guard size < 1 << 31 else { throw TableError.iceberg(name, "a zstd block without its size") }
            var out = [UInt8](repeating: 0, count: Int(size))
            let n = out.withUnsafeMutableBytes { o in b.withUnsafeBytes { ZSTD_decompress(o.baseAddress, Int(size), $0.baseAddress, b.count) } }
            guard ZSTD_isError(n) == 0 else { throw TableError.iceberg(name, "a zstd block does not decompress") }
            return out
        default: throw TableError.iceberg(name, "its Avro codec '\(codec)' is not supported (null, deflate, zstandard)")
        }
    }

    mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, pos + n <= bytes.count else { throw TableError.iceberg(path, "an Avro value runs past the end") }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }
    mutating func long() throws -> Int64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard pos < bytes.count else { throw TableError.iceberg(path, "an Avro number runs past the end") }
            let b = bytes[pos]; pos += 1
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            if shift > 63 { throw TableError.iceberg(path, "an Avro number is too long") }
        }
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
    mutating func blob() throws -> [UInt8] { try take(Int(try long())) }
    mutating func text() throws -> String { String(decoding: try blob(), as: UTF8.self) }

    /// One datum of `schema` (a type name, a union list, or a complex type object); named types are remembered.
    mutating func value(_ schema: Any, _ named: inout [String: Any]) throws -> AvroValue {
        if let union = schema as? [Any] {
            let i = Int(try long())
            guard i >= 0, i < union.count else { throw TableError.iceberg(path, "an Avro union branch \(i) out of range") }
            return try value(union[i], &named)
        }
        if let name = schema as? String {
            switch name {
            case "null": return .null
            case "boolean": return .bool(try take(1)[0] != 0)
            case "int", "long": return .int(try long())
            case "float":
                let b = try take(4)
                return .float(Double(Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)))
            case "double":
                let b = try take(8)
                var bits: UInt64 = 0
                for i in 0..<8 { bits |= UInt64(b[i]) << (8 * UInt64(i)) }
                return .float(Double(bitPattern: bits))
            case "bytes": return .bytes(try blob())
            case "string": return .string(try text())
            default:
                guard let t = named[name] else { throw TableError.iceberg(path, "unknown Avro type '\(name)'") }
                return try value(t, &named)
            }
        }
        guard let s = schema as? [String: Any], let type = s["type"] else { throw TableError.iceberg(path, "an Avro schema that is not understood") }
        if let n = s["name"] as? String { named[n] = s }
        switch type as? String {
        case "record":
            var fields: [String: AvroValue] = [:]
            for f in (s["fields"] as? [[String: Any]]) ?? [] { fields[f["name"] as? String ?? ""] = try value(f["type"] ?? "null", &named) }
            return .record(fields)
        case "enum": return .int(try long())
        case "fixed": return .bytes(try take(s["size"] as? Int ?? 0))
        case "array":
            var items: [AvroValue] = []
            while true {
                var n = try long()
                if n == 0 { break }
                if n < 0 { n = -n; _ = try long() }
                for _ in 0..<n { items.append(try value(s["items"] ?? "null", &named)) }
            }
            return .array(items)
        case "map":
            var m: [String: AvroValue] = [:]
            while true {
                var n = try long()
                if n == 0 { break }
                if n < 0 { n = -n; _ = try long() }
                for _ in 0..<n { m[try text()] = try value(s["values"] ?? "null", &named) }
            }
            return .map(m)
        default:
            return try value(type, &named)  // {"type": "long", "logicalType": …}
        }
    }
}
