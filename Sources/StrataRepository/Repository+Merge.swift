import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRefs
import StrataWorkspace

/// One conflicted path of a merge in progress, with the three versions `strata resolve` can pick from.
public struct MergeConflict: Sendable, Codable, Equatable {
    /// Why the path conflicts.
    public enum Kind: String, Sendable, Codable {
        /// Both sides changed a file strata cannot merge (binary, undeclared, or not a table it can write).
        case content
        /// Deleted on our side, modified on theirs.
        case deleteModify = "delete-modify"
        /// Modified on our side, deleted on theirs.
        case modifyDelete = "modify-delete"
        /// Added on both sides with different contents.
        case addAdd = "add-add"
        /// A declared table whose rows conflict (listed in `PATH.conflicts.jsonl`).
        case rows
        /// A declared table whose schema changed incompatibly on both sides.
        case schema
        /// A declared table with duplicate keys: it conflicts as a whole.
        case duplicateKeys = "duplicate-keys"
        /// Renamed to different paths on the two sides.
        case renameRename = "rename-rename"
    }
    /// Workspace path.
    public var path: String
    /// Why.
    public var kind: Kind
    /// Conflicting rows (row conflicts), else 0.
    public var rows: Int
    /// A one-line explanation.
    public var detail: String
    /// The base, our and their versions (nil: absent on that side).
    public var base: FileVersion?
    /// Our version.
    public var ours: FileVersion?
    /// Their version.
    public var theirs: FileVersion?
    /// The side file written beside it (`PATH.conflicts.jsonl`, or `PATH.theirs`), if any.
    public var sidecar: String?
    /// Marked resolved with `strata resolve`.
    public var resolved = false

    /// Creates a conflict record.
    public init(
        path: String, kind: Kind, rows: Int = 0, detail: String, base: FileVersion?, ours: FileVersion?, theirs: FileVersion?,
        sidecar: String? = nil
    ) {
        self.path = path; self.kind = kind; self.rows = rows; self.detail = detail
        self.base = base; self.ours = ours; self.theirs = theirs; self.sidecar = sidecar
    }
}

/// A merge in progress, kept in the store (`merge_state`) from before the workspace is touched until the merge
/// commit or `--abort`: our HEAD before the merge, their commit (MERGE_HEAD), the tree written to the workspace and
/// the conflicts.
public struct MergeState: Sendable, Codable, Equatable {
    /// Where the merge stands.
    public enum Phase: String, Sendable, Codable {
        /// Recorded; the workspace may be half written (a crash): `--continue` rewrites it, `--abort` undoes it.
        case applying
        /// The workspace holds the merge result; conflicts (if any) wait for `strata resolve`.
        case written
    }
    /// HEAD before the merge.
    public var origHead: ObjectID
    /// The branch HEAD was on.
    public var branch: String?
    /// Their commit.
    public var mergeHead: ObjectID
    /// What the user named (`feature`, a commit id).
    public var mergeName: String
    /// The merge base used (nil: unrelated histories).
    public var base: ObjectID?
    /// The tree written to the workspace: the merge result with the side files of conflicts.
    public var tree: ObjectID
    /// The message of the merge commit.
    public var message: String
    /// Conflicted paths.
    public var conflicts: [MergeConflict]
    /// Where the merge stands.
    public var phase: Phase

    /// Conflicts not yet resolved.
    public var unresolved: [MergeConflict] { conflicts.filter { !$0.resolved } }

    /// Creates a state.
    public init(
        origHead: ObjectID, branch: String?, mergeHead: ObjectID, mergeName: String, base: ObjectID?, tree: ObjectID, message: String,
        conflicts: [MergeConflict], phase: Phase = .applying
    ) {
        self.origHead = origHead; self.branch = branch; self.mergeHead = mergeHead; self.mergeName = mergeName; self.base = base
        self.tree = tree; self.message = message; self.conflicts = conflicts; self.phase = phase
    }
}

extension Repository {
    // MARK: Merge bases

    /// The best common ancestors of `a` and `b` (none of them an ancestor of another), as `git merge-base --all`.
    public func mergeBases(_ a: ObjectID, _ b: ObjectID) throws -> [ObjectID] {
        func ancestors(_ start: ObjectID) throws -> Set<ObjectID> {
            var seen: Set<ObjectID> = [start]
            var stack = [start]
            while let id = stack.popLast() {
                for p in try commit(id).parents where seen.insert(p).inserted { stack.append(p) }
            }
            return seen
        }
        let common = try ancestors(a).intersection(try ancestors(b))
        // A common ancestor reachable from another common ancestor is not a best one.
        var redundant = Set<ObjectID>()
        for c in common where !redundant.contains(c) {
            var stack = try commit(c).parents
            var seen = Set<ObjectID>()
            while let id = stack.popLast() {
                guard seen.insert(id).inserted else { continue }
                if common.contains(id) { redundant.insert(id) }
                stack += try commit(id).parents
            }
        }
        return common.subtracting(redundant).sorted { $0.hex < $1.hex }
    }

    // MARK: Merge state

    /// The merge in progress, if any.
    public func mergeState() throws -> MergeState? {
        var text: String?
        try db.query("SELECT state FROM merge_state WHERE id = 1") { r in text = r.text(0) }
        guard let text else { return nil }
        do { return try JSONDecoder().decode(MergeState.self, from: Data(text.utf8)) } catch {
            throw RepositoryError.invalidArgument("the recorded merge state cannot be read (\(error)); run 'strata merge --abort'")
        }
    }

