import StrataPlatform

/// The one normaliser of workspace-relative paths: `-- PATH` arguments, pipeline inputs and outputs, working
/// folders, and the paths built from tree entries all pass through it before anything is read, written or deleted.
///
/// Normalising is lexical: empty and `.` components are dropped and `..` removes the previous component. A path that
/// climbs above the workspace root, is absolute (unless made relative by the caller), names the store (`.strata`) or
/// `.git`, or has a component no tree entry may have (NUL, newline, a combining mark at an edge) is refused. Paths are
/// split at their "/" bytes, never at Characters. Symlinks on disk are the writer's business: `Materializer` never
/// writes or deletes through one.
public enum WorkspacePath {
    /// Folders at the workspace root that Strata never versions, writes or deletes.
    public static let reserved: Set<String> = [".strata", ".git"]

    /// Why a path was refused.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given.
        public var path: String
        /// What is wrong with it.
        public var reason: String
        public var description: String { "'\(path)' \(reason)" }
    }

    /// The normalised relative form of `path` (`""` is the workspace root itself, allowed only with `allowRoot`).
    public static func normalize(_ path: String, allowRoot: Bool = false) throws(Refusal) -> String {
        if path.hasPrefix("/") { throw Refusal(path: path, reason: "is absolute; give a path inside the workspace") }
        var parts: [Substring] = []
        for p in path.slashSeparated() {
            if p == "." { continue }
            if p == ".." {
                if parts.isEmpty { throw Refusal(path: path, reason: "leads outside the workspace") }
                parts.removeLast(); continue
            }
            if p.utf8.contains(0) || p.utf8.contains(UInt8(ascii: "\n")) {
                throw Refusal(path: path, reason: "has a component with a NUL or newline character")
            }
            if SlashEdges.merge(p) {
                throw Refusal(path: path, reason: "has a component that starts with a combining mark (or ends with a prepended one)")
            }
            parts.append(p)
        }
        if let first = parts.first, reserved.contains(String(first)) {
            throw Refusal(path: path, reason: "is inside \(first)/, which Strata never versions or writes")
        }
        if parts.isEmpty && !allowRoot { throw Refusal(path: path, reason: "is the workspace root itself") }
        return parts.joined(separator: "/")
    }

    /// True when `path` is `prefix` or lies below it (both normalised; `""` is the root and holds everything).
    /// Compared as bytes, as the file system compares names.
    public static func isWithin(_ path: String, _ prefix: String) -> Bool {
        if prefix.isEmpty { return true }
        let p = path.utf8, q = prefix.utf8
        guard p.starts(with: q) else { return false }
        let rest = p.dropFirst(q.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }
}
