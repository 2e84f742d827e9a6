#if canImport(Glibc)
import Glibc
#endif
import StrataPlatform

/// Ignore patterns in gitignore syntax (`*`, `?`, `[...]`, `**`, leading `/`, trailing `/`, `!` negation, `#` comments).
public struct IgnoreRules: Sendable {
    struct Rule: Sendable {
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
        var segments: [String]
    }
    var rules: [Rule] = []

    /// Names that are never part of the workspace.
    public static let alwaysIgnored: Set<String> = [".strata", ".git"]

    /// Parses the text of a `.strataignore` file.
    public init(text: String) {
        for raw in text.textLines(omittingEmpty: true) {
            var line = String(raw)
            while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            // Markers are looked for as bytes: a combining mark after "!" or "/" joins it into another Character.
            func starts(_ c: Unicode.Scalar) -> Bool { line.utf8.first == UInt8(ascii: c) }
            func dropFirstByte() { line = String(Substring(line.utf8.dropFirst())) }
            var negated = false
            if starts("!") { negated = true; dropFirstByte() }
            if starts("\\") { dropFirstByte() }
            var dirOnly = false
            if line.utf8.last == UInt8(ascii: "/") { dirOnly = true; line = String(Substring(line.utf8.dropLast())) }
            var anchored = false
            if starts("/") { anchored = true; dropFirstByte() }
            if line.utf8.contains(UInt8(ascii: "/")) { anchored = true }
            let segs = line.slashSeparated().map(String.init)
            if segs.isEmpty { continue }
            rules.append(Rule(negated: negated, directoryOnly: dirOnly, anchored: anchored, segments: segs))
        }
    }

    /// No rules.
    public init() {}

    /// True when there are no user rules.
    public var isEmpty: Bool { rules.isEmpty }

    /// True when `path` (workspace-relative, `/`-separated) is ignored. Later rules win, as in git.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        if rules.isEmpty {
            let first = path.utf8.firstIndex(of: UInt8(ascii: "/")).map { String(path[..<$0]) } ?? path
            return IgnoreRules.alwaysIgnored.contains(first)
        }
        let parts = path.slashSeparated().map(String.init)
        if let f = parts.first, IgnoreRules.alwaysIgnored.contains(f) { return true }
        var ignored = false
        for r in rules {
            if r.directoryOnly && !isDirectory { continue }
            if matches(r, parts) { ignored = !r.negated }
        }
        return ignored
    }

    func matches(_ r: Rule, _ parts: [String]) -> Bool {
        if !r.anchored {
            guard let last = parts.last else { return false }
            return IgnoreRules.glob(r.segments[0], last)
        }
        return IgnoreRules.matchSegments(r.segments[...], parts[...])
    }

    static func matchSegments(_ pat: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let p = pat.first else { return path.isEmpty }
        if p == "**" {
            let rest = pat.dropFirst()
            if rest.isEmpty { return true }
            var tail = path
            while true {
                if matchSegments(rest, tail) { return true }
                if tail.isEmpty { return false }
                tail = tail.dropFirst()
            }
        }
        guard let s = path.first, glob(p, s) else { return false }
        return matchSegments(pat.dropFirst(), path.dropFirst())
    }

    /// Matches one path component against a glob with `*`, `?`, `[...]` classes and `\\` escapes: fnmatch(3).
    public static func glob(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
