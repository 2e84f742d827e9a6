#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// FastCDC-style content-defined chunking with a gear hash and normalised chunk sizes.
///
/// Parameters are fixed by format version 1 (see `store/FORMAT.md`): minimum 64 KiB, average 256 KiB,
/// maximum 1 MiB, gear table of 256 splitmix64 values from seed 0x5354524154414344 ("STRATACD").
public struct Chunker: Sendable {
    /// Smallest chunk (except the last one of a file).
    public static let minSize = 64 * 1024
    /// Target average chunk size.
    public static let avgSize = 256 * 1024
    /// Largest chunk.
    public static let maxSize = 1024 * 1024
    /// Files of at least this many bytes are chunked; smaller ones are stored whole.
    public static let threshold = 1024 * 1024

    /// Mask used below the average size: the top 20 bits (log2(avg) + 2), so cuts are rarer.
    static let maskS: UInt64 = ~UInt64(0) << 44
    /// Mask used above the average size: the top 16 bits (log2(avg) - 2), so cuts come sooner.
    static let maskL: UInt64 = ~UInt64(0) << 48

    /// The gear table.
    public static let gear: [UInt64] = {
        var s: UInt64 = 0x5354_5241_5441_4344
        var t: [UInt64] = []
        for _ in 0..<256 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            t.append(z ^ (z >> 31))
        }
        return t
    }()

    /// The gear table in raw memory (allocated once, never freed), so the hot loop has no array overhead.
    nonisolated(unsafe) static let gearTable: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        for (i, v) in gear.enumerated() { p[i] = v }
        return p
    }()

    /// Creates a chunker.
    public init() {}

    /// The length of the next chunk at the start of `p[0..<n]`; `n` must hold `maxSize` bytes unless at end of file.
    @inline(__always)
    public func cut(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        if n <= Chunker.minSize { return n }
        let limit = n < Chunker.maxSize ? n : Chunker.maxSize
        let normal = Chunker.avgSize < limit ? Chunker.avgSize : limit
        let g = Chunker.gearTable
        var h: UInt64 = 0
        var i = Chunker.minSize
        let ms = Chunker.maskS, ml = Chunker.maskL
        while i < normal {
            h = (h << 1) &+ g[Int(p[i])]
            if h & ms == 0 { return i + 1 }
            i &+= 1
        }
        while i < limit {
            h = (h << 1) &+ g[Int(p[i])]
            if h & ml == 0 { return i + 1 }
            i &+= 1
        }
        return limit
    }

    /// Splits a whole buffer into chunk lengths (for tests and small inputs).
    public func boundaries(_ bytes: [UInt8]) -> [Int] {
        var out: [Int] = []
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            while start < b.count {
                let n = cut(b.baseAddress! + start, b.count - start)
                out.append(n); start += n
            }
        }
        return out
    }
}

/// Finds the record boundaries of a CSV or TSV table (quote-aware, with the states of the table parser: a line break
/// inside a quoted field ends no record) or of a JSONL file (every line break), as the file's bytes go by. Large
/// tables are chunked at these boundaries (store/FORMAT.md, "Record-aligned chunks"), so two versions' identical
/// chunks hold identical rows.
public struct RecordScanner: Sendable {
    /// How records end.
    public enum Mode: Sendable, Equatable {
        /// Fields separated by this byte, quoted with `"`.
        case delimited(UInt8)
        /// One record per line.
        case lines
    }
    enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    let mode: Mode
    var state = State.fieldStart
    /// Absolute offset scanned up to.
    public private(set) var position: Int64 = 0

    /// A scanner for `mode`, starting at the start of a record at offset `at` (0: the start of the file).
    public init(mode: Mode, at: Int64 = 0) { self.mode = mode; self.position = at }

    /// The mode for a path's extension (csv, tsv, tab, jsonl, ndjson), or nil when it is not a table.
    public static func mode(forPath path: String) -> Mode? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .delimited(UInt8(ascii: ",")) }
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { return .delimited(9) }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .lines }
        return nil
    }

    /// Scans `p[(position - base)..<count]` (bytes whose absolute offset starts at `base`) and returns the absolute
    /// offset just after the first record boundary at or past `from`, stopping there; nil when none was found.
    ///
    /// The machine goes byte by byte only at quotes and near `from`. Before `from` - 1 it jumps from quote to quote
    /// (memchr), inside or outside quoted fields: outside them, the state after a run without quotes follows from the
    /// run's last byte, and a boundary there is not one this call returns. From `from` - 1 on, it jumps inside a quoted
    /// field to the next quote and inside an unquoted one to the next separator or line break; a JSONL file jumps
    /// straight to the first line break at or past `from` - 1.
    /// A property test holds it to the plain byte-at-a-time machine.
    public mutating func next(_ p: UnsafePointer<UInt8>, count: Int, base: Int64, from: Int64) -> Int64? {
        var i = Int(position - base)
        switch mode {
        case .lines:
            // The boundary is just after a line break at index j with base + j + 1 >= from.
            let skip = Int(max(0, from - 1 - base))
            if skip > i { i = min(skip, count) }
            if i < count, let hit = memchr(p + i, 10, count - i) {
                position = base + Int64(UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p + 1)
                return position
            }
        case .delimited(let sep):
            // Bytes before index `skip` cannot end a record this call returns.
            let skip = Int(max(0, from - 1 - base))
            while i < count {
                switch state {
                case .quoted:
                    guard let hit = memchr(p + i, 34, count - i) else { i = count; continue }
                    i = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p + 1
                    state = .quoteInQuoted
                    continue
                case .fieldStart, .unquoted:
                    if i < skip {
                        // Outside quotes, only a quote can lead anywhere but `fieldStart` or `unquoted`, and which of
                        // the two follows a run without quotes depends on its last byte alone: jump to the next quote.
                        let end = min(count, skip)
                        let q = memchr(p + i, 34, end - i).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - p } ?? end
                        if q > i {
                            state = p[q - 1] == sep || p[q - 1] == 10 ? .fieldStart : .unquoted
                            i = q
                            continue
                        }
                    } else if state == .unquoted {
                        while i < count && p[i] != sep && p[i] != 10 { i &+= 1 }
                        if i == count { continue }
                    }
                case .quoteInQuoted:
                    break
                }
                i += 1
                if step(p[i - 1], separator: sep) && base + Int64(i) >= from { position = base + Int64(i); return position }
            }
        }
        position = base + Int64(count)
        return nil
    }

    /// One byte through the quote-aware machine of a delimited table; true when the byte ends a record (a line break
    /// outside quotes).
    @inline(__always)
    mutating func step(_ c: UInt8, separator sep: UInt8) -> Bool {
        switch state {
        case .quoted:
            if c == 34 { state = .quoteInQuoted }
            return false
        case .fieldStart:
            if c == 34 { state = .quoted; return false }
        case .quoteInQuoted:
            if c == 34 { state = .quoted; return false }
            state = .unquoted
        case .unquoted:
            break
        }
        if c == sep {
            state = .fieldStart
        } else if c == 10 {
            state = .fieldStart
            return true
        } else if state == .fieldStart {
            state = .unquoted
        }
        return false
    }
}
