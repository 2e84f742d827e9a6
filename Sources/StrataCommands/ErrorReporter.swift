import ArgumentParser
import Foundation
import StrataPlatform

/// An error already reported to the user, carrying only the exit status.
struct CommandError: Error { var status: Int32 }

/// The one place that turns errors into messages and exit statuses (docs/reference/exit-codes.md).
enum ErrorReporter {
    /// Exit statuses.
    enum Status {
        static let failure: Int32 = 1
        static let nothingToCommit: Int32 = 2
        static let notFound: Int32 = 3
        static let conflict: Int32 = 4
        static let noStore: Int32 = 10
        static let locked: Int32 = 11
        static let integrity: Int32 = 12
        static let unsafePath: Int32 = 13
        static let collected: Int32 = 14
        static let tooNew: Int32 = 15
        static let stageFailed: Int32 = 20
        static let manifest: Int32 = 21
        static let lineage: Int32 = 22
        static let notReproducible: Int32 = 23
        static let hookRejected: Int32 = 24
        static let mergeConflict: Int32 = 25
        static let unauthenticated: Int32 = 26
        static let forbidden: Int32 = 27
        static let interrupted: Int32 = 130
        static let usage: Int32 = 64
    }

    /// The exit status for each category of failure.
    static func status(for category: ErrorCategory) -> Int32 {
        switch category {
        case .failure: return Status.failure
        case .nothingToCommit: return Status.nothingToCommit
        case .notFound: return Status.notFound
        case .conflict: return Status.conflict
        case .noStore: return Status.noStore
        case .locked: return Status.locked
        case .integrity: return Status.integrity
        case .unsafePath: return Status.unsafePath
        case .collected: return Status.collected
        case .tooNew: return Status.tooNew
        case .stageFailed: return Status.stageFailed
        case .manifest: return Status.manifest
        case .lineage: return Status.lineage
        case .notReproducible: return Status.notReproducible
        case .hookRejected: return Status.hookRejected
        case .mergeConflict: return Status.mergeConflict
        case .unauthenticated: return Status.unauthenticated
        case .forbidden: return Status.forbidden
        case .interrupted: return Status.interrupted
        case .usage: return Status.usage
        }
    }

    /// The exit status for a library error; nil for argument-parser errors (it reports those itself). Every module's
    /// error is a `StrataError`, so no engine needs importing here; anything else is wrapped as a plain failure.
    static func status(for error: Error) -> Int32? {
        if let e = error as? any StrataError { return status(for: e.category) }
        if error is CocoaError || error is DecodingError || error is EncodingError { return Status.failure }
        return nil
    }

    /// Prints `strata: error: MESSAGE` on stderr.
    static func print(_ error: Error) {
        let message = (error as? any StrataError)?.description ?? "\(error)"
        // Credentials in a URL (user:secret@) never reach the terminal, whatever produced the message.
        FileHandle.standardError.write(Data("strata: error: \(URLRedaction.redact(message))\n".utf8))
    }
}
