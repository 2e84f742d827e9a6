/// What kind of failure an error is. The command line maps each category to one exit status
/// (docs/reference/exit-codes.md) without knowing which engine the error came from.
public enum ErrorCategory: String, Sendable, CaseIterable {
    /// A failure not listed below (I/O, a file that kept changing).
    case failure
    /// `commit` with nothing to record.
    case nothingToCommit
    /// A revision, path, branch, tag, run or stage that does not exist.
    case notFound
    /// Uncommitted or untracked data in the way, a ref moved concurrently, a name taken.
    case conflict
    /// No usable store here.
    case noStore
    /// Another process holds a lock.
    case locked
    /// Stored bytes or metadata failed verification.
    case integrity
    /// A path that would leave the workspace or pass through a symlink, or a name that cannot be versioned.
    case unsafePath
    /// Data released by prune and collected by gc.
    case collected
    /// A store written by a newer strata.
    case tooNew
    /// A pipeline stage failed.
    case stageFailed
    /// Pipeline.swift is missing, does not compile or declares an invalid graph.
    case manifest
    /// Lineage is incomplete or could not be delivered.
    case lineage
    /// A reproduction gave other bytes.
    case notReproducible
    /// Interrupted by the user.
    case interrupted
    /// Bad flags or arguments.
    case usage
    /// An installed hook (`.strata/hooks/pre-commit`, `pre-push`) refused the command.
    case hookRejected
    /// A merge stopped with conflicts to resolve.
    case mergeConflict
    /// A server refused the credentials: no token, or one that is unknown, expired or revoked.
    case unauthenticated
    /// A server refused the action: the role is missing, or the branch is protected.
    case forbidden
}

/// An error users and code can act on: a stable code, a message naming the path, ref or object, a next step, and
/// an optional cause. Every module's error conforms; POSIX and SQLite errors are wrapped where they leave an engine.
public protocol StrataError: Error, Sendable, CustomStringConvertible {
    /// A stable, dotted code (`object.missing`, `ref.conflict`): part of the `--json` contract, never reworded.
    var code: String { get }
    /// The kind of failure, which decides the exit status.
    var category: ErrorCategory { get }
    /// What failed, naming the path, ref or object.
    var message: String { get }
    /// What to do about it (nil when there is nothing to do).
    var nextStep: String? { get }
    /// The error underneath, when this one wraps another.
    var cause: (any Error)? { get }
}

extension StrataError {
    public var cause: (any Error)? { nil }
    /// The message and the next step, as printed after `strata: error:`.
    public var description: String {
        guard let nextStep else { return message }
        return message.contains("\n") ? message + "\n" + nextStep : message + "; " + nextStep
    }
}

/// Text helpers for error messages.
public enum ErrorText {
    /// Up to `limit` items, one per indented line, then `… and N more`: how every error lists paths.
    public static func list(_ items: [String], limit: Int = 10) -> String {
        let shown = items.prefix(limit).map { "  " + $0 }.joined(separator: "\n")
        return items.count > limit ? shown + "\n  … and \(items.count - limit) more" : shown
    }
}
