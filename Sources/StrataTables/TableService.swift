import Foundation
import StrataModel
import StrataObjects
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
    /// An append-only log (evidence): a merge keeps both sides' appended records, each once.
    public var appendOnly: Bool?
    /// Declared column types (text formats): they decide when two cells are equal in a row diff.
    public var types: [String: ColumnType]?
    /// Creates a declaration.
    public init(
        path: String, format: TableFormat? = nil, key: [String], description: String? = nil, appendOnly: Bool = false, types: [String: ColumnType] = [:]
    ) {
        self.path = path; self.format = format; self.key = key; self.description = description
        self.appendOnly = appendOnly ? true : nil
        self.types = types.isEmpty ? nil : types
    }
}

/// Tables as tables: declarations and row-level diffs, for the command line and every other client.
public struct TableService {
    /// The store.
    public let repo: Repository
    /// Tables declared in Pipeline.swift; they win over the config's declarations of the same path.
    public let declaredInPipeline: [TableDeclaration]
    /// A service for `repo`, with the tables Pipeline.swift declares, if any.
    public init(repo: Repository, pipelineTables: [TableDeclaration] = []) { self.repo = repo; declaredInPipeline = pipelineTables }

    // MARK: Declarations (config `table.<path>.key|format|description|append-only|types`)

    /// Every declared table, by path: Pipeline.swift's, then the config's for other paths.
    public func declarations() throws -> [TableDeclaration] {
        let fromPipeline = Set(declaredInPipeline.map(\.path))
        return (declaredInPipeline + (try configDeclarations()).filter { !fromPipeline.contains($0.path) }).sorted { $0.path < $1.path }
    }

