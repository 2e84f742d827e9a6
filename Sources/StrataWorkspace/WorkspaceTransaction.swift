import StrataModel
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// A set of workspace changes applied all or nothing: new file contents are written and verified in a scratch
/// folder under `.strata/tmp/` first (never in the workspace), then moved into place by renames. Every file the
/// change replaces or removes is first moved aside into the scratch folder, so a failure half-way (a read-only
/// folder, a full disk) moves everything back. A crash leaves its leftovers only under `.strata/tmp/`, which the
/// next writer clears (`clearStale`).
public final class WorkspaceTransaction {
    /// What to do at one path.
    public enum Change: Sendable {
        /// Write the staged file (already verified) at the path.
        case file(staged: String)
        /// Create a symlink with this target.
        case symlink(target: [UInt8])
        /// Remove the file or symlink at the path.
        case remove
    }

    enum Step { case movedAside(rel: String, aside: String); case placed(rel: String); case madeDirectory(String) }

    /// The workspace root.
    public let root: String
    /// This transaction's scratch folder.
    public let scratch: String
    private var journal: [Step] = []
    private var counter = 0
    private let mat: Materializer

    /// The scratch area of a store (`.strata/tmp`).
    public static func scratchArea(storePath: String) -> String { storePath + "/tmp" }

    /// Removes what crashed transactions left behind. Call only while holding the store's write lock.
    public static func clearStale(storePath: String) {
        let area = scratchArea(storePath: storePath)
        for n in (try? Posix.listDirectory(area)) ?? [] { removeAll(area + "/" + n) }
    }

    /// Starts a transaction for the workspace at `root` whose store is `storePath`.
    public init(root: String, storePath: String) throws {
        self.root = root
        mat = Materializer(root: root)
        let area = WorkspaceTransaction.scratchArea(storePath: storePath)
        try Posix.makeDirectories(area)
        scratch = area + "/checkout-" + Posix.randomHex(8)
        try Posix.makeDirectories(scratch)
    }

    /// A fresh scratch path for staging one file's new contents.
    public func stagingPath(_ index: Int) -> String { scratch + "/new-\(index)" }

    /// Writes a file's new contents into the scratch folder by streaming `fill`. The caller verifies the bytes
    /// (the object store does while streaming) before the file is ever placed.
    public func stage(_ index: Int, executable: Bool, _ fill: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> String {
        let path = stagingPath(index)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o755 : 0o644)
        if fd < 0 { throw PosixError("create", path) }
        do {
            try fill { b in try Posix.writeAll(fd, b, path: path) }
            fchmod(fd, executable ? 0o755 : 0o644)
            close(fd)
        } catch { close(fd); unlink(path); throw error }
        return path
    }

    /// Stages an existing scratch file (on the same file system, known to hold the right bytes: just written and
    /// stored by this process) by renaming it, instead of copying its bytes again.
    public func adopt(_ index: Int, from file: String, executable: Bool) throws -> String {
        let path = stagingPath(index)
        try Posix.rename(file, path)
        chmod(path, executable ? 0o755 : 0o644)
        return path
    }

    /// Applies the changes in order (removals first, then writes, as given). On any failure everything done so far
    /// is undone and the error is rethrown; the workspace is then as it was.
    public func apply(_ changes: [(path: String, change: Change)]) throws -> [String: FileStat] {
        var stats: [String: FileStat] = [:]
        do {
            for (rel, change) in changes {
                try mat.validate(rel)
                switch change {
                case .remove:
                    try moveAside(rel)
                    removeEmptyParents(rel)
                case .file(let staged):
                    try moveAside(rel)
                    try makeParents(rel)
                    try Posix.rename(staged, root + "/" + rel)
                    journal.append(.placed(rel: rel))
                    if let st = try Posix.lstat(root + "/" + rel) { stats[rel] = st }
                case .symlink(let target):
                    try moveAside(rel)
                    try makeParents(rel)
                    let staged = scratch + "/link-\(counter)"; counter += 1
                    try Posix.symlink(target, at: staged)
                    try Posix.rename(staged, root + "/" + rel)
                    journal.append(.placed(rel: rel))
                    if let st = try Posix.lstat(root + "/" + rel) { stats[rel] = st }
                }
            }
        } catch {
            rollback()
            throw error
        }
        return stats
    }

    /// Removes the scratch folder (with the moved-aside old files) after a successful apply or a failed one.
    public func finish() { WorkspaceTransaction.removeAll(scratch) }

    /// Moves whatever is at `rel` (file, symlink or folder) into the scratch folder, remembering it for a rollback.
    func moveAside(_ rel: String) throws {
        let path = root + "/" + rel
        guard try Posix.lstat(path) != nil else { return }
        let aside = scratch + "/old-\(counter)"; counter += 1
        try Posix.rename(path, aside)
        journal.append(.movedAside(rel: rel, aside: aside))
    }

    func makeParents(_ rel: String) throws {
        var parts = rel.slashSeparated().dropLast().map(String.init)
        var missing: [String] = []
        while !parts.isEmpty {
            let p = parts.joined(separator: "/")
            if try Posix.lstat(root + "/" + p) != nil { break }
            missing.append(p); parts.removeLast()
        }
        for p in missing.reversed() {
            if mkdir(root + "/" + p, 0o755) != 0 && errno != EEXIST { throw PosixError("create directory", root + "/" + p) }
            journal.append(.madeDirectory(p))
        }
    }

    func removeEmptyParents(_ rel: String) {
        var parent = Posix.dirname(rel)
        while !parent.isEmpty {
            if !Posix.rmdir(root + "/" + parent) { break }
            parent = Posix.dirname(parent)
        }
    }

    /// Undoes the journal in reverse order.
    func rollback() {
        for step in journal.reversed() {
            switch step {
            case .placed(let rel): _ = unlink(root + "/" + rel)
            case .madeDirectory(let d): _ = Posix.rmdir(root + "/" + d)
            case .movedAside(let rel, let aside):
                try? Posix.makeDirectories(root + "/" + Posix.dirname(rel))
                _ = Glibc.rename(aside, root + "/" + rel)
            }
        }
        journal = []
    }

    /// Deletes a file, symlink or folder tree without following symlinks.
    static func removeAll(_ path: String) { Posix.removeTree(path) }
}
