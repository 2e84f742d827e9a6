import Foundation
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs

/// Brings objects a partial store lacks (a clone made with `--no-checkout` downloads history only). Installed on a
/// `Repository` by the remote layer; checkout and cat call it, holding the store's write lock, for the file data
/// they are about to read. It must verify what it stores and must not take the write lock itself.
public protocol ObjectSupplier: Sendable {
    /// Where the objects come from (`origin`), for messages.
    var name: String { get }
    /// Downloads and indexes the given files (blobs and chunked files with their chunks).
    func supply(_ ids: [ObjectID], into repo: Repository) throws
}

/// How two commits relate: commits only on one side, and only on the other.
public struct Divergence: Sendable, Equatable {
    /// Commits reachable from the first and not the second.
    public var ahead: Int
    /// Commits reachable from the second and not the first.
    public var behind: Int
}

extension Repository {
    /// The config key that marks a store as partial: its value names the remote that holds the rest.
    public static let partialKey = "store.partial"

    /// The remote a partial store fetches missing file data from, or nil when the store is whole.
    public func partialRemote() throws -> String? { try config(Repository.partialKey) }

    /// The commit a full ref name (`refs/heads/main`, `refs/remotes/origin/main`, `refs/tags/v1`) points to.
    public func ref(_ full: String) throws -> ObjectID? { try refs.get(full) }

    /// Every ref whose full name starts with `prefix`, sorted by name.
    public func refs(prefix: String) throws -> [(name: String, target: ObjectID)] {
        var out: [(String, ObjectID)] = []
        try db.query("SELECT name, target FROM refs WHERE substr(name, 1, ?) = ? ORDER BY name", [.int(Int64(prefix.utf8.count)), .text(prefix)]) { r in
            out.append((r.text(0), try ObjectID(validating: r.blob(1), what: "ref \(r.text(0))")))
        }
        return out
    }

    /// Moves any ref by compare-and-swap, with a reflog entry (remote-tracking refs and fetched tags).
    public func updateRef(_ full: String, expected: ObjectID?, new: ObjectID?, message: String) throws {
        guard full.hasPrefix("refs/heads/") || full.hasPrefix("refs/tags/") || full.hasPrefix("refs/remotes/") else {
            throw RepositoryError.unknownRevision(full)
        }
        try refs.update(full, expected: expected, new: new, message: message, time: Posix.nowNs() / 1_000_000_000)
    }

    /// True when the object is stored with every part it needs (a chunked file with all its chunks).
    public func hasObject(_ id: ObjectID) throws -> Bool { try objects.hasAllParts(id) }

    /// True when `ancestor` is `descendant` or one of its ancestors (walking only commits this store has).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws -> Bool {
        if ancestor == descendant { return true }
        var seen: Set<ObjectID> = [descendant]
        var stack = [descendant]
        while let id = stack.popLast() {
            guard try objects.kind(of: id) == .commit else { continue }
            for p in try commit(id).parents where seen.insert(p).inserted {
                if p == ancestor { return true }
                stack.append(p)
            }
        }
        return false
    }

    /// Commits reachable from `a` but not `b` (ahead) and from `b` but not `a` (behind).
    public func divergence(_ a: ObjectID, _ b: ObjectID) throws -> Divergence {
        func reach(_ start: ObjectID) throws -> Set<ObjectID> {
            var seen: Set<ObjectID> = [start]
            var stack = [start]
            while let id = stack.popLast() {
                guard try objects.kind(of: id) == .commit else { continue }
                for p in try commit(id).parents where seen.insert(p).inserted { stack.append(p) }
            }
            return seen
        }
        let ra = try reach(a), rb = try reach(b)
        return Divergence(ahead: ra.subtracting(rb).count, behind: rb.subtracting(ra).count)
    }

    /// Moves the checked-out branch forward to `target` (a descendant of it) and makes the workspace follow, refusing
    /// to overwrite uncommitted changes, as `git merge --ff-only` does. Returns what the checkout did.
    public func fastForward(to target: ObjectID, message: String, progress: ProgressHandler? = nil) throws -> CheckoutResult {
        try withWriteLock {
            try refuseDuringMerge("a fast-forward")
            guard let b = try currentBranch() else { throw RepositoryError.detachedHead("fast-forward") }
            let old = try refs.branch(b)
            if let old, !(try isAncestor(old, of: target)) { throw RepositoryError.notFastForward(branch: b.rawValue, target: target) }
            let r = try materialize(target, paths: nil, force: false, progress: progress)
            try refs.updateBranch(b, expected: old, new: target, message: message, time: Posix.nowNs() / 1_000_000_000)
            return CheckoutResult(commit: target, branch: b, written: r.written, removed: r.removed, bytes: r.bytes)
        }
    }

    /// Points HEAD at a branch without touching the workspace (`git symbolic-ref HEAD`), as `clone --no-checkout` does.
    public func attachHead(to branch: String) throws {
        let b = try BranchName(branch)
        try withWriteLock { try refs.setHead(.branch(b), message: "clone: HEAD at \(b)", time: Posix.nowNs() / 1_000_000_000) }
    }

    /// Asks the installed supplier for the files among `ids` this store lacks (partial stores only).
    func supplyMissing(_ ids: [ObjectID]) throws {
        guard let supplier = objectSupplier.with({ $0 }) else { return }
        var missing: [ObjectID] = []
        var seen = Set<ObjectID>()
        for id in ids where seen.insert(id).inserted {
            if try !objects.hasAllParts(id) { missing.append(id) }
        }
        if missing.isEmpty { return }
        try supplier.supply(missing, into: self)
        objects.dropCaches()
    }

    /// Installs (or removes) the supplier of a partial store's missing file data.
    public func setObjectSupplier(_ s: (any ObjectSupplier)?) { objectSupplier.with { $0 = s } }
}
