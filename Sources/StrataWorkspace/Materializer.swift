import StrataModel
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Failures while writing into the workspace.
public enum WorkspaceError: StrataError {
    /// A path that would leave the workspace or pass through a symlink.
    case unsafePath(String, reason: String)
    /// A file is in the way of a directory (or the other way round).
    case obstructed(String)
    /// Workspace entries whose names cannot be versioned (not valid UTF-8, with a newline, starting with a combining mark,
    /// or equal to a sibling's name under Unicode normalization), shown escaped.
    case unversionableNames([String])

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .unsafePath(let p, let r):
            return ("path.unsafe", .unsafePath, "refusing to write '\(p)': \(r)", "the commit or argument may have been crafted; inspect it with 'strata ls'")
        case .obstructed(let p): return ("path.obstructed", .conflict, "'\(p)' is in the way", "move it aside and retry")
        case .unversionableNames(let ns):
            return (
                "path.unversionable", .unsafePath,
                "these workspace names cannot be versioned (not valid UTF-8, containing a newline, starting with a combining mark, "
                    + "or differing from a sibling's name only in Unicode normalization, NFC against NFD):\n\(ErrorText.list(ns))",
                "rename them, or list them in .strataignore; nothing was changed"
            )
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}

/// Writes files, symlinks and folders into the workspace without ever leaving it.
public struct Materializer: Sendable {
    /// Workspace root (absolute).
    public let root: String

    /// Creates a materializer for a workspace root.
    public init(root: String) { self.root = root }

    /// Checks that a relative path has only safe components and that no existing parent is a symlink.
    public func validate(_ rel: String) throws {
        if rel.hasPrefix("/") { throw WorkspaceError.unsafePath(rel, reason: "it is an absolute path") }
        let parts = rel.slashSeparated(omittingEmpty: false)
        for p in parts {
            do { try TreeEntry.validate(name: String(p)) } catch {
                throw WorkspaceError.unsafePath(rel, reason: "component '\(p)' is not a plain name")
            }
        }
        if parts.first.map({ IgnoreRules.alwaysIgnored.contains(String($0)) }) == true {
            throw WorkspaceError.unsafePath(rel, reason: "it is inside .strata or .git")
        }
        var cur = root
        for p in parts.dropLast() {
            cur += "/" + p
            if let st = try Posix.lstat(cur) {
                if st.isSymlink { throw WorkspaceError.unsafePath(rel, reason: "'\(cur.dropFirst(root.count + 1))' is a symlink") }
                if !st.isDirectory { throw WorkspaceError.obstructed(String(cur.dropFirst(root.count + 1))) }
            }
        }
    }

    /// Creates the parent folders of `rel`.
    public func makeParents(_ rel: String) throws {
        let parent = Posix.dirname(rel)
        if !parent.isEmpty { try Posix.makeDirectories(root + "/" + parent) }
    }

    /// Writes a regular file by streaming `fill` into a temp file, then renaming it over `rel`.
    /// Returns the stat of the new file.
    public func writeFile(_ rel: String, executable: Bool, _ fill: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> FileStat {
        try validate(rel)
        try makeParents(rel)
        let path = root + "/" + rel
        let existing = try Posix.lstat(path)
        if let st = existing, st.isDirectory { try removeTree(rel) }
        if existing == nil || existing!.isDirectory {
            // Nothing to replace: write in place (a crash leaves a partial file that status reports as modified).
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o755 : 0o644)
            if fd < 0 { throw PosixError("create", path) }
            do {
                try fill { b in try Posix.writeAll(fd, b, path: path) }
                close(fd)
            } catch { close(fd); unlink(path); throw error }
            guard let st = try Posix.lstat(path) else { throw PosixError("stat", path, code: ENOENT) }
            return st
        }
        let tmp = root + "/" + (Posix.dirname(rel).isEmpty ? "" : Posix.dirname(rel) + "/") + ".strata-tmp-" + Posix.randomHex(6)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o755 : 0o644)
        if fd < 0 { throw PosixError("create", tmp) }
        do {
            try fill { b in try Posix.writeAll(fd, b, path: tmp) }
            if executable { fchmod(fd, 0o755) } else { fchmod(fd, 0o644) }
            close(fd)
            try Posix.rename(tmp, path)
        } catch {
            close(fd); unlink(tmp); throw error
        }
        guard let st = try Posix.lstat(path) else { throw PosixError("stat", path, code: ENOENT) }
        return st
    }

    /// Creates (or replaces) a symlink. Any target is recorded and restored as it was (as git does): creating a link
    /// is harmless because Strata never writes, reads for a commit, or deletes through one (`validate`).
    public func writeSymlink(_ rel: String, target: [UInt8]) throws -> FileStat {
        try validate(rel)
        try makeParents(rel)
        let path = root + "/" + rel
        if let st = try Posix.lstat(path) {
            if st.isDirectory { try removeTree(rel) } else { try Posix.unlink(path) }
        }
        try Posix.symlink(target, at: path)
        guard let st = try Posix.lstat(path) else { throw PosixError("stat", path, code: ENOENT) }
        return st
    }

    /// Removes a file or symlink and then any parent folders left empty.
    public func remove(_ rel: String) throws {
        try validate(rel)
        try Posix.unlink(root + "/" + rel)
        var parent = Posix.dirname(rel)
        while !parent.isEmpty {
            if !Posix.rmdir(root + "/" + parent) { break }
            parent = Posix.dirname(parent)
        }
    }

    /// Removes whatever is at `rel` (file, symlink or folder tree) without following symlinks; nothing when absent.
    /// The path is validated first: it cannot be the root, leave the workspace, enter `.strata` or pass a symlink.
    public func removeAny(_ rel: String) throws {
        try validate(rel)
        guard let st = try Posix.lstat(root + "/" + rel) else { return }
        if st.isDirectory { try removeTree(rel) } else { try Posix.unlink(root + "/" + rel) }
    }

    /// Removes a folder and everything in it (used when a file replaces a folder).
    public func removeTree(_ rel: String) throws {
        let path = root + "/" + rel
        guard let names = try? Posix.listDirectory(path) else { return }
        for n in names {
            let child = rel + "/" + n
            if let st = try Posix.lstat(root + "/" + child), st.isDirectory { try removeTree(child) } else { try Posix.unlink(root + "/" + child) }
        }
        Posix.rmdir(path)
    }
}
