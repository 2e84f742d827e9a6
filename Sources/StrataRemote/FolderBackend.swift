import StrataModel
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// A remote in a folder (`file:///mnt/shared/strata`): the same layout as on object storage, one file per key.
///
/// Writes are durable and atomic (temp file under `.tmp/`, fsync, then `link` or `rename`, then fsync of the folder).
/// Create-only is `link(2)`, which fails when the name exists, so two machines sharing the folder cannot both create
/// a key. Compare-and-swap holds an `flock` on a per-key lock file under `.locks/` while it compares the entity tag
/// (the SHA-256 of the content) and renames the new version into place. Reads never see a partial object.
public struct FolderBackend: RemoteBackend {
    /// The folder (absolute).
    public let root: String

    /// A folder remote; the folder and its `.tmp/` and `.locks/` are created by the first write, so reading a
    /// folder that is not a remote (a mistyped clone URL) leaves nothing behind.
    public init(root: String) throws {
        self.root = root
    }

    public var displayName: String { "file://" + root }

    func path(_ key: String) throws -> String {
        try RemoteError.check(key)
        if key.hasPrefix(".tmp/") || key.hasPrefix(".locks/") || key == ".tmp" || key == ".locks" { throw RemoteError.invalidKey(key) }
        return root + "/" + key
    }

    func wrap<R>(_ key: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as PosixError { throw RemoteError.storage(remote: displayName, key: key, cause: e) }
    }

    static func etag(_ bytes: [UInt8]) -> String { ObjectID.hash(bytes).hex }

    public func get(_ key: String) throws -> StoredObject? {
        let p = try path(key)
        return try wrap(key) {
            guard try Posix.lstat(p) != nil else { return nil }
            let bytes = try Posix.readFile(p)
            return StoredObject(bytes: bytes, etag: FolderBackend.etag(bytes))
        }
    }

    public func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] {
        let p = try path(key)
        return try wrap(key) {
            let fd = open(p, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { throw RemoteError.notFound(remote: displayName, key: key) }
                throw PosixError("open", p)
            }
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: max(0, length))
            let n = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offset, path: p) }
            return Array(buf[0..<n])
        }
    }

    public func head(_ key: String) throws -> String? { try get(key)?.etag }

    /// A durable temp file holding `bytes`, in the same file system as the objects.
    func stage(_ bytes: [UInt8], key: String) throws -> String {
        try Posix.makeDirectories(root + "/.tmp")
        let tmp = root + "/.tmp/" + Posix.randomHex(12)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        if fd < 0 { throw PosixError("create", tmp) }
        do {
            try Posix.writeAll(fd, bytes, path: tmp)
            if fsync(fd) != 0 { throw PosixError("fsync", tmp) }
            close(fd)
        } catch { close(fd); unlink(tmp); throw error }
        return tmp
    }

    public func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome {
        let p = try path(key)
        return try wrap(key) {
            try Posix.makeDirectories(Posix.dirname(p))
            let tmp = try stage(bytes, key: key)
            defer { unlink(tmp) }
            if link(tmp, p) != 0 {
                if errno == EEXIST { return .conditionFailed }
                throw PosixError("link", p)
            }
            Posix.fsyncDirectory(Posix.dirname(p))
            return .written(etag: FolderBackend.etag(bytes))
        }
    }

    /// Streams the file into `.tmp/` (1 MiB at a time), fsyncs it and links it into place: a pack never sits in memory.
    public func createFile(_ key: String, path source: String, sha256: String, size: Int64) throws -> PutOutcome {
        let p = try path(key)
        return try wrap(key) {
            try Posix.makeDirectories(Posix.dirname(p))
            try Posix.makeDirectories(root + "/.tmp")
            let tmp = root + "/.tmp/" + Posix.randomHex(12)
            let inFD = open(source, O_RDONLY | O_CLOEXEC)
            if inFD < 0 { throw PosixError("open", source) }
            defer { close(inFD) }
            let outFD = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            if outFD < 0 { throw PosixError("create", tmp) }
            defer { unlink(tmp) }
            let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buf.deallocate() }
            do {
                while true {
                    let n = try Posix.readFull(inFD, into: buf, path: source)
                    if n == 0 { break }
                    try Posix.writeAll(outFD, UnsafeRawBufferPointer(rebasing: buf[0..<n]), path: tmp)
                    if n < buf.count { break }
                }
                if fsync(outFD) != 0 { throw PosixError("fsync", tmp) }
                close(outFD)
            } catch { close(outFD); throw error }
            if link(tmp, p) != 0 {
                if errno == EEXIST { return .conditionFailed }
                throw PosixError("link", p)
            }
            Posix.fsyncDirectory(Posix.dirname(p))
            return .written(etag: sha256)
        }
    }

    public func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome {
        let p = try path(key)
        return try wrap(key) {
            try Posix.makeDirectories(root + "/.locks")
            let lockPath = root + "/.locks/" + ObjectID.hash(Array(key.utf8)).hex
            guard let lock = try FileLock(path: lockPath, timeout: 30) else { throw PosixError("lock", lockPath, code: EAGAIN) }
            defer { lock.unlock() }
            guard try Posix.lstat(p) != nil, FolderBackend.etag(try Posix.readFile(p)) == etag else { return .conditionFailed }
            let tmp = try stage(bytes, key: key)
            do { try Posix.rename(tmp, p) } catch { unlink(tmp); throw error }
            Posix.fsyncDirectory(Posix.dirname(p))
            return .written(etag: FolderBackend.etag(bytes))
        }
    }

    public func list(prefix: String) throws -> [String] {
        try wrap(prefix) {
            var out: [String] = []
            func walk(_ rel: String) throws {
                let dir = rel.isEmpty ? root : root + "/" + rel
                for name in try Posix.listDirectory(dir) {
                    if rel.isEmpty && (name == ".tmp" || name == ".locks") { continue }
                    let child = rel.isEmpty ? name : rel + "/" + name
                    // Descend only where the prefix can still match.
                    guard child.hasPrefix(prefix) || prefix.hasPrefix(child + "/") else { continue }
                    if let st = try Posix.lstat(root + "/" + child), st.isDirectory { try walk(child) } else if child.hasPrefix(prefix) { out.append(child) }
                }
            }
            if try Posix.lstat(root) != nil { try walk("") }  // never written: nothing listed
            return out.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
    }

    public func listDetailed(prefix: String) throws -> [ListedObject] {
        try list(prefix: prefix).compactMap { key in
            try wrap(key) {
                guard let st = try Posix.lstat(root + "/" + key) else { return nil }
                return ListedObject(key: key, size: Int64(st.size), modified: st.mtimeNs / 1_000_000_000)
            }
        }
    }

    public func delete(_ key: String) throws {
        let p = try path(key)
        try wrap(key) {
            if unlink(p) != 0 && errno != ENOENT { throw PosixError("delete", p) }
        }
    }
}
