import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataWorkspace

/// What a checkout changed in the workspace.
public struct CheckoutResult: Sendable {
    /// The commit now checked out.
    public var commit: ObjectID
    /// The branch HEAD is on (nil when detached or when only paths were restored).
    public var branch: BranchName?
    /// Files written.
    public var written: Int
    /// Files removed.
    public var removed: Int
    /// Bytes written.
    public var bytes: UInt64
}

extension Repository {
    /// Makes the workspace match `revision` and moves HEAD there (onto the branch when it names one, else detached).
    /// Refuses to overwrite uncommitted changes unless `force`.
    public func checkout(_ revision: String, force: Bool = false, progress: ProgressHandler? = nil) throws -> CheckoutResult {
        try withWriteLock {
            let target = try resolve(revision)
            let branch: BranchName? = (try? BranchName(revision)).flatMap { b in (try? refs.branch(b)) != nil ? b : nil }
            let result = try materialize(target, paths: nil, force: force, progress: progress)
            let now = Posix.nowNs() / 1_000_000_000
            let from = (try? currentBranch())?.map(\.rawValue) ?? ((try? refs.headCommit())??.short ?? "unborn")
            if let branch { try refs.setHead(.branch(branch), message: "checkout: moving from \(from) to \(branch)", time: now) }
            else { try refs.setHead(.detached(target), message: "checkout: moving from \(from) to \(target.short)", time: now) }
            return CheckoutResult(commit: target, branch: branch, written: result.written, removed: result.removed, bytes: result.bytes)
        }
    }

    /// Restores `paths` from `revision` into the workspace, leaving HEAD alone.
    public func checkoutPaths(_ revision: String, paths: [String], force: Bool = false, progress: ProgressHandler? = nil) throws -> CheckoutResult {
        try withWriteLock {
            let target = try resolve(revision)
            let rel = try paths.map { try relativePath($0) }
            let listing = try flatten(tree: try commit(target).tree)
            for p in rel where !listing.keys.contains(where: { $0 == p || p.isEmpty || $0.hasPrefix(p + "/") }) {
                throw RepositoryError.pathNotFound(p, revision: revision)
            }
            let r = try materialize(target, paths: rel, force: force, progress: progress)
            return CheckoutResult(commit: target, branch: nil, written: r.written, removed: r.removed, bytes: r.bytes)
        }
    }

    /// Switches to a branch (creating it at HEAD first with `create`).
    public func switchBranch(_ name: String, create: Bool = false, force: Bool = false) throws -> CheckoutResult {
        let b = try BranchName(name)
        if create {
            try withWriteLock {
                if try refs.branch(b) != nil { throw RefError.exists(name) }
                let now = Posix.nowNs() / 1_000_000_000
                if let h = try refs.headCommit() {
                    try refs.updateBranch(b, expected: nil, new: h, message: "branch: created from HEAD", time: now)
                }
                try refs.setHead(.branch(b), message: "switch: moving to new branch \(b)", time: now)
            }
            let h = try refs.headCommit()
            return CheckoutResult(commit: h ?? ObjectID.empty, branch: b, written: 0, removed: 0, bytes: 0)
        }
        guard try refs.branch(b) != nil else { throw RefError.notFound(name) }
        return try checkout(name, force: force)
    }

    /// Moves the current branch to `revision` (rollback). With `hard`, the workspace follows (discarding changes).
    public func reset(_ revision: String, hard: Bool = false) throws -> ObjectID {
        try withWriteLock {
            let target = try resolve(revision)
            let old = try refs.headCommit()
            if hard { _ = try materialize(target, paths: nil, force: true, progress: nil) }
            let now = Posix.nowNs() / 1_000_000_000
            if let b = try currentBranch() {
                try refs.updateBranch(b, expected: old, new: target, message: "reset: moving to \(revision) (\(target.short))", time: now)
            } else {
                try refs.setHead(.detached(target), message: "reset: moving to \(revision) (\(target.short))", time: now)
            }
            return target
        }
    }

