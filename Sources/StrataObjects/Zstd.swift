import CZstd

/// zstd compression of independent frames; incompressible input is reported as such.
public enum Zstd {
    /// Compresses `src` at `level`; returns nil when the result would not be at least 2 % smaller.
    public static func compress(_ src: UnsafeRawBufferPointer, level: Int32, into dst: inout [UInt8]) -> Bool {
        let bound = ZSTD_compressBound(src.count)
        if dst.count < bound { dst = [UInt8](repeating: 0, count: bound) }
        let n = dst.withUnsafeMutableBytes { d in
            ZSTD_compress(d.baseAddress, bound, src.baseAddress, src.count, level)
        }
        if ZSTD_isError(n) != 0 { return false }
        guard n < src.count - src.count / 50 else { return false }
        dst.removeSubrange(n...)
        return true
    }

    /// Decompresses a frame whose raw length is known; nil when the frame is corrupt or the length differs.
    public static func decompress(_ src: UnsafeRawBufferPointer, rawLength: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: rawLength)
        let n = out.withUnsafeMutableBytes { d in
            ZSTD_decompress(d.baseAddress, rawLength, src.baseAddress, src.count)
        }
        if ZSTD_isError(n) != 0 || n != rawLength { return nil }
        return out
    }
}