    /// Records (or replaces) the merge in progress.
    package func saveMergeState(_ s: MergeState) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(s), as: UTF8.self)
        try db.run("INSERT OR REPLACE INTO merge_state (id, state) VALUES (1, ?)", [.text(text)])
    }

    /// Refuses an operation that would lose a merge in progress.
    func refuseDuringMerge(_ what: String) throws {
        if try mergeState() != nil { throw RepositoryError.mergeInProgress(what) }
    }

    /// Makes a write session's objects durable and indexed, so they can be read at once.
    public func finishSession(_ s: WriteSession) throws {
        try s.finishPacks()
        try db.transaction { try s.recordIndex() }
    }

    /// Builds and stores the trees of a flat listing in `session`; returns the root tree id.
    package func storeTree(_ listing: [String: FileVersion], session: WriteSession) throws -> ObjectID {
        try writeTree(listing, session: session)
    }

    /// Starts a merge: checks that HEAD is still `state.origHead`, that no merge is in progress and that the workspace
    /// matches HEAD; stores `listing` (whose new objects `session` holds) as the merge result; records the state; then
    /// writes the result into the workspace (refusing, before anything changes, to overwrite untracked data). When the
    /// workspace cannot be written, the state is removed again and nothing has changed.
    /// `prestaged` maps content ids to scratch files holding those bytes (the merged tables), moved into place.
    public func beginMerge(
        _ given: MergeState, listing: [String: FileVersion], session: WriteSession, prestaged: [ObjectID: String] = [:],
        progress: ProgressHandler? = nil
    ) throws
        -> MergeState
    {
        try withWriteLock {
            if try mergeState() != nil { throw RepositoryError.mergeInProgress("merge") }
            guard try refs.headCommit() == given.origHead else {
                throw RepositoryError.invalidArgument("HEAD moved while the merge was being prepared; run the merge again")
            }
            let (work, updates) = try snapshot(paths: nil, session: nil, progress: nil)
            try? statCache.update(updates)
            let head = try headListing()
            let dirty = TreeDiff.diff(flat: head, work)
            if !dirty.isEmpty { throw RepositoryError.uncommittedChanges(dirty.map(\.path).sorted()) }
            var state = given
            state.tree = try writeTree(listing, session: session)
            state.phase = .applying
            try session.finishPacks()
            try db.transaction {
                try session.recordIndex()
                try saveMergeState(state)
            }
            do {
                _ = try materialize(state.tree, paths: nil, force: false, progress: progress, from: head, prestaged: prestaged, scanned: work)
            } catch {
                _ = try? db.run("DELETE FROM merge_state WHERE id = 1")
                throw error
            }
            state.phase = .written
            try saveMergeState(state)
            return state
        }
    }

    /// Finishes writing the workspace of a merge interrupted while it was written (phase `applying`).
    public func resumeMergeWrite(progress: ProgressHandler? = nil) throws -> MergeState? {
        try withWriteLock {
            guard var state = try mergeState() else { return nil }
            guard state.phase == .applying else { return state }
            let orig = try flatten(tree: try commit(state.origHead).tree)
            let result = try flatten(tree: state.tree)
            // Only paths of HEAD or of the result are touched; the rest of the workspace was never ours to write.
            let paths = Array(Set(orig.keys).union(result.keys)).sorted()
            if !paths.isEmpty { _ = try materialize(state.tree, paths: paths, force: true, progress: progress, from: orig) }
            state.phase = .written
            try saveMergeState(state)
            return state
        }
    }

    /// Updates the conflicts of the merge in progress (after `strata resolve`).
    public func updateMergeConflicts(_ conflicts: [MergeConflict]) throws {
        try withWriteLock {
            guard var state = try mergeState() else { throw RepositoryError.noMergeInProgress }
            state.conflicts = conflicts
            try saveMergeState(state)
        }
    }

    /// Abandons the merge in progress: the workspace returns byte for byte to HEAD as it was before the merge (the
    /// merge's writes, side files and any edits made while resolving are discarded; untracked files are left alone).
    public func abortMerge(progress: ProgressHandler? = nil) throws -> MergeState {
        try withWriteLock {
            guard let state = try mergeState() else { throw RepositoryError.noMergeInProgress }
            let result = try flatten(tree: state.tree)
            _ = try materialize(state.origHead, paths: nil, force: true, progress: progress, from: result)
            try db.run("DELETE FROM merge_state WHERE id = 1")
            return state
        }
    }

    /// Removes the merge state without touching the workspace (reset moves on from the merge, as in git).
    func clearMergeState() throws { try db.run("DELETE FROM merge_state WHERE id = 1") }
}

extension Repository {
    /// Streams the bytes of a stored file version (verified; a partial store downloads it first).
    public func streamVersion(_ v: FileVersion, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if v.kind != .symlink, !(try objects.hasAllParts(v.id)) { try withWriteLock { try supplyMissing([v.id]) } }
        try objects.streamFile(v.id, sink)
    }

    /// Puts one path of the workspace at a stored version (nil: removes it), atomically, for `strata resolve`.
    /// Only paths the merge in progress wrote, or their side files, are touched this way.
    public func placeVersion(_ path: String, _ v: FileVersion?) throws {
        try withWriteLock {
            do throws(WorkspacePath.Refusal) { _ = try WorkspacePath.normalize(path) } catch {
                throw WorkspaceError.unsafePath(path, reason: error.reason)
            }
            let tx = try WorkspaceTransaction(root: root, storePath: storePath)
            defer { tx.finish() }
            let change: WorkspaceTransaction.Change
            if let v {
                if v.kind != .symlink { try supplyMissing([v.id]) }
                change = try Repository.stage(v, 0, in: tx, objects)
            } else {
                guard try Posix.lstat(root + "/" + path) != nil else { return }
                change = .remove
            }
            _ = try tx.apply([(path, change)])
        }
    }
}
