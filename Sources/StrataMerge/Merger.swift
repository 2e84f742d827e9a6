import Foundation
import StrataDiff
import StrataModel
import StrataObjects
import StrataPlatform
import StrataRepository
import StrataTables

/// What `strata merge` is asked to do.
public struct MergeRequest: Sendable {
    /// The branch or revision to merge into HEAD.
    public var revision: String
    /// The merge commit's message (default: `Merge branch 'X' into Y`).
    public var message: String?
    /// Record a merge commit even when a fast-forward is possible.
    public var noFastForward = false
    /// Refuse unless the merge is a fast-forward.
    public var fastForwardOnly = false
    /// Settle conflicts automatically, our or their way (as `git merge -X ours|theirs`).
    public var strategy: MergeStrategy?
    /// Plan only: report what would be merged and what would conflict, change nothing.
    public var dryRun = false
    /// Beside a file that conflicts as a whole, also write their version as `PATH.theirs`.
    public var keepTheirs = false
    /// Merge histories that share no commit (as git's `--allow-unrelated-histories`).
    public var allowUnrelated = false
    /// Author of the merge commit (default: the store's).
    public var author: Signature?
    /// Creates a request.
    public init(revision: String) { self.revision = revision }
}

/// What happened to one path in a merge.
public struct MergedPath: Sendable, Codable, Equatable {
    /// Workspace path.
    public var path: String
    /// `ours`, `theirs`, `deleted`, `rows` (merged row by row), `renamed`, or `conflict`.
    public var action: String
    /// A short explanation.
    public var detail: String?
    /// The row merge's counts (tables merged row by row).
    public var rows: TableMergeSummary?
}

/// The outcome of `strata merge`.
public enum MergeOutcome: Sendable {
    /// Their commit is already in HEAD's history.
    case upToDate(ObjectID)
    /// HEAD moved forward to their commit.
    case fastForward(CheckoutResult)
    /// A merge commit was recorded.
    case merged(CommitResult, MergePlan)
    /// The merge stopped with conflicts to resolve (the state is recorded in the store).
    case stopped(MergeState, MergePlan)
    /// `--dry-run`: what would happen.
    case planned(MergePlan)
}

/// What a three-way merge decided, path by path.
public struct MergePlan: Sendable {
    /// The merge base (nil: unrelated histories); with several best bases, the first of them.
    public var base: ObjectID?
    /// All best common ancestors (more than one: a criss-cross, merged through a virtual base).
    public var bases: [ObjectID]
    /// Our commit.
    public var ours: ObjectID
    /// Their commit.
    public var theirs: ObjectID
    /// A fast-forward would do (dry run).
    public var fastForward: Bool
    /// Paths that changed on their side or both (paths only we changed are not listed).
    public var paths: [MergedPath]
    /// Conflicts.
    public var conflicts: [MergeConflict]
}

/// Merges branches file by file and, for declared tables, row by row; resolves and concludes merges.
public struct Merger {
    /// The store.
    public let repo: Repository
    /// Table declarations (Pipeline.swift's over the config's).
    public let tables: TableService

    /// Merged tables' scratch files of the merge being computed.
    let staged = Prestaged()

    /// A merger for `repo` with these table declarations.
    public init(repo: Repository, tables: TableService) { self.repo = repo; self.tables = tables }

    /// Side file holding a table's conflicting rows.
    public static func conflictFile(_ path: String) -> String { path + ".conflicts.jsonl" }

    // MARK: Merge

