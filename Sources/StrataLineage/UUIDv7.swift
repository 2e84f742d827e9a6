import Foundation

/// Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then random bits.
public enum UUIDv7 {
    /// A new id for `date`.
    public static func make(_ date: Date = Date()) -> String {
        var b = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<16 { b[i] = UInt8.random(in: 0...255, using: &rng) }
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> UInt64(8 * (5 - i))) }
        b[6] = (b[6] & 0x0F) | 0x70
        b[8] = (b[8] & 0x3F) | 0x80
        let hex = b.map { String(format: "%02x", $0) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}
