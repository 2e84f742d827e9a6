import Foundation
import StrataModel
import StrataPlatform
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A remote served by `strata serve` (`https://host:8484/NAMESPACE`): the same keys and conditional writes as on
/// object storage, spoken over the server's store protocol (docs/reference/server-api.md), with
/// `Authorization: Bearer <token>`. The server checks every write against the caller's role and the branch's
/// protection, and every pushed pack against its hash, before anything becomes visible.
///
/// Create-only is `PUT` with `If-None-Match: *`, compare-and-swap `PUT` with `If-Match`; 412 is a failed condition.
/// 401 and 403 carry the server's error code and message, which name the ref and the role that was missing. 5xx and
/// dropped connections are retried with backoff, so a client survives a server restart mid-push.
public struct HTTPBackend: RemoteBackend {
    /// `http(s)://host:port/NAMESPACE` without a trailing slash.
    public let base: URL
    /// The bearer token (never printed), or nil for anonymous access.
    let token: String?
    /// Attempts per request on 5xx and dropped connections.
    public var attempts = 6
    /// Seconds before a request gives up.
    public var timeout: Double = 120

    /// A backend for the namespace at `base`, authenticating with `token`.
    public init(base: URL, token: String?) {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.base = URL(string: text) ?? base
        self.token = token
    }

    public var displayName: String { base.absoluteString }

    struct Response { var status: Int; var headers: [String: String]; var body: [UInt8] }

    func url(_ key: String?, query: [(String, String)] = []) throws -> URL {
        var comps = URLComponents(url: base, resolvingAgainstBaseURL: false)!
        var path = comps.percentEncodedPath + "/store"
        if let key {
            try RemoteError.check(key)
            path += "/" + SigV4.uriEncode(key, keepSlash: true)
        }
        comps.percentEncodedPath = path
        if !query.isEmpty { comps.percentEncodedQuery = SigV4.canonicalQuery(query) }
        return comps.url!
    }

