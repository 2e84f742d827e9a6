/// Splitting text that people write (ignore files, INI files, manifests, commit messages) into lines.
extension StringProtocol {
    /// The lines, split at "\n", "\r\n" and a lone "\r". Swift's `split(separator: "\n")` compares Characters, and
    /// "\r\n" is one Character equal to neither "\n" nor "\r": a file with Windows line endings stays one line.
    public func textLines(omittingEmpty: Bool = false) -> [SubSequence] {
        split(omittingEmptySubsequences: omittingEmpty, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    }
}
