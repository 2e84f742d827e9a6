#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which operation, on which path, and the OS's reason.
public struct PosixError: StrataError {
    /// The operation (`open`, `read`, `rename`, …).
    public let operation: String
    /// The path it was applied to.
    public let path: String
    /// The errno value.
    public let number: Int32
    /// Creates an error from the current errno.
    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation; self.path = path; self.number = code
    }
    /// True for "no such file or directory".
    public var isNotFound: Bool { number == ENOENT }
    public var code: String { "os." + operation.split(separator: " ").joined(separator: "-") }
    public var category: ErrorCategory { .failure }
    public var message: String { "cannot \(operation) '\(path)': \(String(cString: strerror(number)))" }
    public var nextStep: String? {
        switch number {
        case ENOSPC: return "free some disk space and retry"
        case EACCES, EPERM, EROFS: return "check the permissions of that path and retry"
        default: return nil
        }
    }
}

/// What `lstat` says about a path.
public struct FileStat: Sendable, Equatable {
    /// Size in bytes.
    public var size: UInt64
    /// Modification time, nanoseconds since the epoch.
    public var mtimeNs: Int64
    /// Status-change time, nanoseconds since the epoch.
    public var ctimeNs: Int64
    /// Inode number.
    public var inode: UInt64
    /// Device number.
    public var device: UInt64
    /// Full st_mode.
    public var mode: UInt32
    /// Regular file.
    public var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    /// Directory.
    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    /// Symbolic link.
    public var isSymlink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
    /// Any execute bit set.
    public var isExecutable: Bool { mode & 0o111 != 0 }

    /// Converts a C stat.
    public init(_ s: stat) {
        size = UInt64(s.st_size)
        mtimeNs = Int64(s.st_mtim.tv_sec) * 1_000_000_000 + Int64(s.st_mtim.tv_nsec)
        ctimeNs = Int64(s.st_ctim.tv_sec) * 1_000_000_000 + Int64(s.st_ctim.tv_nsec)
        inode = UInt64(s.st_ino); device = UInt64(s.st_dev); mode = UInt32(s.st_mode)
    }
}

