import Foundation
import StrataModel
import StrataPlatform
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A remote on S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2, moto), spoken to with SigV4-signed HTTP
/// requests through FoundationNetworking's URLSession (libcurl; already linked for lineage delivery, so no new
/// package). Path-style addressing (`endpoint/bucket/prefix/key`), the default for custom endpoints.
///
/// Create-only is `PUT` with `If-None-Match: *`, compare-and-swap `PUT` with `If-Match: <etag>` (412 means the
/// condition failed). Every request carries the body's SHA-256 in `x-amz-content-sha256`, so the server rejects a
/// body damaged in transit. 5xx and `SlowDown` answers are retried with exponential backoff and jitter.
public struct S3Backend: RemoteBackend {
    /// `http(s)://host:port` of the service.
    public let endpoint: URL
    /// The bucket.
    public let bucket: String
    /// A key prefix inside the bucket (no leading or trailing `/`), or "".
    public let prefix: String
    /// The signer (region and service).
    public let signer: SigV4
    /// The credentials (never printed).
    public let credentials: AWSCredentials
    /// Attempts per request on 5xx, SlowDown and dropped connections.
    public var attempts = 6
    /// Seconds before a request gives up.
    public var timeout: Double = 60
    /// Files larger than this go up as multipart uploads (when the probe found multipart support); nil: never.
    public var multipartThreshold: Int64? = nil

    /// A backend for `s3://bucket/prefix` at `endpoint`.
    public init(endpoint: URL, bucket: String, prefix: String = "", region: String, credentials: AWSCredentials) {
        self.endpoint = endpoint; self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        signer = SigV4(region: region); self.credentials = credentials
    }

    public var displayName: String { "s3://\(bucket)\(prefix.isEmpty ? "" : "/" + prefix)" }

    func objectPath(_ key: String) throws -> String {
        try RemoteError.check(key)
        return "/" + bucket + "/" + (prefix.isEmpty ? key : prefix + "/" + key)
    }

    struct Response { var status: Int; var headers: [String: String]; var body: [UInt8] }

