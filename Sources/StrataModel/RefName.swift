import StrataPlatform

/// A validated branch name (git's `check-ref-format` rules, simplified).
public struct BranchName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as typed.
    public let rawValue: String
    /// Validates and wraps a branch name.
    public init(_ raw: String) throws(ModelError) { try RefNameRules.check(raw); rawValue = raw }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The default first branch.
    public static let main = try! BranchName("main")
}

/// A validated tag name.
public struct TagName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as typed.
    public let rawValue: String
    /// Validates and wraps a tag name.
    public init(_ raw: String) throws(ModelError) { try RefNameRules.check(raw); rawValue = raw }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The naming rules shared by branches and tags.
public enum RefNameRules {
    /// Throws when `raw` is not a valid ref name.
    public static func check(_ raw: String) throws(ModelError) {
        func no(_ r: String) -> ModelError { .invalidRefName(raw, reason: r) }
        if raw.isEmpty { throw no("it is empty") }
        if raw == "HEAD" || raw == "@" { throw no("'\(raw)' is reserved") }
        if raw.hasPrefix("-") { throw no("it may not start with '-'") }
        if raw.hasPrefix("refs/") {
            throw no("give the short name ('\(raw.split(separator: "/").dropFirst(2).joined(separator: "/"))'): names starting with 'refs/' would be ambiguous")
        }
        // Parts are split at "/" bytes: a combining mark after a "/" would hide it from a Character-based check.
        let parts = raw.slashSeparated(omittingEmpty: false)
        if parts.contains(where: \.isEmpty) { throw no("slashes must separate non-empty parts") }
        if parts.contains(where: { SlashEdges.merge($0) }) { throw no("a part may not start with a combining mark") }
        if raw.contains("..") { throw no("it may not contain '..'") }
        if raw.hasSuffix(".lock") || raw.hasSuffix(".") { throw no("it may not end with '.lock' or '.'") }
        if raw.contains("@{") { throw no("it may not contain '@{'") }
        for part in parts where part.utf8.first == UInt8(ascii: ".") { throw no("a part may not start with '.'") }
        for u in raw.unicodeScalars {
            if u.value < 0x21 || u.value == 0x7f || "~^:?*[\\".unicodeScalars.contains(u) {
                throw no("it may not contain spaces, control characters or any of ~ ^ : ? * [ \\")
            }
        }
        if raw.count > 200 { throw no("it is longer than 200 characters") }
    }
}