    /// Merges `request.revision` into HEAD: up to date, a fast-forward, a merge commit, a stop with conflicts, or
    /// (dry run) a plan. Refuses over uncommitted changes and during another merge.
    public func merge(_ request: MergeRequest, progress: ProgressHandler? = nil) throws -> MergeOutcome {
        if try repo.mergeState() != nil { throw RepositoryError.mergeInProgress("another merge") }
        let theirs = try repo.resolve(request.revision)
        let ours = try repo.resolve("HEAD")
        if try repo.isAncestor(theirs, of: ours) { return .upToDate(ours) }
        let canFastForward = try repo.isAncestor(ours, of: theirs)
        if canFastForward && !request.noFastForward {
            if request.dryRun {
                return .planned(MergePlan(base: ours, bases: [ours], ours: ours, theirs: theirs, fastForward: true, paths: [], conflicts: []))
            }
            let short = request.revision
            return .fastForward(try repo.fastForward(to: theirs, message: "merge \(short): Fast-forward", progress: progress))
        }
        if request.fastForwardOnly, let b = try repo.currentBranch() { throw RepositoryError.notFastForward(branch: b.rawValue, target: theirs) }
        let bases = try repo.mergeBases(ours, theirs)
        if bases.isEmpty && !request.allowUnrelated {
            throw RepositoryError.invalidArgument(
                "HEAD and '\(request.revision)' share no history; merge them with --allow-unrelated-histories if that is meant")
        }
        let session = request.dryRun ? nil : repo.objects.beginWrite()
        // Not under .strata/tmp, which every checkout clears: the merged tables are moved from here into the workspace.
        let scratchArea = repo.storePath + "/merge-scratch"
        Merger.clearOld(scratchArea)
        let scratch = scratchArea + "/" + Posix.randomHex(6)
        defer { Posix.removeTree(scratch) }
        do {
            let baseListing = try virtualBase(bases, scratch: scratch, depth: 0)
            let oursListing = try repo.flatten(tree: try repo.commit(ours).tree)
            let theirsListing = try repo.flatten(tree: try repo.commit(theirs).tree)
            var (listing, paths, conflicts) = try mergeListings(
                base: baseListing, ours: oursListing, theirs: theirsListing, strategy: request.strategy, keepTheirs: request.keepTheirs,
                session: session, scratch: scratch)
            let plan = MergePlan(base: bases.first, bases: bases, ours: ours, theirs: theirs, fastForward: false, paths: paths, conflicts: conflicts)
            guard let session else { return .planned(plan) }
            // Side files must not land on a path either side uses.
            for c in conflicts {
                if let s = c.sidecar, oursListing[s] != nil || theirsListing[s] != nil {
                    throw RepositoryError.invalidArgument("the side file '\(s)' for the conflict in '\(c.path)' would replace a tracked file")
                }
            }
            paths.sort { $0.path < $1.path }
            conflicts.sort { $0.path < $1.path }
            listing = listing.filter { $0.value.kind != .directory }
            let message = try request.message ?? defaultMessage(request.revision)
            let state = MergeState(
                origHead: ours, branch: try repo.currentBranch()?.rawValue, mergeHead: theirs, mergeName: request.revision, base: bases.first,
                tree: ObjectID.empty, message: message, conflicts: conflicts)
            let begun = try repo.beginMerge(state, listing: listing, session: session, prestaged: staged.files, progress: progress)
            if !begun.unresolved.isEmpty { return .stopped(begun, plan) }
            var options = CommitOptions(message: message)
            options.author = request.author
            options.concludeMerge = true
            return .merged(try repo.commit(options, progress: progress), plan)
        } catch {
            session?.abort()
            throw error
        }
    }

    /// Removes scratch folders of merges that died more than a day ago.
    static func clearOld(_ area: String) {
        let cutoff = Posix.nowNs() - 86_400 * 1_000_000_000
        for n in (try? Posix.listDirectory(area)) ?? [] {
            if let st = try? Posix.lstat(area + "/" + n), st.mtimeNs < cutoff { Posix.removeTree(area + "/" + n) }
        }
    }

    /// `Merge branch 'feature' into main`, or `Merge commit '1a2b3c' into main`.
    func defaultMessage(_ revision: String) throws -> String {
        let into = try repo.currentBranch().map { " into \($0)" } ?? ""
        let local = (try? BranchName(revision)).flatMap { try? repo.refs.branch($0) } != nil
        if !local, revision.contains("/"), (try? repo.refs.get("refs/remotes/" + revision)) != nil {
            return "Merge remote-tracking branch '\(revision)'\(into)"
        }
        if (try? BranchName(revision)) != nil, (try? repo.resolve(revision)) != nil, ObjectID(hex: revision) == nil {
            return "Merge branch '\(revision)'\(into)"
        }
        return "Merge commit '\(revision)'\(into)"
    }

    /// The listing to merge against: the one best base's, or for a criss-cross the merge of the bases themselves
    /// (recursively, as git's `recursive`/`ort` strategies do), with the bases' own conflicts settled towards the first
    /// base: whatever both sides changed there conflicts again in the real merge, so nothing is decided silently.
    func virtualBase(_ bases: [ObjectID], scratch: String, depth: Int) throws -> [String: FileVersion] {
        guard let first = bases.first else { return [:] }
        var acc = try repo.flatten(tree: try repo.commit(first).tree)
        var accCommit = first
        for next in bases.dropFirst() {
            guard depth < 8 else { throw RepositoryError.crissCross(bases: bases) }
            let inner = try repo.mergeBases(accCommit, next)
            let innerBase = try virtualBase(inner, scratch: scratch, depth: depth + 1)
            let nextListing = try repo.flatten(tree: try repo.commit(next).tree)
            // A virtual base is never shown; its merged tables are stored (and indexed at once) so the row merges of the
            // real merge can read them. Unreferenced, gc collects them after its grace period.
            let work = repo.objects.beginWrite()
            do {
                (acc, _, _) = try mergeListings(
                    base: innerBase, ours: acc, theirs: nextListing, strategy: .ours, keepTheirs: false, session: work, scratch: scratch,
                    sideFiles: false)
                try repo.finishSession(work)
            } catch {
                work.abort()
                throw error
            }
            accCommit = next
        }
        return acc
    }