    /// One signed request, retried on transient failures.
    func send(
        _ method: String, path: String, query: [(String, String)] = [], headers extra: [(String, String)] = [],
        body: [UInt8] = [], bodyFile: (path: String, sha256: String, size: Int64)? = nil, key: String
    ) throws -> Response {
        var lastError = ""
        for attempt in 0..<attempts {
            if attempt > 0 { RemoteRetry.pause(attempt) }
            let amzDate = S3Backend.amzDate(Date())
            let payloadHash = bodyFile?.sha256 ?? ObjectID.hash(body).hex
            let host = endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "")
            var headers: [(String, String)] = [("Host", host), ("X-Amz-Date", amzDate), ("X-Amz-Content-Sha256", payloadHash)] + extra
            if let t = credentials.sessionToken { headers.append(("X-Amz-Security-Token", t)) }
            let auth = signer.authorization(
                method: method, path: path, query: query, headers: headers, payloadHash: payloadHash,
                amzDate: amzDate, credentials: credentials)
            var comps = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
            comps.percentEncodedPath = SigV4.uriEncode(path, keepSlash: true)
            if !query.isEmpty { comps.percentEncodedQuery = SigV4.canonicalQuery(query) }
            var req = URLRequest(url: comps.url!, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
            req.httpMethod = method
            for (k, v) in headers where k != "Host" { req.setValue(v, forHTTPHeaderField: k) }
            req.setValue(auth, forHTTPHeaderField: "Authorization")
            if (method == "PUT" || (method == "POST" && !body.isEmpty)) && bodyFile == nil { req.httpBody = Data(body) }
            if let bodyFile { req.setValue(String(bodyFile.size), forHTTPHeaderField: "Content-Length") }
            let result = S3Backend.perform(req, file: bodyFile?.path)
            switch result {
            case .failure(let e):
                lastError = e.localizedDescription
                continue
            case .success(let r):
                if r.status >= 500 || (r.status == 503) { lastError = "HTTP \(r.status) \(S3Backend.errorCode(r.body))"; continue }
                if r.status == 403 || r.status == 401 {
                    throw RemoteError.refused(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body))
                }
                return r
            }
        }
        throw RemoteError.unreachable(remote: displayName, key: key, reason: lastError)
    }

    static func perform(_ req: URLRequest, file: String? = nil) -> Result<Response, any Error> {
        final class Box: @unchecked Sendable { var result: Result<Response, any Error> = .failure(URLError(.unknown)) }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let config = URLSessionConfiguration.ephemeral
        config.urlCache = nil
        let session = URLSession(configuration: config)
        let finish: @Sendable (Data?, URLResponse?, (any Error)?) -> Void = { data, response, error in
            if let error {
                box.result = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
                box.result = .success(Response(status: http.statusCode, headers: headers, body: [UInt8](data ?? Data())))
            }
            done.signal()
        }
        if let file {
            session.uploadTask(with: req, fromFile: URL(fileURLWithPath: file), completionHandler: finish).resume()
        } else {
            session.dataTask(with: req, completionHandler: finish).resume()
        }
        done.wait()
        session.finishTasksAndInvalidate()
        return box.result
    }

    /// Seconds since the epoch of an ISO 8601 time (`2026-11-30T15:00:00.000Z`).
    static func parseISO(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64(d.timeIntervalSince1970) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64($0.timeIntervalSince1970) }
    }

    static func amzDate(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: d)
    }

    /// The `<Code>` of an S3 error document ("" when there is none).
    static func errorCode(_ body: [UInt8]) -> String { tagValues("Code", in: String(decoding: body, as: UTF8.self)).first ?? "" }

    /// The text of every `<tag>…</tag>` in an XML document, with the five XML entities decoded.
    static func tagValues(_ tag: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = Substring(xml)
        while let open = rest.range(of: "<\(tag)>"), let close = rest[open.upperBound...].range(of: "</\(tag)>") {
            let raw = rest[open.upperBound..<close.lowerBound]
            out.append(
                raw.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                    .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&"))
            rest = rest[close.upperBound...]
        }
        return out
    }

    func etag(_ r: Response) -> String { (r.headers["etag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }

    public func get(_ key: String) throws -> StoredObject? {
        let r = try send("GET", path: try objectPath(key), key: key)
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body)) }
        return StoredObject(bytes: r.body, etag: etag(r))
    }

    public func getRange(_ key: String, offset: Int64, length: Int) throws -> [UInt8] {
        guard length > 0 else { return [] }
        let r = try send("GET", path: try objectPath(key), headers: [("Range", "bytes=\(offset)-\(offset + Int64(length) - 1)")], key: key)
        if r.status == 404 { throw RemoteError.notFound(remote: displayName, key: key) }
        if r.status == 416 { return [] }
        guard r.status == 206 || r.status == 200 else {
            throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body))
        }
        if r.status == 200 {  // a server that ignored Range: cut the slice out
            let start = Int(min(Int64(r.body.count), offset))
            return Array(r.body[start..<min(r.body.count, start + length)])
        }
        return r.body.count > length ? Array(r.body.prefix(length)) : r.body
    }

    public func head(_ key: String) throws -> String? {
        let r = try send("HEAD", path: try objectPath(key), key: key)
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: "") }
        return etag(r)
    }

    func conditionalPut(_ key: String, _ bytes: [UInt8], condition: (String, String)) throws -> PutOutcome {
        let r = try send("PUT", path: try objectPath(key), headers: [condition], body: bytes, key: key)
        switch r.status {
        case 200: return .written(etag: etag(r))
        case 412, 409, 404: return .conditionFailed
        default: throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body))
        }
    }

    public func create(_ key: String, _ bytes: [UInt8]) throws -> PutOutcome {
        try conditionalPut(key, bytes, condition: ("If-None-Match", "*"))
    }

    public func put(_ key: String, _ bytes: [UInt8], ifMatch etag: String) throws -> PutOutcome {
        try conditionalPut(key, bytes, condition: ("If-Match", "\"\(etag)\""))
    }

    public func createFile(_ key: String, path: String, sha256: String, size: Int64) throws -> PutOutcome {
        if let limit = multipartThreshold, size > limit { return try multipartCreate(key, path: path, size: size) }
        let r = try send("PUT", path: try objectPath(key), headers: [("If-None-Match", "*")], bodyFile: (path, sha256, size), key: key)
        switch r.status {
        case 200: return .written(etag: etag(r))
        case 412, 409: return .conditionFailed
        default: throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body))
        }
    }

    public func list(prefix listPrefix: String) throws -> [String] { try listDetailed(prefix: listPrefix).map(\.key) }

    public func listDetailed(prefix listPrefix: String) throws -> [ListedObject] {
        let base = prefix.isEmpty ? "" : prefix + "/"
        var out: [ListedObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", base + listPrefix)]
            if let token { query.append(("continuation-token", token)) }
            let r = try send("GET", path: "/" + bucket, query: query, key: listPrefix)
            guard r.status == 200 else {
                throw RemoteError.unexpected(remote: displayName, key: listPrefix, status: r.status, code: S3Backend.errorCode(r.body))
            }
            let xml = String(decoding: r.body, as: UTF8.self)
            for item in S3Backend.tagValues("Contents", in: xml) {
                guard let k = S3Backend.tagValues("Key", in: item).first, k.hasPrefix(base) else { continue }
                let size = Int64(S3Backend.tagValues("Size", in: item).first ?? "") ?? 0
                let modified = S3Backend.tagValues("LastModified", in: item).first.flatMap(S3Backend.parseISO) ?? 0
                out.append(ListedObject(key: String(k.dropFirst(base.count)), size: size, modified: modified))
            }
            token = S3Backend.tagValues("IsTruncated", in: xml).first == "true" ? S3Backend.tagValues("NextContinuationToken", in: xml).first : nil
        } while token != nil
        return out.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    public func delete(_ key: String) throws {
        let r = try send("DELETE", path: try objectPath(key), key: key)
        guard r.status == 204 || r.status == 200 || r.status == 404 else {
            throw RemoteError.unexpected(remote: displayName, key: key, status: r.status, code: S3Backend.errorCode(r.body))
        }
    }
}
