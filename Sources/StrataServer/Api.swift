import Foundation
import Hummingbird
import NIOCore
import StrataDiff
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository
import StrataTables
import StrataWorkflows

/// A commit as the JSON API shows it.
struct APICommit: Encodable {
    var id: String
    var tree: String
    var parents: [String]
    var author: String
    var email: String
    var time: Int64
    var message: String

    init(_ id: ObjectID, _ c: Commit) {
        self.id = id.hex; tree = c.tree.hex; parents = c.parents.map(\.hex)
        author = c.author.name; email = c.author.email; time = c.time; message = c.message
    }
}

/// A changed path as the JSON API shows it.
struct APIChange: Encodable {
    var status: String
    var path: String
    var oldPath: String?
    var oldId: String?
    var newId: String?
    var oldSize: UInt64?
    var newSize: UInt64?

    init(_ c: Change) {
        status = c.status.rawValue; path = c.path; oldPath = c.oldPath
        oldId = c.old?.id.hex; newId = c.new?.id.hex; oldSize = c.old?.size; newSize = c.new?.size
    }
}

/// The JSON API over a namespace's mirror: the same repository calls the command line makes.
extension ServerResponder {
    func api(_ request: Request, ns: Namespace, principal: Principal, parts: [String]) async throws -> Response {
        let core = self.core
        let q = request.uri.queryParameters
        var requested = 100
        if let text = q["limit"] {
            guard let n = Int(text), (1...10_000).contains(n) else { throw ServerError.badRequest("limit is a whole number from 1 to 10000") }
            requested = n
        }
        let limit = requested
        switch parts.first ?? "" {
        case "refs":
            struct Ref: Encodable { var name: String; var target: String }
            let refs = try await offload { () -> [Ref] in
                try core.readableRefs(principal, ns).map { Ref(name: $0.name, target: $0.target.hex) }
            }
            return ServerResponder.json(["refs": refs])
        case "log":
            let rev = String(q["rev"] ?? "HEAD")
            let commits = try await offload { () -> [APICommit] in
                let id = try core.authorizeRevision(principal, ns, rev)
                return try ns.mirror.log(id.hex, limit: limit).map { APICommit($0.id, $0.commit) }
            }
            return ServerResponder.json(["commits": commits])
        case "commits":
            guard parts.count == 2 else { throw ServerError.badRequest("use /api/commits/{revision}") }
            struct Shown: Encodable { var commit: APICommit; var changes: [APIChange]; var truncated: Bool }
            let shown = try await offload { () -> Shown in
                let id = try core.authorizeRevision(principal, ns, parts[1])
                let changes = try ns.mirror.changes(of: id)
                return Shown(
                    commit: APICommit(id, try ns.mirror.commit(id)), changes: changes.prefix(limit).map(APIChange.init), truncated: changes.count > limit)
            }
            return ServerResponder.json(shown)
        case "tree":
            guard parts.count == 2 else { throw ServerError.badRequest("use /api/tree/{revision}?path=P") }
            let path = try ServerResponder.cleanPath(q["path"].map(String.init) ?? "")
            guard [nil, "0", "1", "true", "false"].contains(q["recursive"]) else { throw ServerError.badRequest("recursive is 0, 1, true or false") }
            let recursive = q["recursive"] == "1" || q["recursive"] == "true"
            struct Entry: Encodable { var path: String; var kind: String; var size: UInt64; var id: String }
            struct Listing: Encodable { var entries: [Entry]; var truncated: Bool }
            let listing = try await offload { () -> Listing in
                let id = try core.authorizeRevision(principal, ns, parts[1])
                let all = try ns.mirror.list(id.hex, path: path, recursive: recursive)
                return Listing(
                    entries: all.prefix(limit * 10).map { Entry(path: $0.path, kind: $0.kind.rawValue, size: $0.size, id: $0.id.hex) },
                    truncated: all.count > limit * 10)
            }
            return ServerResponder.json(listing)
        case "file":
            guard parts.count == 2 else { throw ServerError.badRequest("use /api/file/{revision}?path=P") }
            let path = try ServerResponder.cleanPath(q["path"].map(String.init) ?? "")
            if path.isEmpty { throw ServerError.badRequest("name a file with ?path=") }
            let range = try request.headers[.range].map(ServerResponder.parseRange)
            let tmp = core.store.root + "/tmp"
            let (file, size) = try await offload { () -> (String, Int64) in
                try ServerResponder.spool(ns.mirror, try core.authorizeRevision(principal, ns, parts[1]), path: path, to: tmp)
            }
            return ServerResponder.streamFile(file, size: size, range: range, metrics: core.metrics)
        case "lineage":
            guard parts.count == 2 else { throw ServerError.badRequest("use /api/lineage/{revision}") }
            let bundle = try await offload { () -> [UInt8] in
                let id = try core.authorizeRevision(principal, ns, parts[1])
                guard let bytes = try ns.lineageBundle(id) else { throw ServerError.unknown(kind: "lineage bundle for commit", name: id.short) }
                return bytes
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bundle)))
        case "catalog":
            guard parts.count == 2 else { throw ServerError.badRequest("use /api/catalog/{revision}") }
            let include = try (q["include"].map(String.init) ?? "").split(separator: ",").map { try ServerResponder.cleanPath(String($0)) }
            let doc = try await offload { () -> Data in
                let id = try core.authorizeRevision(principal, ns, parts[1])
                // One evaluation of a namespace's Pipeline.swift at a time; the result is cached by content.
                ns.catalogLock.lock()
                defer { ns.catalogLock.unlock() }
                return try CatalogWorkflow.build(ns.mirror, revision: id.hex, include: include, title: nil).0
            }
            return Response(status: .ok, headers: [.contentType: "application/ld+json"], body: .init(byteBuffer: ByteBuffer(bytes: [UInt8](doc))))
        case "rows":
            let from = String(q["from"] ?? ""), to = String(q["to"] ?? "")
            let path = try ServerResponder.cleanPath(q["path"].map(String.init) ?? "")
            if from.isEmpty || to.isEmpty || path.isEmpty { throw ServerError.badRequest("use /api/rows?from=REV&to=REV&path=TABLE") }
            var skip = 0
            if let text = q["offset"] {
                guard let n = Int(text), n >= 0 else { throw ServerError.badRequest("offset is a whole number from 0") }
                skip = n
            }
            let offset = skip
            let key = (q["key"].map(String.init) ?? "").split(separator: ",").map(String.init)
            struct Rows: Encodable { var summary: TableDiffSummary; var changes: [RowChange]; var offset: Int; var truncated: Bool }
            let rows = try await offload { () -> Rows in
                let a = try core.authorizeRevision(principal, ns, from), b = try core.authorizeRevision(principal, ns, to)
                var options = TableDiffOptions()
                options.key = key
                options.memoryBudget = 64 << 20
                var page: [RowChange] = []
                var seen = 0
                let summary = try TableService(repo: ns.mirror).diff(a.hex, b.hex, path: ns.mirror.root + "/" + path, options: options) { change in
                    if seen >= offset && page.count < limit { page.append(change) }
                    seen += 1
                }
                return Rows(summary: summary, changes: page, offset: offset, truncated: seen > offset + page.count)
            }
            return ServerResponder.json(rows)
        case "diff":
            let from = String(q["from"] ?? ""), to = String(q["to"] ?? "")
            if from.isEmpty || to.isEmpty { throw ServerError.badRequest("use /api/diff?from=REV&to=REV") }
            struct Diff: Encodable { var from: String; var to: String; var changes: [APIChange]; var truncated: Bool }
            let diff = try await offload { () -> Diff in
                let a = try core.authorizeRevision(principal, ns, from), b = try core.authorizeRevision(principal, ns, to)
                let changes = try ns.mirror.diff(a.hex, b.hex)
                return Diff(from: a.hex, to: b.hex, changes: changes.prefix(limit * 10).map(APIChange.init), truncated: changes.count > limit * 10)
            }
            return ServerResponder.json(diff)
        default:
            throw ServerError.unknown(kind: "endpoint", name: "api/" + (parts.first ?? ""))
        }
    }

    /// `main` for `refs/heads/main`, `tags/v1` for `refs/tags/v1` (what grant patterns match).
    static func shortName(_ full: String) -> String {
        if full.hasPrefix("refs/heads/") { return String(full.dropFirst("refs/heads/".count)) }
        if full.hasPrefix("refs/tags/") { return "tags/" + full.dropFirst("refs/tags/".count) }
        return full
    }

    /// A workspace path from a query: relative, without empty, `.` or `..` parts, NUL or a backslash.
    static func cleanPath(_ p: String) throws -> String {
        if p.isEmpty || p == "/" { return "" }
        let parts = p.slashSeparated(omittingEmpty: false)
        if p.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) || p.utf8.contains(0) || p.contains("\\") {
            throw ServerError.badRequest("'\(p.prefix(200))' is not a path inside the tree")
        }
        return p
    }

    /// Writes a file of a commit (verified as `strata cat` verifies) to a new private scratch file in `dir`: its path
    /// and size. The scratch file is removed if the copy fails.
    static func spool(_ repo: Repository, _ id: ObjectID, path: String, to dir: String) throws -> (String, Int64) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = dir + "/cat-" + Posix.randomHex(12)
        let fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", out) }
        defer { close(fd) }
        var size: Int64 = 0
        do {
            try repo.cat(id.hex, path: path) { buf in
                try Posix.writeAll(fd, Array(buf), path: out)
                size += Int64(buf.count)
            }
        } catch {
            try? Posix.unlink(out)
            throw error
        }
        return (out, size)
    }

    /// Streams a scratch file (or a range of it) as the response, deleting it afterwards.
    static func streamFile(_ path: String, size: Int64, range: (Int64, Int)?, metrics: ServerMetrics) -> Response {
        var start: Int64 = 0, length = size
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes"]
        var status: HTTPResponse.Status = .ok
        if let (offset, count) = range {
            guard offset < size else {
                try? Posix.unlink(path)
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers)
            }
            start = offset; length = min(Int64(count), size - offset)
            headers[.contentRange] = "bytes \(start)-\(start + length - 1)/\(size)"
            status = .partialContent
        }
        let (first, count) = (start, length)
        let body = ResponseBody(contentLength: Int(count)) { writer in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            try? Posix.unlink(path)
            guard fd >= 0 else { throw PosixError("open", path) }
            defer { close(fd) }
            var offset = first
            let end = first + count
            while offset < end {
                var buf = [UInt8](repeating: 0, count: Int(min(Int64(1 << 20), end - offset)))
                let n = try buf.withUnsafeMutableBytes { try Posix.pread(fd, into: $0, offset: offset, path: path) }
                if n == 0 { break }
                try await writer.write(ByteBuffer(bytes: buf[0..<n]))
                offset += Int64(n)
            }
            metrics.bytesOut.increment(by: offset - first)
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

extension ServerCore {
    /// The branches and tags of a namespace the principal may read (full names), after the namespace check.
    func readableRefs(_ p: Principal, _ ns: Namespace) throws -> [(name: String, target: ObjectID)] {
        try requireRead(p, ns.name)
        let grants = try store.grants()
        return try (ns.mirror.refs(prefix: "refs/heads/") + ns.mirror.refs(prefix: "refs/tags/")).filter { r in
            ServerStore.role(for: p, namespace: ns.name, scope: .ref(ServerResponder.shortName(r.name)), in: grants) != nil
        }
    }

    /// Resolves a revision after checking the caller may read it: a branch or tag (with `~N`/`^N` after it) needs a
    /// role on that ref; a commit id needs a role somewhere in the namespace. Unreadable and missing look the same.
    func authorizeRevision(_ p: Principal, _ ns: Namespace, _ rev: String) throws -> ObjectID {
        try requireRead(p, ns.name)
        let base = String(rev.prefix { $0 != "~" && $0 != "^" && $0 != ":" })
        if base.isEmpty || rev.count > 300 { throw ServerError.badRequest("'\(rev.prefix(100))' is not a revision") }
        var scope: Scope?
        if base == "HEAD" {
            let head = (try? ns.backend.get(RemoteLayout.headKey)).flatMap { $0.map { String(decoding: $0.bytes, as: UTF8.self) } } ?? "refs/heads/main\n"
            let branch = ServerResponder.shortName(head.trimmingCharacters(in: .whitespacesAndNewlines))
            guard try store.role(for: p, namespace: ns.name, scope: .ref(branch)) != nil, let id = try ns.mirror.ref("refs/heads/" + branch) else {
                throw ServerError.unknown(kind: "revision", name: rev)
            }
            return try resolve(ns, id.hex + rev.dropFirst(base.count), shown: rev)
        } else if try ns.mirror.ref("refs/heads/" + base) != nil {
            scope = .ref(base)
        } else if try ns.mirror.ref("refs/tags/" + base) != nil {
            scope = .ref("tags/" + base)
        } else if base.count >= 7, base.allSatisfy({ $0.isHexDigit }) {
            scope = .anyRef
        }
        guard let scope, try store.role(for: p, namespace: ns.name, scope: scope) != nil else { throw ServerError.unknown(kind: "revision", name: rev) }
        return try resolve(ns, rev, shown: rev)
    }

    func resolve(_ ns: Namespace, _ rev: String, shown: String) throws -> ObjectID {
        do { return try ns.mirror.resolve(rev) } catch let e as any StrataError where e.category == .notFound || e.category == .usage {
            throw ServerError.unknown(kind: "revision", name: shown)
        }
    }
}
