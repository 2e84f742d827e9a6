import StrataModel
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Computes file ids without storing anything (for `status` and `diff` against the workspace).
public enum ContentHasher {
    /// SHA-256 of a file's bytes, its size, and the stat taken before reading; nil when it changed while read.
    public static func hashFile(_ path: String) throws -> (ObjectID, UInt64, FileStat)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw PosixError("open", path) }
        defer { close(fd) }
        let before = try Posix.fstat(fd, path: path)
        let cap = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: cap, alignment: 64)
        defer { buf.deallocate() }
        var h = SHA256Hasher()
        var total: UInt64 = 0
        while true {
            let n = try Posix.readFull(fd, into: buf, path: path)
            h.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            total += UInt64(n)
            if n < cap { break }
        }
        let after = try Posix.fstat(fd, path: path)
        guard after.mtimeNs == before.mtimeNs, after.size == total else { return nil }
        return (h.finalize(), total, before)
    }

    /// The id of a symlink: SHA-256 of its target's bytes (returned too), as they are on disk.
    public static func hashSymlink(_ path: String) throws -> (ObjectID, UInt64, [UInt8]) {
        let target = try Posix.readlink(path)
        return (ObjectID.hash(target), UInt64(target.count), target)
    }
}
