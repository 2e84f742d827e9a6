import ArgumentParser
import Foundation
import StrataMaintenance
import StrataModel
import StrataLineage
import StrataObjects
import StrataPipeline
import StrataPlatform
import StrataRefs
import StrataRepository
import StrataSQLite
import StrataWorkspace

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
        static let interrupted: Int32 = 130
        static let usage: Int32 = 64
    }

    /// The exit status for a library error; nil for argument-parser errors (it reports those itself).
    static func status(for error: Error) -> Int32? {
        switch error {
        case let e as RepositoryError:
            switch e {
            case .notAStore, .alreadyInitialized, .unsupportedFormat, .metadataMissing: return Status.noStore
            case .nothingToCommit: return Status.nothingToCommit
            case .unknownRevision, .ambiguousRevision, .noSuchAncestor, .noCommitsYet, .pathNotFound, .notAFile: return Status.notFound
            case .uncommittedChanges: return Status.conflict
            case .locked: return Status.locked
            case .invalidArgument: return Status.usage
            case .dataCollected: return Status.collected
            case .outputInvalid: return Status.integrity
            case .schemaTooNew: return Status.tooNew
            }
        case let e as RefError:
            switch e {
            case .notFound: return Status.notFound
            case .exists, .deletingCurrentBranch, .conflict: return Status.conflict
            }
        case let e as ObjectError:
            switch e {
            case .missing, .corrupt, .wrongKind, .packMissing, .corruptPack, .incomplete: return Status.integrity
            case .unstableFile, .io, .database: return Status.failure
            }
        case is ModelError:
            if case ModelError.malformedObject = error { return Status.integrity }
            if case ModelError.unsafeEntryName = error { return Status.unsafePath }
            return Status.usage
        case is WorkspaceError: return Status.unsafePath
        case let e as LineageError:
            switch e {
            case .unknownRun: return Status.notFound
            case .deliveryFailed, .verificationFailed: return Status.lineage
            }
        case let e as PipelineError:
            switch e {
            case .noManifest, .noCompiler, .compileFailed, .evaluationFailed, .timeout, .badDescription: return Status.manifest
            case .invalidGraph: return Status.manifest
            case .unknownStage: return Status.notFound
            case .stagesFailed: return Status.stageFailed
            case .interrupted: return Status.interrupted
            }
        case let e as RetentionError:
            switch e {
            case .maintenanceLocked: return Status.locked
            case .nothingToUndo: return Status.notFound
            case .badDuration, .emptyPolicy, .unknownPolicy, .badTimeZone: return Status.usage
            }
        case let e as SQLiteError: return e.isBusy ? Status.locked : Status.failure
        case is PosixError: return Status.failure
        default: return nil
        }
    }

    /// Prints `strata: error: MESSAGE` on stderr.
    static func print(_ error: Error) {
        let message: String
        if let e = error as? CustomStringConvertible { message = e.description } else { message = "\(error)" }
        // Credentials in a URL (user:secret@) never reach the terminal, whatever produced the message.
        FileHandle.standardError.write(Data("strata: error: \(URLRedaction.redact(message))\n".utf8))
    }
}
