/// Hides credentials in text that may contain URLs, before it is shown or logged.
public enum URLRedaction {
    /// `text` with the userinfo of every `scheme://user:secret@host` replaced by `***`, so that a password or
    /// token given in a URL never reaches output, errors or logs.
    public static func redact(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let sep = URLRedaction.find(rest) {
            // Copy up to and including "://", then look at the authority (up to the next '/', '?', '#' or space).
            out += rest[..<sep.upperBound]
            rest = rest[sep.upperBound...]
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " || $0 == "'" || $0 == "\"" || $0.isNewline }) ?? rest.endIndex
            let authority = rest[..<end]
            if let at = authority.lastIndex(of: "@") {
                out += "***@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return out + rest
    }

    static func find(_ s: Substring) -> Range<Substring.Index>? {
        var i = s.startIndex
        while i < s.endIndex {
            if s[i...].hasPrefix("://") { return i..<s.index(i, offsetBy: 3) }
            i = s.index(after: i)
        }
        return nil
    }
}
