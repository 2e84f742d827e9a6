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
    /// Refuses to overwrite uncommitted changes unless `force`. `candidates`, when a file-system monitor vouches for
    /// them (`MonitorWorkflow`), are the only paths that may differ from HEAD: the workspace's own changes are looked
    /// for there alone, not by a walk of the whole workspace.
    public func checkout(_ revision: String, force: Bool = false, progress: ProgressHandler? = nil, candidates: [String]? = nil) throws
        -> CheckoutResult
    {
        try withWriteLock {
            try refuseDuringMerge("checkout of \(revision)")
            let target = try resolve(revision)
            // `checkout HEAD` (or `@`) stays on the current branch, as in git.
            let onHead = (revision == "HEAD" || revision == "@") ? try currentBranch() : nil
            let branch: BranchName? = onHead ?? (try? BranchName(revision)).flatMap { b in (try? refs.branch(b)) != nil ? b : nil }
            let result = try materialize(target, paths: nil, force: force, progress: progress, candidates: candidates)
            let now = Posix.nowNs() / 1_000_000_000
            let from = (try? currentBranch())?.map(\.rawValue) ?? ((try? refs.headCommit())??.short ?? "unborn")
            if let branch {
                try refs.setHead(.branch(branch), message: "checkout: moving from \(from) to \(branch)", time: now)
            } else {
                try refs.setHead(.detached(target), message: "checkout: moving from \(from) to \(target.short)", time: now)
            }
            return CheckoutResult(commit: target, branch: branch, written: result.written, removed: result.removed, bytes: result.bytes)
        }
    }

    /// Restores `paths` from `revision` into the workspace, leaving HEAD alone, in no-overlay mode (`git restore`):
    /// files under the paths that HEAD tracks and `revision` lacks are removed, so a folder (a Delta or Iceberg table)
    /// comes back exactly as it was. Untracked files there are left alone; modified ones are a conflict.
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
    /// `candidates`: as for `checkout`.
    public func switchBranch(_ name: String, create: Bool = false, force: Bool = false, candidates: [String]? = nil) throws -> CheckoutResult {
        let b = try BranchName(name)
        if create {
            try withWriteLock {
                try refuseDuringMerge("switching to a new branch")
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
        return try checkout(name, force: force, candidates: candidates)
    }

    /// Moves the current branch to `revision` (rollback). With `hard`, the workspace follows (discarding changes).
    public func reset(_ revision: String, hard: Bool = false) throws -> ObjectID {
        try withWriteLock {
            let target = try resolve(revision)
            let old = try refs.headCommit()
            // As in git, a reset ends a merge in progress; a hard one also removes what the merge wrote.
            let merging = try mergeState()
            if hard { _ = try materialize(target, paths: nil, force: true, progress: nil, from: try merging.map { try flatten(tree: $0.tree) }) }
            if merging != nil { try clearMergeState() }
            let now = Posix.nowNs() / 1_000_000_000
            if let b = try currentBranch() {
                try refs.updateBranch(b, expected: old, new: target, message: "reset: moving to \(revision) (\(target.short))", time: now)
            } else {
                try refs.setHead(.detached(target), message: "reset: moving to \(revision) (\(target.short))", time: now)
            }
            return target
        }
    }

    /// Writes the files of commit `target` into the workspace, and removes the files of HEAD missing from the target;
    /// with `paths`, only below those paths (no-overlay). Untracked files are never removed.
    ///
    /// Nothing in the workspace changes until everything has been checked: names, the presence of every object with
    /// all its parts, and every path the change would overwrite or delete (untracked or modified data there is a
    /// conflict unless `force`). New contents are then written and verified under `.strata/tmp/`, and moved into
    /// place by one `WorkspaceTransaction`, which undoes itself if any step fails.
    /// `from` is the listing the workspace is meant to hold now (default HEAD's; a merge's result while one is in
    /// progress): its files may be replaced or removed, everything else is untracked.
    /// `prestaged` maps content ids to scratch files that already hold those bytes (a merge's outputs): they are
    /// moved into place instead of being read back from the store.
    func materialize(
        _ target: ObjectID, paths: [String]?, force: Bool, progress: ProgressHandler?, from: [String: FileVersion]? = nil,
        prestaged: [ObjectID: String] = [:], scanned: [String: FileVersion]? = nil, candidates: [String]? = nil
    ) throws
        -> (written: Int, removed: Int, bytes: UInt64)
    {
        WorkspaceTransaction.clearStale(storePath: storePath)
        let targetTree = try objects.kind(of: target) == .tree ? target : try commit(target).tree
        if paths == nil && from == nil && scanned == nil && prestaged.isEmpty, try workspaceIsEmpty() {
            return try populate(targetTree, commit: target, progress: progress)
        }
        func selected(_ p: String) -> Bool {
            guard let paths else { return true }
            return paths.contains { WorkspacePath.isWithin(p, $0) }
        }
        let targetListing: [String: FileVersion], headListing: [String: FileVersion]
        var work: [String: FileVersion]
        let dirty: Set<String>
        if paths == nil && from == nil && scanned == nil {
            // The whole workspace from HEAD: only the paths where HEAD and the target differ can change. They come from
            // a diff of the two trees (shared folders skipped unread), the workspace's own changes from one streamed
            // walk; memory and work grow with the two changes, not the workspace.
            let head = try refs.headCommit()
            let headTree = try head.map { try commit($0).tree }
            let between = try TreeDiff.diff(headTree, targetTree) { try self.tree($0) }
            // Through the monitor, the paths the checkout will overwrite or remove are compared too, whatever it
            // reported: an edit there is never lost to a missed event.
            let (local, cacheRefresh) =
                try candidates.map {
                    try candidateChanges($0 + between.flatMap { [$0.path] + ($0.oldPath.map { [$0] } ?? []) }, head: head, session: nil, progress: nil)
                } ?? changesSinceHead(head, progress: nil)
            try? statCache.update(cacheRefresh)
            var t: [String: FileVersion] = [:], h: [String: FileVersion] = [:]
            for c in between {
                if let o = c.oldPath { h[o] = c.old } else if let old = c.old { h[c.path] = old }
                if c.status != .deleted, let new = c.new { t[c.path] = new }
            }
            var now: [String: FileVersion?] = [:]
            for c in local {
                if let o = c.oldPath { now[o] = .some(nil) }
                now[c.path] = c.status == .deleted ? .some(nil) : c.new
            }
            // Forced, the workspace's own changes are undone too: those paths take the target's version (or go).
            if force {
                // In path order, so that each folder's tree is read once (a clone restores every file this way).
                var inTarget = TreePathLookup(self, root: targetTree)
                var inHead = headTree.map { TreePathLookup(self, root: $0) }
                for p in now.keys.sorted(by: Tree.less) where t[p] == nil && h[p] == nil {
                    if let e = try inTarget.entry(at: p), e.kind != .directory { t[p] = FileVersion(kind: e.kind, id: e.id, size: e.size) }
                    if let e = try inHead?.entry(at: p), e.kind != .directory { h[p] = FileVersion(kind: e.kind, id: e.id, size: e.size) }
                }
            }
            targetListing = t
            headListing = h
            work = [:]
            for p in Set(t.keys).union(h.keys) { if let v = now[p] ?? h[p] { work[p] = v } }
            dirty = Set(now.keys)
        } else {
            targetListing = try flatten(tree: targetTree)
            headListing = try from ?? self.headListing()
            // What the workspace holds now (hashing only what the stat cache cannot vouch for).
            // (A caller that has just scanned the workspace under the same lock passes its listing: no second scan.)
            if let scanned {
                work = scanned
            } else {
                let cacheRefresh: [(String, StatCacheEntry)]
                (work, cacheRefresh) = try snapshot(paths: paths, session: nil, progress: nil)
                try? statCache.update(cacheRefresh)
            }
            dirty = Set(TreeDiff.diff(flat: headListing.filter { selected($0.key) }, work).flatMap { [$0.path] + ($0.oldPath.map { [$0] } ?? []) })
        }

        var toWrite: [(String, FileVersion)] = []
        var toRemove: [String] = []
        var conflicts: [String] = []
        for (p, v) in targetListing where selected(p) {
            if work[p] == v { continue }
            if dirty.contains(p) && !force && work[p] != nil { conflicts.append(p); continue }
            toWrite.append((p, v))
        }
        for (p, _) in headListing where targetListing[p] == nil && selected(p) {
            if work[p] == nil { continue }
            if dirty.contains(p) && !force { conflicts.append(p); continue }
            toRemove.append(p)
        }
        // Refuse unsafe names before touching anything.
        for (p, _) in toWrite { try Repository.refuseUnsafe(p) }
        // A partial store downloads the file data it lacks first (verified, from the remote it was cloned from).
        try supplyMissing(toWrite.filter { $0.1.kind != .directory }.map(\.1.id))
        // Every object must be there with all its parts before the workspace is touched.
        for (p, v) in toWrite { try requireAllParts(p, v, commit: target) }
        // Untracked or ignored data in the way: a file where a folder must go, a folder where a file must go,
        // or an ignored file at a path the target writes. Only tracked, unmodified data may be replaced silently.
        let removing = Set(toRemove)
        for (p, _) in toWrite {
            let parts = p.slashSeparated().map(String.init)
            var cur = ""
            for part in parts.dropLast() {
                cur = cur.isEmpty ? part : cur + "/" + part
                guard let st = try Posix.lstat(root + "/" + cur) else { break }
                if st.isDirectory { continue }
                if !removing.contains(cur) && !force { conflicts.append(cur) }
                break
            }
            guard let st = try Posix.lstat(root + "/" + p) else { continue }
            if st.isDirectory {
                for inside in try filesOnDisk(below: p) where !removing.contains(inside) {
                    if !force { conflicts.append(inside) }
                }
            } else if work[p] == nil && headListing[p] == nil && !force {
                conflicts.append(p)  // an ignored, untracked file
            }
        }
        if !conflicts.isEmpty { throw RepositoryError.uncommittedChanges(Array(Set(conflicts)).sorted()) }

        // Stage and verify every new file under .strata/tmp, in parallel; the workspace is still untouched.
        let tx = try WorkspaceTransaction(root: root, storePath: storePath)
        defer { tx.finish() }
        let work2 = toWrite.sorted { $0.1.size > $1.1.size }
        let total = work2.reduce(UInt64(0)) { $0 + $1.1.size }
        let done = Locked<(Int, UInt64)>((0, 0))
        let staged = Locked<[Int: WorkspaceTransaction.Change]>([:])
        let objects = self.objects
        nonisolated(unsafe) let txRef = tx
        let unclaimed = Locked(prestaged)
        try parallelForEach(work2.count) { i in
            let (_, v) = work2[i]
            let change: WorkspaceTransaction.Change
            if v.kind != .symlink, let file = unclaimed.with({ $0.removeValue(forKey: v.id) }) {
                change = .file(staged: try txRef.adopt(i, from: file, executable: v.kind == .executable))
            } else {
                change = try Repository.stage(v, i, in: txRef, objects)
            }
            staged.with { $0[i] = change }
            let (f, b) = done.with { d -> (Int, UInt64) in
                d.0 += 1; d.1 += v.size; return d
            }
            progress?(ProgressReport(phase: "checking out", files: f, totalFiles: work2.count, bytes: b, totalBytes: total))
        }
        // Removals first (deepest first), then writes with parents before children.
        var changes: [(path: String, change: WorkspaceTransaction.Change)] = toRemove.sorted(by: >).map { ($0, .remove) }
        let byIndex = staged.get
        for (i, (p, _)) in work2.enumerated().sorted(by: { $0.element.0 < $1.element.0 }) { changes.append((p, byIndex[i]!)) }
        let now = Posix.nowNs()
        let stats = try tx.apply(changes)
        var cacheEntries: [(String, StatCacheEntry)] = []
        for (p, v) in toWrite where v.kind != .symlink {
            if let st = stats[p] { cacheEntries.append((p, StatCacheEntry(stat: st, id: v.id, writtenNs: now))) }
        }
        try statCache.update(cacheEntries, removed: toRemove)
        return (toWrite.count, toRemove.count, total)
    }

    /// Throws unless `path` (from a tree) is safe to write in the workspace: normal and not inside `.strata` or `.git`
    /// (`WorkspacePath.normalize` refuses both), every component a plain name. Checked for every path a checkout writes before the workspace is touched.
    static func refuseUnsafe(_ path: String) throws {
        do { _ = try WorkspacePath.normalize(path) } catch { throw WorkspaceError.unsafePath(path, reason: error.reason) }
        for part in path.slashSeparated(omittingEmpty: false) {
            do { try TreeEntry.validate(name: String(part)) } catch {
                throw WorkspaceError.unsafePath(path, reason: "component '\(part)' is not a plain name")
            }
        }
    }

    /// Throws unless the store holds `v` with all its parts: collected (pruned, or gone) or incomplete, naming `path`.
    func requireAllParts(_ path: String, _ v: FileVersion, commit target: ObjectID) throws {
        if try objects.hasAllParts(v.id) { return }
        let present = try objects.contains(v.id)
        if (try? prunedCommits().contains(target)) == true || !present {
            throw collectedError(path: path, id: v.id, commit: target)
        }
        throw ObjectError.incomplete(v.id, missingChunk: try objects.missingPart(of: v.id) ?? v.id)
    }

    /// Whether the workspace holds nothing but the store: a fresh clone's, or one emptied by hand.
    func workspaceIsEmpty() throws -> Bool {
        try Posix.listDirectory(root).allSatisfy { $0 == Repository.storeFolder }
    }

    /// Files written per batch when an empty workspace is filled (`populate`).
    static let populateBatch = 2048

    /// Fills an empty workspace with the files of `tree` (a clone's checkout), streamed. A first walk of the tree
    /// checks every name and counts the work; nothing is touched if a name is unsafe. A second walk writes the files a
    /// batch at a time, in path order: the batch's objects are supplied (a partial store) and checked complete, its
    /// files staged and verified under `.strata/tmp/` in parallel, then renamed into place. Memory holds one batch
    /// and the trees on one path, whatever the size of the tree (a forced checkout would list every path three
    /// times). There is nothing to overwrite or lose: the workspace held no file. On a failure the files placed so far,
    /// a prefix of the walk, are removed with the folders made for them, and the error is rethrown.
    func populate(
        _ tree: ObjectID, commit target: ObjectID, progress: ProgressHandler?, batchSize: Int = Repository.populateBatch
    ) throws -> (written: Int, removed: Int, bytes: UInt64) {
        var totalFiles = 0
        var totalBytes: UInt64 = 0
        try forEachFile(inTree: tree) { p, v in
            try Repository.refuseUnsafe(p)
            totalFiles += 1
            totalBytes += v.size
        }
        try statCache.clear()
        try? FolderCache(db: db).clear()
        let tx = try WorkspaceTransaction(root: root, storePath: storePath)
        defer { tx.finish() }
        let spill = try StatCacheSpill(directory: WorkspaceTransaction.scratchArea(storePath: storePath))
        let objects = self.objects
        nonisolated(unsafe) let txRef = tx
        var batch: [(path: String, version: FileVersion)] = []
        batch.reserveCapacity(Repository.populateBatch)
        var placed = 0
        var bytes: UInt64 = 0
        var madeFolder = ""
        func flush() throws {
            if batch.isEmpty { return }
            try supplyMissing(batch.map(\.version.id))  // a tree walk yields files and symlinks only
            for (p, v) in batch { try requireAllParts(p, v, commit: target) }
            let staged = Locked<[Int: WorkspaceTransaction.Change]>([:])
            let work = batch
            try parallelForEach(work.count) { i in
                let change = try Repository.stage(work[i].version, i, in: txRef, objects)
                staged.with { $0[i] = change }
            }
            let changes = staged.get
            let now = Posix.nowNs()
            for (i, (p, v)) in work.enumerated() {
                let folder = Posix.dirname(p)
                if !folder.isEmpty && folder != madeFolder {
                    try Posix.makeDirectories(root + "/" + folder)
                    madeFolder = folder
                }
                let full = root + "/" + p
                switch changes[i]! {
                case .file(let from): try Posix.rename(from, full)
                case .symlink(let to): try Posix.symlink(to, at: full)
                case .remove: continue
                }
                placed += 1
                bytes += v.size
                if v.kind != .symlink, let st = try Posix.lstat(full) { try spill.append(p, StatCacheEntry(stat: st, id: v.id, writtenNs: now)) }
            }
            progress?(ProgressReport(phase: "checking out", files: placed, totalFiles: totalFiles, bytes: bytes, totalBytes: totalBytes))
            batch.removeAll(keepingCapacity: true)
        }
        do {
            try forEachFile(inTree: tree) { p, v in
                batch.append((p, v))
                if batch.count >= batchSize { try flush() }
            }
            try flush()
        } catch {
            unplace(tree, count: placed)
            throw error
        }
        try statCache.update(from: spill)
        return (placed, 0, bytes)
    }

    /// Removes the first `count` files of `tree`'s walk from the workspace, and the folders that leaves empty: what a
    /// failed `populate` had placed.
    private func unplace(_ tree: ObjectID, count: Int) {
        struct Done: Error {}
        var left = count
        _ = try? forEachFile(inTree: tree) { p, _ in
            if left == 0 { throw Done() }
            left -= 1
            try? Posix.unlink(root + "/" + p)
            var parent = Posix.dirname(p)
            while !parent.isEmpty && Posix.rmdir(root + "/" + parent) { parent = Posix.dirname(parent) }
        }
    }

    /// Stages one version in a workspace transaction: a symlink's target, or the file's bytes streamed (verified) from
    /// the store.
    static func stage(_ v: FileVersion, _ i: Int, in tx: WorkspaceTransaction, _ objects: ObjectStore) throws -> WorkspaceTransaction.Change {
        if v.kind == .symlink {
            var target: [UInt8] = []
            try objects.streamFile(v.id) { target.append(contentsOf: $0) }
            return .symlink(target: target)
        }
        return .file(staged: try tx.stage(i, executable: v.kind == .executable) { write in try objects.streamFile(v.id) { try write($0) } })
    }

    /// Every file and symlink on disk below a workspace folder, ignored ones included, without following symlinks.
    func filesOnDisk(below rel: String) throws -> [String] {
        var out: [String] = []
        for n in try Posix.listDirectory(root + "/" + rel) {
            let child = rel + "/" + n
            if let st = try Posix.lstat(root + "/" + child), st.isDirectory { out += try filesOnDisk(below: child) } else { out.append(child) }
        }
        return out
    }
}
