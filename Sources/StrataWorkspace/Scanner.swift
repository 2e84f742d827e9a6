import Foundation
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
    /// Creates an entry.
    public init(path: String, stat: FileStat, kind: EntryKind) { self.path = path; self.stat = stat; self.kind = kind }
}

/// Walks a workspace, skipping `.strata/`, `.git/` and ignored paths.
///
/// Folders are listed on the calling thread; the files are `lstat`ed relative to their folder's descriptor
/// on all cores.
public struct Scanner: Sendable {
    /// Workspace root (absolute).
    public let root: String
    /// Ignore rules from `.strataignore`.
    public let ignore: IgnoreRules
    /// The first 8 bytes of the SHA-256 of `.strataignore` (0 without one): a folder-cache row holds only for the
    /// rules it was listed under.
    public let rulesFingerprint: Int64

    /// Creates a scanner, reading `.strataignore` at the root when present.
    public init(root: String) {
        self.root = root
        if let bytes = try? Posix.readFile(root + "/.strataignore") {
            ignore = IgnoreRules(text: String(decoding: bytes, as: UTF8.self))
            rulesFingerprint = ObjectID.hash(bytes).bytes.prefix(8).reduce(Int64(0)) { $0 &<< 8 | Int64($1) }
        } else {
            ignore = IgnoreRules()
            rulesFingerprint = 0
        }
    }

    /// Scans the whole workspace, or only below the given relative paths. With `sorted`, entries come in
    /// byte order of their paths.
    public func scan(only prefixes: [String]? = nil, sorted: Bool = false) throws -> [ScannedEntry] {
        var names: [(dir: Int, name: String, rel: String)] = []
        var dirs: [String] = []
        var bad: [String] = []
        if let prefixes {
            for p in prefixes {
                let clean = p.slashSeparated().joined(separator: "/")
                guard let st = try Posix.lstat(clean.isEmpty ? root : root + "/" + clean) else { continue }
                if clean.isEmpty || st.isDirectory {
                    try list(clean, &dirs, &names, &bad)
                } else if !ignore.isIgnored(clean, isDirectory: false) {
                    // A file named alone (a monitor's candidate) is checked as a folder listing would check it.
                    if clean.slashSeparated().contains(where: { Scanner.unversionable(String($0)) }) { bad.append(Scanner.shown(clean)); continue }
                    dirs.append(Posix.dirname(clean))
                    names.append((dirs.count - 1, String(clean.slashSeparated().last!), clean))
                }
            }
        } else {
            try list("", &dirs, &names, &bad)
        }
        if !bad.isEmpty { throw WorkspaceError.unversionableNames(bad.sorted()) }
        var out = try statAll(names, dirs)
        if prefixes != nil {
            var seen = Set<String>()
            out = out.filter { seen.insert($0.path).inserted }
        }
        if sorted { out.sort { Tree.less($0.path, $1.path) } }
        return out
    }

    /// Lists folders recursively, collecting the non-folder names.
    func list(_ rel: String, _ dirs: inout [String], _ names: inout [(dir: Int, name: String, rel: String)], _ bad: inout [String]) throws {
        guard let entries = try children(rel, &bad) else { return }
        dirs.append(rel)
        let index = dirs.count - 1
        for e in entries where !e.isDirectory { names.append((index, e.name, rel.isEmpty ? e.name : rel + "/" + e.name)) }
        for e in entries where e.isDirectory { try list(rel.isEmpty ? e.name : rel + "/" + e.name, &dirs, &names, &bad) }
    }