/// Thin, throwing wrappers over the POSIX calls the store needs.
public enum Posix {
    /// `lstat`; nil when the path does not exist.
    public static func lstat(_ path: String) throws -> FileStat? {
        var s = stat()
        if Glibc.lstat(path, &s) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw PosixError("stat", path)
        }
        return FileStat(s)
    }

    /// `fstat` of an open descriptor.
    public static func fstat(_ fd: Int32, path: String) throws -> FileStat {
        var s = stat()
        if Glibc.fstat(fd, &s) != 0 { throw PosixError("stat", path) }
        return FileStat(s)
    }

    /// Reads a symlink's target, byte for byte: a target need not be UTF-8, and decoding it would repair it into
    /// another target (U+FFFD for each bad byte).
    public static func readlink(_ path: String) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 4097)
        let n = buf.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { Glibc.readlink(path, $0.baseAddress!, $0.count) }
        }
        if n < 0 { throw PosixError("read link", path) }
        // A full buffer may be a cut target; Linux keeps targets under PATH_MAX (4,096 bytes with the NUL).
        if n == buf.count { throw PosixError("read link", path, code: ENAMETOOLONG) }
        return Array(buf[0..<n])
    }

    /// Creates a symlink at `path` whose target is exactly `target`'s bytes.
    public static func symlink(_ target: [UInt8], at path: String) throws {
        let r = (target + [0]).withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { Glibc.symlink($0.baseAddress!, path) } }
        if r != 0 { throw PosixError("create symlink", path) }
    }

    /// Creates a directory and its missing parents.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if let s = try lstat(path) {
            if s.isDirectory { return }
            throw PosixError("create directory", path, code: EEXIST)
        }
        let parent = dirname(path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw PosixError("create directory", path) }
    }

    /// The parent folder of a path ("" for a bare name).
    /// Found as a "/" byte: a combining mark after a "/" would hide it from a Character search.
    public static func dirname(_ path: String) -> String {
        guard let i = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        if i == path.startIndex { return "/" }
        return String(path[..<i])
    }

    /// The last component of a path.
    public static func basename(_ path: String) -> String {
        guard let i = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: i)...])
    }

    /// Creates (or truncates) a private scratch file for writing; the caller closes the descriptor.
    public static func createFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", path) }
        return fd
    }

    /// Removes a file, or a folder with everything below it, without following symlinks; missing is fine.
    public static func removeTree(_ path: String) {
        guard let st = try? lstat(path) else { return }
        if st.isDirectory {
            for n in (try? listDirectory(path)) ?? [] { removeTree(path + "/" + n) }
            _ = rmdir(path)
        } else {
            try? unlink(path)
        }
    }

    /// fsync of a directory, so that renames inside it are durable.
    public static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Renames atomically.
    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw PosixError("rename to '\(to)'", from) }
    }

    /// Removes a file (ignores a missing one).
    public static func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw PosixError("remove", path) }
    }

    /// Removes an empty directory; returns false when it is not empty or missing.
    @discardableResult
    public static func rmdir(_ path: String) -> Bool { Glibc.rmdir(path) == 0 }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync of the folder.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp-\(getpid())-\(randomHex(4))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 { throw PosixError("create", tmp) }
        do {
            try writeAll(fd, bytes, path: tmp)
            if fsync(fd) != 0 { throw PosixError("fsync", tmp) }
            close(fd)
            try rename(tmp, path)
        } catch {
            close(fd); _ = Glibc.unlink(tmp); throw error
        }
        fsyncDirectory(dirname(path).isEmpty ? "." : dirname(path))
    }

    /// Writes every byte of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in try writeAll(fd, b, path: path) }
    }

    /// Writes every byte of a buffer to `fd`.
    public static func writeAll(_ fd: Int32, _ b: UnsafeRawBufferPointer, path: String) throws {
        var off = 0
        while off < b.count {
            let n = write(fd, b.baseAddress! + off, b.count - off)
            if n < 0 { if errno == EINTR { continue }; throw PosixError("write", path) }
            off += n
        }
    }

    /// Reads up to `count` bytes at `offset`, retrying short reads; returns the bytes read.
    public static func pread(_ fd: Int32, into b: UnsafeMutableRawBufferPointer, offset: Int64, path: String) throws -> Int {
        var got = 0
        while got < b.count {
            let n = Glibc.pread(fd, b.baseAddress! + got, b.count - got, off_t(offset) + off_t(got))
            if n < 0 { if errno == EINTR { continue }; throw PosixError("read", path) }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Reads until `b` is full or end of file; returns the bytes read.
    public static func readFull(_ fd: Int32, into b: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        var got = 0
        while got < b.count {
            let n = read(fd, b.baseAddress! + got, b.count - got)
            if n < 0 { if errno == EINTR { continue }; throw PosixError("read", path) }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Reads a whole (small) file.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw PosixError("open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try buf.withUnsafeMutableBytes { (b) throws -> Int in try readFull(fd, into: b, path: path) }
            out.append(contentsOf: buf[0..<n])
            if n < buf.count { break }
        }
        return out
    }

    /// Random bytes from the kernel, as hex.
    public static func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let b = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let d = Array("0123456789abcdef".utf8)
        return String(decoding: b.flatMap { [d[Int($0 >> 4)], d[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// Wall-clock time in nanoseconds since the epoch.
    public static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Monotonic time in nanoseconds.
    public static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// The current working directory.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return "." }
        return String(cString: buf)
    }

    /// The absolute, symlink-free form of an existing path.
    public static func realpath(_ path: String) -> String? {
        guard let p = Glibc.realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The names in a folder (without `.` and `..`).
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw PosixError("read directory", path) }
        defer { closedir(d) }
        var out: [String] = []
        while let ent = readdir(d) {
            let n = withUnsafePointer(to: ent.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if n != "." && n != ".." { out.append(n) }
        }
        return out
    }

    /// The host name.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(cString: buf)
    }

    /// This process id.
    public static var pid: Int32 { getpid() }
}

/// An exclusive advisory lock on a file (flock), released on close or process death.
public final class FileLock: @unchecked Sendable {
    // The descriptor is owned by this object alone and closed in deinit; no shared mutable state.
    private let fd: Int32
    /// The lock file.
    public let path: String

    /// Takes the lock, waiting up to `timeout` seconds; nil when another process still holds it.
    public init?(path: String, timeout: Double) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw PosixError("open lock file", path) }
        let deadline = Posix.monotonicNs() + UInt64(timeout * 1e9)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Posix.monotonicNs() >= deadline { close(fd); return nil }
            usleep(20_000)
        }
        self.fd = fd; self.path = path
        let info = "host=\(Posix.hostname()) pid=\(getpid()) time=\(Posix.nowNs() / 1_000_000_000)\n"
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, info, info.utf8.count, 0)
    }

    /// Rewrites the holder line with the current time (for long-held locks).
    public func refresh() {
        let info = "host=\(Posix.hostname()) pid=\(getpid()) time=\(Posix.nowNs() / 1_000_000_000)\n"
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, info, info.utf8.count, 0)
    }

    /// Empties the holder line: a clean release, so the next holder sees no stale entry.
    public func clear() { _ = ftruncate(fd, 0) }

    /// Releases the lock now (also done when the object goes away), so that the same process can take it again
    /// before every reference to this object is gone.
    public func unlock() { _ = flock(fd, LOCK_UN) }

    /// What the holder wrote into the lock file (host, pid, time).
    public static func holder(path: String) -> String {
        (try? Posix.readFile(path)).map { String(decoding: $0, as: UTF8.self).trimmingSuffixNewline } ?? "unknown"
    }

    deinit { flock(fd, LOCK_UN); close(fd) }
}

extension String {
    var trimmingSuffixNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
