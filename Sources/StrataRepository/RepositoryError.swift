import StrataPlatform
import StrataModel

/// Failures of repository operations; each says what failed and what to do next.
public enum RepositoryError: StrataError {
    /// No `.strata` folder here or in any parent.
    case notAStore(String)
    /// `init` where a store exists already.
    case alreadyInitialized(String)
    /// The store was written by a newer, unknown format version.
    case unsupportedFormat(String)
    /// The store's metadata database (`strata.db`) is missing, empty or not a Strata database.
    case metadataMissing(String)
    /// `cat` streamed bytes that then failed verification: what was written is not the file.
    case outputInvalid(path: String, reason: String)
    /// The store's metadata schema is newer than this build (nothing was changed).
    case schemaTooNew(String)
    /// The workspace matches the parent commit.
    case nothingToCommit(branch: String)
    /// A revision that names nothing.
    case unknownRevision(String)
    /// A commit id prefix that matches several commits.
    case ambiguousRevision(String, candidates: [ObjectID])
    /// `REF~N` walks past the first commit.
    case noSuchAncestor(String)
    /// HEAD is on a branch that has no commits yet.
    case noCommitsYet(branch: String)
    /// A path that is not in the given commit.
    case pathNotFound(String, revision: String)
    /// A path that is a folder where a file is needed (or the reverse).
    case notAFile(String, revision: String)
    /// Uncommitted changes that an operation would overwrite.
    case uncommittedChanges([String])
    /// Another process holds the store's write lock.
    case locked(holder: String)
    /// A bad argument.
    case invalidArgument(String)
    /// Checkout would write data that `gc` has already collected.
    case dataCollected(path: String, id: ObjectID, by: String)
    /// An operation that needs a checked-out branch ran on a detached HEAD.
    case detachedHead(String)
    /// A branch cannot move to a commit that does not descend from it without a merge.
    case notFastForward(branch: String, target: ObjectID)
    /// An operation that would lose the merge in progress (checkout, switch, commit, pull, a second merge).
    case mergeInProgress(String)
    /// `merge --abort`, `--continue` or `resolve` with no merge in progress.
    case noMergeInProgress
    /// `merge --continue` while conflicts remain.
    case unresolvedConflicts([String])
    /// The two histories have several best common ancestors (criss-cross).
    case crissCross(bases: [ObjectID])

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .notAStore(let p): return ("store.not-found", .noStore, "no Strata store in '\(p)' or any parent folder", "create one with 'strata init'")
        case .alreadyInitialized(let p): return ("store.exists", .noStore, "'\(p)' already holds a Strata store; nothing was changed", nil)
        case .unsupportedFormat(let v):
            return ("store.unknown-format", .noStore, "this store uses format version \(v), which this strata does not know", "upgrade strata")
        case .metadataMissing(let p):
            return (
                "store.metadata-missing", .noStore, "the store in '\(p)' has no usable metadata database (strata.db is missing or empty); nothing was changed",
                "restore .strata/strata.db (with its -wal file) from a backup; do not run gc on this store"
            )
        case .outputInvalid(let p, let r):
            return ("object.output-invalid", .integrity, "the bytes written for '\(p)' are INVALID and must be discarded: \(r)", "run 'strata fsck'")
        case .schemaTooNew(let m): return ("store.schema-too-new", .tooNew, m, "upgrade strata")
        case .nothingToCommit(let b):
            return (
                "commit.nothing", .nothingToCommit, "nothing to commit on \(b): the workspace matches the last commit",
                "use --allow-empty to record an empty commit"
            )
        case .unknownRevision(let r):
            return (
                "revision.unknown", .notFound, "unknown revision '\(r)': not a branch, tag or commit id", "see 'strata branch', 'strata tag' or 'strata log'"
            )
        case .ambiguousRevision(let r, let c):
            return ("revision.ambiguous", .notFound, "revision '\(r)' is ambiguous: it matches \(c.map(\.short).joined(separator: ", "))", "type more digits")
        case .noSuchAncestor(let r): return ("revision.no-ancestor", .notFound, "revision '\(r)' goes back past the first commit", nil)
        case .noCommitsYet(let b): return ("revision.unborn", .notFound, "branch '\(b)' has no commits yet", "make one with 'strata commit -m MESSAGE'")
        case .pathNotFound(let p, let r): return ("path.not-found", .notFound, "'\(p)' is not in \(r)", "list what is there with 'strata ls \(r) -r'")
        case .notAFile(let p, let r): return ("path.not-a-file", .notFound, "'\(p)' in \(r) is a folder, not a file", "use 'strata ls \(r) \(p)'")
        case .uncommittedChanges(let ps):
            return (
                "workspace.uncommitted", .conflict,
                "uncommitted, untracked or ignored data would be overwritten or deleted:\n\(ErrorText.list(ps))",
                "commit or move them, or pass --force to discard them"
            )
        case .locked(let h): return ("store.locked", .locked, "the store is locked by another strata process (\(h))", "wait for it to finish and retry")
        case .invalidArgument(let m): return ("argument.invalid", .usage, m, nil)
        case .detachedHead(let what): return ("ref.detached", .conflict, "\(what) needs a checked-out branch, and HEAD is detached", "switch to a branch first")
        case .notFastForward(let b, let t):
            return (
                "ref.not-fast-forward", .conflict, "branch '\(b)' and \(t.short) have diverged: moving the branch would drop its own commits",
                "merge them with 'strata merge', or move the branch by hand with 'strata reset'"
            )
        case .mergeInProgress(let what):
            return (
                "merge.in-progress", .conflict, "a merge is in progress: \(what) would lose it",
                "finish it with 'strata merge --continue' (after 'strata resolve'), or abandon it with 'strata merge --abort'"
            )
        case .noMergeInProgress:
            return ("merge.none", .notFound, "no merge is in progress", "start one with 'strata merge BRANCH'")
        case .unresolvedConflicts(let ps):
            return (
                "merge.unresolved", .mergeConflict, "the merge still has unresolved conflicts:\n\(ErrorText.list(ps))",
                "resolve each with 'strata resolve PATH --ours|--theirs|--base' (or edit it and run 'strata resolve PATH'), then 'strata merge --continue'"
            )
        case .crissCross(let bases):
            return (
                "merge.criss-cross", .conflict,
                "the histories have \(bases.count) best common ancestors (\(bases.map(\.short).joined(separator: ", "))): a criss-cross merge, which strata does not merge recursively",
                "merge one of those bases into the other first, so that the histories have one best common ancestor"
            )
        case .dataCollected(let p, let id, let by):
            return (
                "data.collected", .collected, "the data of '\(p)' (\(id.short)) was released by \(by) and collected by gc",
                "this version can be listed and diffed but not checked out"
            )
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}
