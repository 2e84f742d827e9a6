import COpenSSL

/// The SHA-256 identity of a stored object: 32 bytes, printed as 64 lower-case hex digits.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 digest bytes as four big-endian words (cheap hashing and comparison).
    public let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The hash algorithm tag of every id in format version 1.
    public static let algorithm = "sha256"

    /// Builds an id from exactly 32 digest bytes.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 32, "an ObjectID needs 32 bytes (this is a bug)")
        if let id = bytes.withContiguousStorageIfAvailable({ ObjectID(raw: UnsafeRawBufferPointer($0)) }) { self = id; return }
        self = Array(bytes).withUnsafeBytes { ObjectID(raw: $0) }
    }

    /// Builds an id from bytes read off disk: a length other than 32 is a malformed stored value, not a trap.
    public init(validating bytes: [UInt8], what: String) throws(ModelError) {
        guard bytes.count == 32 else {
            throw .malformedObject(kind: what, reason: "an object id has \(bytes.count) bytes instead of 32")
        }
        self.init(bytes: bytes)
    }

    /// Builds an id from 32 bytes in memory.
    public init(raw b: UnsafeRawBufferPointer) {
        precondition(b.count == 32, "an ObjectID needs 32 bytes (this is a bug)")
        w0 = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    init(words: (UInt64, UInt64, UInt64, UInt64)) { (w0, w1, w2, w3) = words }

    /// Parses 64 hex digits; nil when the text is not a full id.
    public init?(hex: some StringProtocol) {
        var s = String(hex)
        guard let id = s.withUTF8({ ObjectID(hexBytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }

    /// Parses 64 hex digit bytes (a tree holds one per entry: a table lookup per digit, an invalid digit marked by
    /// the high bit, checked once per word).
    public init?(hexBytes u: UnsafeRawBufferPointer) {
        guard u.count == 64 else { return nil }
        // Through the table's buffer: indexing the global array checked its initialisation and bounds per digit.
        let parsed = ObjectID.nibbles.withUnsafeBufferPointer { tab -> (UInt64, UInt64, UInt64, UInt64)? in
            func word(_ w: Int) -> UInt64? {
                var v: UInt64 = 0
                var invalid: UInt8 = 0
                for k in w * 16..<w * 16 + 16 {
                    let n = tab[Int(u[k])]
                    invalid |= n
                    v = v << 4 | UInt64(n & 0x0F)
                }
                return invalid & 0x80 == 0 ? v : nil
            }
            guard let a = word(0), let b = word(1), let c = word(2), let d = word(3) else { return nil }
            return (a, b, c, d)
        }
        guard let parsed else { return nil }
        self.init(words: parsed)
    }

    /// Hex digit values by byte; 0x80 for a byte that is not a hex digit.
    static let nibbles: [UInt8] = (0..<256).map { c in nibble(UInt8(c)) ?? 0x80 }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return out
    }

    /// 64 lower-case hex digits.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { buf in
            let digits: StaticString = "0123456789abcdef"
            let d = digits.utf8Start
            var i = 0
            for w in [w0, w1, w2, w3] {
                for s in stride(from: 60, through: 0, by: -4) { buf[i] = d[Int((w >> UInt64(s)) & 15)]; i += 1 }
            }
            return 64
        }
    }

    /// The first 12 hex digits, for human-readable output.
    public var short: String { String(hex.prefix(12)) }

    public var description: String { hex }

    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// SHA-256 of a byte buffer.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> ObjectID {
        var h = SHA256Hasher(); h.update(buffer); return h.finalize()
    }

    /// SHA-256 of a byte array.
    public static func hash(_ bytes: [UInt8]) -> ObjectID {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The id of the empty byte string.
    public static let empty = ObjectID.hash([UInt8]())
}

/// Incremental SHA-256 over OpenSSL's `SHA256_CTX` (the same block function as EVP, SHA-NI where the CPU has it,
/// without a context allocated per digest). Its state can be saved at any offset and compared with a state saved
/// earlier: equal states at the same offset mean equal bytes before it (the chaining value after the whole 64-byte
/// blocks, and the bytes of the partial block), short of a SHA-256 collision. A commit uses that to skip the
/// unchanged start of a grown file.
public struct SHA256Hasher: Sendable {
    private var ctx = SHA256_CTX()

    /// Starts a new digest.
    public init() { SHA256_Init(&ctx) }

    /// Feeds bytes into the digest.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if buffer.count > 0 { SHA256_Update(&ctx, buffer.baseAddress, buffer.count) }
    }

    /// Bytes fed so far.
    public var count: Int64 { (Int64(ctx.Nh) << 32 | Int64(ctx.Nl)) >> 3 }

    /// The state as bytes: the eight chaining words, the length in bits, then the partial block's bytes.
    public var state: [UInt8] {
        var ctx = ctx
        var out: [UInt8] = []
        withUnsafeBytes(of: &ctx.h) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: &ctx.Nl) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: &ctx.Nh) { out.append(contentsOf: $0) }
        let partial = Int(ctx.num)
        withUnsafeBytes(of: &ctx.data) { out.append(contentsOf: $0.prefix(partial)) }
        return out
    }

    /// Finishes the digest and returns the id.
    public func finalize() -> ObjectID {
        var ctx = ctx
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &out) { b in
            _ = SHA256_Final(b.baseAddress!.assumingMemoryBound(to: UInt8.self), &ctx)
            return ObjectID(raw: UnsafeRawBufferPointer(b))
        }
    }
}

extension ObjectID: Codable {
    /// Decodes 64 hex digits.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a SHA-256 id: \(text.prefix(80))"))
        }
        self = id
    }

    /// Encodes as 64 hex digits.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}
