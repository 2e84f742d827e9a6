/// What went wrong while validating or decoding a model value; each case names the offending text.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
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

    public var description: String {
        switch self {
        case .unsafeEntryName(let n):
            return "unsafe tree entry name '\(n)': names must be one path component, not empty, '.', '..' or containing '/' or NUL"
        case .invalidRefName(let n, let r): return "invalid name '\(n)': \(r)"
        case .malformedObject(let k, let r): return "malformed \(k) object: \(r)"
        case .invalidRevision(let s, let r): return "invalid revision '\(s)': \(r)"
        case .invalidSignature(let s): return "invalid author '\(s)': expected \"Name <email>\""
        }
    }
}