    /// Writes the files of commit `target` into the workspace. With `paths`, only below those paths and nothing is
    /// deleted; otherwise files of HEAD missing from the target are removed.
    func materialize(_ target: ObjectID, paths: [String]?, force: Bool, progress: ProgressHandler?) throws
        -> (written: Int, removed: Int, bytes: UInt64) {
        let targetListing = try flatten(tree: try commit(target).tree)
        let headListing = try self.headListing()
        func selected(_ p: String) -> Bool {
            guard let paths else { return true }
            return paths.contains { $0.isEmpty || p == $0 || p.hasPrefix($0 + "/") }
        }
        // What the workspace holds now (hashing only what the stat cache cannot vouch for).
        let (work, cacheRefresh) = try snapshot(paths: paths, session: nil, progress: nil)
        try? statCache.update(cacheRefresh)
        let dirty = Set(TreeDiff.diff(flat: headListing.filter { selected($0.key) }, work).flatMap { [$0.path] + ($0.oldPath.map { [$0] } ?? []) })

        var toWrite: [(String, FileVersion)] = []
        var toRemove: [String] = []
        var conflicts: [String] = []
        for (p, v) in targetListing where selected(p) {
            if work[p] == v { continue }
            if dirty.contains(p) && !force && work[p] != nil { conflicts.append(p); continue }
            toWrite.append((p, v))
        }
        if paths == nil {
            for (p, _) in headListing where targetListing[p] == nil {
                if work[p] == nil { continue }
                if dirty.contains(p) && !force { conflicts.append(p); continue }
                toRemove.append(p)
            }
        }
        if !conflicts.isEmpty { throw RepositoryError.uncommittedChanges(conflicts.sorted()) }
        // Refuse unsafe paths before touching anything.
        let mat = Materializer(root: root)
        for (p, _) in toWrite {
            for part in p.split(separator: "/", omittingEmptySubsequences: false) {
                do { try TreeEntry.validate(name: String(part)) } catch { throw WorkspaceError.unsafePath(p, reason: "component '\(part)' is not a plain name") }
            }
        }
        for (p, v) in toWrite where v.kind != .symlink {
            guard try objects.contains(v.id) else { throw collectedError(path: p, id: v.id, commit: target) }
        }
        for p in toRemove.sorted(by: { $0 > $1 }) { try mat.remove(p) }
        // Parents first for determinism; files in parallel.
        let work2 = toWrite.sorted { $0.1.size > $1.1.size }
        let total = work2.reduce(UInt64(0)) { $0 + $1.1.size }
        let done = Locked<(Int, UInt64)>((0, 0))
        let cacheEntries = Locked<[(String, StatCacheEntry)]>([])
        let now = Posix.nowNs()
        let objects = self.objects
        // Symlinks and folders are created on one thread to avoid races on parents.
        for (p, _) in work2 { try mat.validate(p); try mat.makeParents(p) }
        try parallelForEach(work2.count) { i in
            let (p, v) = work2[i]
            let st: FileStat
            if v.kind == .symlink {
                var target: [UInt8] = []
                try objects.streamFile(v.id) { target.append(contentsOf: $0) }
                st = try mat.writeSymlink(p, target: String(decoding: target, as: UTF8.self))
            } else {
                st = try mat.writeFile(p, executable: v.kind == .executable) { write in
                    try objects.streamFile(v.id) { try write($0) }
                }
                cacheEntries.with { $0.append((p, StatCacheEntry(stat: st, id: v.id, writtenNs: now))) }
            }
            let (f, b) = done.with { d -> (Int, UInt64) in d.0 += 1; d.1 += v.size; return d }
            progress?(ProgressReport(phase: "checking out", files: f, totalFiles: work2.count, bytes: b, totalBytes: total))
        }
        try statCache.update(cacheEntries.get, removed: toRemove)
        return (toWrite.count, toRemove.count, total)
    }
}
