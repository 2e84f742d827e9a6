/// A parsed revision expression: a base (`HEAD`, a name or an id prefix) followed by `~N` / `^` steps.
public struct Revision: Hashable, Sendable, CustomStringConvertible {
    /// The starting point.
    public enum Base: Hashable, Sendable {
        /// The current HEAD.
        case head
        /// A branch name, tag name or hex id prefix, resolved in that order (full ids first).
        case name(String)
    }
    /// Starting point.
    public var base: Base
    /// Number of first-parent steps back from the base.
    public var ancestry: Int
    /// The original text.
    public let text: String

    /// Parses `BASE(~N|^|~)*`.
    public init(parsing text: String) throws(ModelError) {
        self.text = text
        guard !text.isEmpty else { throw .invalidRevision(text, reason: "it is empty") }
        let chars = Array(text)
        var end = chars.count
        // Find where suffixes start: the first ~ or ^.
        if let i = chars.firstIndex(where: { $0 == "~" || $0 == "^" }) { end = i }
        let baseText = String(chars[0..<end])
        guard !baseText.isEmpty else { throw .invalidRevision(text, reason: "nothing before '~' or '^'") }
        base = (baseText == "HEAD" || baseText == "@") ? .head : .name(baseText)
        var steps = 0
        var i = end
        while i < chars.count {
            let c = chars[i]; i += 1
            var digits = ""
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { digits.append(chars[i]); i += 1 }
            switch c {
            case "~":
                guard let n = digits.isEmpty ? 1 : Int(digits) else { throw .invalidRevision(text, reason: "bad number after '~'") }
                steps += n
            case "^":
                guard digits.isEmpty || digits == "1" else {
                    throw .invalidRevision(text, reason: "only the first parent (^ or ^1) is supported")
                }
                steps += 1
            default:
                throw .invalidRevision(text, reason: "unexpected '\(c)'")
            }
        }
        ancestry = steps
    }

    public var description: String { text }
}