    /// One request, retried on transient failures; 401 and 403 become errors carrying the server's words.
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8] = [],
        bodyFile: (path: String, size: Int64)? = nil
    ) throws -> Response {
        var lastError = ""
        let name = key ?? "(listing)"
        for attempt in 0..<attempts {
            if attempt > 0 { RemoteRetry.pause(attempt) }
            var req = URLRequest(url: try url(key, query: query), cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
            req.httpMethod = method
            for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
            if let token { req.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
            if method == "PUT" && bodyFile == nil { req.httpBody = Data(body) }
            if let bodyFile { req.setValue(String(bodyFile.size), forHTTPHeaderField: "Content-Length") }
            switch S3Backend.perform(req, file: bodyFile?.path) {
            case .failure(let e):
                lastError = e.localizedDescription
                continue
            case .success(let r):
                let response = Response(status: r.status, headers: r.headers, body: r.body)
                if r.status >= 500 { lastError = "HTTP \(r.status) \(HTTPBackend.errorCode(r.body))"; continue }
                if r.status == 401 {
                    throw RemoteError.unauthenticated(remote: displayName, key: name, reason: HTTPBackend.errorMessage(r.body))
                }
                if r.status == 403 {
                    throw RemoteError.forbidden(
                        remote: displayName, key: name, code: HTTPBackend.errorCode(r.body), reason: HTTPBackend.errorMessage(r.body),
                        next: HTTPBackend.errorNext(r.body))
                }
                if r.status == 413 { throw RemoteError.unexpected(remote: displayName, key: name, status: 413, code: HTTPBackend.errorCode(r.body)) }
                return response
            }
        }
        throw RemoteError.unreachable(remote: displayName, key: name, reason: lastError)
    }

    struct ErrorBody: Decodable {
        struct Inner: Decodable { var code: String; var message: String; var next: String? }
        var error: Inner
    }

    /// The `error.code` of a server error document ("" when there is none).
    static func errorCode(_ body: [UInt8]) -> String { (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error.code ?? "" }

    /// The server's next step, if it gave one.
    static func errorNext(_ body: [UInt8]) -> String? { (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error.next }

    /// The server's message ("" when there is none).
    static func errorMessage(_ body: [UInt8]) -> String {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error.message ?? ""
    }

    func etag(_ r: Response) -> String { (r.headers["etag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }

    func unexpected(_ key: String, _ r: Response) -> RemoteError {
        RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: HTTPBackend.errorCode(r.body))
    }

    public func get(_ key: String) throws -> StoredObject? {
        let r = try send("GET", key: key)
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw unexpected(key, r) }
        return StoredObject(bytes: r.body, etag: etag(r))
    }

    public func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] {
        guard length > 0 else { return [] }
        let r = try send("GET", key: key, headers: [("Range", "bytes=\(offset)-\(offset + Int64(length) - 1)")])
        if r.status == 404 { throw RemoteError.notFound(remote: displayName, key: key) }
        if r.status == 416 { return [] }
        guard r.status == 206 || r.status == 200 else { throw unexpected(key, r) }
        if r.status == 200 {
            let start = Int(min(Int64(r.body.count), offset))
            return Array(r.body[start..<min(r.body.count, start + length)])
        }
        return r.body.count > length ? Array(r.body.prefix(length)) : r.body
    }

    public func head(_ key: String) throws -> String? {
        let r = try send("HEAD", key: key)
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw unexpected(key, r) }
        return etag(r)
    }

    func outcome(_ key: String, _ r: Response) throws -> PutOutcome {
        switch r.status {
        case 200, 201: return .written(etag: etag(r))
        case 412: return .conditionFailed
        default: throw unexpected(key, r)
        }
    }

    public func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome {
        try outcome(key, try send("PUT", key: key, headers: [("If-None-Match", "*")], body: bytes))
    }

    public func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome {
        try outcome(key, try send("PUT", key: key, headers: [("If-Match", "\"\(etag)\"")], body: bytes))
    }

    public func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome {
        try outcome(key, try send("PUT", key: key, headers: [("If-None-Match", "*"), ("X-Content-Sha256", sha256)], bodyFile: (path, size)))
    }

    public func list(prefix: String) throws -> [String] { try listDetailed(prefix: prefix).map(\.key) }

    struct Listing: Decodable {
        struct Item: Decodable { var key: String; var size: Int64; var modified: Int64 }
        var objects: [Item]
        var next: String?
    }

    public func listDetailed(prefix: String) throws -> [ListedObject] {
        var out: [ListedObject] = []
        var after: String?
        repeat {
            var query = [("prefix", prefix)]
            if let after { query.append(("after", after)) }
            let r = try send("GET", key: nil, query: query)
            guard r.status == 200, let listing = try? JSONDecoder().decode(Listing.self, from: Data(r.body)) else { throw unexpected(prefix, r) }
            for item in listing.objects {
                guard item.key.hasPrefix(prefix), (try? RemoteError.check(item.key)) != nil else {
                    throw RemoteError.invalidKey(item.key)
                }
                out.append(ListedObject(key: item.key, size: item.size, modified: item.modified))
            }
            // A page must move forward, or a hostile server could keep the client listing forever.
            if let next = listing.next, let last = out.last?.key, next >= last, next != after { after = next } else { after = nil }
        } while after != nil
        return out
    }

    public func delete(_ key: String) throws {
        let r = try send("DELETE", key: key)
        guard r.status == 204 || r.status == 200 || r.status == 404 else { throw unexpected(key, r) }
    }
}

/// Where a Strata client finds its token for a server: `STRATA_TOKEN`, else the credentials file
/// (`STRATA_CREDENTIALS_FILE`, default `~/.config/strata/credentials`), which must be readable by its owner only
/// (mode 0600, as ssh insists for keys). The file has a `[default]` section and optional sections named by server
/// URL (`[https://data.example.org:8484]`), each with `token = …`. Never the command line: it would land in shell
/// history and `ps`.
public enum ServerCredentials {
    /// The token for `url`, or nil for anonymous access; throws when the file is readable by others.
    public static func token(for url: URL, environment env: [String: String]) throws -> String? {
        if let t = env["STRATA_TOKEN"], !t.isEmpty { return t }
        let path = env["STRATA_CREDENTIALS_FILE"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.config/strata/credentials")
        guard let st = try? Posix.lstat(path) else { return nil }
        if st.mode & 0o077 != 0 {
            throw RemoteSetupError.badURL(
                url.absoluteString,
                reason: "the credentials file \(path) is readable by others (mode \(String(st.mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        let sections = AWSConfig.ini(path)
        var origin = "\(url.scheme ?? "http")://\(url.host ?? "")"
        if let p = url.port { origin += ":\(p)" }
        return sections[origin]?["token"] ?? sections[url.absoluteString]?["token"] ?? sections["default"]?["token"]
    }
}
