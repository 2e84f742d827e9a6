import Foundation
import Hummingbird
import Logging
import NIOCore
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository
import StrataWeb
import StrataMCP
import MCP
import StrataLineage

/// Routes every request (docs/reference/server-api.md, `/openapi.json`):
/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json`; `/{namespace}/store[/{key}]`, the remote protocol;
/// `/{namespace}/api/…`, the JSON API. Errors are JSON documents with a stable code, a message and a next step.
struct ServerResponder: HTTPResponder {
    typealias Context = ServerContext
    let core: ServerCore

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        var kind = "other"
        var response: Response
        var failure: String?
        do {
            response = try await route(request, context: context, kind: &kind)
        } catch {
            response = ServerResponder.errorResponse(error)
            // The code (or the error's type) of a failure, never its message: messages name refs and paths.
            failure = (error as? any StrataError)?.code ?? String(describing: type(of: error))
        }
        let status = response.status.code
        core.metrics.latency.record(ContinuousClock.now - started)
        core.metrics.request(kind: kind, method: request.method.rawValue, status: status)
        // No key, path or token in the log: names can be personal data. The audit log keeps who moved which ref.
        core.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "kind": .string(kind), "status": .stringConvertible(status),
                "ms": .stringConvertible((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000),
                "peer": .string(context.peer),
            ].merging(failure.map { ["error": .string($0)] } ?? [:]) { a, _ in a })
        return response
    }

    /// Percent-decoded path segments; a segment that decodes to something with `/`, NUL, `.` or `..` is refused.
    static func segments(_ path: String) throws -> [String] {
        var out: [String] = []
        for raw in path.slashSeparated(omittingEmpty: false).dropFirst() {
            guard let s = raw.removingPercentEncoding else { throw ServerError.badRequest("the path is not valid percent-encoding") }
            out.append(s)
        }
        if out.last == "" && out.count > 1 { out.removeLast() }
        return out
    }

    func route(_ request: Request, context: ServerContext, kind: inout String) async throws -> Response {
        let parts = try ServerResponder.segments(request.uri.path)
        let method = request.method
        // A method the document does not list for the path is 405, before anything else is looked at.
        let allowed: [HTTPRequest.Method]
        switch parts.first ?? "" {
        case "healthz", "readyz", "metrics", "openapi.json": allowed = parts.count == 1 ? [.get] : []
        case "ui", "": allowed = [.get, .post]
        default:
            if parts.count >= 2 && parts[1] == "ui" {
                allowed = [.get, .post]
            } else if parts.count >= 2 && parts[1] == "mcp" {
                allowed = [.post]
            } else if parts.count >= 2 && parts[1] == "store" {
                allowed = parts.count == 2 ? [.get] : [.get, .head, .put, .delete]
            } else if parts.count >= 2 && parts[1] == "api" {
                allowed = [.get]
            } else {
                allowed = []
            }
        }
        if !allowed.isEmpty && !allowed.contains(method) {
            var r = ServerResponder.errorResponse(ServerError.badRequest("method \(method.rawValue) is not served here"), status: .methodNotAllowed)
            r.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return r
        }
        switch (method, parts.first ?? "") {
        case (.get, "healthz"):
            kind = "health"
            return ServerResponder.json(["status": "ok"])
        case (.get, "readyz"):
            kind = "health"
            let ok = (try? await offload { [core] in try core.store.namespaces().count }) != nil
            return ok ? ServerResponder.json(["status": "ready"]) : ServerResponder.json(["status": "not ready"], status: .serviceUnavailable)
        case (.get, "metrics"):
            kind = "metrics"
            let text = core.metrics.registry.emitToBuffer()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        case (.get, "openapi.json"):
            kind = "openapi"
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        case (.get, ""):
            kind = "ui"
            return Response(status: .seeOther, headers: [.location: "/ui"])
        case (_, "ui"):
            kind = "ui"
            return try await ui(request, context: context, ns: nil, parts: Array(parts.dropFirst()))
        default:
            break
        }
        if parts.count >= 2 && parts[1] == "ui" {
            kind = "ui"
            guard let ns = try await offload({ [core] in try core.namespace(parts[0]) }) else {
                return try await WebRouter.response(
                    .html(
                        WebPages.shell(
                            name: "server", viewer: anonymousViewer, links: WebLinks(base: "/ui"), title: "Not found",
                            body: "<p>No such namespace, or you may not see it.</p>", rev: nil), .notFound))
            }
            return try await ui(request, context: context, ns: ns, parts: Array(parts.dropFirst(2)))
        }
        if parts.count >= 2 && parts[1] == "mcp" {
            kind = "mcp"
            return try await mcp(request, context: context, namespace: parts[0], extra: parts.count > 2)
        }
        guard parts.count >= 2, !parts[0].isEmpty else { throw ServerError.unknown(kind: "endpoint", name: request.uri.path.prefix(100).description) }
        let principal = try await offload { [core] in try core.principal(request.headers[.authorization]) }
        guard let ns = try await offload({ [core] in try core.namespace(parts[0]) }) else {
            if principal.user == nil && (try? core.store.grants().contains { $0.principal == "anonymous" }) != true {
                throw ServerError.unauthenticated("this server needs a token")
            }
            throw ServerError.unknown(kind: "namespace", name: parts[0])
        }
        switch parts[1] {
        case "store":
            kind = "store"
            return try await store(request, context: context, ns: ns, principal: principal, key: parts.dropFirst(2).joined(separator: "/"))
        case "api":
            kind = "api"
            return try await api(request, ns: ns, principal: principal, parts: Array(parts.dropFirst(2)))
        default:
            throw ServerError.unknown(kind: "endpoint", name: parts[1])
        }
    }

    // MARK: Store protocol

    func store(_ request: Request, context: ServerContext, ns: Namespace, principal: Principal, key: String) async throws -> Response {
        let core = self.core
        let source = context.peer
        switch request.method {
        case .get where key.isEmpty:
            let q = request.uri.queryParameters
            let prefix = q["prefix"].map(String.init) ?? "", after = q["after"].map(String.init)
            return try await ServerResponder.render(offload { try core.storeList(principal, ns, prefix: prefix, after: after) })
        case .get, .head:
            let range = try request.headers[.range].map(ServerResponder.parseRange)
            let head = request.method == .head
            return try await ServerResponder.render(offload { try core.storeGet(principal, ns, key: key, range: range, headOnly: head) })
        case .put:
            let ifMatch = request.headers[.ifMatch].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if ifMatch == nil && request.headers[.ifNoneMatch] != "*" {
                throw ServerError.badRequest("a PUT needs If-None-Match: * (create) or If-Match: ETAG (replace)")
            }
            // Refuse early what the caller may not write at all, before reading a large body.
            _ = try await offload { try core.requireRead(principal, ns.name) }
            var body: Body
            var request = request
            if key.hasPrefix("packs/") {
                body = try await ServerResponder.spool(request, to: core.store.root + "/tmp", limit: core.options.maxBody, metrics: core.metrics)
            } else {
                let buffer = try await request.collectBody(upTo: core.options.maxSmallBody)
                core.metrics.bytesIn.increment(by: Int64(buffer.readableBytes))
                body = .bytes(Array(buffer.readableBytesView))
            }
            defer { if case .file(let path, _, _) = body { try? Posix.unlink(path) } }
            let frozen = body
            return try await ServerResponder.render(offload { try core.storePut(principal, ns, key: key, body: frozen, ifMatch: ifMatch, source: source) })
        case .delete:
            return try await ServerResponder.render(offload { try core.storeDelete(principal, ns, key: key, source: source) })
        default:
            return ServerResponder.errorResponse(
                ServerError.badRequest("method \(request.method.rawValue) is not part of the store protocol"), status: .methodNotAllowed)
        }
    }

    /// Streams a request body to a private file, hashing as it goes, refusing it past `limit`.
    static func spool(_ request: Request, to dir: String, limit: Int64, metrics: ServerMetrics) async throws -> Body {
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > limit { throw ServerError.tooLarge(limit: limit) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/upload-" + Posix.randomHex(12)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw PosixError("create", path) }
        var hasher = SHA256Hasher()
        var size: Int64 = 0
        do {
            defer { close(fd) }
            for try await buffer in request.body {
                size += Int64(buffer.readableBytes)
                if size > limit { throw ServerError.tooLarge(limit: limit) }
                try buffer.withUnsafeReadableBytes { raw in
                    hasher.update(raw)
                    try Posix.writeAll(fd, Array(raw), path: path)
                }
            }
            metrics.bytesIn.increment(by: size)
        } catch {
            try? Posix.unlink(path)
            throw error
        }
        return .file(path: path, sha256: hasher.finalize().hex, size: size)
    }

    /// `bytes=START-END` (one range; the store protocol asks for no more).
    static func parseRange(_ header: String) throws -> (Int64, Int) {
        guard header.hasPrefix("bytes="), !header.contains(",") else { throw ServerError.badRequest("only one 'bytes=START-END' range is served") }
        let parts = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), start >= 0, end >= start, end - start < 1 << 30 else {
            throw ServerError.badRequest("only one 'bytes=START-END' range is served")
        }
        return (start, Int(end - start + 1))
    }

    static func render(_ a: StoreAnswer) -> Response {
        switch a {
        case .object(let bytes, let etag, let partial):
            var headers: HTTPFields = [.contentType: "application/octet-stream"]
            if !etag.isEmpty { headers[.eTag] = "\"\(etag)\"" }
            if let partial {
                headers[.contentRange] = "bytes \(partial.offset)-\(partial.offset + Int64(max(partial.length, 1)) - 1)/*"
                if bytes.isEmpty { return Response(status: .rangeNotSatisfiable, headers: headers) }
                return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .etag(let etag):
            return Response(status: .ok, headers: [.eTag: "\"\(etag)\""])
        case .deleted:
            return Response(status: .noContent)
        case .notFound:
            return errorResponse(ServerError.unknown(kind: "key", name: "(not found)"), status: .notFound)
        case .conditionFailed:
            return errorResponse(ServerError.badRequest("the condition failed: the key exists or changed"), status: .preconditionFailed)
        case .listing(let objects, let next):
            struct Item: Encodable { var key: String; var size: Int64; var modified: Int64 }
            struct Page: Encodable { var objects: [Item]; var next: String? }
            return json(Page(objects: objects.map { Item(key: $0.key, size: $0.size, modified: $0.modified) }, next: next))
        }
    }

    // MARK: Rendering

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? enc.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: [UInt8](data) + [10])))
    }

    /// The JSON error document and status for an error. Messages never carry a token; a failure that is not a strata
    /// error is reported without its details (they could name internals).
    static func errorResponse(_ error: any Error, status given: HTTPResponse.Status? = nil) -> Response {
        struct Inner: Encodable { var code: String; var message: String; var next: String? }
        struct Doc: Encodable { var error: Inner }
        var status: HTTPResponse.Status = .internalServerError
        var doc = Doc(error: Inner(code: "server.internal", message: "the server failed on this request", next: "see the server's log"))
        if let e = error as? any StrataError {
            doc.error = Inner(code: e.code, message: e.message, next: e.nextStep)
            switch e {
            case ServerError.tooLarge: status = .contentTooLarge
            case ServerError.verification: status = .unprocessableContent
            default:
                switch e.category {
                case .unauthenticated: status = .unauthorized
                case .forbidden: status = .forbidden
                case .notFound: status = .notFound
                case .usage, .unsafePath: status = .badRequest
                case .conflict: status = .conflict
                case .integrity: status = .unprocessableContent
                case .collected: status = .gone
                default: status = .internalServerError
                }
            }
            if case RemoteError.invalidKey = e { status = .badRequest }
        } else if let e = error as? HTTPError {
            status = e.status
            doc.error = Inner(code: "server.http", message: e.body ?? "HTTP \(e.status.code)", next: nil)
        }
        if let given { status = given }
        var r = json(doc, status: status)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer realm=\"strata\"" }
        return r
    }
}

extension ServerResponder {
    /// `/{namespace}/mcp`: MCP over streamable HTTP (stateless JSON responses), the tools of a store without a
    /// workspace, each read and write checked against the caller's bearer token as the JSON API and a push are.
    func mcp(_ request: Request, context: ServerContext, namespace: String, extra: Bool) async throws -> Response {
        let core = self.core
        if extra { throw ServerError.unknown(kind: "endpoint", name: namespace + "/mcp/…") }
        let principal = try await offload { try core.principal(request.headers[.authorization]) }
        guard let ns = try await offload({ try core.namespace(namespace) }) else {
            if principal.user == nil { throw ServerError.unauthenticated("this server needs a token") }
            throw ServerError.unknown(kind: "namespace", name: namespace)
        }
        try await offload { try core.requireRead(principal, ns.name) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let redactor = try? await offload { try LineageService(repo: ns.mirror).redactor }
        let source = ServerWebSource(core: core, ns: ns, principal: principal, source: context.peer, redactor: redactor)
        let answer = await StrataMCPServer.answer(
            MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: Data(buffer: body), path: request.uri.path), source: source,
            version: core.options.version)
        var fields: HTTPFields = [:]
        for (k, v) in answer.headers { if let name = HTTPFields.Element.Name(k) { fields[name] = v } }
        return Response(
            status: HTTPResponse.Status(code: answer.statusCode), headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: [UInt8](answer.bodyData ?? Data()))))
    }
}