    /// The entries of one folder that are not ignored (nil when the folder is gone): names, and whether each is a
    /// folder. Names Strata cannot record (not UTF-8, with a newline, or equal to a sibling's under Unicode
    /// normalization) go to `bad` unless an ignore rule covers them.
    public func children(_ rel: String, _ bad: inout [String]) throws -> [(name: String, isDirectory: Bool)]? {
        let dirPath = rel.isEmpty ? root : root + "/" + rel
        guard let d = opendir(dirPath) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw PosixError("read directory", dirPath)
        }
        defer { closedir(d) }
        var out: [(name: String, isDirectory: Bool)] = []
        while let ent = readdir(d) {
            // One decode per entry: a name that is not valid UTF-8 would be repaired into another name (and then not
            // found), so it is kept escaped and flagged, and the scan refuses it unless an ignore rule covers it.
            let decoded = withUnsafePointer(to: ent.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(validatingCString: $0) }
            }
            if decoded == "." || decoded == ".." { continue }
            guard let name = decoded else {
                let raw = withUnsafePointer(to: ent.pointee.d_name) { p in
                    p.withMemoryRebound(to: UInt8.self, capacity: 256) {
                        Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))))
                    }
                }
                let escaped = Scanner.escape(raw)
                let childRel = rel.isEmpty ? escaped : rel + "/" + escaped
                if !ignore.isIgnored(childRel, isDirectory: false) && !ignore.isIgnored(childRel, isDirectory: true) { bad.append(childRel) }
                continue
            }
            if rel.isEmpty && IgnoreRules.alwaysIgnored.contains(name) { continue }
            let childRel = rel.isEmpty ? name : rel + "/" + name
            var isDir = ent.pointee.d_type == UInt8(DT_DIR)
            if ent.pointee.d_type == UInt8(DT_UNKNOWN), let st = try Posix.lstat(root + "/" + childRel) { isDir = st.isDirectory }
            if isDir {
                if !ignore.isIgnored(childRel, isDirectory: true) {
                    if Scanner.unversionable(name) { bad.append(Scanner.shown(childRel)) } else { out.append((name, true)) }
                }
            } else if ignore.isEmpty || !ignore.isIgnored(childRel, isDirectory: false) {
                if Scanner.unversionable(name) { bad.append(Scanner.shown(childRel)) } else { out.append((name, false)) }
            }
        }
        Scanner.equivalentNames(out.lazy.map(\.name), in: rel, into: &bad)
        return out
    }

    /// Sibling names that differ only in Unicode normalization (an NFC "é" and an NFD "e" + U+0301) go to `bad`,
    /// shown escaped so that they can be told apart. They are two files on Linux but one name to Swift
    /// (`Tree.equivalentPairs`): a commit lost one of them.
    static func equivalentNames(_ names: some Sequence<String>, in rel: String, into bad: inout [String]) {
        for (a, b) in Tree.equivalentPairs(names) {
            bad += [a, b].map { Scanner.escape(Array(((rel.isEmpty ? "" : rel + "/") + $0).utf8)) }
        }
    }

    /// A path as an error lists it: escaped when a name in it would print joined to its "/".
    static func shown(_ rel: String) -> String { rel.slashSeparated().contains(where: { SlashEdges.merge($0) }) ? escape(Array(rel.utf8)) : rel }

    /// A name shown with its non-ASCII and control bytes as `\xNN` (for messages and ignore rules).
    static func escape(_ raw: [UInt8]) -> String {
        raw.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }

    /// True for valid UTF-8 names Strata still cannot record: names with a newline, and names whose first or last
    /// scalar would join the "/" next to it into one Character (`SlashEdges`), which Character-based path splitting
    /// and prefix checks would then not see.
    static func unversionable(_ name: String) -> Bool { name.utf8.contains(UInt8(ascii: "\n")) || SlashEdges.merge(name) }

    /// `lstat`s every listed name relative to its folder, in parallel.
    func statAll(_ names: [(dir: Int, name: String, rel: String)], _ dirs: [String]) throws -> [ScannedEntry] {
        let root = self.root
        let width = names.count < 512 ? 1 : ProcessInfo.processInfo.activeProcessorCount
        let slices = (0..<width).map { w in stride(from: w, to: names.count, by: width) }
        let results = ResultBox(count: width)
        DispatchQueue.concurrentPerform(iterations: width) { w in
            var local: [ScannedEntry] = []
            local.reserveCapacity(names.count / width + 1)
            var fds: [Int: Int32] = [:]
            defer { for (_, fd) in fds { close(fd) } }
            for i in slices[w] {
                let n = names[i]
                let fd: Int32
                if let f = fds[n.dir] {
                    fd = f
                } else {
                    let dirPath = dirs[n.dir].isEmpty ? root : root + "/" + dirs[n.dir]
                    fd = open(dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    if fd < 0 { results.fail(PosixError("open directory", dirPath)); return }
                    fds[n.dir] = fd
                }
                var s = stat()
                if fstatat(fd, n.name, &s, AT_SYMLINK_NOFOLLOW) != 0 {
                    if errno == ENOENT { continue }
                    results.fail(PosixError("stat", root + "/" + n.rel)); return
                }
                let st = FileStat(s)
                if st.isSymlink {
                    local.append(ScannedEntry(path: n.rel, stat: st, kind: .symlink))
                } else if st.isRegular {
                    local.append(ScannedEntry(path: n.rel, stat: st, kind: st.isExecutable ? .executable : .file))
                }
            }
            results.set(w, local)
        }
        return try results.joined()
    }
}

/// Per-worker results of a parallel scan; `lock` guards the slots and the first error.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[ScannedEntry]]
    private var error: Error?
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [ScannedEntry]) { lock.lock(); slots[i] = v; lock.unlock() }
    func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
    func joined() throws -> [ScannedEntry] {
        lock.lock(); defer { lock.unlock() }
        if let error { throw error }
        return slots.flatMap { $0 }
    }
}
