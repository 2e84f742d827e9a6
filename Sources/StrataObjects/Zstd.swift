import CZstd
import Foundation

/// zstd decompression of independent frames (compression: `ZstdCompressor`).
public enum Zstd {
    /// Decompression contexts kept between calls: `ZSTD_decompress` makes and frees one per frame, which a checkout
    /// of a large table does thousands of times. At most `poolLimit` are kept; guarded by `poolLock`.
    nonisolated(unsafe) private static var pool: [OpaquePointer] = []
    private static let poolLock = NSLock()
    private static let poolLimit = 8

    /// Decompresses a frame whose raw length is known; nil when the frame is corrupt or the length differs.
    public static func decompress(_ src: UnsafeRawBufferPointer, rawLength: Int) -> [UInt8]? {
        guard let context = poolLock.withLock({ pool.popLast() }) ?? ZSTD_createDCtx() else { return nil }
        defer {
            poolLock.withLock {
                if pool.count < poolLimit { pool.append(context) } else { ZSTD_freeDCtx(context) }
            }
        }
        var complete = false
        // Every byte is written when the frame decodes to exactly `rawLength` bytes; otherwise nothing is kept.
        let out = [UInt8](unsafeUninitializedCapacity: rawLength) { buffer, count in
            let n = ZSTD_decompressDCtx(context, buffer.baseAddress, rawLength, src.baseAddress, src.count)
            complete = ZSTD_isError(n) == 0 && n == rawLength
            count = complete ? rawLength : 0
        }
        return complete ? out : nil
    }
}

/// A zstd compression context and output buffer reused from frame to frame. `ZSTD_compress` makes and frees a
/// context on every call, and a fresh output array was zero-filled per frame; a writer lane keeps one of these instead.
///
/// After a large frame that did not shrink, the next large frame is probed first (like borg's `auto` compression):
/// three 4 KiB samples are compressed at level 1, and when they do not shrink either the frame is stored raw without
/// a full attempt. Data that is compressed already (Parquet, images, archives) then costs a sixteenth of a full
/// attempt per frame; a stream that compresses is never probed, so it pays nothing. The choice only decides between
/// a raw and a zstd frame, both valid for the same bytes. Used by one thread at a time.
final class ZstdCompressor {
    let level: Int32
    private let context: OpaquePointer
    private var buffer: UnsafeMutableRawBufferPointer
    /// Whether the last frame of at least `probeMinimum` bytes was stored raw.
    private var lastLargeWasRaw = false
    /// Frames stored raw on the probe alone (for tests and reports).
    private(set) var rawByProbe = 0

    /// Frames from this size on are probed after an incompressible one.
    static let probeMinimum = 64 << 10
    /// Bytes in each of the three samples of a probe.
    static let sampleSize = 4 << 10

    init(level: Int32) {
        self.level = level
        context = ZSTD_createCCtx()
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    }

    deinit {
        ZSTD_freeCCtx(context)
        buffer.deallocate()
    }

    /// Compresses `src` and passes the compressed bytes to `body`, or nil when it is stored raw: at level 0, below
    /// 64 bytes, or when they would not be at least 2 % smaller than `src`. The bytes are valid only inside `body`.
    func compress<R>(_ src: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        if level == 0 || src.count < 64 { return try body(nil) }
        let bound = ZSTD_compressBound(src.count)
        if buffer.count < bound {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 16)
        }
        let large = src.count >= ZstdCompressor.probeMinimum
        if large && lastLargeWasRaw && !probeShrinks(src) {
            rawByProbe += 1
            return try body(nil)
        }
        let n = ZSTD_compressCCtx(context, buffer.baseAddress, bound, src.baseAddress, src.count, level)
        let raw = ZSTD_isError(n) != 0 || n >= src.count - src.count / 50
        if large { lastLargeWasRaw = raw }
        return try body(raw ? nil : UnsafeRawBufferPointer(rebasing: buffer[..<n]))
    }

    /// Whether three samples of `src` (its start, middle and end) shrink by at least 2 % together at level 1.
    private func probeShrinks(_ src: UnsafeRawBufferPointer) -> Bool {
        let size = ZstdCompressor.sampleSize
        var stored = 0
        for start in [0, (src.count - size) / 2, src.count - size] {
            let n = ZSTD_compressCCtx(context, buffer.baseAddress, buffer.count, src.baseAddress! + start, size, 1)
            stored += ZSTD_isError(n) != 0 ? size : n
        }
        return stored < 3 * size - 3 * size / 50
    }
}