    /// The three-way merge of flat listings: file by file, following renames, and row by row for declared tables.
    func mergeListings(
        base given: [String: FileVersion], ours oursGiven: [String: FileVersion], theirs theirsGiven: [String: FileVersion],
        strategy: MergeStrategy?, keepTheirs: Bool, session: WriteSession?, scratch: String, sideFiles: Bool = true
    ) throws -> ([String: FileVersion], [MergedPath], [MergeConflict]) {
        var base = given, ours = oursGiven, theirs = theirsGiven
        var paths: [MergedPath] = []
        var conflicts: [MergeConflict] = []
        var out: [String: FileVersion] = [:]
        // Renames (same content, new path) are followed: the other side's version moves along with the file.
        let renamedByUs = renames(TreeDiff.diff(flat: given, oursGiven))
        let renamedByThem = renames(TreeDiff.diff(flat: given, theirsGiven))
        for (old, newOurs) in renamedByUs {
            if let newTheirs = renamedByThem[old] {
                if newTheirs != newOurs {
                    conflicts.append(
                        MergeConflict(
                            path: newOurs, kind: .renameRename, detail: "renamed from \(old) to \(newOurs) here and to \(newTheirs) on their side",
                            base: given[old], ours: oursGiven[newOurs], theirs: theirsGiven[newTheirs]))
                }
                continue
            }
            guard let t = theirs[old], theirs[newOurs] == nil else { continue }
            theirs[newOurs] = t; theirs[old] = nil
            base[newOurs] = base[old]; base[old] = nil
            paths.append(MergedPath(path: newOurs, action: "renamed", detail: "renamed from \(old) here; their changes follow it"))
        }
        for (old, newTheirs) in renamedByThem where renamedByUs[old] == nil {
            guard let o = ours[old], ours[newTheirs] == nil else { continue }
            ours[newTheirs] = o; ours[old] = nil
            base[newTheirs] = base[old]; base[old] = nil
            paths.append(MergedPath(path: newTheirs, action: "renamed", detail: "renamed from \(old) on their side; our changes follow it"))
        }
        let renameConflicts = Set(conflicts.map(\.path))
        for p in Set(base.keys).union(ours.keys).union(theirs.keys).sorted() {
            let b = base[p], o = ours[p], t = theirs[p]
            if o == t {
                if let o { out[p] = o }
                continue
            }
            if o == b {
                if let t { out[p] = t }
                paths.append(MergedPath(path: p, action: t == nil ? "deleted" : "theirs"))
                continue
            }
            if t == b {
                if let o { out[p] = o }
                continue
            }
            if renameConflicts.contains(p) { if let o { out[p] = o }; continue }
            // Changed on both sides, differently.
            guard let o, let t else {
                let kind: MergeConflict.Kind = o == nil ? .deleteModify : .modifyDelete
                let detail = o == nil ? "deleted here, modified on their side" : "modified here, deleted on their side"
                switch strategy {
                case .ours: if let o { out[p] = o }
                case .theirs: if let t { out[p] = t }
                case nil:
                    if let kept = o ?? t { out[p] = kept }  // the modified version stays in the workspace
                    conflicts.append(MergeConflict(path: p, kind: kind, detail: detail, base: b, ours: o, theirs: t))
                }
                paths.append(MergedPath(path: p, action: strategy == nil ? "conflict" : strategy!.rawValue, detail: detail))
                continue
            }
            if let merged = try mergeTable(p, base: b, ours: o, theirs: t, strategy: strategy, session: session, scratch: scratch, sideFiles: sideFiles) {
                out[p] = merged.result
                paths.append(MergedPath(path: p, action: merged.conflict == nil ? "rows" : "conflict", detail: merged.conflict?.detail, rows: merged.summary))
                if var c = merged.conflict {
                    if let side = merged.sidecar { out[side.path] = side.version; c.sidecar = side.path }
                    conflicts.append(c)
                }
                continue
            }
            let detail = b == nil ? "added on both sides with different contents" : "changed on both sides"
            switch strategy {
            case .ours: out[p] = o
            case .theirs: out[p] = t
            case nil:
                out[p] = o
                var c = MergeConflict(path: p, kind: b == nil ? .addAdd : .content, detail: detail, base: b, ours: o, theirs: t)
                if keepTheirs && sideFiles && t.kind != .symlink {
                    c.sidecar = p + ".theirs"
                    out[p + ".theirs"] = FileVersion(kind: .file, id: t.id, size: t.size)
                }
                conflicts.append(c)
            }
            paths.append(MergedPath(path: p, action: strategy == nil ? "conflict" : strategy!.rawValue, detail: detail))
        }
        return (out, paths, conflicts)
    }

