import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import StrataModel
import StrataPlatform
import StrataRepository
import StrataWeb

/// `strata ui`: the web UI over a local store, on 127.0.0.1 only. There is no sign-in (whoever can reach the port is
/// on this machine), so requests must name this address as their host (no DNS rebinding), forms carry a token drawn
/// when the UI starts (no cross-site posts), and nothing but loopback is accepted.
struct LocalUIResponder: HTTPResponder {
    typealias Context = ServerContext
    let repo: Repository
    let formToken: String
    let metrics: ServerMetrics
    let logger: Logger
    let port: Locked<Int>

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do { response = try await route(request) } catch { response = ServerResponder.errorResponse(error) }
        logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "status": .stringConvertible(response.status.code),
                "ms": .stringConvertible((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000),
            ])
        return response
    }

    func route(_ request: Request) async throws -> Response {
        let p = port.get
        let hosts = ["127.0.0.1:\(p)", "localhost:\(p)", "[::1]:\(p)"]
        guard let authority = request.head.authority, hosts.contains(authority) else {
            throw ServerError.forbidden(action: "a request for another host name", needed: .reader, target: request.head.authority ?? "(none)")
        }
        var request = request
        let parts = try ServerResponder.segments(request.uri.path)
        let source = LocalWebSource(repo: repo)
        let pages = WebPages(source: source, links: WebLinks(base: ""), formToken: formToken)
        let q = WebRouter.decodeForm(request.uri.query ?? "")
        if request.method == .post {
            guard parts.count == 2, parts[0] == "action" else { throw ServerError.badRequest("forms post to /action/NAME") }
            let body = try await request.collectBody(upTo: 64 << 10)
            let form = WebRouter.decodeForm(String(buffer: body))
            guard form["form_token"] == formToken else {
                throw ServerError.forbidden(action: "a form without this UI's form token", needed: .writer, target: parts[1])
            }
            do {
                let answer = try await offload { try WebRouter.post(pages, action: parts[1], form: form) }
                return try await WebRouter.response(answer)
            } catch {
                return try await WebRouter.response(.html(pages.errorPage(error), WebRouter.status(of: error)))
            }
        }
        guard request.method == .get else { throw ServerError.badRequest("method \(request.method.rawValue) is not served here") }
        do {
            let answer = try await offload { try WebRouter.get(pages, parts: parts.first == "" ? [] : parts, query: q) }
            return try await WebRouter.response(answer) { rev, path in
                let id = try await offload { try repo.resolve(rev) }
                return try await WebRouter.download(repo, id, path: path, tmp: repo.storePath + "/tmp", metrics: metrics)
            }
        } catch {
            return try await WebRouter.response(.html(pages.errorPage(error), WebRouter.status(of: error)))
        }
    }
}

extension StrataServer {
    /// `strata ui`: serves the pages of `repo` on 127.0.0.1 until SIGTERM or SIGINT. `ready` gets the URL.
    public static func runUI(repo: Repository, port: Int, ready: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "strata.ui")
        logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["STRATA_LOG_LEVEL"] ?? "") ?? .warning
        let bound = Locked(port)
        let responder = LocalUIResponder(repo: repo, formToken: Posix.randomHex(16), metrics: ServerMetrics(), logger: logger, port: bound)
        let app = Application(
            responder: responder, server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "strata-ui"),
            onServerRunning: { channel in
                let p = channel.localAddress?.port ?? port
                bound.with { $0 = p }
                ready("http://127.0.0.1:\(p)/")
            }, logger: logger)
        try await serving(host: "127.0.0.1", port: port, flag: "--port 0") { try await app.runService() }
    }
}
