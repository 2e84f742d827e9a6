import StrataModel
import StrataPlatform
import StrataSQLite

/// Failures of the object store; each names the object or path and says what to do.
public enum ObjectError: StrataError {
    /// No object with this id is in the store.
    case missing(ObjectID)
    /// An object's bytes do not hash to its id, or its frame cannot be decoded.
    case corrupt(ObjectID, pack: String, reason: String)
    /// An object exists but is of another kind than expected.
    case wrongKind(ObjectID, expected: ObjectKind, found: ObjectKind)
    /// A pack file named by the index is gone.
    case packMissing(String)
    /// A pack file whose opening magic or size is wrong.
    case corruptPack(String, reason: String)
    /// A chunked file whose chunk list names a chunk the store does not have.
    case incomplete(ObjectID, missingChunk: ObjectID)
    /// A file changed while it was being read, again and again.
    case unstableFile(String)
    /// The operating system refused.
    case io(PosixError)
    /// The metadata database refused.
    case database(SQLiteError)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .missing(let id):
            return (
                "object.missing", .integrity, "object \(id.hex) is not in the store (it may have been collected by gc or never committed)", "run 'strata fsck'"
            )
        case .corrupt(let id, let pack, let r):
            return (
                "object.corrupt", .integrity, "object \(id.hex) in pack \(pack) is corrupt: \(r)",
                "restore the pack from a backup or a remote, then run 'strata fsck'"
            )
        case .wrongKind(let id, let e, let f): return ("object.wrong-kind", .integrity, "object \(id.hex) is a \(f), not a \(e)", "run 'strata fsck'")
        case .corruptPack(let p, let r):
            return ("pack.corrupt", .integrity, "pack file \(p) is corrupt: \(r)", "restore it from a backup or a remote, then run 'strata fsck'")
        case .incomplete(let id, let c):
            return ("object.incomplete", .integrity, "object \(id.hex) is incomplete: its chunk \(c.hex) is not in the store", "run 'strata fsck'")
        case .packMissing(let p):
            return ("pack.missing", .integrity, "pack file \(p) is missing from .strata/objects/packs", "restore it from a backup, then run 'strata fsck'")
        case .unstableFile(let p): return ("file.unstable", .failure, "'\(p)' kept changing while it was being read", "stop the writer and try again")
        case .io(let e): return (e.code, e.category, e.message, e.nextStep)
        case .database(let e): return (e.code, e.category, e.message, e.nextStep)
        }
    }

    public var cause: (any Error)? {
        switch self {
        case .io(let e): return e;
        case .database(let e): return e;
        default: return nil
        }
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}
