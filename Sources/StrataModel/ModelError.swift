import StrataPlatform
/// What went wrong while validating or decoding a model value; each case names the offending text.
public enum ModelError: StrataError, Equatable {
    /// A tree entry name that could leave the workspace or is not a single path component.
    case unsafeEntryName(String)
    /// A branch or tag name that breaks the naming rules.
    case invalidRefName(String, reason: String)
    /// A stored tree or commit whose bytes do not follow the canonical encoding.
    case malformedObject(kind: String, reason: String)
    /// A revision expression that cannot be parsed.
    case invalidRevision(String, reason: String)
    /// An author that is not `Name <email>`.
    case invalidSignature(String)
    /// Two entries of one tree whose names differ only in Unicode normalization (NFC against NFD).
    case equivalentNames(String, String)

    var parts: (code: String, category: ErrorCategory, message: String, next: String?) {
        switch self {
        case .unsafeEntryName(let n):
            return (
                "tree.unsafe-name", .unsafePath, "unsafe tree entry name '\(ModelError.scalars(n))'",
                "names must be one path component, not empty, '.', '..', containing '/', NUL or a newline, or starting with a "
                    + "combining mark"
            )
        case .invalidRefName(let n, let r): return ("ref.invalid-name", .usage, "invalid name '\(n)': \(r)", nil)
        case .malformedObject(let k, let r): return ("object.malformed", .integrity, "malformed \(k) object: \(r)", "run 'strata fsck'")
        case .invalidRevision(let s, let r): return ("revision.invalid", .usage, "invalid revision '\(s)': \(r)", nil)
        case .invalidSignature(let s): return ("author.invalid", .usage, "invalid author '\(s)'", "expected \"Name <email>\"")
        case .equivalentNames(let a, let b):
            return (
                "tree.equivalent-names", .unsafePath,
                "'\(ModelError.scalars(a))' and '\(ModelError.scalars(b))' differ only in Unicode normalization (NFC against NFD)",
                "rename one of them: Strata cannot keep both in one folder"
            )
        }
    }

    /// A name with its non-ASCII scalars written `\u{…}`, so that two names that print alike can be told apart.
    public static func scalars(_ s: String) -> String {
        s.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{" + String($0.value, radix: 16, uppercase: true) + "}" }.joined()
    }

    public var code: String { parts.code }
    public var category: ErrorCategory { parts.category }
    public var message: String { parts.message }
    public var nextStep: String? { parts.next }
}
