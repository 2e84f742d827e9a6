import Foundation
import StrataModel
import StrataPlatform
import StrataRepository

/// A table declared in the store's config (`strata table add PATH --key id`).
public struct TableDeclaration: Sendable, Codable, Equatable {
    /// Workspace path, or an fnmatch glob (`tables/*.csv`).
    public var path: String
    /// Its format (nil: from the extension).
    public var format: TableFormat?
    /// Key columns (names, or JSON pointers for JSONL).
    public var key: [String]
    /// What it holds.
    public var description: String?
    /// Creates a declaration.
    public init(path: String, format: TableFormat? = nil, key: [String], description: String? = nil) {
        self.path = path; self.format = format; self.key = key; self.description = description
    }
}

/// Tables as tables: declarations and row-level diffs, for the command line and every other client.
public struct TableService {
    /// The store.
    public let repo: Repository
    /// A service for `repo`.
    public init(repo: Repository) { self.repo = repo }

    // MARK: Declarations (config `table.<path>.key|format|description`)

    /// Every declared table, by path.
    public func declarations() throws -> [TableDeclaration] {
        var byPath: [String: [String: String]] = [:]
        for (k, v) in try repo.allConfig() where k.hasPrefix("table.") {
            let rest = k.dropFirst("table.".count)
            guard let dot = rest.lastIndex(of: ".") else { continue }
            byPath[String(rest[..<dot]), default: [:]][String(rest[rest.index(after: dot)...])] = v
        }
        return byPath.keys.sorted().compactMap { p in
            let f = byPath[p]!
            guard let key = f["key"] else { return nil }
            return TableDeclaration(
                path: p, format: f["format"].flatMap(TableFormat.init(rawValue:)), key: key.split(separator: ",").map(String.init),
                description: f["description"])
        }
    }

    /// Declares (or redeclares) a table.
    public func declare(_ d: TableDeclaration) throws {
        let path = d.path.split(separator: "/").joined(separator: "/")
        guard !path.isEmpty, !path.contains("\n") else { throw TableError.invalid("a table path must not be empty") }
        guard !d.key.isEmpty, d.key.allSatisfy({ !$0.isEmpty && !$0.contains(",") }) else {
            throw TableError.invalid("give the key columns as --key COLUMN[,COLUMN...] (no empty names)")
        }
        try repo.setConfig("table.\(path).key", d.key.joined(separator: ","))
        try repo.setConfig("table.\(path).format", d.format?.rawValue)
        try repo.setConfig("table.\(path).description", d.description)
    }

    /// Forgets a declaration.
    public func undeclare(_ path: String) throws {
        let clean = path.split(separator: "/").joined(separator: "/")
        guard try repo.config("table.\(clean).key") != nil else { throw TableError.invalid("no table is declared at '\(clean)'") }
        for k in ["key", "format", "description"] { try repo.setConfig("table.\(clean).\(k)", nil) }
    }

    /// The declaration that covers `path` (exact path first, then globs).
    public func declaration(for path: String) throws -> TableDeclaration? {
        let all = try declarations()
        return all.first { $0.path == path } ?? all.first { fnmatch($0.path, path, FNM_PATHNAME) == 0 }
    }

    // MARK: Row diff

    /// Row-level diff of the table at `path` between revision `a` and revision `b` (nil: the workspace). The key is
    /// `options.key` when given, else the declaration's, else none (keyless). A side without the file is an empty
    /// table. Changes stream to `emit`.
    public func diff(
        _ a: String, _ b: String?, path raw: String, options given: TableDiffOptions, emit: (RowChange) throws -> Void
    ) throws -> TableDiffSummary {
        let path = try repo.relativePath(raw)
        let decl = try declaration(for: path)
        guard let format = decl?.format ?? TableFormat.guess(path) else { throw TableError.notATable(path) }
        var options = given
        if options.key.isEmpty { options.key = decl?.key ?? [] }
        let (sourceA, sizeA) = try source(a, path)
        let (sourceB, sizeB) = try b.map { try source($0, path) } ?? workspaceSource(path)
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        return try TableDiffer.diff(
            format: format, a: sourceA, b: sourceB, sizeHint: sizeA + sizeB, options: options, scratch: scratch, table: path, emit: emit)
    }

    /// True when `path` is a table (declared, or by extension).
    public func isTable(_ path: String) throws -> Bool {
        try declaration(for: path)?.format != nil || TableFormat.guess(path) != nil
    }

    func source(_ revision: String, _ path: String) throws -> (ByteSource, Int64) {
        let id = try repo.resolve(revision)
        guard let e = try repo.entry(at: path, in: id), e.kind == .file || e.kind == .executable else { return ({ _ in }, 0) }
        let repo = self.repo
        return ({ sink in try repo.cat(id.hex, path: path, sink) }, Int64(e.size))
    }

    func workspaceSource(_ path: String) throws -> (ByteSource, Int64) {
        let full = repo.root + "/" + path
        guard let st = try Posix.lstat(full), st.isRegular else { return ({ _ in }, 0) }
        return (
            { sink in
                let fd = open(full, O_RDONLY | O_CLOEXEC)
                if fd < 0 { throw PosixError("open", full) }
                defer { close(fd) }
                let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
                defer { buf.deallocate() }
                while true {
                    let n = try Posix.readFull(fd, into: buf, path: full)
                    if n > 0 { try sink(UnsafeRawBufferPointer(rebasing: buf[0..<n])) }
                    if n < buf.count { break }
                }
            }, Int64(st.size)
        )
    }
}