    func renames(_ changes: [Change]) -> [String: String] {
        var out: [String: String] = [:]
        for c in changes where c.status == .renamed { if let old = c.oldPath { out[old] = c.path } }
        return out
    }

    /// Scratch files holding merged tables, by content id (moved into the workspace instead of read back).
    final class Prestaged: @unchecked Sendable { var files: [ObjectID: String] = [:] }

    struct TableOutcome {
        var result: FileVersion
        var summary: TableMergeSummary?
        var conflict: MergeConflict?
        var sidecar: (path: String, version: FileVersion)?
    }

    /// Merges a declared table row by row; nil when `path` is not a declared table (the caller then merges by file).
    func mergeTable(
        _ path: String, base b: FileVersion?, ours o: FileVersion, theirs t: FileVersion, strategy: MergeStrategy?, session: WriteSession?,
        scratch: String, sideFiles: Bool
    ) throws -> TableOutcome? {
        guard let decl = try tables.declaration(for: path), o.kind != .symlink, t.kind != .symlink else { return nil }
        guard let format = decl.format ?? TableFormat.guess(path) else { return nil }
        var options = TableMergeOptions()
        options.key = decl.key
        options.appendOnly = decl.appendOnly == true
        options.strategy = strategy
        options.baseBytes = Int64(b?.size ?? 0)
        try Posix.makeDirectories(scratch)
        let ext = (path as NSString).pathExtension
        let stem = scratch + "/" + Posix.randomHex(6)
        let outPath = stem + (ext.isEmpty ? "" : "." + ext)
        let conflictPath = stem + ".conflicts.jsonl"
        let repo = self.repo
        func source(_ v: FileVersion?) -> ByteSource { { sink in if let v { try repo.streamVersion(v, sink) } } }
        let outFD = try Posix.createFile(outPath)
        defer { close(outFD) }
        var conflictFD: Int32 = -1
        defer { if conflictFD >= 0 { close(conflictFD) } }
        var conflictRows = 0
        let summary: TableMergeSummary
        do {
            summary = try TableMerge.merge(
                format: format, base: source(b), ours: source(o), theirs: source(t), options: options, scratch: stem + ".work", table: path,
                output: { try Posix.writeAll(outFD, $0, path: outPath) },
                conflict: { line in
                    if conflictFD < 0 { conflictFD = try Posix.createFile(conflictPath) }
                    try Posix.writeAll(conflictFD, line, path: conflictPath)
                    conflictRows += 1
                })
        } catch let whole as WholeTableConflict {
            let kind: MergeConflict.Kind = whole.kind == "duplicate-keys" ? .duplicateKeys : whole.kind == "schema" ? .schema : .content
            switch strategy {
            case .ours: return TableOutcome(result: o)
            case .theirs: return TableOutcome(result: t)
            case nil:
                return TableOutcome(
                    result: o,
                    conflict: MergeConflict(path: path, kind: kind, detail: "the table conflicts as a whole: \(whole.detail)", base: b, ours: o, theirs: t))
            }
        }
        guard let session else {
            // Dry run: nothing is stored.
            let placeholder = FileVersion(kind: o.kind, id: ObjectID.empty, size: 0)
            let c =
                conflictRows == 0
                ? nil
                : MergeConflict(
                    path: path, kind: .rows, rows: conflictRows, detail: "\(conflictRows) conflicting row\(conflictRows == 1 ? "" : "s")", base: b, ours: o,
                    theirs: t)
            return TableOutcome(result: placeholder, summary: summary, conflict: c)
        }
        let stored = try session.storeFile(path: outPath)
        staged.files[stored.id] = outPath
        let result = FileVersion(kind: o.kind, id: stored.id, size: stored.size)
        guard conflictRows > 0 else { return TableOutcome(result: result, summary: summary) }
        let c = MergeConflict(
            path: path, kind: .rows, rows: conflictRows,
            detail: "\(conflictRows) conflicting row\(conflictRows == 1 ? "" : "s") (base, ours and theirs in \(Merger.conflictFile(Posix.basename(path))))",
            base: b, ours: o, theirs: t)
        guard sideFiles else { return TableOutcome(result: result, summary: summary, conflict: c) }
        let side = try session.storeFile(path: conflictPath)
        return TableOutcome(
            result: result, summary: summary, conflict: c, sidecar: (Merger.conflictFile(path), FileVersion(kind: .file, id: side.id, size: side.size)))
    }
}
