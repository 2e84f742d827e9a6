/// Splitting paths at their "/" bytes, and names that Swift's Characters would join to a "/".
extension StringProtocol where SubSequence == Substring {
    /// The components of a path, split at every "/" byte, as the kernel splits it.
    ///
    /// `split(separator: "/")` compares Characters, and a combining mark (U+0301, U+200D, …) after a "/" joins it into
    /// one Character that is not "/": `"../\u{301}etc"` would stay one component, not ".." and "\u{301}etc", and
    /// lexical checks for ".." would pass a path that leaves its root.
    public func slashSeparated(omittingEmpty: Bool = true) -> [Substring] {
        var out: [Substring] = []
        var rest = self[...]
        while let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) {
            if !(omittingEmpty && slash == rest.startIndex) { out.append(rest[rest.startIndex..<slash]) }
            rest = rest[rest.utf8.index(after: slash)...]
        }
        if !(omittingEmpty && rest.isEmpty) { out.append(rest) }
        return out
    }
}

/// Path names whose edges would merge with a neighbouring "/" in Swift's Character view.
public enum SlashEdges {
    /// True when a "/" written before or after `name` would not stay a Character of its own: the name starts with a
    /// scalar that extends the Character before it (a combining mark such as U+0301, a zero-width joiner, a variation
    /// selector) or ends with one that prepends to the Character after it (such as U+0600). Such a name splits and
    /// compares wrongly in every Character-based path operation. ASCII names never do.
    public static func merge(_ name: some StringProtocol) -> Bool {
        guard name.utf8.contains(where: { $0 >= 0x80 }) else { return false }
        // Built from the bytes: `"/" + name` with a generic name appends through a dynamic cast, whose first use
        // scans the binary's conformance records (about 0.2 ms of a status).
        var framed = "/"
        framed.append(contentsOf: String(decoding: name.utf8, as: UTF8.self))
        framed.append("/")
        return framed.first != "/" || framed.last != "/"
    }
}