    /// The tables declared in the store's config (`strata table add`).
    public func configDeclarations() throws -> [TableDeclaration] {
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
                description: f["description"], appendOnly: f["append-only"] == "true", types: (try? ColumnType.parse(f["types"] ?? "")) ?? [:])
        }
    }

    /// Declares (or redeclares) a table.
    public func declare(_ d: TableDeclaration) throws {
        let path = d.path.slashSeparated().joined(separator: "/")
        guard !path.isEmpty, !path.contains("\n") else { throw TableError.invalid("a table path must not be empty") }
        guard !d.key.isEmpty || d.appendOnly == true, d.key.allSatisfy({ !$0.isEmpty && !$0.contains(",") }) else {
            throw TableError.invalid("give the key columns as --key COLUMN[,COLUMN...] (no empty names), or declare an append-only log with --append-only")
        }
        try repo.setConfig("table.\(path).key", d.key.joined(separator: ","))
        try repo.setConfig("table.\(path).format", d.format?.rawValue)
        try repo.setConfig("table.\(path).description", d.description)
        try repo.setConfig("table.\(path).append-only", d.appendOnly == true ? "true" : nil)
        try repo.setConfig("table.\(path).types", d.types.map(ColumnType.text))
    }

    /// Forgets a declaration.
    public func undeclare(_ path: String) throws {
        let clean = path.slashSeparated().joined(separator: "/")
        guard try repo.config("table.\(clean).key") != nil else { throw TableError.invalid("no table is declared at '\(clean)'") }
        for k in ["key", "format", "description", "append-only", "types"] { try repo.setConfig("table.\(clean).\(k)", nil) }
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
        guard let format = decl?.format ?? TableFormat.guess(path), !format.isFolder else { throw TableError.notATable(path) }
        var options = given
        if options.key.isEmpty { options.key = decl?.key ?? [] }
        if options.types.isEmpty { options.types = decl?.types ?? [:] }
        let scratch = repo.storePath + "/tmp/tablediff-" + Posix.randomHex(6)
        // Cost ∝ change: two record-aligned versions share chunks, which hold the same rows and cancel unparsed.
        if let b, !options.strictKeys, let fast = try alignedSources(a, b, path, format) {
            var summary = try TableDiffer.diff(
                format: format, a: fast.a, b: fast.b, sizeHint: fast.size, options: options, scratch: scratch, table: path, emit: emit)
            summary.identicalChunks = fast.skippedChunks
            summary.identicalBytes = fast.skippedBytes
            return summary
        }
        let (sourceA, sizeA) = try source(a, path)
        let (sourceB, sizeB) = try b.map { try source($0, path) } ?? workspaceSource(path)
        // Parquet is compressed and columnar: its rows as text take several times its bytes (measured about 3x on the
        // benchmark table), which the memory budget must plan for.
        let expansion: Int64 = format == .parquet ? 4 : 1
        return try TableDiffer.diff(
            format: format, a: sourceA, b: sourceB, sizeHint: (sizeA + sizeB) * expansion, options: options, scratch: scratch, table: path, emit: emit)
    }

    /// For two versions stored as record-aligned chunk lists: sources that stream only the chunks not shared by both
    /// (as multisets of chunk ids), each preceded by the header record of its version's first chunk.
    func alignedSources(_ a: String, _ b: String, _ path: String, _ format: TableFormat) throws
        -> (a: ByteSource, b: ByteSource, size: Int64, skippedChunks: Int, skippedBytes: Int64)?
    {
        func list(_ rev: String) throws -> ChunkList? {
            guard let e = try repo.entry(at: path, in: try repo.resolve(rev)), e.kind == .file || e.kind == .executable,
                try repo.objects.kind(of: e.id) == .chunked, try repo.hasObject(e.id)
            else { return nil }
            let l = try repo.objects.chunkList(e.id)
            return l.recordAligned ? l : nil
        }
        guard let la = try list(a), let lb = try list(b) else { return nil }
        var counts: [ObjectID: Int] = [:]
        for c in la.chunks { counts[c.id, default: 0] += 1 }
        var shared: [ObjectID: Int] = [:]
        for c in lb.chunks where (counts[c.id] ?? 0) > (shared[c.id] ?? 0) { shared[c.id, default: 0] += 1 }
        var skipped = 0
        var skippedBytes: Int64 = 0
        func kept(_ l: ChunkList) -> [(id: ObjectID, size: UInt32)] {
            var left = shared
            return l.chunks.filter { c in
                if let n = left[c.id], n > 0 { left[c.id] = n - 1; return false }
                return true
            }
        }
        let keptA = kept(la), keptB = kept(lb)
        skipped = la.chunks.count - keptA.count
        skippedBytes = la.chunks.reduce(Int64(0)) { $0 + Int64($1.size) } - keptA.reduce(Int64(0)) { $0 + Int64($1.size) }
        let objects = repo.objects
        let delimited = format != .jsonl
        func stream(_ l: ChunkList, _ keep: [(id: ObjectID, size: UInt32)]) -> ByteSource {
            { sink in
                // The header record: the start of the first chunk, unless that chunk is streamed anyway.
                if delimited, let first = l.chunks.first, keep.first?.id != first.id || keep.isEmpty {
                    let bytes = try objects.read(first.id, as: .blob)
                    var scanner = RecordScanner(mode: .delimited(format == .tsv ? 9 : UInt8(ascii: ",")))
                    let end = bytes.withUnsafeBufferPointer { b in scanner.next(b.baseAddress!, count: b.count, base: 0, from: 0) }
                    try bytes[0..<Int(end ?? Int64(bytes.count))].withUnsafeBytes { try sink($0) }
                }
                for c in keep { try objects.read(c.id, as: .blob).withUnsafeBytes { try sink($0) } }
            }
        }
        let size = keptA.reduce(Int64(0)) { $0 + Int64($1.size) } + keptB.reduce(Int64(0)) { $0 + Int64($1.size) }
        return (stream(la, keptA), stream(lb, keptB), size, skipped, skippedBytes)
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
        return (TableService.fileSource(full), Int64(st.size))
    }

    /// The bytes of a file on disk, read in 1 MiB pieces.
    public static func fileSource(_ full: String) -> ByteSource {
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
        }
    }
}
