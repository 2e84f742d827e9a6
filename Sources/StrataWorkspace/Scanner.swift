import StrataModel
import StrataPlatform
#if canImport(Glibc)
import Glibc
#endif

/// One file, symlink or executable found in the workspace.
public struct ScannedEntry: Sendable, Equatable {
    /// Workspace-relative path with `/` separators.
    public var path: String
    /// What `lstat` said.
    public var stat: FileStat
    /// File, executable or symlink.
    public var kind: EntryKind
}

/// Walks a workspace, skipping `.strata/`, `.git/` and ignored paths; entries come out sorted by path bytes.
public struct Scanner: Sendable {
    /// Workspace root (absolute).
    public let root: String
    /// Ignore rules from `.strataignore`.
    public let ignore: IgnoreRules

    /// Creates a scanner, reading `.strataignore` at the root when present.
    public init(root: String) {
        self.root = root
        if let bytes = try? Posix.readFile(root + "/.strataignore") {
            ignore = IgnoreRules(text: String(decoding: bytes, as: UTF8.self))
        } else { ignore = IgnoreRules() }
    }

    /// Scans the whole workspace, or only below the given relative paths.
    public func scan(only prefixes: [String]? = nil) throws -> [ScannedEntry] {
        var out: [ScannedEntry] = []
        if let prefixes {
            for p in prefixes {
                let clean = p.split(separator: "/").joined(separator: "/")
                guard let st = try Posix.lstat(clean.isEmpty ? root : root + "/" + clean) else { continue }
                if clean.isEmpty || st.isDirectory { try walk(clean, &out) }
                else if let e = entry(clean, st), !ignore.isIgnored(clean, isDirectory: false) { out.append(e) }
            }
            var seen = Set<String>()
            out = out.filter { seen.insert($0.path).inserted }
        } else {
            try walk("", &out)
        }
        out.sort { Tree.less($0.path, $1.path) }
        return out
    }

    func entry(_ rel: String, _ st: FileStat) -> ScannedEntry? {
        if st.isSymlink { return ScannedEntry(path: rel, stat: st, kind: .symlink) }
        if st.isRegular { return ScannedEntry(path: rel, stat: st, kind: st.isExecutable ? .executable : .file) }
        return nil
    }

    func walk(_ rel: String, _ out: inout [ScannedEntry]) throws {
        let dirPath = rel.isEmpty ? root : root + "/" + rel
        guard let d = opendir(dirPath) else {
            if errno == ENOENT { return }
            throw PosixError("read directory", dirPath)
        }
        defer { closedir(d) }
        var subdirs: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafePointer(to: ent.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if rel.isEmpty && IgnoreRules.alwaysIgnored.contains(name) { continue }
            let childRel = rel.isEmpty ? name : rel + "/" + name
            guard let st = try Posix.lstat(root + "/" + childRel) else { continue }
            if st.isDirectory {
                if !ignore.isIgnored(childRel, isDirectory: true) { subdirs.append(childRel) }
            } else if !ignore.isIgnored(childRel, isDirectory: false), let e = entry(childRel, st) {
                out.append(e)
            }
        }
        for s in subdirs { try walk(s, &out) }
    }
}
