import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A temporary file for records that must not be held in memory (a first commit's million index rows or stat-cache
/// entries): appended to, then read back once, in order. Its name is removed as soon as it is created, so the file
/// is gone when the process closes it or dies, and nothing is ever left behind. Not thread-safe: callers serialise.
public final class SpillFile {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    /// Records appended (as counted by the caller's `append`).
    public private(set) var records = 0
    /// Bytes of the buffer before it goes to the file.
    static let bufferLimit = 1 << 20

    /// Creates the file in `directory` (made when missing) and unlinks its name at once.
    public init(directory: String) throws {
        try Posix.makeDirectories(directory)
        path = directory + "/tmp-spill-" + Posix.randomHex(8)
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", path) }
        unlink(path)
        buffer.reserveCapacity(SpillFile.bufferLimit)
    }

    deinit { close(fd) }

    /// Appends one record's bytes.
    public func append(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        records += 1
        if buffer.count >= SpillFile.bufferLimit { try flush() }
    }

    private func flush() throws {
        if buffer.isEmpty { return }
        try Posix.writeAll(fd, buffer, path: path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Reads the records back in the order they were appended: `body` gets a reader and takes one record from it
    /// per call, until every appended byte is read.
    public func read(_ body: (inout SpillReader) throws -> Void) throws {
        try flush()
        var reader = SpillReader(fd: fd, path: path)
        while try reader.hasMore() { try body(&reader) }
    }
}

/// Reads a `SpillFile` back a megabyte at a time.
public struct SpillReader {
    let fd: Int32
    let path: String
    private var block: [UInt8] = []
    private var at = 0
    private var offset: Int64 = 0

    init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    mutating func hasMore() throws -> Bool {
        if at < block.count { return true }
        try refill(1)
        return at < block.count
    }

    /// Makes at least `n` bytes available (fewer only at the end of the file).
    private mutating func refill(_ n: Int) throws {
        if block.count - at >= n { return }
        var next = Array(block[at...])
        let want = max(n - next.count, SpillFile.bufferLimit)
        var more = [UInt8](repeating: 0, count: want)
        let got = try more.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offset, path: path) }
        offset += Int64(got)
        next.append(contentsOf: more[..<got])
        block = next
        at = 0
    }

    /// The next `n` bytes; throws when the file ends first (a spill is only read by the code that wrote it, so that
    /// would be a bug, reported rather than crashed on).
    public mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        try refill(n)
        guard block.count - at >= n else { throw PosixError("read back (short spill file)", path, code: EIO) }
        defer { at += n }
        return block[at..<at + n]
    }

    /// The next 8 bytes as a little-endian integer.
    public mutating func int64() throws -> Int64 {
        let b = try take(8)
        return b.reversed().reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
}

extension Array where Element == UInt8 {
    /// Appends a little-endian 64-bit integer (a `SpillFile` record field).
    public mutating func appendInt64(_ v: Int64) {
        var x = UInt64(bitPattern: v)
        for _ in 0..<8 { append(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }
}
