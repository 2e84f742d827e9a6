import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import StrataModel
import StrataPlatform
import StrataRemote
import StrataRepository

/// How `strata serve` runs.
public struct ServerOptions: Sendable {
    /// The server root (`server.sqlite`, `ns/`).
    public var root: String
    /// Address to listen on (`127.0.0.1`).
    public var host = "127.0.0.1"
    /// Port (0: any free port, printed when ready).
    public var port = 8484
    /// PEM certificate chain and private key for HTTPS.
    public var tlsCertificate: String?
    /// The key for `tlsCertificate`.
    public var tlsKey: String?
    /// Allow plain HTTP on an address other than loopback.
    public var insecureHTTP = false
    /// Largest pushed pack accepted, in bytes.
    public var maxBody: Int64 = 1 << 30
    /// Largest index fragment, ref or other small body accepted, in bytes.
    public var maxSmallBody = 64 << 20
    /// Seconds a connection may stay idle (no bytes either way) before it is closed: a slow client cannot hold a
    /// connection forever.
    public var idleTimeout: Int64 = 30
    /// Seconds a client has to send a request's headers (slowloris); a body must keep arriving at 1 KiB per 10 s.
    public var headerTimeout: Int64 = 10
    /// The version reported to MCP clients.
    public var version = "0"
    /// The environment (S3 credentials for namespaces on S3).
    public var environment: [String: String]
    /// Creates options for a server root.
    public init(root: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.root = root; self.environment = environment
    }

    /// Whether `host` is this machine only.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") }
}

/// The request context: Hummingbird's core storage and the client's address (for the audit log).
public struct ServerContext: RequestContext {
    /// Hummingbird's storage.
    public var coreContext: CoreRequestContextStorage
    /// The peer, as `ip:port`, or "unknown".
    public let peer: String
    /// Creates a context for a request on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress.map { "\($0.ipAddress ?? "unknown")" } ?? "unknown"
    }
}

/// Prometheus metrics of the server (`/metrics`).
struct ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let packsReceived: Counter
    let packBytesReceived: Counter
    let refUpdates: Counter
    let lockWait: DurationHistogram
    let latency: DurationHistogram
    let bytesOut: Counter
    let bytesIn: Counter
    let fetchReads: Counter
    let fetchBytes: Counter

    init() {
        packsReceived = registry.makeCounter(name: "strata_packs_received_total", help: "Packs pushed and verified")
        packBytesReceived = registry.makeCounter(name: "strata_pack_bytes_received_total", help: "Bytes of packs pushed and verified")
        refUpdates = registry.makeCounter(name: "strata_ref_updates_total", help: "Branches and tags moved by pushes")
        let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)]
        lockWait = registry.makeDurationHistogram(
            name: "strata_namespace_lock_wait_seconds", buckets: buckets, help: "Time a ref move waited for its namespace")
        latency = registry.makeDurationHistogram(name: "strata_http_request_duration_seconds", buckets: buckets, help: "Request latency")
        bytesOut = registry.makeCounter(name: "strata_http_response_bytes_total", help: "Response body bytes")
        bytesIn = registry.makeCounter(name: "strata_http_request_bytes_total", help: "Request body bytes received")
        fetchReads = registry.makeCounter(name: "strata_fetch_reads_total", help: "Reads of packs, index fragments and refs by fetching clients")
        fetchBytes = registry.makeCounter(name: "strata_fetch_bytes_total", help: "Bytes of packs, index fragments and refs sent to fetching clients")
    }

    func request(kind: String, method: String, status: Int) {
        registry.makeCounter(
            name: "strata_http_requests_total", labels: [("kind", kind), ("method", method), ("status", String(status))], help: "HTTP requests"
        ).increment()
    }
}

/// The server's state: its records, its namespaces, its metrics. Every handler runs storage work off the event loop.
public final class ServerCore: Sendable {
    /// The server's records.
    public let store: ServerStore
    let options: ServerOptions
    let metrics = ServerMetrics()
    let opened = Locked<[String: Namespace]>([:])
    let logger: Logger

    /// Opens the server root and every namespace (creating the root on first start).
    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        store = try ServerStore(root: options.root, create: true)
        for ns in try store.namespaces() { _ = try namespace(ns.name) }
    }

    /// The namespace, opened on first use; nil when there is none of that name.
    func namespace(_ name: String) throws -> Namespace? {
        if let n = opened.with({ $0[name] }) { return n }
        guard let entry = try store.namespaces().first(where: { $0.name == name }) else { return nil }
        let n = try Namespace(root: store.root, name: name, storage: entry.storage, environment: options.environment)
        return opened.with { all in
            if let existing = all[name] { return existing }
            all[name] = n
            return n
        }
    }

    /// The principal of a request's `Authorization` header; a header that is present and wrong is refused (401).
    func principal(_ header: String?) throws -> Principal {
        guard let header else { return .anonymous }
        guard header.hasPrefix("Bearer ") else { throw ServerError.unauthenticated("only bearer tokens are accepted") }
        return try store.authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }
}

/// `strata serve`: Hummingbird 2 over HTTP/1.1, with TLS (swift-nio-ssl) when given a certificate.
public enum StrataServer {
    /// Runs until SIGTERM or SIGINT, then stops taking connections, lets requests in flight finish, and returns.
    /// `ready` gets the URL once the server listens (with the real port when `port` was 0).
    public static func run(_ options: ServerOptions, ready: @escaping @Sendable (String) -> Void) async throws {
        let tls = options.tlsCertificate != nil || options.tlsKey != nil
        if !tls && !options.isLoopback && !options.insecureHTTP {
            throw ServerError.badRequest(
                "refusing plain HTTP on \(options.host): tokens would cross the network unencrypted; give --tls-cert and --tls-key, or --insecure-http behind a TLS proxy"
            )
        }
        var logger = Logger(label: "strata.serve")
        logger.logLevel = Logger.Level(rawValue: options.environment["STRATA_LOG_LEVEL"] ?? "") ?? .info
        let core = try ServerCore(options: options, logger: logger)
        let responder = ServerResponder(core: core)
        let headDeadline = TimeAmount.seconds(options.headerTimeout)
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [SlowClientGuard(headDeadline: headDeadline)], idleTimeout: .seconds(options.idleTimeout)))
        let server: HTTPServerBuilder
        if tls {
            guard let cert = options.tlsCertificate, let key = options.tlsKey else {
                throw ServerError.badRequest("--tls-cert and --tls-key go together")
            }
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let config = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(http1, tlsConfiguration: config)
        } else {
            server = http1
        }
        let scheme = tls ? "https" : "http"
        let app = Application(
            responder: responder, server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "strata"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let host = options.host.contains(":") ? "[\(options.host)]" : options.host
                ready("\(scheme)://\(host):\(port)")
            }, logger: logger)
        try await serving(host: options.host, port: options.port, flag: "--listen HOST:0") { try await app.runService() }
    }

    /// Runs a server, turning "the address is taken" into an error that names the address and what to do.
    static func serving(host: String, port: Int, flag: String, _ body: () async throws -> Void) async throws {
        do { try await body() } catch let e as IOError where e.errnoCode == EADDRINUSE {
            throw ServerError.badRequest("\(host):\(port) is already in use by another program; choose another port (\(flag) takes any free one)")
        }
    }
}
