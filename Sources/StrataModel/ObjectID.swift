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
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i / 8] = (words[i / 8] << 8) | UInt64(b) }
        w0 = words[0]; w1 = words[1]; w2 = words[2]; w3 = words[3]
    }

    /// Parses 64 hex digits; nil when the text is not a full id.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = ObjectID.nibble(utf8[2 * i]), let lo = ObjectID.nibble(utf8[2 * i + 1]) else { return nil }
            bytes[i] = hi << 4 | lo
        }
        self.init(bytes: bytes)
    }

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
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(64)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
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

/// Incremental SHA-256 over OpenSSL's EVP interface (uses SHA-NI where the CPU has it).
public struct SHA256Hasher: ~Copyable {
    private let ctx: OpaquePointer

    /// Starts a new digest.
    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// Feeds bytes into the digest.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        if buffer.count > 0 { EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count) }
    }

    /// Finishes the digest and returns the id.
    public consuming func finalize() -> ObjectID {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 32
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return ObjectID(bytes: out)
    }
}
